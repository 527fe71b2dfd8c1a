#pragma once
/// @file bench_http_flv.hpp
/// The sans-I/O side of the HTTP-FLV players of `rtmp-client bench`: the
/// reader of an HTTP/1.x response whose body is an FLV stream (status line
/// and headers, then a chunked, Content-Length or until-close body fed to
/// proto::flv_reader), its chunked-body decoder, and the errors both report.
/// Bytes in, tags out; no socket is touched here.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <system_error>
#include <type_traits>

#include "rtmp/proto/flv_reader.hpp"

namespace rtmp::bench {

/// What can be wrong with an HTTP-FLV response (besides its FLV, whose
/// errors are proto::flv_reader's).
enum class http_flv_errc {
  malformed_head = 1,           ///< A status line or header field that is not HTTP/1.x.
  head_too_large,               ///< No blank line within the head size limit.
  malformed_chunk,              ///< Chunked framing broken (RFC 9112 section 7.1).
  unsupported_transfer_coding,  ///< A Transfer-Encoding other than chunked (e.g. gzip).
  body_ended,                   ///< The body ended: the server ended the stream.
};

/// The category of http_flv_errc values and of HTTP statuses (http_status_error).
const std::error_category& http_flv_category() noexcept;

/// `e` as an error_code of http_flv_category().
inline std::error_code make_error_code(http_flv_errc e) noexcept {
  return {static_cast<int>(e), http_flv_category()};
}

/// A response whose status is not 200: its message is "HTTP status N".
std::error_code http_status_error(int status) noexcept;

/// Decodes a chunked message body (RFC 9112 section 7.1): chunk sizes in
/// hex with optional extensions (skipped), the data, the last chunk and the
/// trailer section (skipped). Bare LF line ends are accepted as CRLF.
/// Input may be split anywhere; the data comes out as spans of the input,
/// without a copy. Errors are sticky.
class chunked_decoder {
 public:
  /// Consumes a prefix of `in` (at least one byte when `in` is not empty)
  /// and returns its length; `data` is set to the chunk data it held (a
  /// subspan of `in`, empty when there was none). Call again with the rest
  /// of `in`. Once the body is done, every byte is consumed and ignored. On
  /// malformed framing `ec` is set (http_flv_errc::malformed_chunk) and the
  /// whole input is consumed.
  std::size_t step(std::span<const std::uint8_t> in, std::span<const std::uint8_t>& data, std::error_code& ec);

  /// True once the last chunk and the trailer section were read.
  bool done() const noexcept { return phase_ == phase::done; }
  /// Chunk data bytes decoded so far.
  std::uint64_t data_bytes() const noexcept { return data_bytes_; }

 private:
  enum class phase { size, extension, size_lf, data, data_cr, data_lf, trailer_start, trailer, final_lf, done };

  /// Takes one framing byte (every phase but data and done); false when it breaks the framing.
  bool framing_byte(std::uint8_t c) noexcept;

  phase phase_ = phase::size;
  std::uint64_t size_ = 0;       // the chunk size being read
  std::size_t digits_ = 0;       // its hex digits so far
  std::uint64_t remaining_ = 0;  // data bytes left in the current chunk
  std::size_t line_bytes_ = 0;   // bytes of the extension or trailer line so far
  std::uint64_t data_bytes_ = 0;
  std::error_code error_;
};

/// Reads the response to an HTTP-FLV GET: the head (status line and header
/// fields, up to `max_head_bytes`), then the body, framed as its headers
/// say (Transfer-Encoding: chunked, else Content-Length, else until the
/// server closes: RFC 9112 section 6.3), into an FLV reader. A status
/// other than 200 is an error (http_status_error), as soon as the head is
/// complete. Errors are sticky.
class http_flv_reader {
 public:
  /// How the body is delimited.
  enum class framing { chunked, content_length, until_close };

  /// A reader waiting for the status line.
  explicit http_flv_reader(std::size_t max_head_bytes = 16 * 1024) : max_head_(max_head_bytes) {}

  /// Consumes all of `bytes`. Returns the first error (sticky): a
  /// http_flv_errc, a status other than 200, or the FLV reader's.
  std::error_code feed(std::span<const std::uint8_t> bytes);

  /// Pops the oldest complete FLV tag into `out`; false when none is ready.
  bool next(proto::flv_tag& out) { return flv_.next(out); }

  /// True once the head was read.
  bool head_complete() const noexcept { return head_done_; }
  /// The response's status (valid once `head_complete()`).
  int status() const noexcept { return status_; }
  /// How the body is delimited (valid once `head_complete()`).
  framing body_framing() const noexcept { return framing_; }
  /// True once a chunked or Content-Length body was read to its end (an
  /// until-close body ends with the connection: see `ended_cleanly()`).
  bool body_complete() const noexcept;
  /// True when the input may end here without losing anything: the body is
  /// complete, or it runs until the close and the FLV stream is at a tag
  /// boundary.
  bool ended_cleanly() const noexcept;
  /// Body bytes (after de-chunking) fed to the FLV reader.
  std::uint64_t body_bytes() const noexcept { return body_bytes_; }
  /// The FLV reader of the body.
  const proto::flv_reader& flv() const noexcept { return flv_; }

 private:
  /// Takes head bytes from the front of `bytes`; returns how many it used.
  std::size_t take_head(std::span<const std::uint8_t> bytes);
  /// Parses the complete head in head_.
  std::error_code parse_head();
  /// Feeds body bytes, de-chunked as needed, to the FLV reader.
  std::error_code feed_body(std::span<const std::uint8_t> bytes);
  /// Feeds de-chunked body bytes to the FLV reader.
  std::error_code feed_flv(std::span<const std::uint8_t> bytes);

  std::size_t max_head_;
  std::string head_;  // the head so far; released once parsed
  bool head_done_ = false;
  int status_ = 0;
  framing framing_ = framing::until_close;
  std::uint64_t content_length_ = 0;
  std::uint64_t body_bytes_ = 0;
  chunked_decoder chunks_;
  proto::flv_reader flv_;
  std::error_code error_;
};

}  // namespace rtmp::bench

/// http_flv_errc values convert to std::error_code.
template <>
struct std::is_error_code_enum<rtmp::bench::http_flv_errc> : std::true_type {};
