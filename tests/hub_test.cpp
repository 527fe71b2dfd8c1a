// The stream registry: keys, per-application settings (the longest
// application wins) and settings replaced by a reload, which only streams
// created afterwards get.
#include "rtmp/hub/hub.hpp"

#include <gtest/gtest.h>

#include <asio/io_context.hpp>

namespace rtmp::hub {
namespace {

TEST(hub, a_stream_key_drops_the_query_of_the_name) {
  EXPECT_EQ(stream_key("live", "cam?token=t"), "live/cam");
  EXPECT_EQ(stream_key("app/inst", "cam"), "app/inst/cam");
}

TEST(hub, the_longest_configured_application_gives_a_streams_settings) {
  asio::io_context io;
  stream_config base;
  stream_config no_cache;
  no_cache.gop_cache = false;
  stream_config takeover;
  takeover.publisher_takeover = true;
  hub h({&io}, base, {{"app", no_cache}, {"app/inst", takeover}});
  EXPECT_TRUE(h.config_for("live/cam").gop_cache);
  EXPECT_FALSE(h.config_for("app/cam").gop_cache);
  EXPECT_TRUE(h.config_for("app/inst/cam").publisher_takeover);
  EXPECT_FALSE(h.config_for("application/cam") == no_cache) << "a prefix that is not a whole application";
}

TEST(hub, replaced_settings_go_to_streams_created_afterwards_only) {
  asio::io_context io;
  hub h({&io}, stream_config{});
  stream::claim_result result{};
  const auto before = h.claim("live/old", nullptr, result);
  stream_config no_cache;
  no_cache.gop_cache = false;
  stream_config takeover;
  takeover.publisher_takeover = true;
  h.set_config(no_cache, {{"sports", takeover}});
  EXPECT_FALSE(h.config().gop_cache);
  EXPECT_TRUE(before->config().gop_cache) << "a stream keeps the settings it was created with";
  const auto after = h.claim("live/new", nullptr, result);
  EXPECT_FALSE(after->config().gop_cache);
  EXPECT_TRUE(h.config_for("sports/match").publisher_takeover);
}

}  // namespace
}  // namespace rtmp::hub
