#include "relay/relay_conn.hpp"

#include <asio/connect.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>

#include <fcntl.h>

#include <vector>

namespace rtmp::net {

using tcp = asio::ip::tcp;
using asio::use_awaitable;
using asio::experimental::as_tuple;

asio::awaitable<std::string> open_relay_conn(relay_conn& c, const proto::rtmp_url& u, asio::ssl::context* tls) {
  std::vector<tcp::endpoint> endpoints;
  std::error_code ec;
  const auto address = asio::ip::make_address(u.host, ec);
  if (!ec) {
    endpoints.emplace_back(address, u.port);
  } else {
    tcp::resolver resolver(c.socket.get_executor());
    auto [rec, results] = co_await resolver.async_resolve(u.host, std::to_string(u.port), as_tuple(use_awaitable));
    if (rec || results.empty()) co_return "cannot resolve " + u.host + ": " + (rec ? rec.message() : "no address");
    for (const auto& r : results) endpoints.push_back(r.endpoint());
  }
  if (c.closed) co_return std::string();
  auto [cec, ep] = co_await asio::async_connect(c.socket, endpoints, as_tuple(use_awaitable));
  if (c.closed) co_return std::string();
  if (cec) co_return "cannot connect: " + cec.message();
  ::fcntl(c.socket.native_handle(), F_SETFD, FD_CLOEXEC);
  c.socket.set_option(tcp::no_delay(true), ec);
  if (tls == nullptr) {
    c.socket.non_blocking(true, ec);  // writes are non-blocking writevs (socket_writer)
    co_return std::string();
  }
  // rtmps://: SNI and the certificate checked for the URL's host name.
  c.tls = std::make_unique<tls_stream>(c.socket, *tls);
  if (auto pec = prepare_client_tls(*c.tls, u.host, true)) co_return "TLS setup: " + pec.message();
  auto [hec] = co_await c.tls->async_handshake(asio::ssl::stream_base::client, as_tuple(use_awaitable));
  if (hec && !c.closed) co_return "TLS handshake failed: " + hec.message();
  co_return std::string();
}

}  // namespace rtmp::net
