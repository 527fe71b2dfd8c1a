#include "http/request_budget.hpp"

#include <utility>

namespace rtmp::net {

request_budget::ticket request_budget::enter(evict_function evict) {
  evict_function oldest;
  ticket t = 0;
  {
    std::lock_guard lock(mutex_);
    if (waiting_.size() >= capacity_) {
      auto first = waiting_.begin();
      oldest = std::move(first->second);
      waiting_.erase(first);
      ++evicted_;
    }
    t = next_++;
    waiting_.emplace(t, std::move(evict));
  }
  if (oldest) oldest();
  return t;
}

void request_budget::leave(ticket t) {
  evict_function dropped;  // destroyed outside the lock
  std::lock_guard lock(mutex_);
  const auto it = waiting_.find(t);
  if (it == waiting_.end()) return;
  dropped = std::move(it->second);
  waiting_.erase(it);
}

std::size_t request_budget::size() const {
  std::lock_guard lock(mutex_);
  return waiting_.size();
}

std::uint64_t request_budget::evicted() const {
  std::lock_guard lock(mutex_);
  return evicted_;
}

}  // namespace rtmp::net
