#pragma once
/// @file segmenter.hpp
/// Cuts one stream's FLV messages into HLS segments (RFC 8216): MPEG-TS or
/// fMP4 segments that begin at video keyframes, a live window of them kept
/// in memory within a byte bound, and the media playlist that lists them;
/// for fMP4, optionally Low-Latency HLS partial segments (RFC 8216bis).
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
  /// fMP4 only: Low-Latency HLS partial segments (RFC 8216bis section
  /// 4.4.4.9) of at most about this duration; 0: none (plain HLS). Ignored
  /// for TS.
  std::chrono::milliseconds part_duration{0};
  /// The newest finished segments whose parts stay listed and kept (the
  /// open segment's parts always are).
  std::size_t parts_kept_segments = 3;
};

/// One partial segment (LL-HLS); immutable and shared with whoever serves it.
struct part {
  std::uint64_t sequence = 0;      ///< Media sequence number of its segment.
  std::uint32_t index = 0;         ///< Its place in the segment, from 0.
  std::uint32_t duration_ms = 0;   ///< Media duration.
  bool independent = false;        ///< Begins with a keyframe (INDEPENDENT=YES).
  /// moof + mdat (the segment's first part also begins with its styp); the
  /// segment's bytes are its parts' bytes in order.
  proto::shared_bytes bytes;
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

  /// The playlist now; segment URIs are "<sequence>.ts" (".m4s" for fMP4)
  /// followed by `query` ("?token=T", or empty), part URIs
  /// "<sequence>.<index>.m4s" and the query. Empty before the first segment
  /// is finished (with LL-HLS too: players want a whole segment to start).
  std::string playlist(const std::string& query = {}) const;

  /// Finished segment `sequence`, or null when it is not (or no longer) kept.
  std::shared_ptr<const segment> find(std::uint64_t sequence) const;

  /// LL-HLS: part `index` of segment `sequence` (finished or open), or null
  /// when it is not (or no longer, or not yet) kept.
  std::shared_ptr<const part> find_part(std::uint64_t sequence, std::uint32_t index) const;

  /// True when the playlist lists segment `sequence` finished, or with
  /// `index` >= 0, part `index` of segment `sequence` (or a later segment
  /// or part: a segment that finished with fewer parts counts as having
  /// it). What a blocking playlist reload (`_HLS_msn`, `_HLS_part`) waits
  /// for; always true once ended() (the final playlist is all there is).
  bool has(std::uint64_t sequence, std::int64_t index = -1) const noexcept;

  /// True when it makes partial segments (fMP4 with a part duration).
  bool low_latency() const noexcept;
  /// Parts finished in the open segment (its sequence is `next_sequence()`).
  std::uint32_t open_parts() const noexcept { return open_parts_; }
  /// Counts the changes of the playlist (a part or segment finished, end,
  /// restart): its owner wakes blocked requests when it moves.
  std::uint64_t version() const noexcept { return version_; }

  /// fMP4: initialization segment `number`, or empty bytes when it is not
  /// kept (only those the kept segments need are).
  proto::shared_bytes find_init(std::uint64_t number) const;

  /// Bytes kept in finished segments and the open one (its parts). A
  /// finished segment's kept parts share its bytes: not counted again.
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
  // LL-HLS: where a new part should begin at a frame at `timestamp_ms`.
  bool part_due(std::uint32_t timestamp_ms) const noexcept;
  // LL-HLS: the bytes flushed into open_ become part `open_parts_` of the
  // open segment, ending at `end_timestamp_ms`.
  void record_part(std::uint32_t end_timestamp_ms);
  // Bytes of the open segment: its parts and open_.
  std::size_t open_size() const noexcept { return open_part_bytes_ + open_.size(); }

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
  // LL-HLS.
  std::uint32_t open_parts_ = 0;
  std::uint64_t version_ = 0;
  std::vector<std::shared_ptr<const part>> open_part_list_;  // the open segment's parts (own bytes)
  std::size_t open_part_bytes_ = 0;                          // their bytes (also in kept_bytes_)
  std::uint32_t part_start_ts_ = 0;                          // where the open part begins
  bool part_independent_ = false;                            // it begins with a keyframe
  // The track that cuts parts (video, or audio without video): its last
  // frame's timestamp and the gap before it.
  std::uint32_t drive_last_ts_ = 0;
  std::uint32_t drive_gap_ = 0;
  bool drive_seen_ = false;
  // Parts of the newest finished segments (slices of their bytes), oldest first.
  std::deque<std::pair<std::uint64_t, std::vector<std::shared_ptr<const part>>>> done_parts_;
};

}  // namespace rtmp::hls
