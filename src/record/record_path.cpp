#include "record/record_path.hpp"

#include <algorithm>
#include <ctime>

namespace rtmp::net {

std::string sanitize_record_component(std::string_view text) {
  std::string out;
  out.reserve(std::min(text.size(), max_record_name_component));
  for (const char c : text) {
    if (out.size() == max_record_name_component) break;
    const bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                      c == '_' || c == '.';
    out += safe ? c : '_';
  }
  if (out.empty()) return "_";
  if (out.front() == '.') out.front() = '_';
  return out;
}

std::string record_time_text(std::chrono::system_clock::time_point t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm utc{};
  ::gmtime_r(&secs, &utc);
  char buf[32];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", &utc);
  return std::string(buf, n);
}

std::error_code expand_record_pattern(std::string_view pattern, std::string_view app, std::string_view stream,
                                      std::chrono::system_clock::time_point start, std::uint64_t piece,
                                      std::filesystem::path& out) {
  std::string text;
  while (!pattern.empty()) {
    const auto open = pattern.find('{');
    text += pattern.substr(0, open);
    if (open == std::string_view::npos) break;
    pattern.remove_prefix(open);
    const auto close = pattern.find('}');
    if (close == std::string_view::npos) return std::make_error_code(std::errc::invalid_argument);
    const std::string_view name = pattern.substr(1, close - 1);
    if (name == "app") {
      text += sanitize_record_component(app);
    } else if (name == "stream") {
      text += sanitize_record_component(stream);
    } else if (name == "time") {
      text += record_time_text(start);
    } else if (name == "n") {
      text += std::to_string(piece);
    } else {
      return std::make_error_code(std::errc::invalid_argument);
    }
    pattern.remove_prefix(close + 1);
  }
  const std::filesystem::path p(text);
  if (text.empty() || p.is_absolute() || !p.has_filename()) return std::make_error_code(std::errc::invalid_argument);
  for (const auto& part : p) {
    if (part == "..") return std::make_error_code(std::errc::invalid_argument);
  }
  out = p.lexically_normal();
  return {};
}

std::filesystem::path numbered_record_path(const std::filesystem::path& path, int n) {
  std::filesystem::path out = path;
  out.replace_filename(path.stem().string() + "_" + std::to_string(n) + path.extension().string());
  return out;
}

}  // namespace rtmp::net
