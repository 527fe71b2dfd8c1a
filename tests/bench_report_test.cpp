// The report of `rtmp-client bench` with several streams and the tool's
// own threads (apps/rtmp-client/bench_report and bench_cpu): a busy and an
// idle thread measured by their CPU clocks, the share rule that flags a
// saturated thread, and the JSON and table that say so; the publishers of
// several streams summed, their bitrate per stream and the first failure
// named by its stream.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <time.h>
#include <vector>

#include "bench.hpp"
#include "bench_cpu.hpp"
#include "bench_report.hpp"

namespace {

using namespace rtmp::bench;
using namespace std::chrono_literals;

// Polls `done` every millisecond until it is true (true) or `limit` passed (false).
template <class F>
bool wait_for(F done, std::chrono::milliseconds limit) {
  const auto deadline = clock_type::now() + limit;
  while (!done()) {
    if (clock_type::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

TEST(bench_thread_cpu, a_spinning_thread_shows_its_cpu_time_and_a_sleeping_one_none) {
  // The busy thread spins until its own CPU clock says 0.2 s (however busy
  // the machine, at most 10 s of wall time), then waits to be measured.
  std::atomic<bool> spun{false};
  std::atomic<bool> measured{false};
  std::thread busy([&] {
    const auto give_up = clock_type::now() + 10s;
    timespec ts{};
    do {
      ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    } while (static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9 < 0.2 &&
             clock_type::now() < give_up);
    spun = true;
    while (!measured.load()) std::this_thread::sleep_for(1ms);
  });
  std::thread idle([&] {
    while (!measured.load()) std::this_thread::sleep_for(5ms);
  });
  ASSERT_TRUE(wait_for([&] { return spun.load(); }, 15s));
  const auto busy_cpu = thread_cpu_seconds(busy);
  const auto idle_cpu = thread_cpu_seconds(idle);
  measured = true;
  busy.join();
  idle.join();
  ASSERT_TRUE(busy_cpu && idle_cpu);
  EXPECT_GE(*busy_cpu, 0.2);
  EXPECT_LT(*busy_cpu, 0.5);
  EXPECT_GE(*idle_cpu, 0.0);
  EXPECT_LT(*idle_cpu, 0.05);
  EXPECT_FALSE(thread_cpu_seconds(busy)) << "a joined thread has no clock";
}

TEST(bench_thread_cpu, share_is_the_larger_of_the_whole_run_and_a_long_enough_window) {
  const auto t0 = clock_type::time_point{} + 100s;
  thread_cpu_track t;
  EXPECT_EQ(t.share(), 0.0) << "not sampled yet";
  t.started = t0;
  t.window = t0 + 5s;
  t.cpu_at_window = 0.5;  // the ramp was light
  t.stopped = t0 + 10s;
  t.cpu_at_stop = 5.3;  // the window was busy: 4.8 s in 5 s
  EXPECT_NEAR(t.share(), 0.96, 1e-9);
  // A window shorter than a second does not count: a burst is not saturation.
  t.window = t0 + 9500ms;
  t.cpu_at_window = 4.85;
  EXPECT_NEAR(t.share(), 0.53, 1e-9);
  // Busy during the ramp only: the whole run shows it.
  t.window = t0 + 5s;
  t.cpu_at_window = 4.9;
  t.cpu_at_stop = 5.0;
  EXPECT_NEAR(t.share(), 0.5, 1e-9);
}

// A run of three streams, one of which never published, and two player
// threads whose busiest used `busiest` of the wall time.
run_outcome outcome_of(const std::vector<publisher_stats>& pubs, double busiest) {
  run_outcome o;
  o.threads = 2;
  const auto t0 = clock_type::now();
  o.timeline = {t0, t0 + 1s, t0 + 2s, t0 + 5s};
  o.publishing = true;
  for (const auto& p : pubs) o.publishers.push_back(&p);
  o.player_thread_shares = {0.2, busiest};
  o.publisher_thread_share = 0.1;
  return o;
}

// Three publishers: two sent 1 Mbit/s for 4 s, the third never published.
std::vector<publisher_stats> three_publishers(bool third_failed) {
  std::vector<publisher_stats> pubs(3);
  const auto t0 = clock_type::now();
  for (std::size_t i = 0; i < 3; ++i) {
    pubs[i].stream = "cam-" + std::to_string(i);
    if (i == 2 && third_failed) {
      pubs[i].failure = "publish refused (NetStream.Publish.BadName)";
      continue;
    }
    pubs[i].started = t0;
    pubs[i].ended = t0 + 4s;
    pubs[i].video_frames = 100;
    pubs[i].audio_frames = 170;
    pubs[i].media_bytes = 500'000;
  }
  return pubs;
}

// The table of `report`.
std::string table_of(const nlohmann::ordered_json& report) { return format_table(report); }

TEST(bench_report, a_busy_player_thread_makes_the_tool_saturated_in_json_and_table) {
  bench_options options;
  options.url = "rtmp://127.0.0.1/live/cam";
  options.streams = 3;
  options.publish = "synthetic";
  const auto pubs = three_publishers(false);
  const player_totals players;

  const auto calm = build_report(options, outcome_of(pubs, 0.85), players);
  EXPECT_FALSE(calm["tool_saturated"].get<bool>());
  EXPECT_DOUBLE_EQ(calm["threads_cpu"]["player_max_percent"].get<double>(), 85.0);
  EXPECT_DOUBLE_EQ(calm["threads_cpu"]["player_mean_percent"].get<double>(), 52.5);
  EXPECT_DOUBLE_EQ(calm["threads_cpu"]["publisher_percent"].get<double>(), 10.0);
  EXPECT_EQ(table_of(calm).find("WARNING"), std::string::npos) << table_of(calm);

  const auto busy = build_report(options, outcome_of(pubs, 0.97), players);
  EXPECT_TRUE(busy["tool_saturated"].get<bool>());
  const std::string table = table_of(busy);
  EXPECT_NE(table.find("| WARNING                | the tool was saturated"), std::string::npos) << table;
  EXPECT_NE(table.find("busiest player thread 97 %"), std::string::npos) << table;

  // The publishers' thread counts too.
  auto outcome = outcome_of(pubs, 0.2);
  outcome.publisher_thread_share = 0.95;
  EXPECT_TRUE(build_report(options, outcome, players)["tool_saturated"].get<bool>());
}

TEST(bench_report, publishers_of_several_streams_are_summed_with_a_bitrate_per_stream) {
  bench_options options;
  options.url = "rtmp://127.0.0.1/live/cam";
  options.streams = 3;
  options.publish = "synthetic";
  options.bitrate = 1'000'000;
  const auto pubs = three_publishers(false);
  const auto j = build_report(options, outcome_of(pubs, 0.1), player_totals{});
  EXPECT_EQ(j["streams"].get<int>(), 3);
  EXPECT_EQ(j["player_protocol"].get<std::string>(), "rtmp");
  const auto& p = j["publisher"];
  EXPECT_EQ(p["streams"].get<int>(), 3);
  EXPECT_EQ(p["publishing"].get<int>(), 3);
  EXPECT_EQ(p["video_frames"].get<int>(), 300);
  EXPECT_EQ(p["audio_frames"].get<int>(), 510);
  EXPECT_EQ(p["bytes"].get<int>(), 1'500'000);
  EXPECT_EQ(p["bitrate_bps"].get<int>(), 1'000'000);  // 500 kB in 4 s, each
  EXPECT_EQ(p["error"].get<std::string>(), "");
  EXPECT_NE(table_of(j).find("synthetic x 3 streams, 1.000 Mbit/s sent per stream"), std::string::npos)
      << table_of(j);
}

TEST(bench_report, a_publisher_that_failed_is_named_by_its_stream) {
  bench_options options;
  options.url = "rtmp://127.0.0.1/live/cam";
  options.streams = 3;
  options.publish = "synthetic";
  options.http_flv_port = 8080;
  const auto pubs = three_publishers(true);
  auto outcome = outcome_of(pubs, 0.1);
  outcome.publisher_failed = true;
  const auto j = build_report(options, outcome, player_totals{});
  EXPECT_FALSE(j["publisher"]["started"].get<bool>());
  EXPECT_EQ(j["publisher"]["publishing"].get<int>(), 2);
  EXPECT_EQ(j["publisher"]["error"].get<std::string>(), "cam-2: publish refused (NetStream.Publish.BadName)");
  EXPECT_EQ(j["player_protocol"].get<std::string>(), "http-flv");
  EXPECT_EQ(j["http_flv_port"].get<int>(), 8080);
  EXPECT_NE(table_of(j).find("players over HTTP-FLV (port 8080)"), std::string::npos) << table_of(j);
}

}  // namespace
