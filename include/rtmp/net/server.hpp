#pragma once
/// @file server.hpp
/// The RTMP server: listeners, one io_context per worker thread, the stream
/// hub and the connections. This header is the whole public surface of the
/// networking layer for the `rtmp-server` program and for tests.

#include <asio/ip/tcp.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "rtmp/hub/player_policy.hpp"
#include "rtmp/hub/stream.hpp"
#include "rtmp/net/access_rules.hpp"
#include "rtmp/net/hls.hpp"
#include "rtmp/net/recording.hpp"
#include "rtmp/net/relay.hpp"
#include "rtmp/proto/server_session.hpp"

namespace rtmp::net {

/// What to do with a player whose queue is full (the hub's player policy).
using slow_subscriber_policy = hub::slow_subscriber_policy;

/// Who may publish and play.
/// Rules are per application. A static token is given as `?token=T` after
/// the stream name or in the tcUrl's query; an HTTP callback gets a JSON
/// POST {action, app, stream, query, tc_url, client} and allows on 2xx.
struct auth_config {
  std::map<std::string, std::vector<std::string>> publish_tokens;  ///< app -> tokens; an app listed needs one.
  std::map<std::string, std::vector<std::string>> play_tokens;     ///< app -> tokens; an app listed needs one.
  std::string on_publish_url;  ///< "http://HOST:PORT/PATH" asked before each publish; empty: none.
  std::string on_play_url;     ///< Same for play.
  /// Asked after each valid connect ({action: "connect", app, tc_url,
  /// client, ...}); the connect is answered (and what the client sent
  /// meanwhile handled) on 2xx, refused with NetConnection.Connect.Rejected
  /// otherwise. Empty: none.
  std::string on_connect_url;
  std::chrono::milliseconds callback_timeout{3'000};  ///< Whole callback (connect, send, status line).
  bool callback_fail_open = false;  ///< Allow when the callback cannot be reached in time (else refuse).
  std::string ca_file;  ///< https:// callbacks: PEM CA certificates to trust; empty: the system's store.
  /// Address rules for publish and play, in order (first match decides;
  /// none matching: allowed). Checked before tokens and callbacks, on the
  /// client's address (from the PROXY header on a proxy-protocol listener).
  std::vector<access_rule> access;

  /// Member-wise (a reload compares the old and new settings).
  bool operator==(const auth_config&) const = default;
};

/// Notifications when a publish or play ends, and processes attached to
/// published streams (like nginx-rtmp's `exec`). None of them ever blocks
/// media or a worker: POSTs are coroutines with a deadline, processes are
/// watched from a timer.
struct hooks_config {
  std::string on_publish_done;  ///< http(s):// URL POSTed when a publish ends; empty: none.
  std::string on_play_done;     ///< The same when a play ends.
  /// app -> a /bin/sh command run while a stream of app is published
  /// (environment RTMP_APP, RTMP_STREAM, RTMP_URL: the stream on this
  /// server's first listener); restarted with back-off if it dies, stopped
  /// with SIGTERM (then SIGKILL) when the publish ends.
  std::map<std::string, std::string> exec_publish;
  /// app -> a /bin/sh command run once when a publish of app ends (same environment).
  std::map<std::string, std::string> exec_publish_done;
  std::chrono::milliseconds timeout{5'000};           ///< A POST's deadline; a done-command is killed after 10 times this.
  std::size_t max_pending = 64;                        ///< Notifications at once; further ones are only logged.
  std::chrono::milliseconds exec_stop_grace{2'000};   ///< SIGTERM to SIGKILL.
  std::string ca_file;                                ///< https:// URLs: PEM CAs; empty: the system's store.

  /// Member-wise (a reload compares the old and new settings).
  bool operator==(const hooks_config&) const = default;
};

/// Server settings. Every limit and deadline is named here.
struct server_config {
  std::vector<std::string> listen = {"0.0.0.0:1935"};  ///< "ADDR:PORT" or "[V6ADDR]:PORT"; port 0 picks one.
  std::size_t workers = 0;                              ///< Worker threads; 0: one per core.
  proto::server_session_config session;                 ///< Protocol settings and limits.
  hub::stream_config stream;                            ///< GOP cache and takeover.
  std::map<std::string, hub::stream_config> app_stream;  ///< Per-application stream settings (others: `stream`).
  auth_config auth;                                     ///< Publish/play authentication.
  std::chrono::milliseconds handshake_timeout{10'000};  ///< Total time for C0..C2 (not re-armed per read, T-01).
  std::chrono::milliseconds negotiate_timeout{10'000};  ///< Handshake done -> publish/play accepted.
  std::chrono::milliseconds idle_timeout{10'000};       ///< A publisher with no inbound bytes this long is closed.
  std::chrono::milliseconds ping_interval{15'000};      ///< Ping a player whose peer has been silent this long.
  std::chrono::milliseconds pong_timeout{15'000};       ///< Close when nothing arrives this long after a ping (T-03).
  std::size_t queue_bytes = std::size_t{4} * 1024 * 1024;            ///< Per-player queued media bound.
  slow_subscriber_policy slow_policy = slow_subscriber_policy::drop;  ///< See the enum.
  std::chrono::milliseconds slow_disconnect_after{10'000};  ///< Drop policy: close after this long over the cap.
  /// The player policy's limits from the three settings above.
  hub::player_limits player_limits() const noexcept { return {queue_bytes, slow_policy, slow_disconnect_after}; }
  bool wait_for_publisher = true;                      ///< play of an idle stream waits (else StreamNotFound).
  std::size_t read_buffer_size = std::size_t{64} * 1024;            ///< Bytes per socket read.
  std::size_t max_write_batch_bytes = std::size_t{1024} * 1024;     ///< Bytes gathered into one write.
  /// Write coalescing: hold the media of a stream's players on each worker
  /// up to this long after the first of it arrived, then hand it over at
  /// once, so each player writes it in one writev (fewer system calls per
  /// byte, more delay; hub::stream_config::write_coalesce). 0: at once.
  /// Commands and control replies are never held, nor is a joining
  /// player's first GOP; held media past max_write_batch_bytes leaves at
  /// once. Used when write_coalesce_auto is off.
  std::chrono::milliseconds write_coalesce{0};
  /// Adaptive write coalescing (the default): each worker's window follows
  /// the measured cost of its fan-out rounds (hub::coalesce_controller):
  /// none while rounds are cheap, growing with the players, a message never
  /// held past max_coalesce_delay including the round.
  bool write_coalesce_auto = true;
  std::chrono::milliseconds max_coalesce_delay{50};  ///< The delay budget of adaptive coalescing.
  std::size_t max_control_queue_bytes = std::size_t{1024} * 1024;   ///< Unsent control/command replies before the peer is closed (T-39).
  std::chrono::milliseconds shutdown_timeout{3'000};   ///< Graceful stop: time to flush goodbyes.
  std::size_t max_connections = 0;         ///< Open connections at once; 0: unlimited. Over it, accept then close (T-35).
  std::size_t max_connections_per_ip = 0;  ///< Open connections per peer address; 0: unlimited (T-35).

  // RTMPS: RTMP inside TLS on its own listeners (often port 443).
  std::vector<std::string> tls_listen;  ///< "ADDR:PORT" for rtmps://; empty: off. Needs tls_cert_file and tls_key_file.
  std::string tls_cert_file;            ///< PEM certificate chain (server certificate first).
  std::string tls_key_file;             ///< PEM private key of that certificate.

  // Operator HTTP endpoint: /metrics, /api/streams, /healthz, kick.
  std::vector<std::string> http_listen;                ///< "ADDR:PORT" to serve it on; empty: off.
  /// RTMP listen addresses behind a TCP load balancer: every connection
  /// must start with a PROXY protocol header (v1 or v2), and the client
  /// address it names is the connection's for limits, access rules, logs,
  /// callbacks, the API and metrics. A connection without a valid header is
  /// closed with a log line. Empty: none.
  std::vector<std::string> proxy_protocol_listen;
  std::string http_token;                              ///< Bearer token for POST .../kick; empty: kicks refused.
  /// HTTP connections still sending a request (new, or idle between
  /// keep-alive requests); when full, the oldest of them is closed to admit
  /// a new one, so clients that trickle headers cannot lock others out.
  std::size_t http_max_pending_requests = 64;
  std::size_t http_max_api_requests = 64;  ///< Operator requests answered at once; more get 503.
  std::chrono::milliseconds http_request_timeout{5'000};  ///< Per request, from its first byte or the last response.
  std::size_t http_max_requests_per_connection = 100;  ///< Keep-alive requests before the server closes.

  // HTTP-FLV playback (GET /{app}/{stream}.flv on the HTTP endpoint). Its
  // players share queue_bytes, slow_policy and slow_disconnect_after with
  // RTMP players, and count against max_connections(_per_ip).
  std::string http_flv_cors;  ///< Access-Control-Allow-Origin value ("*" or an origin); empty: no CORS headers.

  // Recording: per-application FLV files of every publish (rtmp/net/recording.hpp).
  recording_config recording;  ///< Off for every application unless listed in `recording.apps`.
  hls_config hls;              ///< Off for every application unless listed in `hls.apps`.

  // Relays: static push and on-demand pull / edge mode (rtmp/net/relay.hpp).
  relay_config relay;  ///< No push and no pull unless applications are listed.
  hooks_config hooks;  ///< Lifecycle notifications and exec processes; none by default.
};

/// What a reload did.
struct reload_result {
  bool applied = true;               ///< False: nothing changed (see `problem`).
  std::string problem;               ///< Why the reload was refused.
  std::vector<std::string> changes;  ///< One line per area that changed.
};

/// Counters of a running server (approximate while it runs).
struct server_stats {
  std::size_t connections = 0;  ///< Open connections.
  std::size_t streams = 0;      ///< Streams in the hub.
};

class server_impl;

/// An RTMP server. Start it, then stop it from any thread other than its
/// workers (e.g. a signal handler's io_context in the main thread).
class server {
 public:
  explicit server(server_config config);
  ~server();

  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Binds every listen address and starts the workers. Errors: address
  /// parse or bind failures (std::errc / asio::error codes); a TLS
  /// certificate or key that cannot be loaded (std::errc::invalid_argument,
  /// with the reason logged).
  std::error_code start();

  /// Puts the run-time settings of `next` in force without dropping any
  /// connection: connections accepted from now on take all of `next`'s
  /// per-connection settings (applications, tokens, callbacks, address
  /// rules, queue bound and slow-player policy, deadlines); the connection
  /// caps apply at once; listeners `next` adds are opened and those it drops
  /// closed (their connections stay); the RTMPS certificate and key are read
  /// again for new handshakes; push targets added or removed start and stop
  /// on the streams being published. Running connections keep the settings
  /// they started with. When a listener cannot be bound or the certificate
  /// cannot be loaded, nothing changes and the result says why. Otherwise
  /// the result has one line per area that changed, and "restart needed:
  /// ..." for a change only a restart applies (workers, chunk size).
  reload_result reload(const server_config& next);

  /// Makes POST /api/reload (bearer token) call `handler`, which reads the
  /// configuration again and reloads: true and what changed, or false and
  /// what is wrong. Called on an HTTP worker thread.
  void set_reload_handler(std::function<std::pair<bool, std::string>()> handler);

  /// The bound addresses (useful with port 0).
  std::vector<asio::ip::tcp::endpoint> local_endpoints() const;

  /// The bound addresses of the RTMPS listeners (empty when off).
  std::vector<asio::ip::tcp::endpoint> tls_endpoints() const;

  /// The bound addresses of the operator HTTP endpoint (empty when off).
  std::vector<asio::ip::tcp::endpoint> http_endpoints() const;

  /// The PROXY-protocol listeners' addresses (ports resolved), in config order.
  std::vector<asio::ip::tcp::endpoint> proxy_endpoints() const;

  /// Graceful stop: stops accepting, tells publishers and players, flushes
  /// for at most `shutdown_timeout`, closes everything and joins the
  /// workers. Safe to call more than once.
  void stop();

  /// Current counters.
  server_stats stats() const;

 private:
  std::unique_ptr<server_impl> impl_;
};

/// Parses a listen address into an endpoint: "ADDR:PORT", "[V6]:PORT",
/// "HOST:PORT" (a host name, resolved now: its first address), ":PORT" or
/// "PORT" (both: every IPv4 address). Errors: std::errc::invalid_argument
/// for a malformed text or port, std::errc::address_not_available for a
/// host name that does not resolve.
std::error_code parse_endpoint(const std::string& text, asio::ip::tcp::endpoint& out);

}  // namespace rtmp::net
