#include "rtmp/proto/rtmp_url.hpp"

#include <utility>

#include "rtmp/error.hpp"

namespace rtmp::proto {

namespace {

bool is_alnum(char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool is_hex(char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

char to_lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (to_lower(a[i]) != to_lower(b[i])) return false;
  }
  return true;
}

// A registered name or IPv4 address: letters, digits, '-', '.', '_'.
bool valid_reg_name(std::string_view host) noexcept {
  for (char c : host) {
    if (!is_alnum(c) && c != '-' && c != '.' && c != '_') return false;
  }
  return true;
}

// The inside of `[...]`: hex digits, ':' and '.' (embedded IPv4), at least one
// ':'; optionally a zone id after '%' (RFC 6874 writes it as "%25eth0").
bool valid_ipv6(std::string_view host) noexcept {
  const auto zone = host.find('%');
  const std::string_view addr = host.substr(0, zone);
  if (addr.find(':') == std::string_view::npos) return false;
  for (char c : addr) {
    if (!is_hex(c) && c != ':' && c != '.') return false;
  }
  if (zone != std::string_view::npos) {
    const std::string_view id = host.substr(zone + 1);
    if (id.empty()) return false;
    for (char c : id) {
      if (!is_alnum(c) && c != '%' && c != '-' && c != '.' && c != '_' && c != '~') return false;
    }
  }
  return true;
}

bool parse_port(std::string_view text, std::uint16_t& out) noexcept {
  if (text.empty() || text.size() > 5) return false;
  std::uint32_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<std::uint32_t>(c - '0');
  }
  if (v == 0 || v > 65535) return false;
  out = static_cast<std::uint16_t>(v);
  return true;
}

std::error_code fail(std::string_view* reason, std::string_view why) noexcept {
  if (reason) *reason = why;
  return errc::url_malformed;
}

}  // namespace

std::error_code parse_rtmp_url(std::string_view text, rtmp_url& out,
                               const rtmp_url_options& options, std::string_view* reason) {
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return fail(reason, "whitespace or control character in URL");
  }

  rtmp_url url;
  const auto sep = text.find("://");
  if (sep == std::string_view::npos || sep == 0) {
    return fail(reason, "missing scheme (expected rtmp:// or rtmps://)");
  }
  const std::string_view scheme = text.substr(0, sep);
  if (iequals(scheme, "rtmp")) {
    url.scheme = "rtmp";
    url.port = rtmp_default_port;
  } else if (iequals(scheme, "rtmps")) {
    url.scheme = "rtmps";
    url.tls = true;
    url.port = rtmps_default_port;
  } else {
    return fail(reason, "unsupported scheme (expected rtmp or rtmps)");
  }

  std::string_view rest = text.substr(sep + 3);
  const auto slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  const std::string_view path =
      slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);

  if (authority.find('@') != std::string_view::npos) {
    return fail(reason, "user info (user:password@) in URL is not supported");
  }
  std::string_view host;
  std::string_view port_text;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return fail(reason, "unterminated IPv6 literal (missing ']')");
    host = authority.substr(1, close - 1);
    if (host.empty()) return fail(reason, "empty host");
    if (!valid_ipv6(host)) return fail(reason, "invalid IPv6 literal");
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return fail(reason, "unexpected characters after IPv6 literal");
      port_text = after.substr(1);
      has_port = true;
    }
    url.ipv6_literal = true;
  } else {
    const auto colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      has_port = true;
    }
    if (host.empty()) return fail(reason, "empty host");
    if (!valid_reg_name(host)) return fail(reason, "invalid character in host");
  }
  if (has_port) {
    if (!parse_port(port_text, url.port)) return fail(reason, "invalid port (expected 1-65535)");
    url.port_given = true;
  }
  url.host = std::string(host);

  // Split the query off first so that a '/' or ':' inside it cannot move the
  // app/stream boundary; it is re-attached to the stream name below.
  const auto qmark = path.find('?');
  const std::string_view segments = path.substr(0, qmark);
  const std::string_view query = qmark == std::string_view::npos ? std::string_view{} : path.substr(qmark);

  // ffmpeg's rule: "a/b" -> app a, stream b; "a/b/c..." -> app a/b, stream
  // c...; but "a/mp4:b/c" -> app a, stream mp4:b/c (a ':' before the second
  // '/' marks a playpath, not an application instance).
  std::string_view app;
  std::string_view stream;
  const auto first = segments.find('/');
  if (first == std::string_view::npos) {
    app = segments;
  } else {
    const std::string_view after_app = segments.substr(first + 1);
    const auto second = after_app.find('/');
    const auto colon = after_app.find(':');
    if (second == std::string_view::npos || (colon != std::string_view::npos && colon < second)) {
      app = segments.substr(0, first);
      stream = after_app;
    } else {
      app = segments.substr(0, first + 1 + second);
      stream = after_app.substr(second + 1);
    }
  }
  if (app.empty()) return fail(reason, "missing application name");
  if (app.back() == '/') return fail(reason, "empty application instance (\"app//stream\")");
  if (options.require_stream && stream.empty()) return fail(reason, "missing stream name");

  url.app = std::string(app);
  url.stream = std::string(stream);
  url.stream += query;

  url.tc_url = url.scheme;
  url.tc_url += "://";
  if (url.ipv6_literal) url.tc_url += '[';
  url.tc_url += url.host;
  if (url.ipv6_literal) url.tc_url += ']';
  if (url.port_given) {
    url.tc_url += ':';
    url.tc_url += std::to_string(url.port);
  }
  url.tc_url += '/';
  url.tc_url += url.app;

  out = std::move(url);
  return {};
}

std::string stream_key(std::string_view app, std::string_view stream) {
  std::string key(app);
  key += '/';
  key += stream.substr(0, stream.find('?'));
  return key;
}

}  // namespace rtmp::proto
