// HLS behind an ordinary HTTP cache (nginx proxy_cache, configured as
// docs/scaling.md shows): forty viewers poll the playlist and fetch every
// segment through the cache, and the origin sees at most one request per
// segment, because segments say they never change and the cache asks the
// origin once per object.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/counting_sink.hpp"
#include "support/http_client.hpp"
#include "support/net.hpp"
#include "support/nginx.hpp"
#include "support/process.hpp"
#include "support/running_server.hpp"

namespace {

using namespace std::chrono_literals;
using rtmp::test::read_text;

// The segment URIs a playlist lists.
std::vector<std::string> segment_uris(const std::string& playlist) {
  std::vector<std::string> out;
  std::istringstream in(playlist);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] != '#') out.push_back(line);
  }
  return out;
}

TEST(hls_cache, forty_viewers_behind_nginx_proxy_cache_cost_the_origin_one_request_per_segment) {
  RTMP_REQUIRE_TOOL(rtmp::test::have_program("ffmpeg"), "ffmpeg not installed");
  auto sink = std::make_shared<rtmp::test::text_sink>();
  const auto old = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("hls-cache", spdlog::sinks_init_list{sink}));
  spdlog::set_level(spdlog::level::debug);  // the HTTP endpoint logs each request at debug

  rtmp::test::temp_dir dir;
  auto cfg = rtmp::test::loopback_config();
  cfg.http_listen = {"127.0.0.1:0"};
  cfg.hls.apps = {"live"};
  cfg.hls.segment_duration = 1000ms;
  rtmp::test::running_server server(cfg);
  rtmp::test::nginx_cache_proxy cache(dir.path().string(), server.http_port());
  RTMP_REQUIRE_TOOL(cache.ok(), cache.why());

  rtmp::test::child_process publisher(rtmp::test::ffmpeg_live_publish(
      "rtmp://127.0.0.1:" + std::to_string(server.port()) + "/live/cam", 30, dir.file("publisher.log")));
  ASSERT_TRUE(rtmp::test::wait_until(
      [&] { return segment_uris(rtmp::test::http_get(server.http_port(), "/live/cam/index.m3u8").body).size() >= 2; },
      20s))
      << read_text(dir.file("publisher.log"));

  constexpr int viewers = 40;
  std::atomic<int> segments_fetched{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  const auto until = std::chrono::steady_clock::now() + 5s;
  for (int v = 0; v < viewers; ++v) {
    threads.emplace_back([&] {
      std::set<std::string> have;
      while (std::chrono::steady_clock::now() < until) {
        const auto playlist = rtmp::test::http_get(cache.port(), "/live/cam/index.m3u8");
        if (playlist.status != 200) {
          ++failures;
          std::this_thread::sleep_for(200ms);
          continue;
        }
        for (const auto& uri : segment_uris(playlist.body)) {
          if (!have.insert(uri).second) continue;
          const auto seg = rtmp::test::http_get(cache.port(), "/live/cam/" + uri);
          if (seg.status == 200 && seg.body.size() > 188 && seg.body.size() % 188 == 0) {
            ++segments_fetched;
          } else {
            ++failures;
          }
        }
        std::this_thread::sleep_for(500ms);  // as a player polls: about half a segment
      }
    });
  }
  for (auto& t : threads) t.join();
  spdlog::set_default_logger(old);

  EXPECT_EQ(failures.load(), 0) << cache.log();
  EXPECT_GE(segments_fetched.load(), viewers * 3) << "every viewer fetched the segments it saw";
  // What reached the origin: one GET per segment, whatever the audience.
  std::map<std::string, int> origin_gets;
  std::istringstream lines(sink->all());
  for (std::string line; std::getline(lines, line);) {
    const auto at = line.find(" GET /live/cam/");
    if (at == std::string::npos || line.find(".ts -> ") == std::string::npos) continue;
    const std::string target = line.substr(at + 5, line.find(' ', at + 5) - at - 5);
    ++origin_gets[target];
  }
  ASSERT_GE(origin_gets.size(), 3u) << sink->all();
  for (const auto& [target, n] : origin_gets) EXPECT_EQ(n, 1) << target << " reached the origin " << n << " times";
  std::printf("hls behind nginx proxy_cache: %d viewers fetched %d segments; the origin served %zu segment requests\n",
              viewers, segments_fetched.load(), origin_gets.size());
}

}  // namespace
