// The publishing part of an RTMP connection: claiming a stream, one batch
// per read handed to the hub, the timeline across publisher restarts, and
// release.
#include "server/connection_publisher.hpp"

#include <gtest/gtest.h>

#include <asio/io_context.hpp>

#include <memory>
#include <vector>

#include "support/hub_peers.hpp"

namespace rtmp::net {
namespace {

using test::null_publisher;
using test::recording_player;

proto::message audio(std::uint32_t ts) {
  proto::message m;
  m.type = 8;
  m.timestamp = ts;
  m.payload = proto::shared_bytes::copy_of(std::vector<std::uint8_t>{0x2F, 0x01, 0x02});
  return m;
}

class connection_publisher_test : public ::testing::Test {
 protected:
  void SetUp() override {
    hub::stream_snapshot snap;
    stream_ = streams_.subscribe("live/a", &player_, snap);
  }
  void TearDown() override { stream_->unsubscribe(&player_); }

  // Runs what the hub posted to the worker.
  void deliver() {
    io_.restart();
    io_.poll();
  }

  asio::io_context io_;
  hub::hub streams_{{&io_}, hub::stream_config{}};
  recording_player player_;
  std::shared_ptr<hub::stream> stream_;
  std::shared_ptr<null_publisher> self_ = std::make_shared<null_publisher>();
};

TEST_F(connection_publisher_test, a_read_s_media_reaches_the_hub_as_one_batch) {
  connection_publisher pub;
  EXPECT_FALSE(pub.active());
  ASSERT_EQ(pub.claim(streams_, "live/a", self_, 1), hub::stream::claim_result::ok);
  EXPECT_TRUE(pub.active());
  EXPECT_TRUE(pub.owns(1));
  EXPECT_FALSE(pub.owns(2));
  EXPECT_EQ(pub.stream(), stream_);

  pub.take(audio(0), 4096, false);
  pub.take(audio(20), 4096, false);
  pub.take(audio(40), 4096, false);
  deliver();
  EXPECT_TRUE(player_.stamps.empty()) << "nothing reaches the hub before hand_over";
  pub.hand_over(self_.get());
  deliver();
  EXPECT_EQ(player_.batches, 1u);
  EXPECT_EQ(player_.stamps, (std::vector<std::uint32_t>{0, 20, 40}));
  EXPECT_EQ(pub.media_in(), 3u);

  pub.hand_over(self_.get());  // an empty batch is not delivered
  deliver();
  EXPECT_EQ(player_.batches, 1u);
  EXPECT_TRUE(pub.stop(self_.get(), streams_));
  EXPECT_FALSE(pub.active());
  EXPECT_FALSE(pub.stop(self_.get(), streams_));
}

TEST_F(connection_publisher_test, a_busy_key_is_refused_and_nothing_is_kept) {
  connection_publisher first;
  ASSERT_EQ(first.claim(streams_, "live/a", self_, 1), hub::stream::claim_result::ok);
  auto other = std::make_shared<null_publisher>();
  connection_publisher second;
  EXPECT_EQ(second.claim(streams_, "live/a", other, 1), hub::stream::claim_result::busy);
  EXPECT_FALSE(second.active());
  EXPECT_FALSE(second.owns(1));
  first.stop(self_.get(), streams_);
}

TEST_F(connection_publisher_test, a_restarted_publisher_continues_the_stream_s_timeline) {
  connection_publisher first;
  ASSERT_EQ(first.claim(streams_, "live/a", self_, 1), hub::stream::claim_result::ok);
  first.take(audio(5000), 4096, false);
  first.take(audio(5020), 4096, false);
  first.hand_over(self_.get());
  first.stop(self_.get(), streams_);

  connection_publisher second;  // an encoder that reconnects starts again at 0
  ASSERT_EQ(second.claim(streams_, "live/a", self_, 1), hub::stream::claim_result::ok);
  second.take(audio(0), 4096, false);
  second.take(audio(20), 4096, false);
  second.hand_over(self_.get());
  deliver();
  ASSERT_EQ(player_.stamps.size(), 4u);
  EXPECT_GT(player_.stamps[2], 5020u) << "the player's timeline must not go back";
  EXPECT_EQ(player_.stamps[3] - player_.stamps[2], 20u) << "spacing within the new publisher is kept";
  second.stop(self_.get(), streams_);
}

TEST_F(connection_publisher_test, stop_drops_a_batch_not_handed_over) {
  connection_publisher pub;
  ASSERT_EQ(pub.claim(streams_, "live/a", self_, 1), hub::stream::claim_result::ok);
  pub.take(audio(0), 4096, false);
  pub.stop(self_.get(), streams_);
  pub.hand_over(self_.get());
  deliver();
  EXPECT_TRUE(player_.stamps.empty());
}

}  // namespace
}  // namespace rtmp::net
