#pragma once
// The on-record-done hook: a shell command or an HTTP POST run
// when a recording file is complete, off the media path: the command is
// spawned and then polled from a timer on the worker (never waited for), the
// POST is a coroutine; both are bounded by `recording_config::on_done_timeout`.

#include <asio/any_io_executor.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "rtmp/net/recording.hpp"

namespace rtmp::net {

/// How often a running hook command is checked for its exit.
inline constexpr std::chrono::milliseconds record_hook_poll_interval{50};

/// A finished recording file, as the hook is told about it.
struct record_done_info {
  std::string app;                ///< Application.
  std::string stream;             ///< Stream name (without query).
  std::string path;               ///< The file (as opened: record-path joined with the expanded pattern).
  std::uint64_t bytes = 0;        ///< File size.
  std::uint32_t duration_ms = 0;  ///< Media duration.
};

/// The JSON body of the HTTP hook: {app, stream, path, bytes, duration_ms}.
std::string record_done_json(const record_done_info& info);

/// Starts the hook `cfg.on_done` for `info` on `ex` and returns at once.
/// `running` counts hooks in flight (shared by the caller's hooks); past
/// `cfg.max_pending_hooks` the file is only logged. Outcomes are logged.
void start_record_done_hook(const asio::any_io_executor& ex, const recording_config& cfg, record_done_info info,
                            const std::shared_ptr<std::atomic<std::size_t>>& running);

}  // namespace rtmp::net
