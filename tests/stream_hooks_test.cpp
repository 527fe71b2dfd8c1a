// Lifecycle hooks: on-publish-done and on-play-done POSTs with the client,
// duration, bytes and reason (to a URL with a port, path and query, over
// http and https), https on-publish callbacks checked against --ca-file, and
// exec-publish / exec-publish-done processes (ffmpeg reading the stream).

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "support/client_io.hpp"
#include "support/fake_callback.hpp"
#include "support/process.hpp"
#include "support/running_server.hpp"
#include "support/test_client.hpp"
#include "support/tls_cert.hpp"

namespace {

using namespace std::chrono_literals;
using rtmp::test::fake_callback;
using rtmp::test::test_client;

// The first request whose body has "action": `action`, within `timeout`.
std::optional<nlohmann::json> wait_for_action(fake_callback& cb, const std::string& action,
                                              std::chrono::milliseconds timeout) {
  std::optional<nlohmann::json> found;
  rtmp::test::wait_until(
      [&] {
        for (const auto& body : cb.bodies()) {
          auto j = nlohmann::json::parse(body, nullptr, false);
          if (j.is_object() && j.value("action", "") == action) {
            found = j;
            return true;
          }
        }
        return false;
      },
      timeout);
  return found;
}

TEST(stream_hooks, publish_done_and_play_done_arrive_within_a_second_with_what_happened) {
  fake_callback cb(200);
  auto cfg = rtmp::test::loopback_config();
  cfg.hooks.on_publish_done = cb.url("/hooks/done?site=eu&secret=1");
  cfg.hooks.on_play_done = cb.url("/hooks/done?site=eu&secret=1");
  rtmp::test::running_server server(cfg);

  auto pub = std::make_unique<test_client>(server.port());
  ASSERT_EQ(pub->publish("cam"), "NetStream.Publish.Start");
  rtmp::test::send_stream_start(*pub, rtmp::test::picture_metadata(320, 240));
  pub->send_media(9, 0, rtmp::test::video_frame(true, 4000));
  auto player = std::make_unique<test_client>(server.port());
  ASSERT_EQ(player->play("cam"), "NetStream.Play.Start");
  ASSERT_FALSE(rtmp::test::read_media(*player, 3, 3s).empty());
  std::this_thread::sleep_for(600ms);

  player.reset();  // the viewer leaves
  auto t0 = std::chrono::steady_clock::now();
  const auto play_done = wait_for_action(cb, "play_done", 3s);
  ASSERT_TRUE(play_done.has_value()) << "no play_done";
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  EXPECT_EQ((*play_done)["app"], "live");
  EXPECT_EQ((*play_done)["stream"], "cam");
  EXPECT_EQ((*play_done)["client"], "127.0.0.1");
  EXPECT_GE((*play_done)["duration_ms"].get<int>(), 500);
  EXPECT_GT((*play_done)["bytes"].get<int>(), 4000) << "it received the keyframe";
  EXPECT_FALSE((*play_done)["reason"].get<std::string>().empty());

  pub.reset();  // the publisher leaves
  t0 = std::chrono::steady_clock::now();
  const auto publish_done = wait_for_action(cb, "publish_done", 3s);
  ASSERT_TRUE(publish_done.has_value()) << "no publish_done";
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  EXPECT_GE((*publish_done)["duration_ms"].get<int>(), 600);
  EXPECT_GT((*publish_done)["bytes"].get<int>(), 4000);
  for (const auto& r : cb.requests()) EXPECT_EQ(r.target, "/hooks/done?site=eu&secret=1") << "path and query kept";
}

TEST(stream_hooks, https_callbacks_are_verified_against_the_ca_file) {
  rtmp::test::temp_dir dir;
  const auto tls = rtmp::test::make_self_signed_certificate(dir.path().string());
  ASSERT_FALSE(tls.cert.empty());
  fake_callback cb(200, tls);
  auto cfg = rtmp::test::loopback_config();
  cfg.auth.on_publish_url = cb.url("/auth?key=1");
  cfg.auth.callback_timeout = 2000ms;
  cfg.auth.ca_file = tls.cert;
  {
    rtmp::test::running_server server(cfg);
    test_client pub(server.port());
    EXPECT_EQ(pub.publish("cam"), "NetStream.Publish.Start") << "the CA file trusts the callback's certificate";
  }
  ASSERT_EQ(cb.requests().size(), 1u);
  EXPECT_EQ(cb.requests().front().target, "/auth?key=1");
  cfg.auth.ca_file.clear();  // the system's store does not know this certificate: fail-closed
  rtmp::test::running_server server(cfg);
  test_client pub(server.port());
  EXPECT_EQ(pub.publish("cam"), "NetStream.Publish.Unauthorized");
}

TEST(stream_hooks, exec_publish_runs_ffmpeg_on_the_stream_and_is_gone_after_the_publish) {
  RTMP_REQUIRE_TOOL(rtmp::test::have_program("ffmpeg"), "ffmpeg not installed");
  rtmp::test::temp_dir dir;
  const std::string copy = dir.file("copy.flv");
  const std::string done = dir.file("done.txt");
  auto cfg = rtmp::test::loopback_config();
  cfg.hooks.exec_publish["live"] = "echo \"$RTMP_URL\" > " + dir.file("url.txt") +
                                   "; exec ffmpeg -nostdin -loglevel error -i \"$RTMP_URL\" -c copy -f flv -y " + copy;
  cfg.hooks.exec_publish_done["live"] = "echo \"$RTMP_APP/$RTMP_STREAM\" > " + done;
  rtmp::test::running_server server(cfg);

  rtmp::test::child_process publisher(
      "ffmpeg -nostdin -loglevel error -re -f lavfi -i testsrc=size=320x240:rate=25 -t 30 -c:v libx264 "
      "-preset ultrafast -tune zerolatency -g 25 -pix_fmt yuv420p -f flv rtmp://127.0.0.1:" +
      std::to_string(server.port()) + "/live/cam");
  ASSERT_TRUE(rtmp::test::wait_until(
      [&] { return std::filesystem::exists(copy) && std::filesystem::file_size(copy) > 20000; }, 20s))
      << "the exec-publish ffmpeg did not get the stream";
  EXPECT_EQ(rtmp::test::read_text(dir.file("url.txt")),
            "rtmp://127.0.0.1:" + std::to_string(server.port()) + "/live/cam\n");
  const std::string pattern = "-c copy -f flv -y " + copy;
  EXPECT_EQ(rtmp::test::run("pgrep -f -- '" + pattern + "' > /dev/null", 5s), 0) << "the process runs";

  publisher.kill();  // the publish ends
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(rtmp::test::wait_until(
      [&] { return rtmp::test::run("pgrep -f -- '" + pattern + "' > /dev/null", 5s) != 0; }, 5s));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s + 1s) << "gone within 2 s of the end (and a poll)";
  EXPECT_TRUE(rtmp::test::wait_until([&] { return rtmp::test::read_text(done) == "live/cam\n"; }, 5s))
      << "exec-publish-done did not run";
}

}  // namespace
