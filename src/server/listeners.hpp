#pragma once
// The server's listening sockets: RTMP, RTMPS, PROXY-protocol RTMP and the
// operator HTTP endpoint, each bound from one configured "ADDR:PORT".
// Internal to the networking layer (server_impl owns one listener_set).

#include <asio/ip/tcp.hpp>

#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <vector>

#include "rtmp/net/server.hpp"

namespace rtmp::net {

/// What a listener's connections speak.
enum class listener_kind {
  rtmp,     ///< Plain RTMP.
  rtmps,    ///< RTMP inside TLS.
  proxied,  ///< Plain RTMP after a PROXY protocol (v1 or v2) header.
  http,     ///< The operator endpoint and HTTP-FLV.
};

/// One bound and listening socket.
struct listener {
  listener_kind kind = listener_kind::rtmp;
  std::string address;                               ///< As configured ("ADDR:PORT").
  std::shared_ptr<asio::ip::tcp::acceptor> acceptor;  ///< Shared with its accept loop.
};

/// The listeners `config` asks for, not yet bound.
std::vector<listener> listeners_wanted(const server_config& config);

/// Binds and listens on `l.address` with an acceptor of `io`; logs and
/// returns the error.
std::error_code bind_listener(listener& l, asio::io_context& io);

/// "listening on 127.0.0.1:1935 for RTMPS" and the like.
std::string describe_listener(const listener& l);

/// The listeners in use: opened at start, changed by a reload. Thread-safe.
class listener_set {
 public:
  /// Binds every listener of `config` not open yet (same kind and address)
  /// into `opened`, with acceptors of `io`. On an error, nothing is kept
  /// open and the error is returned (and logged).
  std::error_code bind_missing(const server_config& config, asio::io_context& io, std::vector<listener>& opened) const;
  /// Adds listeners that bind_missing opened.
  void add(std::vector<listener> opened);
  /// Removes and returns the listeners `config` no longer names.
  std::vector<listener> remove_unwanted(const server_config& config);
  /// Removes and returns every listener.
  std::vector<listener> remove_all();
  /// The bound addresses of the listeners of `kind`, in configuration order.
  std::vector<asio::ip::tcp::endpoint> endpoints(listener_kind kind) const;

 private:
  mutable std::mutex mutex_;
  std::vector<listener> open_;
};

}  // namespace rtmp::net
