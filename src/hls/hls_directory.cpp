#include "hls/hls_directory.hpp"

#include <cstdio>
#include <fstream>
#include <system_error>

namespace rtmp::net {

std::string path_component(std::string_view name) {
  std::string out;
  for (char c : name) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                      c == '_' || c == '.';
    out += keep ? c : '_';
  }
  if (out.empty() || out == "." || out == "..") out = "_";
  return out;
}

hls_directory::hls_directory(const std::filesystem::path& root, std::string_view app, std::string_view stream)
    : dir_(root / path_component(app) / path_component(stream)) {}

bool hls_directory::write_file(const std::string& name, const std::uint8_t* data, std::size_t size) {
  // A reader never sees half a file: written beside it, then renamed over it.
  const auto final_path = dir_ / name;
  const auto temporary = dir_ / ("." + name + ".tmp");
  {
    std::ofstream f(temporary, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    if (!f.good()) {
      error_ = "cannot write " + temporary.string();
      return false;
    }
  }
  std::error_code ec;
  std::filesystem::rename(temporary, final_path, ec);
  if (ec) {
    error_ = "cannot rename " + temporary.string() + ": " + ec.message();
    return false;
  }
  written_.insert(name);
  return true;
}

bool hls_directory::sync(const hls::segmenter& seg) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) {
    error_ = "cannot create " + dir_.string() + ": " + ec.message();
    return false;
  }
  const bool fmp4 = seg.format() == hls::segment_format::fmp4;
  std::set<std::string> kept = {"index.m3u8"};
  for (std::uint64_t n = seg.next_sequence() - seg.segments(); n < seg.next_sequence(); ++n) {
    const auto s = seg.find(n);
    if (s == nullptr) continue;
    const std::string name = std::to_string(n) + (fmp4 ? ".m4s" : ".ts");
    kept.insert(name);
    if (written_.count(name) == 0 && !write_file(name, s->bytes.data(), s->bytes.size())) return false;
    if (!fmp4) continue;
    const std::string init = "init-" + std::to_string(s->init) + ".mp4";
    kept.insert(init);
    if (written_.count(init) == 0) {
      const auto bytes = seg.find_init(s->init);
      if (!write_file(init, bytes.data(), bytes.size())) return false;
    }
  }
  const std::string playlist = seg.playlist();
  if (!playlist.empty() &&
      !write_file("index.m3u8", reinterpret_cast<const std::uint8_t*>(playlist.data()), playlist.size())) {
    return false;
  }
  for (auto it = written_.begin(); it != written_.end();) {
    if (kept.count(*it) != 0) {
      ++it;
      continue;
    }
    std::filesystem::remove(dir_ / *it, ec);
    it = written_.erase(it);
  }
  return true;
}

void hls_directory::remove() {
  std::error_code ec;
  for (const auto& name : written_) std::filesystem::remove(dir_ / name, ec);
  written_.clear();
  std::filesystem::remove(dir_, ec);  // only when empty
}

}  // namespace rtmp::net
