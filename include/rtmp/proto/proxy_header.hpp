#pragma once
/// @file proxy_header.hpp
/// The PROXY protocol header a TCP load balancer (HAProxy `send-proxy` /
/// `send-proxy-v2`, cloud network load balancers) puts in front of a
/// connection's own bytes to say whose connection it relays: version 1 (one
/// text line) and version 2 (binary), as specified in HAProxy's
/// proxy-protocol.txt. Bytes in, the client's address out; no sockets.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace rtmp::proto {

/// What a complete header said.
struct proxy_source {
  /// True when the header relays a client (v1 TCP4/TCP6, v2 PROXY over
  /// TCP); false for a v1 UNKNOWN or a v2 LOCAL or unspecified header (a
  /// health check): then the connection's own peer address stands.
  bool relayed = false;
  std::string address;     ///< The client's IP address, as text ("203.0.113.7", "2001:db8::1").
  std::uint16_t port = 0;  ///< The client's TCP port.
};

/// The state of a header being read.
enum class proxy_status : std::uint8_t {
  need_more,  ///< Not complete yet: read more, then parse all the bytes again.
  done,       ///< Complete: `used` bytes were the header; the rest is the connection's own.
  invalid,    ///< Not a PROXY header, or a malformed one: close the connection.
};

/// The outcome of `parse_proxy_header`.
struct proxy_parse_result {
  proxy_status status = proxy_status::need_more;
  std::size_t used = 0;     ///< With `done`: the header's length.
  proxy_source source;      ///< With `done`: what it said.
  const char* why = "";     ///< With `invalid`: what is wrong, for the log.
};

/// The longest header accepted: a v1 line is at most 107 bytes; a v2 header
/// is 16 bytes plus its stated length, which TLVs may grow up to 65535: past
/// this bound it is refused, so reading a header costs bounded memory.
inline constexpr std::size_t max_proxy_header = 1024;

/// Parses the PROXY header at the start of `in` (all the bytes read so far
/// on the connection).
proxy_parse_result parse_proxy_header(std::span<const std::uint8_t> in);

}  // namespace rtmp::proto
