// HLS in a real browser: headless Chromium (Debian's chromium) runs
// hls.js (tests/browser/, installed from npm by scripts/deps.sh test) on
// tests/browser/hls_player.html against the server while ffmpeg publishes:
// currentTime advances for 10 s with no hls.js ERROR event, over MPEG-TS
// segments and over fMP4 with Low-Latency HLS in hls.js's low-latency mode.
// The page also reports the delay from the server receiving a frame
// (EXT-X-PROGRAM-DATE-TIME) to the browser showing it; the test prints it.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "support/http_client.hpp"
#include "support/net.hpp"
#include "support/process.hpp"
#include "support/running_server.hpp"

namespace {

using namespace std::chrono_literals;
using rtmp::test::read_text;

const std::string browser_dir = std::string(RTMP_CAPTURES_DIR) + "/../../browser";

bool have_hls_js() { return std::filesystem::exists(browser_dir + "/node_modules/hls.js/dist/hls.min.js"); }

class browser_hls : public ::testing::Test {
 protected:
  void SetUp() override {
    RTMP_REQUIRE_TOOL(rtmp::test::have_program("chromium") && rtmp::test::have_program("ffmpeg") && have_hls_js(),
                      "chromium, ffmpeg or hls.js (scripts/deps.sh test) not installed");
  }

  void start(bool fmp4) {
    auto cfg = rtmp::test::loopback_config();
    cfg.http_listen = {"127.0.0.1:0"};
    cfg.http_flv_cors = "*";  // the page's origin is file://
    cfg.hls.apps = {"live"};
    cfg.hls.fmp4 = fmp4;
    cfg.hls.segment_duration = 1000ms;
    server_.start(cfg);
    // The stream is encoded first and then sent in real time without
    // re-encoding: a live x264 encoder starved of CPU while Chromium starts
    // (seen on a loaded 2-core machine) stalls the stream itself, and the
    // player rightly reports the stall; that would test the machine, not the
    // server.
    const std::string media = dir_.file("media.flv");
    ASSERT_EQ(rtmp::test::run("ffmpeg -nostdin -loglevel error -f lavfi -i testsrc=size=320x240:rate=25 -f lavfi "
                              "-i sine=frequency=440:sample_rate=44100 -t 40 -c:v libx264 -preset ultrafast "
                              "-tune zerolatency -g 25 -pix_fmt yuv420p -c:a aac -b:a 64k -f flv '" + media +
                                  "' 2>" + dir_.file("encode.log"),
                              60s),
              0)
        << read_text(dir_.file("encode.log"));
    publisher_ = std::make_unique<rtmp::test::child_process>(
        "ffmpeg -nostdin -loglevel error -re -i '" + media + "' -c copy -f flv 'rtmp://127.0.0.1:" +
        std::to_string(server_.port()) + "/live/cam' 2>" + dir_.file("publisher.log"));
    // A viewer opens the page of a stream that is live: two segments listed.
    ASSERT_TRUE(rtmp::test::wait_until(
        [&] {
          const auto body = rtmp::test::http_get(server_.http_port(), "/live/cam/index.m3u8").body;
          const auto first = body.find("#EXTINF");
          return first != std::string::npos && body.find("#EXTINF", first + 1) != std::string::npos;
        },
        20s))
        << read_text(dir_.file("publisher.log"));
  }

  // Opens the page in headless Chromium for `seconds` of playback and
  // returns its report (null when none came).
  nlohmann::json play(bool low_latency, int seconds) {
    const std::string src =
        "http://127.0.0.1:" + std::to_string(server_.http_port()) + "/live/cam/index.m3u8";
    const std::string page = "file://" + std::filesystem::canonical(browser_dir + "/hls_player.html").string() +
                             "?src=" + src + "&ll=" + (low_latency ? "1" : "0") + "&seconds=" +
                             std::to_string(seconds);
    const std::string log = dir_.file("chromium.log");
    // As the machine notes advise for a closed network: no background
    // connections, a fresh profile; root needs --no-sandbox.
    rtmp::test::child_process chromium(
        "chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking "
        "--disable-component-update --disable-sync --mute-audio --autoplay-policy=no-user-gesture-required "
        "--user-data-dir=" + dir_.file("profile") + " --enable-logging=stderr --v=0 '" + page + "' 2> " + log);
    nlohmann::json report;
    rtmp::test::wait_until(
        [&] {
          const std::string text = read_text(log);
          const auto at = text.find("\"HLSTEST {");
          if (at == std::string::npos) return false;
          const auto end = text.find("}\", source:", at);
          if (end == std::string::npos) return false;
          report = nlohmann::json::parse(text.substr(at + 9, end + 1 - (at + 9)), nullptr, false);
          return true;
        },
        std::chrono::seconds(seconds + 40));
    chromium.kill();
    return report.is_discarded() ? nlohmann::json() : report;
  }

  // The page's "hls.js error: ..." lines (type, details and hls.js's
  // reason, e.g. the times of a seek over a hole), for a failure message.
  std::string hls_error_lines() {
    const std::string text = read_text(dir_.file("chromium.log"));
    std::string out;
    for (std::size_t at = text.find("hls.js error: "); at != std::string::npos;
         at = text.find("hls.js error: ", at + 1)) {
      out += text.substr(at, text.find('\n', at) - at) + "\n";
    }
    return out;
  }

  rtmp::test::running_server server_;
  rtmp::test::temp_dir dir_;
  std::unique_ptr<rtmp::test::child_process> publisher_;
};

TEST_F(browser_hls, hls_js_in_chromium_plays_ts_segments_for_ten_seconds_without_an_error_event) {
  start(false);
  const auto report = play(false, 10);
  ASSERT_TRUE(report.is_object()) << read_text(dir_.file("chromium.log")) << read_text(dir_.file("publisher.log"));
  EXPECT_GE(report.value("advanced", 0.0), 9.0) << report.dump();
  EXPECT_TRUE(report["errors"].empty()) << report.dump() << "\n" << hls_error_lines();
  std::printf("hls.js, MPEG-TS: %s\n", report.dump().c_str());
}

TEST_F(browser_hls, hls_js_low_latency_mode_plays_ll_hls_parts_for_ten_seconds_without_an_error_event) {
  start(true);
  const auto report = play(true, 10);
  ASSERT_TRUE(report.is_object()) << read_text(dir_.file("chromium.log")) << read_text(dir_.file("publisher.log"));
  EXPECT_GE(report.value("advanced", 0.0), 9.0) << report.dump();
  EXPECT_TRUE(report["errors"].empty()) << report.dump() << "\n" << hls_error_lines();
  EXPECT_TRUE(report.value("parts", false)) << "hls.js read the playlist's parts: " << report.dump();
  EXPECT_TRUE(report.value("low_latency", false)) << report.dump();
  // A figure, not a pass mark (docs/performance.md): server receipt to display.
  std::printf("hls.js low-latency, fMP4 parts: median delay %lld ms, %s\n",
              static_cast<long long>(report.value("delay_ms", -1)), report.dump().c_str());
}

}  // namespace
