// The operator HTTP endpoint's sockets: accept on worker 0's thread, each
// connection on a worker (round robin) next to the RTMP sessions, a deadline
// per request, keep-alive with a request cap. Three budgets: connections
// still sending a request (request_budget: the oldest gives way to a new
// one), operator requests being answered (503 past it), and HTTP-FLV
// players (the RTMP connection caps). Parsing is rtmp::http::request_parser; routing is http_api, except
// GET/HEAD/OPTIONS of /{app}/{stream}.flv: HTTP-FLV playback
// (http_flv_session), which takes the connection over.

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <spdlog/spdlog.h>

#include <fcntl.h>

#include <vector>

#include "net/coroutine_support.hpp"
#include "http/http_flv_session.hpp"
#include "server/server_impl.hpp"
#include "net/socket_writer.hpp"

namespace rtmp::net {

using tcp = asio::ip::tcp;

asio::awaitable<void> server_impl::http_session(tcp::socket plain_socket, std::size_t worker) {
  // Shared with the deadline's handler, which may run after this frame ends.
  const auto sock = std::make_shared<tcp::socket>(std::move(plain_socket));
  const auto timed_out = std::make_shared<bool>(false);
  tcp::socket& socket = *sock;
  ::fcntl(socket.native_handle(), F_SETFD, FD_CLOEXEC);
  http_sockets_[worker].insert(&socket);
  std::error_code ec;
  const auto peer = socket.remote_endpoint(ec);
  const std::string who = ec ? std::string("?") : peer.address().to_string() + ":" + std::to_string(peer.port());

  // The deadline closes the socket: a pending read or write then fails.
  asio::steady_timer deadline(socket.get_executor());
  auto arm = [&] {
    deadline.expires_after(config.http_request_timeout);
    deadline.async_wait([sock, timed_out](std::error_code e) {
      if (e) return;  // cancelled
      *timed_out = true;
      std::error_code ignored;
      sock->close(ignored);
    });
  };
  arm();
  // In the request phase until a request head is complete.
  request_budget::ticket waiting = enter_request_phase(sock, who, worker);

  socket.non_blocking(true, ec);  // responses go out as non-blocking writes (socket_writer)
  outbound_queue out;
  http::request_parser parser;
  std::vector<std::uint8_t> buffer(4096);
  std::size_t pending_from = 0, pending_to = 0;  // unparsed bytes of the last read (pipelining)
  std::size_t served = 0;
  for (;;) {
    if (pending_from == pending_to) {
      auto [rec, n] = co_await socket.async_read_some(asio::buffer(buffer), as_tuple(use_awaitable));
      if (rec) break;
      pending_from = 0;
      pending_to = n;
    }
    const auto result =
        parser.consume(std::span<const std::uint8_t>(buffer.data() + pending_from, pending_to - pending_from));
    pending_from += result.used;
    if (result.state == http::parse_status::need_more) continue;
    http_pending_.leave(waiting);

    // An operator request counts against its budget until its response is written.
    struct busy_slot {
      std::atomic<std::size_t>* count = nullptr;
      ~busy_slot() {
        if (count != nullptr) count->fetch_sub(1);
      }
    } api_slot;
    http::response response;
    bool head = false;
    if (result.state == http::parse_status::error) {
      response = bad_request(result, peer.address().to_string(), who, worker);
    } else {
      const auto& req = parser.request();
      head = req.method == "HEAD";
      const auto flv = match_flv_path(req.path);
      if (flv && (req.method == "GET" || req.method == "HEAD")) {
        // HTTP-FLV playback: the connection becomes a player. It leaves the
        // HTTP cap (operator requests) for the RTMP connection caps, and the
        // request deadline no longer applies (the session has its own).
        admission_ticket ticket;
        const auto verdict = limits.admit(peer.address().to_string(), ticket);
        if (verdict == connection_limits::verdict::admitted) {
          deadline.cancel();
          auto player = std::make_shared<http_flv_session>(services_, sock, worker,
                                                           next_id_.fetch_add(1, std::memory_order_relaxed), who,
                                                           std::move(ticket));
          co_await player->run(parser.take_request(), *flv);
          break;
        }
        response = http::make_error(503, "too many connections");
        response.headers.emplace_back("Retry-After", "5");
      } else if (flv) {
        response = flv_other_method_response(req, config.http_flv_cors);
      } else if (const auto hls_target = match_hls_path(req.path); hls_target && hls.enabled(hls_target->app)) {
        if (req.method == "GET" || req.method == "HEAD") {
          // A held LL-HLS reload is bounded by its own patience (three
          // target durations), not by the request deadline.
          deadline.cancel();
          response = co_await hls_response(socket.get_executor(), req, *hls_target, peer.address().to_string(), who);
          arm();
        } else {
          response = flv_other_method_response(req, config.http_flv_cors);  // the same methods as HTTP-FLV
        }
      } else if (http_api_busy_.fetch_add(1) >= config.http_max_api_requests) {
        http_api_busy_.fetch_sub(1);
        response = http::make_error(503, "busy: too many requests at once");
        response.headers.emplace_back("Retry-After", "1");
        response.keep_alive = false;
      } else {
        api_slot.count = &http_api_busy_;  // until the response is written
        response = api.handle(req);
      }
      ++served;
      response.keep_alive =
          response.keep_alive && req.keep_alive && served < config.http_max_requests_per_connection && !stopping;
      spdlog::debug("HTTP {} {} {} -> {}", who, req.method, req.target, response.status);
    }
    std::string bytes = http::serialize(response);
    if (head) bytes.resize(bytes.size() - response.body.size());  // same headers, no body
    out.push(proto::shared_bytes::copy_of(std::span<const std::uint8_t>(
                 reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size())),
             byte_class::control);
    // A shared body (an HLS segment) goes out as it is: one buffer of the gathered write, no copy.
    if (!head && response.shared_body.size() > 0) out.push(response.shared_body, byte_class::control);
    drain_hooks hooks{.sent = [](std::size_t) {}, .open = [&socket] { return socket.is_open(); }};
    const std::error_code wec = co_await drain(socket, nullptr, out, {}, std::move(hooks));
    if (wec || !out.empty() || !response.keep_alive) break;
    parser.reset();
    deadline.cancel();
    arm();
    waiting = enter_request_phase(sock, who, worker);
  }
  http_pending_.leave(waiting);
  if (*timed_out) spdlog::debug("HTTP {}: request timeout", who);
  deadline.cancel();
  http_sockets_[worker].erase(&socket);
  socket.shutdown(tcp::socket::shutdown_both, ec);
  socket.close(ec);
}

request_budget::ticket server_impl::enter_request_phase(const std::shared_ptr<tcp::socket>& sock,
                                                        const std::string& who, std::size_t worker) {
  // When the budget is full the oldest connection in the phase gives way:
  // closed on its own worker (this may run on any).
  return http_pending_.enter([sock, who, limiter = &limiters_[worker]] {
    asio::post(sock->get_executor(), [sock, who, limiter] {
      if (!sock->is_open()) return;
      std::uint64_t suppressed = 0;
      if (limiter->allow("http|evicted", std::chrono::steady_clock::now(), suppressed)) {
        spdlog::info("HTTP {}: closed while still sending its request, to admit a newer connection", who);
      }
      std::error_code ignored;
      sock->set_option(asio::socket_base::linger(true, 0), ignored);
      sock->close(ignored);
    });
  });
}

http::response server_impl::bad_request(const http::parse_result& result, const std::string& ip,
                                        const std::string& who, std::size_t worker) {
  http::response response = http::make_error(result.status, result.detail);
  response.keep_alive = false;
  std::uint64_t suppressed = 0;
  if (limiters_[worker].allow(ip + "|http-bad", std::chrono::steady_clock::now(), suppressed)) {
    spdlog::info("HTTP {}: bad request ({} {})", who, result.status, result.detail);
  }
  return response;
}

void server_impl::close_http_sessions() {
  for (std::size_t w = 0; w < pool.size(); ++w) {
    asio::post(pool.context(w), [this, w] {
      for (auto* s : http_sockets_[w]) {
        std::error_code ignored;
        s->close(ignored);
      }
    });
  }
}

}  // namespace rtmp::net
