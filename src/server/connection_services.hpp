#pragma once
// What a connection may use of its server, and nothing more. The server
// hands one `connection_services` to every RTMP and HTTP-FLV connection it
// accepts; a connection never reaches the server object itself. Internal
// to the networking layer.
//
// Lifetime: the server owns the services and outlives every connection.
// Threading: the hub, metrics, recorders and relays are thread-safe; entry w
// of the log limiters and the registry's per-worker sets are used only on
// worker w.

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include "net/log_limiter.hpp"
#include "net/reloadable.hpp"
#include "record/recorder.hpp"
#include "relay/relay_manager.hpp"
#include "server/server_metrics.hpp"
#include "rtmp/hub/hub.hpp"
#include "rtmp/net/server.hpp"

namespace rtmp::net {

class server_connection;
class stream_hooks;
class hls_manager;

/// Where an RTMP connection joins its worker's deadline sweep.
class connection_registry {
 public:
  /// `c` joins the sweep of its worker (call on that worker).
  virtual void attach(server_connection* c) = 0;
  /// `c` leaves it (call on its worker; idempotent).
  virtual void detach(server_connection* c) = 0;

 protected:
  ~connection_registry() = default;
};

/// The settings new connections start with: the server's, replaced whole by
/// a reload. A connection keeps the snapshot it started with for its whole
/// life, so a reload never changes the rules under a running one.
using live_config = reloadable<server_config>;

/// The services of a server that its connections use.
struct connection_services {
  const server_config& config;         ///< The server's settings as started (listeners, workers).
  const live_config& live;             ///< The settings new connections take (reloadable).
  hub::hub& streams;                   ///< Streams: publish, play, leave.
  server_metrics& metrics;             ///< Counters and the open connections for /metrics and /api.
  recorder_manager& recorders;         ///< Told of each accepted publish.
  relay_manager& relays;               ///< Told of each accepted publish and each play.
  const std::atomic<bool>& stopping;   ///< True once the server is shutting down.
  std::vector<log_limiter>& limiters;  ///< Per-peer log rate limits, by worker.
  connection_registry& registry;       ///< The deadline sweeps.
  stream_hooks& hooks;                 ///< Told when publishes and plays begin and end.
  hls_manager& hls;                    ///< Told of each accepted publish.

  /// Worker `w`'s log limiter (use only on that worker).
  log_limiter& limiter(std::size_t w) const noexcept { return limiters[w]; }
};

}  // namespace rtmp::net
