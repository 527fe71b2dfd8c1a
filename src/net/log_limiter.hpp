#pragma once
// Rate limit for per-peer log lines (HOSTILE-CASES T-40): at most one line per
// (peer address, kind of event) per interval; the next line that gets
// through says how many were suppressed. One limiter per worker thread, used
// only there (no lock).

#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>

namespace rtmp::net {

class log_limiter {
 public:
  using clock = std::chrono::steady_clock;

  /// Lines per key per `interval`: one.
  explicit log_limiter(std::chrono::milliseconds interval = std::chrono::seconds(1)) : interval_(interval) {}

  /// True when a line for `key` may be written now; `suppressed` is then the
  /// number of lines for that key that were dropped since the last one.
  bool allow(const std::string& key, clock::time_point now, std::uint64_t& suppressed) {
    if (entries_.size() > max_entries) prune(now);
    entry& e = entries_[key];
    if (e.last != clock::time_point{} && now - e.last < interval_) {
      ++e.suppressed;
      return false;
    }
    suppressed = e.suppressed;
    e.suppressed = 0;
    e.last = now;
    return true;
  }

 private:
  struct entry {
    clock::time_point last{};
    std::uint64_t suppressed = 0;
  };
  static constexpr std::size_t max_entries = 4096;  // bounded whatever the peers do

  void prune(clock::time_point now) {
    for (auto it = entries_.begin(); it != entries_.end();) {
      it = now - it->second.last > 60 * interval_ ? entries_.erase(it) : std::next(it);
    }
    if (entries_.size() > max_entries) entries_.clear();
  }

  std::chrono::milliseconds interval_;
  std::unordered_map<std::string, entry> entries_;
};

}  // namespace rtmp::net
