#pragma once
/// @file bench_detail.hpp
/// Pieces of `rtmp-client bench` that need no sockets: the synthetic stream
/// (valid H.264 and AAC-LC whose video frames are stamped with a sequence
/// number and their send time, onMetaData) and a log-linear histogram for
/// delay samples.
///
/// A synthetic video payload is an AVC video tag (FrameType|CodecID,
/// AVCPacketType 1, CompositionTime 0) whose sample holds three NAL units,
/// each after a 4-byte big-endian length (bench_h264.hpp codes them):
///
///     SEI     user_data_unregistered: stamp_uuid, then the 24-byte stamp
///             "RTMPBNCH" magic, u64 BE sequence number (0 for the first
///             frame), u64 BE send time (steady_clock = CLOCK_MONOTONIC, ns),
///             then up to 5 padding bytes 0xFF; emulation prevention applies
///     slice   IDR (keyframes) or P with every macroblock skipped
///     filler  filler data NAL unit up to the frame size (when 6 bytes or more)
///
/// The stamp is an ordinary NAL unit, so it survives servers that check the
/// AVC framing and forward NAL units untouched. CLOCK_MONOTONIC is
/// machine-wide on Linux, so a stamp written by one process can be compared
/// with the clock of another on the same machine.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "rtmp/proto/message.hpp"

namespace rtmp::bench {

/// The marker that starts a stamp.
inline constexpr std::array<std::uint8_t, 8> stamp_magic = {'R', 'T', 'M', 'P', 'B', 'N', 'C', 'H'};
/// The UUID of the user_data_unregistered SEI that carries a stamp (a random
/// version 4 UUID without zero bytes).
inline constexpr std::array<std::uint8_t, 16> stamp_uuid = {0x5d, 0x3a, 0x9e, 0x41, 0xc7, 0x2b, 0x4f, 0x86,
                                                            0xa1, 0x17, 0xe5, 0x6c, 0x92, 0xd8, 0x3f, 0x7b};
/// Bytes of the AVC video tag header before the first NAL unit length.
inline constexpr std::size_t avc_header_size = 5;
/// Bytes of a stamp (magic, sequence, send time).
inline constexpr std::size_t stamp_size = 24;
/// The most bytes write_stamp appends without padding: length, NAL header,
/// payloadType, payloadSize, UUID, stamp, rbsp_trailing_bits, and at most
/// 8 emulation prevention bytes (the 16 bytes of numbers hold at most 8 pairs of zeros).
inline constexpr std::size_t max_stamp_unit_size = 4 + 1 + 1 + 1 + 16 + stamp_size + 1 + 8;

/// What a stamp carries.
struct frame_stamp {
  std::uint64_t sequence = 0;  ///< Video frame number since the publisher started.
  std::uint64_t send_ns = 0;   ///< steady_clock time when the frame was queued, in ns.
};

/// Appends to `out` a stamp NAL unit with its 4-byte length: an SEI
/// user_data_unregistered message of stamp_uuid, `stamp` and `padding`
/// bytes 0xFF (below 215 of them, each makes the unit one byte longer).
void write_stamp(std::vector<std::uint8_t>& out, const frame_stamp& stamp, std::size_t padding = 0);

/// Reads the stamp of an AVC video payload (AVCPacketType 1): walks its
/// length-prefixed NAL units to the first stamp SEI. nullopt when there is
/// none, or when the payload is not an AVC NALU packet, or is truncated or
/// malformed (never reads outside `payload`).
std::optional<frame_stamp> read_stamp(std::span<const std::uint8_t> payload) noexcept;

/// The synthetic stream: 25 fps H.264 (Constrained Baseline, a flat grey
/// 128x96 picture) with an IDR picture every 2 s (GOP 50) and optionally
/// AAC-LC (44.1 kHz stereo silence, 1024 samples per frame), both decodable
/// by any player. Frame sizes are chosen so that the video averages the
/// requested bitrate (a keyframe about five times the size of an inter
/// frame; filler data NAL units and AAC fill elements make up the sizes),
/// unless the request is below what the coded pictures and stamps need
/// (about 14.2 kbit/s): then every frame has its smallest size. Timestamps are
/// milliseconds since the stream started.
class synthetic_stream {
 public:
  static constexpr std::uint32_t fps = 25;                ///< Video frames per second.
  static constexpr std::uint32_t gop = 50;                ///< Frames per GOP (a keyframe every 2 s).
  static constexpr std::uint32_t keyframe_weight = 5;     ///< About keyframe size / inter frame size.
  static constexpr std::uint32_t audio_rate = 44100;      ///< Audio sample rate.
  static constexpr std::uint32_t audio_frame_samples = 1024;  ///< Samples per AAC frame.
  static constexpr std::size_t min_audio_frame_bytes = 9;     ///< AAC tag header and the silent raw_data_block.

  /// A stream of `video_bps` video and `audio_bps` audio (0: no audio).
  synthetic_stream(std::uint64_t video_bps, std::uint64_t audio_bps);

  /// The onMetaData script body (`"onMetaData", {...}`), for `send_script_data`.
  std::vector<std::uint8_t> metadata() const;
  /// The AVC sequence header (avcC of the stream's SPS and PPS) at timestamp 0.
  proto::message video_sequence_header() const;
  /// The AAC sequence header (AudioSpecificConfig: LC, 44.1 kHz, stereo) at timestamp 0.
  proto::message audio_sequence_header() const;
  /// Video frame `index` (an IDR picture when index % gop == 0), stamped
  /// with `sequence` and `send_ns`; its timestamp is index * 40 ms. Frames
  /// may be left out (frame_num gaps are allowed), but a P frame decodes
  /// only after an IDR frame.
  proto::message video_frame(std::uint64_t index, std::uint64_t sequence, std::uint64_t send_ns) const;
  /// Audio frame `index`; its timestamp is index * 1024 / 44.1 ms.
  proto::message audio_frame(std::uint64_t index) const;

  /// Milliseconds from the start at which video frame `index` is due.
  static std::uint64_t video_time_ms(std::uint64_t index) noexcept { return index * 1000 / fps; }
  /// Microseconds from the start at which audio frame `index` is due.
  static std::uint64_t audio_time_us(std::uint64_t index) noexcept {
    return index * audio_frame_samples * 1'000'000 / audio_rate;
  }
  /// True when the stream has audio.
  bool has_audio() const noexcept { return audio_frame_bytes_ > 0; }
  /// Bytes of every keyframe payload.
  std::size_t keyframe_bytes() const noexcept { return keyframe_bytes_; }
  /// Bytes of every inter frame payload.
  std::size_t inter_frame_bytes() const noexcept { return inter_bytes_; }
  /// Bytes of every audio payload (0 without audio).
  std::size_t audio_frame_bytes() const noexcept { return audio_frame_bytes_; }

 private:
  std::uint64_t video_bps_;
  std::uint64_t audio_bps_;
  std::vector<std::uint8_t> sps_;
  std::vector<std::uint8_t> pps_;
  std::vector<std::uint8_t> idr_slices_[2];           // idr_pic_id 0 and 1, alternating from GOP to GOP
  std::vector<std::vector<std::uint8_t>> p_slices_;   // by index % gop (frame_num); [0] unused
  std::size_t keyframe_bytes_ = 0;
  std::size_t inter_bytes_ = 0;
  std::size_t audio_frame_bytes_ = 0;
  proto::shared_bytes audio_payload_;  // every audio frame is the same silence
};

/// A log-linear histogram of non-negative integer samples (e.g. microseconds):
/// values below 64 are exact, larger ones fall into 64 buckets per power of
/// two (under 1.6 % relative error). Fixed size (about 30 KB); merging adds
/// counts. Not thread-safe.
class histogram {
 public:
  histogram();
  /// Adds one sample.
  void record(std::uint64_t value) noexcept;
  /// Adds every sample of `other`.
  void merge(const histogram& other) noexcept;
  /// Number of samples.
  std::uint64_t count() const noexcept { return count_; }
  /// Largest sample (exact); 0 when empty.
  std::uint64_t max() const noexcept { return max_; }
  /// The value at percentile `p` (0..100), as the middle of its bucket
  /// (exact below 64, and never above `max()`); 0 when empty.
  std::uint64_t percentile(double p) const noexcept;

 private:
  std::vector<std::uint64_t> buckets_;
  std::uint64_t count_ = 0;
  std::uint64_t max_ = 0;
};

}  // namespace rtmp::bench
