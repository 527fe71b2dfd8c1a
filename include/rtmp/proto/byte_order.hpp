#pragma once
/// @file byte_order.hpp
/// Loads and stores of the fixed-width integers RTMP puts on the wire.
/// RTMP is big-endian everywhere except the message stream id in a type-0
/// chunk header, which is little-endian (RTMP 1.0, section 5.3.1.2.1).
/// Callers guarantee the pointed-to bytes exist; these functions never check.

#include <cstdint>

namespace rtmp::proto {

/// Reads a big-endian 16-bit unsigned integer from `p[0..1]`.
constexpr std::uint16_t load_be16(const std::uint8_t* p) noexcept {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

/// Reads a big-endian 24-bit unsigned integer from `p[0..2]`.
constexpr std::uint32_t load_be24(const std::uint8_t* p) noexcept {
  return (std::uint32_t{p[0]} << 16) | (std::uint32_t{p[1]} << 8) | std::uint32_t{p[2]};
}

/// Reads a big-endian 32-bit unsigned integer from `p[0..3]`.
constexpr std::uint32_t load_be32(const std::uint8_t* p) noexcept {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

/// Reads a little-endian 32-bit unsigned integer from `p[0..3]`.
constexpr std::uint32_t load_le32(const std::uint8_t* p) noexcept {
  return std::uint32_t{p[0]} | (std::uint32_t{p[1]} << 8) | (std::uint32_t{p[2]} << 16) |
         (std::uint32_t{p[3]} << 24);
}

/// Writes `v` big-endian into `p[0..1]`.
constexpr void store_be16(std::uint8_t* p, std::uint16_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}

/// Writes the low 24 bits of `v` big-endian into `p[0..2]`.
constexpr void store_be24(std::uint8_t* p, std::uint32_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 16);
  p[1] = static_cast<std::uint8_t>(v >> 8);
  p[2] = static_cast<std::uint8_t>(v);
}

/// Writes `v` big-endian into `p[0..3]`.
constexpr void store_be32(std::uint8_t* p, std::uint32_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}

/// Writes `v` little-endian into `p[0..3]`.
constexpr void store_le32(std::uint8_t* p, std::uint32_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v);
  p[1] = static_cast<std::uint8_t>(v >> 8);
  p[2] = static_cast<std::uint8_t>(v >> 16);
  p[3] = static_cast<std::uint8_t>(v >> 24);
}

}  // namespace rtmp::proto
