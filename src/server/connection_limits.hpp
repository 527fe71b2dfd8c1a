#pragma once
// Connection caps (HOSTILE-CASES T-35): at most `max_total` open connections
// and at most `max_per_ip` from one peer address. Checked at accept, before
// any per-connection state is allocated; the accept loop closes refused
// sockets at once. Admission and release happen on different worker threads,
// once per connection (never per message), so a mutex is cheap here.

#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

namespace rtmp::net {

class connection_limits;

/// Proof of admission: releases its slot when destroyed or reset.
class admission_ticket {
 public:
  admission_ticket() = default;
  admission_ticket(connection_limits* owner, std::string ip) : owner_(owner), ip_(std::move(ip)) {}
  admission_ticket(admission_ticket&& other) noexcept
      : owner_(std::exchange(other.owner_, nullptr)), ip_(std::move(other.ip_)) {}
  admission_ticket& operator=(admission_ticket&& other) noexcept {
    if (this != &other) {
      reset();
      owner_ = std::exchange(other.owner_, nullptr);
      ip_ = std::move(other.ip_);
    }
    return *this;
  }
  admission_ticket(const admission_ticket&) = delete;
  admission_ticket& operator=(const admission_ticket&) = delete;
  ~admission_ticket() { reset(); }

  /// Gives the slot back (idempotent).
  void reset();

 private:
  connection_limits* owner_ = nullptr;
  std::string ip_;
};

/// Counts open connections in total and per peer address.
class connection_limits {
 public:
  /// Why a connection was refused.
  enum class verdict { admitted, too_many_total, too_many_from_ip };

  /// `max_total` / `max_per_ip`: 0 means unlimited.
  connection_limits(std::size_t max_total, std::size_t max_per_ip) : max_total_(max_total), max_per_ip_(max_per_ip) {}

  /// Takes a slot for a connection from `ip`; on success `ticket` holds it.
  verdict admit(const std::string& ip, admission_ticket& ticket) {
    std::lock_guard lock(mutex_);
    if (max_total_ != 0 && total_ >= max_total_) return verdict::too_many_total;
    std::size_t& n = per_ip_[ip];
    if (max_per_ip_ != 0 && n >= max_per_ip_) return verdict::too_many_from_ip;  // n > 0: entry existed
    ++n;
    ++total_;
    ticket = admission_ticket(this, ip);
    return verdict::admitted;
  }

  /// New caps (a reload): connections over them stay; new ones are refused
  /// until the count is under them.
  void set_caps(std::size_t max_total, std::size_t max_per_ip) {
    std::lock_guard lock(mutex_);
    max_total_ = max_total;
    max_per_ip_ = max_per_ip;
  }

  /// Open connections admitted and not yet released.
  std::size_t total() const {
    std::lock_guard lock(mutex_);
    return total_;
  }

 private:
  friend class admission_ticket;

  void release(const std::string& ip) {
    std::lock_guard lock(mutex_);
    auto it = per_ip_.find(ip);
    if (it == per_ip_.end()) return;
    --total_;
    if (--it->second == 0) per_ip_.erase(it);  // the map never outgrows the open connections
  }

  mutable std::mutex mutex_;
  std::size_t max_total_;
  std::size_t max_per_ip_;
  std::size_t total_ = 0;
  std::unordered_map<std::string, std::size_t> per_ip_;
};

inline void admission_ticket::reset() {
  if (owner_ != nullptr) std::exchange(owner_, nullptr)->release(ip_);
}

}  // namespace rtmp::net
