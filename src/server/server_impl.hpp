#pragma once
// Internal state of rtmp::net::server. Connections see only its
// connection_services.

#include <asio/ip/tcp.hpp>
#include <asio/ssl/context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/awaitable.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include "server/connection_limits.hpp"
#include "server/connection_services.hpp"
#include "server/listeners.hpp"
#include "http/http_api.hpp"
#include "http/request_budget.hpp"
#include "net/log_limiter.hpp"
#include "hls/hls_manager.hpp"
#include "record/recorder.hpp"
#include "relay/relay_manager.hpp"
#include "server/server_metrics.hpp"
#include "server/stream_hooks.hpp"
#include "rtmp/hub/hub.hpp"
#include "net/io_context_pool.hpp"
#include "rtmp/net/server.hpp"

namespace rtmp::net {

class server_connection;

class server_impl final : public connection_registry {
 public:
  explicit server_impl(server_config cfg);

  std::error_code start();
  void stop();
  // Puts the run-time settings of `next` in force (see server::reload).
  reload_result reload(const server_config& next);

  // connection_registry: the deadline sweep's connections of each worker.
  void attach(server_connection* c) override;
  void detach(server_connection* c) override;

  server_config config;
  live_config live;  ///< What new connections take; a reload replaces it
  io_context_pool pool;
  hub::hub streams;
  std::atomic<std::size_t> connections{0};
  std::atomic<bool> stopping{false};
  connection_limits limits;  ///< --max-connections, --max-connections-per-ip
  server_metrics metrics;    ///< Counters and open connections, for /metrics and /api
  http_api api;              ///< The operator endpoint's routes
  recorder_manager recorders;  ///< Recording: started by each accepted publish
  relay_manager relays;        ///< Push and pull relays: told by each publish and play
  stream_hooks hooks;          ///< Lifecycle notifications and exec processes
  hls_manager hls;             ///< HLS segmenters and their HTTP answers

 private:
  // Worker w's deadline sweep: every sweep_interval() it calls
  // check_deadlines on each of its connections. One timer per worker
  // instead of a timer and a coroutine per connection.
  asio::awaitable<void> deadline_sweep(std::size_t w);
  // A quarter of the shortest configured deadline, within [50 ms, 1 s].
  std::chrono::milliseconds sweep_interval() const;
  // Accepts the connections of `l` until it is closed; each goes to
  // on_accepted on the worker chosen for it.
  asio::awaitable<void> accept_loop(listener l);
  // Starts what a connection accepted on a listener of `kind` speaks.
  void on_accepted(listener_kind kind, asio::ip::tcp::socket socket, std::size_t w);
  // Reads a connection's PROXY header (within the handshake deadline), then
  // admits and starts it under the client address the header names; a
  // missing or malformed header closes it with a log line
  // (proxied_accept.cpp). Runs on worker `w`.
  asio::awaitable<void> accept_proxied(asio::ip::tcp::socket socket, std::size_t w);
  // Logs and starts the accept loops of `opened`, and adds them to listeners_.
  void run_listeners(std::vector<listener> opened);
  // Closes `removed` (on worker 0, where their accept loops run).
  void close_listeners(std::vector<listener> removed);
  // The RTMPS context new handshakes use (null without RTMPS).
  std::shared_ptr<asio::ssl::context> current_tls() const;
  // Loads the certificate and key `c` names when it has RTMPS listeners:
  // the context, or null with `why` set (null and no `why` without RTMPS).
  static std::shared_ptr<asio::ssl::context> load_tls(const server_config& c, std::string& why);
  // The operator HTTP endpoint (http_listener.cpp).
  asio::awaitable<void> http_session(asio::ip::tcp::socket socket, std::size_t worker);
  // The answer to an HLS request (hls_routes.cpp): play tokens and address
  // rules for every request, the on-play callback for playlists.
  asio::awaitable<http::response> hls_response(asio::any_io_executor ex, const http::request& req,
                                               const hls_target& target, const std::string& ip,
                                               const std::string& endpoint);
  void close_http_sessions();
  // Enters a connection that is (again) waiting for a request into the
  // request-phase budget (http_listener.cpp).
  request_budget::ticket enter_request_phase(const std::shared_ptr<asio::ip::tcp::socket>& sock,
                                             const std::string& who, std::size_t worker);
  // The answer to a request that did not parse; one log line per address and interval.
  http::response bad_request(const http::parse_result& result, const std::string& ip, const std::string& who,
                             std::size_t worker);
  // Applies the connection caps; closes `socket` and returns false when refused.
  // (Any socket type: the accept loop's carries the worker's executor type.)
  template <class Socket>
  bool admit(Socket& socket, admission_ticket& ticket);
  // The caps for a connection from `ip`; logs a refusal (on `worker`'s limiter).
  bool admit_address(const std::string& ip, std::size_t worker, admission_ticket& ticket);

  listener_set listeners_;
  mutable std::mutex tls_mutex_;
  std::shared_ptr<asio::ssl::context> tls_context_;  // tls_mutex_: what new RTMPS handshakes use
  std::string tls_files_;                            // tls_mutex_: the PEM text it was made from
  request_budget http_pending_;                 // HTTP connections still sending a request
  std::atomic<std::size_t> http_api_busy_{0};   // operator requests being answered
  std::vector<std::unordered_set<server_connection*>> registry_;  // entry w: worker w only
  std::vector<log_limiter> limiters_;                               // entry w: worker w only
  std::vector<std::unique_ptr<asio::steady_timer>> sweep_timers_;   // entry w: worker w only
  std::vector<std::vector<server_connection*>> sweep_batches_;      // entry w: worker w only (reused)
  std::vector<std::unordered_set<asio::ip::tcp::socket*>> http_sockets_;  // entry w: worker w only
  std::atomic<std::uint64_t> next_id_{1};
  std::atomic<bool> sweeps_stopped_{false};
  bool started_ = false;
  bool stopped_ = false;
  connection_services services_;  // what connections get of the server (last: refers to the members above)

  friend class server;
};

std::vector<asio::io_context*> contexts_of(io_context_pool& pool);

}  // namespace rtmp::net
