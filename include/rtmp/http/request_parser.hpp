#pragma once
/// @file request_parser.hpp
/// Sans-I/O HTTP/1.1 request parser (RFC 9112) for the server's operator
/// endpoint (/metrics, /api/streams, /healthz, kick). Bytes in, requests out,
/// no sockets. It is deliberately strict and small: the clients are curl,
/// Prometheus and scripts, never a browser or a proxy.
///
/// Choices (each one a documented deviation from "be liberal"):
/// * Line endings must be CRLF. A bare LF (RFC 9112 section 2.2 lets a
///   recipient accept it) and a bare CR are answered 400.
/// * Empty lines (CRLF) before the request line are skipped (section 2.2),
///   at most `max_request_line` bytes of them.
/// * The request line is exactly METHOD SP TARGET SP VERSION with single
///   spaces (section 3). Only origin-form targets ("/path?query") are
///   accepted; absolute-form, authority-form and asterisk-form get 400.
/// * Header lines that start with whitespace (obs-fold, section 5.2, or
///   whitespace before the first field, section 2.2) get 400; so does
///   whitespace between a field name and its colon (section 5.1).
/// * HTTP/1.1 requests need exactly one Host field; more than one Host
///   field is 400 in any version (section 3.2).
/// * Request bodies are framed by Content-Length only. Any Transfer-Encoding
///   (chunked included) is 501 in HTTP/1.1; in HTTP/1.0, or together with
///   Content-Length, it is 400 (section 6.1, 6.3: smuggling).
///
/// Errors: a failed `consume()` reports both an `rtmp::errc` value of the
/// `http_*` group (for logs and the `condition` classes) and the HTTP status
/// code to answer with, plus a short human-readable detail. After an error
/// the framing of the stream is unknown: answer once (e.g. with
/// `rtmp::http::make_error(result.status, result.detail)`) and close.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace rtmp::http {

/// One parsed HTTP request.
struct request {
  /// The method token, case-sensitive as sent ("GET", "POST").
  std::string method;
  /// The request target exactly as sent (origin-form: path and query, still percent-encoded).
  std::string target;
  /// The target's path, percent-decoded; always starts with '/'. Never holds
  /// a NUL byte or an encoded '/' (both are rejected with 400, see `percent_decode`).
  std::string path;
  /// The target's query (after the first '?', without it), not decoded; empty when absent.
  std::string query;
  /// Header fields in arrival order: names as sent, values without surrounding whitespace.
  std::vector<std::pair<std::string, std::string>> headers;
  /// The body (exactly Content-Length bytes; empty without Content-Length).
  std::string body;
  /// Whether the connection may stay open after the response: HTTP/1.1
  /// defaults to true, HTTP/1.0 to false; `Connection: close` makes it false,
  /// `Connection: keep-alive` makes an HTTP/1.0 request true (RFC 9112 section 9.3).
  bool keep_alive = false;
  /// The minor version: 0 for HTTP/1.0, 1 for HTTP/1.1.
  int version_minor = 1;

  /// The value of the first header field named `name` (ASCII case-insensitive), if any.
  std::optional<std::string_view> header(std::string_view name) const noexcept;
};

/// Limits of one request parser. Every field is a named, configurable bound;
/// a request at exactly a limit is accepted, one byte (or field) over is not.
struct request_limits {
  /// Bytes of the request line, without its CRLF (over: 414 URI Too Long).
  std::size_t max_request_line = 8192;
  /// Bytes of the header field lines, each with its CRLF, without the empty
  /// line that ends the section (over: 431 Request Header Fields Too Large).
  std::size_t max_header_bytes = 16384;
  /// Number of header field lines (over: 431).
  std::size_t max_headers = 64;
  /// Bytes of a request body, i.e. the largest Content-Length (over: 413 Content Too Large).
  std::size_t max_body = 65536;
};

/// Where a `consume()` call left the parser.
enum class parse_status {
  need_more,  ///< Every byte was used; the request is not complete yet.
  complete,   ///< A request is complete: `request()` / `take_request()`, then `reset()`.
  error,      ///< The input is not an acceptable request: answer `status` and close.
};

/// The outcome of one `consume()` call.
struct parse_result {
  /// What happened.
  parse_status state = parse_status::need_more;
  /// Bytes of the input used. On `complete`, the bytes after this count belong
  /// to the next request (pipelining): feed them again after `reset()`.
  std::size_t used = 0;
  /// On error: the HTTP status to answer (400, 413, 414, 431, 501, 505); 0 otherwise.
  int status = 0;
  /// On error: an `rtmp::errc` value of the http_* group; empty otherwise.
  std::error_code error;
  /// On error: a short English description of what was wrong (static storage,
  /// safe to keep and to put into a response body); empty otherwise.
  std::string_view detail;
};

/// Incremental HTTP/1.x request parser.
///
/// Feed it the bytes read from the connection, split anywhere; the result
/// does not depend on the splitting. `consume()` buffers at most one line
/// (bounded by the limits) and the body (bounded by `max_body`); it never
/// allocates from a declared size before the bytes arrive.
///
/// The state after `complete` and `error` is sticky: further `consume()`
/// calls use no bytes and return the same state until `reset()`.
///
/// Not thread-safe; one parser belongs to one connection.
class request_parser {
 public:
  /// A parser with the given limits, ready for a request.
  explicit request_parser(request_limits limits = {});

  /// Parses as much of `bytes` as belongs to the current request. The caller's
  /// buffer is not referenced after the call.
  parse_result consume(std::span<const std::uint8_t> bytes);

  /// Convenience overload for text (tests, tools).
  parse_result consume(std::string_view text) {
    return consume(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
  }

  /// The completed request (meaningful after `consume()` returned `complete`).
  const http::request& request() const noexcept { return request_; }

  /// Moves the completed request out (meaningful after `complete`).
  http::request take_request() noexcept { return std::move(request_); }

  /// Forgets the current request (complete, partial or failed) and starts
  /// over, keeping the limits; used between keep-alive requests.
  void reset();

  /// The limits this parser enforces.
  const request_limits& limits() const noexcept { return limits_; }

 private:
  enum class phase { request_line, headers, body, done, failed };

  parse_result fail(std::size_t used, int status, std::error_code ec, std::string_view detail);
  parse_result parse_request_line(std::string_view line, std::size_t used);
  parse_result parse_header_line(std::string_view line, std::size_t used);
  parse_result finish_headers(std::size_t used);

  request_limits limits_;
  phase phase_ = phase::request_line;
  std::string line_;               // the line being received (CR included, LF not)
  std::size_t skipped_empty_ = 0;  // bytes of empty lines before the request line
  std::size_t header_bytes_ = 0;   // bytes of complete header lines (with CRLF)
  std::size_t body_remaining_ = 0;
  parse_result failure_;           // the sticky error
  http::request request_;
};

/// Percent-decodes a URI path or query component (RFC 3986 section 2.1).
/// Returns nothing for a malformed escape ('%' not followed by two hex
/// digits) or an escape of NUL (%00). With `reject_encoded_slash`, %2F is
/// also refused: routes split the decoded path on '/', and an encoded slash
/// would make "/a%2Fb" and "/a/b" the same route. '+' is left as it is.
std::optional<std::string> percent_decode(std::string_view in, bool reject_encoded_slash = false);

/// Whether `c` is an RFC 9110 tchar (section 5.6.2), the alphabet of
/// methods and header field names.
bool is_tchar(unsigned char c) noexcept;

/// ASCII case-insensitive comparison (header field names, tokens).
bool iequals(std::string_view a, std::string_view b) noexcept;

}  // namespace rtmp::http
