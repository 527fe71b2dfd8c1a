// rtmp-server's log output (see logging.hpp).
#include "logging.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <ctime>

#include "rtmp/http/response.hpp"
#include "rtmp/net/systemd.hpp"

namespace rtmp::server_app {

namespace {

// The syslog priority prefix ("<3>" error ... "<7>" debug) that journald
// reads from a service's stderr (sd-daemon(3)), per spdlog level.
const char* syslog_prefix(spdlog::level::level_enum level) {
  static constexpr const char* prefix[] = {"<7>", "<7>", "<6>", "<4>", "<3>", "<2>", "<6>"};
  const auto i = static_cast<std::size_t>(level);
  return prefix[i < 7 ? i : 6];
}

// "%*": the syslog priority prefix, for the text format under journald.
class syslog_priority_flag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    const char* p = syslog_prefix(msg.level);
    dest.append(p, p + 3);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<syslog_priority_flag>(); }
};

// "2024-01-02T03:04:05.678Z".
std::string iso8601_utc(std::chrono::system_clock::time_point t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[96];  // room for any int fields, so no truncation warning
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

}  // namespace

void append_json_string(std::string_view text, std::string& out) {
  // Same escaping as the HTTP API: invalid UTF-8 becomes U+FFFD.
  out += '"';
  out += http::json_escape(text);
  out += '"';
}

void json_formatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  std::string line;
  line.reserve(msg.payload.size() + 96);
  if (syslog_prefix_) line += syslog_prefix(msg.level);
  line += "{\"time\":\"" + iso8601_utc(msg.time) + "\",\"level\":";
  const auto level = spdlog::level::to_string_view(msg.level);
  append_json_string(std::string_view(level.data(), level.size()), line);
  line += ",\"logger\":";
  append_json_string(std::string_view(msg.logger_name.data(), msg.logger_name.size()), line);
  line += ",\"msg\":";
  append_json_string(std::string_view(msg.payload.data(), msg.payload.size()), line);
  line += "}\n";
  dest.append(line.data(), line.data() + line.size());
}

std::unique_ptr<spdlog::formatter> json_formatter::clone() const {
  return std::make_unique<json_formatter>(syslog_prefix_);
}

void configure_logging(const std::string& level, const std::string& format) {
  spdlog::set_default_logger(spdlog::stderr_color_mt("rtmp-server"));
  spdlog::set_level(spdlog::level::from_str(level));
  // Under systemd the journal adds timestamps itself, so lines carry only a
  // priority prefix there (which journald strips).
  const bool journal = rtmp::net::stderr_is_journal();
  if (format == "json") {
    spdlog::set_formatter(std::make_unique<json_formatter>(journal));
  } else if (journal) {
    auto formatter = std::make_unique<spdlog::pattern_formatter>();
    formatter->add_flag<syslog_priority_flag>('*').set_pattern("%*%v");
    spdlog::set_formatter(std::move(formatter));
  } else {
    spdlog::set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%^%l%$] %v");
  }
}

}  // namespace rtmp::server_app
