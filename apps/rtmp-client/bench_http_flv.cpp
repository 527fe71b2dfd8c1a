// The HTTP-FLV response reader of `rtmp-client bench` (see bench_http_flv.hpp):
// the head, the chunked decoder, and the body handed to the FLV reader.
#include "bench_http_flv.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <string_view>
#include <vector>

namespace rtmp::bench {

namespace {

// Status errors are their status plus this, apart from the http_flv_errc values.
constexpr int status_base = 1000;
// Hex digits of a chunk size: 15 fit in 60 bits, far beyond any real chunk.
constexpr std::size_t max_size_digits = 15;
// Bytes of a chunk extension or of a trailer field line.
constexpr std::size_t max_line_bytes = 4096;

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "bench-http-flv"; }
  std::string message(int v) const override {
    if (v >= status_base) return "HTTP status " + std::to_string(v - status_base);
    switch (static_cast<http_flv_errc>(v)) {
      case http_flv_errc::malformed_head: return "HTTP-FLV: malformed response head";
      case http_flv_errc::head_too_large: return "HTTP-FLV: response head too large";
      case http_flv_errc::malformed_chunk: return "HTTP-FLV: malformed chunked body";
      case http_flv_errc::unsupported_transfer_coding: return "HTTP-FLV: unsupported Transfer-Encoding";
      case http_flv_errc::body_ended: return "HTTP-FLV: the body ended (the stream ended)";
    }
    return "HTTP-FLV: unknown error";
  }
};

// The value of a hex digit; -1 for any other byte.
int hex_value(std::uint8_t c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// `s` without spaces and tabs at either end.
std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// `s` in lower case (ASCII).
std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A token character of a field name (RFC 9110 section 5.6.2).
bool is_tchar(char c) noexcept {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// The lines of a head (CRLF or LF ends), without the blank line that ends it.
std::vector<std::string_view> head_lines(std::string_view head) {
  std::vector<std::string_view> lines;
  while (!head.empty()) {
    const auto lf = head.find('\n');
    std::string_view line = head.substr(0, lf);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;
    lines.push_back(line);
    if (lf == std::string_view::npos) break;
    head.remove_prefix(lf + 1);
  }
  return lines;
}

}  // namespace

const std::error_category& http_flv_category() noexcept {
  static const category instance;
  return instance;
}

std::error_code http_status_error(int status) noexcept { return {status_base + status, http_flv_category()}; }

// --- chunked_decoder -------------------------------------------------------------------------

std::size_t chunked_decoder::step(std::span<const std::uint8_t> in, std::span<const std::uint8_t>& data,
                                  std::error_code& ec) {
  data = {};
  if (error_) {
    ec = error_;
    return in.size();
  }
  std::size_t i = 0;
  while (i < in.size()) {
    if (phase_ == phase::done) return in.size();
    if (phase_ == phase::data) {
      const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, in.size() - i));
      data = in.subspan(i, n);
      remaining_ -= n;
      data_bytes_ += n;
      if (remaining_ == 0) phase_ = phase::data_cr;
      return i + n;
    }
    if (!framing_byte(in[i++])) {
      error_ = http_flv_errc::malformed_chunk;
      ec = error_;
      return in.size();
    }
  }
  return i;
}

bool chunked_decoder::framing_byte(std::uint8_t c) noexcept {
  // The end of the chunk-size line: data follows, or the trailer section after the last chunk.
  const auto size_line_done = [this] {
    phase_ = size_ == 0 ? phase::trailer_start : phase::data;
    remaining_ = size_;
    line_bytes_ = 0;
  };
  switch (phase_) {
    case phase::size:
      if (const int v = hex_value(c); v >= 0) {
        if (++digits_ > max_size_digits) return false;
        size_ = size_ * 16 + static_cast<std::uint64_t>(v);
        return true;
      }
      if (digits_ == 0) return false;
      if (c == ';' || c == ' ' || c == '\t') {
        phase_ = phase::extension;
        line_bytes_ = 0;
        return true;
      }
      if (c == '\r') {
        phase_ = phase::size_lf;
        return true;
      }
      if (c == '\n') {
        size_line_done();
        return true;
      }
      return false;
    case phase::extension:
      if (c == '\r') {
        phase_ = phase::size_lf;
        return true;
      }
      if (c == '\n') {
        size_line_done();
        return true;
      }
      return ++line_bytes_ <= max_line_bytes;
    case phase::size_lf:
      if (c != '\n') return false;
      size_line_done();
      return true;
    case phase::data_cr:
      if (c == '\r') {
        phase_ = phase::data_lf;
        return true;
      }
      if (c != '\n') return false;
      [[fallthrough]];
    case phase::data_lf:
      if (c != '\n') return false;
      phase_ = phase::size;
      size_ = 0;
      digits_ = 0;
      return true;
    case phase::trailer_start:
      if (c == '\r') {
        phase_ = phase::final_lf;
      } else if (c == '\n') {
        phase_ = phase::done;
      } else {
        phase_ = phase::trailer;
        line_bytes_ = 1;
      }
      return true;
    case phase::trailer:
      if (c == '\n') {
        phase_ = phase::trailer_start;
        return true;
      }
      return ++line_bytes_ <= max_line_bytes;
    case phase::final_lf:
      if (c != '\n') return false;
      phase_ = phase::done;
      return true;
    case phase::data:
    case phase::done:
      break;
  }
  return false;
}

// --- http_flv_reader -------------------------------------------------------------------------

std::error_code http_flv_reader::feed(std::span<const std::uint8_t> bytes) {
  if (error_) return error_;
  if (!head_done_) {
    const std::size_t used = take_head(bytes);
    if (error_ || !head_done_) return error_;
    bytes = bytes.subspan(used);
  }
  if (!bytes.empty()) error_ = feed_body(bytes);
  return error_;
}

std::size_t http_flv_reader::take_head(std::span<const std::uint8_t> bytes) {
  const std::size_t old_size = head_.size();  // never above max_head_
  const std::size_t take = std::min(bytes.size(), max_head_ - old_size);
  head_.append(reinterpret_cast<const char*>(bytes.data()), take);
  // The blank line is an LF followed by LF or CRLF; it may straddle two reads.
  std::size_t head_size = 0;
  for (std::size_t p = old_size >= 2 ? old_size - 2 : 0; p + 1 < head_.size() && head_size == 0; ++p) {
    if (head_[p] != '\n') continue;
    if (head_[p + 1] == '\n') head_size = p + 2;
    if (head_[p + 1] == '\r' && p + 2 < head_.size() && head_[p + 2] == '\n') head_size = p + 3;
  }
  if (head_size == 0) {
    if (head_.size() >= max_head_) error_ = http_flv_errc::head_too_large;
    return take;
  }
  head_.resize(head_size);
  error_ = parse_head();
  head_done_ = !error_ || status_ != 0;
  head_.clear();
  head_.shrink_to_fit();
  return head_size - old_size;  // the bytes of this read that were head
}

std::error_code http_flv_reader::parse_head() {
  const auto lines = head_lines(head_);
  if (lines.empty()) return http_flv_errc::malformed_head;
  // status-line = HTTP-version SP status-code SP [ reason-phrase ]
  const std::string_view status_line = lines.front();
  if (status_line.size() < 12 || !status_line.starts_with("HTTP/1.") ||
      std::isdigit(static_cast<unsigned char>(status_line[7])) == 0 || status_line[8] != ' ' ||
      (status_line.size() > 12 && status_line[12] != ' ')) {
    return http_flv_errc::malformed_head;
  }
  int status = 0;
  const auto* digits = status_line.data() + 9;
  if (auto [p, ec] = std::from_chars(digits, digits + 3, status); ec != std::errc() || p != digits + 3 || status < 100) {
    return http_flv_errc::malformed_head;
  }
  bool chunked = false;
  bool have_length = false;
  std::uint64_t length = 0;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const std::string_view line = lines[i];
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0 ||
        !std::all_of(line.begin(), line.begin() + static_cast<std::ptrdiff_t>(colon), is_tchar)) {
      return http_flv_errc::malformed_head;
    }
    const std::string name = lower(line.substr(0, colon));
    const std::string_view value = trim(line.substr(colon + 1));
    if (name == "transfer-encoding") {
      // Codings are listed in the order applied: only "chunked" alone is understood.
      std::string_view rest = value;
      while (!rest.empty()) {
        const auto comma = rest.find(',');
        const std::string coding = lower(trim(rest.substr(0, comma)));
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
        if (coding.empty()) continue;
        if (coding != "chunked" || chunked) return http_flv_errc::unsupported_transfer_coding;
        chunked = true;
      }
    } else if (name == "content-length") {
      std::uint64_t v = 0;
      const auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
      if (value.empty() || ec != std::errc() || p != value.data() + value.size() || (have_length && v != length)) {
        return http_flv_errc::malformed_head;
      }
      have_length = true;
      length = v;
    }
  }
  status_ = status;
  framing_ = chunked ? framing::chunked : have_length ? framing::content_length : framing::until_close;
  content_length_ = length;
  if (status != 200) return http_status_error(status);
  return {};
}

std::error_code http_flv_reader::feed_body(std::span<const std::uint8_t> bytes) {
  switch (framing_) {
    case framing::chunked:
      while (!bytes.empty() && !chunks_.done()) {
        std::span<const std::uint8_t> data;
        std::error_code ec;
        const std::size_t used = chunks_.step(bytes, data, ec);
        if (ec) return ec;
        if (auto fe = feed_flv(data)) return fe;
        bytes = bytes.subspan(used);
      }
      return {};
    case framing::content_length: {
      const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(bytes.size(), content_length_ - body_bytes_));
      return feed_flv(bytes.first(n));  // anything past the length is not ours
    }
    case framing::until_close:
      return feed_flv(bytes);
  }
  return {};
}

std::error_code http_flv_reader::feed_flv(std::span<const std::uint8_t> bytes) {
  if (bytes.empty()) return {};
  body_bytes_ += bytes.size();
  return flv_.feed(bytes);
}

bool http_flv_reader::body_complete() const noexcept {
  if (!head_done_ || error_) return false;
  switch (framing_) {
    case framing::chunked: return chunks_.done();
    case framing::content_length: return body_bytes_ == content_length_;
    case framing::until_close: return false;
  }
  return false;
}

bool http_flv_reader::ended_cleanly() const noexcept {
  if (body_complete()) return true;
  return head_done_ && !error_ && framing_ == framing::until_close && !flv_.finish();
}

}  // namespace rtmp::bench
