// Fragmented MP4 muxer for HLS: AVC, HEVC, AV1 and AAC from FLV tag bodies.
// Boxes: ISO/IEC 14496-12 (8.x: ftyp, moov, trak, stbl, mvex, moof, traf,
// tfdt, trun, mdat). Sample entries: ISO/IEC 14496-15 5.4.2 (avc1/avcC),
// 8.4.1 (hvc1/hvcC), AV1 ISOBMFF binding 2.2-2.3 (av01/av1C), ISO/IEC
// 14496-14 5.6 (mp4a/esds). Codecs strings: RFC 6381 3.3, ISO/IEC 14496-15
// annex E.3, AV1 binding "Codecs Parameter String". FLV headers: FLV spec
// annex E.4 and Enhanced RTMP v2 (read with rtmp/proto/media_info.hpp).
#include "rtmp/hls/fmp4_muxer.hpp"

#include <algorithm>
#include <array>
#include <cstdio>

#include "mp4_boxes.hpp"
#include "rtmp/proto/byte_order.hpp"
#include "rtmp/proto/codec_config.hpp"
#include "rtmp/proto/media_info.hpp"

namespace rtmp::hls {

namespace {

using bytes_view = std::span<const std::uint8_t>;
using mp4::box_writer;

constexpr std::uint32_t video_track_id = 1;
constexpr std::uint32_t audio_track_id = 2;

// FLV (annex E.4) and Enhanced RTMP values.
constexpr std::uint8_t flv_codec_avc = 7;
constexpr std::uint8_t flv_sound_aac = 10;
constexpr std::uint8_t frame_key = 1;
constexpr std::uint8_t frame_command = 5;
constexpr std::uint8_t packet_sequence_start = 0;  // also AVCPacketType / AACPacketType 0
constexpr std::uint8_t packet_coded_frames = 1;    // also AVCPacketType 1 (NALU) / AACPacketType 1 (raw)
constexpr std::uint8_t packet_sequence_end = 2;    // also AVCPacketType 2 (end of sequence)
constexpr std::uint8_t packet_coded_frames_x = 3;
constexpr std::uint8_t video_packet_metadata = 4;
constexpr std::uint8_t audio_packet_multichannel_config = 4;

// trun sample_flags (14496-12 8.8.3.1): sample_depends_on 2 (an I picture);
// or sample_depends_on 1 and sample_is_non_sync_sample.
constexpr std::uint32_t flags_sync = 0x02000000;
constexpr std::uint32_t flags_non_sync = 0x01010000;

// Durations for a `final` flush of a track that wrote no sample before.
constexpr std::uint32_t default_video_duration = 3000;  // 1/30 s at 90 kHz
constexpr std::uint32_t default_audio_duration = 1024;  // one AAC frame

std::int32_t load_si24(const std::uint8_t* p) noexcept {
  const std::uint32_t v = proto::load_be24(p);
  return (v & 0x800000) != 0 ? static_cast<std::int32_t>(v) - 0x1000000 : static_cast<std::int32_t>(v);
}

// ---------------------------------------------------------------------------
// Decoder configuration records.

// AVCDecoderConfigurationRecord (14496-15 5.3.3.1): version 1, profile,
// compatibility, level, lengthSizeMinusOne, SPS and PPS lists that fit.
// `sps` is the first SPS (may be empty).
bool parse_avcc(bytes_view r, std::uint8_t& length_size, bytes_view& sps) noexcept {
  if (r.size() < 7 || r[0] != 1 || (r[4] & 3) == 2) return false;
  length_size = static_cast<std::uint8_t>((r[4] & 3) + 1);
  std::size_t pos = 5;
  for (int list = 0; list < 2; ++list) {
    if (pos >= r.size()) return false;
    const std::size_t count = list == 0 ? (r[pos] & 0x1F) : r[pos];
    ++pos;
    for (std::size_t i = 0; i < count; ++i) {
      if (r.size() - pos < 2) return false;
      const std::size_t n = proto::load_be16(r.data() + pos);
      pos += 2;
      if (n == 0 || r.size() - pos < n) return false;
      if (list == 0 && i == 0) sps = r.subspan(pos, n);
      pos += n;
    }
  }
  return true;  // profile-specific fields of High profiles may follow
}

// HEVCDecoderConfigurationRecord (14496-15 8.3.3.1): 22 fixed bytes,
// lengthSizeMinusOne, then NAL unit arrays that fit.
bool parse_hvcc(bytes_view r, std::uint8_t& length_size) noexcept {
  if (r.size() < 23 || r[0] != 1 || (r[21] & 3) == 2) return false;
  length_size = static_cast<std::uint8_t>((r[21] & 3) + 1);
  std::size_t pos = 23;
  for (std::size_t a = 0; a < r[22]; ++a) {
    if (r.size() - pos < 3) return false;
    const std::size_t count = proto::load_be16(r.data() + pos + 1);
    pos += 3;
    for (std::size_t i = 0; i < count; ++i) {
      if (r.size() - pos < 2) return false;
      const std::size_t n = proto::load_be16(r.data() + pos);
      pos += 2;
      if (r.size() - pos < n) return false;
      pos += n;
    }
  }
  return true;
}

// AV1CodecConfigurationRecord (AV1 binding 2.3.3): marker 1, version 1.
bool parse_av1c(bytes_view r) noexcept { return r.size() >= 4 && r[0] == 0x81; }

// True when `data` is a whole number of length-prefixed NAL units.
bool nal_units_ok(bytes_view data, std::size_t length_size) noexcept {
  if (data.empty()) return false;
  std::size_t pos = 0;
  while (pos < data.size()) {
    if (data.size() - pos < length_size) return false;
    std::size_t n = 0;
    for (std::size_t i = 0; i < length_size; ++i) n = (n << 8) | data[pos + i];
    pos += length_size;
    if (n == 0 || data.size() - pos < n) return false;
    pos += n;
  }
  return true;
}

// ---------------------------------------------------------------------------
// H.264 SPS (7.3.2.1.1): the cropped frame size.

std::vector<std::uint8_t> unescape_rbsp(bytes_view nal) {
  std::vector<std::uint8_t> out;
  out.reserve(nal.size());
  int zeros = 0;
  for (const std::uint8_t b : nal) {
    if (zeros >= 2 && b == 3) {  // emulation_prevention_three_byte
      zeros = 0;
      continue;
    }
    out.push_back(b);
    zeros = b == 0 ? zeros + 1 : 0;
  }
  return out;
}

std::int64_t read_se(proto::bit_reader& r) noexcept {
  const std::int64_t k = r.ue();
  return (k & 1) != 0 ? (k + 1) / 2 : -(k / 2);
}

// scaling_list() (7.3.2.1.1.1), read only to be skipped.
void skip_scaling_list(proto::bit_reader& r, int size) noexcept {
  std::int64_t last = 8;
  std::int64_t next = 8;
  for (int j = 0; j < size && r.ok(); ++j) {
    if (next != 0) next = ((last + read_se(r)) % 256 + 256) % 256;
    if (next != 0) last = next;
  }
}

bool high_profile(std::uint32_t profile) noexcept {
  constexpr std::uint32_t list[] = {100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135};
  return std::find(std::begin(list), std::end(list), profile) != std::end(list);
}

// Up to pic_order_cnt_type and its fields; false when malformed.
bool skip_sps_head(proto::bit_reader& r, std::uint32_t& chroma_array_type) noexcept {
  const std::uint32_t profile = r.bits(8);
  r.skip(16);  // constraint flags, level_idc
  r.ue();      // seq_parameter_set_id
  chroma_array_type = 1;
  if (high_profile(profile)) {
    const std::uint32_t chroma_format = r.ue();
    if (chroma_format > 3) return false;
    chroma_array_type = chroma_format;
    if (chroma_format == 3 && r.flag()) chroma_array_type = 0;  // separate_colour_plane_flag
    r.ue();                                                     // bit_depth_luma_minus8
    r.ue();                                                     // bit_depth_chroma_minus8
    r.skip(1);                                                  // qpprime_y_zero_transform_bypass_flag
    if (r.flag()) {                                             // seq_scaling_matrix_present_flag
      const int lists = chroma_format != 3 ? 8 : 12;
      for (int i = 0; i < lists; ++i) {
        if (r.flag()) skip_scaling_list(r, i < 6 ? 16 : 64);
      }
    }
  }
  r.ue();  // log2_max_frame_num_minus4
  const std::uint32_t poc_type = r.ue();
  if (poc_type == 0) {
    r.ue();  // log2_max_pic_order_cnt_lsb_minus4
  } else if (poc_type == 1) {
    r.skip(1);
    read_se(r);
    read_se(r);
    const std::uint32_t cycle = r.ue();
    if (cycle > 255) return false;
    for (std::uint32_t i = 0; i < cycle && r.ok(); ++i) read_se(r);
  }
  return r.ok();
}

bool avc_sps_size(bytes_view nal, proto::video_size& out) {
  if (nal.size() < 4 || (nal[0] & 0x1F) != 7) return false;
  const auto rbsp = unescape_rbsp(nal.subspan(1));
  proto::bit_reader r(rbsp);
  std::uint32_t chroma_array_type = 1;
  if (!skip_sps_head(r, chroma_array_type)) return false;
  r.ue();     // max_num_ref_frames
  r.skip(1);  // gaps_in_frame_num_value_allowed_flag
  const std::uint64_t width_mbs = std::uint64_t{r.ue()} + 1;
  const std::uint64_t height_units = std::uint64_t{r.ue()} + 1;
  const bool frame_mbs_only = r.flag();
  if (!frame_mbs_only) r.skip(1);  // mb_adaptive_frame_field_flag
  r.skip(1);                       // direct_8x8_inference_flag
  std::uint64_t crop[4] = {};      // left, right, top, bottom
  if (r.flag()) {
    for (auto& c : crop) c = r.ue();
  }
  if (!r.ok()) return false;
  // 6.2 (SubWidthC, SubHeightC) and 7.4.2.1.1 (CropUnitX, CropUnitY).
  const std::uint64_t unit_x = chroma_array_type == 0 || chroma_array_type == 3 ? 1 : 2;
  const std::uint64_t unit_y = std::uint64_t{chroma_array_type == 1 ? 2u : 1u} * (frame_mbs_only ? 1 : 2);
  const std::uint64_t width = width_mbs * 16;
  const std::uint64_t height = height_units * 16 * (frame_mbs_only ? 1 : 2);
  const std::uint64_t cut_x = unit_x * (crop[0] + crop[1]);
  const std::uint64_t cut_y = unit_y * (crop[2] + crop[3]);
  if (cut_x >= width || cut_y >= height || width > 0xFFFF || height > 0xFFFF) return false;
  out.width = static_cast<std::uint32_t>(width - cut_x);
  out.height = static_cast<std::uint32_t>(height - cut_y);
  return true;
}

// ---------------------------------------------------------------------------
// AudioSpecificConfig (14496-3 1.6.2.1).

struct asc_info {
  std::uint8_t object_type = 0;
  std::uint32_t rate = 0;
  std::uint8_t channels = 0;
};

bool parse_asc(bytes_view config, asc_info& out) noexcept {
  constexpr std::uint32_t rates[13] = {96000, 88200, 64000, 48000, 44100, 32000, 24000,
                                       22050, 16000, 12000, 11025, 8000,  7350};
  proto::bit_reader r(config);
  std::uint32_t object_type = r.bits(5);
  if (object_type == 31) object_type = 32 + r.bits(6);
  const std::uint32_t index = r.bits(4);
  const std::uint32_t rate = index == 15 ? r.bits(24) : index < 13 ? rates[index] : 0;
  const std::uint32_t channel_config = r.bits(4);
  if (!r.ok() || object_type == 0 || rate == 0 || channel_config > 7) return false;
  out.object_type = static_cast<std::uint8_t>(object_type);
  out.rate = rate;
  // Table 1.19: configurations 1..6 are that many channels, 7 is 7.1; 0
  // (defined in the stream) is written as stereo.
  out.channels = static_cast<std::uint8_t>(channel_config == 0 ? 2 : channel_config == 7 ? 8 : channel_config);
  return true;
}

// ---------------------------------------------------------------------------
// Codecs strings.

std::string hex2(unsigned v, bool upper) {
  char buf[4];
  std::snprintf(buf, sizeof buf, upper ? "%02X" : "%02x", v & 0xFF);
  return buf;
}

// RFC 6381 3.3: avc1.PPCCLL from the record's profile, compatibility, level.
std::string avc_codecs(bytes_view r) { return "avc1." + hex2(r[1], false) + hex2(r[2], false) + hex2(r[3], false); }

// 14496-15 E.3: hvc1.[A-C]profile.compat(bit-reversed hex).[LH]level[.constraint bytes].
std::string hevc_codecs(bytes_view r) {
  std::string s = "hvc1.";
  const unsigned space = r[1] >> 6;
  if (space > 0) s += static_cast<char>('A' + space - 1);
  s += std::to_string(r[1] & 0x1F);
  std::uint32_t compat = proto::load_be32(r.data() + 2);
  std::uint32_t reversed = 0;
  for (int i = 0; i < 32; ++i, compat >>= 1) reversed = (reversed << 1) | (compat & 1);
  char buf[16];
  std::snprintf(buf, sizeof buf, ".%X.", reversed);
  s += buf;
  s += (r[1] & 0x20) != 0 ? 'H' : 'L';
  s += std::to_string(r[12]);
  std::size_t last = 6;  // constraint bytes r[6..11], trailing zero bytes left out
  while (last > 0 && r[6 + last - 1] == 0) --last;
  for (std::size_t i = 0; i < last; ++i) s += "." + hex2(r[6 + i], true);
  return s;
}

// AV1 binding "Codecs Parameter String": av01.P.LLT.DD (the optional colour
// fields are left out).
std::string av1_codecs(bytes_view r) {
  const unsigned profile = r[1] >> 5;
  const unsigned level = r[1] & 0x1F;
  const bool tier = (r[2] & 0x80) != 0;
  const unsigned depth = (r[2] & 0x40) == 0 ? 8 : (r[2] & 0x20) != 0 ? 12 : 10;
  char buf[32];
  std::snprintf(buf, sizeof buf, "av01.%u.%02u%c.%02u", profile, level, tier ? 'H' : 'M', depth);
  return buf;
}

// ---------------------------------------------------------------------------
// Fragments.

struct run_entry {
  std::uint32_t duration = 0;
  std::uint32_t size = 0;
  std::uint32_t flags = 0;
  std::int32_t cts_offset = 0;
};

struct track_run {
  std::uint32_t id = 0;
  bool video = false;
  std::uint64_t base_time = 0;  // tfdt
  std::vector<run_entry> entries;
  std::size_t data_offset_at = 0;  // where trun's data_offset goes
  std::size_t data_size = 0;
};

// The first `n` samples as trun entries; durations from the next sample's
// DTS, the last of all (a `final` flush) from the previous duration.
template <class Samples>
track_run make_run(const Samples& samples, std::size_t n, std::uint32_t& last_duration, bool video) {
  track_run run;
  run.video = video;
  run.id = video ? video_track_id : audio_track_id;
  if (n == 0) return run;
  run.base_time = samples[0].dts;
  for (std::size_t i = 0; i < n; ++i) {
    run_entry e;
    if (i + 1 < samples.size()) {
      const std::uint64_t next = samples[i + 1].dts;
      const std::uint64_t gap = next > samples[i].dts ? next - samples[i].dts : 0;  // 0 if time went back
      e.duration = static_cast<std::uint32_t>(std::min<std::uint64_t>(gap, 0xFFFFFFFF));
      last_duration = e.duration;
    } else {
      e.duration = last_duration != 0 ? last_duration : video ? default_video_duration : default_audio_duration;
    }
    e.size = static_cast<std::uint32_t>(samples[i].data.size());
    e.flags = !video || samples[i].key ? flags_sync : flags_non_sync;
    e.cts_offset = samples[i].cts_offset;
    run.data_size += samples[i].data.size();
    run.entries.push_back(e);
  }
  return run;
}

// traf: tfhd (default-base-is-moof), tfdt version 1, trun (version 1 with
// signed composition offsets for video).
void write_traf(box_writer& w, track_run& run) {
  const std::size_t traf = w.begin("traf");
  std::size_t at = w.begin_full("tfhd", 0, 0x020000);
  w.u32(run.id);
  w.end(at);
  at = w.begin_full("tfdt", 1, 0);
  w.u64(run.base_time);
  w.end(at);
  // data-offset, sample-duration, -size, -flags [, -composition-time-offset]
  at = w.begin_full("trun", run.video ? 1 : 0, run.video ? 0x000F01 : 0x000701);
  w.u32(static_cast<std::uint32_t>(run.entries.size()));
  run.data_offset_at = w.pos();
  w.u32(0);  // data_offset, patched once the moof size is known
  for (const auto& e : run.entries) {
    w.u32(e.duration);
    w.u32(e.size);
    w.u32(e.flags);
    if (run.video) w.u32(static_cast<std::uint32_t>(e.cts_offset));
  }
  w.end(at);
  w.end(traf);
}

}  // namespace

// ---------------------------------------------------------------------------
// Input.

bool fmp4_muxer::video_tag(std::span<const std::uint8_t> payload, std::uint32_t timestamp_ms) {
  const auto info = proto::describe_video_tag(payload);
  if (!info.valid || info.multitrack) return false;
  if (info.frame_type == frame_command) return true;  // nothing to mux
  const char* codec = nullptr;
  if (!info.enhanced) {
    if (info.codec_id == flv_codec_avc) codec = "avc1";
  } else if (info.fourcc == proto::make_fourcc("avc1")) {
    codec = "avc1";
  } else if (info.fourcc == proto::make_fourcc("hvc1")) {
    codec = "hvc1";
  } else if (info.fourcc == proto::make_fourcc("av01")) {
    codec = "av01";
  }
  if (codec == nullptr) return false;
  std::array<proto::media_track, 1> tracks;
  if (proto::split_video_tracks(payload, tracks) != 1) return false;
  bytes_view body = tracks[0].body;
  switch (info.packet_type) {
    case packet_sequence_start:
      return set_video_config(codec, body);
    case packet_sequence_end:
    case video_packet_metadata:
      return true;  // nothing to mux
    case packet_coded_frames:
    case packet_coded_frames_x:
      break;
    default:
      return false;
  }
  if (!has_video() || video_codec_ != codec) return false;
  std::int32_t cts = 0;
  if (!info.enhanced) {
    cts = load_si24(payload.data() + 2);  // legacy: the 5-byte header is there
  } else if (info.packet_type == packet_coded_frames && video_codec_ != "av01") {
    if (body.size() < 3) return false;
    cts = load_si24(body.data());
    body = body.subspan(3);
  }
  return add_video_frame(body, cts, info.frame_type == frame_key, timestamp_ms);
}

bool fmp4_muxer::set_video_config(const char* codec, std::span<const std::uint8_t> record) {
  const std::string name = codec;
  std::uint8_t length_size = 4;
  proto::video_size size;
  if (name == "avc1") {
    bytes_view sps;
    if (!parse_avcc(record, length_size, sps)) return false;
    if (!avc_sps_size(sps, size)) size = {};
  } else if (name == "hvc1") {
    if (!parse_hvcc(record, length_size)) return false;
    if (!proto::hevc_config_size(record, size)) size = {};
  } else {
    if (!parse_av1c(record)) return false;
    if (!proto::av1_config_size(record, size)) size = {};
  }
  if (name != video_codec_ || !std::equal(record.begin(), record.end(), video_config_.begin(), video_config_.end())) {
    config_changed_ = true;
  }
  video_codec_ = name;
  video_config_.assign(record.begin(), record.end());
  nal_length_size_ = length_size;
  width_ = size.width;
  height_ = size.height;
  return true;
}

bool fmp4_muxer::add_video_frame(std::span<const std::uint8_t> data, std::int32_t cts_ms, bool key,
                                 std::uint32_t timestamp_ms) {
  if (video_codec_ == "av01" ? data.empty() : !nal_units_ok(data, nal_length_size_)) return false;
  sample s;
  s.dts = std::uint64_t{timestamp_ms} * (video_timescale / 1000);
  s.cts_offset = cts_ms * static_cast<std::int32_t>(video_timescale / 1000);
  s.key = key;
  s.data.assign(data.begin(), data.end());
  video_.push_back(std::move(s));
  return true;
}

bool fmp4_muxer::audio_tag(std::span<const std::uint8_t> payload, std::uint32_t timestamp_ms) {
  const auto info = proto::describe_audio_tag(payload);
  if (!info.valid || info.multitrack) return false;
  if (info.enhanced ? info.fourcc != proto::make_fourcc("mp4a") : info.sound_format != flv_sound_aac) return false;
  std::array<proto::media_track, 1> tracks;
  if (proto::split_audio_tracks(payload, tracks) != 1) return false;
  const bytes_view body = tracks[0].body;
  if (info.packet_type == packet_sequence_start) return set_audio_config(body);
  if (info.enhanced &&
      (info.packet_type == packet_sequence_end || info.packet_type == audio_packet_multichannel_config)) {
    return true;  // nothing to mux
  }
  if (info.packet_type != packet_coded_frames || !has_audio() || body.empty()) return false;
  sample s;
  s.dts = (std::uint64_t{timestamp_ms} * audio_rate_ + 500) / 1000;
  s.key = true;
  s.data.assign(body.begin(), body.end());
  audio_.push_back(std::move(s));
  return true;
}

bool fmp4_muxer::set_audio_config(std::span<const std::uint8_t> config) {
  asc_info asc;
  if (!parse_asc(config, asc)) return false;
  if (!std::equal(config.begin(), config.end(), audio_config_.begin(), audio_config_.end())) config_changed_ = true;
  audio_config_.assign(config.begin(), config.end());
  audio_object_type_ = asc.object_type;
  audio_rate_ = asc.rate;
  audio_channels_ = asc.channels;
  return true;
}

bool fmp4_muxer::is_keyframe(std::span<const std::uint8_t> payload) noexcept {
  if (!proto::is_video_keyframe(payload)) return false;
  const auto info = proto::describe_video_tag(payload);
  if (info.multitrack) return false;
  const bool length_prefixed =
      info.enhanced ? info.fourcc == proto::make_fourcc("avc1") || info.fourcc == proto::make_fourcc("hvc1")
                    : info.codec_id == flv_codec_avc;
  if (!length_prefixed && !(info.enhanced && info.fourcc == proto::make_fourcc("av01"))) return false;
  std::array<proto::media_track, 1> tracks;
  if (proto::split_video_tracks(payload, tracks) != 1) return false;
  const std::size_t header = info.enhanced && length_prefixed && info.packet_type == packet_coded_frames ? 3 : 0;
  return tracks[0].body.size() > header;
}

// ---------------------------------------------------------------------------
// Output.

std::string fmp4_muxer::codecs() const {
  std::string s;
  if (has_video()) {
    if (video_codec_ == "avc1") s = avc_codecs(video_config_);
    if (video_codec_ == "hvc1") s = hevc_codecs(video_config_);
    if (video_codec_ == "av01") s = av1_codecs(video_config_);
  }
  if (has_audio()) {
    if (!s.empty()) s += ',';
    s += "mp4a.40." + std::to_string(audio_object_type_);
  }
  return s;
}

void fmp4_muxer::write_video_trak(std::vector<std::uint8_t>& out) const {
  box_writer w(out);
  const auto at = mp4::begin_trak(w, {video_track_id, true, video_timescale, width_, height_});
  const std::string_view box = video_codec_ == "avc1" ? "avcC" : video_codec_ == "hvc1" ? "hvcC" : "av1C";
  mp4::write_visual_entry(w, video_codec_, box, video_config_, width_, height_);
  mp4::end_trak(w, at);
}

void fmp4_muxer::write_audio_trak(std::vector<std::uint8_t>& out) const {
  box_writer w(out);
  const auto at = mp4::begin_trak(w, {audio_track_id, false, audio_rate_, 0, 0});
  mp4::write_mp4a_entry(w, audio_config_, audio_rate_, audio_channels_);
  mp4::end_trak(w, at);
}

void fmp4_muxer::init_segment(std::vector<std::uint8_t>& out) {
  config_changed_ = false;
  if (!has_video() && !has_audio()) return;
  box_writer w(out);
  mp4::write_ftyp(w);
  const std::size_t moov = w.begin("moov");
  mp4::write_mvhd(w, audio_track_id + 1);
  if (has_video()) write_video_trak(out);
  if (has_audio()) write_audio_trak(out);
  const std::size_t mvex = w.begin("mvex");
  for (const std::uint32_t id : {video_track_id, audio_track_id}) {
    if (id == video_track_id ? !has_video() : !has_audio()) continue;
    const std::size_t trex = w.begin_full("trex", 0, 0);
    w.u32(id);
    w.u32(1);  // default_sample_description_index
    w.u32(0);  // default_sample_duration
    w.u32(0);  // default_sample_size
    w.u32(0);  // default_sample_flags
    w.end(trex);
  }
  w.end(mvex);
  w.end(moov);
}

void fmp4_muxer::flush_fragment(std::vector<std::uint8_t>& out, bool final, bool with_styp) {
  const auto ready = [final](const std::vector<sample>& s) { return s.empty() ? 0 : final ? s.size() : s.size() - 1; };
  const std::size_t nv = has_video() ? ready(video_) : 0;
  const std::size_t na = has_audio() ? ready(audio_) : 0;
  if (nv == 0 && na == 0) return;
  track_run runs[2] = {make_run(video_, nv, video_last_duration_, true),
                       make_run(audio_, na, audio_last_duration_, false)};
  box_writer w(out);
  std::size_t at = 0;
  if (with_styp) {
    at = w.begin("styp");
    w.fourcc("msdh");
    w.u32(0);
    for (const char* brand : {"msdh", "iso6"}) w.fourcc(brand);
    w.end(at);
  }
  const std::size_t moof = w.begin("moof");
  at = w.begin_full("mfhd", 0, 0);
  w.u32(++sequence_);
  w.end(at);
  for (auto& run : runs) {
    if (!run.entries.empty()) write_traf(w, run);
  }
  w.end(moof);
  const std::size_t mdat = w.begin("mdat");
  std::size_t offset = w.pos() - moof;
  for (auto& run : runs) {
    if (run.entries.empty()) continue;
    w.patch_u32(run.data_offset_at, static_cast<std::uint32_t>(offset));
    const auto& samples = run.video ? video_ : audio_;
    for (std::size_t i = 0; i < run.entries.size(); ++i) w.bytes(samples[i].data);
    offset += run.data_size;
  }
  w.end(mdat);
  video_.erase(video_.begin(), video_.begin() + static_cast<std::ptrdiff_t>(nv));
  audio_.erase(audio_.begin(), audio_.begin() + static_cast<std::ptrdiff_t>(na));
}

}  // namespace rtmp::hls
