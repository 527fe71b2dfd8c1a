#pragma once
// Byte-string builders for test vectors: hex with quoted ASCII, concatenation
// and repetition.

#include <gtest/gtest.h>

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <vector>

namespace rtmp::test {

/// "02 0007 'connect' 00 3FF0" -> bytes. Hex digits in pairs (spaces
/// ignored), text between single quotes copied as ASCII. A malformed vector
/// fails the calling test.
inline std::vector<std::uint8_t> hex(std::string_view s) {
  std::vector<std::uint8_t> out;
  int nibbles = 0;
  std::uint8_t cur = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '\'') {
      const std::size_t end = s.find('\'', i + 1);
      EXPECT_NE(end, std::string_view::npos) << "unterminated quote in test vector";
      out.insert(out.end(), s.begin() + static_cast<std::ptrdiff_t>(i + 1),
                 s.begin() + static_cast<std::ptrdiff_t>(end));
      i = end;
    } else if (std::isxdigit(static_cast<unsigned char>(c))) {
      const int v = std::isdigit(static_cast<unsigned char>(c))
                        ? c - '0'
                        : std::tolower(static_cast<unsigned char>(c)) - 'a' + 10;
      cur = static_cast<std::uint8_t>((cur << 4) | v);
      if (++nibbles % 2 == 0) {
        out.push_back(cur);
        cur = 0;
      }
    }
  }
  EXPECT_EQ(nibbles % 2, 0) << "odd number of hex digits in test vector";
  return out;
}

/// The parts, one after the other.
inline std::vector<std::uint8_t> concat(std::initializer_list<std::vector<std::uint8_t>> parts) {
  std::vector<std::uint8_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

/// `b`, `n` times.
inline std::vector<std::uint8_t> repeat(const std::vector<std::uint8_t>& b, std::size_t n) {
  std::vector<std::uint8_t> out;
  out.reserve(b.size() * n);
  for (std::size_t i = 0; i < n; ++i) out.insert(out.end(), b.begin(), b.end());
  return out;
}

}  // namespace rtmp::test
