// PROXY protocol v1 and v2 (HAProxy's proxy-protocol.txt, sections 2.1 and 2.2).
#include "rtmp/proto/proxy_header.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <string_view>

#include "rtmp/proto/byte_order.hpp"

namespace rtmp::proto {

namespace {

// Section 2.2: the v2 signature.
constexpr std::array<std::uint8_t, 12> v2_signature = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                                       0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
constexpr std::string_view v1_prefix = "PROXY ";
constexpr std::size_t v1_max_line = 107;  // section 2.1, CRLF included

proxy_parse_result invalid(const char* why) {
  proxy_parse_result r;
  r.status = proxy_status::invalid;
  r.why = why;
  return r;
}

// A decimal port without leading zeroes (section 2.1).
bool parse_port(std::string_view text, std::uint16_t& out) {
  if (text.empty() || text.size() > 5 || (text.size() > 1 && text[0] == '0')) return false;
  unsigned value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value > 65535) return false;
  out = static_cast<std::uint16_t>(value);
  return true;
}

// An address of `family` in canonical text; false when it is not one.
bool parse_address(int family, std::string_view text, std::string& out) {
  if (text.empty() || text.size() > 45) return false;
  char buf[46];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  unsigned char bytes[16];
  if (::inet_pton(family, buf, bytes) != 1) return false;
  // inet_pton accepts IPv4 only in dotted-quad form; leading zeroes
  // ("010.0.0.1") are refused by the spec for fear of octal.
  if (family == AF_INET) {
    for (std::size_t i = 0; i + 1 < text.size(); ++i) {
      if (text[i] == '0' && (i == 0 || text[i - 1] == '.') && text[i + 1] != '.') return false;
    }
  }
  out.assign(text);
  return true;
}

// Section 2.1: "PROXY TCP4|TCP6 SRC DST SPORT DPORT\r\n" or "PROXY UNKNOWN...\r\n".
proxy_parse_result parse_v1(std::span<const std::uint8_t> in) {
  const std::string_view text(reinterpret_cast<const char*>(in.data()), std::min(in.size(), v1_max_line));
  const auto end = text.find("\r\n");
  if (end == std::string_view::npos) {
    if (in.size() >= v1_max_line) return invalid("v1 line without CRLF in 107 bytes");
    if (text.find('\n') != std::string_view::npos) return invalid("v1 line ends without CR");
    return {};
  }
  if (text.substr(0, end).find('\n') != std::string_view::npos) return invalid("v1 line ends without CR");
  std::string_view line = text.substr(v1_prefix.size(), end - v1_prefix.size());
  proxy_parse_result r;
  r.status = proxy_status::done;
  r.used = end + 2;
  if (line.substr(0, 7) == "UNKNOWN") return r;  // the rest of the line is ignored
  std::string_view fields[5];
  for (auto& field : fields) {
    const auto space = line.find(' ');
    field = line.substr(0, space);
    line = space == std::string_view::npos ? std::string_view() : line.substr(space + 1);
  }
  if (!line.empty()) return invalid("v1 line has extra fields");
  int family = 0;
  if (fields[0] == "TCP4") {
    family = AF_INET;
  } else if (fields[0] == "TCP6") {
    family = AF_INET6;
  } else {
    return invalid("v1 protocol is not TCP4, TCP6 or UNKNOWN");
  }
  std::string destination;
  std::uint16_t destination_port = 0;
  if (!parse_address(family, fields[1], r.source.address) || !parse_address(family, fields[2], destination)) {
    return invalid("v1 address is not canonical for its family");
  }
  if (!parse_port(fields[3], r.source.port) || !parse_port(fields[4], destination_port)) {
    return invalid("v1 port is not a decimal 0 to 65535");
  }
  r.source.relayed = true;
  return r;
}

// Section 2.2: signature, version/command, family/protocol, length, addresses, TLVs.
proxy_parse_result parse_v2(std::span<const std::uint8_t> in) {
  if (in.size() < 16) return {};
  const std::uint8_t version = in[12] >> 4;
  const std::uint8_t command = in[12] & 0x0F;
  const std::uint8_t family = in[13] >> 4;
  const std::uint8_t protocol = in[13] & 0x0F;
  const std::size_t length = load_be16(in.data() + 14);
  if (version != 2) return invalid("v2 header of another version");
  if (command > 1) return invalid("v2 command is neither LOCAL nor PROXY");
  if (family > 3 || protocol > 2) return invalid("v2 family or protocol is unassigned");
  if (16 + length > max_proxy_header) return invalid("v2 header longer than accepted");
  if (in.size() < 16 + length) return {};
  proxy_parse_result r;
  r.status = proxy_status::done;
  r.used = 16 + length;
  // LOCAL (health checks) and what is not TCP over IP keep the connection's
  // own address: "the receiver should ignore address information".
  if (command == 0 || protocol != 1 || (family != 1 && family != 2)) return r;
  const std::uint8_t* a = in.data() + 16;
  char text[INET6_ADDRSTRLEN];
  if (family == 1) {
    if (length < 12) return invalid("v2 IPv4 address block is short");
    ::inet_ntop(AF_INET, a, text, sizeof text);
    r.source.port = load_be16(a + 8);
  } else {
    if (length < 36) return invalid("v2 IPv6 address block is short");
    ::inet_ntop(AF_INET6, a, text, sizeof text);
    r.source.port = load_be16(a + 32);
  }
  r.source.address = text;
  r.source.relayed = true;
  return r;
}

}  // namespace

proxy_parse_result parse_proxy_header(std::span<const std::uint8_t> in) {
  // Decide the version on the bytes there are: a prefix of either signature
  // needs more; anything else is not a PROXY header.
  const std::size_t v2_known = std::min(in.size(), v2_signature.size());
  if (std::equal(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(v2_known), v2_signature.begin())) {
    return in.size() < v2_signature.size() ? proxy_parse_result{} : parse_v2(in);
  }
  const std::size_t v1_known = std::min(in.size(), v1_prefix.size());
  if (std::string_view(reinterpret_cast<const char*>(in.data()), v1_known) == v1_prefix.substr(0, v1_known)) {
    return in.size() < v1_prefix.size() ? proxy_parse_result{} : parse_v1(in);
  }
  return invalid("no PROXY protocol header");
}

}  // namespace rtmp::proto
