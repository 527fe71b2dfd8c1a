// server::reload of the listeners and the RTMPS certificate: listeners the
// new settings add are opened and those they drop are closed while the
// connections accepted on them stay; new handshakes use a replaced
// certificate; a listener that cannot bind or a certificate that cannot be
// loaded changes nothing.
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "support/net.hpp"
#include "support/process.hpp"
#include "support/running_server.hpp"
#include "support/tls_cert.hpp"

namespace {

using namespace std::chrono_literals;

std::string local(std::uint16_t port) { return "127.0.0.1:" + std::to_string(port); }

bool mentions(const std::vector<std::string>& changes, const std::string& text) {
  for (const auto& c : changes) {
    if (c.find(text) != std::string::npos) return true;
  }
  return false;
}

TEST(server_reload, added_listeners_open_and_dropped_ones_close_while_their_connections_stay) {
  auto cfg = rtmp::test::loopback_config(1);
  rtmp::test::running_server server(cfg);
  const std::uint16_t first = server.port();
  const int kept = rtmp::test::connect_loopback(first);
  ASSERT_GE(kept, 0);
  // Accepted, not just queued: a closed listener's queue goes with it.
  ASSERT_TRUE(rtmp::test::wait_until([&] { return server->stats().connections == 1; }, 5s));

  const std::uint16_t second = rtmp::test::free_port();
  cfg.listen = {"127.0.0.1:0", local(second)};
  auto result = server->reload(cfg);
  ASSERT_TRUE(result.applied) << result.problem;
  EXPECT_TRUE(mentions(result.changes, "opened " + local(second)));
  EXPECT_EQ(server->local_endpoints().size(), 2u);
  EXPECT_TRUE(rtmp::test::port_open(second));

  cfg.listen = {local(second)};
  result = server->reload(cfg);
  ASSERT_TRUE(result.applied) << result.problem;
  EXPECT_TRUE(mentions(result.changes, "closed 127.0.0.1:0"));
  EXPECT_TRUE(rtmp::test::wait_until([&] { return !rtmp::test::port_open(first); }, 5s))
      << "the dropped listener still accepts";
  EXPECT_TRUE(rtmp::test::port_open(second));
  // The connection accepted on the closed listener is still served: the
  // server answers its handshake.
  std::uint8_t c0c1[1537] = {3};
  ASSERT_EQ(::write(kept, c0c1, sizeof c0c1), static_cast<ssize_t>(sizeof c0c1));
  std::uint8_t s0 = 0;
  EXPECT_EQ(::read(kept, &s0, 1), 1);
  EXPECT_EQ(s0, 3);
  ::close(kept);
}

TEST(server_reload, a_listener_that_cannot_bind_or_a_certificate_that_cannot_load_changes_nothing) {
  rtmp::test::temp_dir dir;
  const auto tls = rtmp::test::make_self_signed_certificate(dir.path().string());
  ASSERT_FALSE(tls.cert.empty());
  auto cfg = rtmp::test::loopback_config(1);
  cfg.tls_listen = {"127.0.0.1:0"};
  cfg.tls_cert_file = tls.cert;
  cfg.tls_key_file = tls.key;
  cfg.auth.publish_tokens["live"] = {"first"};
  rtmp::test::running_server server(cfg);

  std::uint16_t taken_port = 0;
  const int taken = rtmp::test::listen_loopback(taken_port);
  ASSERT_GE(taken, 0);
  auto next = cfg;
  next.listen.push_back(local(taken_port));
  next.auth.publish_tokens["live"] = {"second"};
  auto result = server->reload(next);
  EXPECT_FALSE(result.applied);
  EXPECT_NE(result.problem.find("cannot listen"), std::string::npos) << result.problem;
  EXPECT_EQ(server->local_endpoints().size(), 1u);
  ::close(taken);

  next = cfg;
  next.http_listen = {"127.0.0.1:0"};
  next.tls_key_file = dir.file("missing.pem");
  result = server->reload(next);
  EXPECT_FALSE(result.applied);
  EXPECT_NE(result.problem.find("tls-cert/tls-key"), std::string::npos) << result.problem;
  EXPECT_TRUE(server->http_endpoints().empty()) << "a refused reload opened a listener";
  EXPECT_TRUE(rtmp::test::tls_handshake_trusts(server.tls_port(), tls.cert));
}

TEST(server_reload, new_rtmps_handshakes_use_the_replaced_certificate) {
  rtmp::test::temp_dir dir;
  std::filesystem::create_directories(dir.file("old"));
  std::filesystem::create_directories(dir.file("new"));
  const auto old_pair = rtmp::test::make_self_signed_certificate(dir.file("old"));
  const auto new_pair = rtmp::test::make_self_signed_certificate(dir.file("new"));
  ASSERT_FALSE(old_pair.cert.empty());
  ASSERT_FALSE(new_pair.cert.empty());
  const std::string cert = dir.file("cert.pem"), key = dir.file("key.pem");
  std::filesystem::copy_file(old_pair.cert, cert);
  std::filesystem::copy_file(old_pair.key, key);
  auto cfg = rtmp::test::loopback_config(1);
  cfg.tls_listen = {"127.0.0.1:0"};
  cfg.tls_cert_file = cert;
  cfg.tls_key_file = key;
  rtmp::test::running_server server(cfg);
  EXPECT_TRUE(rtmp::test::tls_handshake_trusts(server.tls_port(), old_pair.cert));
  EXPECT_FALSE(rtmp::test::tls_handshake_trusts(server.tls_port(), new_pair.cert));

  auto result = server->reload(cfg);
  EXPECT_FALSE(mentions(result.changes, "TLS")) << "the same files are no change";
  // The certificate is renewed in place (as certbot does), then a reload.
  std::filesystem::copy_file(new_pair.cert, cert, std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(new_pair.key, key, std::filesystem::copy_options::overwrite_existing);
  result = server->reload(cfg);
  ASSERT_TRUE(result.applied) << result.problem;
  EXPECT_TRUE(mentions(result.changes, "TLS certificate and key"));
  EXPECT_TRUE(rtmp::test::tls_handshake_trusts(server.tls_port(), new_pair.cert));
  EXPECT_FALSE(rtmp::test::tls_handshake_trusts(server.tls_port(), old_pair.cert));
}

}  // namespace
