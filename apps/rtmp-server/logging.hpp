#pragma once
/// @file logging.hpp
/// rtmp-server's log output: spdlog on standard error, as text (with a
/// syslog priority prefix instead of a timestamp under journald) or as one
/// JSON object per line for log shippers.

#include <spdlog/formatter.h>

#include <memory>
#include <string>
#include <string_view>

namespace rtmp::server_app {

/// Appends `text` to `out` as a JSON string literal, quotes included:
/// '"', '\\' and control characters are escaped, and bytes that are not
/// valid UTF-8 become U+FFFD, so the result is always valid JSON.
void append_json_string(std::string_view text, std::string& out);

/// Formats each record as `{"time":"2024-01-02T03:04:05.678Z","level":"info",
/// "logger":"rtmp-server","msg":"..."}` and a newline; time is UTC. With
/// `syslog_prefix`, the line starts with journald's "<N>" priority.
class json_formatter final : public spdlog::formatter {
 public:
  /// A formatter; `syslog_prefix` adds the "<N>" priority prefix.
  explicit json_formatter(bool syslog_prefix = false) : syslog_prefix_(syslog_prefix) {}
  /// Writes one JSON line for `msg` into `dest`.
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  /// A copy (spdlog gives each sink its own formatter).
  std::unique_ptr<spdlog::formatter> clone() const override;

 private:
  bool syslog_prefix_;
};

/// Installs the "rtmp-server" logger on standard error as the default
/// logger, at `level` ("info", ...) in `format` ("text" or "json").
void configure_logging(const std::string& level, const std::string& format);

}  // namespace rtmp::server_app
