#include "net/io_context_pool.hpp"

#include <algorithm>

namespace rtmp::net {

io_context_pool::io_context_pool(std::size_t workers) {
  workers = std::max<std::size_t>(1, workers);
  contexts_.reserve(workers);
  guards_.reserve(workers);
  for (std::size_t i = 0; i < workers; ++i) {
    // Concurrency hint 1: each context is run by exactly one thread, which
    // lets Asio skip internal locking.
    contexts_.push_back(std::make_unique<asio::io_context>(1));
    guards_.push_back(asio::make_work_guard(*contexts_.back()));
  }
}

io_context_pool::~io_context_pool() {
  stop();
  join();
}

std::size_t io_context_pool::next_index() noexcept {
  return next_.fetch_add(1, std::memory_order_relaxed) % contexts_.size();
}

void io_context_pool::run() {
  for (auto& ctx : contexts_) {
    threads_.emplace_back([c = ctx.get()] { c->run(); });
  }
}

void io_context_pool::release() noexcept {
  for (auto& g : guards_) g.reset();
}

void io_context_pool::stop() noexcept {
  for (auto& ctx : contexts_) ctx->stop();
}

void io_context_pool::join() {
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

}  // namespace rtmp::net
