#pragma once
// The fixture of the hostile-input battery (tests/hostile/README.md): the
// in-process server with short deadlines and a healthy publisher and player
// alongside every attack, and the checks each case ends with:
//   1. (the case's own) the offending connection is closed, or its request refused;
//   2. the healthy player received media with no gap longer than max_gap();
//   3. the server still accepts a new publish and a new play afterwards.

#include <gtest/gtest.h>
#include <spdlog/sinks/sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

#include "rtmp/net/server.hpp"
#include "rtmp/proto/command.hpp"
#include "client_io.hpp"
#include "healthy_flow.hpp"
#include "process.hpp"
#include "running_server.hpp"
#include "test_client.hpp"

namespace rtmp::test {

/// Milliseconds since `t0`.
inline long long ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
}

/// The hostile battery's gtest fixture; see the top of this file.
class hostile_fixture : public ::testing::Test {
 protected:
  /// Memory growth allowed in the cases that must stay bounded. Generous:
  /// the server is in-process, so the test's own buffers count too, and
  /// sanitizers keep freed memory in quarantine.
  static constexpr std::size_t rss_bound = sanitized_build ? 512u << 20 : 64u << 20;

  /// The largest gap allowed in the healthy player's media during an attack
  /// (RTMP_HOSTILE_MAX_GAP_MS, 500 ms by default).
  static std::chrono::milliseconds max_gap() {
    if (const char* env = std::getenv("RTMP_HOSTILE_MAX_GAP_MS")) return std::chrono::milliseconds(std::atoi(env));
    return std::chrono::milliseconds(500);
  }

  /// The server's settings with short deadlines, so that every wait in a
  /// case is short (the defaults are 10 s): 2 workers on 127.0.0.1:0.
  static net::server_config base_config() {
    using namespace std::chrono_literals;
    auto cfg = loopback_config(2);
    cfg.handshake_timeout = 1000ms;
    cfg.negotiate_timeout = 3000ms;
    cfg.idle_timeout = 3000ms;
    cfg.ping_interval = 1000ms;
    cfg.pong_timeout = 2000ms;
    cfg.shutdown_timeout = 1000ms;
    return cfg;
  }

  void SetUp() override { spdlog::set_level(spdlog::level::warn); }

  void TearDown() override {
    healthy_.stop([this] { server_.stop(); });
    server_.stop();
    if (old_logger_) {
      spdlog::set_default_logger(old_logger_);
      old_logger_.reset();
    }
    spdlog::set_level(spdlog::level::info);
  }

  /// Starts the server on `cfg` and, unless `with_healthy` is false, the
  /// healthy publisher and player.
  void start(net::server_config cfg = base_config(), bool with_healthy = true) {
    ASSERT_NO_FATAL_FAILURE(server_.start(std::move(cfg)));
    if (with_healthy) healthy_.start(server_.port());
  }

  /// Sends the log at info and above to `sink` alone until the test ends
  /// (TearDown gives the previous logger back once the server has stopped).
  void log_to(std::shared_ptr<spdlog::sinks::sink> sink) {
    old_logger_ = spdlog::default_logger();
    auto logger = std::make_shared<spdlog::logger>("hostile", spdlog::sinks_init_list{std::move(sink)});
    logger->set_level(spdlog::level::info);
    spdlog::set_default_logger(logger);
    spdlog::set_level(spdlog::level::info);
  }

  /// Check 2: the healthy flow did not stall since `t0`.
  void expect_healthy_since(std::chrono::steady_clock::time_point t0) {
    ASSERT_TRUE(healthy_.started()) << "no healthy flow in this test";
    EXPECT_FALSE(healthy_.publisher_failed()) << "the healthy publisher lost its connection";
    const auto gap = healthy_.gap_since(t0);
    EXPECT_LT(gap, max_gap()) << "the healthy player stalled for " << gap.count() << " ms during the attack";
  }

  /// Check 3: the server still accepts a new publish and a new play.
  void expect_still_serving() {
    using namespace std::chrono_literals;
    quick_client p(server_.port());
    EXPECT_EQ(p.publish("after" + std::to_string(after_counter_++)), "NetStream.Publish.Start");
    quick_client v(server_.port());
    ASSERT_EQ(v.play("healthy"), "NetStream.Play.Start");
    const auto media = read_until(v, is_media, 3s);
    EXPECT_TRUE(std::any_of(media.begin(), media.end(), is_media)) << "a new player got no media";
  }

  /// Checks 2 and 3 together, at the end of an attack that began at `t0`.
  void expect_unaffected(std::chrono::steady_clock::time_point t0) {
    expect_healthy_since(t0);
    expect_still_serving();
  }

  /// Open connections on the server.
  std::size_t connections() const { return server_->stats().connections; }

  /// True once at most `n` connections are open, within `timeout`.
  bool wait_connections(std::size_t n, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (connections() <= n) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return connections() <= n;
  }

  /// True when the healthy player got a frame tagged `tag`.
  bool saw_tag(std::uint8_t tag) { return healthy_.saw_tag(tag); }

  /// Connects `c`, creates a stream and publishes `name` on it (expecting
  /// Publish.Start); returns the stream id, for attacks from a publisher.
  std::uint32_t publish_on(test_client& c, const std::string& name) {
    c.connect();
    const auto id = c.create_stream();
    c.send_command(proto::publish_command(3, name), id);
    EXPECT_EQ(c.wait_status(), "NetStream.Publish.Start") << name;
    return id;
  }

  running_server server_;
  healthy_flow healthy_;
  int after_counter_ = 0;
  std::shared_ptr<spdlog::logger> old_logger_;
};

}  // namespace rtmp::test
