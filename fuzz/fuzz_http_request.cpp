/// @file fuzz_http_request.cpp
/// libFuzzer target: the HTTP request parser (rtmp::http::request_parser) and
/// the response helpers. The body, rtmp::fuzz::run_http_request, lives here
/// rather than in targets.hpp; it uses only targets.hpp's helpers, so it can
/// move there (and into all_targets, for tests/fuzz_regressions_test.cpp)
/// unchanged.
///
/// Properties checked for any input, with the default limits and with tiny
/// ones (so the limit paths are reached):
/// * feeding in pieces (split plan from the input) and feeding at once give
///   the same sequence of pipelined requests and the same final error;
/// * `used` never exceeds what was offered, and a `complete` or `error`
///   state is sticky (uses no more bytes) until reset();
/// * every complete request respects the limits and the documented shape
///   (path starts with '/', holds no NUL, body is at most max_body);
/// * a complete request re-serialized canonically parses to the same request;
/// * json_escape output is valid JSON string content that unescapes back to
///   the input when the input is valid UTF-8, and a make_error response
///   serializes to exactly one header section with the right Content-Length.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "rtmp/http/request_parser.hpp"
#include "rtmp/http/response.hpp"
#include "targets.hpp"

namespace rtmp::fuzz {

namespace http_fuzz {

namespace http = rtmp::http;

/// One pipelined parse: the requests and how it ended.
struct http_run {
  std::vector<http::request> requests;
  http::parse_status last = http::parse_status::need_more;
  int status = 0;
  std::error_code error;
  std::size_t used = 0;  // total bytes used
};

inline bool same_request(const http::request& a, const http::request& b) {
  return a.method == b.method && a.target == b.target && a.path == b.path && a.query == b.query &&
         a.headers == b.headers && a.body == b.body && a.keep_alive == b.keep_alive &&
         a.version_minor == b.version_minor;
}

inline void check_request(const http::request& r, const http::request_limits& l) {
  RTMP_FUZZ_CHECK(!r.method.empty());
  RTMP_FUZZ_CHECK(!r.path.empty() && r.path.front() == '/');
  RTMP_FUZZ_CHECK(r.path.find('\0') == std::string::npos);
  RTMP_FUZZ_CHECK(r.target.size() <= l.max_request_line);
  RTMP_FUZZ_CHECK(r.headers.size() <= l.max_headers);
  RTMP_FUZZ_CHECK(r.body.size() <= l.max_body);
  RTMP_FUZZ_CHECK(r.version_minor == 0 || r.version_minor == 1);
  if (r.version_minor == 1) RTMP_FUZZ_CHECK(r.header("host").has_value());
}

/// Feeds `in` through one parser in pieces from `plan`, resetting after each
/// complete request, until an error or the end of the input.
inline http_run parse_pipelined(bytes_view in, const http::request_limits& limits, split_plan plan) {
  http_run run;
  http::request_parser parser(limits);
  std::size_t pos = 0;
  std::size_t piece_end = 0;
  while (pos < in.size()) {
    if (pos >= piece_end) piece_end = pos + plan.next(in.size() - pos);
    const bytes_view piece = in.subspan(pos, piece_end - pos);
    const http::parse_result r = parser.consume(piece);
    RTMP_FUZZ_CHECK(r.used <= piece.size());
    pos += r.used;
    run.used += r.used;
    run.last = r.state;
    if (r.state == http::parse_status::error) {
      RTMP_FUZZ_CHECK(r.status >= 400 && r.status <= 505);
      RTMP_FUZZ_CHECK(static_cast<bool>(r.error) && !r.detail.empty());
      const http::parse_result again = parser.consume(in.subspan(pos));
      RTMP_FUZZ_CHECK(again.state == http::parse_status::error && again.used == 0 && again.status == r.status);
      run.status = r.status;
      run.error = r.error;
      return run;
    }
    if (r.state == http::parse_status::complete) {
      const http::parse_result again = parser.consume(in.subspan(pos));
      RTMP_FUZZ_CHECK(again.state == http::parse_status::complete && again.used == 0);
      run.requests.push_back(parser.take_request());
      parser.reset();
      continue;
    }
    RTMP_FUZZ_CHECK(r.used == piece.size());  // need_more uses everything offered
  }
  return run;
}

/// The request written back canonically (CRLF, single spaces, "name: value").
inline std::string reserialize(const http::request& r) {
  std::string out = r.method + " " + r.target + (r.version_minor == 1 ? " HTTP/1.1\r\n" : " HTTP/1.0\r\n");
  for (const auto& [n, v] : r.headers) out += n + ": " + v + "\r\n";
  out += "\r\n";
  out += r.body;
  return out;
}

/// Decodes JSON string content (no quotes); nothing when it is not valid.
inline bool json_unescape(std::string_view in, std::string& out) {
  for (std::size_t i = 0; i < in.size(); ++i) {
    const auto c = static_cast<unsigned char>(in[i]);
    if (c < 0x20 || c == '"') return false;
    if (c != '\\') {
      out.push_back(static_cast<char>(c));
      continue;
    }
    if (++i >= in.size()) return false;
    switch (in[i]) {
      case '"': out.push_back('"'); break;
      case '\\': out.push_back('\\'); break;
      case '/': out.push_back('/'); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case 'u': {
        if (in.size() - i < 5) return false;
        unsigned v = 0;
        for (std::size_t k = 1; k <= 4; ++k) {
          const char h = in[i + k];
          v <<= 4;
          if (h >= '0' && h <= '9') v |= static_cast<unsigned>(h - '0');
          else if (h >= 'a' && h <= 'f') v |= static_cast<unsigned>(h - 'a' + 10);
          else if (h >= 'A' && h <= 'F') v |= static_cast<unsigned>(h - 'A' + 10);
          else return false;
        }
        i += 4;
        if (v < 0x80) {
          out.push_back(static_cast<char>(v));
        } else if (v == 0xFFFD) {
          out += "\xef\xbf\xbd";
        } else {
          return false;  // json_escape emits no other \u escapes
        }
        break;
      }
      default: return false;
    }
  }
  return true;
}

inline void check_json_escape(std::string_view text) {
  const std::string escaped = http::json_escape(text);
  std::string back;
  RTMP_FUZZ_CHECK(json_unescape(escaped, back));
  if (escaped.find("\\ufffd") == std::string::npos) {
    RTMP_FUZZ_CHECK(back == text);  // valid UTF-8 round-trips exactly
  }
  // The escaped text is valid UTF-8 without control characters: escaping it
  // again only puts a backslash before each backslash and quote.
  std::string doubled;
  for (const char c : escaped) {
    if (c == '\\' || c == '"') doubled += '\\';
    doubled += c;
  }
  RTMP_FUZZ_CHECK(http::json_escape(escaped) == doubled);

  http::response r = http::make_error(400 + static_cast<int>(text.size() % 200), text);
  const std::size_t split = std::min<std::size_t>(text.size(), 16);
  r.headers.emplace_back(std::string(text.substr(0, split)), std::string(text.substr(split, 16)));
  const std::string wire = http::serialize(r);
  const std::size_t head_end = wire.find("\r\n\r\n");
  RTMP_FUZZ_CHECK(head_end != std::string::npos);
  const std::string_view head(wire.data(), head_end);
  // No bare CR or LF inside the header section: every LF is part of a CRLF.
  for (std::size_t i = 0; i < head.size(); ++i) {
    if (head[i] == '\n') RTMP_FUZZ_CHECK(i > 0 && head[i - 1] == '\r');
    if (head[i] == '\r') RTMP_FUZZ_CHECK(i + 1 < head.size() && head[i + 1] == '\n');
  }
  const std::string cl = "\r\nContent-Length: " + std::to_string(r.body.size()) + "\r\n";
  RTMP_FUZZ_CHECK(wire.find(cl) != std::string::npos);
  RTMP_FUZZ_CHECK(wire.size() - head_end - 4 == r.body.size());
}

inline void run_with_limits(bytes_view in, const http::request_limits& limits) {
  const http_run whole = parse_pipelined(in, limits, split_plan(0, 1));  // mode 0: at once
  const std::uint32_t seed = seed_of(in);
  const http_run split = parse_pipelined(in, limits, split_plan(seed == 0 ? 1 : seed, 1 + seed % 97));
  RTMP_FUZZ_CHECK(whole.last == split.last);
  RTMP_FUZZ_CHECK(whole.status == split.status);
  RTMP_FUZZ_CHECK(whole.error == split.error);
  RTMP_FUZZ_CHECK(whole.used == split.used);
  RTMP_FUZZ_CHECK(whole.requests.size() == split.requests.size());
  for (std::size_t k = 0; k < whole.requests.size(); ++k) {
    RTMP_FUZZ_CHECK(same_request(whole.requests[k], split.requests[k]));
  }
  for (const http::request& r : whole.requests) {
    check_request(r, limits);
    // Canonical re-serialization parses to the same request (with roomy
    // limits: ": " may add a byte per field line).
    const std::string again = reserialize(r);
    http::request_parser p(http::request_limits{1 << 20, 1 << 20, 1 << 16, 1 << 20});
    const http::parse_result pr = p.consume(again);
    RTMP_FUZZ_CHECK(pr.state == http::parse_status::complete);
    RTMP_FUZZ_CHECK(pr.used == again.size());
    RTMP_FUZZ_CHECK(same_request(p.request(), r));
  }
}

}  // namespace http_fuzz

/// Target fuzz_http_request. The input is a byte stream from a client:
/// parsed as pipelined requests with the default limits and with tiny ones,
/// whole and in pieces; its first 64 bytes also go through json_escape and
/// make_error.
inline void run_http_request(bytes_view in) {
  http_fuzz::run_with_limits(in, rtmp::http::request_limits{});
  http_fuzz::run_with_limits(in, rtmp::http::request_limits{40, 64, 3, 8});
  http_fuzz::check_json_escape(
      std::string_view(reinterpret_cast<const char*>(in.data()), std::min<std::size_t>(in.size(), 64)));
}

}  // namespace rtmp::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  rtmp::fuzz::run_http_request(rtmp::fuzz::bytes_view(data, size));
  return 0;
}
