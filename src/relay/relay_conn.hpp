#pragma once
// One outbound connection of a relay (push or pull): socket, TLS, client
// session and write queue. Internal to the relay module.

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/awaitable.hpp>
#include <asio/ssl/context.hpp>
#include <asio/steady_timer.hpp>

#include <memory>
#include <string>
#include <system_error>

#include "net/socket_writer.hpp"
#include "net/tls.hpp"
#include "rtmp/proto/client_session.hpp"
#include "rtmp/proto/rtmp_url.hpp"

namespace rtmp::net {

/// One outbound RTMP connection attempt: its socket, session and write queue.
/// Shared with its writer, so a new attempt never meets an old writer.
struct relay_conn {
  relay_conn(asio::io_context& io, proto::client_session_config cfg)
      : socket(io), goodbye(io), session(std::move(cfg)) {}
  asio::ip::tcp::socket socket;
  std::unique_ptr<tls_stream> tls;  // rtmps:// targets: TLS over socket
  asio::steady_timer goodbye;  // bounds the flush of a stopping push
  proto::client_session session;
  outbound_queue out;
  bool writing = false;  // a drain runs
  bool closed = false;
  bool close_when_drained = false;

  void close() {
    if (closed) return;
    closed = true;
    std::error_code ec;
    socket.close(ec);
    goodbye.cancel();
    out.clear();
  }
};

/// Connects `c` to the host of `u` (resolved unless it is an address) and,
/// with `tls` (rtmps://), does the TLS handshake with SNI and the host name
/// checked. Returns what failed ("cannot connect: ..."), or empty when the
/// connection is ready for RTMP; also empty when `c` was closed meanwhile.
asio::awaitable<std::string> open_relay_conn(relay_conn& c, const proto::rtmp_url& u, asio::ssl::context* tls);

}  // namespace rtmp::net
