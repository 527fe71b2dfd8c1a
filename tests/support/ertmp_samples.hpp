#pragma once
// Enhanced RTMP test material: real decoder configuration records and
// builders for ExVideoTagHeader / ExAudioTagHeader bodies (E-RTMP v2,
// "Enhanced Video" / "Enhanced Audio" / "Multitrack Streaming").

#include <cstdint>
#include <initializer_list>
#include <vector>

namespace rtmp::test::ertmp {

using bytes = std::vector<std::uint8_t>;

// --- decoder configuration records ----------------------------------------------

// HEVCDecoderConfigurationRecord written by x265 (via ffmpeg's mp4 muxer) for
// a 1278x718 4:2:0 8-bit Main picture, with its SEI array dropped. The SPS
// codes 1280x720 with a conformance window of 1 chroma sample right and
// bottom (2 luma samples each: SubWidthC = SubHeightC = 2), and holds
// emulation prevention bytes (00 00 03).
inline bytes hvcc_1278x718() {
  return {
      // 22 bytes of fixed fields (ISO/IEC 14496-15 8.3.3.1.2):
      0x01,                                // configurationVersion
      0x01,                                // profile_space 0, tier 0, profile_idc 1 (Main)
      0x60, 0x00, 0x00, 0x00,              // general_profile_compatibility_flags
      0x90, 0x00, 0x00, 0x00, 0x00, 0x00,  // general_constraint_indicator_flags
      0x5d,                                // general_level_idc 93 (3.1)
      0xf0, 0x00,                          // reserved '1111', min_spatial_segmentation_idc 0
      0xfc,                                // reserved '111111', parallelismType 0
      0xfd,                                // reserved '111111', chromaFormat 1 (4:2:0)
      0xf8,                                // reserved '11111', bitDepthLumaMinus8 0
      0xf8,                                // reserved '11111', bitDepthChromaMinus8 0
      0x00, 0x00,                          // avgFrameRate
      0x0f,                                // constantFrameRate 0, numTemporalLayers 1, nested 1, lengthSizeMinusOne 3
      0x03,                                // numOfArrays (VPS, SPS, PPS)
      // VPS array: completeness 0, NAL type 32, 1 unit of 24 bytes.
      0x20, 0x00, 0x01, 0x00, 0x18,
      0x40, 0x01, 0x0c, 0x01, 0xff, 0xff, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03,
      0x00, 0x00, 0x03, 0x00, 0x5d, 0x95, 0x98, 0x09,
      // SPS array: NAL type 33, 1 unit of 44 bytes.
      0x21, 0x00, 0x01, 0x00, 0x2c,
      0x42, 0x01,  // NAL header: type 33 (SPS), layer 0, temporal id 0 (+1)
      0x01,        // sps_video_parameter_set_id 0, sps_max_sub_layers_minus1 0, temporal_id_nesting 1
      // profile_tier_level, 12 bytes of RBSP with three emulation prevention 03s:
      0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x5d,
      // sps_seq_parameter_set_id ue 0, chroma_format_idc ue 1, pic_width ue 1280,
      // pic_height ue 720, conformance_window_flag 1, offsets ue 0, 1, 0, 1, ...
      0xa0, 0x02, 0x80, 0x80, 0x2d, 0x1d, 0x56, 0x59, 0x59, 0xa4, 0x93, 0x2b, 0xc0, 0x5a, 0x02, 0x00,
      0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x03, 0x00, 0x32, 0x10,
      // PPS array: NAL type 34, 1 unit of 7 bytes.
      0x22, 0x00, 0x01, 0x00, 0x07,
      0x44, 0x01, 0xc1, 0x72, 0xb4, 0x62, 0x40,
  };
}

// AV1CodecConfigurationRecord written by libaom (via ffmpeg's mp4 muxer) for
// a 642x362 4:2:0 picture.
inline bytes av1c_642x362() {
  return {
      0x81,  // marker 1, version 1
      0x01,  // seq_profile 0, seq_level_idx_0 1
      0x0c,  // tier 0, 8-bit, not monochrome, chroma_subsampling_x 1, _y 1, position 0
      0x00,  // reserved, initial_presentation_delay_present 0
      // configOBUs: one sequence header OBU.
      0x0a,  // obu_header: type 1 (OBU_SEQUENCE_HEADER), no extension, has_size_field 1
      0x0b,  // obu_size (leb128) 11
      // sequence_header_obu(): profile 0, not still, not reduced, no timing
      // info, no initial display delay, 1 operating point (idc 0, level 1),
      // frame_width_bits 10, frame_height_bits 9, max_frame_width_minus_1
      // 641, max_frame_height_minus_1 361, then the coding tools.
      0x00, 0x00, 0x00, 0x0c, 0xc5, 0x03, 0x69, 0x36, 0xbe, 0x40, 0x10,
  };
}

// VPCodecConfigurationRecord (vpcC body): profile 0, level 3.1, 8-bit 4:2:0,
// BT.709; no picture size in it.
inline bytes vpcc() { return {0x00, 0x1f, 0x80, 0x01, 0x01, 0x01, 0x00, 0x00}; }

// --- ExVideoTagHeader bodies ----------------------------------------------------------

// VideoFrameType
constexpr std::uint8_t key_frame = 1;
constexpr std::uint8_t inter_frame = 2;
// VideoPacketType / AudioPacketType
constexpr std::uint8_t sequence_start = 0;
constexpr std::uint8_t coded_frames = 1;
constexpr std::uint8_t sequence_end = 2;
constexpr std::uint8_t coded_frames_x = 3;
constexpr std::uint8_t video_multitrack = 6;
constexpr std::uint8_t audio_multitrack = 5;
// AvMultitrackType
constexpr std::uint8_t one_track = 0;
constexpr std::uint8_t many_tracks = 1;
constexpr std::uint8_t many_tracks_many_codecs = 2;

inline void append(bytes& b, const bytes& more) { b.insert(b.end(), more.begin(), more.end()); }
inline void append_fourcc(bytes& b, const char (&cc)[5]) { b.insert(b.end(), cc, cc + 4); }

// IsExHeader | VideoFrameType << 4 | VideoPacketType, FourCC, body.
inline bytes video_tag(std::uint8_t frame_type, std::uint8_t packet_type, const char (&cc)[5], const bytes& body) {
  bytes b{static_cast<std::uint8_t>(0x80 | (frame_type << 4) | packet_type)};
  append_fourcc(b, cc);
  append(b, body);
  return b;
}

// An HEVC CodedFrames body: SI24 composition time 0, then one 4-byte
// length-prefixed NAL unit of `size` bytes filled with `tag` (an IDR_W_RADL
// header for keyframes, TRAIL_R otherwise).
inline bytes hevc_frame(bool key, std::uint8_t tag, std::size_t size = 64) {
  bytes b{0, 0, 0};
  b.push_back(static_cast<std::uint8_t>(size >> 24));
  b.push_back(static_cast<std::uint8_t>(size >> 16));
  b.push_back(static_cast<std::uint8_t>(size >> 8));
  b.push_back(static_cast<std::uint8_t>(size));
  b.push_back(key ? 0x26 : 0x02);  // nal_unit_type 19 (IDR_W_RADL) or 1 (TRAIL_R)
  b.push_back(0x01);
  b.resize(b.size() + size - 2, tag);
  return b;
}

// One track of a ManyTracks / ManyTracksManyCodecs multitrack body.
struct track {
  std::uint8_t id;
  const char* fourcc;  // used for ManyTracksManyCodecs only
  bytes body;
};

// IsExHeader | frame type << 4 | Multitrack, AvMultitrackType << 4 | packet
// type, [shared FourCC], then per track [FourCC] trackId sizeOfTrack(UI24) body.
inline bytes multitrack_video_tag(std::uint8_t frame_type, std::uint8_t packet_type, std::uint8_t multitrack_type,
                                  const char* shared_fourcc, std::initializer_list<track> tracks) {
  bytes b{static_cast<std::uint8_t>(0x80 | (frame_type << 4) | video_multitrack),
          static_cast<std::uint8_t>((multitrack_type << 4) | packet_type)};
  if (multitrack_type != many_tracks_many_codecs) b.insert(b.end(), shared_fourcc, shared_fourcc + 4);
  for (const auto& t : tracks) {
    if (multitrack_type == many_tracks_many_codecs) b.insert(b.end(), t.fourcc, t.fourcc + 4);
    b.push_back(t.id);
    if (multitrack_type != one_track) {
      b.push_back(static_cast<std::uint8_t>(t.body.size() >> 16));
      b.push_back(static_cast<std::uint8_t>(t.body.size() >> 8));
      b.push_back(static_cast<std::uint8_t>(t.body.size()));
    }
    append(b, t.body);
  }
  return b;
}

}  // namespace rtmp::test::ertmp
