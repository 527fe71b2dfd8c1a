// rtmp-server: the RTMP live-streaming daemon.
//
// Reads the settings (flags, and optionally a TOML configuration file that
// the flags override), checks them, wires spdlog and rtmp::net::server, and
// turns SIGINT/SIGTERM into a graceful stop (a second signal exits at once).
#include <CLI/CLI.hpp>
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "config.hpp"
#include "logging.hpp"
#include "rtmp/net/server.hpp"
#include "rtmp/net/systemd.hpp"
#include "rtmp/version.hpp"

namespace {

using rtmp::server_app::settings;

/// Exit code of an invalid command line or configuration (the systemd unit
/// does not restart on it).
constexpr int exit_bad_config = 2;

constexpr const char* config_prefix = "rtmp-server: invalid configuration: ";

// The --config path given, or "".
std::string config_path(const CLI::App& app) {
  const CLI::Option* opt = app.get_config_ptr();
  return opt != nullptr && opt->count() > 0 ? opt->as<std::string>() : std::string();
}

// A CLI11 parse error as a message naming the key. CLI11 says "INI was not
// able to parse KEY" for an unknown key in the file ("NAME.++" for a
// [NAME] section) and "Could not convert: --KEY = VALUE" for a non-number.
std::string describe(const CLI::ParseError& e, const CLI::App& app) {
  const std::string what = e.what();
  const std::string unknown = "INI was not able to parse ";
  if (what.rfind(unknown, 0) == 0) {
    std::string key = what.substr(unknown.size());
    if (key.size() > 3 && key.ends_with(".++")) {
      return "unknown section [" + key.substr(0, key.size() - 3) + "] in " + config_path(app) +
             " (keys go at the top level)";
    }
    return "unknown key \"" + key + "\" in " + config_path(app) + " (see --help)";
  }
  const std::string convert = "Could not convert: --";
  if (const auto eq = what.find(" = "); what.rfind(convert, 0) == 0 && eq != std::string::npos) {
    return what.substr(convert.size(), eq - convert.size()) + ": \"" + what.substr(eq + 3) + "\" is not an integer";
  }
  return what;
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
  bool show_version = false;
  bool print_config = false;
  settings s;
  app.add_flag("-V,--version", show_version, "Print the version and exit")->configurable(false);
  app.set_config("--config", "",
                 "Read settings from this TOML file (conventionally /etc/rtmp-server/rtmp-server.toml); "
                 "every flag below is a key, and flags given here override the file")
      ->type_name("FILE");
  app.allow_config_extras(CLI::config_extras_mode::error);
  app.add_flag("--print-config", print_config, "Print the effective configuration (a valid --config file) and exit")
      ->configurable(false);
  rtmp::server_app::add_setting_options(app, s);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help
    std::cerr << config_prefix << describe(e, app) << "\n";
    return exit_bad_config;
  }

  if (show_version) {
    std::cout << "rtmp-server " << rtmp::version_line() << "\n";
    return 0;
  }
  if (auto problem = rtmp::server_app::validate(s)) {
    std::cerr << config_prefix << problem->key << ": " << problem->problem << "\n";
    return exit_bad_config;
  }
  if (print_config) {
    std::cout << app.config_to_str(true, true);
    return 0;
  }
  rtmp::server_app::configure_logging(s.log_level, s.log_format);
  if (const auto path = config_path(app); !path.empty()) spdlog::info("configuration read from {}", path);
  const rtmp::net::server_config cfg = rtmp::server_app::to_server_config(s);
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
