#pragma once
// A plain TCP socket to a loopback port (no Asio) for traffic no client
// library would send: floods, byte drips, resets, protocol confusion; and the
// bounded writes and peer-closed checks it is built on. Every wait has a
// deadline, and no write blocks longer than its timeout or raises SIGPIPE.

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "net.hpp"

namespace rtmp::test {

/// How a bounded write ended: everything went, the peer closed, or the peer
/// stopped reading until the timeout.
enum class send_result { ok, closed, stalled };

/// Writes all of `b` to `fd` within `timeout`, never blocking longer (a peer
/// that stops reading cannot hang the test) and without SIGPIPE.
inline send_result send_bounded(int fd, std::span<const std::uint8_t> b,
                                std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::size_t off = 0;
  while (off < b.size()) {
    const ssize_t n = ::send(fd, b.data() + off, b.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      off += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
      if (left <= 0) return send_result::stalled;
      pollfd p{fd, POLLOUT, 0};
      ::poll(&p, 1, static_cast<int>(left));
      continue;
    }
    return send_result::closed;
  }
  return send_result::ok;
}

/// True when the peer closed `fd` (EOF, RST) within `timeout`; reads and drops data.
inline bool fd_closed_by_peer(int fd, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::uint8_t buf[65536];
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0) return true;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return true;
  }
}

/// True when the kernel reports a hang-up or reset on `fd` within `timeout`,
/// without reading (a zero timeout looks once).
inline bool fd_hung_up(int fd, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    pollfd p{fd, POLLRDHUP, 0};
    ::poll(&p, 1, static_cast<int>(std::clamp<long long>(left, 0, 20)));
    if ((p.revents & (POLLHUP | POLLERR | POLLRDHUP)) != 0) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
  }
}

/// A plain TCP connection to 127.0.0.1:`port`, closed on destruction.
class raw_socket {
 public:
  /// Connects, from the address `source` (e.g. "127.0.0.3") when given;
  /// ok() tells whether the connect succeeded.
  explicit raw_socket(std::uint16_t port, const char* source = nullptr)
      : fd_(connect_loopback(port, 0, source)) {}
  ~raw_socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  raw_socket(const raw_socket&) = delete;
  raw_socket& operator=(const raw_socket&) = delete;
  raw_socket(raw_socket&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}

  /// Takes ownership of an accepted descriptor.
  static raw_socket adopt(int fd) {
    raw_socket s;
    s.fd_ = fd;
    return s;
  }

  /// True while connected (not after reset()).
  bool ok() const { return fd_ >= 0; }
  /// The descriptor (-1 when not connected).
  int fd() const { return fd_; }

  /// What arrives within `timeout` (empty on timeout); nullopt once closed.
  std::optional<std::vector<std::uint8_t>> read_some(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return std::vector<std::uint8_t>{};
    std::vector<std::uint8_t> buf(65536);
    const ssize_t r = ::recv(fd_, buf.data(), buf.size(), MSG_DONTWAIT);
    if (r == 0) return std::nullopt;
    if (r < 0) {
      if (errno == EAGAIN || errno == EINTR) return std::vector<std::uint8_t>{};
      return std::nullopt;
    }
    buf.resize(static_cast<std::size_t>(r));
    return buf;
  }

  /// Writes all of `b` within `timeout` (see send_bounded).
  send_result send(const std::vector<std::uint8_t>& b, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    return send_bounded(fd_, b, timeout);
  }

  /// True when the peer closes within `timeout` (see fd_closed_by_peer).
  bool closed_by_peer(std::chrono::milliseconds timeout) { return fd_closed_by_peer(fd_, timeout); }

  /// Exactly `n` bytes within `timeout`; nullopt on timeout or close.
  std::optional<std::vector<std::uint8_t>> read_exact(std::size_t n, std::chrono::milliseconds timeout) {
    std::vector<std::uint8_t> out(n);
    std::size_t got = 0;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (got < n) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
      if (left <= 0) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      const ssize_t r = ::recv(fd_, out.data() + got, n - got, MSG_DONTWAIT);
      if (r == 0) return std::nullopt;
      if (r < 0) {
        if (errno == EAGAIN || errno == EINTR) continue;
        return std::nullopt;
      }
      got += static_cast<std::size_t>(r);
    }
    return out;
  }

  /// The client side of a plain RTMP 1.0 handshake (C1 with a zero version
  /// field, C2 echoing S1); false when the server did not answer in time.
  bool handshake(std::chrono::milliseconds timeout = std::chrono::seconds(3)) {
    std::vector<std::uint8_t> c0c1(1537, 0);
    c0c1[0] = 3;
    for (std::size_t i = 9; i < c0c1.size(); ++i) c0c1[i] = static_cast<std::uint8_t>(i * 7);
    if (send(c0c1) != send_result::ok) return false;
    auto s = read_exact(3073, timeout);
    if (!s) return false;
    const std::vector<std::uint8_t> c2(s->begin() + 1, s->begin() + 1537);
    return send(c2) == send_result::ok;
  }

  /// Closes with SO_LINGER 0: the peer gets a RST (as from a port scanner).
  void reset() {
    linger l{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    ::close(fd_);
    fd_ = -1;
  }

 private:
  raw_socket() = default;
  int fd_ = -1;
};

}  // namespace rtmp::test
