// Stream names and HTTP-FLV requests of `rtmp-client bench` (see bench_names.hpp).
#include "bench_names.hpp"

#include <cctype>

namespace rtmp::bench {

namespace {

// A byte that may stand for itself in a URI path (RFC 3986 section 3.3: pchar, and '/').
bool is_path_char(unsigned char c) noexcept {
  return std::isalnum(c) != 0 || std::string_view("-._~!$&'()*+,;=:@/").find(static_cast<char>(c)) != std::string_view::npos;
}

// Appends `s` to `out`, percent-encoding what is not a path character.
void append_path(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (is_path_char(c)) {
      out += ch;
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 0x0F];
    }
  }
}

}  // namespace

std::string stream_name(std::string_view base, std::size_t count, std::size_t index) {
  if (count <= 1) return std::string(base);
  const auto q = base.find('?');
  std::string name(base.substr(0, q));
  name += '-';
  name += std::to_string(index);
  if (q != std::string_view::npos) name += base.substr(q);
  return name;
}

std::string host_header(std::string_view host, bool ipv6_literal, std::uint16_t port) {
  std::string h;
  if (ipv6_literal) h += '[';
  h += host;
  if (ipv6_literal) h += ']';
  h += ':';
  h += std::to_string(port);
  return h;
}

std::string http_flv_target(std::string_view app, std::string_view stream) {
  const auto q = stream.find('?');
  std::string target = "/";
  append_path(target, app);
  target += '/';
  append_path(target, stream.substr(0, q));
  target += ".flv";
  if (q != std::string_view::npos) target += stream.substr(q);
  return target;
}

std::string http_flv_request(std::string_view host, std::string_view app, std::string_view stream) {
  std::string r = "GET ";
  r += http_flv_target(app, stream);
  r += " HTTP/1.1\r\nHost: ";
  r += host;
  r += "\r\nUser-Agent: rtmp-client-bench\r\nAccept: */*\r\nConnection: close\r\n\r\n";
  return r;
}

}  // namespace rtmp::bench
