#include "rtmp/net/server.hpp"

#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <iterator>
#include <optional>
#include <thread>

#include "net/coroutine_support.hpp"
#include "server/server_connection.hpp"
#include "server/server_impl.hpp"
#include "net/tls.hpp"

namespace rtmp::net {

using asio::ip::tcp;

namespace {

// The first address of host name `host` (getaddrinfo's preferred one).
std::optional<asio::ip::address> resolve_host(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0 || found == nullptr) return std::nullopt;
  std::optional<asio::ip::address> out;
  if (found->ai_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(found->ai_addr);
    out = asio::ip::make_address_v4(ntohl(in->sin_addr.s_addr));
  } else if (found->ai_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(found->ai_addr);
    asio::ip::address_v6::bytes_type bytes;
    std::copy(std::begin(in6->sin6_addr.s6_addr), std::end(in6->sin6_addr.s6_addr), bytes.begin());
    out = asio::ip::make_address_v6(bytes, in6->sin6_scope_id);
  }
  ::freeaddrinfo(found);
  return out;
}

// The certificate and key files' text (empty without RTMPS): a reload
// compares it to see whether the pair was replaced.
std::string tls_file_text(const server_config& c) {
  if (c.tls_listen.empty()) return {};
  std::string out;
  for (const auto* path : {&c.tls_cert_file, &c.tls_key_file}) {
    std::ifstream in(*path, std::ios::binary);
    out.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    out.push_back('\0');
  }
  return out;
}

}  // namespace

std::error_code parse_endpoint(const std::string& text, tcp::endpoint& out) {
  const auto colon = text.rfind(':');
  const bool port_only = colon == std::string::npos;  // "1935"
  std::string host = port_only ? std::string() : text.substr(0, colon);
  const std::string port_text = port_only ? text : text.substr(colon + 1);
  unsigned port = 0;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port > 65535 || port_text.empty()) {
    return std::make_error_code(std::errc::invalid_argument);
  }
  const bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
  if (bracketed) host = host.substr(1, host.size() - 2);
  if (host.empty()) host = "0.0.0.0";
  std::error_code aec;
  auto addr = asio::ip::make_address(host, aec);
  if (aec) {
    // Not an address: a host name ("localhost"), unless it cannot be one.
    if (bracketed || host.find_first_of(" :/[]") != std::string::npos) {
      return std::make_error_code(std::errc::invalid_argument);
    }
    const auto resolved = resolve_host(host);
    if (!resolved) return std::make_error_code(std::errc::address_not_available);
    addr = *resolved;
  }
  out = tcp::endpoint(addr, static_cast<unsigned short>(port));
  return {};
}

std::vector<asio::io_context*> contexts_of(io_context_pool& pool) {
  std::vector<asio::io_context*> out;
  for (std::size_t i = 0; i < pool.size(); ++i) out.push_back(&pool.context(i));
  return out;
}

static std::size_t worker_count(std::size_t requested) {
  if (requested > 0) return requested;
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : n;
}

// The server-wide write-coalescing settings go into every stream's settings:
// the hub holds media per stream and worker (hub::stream_config).
static hub::stream_config with_coalescing(hub::stream_config s, const server_config& c) {
  s.write_coalesce = c.write_coalesce;
  s.coalesce_auto = c.write_coalesce_auto;
  s.max_coalesce_delay = c.max_coalesce_delay;
  s.coalesce_max_bytes = c.max_write_batch_bytes;
  return s;
}

static std::map<std::string, hub::stream_config> with_coalescing(std::map<std::string, hub::stream_config> apps,
                                                                 const server_config& c) {
  for (auto& [app, s] : apps) s = with_coalescing(s, c);
  return apps;
}

server_impl::server_impl(server_config cfg)
    : config(std::move(cfg)),
      live(std::make_shared<const server_config>(config)),
      pool(worker_count(config.workers)),
      streams(contexts_of(pool), with_coalescing(config.stream, config), with_coalescing(config.app_stream, config)),
      limits(config.max_connections, config.max_connections_per_ip),
      api(streams, metrics, relays, hls, config.http_token),
      recorders(config.recording, streams, contexts_of(pool)),
      relays(config.relay, streams, contexts_of(pool), config.session.chunk_size),
      hooks(config.hooks, pool.context(0)),
      hls(config.hls, streams, contexts_of(pool)),
      http_pending_(config.http_max_pending_requests),
      registry_(pool.size()),
      limiters_(pool.size()),
      sweep_batches_(pool.size()),
      http_sockets_(pool.size()),
      services_{config, live, streams, metrics, recorders, relays, stopping, limiters_, *this, hooks, hls} {}

std::shared_ptr<asio::ssl::context> server_impl::load_tls(const server_config& c, std::string& why) {
  why.clear();
  if (c.tls_listen.empty()) return nullptr;
  return make_server_tls_context(c.tls_cert_file, c.tls_key_file, why);
}

std::shared_ptr<asio::ssl::context> server_impl::current_tls() const {
  std::lock_guard lock(tls_mutex_);
  return tls_context_;
}

std::error_code server_impl::start() {
  if (started_) return {};
  // Certificate and key first: a bad file must not leave a plain listener half-started.
  std::string why;
  auto tls = load_tls(config, why);
  if (!why.empty()) {
    spdlog::error("RTMPS: {}", why);
    return std::make_error_code(std::errc::invalid_argument);
  }
  {
    std::lock_guard lock(tls_mutex_);
    tls_context_ = std::move(tls);
    tls_files_ = tls_file_text(config);
  }
  std::vector<listener> opened;
  if (auto ec = listeners_.bind_missing(config, pool.context(0), opened)) return ec;
  run_listeners(std::move(opened));
  for (std::size_t w = 0; w < pool.size(); ++w) {
    sweep_timers_.push_back(std::make_unique<asio::steady_timer>(pool.context(w)));
    asio::co_spawn(pool.context(w), deadline_sweep(w), log_failure("deadline sweep"));
  }
  pool.run();
  started_ = true;
  spdlog::info("rtmp-server running with {} worker thread(s)", pool.size());
  return {};
}

void server_impl::run_listeners(std::vector<listener> opened) {
  for (auto& l : opened) {
    spdlog::info("{}", describe_listener(l));
    asio::co_spawn(pool.context(0), accept_loop(l), log_failure("accept loop"));
  }
  listeners_.add(std::move(opened));
  // exec-publish commands get the first plain RTMP listener's URL.
  const auto plain = listeners_.endpoints(listener_kind::rtmp);
  if (!plain.empty()) hooks.set_local_port(plain.front().port());
}

void server_impl::close_listeners(std::vector<listener> removed) {
  if (removed.empty()) return;
  asio::post(pool.context(0), [removed = std::move(removed)] {
    for (const auto& l : removed) {
      std::error_code ignored;
      l.acceptor->close(ignored);  // its accept loop ends; accepted connections stay
    }
  });
}

asio::awaitable<void> server_impl::accept_loop(listener l) {
  tcp::acceptor& acceptor = *l.acceptor;
  for (;;) {
    const std::size_t w = pool.next_index();
    // The socket is created on the worker that will own the connection.
    auto [ec, socket] = co_await acceptor.async_accept(pool.context(w), as_tuple(asio::use_awaitable));
    if (ec) {
      if (ec == asio::error::operation_aborted || stopping || !acceptor.is_open()) co_return;
      spdlog::warn("accept failed: {}", ec.message());
      if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space) {
        // Out of file descriptors: back off instead of spinning.
        asio::steady_timer t(acceptor.get_executor(), std::chrono::milliseconds(100));
        co_await t.async_wait(as_tuple(asio::use_awaitable));
      }
      continue;
    }
    if (stopping) co_return;
    on_accepted(l.kind, tcp::socket(std::move(socket)), w);
  }
}

void server_impl::on_accepted(listener_kind kind, tcp::socket socket, std::size_t w) {
  switch (kind) {
    case listener_kind::http:
      asio::co_spawn(pool.context(w), http_session(std::move(socket), w),
                     [](const std::exception_ptr& e) { log_coroutine_failure("HTTP session", e); });
      return;
    case listener_kind::proxied:
      // The client's address is in the PROXY header: read it first (on the
      // connection's worker), then admit.
      asio::co_spawn(pool.context(w), accept_proxied(std::move(socket), w), log_failure("PROXY header"));
      return;
    case listener_kind::rtmp:
    case listener_kind::rtmps: break;
  }
  admission_ticket ticket;
  if (!admit(socket, ticket)) return;
  const std::uint64_t id = next_id_.fetch_add(1, std::memory_order_relaxed);
  auto tls = kind == listener_kind::rtmps ? current_tls() : nullptr;
  auto conn = std::make_shared<server_connection>(services_, w, id, std::move(socket), std::move(ticket), std::move(tls));
  asio::post(pool.context(w), [conn] { conn->start(); });
}

template <class Socket>
bool server_impl::admit(Socket& socket, admission_ticket& ticket) {
  std::error_code ec;
  const auto peer = socket.remote_endpoint(ec);
  if (ec) {  // reset before we got to it
    socket.close(ec);
    return false;
  }
  // The accept loop runs on worker 0's thread: its limiter is ours to use.
  if (admit_address(peer.address().to_string(), 0, ticket)) return true;
  // Reset rather than FIN: nothing of ours to flush, and no TIME_WAIT here.
  socket.set_option(asio::socket_base::linger(true, 0), ec);
  socket.close(ec);
  return false;
}

bool server_impl::admit_address(const std::string& ip, std::size_t worker, admission_ticket& ticket) {
  const auto verdict = limits.admit(ip, ticket);
  if (verdict == connection_limits::verdict::admitted) {
    metrics.accepted.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  // One line per address per interval, however fast it reconnects (T-40).
  const bool total = verdict == connection_limits::verdict::too_many_total;
  (total ? metrics.refused_total_cap : metrics.refused_per_ip_cap).fetch_add(1, std::memory_order_relaxed);
  std::uint64_t suppressed = 0;
  if (limiters_[worker].allow(ip + (total ? "|cap-total" : "|cap-ip"), std::chrono::steady_clock::now(),
                              suppressed)) {
    spdlog::warn("refused connection from {}: {} {} reached{}", ip,
                 total ? "--max-connections" : "--max-connections-per-ip",
                 total ? config.max_connections : config.max_connections_per_ip,
                 suppressed > 0 ? fmt::format(" ({} similar refusals suppressed)", suppressed) : std::string());
  }
  return false;
}

std::chrono::milliseconds server_impl::sweep_interval() const {
  using std::chrono::milliseconds;
  // Established connections with the default 10-15 s deadlines are looked
  // at about once a second; tests with 200 ms deadlines every 50 ms.
  const milliseconds shortest =
      std::min({config.shutdown_timeout, config.handshake_timeout, config.negotiate_timeout, config.idle_timeout,
                config.ping_interval, config.pong_timeout, config.slow_disconnect_after});
  return std::clamp(shortest / 4, milliseconds(50), milliseconds(1000));
}

asio::awaitable<void> server_impl::deadline_sweep(std::size_t w) {
    asio::steady_timer& timer = *sweep_timers_[w];
  std::vector<server_connection*>& batch = sweep_batches_[w];
  const auto interval = sweep_interval();
  for (;;) {
    timer.expires_after(interval);
    auto [ec] = co_await timer.async_wait(as_tuple(asio::use_awaitable));
    if (ec || sweeps_stopped_) co_return;
    // A close may unregister connections (its own, or players of a
    // publisher that leaves): walk a copy, and skip what left meanwhile.
    batch.assign(registry_[w].begin(), registry_[w].end());
    const auto now = std::chrono::steady_clock::now();
    for (server_connection* c : batch) {
      if (registry_[w].count(c) != 0) c->check_deadlines(now);
    }
    batch.clear();
  }
}

void server_impl::attach(server_connection* c) {
  registry_[c->worker()].insert(c);
  connections.fetch_add(1, std::memory_order_relaxed);
}

void server_impl::detach(server_connection* c) {
  if (registry_[c->worker()].erase(c) > 0) connections.fetch_sub(1, std::memory_order_relaxed);
}

void server_impl::stop() {
  if (!started_ || stopped_) return;
  stopped_ = true;
  stopping = true;
  spdlog::info("shutting down: {} connection(s) open", connections.load());
  close_listeners(listeners_.remove_all());
  close_http_sessions();
  relays.shutdown();
  hls.shutdown();
  for (std::size_t w = 0; w < pool.size(); ++w) {
    asio::post(pool.context(w), [this, w] {
      // shutdown() may unregister: iterate over a copy.
      const std::vector<server_connection*> conns(registry_[w].begin(), registry_[w].end());
      for (auto* c : conns) c->shutdown();
    });
  }
  const auto deadline = std::chrono::steady_clock::now() + config.shutdown_timeout;
  while (connections.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (connections.load() > 0) {
    spdlog::warn("shutdown: closing {} connection(s) that did not finish in time", connections.load());
    for (std::size_t w = 0; w < pool.size(); ++w) {
      asio::post(pool.context(w), [this, w] {
        const std::vector<server_connection*> conns(registry_[w].begin(), registry_[w].end());
        for (auto* c : conns) c->close(close_reason::shutdown);
      });
    }
    const auto hard = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
    while (connections.load() > 0 && std::chrono::steady_clock::now() < hard) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  hooks.stop_all();  // exec-publish processes: SIGTERM, then SIGKILL after the grace period
  // The sweeps end, so that the workers can run out of work.
  for (std::size_t w = 0; w < pool.size(); ++w) {
    asio::post(pool.context(w), [this, w] {
      sweeps_stopped_ = true;
      if (w < sweep_timers_.size()) sweep_timers_[w]->cancel();
    });
  }
  // Let every worker finish what is queued (closing sockets, coroutine
  // frames), then exit; stop() is the last resort.
  pool.release();
  const auto join_deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(1000);
  bool idle = false;
  while (!idle && std::chrono::steady_clock::now() < join_deadline) {
    idle = true;
    for (std::size_t w = 0; w < pool.size(); ++w) idle = idle && pool.context(w).stopped();
    if (!idle) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!idle) pool.stop();
  pool.join();
  recorders.close_all();  // recordings whose publish-stop notice never ran
  relays.clear();
  spdlog::info("shutdown complete");
}

// --- server -------------------------------------------------------------------

server::server(server_config config) : impl_(std::make_unique<server_impl>(std::move(config))) {}

server::~server() { stop(); }

std::error_code server::start() { return impl_->start(); }

reload_result server::reload(const server_config& next) { return impl_->reload(next); }

void server::set_reload_handler(std::function<std::pair<bool, std::string>()> handler) {
  impl_->api.set_reload_handler([handler = std::move(handler)] {
    const auto [ok, text] = handler();
    return http_api::reload_outcome{ok, text};
  });
}

namespace {

bool same_push(const std::vector<push_target>& a, const std::vector<push_target>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const push_target& x, const push_target& y) {
    return x.app == y.app && x.stream == y.stream && x.url == y.url;
  });
}

}  // namespace

reload_result server_impl::reload(const server_config& next) {
  reload_result out;
  // First what can fail: the certificate pair and the new listeners. A
  // failure leaves everything as it is.
  std::string why;
  auto tls = load_tls(next, why);
  if (!why.empty()) {
    out.applied = false;
    out.problem = "tls-cert/tls-key: " + why;
    return out;
  }
  std::vector<listener> opened;
  if (auto ec = listeners_.bind_missing(next, pool.context(0), opened)) {
    out.applied = false;
    out.problem = "cannot listen on every address of listen, tls-listen, proxy-protocol-listen and http-listen: " +
                  ec.message();
    return out;
  }
  std::vector<std::string>& changes = out.changes;
  const auto before = live.load();
  {
    std::string files = tls_file_text(next);
    std::lock_guard lock(tls_mutex_);
    if (files != tls_files_ || (tls_context_ == nullptr) != (tls == nullptr)) {
      if (tls != nullptr) changes.emplace_back("TLS certificate and key (new handshakes)");
      tls_files_ = std::move(files);
    }
    tls_context_ = std::move(tls);
  }
  const auto removed = listeners_.remove_unwanted(next);
  for (const auto& l : removed) changes.push_back("closed " + l.address);
  close_listeners(removed);
  for (const auto& l : opened) changes.push_back("opened " + l.address);
  run_listeners(std::move(opened));
  if (before->session.allowed_apps != next.session.allowed_apps) changes.emplace_back("applications");
  if (!(before->auth == next.auth)) changes.emplace_back("tokens, callbacks and address rules");
  if (before->max_connections != next.max_connections || before->max_connections_per_ip != next.max_connections_per_ip) {
    limits.set_caps(next.max_connections, next.max_connections_per_ip);
    changes.emplace_back("connection caps");
  }
  if (before->queue_bytes != next.queue_bytes || before->slow_policy != next.slow_policy ||
      before->idle_timeout != next.idle_timeout || before->handshake_timeout != next.handshake_timeout) {
    changes.emplace_back("player and deadline limits (new connections)");
  }
  if (!same_push(before->relay.push, next.relay.push)) {
    relays.set_push_targets(next.relay.push);
    changes.emplace_back("push targets (started and stopped on the streams being published)");
  }
  if (before->relay.pull != next.relay.pull) {
    relays.set_pull_origins(next.relay.pull);
    changes.emplace_back("pull origins (plays from now on; pulls of applications no longer pulled stop)");
  }
  if (!(before->hooks == next.hooks)) {
    hooks.set_config(next.hooks);
    changes.emplace_back("hooks and exec commands (publishes and plays from now on)");
  }
  if (!(before->hls == next.hls)) {
    hls.set_config(next.hls);
    changes.emplace_back("HLS (streams published from now on)");
  }
  if (!(before->recording == next.recording)) {
    recorders.set_config(next.recording);
    changes.emplace_back("recording (publishes from now on)");
  }
  if (!(before->stream == next.stream) || before->app_stream != next.app_stream ||
      before->write_coalesce != next.write_coalesce || before->write_coalesce_auto != next.write_coalesce_auto ||
      before->max_coalesce_delay != next.max_coalesce_delay ||
      before->max_write_batch_bytes != next.max_write_batch_bytes) {
    streams.set_config(with_coalescing(next.stream, next), with_coalescing(next.app_stream, next));
    changes.emplace_back("stream settings: GOP cache, takeover, write coalescing (streams created from now on)");
  }
  // What only a restart applies.
  const std::pair<const char*, bool> fixed[] = {
      {"workers", config.workers != next.workers},
      {"chunk-size", config.session.chunk_size != next.session.chunk_size},
  };
  for (const auto& [name, changed] : fixed) {
    if (changed) changes.push_back(std::string("restart needed: ") + name);
  }
  auto in_force = std::make_shared<server_config>(next);
  // Every player announced the chunk size its publishers' media is encoded
  // with: one server-wide value for the server's life.
  in_force->session.chunk_size = config.session.chunk_size;
  live.store(std::move(in_force));
  return out;
}

void server::stop() { impl_->stop(); }

std::vector<tcp::endpoint> server::local_endpoints() const { return impl_->listeners_.endpoints(listener_kind::rtmp); }

std::vector<tcp::endpoint> server::tls_endpoints() const { return impl_->listeners_.endpoints(listener_kind::rtmps); }

std::vector<tcp::endpoint> server::http_endpoints() const { return impl_->listeners_.endpoints(listener_kind::http); }

std::vector<tcp::endpoint> server::proxy_endpoints() const {
  return impl_->listeners_.endpoints(listener_kind::proxied);
}

server_stats server::stats() const {
  server_stats s;
  s.connections = impl_->connections.load();
  s.streams = impl_->streams.streams().size();
  return s;
}

}  // namespace rtmp::net
