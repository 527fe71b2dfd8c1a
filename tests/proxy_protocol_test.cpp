// A server behind HAProxy (send-proxy-v2, from its own source address
// 127.0.0.2): the client's address from the PROXY header is the one that
// /api/streams and the logs show and that the access rules and the per-IP
// cap apply to; a connection without the header on that listener is closed
// with a log line.

#include <gtest/gtest.h>

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "support/counting_sink.hpp"
#include "support/http_client.hpp"
#include "support/net.hpp"
#include "support/process.hpp"
#include "support/raw_socket.hpp"
#include "support/running_server.hpp"
#include "support/test_client.hpp"

namespace {

using namespace std::chrono_literals;
using rtmp::test::test_client;

class proxy_protocol : public ::testing::Test {
 protected:
  void SetUp() override {
    RTMP_REQUIRE_TOOL(rtmp::test::have_program("haproxy"), "haproxy not installed");
    sink_ = std::make_shared<rtmp::test::text_sink>();
    old_ = spdlog::default_logger();
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("proxy", spdlog::sinks_init_list{sink_}));
    spdlog::set_level(spdlog::level::info);

    auto cfg = rtmp::test::loopback_config();
    cfg.proxy_protocol_listen = {"127.0.0.1:0"};
    cfg.http_listen = {"127.0.0.1:0"};
    cfg.max_connections_per_ip = 3;
    // The balancer's own address may publish nowhere, the client's not to "closed":
    // only the client's address may decide.
    for (const char* r : {"live=127.0.0.2", "closed=127.0.0.1"}) {
      cfg.auth.access.push_back(rtmp::net::parse_access_rule(false, true, r).value());
    }
    server_.start(cfg);
    ASSERT_EQ(server_->proxy_endpoints().size(), 1u);
    proxy_port_ = server_->proxy_endpoints().at(0).port();

    front_port_ = rtmp::test::free_port();
    const std::string conf = dir_.file("haproxy.cfg");
    std::ofstream(conf) << "global\n  maxconn 200\n"
                           "defaults\n  mode tcp\n  timeout connect 5s\n  timeout client 60s\n  timeout server 60s\n"
                           "frontend rtmp\n  bind 127.0.0.1:" << front_port_ << "\n  default_backend servers\n"
                           "backend servers\n  server s1 127.0.0.1:" << proxy_port_ << " send-proxy-v2 source 127.0.0.2\n";
    haproxy_ = std::make_unique<rtmp::test::child_process>("haproxy -db -f " + conf + " > " + dir_.file("haproxy.log") +
                                                           " 2>&1");
    ASSERT_TRUE(rtmp::test::wait_until([&] { return rtmp::test::port_open(front_port_); }, 10s))
        << rtmp::test::read_text(dir_.file("haproxy.log"));
  }

  void TearDown() override {
    haproxy_.reset();
    server_.stop();
    if (old_) spdlog::set_default_logger(old_);
  }

  std::shared_ptr<rtmp::test::text_sink> sink_;
  std::shared_ptr<spdlog::logger> old_;
  rtmp::test::running_server server_;
  rtmp::test::temp_dir dir_;
  std::unique_ptr<rtmp::test::child_process> haproxy_;
  std::uint16_t proxy_port_ = 0, front_port_ = 0;
};

TEST_F(proxy_protocol, the_client_address_counts_behind_haproxy) {
  test_client pub(front_port_);
  ASSERT_EQ(pub.publish("cam"), "NetStream.Publish.Start") << "a rule on the balancer's address decided";

  const auto api = rtmp::test::http_get(server_.http_port(), "/api/streams/live/cam");
  ASSERT_EQ(api.status, 200) << api.body;
  const auto info = nlohmann::json::parse(api.body);
  const std::string address = info["publisher"]["address"].get<std::string>();
  EXPECT_EQ(address.rfind("127.0.0.1:", 0), 0u) << "the API shows " << address;

  test_client refused(front_port_);
  EXPECT_EQ(refused.publish("cam2", "closed"), "NetStream.Publish.Unauthorized") << "deny-publish closed=127.0.0.1";

  const std::string logs = sink_->all();
  EXPECT_NE(logs.find("remote=127.0.0.1:"), std::string::npos) << logs;
  EXPECT_EQ(logs.find("remote=127.0.0.2"), std::string::npos) << "the balancer's address reached the logs:\n" << logs;
}

TEST_F(proxy_protocol, the_per_ip_cap_applies_to_the_client_address) {
  std::vector<std::unique_ptr<test_client>> held;
  for (int i = 0; i < 3; ++i) held.push_back(std::make_unique<test_client>(front_port_));
  // The fourth from the same client is over --max-connections-per-ip 3.
  EXPECT_THROW(test_client{front_port_}, std::exception);
  EXPECT_TRUE(rtmp::test::wait_until(
      [&] { return sink_->all().find("refused connection from 127.0.0.1") != std::string::npos; }, 3s))
      << sink_->all();
}

TEST_F(proxy_protocol, a_connection_without_the_header_is_closed_with_a_log_line) {
  rtmp::test::raw_socket direct(proxy_port_);
  const std::vector<std::uint8_t> c0c1(1537, 0x03);
  direct.send(c0c1);
  EXPECT_TRUE(direct.closed_by_peer(3s)) << "RTMP straight to a PROXY-protocol listener";
  EXPECT_TRUE(rtmp::test::wait_until(
      [&] { return sink_->all().find("expects a PROXY protocol header") != std::string::npos; }, 3s))
      << sink_->all();
}

}  // namespace
