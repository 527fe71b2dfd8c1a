#include "server/stream_hooks.hpp"

#include <asio/co_spawn.hpp>
#include <asio/post.hpp>
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <thread>
#include <vector>

#include "net/coroutine_support.hpp"
#include "net/http_post.hpp"
#include "net/spawn.hpp"

namespace rtmp::net {

namespace {

using clock_type = std::chrono::steady_clock;

/// How often running processes are looked at (exit, stderr, kill deadline).
constexpr std::chrono::milliseconds watch_interval{100};
/// Longest restart delay of a process that keeps dying.
constexpr std::chrono::milliseconds exec_backoff_max{30'000};
/// Bytes of one stderr line logged at most (the rest is cut).
constexpr std::size_t max_stderr_line = 1024;

asio::awaitable<void> post_end(std::string url, std::string body, std::chrono::milliseconds timeout,
                               std::string ca_file, std::string what,
                               std::shared_ptr<std::atomic<std::size_t>> pending) {
  auto ex = co_await asio::this_coro::executor;
  const int status = co_await post_json(ex, url, std::move(body), timeout, std::move(ca_file));
  pending->fetch_sub(1, std::memory_order_relaxed);
  if (status < 200 || status >= 300) {
    spdlog::warn("hooks: {} {}", what,
                 status > 0 ? "answered " + std::to_string(status) : std::string("could not be reached in time"));
  }
}

// Runs a done-command to its end (or kills it after `limit`), off the workers' paths.
asio::awaitable<void> run_done_command(pid_t pid, std::string what, std::chrono::milliseconds limit,
                                       std::shared_ptr<std::atomic<std::size_t>> pending) {
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer timer(ex);
  const auto deadline = clock_type::now() + limit;
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (clock_type::now() >= deadline) {
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      spdlog::warn("hooks: {} killed after {} ms", what, limit.count());
      break;
    }
    timer.expires_after(watch_interval);
    co_await timer.async_wait(as_tuple(use_awaitable));
  }
  pending->fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace

std::string session_end_json(const session_end& e) {
  nlohmann::json body{{"action", e.publish ? "publish_done" : "play_done"},
                      {"app", e.app},
                      {"stream", e.stream},
                      {"client", e.client},
                      {"client_endpoint", e.client_endpoint},
                      {"duration_ms", e.duration_ms},
                      {"bytes", e.bytes},
                      {"reason", e.reason}};
  if (!e.protocol.empty()) body["protocol"] = e.protocol;
  return body.dump();
}

stream_hooks::stream_hooks(const hooks_config& config, asio::io_context& watcher)
    : watcher_(watcher), timer_(watcher), config_(config) {}

stream_hooks::~stream_hooks() {
  for (auto& [key, p] : processes_) {
    if (p.pid > 0) {
      ::kill(-p.pid, SIGKILL);
      ::waitpid(p.pid, nullptr, 0);
    }
    if (p.err_fd >= 0) ::close(p.err_fd);
  }
}

std::string stream_hooks::url_of(const std::string& app, const std::string& stream) const {
  return "rtmp://127.0.0.1:" + std::to_string(local_port_.load()) + "/" + app + "/" + stream;
}

void stream_hooks::ended(const asio::any_io_executor& ex, session_end e) {
  const auto cfg = config();
  const std::string& url = e.publish ? cfg->on_publish_done : cfg->on_play_done;
  const bool post = !url.empty();
  const auto done_command = e.publish ? cfg->exec_publish_done.find(e.app) : cfg->exec_publish_done.end();
  const bool run = done_command != cfg->exec_publish_done.end();
  for (int n = (post ? 1 : 0) + (run ? 1 : 0); n > 0; --n) {
    if (pending_->fetch_add(1, std::memory_order_relaxed) >= cfg->max_pending) {
      pending_->fetch_sub(1, std::memory_order_relaxed);
      spdlog::warn("hooks: {} notifications already running; the end of {}/{} is only logged", cfg->max_pending,
                   e.app, e.stream);
      return;
    }
  }
  const std::string what = std::string(e.publish ? "on-publish-done" : "on-play-done") + " for " + e.app + "/" +
                           e.stream;
  if (post) {
    asio::co_spawn(ex, post_end(url, session_end_json(e), cfg->timeout, cfg->ca_file, what, pending_),
                   log_failure("hook POST"));
  }
  if (run) {
    const pid_t pid = spawn_shell(done_command->second, {},
                                  {"RTMP_APP=" + e.app, "RTMP_STREAM=" + e.stream, "RTMP_URL=" + url_of(e.app, e.stream)});
    if (pid < 0) {
      pending_->fetch_sub(1, std::memory_order_relaxed);
      spdlog::warn("hooks: exec-publish-done for {}/{} could not be started", e.app, e.stream);
      return;
    }
    asio::co_spawn(ex, run_done_command(pid, "exec-publish-done for " + e.app + "/" + e.stream, cfg->timeout * 10,
                                        pending_),
                   log_failure("exec-publish-done"));
  }
}

bool stream_hooks::spawn(process& p, const std::string& command) {
  int fds[2] = {-1, -1};
  if (::pipe2(fds, O_CLOEXEC) != 0) fds[0] = fds[1] = -1;
  p.pid = spawn_shell(command, {},
                      {"RTMP_APP=" + p.app, "RTMP_STREAM=" + p.stream, "RTMP_URL=" + url_of(p.app, p.stream)}, fds[1]);
  if (fds[1] >= 0) ::close(fds[1]);
  if (p.pid < 0) {
    if (fds[0] >= 0) ::close(fds[0]);
    return false;
  }
  if (fds[0] >= 0) ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
  p.err_fd = fds[0];
  spdlog::info("hooks: exec-publish for {}/{} started (pid {})", p.app, p.stream, p.pid);
  return true;
}

void stream_hooks::publish_started(const std::string& app, const std::string& stream) {
  const auto cfg = config();
  const auto command = cfg->exec_publish.find(app);
  if (command == cfg->exec_publish.end()) return;
  std::lock_guard lock(mu_);
  if (stopped_) return;
  const std::string key = app + "/" + stream;
  auto [it, fresh] = processes_.try_emplace(key);
  process& p = it->second;
  if (!fresh && p.pid > 0) {
    // The previous publish's process is still stopping: let it go, start anew.
    ::kill(-p.pid, SIGKILL);
    ::waitpid(p.pid, nullptr, 0);
    if (p.err_fd >= 0) ::close(p.err_fd);
    p = process{};
  }
  p.app = app;
  p.stream = stream;
  p.command = command->second;
  p.grace = cfg->exec_stop_grace;
  p.live = true;
  if (!spawn(p, p.command)) {
    spdlog::warn("hooks: exec-publish for {} could not be started; retrying", key);
    p.restart_at = clock_type::now() + p.backoff;
  }
  if (!watching_) {
    watching_ = true;
    asio::post(watcher_, [this] { watch(); });
  }
}

void stream_hooks::publish_stopped(const std::string& app, const std::string& stream) {
  std::lock_guard lock(mu_);
  const auto it = processes_.find(app + "/" + stream);
  if (it == processes_.end()) return;
  process& p = it->second;
  p.live = false;
  if (p.pid > 0) {
    ::kill(-p.pid, SIGTERM);
    p.kill_at = clock_type::now() + p.grace;
  }
}

void stream_hooks::drain_stderr(process& p) {
  if (p.err_fd < 0) return;
  char buf[4096];
  for (int reads = 0; reads < 16; ++reads) {
    const ssize_t n = ::read(p.err_fd, buf, sizeof buf);
    if (n <= 0) {
      if (n == 0) {
        ::close(p.err_fd);
        p.err_fd = -1;
      }
      return;
    }
    for (ssize_t i = 0; i < n; ++i) {
      if (buf[i] != '\n') {
        if (p.err_line.size() < max_stderr_line) p.err_line += buf[i];
        continue;
      }
      std::uint64_t suppressed = 0;
      if (limiter_.allow(p.app + "/" + p.stream, clock_type::now(), suppressed)) {
        spdlog::info("hooks: exec-publish {}/{}: {}", p.app, p.stream, p.err_line);
      }
      p.err_line.clear();
    }
  }
}

void stream_hooks::watch() {
  std::lock_guard lock(mu_);
  if (stopped_) {
    for (auto& [key, p] : processes_) {
      if (p.err_fd >= 0) ::close(p.err_fd);
      p.err_fd = -1;
    }
    processes_.clear();  // stop_all reaped them
    watching_ = false;
    return;
  }
  const auto now = clock_type::now();
  for (auto it = processes_.begin(); it != processes_.end();) {
    process& p = it->second;
    drain_stderr(p);
    if (p.pid > 0) {
      int status = 0;
      if (::waitpid(p.pid, &status, WNOHANG) == p.pid) {
        if (p.live) {
          spdlog::warn("hooks: exec-publish for {}/{} exited (status {}); restarting in {} ms", p.app, p.stream,
                       WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), p.backoff.count());
          p.restart_at = now + p.backoff;
          p.backoff = std::min(p.backoff * 2, exec_backoff_max);
        }
        p.pid = -1;
      } else if (!p.live && now >= p.kill_at) {
        ::kill(-p.pid, SIGKILL);
        ::waitpid(p.pid, &status, 0);
        p.pid = -1;
      }
    }
    if (p.pid < 0 && p.live && now >= p.restart_at && !stopped_) {
      (void)spawn(p, p.command);  // the command it started with, whatever a reload changed
      if (p.pid < 0) p.restart_at = now + p.backoff;
    }
    if (p.pid < 0 && !p.live) {
      if (p.err_fd >= 0) ::close(p.err_fd);
      spdlog::info("hooks: exec-publish for {}/{} ended", p.app, p.stream);
      it = processes_.erase(it);
    } else {
      ++it;
    }
  }
  if (processes_.empty()) {
    watching_ = false;
    return;
  }
  timer_.expires_after(watch_interval);
  timer_.async_wait([this](const std::error_code& ec) {
    if (!ec) watch();
  });
}

void stream_hooks::stop_all() {
  std::chrono::milliseconds grace{0};
  {
    std::lock_guard lock(mu_);
    grace = config()->exec_stop_grace;
    stopped_ = true;
    for (auto& [key, p] : processes_) {
      p.live = false;
      if (p.pid > 0) ::kill(-p.pid, SIGTERM);
    }
  }
  const auto deadline = clock_type::now() + grace;
  for (;;) {
    std::lock_guard lock(mu_);
    bool any = false;
    for (auto& [key, p] : processes_) {
      if (p.pid > 0 && ::waitpid(p.pid, nullptr, WNOHANG) == p.pid) p.pid = -1;
      if (p.pid > 0 && clock_type::now() >= deadline) {
        ::kill(-p.pid, SIGKILL);
        ::waitpid(p.pid, nullptr, 0);
        p.pid = -1;
      }
      any = any || p.pid > 0;
    }
    if (!any) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // bounded by the grace period
  }
  asio::post(watcher_, [this] { timer_.cancel(); });  // the watch ends: its worker may run out of work
}

std::shared_ptr<const hooks_config> stream_hooks::config() const { return config_.load(); }

void stream_hooks::set_config(hooks_config config) { config_.store(std::move(config)); }

std::size_t stream_hooks::running() const {
  std::lock_guard lock(mu_);
  std::size_t n = 0;
  for (const auto& [key, p] : processes_) n += p.pid > 0 ? 1 : 0;
  return n;
}

}  // namespace rtmp::net
