#pragma once
// Reading and writing test files: any file's bytes, the raw wire captures
// of real clients in tests/data/captures/ (see the README there), the
// audio and video tags of an FLV file, and the lines of a tool's output.

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "rtmp/proto/flv_reader.hpp"

namespace rtmp::test {

/// The bytes of the file at `path` (empty when it cannot be read).
inline std::vector<std::uint8_t> read_binary(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

/// Writes `data` to the file at `path` (a failure fails the calling test).
inline void write_binary(const std::string& path, const std::vector<std::uint8_t>& data) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  EXPECT_TRUE(f.good()) << "cannot write " << path;
}

/// The non-empty lines of the text file at `path` (CR before LF dropped).
inline std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream f(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(f, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

/// The audio and video tags of the FLV file at `path`, in file order (a
/// file that cannot be read or parsed fails the calling test).
inline std::vector<proto::flv_tag> read_flv_media_tags(const std::string& path) {
  const auto flv = read_binary(path);
  EXPECT_FALSE(flv.empty()) << "cannot read " << path;
  proto::flv_reader reader;
  EXPECT_FALSE(reader.feed(flv)) << path;
  EXPECT_FALSE(reader.finish()) << path;
  std::vector<proto::flv_tag> out;
  proto::flv_tag tag;
  while (reader.next(tag)) {
    if (tag.type == 8 || tag.type == 9) out.push_back(tag);
  }
  return out;
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
