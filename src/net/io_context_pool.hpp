#pragma once
/// @file io_context_pool.hpp
/// One `asio::io_context` per worker thread. Each connection is placed on one
/// context at accept time and lives there for its whole life, so nothing
/// inside a session needs a lock. Contexts talk to each other only through
/// `asio::post`.

#include <asio/io_context.hpp>
#include <asio/executor_work_guard.hpp>

#include <atomic>

#include <cstddef>
#include <memory>
#include <thread>
#include <vector>

namespace rtmp::net {

/// A fixed set of single-threaded io_contexts.
/// Thread-safety: `run()`, `stop()` and `join()` are called from the owning
/// (main) thread; `context(i)` and `next_index()` may be called from any thread.
class io_context_pool {
 public:
  /// Creates `workers` contexts (at least 1). Nothing runs until `run()`.
  explicit io_context_pool(std::size_t workers);
  ~io_context_pool();

  io_context_pool(const io_context_pool&) = delete;
  io_context_pool& operator=(const io_context_pool&) = delete;

  /// Number of contexts (= worker threads).
  std::size_t size() const noexcept { return contexts_.size(); }

  /// The context of worker `i` (0 <= i < size()).
  asio::io_context& context(std::size_t i) noexcept { return *contexts_[i]; }

  /// Index of the next worker in round-robin order (thread-safe).
  std::size_t next_index() noexcept;

  /// Starts one thread per context. Each keeps running until `stop()`.
  void run();

  /// Lets the contexts finish: drops the work guards so each thread exits
  /// when its context has nothing left to do. Pending handlers still run.
  void release() noexcept;

  /// Stops every context at once (pending handlers are abandoned).
  void stop() noexcept;

  /// Waits for every worker thread to exit.
  void join();

 private:
  using work_guard = asio::executor_work_guard<asio::io_context::executor_type>;
  std::vector<std::unique_ptr<asio::io_context>> contexts_;
  std::vector<work_guard> guards_;
  std::vector<std::thread> threads_;
  std::atomic<std::size_t> next_{0};
};

}  // namespace rtmp::net
