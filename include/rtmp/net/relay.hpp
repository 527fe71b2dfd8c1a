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
#include <optional>
#include <string>
#include <string_view>
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
/// Most push targets per stream, and most origins per application.
inline constexpr std::size_t max_relay_targets = 16;

/// One push rule (`--push`): where the streams of an application (or one
/// stream) are re-published, e.g. to a streaming platform.
struct push_target {
  std::string app;     ///< The local application.
  std::string stream;  ///< Only this local stream (no query); empty: every stream of `app`.
  /// `rtmp[s]://host[:port]/app2[/stream][?query]`; `{app}` and `{stream}`
  /// stand for the local names. A URL that names no stream gets the local
  /// stream's name appended (`URL/STREAM`); one that names a stream (a
  /// platform's ingest URL with its key) is used as it is, query included.
  std::string url;
};

/// Parses a `--push` rule, "APP=URL" or "APP/STREAM=URL"; nothing (and a
/// reason in `*why`) when malformed or when the URL is not rtmp[s]://HOST/APP...
std::optional<push_target> parse_push_target(std::string_view rule, std::string* why = nullptr);

/// The URL that local stream `stream` of `app` goes to under `t`.
std::string push_url_for(const push_target& t, std::string_view app, std::string_view stream);

/// `url` as logs and the API show it: an RTMP URL's stream name (the key a
/// platform gave) and query replaced by "<redacted>"; other text unchanged.
std::string redact_stream_key(std::string_view url);

/// Push and pull rules and their limits.
struct relay_config {
  /// Push rules, in order; each stream published to a rule's app (or its
  /// one stream) is re-published to the rule's URL.
  std::vector<push_target> push;
  /// PEM CA certificates that rtmps:// push targets must chain to, instead
  /// of the system's trust store; empty: the system's.
  std::string ca_file;
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
