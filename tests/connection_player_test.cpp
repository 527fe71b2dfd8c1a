// The playing part of an RTMP connection: subscribing (the snapshot, the
// keyframe start), the message stream it plays on, the form a packet takes
// in the outbound queue, and leaving.
#include "server/connection_player.hpp"

#include <gtest/gtest.h>

#include <asio/io_context.hpp>

#include <memory>
#include <vector>

#include "support/hub_peers.hpp"

namespace rtmp::net {
namespace {

using test::null_publisher;

std::shared_ptr<hub::media_packet> video(bool keyframe, std::uint32_t ts) {
  proto::message m;
  m.type = 9;
  m.timestamp = ts;
  m.payload = proto::shared_bytes::copy_of(
      std::vector<std::uint8_t>{static_cast<std::uint8_t>(keyframe ? 0x17 : 0x27), 0x01, 0, 0, 0, 0xAA, 0xBB});
  return hub::make_packet(std::move(m), 4096, false);
}

// The message stream id of a chunk-encoded message that starts with a
// type 0 chunk under a one-byte basic header (RTMP 1.0 section 5.3.1.2.1:
// the id is little-endian).
std::uint32_t message_stream_id(const std::vector<std::uint8_t>& wire) {
  EXPECT_GE(wire.size(), 12u);
  EXPECT_EQ(wire[0] >> 6, 0) << "not a type 0 chunk";
  return wire[8] | (wire[9] << 8) | (wire[10] << 16) | (static_cast<std::uint32_t>(wire[11]) << 24);
}

std::vector<std::uint8_t> contents(const outbound_queue& out) {
  std::vector<std::uint8_t> bytes;
  out.linearize(bytes, gather_limits{.max_buffers = 64, .max_bytes = 1 << 20});
  return bytes;
}

class connection_player_test : public ::testing::Test {
 protected:
  asio::io_context io_;
  hub::hub streams_{{&io_}, hub::stream_config{}};
  test::recording_player self_;
};

TEST_F(connection_player_test, subscribing_starts_at_a_keyframe_and_stop_leaves) {
  auto publisher = std::make_shared<null_publisher>();
  hub::stream::claim_result result{};
  auto stream = streams_.claim("live/a", publisher, result);
  std::vector<std::shared_ptr<hub::media_packet>> batch{video(true, 0), video(false, 40)};
  stream->publish(publisher.get(), batch);

  connection_player player(hub::player_limits{});
  EXPECT_FALSE(player.active());
  const auto snap = player.subscribe(streams_, "live/a", &self_, 1);
  EXPECT_TRUE(player.active());
  EXPECT_TRUE(player.owns(1));
  EXPECT_FALSE(player.owns(3));
  EXPECT_TRUE(snap.publishing);
  EXPECT_EQ(snap.gop.size(), 2u);

  // The live edge after joining: inter-frames wait for the next keyframe.
  const auto inter = video(false, 80);
  EXPECT_EQ(player.policy().admit(*inter, 0, inter->wire.size()), hub::admission::skip);
  const auto key = video(true, 120);
  EXPECT_EQ(player.policy().admit(*key, 0, key->wire.size()), hub::admission::send);

  EXPECT_TRUE(player.stop(&self_, streams_));
  EXPECT_FALSE(player.active());
  EXPECT_FALSE(player.stop(&self_, streams_));
  stream->release(publisher.get());
  streams_.remove_if_unused(stream);
  EXPECT_EQ(streams_.find("live/a"), nullptr) << "the last one out forgets the stream";
}

TEST_F(connection_player_test, on_the_hub_s_stream_id_the_hub_s_bytes_are_queued_as_they_are) {
  connection_player player(hub::player_limits{});
  player.subscribe(streams_, "live/a", &self_, hub::wire_stream_id);
  EXPECT_TRUE(player.plays_hub_wire());
  const auto p = video(true, 0);
  outbound_queue out;
  player.queue(*p, out);
  EXPECT_EQ(out.queued(byte_class::media), p->wire.size());
  const auto bytes = contents(out);
  EXPECT_TRUE(std::equal(bytes.begin(), bytes.end(), p->wire.span().begin(), p->wire.span().end()));
  EXPECT_EQ(message_stream_id(bytes), hub::wire_stream_id);
  player.stop(&self_, streams_);
}

TEST_F(connection_player_test, on_another_stream_id_the_header_is_patched_and_the_payload_shared) {
  connection_player player(hub::player_limits{});
  player.subscribe(streams_, "live/a", &self_, 7);
  EXPECT_FALSE(player.plays_hub_wire());
  const auto p = video(true, 0);
  outbound_queue out;
  player.queue(*p, out);
  EXPECT_EQ(out.queued(byte_class::media), p->wire.size());
  const auto bytes = contents(out);
  ASSERT_EQ(bytes.size(), p->wire.size());
  EXPECT_EQ(message_stream_id(bytes), 7u);
  EXPECT_TRUE(std::equal(bytes.begin() + 12, bytes.end(), p->wire.span().begin() + 12)) << "only the header differs";
  player.stop(&self_, streams_);
}

}  // namespace
}  // namespace rtmp::net
