#include "rtmp/net/access_rules.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace rtmp::net {

namespace {

// `text` as 4 (IPv4) or 16 (IPv6) bytes; an IPv4-mapped IPv6 address
// (::ffff:a.b.c.d, what a dual-stack socket reports) as its IPv4 bytes.
bool to_bytes(std::string_view text, std::array<std::uint8_t, 16>& out, bool& v6) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return false;
  char buf[INET6_ADDRSTRLEN];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  out.fill(0);
  if (::inet_pton(AF_INET, buf, out.data()) == 1) {
    v6 = false;
    return true;
  }
  if (::inet_pton(AF_INET6, buf, out.data()) != 1) return false;
  static constexpr std::uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(out.data(), mapped, sizeof mapped) == 0) {
    std::memmove(out.data(), out.data() + 12, 4);
    std::memset(out.data() + 4, 0, 12);
    v6 = false;
    return true;
  }
  v6 = true;
  return true;
}

}  // namespace

bool address_block::contains(std::string_view address) const {
  if (any) return true;
  std::array<std::uint8_t, 16> a{};
  bool a_v6 = false;
  if (!to_bytes(address, a, a_v6) || a_v6 != v6) return false;
  const unsigned full = prefix / 8;
  if (std::memcmp(a.data(), bytes.data(), full) != 0) return false;
  const unsigned rest = prefix % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xFF << (8 - rest));
  return (a[full] & mask) == (bytes[full] & mask);
}

std::optional<address_block> parse_address_block(std::string_view text) {
  address_block b;
  if (text == "all") {
    b.any = true;
    return b;
  }
  const auto slash = text.find('/');
  if (!to_bytes(text.substr(0, slash), b.bytes, b.v6)) return std::nullopt;
  const unsigned width = b.v6 ? 128 : 32;
  b.prefix = width;
  if (slash != std::string_view::npos) {
    const std::string_view bits = text.substr(slash + 1);
    unsigned prefix = 0;
    const auto [end, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), prefix);
    if (ec != std::errc() || end != bits.data() + bits.size() || bits.empty() || prefix > width) return std::nullopt;
    b.prefix = prefix;
  }
  return b;
}

std::optional<access_rule> parse_access_rule(bool allow, bool publish, std::string_view value) {
  access_rule r;
  r.allow = allow;
  r.publish = publish;
  // "APP=CIDR": an application name has no '.', ':' or '/' before the '='.
  if (const auto eq = value.find('='); eq != std::string_view::npos) {
    r.app = std::string(value.substr(0, eq));
    if (r.app.empty() || r.app.find_first_of("/.:") != std::string::npos) return std::nullopt;
    value.remove_prefix(eq + 1);
  }
  auto block = parse_address_block(value);
  if (!block) return std::nullopt;
  r.block = *block;
  return r;
}

bool access_allowed(const std::vector<access_rule>& rules, bool publish, std::string_view app,
                    std::string_view client) {
  for (const auto& rule : rules) {
    if (rule.publish != publish || (!rule.app.empty() && rule.app != app)) continue;
    if (rule.block.contains(client)) return rule.allow;
  }
  return true;
}

}  // namespace rtmp::net
