#pragma once
// One stream's HLS files mirrored into a directory, for an external web
// server (--hls-path): the segments the segmenter keeps, the fMP4
// initialization segments they need, and index.m3u8, written atomically
// (a temporary file renamed), older segments removed. Internal to the
// networking layer; blocking file I/O, a few small writes per segment, on
// the stream's worker (as recording does).

#include <cstdint>
#include <filesystem>
#include <set>
#include <string>
#include <string_view>

#include "rtmp/hls/segmenter.hpp"

namespace rtmp::net {

/// `name` as one path component: letters, digits, '-', '_' and '.' kept,
/// anything else (a '/' of an app instance too) replaced by '_'; "." and
/// ".." become "_".
std::string path_component(std::string_view name);

/// The files of one stream under `root`/APP/STREAM.
class hls_directory {
 public:
  /// Files go to `root`/`app`/`stream` (each made a safe path component).
  hls_directory(const std::filesystem::path& root, std::string_view app, std::string_view stream);

  /// Brings the directory in line with `seg`: writes the kept segments and
  /// initialization segments not written yet, then the playlist, then
  /// removes the files of segments no longer kept. False (and the reason
  /// in `error()`) on an I/O error; the caller stops using it.
  bool sync(const hls::segmenter& seg);

  /// Removes every file it wrote, and the stream's directory when empty.
  void remove();

  /// Why the last sync failed.
  const std::string& error() const noexcept { return error_; }

 private:
  bool write_file(const std::string& name, const std::uint8_t* data, std::size_t size);

  std::filesystem::path dir_;
  std::set<std::string> written_;  // file names on disk
  std::string error_;
};

}  // namespace rtmp::net
