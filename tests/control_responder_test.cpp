// The protocol control handling both session roles share: acknowledgement
// windows (RTMP 1.0 section 5.4.3), Set Peer Bandwidth answers (5.4.5),
// PingRequest answers within a per-read budget (T-39), user control events
// handed back, malformed payloads refused.
#include "rtmp/proto/control_responder.hpp"

#include <gtest/gtest.h>

#include <vector>


namespace {

using namespace rtmp::proto;

message control(message_type type, std::vector<std::uint8_t> payload) {
  message m;
  m.type = static_cast<std::uint8_t>(type);
  m.payload = shared_bytes::copy_of(payload);
  return m;
}

message peer_bandwidth_message(std::uint32_t window) {
  return control(message_type::set_peer_bandwidth, {static_cast<std::uint8_t>(window >> 24),
                                                    static_cast<std::uint8_t>(window >> 16),
                                                    static_cast<std::uint8_t>(window >> 8),
                                                    static_cast<std::uint8_t>(window), 2});
}

std::uint32_t u32_of(const message& m) {
  const auto p = m.payload.span();
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

TEST(control_responder, acknowledges_each_window_of_bytes_counting_every_byte) {
  control_responder c;
  c.on_bytes(3073);  // the handshake counts too
  EXPECT_FALSE(c.acknowledgement_due()) << "no window announced: no acknowledgement";
  ASSERT_FALSE(c.on_control(make_window_ack_size(5000)).error);
  EXPECT_EQ(c.peer_window(), 5000u);
  EXPECT_FALSE(c.acknowledgement_due());
  c.on_bytes(2000);
  const auto ack = c.acknowledgement_due();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->kind(), message_type::acknowledgement);
  EXPECT_EQ(u32_of(*ack), 5073u);
  EXPECT_FALSE(c.acknowledgement_due());  // once per window
  c.on_bytes(4999);
  EXPECT_FALSE(c.acknowledgement_due());
  c.on_bytes(1);
  ASSERT_TRUE(c.acknowledgement_due());
  EXPECT_EQ(c.acknowledgements_sent(), 2u);
}

TEST(control_responder, a_window_of_zero_means_no_acknowledgements) {
  control_responder c;
  ASSERT_FALSE(c.on_control(make_window_ack_size(0)).error);
  c.on_bytes(1'000'000);
  EXPECT_FALSE(c.acknowledgement_due());
}

TEST(control_responder, a_client_answers_a_new_peer_bandwidth_once) {
  control_responder client({.answer_peer_bandwidth = true});
  auto out = client.on_control(peer_bandwidth_message(2'500'000));
  ASSERT_FALSE(out.error);
  ASSERT_TRUE(out.reply);
  EXPECT_EQ(out.reply->kind(), message_type::window_ack_size);
  EXPECT_EQ(u32_of(*out.reply), 2'500'000u);
  EXPECT_FALSE(client.on_control(peer_bandwidth_message(2'500'000)).reply) << "same window: no answer";
  EXPECT_TRUE(client.on_control(peer_bandwidth_message(1'000'000)).reply);

  control_responder server;  // a server only validates it
  EXPECT_FALSE(server.on_control(peer_bandwidth_message(2'500'000)).reply);
}

TEST(control_responder, pings_are_answered_within_the_budget_of_a_read) {
  control_responder c({.max_ping_replies_per_read = 2});
  c.on_bytes(100);
  const message ping = make_user_control(user_control_event::ping_request, 77);
  auto first = c.on_control(ping);
  ASSERT_TRUE(first.reply);
  EXPECT_EQ(first.reply->kind(), message_type::user_control);
  EXPECT_FALSE(first.event) << "a PingRequest is answered here, not handed on";
  EXPECT_TRUE(c.on_control(ping).reply);
  auto third = c.on_control(ping);
  EXPECT_FALSE(third.reply);
  EXPECT_TRUE(third.ignored);
  c.on_bytes(10);  // a new read, a new budget
  EXPECT_TRUE(c.on_control(ping).reply);
}

TEST(control_responder, other_user_control_events_go_to_the_session) {
  control_responder c;
  auto out = c.on_control(make_user_control(user_control_event::stream_eof, 1));
  ASSERT_FALSE(out.error);
  EXPECT_FALSE(out.reply);
  ASSERT_TRUE(out.event);
  EXPECT_EQ(out.event->event, static_cast<std::uint16_t>(user_control_event::stream_eof));
  EXPECT_EQ(out.event->value, 1u);
  out = c.on_control(make_user_control(user_control_event::ping_response, 1234));
  ASSERT_TRUE(out.event);
  EXPECT_EQ(out.event->value, 1234u);
}

TEST(control_responder, malformed_payloads_are_errors) {
  control_responder c;
  EXPECT_TRUE(c.on_control(control(message_type::window_ack_size, {1, 2})).error);
  EXPECT_TRUE(c.on_control(control(message_type::acknowledgement, {1})).error);
  EXPECT_TRUE(c.on_control(control(message_type::set_peer_bandwidth, {0, 0, 1})).error);
  EXPECT_TRUE(c.on_control(control(message_type::user_control, {0})).error);
  EXPECT_EQ(c.peer_window(), 0u) << "a malformed window is not taken";
}

}  // namespace
