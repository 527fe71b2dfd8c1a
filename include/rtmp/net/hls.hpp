#pragma once
/// @file hls.hpp
/// HLS settings: the streams of the applications with HLS on are cut into
/// MPEG-TS or fMP4 segments (and LL-HLS parts) and served as
/// `/{app}/{stream}/index.m3u8` on the HTTP endpoint (src/hls/hls_manager.hpp
/// has the behaviour).

#include <chrono>
#include <cstddef>
#include <set>
#include <string>

namespace rtmp::net {

/// HLS settings. Every limit is named here.
struct hls_config {
  std::set<std::string> apps;                           ///< Applications whose streams get HLS.
  /// fMP4 (CMAF) segments and an initialization segment instead of MPEG-TS:
  /// needed for HEVC and AV1 (Enhanced RTMP); H.264 + AAC work in both.
  bool fmp4 = false;
  std::chrono::milliseconds segment_duration{2'000};    ///< Target segment length (cut at the next keyframe).
  std::size_t window = 6;                               ///< Segments a playlist lists.
  std::size_t max_stream_bytes = std::size_t{64} * 1024 * 1024;   ///< Segment bytes kept per stream.
  std::size_t max_total_bytes = std::size_t{1024} * 1024 * 1024;  ///< Over every stream: past it, new streams get no HLS.
  /// Also write each stream's playlist and segments under PATH/APP/STREAM/
  /// for an external web server (files replaced atomically, old segments
  /// removed); empty: memory only.
  std::string path;
  /// After the publisher stops, its playlist (with EXT-X-ENDLIST) and
  /// segments are kept this long, then forgotten.
  std::chrono::milliseconds expire_after{30'000};
  /// fMP4 only: Low-Latency HLS partial segments of about this duration,
  /// blocking playlist reloads and preload hints (RFC 8216bis); 0: off.
  std::chrono::milliseconds part_duration{500};
  /// Blocking playlist reloads and hinted part requests held at once over
  /// the whole server; past it they are answered 503 at once.
  std::size_t max_blocked_requests = 10'000;

  /// Member-wise (a reload compares the old and new settings).
  bool operator==(const hls_config&) const = default;
};

}  // namespace rtmp::net
