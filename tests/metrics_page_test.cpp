// The /metrics page as Prometheus reads it: promtool accepts a page taken
// while ffmpeg publishes and plays; the process_* and build-info series are
// there; counters are typed as counters and keep counting after a player
// leaves; /api/streams gives integers as JSON integers.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <memory>
#include <optional>
#include <regex>
#include <string>

#include "rtmp/net/server.hpp"
#include "support/http_client.hpp"
#include "support/net.hpp"
#include "support/process.hpp"

namespace {

using namespace std::chrono_literals;
using rtmp::test::http_get;

const auto& sample = rtmp::test::metric_sample;

// The TYPE a page declares for `name` ("" when none).
std::string type_of(const std::string& page, const std::string& name) {
  const std::string prefix = "# TYPE " + name + " ";
  const auto at = page.find(prefix);
  if (at == std::string::npos) return "";
  return page.substr(at + prefix.size(), page.find('\n', at) - at - prefix.size());
}

class metrics_page_test : public ::testing::Test {
 protected:
  void SetUp() override {
    RTMP_REQUIRE_TOOL(rtmp::test::have_program("ffmpeg"), "ffmpeg not installed");
    RTMP_REQUIRE_TOOL(rtmp::test::have_program("promtool"), "promtool not installed (Debian package prometheus)");
    rtmp::net::server_config cfg;
    cfg.listen = {"127.0.0.1:0"};
    cfg.http_listen = {"127.0.0.1:0"};
    cfg.workers = 2;
    server_ = std::make_unique<rtmp::net::server>(cfg);
    ASSERT_FALSE(server_->start());
    port_ = server_->local_endpoints().at(0).port();
    http_port_ = server_->http_endpoints().at(0).port();
  }
  void TearDown() override {
    if (server_) server_->stop();
  }

  std::string rtmp_url(const std::string& name) const {
    return "rtmp://127.0.0.1:" + std::to_string(port_) + "/live/" + name;
  }

  // ffmpeg encodes a test pattern and a tone live (H.264 640x360 + AAC) and
  // publishes it for `seconds`.
  std::unique_ptr<rtmp::test::child_process> ffmpeg_publish(const std::string& name, int seconds) {
    return std::make_unique<rtmp::test::child_process>(
        "ffmpeg -nostdin -loglevel error -re -f lavfi -i testsrc=size=640x360:rate=25 "
        "-f lavfi -i sine=frequency=440:sample_rate=44100 -t " +
        std::to_string(seconds) +
        " -c:v libx264 -preset ultrafast -tune zerolatency -g 25 -pix_fmt yuv420p -c:a aac -b:a 64k -f flv " +
        rtmp_url(name));
  }

  // ffmpeg plays `name` for `seconds` and throws the media away.
  std::unique_ptr<rtmp::test::child_process> ffmpeg_play(const std::string& name, int seconds) {
    return std::make_unique<rtmp::test::child_process>("ffmpeg -nostdin -loglevel error -i " + rtmp_url(name) +
                                                       " -t " + std::to_string(seconds) + " -f null -");
  }

  std::string metrics() {
    const auto r = http_get(http_port_, "/metrics");
    EXPECT_EQ(r.status, 200);
    return r.body;
  }

  // promtool's verdict on `page` (its stdout and stderr; empty when clean).
  std::string promtool_check(const std::string& page) {
    const std::string in = dir_.file("metrics.txt");
    const std::string out = dir_.file("promtool.txt");
    {
      std::ofstream f(in);
      f << page;
    }
    const int status = rtmp::test::run("promtool check metrics < " + in + " > " + out + " 2>&1", 30s);
    std::string verdict = rtmp::test::read_text(out);
    if (status != 0 && verdict.empty()) verdict = "promtool exited " + std::to_string(status);
    return verdict;
  }

  std::unique_ptr<rtmp::net::server> server_;
  std::uint16_t port_ = 0, http_port_ = 0;
  rtmp::test::temp_dir dir_;
};

TEST_F(metrics_page_test, promtool_accepts_the_page_while_ffmpeg_publishes_and_plays) {
  auto pub = ffmpeg_publish("cam", 30);
  ASSERT_TRUE(rtmp::test::wait_until([&] { return sample(metrics(), "rtmp_publishers") == 1.0; }, 15s))
      << "ffmpeg did not publish";
  auto player = ffmpeg_play("cam", 20);
  ASSERT_TRUE(rtmp::test::wait_until(
      [&] {
        const auto page = metrics();
        return sample(page, "rtmp_players") == 1.0 &&
               sample(page, R"(rtmp_stream_sent_bytes_total{app="live",stream="cam"})").value_or(0) > 20000;
      },
      15s))
      << "ffmpeg did not play";
  const std::string page = metrics();
  EXPECT_EQ(promtool_check(page), "") << page;

  for (const char* name : {"process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds",
                           "process_start_time_seconds", "process_max_fds"}) {
    EXPECT_TRUE(sample(page, name).has_value()) << name << " missing";
  }
  EXPECT_GT(sample(page, "process_resident_memory_bytes").value_or(0), 1e6);
  EXPECT_GE(sample(page, "process_open_fds").value_or(0), 4) << "listeners and connections are descriptors";
  const double started = sample(page, "process_start_time_seconds").value_or(0);
  const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_LE(started, now + 1);
  EXPECT_GT(started, now - 24 * 3600) << "the test process started today";
  EXPECT_TRUE(std::regex_search(page, std::regex(R"(\nrtmp_build_info\{version="[0-9]+\.[0-9]+\.[0-9]+"\} 1\n)")))
      << page;
  for (const char* counter : {"rtmp_stream_sent_bytes_total", "rtmp_stream_received_bytes_total",
                              "rtmp_sent_bytes_total", "rtmp_connections_closed_total", "process_cpu_seconds_total"}) {
    EXPECT_EQ(type_of(page, counter), "counter") << counter;
  }
  EXPECT_FALSE(std::regex_search(page, std::regex(R"(\n(rtmp_[a-z_]+)(\{[^}]*\})? [0-9]+\.0\n)")))
      << "integers print as integers";
  // Adaptive coalescing, per worker: one publisher and one player cost
  // nothing worth holding media for.
  for (const char* gauge : {"rtmp_write_coalesce_window_seconds", "rtmp_fanout_share"}) {
    EXPECT_EQ(type_of(page, gauge), "gauge") << gauge;
  }
  EXPECT_EQ(sample(page, R"(rtmp_write_coalesce_window_seconds{worker="0"})"), 0.0) << page;
  EXPECT_LT(sample(page, R"(rtmp_fanout_share{worker="0"})").value_or(1), 0.05) << page;
}

TEST_F(metrics_page_test, a_stream_s_sent_bytes_keep_counting_after_a_player_leaves) {
  auto pub = ffmpeg_publish("cam", 30);
  ASSERT_TRUE(rtmp::test::wait_until([&] { return sample(metrics(), "rtmp_publishers") == 1.0; }, 15s));
  const std::string sent = R"(rtmp_stream_sent_bytes_total{app="live",stream="cam"})";
  auto player = ffmpeg_play("cam", 2);
  ASSERT_TRUE(rtmp::test::wait_until([&] { return sample(metrics(), sent).value_or(0) > 20000; }, 15s));
  EXPECT_EQ(player->wait(20s), 0) << "the player ends after its 2 s";
  ASSERT_TRUE(rtmp::test::wait_until([&] { return sample(metrics(), "rtmp_players") == 0.0; }, 5s));
  const double after_leaving = sample(metrics(), sent).value_or(0);
  EXPECT_GT(after_leaving, 20000) << "a counter does not fall when its players leave";

  const auto api = http_get(http_port_, "/api/streams/live/cam");
  ASSERT_EQ(api.status, 200);
  const auto info = nlohmann::json::parse(api.body);
  EXPECT_TRUE(info["video"]["width"].is_number_integer()) << api.body;
  EXPECT_EQ(info["video"]["width"], 640);
  EXPECT_TRUE(info["audio"]["sample_rate"].is_number_integer()) << api.body;
  EXPECT_TRUE(info["bitrate_in_bps"].is_number_integer()) << api.body;
}

}  // namespace
