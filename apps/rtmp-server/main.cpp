// rtmp-server: the RTMP live-streaming daemon.
//
// Wires CLI11 flags and spdlog to rtmp::net::server, and turns SIGINT/SIGTERM
// into a graceful stop (a second signal exits at once).
#include <CLI/CLI.hpp>
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "rtmp/net/server.hpp"
#include "rtmp/net/systemd.hpp"
#include "rtmp/version.hpp"

namespace {

bool parse_on_off(const std::string& v) { return v == "on"; }

// "%*": the syslog priority prefix ("<3>" error ... "<7>" debug) that
// journald reads from a service's stderr (sd-daemon(3)).
class syslog_priority_flag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    static constexpr const char* prefix[] = {"<7>", "<7>", "<6>", "<4>", "<3>", "<2>", "<6>"};
    const auto level = static_cast<std::size_t>(msg.level);
    const char* p = prefix[level < 7 ? level : 6];
    dest.append(p, p + 3);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<syslog_priority_flag>(); }
};

// Logs go to stderr. Under systemd the journal adds timestamps itself, so
// lines carry only a priority prefix there.
void configure_logging(const std::string& level) {
  spdlog::set_level(spdlog::level::from_str(level));
  if (rtmp::net::stderr_is_journal()) {
    auto formatter = std::make_unique<spdlog::pattern_formatter>();
    formatter->add_flag<syslog_priority_flag>('*').set_pattern("%*%v");
    spdlog::set_formatter(std::move(formatter));
  }
}

// Sends WATCHDOG=1 at half the interval systemd asked for, until stopped.
void arm_watchdog(asio::steady_timer& timer, std::chrono::microseconds interval) {
  timer.expires_after(interval / 2);
  timer.async_wait([&timer, interval](const std::error_code& ec) {
    if (ec) return;
    rtmp::net::systemd_notify("WATCHDOG=1");
    arm_watchdog(timer, interval);
  });
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"rtmp-server: RTMP live-streaming server.\n"
               "Publish with: ffmpeg -re -i in.flv -c copy -f flv rtmp://HOST:1935/live/KEY\n"
               "Play with:    ffplay rtmp://HOST:1935/live/KEY"};
  rtmp::net::server_config cfg;
  bool show_version = false;
  std::string log_level = "info";
  unsigned idle_s = 10, handshake_s = 10;
  std::string slow = "drop", gop = "on", wait = "on", takeover = "off";
  std::uint32_t max_message = cfg.session.chunk_limits.max_message_size;

  app.add_flag("-V,--version", show_version, "Print the version and exit");
  app.add_option("-l,--listen", cfg.listen, "Address to listen on, ADDR:PORT or [V6ADDR]:PORT (repeatable)")
      ->default_str("0.0.0.0:1935");
  app.add_option("-w,--workers", cfg.workers, "Worker threads, each with its own io_context (0: one per core)")
      ->default_val(0);
  app.add_option("--chunk-size", cfg.session.chunk_size, "Outbound chunk size in bytes")
      ->default_val(4096)
      ->check(CLI::Range(128, 65536));
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
      ->default_val("info")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  app.add_option("--idle-timeout", idle_s, "Seconds without data before a publisher is dropped")
      ->default_val(10)
      ->check(CLI::Range(1, 3600));
  app.add_option("--handshake-timeout", handshake_s, "Seconds allowed for the whole handshake, and again for connect + publish/play")
      ->default_val(10)
      ->check(CLI::Range(1, 300));
  app.add_option("--max-message-size", max_message, "Largest inbound audio/video message in bytes")
      ->default_val(max_message)
      ->check(CLI::Range(64 * 1024, 16 * 1024 * 1024 - 1));
  app.add_option("--queue-bytes", cfg.queue_bytes, "Per-player bound on queued media bytes")
      ->default_val(cfg.queue_bytes)
      ->check(CLI::Range(64 * 1024, 1024 * 1024 * 1024));
  app.add_option("--slow-subscriber", slow, "What to do with a player that cannot keep up: drop or disconnect")
      ->default_val("drop")
      ->check(CLI::IsMember({"drop", "disconnect"}));
  app.add_option("--gop-cache", gop, "Cache the current GOP so late joiners start at a keyframe: on or off")
      ->default_val("on")
      ->check(CLI::IsMember({"on", "off"}));
  app.add_option("--wait-for-publisher", wait, "A player of an idle stream waits (on) or is refused (off)")
      ->default_val("on")
      ->check(CLI::IsMember({"on", "off"}));
  app.add_option("--publisher-takeover", takeover, "A new publisher on a busy key replaces the old one: on or off")
      ->default_val("off")
      ->check(CLI::IsMember({"on", "off"}));
  CLI11_PARSE(app, argc, argv);

  if (show_version) {
    std::cout << "rtmp-server " << rtmp::version_line() << "\n";
    return 0;
  }
  configure_logging(log_level);
  cfg.idle_timeout = std::chrono::seconds(idle_s);
  cfg.handshake_timeout = std::chrono::seconds(handshake_s);
  cfg.negotiate_timeout = std::chrono::seconds(handshake_s);
  cfg.session.chunk_limits.max_message_size = max_message;
  cfg.slow_policy = slow == "drop" ? rtmp::net::slow_subscriber_policy::drop : rtmp::net::slow_subscriber_policy::disconnect;
  cfg.stream.gop_cache = parse_on_off(gop);
  cfg.wait_for_publisher = parse_on_off(wait);
  cfg.stream.publisher_takeover = parse_on_off(takeover);

  try {
    rtmp::net::server server(cfg);
    asio::io_context main_ctx(1);
    // Signals are caught before any worker thread exists.
    asio::signal_set signals(main_ctx, SIGINT, SIGTERM);
    asio::steady_timer watchdog(main_ctx);
    std::thread stopper;
    signals.async_wait([&](const std::error_code& ec, int sig) {
      if (ec) return;
      spdlog::info("received signal {}, stopping", sig);
      rtmp::net::systemd_notify("STOPPING=1");
      watchdog.cancel();
      // A second signal exits at once.
      signals.async_wait([](const std::error_code& ec2, int) {
        if (!ec2) std::_Exit(1);
      });
      // stop() blocks while connections say goodbye; keep this thread free
      // for the second signal.
      stopper = std::thread([&] {
        server.stop();
        main_ctx.stop();
      });
    });
    if (auto ec = server.start()) {
      spdlog::critical("cannot start: {}", ec.message());
      return 1;
    }
    rtmp::net::systemd_notify("READY=1\nSTATUS=Accepting RTMP connections");
    if (auto interval = rtmp::net::systemd_watchdog_interval()) arm_watchdog(watchdog, *interval);
    main_ctx.run();
    if (stopper.joinable()) stopper.join();
    spdlog::info("rtmp-server exited cleanly");
  } catch (const std::exception& e) {
    spdlog::critical("fatal: {}", e.what());
    return 1;
  }
  return 0;
}
