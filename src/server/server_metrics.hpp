#pragma once
// Counters and the connection directory behind the operator endpoint
// (/metrics, /api/streams). Connections update their own entry once per
// socket read or write (never per player per message; one writer per entry,
// see `add_bytes`); server-wide byte totals are summed from the entries when
// asked, so workers never write a shared counter per write. The directory's
// mutex is taken once per connection start, role change and close, and by
// the HTTP handlers when they take a snapshot.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace rtmp::net {

/// Why connections closed, as counted by /metrics (label `reason`).
enum class close_kind : std::uint8_t {
  peer_closed,        ///< EOF or a reset from the peer, or a normal goodbye.
  handshake_timeout,  ///< No complete handshake in time.
  negotiate_timeout,  ///< No publish or play in time.
  protocol_error,     ///< Malformed or forbidden input.
  idle_timeout,       ///< A silent publisher.
  ping_timeout,       ///< A player that stopped answering pings.
  slow_player,        ///< Over the queue limit (policy).
  control_flood,      ///< Control replies not read.
  refused,            ///< A publish or play request refused.
  kicked,             ///< Taken over, or kicked by an operator.
  shutdown,           ///< Server shutdown.
  io_error,           ///< Other socket errors.
  stream_ended,       ///< HTTP-FLV: the publisher stopped, so the body ended.
  count_
};

/// The label value of each close_kind (close_reason.hpp maps each way a
/// connection ends to one of these).
inline constexpr std::array<std::string_view, static_cast<std::size_t>(close_kind::count_)> close_kind_names = {
    "peer_closed", "handshake_timeout", "negotiate_timeout", "protocol_error", "idle_timeout",
    "ping_timeout", "slow_player",       "control_flood",     "refused",        "kicked",
    "shutdown",    "io_error",          "stream_ended"};

/// What a connection is doing.
enum class connection_role : std::uint8_t { handshake, negotiating, publishing, playing };

/// Adds `n` to a counter that only its connection's worker writes (others
/// only read it): a load and a store, no locked read-modify-write.
inline void add_bytes(std::atomic<std::uint64_t>& counter, std::uint64_t n) noexcept {
  counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

/// One connection as the operator API sees it.
struct connection_entry {
  std::uint64_t id = 0;
  std::string remote;                                 ///< ADDR:PORT.
  std::chrono::system_clock::time_point connected_at;  ///< Accept time.
  std::atomic<connection_role> role{connection_role::handshake};
  std::atomic<std::uint64_t> bytes_in{0};
  std::atomic<std::uint64_t> bytes_out{0};
  std::atomic<std::uint64_t> dropped{0};  ///< Media messages dropped for this player (queue full).
  std::string stream_key;                 ///< "app/stream" once publishing or playing (directory mutex).
};

/// A copy of one entry, taken under the directory lock.
struct connection_view {
  std::uint64_t id = 0;
  std::string remote;
  std::chrono::system_clock::time_point connected_at;
  connection_role role = connection_role::handshake;
  std::uint64_t bytes_in = 0, bytes_out = 0, dropped = 0;
  std::string stream_key;
};

/// Server-wide counters plus every open connection.
class server_metrics {
 public:
  std::atomic<std::uint64_t> accepted{0};            ///< Connections admitted.
  std::atomic<std::uint64_t> refused_total_cap{0};   ///< Refused by --max-connections.
  std::atomic<std::uint64_t> refused_per_ip_cap{0};  ///< Refused by --max-connections-per-ip.
  std::atomic<std::uint64_t> dropped_queue_full{0};  ///< Media messages dropped for slow players.
  std::array<std::atomic<std::uint64_t>, static_cast<std::size_t>(close_kind::count_)> closes{};  ///< By kind.

  /// Adds a connection; the entry stays valid while the caller holds it.
  std::shared_ptr<connection_entry> add(std::uint64_t id, std::string remote) {
    auto e = std::make_shared<connection_entry>();
    e->id = id;
    e->remote = std::move(remote);
    e->connected_at = std::chrono::system_clock::now();
    std::lock_guard lock(mutex_);
    entries_[id] = e;
    return e;
  }

  /// Sets what a connection publishes or plays.
  void set_role(connection_entry& e, connection_role role, std::string stream_key) {
    std::lock_guard lock(mutex_);
    note_player_left(e);
    e.stream_key = std::move(stream_key);
    e.role.store(role, std::memory_order_relaxed);
  }

  /// Removes a closed connection and counts why it closed; its bytes stay
  /// in the totals.
  void remove(std::uint64_t id, close_kind why) {
    closes[static_cast<std::size_t>(why)].fetch_add(1, std::memory_order_relaxed);
    std::lock_guard lock(mutex_);
    const auto it = entries_.find(id);
    if (it == entries_.end()) return;
    note_player_left(*it->second);
    closed_bytes_in_ += it->second->bytes_in.load(std::memory_order_relaxed);
    closed_bytes_out_ += it->second->bytes_out.load(std::memory_order_relaxed);
    entries_.erase(it);
  }

  /// Bytes read and written by every connection, open or closed.
  std::pair<std::uint64_t, std::uint64_t> total_bytes() const {
    std::lock_guard lock(mutex_);
    std::uint64_t in = closed_bytes_in_;
    std::uint64_t out = closed_bytes_out_;
    for (const auto& [id, e] : entries_) {
      in += e->bytes_in.load(std::memory_order_relaxed);
      out += e->bytes_out.load(std::memory_order_relaxed);
    }
    return {in, out};
  }

  /// Bytes sent to each stream's players, those who left included: for a
  /// stream key, add the `bytes_out` of its current players to get a total
  /// that only grows. Keys of streams that are gone are forgotten by
  /// `forget_departed_except`, and all at once past `max_departed_keys`.
  std::unordered_map<std::string, std::uint64_t> departed_sent() const {
    std::lock_guard lock(mutex_);
    return departed_sent_;
  }

  /// Forgets the departed players' bytes of every key for which `live`
  /// returns false.
  template <class Live>
  void forget_departed_except(Live&& live) {
    std::lock_guard lock(mutex_);
    std::erase_if(departed_sent_, [&](const auto& kv) { return !live(kv.first); });
  }

  /// Stream keys remembered for departed players at most.
  static constexpr std::size_t max_departed_keys = 4096;

  /// Copies every open connection.
  std::vector<connection_view> snapshot() const {
    std::lock_guard lock(mutex_);
    std::vector<connection_view> out;
    out.reserve(entries_.size());
    for (const auto& [id, e] : entries_) {
      out.push_back(connection_view{id, e->remote, e->connected_at, e->role.load(std::memory_order_relaxed),
                                    e->bytes_in.load(std::memory_order_relaxed),
                                    e->bytes_out.load(std::memory_order_relaxed),
                                    e->dropped.load(std::memory_order_relaxed), e->stream_key});
    }
    return out;
  }

 private:
  // A player leaves its stream (role change or close): its bytes stay in
  // the stream's total (mutex_ held).
  void note_player_left(const connection_entry& e) {
    if (e.role.load(std::memory_order_relaxed) != connection_role::playing || e.stream_key.empty()) return;
    if (departed_sent_.size() >= max_departed_keys && !departed_sent_.contains(e.stream_key)) departed_sent_.clear();
    departed_sent_[e.stream_key] += e.bytes_out.load(std::memory_order_relaxed);
  }

  mutable std::mutex mutex_;
  std::unordered_map<std::uint64_t, std::shared_ptr<connection_entry>> entries_;
  std::uint64_t closed_bytes_in_ = 0;   // of removed entries (mutex_)
  std::uint64_t closed_bytes_out_ = 0;  // of removed entries (mutex_)
  std::unordered_map<std::string, std::uint64_t> departed_sent_;  // stream key -> bytes of players who left (mutex_)
};

}  // namespace rtmp::net
