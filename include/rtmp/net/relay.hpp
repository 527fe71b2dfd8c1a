#pragma once
/// @file relay.hpp
/// Relay settings: scaling past one machine.
///
/// * Static push: every stream published to an application is re-published
///   to other RTMP servers (`push`), reconnecting with exponential back-off
///   while the local publisher is there.
/// * On-demand pull (edge mode): a player asking for a stream of an
///   application listed in `pull` that has no local publisher makes the
///   server play that stream from the first origin of the list and publish
///   it locally; further players share that one pull. On failure the next
///   origin is tried (failover, with back-off); the pull ends
///   `pull_idle_timeout` after the last player left.

#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace rtmp::net {

/// First delay before a relay reconnects (doubled after each failure).
inline constexpr std::chrono::milliseconds default_relay_backoff_initial{1'000};
/// Largest reconnect delay of a relay.
inline constexpr std::chrono::milliseconds default_relay_backoff_max{30'000};
/// A pull without players ends this long after the last one left.
inline constexpr std::chrono::milliseconds default_pull_idle_timeout{5'000};
/// TCP connect + handshake + connect + publish/play accepted, per attempt.
inline constexpr std::chrono::milliseconds default_relay_connect_timeout{10'000};
/// A pull that receives no media this long (after its play was accepted)
/// gives up on that origin and fails over.
inline constexpr std::chrono::milliseconds default_relay_stall_timeout{10'000};
/// Bytes a push may have queued for its socket; past it, media is dropped up
/// to the next keyframe (sequence headers and metadata are never dropped).
inline constexpr std::size_t default_relay_queue_bytes = std::size_t{4} * 1024 * 1024;
/// Most push URLs per application, and most origins per application.
inline constexpr std::size_t max_relay_targets = 16;

/// Push and pull rules and their limits.
struct relay_config {
  /// app -> server URLs ("rtmp://host[:port]/app"); each stream published to
  /// app is re-published to URL + "/" + stream name.
  std::map<std::string, std::vector<std::string>> push;
  /// app -> origin URLs ("rtmp://host[:port]/app"), tried in order; a
  /// player of app/name with no local publisher starts a pull of
  /// URL + "/" + name.
  std::map<std::string, std::vector<std::string>> pull;
  std::chrono::milliseconds backoff_initial = default_relay_backoff_initial;  ///< First reconnect delay.
  std::chrono::milliseconds backoff_max = default_relay_backoff_max;          ///< Largest reconnect delay.
  std::chrono::milliseconds pull_idle_timeout = default_pull_idle_timeout;    ///< Pull ends this long after its last player.
  std::chrono::milliseconds connect_timeout = default_relay_connect_timeout;  ///< Per connection attempt.
  std::chrono::milliseconds stall_timeout = default_relay_stall_timeout;      ///< Pull: no media this long -> next origin.
  std::size_t queue_bytes = default_relay_queue_bytes;                        ///< Push: outbound queue bound.
};

}  // namespace rtmp::net
