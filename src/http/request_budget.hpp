#pragma once
// The budget of HTTP connections that are still sending a request. No I/O.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>

namespace rtmp::net {

/// At most `capacity` HTTP connections may be in the request phase at once
/// (connected, or between keep-alive requests, and not yet through a
/// complete request head). When the budget is full, a new connection is not
/// refused: the oldest connection in the phase is closed for it. So clients
/// that trickle header lines cannot lock out `/healthz`, the API or new
/// viewers; they only push each other out, and each is closed by its
/// request deadline anyway.
///
/// Thread-safe: connections on every worker enter and leave; the mutex is
/// held for a map insertion or removal, never while a connection is closed.
class request_budget {
 public:
  /// Closes a connection (called from whatever thread evicts it: post the
  /// close to the connection's own worker).
  using evict_function = std::function<void()>;
  /// A place in the budget; 0 is none.
  using ticket = std::uint64_t;

  /// A budget of `capacity` connections (at least 1).
  explicit request_budget(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

  /// Enters a connection that `evict` closes. When the budget is full, the
  /// connection that entered first is evicted (its `evict` runs, after the
  /// lock is released) and leaves the budget.
  ticket enter(evict_function evict);

  /// Leaves the budget (a complete request, or the connection ended).
  /// Idempotent; a ticket that was evicted has left already.
  void leave(ticket t);

  /// Connections in the request phase now.
  std::size_t size() const;

  /// Connections evicted so far.
  std::uint64_t evicted() const;

 private:
  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::uint64_t next_ = 1;
  std::uint64_t evicted_ = 0;
  std::map<ticket, evict_function> waiting_;  // by age: tickets grow
};

}  // namespace rtmp::net
