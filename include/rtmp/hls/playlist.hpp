#pragma once
/// @file playlist.hpp
/// The text of an HLS media playlist (RFC 8216 section 4.3): the live
/// window of segments with their durations, sequence numbers,
/// discontinuities and program date-times, and the Low-Latency HLS tags
/// (RFC 8216bis: partial segments, preload hint). Sans-I/O: a string out.

#include <cstdint>
#include <string>
#include <vector>

namespace rtmp::hls {

/// One partial segment as the playlist lists it (EXT-X-PART, RFC 8216bis
/// section 4.4.4.9).
struct playlist_part {
  std::uint32_t duration_ms = 0;  ///< DURATION.
  bool independent = false;       ///< INDEPENDENT=YES: begins with a keyframe.
  std::string uri;                ///< URI ("12.3.m4s", plus the viewer's query).
};

/// One segment as the playlist lists it.
struct playlist_segment {
  std::uint64_t sequence = 0;          ///< Media Sequence Number (RFC 8216 section 3).
  std::uint32_t duration_ms = 0;       ///< EXTINF duration.
  bool discontinuity = false;          ///< EXT-X-DISCONTINUITY before it (publisher restart, new codec settings).
  std::int64_t program_date_ms = 0;    ///< EXT-X-PROGRAM-DATE-TIME: wall clock of its first frame, ms since the epoch.
  std::string uri;                     ///< Relative URI ("12.ts", plus a query the viewer's URL carried).
  /// fMP4: the URI of the initialization segment it needs (EXT-X-MAP,
  /// written before the first listed segment and wherever it changes).
  std::string map_uri;
  /// LL-HLS: its parts, listed (EXT-X-PART) before its EXTINF.
  std::vector<playlist_part> parts;
  /// False for the segment still being written (LL-HLS, the last one):
  /// its tags and parts are listed, not its EXTINF and URI.
  bool complete = true;
};

/// A media playlist.
struct media_playlist {
  std::uint32_t version = 3;                  ///< EXT-X-VERSION (7 with EXT-X-MAP: RFC 8216 section 7).
  std::uint32_t target_duration_s = 2;        ///< EXT-X-TARGETDURATION (every EXTINF rounds to at most this).
  std::uint64_t discontinuity_sequence = 0;   ///< EXT-X-DISCONTINUITY-SEQUENCE (discontinuities that left the window).
  std::vector<playlist_segment> segments;     ///< Oldest first; the first one's sequence is EXT-X-MEDIA-SEQUENCE.
  bool ended = false;                         ///< EXT-X-ENDLIST: the publisher stopped.
  /// LL-HLS: EXT-X-PART-INF PART-TARGET in ms, and with it
  /// EXT-X-SERVER-CONTROL (CAN-BLOCK-RELOAD=YES, PART-HOLD-BACK four part
  /// targets); 0: plain HLS.
  std::uint32_t part_target_ms = 0;
  /// LL-HLS: EXT-X-PRELOAD-HINT TYPE=PART of the next part's URI; empty: none.
  std::string preload_hint_uri;
};

/// The playlist as text: #EXTM3U, EXT-X-VERSION, EXT-X-TARGETDURATION,
/// (with a part target) EXT-X-SERVER-CONTROL and EXT-X-PART-INF,
/// EXT-X-MEDIA-SEQUENCE, EXT-X-DISCONTINUITY-SEQUENCE (when not 0), then per
/// segment EXT-X-DISCONTINUITY (when set), EXT-X-MAP (when its map URI
/// differs from the previous segment's), EXT-X-PROGRAM-DATE-TIME (UTC,
/// millisecond precision), its EXT-X-PART lines, and when complete
/// #EXTINF:<seconds with 3 decimals> and the URI; then EXT-X-PRELOAD-HINT
/// (when set and not `ended`), and EXT-X-ENDLIST last when `ended`. Lines
/// end in "\n".
std::string render(const media_playlist& p);

/// `ms` since the epoch as RFC 3339 / ISO 8601 UTC with milliseconds
/// ("2026-12-07T14:10:25.123Z"), as EXT-X-PROGRAM-DATE-TIME wants.
std::string iso8601_ms(std::int64_t ms);

}  // namespace rtmp::hls
