#pragma once
/// @file recording.hpp
/// Recording settings: every publish session of an application
/// with recording on is written to FLV files under one directory. See
/// src/record/recorder.hpp for the behaviour (rotation, crash safety, the
/// on-record-done hook).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace rtmp::net {

/// What a recording of an application keeps.
enum class record_mode : std::uint8_t {
  off,    ///< No recording.
  all,    ///< Audio, video and data (metadata).
  video,  ///< Video and data only.
  audio,  ///< Audio and data only.
};

/// Parses "all", "video", "audio" or "off"; false for anything else.
bool parse_record_mode(std::string_view text, record_mode& out) noexcept;

/// Recording settings. Every limit is named here.
struct recording_config {
  /// Application -> mode; an application not listed is not recorded.
  std::map<std::string, record_mode> apps;
  /// Directory of the recordings; relative paths are relative to the
  /// server's working directory. Created (with parents) when needed.
  std::string path = "recordings";
  /// File name under `path`: {app}, {stream} (sanitized: no '/', "..",
  /// control characters), {time} (UTC start of the file, YYYYMMDD-HHMMSS) and
  /// {n} (piece number within the publish session, from 0). A name that is
  /// taken gets "_1", "_2"... before its extension.
  std::string pattern = "{app}/{stream}-{time}.flv";
  std::uint64_t max_bytes = 0;                 ///< Rotate past this file size (at a keyframe); 0: no limit.
  std::chrono::seconds max_duration{0};        ///< Rotate past this media duration (at a keyframe); 0: no limit.
  /// Run when a file is complete: a shell command (run as
  /// `/bin/sh -c CMD rtmp-record PATH`, so $1 is the path; also in the
  /// environment as RTMP_RECORD_PATH, _APP, _STREAM, _BYTES, _DURATION_MS),
  /// or an http:// URL that gets a JSON POST {app, stream, path, bytes,
  /// duration_ms}. Empty: nothing.
  std::string on_done;
  std::chrono::milliseconds on_done_timeout{10'000};  ///< The command is killed (the POST abandoned) after this.
  std::size_t max_pending_hooks = 64;          ///< Hook runs at once; further completed files are only logged.
  std::string ca_file;  ///< An https:// on_done: PEM CA certificates to trust; empty: the system's store.
  std::size_t flush_bytes = std::size_t{64} * 1024;  ///< Buffered bytes that trigger a write to the file.
  std::chrono::milliseconds flush_interval{1'000};   ///< Buffered bytes are written at least this often.

  /// Member-wise (a reload compares the old and new settings).
  bool operator==(const recording_config&) const = default;
};

}  // namespace rtmp::net
