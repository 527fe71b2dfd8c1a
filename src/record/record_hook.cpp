#include "record/record_hook.hpp"

#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <vector>

#include "server/auth.hpp"
#include "net/coroutine_support.hpp"
#include "net/spawn.hpp"

namespace rtmp::net {

namespace {

// Decrements the in-flight count when the hook's coroutine ends (or is
// destroyed with its io_context).
struct running_slot {
  std::shared_ptr<std::atomic<std::size_t>> count;
  running_slot(const running_slot&) = delete;
  running_slot& operator=(const running_slot&) = delete;
  explicit running_slot(std::shared_ptr<std::atomic<std::size_t>> c) : count(std::move(c)) {}
  ~running_slot() { count->fetch_sub(1, std::memory_order_relaxed); }
};

// Spawns `/bin/sh -c CMD rtmp-record PATH` (the file as $1) with the
// recording's facts in the environment; -1 on failure.
pid_t spawn_command(const std::string& command, const record_done_info& info) {
  return spawn_shell(command, {"rtmp-record", info.path},
                     {"RTMP_RECORD_PATH=" + info.path, "RTMP_RECORD_APP=" + info.app,
                      "RTMP_RECORD_STREAM=" + info.stream, "RTMP_RECORD_BYTES=" + std::to_string(info.bytes),
                      "RTMP_RECORD_DURATION_MS=" + std::to_string(info.duration_ms)});
}

asio::awaitable<void> run_command(std::string command, record_done_info info, std::chrono::milliseconds timeout,
                                  std::shared_ptr<running_slot> slot) {
  const pid_t pid = spawn_command(command, info);
  if (pid < 0) {
    spdlog::warn("record: on-record-done command could not be started for {}", info.path);
    co_return;
  }
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer timer(ex);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  for (;;) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid || r < 0) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, &status, 0);  // just killed: returns at once
      spdlog::warn("record: on-record-done command for {} killed after {} ms", info.path, timeout.count());
      co_return;
    }
    timer.expires_after(record_hook_poll_interval);
    co_await timer.async_wait(as_tuple(use_awaitable));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    spdlog::info("record: on-record-done command for {} succeeded", info.path);
  } else {
    spdlog::warn("record: on-record-done command for {} failed (status {})", info.path,
                 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  }
  (void)slot;
}

asio::awaitable<void> run_post(std::string url, record_done_info info, std::chrono::milliseconds timeout,
                               std::string ca_file, std::shared_ptr<running_slot> slot) {
  auto ex = co_await asio::this_coro::executor;
  const int status = co_await post_json(ex, url, record_done_json(info), timeout, ca_file);
  if (status >= 200 && status < 300) {
    spdlog::info("record: on-record-done callback for {} answered {}", info.path, status);
  } else if (status > 0) {
    spdlog::warn("record: on-record-done callback for {} answered {}", info.path, status);
  } else {
    spdlog::warn("record: on-record-done callback for {} could not be reached in time", info.path);
  }
  (void)slot;
}

}  // namespace

std::string record_done_json(const record_done_info& info) {
  return nlohmann::json{{"app", info.app},
                        {"stream", info.stream},
                        {"path", info.path},
                        {"bytes", info.bytes},
                        {"duration_ms", info.duration_ms}}
      .dump();
}

void start_record_done_hook(const asio::any_io_executor& ex, const recording_config& cfg, record_done_info info,
                            const std::shared_ptr<std::atomic<std::size_t>>& running) {
  if (cfg.on_done.empty()) return;
  if (running->fetch_add(1, std::memory_order_relaxed) >= cfg.max_pending_hooks) {
    running->fetch_sub(1, std::memory_order_relaxed);
    spdlog::warn("record: {} on-record-done hooks already running; not run for {}", cfg.max_pending_hooks,
                 info.path);
    return;
  }
  auto slot = std::make_shared<running_slot>(running);
  if (cfg.on_done.rfind("http://", 0) == 0 || cfg.on_done.rfind("https://", 0) == 0) {
    asio::co_spawn(ex, run_post(cfg.on_done, std::move(info), cfg.on_done_timeout, cfg.ca_file, std::move(slot)),
                   log_failure("on-record-done POST"));
  } else {
    asio::co_spawn(ex, run_command(cfg.on_done, std::move(info), cfg.on_done_timeout, std::move(slot)),
                   log_failure("on-record-done command"));
  }
}

}  // namespace rtmp::net
