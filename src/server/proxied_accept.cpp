// Connections on a PROXY-protocol listener: the header first, then the
// connection under the client address it names.
#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <memory>
#include <vector>

#include "net/coroutine_support.hpp"
#include "rtmp/proto/proxy_header.hpp"
#include "server/server_connection.hpp"
#include "server/server_impl.hpp"

namespace rtmp::net {

using tcp = asio::ip::tcp;

asio::awaitable<void> server_impl::accept_proxied(tcp::socket plain_socket, std::size_t w) {
  // Shared with the deadline's handler, which may run after this frame ends.
  const auto socket = std::make_shared<tcp::socket>(std::move(plain_socket));
  std::error_code ec;
  const auto peer = socket->remote_endpoint(ec);
  if (ec) co_return;  // reset before we got to it
  const std::string balancer = peer.address().to_string();
  const auto refuse = [&](std::string_view why) {
    std::uint64_t suppressed = 0;
    if (limiters_[w].allow(balancer + "|proxy-header", std::chrono::steady_clock::now(), suppressed)) {
      spdlog::warn("closed a connection from {}: {} (this listener expects a PROXY protocol header)", balancer, why);
    }
    std::error_code ignored;
    socket->set_option(asio::socket_base::linger(true, 0), ignored);
    socket->close(ignored);
  };

  // The header comes at once, before anything else: the handshake deadline covers it.
  asio::steady_timer deadline(socket->get_executor(), config.handshake_timeout);
  const auto timed_out = std::make_shared<bool>(false);  // the handler may run after this frame ends
  deadline.async_wait([socket, timed_out](const std::error_code& e) {
    if (e) return;
    *timed_out = true;
    std::error_code ignored;
    socket->cancel(ignored);
  });
  std::vector<std::uint8_t> buffer(proto::max_proxy_header);
  std::size_t have = 0;
  proto::proxy_parse_result header;
  while (header.status == proto::proxy_status::need_more) {
    if (have == buffer.size()) {
      refuse("a PROXY header longer than accepted");
      co_return;
    }
    auto [read_ec, n] = co_await socket->async_read_some(asio::buffer(buffer.data() + have, buffer.size() - have),
                                                          as_tuple(use_awaitable));
    if (read_ec) {
      deadline.cancel();
      if (*timed_out) refuse("no complete PROXY header in time");
      co_return;  // else the peer left (or the server stops)
    }
    have += n;
    header = proto::parse_proxy_header(std::span<const std::uint8_t>(buffer.data(), have));
  }
  deadline.cancel();
  if (stopping) co_return;
  if (header.status == proto::proxy_status::invalid) {
    refuse(header.why);
    co_return;
  }

  // A header that relays nobody (a health check) leaves the balancer's address.
  server_connection::relayed_client client;
  if (header.source.relayed) {
    client.address = header.source.address;
    const bool v6 = client.address.find(':') != std::string::npos;
    client.endpoint = (v6 ? "[" + client.address + "]" : client.address) + ":" + std::to_string(header.source.port);
  } else {
    client.address = balancer;
    client.endpoint = peer.address().is_v6() ? "[" + balancer + "]:" + std::to_string(peer.port())
                                             : balancer + ":" + std::to_string(peer.port());
  }
  client.leftover.assign(buffer.begin() + static_cast<std::ptrdiff_t>(header.used),
                         buffer.begin() + static_cast<std::ptrdiff_t>(have));
  admission_ticket ticket;
  if (!admit_address(client.address, w, ticket)) {
    std::error_code ignored;
    socket->set_option(asio::socket_base::linger(true, 0), ignored);
    socket->close(ignored);
    co_return;
  }
  const std::uint64_t id = next_id_.fetch_add(1, std::memory_order_relaxed);
  auto conn = std::make_shared<server_connection>(services_, w, id, std::move(*socket), std::move(ticket),
                                                  std::move(client));
  conn->start();
}

}  // namespace rtmp::net
