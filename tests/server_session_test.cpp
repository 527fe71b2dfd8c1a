#include "rtmp/proto/server_session.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>

#include "rtmp/error.hpp"
#include "rtmp/proto/byte_order.hpp"
#include "rtmp/proto/control_message.hpp"

#include "support/files.hpp"

namespace {
using rtmp::test::read_capture;

using namespace rtmp::proto;
using bytes = std::vector<std::uint8_t>;

// Plays the client: does a plain handshake, sends messages through a chunk
// writer, and decodes everything the server answers.
class fake_client {
 public:
  explicit fake_client(server_session_config cfg = {}) : session(cfg) {
    bytes hello(1 + 1536, 0);
    hello[0] = 3;
    feed(hello);
    // Server answered S0 S1 S2; skip them, then send C2.
    EXPECT_EQ(raw_.size(), 1u + 2 * 1536u);
    raw_.clear();
    feed(bytes(1536, 0));
  }

  std::error_code feed(const bytes& b) {
    auto ec = session.on_bytes(b);
    bytes out;
    session.take_output(out);
    raw_.insert(raw_.end(), out.begin(), out.end());
    if (session.current_phase() != server_session::phase::handshake) {
      EXPECT_FALSE(reader_.feed(raw_));
      raw_.clear();
      message m;
      while (reader_.next(m)) received.push_back(m);
    }
    session_event ev;
    while (session.next_event(ev)) events.push_back(ev);
    return ec;
  }

  std::error_code send(std::uint32_t csid, std::uint8_t type, std::uint32_t msid, const bytes& payload,
                       std::uint32_t ts = 0) {
    message m;
    m.type = type;
    m.stream_id = msid;
    m.timestamp = ts;
    m.payload = shared_bytes::copy_of(payload);
    bytes wire;
    writer_.write(csid, m, wire);
    return feed(wire);
  }

  std::error_code send_command(const command& c, std::uint32_t msid = 0) {
    return send(3, 20, msid, encode_command(c));
  }

  // Commands the server sent, in order.
  std::vector<command> commands() const {
    std::vector<command> out;
    for (const auto& m : received) {
      if (m.type != 20) continue;
      auto r = parse_command(m.payload.span());
      EXPECT_TRUE(r.ok());
      out.push_back(r.cmd);
    }
    return out;
  }

  std::vector<std::string> status_codes() const {
    std::vector<std::string> out;
    for (const auto& c : commands()) {
      if (c.name != "onStatus") continue;
      auto info = read_status(c);
      if (info) out.push_back(info->code);
    }
    return out;
  }

  void connect_and_create_stream() {
    connect_params p;
    p.app = "live";
    p.tc_url = "rtmp://127.0.0.1/live";
    ASSERT_FALSE(send_command(connect_command(1, p)));
    ASSERT_FALSE(send_command(create_stream_command(2)));
  }

  server_session session;
  std::vector<message> received;
  std::vector<session_event> events;

 private:
  bytes raw_;
  chunk_reader reader_;
  chunk_writer writer_;
};

// --- real clients --------------------------------------------------------------

// Replays a client capture; returns the decoded server answers and events.
struct replay {
  server_session session;
  std::vector<session_event> events;
  std::vector<message> answers;
  std::error_code ec;

  // Feeds `step` bytes at a time: small steps let the test answer publish
  // and play before the client's later commands (e.g. deleteStream) arrive.
  explicit replay(const bytes& c2s, bool accept = true, std::size_t step = 1) {
    bytes out, all;
    std::size_t pos = 0;
    while (pos < c2s.size() && !ec) {
      const std::size_t n = std::min<std::size_t>(step, c2s.size() - pos);
      ec = session.on_bytes(std::span<const std::uint8_t>(c2s.data() + pos, n));
      pos += n;
      session_event ev;
      while (session.next_event(ev)) {
        if (accept && ev.type == session_event::kind::publish) session.accept_publish(ev.stream_id);
        if (accept && ev.type == session_event::kind::play) session.accept_play(ev.stream_id);
        events.push_back(ev);
      }
      session.take_output(out);
      all.insert(all.end(), out.begin(), out.end());
    }
    chunk_reader reader;
    EXPECT_GE(all.size(), 3073u);
    EXPECT_FALSE(reader.feed(std::span<const std::uint8_t>(all.data() + 3073, all.size() - 3073)));
    message m;
    while (reader.next(m)) answers.push_back(m);
  }

  std::vector<std::string> answer_names() const {
    std::vector<std::string> names;
    for (const auto& m : answers) {
      if (m.type == 20) names.push_back(parse_command(m.payload.span()).cmd.name);
    }
    return names;
  }
};

TEST(server_session, ffmpeg_publish_capture) {
  replay r(read_capture("ffmpeg-publish.c2s.bin"));
  ASSERT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.session.app(), "live");
  ASSERT_GE(r.events.size(), 3u);
  EXPECT_EQ(r.events[0].type, session_event::kind::connected);
  EXPECT_EQ(r.events[1].type, session_event::kind::publish);
  EXPECT_EQ(r.events[1].name, "cap1");
  EXPECT_EQ(r.events[1].stream_id, 1u);
  std::size_t audio = 0, video = 0, meta = 0;
  for (const auto& ev : r.events) {
    if (ev.type != session_event::kind::media) continue;
    audio += ev.msg.type == 8;
    video += ev.msg.type == 9;
    if (ev.flag) {
      ++meta;
      // The @setDataFrame wrapper is gone: the payload starts with "onMetaData".
      const bytes head(ev.msg.payload.data(), ev.msg.payload.data() + 13);
      EXPECT_EQ(head, (bytes{0x02, 0x00, 0x0A, 'o', 'n', 'M', 'e', 't', 'a', 'D', 'a', 't', 'a'}));
    }
  }
  EXPECT_EQ(meta, 1u);
  EXPECT_GT(audio, 10u);
  EXPECT_GT(video, 3u);
  // The answers a real client expects, in order.
  ASSERT_GE(r.answers.size(), 4u);
  EXPECT_EQ(r.answers[0].type, 5);  // Window Acknowledgement Size
  EXPECT_EQ(r.answers[1].type, 6);  // Set Peer Bandwidth
  EXPECT_EQ(r.answers[2].type, 1);  // Set Chunk Size
  const auto names = r.answer_names();
  ASSERT_GE(names.size(), 4u);
  EXPECT_EQ(names[0], "_result");
  EXPECT_EQ(names[1], "onBWDone");
  EXPECT_NE(std::find(names.begin(), names.end(), "onFCPublish"), names.end());
  EXPECT_EQ(names.back(), "onStatus");
  const auto last = parse_command(r.answers.back().payload.span()).cmd;
  EXPECT_EQ(read_status(last)->code, "NetStream.Publish.Start");
  EXPECT_EQ(r.answers.back().stream_id, 1u);
}

TEST(server_session, every_play_capture_reaches_play_start) {
  for (const char* name : {"ffmpeg-play.c2s.bin", "rtmpdump-play.c2s.bin", "gst-rtmp2src-play.c2s.bin"}) {
    replay r(read_capture(name));
    ASSERT_FALSE(r.ec) << name << ": " << r.ec.message();
    bool played = false;
    for (const auto& ev : r.events) played = played || ev.type == session_event::kind::play;
    EXPECT_TRUE(played) << name;
    std::vector<std::string> codes;
    bool stream_begin = false, sample_access = false;
    for (const auto& m : r.answers) {
      if (m.type == 20) {
        auto c = parse_command(m.payload.span()).cmd;
        if (c.name == "onStatus") codes.push_back(read_status(c)->code);
      }
      if (m.type == 4 && m.payload.size() >= 2 && m.payload[1] == 0) stream_begin = true;
      if (m.type == 18) sample_access = true;
    }
    EXPECT_TRUE(stream_begin) << name;
    EXPECT_TRUE(sample_access) << name;
    EXPECT_NE(std::find(codes.begin(), codes.end(), "NetStream.Play.Start"), codes.end()) << name;
    EXPECT_NE(std::find(codes.begin(), codes.end(), "NetStream.Play.Reset"), codes.end()) << name;
  }
}

TEST(server_session, gstreamer_publish_capture) {
  replay r(read_capture("gst-rtmp2sink-publish.c2s.bin"));
  ASSERT_FALSE(r.ec) << r.ec.message();
  bool published = false;
  std::size_t meta = 0;
  for (const auto& ev : r.events) {
    published = published || ev.type == session_event::kind::publish;
    meta += ev.type == session_event::kind::media && ev.flag;
  }
  EXPECT_TRUE(published);
  EXPECT_GE(meta, 1u);
}

TEST(server_session, media_pipelined_after_publish_is_held_until_accepted) {
  // ffmpeg sends publish, @setDataFrame and media without waiting: fed in
  // large reads, they arrive before the decision and must not be lost.
  const bytes c2s = read_capture("ffmpeg-publish.c2s.bin");
  replay big(c2s, true, 65536);
  replay small(c2s, true, 1);
  ASSERT_FALSE(big.ec);
  std::size_t media_big = 0, media_small = 0, meta_big = 0;
  for (const auto& ev : big.events) {
    media_big += ev.type == session_event::kind::media;
    meta_big += ev.type == session_event::kind::media && ev.flag;
  }
  for (const auto& ev : small.events) media_small += ev.type == session_event::kind::media;
  EXPECT_EQ(media_big, media_small);
  EXPECT_EQ(meta_big, 1u);
}

TEST(server_session, rejected_publish_relays_nothing) {
  const bytes c2s = read_capture("ffmpeg-publish.c2s.bin");
  server_session s;
  ASSERT_FALSE(s.on_bytes(c2s));
  session_event ev;
  std::size_t media = 0;
  while (s.next_event(ev)) {
    if (ev.type == session_event::kind::publish) s.reject_publish(ev.stream_id, "NetStream.Publish.BadName", "no");
    media += ev.type == session_event::kind::media;
  }
  while (s.next_event(ev)) media += ev.type == session_event::kind::media;
  EXPECT_EQ(media, 0u);
  EXPECT_TRUE(s.close_requested());
}

TEST(server_session, capture_fed_one_byte_at_a_time_gives_the_same_events) {
  const bytes c2s = read_capture("ffmpeg-publish.c2s.bin");
  const bytes head(c2s.begin(), c2s.begin() + 8000);
  replay whole(head, true, head.size());
  server_session s;
  std::size_t events = 0;
  for (std::uint8_t b : head) {
    ASSERT_FALSE(s.on_bytes(std::span<const std::uint8_t>(&b, 1)));
    session_event ev;
    while (s.next_event(ev)) {
      if (ev.type == session_event::kind::publish) s.accept_publish(ev.stream_id);
      ++events;
    }
  }
  EXPECT_EQ(events, whole.events.size());
}

// --- command flow --------------------------------------------------------------

TEST(server_session, create_stream_returns_fresh_ids_and_is_capped) {
  server_session_config cfg;
  cfg.max_message_streams = 3;
  fake_client c(cfg);
  c.connect_and_create_stream();
  for (int txn = 3; txn < 7; ++txn) ASSERT_FALSE(c.send_command(create_stream_command(txn)));
  std::vector<double> ids;
  std::size_t errors = 0;
  for (const auto& cmd : c.commands()) {
    if (cmd.name == "_result" && cmd.transaction_id >= 2) ids.push_back(number_argument(cmd, 0).value_or(-1));
    errors += cmd.name == "_error";
  }
  EXPECT_EQ(ids, (std::vector<double>{1, 2, 3}));
  EXPECT_EQ(errors, 2u);
}

TEST(server_session, publish_then_media_is_relayed_only_after_accept) {
  fake_client c;
  c.connect_and_create_stream();
  ASSERT_FALSE(c.send_command(publish_command(3, "demo?token=x"), 1));
  ASSERT_EQ(c.events.back().type, session_event::kind::publish);
  EXPECT_EQ(c.events.back().name, "demo?token=x");
  // Media before the decision is held, not relayed (T-34) ...
  ASSERT_FALSE(c.send(6, 9, 1, {0x17, 0x00, 0, 0, 0}));
  EXPECT_NE(c.events.back().type, session_event::kind::media);
  // ... and handed out, first, once publish is accepted.
  c.session.accept_publish(1);
  ASSERT_FALSE(c.send(6, 9, 1, {0x17, 0x01, 0, 0, 0}, 40));
  ASSERT_GE(c.events.size(), 2u);
  EXPECT_EQ(c.events[c.events.size() - 2].type, session_event::kind::media);
  EXPECT_EQ(c.events[c.events.size() - 2].msg.payload[1], 0x00);
  EXPECT_EQ(c.events.back().type, session_event::kind::media);
  EXPECT_EQ(c.events.back().msg.timestamp, 40u);
  ASSERT_FALSE(c.feed({}));
  EXPECT_EQ(c.status_codes().back(), "NetStream.Publish.Start");
  // Media on another stream id is ignored.
  const auto before = c.events.size();
  ASSERT_FALSE(c.send(6, 9, 7, {0x17, 0x01}));
  EXPECT_EQ(c.events.size(), before);
  EXPECT_GE(c.session.ignored_messages(), 1u);
}

TEST(server_session, reject_publish_sends_bad_name_and_asks_to_close) {
  fake_client c;
  c.connect_and_create_stream();
  ASSERT_FALSE(c.send_command(publish_command(3, "demo"), 1));
  c.session.reject_publish(1, "NetStream.Publish.BadName", "busy");
  ASSERT_FALSE(c.feed({}));
  EXPECT_EQ(c.status_codes().back(), "NetStream.Publish.BadName");
  EXPECT_TRUE(c.session.close_requested());
}

TEST(server_session, unpublish_events_from_fcunpublish_closestream_and_deletestream) {
  for (int how = 0; how < 3; ++how) {
    fake_client c;
    c.connect_and_create_stream();
    ASSERT_FALSE(c.send_command(publish_command(3, "demo"), 1));
    c.session.accept_publish(1);
    std::error_code ec;
    if (how == 0) ec = c.send_command(fc_unpublish_command(4, "demo"));
    if (how == 1) ec = c.send_command(close_stream_command(0), 1);
    if (how == 2) ec = c.send_command(delete_stream_command(4, 1));
    ASSERT_FALSE(ec);
    ASSERT_EQ(c.events.back().type, session_event::kind::unpublish) << how;
    EXPECT_EQ(c.events.back().stream_id, 1u);
  }
}

TEST(server_session, play_pause_and_notifications) {
  fake_client c;
  c.connect_and_create_stream();
  ASSERT_FALSE(c.send_command(play_command(3, "demo", -1000), 1));
  ASSERT_EQ(c.events.back().type, session_event::kind::play);
  c.session.accept_play(1);
  c.session.notify_unpublished(1);
  c.session.notify_published(1);
  command pause;
  pause.name = "pause";
  pause.arguments = {true, 0.0};
  ASSERT_FALSE(c.send_command(pause, 1));
  EXPECT_EQ(c.events.back().type, session_event::kind::pause);
  EXPECT_TRUE(c.events.back().flag);
  const auto codes = c.status_codes();
  const std::vector<std::string> expected = {"NetStream.Play.Reset", "NetStream.Play.Start",
                                             "NetStream.Play.UnpublishNotify", "NetStream.Play.PublishNotify",
                                             "NetStream.Pause.Notify"};
  EXPECT_EQ(codes, expected);
  // onStatus for a stream travels on that message stream.
  for (const auto& m : c.received) {
    if (m.type == 20 && parse_command(m.payload.span()).cmd.name == "onStatus") {
      EXPECT_EQ(m.stream_id, 1u);
    }
  }
}

// --- hostile and out-of-order input (HOSTILE-CASES T-24, T-27, T-29, T-30, T-31) --

TEST(server_session, commands_before_connect_get_an_error) {
  fake_client c;
  ASSERT_FALSE(c.send_command(publish_command(5, "x"), 1));
  ASSERT_FALSE(c.send_command(create_stream_command(6)));
  const auto cmds = c.commands();
  ASSERT_EQ(cmds.size(), 2u);
  EXPECT_EQ(cmds[0].name, "_error");
  EXPECT_EQ(cmds[1].transaction_id, 6);
  EXPECT_TRUE(c.events.empty());
}

TEST(server_session, connect_twice_is_refused_without_closing) {
  fake_client c;
  c.connect_and_create_stream();
  connect_params p;
  p.app = "other";
  ASSERT_FALSE(c.send_command(connect_command(9, p)));
  EXPECT_EQ(c.commands().back().name, "_error");
  EXPECT_EQ(c.session.app(), "live");
  EXPECT_FALSE(c.session.close_requested());
}

TEST(server_session, unknown_command_gets_error_not_disconnect) {
  fake_client c;
  c.connect_and_create_stream();
  command x;
  x.name = "launchMissiles";
  x.transaction_id = 7;
  ASSERT_FALSE(c.send_command(x));
  EXPECT_EQ(c.commands().back().name, "_error");
  EXPECT_EQ(c.commands().back().transaction_id, 7);
  // Helper calls with transaction id 0 (GStreamer) get no answer.
  const auto n = c.commands().size();
  ASSERT_FALSE(c.send_command(release_stream_command(0, "demo")));
  EXPECT_EQ(c.commands().size(), n);
}

TEST(server_session, wrong_argument_types_are_refused_safely) {
  {
    fake_client c;
    c.connect_and_create_stream();
    command bad = publish_command(3, "x");
    bad.arguments[0] = false;  // publish(false)
    ASSERT_FALSE(c.send_command(bad, 1));
    EXPECT_EQ(c.status_codes().back(), "NetStream.Publish.BadName");
    EXPECT_TRUE(c.session.close_requested());
  }
  {
    fake_client c;
    c.connect_and_create_stream();
    command bad = play_command(3, "x");
    bad.arguments[0] = 123.0;  // play(123)
    ASSERT_FALSE(c.send_command(bad, 1));
    EXPECT_EQ(c.status_codes().back(), "NetStream.Play.StreamNotFound");
  }
  {
    fake_client c;
    connect_params p;
    p.app = "live";
    command bad = connect_command(1, p);
    bad.command_object = 5.0;  // command object as a number
    ASSERT_FALSE(c.send_command(bad));
    EXPECT_EQ(c.commands().back().name, "_error");
    EXPECT_TRUE(c.session.close_requested());
  }
}

TEST(server_session, hostile_names_are_refused) {
  for (const char* name : {"../etc/passwd", "a/b", "x y", "$(id)", "`id`", "a\r\nb", ""}) {
    fake_client c;
    c.connect_and_create_stream();
    ASSERT_FALSE(c.send_command(publish_command(3, name), 1));
    EXPECT_TRUE(c.session.close_requested()) << name;
    for (const auto& ev : c.events) EXPECT_NE(ev.type, session_event::kind::publish) << name;
  }
  const std::string long_name(200, 'a');
  fake_client c;
  c.connect_and_create_stream();
  ASSERT_FALSE(c.send_command(publish_command(3, long_name), 1));
  EXPECT_TRUE(c.session.close_requested());
  // An app with traversal is refused at connect.
  fake_client d;
  connect_params p;
  p.app = "../live";
  ASSERT_FALSE(d.send_command(connect_command(1, p)));
  EXPECT_EQ(d.commands().back().name, "_error");
}

TEST(server_session, play_or_publish_on_unknown_stream_id) {
  fake_client c;
  c.connect_and_create_stream();
  ASSERT_FALSE(c.send_command(play_command(3, "demo"), 42));
  EXPECT_EQ(c.commands().back().name, "_error");
  ASSERT_FALSE(c.send_command(delete_stream_command(4, 999)));
  for (const auto& ev : c.events) EXPECT_NE(ev.type, session_event::kind::play);
}

TEST(server_session, truncated_amf_closes_with_an_amf_error) {
  fake_client c;
  // T-24 minimal crasher: 02 0007 'connect' 00 3FF000
  const bytes payload = {0x02, 0x00, 0x07, 'c', 'o', 'n', 'n', 'e', 'c', 't', 0x00, 0x3F, 0xF0, 0x00};
  const auto ec = c.send(3, 20, 0, payload);
  EXPECT_EQ(ec, rtmp::errc::amf_truncated);
  EXPECT_EQ(c.session.current_phase(), server_session::phase::closed);
}

TEST(server_session, deep_nesting_is_rejected) {
  fake_client c;
  bytes payload = {0x02, 0x00, 0x07, 'c', 'o', 'n', 'n', 'e', 'c', 't', 0x00, 0x3F, 0xF0, 0, 0, 0, 0, 0, 0};
  for (int i = 0; i < 5000; ++i) {
    payload.push_back(0x03);
    payload.insert(payload.end(), {0x00, 0x01, 'a'});
  }
  const auto ec = c.send(3, 20, 0, payload);
  EXPECT_EQ(ec, rtmp::errc::amf_depth_exceeded);
}

TEST(server_session, ping_request_gets_a_response_and_acks_follow_the_window) {
  fake_client c;
  c.connect_and_create_stream();
  ASSERT_FALSE(c.send(2, 4, 0, {0x00, 0x06, 0x00, 0x00, 0x12, 0x34}));
  const message& last = c.received.back();
  EXPECT_EQ(last.type, 4);
  EXPECT_EQ(bytes(last.payload.data(), last.payload.data() + 6), (bytes{0x00, 0x07, 0x00, 0x00, 0x12, 0x34}));
  // A window of 1000 bytes: acknowledgements carry the byte count so far.
  ASSERT_FALSE(c.send(2, 5, 0, {0x00, 0x00, 0x03, 0xE8}));
  ASSERT_FALSE(c.send_command(publish_command(3, "demo"), 1));
  c.session.accept_publish(1);
  std::size_t acks_before = 0;
  for (const auto& m : c.received) acks_before += m.type == 3;
  ASSERT_FALSE(c.send(6, 9, 1, bytes(1200, 0x27)));
  std::size_t acks = 0;
  const message* last_ack = nullptr;
  for (const auto& m : c.received) {
    if (m.type != 3) continue;
    ++acks;
    last_ack = &m;
  }
  EXPECT_EQ(acks, acks_before + 1);
  ASSERT_NE(last_ack, nullptr);
  EXPECT_EQ(rtmp::proto::load_be32(last_ack->payload.data()), c.session.bytes_received());
}

TEST(server_session, window_ack_size_zero_means_no_acks) {
  fake_client c;
  c.connect_and_create_stream();
  ASSERT_FALSE(c.send(2, 5, 0, {0, 0, 0, 0}));
  ASSERT_FALSE(c.send_command(publish_command(3, "demo"), 1));
  c.session.accept_publish(1);
  ASSERT_FALSE(c.send(6, 9, 1, bytes(5000, 0x27)));
  for (const auto& m : c.received) EXPECT_NE(m.type, 3);
}

TEST(server_session, bad_handshake_version_is_an_error) {
  for (std::uint8_t v : {std::uint8_t{0x06}, std::uint8_t{0xFF}, std::uint8_t{'G'}, std::uint8_t{0x16}}) {
    server_session s;
    const bytes b = {v, 0, 0, 0};
    EXPECT_EQ(s.on_bytes(b), rtmp::errc::handshake_unsupported_version) << int(v);
    EXPECT_EQ(s.current_phase(), server_session::phase::closed);
  }
}

TEST(server_session, unknown_message_types_are_skipped) {
  fake_client c;
  c.connect_and_create_stream();
  for (int t : {0, 7, 23, 200, 255}) ASSERT_FALSE(c.send(3, static_cast<std::uint8_t>(t), 0, {1, 2, 3})) << t;
  EXPECT_GE(c.session.ignored_messages(), 5u);
}

}  // namespace

TEST(server_session, connect_to_an_app_not_configured_is_rejected) {
  server_session_config cfg;
  cfg.allowed_apps = {"live", "studio"};
  for (const char* app : {"live", "studio", "other"}) {
    fake_client c(cfg);
    connect_params p;
    p.app = app;
    p.tc_url = std::string("rtmp://127.0.0.1/") + app;
    ASSERT_FALSE(c.send_command(connect_command(1, p)));
    const bool known = std::string(app) != "other";
    ASSERT_FALSE(c.commands().empty());
    EXPECT_EQ(c.commands().back().name, known ? "onBWDone" : "_error") << app;
    EXPECT_EQ(c.session.close_requested(), !known) << app;
    if (!known) {
      auto info = read_status(c.commands().back());
      ASSERT_TRUE(info);
      EXPECT_EQ(info->code, "NetConnection.Connect.Rejected");
      for (const auto& ev : c.events) EXPECT_NE(ev.type, session_event::kind::connected);
    }
  }
}

// --- connect held for an on-connect callback ---------------------------------------

namespace {

server_session_config holding_connect() {
  server_session_config cfg;
  cfg.hold_connect = true;
  cfg.max_held_messages = 4;
  return cfg;
}

void pipeline_connect_create_stream_and_publish(fake_client& c) {
  connect_params p;
  p.app = "live";
  p.tc_url = "rtmp://127.0.0.1/live?pass=x";
  ASSERT_FALSE(c.send_command(connect_command(1, p)));
  ASSERT_FALSE(c.send_command(create_stream_command(2)));
  ASSERT_FALSE(c.send_command(publish_command(3, "cam"), 1));
}

}  // namespace

TEST(server_session, a_held_connect_is_answered_on_accept_and_what_came_meanwhile_follows) {
  fake_client c(holding_connect());
  pipeline_connect_create_stream_and_publish(c);
  ASSERT_EQ(c.events.size(), 1u);
  EXPECT_EQ(c.events[0].type, session_event::kind::connect_request);
  EXPECT_EQ(c.session.app(), "live");
  EXPECT_EQ(c.session.current_phase(), server_session::phase::connect_pending);
  EXPECT_TRUE(c.commands().empty()) << "nothing is answered before the decision";

  ASSERT_FALSE(c.session.accept_connect());
  ASSERT_FALSE(c.feed({}));
  const auto cmds = c.commands();
  ASSERT_GE(cmds.size(), 3u);
  EXPECT_EQ(cmds[0].name, "_result");
  EXPECT_EQ(cmds[0].transaction_id, 1);
  EXPECT_EQ(cmds[1].name, "onBWDone");
  EXPECT_EQ(cmds[2].name, "_result") << "createStream, held, is answered after the connect";
  EXPECT_EQ(cmds[2].transaction_id, 2);
  ASSERT_EQ(c.events.size(), 3u);
  EXPECT_EQ(c.events[1].type, session_event::kind::connected);
  EXPECT_EQ(c.events[2].type, session_event::kind::publish);
  EXPECT_EQ(c.events[2].name, "cam");
}

TEST(server_session, a_refused_held_connect_gets_rejected_and_nothing_held_runs) {
  fake_client c(holding_connect());
  pipeline_connect_create_stream_and_publish(c);
  c.session.reject_connect("Connecting to live needs authorization.");
  ASSERT_FALSE(c.feed({}));
  ASSERT_EQ(c.commands().size(), 1u);
  EXPECT_EQ(c.commands()[0].name, "_error");
  const auto info = read_status(c.commands()[0]);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->code, "NetConnection.Connect.Rejected");
  EXPECT_TRUE(c.session.close_requested());
  ASSERT_EQ(c.events.size(), 1u) << "no connected or publish event";
  c.session.accept_connect();  // too late: nothing happens
  ASSERT_FALSE(c.feed({}));
  EXPECT_EQ(c.commands().size(), 1u);
}

TEST(server_session, what_a_held_connect_keeps_is_bounded) {
  fake_client c(holding_connect());
  pipeline_connect_create_stream_and_publish(c);
  std::error_code ec;
  for (int i = 0; i < 8 && !ec; ++i) ec = c.send(6, 9, 1, {0x17, 0x01, 0, 0, 0});
  EXPECT_TRUE(ec) << "more messages than max_held_messages close the connection";
  EXPECT_EQ(c.session.current_phase(), server_session::phase::closed);
}

TEST(server_session, without_hold_connect_a_connect_is_answered_at_once) {
  fake_client c;
  c.connect_and_create_stream();
  ASSERT_FALSE(c.events.empty());
  EXPECT_EQ(c.events[0].type, session_event::kind::connected);
  for (const auto& ev : c.events) EXPECT_NE(ev.type, session_event::kind::connect_request);
}

// --- Enhanced RTMP connect negotiation --------------------------------------------

namespace {

// The connect command as ffmpeg and OBS send it, plus E-RTMP properties.
command enhanced_connect(const std::function<void(amf0::object&)>& add) {
  connect_params p;
  p.app = "live";
  p.tc_url = "rtmp://127.0.0.1/live";
  command c = connect_command(1, p);
  add(*c.command_object.as_object());
  return c;
}

const command* find_result(const std::vector<command>& cmds) {
  for (const auto& c : cmds) {
    if (c.name == "_result" && c.transaction_id == 1) return &c;
  }
  return nullptr;
}

TEST(server_session, legacy_connect_gets_the_legacy_result_only) {
  fake_client c;
  c.connect_and_create_stream();
  EXPECT_FALSE(c.session.peer_capabilities().enhanced);
  const auto cmds = c.commands();
  const command* result = find_result(cmds);
  ASSERT_NE(result, nullptr);
  // Exactly the properties of connect_result(): nothing E-RTMP added.
  EXPECT_EQ(result->command_object, amf0::value(connect_result(1).command_object));
}

TEST(server_session, v1_fourcc_list_is_recorded_and_answered) {
  fake_client c;
  ASSERT_FALSE(c.send_command(enhanced_connect([](amf0::object& o) {
    o.set("fourCcList", amf0::strict_array{"hvc1", "av01", "vp09", "*"});
  })));
  const auto& caps = c.session.peer_capabilities();
  EXPECT_TRUE(caps.enhanced);
  EXPECT_EQ(caps.fourcc_list, (std::vector<std::string>{"hvc1", "av01", "vp09", "*"}));
  EXPECT_FALSE(caps.has_caps_ex);

  const auto cmds = c.commands();
  const command* result = find_result(cmds);
  ASSERT_NE(result, nullptr);
  const amf0::value& props = result->command_object;
  // The legacy properties stay first and unchanged.
  EXPECT_EQ(props.get("fmsVer")->as_string(), default_fms_version);
  EXPECT_EQ(props.get("capabilities")->as_number(), 31);
  // Ours, in the properties object (v2 "Enhancing NetConnection connect Command").
  const amf0::value* video = props.get("videoFourCcInfoMap");
  ASSERT_NE(video, nullptr);
  ASSERT_TRUE(video->is_object());
  EXPECT_EQ(video->get("*")->as_number(), fourcc_info_mask::can_forward);
  EXPECT_EQ(video->get("hvc1")->as_number(), fourcc_info_mask::can_forward);
  EXPECT_EQ(video->get("av01")->as_number(), fourcc_info_mask::can_forward);
  EXPECT_EQ(video->get("vp09")->as_number(), fourcc_info_mask::can_forward);
  EXPECT_EQ(video->get("avc1")->as_number(), fourcc_info_mask::can_forward);
  const amf0::value* audio = props.get("audioFourCcInfoMap");
  ASSERT_NE(audio, nullptr);
  EXPECT_EQ(audio->get("Opus")->as_number(), fourcc_info_mask::can_forward);
  EXPECT_EQ(audio->get("mp4a")->as_number(), fourcc_info_mask::can_forward);
  ASSERT_NE(props.get("capsEx"), nullptr);
  EXPECT_EQ(props.get("capsEx")->as_number(), caps_ex_mask::multitrack | caps_ex_mask::mod_ex);
  // The information object is the usual one.
  auto info = read_status(*result);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->code, "NetConnection.Connect.Success");
}

TEST(server_session, v2_info_maps_and_caps_ex_are_recorded) {
  fake_client c;
  ASSERT_FALSE(c.send_command(enhanced_connect([](amf0::object& o) {
    o.set("videoFourCcInfoMap", amf0::object{{"*", 4}, {"hvc1", 3}});
    amf0::ecma_array audio;  // readers accept an ECMA Array too
    audio.push_back("Opus", 1);
    o.set("audioFourCcInfoMap", std::move(audio));
    o.set("capsEx", 0x0f);
  })));
  const auto& caps = c.session.peer_capabilities();
  EXPECT_TRUE(caps.enhanced);
  EXPECT_EQ(caps.video_fourcc_info, (std::vector<fourcc_info>{{"*", 4}, {"hvc1", 3}}));
  EXPECT_EQ(caps.audio_fourcc_info, (std::vector<fourcc_info>{{"Opus", 1}}));
  EXPECT_TRUE(caps.has_caps_ex);
  EXPECT_EQ(caps.caps_ex, 0x0fu);
  EXPECT_NE(find_result(c.commands())->command_object.get("capsEx"), nullptr);
}

TEST(server_session, enhanced_properties_of_wrong_types_are_ignored) {
  fake_client c;
  ASSERT_FALSE(c.send_command(enhanced_connect([](amf0::object& o) {
    o.set("fourCcList", "hvc1");                 // not a Strict Array
    o.set("videoFourCcInfoMap", 7);              // not an Object
    o.set("audioFourCcInfoMap", amf0::null);
    o.set("capsEx", "all");                      // not a number
  })));
  EXPECT_FALSE(c.session.peer_capabilities().enhanced);
  EXPECT_EQ(find_result(c.commands())->command_object, amf0::value(connect_result(1).command_object));

  fake_client d;
  ASSERT_FALSE(d.send_command(enhanced_connect([](amf0::object& o) {
    // Bad entries inside good containers are skipped one by one.
    o.set("fourCcList", amf0::strict_array{"hvc1", 12, "toolong", "", amf0::null, "av01"});
    o.set("videoFourCcInfoMap", amf0::object{{"hvc1", "x"}, {"av01", -1}, {"vp09", 1.5}, {"avc1", 4294967296.0},
                                             {"toolong", 1}, {"vp08", 4}});
    o.set("capsEx", -3);
  })));
  const auto& caps = d.session.peer_capabilities();
  EXPECT_TRUE(caps.enhanced);
  EXPECT_EQ(caps.fourcc_list, (std::vector<std::string>{"hvc1", "av01"}));
  EXPECT_EQ(caps.video_fourcc_info, (std::vector<fourcc_info>{{"vp08", 4}}));
  EXPECT_FALSE(caps.has_caps_ex);
}

TEST(server_session, enhanced_lists_are_capped) {
  fake_client c;
  ASSERT_FALSE(c.send_command(enhanced_connect([](amf0::object& o) {
    amf0::strict_array list;
    amf0::object map;
    for (int i = 0; i < 1000; ++i) {
      char cc[12];  // "%04d" of 0..999 is 4 characters; room for any int keeps -Wformat-truncation quiet
      std::snprintf(cc, sizeof cc, "%04d", i);
      list.push_back(std::string(cc));
      map.push_back(cc, 4);
    }
    o.set("fourCcList", std::move(list));
    o.set("videoFourCcInfoMap", std::move(map));
  })));
  const auto& caps = c.session.peer_capabilities();
  EXPECT_EQ(caps.fourcc_list.size(), max_fourcc_entries);
  EXPECT_EQ(caps.video_fourcc_info.size(), max_fourcc_entries);
  EXPECT_EQ(caps.fourcc_list.front(), "0000");
}

}  // namespace
