#pragma once
/// @file bench_detail.hpp
/// Pieces of `rtmp-client bench` that need no sockets: the synthetic stream
/// (AVC sequence header, onMetaData, video frames stamped with a sequence
/// number and their send time, AAC-shaped audio) and a log-linear histogram
/// for delay samples.
///
/// Stamp layout inside a synthetic video payload, right after the 5-byte AVC
/// video tag header (FrameType|CodecID, AVCPacketType 1, CompositionTime 0):
///
///     offset 5:  "RTMPBNCH"            magic marker (8 bytes)
///     offset 13: sequence number       u64 big-endian, 0 for the first frame
///     offset 21: send time             u64 big-endian, steady_clock (CLOCK_MONOTONIC) ns
///     offset 29: filler up to the frame size
///
/// CLOCK_MONOTONIC is machine-wide on Linux, so a stamp written by one process
/// can be compared with the clock of another on the same machine.

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
/// Bytes of the AVC video tag header that precede the stamp.
inline constexpr std::size_t avc_header_size = 5;
/// Bytes of a stamp (magic, sequence, send time).
inline constexpr std::size_t stamp_size = 24;

/// What a stamp carries.
struct frame_stamp {
  std::uint64_t sequence = 0;  ///< Video frame number since the publisher started.
  std::uint64_t send_ns = 0;   ///< steady_clock time when the frame was queued, in ns.
};

/// Writes `stamp` at offset `avc_header_size` of `payload`, which must hold
/// at least `avc_header_size + stamp_size` bytes.
void write_stamp(std::span<std::uint8_t> payload, const frame_stamp& stamp) noexcept;

/// Reads a stamp from a video payload; nullopt when the payload is too short
/// or does not carry the magic marker.
std::optional<frame_stamp> read_stamp(std::span<const std::uint8_t> payload) noexcept;

/// The synthetic stream: 25 fps H.264-shaped video with a keyframe every 2 s
/// (GOP 50), frame sizes chosen so the video averages the requested bitrate
/// (a keyframe is five times the size of an inter frame), and optionally
/// AAC-LC-shaped audio (44.1 kHz, 1024 samples per frame). Timestamps are
/// milliseconds since the stream started.
class synthetic_stream {
 public:
  static constexpr std::uint32_t fps = 25;                ///< Video frames per second.
  static constexpr std::uint32_t gop = 50;                ///< Frames per GOP (a keyframe every 2 s).
  static constexpr std::uint32_t keyframe_weight = 5;     ///< Keyframe size / inter frame size.
  static constexpr std::uint32_t audio_rate = 44100;      ///< Audio sample rate.
  static constexpr std::uint32_t audio_frame_samples = 1024;  ///< Samples per AAC frame.

  /// A stream of `video_bps` video and `audio_bps` audio (0: no audio).
  synthetic_stream(std::uint64_t video_bps, std::uint64_t audio_bps);

  /// The onMetaData script body (`"onMetaData", {...}`), for `send_script_data`.
  std::vector<std::uint8_t> metadata() const;
  /// The AVC sequence header (a valid avcC: Baseline, 320x240) at timestamp 0.
  proto::message video_sequence_header() const;
  /// The AAC sequence header (AudioSpecificConfig: LC, 44.1 kHz, stereo) at timestamp 0.
  proto::message audio_sequence_header() const;
  /// Video frame `index` (a keyframe when index % gop == 0), stamped with
  /// `sequence` and `send_ns`; its timestamp is index * 40 ms.
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
  /// Bytes of a keyframe payload.
  std::size_t keyframe_bytes() const noexcept { return keyframe_bytes_; }
  /// Bytes of an inter frame payload.
  std::size_t inter_frame_bytes() const noexcept { return inter_bytes_; }

 private:
  std::uint64_t video_bps_;
  std::uint64_t audio_bps_;
  std::size_t keyframe_bytes_ = 0;
  std::size_t inter_bytes_ = 0;
  std::size_t audio_frame_bytes_ = 0;
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
