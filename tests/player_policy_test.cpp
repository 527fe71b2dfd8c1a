// The one per-consumer policy of the hub: start and resume at keyframes,
// pause and receiveAudio/receiveVideo, the bound on owed bytes with its two
// slow-consumer policies and the disconnect deadline, and the timeline a
// new publisher continues.
#include "rtmp/hub/player_policy.hpp"
#include "rtmp/hub/stream.hpp"

#include <gtest/gtest.h>

#include <asio/io_context.hpp>

#include <memory>
#include <vector>

#include "support/hub_peers.hpp"

namespace {

using namespace rtmp;
using namespace std::chrono_literals;
using hub::admission;
using bytes = std::vector<std::uint8_t>;
using clock_type = hub::player_policy::clock;

std::shared_ptr<hub::media_packet> new_packet(std::uint8_t type, const bytes& payload, std::uint32_t ts = 0,
                                              bool metadata = false) {
  proto::message m;
  m.type = type;
  m.timestamp = ts;
  m.payload = proto::shared_bytes::copy_of(payload);
  return hub::make_packet(std::move(m), 4096, metadata);
}

hub::packet_ptr packet(std::uint8_t type, const bytes& payload, std::uint32_t ts = 0, bool metadata = false) {
  return new_packet(type, payload, ts, metadata);
}

const hub::packet_ptr video_header = packet(9, {0x17, 0x00, 0, 0, 0, 0x01, 0x64});
const hub::packet_ptr keyframe = packet(9, {0x17, 0x01, 0, 0, 0, 0x65});
const hub::packet_ptr inter = packet(9, {0x27, 0x01, 0, 0, 0, 0x41});
const hub::packet_ptr audio_header = packet(8, {0xAF, 0x00, 0x12, 0x10});
const hub::packet_ptr audio = packet(8, {0xAF, 0x01, 0x21});
const hub::packet_ptr metadata = packet(18, {0x02, 0x00, 0x0a, 'o', 'n', 'M', 'e', 't', 'a', 'D', 'a', 't', 'a'}, 0, true);

const clock_type::time_point t0{};
// The policy's clock in these tests.
clock_type::time_point fake_now = t0;
clock_type::time_point read_fake_clock() { return fake_now; }

admission admit(hub::player_policy& p, const hub::packet_ptr& pkt, std::size_t owed = 0, std::size_t size = 100,
                clock_type::time_point now = t0) {
  fake_now = now;
  return p.admit(*pkt, owed, size);
}

TEST(player_policy, video_starts_at_a_keyframe_and_headers_always_pass) {
  hub::player_policy p;
  EXPECT_EQ(admit(p, metadata), admission::send);
  EXPECT_EQ(admit(p, video_header), admission::send);
  EXPECT_EQ(admit(p, audio_header), admission::send);
  EXPECT_EQ(admit(p, inter), admission::skip);
  EXPECT_EQ(admit(p, audio), admission::send);  // audio needs no keyframe
  EXPECT_EQ(admit(p, keyframe), admission::send);
  EXPECT_EQ(admit(p, inter), admission::send);
  EXPECT_EQ(p.sent(), 6u);
  EXPECT_EQ(p.dropped(), 0u);
}

TEST(player_policy, a_new_publisher_restarts_at_a_keyframe) {
  hub::player_policy p;
  ASSERT_EQ(admit(p, keyframe), admission::send);
  ASSERT_EQ(admit(p, inter), admission::send);
  p.wait_for_keyframe();
  EXPECT_EQ(admit(p, inter), admission::skip);
  EXPECT_EQ(admit(p, keyframe), admission::send);
}

TEST(player_policy, pause_passes_only_headers_and_resumes_at_a_keyframe) {
  hub::player_policy p;
  ASSERT_EQ(admit(p, keyframe), admission::send);
  p.set_paused(true);
  EXPECT_EQ(admit(p, inter), admission::skip);
  EXPECT_EQ(admit(p, audio), admission::skip);
  EXPECT_EQ(admit(p, keyframe), admission::skip);
  EXPECT_EQ(admit(p, video_header), admission::send);
  p.set_paused(false);
  EXPECT_EQ(admit(p, inter), admission::skip);
  EXPECT_EQ(admit(p, audio), admission::send);
  EXPECT_EQ(admit(p, keyframe), admission::send);
  EXPECT_EQ(admit(p, inter), admission::send);
}

TEST(player_policy, receive_audio_and_video_filter_each_kind) {
  hub::player_policy p;
  ASSERT_EQ(admit(p, keyframe), admission::send);
  p.set_receive_audio(false);
  EXPECT_EQ(admit(p, audio), admission::skip);
  EXPECT_EQ(admit(p, audio_header), admission::send);
  EXPECT_EQ(admit(p, inter), admission::send);
  p.set_receive_audio(true);
  EXPECT_EQ(admit(p, audio), admission::send);

  p.set_receive_video(false);
  EXPECT_EQ(admit(p, inter), admission::skip);
  EXPECT_EQ(admit(p, keyframe), admission::skip);
  p.set_receive_video(true);  // back on: at a keyframe
  EXPECT_EQ(admit(p, inter), admission::skip);
  EXPECT_EQ(admit(p, keyframe), admission::send);
  p.set_receive_video(true);  // a repeated true changes nothing
  EXPECT_EQ(admit(p, inter), admission::send);
}

TEST(player_policy, over_the_bound_drops_to_the_next_keyframe_that_fits) {
  hub::player_policy p({.queue_bytes = 1000, .policy = hub::slow_subscriber_policy::drop});
  ASSERT_EQ(admit(p, keyframe, 0, 500), admission::send);
  EXPECT_EQ(admit(p, inter, 600, 500), admission::drop);
  EXPECT_TRUE(p.started_dropping());
  EXPECT_TRUE(p.dropping());
  EXPECT_EQ(admit(p, audio, 999, 10), admission::drop);  // audio too, while there is no room
  EXPECT_FALSE(p.started_dropping());
  EXPECT_EQ(admit(p, video_header, 999, 10), admission::send);  // headers are never dropped
  EXPECT_EQ(admit(p, inter, 0, 10), admission::skip);           // room again, but not a keyframe
  EXPECT_EQ(admit(p, audio, 0, 10), admission::send);
  EXPECT_EQ(admit(p, keyframe, 900, 200), admission::drop);     // a keyframe that does not fit
  EXPECT_EQ(admit(p, keyframe, 0, 200), admission::send);
  EXPECT_FALSE(p.dropping());
  EXPECT_EQ(admit(p, inter, 0, 10), admission::send);
  EXPECT_EQ(p.dropped(), 3u);
}

TEST(player_policy, the_bound_counts_what_is_owed_plus_the_packet) {
  hub::player_policy p({.queue_bytes = 1000});
  ASSERT_EQ(admit(p, keyframe, 0, 10), admission::send);
  EXPECT_EQ(admit(p, inter, 500, 500), admission::send);  // exactly at the bound
  EXPECT_EQ(admit(p, inter, 501, 500), admission::drop);
}

TEST(player_policy, policy_disconnect_closes_at_the_bound) {
  hub::player_policy p({.queue_bytes = 1000, .policy = hub::slow_subscriber_policy::disconnect});
  ASSERT_EQ(admit(p, keyframe, 0, 500), admission::send);
  EXPECT_EQ(admit(p, video_header, 2000, 10), admission::send);
  EXPECT_EQ(admit(p, inter, 600, 500), admission::disconnect);
}

TEST(player_policy, a_consumer_dropping_for_too_long_is_overdue) {
  hub::player_policy p({.queue_bytes = 1000, .disconnect_after = 2000ms}, &read_fake_clock);
  ASSERT_EQ(admit(p, keyframe, 0, 500), admission::send);
  EXPECT_FALSE(p.overdue(t0 + 1h));  // not dropping
  ASSERT_EQ(admit(p, inter, 900, 500, t0 + 1s), admission::drop);
  ASSERT_EQ(admit(p, keyframe, 900, 500, t0 + 2s), admission::drop);  // the period started at 1 s
  EXPECT_FALSE(p.overdue(t0 + 3s));
  EXPECT_TRUE(p.overdue(t0 + 3s + 1ms));
  ASSERT_EQ(admit(p, keyframe, 0, 500, t0 + 4s), admission::send);  // caught up
  EXPECT_FALSE(p.overdue(t0 + 1h));
}

TEST(player_policy, without_a_deadline_a_consumer_is_never_overdue) {
  hub::player_policy p({.queue_bytes = 10});
  ASSERT_EQ(admit(p, keyframe, 0, 5), admission::send);
  ASSERT_EQ(admit(p, inter, 10, 5), admission::drop);
  EXPECT_FALSE(p.overdue(clock_type::time_point::max()));
}

using test::null_publisher;

TEST(timeline_continuation, a_first_publisher_keeps_its_timestamps) {
  asio::io_context io;
  hub::stream s("live/t", {&io}, {});
  hub::timeline_continuation t;
  t.begin(s);
  EXPECT_EQ(t.apply(5000), 5000u);
  EXPECT_EQ(t.apply(5040), 5040u);
}

TEST(timeline_continuation, the_next_publisher_continues_after_the_last_timestamp_modulo_2_32) {
  asio::io_context io;
  auto s = std::make_shared<hub::stream>("live/t", std::vector<asio::io_context*>{&io}, hub::stream_config{});
  auto first = std::make_shared<null_publisher>();
  ASSERT_EQ(s->claim(first), hub::stream::claim_result::ok);
  std::vector<std::shared_ptr<hub::media_packet>> batch{new_packet(9, {0x17, 0x01, 0, 0, 0, 0x65}, 0xFFFFFFF0u)};
  s->publish(first.get(), batch);
  s->release(first.get());

  hub::timeline_continuation t;
  t.begin(*s);
  EXPECT_EQ(t.apply(100), 0xFFFFFFF1u);  // right after the previous publisher's last
  EXPECT_EQ(t.apply(140), 0xFFFFFFF1u + 40);
  EXPECT_EQ(t.apply(200), 0x00000055u);  // 0xFFFFFFF1 + 100 wraps modulo 2^32
}

}  // namespace
