// Enhanced RTMP end to end, in process on loopback ephemeral ports: a
// synthetic E-RTMP publisher (test-built hvcC / av1C SequenceStart, then
// CodedFrames / CodedFramesX keyframes and inter frames) and late-joining
// players through rtmp::net::client, connect negotiation (fourCcList,
// capsEx, [audio|video]FourCcInfoMap), multitrack fast start, and what
// /api/streams reports (codec, resolution from the configuration record).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <string>
#include <thread>

#include "rtmp/net/client.hpp"
#include "rtmp/net/server.hpp"
#include "rtmp/proto/enhanced_connect.hpp"
#include "rtmp/proto/media_info.hpp"
#include "support/client_io.hpp"
#include "support/ertmp_samples.hpp"
#include "support/http_client.hpp"
#include "support/running_server.hpp"
#include "support/test_client.hpp"

namespace {

using namespace std::chrono_literals;
using rtmp::test::test_client;
namespace ertmp = rtmp::test::ertmp;
namespace proto = rtmp::proto;
using bytes = std::vector<std::uint8_t>;

// GET `path` on the operator endpoint; the body ("" on failure). Bounded: 5 s.
std::string http_get(std::uint16_t port, const std::string& path) { return rtmp::test::http_get(port, path).body; }

class enhanced_rtmp : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cfg = rtmp::test::loopback_config();
    cfg.http_listen = {"127.0.0.1:0"};
    server_.start(cfg);
    ASSERT_FALSE(server_->http_endpoints().empty());
  }

  // An E-RTMP publisher: connect declaring fourCcList and capsEx (checking
  // the server's answer), createStream, publish.
  std::unique_ptr<test_client> enhanced_publisher(const std::string& name) {
    auto pub = std::make_unique<test_client>(server_.port());
    proto::connect_params p;
    p.app = "live";
    p.tc_url = "rtmp://127.0.0.1/live";
    proto::command connect = proto::connect_command(1, p);
    connect.command_object.as_object()->set("fourCcList", proto::amf0::strict_array{"hvc1", "av01", "vp09"});
    connect.command_object.as_object()->set("capsEx", proto::caps_ex_mask::multitrack);
    pub->send_command(connect);
    auto result = pub->wait_command("_result");
    EXPECT_TRUE(result.has_value());
    if (result) server_answer_ = result->command_object;
    const auto id = pub->create_stream();
    pub->send_command(proto::publish_command(3, name), id);
    EXPECT_EQ(pub->wait_status(), "NetStream.Publish.Start");
    return pub;
  }

  // A player through rtmp::net::client, declaring a fourCcList too.
  std::unique_ptr<rtmp::net::client> player(const std::string& name) {
    rtmp::net::client_options opt;
    opt.session.fourcc_list = {"hvc1", "av01"};
    auto c = std::make_unique<rtmp::net::client>(opt);
    EXPECT_FALSE(c->connect("rtmp://127.0.0.1:" + std::to_string(server_.port()) + "/live/" + name, 5s));
    EXPECT_FALSE(c->play(5s));
    return c;
  }

  // Video messages a player receives, until `count` arrived or 5 s passed.
  static std::vector<proto::message> video_messages(rtmp::net::client& c, std::size_t count) {
    std::vector<proto::message> out;
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (out.size() < count && std::chrono::steady_clock::now() < deadline) {
      c.receive(
          [&](const proto::client_event& ev) {
            if (ev.type == proto::client_event::kind::media && ev.msg.type == 9) out.push_back(ev.msg);
            return out.size() < count;
          },
          100ms);
    }
    return out;
  }

  // One HEVC GOP: a keyframe (CodedFrames or CodedFramesX) and inter frames, all tagged.
  static void send_hevc_gop(test_client& pub, std::uint32_t ts, std::uint8_t tag, bool coded_frames_x, int inter = 3) {
    const std::uint8_t key_type = coded_frames_x ? ertmp::coded_frames_x : ertmp::coded_frames;
    bytes key_body = ertmp::hevc_frame(true, tag, 1500);
    if (coded_frames_x) key_body.erase(key_body.begin(), key_body.begin() + 3);  // no composition time
    pub.send_media(9, ts, ertmp::video_tag(ertmp::key_frame, key_type, "hvc1", key_body));
    for (int i = 1; i <= inter; ++i) {
      pub.send_media(9, ts + 40 * static_cast<std::uint32_t>(i),
                     ertmp::video_tag(ertmp::inter_frame, ertmp::coded_frames, "hvc1", ertmp::hevc_frame(false, tag)));
    }
  }

  nlohmann::json stream_api(const std::string& key) {
    const std::string body = http_get(server_.http_port(), "/api/streams/" + key);
    auto j = nlohmann::json::parse(body, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << body;
    return j;
  }

  rtmp::test::running_server server_;
  proto::amf0::value server_answer_;
};

TEST_F(enhanced_rtmp, connect_negotiation_answers_with_our_capabilities) {
  auto pub = enhanced_publisher("caps");
  const auto* video = server_answer_.get("videoFourCcInfoMap");
  ASSERT_NE(video, nullptr);
  EXPECT_EQ(video->get("hvc1")->as_number(), proto::fourcc_info_mask::can_forward);
  EXPECT_EQ(video->get("*")->as_number(), proto::fourcc_info_mask::can_forward);
  ASSERT_NE(server_answer_.get("audioFourCcInfoMap"), nullptr);
  EXPECT_EQ(server_answer_.get("capsEx")->as_number(), proto::caps_ex_mask::multitrack | proto::caps_ex_mask::mod_ex);

  // A legacy client (no E-RTMP properties in connect) gets none of it.
  test_client raw(server_.port());
  proto::connect_params p;
  p.app = "live";
  p.tc_url = "rtmp://127.0.0.1/live";
  raw.send_command(proto::connect_command(1, p));
  auto legacy_result = raw.wait_command("_result");
  ASSERT_TRUE(legacy_result.has_value());
  EXPECT_EQ(legacy_result->command_object.get("videoFourCcInfoMap"), nullptr);
  EXPECT_EQ(legacy_result->command_object.get("capsEx"), nullptr);
}

TEST_F(enhanced_rtmp, hevc_late_joiner_gets_the_sequence_header_then_a_keyframe) {
  auto pub = enhanced_publisher("hevc");
  rtmp::test::send_metadata(*pub, rtmp::test::picture_metadata(320, 240));  // stale metadata: the API must show the SPS size
  const bytes header = ertmp::video_tag(ertmp::key_frame, ertmp::sequence_start, "hvc1", ertmp::hvcc_1278x718());
  pub->send_media(9, 0, header);
  send_hevc_gop(*pub, 0, 1, false);
  send_hevc_gop(*pub, 1000, 2, true, 5);
  std::this_thread::sleep_for(200ms);

  auto p = player("hevc");
  const auto video = video_messages(*p, 3);
  ASSERT_GE(video.size(), 2u);
  // First: the HEVC SequenceStart, byte for byte.
  EXPECT_EQ(bytes(video[0].payload.span().begin(), video[0].payload.span().end()), header);
  EXPECT_TRUE(proto::is_video_sequence_header(video[0].payload.span()));
  EXPECT_EQ(proto::video_codec_name(video[0].payload.span()), "HEVC");
  // Then the latest keyframe (GOP 2, CodedFramesX), not an inter frame.
  EXPECT_TRUE(proto::is_video_keyframe(video[1].payload.span()));
  EXPECT_EQ(video[1].payload[0], 0x80 | (ertmp::key_frame << 4) | ertmp::coded_frames_x);
  EXPECT_EQ(video[1].timestamp, 1000u);
  if (video.size() > 2) {
    EXPECT_EQ(video[2].timestamp, 1040u);
  }

  // Live frames keep flowing after the fast start.
  send_hevc_gop(*pub, 2000, 3, false, 1);
  bool live = false;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!live && std::chrono::steady_clock::now() < deadline) {
    for (const auto& m : video_messages(*p, 1)) live = live || m.timestamp == 2040u;
  }
  EXPECT_TRUE(live);

  const auto st = stream_api("live/hevc");
  EXPECT_EQ(st["video"]["codec"], "HEVC") << st.dump();
  EXPECT_EQ(st["video"]["width"], 1278) << st.dump();
  EXPECT_EQ(st["video"]["height"], 718) << st.dump();
}

TEST_F(enhanced_rtmp, av1_late_joiner_and_api) {
  auto pub = enhanced_publisher("av1");
  const bytes header = ertmp::video_tag(ertmp::key_frame, ertmp::sequence_start, "av01", ertmp::av1c_642x362());
  pub->send_media(9, 0, header);
  // AV1 CodedFrames: OBUs, no composition time. A keyframe, then inter frames.
  const bytes td_and_frame{0x12, 0x00, 0x32, 0x04, 0x10, 0x00, 0x00, 0x00};  // temporal delimiter + frame OBU
  for (std::uint32_t gop = 0; gop < 2; ++gop) {
    pub->send_media(9, gop * 1000, ertmp::video_tag(ertmp::key_frame, ertmp::coded_frames, "av01", td_and_frame));
    for (std::uint32_t i = 1; i <= 3; ++i) {
      pub->send_media(9, gop * 1000 + 40 * i,
                      ertmp::video_tag(ertmp::inter_frame, ertmp::coded_frames, "av01", td_and_frame));
    }
  }
  std::this_thread::sleep_for(200ms);
  auto p = player("av1");
  const auto video = video_messages(*p, 2);
  ASSERT_EQ(video.size(), 2u);
  EXPECT_EQ(bytes(video[0].payload.span().begin(), video[0].payload.span().end()), header);
  EXPECT_TRUE(proto::is_video_keyframe(video[1].payload.span()));
  EXPECT_EQ(video[1].timestamp, 1000u);

  const auto st = stream_api("live/av1");
  EXPECT_EQ(st["video"]["codec"], "AV1") << st.dump();
  EXPECT_EQ(st["video"]["width"], 642) << st.dump();
  EXPECT_EQ(st["video"]["height"], 362) << st.dump();
}

TEST_F(enhanced_rtmp, vp9_size_falls_back_to_metadata) {
  auto pub = enhanced_publisher("vp9");
  rtmp::test::send_metadata(*pub, rtmp::test::picture_metadata(854, 480));
  pub->send_media(9, 0, ertmp::video_tag(ertmp::key_frame, ertmp::sequence_start, "vp09", ertmp::vpcc()));
  pub->send_media(9, 0, ertmp::video_tag(ertmp::key_frame, ertmp::coded_frames, "vp09", bytes(200, 0x55)));
  std::this_thread::sleep_for(200ms);
  const auto st = stream_api("live/vp9");
  EXPECT_EQ(st["video"]["codec"], "VP9") << st.dump();
  EXPECT_EQ(st["video"]["width"], 854) << st.dump();
  EXPECT_EQ(st["video"]["height"], 480) << st.dump();
}

TEST_F(enhanced_rtmp, multitrack_late_joiner_gets_every_track_header_before_the_keyframe) {
  auto pub = enhanced_publisher("multi");
  // Track 0 HEVC and track 1 AV1, each announced in its own OneTrack message.
  const bytes hevc_start = ertmp::multitrack_video_tag(ertmp::key_frame, ertmp::sequence_start, ertmp::one_track,
                                                       "hvc1", {{0, nullptr, ertmp::hvcc_1278x718()}});
  const bytes av1_start = ertmp::multitrack_video_tag(ertmp::key_frame, ertmp::sequence_start, ertmp::one_track,
                                                      "av01", {{1, nullptr, ertmp::av1c_642x362()}});
  pub->send_media(9, 0, hevc_start);
  pub->send_media(9, 0, av1_start);
  auto keyframe = [](std::uint8_t tag) {
    return ertmp::multitrack_video_tag(ertmp::key_frame, ertmp::coded_frames, ertmp::many_tracks_many_codecs, nullptr,
                                       {{0, "hvc1", ertmp::hevc_frame(true, tag)},
                                        {1, "av01", bytes{0x12, 0x00, 0x32, 0x01, tag}}});
  };
  auto inter = [](std::uint8_t tag) {
    return ertmp::multitrack_video_tag(ertmp::inter_frame, ertmp::coded_frames, ertmp::many_tracks_many_codecs, nullptr,
                                       {{0, "hvc1", ertmp::hevc_frame(false, tag)},
                                        {1, "av01", bytes{0x12, 0x00, 0x32, 0x01, tag}}});
  };
  pub->send_media(9, 0, keyframe(1));
  pub->send_media(9, 40, inter(1));
  pub->send_media(9, 1000, keyframe(2));
  pub->send_media(9, 1040, inter(2));
  std::this_thread::sleep_for(200ms);

  auto p = player("multi");
  const auto video = video_messages(*p, 4);
  ASSERT_EQ(video.size(), 4u);
  EXPECT_EQ(bytes(video[0].payload.span().begin(), video[0].payload.span().end()), hevc_start);
  EXPECT_EQ(bytes(video[1].payload.span().begin(), video[1].payload.span().end()), av1_start);
  EXPECT_TRUE(proto::is_video_keyframe(video[2].payload.span()));
  EXPECT_EQ(video[2].timestamp, 1000u);
  EXPECT_EQ(video[3].timestamp, 1040u);

  const auto st = stream_api("live/multi");
  EXPECT_EQ(st["video"]["codec"], "HEVC") << st.dump();  // track 0, the default track
  EXPECT_EQ(st["video"]["width"], 1278) << st.dump();
  EXPECT_EQ(st["video"]["tracks"], 2) << st.dump();
}

}  // namespace
