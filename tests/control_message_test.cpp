#include "rtmp/proto/control_message.hpp"

#include <gtest/gtest.h>

#include "rtmp/error.hpp"

namespace {

using namespace rtmp::proto;
using bytes = std::vector<std::uint8_t>;

bytes body(const message& m) { return bytes(m.payload.data(), m.payload.data() + m.payload.size()); }

TEST(control_message, builders_produce_spec_layouts) {
  EXPECT_EQ(make_set_chunk_size(4096).type, 1);
  EXPECT_EQ(body(make_set_chunk_size(4096)), (bytes{0, 0, 0x10, 0}));
  EXPECT_EQ(body(make_abort(6)), (bytes{0, 0, 0, 6}));
  EXPECT_EQ(make_acknowledgement(1).type, 3);
  EXPECT_EQ(body(make_window_ack_size(2500000)), (bytes{0x00, 0x26, 0x25, 0xA0}));
  EXPECT_EQ(body(make_set_peer_bandwidth(2500000, bandwidth_limit::dynamic)),
            (bytes{0x00, 0x26, 0x25, 0xA0, 2}));
  const auto ping = make_user_control(user_control_event::ping_request, 0x01020304);
  EXPECT_EQ(ping.type, 4);
  EXPECT_EQ(ping.stream_id, 0u);
  EXPECT_EQ(body(ping), (bytes{0, 6, 1, 2, 3, 4}));
  EXPECT_EQ(body(make_set_buffer_length(1, 3000)), (bytes{0, 3, 0, 0, 0, 1, 0, 0, 0x0B, 0xB8}));
}

TEST(control_message, parse_round_trips) {
  std::uint32_t v = 0;
  ASSERT_FALSE(parse_set_chunk_size(make_set_chunk_size(60000).payload.span(), v));
  EXPECT_EQ(v, 60000u);
  user_control uc;
  ASSERT_FALSE(parse_user_control(make_set_buffer_length(7, 100).payload.span(), uc));
  EXPECT_EQ(uc.event, 3);
  EXPECT_EQ(uc.value, 7u);
  EXPECT_EQ(uc.value2, 100u);
  peer_bandwidth pb;
  ASSERT_FALSE(parse_peer_bandwidth(make_set_peer_bandwidth(5000, bandwidth_limit::soft).payload.span(), pb));
  EXPECT_EQ(pb.window, 5000u);
  EXPECT_EQ(pb.limit, 1);
}

TEST(control_message, short_payloads_are_malformed) {
  std::uint32_t v = 0;
  for (std::size_t n = 0; n < 4; ++n) {
    bytes b(n, 1);
    EXPECT_EQ(parse_u32_control(b, v), rtmp::errc::control_message_malformed) << n;
    EXPECT_EQ(parse_set_chunk_size(b, v), rtmp::errc::control_message_malformed) << n;
  }
  user_control uc;
  EXPECT_EQ(parse_user_control(bytes{0, 6, 1, 2, 3}, uc), rtmp::errc::control_message_malformed);
  EXPECT_EQ(parse_user_control(bytes{0, 3, 0, 0, 0, 1, 0, 0, 1}, uc), rtmp::errc::control_message_malformed);
  peer_bandwidth pb;
  EXPECT_EQ(parse_peer_bandwidth(bytes{0, 0, 0, 1}, pb), rtmp::errc::control_message_malformed);
}

TEST(control_message, chunk_size_range) {
  std::uint32_t v = 0;
  EXPECT_EQ(parse_set_chunk_size(bytes{0, 0, 0, 0}, v), rtmp::errc::chunk_size_invalid);
  EXPECT_EQ(parse_set_chunk_size(bytes{0x80, 0, 0, 0}, v), rtmp::errc::chunk_size_invalid);
  EXPECT_FALSE(parse_set_chunk_size(bytes{0x7F, 0xFF, 0xFF, 0xFF}, v));
  EXPECT_EQ(v, 0x7FFFFFFFu);
  EXPECT_FALSE(parse_set_chunk_size(bytes{0, 0, 0, 1}, v));
  EXPECT_EQ(v, 1u);
}

TEST(control_message, unknown_user_control_event_is_kept) {
  user_control uc;
  ASSERT_FALSE(parse_user_control(bytes{0x00, 0x20, 0, 0, 0, 9}, uc));
  EXPECT_EQ(uc.event, 0x20);
  EXPECT_EQ(uc.value, 9u);
}

}  // namespace
