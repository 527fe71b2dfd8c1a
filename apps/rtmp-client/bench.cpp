// rtmp-client bench: the subcommand and the orchestration of a run (see
// bench.hpp). Many asynchronous connections on a few threads: each owns a
// sans-I/O client_session (or HTTP-FLV reader) and a socket on one
// io_context; nothing is shared between threads while the run lasts except
// a few relaxed counters for the progress log and the threads' CPU clocks.
// The statistics are read after every thread has been joined. The
// connections are in bench_connection, bench_player, bench_http_player and
// bench_publisher, TLS for rtmps:// in bench_tls, the report in bench_report.
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
#include "bench_cpu.hpp"
#include "bench_http_player.hpp"
#include "bench_names.hpp"
#include "bench_player.hpp"
#include "bench_publisher.hpp"
#include "bench_report.hpp"
#include "bench_tls.hpp"
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
// threads, the publishers on a thread of their own, and the phases from the
// ramp to the report.
class bench_run {
 public:
  // A run of `options` against `url`, whose host is at `endpoint`, publishing
  // `file_tags` when it publishes a file; its RTMP connections run inside
  // TLS with `tls` (which outlives the run) unless it is null.
  bench_run(const bench_options& options, const proto::rtmp_url& url, const tcp::endpoint& endpoint,
            std::vector<proto::flv_tag> file_tags, const tls_client_config* tls)
      : options_(options),
        url_(url),
        tls_(tls),
        endpoint_(endpoint),
        player_endpoint_(options.http_flv_port != 0 ? tcp::endpoint(endpoint.address(), options.http_flv_port)
                                                    : endpoint),
        publishing_(!options.publish.empty()),
        thread_count_(options.threads > 0 ? options.threads
                                          : std::max<std::size_t>(1, std::thread::hardware_concurrency())),
        player_config_(session_config(url, "LNX 9,0,124,2")),
        site_{host_header(url.host, url.ipv6_literal, options.http_flv_port), url.app},
        file_tags_(std::move(file_tags)) {
    const std::size_t streams = std::max<std::size_t>(1, options.streams);
    for (std::size_t i = 0; i < streams; ++i) stream_names_.push_back(stream_name(url.stream, streams, i));
  }

  // Runs every phase, prints the report and returns the exit code.
  int run() {
    const cpu_times cpu_at_start = process_cpu();
    timeline_.started = clock_type::now();
    start_player_threads();
    if (publishing_) start_publishers();
    start_players();
    timeline_.ramp_ended = clock_type::now();
    const auto end = timeline_.ramp_ended + std::chrono::duration_cast<clock_type::duration>(
                                                std::chrono::duration<double>(options_.duration_s));
    if (!publisher_failed_) wait_for_first_keyframes(end);
    timeline_.window_opened = clock_type::now();
    sample_thread_cpu(/*at_stop=*/false);
    open_bitrate_window();
    if (!publisher_failed_) {
      while (!g_bench_stop.load() && clock_type::now() < end) {
        sleep_until(std::min(end, clock_type::now() + 1s));
        log_progress(clock_type::now());
      }
    }
    if (g_bench_stop.load()) spdlog::info("bench: stopped by a signal");
    timeline_.stopped = clock_type::now();
    sample_thread_cpu(/*at_stop=*/true);
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
      player_cpu_.push_back({.started = clock_type::now()});
    }
  }

  // Starts one publisher per stream, all on the publishers' thread, and
  // waits (up to the timeout) until each publishes; when one does not, the
  // run is a failure and plays nothing.
  void start_publishers() {
    const auto cfg = session_config(url_, "FMLE/3.0 (compatible; rtmp-client bench)");
    for (std::size_t i = 0; i < stream_names_.size(); ++i) {
      publishers_.push_back(std::make_unique<publisher>(publisher_io_, publisher_buffer_, cfg, options_, file_tags_,
                                                        publisher_lateness_us_));
      if (tls_ != nullptr) publishers_.back()->enable_tls(*tls_);
    }
    asio::post(publisher_io_, [this] {
      // Phased over the 1 ms slots of a video frame interval: their frames
      // are not all due at once, and the thread wakes at most once a slot.
      constexpr std::size_t slots = 1000 / synthetic_stream::fps;
      for (std::size_t i = 0; i < publishers_.size(); ++i) {
        publishers_[i]->begin(stream_names_[i], endpoint_, std::chrono::milliseconds(i % slots));
      }
    });
    publisher_thread_ = std::thread([this] { publisher_io_.run(); });
    publisher_cpu_.started = clock_type::now();
    const auto deadline = clock_type::now() + options_.timeout;
    const auto connecting = [this] {
      return std::any_of(publishers_.begin(), publishers_.end(),
                         [](const auto& p) { return p->current_state() == publisher::state::connecting; });
    };
    while (connecting() && clock_type::now() < deadline && !g_bench_stop.load()) std::this_thread::sleep_for(5ms);
    publisher_failed_ = std::any_of(publishers_.begin(), publishers_.end(),
                                    [](const auto& p) { return p->current_state() != publisher::state::publishing; });
    if (publisher_failed_) {
      asio::post(publisher_io_, [this] {
        for (auto& p : publishers_) {
          if (!p->closed() && p->current_state() != publisher::state::publishing) p->close(errc::timeout);
        }
      });
    } else {
      spdlog::debug("bench: publishing {} stream(s) to {}", publishers_.size(), options_.url);
    }
  }

  // Starts the players, at `ramp` per second, spread over the threads and
  // (round-robin) over the streams.
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
      const std::string& stream = stream_names_[stream_of_player(i, stream_names_.size())];
      asio::post(thread.io, [&thread, &stream, this] {
        if (thread.stopping) return;
        if (options_.http_flv_port != 0) {
          thread.players.push_back(std::make_unique<http_flv_player>(thread, site_, options_.timeout));
        } else {
          auto rtmp = std::make_unique<rtmp_player>(thread, player_config_, options_.timeout);
          if (tls_ != nullptr) rtmp->enable_tls(*tls_);
          thread.players.push_back(std::move(rtmp));
        }
        thread.players.back()->begin(stream, player_endpoint_);
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

  // Samples the CPU clock of every thread of the tool: when the bitrate
  // window opens, and `at_stop`, before the connections close.
  void sample_thread_cpu(bool at_stop) {
    const auto sample = [at_stop](thread_cpu_track& track, std::thread& thread) {
      const auto now = clock_type::now();
      const double cpu = thread_cpu_seconds(thread).value_or(0);
      if (at_stop) {
        track.stopped = now;
        track.cpu_at_stop = cpu;
      } else {
        track.window = now;
        track.cpu_at_window = cpu;
      }
    };
    for (std::size_t i = 0; i < player_threads_.size(); ++i) sample(player_cpu_[i], player_threads_[i]->thread);
    if (publisher_thread_.joinable()) sample(publisher_cpu_, publisher_thread_);
  }

  // Closes every player on its own thread and joins the threads, then stops
  // the publishers: a player never sees its stream end because the run ended.
  void stop_connections() {
    for (auto& thread : player_threads_) {
      player_thread* const target = thread.get();
      asio::post(target->io, [target] {
        target->stopping = true;
        target->sweep.cancel();
        for (auto& p : target->players) p->end({});
      });
      target->guard.reset();
    }
    for (auto& thread : player_threads_) thread->thread.join();
    asio::post(publisher_io_, [this] {
      for (auto& p : publishers_) p->stop();
    });
    publisher_guard_.reset();
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
    for (const auto& p : publishers_) outcome.publishers.push_back(&p->stats());
    if (publishing_) outcome.publisher_lateness_us = &publisher_lateness_us_;
    outcome.cpu_at_start = cpu_at_start;
    outcome.cpu_at_end = cpu_at_end;
    for (const auto& track : player_cpu_) outcome.player_thread_shares.push_back(track.share());
    if (publishing_) outcome.publisher_thread_share = publisher_cpu_.share();
    outcome.tls = tls_ != nullptr;
    const nlohmann::ordered_json report = build_report(options_, outcome, players);
    if (options_.json) {
      std::cout << report.dump() << std::endl;
    } else {
      print_table(report);
    }
    if (report["tool_saturated"].get<bool>()) {
      spdlog::warn("bench: a thread of the tool was saturated (busiest player thread {:.0f} % of a core); "
                   "its figures may show the tool's limit",
                   report["threads_cpu"]["player_max_percent"].get<double>());
    }
    if (publisher_failed_) {
      spdlog::error("a publisher could not start: {}", report["publisher"]["error"].get<std::string>());
      return 1;
    }
    return 0;
  }

  const bench_options& options_;
  const proto::rtmp_url& url_;
  const tls_client_config* const tls_;   // rtmps://; null over plain TCP
  const tcp::endpoint endpoint_;         // RTMP: the publishers', and the players' without --http-flv
  const tcp::endpoint player_endpoint_;  // where the players connect
  const bool publishing_;
  const std::size_t thread_count_;
  const proto::client_session_config player_config_;  // every RTMP player's
  const http_flv_site site_;                           // every HTTP-FLV player's
  const std::vector<proto::flv_tag> file_tags_;        // every publisher's, when publishing a file
  std::vector<std::string> stream_names_;              // one per stream
  run_timeline timeline_;
  clock_type::time_point last_log_{};  // the last progress line
  std::vector<thread_cpu_track> player_cpu_;  // one per player thread
  thread_cpu_track publisher_cpu_;
  // publisher_io_ is declared before publishers_, so that the publishers'
  // sockets and timers go before their io_context (as a player_thread's
  // players go before its io).
  std::vector<std::unique_ptr<player_thread>> player_threads_;
  asio::io_context publisher_io_{1};
  asio::executor_work_guard<asio::io_context::executor_type> publisher_guard_{publisher_io_.get_executor()};
  std::vector<std::uint8_t> publisher_buffer_ = std::vector<std::uint8_t>(read_buffer_bytes);
  histogram publisher_lateness_us_;  // of every publisher, on their thread
  std::vector<std::unique_ptr<publisher>> publishers_;
  std::thread publisher_thread_;
  bool publisher_failed_ = false;
};

}  // namespace

// --- the subcommand -------------------------------------------------------------------------------

CLI::App* add_bench_command(CLI::App& app, bench_options& o) {
  auto* cmd = app.add_subcommand("bench",
                                 "Load-test an RTMP or RTMPS server: many players on one or more streams, optionally "
                                 "with our own publishers");
  cmd->add_option("url,--url", o.url,
                  "rtmp[s]://host[:port]/app/stream (played, and published with --publish; --streams N: "
                  "stream-0..stream-{N-1}); rtmps://: every RTMP connection inside TLS, the certificate checked "
                  "unless --insecure (--ca-file FILE trusts a CA)")
      ->required();
  cmd->add_option("-n,--players", o.players, "Player connections to open (spread round-robin over the streams)")
      ->default_val(1)
      ->check(CLI::Range(0, 1'000'000));
  cmd->add_option("--streams", o.streams,
                  "Streams: the URL's name with a suffix, cam-0..cam-{N-1} (1: the plain name); with --publish, "
                  "one publisher each, all on one thread")
      ->default_val(1)
      ->check(CLI::Range(1, 100'000));
  cmd->add_option("--publish", o.publish,
                  "Also publish every stream: 'synthetic' (valid H.264 and AAC-LC, video frames stamped in an SEI "
                  "NAL unit: delay and gap figures) or an FLV file (looped)");
  cmd->add_option("--bitrate", o.bitrate,
                  "Synthetic video bitrate per stream in bits per second (25 fps, keyframe every 2 s)")
      ->default_val(2'500'000)
      ->check(CLI::Range(8'000.0, 1e9));
  cmd->add_option("--audio-bitrate", o.audio_bitrate,
                  "Synthetic AAC-LC audio bitrate per stream in bits/s (44.1 kHz stereo; 0: no audio)")
      ->default_val(0)
      ->check(CLI::Range(0.0, 1e7));
  cmd->add_option("--http-flv", o.http_flv_port,
                  "Players play over HTTP-FLV instead of RTMP: GET http://HOST:PORT/APP/STREAM.flv, HOST, APP "
                  "and STREAM from the URL, PORT this value (publishers still use RTMP)")
      ->check(CLI::Range(1, 65535));
  cmd->add_option("--ramp", o.ramp, "Player connections started per second (0: all at once)")
      ->default_val(500)
      ->check(CLI::Range(0.0, 1e6));
  cmd->add_option("--duration", o.duration_s, "Seconds to run after the last player was started")
      ->default_val(10)
      ->check(CLI::Range(0.0, 1e7));
  cmd->add_option("--threads", o.threads,
                  "Player threads, one io_context each (0: one per core); the report warns when one was saturated")
      ->default_val(0)
      ->check(CLI::Range(0, 256));
  cmd->add_flag("--json", o.json, "Print one JSON object instead of a table");
  // rtmps://: the program's own --insecure and --ca-file, which may come
  // before or after `bench`. Read once the whole command line is parsed.
  CLI::Option* const insecure = app.get_option_no_throw("--insecure");
  CLI::Option* const ca_file = app.get_option_no_throw("--ca-file");
  cmd->final_callback([&o, insecure, ca_file] {
    if (insecure != nullptr && insecure->count() > 0) o.tls_verify = !insecure->as<bool>();
    if (ca_file != nullptr && ca_file->count() > 0) o.tls_ca_file = ca_file->as<std::string>();
  });
  return cmd;
}

int run_bench(const bench_options& opt) {
  raise_nofile_limit();
  const std::uint64_t fd_limit = open_file_limit();
  const std::size_t publishers = opt.publish.empty() ? 0 : opt.streams;
  if (fd_limit > 0 && opt.players + publishers + 64 > fd_limit) {
    spdlog::warn("{} players and {} publishers need more file descriptors than RLIMIT_NOFILE allows ({}); "
                 "some will fail",
                 opt.players, publishers, fd_limit);
  }

  proto::rtmp_url url;
  std::string_view reason;
  if (auto ec = proto::parse_rtmp_url(opt.url, url, {}, &reason)) {
    spdlog::error("bad URL {}: {}", opt.url, reason);
    return 1;
  }
  std::unique_ptr<tls_client_config> tls;
  if (url.tls) {
    std::string why;
    tls = tls_client_config::make(url.host, opt.tls_verify, opt.tls_ca_file, why);
    if (tls == nullptr) {
      spdlog::error("rtmps: {}", why);
      return 1;
    }
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
  return bench_run(opt, url, *endpoint, std::move(file_tags), tls.get()).run();
}

}  // namespace rtmp::bench
