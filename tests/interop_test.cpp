// Interop with the programs users run: ffmpeg and ffprobe publish to and play
// from the real server (in-process, loopback, ephemeral port); rtmpdump plays.
// Every child process is bounded in time and reads /dev/null as stdin.
#include <gtest/gtest.h>

#include <sstream>
#include <thread>

#include "rtmp/net/server.hpp"
#include "support/net.hpp"
#include "support/process.hpp"
#include "support/running_server.hpp"
#include "support/test_client.hpp"

namespace {

using rtmp::test::free_port;

using namespace std::chrono_literals;
using rtmp::test::child_process;
using rtmp::test::run;

// 6 s of 640x360 30 fps H.264 (GOP 1 s) + AAC, made once per test run.
class media_environment : public ::testing::Environment {
 public:
  void SetUp() override {
    if (!rtmp::test::have_program("ffmpeg")) return;
    const std::string cmd =
        "ffmpeg -nostdin -loglevel error -y -f lavfi -i testsrc=size=640x360:rate=30 "
        "-f lavfi -i sine=frequency=440:sample_rate=48000 -t 6 -c:v libx264 -preset ultrafast "
        "-g 30 -pix_fmt yuv420p -c:a aac -b:a 96k -f flv " +
        dir.file("source.flv");
    ok = run(cmd, 120s) == 0;
  }
  rtmp::test::temp_dir dir;
  bool ok = false;
};

media_environment* media = nullptr;

class interop : public ::testing::Test {
 protected:
  void SetUp() override {
    RTMP_REQUIRE_TOOL(rtmp::test::have_program("ffmpeg") && rtmp::test::have_program("ffprobe"),
                      "ffmpeg/ffprobe not installed");
    ASSERT_TRUE(media->ok) << "could not make the test media with ffmpeg";
    server_.start();
  }

  std::string url(const std::string& name) const {
    return "rtmp://127.0.0.1:" + std::to_string(server_.port()) + "/live/" + name;
  }
  std::string publish_command(const std::string& name) const {
    return "ffmpeg -nostdin -loglevel error -re -i " + media->dir.file("source.flv") + " -c copy -f flv " + url(name);
  }
  // "codec,width,height" per stream plus the packet count.
  static std::string probe(const std::string& target, const rtmp::test::temp_dir& dir) {
    const std::string out = dir.file("probe.txt");
    const int rc = run("ffprobe -v error -count_packets -show_entries stream=codec_name,width,height,nb_read_packets "
                       "-of csv=p=0 " + target + " > " + out,
                       60s);
    return rc == 0 ? rtmp::test::read_text(out) : "ffprobe failed";
  }
  static int video_packets(const std::string& probe_text) {
    std::istringstream in(probe_text);
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("h264,640,360,", 0) == 0) return std::stoi(line.substr(13));
    }
    return -1;
  }

  rtmp::test::running_server server_;
  rtmp::test::temp_dir dir_;
};

TEST_F(interop, ffmpeg_publishes_and_ffmpeg_plays_audio_and_video) {
  child_process pub(publish_command("a"));
  std::this_thread::sleep_for(500ms);
  const std::string out = dir_.file("out.flv");
  EXPECT_EQ(run("ffmpeg -nostdin -loglevel error -i " + url("a") + " -c copy -f flv -y " + out, 40s), 0);
  EXPECT_EQ(pub.wait(20s), 0);
  const std::string p = probe(out, dir_);
  EXPECT_NE(p.find("aac"), std::string::npos) << p;
  // All 180 frames, give or take the join (the GOP cache starts at a keyframe).
  EXPECT_GE(video_packets(p), 150) << p;
  EXPECT_LE(video_packets(p), 180) << p;
}

TEST_F(interop, ffprobe_reads_codecs_and_resolution_from_the_stream) {
  child_process pub(publish_command("b"));
  std::this_thread::sleep_for(500ms);
  const std::string out = dir_.file("probe.txt");
  ASSERT_EQ(run("ffprobe -v error -show_entries stream=codec_name,width,height -of csv=p=0 " + url("b") + " > " + out,
                30s),
            0);
  const std::string p = rtmp::test::read_text(out);
  EXPECT_NE(p.find("h264,640,360"), std::string::npos) << p;
  EXPECT_NE(p.find("aac"), std::string::npos) << p;
}

TEST_F(interop, late_joiner_starts_with_a_keyframe) {
  child_process pub(publish_command("late"));
  std::this_thread::sleep_for(2500ms);
  const std::string out = dir_.file("late.flv");
  EXPECT_EQ(run("ffmpeg -nostdin -loglevel error -i " + url("late") + " -c copy -f flv -y " + out, 30s), 0);
  EXPECT_EQ(pub.wait(20s), 0);
  const std::string flags = dir_.file("flags.txt");
  ASSERT_EQ(run("ffprobe -v error -select_streams v -show_entries packet=pts_time,flags -of csv=p=0 " + out + " > " +
                    flags,
                30s),
            0);
  std::istringstream in(rtmp::test::read_text(flags));
  std::string first;
  std::getline(in, first);
  // e.g. "0.000000,K__": the first packet is a keyframe from the cached GOP.
  EXPECT_NE(first.find(",K"), std::string::npos) << first;
  // It joined mid-stream: from the GOP at about 2 s, so roughly 4 s of 6.
  int packets = 1;
  for (std::string line; std::getline(in, line);) packets += !line.empty();
  EXPECT_GE(packets, 60);
  EXPECT_LE(packets, 150);
}

TEST_F(interop, ten_ffmpeg_players_and_one_that_never_reads) {
  child_process pub(publish_command("fan"));
  std::this_thread::sleep_for(300ms);
  rtmp::test::test_client stuck(server_.port());
  stuck.set_receive_buffer(4096);
  ASSERT_EQ(stuck.play("fan"), "NetStream.Play.Start");  // and then never reads again
  std::vector<std::unique_ptr<child_process>> players;
  for (int i = 0; i < 10; ++i) {
    players.push_back(std::make_unique<child_process>("ffmpeg -nostdin -loglevel error -i " + url("fan") +
                                                      " -c copy -f flv -y " + dir_.file("p" + std::to_string(i) + ".flv")));
  }
  for (auto& p : players) EXPECT_EQ(p->wait(40s), 0);
  EXPECT_EQ(pub.wait(20s), 0);
  for (int i = 0; i < 10; ++i) {
    const std::string p = probe(dir_.file("p" + std::to_string(i) + ".flv"), dir_);
    EXPECT_GE(video_packets(p), 150) << "player " << i << ": " << p;
  }
}

TEST_F(interop, rtmpdump_plays_the_live_stream) {
  RTMP_REQUIRE_TOOL(rtmp::test::have_program("rtmpdump"), "rtmpdump not installed");
  child_process pub(publish_command("dump"));
  std::this_thread::sleep_for(500ms);
  const std::string out = dir_.file("dump.flv");
  // rtmpdump exits non-zero when the live stream ends under it; judge the file.
  run("rtmpdump -q --live -r " + url("dump") + " -o " + out, 30s);
  pub.wait(20s);
  const std::string p = probe(out, dir_);
  EXPECT_GE(video_packets(p), 100) << p;
  EXPECT_NE(p.find("aac"), std::string::npos) << p;
}

// A free loopback port (bound, read, released: good enough on a test machine).
TEST_F(interop, gstreamer_publishes_and_plays) {
  RTMP_REQUIRE_TOOL(rtmp::test::have_program("gst-launch-1.0") &&
                        run("gst-inspect-1.0 rtmp2sink >/dev/null 2>&1 && gst-inspect-1.0 flvdemux >/dev/null 2>&1 && "
                            "gst-inspect-1.0 h264parse >/dev/null 2>&1",
                            30s) == 0,
                    "GStreamer with rtmp2sink/rtmp2src, flvdemux and h264parse not installed");
  // rtmp2sink publishes the demuxed and re-muxed source file in real time.
  child_process pub("gst-launch-1.0 -q filesrc location=" + media->dir.file("source.flv") +
                    " ! flvdemux name=d d.video ! queue ! h264parse ! flvmux name=m streamable=true ! "
                    "rtmp2sink location=" + url("gst") + " d.audio ! queue ! aacparse ! m.");
  std::this_thread::sleep_for(1500ms);
  const std::string out = dir_.file("gst.flv");
  // rtmp2src writes the FLV it receives; stop it after a few seconds.
  child_process play("gst-launch-1.0 -q rtmp2src location=" + url("gst") + " ! filesink location=" + out);
  play.wait(4s);
  play.kill();
  pub.wait(20s);
  const std::string p = probe(out, dir_);
  EXPECT_GE(video_packets(p), 30) << p;
}

TEST_F(interop, sigterm_stops_the_server_program_with_exit_0_within_5_s) {
  const std::uint16_t port = free_port();
  const std::string log = dir_.file("server.log");
  child_process server(std::string(RTMP_BIN_DIR) + "/rtmp-server --workers 2 --listen 127.0.0.1:" +
                       std::to_string(port) + " > " + log + " 2>&1");
  const std::string u = "rtmp://127.0.0.1:" + std::to_string(port) + "/live/term";
  // Wait until it listens.
  bool up = false;
  for (int i = 0; i < 100 && !up; ++i) {
    std::this_thread::sleep_for(50ms);
    up = rtmp::test::read_text(log).find("running with") != std::string::npos;
  }
  ASSERT_TRUE(up) << rtmp::test::read_text(log);
  child_process pub("ffmpeg -nostdin -loglevel error -re -i " + media->dir.file("source.flv") + " -c copy -f flv " + u);
  std::this_thread::sleep_for(1s);
  rtmp::test::test_client player(port);
  ASSERT_EQ(player.play("term"), "NetStream.Play.Start");
  const auto t0 = std::chrono::steady_clock::now();
  server.signal(SIGTERM);
  EXPECT_EQ(server.wait(5s), 0) << rtmp::test::read_text(log);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  const std::string text = rtmp::test::read_text(log);
  EXPECT_NE(text.find("exited cleanly"), std::string::npos) << text;
  EXPECT_TRUE(player.closed_by_peer(2s));
}

// The operator endpoint of the real program while ffmpeg publishes and two
// ffmpeg players play: curl sees one publisher, two players, rising byte
// counters, and the stream's codecs and resolution. Then a token-protected
// app: ffmpeg without the token is refused, with it it publishes.
TEST_F(interop, curl_metrics_and_api_while_ffmpeg_publishes_and_tokens_protect_an_app) {
  RTMP_REQUIRE_TOOL(rtmp::test::have_program("curl"), "curl not installed");
  const std::uint16_t port = free_port();
  const std::uint16_t http = free_port();
  const std::string log = dir_.file("server.log");
  child_process server(std::string(RTMP_BIN_DIR) + "/rtmp-server --workers 2 --listen 127.0.0.1:" +
                       std::to_string(port) + " --http-listen 127.0.0.1:" + std::to_string(http) +
                       " --publish-token secure=tok3n-xyz > " + log + " 2>&1");
  bool up = false;
  for (int i = 0; i < 100 && !up; ++i) {
    std::this_thread::sleep_for(50ms);
    up = rtmp::test::read_text(log).find("running with") != std::string::npos;
  }
  ASSERT_TRUE(up) << rtmp::test::read_text(log);
  const std::string base = "rtmp://127.0.0.1:" + std::to_string(port);
  const std::string api = "http://127.0.0.1:" + std::to_string(http);
  auto curl = [&](const std::string& path) {
    const std::string out = dir_.file("curl.txt");
    if (run("curl -sS --max-time 5 " + api + path + " > " + out, 10s) != 0) return std::string("curl failed");
    return rtmp::test::read_text(out);
  };
  auto sample = [](const std::string& page, const std::string& name) {
    const auto pos = page.find("\n" + name + " ");
    return pos == std::string::npos ? -1.0 : std::stod(page.substr(pos + name.size() + 2));
  };
  child_process pub("ffmpeg -nostdin -loglevel error -re -i " + media->dir.file("source.flv") + " -c copy -f flv " +
                    base + "/live/cam");
  std::this_thread::sleep_for(700ms);
  child_process p1("ffmpeg -nostdin -loglevel error -i " + base + "/live/cam -t 4 -f null -");
  child_process p2("ffmpeg -nostdin -loglevel error -i " + base + "/live/cam -t 4 -f null -");
  std::this_thread::sleep_for(1500ms);
  const std::string m1 = curl("/metrics");
  EXPECT_EQ(sample(m1, "rtmp_publishers"), 1.0) << m1;
  EXPECT_EQ(sample(m1, "rtmp_players"), 2.0) << m1;
  std::this_thread::sleep_for(1000ms);
  const std::string m2 = curl("/metrics");
  EXPECT_GT(sample(m2, "rtmp_received_bytes_total"), sample(m1, "rtmp_received_bytes_total")) << m2;
  EXPECT_GT(sample(m2, "rtmp_sent_bytes_total"), sample(m1, "rtmp_sent_bytes_total")) << m2;
  const std::string streams = curl("/api/streams/live/cam");
  EXPECT_NE(streams.find("\"codec\": \"H264\""), std::string::npos) << streams;
  EXPECT_NE(streams.find("\"width\": 640"), std::string::npos) << streams;
  EXPECT_NE(streams.find("\"height\": 360"), std::string::npos) << streams;
  EXPECT_NE(streams.find("\"codec\": \"AAC\""), std::string::npos) << streams;
  EXPECT_NE(streams.find("\"sample_rate\": 48000"), std::string::npos) << streams;
  EXPECT_NE(streams.find("\"player_count\": 2"), std::string::npos) << streams;
  EXPECT_EQ(p1.wait(20s), 0);
  EXPECT_EQ(p2.wait(20s), 0);
  EXPECT_EQ(pub.wait(20s), 0);

  // The protected app: refused without the token, accepted with it.
  EXPECT_NE(run("ffmpeg -nostdin -loglevel error -re -i " + media->dir.file("source.flv") + " -t 2 -c copy -f flv " +
                    base + "/secure/cam",
                20s),
            0);
  EXPECT_NE(rtmp::test::read_text(log).find("publish refused: no valid token"), std::string::npos);
  child_process ok("ffmpeg -nostdin -loglevel error -re -i " + media->dir.file("source.flv") + " -t 3 -c copy -f flv " +
                   base + "/secure/cam?token=tok3n-xyz");
  std::this_thread::sleep_for(1500ms);
  EXPECT_NE(curl("/api/streams/secure/cam").find("\"publishing\": true"), std::string::npos);
  EXPECT_EQ(ok.wait(20s), 0);
  EXPECT_EQ(rtmp::test::read_text(log).find("tok3n-xyz"), std::string::npos) << "the token reached the log";
  server.signal(SIGTERM);
  EXPECT_EQ(server.wait(5s), 0);
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  media = new media_environment;
  ::testing::AddGlobalTestEnvironment(media);
  return RUN_ALL_TESTS();
}
