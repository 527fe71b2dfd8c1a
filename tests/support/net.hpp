#pragma once
// Loopback helpers shared by the tests that run servers: a free port, a
// listening socket, a connection and a connect probe, and polling with a
// deadline (every wait in a test is bounded).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <thread>

namespace rtmp::test {

/// A TCP socket bound to 127.0.0.1 at a port the kernel picks, written to
/// `port`; -1 (and port 0) on failure.
inline int bind_loopback(std::uint16_t& port) {
  port = 0;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd);
    return -1;
  }
  port = ntohs(a.sin_port);
  return fd;
}

/// A TCP socket listening on 127.0.0.1 at a port the kernel picks, written
/// to `port`; -1 on failure.
inline int listen_loopback(std::uint16_t& port, int backlog = 16) {
  const int fd = bind_loopback(port);
  if (fd >= 0 && ::listen(fd, backlog) != 0) {
    ::close(fd);
    port = 0;
    return -1;
  }
  return fd;
}

/// A 127.0.0.1 TCP port that is free now (the kernel's pick for port 0).
/// Another process may take it before the caller binds it; on loopback in
/// a test run that is rare enough.
inline std::uint16_t free_port() {
  std::uint16_t port = 0;
  const int fd = bind_loopback(port);
  if (fd >= 0) ::close(fd);
  return port;
}

/// A TCP connection to 127.0.0.1:`port` (blocking), from the address
/// `source` (e.g. "127.0.0.3") when given, with SO_RCVBUF set first when
/// `receive_buffer` > 0; -1 on failure.
inline int connect_loopback(std::uint16_t port, int receive_buffer = 0, const char* source = nullptr) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (receive_buffer > 0) ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
  if (source != nullptr) {
    sockaddr_in src{};
    src.sin_family = AF_INET;
    ::inet_pton(AF_INET, source, &src.sin_addr);
    ::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src);
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

/// True when something accepts TCP connections on 127.0.0.1:`port`.
inline bool port_open(std::uint16_t port) {
  const int fd = connect_loopback(port);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

/// Calls `done` every 20 ms until it returns true or `timeout` has passed;
/// returns its last answer.
inline bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

}  // namespace rtmp::test
