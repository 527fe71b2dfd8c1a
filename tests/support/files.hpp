#pragma once
// Reading test inputs: any file's bytes, and the raw wire captures of real
// clients in tests/data/captures/ (see the README there).

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace rtmp::test {

/// The bytes of the file at `path` (empty when it cannot be read).
inline std::vector<std::uint8_t> read_binary(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

#ifdef RTMP_CAPTURES_DIR
/// The capture `name` (e.g. "ffmpeg-publish.c2s.bin") from
/// tests/data/captures/; a capture that cannot be read fails the calling test.
inline std::vector<std::uint8_t> read_capture(const std::string& name) {
  const std::filesystem::path path = std::filesystem::path(RTMP_CAPTURES_DIR) / name;
  auto bytes = read_binary(path);
  EXPECT_FALSE(bytes.empty()) << "cannot read " << path;
  return bytes;
}
#endif

}  // namespace rtmp::test
