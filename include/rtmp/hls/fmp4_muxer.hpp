#pragma once
/// @file fmp4_muxer.hpp
/// A fragmented MP4 (CMAF) writer for HLS (RFC 8216 section 3.3): an
/// initialization segment (ftyp + moov with mvex) and media segments
/// (styp + moof + mdat), written from FLV tag bodies as RTMP carries them,
/// legacy (AVC, AAC) and Enhanced RTMP (HEVC 'hvc1', AV1 'av01', AVC 'avc1'
/// FourCCs; ISO/IEC 14496-12 boxes, 14496-15 avcC/hvcC sample entries, the
/// AV1 ISOBMFF binding's av1C, 14496-14 esds for AAC). Sans-I/O: bytes in,
/// bytes out.
///
/// Everything here reads untrusted bytes: a short or malformed tag is
/// refused (false), never a crash or an out-of-bounds read.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace rtmp::hls {

/// Builds one track pair's (at most one video, one audio track) fMP4
/// segments. Feed sequence headers and frames; `init_segment` once the
/// configuration is known; then per media segment, frames are buffered by
/// `video_tag` / `audio_tag` and written out by `flush_fragment`.
class fmp4_muxer {
 public:
  /// The video track's timescale (ms would lose B-frame offsets: 90 kHz).
  static constexpr std::uint32_t video_timescale = 90'000;

  /// An FLV video tag body: legacy AVC (CodecID 7) or an Enhanced RTMP
  /// ExVideoTagHeader with FourCC avc1, hvc1 or av01 (not multitrack).
  /// A sequence header (AVCPacketType 0 / SequenceStart) sets the track's
  /// decoder configuration record (true when usable; a change of
  /// configuration makes `config_changed()` true). Coded frames (AVC
  /// NALU / CodedFrames with its SI24 composition time / CodedFramesX
  /// without one) are buffered as one sample, keyframe flag kept, data as
  /// carried (length-prefixed NAL units, whose lengths must fill the body
  /// exactly, or AV1 OBUs). End of sequence, metadata and command frames
  /// buffer nothing and return true. False (nothing changed) before a
  /// configuration or for frames of another codec than the configured one,
  /// for a malformed tag or configuration record, for a multitrack body or
  /// another codec. The coded size for the sample entry is read from the
  /// SPS (AVC, HEVC) or the sequence header OBU (AV1); 0x0 when unreadable.
  bool video_tag(std::span<const std::uint8_t> payload, std::uint32_t timestamp_ms);

  /// An FLV audio tag body: AAC (SoundFormat 10, legacy or Enhanced RTMP
  /// FourCC mp4a). AudioSpecificConfig sets the track's configuration
  /// (the audio timescale is its sampling frequency: a sample's DTS is the
  /// timestamp in that scale, rounded); raw frames are buffered as samples.
  /// Enhanced SequenceEnd and MultichannelConfig buffer nothing, true.
  /// False as for video.
  bool audio_tag(std::span<const std::uint8_t> payload, std::uint32_t timestamp_ms);

  /// True once a video configuration was accepted.
  bool has_video() const noexcept { return !video_config_.empty(); }
  /// True once an audio configuration was accepted.
  bool has_audio() const noexcept { return !audio_config_.empty(); }
  /// The video codec: "avc1", "hvc1", "av01", or "" when none.
  const std::string& video_codec() const noexcept { return video_codec_; }
  /// RFC 6381 CODECS value for the playlist ("avc1.64001f,mp4a.40.2").
  std::string codecs() const;

  /// True when a configuration changed since the last `init_segment` (a new
  /// init segment and an EXT-X-DISCONTINUITY or new EXT-X-MAP are needed).
  bool config_changed() const noexcept { return config_changed_; }

  /// Appends the initialization segment (ftyp, moov: mvhd, a trak per
  /// configured track with its sample entry, mvex with a trex per track) to
  /// `out`; clears `config_changed()`. Track IDs: video 1, audio 2. Nothing
  /// is appended while no track is configured.
  void init_segment(std::vector<std::uint8_t>& out);

  /// Appends a media segment of the buffered samples to `out` (styp, moof
  /// with mfhd (sequence number counting from 1) and a traf per track:
  /// tfhd, tfdt (base decode time), trun (per-sample duration, size, flags,
  /// composition offset), then one mdat) and empties the buffers. A
  /// sample's duration is the next sample's DTS minus its own; the last
  /// buffered sample of a track is held back for the next fragment (its
  /// duration is not known yet) unless `final` (then it gets the track's
  /// previous sample duration). Nothing written when nothing is buffered.
  /// To begin each fragment with a keyframe, call it right after feeding a
  /// keyframe: that frame is the one held back. The samples buffered when a
  /// configuration changes belong to the old one: flush them (`final`)
  /// before writing the new init segment. `with_styp` false leaves the
  /// styp out (moof + mdat only): an LL-HLS partial segment after the first
  /// of its segment, so that the segment (its parts in order) has one styp.
  void flush_fragment(std::vector<std::uint8_t>& out, bool final = false, bool with_styp = true);

  /// True when `payload` is a video keyframe with coded data (a segment may
  /// begin there), legacy or enhanced.
  static bool is_keyframe(std::span<const std::uint8_t> payload) noexcept;

 private:
  struct sample {
    std::uint64_t dts = 0;           // in the track's timescale
    std::int32_t cts_offset = 0;     // composition offset, same scale
    bool key = false;
    std::vector<std::uint8_t> data;
  };
  std::string video_codec_;
  std::vector<std::uint8_t> video_config_;   // avcC / hvcC / av1C body
  std::vector<std::uint8_t> audio_config_;   // AudioSpecificConfig
  bool config_changed_ = false;
  std::vector<sample> video_;
  std::vector<sample> audio_;
  std::uint32_t sequence_ = 0;

  bool set_video_config(const char* codec, std::span<const std::uint8_t> record);
  bool add_video_frame(std::span<const std::uint8_t> data, std::int32_t cts_ms, bool key, std::uint32_t timestamp_ms);
  bool set_audio_config(std::span<const std::uint8_t> config);
  void write_video_trak(std::vector<std::uint8_t>& out) const;
  void write_audio_trak(std::vector<std::uint8_t>& out) const;

  std::uint8_t nal_length_size_ = 4;     // avc1 / hvc1: bytes of a NAL unit length prefix
  std::uint32_t width_ = 0;              // coded size, 0 x 0 when it could not be read
  std::uint32_t height_ = 0;
  std::uint32_t audio_rate_ = 0;         // AAC sampling frequency: the audio timescale
  std::uint8_t audio_channels_ = 0;
  std::uint8_t audio_object_type_ = 0;
  std::uint32_t video_last_duration_ = 0;  // of the last sample written, for a `final` flush
  std::uint32_t audio_last_duration_ = 0;
};

}  // namespace rtmp::hls
