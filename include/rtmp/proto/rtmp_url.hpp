#pragma once
/// @file rtmp_url.hpp
/// Parses `rtmp://host[:port]/app[/instance]/stream[?query]` (and `rtmps://`)
/// into the pieces an RTMP client needs: where to connect, the `app` and
/// `tcUrl` of the connect command, and the stream name for publish/play.
/// Splitting follows ffmpeg's rtmp:// handling, so a URL means the same here
/// as on an ffmpeg command line.

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace rtmp::proto {

/// Default port of rtmp:// URLs.
inline constexpr std::uint16_t rtmp_default_port = 1935;
/// Default port of rtmps:// URLs (RTMP over TLS).
inline constexpr std::uint16_t rtmps_default_port = 443;

/// A parsed RTMP URL. Plain values; no references to the parsed text.
struct rtmp_url {
  std::string scheme;       ///< "rtmp" or "rtmps" (lower case, whatever case the URL used).
  bool tls = false;         ///< True for rtmps.
  std::string host;         ///< Host name or address; an IPv6 literal without its brackets.
  bool ipv6_literal = false;  ///< The host was written as `[...]`.
  std::uint16_t port = rtmp_default_port;  ///< The port to connect to (the default when none was given).
  bool port_given = false;  ///< The URL named a port explicitly.
  std::string app;          ///< Application ("live", or "app/instance").
  std::string stream;       ///< Stream name with its query exactly as given ("x?token=abc"); may be empty.
  std::string tc_url;       ///< `scheme://host[:port]/app` for the connect command (port only if given).

  /// The stream name without "?query" ("x" for "x?token=abc").
  std::string_view stream_name_without_query() const noexcept {
    const std::string_view s = stream;
    return s.substr(0, s.find('?'));
  }
  /// The query without its '?' ("token=abc"); empty when there is none.
  std::string_view query() const noexcept {
    const std::string_view s = stream;
    const auto q = s.find('?');
    return q == std::string_view::npos ? std::string_view{} : s.substr(q + 1);
  }
};

/// Options of `parse_rtmp_url`.
struct rtmp_url_options {
  /// Fail with url_malformed when the URL names no stream. Publishing needs
  /// one; a server URL (`rtmp://host/app`) may legitimately have none.
  bool require_stream = true;
};

/// Parses `text` into `out`.
///
/// Rules: the scheme is rtmp or rtmps (case-insensitive). The authority is
/// `host[:port]` or `[ipv6][:port]`; user info (`user:pass@`) is refused. The
/// path's first segment is the app; when the path has more than two segments
/// the second joins the app (`app/instance`) and the rest is the stream,
/// otherwise the second segment onwards is the stream. As in ffmpeg, a second
/// segment containing ':' (a playpath prefix such as `mp4:dir/file`) stays
/// with the stream. The query (from the first '?') is split off before the
/// path is divided and then appended to the stream unchanged; unlike ffmpeg, a
/// '/' inside the query never moves the app/stream boundary. `tc_url` is
/// `scheme://host[:port]/app` with the port only if the URL had one and
/// brackets around an IPv6 literal. Without a stream name, a query still
/// lands in `stream` (`rtmp://h/app?t=1` gives stream "?t=1", whose
/// `stream_name_without_query()` is empty).
///
/// Returns success, or errc::url_malformed with `*reason` (when `reason` is
/// not null) set to a static, human-readable explanation: whitespace or
/// control character, missing or unsupported scheme, user info, empty host,
/// invalid host character, unterminated or invalid IPv6 literal, invalid port
/// (empty, non-numeric, 0, > 65535), missing app, empty app instance
/// (`app//x`), missing stream (only with `options.require_stream`). On error `out` is left unchanged.
std::error_code parse_rtmp_url(std::string_view text, rtmp_url& out,
                               const rtmp_url_options& options = {},
                               std::string_view* reason = nullptr);

/// The hub key of a stream: `app + "/" + stream` with any "?query" removed
/// from `stream`, so publishers and players using different tokens meet on
/// the same key. Allocates the returned string.
std::string stream_key(std::string_view app, std::string_view stream);

}  // namespace rtmp::proto
