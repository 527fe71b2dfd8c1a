#pragma once
// One FLV recording file: written promptly so that it is playable
// at any moment, and finished with the real duration and size.
//
// Crash safety: bytes are buffered in memory only up to `flush_bytes` or
// `flush_interval` (whichever comes first; the owner calls `flush_if_due`)
// and always leave whole tags, so a killed process leaves a file of complete
// tags (the page cache keeps what was written; a power loss is not covered:
// no fsync). Its onMetaData then says duration 0, which players treat as
// unknown; ffprobe reads the tags.
//
// Duration patch: the first onMetaData of the file is rewritten as an ECMA
// array that starts with `duration` and `filesize` Numbers (placeholders 0,
// the publisher's other properties kept in order); `close()` overwrites those
// two 8-byte doubles in place (pwrite) with the media duration in seconds and
// the file size in bytes. A file without publisher metadata gets one with
// just these two properties.
//
// Blocking: plain write(2) of at most `flush_bytes` plus one message (at most
// the server's max message size, 16 MiB) to the page cache, from the
// publisher's worker: microseconds normally; a slow disk can stall that
// worker for one such write. Errors are returned, never thrown; after an
// error the file is closed and further calls do nothing.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <system_error>
#include <vector>

#include "rtmp/proto/flv_writer.hpp"

namespace rtmp::net {

/// A buffered FLV file with an in-place metadata patch on close.
class record_file {
 public:
  using clock = std::chrono::steady_clock;

  /// `flush_bytes` and `flush_interval` bound what stays in memory.
  record_file(std::size_t flush_bytes, std::chrono::milliseconds flush_interval) noexcept
      : flush_bytes_(flush_bytes), flush_interval_(flush_interval) {}
  ~record_file();

  record_file(const record_file&) = delete;
  record_file& operator=(const record_file&) = delete;

  /// Creates `path` (never overwrites: std::errc::file_exists when it is
  /// there) and buffers the FLV header with `flags`. Errors: errno values.
  std::error_code open(const std::filesystem::path& path, proto::flv_header_flags flags);

  /// Buffers the file's onMetaData: `payload` is an AMF0 "onMetaData" data
  /// message body (or empty: a minimal one is made), rewritten to carry the
  /// `duration` and `filesize` placeholders patched by `close()`. Call once,
  /// before any other tag.
  std::error_code write_metadata(std::span<const std::uint8_t> payload);

  /// Buffers one tag and writes the buffer out when `flush_bytes` is reached.
  std::error_code write_tag(std::uint8_t type, std::uint32_t timestamp, std::span<const std::uint8_t> payload);

  /// Writes the buffer out when it is older than `flush_interval`.
  std::error_code flush_if_due(clock::time_point now);

  /// Writes the buffer out.
  std::error_code flush();

  /// Flushes, patches duration (`duration_ms` / 1000 s) and filesize, and
  /// closes. Returns the first error (the file is closed regardless).
  std::error_code close(std::uint32_t duration_ms);

  /// Closes without flushing or patching, as a crash would leave it (tests).
  void abandon() noexcept;

  /// True between a successful `open` and `close`/`abandon`/an error.
  bool is_open() const noexcept { return fd_ >= 0; }
  /// Bytes of the file, buffered ones included.
  std::uint64_t size() const noexcept { return written_ + buffer_.size(); }
  /// The path given to `open`.
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::error_code fail(std::error_code ec) noexcept;
  std::error_code pwrite_double(std::uint64_t offset, double v) noexcept;

  const std::size_t flush_bytes_;
  const std::chrono::milliseconds flush_interval_;
  int fd_ = -1;
  std::filesystem::path path_;
  proto::flv_writer writer_;
  std::vector<std::uint8_t> buffer_;
  std::uint64_t written_ = 0;           // bytes in the file
  clock::time_point buffered_since_{};  // when buffer_ got its first byte
  std::uint64_t duration_at_ = 0;       // file offset of duration's double (0: none)
  std::uint64_t filesize_at_ = 0;       // file offset of filesize's double (0: none)
};

}  // namespace rtmp::net
