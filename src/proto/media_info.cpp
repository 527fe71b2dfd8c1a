#include "rtmp/proto/media_info.hpp"

#include <cstddef>

#include "rtmp/proto/byte_order.hpp"

namespace rtmp::proto {

namespace {

// Legacy video (FLV spec annex E.4.3.1).
constexpr std::uint8_t codec_avc = 7;
constexpr std::uint8_t codec_hevc = 12;  // Not in annex E; the de-facto extension used before Enhanced RTMP.
constexpr std::uint8_t frame_key = 1;
constexpr std::uint8_t frame_command = 5;

// Legacy audio (annex E.4.2.1).
constexpr std::uint8_t sound_aac = 10;
constexpr std::uint8_t sound_ex_header = 9;  // Enhanced RTMP: "reserved" in annex E, now ExHeader.

// Enhanced RTMP v2 packet types.
constexpr std::uint8_t video_sequence_start = 0;
constexpr std::uint8_t video_coded_frames = 1;
constexpr std::uint8_t video_coded_frames_x = 3;
constexpr std::uint8_t video_metadata = 4;
constexpr std::uint8_t video_mpeg2ts_sequence_start = 5;
constexpr std::uint8_t video_multitrack = 6;
constexpr std::uint8_t video_mod_ex = 7;
constexpr std::uint8_t audio_sequence_start = 0;
constexpr std::uint8_t audio_multitrack = 5;
constexpr std::uint8_t audio_mod_ex = 7;

/// Skips ModEx prefixes (Enhanced RTMP v2, ExVideoTagHeader/ExAudioTagHeader):
/// each is modExDataSize (UI8 + 1, or UI16 + 1 when the UI8 form gives 256),
/// modExData, then one byte whose low nibble is the next packet type. `pos`
/// points after the byte holding the current `packet_type`. Returns false if
/// the payload ends inside a prefix. Terminates: each round advances `pos`.
bool skip_mod_ex(std::span<const std::uint8_t> p, std::size_t& pos, std::uint8_t mod_ex,
                 std::uint8_t& packet_type) noexcept {
  while (packet_type == mod_ex) {
    if (pos >= p.size()) return false;
    std::size_t size = std::size_t{p[pos]} + 1;
    ++pos;
    if (size == 256) {
      if (p.size() - pos < 2) return false;
      size = std::size_t{load_be16(p.data() + pos)} + 1;
      pos += 2;
    }
    if (p.size() - pos <= size) return false;  // data plus the type byte
    pos += size;
    packet_type = p[pos] & 0x0f;  // high nibble: the ModEx type (TimestampOffsetNano, ...)
    ++pos;
  }
  return true;
}

/// Reads a FourCC at `pos`, if there are 4 bytes.
bool read_fourcc(std::span<const std::uint8_t> p, std::size_t pos, std::uint32_t& out) noexcept {
  if (pos > p.size() || p.size() - pos < 4) return false;
  out = load_be32(p.data() + pos);
  return true;
}

/// The packet type of an ExVideoTagHeader / ExAudioTagHeader (low nibble of
/// the first byte) after any ModEx prefixes; `pos` ends after them. False
/// if the payload ends inside a prefix.
template <class TagInfo>
bool read_ex_packet_type(std::span<const std::uint8_t> p, std::size_t& pos, std::uint8_t mod_ex,
                         TagInfo& info) noexcept {
  std::uint8_t packet_type = p[0] & 0x0f;
  info.packet_type = packet_type;
  if (!skip_mod_ex(p, pos, mod_ex, packet_type)) return false;
  info.packet_type = packet_type;
  return true;
}

/// The FourCC that follows the enhanced header at `pos`. For Multitrack:
/// AvMultitrackType (high nibble) and the real packet type (low nibble)
/// come first, and a FourCC follows in every multitrack type (the shared
/// one for OneTrack/ManyTracks, the first track's for ManyTracksManyCodecs).
template <class TagInfo>
void read_ex_fourcc(std::span<const std::uint8_t> p, std::size_t pos, std::uint8_t multitrack,
                    TagInfo& info) noexcept {
  if (info.packet_type == multitrack) {
    info.multitrack = true;
    if (pos >= p.size()) return;
    info.packet_type = p[pos] & 0x0f;
    ++pos;
  }
  info.valid = read_fourcc(p, pos, info.fourcc);
}

// Enhanced RTMP v2 AvMultitrackType (high nibble of the byte after the
// Multitrack packet type).
constexpr std::uint8_t multitrack_one_track = 0;
constexpr std::uint8_t multitrack_many_tracks_many_codecs = 2;
constexpr std::uint8_t video_sequence_end = 2;
constexpr std::uint8_t audio_sequence_end = 2;

/// Reads the tracks of an enhanced body whose header (and ModEx prefixes)
/// ended at `pos` with `packet_type` (Enhanced RTMP v2, ExVideoTagBody /
/// ExAudioTagBody): one FourCC-prefixed track, or for Multitrack:
/// AvMultitrackType, the shared FourCC (unless ManyTracksManyCodecs), then
/// per track [FourCC] trackId [sizeOfTrack UI24] body. OneTrack has no size:
/// its body is the rest of the message.
std::size_t split_enhanced(std::span<const std::uint8_t> p, std::size_t pos, std::uint8_t packet_type,
                           std::uint8_t multitrack, std::span<media_track> out) noexcept {
  if (out.empty()) return 0;
  std::uint32_t fourcc = 0;
  if (packet_type != multitrack) {
    if (!read_fourcc(p, pos, fourcc)) return 0;
    out[0] = media_track{0, fourcc, p.subspan(pos + 4)};
    return 1;
  }
  if (pos >= p.size()) return 0;
  const std::uint8_t multitrack_type = p[pos] >> 4;
  ++pos;
  if (multitrack_type > multitrack_many_tracks_many_codecs) return 0;  // 3..15 reserved
  if (multitrack_type != multitrack_many_tracks_many_codecs) {
    if (!read_fourcc(p, pos, fourcc)) return 0;
    pos += 4;
  }
  std::size_t count = 0;
  while (count < out.size() && pos < p.size()) {
    if (multitrack_type == multitrack_many_tracks_many_codecs) {
      if (!read_fourcc(p, pos, fourcc)) break;
      pos += 4;
    }
    if (pos >= p.size()) break;
    const std::uint8_t track_id = p[pos];
    ++pos;
    std::size_t size = p.size() - pos;
    if (multitrack_type != multitrack_one_track) {
      if (p.size() - pos < 3) break;
      size = load_be24(p.data() + pos);
      pos += 3;
      if (size > p.size() - pos) break;  // a track past the end of the message
    }
    out[count++] = media_track{track_id, fourcc, p.subspan(pos, size)};
    pos += size;
    if (multitrack_type == multitrack_one_track) break;
  }
  return count;
}

}  // namespace

video_tag_info describe_video_tag(std::span<const std::uint8_t> p) noexcept {
  video_tag_info info;
  if (p.empty()) return info;
  const std::uint8_t b0 = p[0];
  if ((b0 & 0x80) == 0) {
    // Legacy VideoTagHeader: FrameType (4 bits), CodecID (4 bits), then for
    // AVC (and HEVC) AVCPacketType and a 24-bit CompositionTime.
    info.frame_type = b0 >> 4;
    info.codec_id = b0 & 0x0f;
    if (info.codec_id == codec_avc || info.codec_id == codec_hevc) {
      if (p.size() < 2) return info;
      info.packet_type = p[1];
    }
    info.valid = true;
    return info;
  }
  // Enhanced RTMP v2 ExVideoTagHeader: IsExHeader (1 bit), VideoFrameType
  // (3 bits), VideoPacketType (4 bits).
  info.enhanced = true;
  info.frame_type = (b0 >> 4) & 0x07;
  std::size_t pos = 1;
  if (!read_ex_packet_type(p, pos, video_mod_ex, info)) return info;
  if (info.packet_type != video_metadata && info.frame_type == frame_command) {
    // A command frame: one VideoCommand byte, no FourCC.
    info.valid = pos < p.size();
    return info;
  }
  read_ex_fourcc(p, pos, video_multitrack, info);
  return info;
}

audio_tag_info describe_audio_tag(std::span<const std::uint8_t> p) noexcept {
  audio_tag_info info;
  if (p.empty()) return info;
  info.sound_format = p[0] >> 4;
  if (info.sound_format == sound_aac) {
    // Annex E.4.2.1: AACPacketType follows the AudioTagHeader byte.
    if (p.size() < 2) return info;
    info.packet_type = p[1];
    info.valid = true;
    return info;
  }
  if (info.sound_format != sound_ex_header) {
    info.valid = true;
    return info;
  }
  // Enhanced RTMP v2 ExAudioTagHeader: SoundFormat 9, AudioPacketType (4 bits).
  info.enhanced = true;
  std::size_t pos = 1;
  if (!read_ex_packet_type(p, pos, audio_mod_ex, info)) return info;
  read_ex_fourcc(p, pos, audio_multitrack, info);
  return info;
}

bool is_video_keyframe(std::span<const std::uint8_t> payload) noexcept {
  const auto info = describe_video_tag(payload);
  if (!info.valid || info.frame_type != frame_key) return false;
  if (info.enhanced) {
    return info.packet_type == video_coded_frames || info.packet_type == video_coded_frames_x;
  }
  if (info.codec_id == codec_avc || info.codec_id == codec_hevc) {
    return info.packet_type == 1;  // AVCPacketType 1: NALUs
  }
  return true;
}

bool is_video_sequence_header(std::span<const std::uint8_t> payload) noexcept {
  const auto info = describe_video_tag(payload);
  if (!info.valid) return false;
  if (info.enhanced) {
    if (info.frame_type == frame_command) return false;
    return info.packet_type == video_sequence_start ||
           info.packet_type == video_mpeg2ts_sequence_start;
  }
  // Annex E.4.3.1: FrameType 5 carries a VideoFrameInfo byte, not a picture
  // or configuration, whatever AVCPacketType says.
  if (info.frame_type == frame_command) return false;
  return (info.codec_id == codec_avc || info.codec_id == codec_hevc) && info.packet_type == 0;
}

bool is_audio_sequence_header(std::span<const std::uint8_t> payload) noexcept {
  const auto info = describe_audio_tag(payload);
  if (!info.valid) return false;
  if (info.enhanced) return info.packet_type == audio_sequence_start;
  return info.sound_format == sound_aac && info.packet_type == 0;
}

std::string_view video_fourcc_name(std::uint32_t fourcc) noexcept {
  switch (fourcc) {
    case make_fourcc("avc1"): return "H264";
    case make_fourcc("hvc1"): return "HEVC";
    case make_fourcc("av01"): return "AV1";
    case make_fourcc("vp09"): return "VP9";
    case make_fourcc("vp08"): return "VP8";
    default: return "unknown";
  }
}

std::string_view video_codec_name(std::span<const std::uint8_t> payload) noexcept {
  const auto info = describe_video_tag(payload);
  if (payload.empty()) return "unknown";
  if (info.enhanced) {
    if (!info.valid) return "unknown";
    return video_fourcc_name(info.fourcc);
  }
  switch (info.codec_id) {
    case 2: return "H263";  // Sorenson H.263
    case 3: return "ScreenVideo";
    case 4: return "VP6";
    case 5: return "VP6A";  // On2 VP6 with alpha channel
    case 6: return "ScreenVideo2";
    case codec_avc: return "H264";
    case codec_hevc: return "HEVC";
    default: return "unknown";
  }
}

std::string_view audio_codec_name(std::span<const std::uint8_t> payload) noexcept {
  const auto info = describe_audio_tag(payload);
  if (payload.empty()) return "unknown";
  if (info.enhanced) {
    if (!info.valid) return "unknown";
    switch (info.fourcc) {
      case make_fourcc("mp4a"): return "AAC";
      case make_fourcc("Opus"): return "Opus";
      case make_fourcc(".mp3"): return "MP3";
      case make_fourcc("fLaC"): return "FLAC";
      case make_fourcc("ac-3"): return "AC3";
      case make_fourcc("ec-3"): return "EAC3";
      default: return "unknown";
    }
  }
  // Annex E.4.2.1 SoundFormat.
  switch (info.sound_format) {
    case 0: return "PCM";  // platform endian
    case 1: return "ADPCM";
    case 2: return "MP3";
    case 3: return "PCM";  // little endian
    case 4:
    case 5:
    case 6: return "Nellymoser";
    case 7: return "G711A";
    case 8: return "G711U";
    case sound_aac: return "AAC";
    case 11: return "Speex";
    case 14: return "MP3";  // MP3 8 kHz
    case 15: return "Device";
    default: return "unknown";
  }
}

}  // namespace rtmp::proto

namespace rtmp::proto {

std::size_t split_video_tracks(std::span<const std::uint8_t> p, std::span<media_track> out) noexcept {
  if (p.empty() || out.empty()) return 0;
  const std::uint8_t b0 = p[0];
  if ((b0 & 0x80) == 0) {
    // Legacy: the body follows the VideoTagHeader (annex E.4.3.1).
    const std::uint8_t codec = b0 & 0x0f;
    const std::size_t header = (codec == codec_avc || codec == codec_hevc) ? 5 : 1;
    if (p.size() < header) return 0;
    out[0] = media_track{0, 0, p.subspan(header)};
    return 1;
  }
  std::uint8_t packet_type = b0 & 0x0f;
  std::size_t pos = 1;
  if (!skip_mod_ex(p, pos, video_mod_ex, packet_type)) return 0;
  if (packet_type != video_metadata && ((b0 >> 4) & 0x07) == frame_command) return 0;
  return split_enhanced(p, pos, packet_type, video_multitrack, out);
}

std::size_t split_audio_tracks(std::span<const std::uint8_t> p, std::span<media_track> out) noexcept {
  if (p.empty() || out.empty()) return 0;
  const std::uint8_t format = p[0] >> 4;
  if (format != sound_ex_header) {
    // Legacy: the body follows the AudioTagHeader (annex E.4.2.1).
    const std::size_t header = format == sound_aac ? 2 : 1;
    if (p.size() < header) return 0;
    out[0] = media_track{0, 0, p.subspan(header)};
    return 1;
  }
  std::uint8_t packet_type = p[0] & 0x0f;
  std::size_t pos = 1;
  if (!skip_mod_ex(p, pos, audio_mod_ex, packet_type)) return 0;
  return split_enhanced(p, pos, packet_type, audio_multitrack, out);
}

bool is_sequence_end(std::span<const std::uint8_t> payload, bool video) noexcept {
  if (video) {
    const auto info = describe_video_tag(payload);
    return info.valid && info.enhanced && info.frame_type != frame_command &&
           info.packet_type == video_sequence_end;
  }
  const auto info = describe_audio_tag(payload);
  return info.valid && info.enhanced && info.packet_type == audio_sequence_end;
}

}  // namespace rtmp::proto
