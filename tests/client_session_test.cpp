// client_session against server_session (and against scripted, hostile
// servers), bytes passed between the machines in memory.
#include "rtmp/proto/client_session.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "rtmp/error.hpp"
#include "rtmp/proto/byte_order.hpp"
#include "rtmp/proto/control_message.hpp"
#include "rtmp/proto/server_session.hpp"

namespace {

using namespace rtmp::proto;
using rtmp::errc;
using bytes = std::vector<std::uint8_t>;
using ckind = client_event::kind;
using skind = session_event::kind;

client_session_config client_config(std::string app = "live") {
  client_session_config cfg;
  cfg.connect.app = app;
  cfg.connect.tc_url = "rtmp://127.0.0.1/" + app;
  return cfg;
}

message media(std::uint8_t type, std::uint32_t ts, std::size_t size, std::uint8_t fill) {
  message m;
  m.type = type;
  m.timestamp = ts;
  bytes b(size, fill);
  if (!b.empty()) b[0] = type == 9 ? 0x17 : 0xAF;  // AVC keyframe / AAC
  m.payload = shared_bytes::copy_of(b);
  return m;
}

// A client and a server session wired together. The server side plays the
// owner's part: it accepts (or refuses, per the policy fields) publish and play.
struct wired {
  explicit wired(client_session_config ccfg = client_config(), server_session_config scfg = {})
      : client(std::move(ccfg)), server(std::move(scfg)) {}

  // Moves bytes both ways until neither side has anything to say. `split`
  // > 0 feeds the client in pieces of that size (1: a byte at a time).
  void pump(std::size_t split = 0) {
    for (int round = 0; round < 100; ++round) {
      bool moved = false;
      if (client.has_output()) {
        bytes out;
        client.take_output(out);
        moved = true;
        if (auto ec = server.on_bytes(out)) server_error = ec;
        drain_server_events();
      }
      if (server.has_output()) {
        bytes out;
        server.take_output(out);
        moved = true;
        deliver_to_client(out, split);
      }
      if (!moved) return;
    }
    ADD_FAILURE() << "the sessions kept talking";
  }

  void deliver_to_client(const bytes& b, std::size_t split = 0) {
    if (split == 0) split = b.size();
    for (std::size_t off = 0; off < b.size(); off += split) {
      const auto n = std::min(split, b.size() - off);
      if (auto ec = client.on_bytes(std::span<const std::uint8_t>(b.data() + off, n))) {
        if (!client_error) client_error = ec;
        break;
      }
    }
    client_event ev;
    while (client.next_event(ev)) client_events.push_back(ev);
  }

  void drain_server_events() {
    session_event ev;
    while (server.next_event(ev)) {
      if (ev.type == skind::publish) {
        if (publish_refusal.empty()) {
          server.accept_publish(ev.stream_id);
        } else {
          server.reject_publish(ev.stream_id, publish_refusal, "refused by test");
        }
      } else if (ev.type == skind::play) {
        if (play_refusal.empty()) {
          server.accept_play(ev.stream_id);
          play_stream_id = ev.stream_id;
        } else {
          server.reject_play(ev.stream_id, play_refusal, "refused by test");
        }
      }
      server_events.push_back(ev);
    }
  }

  // Sends a media message from the "hub" to the player, as the server does
  // (a standalone chunk sequence on the media chunk streams).
  void hub_send(message m) {
    m.stream_id = play_stream_id;
    const std::uint32_t csid = m.type == 8 ? server_csid::audio : m.type == 9 ? server_csid::video : server_csid::data;
    const auto wire = encode_standalone(csid, m, server.chunk_size());
    deliver_to_client(bytes(wire.data(), wire.data() + wire.size()));
  }

  // Event kinds without the informational `status` ones (Play.Reset...).
  std::vector<ckind> client_kinds() const {
    std::vector<ckind> out;
    for (const auto& e : client_events) {
      if (e.type != ckind::status) out.push_back(e.type);
    }
    return out;
  }
  std::vector<skind> server_kinds() const {
    std::vector<skind> out;
    for (const auto& e : server_events) out.push_back(e.type);
    return out;
  }

  client_session client;
  server_session server;
  std::vector<client_event> client_events;
  std::vector<session_event> server_events;
  std::error_code client_error;
  std::error_code server_error;
  std::string publish_refusal;
  std::string play_refusal;
  std::uint32_t play_stream_id = 0;
};

bytes metadata_tag_body() {
  amf0::ecma_array meta{{"duration", 2.0}, {"width", 320.0}, {"height", 240.0}, {"encoder", "test"}};
  return on_metadata_message(meta);
}

// --- full flows ---------------------------------------------------------------------

TEST(client_session, publish_flow_against_server_session) {
  wired w;
  ASSERT_FALSE(w.client.publish("key?token=1"));
  w.pump();
  ASSERT_FALSE(w.client_error);
  ASSERT_FALSE(w.server_error);
  EXPECT_EQ(w.client.current_phase(), client_session::phase::publishing);
  EXPECT_EQ(w.client_kinds(), (std::vector<ckind>{ckind::connected, ckind::publish_started}));
  ASSERT_GE(w.server_events.size(), 2u);
  EXPECT_EQ(w.server_events[0].type, skind::connected);
  EXPECT_EQ(w.server_events[1].type, skind::publish);
  EXPECT_EQ(w.server_events[1].name, "key?token=1");
  EXPECT_EQ(w.server.app(), "live");
  EXPECT_EQ(w.server.tc_url(), "rtmp://127.0.0.1/live");
  EXPECT_EQ(w.client.chunk_size(), 4096u);
  EXPECT_EQ(w.client.peer_chunk_size(), 4096u);  // the server's Set Chunk Size was applied
  EXPECT_NE(w.client.stream_id(), 0u);

  // Metadata as publishers send it, then media larger than one chunk.
  const bytes meta = metadata_tag_body();
  ASSERT_FALSE(w.client.send_script_data(meta, 0));
  const message video = media(9, 0, 10000, 0x11);
  const message audio = media(8, 23, 300, 0x22);
  ASSERT_FALSE(w.client.send_media(video));
  ASSERT_FALSE(w.client.send_media(audio));
  w.server_events.clear();
  w.pump();
  ASSERT_FALSE(w.server_error);
  ASSERT_EQ(w.server_events.size(), 3u);
  EXPECT_EQ(w.server_events[0].type, skind::media);
  EXPECT_TRUE(w.server_events[0].flag);  // onMetaData, @setDataFrame removed by the server
  EXPECT_EQ(bytes(w.server_events[0].msg.payload.span().begin(), w.server_events[0].msg.payload.span().end()), meta);
  EXPECT_EQ(w.server_events[1].msg.type, 9);
  EXPECT_EQ(w.server_events[1].msg.payload.size(), 10000u);
  EXPECT_TRUE(std::equal(video.payload.span().begin(), video.payload.span().end(),
                         w.server_events[1].msg.payload.span().begin()));
  EXPECT_EQ(w.server_events[2].msg.type, 8);
  EXPECT_EQ(w.server_events[2].msg.timestamp, 23u);

  // FCUnpublish + deleteStream end the stream on the server.
  w.server_events.clear();
  w.client.finish();
  EXPECT_EQ(w.client.current_phase(), client_session::phase::finished);
  w.pump();
  ASSERT_FALSE(w.server_events.empty());
  EXPECT_EQ(w.server_events[0].type, skind::unpublish);
  EXPECT_EQ(w.client.send_media(video), make_error_code(errc::command_out_of_order));
}

TEST(client_session, play_flow_against_server_session) {
  wired w;
  ASSERT_FALSE(w.client.play("cam"));
  w.pump();
  ASSERT_FALSE(w.client_error);
  EXPECT_EQ(w.client.current_phase(), client_session::phase::playing);
  EXPECT_EQ(w.client_kinds(), (std::vector<ckind>{ckind::connected, ckind::play_started}));
  ASSERT_EQ(w.server_kinds(), (std::vector<skind>{skind::connected, skind::play}));
  EXPECT_EQ(w.server_events[1].name, "cam");
  w.client_events.clear();

  // Metadata through the session's writer, media through hub-style chunks.
  w.server.send_data(w.play_stream_id, metadata_tag_body(), 0);
  w.pump();
  w.hub_send(media(9, 0, 9000, 0x33));
  w.hub_send(media(8, 10, 200, 0x44));
  ASSERT_FALSE(w.client_error);
  ASSERT_EQ(w.client_kinds(), (std::vector<ckind>{ckind::media, ckind::media, ckind::media}));
  EXPECT_TRUE(w.client_events[0].metadata);
  EXPECT_EQ(w.client_events[0].msg.type, 18);
  EXPECT_EQ(w.client_events[1].msg.type, 9);
  EXPECT_EQ(w.client_events[1].msg.payload.size(), 9000u);
  EXPECT_EQ(w.client_events[1].msg.payload[5], 0x33);
  EXPECT_EQ(w.client_events[2].msg.timestamp, 10u);

  // UnpublishNotify + Stream EOF: one stream_ended; PublishNotify resumes.
  w.client_events.clear();
  w.server.notify_unpublished(w.play_stream_id);
  w.pump();
  EXPECT_EQ(w.client_kinds(), (std::vector<ckind>{ckind::stream_ended}));
  EXPECT_EQ(w.client_events[0].reason, "NetStream.Play.UnpublishNotify");
  w.client_events.clear();
  w.server.notify_published(w.play_stream_id);
  w.pump();
  EXPECT_EQ(w.client_kinds(), (std::vector<ckind>{ckind::stream_resumed}));

  // deleteStream stops playback on the server.
  w.server_events.clear();
  w.client.finish();
  w.pump();
  EXPECT_EQ(w.server_kinds(), (std::vector<skind>{skind::stop_play}));
}

TEST(client_session, play_stop_ends_the_stream) {
  wired w;
  ASSERT_FALSE(w.client.play("cam"));
  w.pump();
  w.client_events.clear();
  w.server.notify_play_stopped(w.play_stream_id, "bye");
  w.pump();
  EXPECT_EQ(w.client_kinds(), (std::vector<ckind>{ckind::stream_ended}));
  EXPECT_EQ(w.client_events.back().reason, "NetStream.Play.Stop");
}

TEST(client_session, byte_at_a_time_gives_the_same_events) {
  wired w;
  ASSERT_FALSE(w.client.play("cam"));
  w.pump(1);
  ASSERT_FALSE(w.client_error);
  EXPECT_EQ(w.client_kinds(), (std::vector<ckind>{ckind::connected, ckind::play_started}));
  w.client_events.clear();
  const message m = media(9, 40, 5000, 0x55);
  const auto wire = encode_standalone(server_csid::video, message{m.type, m.timestamp, w.play_stream_id, m.payload},
                                      w.server.chunk_size());
  w.deliver_to_client(bytes(wire.data(), wire.data() + wire.size()), 1);
  ASSERT_EQ(w.client_events.size(), 1u);
  EXPECT_EQ(w.client_events[0].msg.payload.size(), 5000u);
}

TEST(client_session, play_requested_after_connect) {
  wired w;
  w.pump();
  EXPECT_EQ(w.client.current_phase(), client_session::phase::connected);
  EXPECT_EQ(w.client_kinds(), (std::vector<ckind>{ckind::connected}));
  ASSERT_FALSE(w.client.play("cam"));
  EXPECT_EQ(w.client.play("again"), make_error_code(errc::command_out_of_order));
  w.pump();
  EXPECT_EQ(w.client.current_phase(), client_session::phase::playing);
}

// --- refusals ------------------------------------------------------------------------

TEST(client_session, invalid_app_is_connect_rejected) {
  wired w(client_config("bad app"));
  ASSERT_FALSE(w.client.publish("key"));
  w.pump();
  EXPECT_EQ(w.client_error, make_error_code(errc::connect_rejected));
  EXPECT_EQ(w.client.current_phase(), client_session::phase::closed);
  EXPECT_EQ(w.client.last_error_status().code, "NetConnection.Connect.Rejected");
}

TEST(client_session, bad_name_is_publish_rejected) {
  wired w;
  w.publish_refusal = "NetStream.Publish.BadName";
  ASSERT_FALSE(w.client.publish("key"));
  w.pump();
  EXPECT_EQ(w.client_error, make_error_code(errc::publish_rejected));
  EXPECT_EQ(w.client.last_error_status().code, "NetStream.Publish.BadName");
}

TEST(client_session, invalid_stream_name_is_publish_rejected) {
  wired w;
  ASSERT_FALSE(w.client.publish("../etc"));
  w.pump();
  EXPECT_EQ(w.client_error, make_error_code(errc::publish_rejected));
}

TEST(client_session, unauthorized_and_rejected_codes_are_unauthorized) {
  for (const char* code : {"NetStream.Publish.Unauthorized", "NetStream.Publish.Rejected"}) {
    wired w;
    w.publish_refusal = code;
    ASSERT_FALSE(w.client.publish("key"));
    w.pump();
    EXPECT_EQ(w.client_error, make_error_code(errc::unauthorized)) << code;
  }
  wired w;
  w.play_refusal = "NetStream.Play.Unauthorized";
  ASSERT_FALSE(w.client.play("key"));
  w.pump();
  EXPECT_EQ(w.client_error, make_error_code(errc::unauthorized));
}

TEST(client_session, stream_not_found_and_play_failed_are_play_rejected) {
  for (const char* code : {"NetStream.Play.StreamNotFound", "NetStream.Play.Failed"}) {
    wired w;
    w.play_refusal = code;
    ASSERT_FALSE(w.client.play("key"));
    w.pump();
    EXPECT_EQ(w.client_error, make_error_code(errc::play_rejected)) << code;
    EXPECT_EQ(w.client.last_error_status().code, code);
  }
}

// --- scripted (hostile) servers -----------------------------------------------------------

// A server that completes a real handshake and then sends whatever the test
// scripts. Everything the client sends after the handshake is decoded.
struct scripted_server {
  explicit scripted_server(client_session_config cfg = client_config()) : client(std::move(cfg)) {
    bytes c0c1;
    client.take_output(c0c1);
    hs.consume(c0c1);
    const auto s = hs.pending_output();
    bytes s012(s.begin(), s.end());
    hs.output_sent(s.size());
    ec = client.on_bytes(s012);
    bytes c2_and_more;
    client.take_output(c2_and_more);
    const auto used = hs.consume(c2_and_more);
    EXPECT_TRUE(hs.done());
    from_client(bytes(c2_and_more.begin() + static_cast<std::ptrdiff_t>(used), c2_and_more.end()));
  }

  void from_client(const bytes& b) {
    EXPECT_FALSE(reader.feed(b));
    message m;
    while (reader.next(m)) received.push_back(m);
  }

  // Sends raw bytes to the client; collects its answer and events.
  std::error_code send_raw(const bytes& b) {
    ec = client.on_bytes(b);
    bytes out;
    client.take_output(out);
    from_client(out);
    client_event ev;
    while (client.next_event(ev)) events.push_back(ev);
    return ec;
  }

  std::error_code send(std::uint32_t csid, const message& m) {
    bytes wire;
    writer.write(csid, m, wire);
    return send_raw(wire);
  }

  std::error_code send_command(const command& c, std::uint32_t msid = 0) {
    message m;
    m.type = 20;
    m.stream_id = msid;
    m.payload = shared_bytes::copy_of(encode_command(c));
    return send(3, m);
  }

  std::error_code send_control(const message& m) { return send(2, m); }

  std::vector<command> commands() const {
    std::vector<command> out;
    for (const auto& m : received) {
      if (m.type != 20) continue;
      auto r = parse_command(m.payload.span());
      if (r.ok()) out.push_back(r.cmd);
    }
    return out;
  }

  client_session client;
  server_handshake hs;
  chunk_reader reader;
  chunk_writer writer;
  std::vector<message> received;
  std::vector<client_event> events;
  std::error_code ec;
};

TEST(client_session, connect_command_follows_the_handshake) {
  scripted_server s;
  ASSERT_FALSE(s.ec);
  EXPECT_EQ(s.client.current_phase(), client_session::phase::connecting);
  const auto cmds = s.commands();
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_EQ(cmds[0].name, "connect");
  EXPECT_EQ(cmds[0].command_object.get("app")->as_string(), "live");
  EXPECT_EQ(cmds[0].command_object.get("tcUrl")->as_string(), "rtmp://127.0.0.1/live");
}

TEST(client_session, server_that_never_answers_connect_leaves_the_session_waiting) {
  // The deadline belongs to the net layer (client_test covers it); the
  // machine itself must simply wait without error or output.
  scripted_server s;
  ASSERT_FALSE(s.send_control(make_window_ack_size(2'500'000)));
  EXPECT_EQ(s.client.current_phase(), client_session::phase::connecting);
  EXPECT_FALSE(s.client.has_output());
}

TEST(client_session, connect_error_result_is_connect_rejected) {
  scripted_server s;
  EXPECT_EQ(s.send_command(error_result(1, "NetConnection.Connect.Rejected", "no")),
            make_error_code(errc::connect_rejected));
}

TEST(client_session, set_chunk_size_zero_is_refused) {
  scripted_server s;
  EXPECT_EQ(s.send_control(make_set_chunk_size(1)), make_error_code(errc::chunk_size_below_floor));
  scripted_server s2;
  // A zero size cannot be built with make_set_chunk_size; write the bytes.
  message m;
  m.type = 1;
  const bytes zero = {0, 0, 0, 0};
  m.payload = shared_bytes::copy_of(zero);
  EXPECT_EQ(s2.send_control(m), make_error_code(errc::chunk_size_invalid));
  // Sticky: later input gets the same error.
  EXPECT_EQ(s2.send_command(connect_result(1)), make_error_code(errc::chunk_size_invalid));
}

TEST(client_session, huge_set_chunk_size_is_clamped_and_works) {
  scripted_server s;
  ASSERT_FALSE(s.send_control(make_set_chunk_size(0x7FFFFFFF)));
  s.writer.set_chunk_size(0x7FFFFFFF);
  ASSERT_FALSE(s.send_command(connect_result(1)));
  EXPECT_EQ(s.client.current_phase(), client_session::phase::connected);
  EXPECT_LE(s.client.peer_chunk_size(), s.client.config().chunk_limits.max_message_size);
}

TEST(client_session, huge_result_is_refused_at_its_header) {
  scripted_server s;
  // fmt 0, csid 3, timestamp 0, length 16 MB, type 20, stream 0: no payload follows.
  bytes header = {0x03, 0, 0, 0, 0xFF, 0xFF, 0xFF, 20, 0, 0, 0, 0};
  EXPECT_EQ(s.send_raw(header), make_error_code(errc::message_too_large));
}

TEST(client_session, message_length_redeclared_mid_message_is_refused) {
  // HOSTILE T-14: a 200-byte command, first chunk (128 bytes), then a fmt 1
  // header on the same chunk stream declaring 300 bytes.
  scripted_server s;
  bytes wire = {0x03, 0, 0, 0, 0, 0, 200, 20, 0, 0, 0, 0};
  wire.insert(wire.end(), 128, 0x05);
  ASSERT_FALSE(s.send_raw(wire));
  const bytes fmt1 = {0x43, 0, 0, 0, 0, 0x01, 0x2C, 20};
  EXPECT_EQ(s.send_raw(fmt1), make_error_code(errc::message_length_changed));
}

TEST(client_session, endless_on_status_is_cut_off) {
  scripted_server s;
  std::error_code ec;
  int sent = 0;
  for (; sent < 1000 && !ec; ++sent) {
    ec = s.send_command(on_status("status", "NetStream.Info.Spam", "again"));
  }
  EXPECT_EQ(ec, make_error_code(errc::too_many_commands));
  EXPECT_LE(sent, static_cast<int>(s.client.config().max_negotiation_commands) + 1);
}

TEST(client_session, ping_is_answered_and_windows_are_acknowledged) {
  scripted_server s;
  s.received.clear();
  ASSERT_FALSE(s.send_control(make_user_control(user_control_event::ping_request, 1234)));
  ASSERT_EQ(s.received.size(), 1u);
  EXPECT_EQ(s.received[0].type, 4);
  user_control uc;
  ASSERT_FALSE(parse_user_control(s.received[0].payload.span(), uc));
  EXPECT_EQ(uc.event, static_cast<std::uint16_t>(user_control_event::ping_response));
  EXPECT_EQ(uc.value, 1234u);

  // A small window: the client acknowledges what it received.
  ASSERT_FALSE(s.send_control(make_window_ack_size(5000)));
  ASSERT_FALSE(s.send_command(connect_result(1)));
  const std::string long_text(1500, 'x');
  for (int i = 0; i < 3; ++i) ASSERT_FALSE(s.send_command(on_status("status", "NetConnection.Info", long_text)));
  bool acked = false;
  for (const auto& m : s.received) {
    if (m.type != 3) continue;
    std::uint32_t seq = 0;
    ASSERT_FALSE(parse_u32_control(m.payload.span(), seq));
    EXPECT_GE(seq, 5000u);
    acked = true;
  }
  EXPECT_TRUE(acked);
  EXPECT_GE(s.client.acknowledgements_sent(), 1u);
}

TEST(client_session, set_peer_bandwidth_is_answered_with_window_ack_size) {
  scripted_server s;
  s.received.clear();
  ASSERT_FALSE(s.send_control(make_set_peer_bandwidth(1'000'000, bandwidth_limit::dynamic)));
  ASSERT_EQ(s.received.size(), 1u);
  EXPECT_EQ(s.received[0].type, 5);
}

TEST(client_session, create_stream_error_and_publish_error) {
  {
    scripted_server s;
    ASSERT_FALSE(s.client.publish("k"));
    ASSERT_FALSE(s.send_command(connect_result(1)));
    // releaseStream=2, FCPublish=3, createStream=4.
    EXPECT_EQ(s.send_command(error_result(4, "NetConnection.Call.Failed", "no streams")),
              make_error_code(errc::publish_rejected));
  }
  {
    scripted_server s;
    ASSERT_FALSE(s.client.play("k"));
    ASSERT_FALSE(s.send_command(connect_result(1)));
    ASSERT_FALSE(s.send_command(create_stream_result(2, 1)));
    EXPECT_EQ(s.send_command(error_result(3, "NetConnection.Call.Failed", "no")),
              make_error_code(errc::play_rejected));
  }
}

TEST(client_session, stream_eof_ends_and_sample_access_is_skipped) {
  scripted_server s;
  ASSERT_FALSE(s.client.play("k"));
  ASSERT_FALSE(s.send_command(connect_result(1)));
  ASSERT_FALSE(s.send_command(create_stream_result(2, 1)));
  ASSERT_FALSE(s.send_command(on_status("status", "NetStream.Play.Start", "go"), 1));
  message access;
  access.type = 18;
  access.stream_id = 1;
  access.payload = shared_bytes::copy_of(sample_access_message());
  ASSERT_FALSE(s.send(5, access));
  // A publisher's @setDataFrame relayed as is: the wrapper is removed.
  message wrapped;
  wrapped.type = 18;
  wrapped.stream_id = 1;
  amf0::ecma_array meta{{"width", 640.0}};
  wrapped.payload = shared_bytes::copy_of(set_data_frame_message(meta));
  ASSERT_FALSE(s.send(5, wrapped));
  ASSERT_FALSE(s.send_control(make_user_control(user_control_event::stream_eof, 1)));
  ASSERT_EQ(s.events.size(), 4u);
  EXPECT_EQ(s.events[1].type, ckind::play_started);
  EXPECT_EQ(s.events[2].type, ckind::media);
  EXPECT_TRUE(s.events[2].metadata);
  const auto expected = on_metadata_message(meta);
  EXPECT_EQ(bytes(s.events[2].msg.payload.span().begin(), s.events[2].msg.payload.span().end()), expected);
  EXPECT_EQ(s.events[3].type, ckind::stream_ended);
  EXPECT_EQ(s.events[3].reason, "StreamEOF");
}

TEST(client_session, random_splits_and_garbage_never_crash) {
  std::mt19937 rng(7);
  for (int round = 0; round < 50; ++round) {
    scripted_server s;
    bytes garbage(2000);
    for (auto& b : garbage) b = static_cast<std::uint8_t>(rng());
    std::size_t off = 0;
    while (off < garbage.size()) {
      const std::size_t n = std::min<std::size_t>(1 + rng() % 300, garbage.size() - off);
      if (s.send_raw(bytes(garbage.begin() + static_cast<std::ptrdiff_t>(off),
                           garbage.begin() + static_cast<std::ptrdiff_t>(off + n)))) {
        break;
      }
      off += n;
    }
    SUCCEED();
  }
}

TEST(client_session, bad_server_version_fails_the_handshake) {
  client_session c(client_config());
  const bytes s0 = {6};
  EXPECT_EQ(c.on_bytes(s0), make_error_code(errc::handshake_unsupported_version));
  EXPECT_EQ(c.current_phase(), client_session::phase::closed);
}

}  // namespace
