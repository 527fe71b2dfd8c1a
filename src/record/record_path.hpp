#pragma once
// Recording file names: the record-pattern placeholders and the
// sanitizing that keeps every recording inside the record directory.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

namespace rtmp::net {

/// Longest sanitized {app} or {stream} value, in bytes (file names stay
/// well under NAME_MAX = 255 with the rest of the pattern).
inline constexpr std::size_t max_record_name_component = 100;

/// Most "_N" suffixes tried when a recording's file name is already taken.
inline constexpr int max_record_name_attempts = 1000;

/// `text` made safe as one path component: every byte other than ASCII
/// letters, digits, '-', '_' and '.' (so '/', '\\', spaces, control and
/// non-ASCII bytes) becomes '_', a leading '.' becomes '_' (no "..", no
/// hidden files), at most `max_record_name_component` bytes; "_" when empty.
std::string sanitize_record_component(std::string_view text);

/// "YYYYMMDD-HHMMSS" of `t` in UTC.
std::string record_time_text(std::chrono::system_clock::time_point t);

/// Expands `pattern` ({app}, {stream}, {time}, {n}; `app` and `stream` are
/// sanitized here) into a relative path. Errors (std::errc::invalid_argument):
/// an empty result, an absolute path, a ".." component, or an unknown
/// placeholder. Never leaves the directory it is joined to.
std::error_code expand_record_pattern(std::string_view pattern, std::string_view app, std::string_view stream,
                                      std::chrono::system_clock::time_point start, std::uint64_t piece,
                                      std::filesystem::path& out);

/// `path` with "_`n`" inserted before its extension ("a/b.flv", 2 -> "a/b_2.flv").
std::filesystem::path numbered_record_path(const std::filesystem::path& path, int n);

}  // namespace rtmp::net
