#pragma once
// A minimal blocking HTTP/1.1 client for tests of the operator endpoint:
// plain sockets to 127.0.0.1, every read bounded in time.

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "net.hpp"

namespace rtmp::test {

/// A response as read: status 0 when none (or no complete head) arrived.
struct http_reply {
  int status = 0;
  std::string headers;  ///< Status line and header lines, each ending in CRLF.
  std::string body;     ///< Everything after the blank line, as sent (chunked bodies not decoded).
};

/// Sends `request` as is and reads until the server closes or `limit` passes.
inline http_reply raw_http(std::uint16_t port, const std::string& request,
                           std::chrono::milliseconds limit = std::chrono::seconds(5)) {
  http_reply r;
  const int fd = connect_loopback(port);
  if (fd < 0) return r;
  (void)::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string in;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char buf[8192];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    in.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  const auto end = in.find("\r\n\r\n");
  if (in.size() < 12 || end == std::string::npos) return r;
  r.status = std::stoi(in.substr(9, 3));
  r.headers = in.substr(0, end + 2);
  r.body = in.substr(end + 4);
  return r;
}

/// GET `path` with `Connection: close` (plus `extra` header lines, each
/// ending in CRLF).
inline http_reply http_get(std::uint16_t port, const std::string& path, const std::string& extra = "") {
  return raw_http(port, "GET " + path + " HTTP/1.1\r\nHost: test\r\nConnection: close\r\n" + extra + "\r\n");
}

/// The value of the sample `name` (labels as written, e.g.
/// `rtmp_players` or `x{app="live"}`) on a Prometheus text page.
inline std::optional<double> metric_sample(const std::string& page, const std::string& name) {
  std::size_t pos = 0;
  while ((pos = page.find(name + " ", pos)) != std::string::npos) {
    if (pos == 0 || page[pos - 1] == '\n') return std::stod(page.substr(pos + name.size() + 1));
    pos += name.size();
  }
  return std::nullopt;
}

}  // namespace rtmp::test
