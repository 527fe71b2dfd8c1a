#pragma once
// What the server runs when publishes and plays end and while streams are
// published (hooks_config): the on-publish-done / on-play-done POSTs and the
// exec-publish / exec-publish-done processes. Internal to the server.

#include <asio/any_io_executor.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "net/log_limiter.hpp"
#include "net/reloadable.hpp"
#include "rtmp/net/server.hpp"

namespace rtmp::net {

/// A publish or play that ended, as its notification tells it.
struct session_end {
  bool publish = true;          ///< A publish, else a play.
  std::string app;              ///< Application.
  std::string stream;           ///< Stream name (no query).
  std::string client;           ///< The client's address.
  std::string client_endpoint;  ///< "ADDR:PORT".
  std::uint64_t duration_ms = 0;  ///< From the accepted publish or play to its end.
  std::uint64_t bytes = 0;        ///< Received (publish) or sent (play) on the connection.
  std::string reason;             ///< Why it ended ("unpublished", "peer closed the connection", ...).
  std::string protocol;           ///< "http-flv" for an HTTP-FLV viewer; empty for RTMP.
};

/// The JSON body of an on-publish-done / on-play-done POST.
std::string session_end_json(const session_end& e);

/// Runs the hooks of one server. Thread-safe: connections on every worker
/// call it; processes are watched from one timer on `watcher`.
class stream_hooks {
 public:
  /// `watcher` runs the process watch (the pool's first io_context).
  stream_hooks(const hooks_config& config, asio::io_context& watcher);
  ~stream_hooks();

  stream_hooks(const stream_hooks&) = delete;
  stream_hooks& operator=(const stream_hooks&) = delete;

  /// The port of the server's first RTMP listener, for RTMP_URL (set at start).
  void set_local_port(std::uint16_t port) noexcept { local_port_.store(port); }

  /// A publish or play ended: POSTs on-publish-done / on-play-done on `ex`,
  /// and for a publish runs exec-publish-done. Returns at once.
  void ended(const asio::any_io_executor& ex, session_end e);

  /// A publish of `app`/`stream` began: starts exec-publish for it.
  void publish_started(const std::string& app, const std::string& stream);

  /// It ended: its exec-publish process gets SIGTERM, then SIGKILL after
  /// the grace period.
  void publish_stopped(const std::string& app, const std::string& stream);

  /// Stops every process (server shutdown), waiting up to the grace period.
  void stop_all();

  /// The settings in force (any thread).
  std::shared_ptr<const hooks_config> config() const;

  /// Replaces the settings (a reload): publishes and plays that end from
  /// now on are notified under them, and publishes that begin get the new
  /// exec-publish commands; running processes keep the command they
  /// started with.
  void set_config(hooks_config config);

  /// exec-publish processes running now.
  std::size_t running() const;

 private:
  struct process {
    std::string app, stream;
    std::string command;                    // what exec-publish runs (and restarts)
    std::chrono::milliseconds grace{0};     // SIGTERM to SIGKILL
    pid_t pid = -1;
    int err_fd = -1;            // the read end of its stderr pipe
    std::string err_line;       // a partial stderr line
    bool live = true;           // the stream is still published
    std::chrono::steady_clock::time_point restart_at{};  // when dead while live
    std::chrono::milliseconds backoff{1'000};
    std::chrono::steady_clock::time_point kill_at{};    // SIGKILL after SIGTERM
  };

  bool spawn(process& p, const std::string& command);
  void watch();
  void drain_stderr(process& p);
  std::string url_of(const std::string& app, const std::string& stream) const;

  asio::io_context& watcher_;
  asio::steady_timer timer_;
  std::atomic<std::uint16_t> local_port_{0};
  std::shared_ptr<std::atomic<std::size_t>> pending_ = std::make_shared<std::atomic<std::size_t>>(0);
  mutable std::mutex mu_;
  reloadable<hooks_config> config_;
  std::map<std::string, process> processes_;  // stream key -> its exec-publish process
  bool watching_ = false;                     // mu_
  bool stopped_ = false;                      // mu_
  log_limiter limiter_;                       // mu_: stderr lines
};

}  // namespace rtmp::net
