// Publish/play authentication of the in-process server: allowed apps,
// static tokens in the stream name or tcUrl, and the HTTP callback (a small
// HTTP server in this test answers 200 or 403, or never answers), with the
// refusal codes, the close, and no token in the logs.

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "rtmp/net/server.hpp"
#include "rtmp/proto/command.hpp"
#include "support/counting_sink.hpp"
#include "support/fake_callback.hpp"
#include "support/net.hpp"
#include "support/process.hpp"
#include "support/running_server.hpp"
#include "support/test_client.hpp"

namespace {

using namespace std::chrono_literals;
using rtmp::test::loopback_config;
using rtmp::test::test_client;

using keep_sink = rtmp::test::text_sink;  // every log line, to check that no token leaks

using rtmp::test::fake_callback;

class auth_test : public ::testing::Test {
 protected:
  void SetUp() override {
    sink_ = std::make_shared<keep_sink>();
    old_ = spdlog::default_logger();
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("auth", spdlog::sinks_init_list{sink_}));
    spdlog::set_level(spdlog::level::debug);
  }
  void TearDown() override {
    server_.stop();
    spdlog::set_default_logger(old_);
    spdlog::set_level(spdlog::level::info);
  }
  // connect with `tc_url_query` appended to the tcUrl, createStream, publish.
  std::string publish_with(test_client& c, const std::string& name, const std::string& tc_query = "") {
    rtmp::proto::connect_params p;
    p.app = "secure";
    p.tc_url = "rtmp://127.0.0.1/secure" + tc_query;
    c.send_command(rtmp::proto::connect_command(1, p));
    if (!c.wait_command("_result")) return "no connect result";
    const auto id = c.create_stream();
    c.send_command(rtmp::proto::publish_command(3, name), id);
    return c.wait_status();
  }

  std::shared_ptr<keep_sink> sink_;
  std::shared_ptr<spdlog::logger> old_;
  rtmp::test::running_server server_;
};

TEST_F(auth_test, unknown_app_is_rejected_at_connect) {
  auto cfg = loopback_config();
  cfg.session.allowed_apps = {"live", "secure"};
  server_.start(cfg);
  test_client ok(server_.port());
  EXPECT_EQ(ok.publish("cam"), "NetStream.Publish.Start");
  test_client bad(server_.port());
  rtmp::proto::connect_params p;
  p.app = "other";
  p.tc_url = "rtmp://127.0.0.1/other";
  bad.send_command(rtmp::proto::connect_command(1, p));
  const auto err = bad.wait_command("_error");
  ASSERT_TRUE(err);
  EXPECT_EQ(rtmp::proto::read_status(*err)->code, "NetConnection.Connect.Rejected");
  EXPECT_TRUE(bad.closed_by_peer(3s));
}

TEST_F(auth_test, static_tokens_protect_publish_and_play_and_never_reach_the_logs) {
  auto cfg = loopback_config();
  cfg.auth.publish_tokens["secure"] = {"pub-s3cret"};
  cfg.auth.play_tokens["secure"] = {"view-s3cret"};
  server_.start(cfg);
  {
    test_client c(server_.port());
    EXPECT_EQ(publish_with(c, "cam"), "NetStream.Publish.Unauthorized");
    EXPECT_TRUE(c.closed_by_peer(3s));
  }
  {
    test_client c(server_.port());
    EXPECT_EQ(publish_with(c, "cam?token=wrong"), "NetStream.Publish.Unauthorized");
    EXPECT_TRUE(c.closed_by_peer(3s));
  }
  test_client pub(server_.port());
  EXPECT_EQ(publish_with(pub, "cam?token=pub-s3cret"), "NetStream.Publish.Start");
  {
    test_client c(server_.port());  // the token in the tcUrl works too
    EXPECT_EQ(publish_with(c, "cam2", "?token=pub-s3cret"), "NetStream.Publish.Start");
  }
  {
    test_client v(server_.port());
    EXPECT_EQ(v.play("cam", "secure"), "NetStream.Play.Failed");
    EXPECT_TRUE(v.closed_by_peer(3s));
  }
  test_client viewer(server_.port());
  EXPECT_EQ(viewer.play("cam?token=view-s3cret", "secure"), "NetStream.Play.Start");
  {
    test_client other(server_.port());  // an app without rules is open
    EXPECT_EQ(other.publish("free"), "NetStream.Publish.Start");
  }
  const std::string logs = sink_->all();
  EXPECT_NE(logs.find("publish refused: no valid token"), std::string::npos) << logs;
  EXPECT_EQ(logs.find("s3cret"), std::string::npos) << "a token reached the log:\n" << logs;
  EXPECT_EQ(logs.find("wrong"), std::string::npos) << "a token reached the log:\n" << logs;
}

TEST_F(auth_test, http_callback_allows_on_2xx_and_refuses_otherwise) {
  fake_callback allow(200), deny(403);
  {
    auto cfg = loopback_config();
    cfg.auth.on_publish_url = allow.url();
    cfg.auth.on_play_url = allow.url();
    server_.start(cfg);
    test_client pub(server_.port());
    EXPECT_EQ(pub.publish("cam?token=abc"), "NetStream.Publish.Start");
    test_client v(server_.port());
    EXPECT_EQ(v.play("cam"), "NetStream.Play.Start");
    const auto bodies = allow.bodies();
    ASSERT_EQ(bodies.size(), 2u);
    EXPECT_NE(bodies[0].find("\"action\":\"publish\""), std::string::npos) << bodies[0];
    EXPECT_NE(bodies[0].find("\"app\":\"live\""), std::string::npos);
    EXPECT_NE(bodies[0].find("\"stream\":\"cam\""), std::string::npos);
    EXPECT_NE(bodies[0].find("\"query\":\"token=abc\""), std::string::npos);
    EXPECT_NE(bodies[0].find("\"client\":\"127.0.0.1\""), std::string::npos);
    EXPECT_NE(bodies[1].find("\"action\":\"play\""), std::string::npos);
    server_.stop();
  }
  auto cfg = loopback_config();
  cfg.auth.on_publish_url = deny.url();
  cfg.auth.on_play_url = deny.url();
  server_.start(cfg);
  test_client pub(server_.port());
  EXPECT_EQ(pub.publish("cam"), "NetStream.Publish.Unauthorized");
  EXPECT_TRUE(pub.closed_by_peer(3s));
  test_client v(server_.port());
  EXPECT_EQ(v.play("cam"), "NetStream.Play.Failed");
  EXPECT_TRUE(v.closed_by_peer(3s));
  EXPECT_NE(sink_->all().find("callback answered 403"), std::string::npos);
}

TEST_F(auth_test, on_connect_holds_the_connect_and_what_was_pipelined_until_it_allows) {
  fake_callback allow(200), deny(403);
  auto cfg = loopback_config();
  cfg.auth.on_connect_url = allow.url("/connect?site=1");
  server_.start(cfg);
  // A client that pipelines createStream and publish behind its connect.
  test_client c(server_.port());
  rtmp::proto::connect_params p;
  p.app = "live";
  p.tc_url = "rtmp://127.0.0.1/live?pass=x";
  c.send_command(rtmp::proto::connect_command(1, p));
  c.send_command(rtmp::proto::create_stream_command(2));
  c.send_command(rtmp::proto::publish_command(3, "cam"), 1);
  EXPECT_EQ(c.wait_status(), "NetStream.Publish.Start");
  const auto bodies = allow.bodies();
  ASSERT_EQ(bodies.size(), 1u);
  EXPECT_NE(bodies[0].find("\"action\":\"connect\""), std::string::npos) << bodies[0];
  EXPECT_NE(bodies[0].find("\"app\":\"live\""), std::string::npos) << bodies[0];
  EXPECT_NE(bodies[0].find("\"query\":\"pass=x\""), std::string::npos) << bodies[0];
  EXPECT_NE(bodies[0].find("\"client\":\"127.0.0.1\""), std::string::npos) << bodies[0];
  EXPECT_EQ(allow.requests().at(0).target, "/connect?site=1");

  // ffmpeg, refused at connect.
  server_.stop();
  cfg.auth.on_connect_url = deny.url();
  server_.start(cfg);
  test_client refused(server_.port());
  refused.send_command(rtmp::proto::connect_command(1, p));
  const auto err = refused.wait_command("_error");
  ASSERT_TRUE(err);
  EXPECT_EQ(rtmp::proto::read_status(*err)->code, "NetConnection.Connect.Rejected");
  EXPECT_TRUE(refused.closed_by_peer(3s));
  EXPECT_NE(sink_->all().find("connect to live refused: the on_connect callback answered 403"), std::string::npos)
      << sink_->all();
  RTMP_REQUIRE_TOOL(rtmp::test::have_program("ffmpeg"), "ffmpeg not installed");
  EXPECT_NE(rtmp::test::run("ffmpeg -nostdin -loglevel error -f lavfi -i testsrc=size=160x120:rate=10 -t 1 "
                            "-c:v libx264 -f flv rtmp://127.0.0.1:" + std::to_string(server_.port()) +
                                "/live/cam 2>/dev/null",
                            20s),
            0)
      << "ffmpeg published through a refusing on-connect";
  server_.stop();
  cfg.auth.on_connect_url = allow.url();
  server_.start(cfg);
  EXPECT_EQ(rtmp::test::run("ffmpeg -nostdin -loglevel error -f lavfi -i testsrc=size=160x120:rate=10 -t 1 "
                            "-c:v libx264 -f flv rtmp://127.0.0.1:" + std::to_string(server_.port()) +
                                "/live/cam 2>/dev/null",
                            20s),
            0)
      << "ffmpeg could not publish through an allowing on-connect";
}

TEST_F(auth_test, unreachable_callback_fails_closed_or_open_as_configured) {
  fake_callback silent(0);
  for (const bool open : {false, true}) {
    auto cfg = loopback_config();
    cfg.auth.on_publish_url = silent.url();
    cfg.auth.callback_timeout = 300ms;
    cfg.auth.callback_fail_open = open;
    server_.start(cfg);
    test_client pub(server_.port());
    EXPECT_EQ(pub.publish("cam"), open ? "NetStream.Publish.Start" : "NetStream.Publish.Unauthorized") << open;
    server_.stop();
  }
  // A URL nobody listens on behaves the same (fail-closed by default).
  auto cfg = loopback_config();
  cfg.auth.on_publish_url = "http://127.0.0.1:1/none";
  server_.start(cfg);
  test_client pub(server_.port());
  EXPECT_EQ(pub.publish("cam"), "NetStream.Publish.Unauthorized");
}

}  // namespace
