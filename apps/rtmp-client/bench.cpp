// rtmp-client bench: the subcommand and the orchestration of a run (see
// bench.hpp). Many asynchronous RTMP connections on a few threads: each
// connection owns a sans-I/O client_session and a socket on one io_context;
// nothing is shared between threads while the run lasts except a few
// relaxed counters for the progress log. The statistics are read after
// every thread has been joined. The connections are in bench_connection,
// bench_player and bench_publisher, the report in bench_report.
#include "bench.hpp"

#include <CLI/CLI.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "bench_clock.hpp"
#include "bench_connection.hpp"
#include "bench_player.hpp"
#include "bench_publisher.hpp"
#include "bench_report.hpp"
#include "rtmp/error.hpp"
#include "rtmp/proto/client_session.hpp"
#include "rtmp/proto/flv_reader.hpp"
#include "rtmp/proto/rtmp_url.hpp"

namespace rtmp::bench {

namespace {

using namespace std::chrono_literals;

// Set by SIGINT / SIGTERM: the run ends early, and still reports.
std::atomic<bool> g_bench_stop{false};

extern "C" void rtmp_bench_on_signal(int) { g_bench_stop.store(true); }

// Raises the soft limit on open files to the hard one: a socket per player.
void raise_nofile_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &rl) != 0) spdlog::warn("cannot raise RLIMIT_NOFILE: {}", std::strerror(errno));
  }
}

// The soft limit on open files; 0 when unknown.
std::uint64_t open_file_limit() {
  rlimit rl{};
  return ::getrlimit(RLIMIT_NOFILE, &rl) == 0 ? static_cast<std::uint64_t>(rl.rlim_cur) : 0;
}

// SIGINT and SIGTERM stop the run (a second one kills); SIGPIPE is ignored.
void install_stop_signals() {
  struct sigaction sa {};
  sa.sa_handler = rtmp_bench_on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND;  // a second signal kills at once
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

// Sleeps until `deadline` in short steps; false when a stop signal came.
bool sleep_until(clock_type::time_point deadline) {
  while (!g_bench_stop.load()) {
    const auto now = clock_type::now();
    if (now >= deadline) return true;
    std::this_thread::sleep_for(std::min<clock_type::duration>(deadline - now, 50ms));
  }
  return false;
}

// The session settings of a connection to `url` that announces itself as `flash_ver`.
proto::client_session_config session_config(const proto::rtmp_url& url, const char* flash_ver) {
  proto::client_session_config cfg;
  cfg.connect.app = url.app;
  cfg.connect.tc_url = url.tc_url;
  cfg.connect.flash_ver = flash_ver;
  return cfg;
}

// The first address of the URL's host; nullopt (said in the log) when there is none.
std::optional<tcp::endpoint> resolve_endpoint(const proto::rtmp_url& url) {
  asio::io_context resolve_io;
  tcp::resolver resolver(resolve_io);
  std::error_code ec;
  const auto results = resolver.resolve(url.host, std::to_string(url.port), ec);
  if (ec || results.empty()) {
    spdlog::error("cannot resolve {}: {}", url.host, ec ? ec.message() : "no address");
    return std::nullopt;
  }
  return results.begin()->endpoint();
}

// One run once its URL is resolved and its input loaded: the player
// threads, the publisher on a thread of its own, and the phases from the
// ramp to the report.
class bench_run {
 public:
  // A run of `options` against `url`, whose host is at `endpoint`.
  bench_run(const bench_options& options, const proto::rtmp_url& url, const tcp::endpoint& endpoint)
      : options_(options),
        url_(url),
        endpoint_(endpoint),
        publishing_(!options.publish.empty()),
        thread_count_(options.threads > 0 ? options.threads
                                          : std::max<std::size_t>(1, std::thread::hardware_concurrency())),
        player_config_(session_config(url, "LNX 9,0,124,2")) {}

  // Runs every phase, prints the report and returns the exit code;
  // `file_tags` is what the publisher sends when it publishes a file.
  int run(std::vector<proto::flv_tag> file_tags) {
    const cpu_times cpu_at_start = process_cpu();
    timeline_.started = clock_type::now();
    start_player_threads();
    if (publishing_) start_publisher(std::move(file_tags));
    start_players();
    timeline_.ramp_ended = clock_type::now();
    const auto end = timeline_.ramp_ended + std::chrono::duration_cast<clock_type::duration>(
                                                std::chrono::duration<double>(options_.duration_s));
    if (!publisher_failed_) wait_for_first_keyframes(end);
    timeline_.window_opened = clock_type::now();
    open_bitrate_window();
    if (!publisher_failed_) {
      while (!g_bench_stop.load() && clock_type::now() < end) {
        sleep_until(std::min(end, clock_type::now() + 1s));
        log_progress(clock_type::now());
      }
    }
    if (g_bench_stop.load()) spdlog::info("bench: stopped by a signal");
    timeline_.stopped = clock_type::now();
    stop_connections();
    const cpu_times cpu_at_end = process_cpu();
    return print_report(cpu_at_start, cpu_at_end);
  }

 private:
  // Starts one thread per io_context, each with its deadline sweep.
  void start_player_threads() {
    for (std::size_t i = 0; i < thread_count_; ++i) {
      auto thread = std::make_unique<player_thread>();
      schedule_deadline_sweep(*thread);
      player_threads_.push_back(std::move(thread));
    }
    for (auto& thread : player_threads_) {
      player_thread* const target = thread.get();
      target->thread = std::thread([target] { target->io.run(); });
    }
  }

  // Starts the publisher on its thread and waits (up to the timeout) until
  // it publishes; when it does not, the run is a failure and plays nothing.
  void start_publisher(std::vector<proto::flv_tag> file_tags) {
    const auto cfg = session_config(url_, "FMLE/3.0 (compatible; rtmp-client bench)");
    publisher_ = std::make_unique<publisher>(publisher_io_, publisher_buffer_, cfg, options_, std::move(file_tags));
    publisher* pub = publisher_.get();
    asio::post(publisher_io_, [pub, this] { pub->begin(url_.stream, endpoint_); });
    publisher_thread_ = std::thread([this] { publisher_io_.run(); });
    const auto deadline = clock_type::now() + options_.timeout;
    while (pub->current_state() == publisher::state::connecting && clock_type::now() < deadline &&
           !g_bench_stop.load()) {
      std::this_thread::sleep_for(5ms);
    }
    if (pub->current_state() != publisher::state::publishing) {
      publisher_failed_ = true;
      asio::post(publisher_io_, [pub] {
        if (!pub->closed()) pub->close(errc::timeout);
      });
    } else {
      spdlog::debug("bench: publishing {}", options_.url);
    }
  }

  // Starts the players, at `ramp` per second, spread over the threads.
  void start_players() {
    const auto ramp_started = clock_type::now();
    last_log_ = ramp_started;
    if (publisher_failed_) return;
    for (std::size_t i = 0; i < options_.players && !g_bench_stop.load(); ++i) {
      if (options_.ramp > 0) {
        const auto due = ramp_started + std::chrono::duration_cast<clock_type::duration>(
                                            std::chrono::duration<double>(static_cast<double>(i) / options_.ramp));
        if (!sleep_until(due)) break;
      }
      player_thread& thread = *player_threads_[i % player_threads_.size()];
      asio::post(thread.io, [&thread, this, timeout = options_.timeout] {
        if (thread.stopping) return;
        thread.players.push_back(std::make_unique<player>(thread, player_config_, timeout));
        thread.players.back()->begin(url_.stream, endpoint_);
      });
      log_progress(clock_type::now());
    }
  }

  // Logs how many players play, at most every 5 s.
  void log_progress(clock_type::time_point now) {
    if (now - last_log_ < 5s) return;
    last_log_ = now;
    std::uint64_t playing = 0, failed = 0;
    for (const auto& thread : player_threads_) {
      playing += thread->playing.load(std::memory_order_relaxed);
      failed += thread->failed.load(std::memory_order_relaxed);
    }
    spdlog::info("bench: {:.0f} s, {} of {} players playing, {} failed", seconds_between(timeline_.started, now),
                 playing, options_.players, failed);
  }

  // The window for per-player bitrates opens once every player has its
  // first keyframe (or has failed), plus half a second: neither the burst of
  // cached GOP a joiner may get nor the wait for the next keyframe a server
  // may impose is steady-state throughput. Waits for that, but not past `end`.
  void wait_for_first_keyframes(clock_type::time_point end) {
    // Without our publisher the stream may be idle: do not wait long for keyframes.
    const auto settle_limit = publishing_ ? clock_type::duration(options_.timeout) : clock_type::duration(3s);
    const auto settle_deadline = std::min(end, timeline_.ramp_ended + settle_limit);
    const auto settled = [&] {
      std::uint64_t done = 0;
      for (const auto& thread : player_threads_) {
        done += thread->keyed.load(std::memory_order_relaxed) + thread->failed.load(std::memory_order_relaxed);
      }
      return done >= options_.players;
    };
    while (!g_bench_stop.load() && !settled() && clock_type::now() < settle_deadline) {
      std::this_thread::sleep_for(10ms);
    }
    sleep_until(std::min(end, clock_type::now() + 500ms));
  }

  // Tells every player thread that per-player bitrates count from now.
  void open_bitrate_window() {
    for (auto& thread : player_threads_) {
      player_thread* const target = thread.get();
      asio::post(target->io, [target] {
        target->measuring = true;
        target->measure_from = clock_type::now();
      });
    }
  }

  // Closes every connection on its own thread, then lets the threads end
  // and joins them.
  void stop_connections() {
    for (auto& thread : player_threads_) {
      player_thread* const target = thread.get();
      asio::post(target->io, [target] {
        target->stopping = true;
        target->sweep.cancel();
        for (auto& p : target->players) p->close({});
      });
      target->guard.reset();
    }
    if (publisher_) {
      publisher* pub = publisher_.get();
      asio::post(publisher_io_, [pub] { pub->stop(); });
    }
    publisher_guard_.reset();
    for (auto& thread : player_threads_) thread->thread.join();
    if (publisher_thread_.joinable()) publisher_thread_.join();
  }

  // Prints the report (JSON or table) and returns the exit code.
  int print_report(const cpu_times& cpu_at_start, const cpu_times& cpu_at_end) {
    const player_totals players = total_player_stats(player_threads_, options_.players);
    run_outcome outcome;
    outcome.threads = thread_count_;
    outcome.timeline = timeline_;
    outcome.publishing = publishing_;
    outcome.publisher_failed = publisher_failed_;
    outcome.publisher = publisher_ ? &publisher_->stats() : nullptr;
    outcome.cpu_at_start = cpu_at_start;
    outcome.cpu_at_end = cpu_at_end;
    const nlohmann::ordered_json report = build_report(options_, outcome, players);
    if (options_.json) {
      std::cout << report.dump() << std::endl;
    } else {
      print_table(report);
    }
    if (publisher_failed_) {
      spdlog::error("the publisher could not start: {}", report["publisher"]["error"].get<std::string>());
      return 1;
    }
    return 0;
  }

  const bench_options& options_;
  const proto::rtmp_url& url_;
  const tcp::endpoint endpoint_;
  const bool publishing_;
  const std::size_t thread_count_;
  const proto::client_session_config player_config_;  // every player's
  run_timeline timeline_;
  clock_type::time_point last_log_{};  // the last progress line
  // publisher_io_ is declared before publisher_, so that the publisher's
  // socket and timer go before their io_context (as a player_thread's
  // players go before its io).
  std::vector<std::unique_ptr<player_thread>> player_threads_;
  asio::io_context publisher_io_{1};
  asio::executor_work_guard<asio::io_context::executor_type> publisher_guard_{publisher_io_.get_executor()};
  std::vector<std::uint8_t> publisher_buffer_ = std::vector<std::uint8_t>(read_buffer_bytes);
  std::unique_ptr<publisher> publisher_;
  std::thread publisher_thread_;
  bool publisher_failed_ = false;
};

}  // namespace

// --- the subcommand -------------------------------------------------------------------------------

CLI::App* add_bench_command(CLI::App& app, bench_options& o) {
  auto* cmd = app.add_subcommand(
      "bench", "Load-test an RTMP server: many players on one URL, optionally with our own publisher");
  cmd->add_option("url,--url", o.url, "rtmp://host[:port]/app/stream (played, and published with --publish)")
      ->required();
  cmd->add_option("-n,--players", o.players, "Player connections to open")
      ->default_val(1)
      ->check(CLI::Range(0, 1'000'000));
  cmd->add_option("--publish", o.publish,
                  "Also publish to the URL: 'synthetic' (stamped frames: delay and gap figures) or an FLV file (looped)");
  cmd->add_option("--bitrate", o.bitrate, "Synthetic video bitrate in bits per second (25 fps, keyframe every 2 s)")
      ->default_val(2'500'000)
      ->check(CLI::Range(8'000.0, 1e9));
  cmd->add_option("--audio-bitrate", o.audio_bitrate, "Synthetic AAC-shaped audio bitrate in bits/s (0: no audio)")
      ->default_val(0)
      ->check(CLI::Range(0.0, 1e7));
  cmd->add_option("--ramp", o.ramp, "Player connections started per second (0: all at once)")
      ->default_val(500)
      ->check(CLI::Range(0.0, 1e6));
  cmd->add_option("--duration", o.duration_s, "Seconds to run after the last player was started")
      ->default_val(10)
      ->check(CLI::Range(0.0, 1e7));
  cmd->add_option("--threads", o.threads, "Player threads, one io_context each (0: one per core)")
      ->default_val(0)
      ->check(CLI::Range(0, 256));
  cmd->add_flag("--json", o.json, "Print one JSON object instead of a table");
  return cmd;
}

int run_bench(const bench_options& opt) {
  raise_nofile_limit();
  const std::uint64_t fd_limit = open_file_limit();
  if (fd_limit > 0 && opt.players + 64 > fd_limit) {
    spdlog::warn("{} players need more file descriptors than RLIMIT_NOFILE allows ({}); some will fail",
                 opt.players, fd_limit);
  }

  proto::rtmp_url url;
  std::string_view reason;
  if (auto ec = proto::parse_rtmp_url(opt.url, url, {}, &reason)) {
    spdlog::error("bad URL {}: {}", opt.url, reason);
    return 1;
  }
  if (url.tls) {
    spdlog::error("bench measures RTMP over TCP; rtmps:// URLs are not supported by bench");
    return 1;
  }
  const std::optional<tcp::endpoint> endpoint = resolve_endpoint(url);
  if (!endpoint) return 2;

  std::vector<proto::flv_tag> file_tags;
  if (!opt.publish.empty() && opt.publish != "synthetic") {
    if (auto ec = load_flv(opt.publish, file_tags)) {
      spdlog::error("cannot publish {}: {}", opt.publish, ec.message());
      return 1;
    }
  }

  install_stop_signals();
  return bench_run(opt, url, *endpoint).run(std::move(file_tags));
}

}  // namespace rtmp::bench
