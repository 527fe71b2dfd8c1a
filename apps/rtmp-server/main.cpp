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

#include <cctype>
#include <csignal>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "config.hpp"
#include "config_file.hpp"
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

// The long names of the settings ("listen", ...), for "did you mean" hints.
std::vector<std::string> setting_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::Option* opt : app.get_options({})) {
    if (!opt->get_lnames().empty()) names.push_back(opt->get_lnames().front());
  }
  return names;
}

// " (did you mean PREFIX+NAME?)" for the setting nearest to `typed`, or "".
std::string hint(const CLI::App& app, std::string_view typed, std::string_view prefix) {
  const auto near = rtmp::server_app::nearest_name(typed, setting_names(app));
  return near ? " (did you mean " + std::string(prefix) + *near + "?)" : std::string();
}

// "FILE:LINE: " when `key` was set in the configuration file and not on the
// command line (whose value wins), else "".
std::string file_position(const CLI::App& app, const rtmp::server_app::toml_config& file, const std::string& key,
                          const std::vector<std::string>& args) {
  const auto line = file.line_of(key);
  if (!line) return "";
  const CLI::Option* opt = app.get_option_no_throw("--" + key);
  for (const auto& arg : args) {
    if (arg == "--" + key || arg.rfind("--" + key + "=", 0) == 0) return "";
    if (opt != nullptr && arg.size() >= 2 && arg[0] == '-' && arg[1] != '-' &&
        opt->check_sname(arg.substr(1, 1))) {
      return "";
    }
  }
  return config_path(app) + ":" + std::to_string(*line) + ": ";
}

// A CLI11 parse error as a message naming the file, line and key. The file
// reader says "LINE:COLUMN: ..." for a syntax error; CLI11 says "INI was
// not able to parse KEY" for an unknown key in the file, "The following
// argument(s) ... not expected: ..." for an unknown flag, and "Could not
// convert: --KEY = VALUE" for a non-number.
std::string describe(const CLI::ParseError& e, const CLI::App& app, const rtmp::server_app::toml_config& file,
                     const std::vector<std::string>& args) {
  const std::string what = e.what();
  if (!what.empty() && std::isdigit(static_cast<unsigned char>(what.front())) != 0) {
    return config_path(app) + ":" + what;  // from the file reader
  }
  const std::string unknown = "INI was not able to parse ";
  if (what.rfind(unknown, 0) == 0) {
    const std::string key = what.substr(unknown.size());
    return file_position(app, file, key, {}) + "unknown key \"" + key + "\"" + hint(app, key, "") + " (see --help)";
  }
  if (const auto colon = what.find("not expected: "); colon != std::string::npos) {
    // The first unknown flag, else the first stray argument.
    std::istringstream extras(what.substr(colon + 14));
    std::string first, word;
    while (extras >> word) {
      if (first.empty() || (word.rfind("-", 0) == 0 && first.rfind("-", 0) != 0)) first = word;
    }
    if (first.rfind("--", 0) == 0) {
      return "unknown option " + first + hint(app, first.substr(2, first.find('=') - 2), "--") + " (see --help)";
    }
    return "unexpected argument " + first + " (see --help)";
  }
  const std::string convert = "Could not convert: --";
  if (const auto eq = what.find(" = "); what.rfind(convert, 0) == 0 && eq != std::string::npos) {
    const std::string key = what.substr(convert.size(), eq - convert.size());
    return file_position(app, file, key, args) + key + ": \"" + what.substr(eq + 3) + "\" is not an integer";
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

// The command line and the configuration file it names: parsed at start,
// and again for each reload.
struct command_line {
  CLI::App app{"rtmp-server: RTMP live-streaming server.\n"
               "Publish with: ffmpeg -re -i in.flv -c copy -f flv rtmp://HOST:1935/live/KEY\n"
               "Play with:    ffplay rtmp://HOST:1935/live/KEY"};
  settings s;
  bool show_version = false;
  bool print_config = false;
  bool show_secrets = false;
  std::shared_ptr<rtmp::server_app::toml_config> file = std::make_shared<rtmp::server_app::toml_config>();

  command_line() {
    app.add_flag("-V,--version", show_version, "Print the version and exit")->configurable(false);
    app.set_config("--config", "",
                   "Read settings from this TOML file (conventionally /etc/rtmp-server/rtmp-server.toml); "
                   "every flag below is a key, and flags given here override the file; SIGHUP reads it again")
        ->type_name("FILE");
    app.allow_config_extras(CLI::config_extras_mode::error);
    app.config_formatter(file);
    app.add_flag("--print-config", print_config, "Print the effective configuration (a valid --config file) and exit")
        ->configurable(false);
    app.add_flag("--show-secrets", show_secrets,
                 "With --print-config: print tokens, callback queries and push keys instead of \"<redacted>\"")
        ->configurable(false);
    rtmp::server_app::add_setting_options(app, s);
  }
  command_line(const command_line&) = delete;
  command_line& operator=(const command_line&) = delete;

  /// Parses `argc`/`argv` and checks the result; the problem ("" for --help:
  /// `help` is then set), or nothing.
  std::optional<std::string> parse(int argc, char** argv, bool& help) {
    const std::vector<std::string> args(argv + 1, argv + argc);
    help = false;
    try {
      app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
      if (e.get_exit_code() == 0) {
        help = true;
        app.exit(e);
        return std::string();
      }
      return describe(e, app, *file, args);
    }
    s.access_order = rtmp::server_app::order_access_rules(app, *file);
    if (show_version) return std::nullopt;
    if (auto problem = rtmp::server_app::validate(s)) {
      return file_position(app, *file, problem->key, args) + problem->key + ": " + problem->problem;
    }
    return std::nullopt;
  }
};

// SIGHUP and POST /api/reload: reads the command line's configuration again
// and puts what can change at run time in force (rtmp::net::server::reload).
// An invalid file changes nothing. systemd hears RELOADING=1 and READY=1
// around it. Returns whether it was put in force, and what changed or what
// is wrong. One reload at a time.
std::pair<bool, std::string> reload(rtmp::net::server& server, int argc, char** argv) {
  static std::mutex one_at_a_time;
  const std::lock_guard lock(one_at_a_time);
  const auto now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  rtmp::net::systemd_notify("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(now_us));
  auto next = std::make_unique<command_line>();
  bool help = false;
  const auto refuse = [](const std::string& problem) -> std::pair<bool, std::string> {
    spdlog::error("reload refused, the configuration in force stays: {}", problem);
    rtmp::net::systemd_notify("READY=1\nSTATUS=Reload refused: " + problem.substr(0, 200));
    return {false, problem};
  };
  if (auto problem = next->parse(argc, argv, help)) return refuse(*problem);
  rtmp::net::reload_result result = server.reload(rtmp::server_app::to_server_config(next->s));
  if (!result.applied) return refuse(result.problem);
  std::vector<std::string>& changes = result.changes;
  const auto level = spdlog::level::from_str(next->s.log_level);
  if (level != spdlog::get_level()) {
    spdlog::set_level(level);
    changes.emplace_back("log level");
  }
  std::string text;
  for (const auto& c : changes) text += (text.empty() ? "" : "; ") + c;
  if (text.empty()) text = "nothing changed";
  spdlog::info("reload: {}", text);
  rtmp::net::systemd_notify("READY=1\nSTATUS=Accepting RTMP connections");
  return {true, text};
}

}  // namespace

int main(int argc, char** argv) {
  auto cl = std::make_unique<command_line>();
  bool help = false;
  if (auto problem = cl->parse(argc, argv, help)) {
    if (help) return 0;
    std::cerr << config_prefix << *problem << "\n";
    return exit_bad_config;
  }
  settings& s = cl->s;
  CLI::App& app = cl->app;
  if (cl->show_version) {
    std::cout << "rtmp-server " << rtmp::version_line() << "\n";
    return 0;
  }
  if (cl->print_config) {
    cl->file->show_secrets(cl->show_secrets);
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
    // SIGHUP (systemctl reload): the configuration again, nobody dropped.
    asio::signal_set reloads(main_ctx, SIGHUP);
    std::function<void()> wait_for_reload = [&] {
      reloads.async_wait([&](const std::error_code& ec, int) {
        if (ec) return;
        (void)reload(server, argc, argv);
        wait_for_reload();
      });
    };
    wait_for_reload();
    server.set_reload_handler([&server, argc, argv] { return reload(server, argc, argv); });
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
