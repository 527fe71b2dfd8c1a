// `rtmp-client bench` end to end: the real rtmp-server binary (and nginx-rtmp
// when installed) on an ephemeral loopback port, the bench tool with its
// synthetic publishers and its players, and its JSON report parsed and
// checked: one stream, three streams (their spread checked in the server's
// /api/streams while the run lasts), players over HTTP-FLV, and every
// connection over RTMPS (a self-signed certificate made at test time,
// refused unless trusted or unchecked); ffmpeg plays and decodes the
// synthetic stream through both servers. Every child is bounded in time; nothing reads stdin.
#include <gtest/gtest.h>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <functional>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support/files.hpp"
#include "support/http_client.hpp"
#include "support/net.hpp"
#include "support/nginx.hpp"
#include "support/process.hpp"
#include "support/tls_cert.hpp"

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

// The shell command of `rtmp-client bench URL ARGS --json`, its report going to
// bench-out.json and its log to bench-err.txt in `dir`.
std::string bench_command(const temp_dir& dir, const std::string& url, const std::string& args) {
  return bin_dir + "/rtmp-client bench " + url + " " + args + " --json > " + dir.file("bench-out.json") + " 2> " +
         dir.file("bench-err.txt");
}

// The run that bench_command wrote to `dir`, which ended with `exit_code`.
bench_run bench_result(const temp_dir& dir, int exit_code) {
  bench_run r;
  r.exit_code = exit_code;
  r.out = read_text(dir.file("bench-out.json"));
  r.err = read_text(dir.file("bench-err.txt"));
  r.report = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  return r;
}

// Runs `rtmp-client bench URL ARGS --json` to completion (at most `limit`).
bench_run run_bench(const temp_dir& dir, const std::string& url, const std::string& args,
                    std::chrono::milliseconds limit = 60s) {
  return bench_result(dir, rtmp::test::run(bench_command(dir, url, args), limit));
}

// What every healthy run of `players` players with the synthetic publishers shows.
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

// The port that the line of `log` with `marker` names (the marker ends with
// "127.0.0.1:"); 0 when no such line came within 10 s.
std::uint16_t port_in_log(const std::string& log, const std::string& marker) {
  std::uint16_t port = 0;
  wait_until(
      [&] {
        const std::string text = read_text(log);
        const auto at = text.find(marker);
        if (at == std::string::npos) return false;
        port = static_cast<std::uint16_t>(std::stoi(text.substr(at + marker.size())));
        return true;
      },
      10s);
  return port;
}

// The rtmp-server program on an ephemeral loopback port (and, with
// `with_http`, its HTTP endpoint on another: /api, HTTP-FLV; with `tls`, an
// RTMPS listener on a third serving that certificate and key), its log in a
// directory; killed on destruction.
class rtmp_server_program {
 public:
  explicit rtmp_server_program(const temp_dir& dir, bool with_http = false, const tls_files* tls = nullptr)
      : log_(dir.file("server.txt")),
        proc_(bin_dir + "/rtmp-server --workers 1 --listen 127.0.0.1:0" +
              (with_http ? " --http-listen 127.0.0.1:0" : "") +
              (tls != nullptr ? " --tls-listen 127.0.0.1:0 --tls-cert " + tls->cert + " --tls-key " + tls->key : "") +
              " --log-level info > " + log_ + " 2>&1") {
    port_ = port_in_log(log_, "listening on 127.0.0.1:");
    if (with_http) http_port_ = port_in_log(log_, "/healthz) on 127.0.0.1:");
    if (tls != nullptr) tls_port_ = port_in_log(log_, "listening for RTMPS on 127.0.0.1:");
  }
  /// Its RTMP port; 0 when it did not start.
  std::uint16_t port() const { return port_; }
  /// Its HTTP port; 0 without one.
  std::uint16_t http_port() const { return http_port_; }
  /// Its RTMPS port; 0 without one.
  std::uint16_t tls_port() const { return tls_port_; }
  /// Its log so far.
  std::string log() const { return read_text(log_); }

 private:
  std::string log_;
  child_process proc_;
  std::uint16_t port_ = 0;
  std::uint16_t http_port_ = 0;
  std::uint16_t tls_port_ = 0;
};

TEST(bench_tool, rtmp_server_five_players_synthetic_publisher) {
  temp_dir dir;
  rtmp_server_program server(dir);
  ASSERT_NE(server.port(), 0) << server.log();
  const auto r = run_bench(dir, "rtmp://127.0.0.1:" + std::to_string(server.port()) + "/live/bench",
                           "--players 5 --publish synthetic --bitrate 500000 --duration 4 --threads 2");
  expect_healthy(r, 5);
  EXPECT_EQ(r.report["transport"].get<std::string>(), "rtmp");
}

// --- RTMPS -------------------------------------------------------------------------------

TEST(bench_tool, rtmps_players_and_publisher_over_tls) {
  temp_dir dir;
  const tls_files cert = make_self_signed_certificate(dir.path().string());
  ASSERT_FALSE(cert.cert.empty()) << "could not make a self-signed certificate";
  rtmp_server_program server(dir, /*with_http=*/false, &cert);
  ASSERT_NE(server.tls_port(), 0) << server.log();
  const auto r = run_bench(dir, "rtmps://127.0.0.1:" + std::to_string(server.tls_port()) + "/live/tls",
                           "--insecure --players 3 --publish synthetic --bitrate 500000 --duration 4 --threads 2");
  expect_healthy(r, 3);
  EXPECT_EQ(r.report["transport"].get<std::string>(), "rtmps");
  EXPECT_EQ(r.report["gaps"]["reordered"].get<std::uint64_t>(), 0u);
  // The wire carried TLS records: more than the media they hold.
  EXPECT_GT(r.report["delivered"]["wire_bytes"].get<std::uint64_t>(),
            r.report["delivered"]["bytes"].get<std::uint64_t>());
}

TEST(bench_tool, rtmps_refuses_an_untrusted_certificate_and_trusts_it_with_ca_file) {
  temp_dir dir;
  const tls_files cert = make_self_signed_certificate(dir.path().string());
  ASSERT_FALSE(cert.cert.empty()) << "could not make a self-signed certificate";
  rtmp_server_program server(dir, /*with_http=*/false, &cert);
  ASSERT_NE(server.tls_port(), 0) << server.log();
  const std::string url = "rtmps://127.0.0.1:" + std::to_string(server.tls_port()) + "/live/strict";

  // The system's trust store does not hold the certificate: the publisher
  // cannot start, and the run says why.
  const auto refused = run_bench(dir, url, "--players 2 --publish synthetic --duration 1 --timeout 5", 30s);
  EXPECT_EQ(refused.exit_code, 1) << refused.err;
  ASSERT_TRUE(refused.report.is_object()) << refused.out << refused.err;
  EXPECT_EQ(refused.report["transport"].get<std::string>(), "rtmps");
  EXPECT_FALSE(refused.report["publisher"]["started"].get<bool>());
  EXPECT_NE(refused.report["publisher"]["error"].get<std::string>().find("certificate verify failed"),
            std::string::npos)
      << refused.report.dump(2);
  EXPECT_NE(refused.err.find("--insecure"), std::string::npos) << refused.err;

  // Trusted through --ca-file (its IP:127.0.0.1 names the URL's host).
  const auto trusted = run_bench(dir, url, "--players 1 --publish synthetic --duration 1 --ca-file " + cert.cert, 30s);
  EXPECT_EQ(trusted.exit_code, 0) << trusted.err;
  ASSERT_TRUE(trusted.report.is_object()) << trusted.out << trusted.err;
  EXPECT_EQ(trusted.report["players"]["connected"].get<int>(), 1) << trusted.report.dump(2);
  EXPECT_GT(trusted.report["gaps"]["stamped_messages"].get<std::uint64_t>(), 0u);
}

// The player count of each stream ("app/stream") that /api/streams on
// `http_port` lists; empty when the answer is unreadable.
std::map<std::string, int> players_per_stream(std::uint16_t http_port) {
  std::map<std::string, int> counts;
  const auto reply = http_get(http_port, "/api/streams");
  const auto doc = nlohmann::json::parse(reply.body, nullptr, /*allow_exceptions=*/false);
  if (reply.status != 200 || !doc.is_object() || !doc["streams"].is_array()) return counts;
  for (const auto& st : doc["streams"]) {
    counts[st["app"].get<std::string>() + "/" + st["stream"].get<std::string>()] = st["player_count"].get<int>();
  }
  return counts;
}

TEST(bench_tool, three_streams_six_players_spread_two_a_stream) {
  temp_dir dir;
  rtmp_server_program server(dir, /*with_http=*/true);
  ASSERT_TRUE(server.port() != 0 && server.http_port() != 0) << server.log();
  child_process bench(bench_command(dir, "rtmp://127.0.0.1:" + std::to_string(server.port()) + "/live/cam",
                                    "--streams 3 --publish synthetic --players 6 --bitrate 500000 --duration 5 "
                                    "--threads 2"));
  // While the run lasts, the server sees the three streams, two players on each.
  const std::map<std::string, int> want{{"live/cam-0", 2}, {"live/cam-1", 2}, {"live/cam-2", 2}};
  std::map<std::string, int> seen;
  EXPECT_TRUE(wait_until(
      [&] {
        seen = players_per_stream(server.http_port());
        return seen == want;
      },
      20s))
      << "the server's /api/streams: " << nlohmann::json(seen).dump() << "\n" << server.log();
  const auto r = bench_result(dir, bench.wait(60s));
  expect_healthy(r, 6);
  EXPECT_EQ(r.report["streams"].get<int>(), 3);
  EXPECT_EQ(r.report["publisher"]["streams"].get<int>(), 3);
  EXPECT_EQ(r.report["publisher"]["publishing"].get<int>(), 3);
  // Each player compared the stamps of its own stream: three sequences, no gap between them.
  EXPECT_GT(r.report["gaps"]["stamped_messages"].get<std::uint64_t>(), 6u * 50u);
  EXPECT_EQ(r.report["gaps"]["reordered"].get<std::uint64_t>(), 0u);
  EXPECT_FALSE(r.report["tool_saturated"].get<bool>()) << r.report["threads_cpu"].dump();
}

TEST(bench_tool, http_flv_players_receive_the_stamped_frames) {
  temp_dir dir;
  rtmp_server_program server(dir, /*with_http=*/true);
  ASSERT_TRUE(server.port() != 0 && server.http_port() != 0) << server.log();
  const auto r = run_bench(dir, "rtmp://127.0.0.1:" + std::to_string(server.port()) + "/live/flv",
                           "--http-flv " + std::to_string(server.http_port()) +
                               " --streams 2 --players 4 --publish synthetic --bitrate 500000 --audio-bitrate 64000 "
                               "--duration 4 --threads 2");
  expect_healthy(r, 4);
  EXPECT_EQ(r.report["player_protocol"].get<std::string>(), "http-flv");
  EXPECT_GT(r.report["delivered"]["audio_messages"].get<std::uint64_t>(), 0u);
  EXPECT_EQ(r.report["gaps"]["reordered"].get<std::uint64_t>(), 0u);
  // The server served them as HTTP-FLV players.
  EXPECT_NE(server.log().find("HTTP-FLV 127.0.0.1:"), std::string::npos) << server.log();
}

TEST(bench_tool, http_flv_players_of_a_stream_nobody_publishes_fail_with_404) {
  temp_dir dir;
  rtmp_server_program server(dir, /*with_http=*/true);
  ASSERT_TRUE(server.port() != 0 && server.http_port() != 0) << server.log();
  const auto r = run_bench(dir, "rtmp://127.0.0.1:" + std::to_string(server.port()) + "/live/none",
                           "--http-flv " + std::to_string(server.http_port()) + " --players 2 --ramp 0 --duration 1",
                           30s);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(r.report.is_object()) << r.out << r.err;
  EXPECT_EQ(r.report["players"]["connected"].get<int>(), 0);
  EXPECT_EQ(r.report["players"]["failed"].get<int>(), 2);
  EXPECT_EQ(r.report["players"]["failures"]["HTTP status 404"].get<int>(), 2) << r.report.dump(2);
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
