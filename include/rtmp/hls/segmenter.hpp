#pragma once
/// @file segmenter.hpp
/// Cuts one stream's FLV messages into HLS segments (RFC 8216): MPEG-TS
/// segments that begin at video keyframes, a live window of them kept in
/// memory within a byte bound, and the media playlist that lists them.
/// Sans-I/O and single-threaded: the owner feeds messages and serves what it
/// asks for (`playlist`, `segment`).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "rtmp/hls/fmp4_muxer.hpp"
#include "rtmp/hls/playlist.hpp"
#include "rtmp/hls/ts_muxer.hpp"
#include "rtmp/proto/shared_bytes.hpp"

namespace rtmp::hls {

/// The container of the segments.
enum class segment_format : std::uint8_t {
  ts,    ///< MPEG-2 transport stream (".ts"): H.264 and AAC.
  fmp4,  ///< Fragmented MP4 / CMAF (".m4s" and an "init-N.mp4"): also HEVC and AV1.
};

/// Limits and targets of a segmenter; every one is a setting.
struct segmenter_config {
  segment_format format = segment_format::ts;          ///< Container.
  std::chrono::milliseconds segment_duration{2'000};  ///< Cut at the first keyframe past this.
  std::size_t window = 6;                             ///< Segments the playlist lists.
  /// Segments kept past the window, so that a viewer with a slightly older
  /// playlist still finds them (RFC 8216 section 6.2.2).
  std::size_t kept_past_window = 2;
  /// Bytes kept in segments at most (the oldest go first, window or not);
  /// also the largest segment: one past it is cut without a keyframe.
  std::size_t max_bytes = std::size_t{64} * 1024 * 1024;
  /// A segment is cut here even without a keyframe (a stream whose
  /// keyframes are far apart still gets a playlist).
  std::chrono::milliseconds max_segment_duration{10'000};
  std::uint64_t first_sequence = 0;  ///< The first segment's media sequence number.
};

/// One finished segment; immutable and shared with whoever serves it.
struct segment {
  std::uint64_t sequence = 0;        ///< Media sequence number.
  std::uint32_t duration_ms = 0;     ///< Media duration.
  bool discontinuity = false;        ///< Follows a publisher restart (or new codec settings).
  std::uint64_t init = 0;            ///< fMP4: the number of the initialization segment it needs.
  std::int64_t program_date_ms = 0;  ///< Wall clock of its first frame.
  proto::shared_bytes bytes;         ///< The transport stream (shared with every response that sends it).
};

/// The segments and playlist of one stream.
class segmenter {
 public:
  explicit segmenter(segmenter_config config = {});

  /// One message of the stream: audio (8), video (9) or data (18, ignored),
  /// its FLV tag body and timestamp, and the wall clock now (ms since the
  /// epoch). Video before the first keyframe (and audio before it, when the
  /// stream has video) is not written: every segment starts decodable.
  void on_media(std::uint8_t type, std::span<const std::uint8_t> payload, std::uint32_t timestamp_ms,
                std::int64_t now_ms);

  /// The publisher stopped: the open segment is finished and the playlist
  /// ends (EXT-X-ENDLIST) until a publisher starts again.
  void end();

  /// A publisher (re)started: the next segment is marked as a discontinuity
  /// (new encoder, maybe new settings) and the playlist is live again.
  void restart();

  /// The playlist now; segment URIs are "<sequence>.ts" followed by `query`
  /// ("?token=T", or empty). Empty before the first segment is finished.
  std::string playlist(const std::string& query = {}) const;

  /// Finished segment `sequence`, or null when it is not (or no longer) kept.
  std::shared_ptr<const segment> find(std::uint64_t sequence) const;

  /// fMP4: initialization segment `number`, or empty bytes when it is not
  /// kept (only those the kept segments need are).
  proto::shared_bytes find_init(std::uint64_t number) const;

  /// Bytes kept in finished segments and the open one.
  std::size_t bytes() const noexcept { return kept_bytes_ + open_.size(); }
  /// Finished segments kept.
  std::size_t segments() const noexcept { return done_.size(); }
  /// The container of its segments.
  segment_format format() const noexcept { return config_.format; }
  /// True after end() until restart().
  bool ended() const noexcept { return ended_; }
  /// The newest finished segment's sequence number + 1 (0: none yet).
  std::uint64_t next_sequence() const noexcept { return next_sequence_; }

 private:
  void open_segment(std::uint32_t timestamp_ms, std::int64_t now_ms);
  // The fMP4 path of on_media.
  void on_fmp4_media(std::uint8_t type, std::span<const std::uint8_t> payload, std::uint32_t timestamp_ms,
                     std::int64_t now_ms);
  // Where a new segment should begin at a frame of `type` (`keyframe`),
  // `elapsed` ms into the open one.
  bool cut_due(std::uint8_t type, bool keyframe, bool has_video, std::uint32_t elapsed) const;
  // `final`: the publish ended, the muxer's held-back samples go in too.
  void finish_segment(std::uint32_t end_timestamp_ms, bool final = false);
  void trim();

  segmenter_config config_;
  ts_muxer muxer_;
  fmp4_muxer fmp4_;
  std::deque<std::pair<std::uint64_t, proto::shared_bytes>> inits_;  // fMP4 init segments by number
  std::uint64_t init_number_ = 0;
  std::deque<std::shared_ptr<const segment>> done_;
  std::size_t kept_bytes_ = 0;
  std::uint64_t next_sequence_ = 0;
  std::uint64_t discontinuities_dropped_ = 0;  // EXT-X-DISCONTINUITY-SEQUENCE
  std::uint32_t longest_ms_ = 0;
  // The open segment.
  std::vector<std::uint8_t> open_;
  bool is_open_ = false;
  bool open_has_media_ = false;   // something was written after the tables
  bool open_has_video_ = false;   // its tables name the video stream
  std::uint32_t open_start_ts_ = 0;
  std::uint32_t last_ts_ = 0;
  std::int64_t open_date_ms_ = 0;
  bool open_discontinuity_ = false;
  bool pending_discontinuity_ = false;
  bool ended_ = false;
  std::vector<std::uint8_t> scratch_;
};

}  // namespace rtmp::hls
