#pragma once
/// @file access_rules.hpp
/// Address-based access control for publish and play: rules in the manner
/// of nginx-rtmp's `allow publish 10.0.0.0/8; deny publish all;`. No I/O.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rtmp::net {

/// An IPv4 or IPv6 network: an address and a prefix length ("all": every
/// address of both families).
struct address_block {
  bool any = false;                     ///< "all".
  bool v6 = false;                      ///< The family of `bytes`.
  std::array<std::uint8_t, 16> bytes{};  ///< The network address (4 bytes used for IPv4).
  unsigned prefix = 0;                  ///< Leading bits that must match.

  /// Same block.
  bool operator==(const address_block&) const = default;

  /// True when `address` (IPv4 or IPv6 text; an IPv4-mapped IPv6 address
  /// counts as IPv4) is inside the block.
  bool contains(std::string_view address) const;
};

/// Parses "all", "ADDR" (a single host) or "ADDR/BITS" of either family.
std::optional<address_block> parse_address_block(std::string_view text);

/// One rule: allow or deny publishing or playing, for one application or all.
struct access_rule {
  bool allow = true;        ///< Allow, else deny.
  bool publish = true;      ///< Publish, else play.
  std::string app;          ///< The application it applies to; empty: every one.
  address_block block;      ///< The addresses it matches.

  /// Same rule.
  bool operator==(const access_rule&) const = default;
};

/// Parses a rule's value as given to `--allow-publish` and the others:
/// "CIDR" or "APP=CIDR" (CIDR as for parse_address_block). Nothing when
/// malformed.
std::optional<access_rule> parse_access_rule(bool allow, bool publish, std::string_view value);

/// Whether `client` may publish (or play) in `app` under `rules`: the first
/// rule for that action and application that matches the address decides,
/// in order; when none matches, it is allowed (as in nginx-rtmp, end the
/// list with a `deny ... all` to allow only what is listed).
bool access_allowed(const std::vector<access_rule>& rules, bool publish, std::string_view app,
                    std::string_view client);

}  // namespace rtmp::net
