#pragma once
/// @file response.hpp
/// HTTP/1.1 response builder for the operator endpoint: a plain struct and a
/// `serialize()` that writes the status line, the framing headers
/// (Content-Length, Connection), `Cache-Control: no-store` and the body.
/// Sans-I/O: the caller writes the returned string to its socket.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rtmp/proto/shared_bytes.hpp"

namespace rtmp::http {

/// One response to serialize.
struct response {
  /// Status code, 100 to 599 (anything else is sent as 500).
  int status = 200;
  /// Content-Type value; no Content-Type field when empty.
  std::string content_type;
  /// The body (not sent for 1xx, 204 and 304, which have none: RFC 9110 section 6.4.1).
  std::string body;
  /// A body shared with other responses (an HLS segment), sent after `body`
  /// by the caller without a copy; `serialize()` counts it in
  /// Content-Length but does not write it.
  proto::shared_bytes shared_body;
  /// The Cache-Control value (RFC 9111 section 5.2).
  std::string cache_control = "no-store";
  /// Further header fields, in order. `serialize()` owns the framing and
  /// caching fields: entries named Content-Length, Content-Type, Connection,
  /// Transfer-Encoding or Cache-Control are left out, and so is any entry
  /// whose name is not a token or whose value holds CR, LF, NUL or another
  /// control character (no response splitting).
  std::vector<std::pair<std::string, std::string>> headers;
  /// Connection: keep-alive when true, Connection: close when false. Set it
  /// to false after a parse error or when the request said close.
  bool keep_alive = true;
};

/// The response as bytes: "HTTP/1.1 <status> <reason>\r\n", Content-Type
/// (when set), Content-Length (except for 1xx, 204, 304), Connection,
/// Cache-Control (`no-store` unless set), the extra headers, an empty line
/// and the body (not `shared_body`).
std::string serialize(const response& r);

/// The RFC 9110 reason phrase of `status` ("OK", "Not Found"); empty for a
/// code without one (the status line then ends in "<status> ", which RFC 9112
/// section 4 allows).
std::string_view reason_phrase(int status) noexcept;

/// Escapes `in` for use inside a JSON string literal (RFC 8259 section 7),
/// without the surrounding quotes: '"' and '\\' are backslash-escaped,
/// control characters (and DEL) become \b \f \n \r \t or \u00XX, and bytes that are not
/// valid UTF-8 (stray continuation bytes, overlong forms, surrogates, code
/// points above U+10FFFF, truncated sequences) become \ufffd. Valid UTF-8 is
/// copied as is, so the output is always valid JSON string content.
std::string json_escape(std::string_view in);

/// A JSON error response: `{"error": "<message escaped>"}` with status
/// `status`, content type application/json. keep_alive is true; set it to
/// false for parse errors (the parser's result says which status to use).
response make_error(int status, std::string_view message);

/// A text/plain; charset=utf-8 response with `body`.
response make_text(int status, std::string body);

/// An application/json response with `body` (already JSON; not checked).
response make_json(int status, std::string body);

}  // namespace rtmp::http
