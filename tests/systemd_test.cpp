// rtmp-server under a (fake) service manager: READY=1 when listening and
// STOPPING=1 on SIGTERM arrive on $NOTIFY_SOCKET, and the process exits 0.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <string>

#include "support/process.hpp"

namespace {

using namespace std::chrono_literals;

// A bound Unix datagram socket standing in for systemd's notify socket.
class notify_socket {
 public:
  explicit notify_socket(const std::string& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    path.copy(addr.sun_path, sizeof(addr.sun_path) - 1);
    bound_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~notify_socket() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  bool bound() const { return bound_; }
  // Datagrams received within `timeout`, concatenated ("" on timeout).
  std::string receive(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return "";
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool bound_ = false;
};

TEST(systemd, ready_and_stopping_reach_the_notify_socket) {
  rtmp::test::temp_dir dir;
  notify_socket sock(dir.file("notify"));
  ASSERT_TRUE(sock.bound());
  const std::string log = dir.file("server.log");
  rtmp::test::child_process server("env NOTIFY_SOCKET=" + dir.file("notify") + " " + std::string(RTMP_BIN_DIR) +
                                   "/rtmp-server --workers 1 --listen 127.0.0.1:0 > " + log + " 2>&1");
  const std::string ready = sock.receive(10s);
  EXPECT_NE(ready.find("READY=1"), std::string::npos) << ready << rtmp::test::read_text(log);
  // READY=1 comes after the listener is bound.
  EXPECT_NE(rtmp::test::read_text(log).find("listening on 127.0.0.1:"), std::string::npos);
  server.signal(SIGTERM);
  std::string stopping;
  for (int i = 0; i < 5 && stopping.find("STOPPING=1") == std::string::npos; ++i) stopping += sock.receive(2s);
  EXPECT_NE(stopping.find("STOPPING=1"), std::string::npos) << stopping;
  EXPECT_EQ(server.wait(5s), 0) << rtmp::test::read_text(log);
}

TEST(systemd, watchdog_pings_arrive_when_asked_for) {
  rtmp::test::temp_dir dir;
  notify_socket sock(dir.file("notify"));
  ASSERT_TRUE(sock.bound());
  rtmp::test::child_process server("env NOTIFY_SOCKET=" + dir.file("notify") + " WATCHDOG_USEC=200000 " +
                                   std::string(RTMP_BIN_DIR) + "/rtmp-server --workers 1 --listen 127.0.0.1:0 " +
                                   "> /dev/null 2>&1");
  std::string got;
  for (int i = 0; i < 10 && got.find("WATCHDOG=1") == std::string::npos; ++i) got += sock.receive(1s);
  EXPECT_NE(got.find("WATCHDOG=1"), std::string::npos) << got;
  server.signal(SIGTERM);
  EXPECT_EQ(server.wait(5s), 0);
}

TEST(systemd, without_notify_socket_nothing_is_sent_and_the_server_runs) {
  rtmp::test::temp_dir dir;
  const std::string log = dir.file("server.log");
  rtmp::test::child_process server("env -u NOTIFY_SOCKET " + std::string(RTMP_BIN_DIR) +
                                   "/rtmp-server --workers 1 --listen 127.0.0.1:0 > " + log + " 2>&1");
  bool up = false;
  for (int i = 0; i < 100 && !up; ++i) {
    std::this_thread::sleep_for(50ms);
    up = rtmp::test::read_text(log).find("running with") != std::string::npos;
  }
  EXPECT_TRUE(up) << rtmp::test::read_text(log);
  server.signal(SIGTERM);
  EXPECT_EQ(server.wait(5s), 0);
}

}  // namespace
