#pragma once
// A fake server for client tests: one connection accepted on a loopback
// ephemeral port and handed, as a raw_socket, to a behaviour running in its
// own thread; and the server side of a plain handshake done by hand.

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "net.hpp"
#include "raw_socket.hpp"

namespace rtmp::test {

/// Accepts one connection on 127.0.0.1 (ephemeral port) in a thread and runs
/// the behaviour on it; gives up accepting after 10 s. The destructor waits
/// for the behaviour to return.
class fake_server {
 public:
  /// What the server does with the accepted connection.
  using behaviour = std::function<void(raw_socket&)>;

  /// Listens, then accepts and runs `b` in a thread.
  explicit fake_server(behaviour b) {
    listener_ = listen_loopback(port_, 4);
    thread_ = std::thread([this, b = std::move(b)] {
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (!stop_ && std::chrono::steady_clock::now() < deadline) {
        pollfd p{listener_, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) continue;
        const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) continue;
        raw_socket s = raw_socket::adopt(fd);
        b(s);
        return;
      }
    });
  }
  ~fake_server() {
    stop_ = true;
    thread_.join();
    ::close(listener_);
  }
  fake_server(const fake_server&) = delete;
  fake_server& operator=(const fake_server&) = delete;

  /// The port it listens on.
  std::uint16_t port() const { return port_; }

 private:
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

/// The server side of a plain handshake, by hand: reads C0C1, answers S0S1S2
/// (S2 echoing C1), reads C2. `garbage` answers with an S1 whose time is 0
/// and an S2 of random bytes instead. False when the client did not follow.
inline bool fake_handshake(raw_socket& s, bool garbage = false) {
  using namespace std::chrono_literals;
  const auto c0c1 = s.read_exact(1537, 3s);
  if (!c0c1) return false;
  std::vector<std::uint8_t> out(1 + 1536 + 1536, 0);
  out[0] = 3;
  std::mt19937 rng(43);
  for (std::size_t i = 1 + 8; i < 1 + 1536; ++i) out[i] = static_cast<std::uint8_t>(rng());
  if (!garbage) out[1] = 0x01;  // S1 time != 0
  if (garbage) {
    for (std::size_t i = 1 + 1536; i < out.size(); ++i) out[i] = static_cast<std::uint8_t>(rng());
  } else {
    std::copy(c0c1->begin() + 1, c0c1->end(), out.begin() + 1 + 1536);  // S2 echoes C1
  }
  if (s.send(out) != send_result::ok) return false;
  return s.read_exact(1536, 3s).has_value();  // C2
}

}  // namespace rtmp::test
