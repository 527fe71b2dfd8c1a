#include "rtmp/http/request_parser.hpp"

#include <algorithm>
#include <cstring>

#include "rtmp/error.hpp"

namespace rtmp::http {
namespace {

constexpr unsigned char to_lower(unsigned char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<unsigned char>(c - 'A' + 'a') : c;
}

constexpr int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 9110 section 5.5: field-vchar = VCHAR / obs-text, plus SP and HTAB inside.
constexpr bool is_field_char(unsigned char c) noexcept {
  return c == '\t' || (c >= 0x20 && c != 0x7F);
}

// Characters allowed in an origin-form request target: the visible ASCII
// characters except '#' (a fragment is never sent, RFC 9112 section 3.2).
// Anything else (CTLs, SP, obs-text) must be percent-encoded by the client.
constexpr bool is_target_char(unsigned char c) noexcept { return c > 0x20 && c < 0x7F && c != '#'; }

constexpr bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

// Calls f(element) for each element of a comma-separated list value (RFC 9110
// section 5.6.1), elements trimmed; empty elements are passed too.
template <class F>
void for_each_list_element(std::string_view value, F&& f) {
  while (true) {
    const std::size_t comma = value.find(',');
    f(trim_ows(value.substr(0, comma)));
    if (comma == std::string_view::npos) return;
    value.remove_prefix(comma + 1);
  }
}

constexpr std::uint64_t content_length_saturated = ~std::uint64_t{0};

// Parses 1*DIGIT (RFC 9112 section 6.3); saturates instead of overflowing, so
// any number too large for the body limit still compares as too large.
std::optional<std::uint64_t> parse_decimal(std::string_view s) noexcept {
  if (s.empty()) return std::nullopt;
  std::uint64_t v = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto d = static_cast<std::uint64_t>(c - '0');
    v = (v > (content_length_saturated - d) / 10) ? content_length_saturated : v * 10 + d;
  }
  return v;
}

parse_result make_result(parse_status state, std::size_t used) {
  parse_result r;
  r.state = state;
  r.used = used;
  return r;
}

}  // namespace

bool is_tchar(unsigned char c) noexcept {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (to_lower(static_cast<unsigned char>(a[i])) != to_lower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

std::optional<std::string> percent_decode(std::string_view in, bool reject_encoded_slash) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (in.size() - i < 3) return std::nullopt;  // '%' needs two hex digits after it
    const int hi = hex_value(in[i + 1]);
    const int lo = hex_value(in[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    const int byte = hi * 16 + lo;
    if (byte == 0) return std::nullopt;
    if (reject_encoded_slash && byte == '/') return std::nullopt;
    out.push_back(static_cast<char>(byte));
    i += 2;
  }
  return out;
}

std::optional<std::string_view> request::header(std::string_view name) const noexcept {
  for (const auto& [n, v] : headers) {
    if (iequals(n, name)) return std::string_view(v);
  }
  return std::nullopt;
}

request_parser::request_parser(request_limits limits) : limits_(limits) {}

void request_parser::reset() {
  phase_ = phase::request_line;
  line_.clear();
  skipped_empty_ = 0;
  header_bytes_ = 0;
  body_remaining_ = 0;
  failure_ = parse_result{};
  request_ = http::request{};
}

parse_result request_parser::fail(std::size_t used, int status, std::error_code ec, std::string_view detail) {
  phase_ = phase::failed;
  line_.clear();
  line_.shrink_to_fit();
  failure_.state = parse_status::error;
  failure_.used = 0;
  failure_.status = status;
  failure_.error = ec;
  failure_.detail = detail;
  parse_result r = failure_;
  r.used = used;
  return r;
}

parse_result request_parser::consume(std::span<const std::uint8_t> in) {
  if (phase_ == phase::done) return make_result(parse_status::complete, 0);
  if (phase_ == phase::failed) return failure_;

  std::size_t pos = 0;
  while (pos < in.size()) {
    if (phase_ == phase::body) {
      const std::size_t n = std::min(body_remaining_, in.size() - pos);
      request_.body.append(reinterpret_cast<const char*>(in.data() + pos), n);
      pos += n;
      body_remaining_ -= n;
      if (body_remaining_ == 0) {
        phase_ = phase::done;
        return make_result(parse_status::complete, pos);
      }
      continue;
    }

    // A line: the request line or a header field line. `max_content` is the
    // most bytes its content (without CRLF) may have.
    const bool in_headers = phase_ == phase::headers;
    std::size_t max_content = limits_.max_request_line;
    if (in_headers) {
      const std::size_t budget = limits_.max_header_bytes - header_bytes_;
      max_content = budget >= 2 ? budget - 2 : 0;  // 0: only the empty end line fits
    }
    max_content = std::min(max_content, ~std::size_t{0} / 2);  // keep max_content + 1 from wrapping
    const void* lf = std::memchr(in.data() + pos, '\n', in.size() - pos);
    const std::size_t end = lf ? static_cast<std::size_t>(static_cast<const std::uint8_t*>(lf) - in.data()) : in.size();
    // Buffer at most max_content + 1 bytes (the content and its CR), and stop
    // at the very byte that makes the line too long, however the input was
    // split: the content is over when max_content + 1 bytes do not end in CR,
    // or when a byte other than LF follows them.
    const std::size_t cap = max_content + 1;
    const std::size_t n = std::min(end - pos, cap - line_.size());
    line_.append(reinterpret_cast<const char*>(in.data() + pos), n);
    pos += n;
    const bool full = line_.size() == cap;
    const bool over = full && (line_.back() != '\r' || pos < end);
    if (over) {
      if (line_.back() == '\r') ++pos;  // the byte after the CR is the one over
      if (in_headers) {
        return fail(pos, 431, errc::http_headers_too_large, "request header section too large");
      }
      return fail(pos, 414, errc::http_uri_too_long, "request line too long");
    }
    if (pos == in.size() || in[pos] != '\n') continue;  // need more bytes for this line
    ++pos;                                              // the LF

    // RFC 9112 section 2.2: lines end with CRLF; we refuse a bare LF or CR.
    if (line_.empty() || line_.back() != '\r') {
      return fail(pos, 400, errc::http_malformed, "line not terminated by CRLF");
    }
    line_.pop_back();
    if (line_.find('\r') != std::string::npos) return fail(pos, 400, errc::http_malformed, "bare CR in a line");

    parse_result r;
    if (!in_headers) {
      if (line_.empty()) {
        // Section 2.2: a server SHOULD ignore empty lines before the request line.
        skipped_empty_ += 2;
        if (skipped_empty_ > limits_.max_request_line) {
          return fail(pos, 400, errc::http_malformed, "too many empty lines before the request line");
        }
        continue;
      }
      r = parse_request_line(line_, pos);
    } else if (line_.empty()) {
      r = finish_headers(pos);
    } else {
      header_bytes_ += line_.size() + 2;
      r = parse_header_line(line_, pos);
    }
    line_.clear();
    if (r.state != parse_status::need_more) return r;
  }
  return make_result(parse_status::need_more, pos);
}

parse_result request_parser::parse_request_line(std::string_view line, std::size_t used) {
  // RFC 9112 section 3: request-line = method SP request-target SP HTTP-version.
  const std::size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return fail(used, 400, errc::http_malformed, "malformed request line");
  const std::size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return fail(used, 400, errc::http_malformed, "malformed request line");
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);

  if (method.empty() || !std::all_of(method.begin(), method.end(), [](char c) { return is_tchar(static_cast<unsigned char>(c)); })) {
    return fail(used, 400, errc::http_malformed, "malformed method");
  }
  // Section 2.3: HTTP-version = "HTTP" "/" DIGIT "." DIGIT, case-sensitive.
  const bool version_ok = version.size() == 8 && version.substr(0, 5) == "HTTP/" && version[5] >= '0' &&
                          version[5] <= '9' && version[6] == '.' && version[7] >= '0' && version[7] <= '9';
  if (!version_ok) return fail(used, 400, errc::http_malformed, "malformed HTTP version");
  if (version[5] != '1' || (version[7] != '0' && version[7] != '1')) {
    return fail(used, 505, errc::http_version_unsupported, "only HTTP/1.0 and HTTP/1.1 are supported");
  }
  if (target.empty() || !std::all_of(target.begin(), target.end(), [](char c) { return is_target_char(static_cast<unsigned char>(c)); })) {
    return fail(used, 400, errc::http_malformed, "malformed request target");
  }
  if (target.front() != '/') {
    return fail(used, 400, errc::http_malformed, "request target is not an absolute path (origin-form)");
  }
  const std::size_t q = target.find('?');
  auto path = percent_decode(target.substr(0, q), /*reject_encoded_slash=*/true);
  if (!path) return fail(used, 400, errc::http_malformed, "malformed percent-encoding in the path");

  request_.method.assign(method);
  request_.target.assign(target);
  request_.path = std::move(*path);
  request_.query.assign(q == std::string_view::npos ? std::string_view{} : target.substr(q + 1));
  request_.version_minor = version[7] - '0';
  phase_ = phase::headers;
  return make_result(parse_status::need_more, used);
}

parse_result request_parser::parse_header_line(std::string_view line, std::size_t used) {
  if (header_bytes_ > limits_.max_header_bytes) {
    return fail(used, 431, errc::http_headers_too_large, "request header section too large");
  }
  if (request_.headers.size() >= limits_.max_headers) {
    return fail(used, 431, errc::http_headers_too_large, "too many request header fields");
  }
  // Section 5.2: obs-fold (a line starting with SP/HTAB) in a request: 400.
  // Section 2.2: whitespace before the first field line: reject too.
  if (is_ows(line.front())) return fail(used, 400, errc::http_malformed, "obsolete line folding or misplaced whitespace");
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return fail(used, 400, errc::http_malformed, "header line without a colon");
  const std::string_view name = line.substr(0, colon);
  // Section 5.1: no whitespace between field name and colon (the tchar check
  // covers it); an empty name is not a token either.
  if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) { return is_tchar(static_cast<unsigned char>(c)); })) {
    return fail(used, 400, errc::http_malformed, "malformed header field name");
  }
  const std::string_view value = trim_ows(line.substr(colon + 1));
  if (!std::all_of(value.begin(), value.end(), [](char c) { return is_field_char(static_cast<unsigned char>(c)); })) {
    return fail(used, 400, errc::http_malformed, "invalid character in a header field value");
  }
  request_.headers.emplace_back(std::string(name), std::string(value));
  return make_result(parse_status::need_more, used);
}

parse_result request_parser::finish_headers(std::size_t used) {
  const bool http11 = request_.version_minor == 1;
  std::size_t hosts = 0;
  bool has_transfer_encoding = false;
  bool has_content_length = false;
  bool content_length_bad = false;
  std::uint64_t content_length = 0;
  bool close = false;
  bool keep_alive_token = false;

  for (const auto& [name, value] : request_.headers) {
    if (iequals(name, "host")) {
      ++hosts;
    } else if (iequals(name, "transfer-encoding")) {
      has_transfer_encoding = true;
    } else if (iequals(name, "content-length")) {
      // RFC 9110 section 8.6: a list of identical values may be accepted as
      // one; differing values (across lines or in one) are a framing error.
      for_each_list_element(value, [&](std::string_view element) {
        const auto v = parse_decimal(element);
        if (!v || (has_content_length && *v != content_length)) {
          content_length_bad = true;
          return;
        }
        content_length = *v;
        has_content_length = true;
      });
    } else if (iequals(name, "connection")) {
      for_each_list_element(value, [&](std::string_view token) {
        if (iequals(token, "close")) close = true;
        if (iequals(token, "keep-alive")) keep_alive_token = true;
      });
    }
  }

  // RFC 9112 section 3.2: 400 for an HTTP/1.1 request without Host and for
  // any request with more than one Host field line.
  if (hosts > 1) return fail(used, 400, errc::http_malformed, "more than one Host header field");
  if (http11 && hosts == 0) return fail(used, 400, errc::http_malformed, "missing Host header field");
  if (has_transfer_encoding) {
    // Section 6.1: Transfer-Encoding in HTTP/1.0 means faulty framing; section
    // 6.3: with Content-Length too it may be a smuggling attempt.
    if (!http11) return fail(used, 400, errc::http_malformed, "Transfer-Encoding in an HTTP/1.0 request");
    if (has_content_length || content_length_bad) {
      return fail(used, 400, errc::http_malformed, "both Transfer-Encoding and Content-Length");
    }
    return fail(used, 501, errc::http_transfer_coding_unsupported,
                "Transfer-Encoding request bodies (chunked) are not supported; send Content-Length");
  }
  if (content_length_bad) return fail(used, 400, errc::http_malformed, "invalid or conflicting Content-Length");
  // Decided from the declared size alone: nothing is allocated for it.
  if (content_length > limits_.max_body) return fail(used, 413, errc::http_body_too_large, "request body too large");

  // Section 9.3: persistence.
  request_.keep_alive = !close && (http11 || keep_alive_token);
  body_remaining_ = static_cast<std::size_t>(content_length);
  if (body_remaining_ == 0) {
    phase_ = phase::done;
    return make_result(parse_status::complete, used);
  }
  phase_ = phase::body;
  return make_result(parse_status::need_more, used);
}

}  // namespace rtmp::http
