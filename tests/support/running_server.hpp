#pragma once
// The in-process server for tests: rtmp::net::server started on loopback
// ephemeral ports, its ports at hand, and stopped when the test ends.

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

#include "rtmp/net/server.hpp"

namespace rtmp::test {

/// A server_config listening on 127.0.0.1:0 (the kernel picks the port) with
/// `workers` worker threads; every other setting is the default.
inline net::server_config loopback_config(std::size_t workers = 2) {
  net::server_config cfg;
  cfg.listen = {"127.0.0.1:0"};
  cfg.workers = workers;
  return cfg;
}

/// An rtmp::net::server running in this process: started by the constructor
/// taking a config or by start(), stopped by stop() or on destruction. A
/// server that cannot start fails the calling test (fatally, where start()
/// is called from SetUp or through ASSERT_NO_FATAL_FAILURE).
class running_server {
 public:
  /// Nothing runs until start().
  running_server() = default;
  /// Starts a server on `config`.
  explicit running_server(net::server_config config) { start(std::move(config)); }
  ~running_server() { stop(); }

  running_server(const running_server&) = delete;
  running_server& operator=(const running_server&) = delete;

  /// Stops and drops the server running now, if any, then starts one on
  /// `config`, reading the ports it was given.
  void start(net::server_config config = loopback_config()) {
    server_.reset();
    port_ = http_port_ = tls_port_ = 0;
    server_ = std::make_unique<net::server>(std::move(config));
    const auto ec = server_->start();
    ASSERT_FALSE(ec) << "the in-process server did not start: " << ec.message();
    port_ = server_->local_endpoints().at(0).port();
    if (const auto http = server_->http_endpoints(); !http.empty()) http_port_ = http.at(0).port();
    if (const auto tls = server_->tls_endpoints(); !tls.empty()) tls_port_ = tls.at(0).port();
  }

  /// Stops the server (closing its connections); it can be asked again.
  void stop() {
    if (server_) server_->stop();
  }

  /// The port of the first RTMP listener (0 before a successful start).
  std::uint16_t port() const { return port_; }
  /// The port of the first HTTP listener (0 when none).
  std::uint16_t http_port() const { return http_port_; }
  /// The port of the first RTMPS listener (0 when none).
  std::uint16_t tls_port() const { return tls_port_; }

  /// The server itself (start() must have been called).
  net::server& server() { return *server_; }
  /// The server itself (start() must have been called).
  const net::server& server() const { return *server_; }
  /// The server's members, as `server_->stats()`.
  net::server* operator->() { return server_.get(); }
  /// The server's members, as `server_->stats()`.
  const net::server* operator->() const { return server_.get(); }

 private:
  std::unique_ptr<net::server> server_;
  std::uint16_t port_ = 0;
  std::uint16_t http_port_ = 0;
  std::uint16_t tls_port_ = 0;
};

}  // namespace rtmp::test
