// Stale-publisher recovery: with takeover off, an encoder that reconnects
// while its old connection is half-open (here: the old ffmpeg frozen with
// SIGSTOP) gets its key back within a few seconds, players continue with
// it, and a live publisher is still protected.

#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "support/client_io.hpp"
#include "support/process.hpp"
#include "support/running_server.hpp"
#include "support/test_client.hpp"

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

// An AVC sequence header (FLV video tag: keyframe + AVC, AVCPacketType 0).
bool is_avc_header(const rtmp::proto::message& m) {
  return m.type == 9 && m.payload.size() > 2 && m.payload[0] == 0x17 && m.payload[1] == 0;
}

class stale_publisher : public ::testing::Test {
 protected:
  void SetUp() override {
    RTMP_REQUIRE_TOOL(rtmp::test::have_program("ffmpeg"), "ffmpeg not installed");
    server_.start(rtmp::test::loopback_config());
  }

  // ffmpeg encodes a `size` test pattern live (H.264, GOP 0.5 s) and
  // publishes it to live/cam for up to 60 s.
  std::unique_ptr<rtmp::test::child_process> ffmpeg_publish(const std::string& size, const std::string& log) {
    return std::make_unique<rtmp::test::child_process>(
        "ffmpeg -nostdin -loglevel error -re -f lavfi -i testsrc=size=" + size +
        ":rate=25 -t 60 -c:v libx264 -preset ultrafast -tune zerolatency -g 12 -pix_fmt yuv420p -an -f flv "
        "rtmp://127.0.0.1:" + std::to_string(server_.port()) + "/live/cam 2>" + log);
  }

  rtmp::test::running_server server_;
  rtmp::test::temp_dir dir_;
};

TEST_F(stale_publisher, a_reconnecting_encoder_takes_over_a_frozen_one_and_a_live_one_stays_protected) {
  auto first = ffmpeg_publish("320x240", dir_.file("first.log"));
  rtmp::test::test_client player(server_.port());
  // The player may arrive before the publisher: the server lets it wait.
  ASSERT_EQ(player.play("cam"), "NetStream.Play.Start");
  auto got = rtmp::test::read_until(player, is_avc_header, 15s);
  ASSERT_TRUE(!got.empty() && is_avc_header(got.back())) << "the first publisher's video never arrived";
  rtmp::test::read_media(player, 10, 3s);

  // The first encoder's network "drops": it stops sending, its connection stays open.
  first->signal(SIGSTOP);
  const auto frozen_at = clock_type::now();
  std::this_thread::sleep_for(500ms);
  auto second = ffmpeg_publish("640x360", dir_.file("second.log"));

  // The player continues with the second encoder: a new sequence header,
  // then its frames.
  got = rtmp::test::read_until(player, is_avc_header, 8s);
  ASSERT_TRUE(!got.empty() && is_avc_header(got.back()))
      << "no video from the second publisher; its log: " << rtmp::test::read_text(dir_.file("second.log"));
  const auto took = clock_type::now() - frozen_at;
  EXPECT_LT(took, 4s) << "the new publisher must be accepted within 4 s of the freeze";
  EXPECT_GE(took, 2500ms) << "a publisher silent for less than 3 s is not stale yet";
  const auto frames = rtmp::test::read_media(player, 20, 5s);
  EXPECT_GE(rtmp::test::only_video(frames).size(), 5u) << "the second publisher's frames do not flow";

  // A third encoder while the second is live is refused (after the hold).
  auto third = ffmpeg_publish("160x120", dir_.file("third.log"));
  EXPECT_NE(third->wait(15s), 0) << "a live publisher lost its key";
  const auto still = rtmp::test::read_media(player, 20, 5s);
  EXPECT_GE(rtmp::test::only_video(still).size(), 5u) << "the live publisher was disturbed";
  first->kill();
}

}  // namespace
