// `rtmp-client bench` end to end: the real rtmp-server binary (and nginx-rtmp
// when installed) on an ephemeral loopback port, the bench tool with its
// synthetic publisher and its players, and its JSON report parsed and
// checked; ffmpeg plays and decodes the synthetic stream through both
// servers. Every child is bounded in time; nothing reads stdin.
#include <gtest/gtest.h>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <functional>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support/files.hpp"
#include "support/net.hpp"
#include "support/nginx.hpp"
#include "support/process.hpp"

namespace {
using namespace rtmp::test;

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const std::string bin_dir = RTMP_BIN_DIR;

// The result of one bench run.
struct bench_run {
  int exit_code = -1;
  nlohmann::json report;  // null when stdout was not JSON
  std::string out;
  std::string err;
};

// Runs `rtmp-client bench URL ARGS --json` to completion (at most `limit`).
bench_run run_bench(const temp_dir& dir, const std::string& url, const std::string& args,
                    std::chrono::milliseconds limit = 60s) {
  const std::string out = dir.file("bench-out.json");
  const std::string err = dir.file("bench-err.txt");
  bench_run r;
  r.exit_code = rtmp::test::run(bin_dir + "/rtmp-client bench " + url + " " + args + " --json > " + out + " 2> " + err,
                                limit);
  r.out = read_text(out);
  r.err = read_text(err);
  r.report = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  return r;
}

// What every healthy run of 5 players with the synthetic publisher shows.
void expect_healthy(const bench_run& r, std::size_t players) {
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(r.report.is_object()) << "not JSON: " << r.out << r.err;
  const auto& j = r.report;
  SCOPED_TRACE(j.dump(2));
  EXPECT_EQ(j["players"]["requested"].get<std::size_t>(), players);
  EXPECT_EQ(j["players"]["connected"].get<std::size_t>(), players);
  EXPECT_EQ(j["players"]["failed"].get<std::size_t>(), 0u);
  EXPECT_EQ(j["players"]["disconnected"].get<std::size_t>(), 0u);
  EXPECT_EQ(j["players"]["with_media"].get<std::size_t>(), players);
  EXPECT_EQ(j["players"]["with_keyframe"].get<std::size_t>(), players);

  EXPECT_TRUE(j["publisher"]["started"].get<bool>());
  EXPECT_EQ(j["publisher"]["error"].get<std::string>(), "");
  EXPECT_GT(j["publisher"]["video_frames"].get<std::uint64_t>(), 50u);  // 25 fps for 4+ s
  EXPECT_EQ(j["publisher"]["skipped_frames"].get<std::uint64_t>(), 0u);

  // Every player got bytes and keyframes (a keyframe every 2 s).
  EXPECT_GT(j["delivered"]["min_player_bytes"].get<std::uint64_t>(), 50'000u);
  EXPECT_GE(j["delivered"]["min_player_keyframes"].get<std::uint64_t>(), 1u);
  EXPECT_GT(j["delivered"]["bitrate_bps"]["min"].get<double>(), 0);
  EXPECT_EQ(j["first_keyframe_ms"]["count"].get<std::size_t>(), players);

  // Loopback, light load: nothing lost, delay measured and small.
  EXPECT_EQ(j["gaps"]["gaps"].get<std::uint64_t>(), 0u);
  EXPECT_EQ(j["gaps"]["dropped_messages"].get<std::uint64_t>(), 0u);
  EXPECT_GT(j["gaps"]["stamped_messages"].get<std::uint64_t>(), 0u);
  EXPECT_GT(j["delay_ms"]["samples"].get<std::uint64_t>(), 0u);
  EXPECT_LT(j["delay_ms"]["p50"].get<double>(), 1000.0);
  EXPECT_GE(j["cpu"]["total_s"].get<double>(), 0.0);
}

// The rtmp-server program on an ephemeral loopback port, its log in a
// directory; killed on destruction.
class rtmp_server_program {
 public:
  explicit rtmp_server_program(const temp_dir& dir)
      : log_(dir.file("server.txt")),
        proc_(bin_dir + "/rtmp-server --workers 1 --listen 127.0.0.1:0 --log-level info > " + log_ + " 2>&1") {
    wait_until(
        [&] {
          const std::string text = read_text(log_);
          const std::string marker = "listening on 127.0.0.1:";
          const auto at = text.find(marker);
          if (at == std::string::npos) return false;
          port_ = static_cast<std::uint16_t>(std::stoi(text.substr(at + marker.size())));
          return true;
        },
        10s);
  }
  /// Its port; 0 when it did not start.
  std::uint16_t port() const { return port_; }
  /// Its log so far.
  std::string log() const { return read_text(log_); }

 private:
  std::string log_;
  child_process proc_;
  std::uint16_t port_ = 0;
};

TEST(bench_tool, rtmp_server_five_players_synthetic_publisher) {
  temp_dir dir;
  rtmp_server_program server(dir);
  ASSERT_NE(server.port(), 0) << server.log();
  const auto r = run_bench(dir, "rtmp://127.0.0.1:" + std::to_string(server.port()) + "/live/bench",
                           "--players 5 --publish synthetic --bitrate 500000 --duration 4 --threads 2");
  expect_healthy(r, 5);
}

// ffmpeg plays `url` before anything is published there (the server's log
// says so with `play_marker`), then the bench publishes the synthetic
// stream with audio and plays it with three players of its own: ffmpeg
// decodes 3 s of it, every frame from the first IDR picture on, without an
// error line or a concealed frame, while the players report stamped frames
// and their delay.
void expect_ffmpeg_decodes_the_synthetic_stream(const temp_dir& dir, const std::string& url,
                                                const std::function<std::string()>& server_log,
                                                const std::string& play_marker) {
  const std::string frames = dir.file("frames.txt");
  const std::string err = dir.file("ffmpeg-err.txt");
  // -xerror: a frame the decoder had to conceal ("corrupt decoded frame") is an error line too.
  child_process ffmpeg("ffmpeg -nostdin -v error -xerror -i '" + url + "' -t 3 -f framecrc '" + frames + "' 2>'" + err +
                       "'");
  ASSERT_TRUE(wait_until([&] { return server_log().find(play_marker) != std::string::npos; }, 15s))
      << "ffmpeg did not start playing: " << server_log() << read_text(err);
  const auto r = run_bench(dir, url,
                           "--players 3 --publish synthetic --bitrate 500000 --audio-bitrate 64000 --duration 5 "
                           "--threads 2");
  expect_healthy(r, 3);
  EXPECT_GT(r.report["delay_ms"]["p99"].get<double>(), 0.0);
  EXPECT_EQ(ffmpeg.wait(30s), 0) << read_text(err);
  EXPECT_EQ(read_text(err), "");
  // framecrc: one line per decoded frame, "0, ..." video, "1, ..." audio.
  std::size_t video = 0;
  std::size_t audio = 0;
  for (const auto& line : lines_of(frames)) {
    if (line.starts_with("0,")) ++video;
    if (line.starts_with("1,")) ++audio;
  }
  EXPECT_NEAR(static_cast<double>(video), 75.0, 1.0) << read_text(frames);   // 3 s at 25 fps
  EXPECT_NEAR(static_cast<double>(audio), 130.0, 2.0) << read_text(frames);  // 3 s of 1024 samples at 44.1 kHz
}

TEST(bench_tool, rtmp_server_forwards_a_synthetic_stream_ffmpeg_decodes) {
  RTMP_REQUIRE_TOOL(have_program("ffmpeg"), "ffmpeg not installed");
  temp_dir dir;
  rtmp_server_program server(dir);
  ASSERT_NE(server.port(), 0) << server.log();
  expect_ffmpeg_decodes_the_synthetic_stream(dir, "rtmp://127.0.0.1:" + std::to_string(server.port()) + "/live/bench",
                                             [&] { return server.log(); }, "play (waiting for publisher)");
}

TEST(bench_tool, unreachable_server_reports_failed_players) {
  temp_dir dir;
  const std::uint16_t port = free_port();  // bound and released: nothing listens there
  const auto r = run_bench(dir, "rtmp://127.0.0.1:" + std::to_string(port) + "/live/x",
                           "--players 3 --duration 0 --timeout 3", 30s);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(r.report.is_object()) << r.out << r.err;
  EXPECT_EQ(r.report["players"]["connected"].get<int>(), 0);
  EXPECT_EQ(r.report["players"]["failed"].get<int>(), 3);
  EXPECT_EQ(r.report["publisher"]["mode"].get<std::string>(), "none");
}

// --- nginx-rtmp ------------------------------------------------------------------------

TEST(bench_tool, nginx_rtmp_five_players_synthetic_publisher) {
  const auto nginx = nginx_binary();
  const auto module = nginx_rtmp_module();
  RTMP_REQUIRE_TOOL(nginx && module, "nginx or libnginx-mod-rtmp not installed");
  temp_dir dir;
  const std::uint16_t port = free_port();
  {
    std::ofstream f(dir.file("nginx.conf"));
    f << "load_module " << *module << ";\n"
      << "daemon off;\nmaster_process off;\nworker_processes 1;\n"
      << "error_log stderr info;\npid " << dir.file("nginx.pid") << ";\n"
      << "events { worker_connections 256; }\n"
      << "rtmp { server { listen 127.0.0.1:" << port << "; chunk_size 4096;\n"
      << "  application live { live on; } } }\n";
  }
  const std::string log = dir.file("nginx-err.txt");
  child_process ngx(*nginx + " -e stderr -c " + dir.file("nginx.conf") + " -p " + dir.path().string() + " > " + log +
                    " 2>&1");
  ASSERT_TRUE(wait_until([&] { return port_open(port); }, 10s)) << "nginx did not start: " << read_text(log);
  const auto r = run_bench(dir, "rtmp://127.0.0.1:" + std::to_string(port) + "/live/bench",
                           "--players 5 --publish synthetic --bitrate 500000 --duration 4 --threads 2");
  expect_healthy(r, 5);
  ngx.signal(SIGTERM);
  ngx.wait(5s);
}

TEST(bench_tool, nginx_rtmp_forwards_a_synthetic_stream_ffmpeg_decodes) {
  RTMP_REQUIRE_TOOL(have_program("ffmpeg"), "ffmpeg not installed");
  temp_dir dir;
  nginx_rtmp_server nginx(dir.path().string());
  RTMP_REQUIRE_TOOL(nginx.ok(), nginx.why());
  expect_ffmpeg_decodes_the_synthetic_stream(dir, "rtmp://127.0.0.1:" + std::to_string(nginx.port()) + "/live/bench",
                                             [&] { return nginx.log(); }, "play: name='bench'");
}

}  // namespace
