// Hostile-input battery: one test per case of
// /work/shared/HOSTILE-CASES.md (T-nn) that can run in a few seconds, against
// the real rtmp::net::server in-process on 127.0.0.1 (port 0, 2 workers).
//
// Every server-side test runs a healthy publisher (synthetic H.264/AAC-looking
// frames every 20 ms from a background thread) and a healthy player (reading
// in another thread) alongside the attack, then asserts that
//   1. the offending connection is closed, or its request refused;
//   2. the healthy player received media with no gap > 500 ms during the attack;
//   3. the server still accepts a new publish and a new play afterwards.
// Deadlines are shortened through server_config so that every wait is short
// and bounded. Byte strings use the catalogue's notation: BH(fmt,csid) is a
// basic header, MH0(ts,len,type,msid) an 11-byte type-0 message header (the
// message stream id little-endian).
//
// The last section turns the tables (T-04, T-14, T-43): a fake hostile server
// in a thread and `rtmp-client play` as a child process, which must exit
// non-zero with a message within its --timeout, never hang and never crash.
#include <gtest/gtest.h>

#include <linux/sockios.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "rtmp/net/server.hpp"
#include "rtmp/proto/command.hpp"
#include "rtmp/proto/control_message.hpp"
#include "rtmp/proto/handshake.hpp"
#include "rtmp/proto/server_session.hpp"
#include "support/bytes.hpp"
#include "support/client_io.hpp"
#include "support/counting_sink.hpp"
#include "support/fake_server.hpp"
#include "support/hostile_fixture.hpp"
#include "support/media.hpp"
#include "support/net.hpp"
#include "support/process.hpp"
#include "support/process_stats.hpp"
#include "support/raw_socket.hpp"
#include "support/test_client.hpp"
#include "support/wire_bytes.hpp"

namespace {

// Byte builders, sockets, readers and the fixture: tests/support/.
using namespace rtmp::test;
using namespace std::chrono_literals;
using bytes = std::vector<std::uint8_t>;
using clock_type = std::chrono::steady_clock;
using ms = std::chrono::milliseconds;
namespace proto = rtmp::proto;

using hostile = hostile_fixture;

// ================================================================================================
// A. Handshake and connection lifetime
// ================================================================================================

// T-01: C0C1 dripped one byte at a time (every 100 ms, well under the 500 ms
// deadline, so a per-read timer would never fire) is closed at the *total*
// handshake deadline.
TEST_F(hostile, t01_handshake_byte_drip_is_closed_at_the_total_deadline) {
  auto cfg = base_config();
  cfg.handshake_timeout = 500ms;
  start(cfg);
  const auto t0 = clock_type::now();
  raw_socket drip(server_.port());
  ASSERT_TRUE(drip.ok());
  bool closed = false;
  std::size_t sent = 0;
  while (!closed && clock_type::now() - t0 < 4s) {
    const bytes one{static_cast<std::uint8_t>(sent == 0 ? 3 : sent)};
    if (drip.send(one, 1s) != send_result::ok) {
      closed = true;
      break;
    }
    ++sent;
    closed = drip.closed_by_peer(100ms);
  }
  EXPECT_TRUE(closed) << "still open after " << ms_since(t0) << " ms and " << sent << " bytes";
  EXPECT_GE(ms_since(t0), 400);
  EXPECT_LT(ms_since(t0), 1500) << "closed late: deadline re-armed per byte?";
  expect_unaffected(t0);
}

// T-02: raw TCP with no bytes, C0 only, and a full handshake then silence:
// each is closed at its deadline (handshake, then negotiation).
TEST_F(hostile, t02_idle_sockets_are_closed_at_their_deadlines) {
  auto cfg = base_config();
  cfg.handshake_timeout = 500ms;
  cfg.negotiate_timeout = 500ms;
  start(cfg);
  const auto t0 = clock_type::now();
  raw_socket silent(server_.port()), c0_only(server_.port()), handshaken(server_.port());
  ASSERT_TRUE(silent.ok() && c0_only.ok() && handshaken.ok());
  ASSERT_EQ(c0_only.send({3}), send_result::ok);
  ASSERT_TRUE(handshaken.handshake());
  EXPECT_TRUE(silent.closed_by_peer(2500ms)) << "raw TCP without bytes still open";
  EXPECT_TRUE(c0_only.closed_by_peer(2500ms)) << "C0-only socket still open";
  EXPECT_TRUE(handshaken.closed_by_peer(2500ms)) << "handshaken-then-silent socket still open";
  EXPECT_GE(ms_since(t0), 400) << "closed before the deadline";
  EXPECT_LT(ms_since(t0), 2500);
  expect_unaffected(t0);
}

// T-03: a player whose kernel ACKs everything (we read it) but that never
// answers PingRequest is closed at the pong deadline. The healthy player
// answers pings (test_client does) and must stay.
TEST_F(hostile, t03_player_that_never_answers_pings_is_closed) {
  auto cfg = base_config();
  cfg.ping_interval = 300ms;
  cfg.pong_timeout = 500ms;
  start(cfg);
  quick_client mute(server_.port());
  ASSERT_EQ(mute.play("t03_nobody_publishes"), "NetStream.Play.Start");
  const auto t0 = clock_type::now();
  // Read (and drop) everything, pings included, but never send a byte.
  EXPECT_TRUE(mute.closed_by_peer(4s)) << "silent player still open after " << ms_since(t0) << " ms";
  EXPECT_GE(ms_since(t0), 600);
  expect_unaffected(t0);
}

// T-04: an unsupported C0 (RTMPE 0x06, 0xFF) closes at once, without waiting
// for the handshake deadline (3 s here).
TEST_F(hostile, t04_unsupported_version_closes_at_once) {
  auto cfg = base_config();
  cfg.handshake_timeout = 3000ms;
  start(cfg);
  const auto t0 = clock_type::now();
  for (const std::uint8_t version : {std::uint8_t{0x06}, std::uint8_t{0xFF}}) {
    raw_socket s(server_.port());
    ASSERT_TRUE(s.ok());
    bytes c0c1(1537, 0x42);
    c0c1[0] = version;
    s.send(c0c1);
    const auto t1 = clock_type::now();
    EXPECT_TRUE(s.closed_by_peer(2s)) << "C0 " << int(version);
    EXPECT_LT(ms_since(t1), 1000) << "C0 " << int(version) << " waited for the deadline";
  }
  expect_unaffected(t0);
}

// T-04: a 1535-byte C1 then EOF closes (EOF mid-phase), well before the deadline.
TEST_F(hostile, t04_short_c1_then_eof_is_closed) {
  auto cfg = base_config();
  cfg.handshake_timeout = 3000ms;
  start(cfg);
  const auto t0 = clock_type::now();
  raw_socket s(server_.port());
  ASSERT_TRUE(s.ok());
  bytes c0c1(1536, 0x42);
  c0c1[0] = 3;
  ASSERT_EQ(s.send(c0c1), send_result::ok);
  ::shutdown(s.fd(), SHUT_WR);
  EXPECT_TRUE(s.closed_by_peer(2s));
  EXPECT_LT(ms_since(t0), 1500);
  EXPECT_TRUE(wait_connections(2, 2s)) << connections() << " connections open";
  expect_unaffected(t0);
}

// T-04: a C2 that does not echo S1 is tolerated (lenient on C2 content).
TEST_F(hostile, t04_c2_that_does_not_echo_s1_is_tolerated) {
  start();
  const auto t0 = clock_type::now();
  quick_client c(server_.port(), /*do_handshake=*/false);
  bytes c0c1(1537, 0);
  c0c1[0] = 3;
  for (std::size_t i = 9; i < c0c1.size(); ++i) c0c1[i] = static_cast<std::uint8_t>(i);
  ASSERT_EQ(send_bounded(c, c0c1), send_result::ok);
  // S0 S1 S2, read exactly.
  bytes s(3073);
  std::size_t got = 0;
  while (got < s.size() && clock_type::now() - t0 < 3s) {
    pollfd p{c.socket().native_handle(), POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const ssize_t n = ::recv(c.socket().native_handle(), s.data() + got, s.size() - got, 0);
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  ASSERT_EQ(got, s.size());
  bytes garbage_c2(1536);
  std::mt19937 rng(4);
  for (auto& b : garbage_c2) b = static_cast<std::uint8_t>(rng());
  ASSERT_EQ(send_bounded(c, garbage_c2), send_result::ok);
  ASSERT_TRUE(connect_ok(c)) << "connect refused after a wrong C2";
  const auto id = c.create_stream();
  c.send_command(proto::publish_command(3, "t04_c2"), id);
  EXPECT_EQ(c.wait_status(), "NetStream.Publish.Start");
  expect_unaffected(t0);
}

// T-05: port scanners and protocol confusion: connect then RST, a TLS
// ClientHello and an HTTP request are closed cleanly, and their connection
// slots are released.
TEST_F(hostile, t05_scanner_and_protocol_confusion_traffic) {
  auto cfg = base_config();
  cfg.handshake_timeout = 3000ms;
  start(cfg);
  const auto t0 = clock_type::now();
  for (int i = 0; i < 20; ++i) {
    raw_socket s(server_.port());
    ASSERT_TRUE(s.ok());
    s.reset();
  }
  {
    raw_socket tls(server_.port());
    // TLS 1.0 record header, handshake type ClientHello, then some of its body.
    bytes hello{0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03};
    hello.resize(170, 0x00);
    tls.send(hello);
    const auto t1 = clock_type::now();
    EXPECT_TRUE(tls.closed_by_peer(2s)) << "TLS ClientHello";
    EXPECT_LT(ms_since(t1), 1000);
  }
  {
    raw_socket http(server_.port());
    const std::string get = "GET / HTTP/1.1\r\nHost: 127.0.0.1:1935\r\nUser-Agent: scanner\r\n\r\n";
    http.send(bytes(get.begin(), get.end()));
    const auto t1 = clock_type::now();
    EXPECT_TRUE(http.closed_by_peer(2s)) << "HTTP GET";
    EXPECT_LT(ms_since(t1), 1000);
  }
  // Only the healthy publisher and player remain.
  EXPECT_TRUE(wait_connections(2, 2s)) << connections() << " connections open";
  expect_unaffected(t0);
}

// ================================================================================================
// B. Chunk layer
// ================================================================================================

// T-06: Set Chunk Size 0, then a normal connect: closed, never answered.
TEST_F(hostile, t06_set_chunk_size_zero_closes) {
  start();
  const auto t0 = clock_type::now();
  quick_client c(server_.port());
  // BH(0,2) MH0(0,4,1,0) 00000000
  const bytes scs0 = concat({bh(0, 2), mh0(0, 4, 1, 0), be32(0)});
  ASSERT_EQ(scs0, (bytes{0x02, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0, 0, 0, 0, 0}));
  send_bounded(c, scs0);
  send_bounded(c, command_bytes(proto::connect_command(1, connect_params_for("live"))));
  EXPECT_FALSE(c.wait_command("_result", 1500ms)) << "connect answered after Set Chunk Size 0";
  EXPECT_TRUE(c.closed_by_peer(1500ms));
  expect_unaffected(t0);
}

// T-07: Set Chunk Size 0x7FFFFFFF is legal: accepted, nothing allocated from
// it, and the stream keeps working (here: a 100 KB keyframe in one chunk).
TEST_F(hostile, t07_set_chunk_size_max_is_accepted_and_allocates_nothing) {
  start();
  const auto t0 = clock_type::now();
  const auto rss0 = rss_bytes();
  quick_client viewer(server_.port());
  ASSERT_EQ(viewer.play("t07"), "NetStream.Play.Start");
  quick_client c(server_.port());
  send_bounded(c, set_chunk_size_bytes(0x7FFFFFFF));
  // From here every chunk is a whole message. connect is longer than 128
  // bytes, so it goes out as one chunk on its own chunk stream.
  send_bounded(c, command_bytes(proto::connect_command(1, connect_params_for("live")), 0, 8, 0x7FFFFFFF));
  ASSERT_TRUE(c.wait_command("_result", 2s)) << "connect not answered after Set Chunk Size 0x7FFFFFFF";
  const auto id = c.create_stream();  // short commands: one chunk at any size
  c.send_command(proto::publish_command(3, "t07"), id);
  ASSERT_EQ(c.wait_status(), "NetStream.Publish.Start");
  const bytes big = video_frame(true, 100'000, 0x77);
  send_bounded(c, message_bytes(9, 9, 40, id, short_avc_sequence_header(), 0x7FFFFFFF));
  send_bounded(c, message_bytes(9, 9, 80, id, big, 0x7FFFFFFF));
  const auto frames = only_video(read_until(viewer, video_tagged(0x77), 3s));
  ASSERT_FALSE(frames.empty()) << "the 100 KB keyframe never reached the player";
  EXPECT_EQ(frames[0].payload.size(), big.size());
  EXPECT_TRUE(std::equal(big.begin(), big.end(), frames[0].payload.span().begin()));
  EXPECT_LT(rss_bytes() - std::min(rss_bytes(), rss0), rss_bound);
  expect_unaffected(t0);
}

// T-08: Set Chunk Size with the top bit set (the field is 31 bits): closed.
TEST_F(hostile, t08_set_chunk_size_with_the_top_bit_closes) {
  start();
  const auto t0 = clock_type::now();
  for (const std::uint32_t v : {0x80000000u, 0x80001000u, 0xFFFFFFFFu}) {
    quick_client c(server_.port());
    send_bounded(c, set_chunk_size_bytes(v));
    send_bounded(c, command_bytes(proto::connect_command(1, connect_params_for("live"))));
    EXPECT_FALSE(c.wait_command("_result", 1500ms)) << std::hex << v;
    EXPECT_TRUE(c.closed_by_peer(1500ms)) << std::hex << v;
  }
  expect_unaffected(t0);
}

// T-09: Set Chunk Size 1 is refused by the default floor (128).
TEST_F(hostile, t09_set_chunk_size_one_is_refused_by_the_floor) {
  start();
  const auto t0 = clock_type::now();
  quick_client c(server_.port());
  ASSERT_TRUE(connect_ok(c));
  send_bounded(c, set_chunk_size_bytes(1));
  EXPECT_TRUE(c.closed_by_peer(1500ms));
  expect_unaffected(t0);
}

// T-09: with the floor lowered to 1, a 1 MiB video message in 1-byte chunks
// (a million chunk headers) is decoded without starving the other sessions.
TEST_F(hostile, t09_one_byte_chunks_do_not_starve_other_sessions) {
  auto cfg = base_config();
  cfg.session.chunk_limits.min_chunk_size = 1;
  start(cfg);
  quick_client viewer(server_.port());
  ASSERT_EQ(viewer.play("t09"), "NetStream.Play.Start");
  quick_client c(server_.port());
  const auto id = publish_on(c, "t09");
  send_bounded(c, set_chunk_size_bytes(1));
  const bytes big = video_frame(true, 1024 * 1024, 0x99);
  const bytes wire = message_bytes(6, 9, 40, id, big, 1);
  const auto t0 = clock_type::now();
  EXPECT_EQ(send_bounded(c, wire, 20s), send_result::ok);
  const auto frames = only_video(read_until(viewer, video_tagged(0x99), 10s));
  ASSERT_FALSE(frames.empty()) << "the 1 MiB message never arrived";
  EXPECT_EQ(frames[0].payload.size(), big.size());
  std::printf("[ info ] T-09: %zu bytes in 1-byte chunks sent and relayed in %lld ms\n", wire.size(), ms_since(t0));
  expect_unaffected(t0);
}

// T-10: an Abort naming the chunk stream it travels on (csid 2), then a fmt 1
// header on that stream: no use-after-free, the fmt 1 parses normally.
TEST_F(hostile, t10_abort_naming_the_chunk_stream_being_parsed) {
  start();
  const auto t0 = clock_type::now();
  quick_client c(server_.port());
  // 02 000000 000004 02 00000000 00000002, then 42 000000 000004 03 00000000
  const bytes abort_self{0x02, 0, 0, 0, 0, 0, 4, 0x02, 0, 0, 0, 0, 0, 0, 0, 2};
  const bytes fmt1_ack{0x42, 0, 0, 0, 0, 0, 4, 0x03, 0, 0, 0, 0};
  send_bounded(c, concat({abort_self, fmt1_ack}));
  ASSERT_TRUE(connect_ok(c)) << "connection unusable after the self-naming Abort";
  const auto id = c.create_stream();
  c.send_command(proto::publish_command(3, "t10"), id);
  EXPECT_EQ(c.wait_status(), "NetStream.Publish.Start");
  expect_unaffected(t0);
}

// T-11: Abort for csid 0, 1, 65600, 0xFFFFFFFF and an unused csid is ignored.
TEST_F(hostile, t11_abort_for_odd_chunk_streams_is_ignored) {
  start();
  const auto t0 = clock_type::now();
  quick_client c(server_.port());
  bytes wire;
  for (const std::uint32_t csid : {0u, 1u, 65600u, 0xFFFFFFFFu, 50u}) append(wire, control_bytes(2, be32(csid)));
  send_bounded(c, wire);
  EXPECT_TRUE(connect_ok(c)) << "connection unusable after Aborts for odd csids";
  expect_unaffected(t0);
}

// T-11: Abort with a 0..3 byte payload: closed cleanly or ignored, never an
// out-of-bounds read (ASan builds check the latter).
TEST_F(hostile, t11_short_abort_payload_is_closed_or_ignored) {
  start();
  const auto t0 = clock_type::now();
  for (std::size_t len = 0; len < 4; ++len) {
    quick_client c(server_.port());
    send_bounded(c, control_bytes(2, bytes(len, 0x03)));
    const bool closed = c.closed_by_peer(300ms);
    if (!closed) {
      EXPECT_TRUE(connect_ok(c)) << "len " << len << ": neither closed nor usable";
    }
    std::printf("[ info ] T-11: Abort with %zu payload bytes -> %s\n", len, closed ? "closed" : "ignored");
  }
  expect_unaffected(t0);
}

// T-12: Abort in the middle of a message, then a new fmt 0 message on the
// same chunk stream: the partial is dropped and the new message delivered.
TEST_F(hostile, t12_abort_mid_message_then_fmt0_delivers_the_new_message) {
  start();
  const auto t0 = clock_type::now();
  quick_client c(server_.port());
  const bytes connect = proto::encode_command(proto::connect_command(1, connect_params_for("live")));
  ASSERT_GT(connect.size(), 128u) << "connect must span two chunks for this test";
  const bytes whole = message_bytes(3, 20, 0, 0, connect);
  const bytes first_chunk(whole.begin(), whole.begin() + 12 + 128);
  send_bounded(c, first_chunk);
  send_bounded(c, control_bytes(2, be32(3)));  // Abort(csid 3)
  send_bounded(c, whole);
  EXPECT_TRUE(c.wait_command("_result", 2s)) << "the message after the Abort was not delivered";
  expect_unaffected(t0);
}

// T-13: a message length re-declared smaller mid-message by a fmt 1 header:
// closed at the fmt 1; memory stays bounded while the peer keeps sending.
TEST_F(hostile, t13_length_redeclared_smaller_closes_and_memory_stays_bounded) {
  start();
  const auto t0 = clock_type::now();
  const auto rss0 = rss_bytes();
  quick_client c(server_.port());
  send_bounded(c, set_chunk_size_bytes(65536));  // so that 64 KiB is one chunk
  const bytes block(65536, 0x5A);
  // 05 000000 030D40 09 01000000 <64 KiB>, then 45 000000 00000A 09 <64 KiB>
  send_bounded(c, concat({{0x05, 0, 0, 0, 0x03, 0x0D, 0x40, 0x09, 0x01, 0, 0, 0}, block}));
  send_bounded(c, concat({{0x45, 0, 0, 0, 0, 0, 0x0A, 0x09}, block}));
  const bool closed_at_fmt1 = c.closed_by_peer(1500ms);
  EXPECT_TRUE(closed_at_fmt1) << "still open after the re-declared length";
  // Then fmt 3 chunks of 64 KiB, repeated (300 of them: ~19 MiB), until refused.
  const bytes fmt3 = concat({{0xC5}, block});
  std::size_t sent = 0;
  for (int i = 0; i < 300; ++i, ++sent) {
    if (send_bounded(c, fmt3, 2s) != send_result::ok) break;
  }
  if (!closed_at_fmt1) {
    EXPECT_TRUE(c.closed_by_peer(1500ms)) << sent << " fmt 3 chunks accepted";
  }
  const auto growth = rss_bytes() - std::min(rss_bytes(), rss0);
  EXPECT_LT(growth, rss_bound) << "RSS grew by " << (growth >> 20) << " MiB";
  expect_unaffected(t0);
}

// T-15: a fmt 0 header for a new message while a partial one is open on that
// chunk stream: closed (never merged).
TEST_F(hostile, t15_fmt0_while_a_partial_message_is_open_closes) {
  start();
  const auto t0 = clock_type::now();
  quick_client c(server_.port());
  const bytes connect = proto::encode_command(proto::connect_command(1, connect_params_for("live")));
  ASSERT_GT(connect.size(), 128u);
  const bytes whole = message_bytes(3, 20, 0, 0, connect);
  const bytes first_chunk(whole.begin(), whole.begin() + 12 + 128);
  send_bounded(c, first_chunk);
  send_bounded(c, whole);  // a new fmt 0 on csid 3 while the first is half received
  EXPECT_FALSE(c.wait_command("_result", 1500ms)) << "the interrupted message was merged or ignored";
  EXPECT_TRUE(c.closed_by_peer(1500ms));
  expect_unaffected(t0);
}

// T-16: fmt 1 (and fmt 2) as the first header of a chunk stream is accepted
// with message stream id 0 (librtmp sends its ping that way); fmt 3 with no
// history is a protocol error.
TEST_F(hostile, t16_fmt1_first_is_accepted_fmt3_first_closes) {
  start();
  const auto t0 = clock_type::now();
  {
    quick_client c(server_.port());
    // 42 000000 000006 04 | 0006 00001234: PingRequest on a fresh csid 2 via fmt 1.
    send_bounded(c, concat({{0x42, 0, 0, 0, 0, 0, 6, 0x04}, {0x00, 0x06}, be32(0x1234)}));
    // 87 000000: fmt 2 first on csid 7 (an empty message of type 0: ignored).
    send_bounded(c, {0x87, 0, 0, 0});
    bool pong = false;
    const auto deadline = clock_type::now() + 2s;
    while (!pong && clock_type::now() < deadline) {
      auto m = c.next(100ms);
      if (m && m->type == 4 && m->payload.size() >= 6 && m->payload[1] == 7) {
        pong = m->payload[2] == 0 && m->payload[3] == 0 && m->payload[4] == 0x12 && m->payload[5] == 0x34;
      }
    }
    EXPECT_TRUE(pong) << "no PingResponse to a fmt 1 PingRequest";
    EXPECT_TRUE(connect_ok(c)) << "connection unusable after fmt 1/fmt 2 first headers";
  }
  {
    quick_client c(server_.port());
    send_bounded(c, concat({{0xC9}, bytes(16, 0x01)}));  // fmt 3 first on csid 9
    EXPECT_TRUE(c.closed_by_peer(1500ms)) << "fmt 3 without history accepted";
  }
  expect_unaffected(t0);
}

// T-17: basic headers at every boundary: csid 2, 63, 64 (00 00), 319 (00 FF),
// 320 (01 00 01), 65599 (01 FF FF), and 64 in the 3-byte form.
TEST_F(hostile, t17_basic_header_boundaries_are_mapped) {
  start();
  const auto t0 = clock_type::now();
  ASSERT_EQ(bh(0, 64), (bytes{0x00, 0x00}));
  ASSERT_EQ(bh(0, 319), (bytes{0x00, 0xFF}));
  ASSERT_EQ(bh(0, 320), (bytes{0x01, 0x00, 0x01}));
  ASSERT_EQ(bh(0, 65599), (bytes{0x01, 0xFF, 0xFF}));
  quick_client viewer(server_.port());
  ASSERT_EQ(viewer.play("t17"), "NetStream.Play.Start");
  quick_client c(server_.port());
  send_bounded(c, set_chunk_size_bytes(128));  // csid 2
  // connect (two chunks: the fmt 3 continuation uses the 2-byte form too).
  send_bounded(c, command_bytes(proto::connect_command(1, connect_params_for("live")), 0, 64));
  ASSERT_TRUE(c.wait_command("_result", 2s)) << "connect on csid 64 not answered";
  send_bounded(c, command_bytes(proto::create_stream_command(2), 0, 319));
  auto r = c.wait_command("_result", 2s);
  ASSERT_TRUE(r) << "createStream on csid 319 not answered";
  const auto id = static_cast<std::uint32_t>(proto::number_argument(*r, 0).value_or(0));
  send_bounded(c, command_bytes(proto::publish_command(3, "t17"), id, 320));
  ASSERT_EQ(c.wait_status(), "NetStream.Publish.Start") << "publish on csid 320";
  send_bounded(c, message_bytes(65599, 9, 0, id, video_frame(true, 300, 0xA1)));
  send_bounded(c, message_bytes(63, 8, 0, id, audio_frame(6, 0xA2)));
  send_bounded(c, message_bytes(64, 9, 40, id, video_frame(true, 300, 0xA3), 128, true, /*long form*/ true));
  const auto media = read_until(viewer, video_tagged(0xA3), 3s);
  std::set<std::uint8_t> tags;
  for (const auto& m : media) {
    if (is_media(m) && m.payload.size() >= 3) tags.insert(m.payload[2]);
  }
  EXPECT_TRUE(tags.count(0xA1)) << "video on csid 65599 lost";
  EXPECT_TRUE(tags.count(0xA2)) << "audio on csid 63 lost";
  EXPECT_TRUE(tags.count(0xA3)) << "video on csid 64 (3-byte form) lost";
  expect_unaffected(t0);
}

// T-18: 1,000 chunk streams each opening a 16 MB message with 128 bytes:
// closed at the open-stream cap or the partial-byte budget; memory bounded.
TEST_F(hostile, t18_many_open_chunk_streams_close_at_the_cap) {
  start();
  const auto t0 = clock_type::now();
  const auto rss0 = rss_bytes();
  const auto vm0 = vm_bytes();
  quick_client c(server_.port());
  bytes wire;
  for (std::uint32_t i = 0; i < 1000; ++i) {
    append(wire, bh(0, 64 + i));                // BH(0,64+i)
    append(wire, mh0(0, 0xFFFFFF, 9, 1));       // MH0(0,0xFFFFFF,9,1)
    append(wire, bytes(128, 0x18));             // <128 B>
  }
  send_bounded(c, wire, 3s);
  EXPECT_TRUE(c.closed_by_peer(1500ms)) << "1,000 open chunk streams accepted";
  const auto growth = rss_bytes() - std::min(rss_bytes(), rss0);
  EXPECT_LT(growth, rss_bound);
  std::printf("[ info ] T-18: RSS +%zu KiB, VmSize +%zu KiB\n", growth >> 10,
              (vm_bytes() - std::min(vm_bytes(), vm0)) >> 10);
  expect_unaffected(t0);
}

// T-19: a 16 MB command (type 20) or data (type 18) message is rejected on
// its header, before anything is buffered.
TEST_F(hostile, t19_huge_command_or_data_is_rejected_on_the_header) {
  start();
  const auto t0 = clock_type::now();
  const auto rss0 = rss_bytes();
  for (const std::uint8_t type : {std::uint8_t{20}, std::uint8_t{18}}) {
    quick_client c(server_.port());
    // BH(0,3) MH0(0,0xFFFFFF,type,0) + the first 128-byte chunk only.
    send_bounded(c, concat({bh(0, 3), mh0(0, 0xFFFFFF, type, 0), concat({amf_string("connect")}), bytes(118, 0)}));
    EXPECT_TRUE(c.closed_by_peer(1500ms)) << "type " << int(type) << ": 16 MB declared, still open";
  }
  EXPECT_LT(rss_bytes() - std::min(rss_bytes(), rss0), rss_bound);
  expect_unaffected(t0);
}

// T-20: zero-length and short control messages (types 1, 2, 3, 5 with 0-3
// bytes, type 4 with 0-5 bytes) and empty 8/9/18/20 messages: ignored or
// closed cleanly, never an out-of-bounds read.
TEST_F(hostile, t20_zero_length_and_short_control_messages) {
  start();
  const auto t0 = clock_type::now();
  struct probe {
    std::uint8_t type;
    std::size_t len;
    std::unique_ptr<quick_client> c;
  };
  std::vector<probe> probes;
  for (const std::uint8_t type : {1, 2, 3, 5}) {
    for (std::size_t len = 0; len < 4; ++len) probes.push_back({type, len, nullptr});
  }
  for (std::size_t len = 0; len < 6; ++len) probes.push_back({4, len, nullptr});
  for (const std::uint8_t type : {8, 9, 18, 20}) probes.push_back({type, 0, nullptr});
  for (auto& p : probes) {
    p.c = std::make_unique<quick_client>(server_.port());
    const std::uint32_t csid = p.type <= 6 ? 2 : 3;
    send_bounded(*p.c, message_bytes(csid, p.type, 0, 0, bytes(p.len, 0x00)));
  }
  std::this_thread::sleep_for(300ms);
  std::string summary;
  for (auto& p : probes) {
    const bool closed = p.c->closed_by_peer(20ms);
    if (!closed) {
      EXPECT_TRUE(connect_ok(*p.c)) << "type " << int(p.type) << " len " << p.len << ": neither closed nor usable";
    }
    summary += " " + std::to_string(p.type) + "/" + std::to_string(p.len) + (closed ? ":closed" : ":ignored");
  }
  std::printf("[ info ] T-20:%s\n", summary.c_str());
  expect_unaffected(t0);
}

// T-20: empty and 1-byte audio/video/data on a published stream reach the
// hub's classification code: no out-of-bounds read, the stream goes on.
TEST_F(hostile, t20_empty_and_short_media_on_a_published_stream) {
  start();
  const auto t0 = clock_type::now();
  quick_client viewer(server_.port());
  ASSERT_EQ(viewer.play("t20"), "NetStream.Play.Start");
  quick_client c(server_.port());
  const auto id = publish_on(c, "t20");
  bytes wire;
  append(wire, message_bytes(6, 9, 0, id, {}));
  append(wire, message_bytes(4, 8, 0, id, {}));
  append(wire, message_bytes(5, 18, 0, id, {}));
  append(wire, message_bytes(6, 9, 10, id, {0x17}));
  append(wire, message_bytes(4, 8, 10, id, {0xAF}));
  append(wire, message_bytes(6, 9, 20, id, {0x17, 0x00}));
  append(wire, message_bytes(6, 9, 30, id, {0x1C}));  // enhanced-RTMP bit with nothing after it
  append(wire, message_bytes(6, 9, 40, id, video_frame(true, 300, 0x20)));
  send_bounded(c, wire);
  const bool closed = c.closed_by_peer(200ms);
  if (!closed) {
    const auto frames = only_video(read_until(viewer, video_tagged(0x20), 2s));
    EXPECT_TRUE(std::any_of(frames.begin(), frames.end(), [](auto& m) { return m.payload.size() == 300; }))
        << "the keyframe after the short messages was lost";
  }
  std::printf("[ info ] T-20: publisher after empty media -> %s\n", closed ? "closed" : "kept");
  expect_unaffected(t0);
}

// T-21: extended timestamps in both dialects: fmt 3 continuations with (a)
// and (b) without the repeated 4-byte field; fmt 1 and fmt 2 deltas >=
// 0xFFFFFF; a fmt 3 new message that reuses an extended delta.
TEST_F(hostile, t21_extended_timestamps_in_both_dialects) {
  start();
  const auto t0 = clock_type::now();
  quick_client viewer(server_.port());
  ASSERT_EQ(viewer.play("t21"), "NetStream.Play.Start");
  quick_client c(server_.port());
  const auto id = publish_on(c, "t21");
  // Payload bytes after the first chunk are 0x55, never the extended value.
  bytes frame = video_frame(true, 300, 0x55);
  bytes wire;
  // (a) fmt 0, ts 0x01000000, continuations repeat the extended field.
  append(wire, message_bytes(6, 9, 0x01000000, id, frame, 128, true));
  // (b) fmt 0, ts 0x01000010, continuations omit it.
  append(wire, message_bytes(6, 9, 0x01000010, id, frame, 128, false));
  // (c) fmt 1, delta 0x01000000 (extended), length 300, continuations repeat it.
  append(wire, concat({{0x46, 0xFF, 0xFF, 0xFF, 0x00, 0x01, 0x2C, 0x09}, be32(0x01000000)}));
  append(wire, bytes(frame.begin(), frame.begin() + 128));
  append(wire, concat({{0xC6}, be32(0x01000000), bytes(frame.begin() + 128, frame.begin() + 256)}));
  append(wire, concat({{0xC6}, be32(0x01000000), bytes(frame.begin() + 256, frame.end())}));
  // (d) fmt 2, delta exactly 0xFFFFFF (extended), continuations omit it.
  append(wire, concat({{0x86, 0xFF, 0xFF, 0xFF}, be32(0x00FFFFFF)}));
  append(wire, bytes(frame.begin(), frame.begin() + 128));
  append(wire, concat({{0xC6}, bytes(frame.begin() + 128, frame.begin() + 256)}));
  append(wire, concat({{0xC6}, bytes(frame.begin() + 256, frame.end())}));
  // (e) fmt 3 starting a new message: the same delta again, field repeated.
  append(wire, concat({{0xC6}, be32(0x00FFFFFF), bytes(frame.begin(), frame.begin() + 128)}));
  append(wire, concat({{0xC6}, be32(0x00FFFFFF), bytes(frame.begin() + 128, frame.begin() + 256)}));
  append(wire, concat({{0xC6}, be32(0x00FFFFFF), bytes(frame.begin() + 256, frame.end())}));
  send_bounded(c, wire);
  const auto frames = only_video(read_until(viewer, nth_video(5), 3s));
  const std::vector<std::uint32_t> expected{0x01000000, 0x01000010, 0x02000010, 0x0300000F, 0x0400000E};
  ASSERT_EQ(frames.size(), expected.size()) << "messages lost or split";
  for (std::size_t i = 0; i < frames.size(); ++i) {
    EXPECT_EQ(frames[i].timestamp, expected[i]) << "message " << i;
    ASSERT_EQ(frames[i].payload.size(), frame.size()) << "message " << i;
    EXPECT_TRUE(std::equal(frame.begin(), frame.end(), frames[i].payload.span().begin())) << "message " << i;
  }
  EXPECT_FALSE(c.closed_by_peer(100ms));
  expect_unaffected(t0);
}

// T-22 (scaled: boundaries only, no soak): timestamps starting at 16,777,000,
// 2^31-5,000 and 2^32-5,000 cross 2^24, 2^31 and the 32-bit wrap; players
// receive them exactly (modulo 2^32), none dropped.
TEST_F(hostile, t22_timestamps_cross_the_wrap_boundaries) {
  start();
  const auto t0 = clock_type::now();
  const std::uint32_t starts[] = {16'777'000u, 0x80000000u - 5000u, 0u - 5000u};
  for (std::size_t s = 0; s < 3; ++s) {
    const std::string name = "t22_" + std::to_string(s);
    quick_client viewer(server_.port());
    ASSERT_EQ(viewer.play(name), "NetStream.Play.Start");
    quick_client c(server_.port());
    const auto id = publish_on(c, name);
    bytes wire = message_bytes(6, 9, starts[s], id, short_avc_sequence_header());
    std::vector<std::uint32_t> sent;
    for (std::uint32_t k = 0; k < 10; ++k) {
      const std::uint32_t ts = starts[s] + k * 1000;  // wraps modulo 2^32
      append(wire, message_bytes(6, 9, ts, id, k == 0 ? video_frame(true, 200, 0x22) : video_frame(false, 200, 0x22)));
      sent.push_back(ts);
    }
    send_bounded(c, wire);
    const auto frames = only_video(read_until(viewer, nth_video(10), 3s));
    ASSERT_EQ(frames.size(), sent.size()) << name;
    for (std::size_t i = 0; i < sent.size(); ++i) EXPECT_EQ(frames[i].timestamp, sent[i]) << name << " #" << i;
  }
  expect_unaffected(t0);
}

// Acknowledgements (type 3) received on `c` until it has been quiet for 300 ms.
std::vector<std::uint32_t> drain_acks(test_client& c, ms limit = 2s) {
  std::vector<std::uint32_t> acks;
  auto take = [&](const proto::message& m) {
    if (m.type == 3 && m.payload.size() >= 4) {
      acks.push_back((std::uint32_t{m.payload[0]} << 24) | (std::uint32_t{m.payload[1]} << 16) |
                     (std::uint32_t{m.payload[2]} << 8) | m.payload[3]);
    }
  };
  for (const auto& m : c.skipped) take(m);
  c.skipped.clear();
  const auto deadline = clock_type::now() + limit;
  while (clock_type::now() < deadline) {
    auto m = c.next(300ms);
    if (!m) break;
    take(*m);
  }
  return acks;
}

// T-23: Window Acknowledgement Size 0 (no ACKs), 1 (an ACK per read batch,
// the last one equal to every byte we sent) and 0xFFFFFFFF.
TEST_F(hostile, t23_window_ack_size_zero_one_and_max) {
  start();
  const auto t0 = clock_type::now();
  for (const std::uint32_t window : {0u, 1u, 0xFFFFFFFFu}) {
    quick_client c(server_.port());
    std::uint64_t total = 1537 + 1536;  // C0C1 + C2
    auto send = [&](const bytes& b) {
      total += b.size();
      send_bounded(c, b);
    };
    send(control_bytes(5, be32(window)));
    send(command_bytes(proto::connect_command(1, connect_params_for("live"))));
    ASSERT_TRUE(c.wait_command("_result", 2s));
    send(command_bytes(proto::create_stream_command(2)));
    auto r = c.wait_command("_result", 2s);
    ASSERT_TRUE(r);
    const auto id = static_cast<std::uint32_t>(proto::number_argument(*r, 0).value_or(0));
    send(command_bytes(proto::publish_command(3, "t23_" + std::to_string(window)), id));
    ASSERT_EQ(c.wait_status(), "NetStream.Publish.Start");
    for (std::uint32_t i = 0; i < 50; ++i) send(message_bytes(6, 9, i * 40, id, video_frame(true, 4000, 0x23)));
    const auto acks = drain_acks(c);
    if (window == 1) {
      ASSERT_FALSE(acks.empty()) << "window 1: no acknowledgement";
      EXPECT_TRUE(std::is_sorted(acks.begin(), acks.end()));
      EXPECT_EQ(acks.back(), static_cast<std::uint32_t>(total)) << "window 1: last ACK is not the byte count";
      EXPECT_LE(acks.size(), 60u) << "more than one ACK per read batch?";
    } else {
      EXPECT_TRUE(acks.empty()) << "window " << window << ": " << acks.size() << " ACKs";
    }
    EXPECT_FALSE(c.closed_by_peer(50ms)) << "window " << window;
  }
  expect_unaffected(t0);
}

// T-23: more than 4 GiB on one connection: the ACK sequence number wraps
// modulo 2^32 and ACKs continue. Several seconds of loopback traffic, so
// only with RTMP_HOSTILE_LONG=1.
TEST_F(hostile, t23_more_than_4_gib_on_one_connection) {
  if (std::getenv("RTMP_HOSTILE_LONG") == nullptr) GTEST_SKIP() << "set RTMP_HOSTILE_LONG=1 (sends 4.3 GiB)";
  start();
  const auto t0 = clock_type::now();
  quick_client c(server_.port());
  std::uint64_t total = 1537 + 1536;
  auto send = [&](const bytes& b) {
    total += b.size();
    return send_bounded(c, b, 10s);
  };
  send(control_bytes(5, be32(0x40000000)));  // an ACK every GiB
  send(set_chunk_size_bytes(0x7FFFFFFF));
  const bytes block = message_bytes(6, 9, 0, 1, bytes(8 << 20, 0x27), 0x7FFFFFFF);  // ignored: no publish
  while (total < (std::uint64_t{4} << 30) + (std::uint64_t{300} << 20)) {
    ASSERT_EQ(send(block), send_result::ok);
  }
  const auto acks = drain_acks(c, 5s);
  ASSERT_GE(acks.size(), 4u);
  EXPECT_LT(acks.back(), acks[acks.size() - 2]) << "the sequence number did not wrap";
  EXPECT_FALSE(c.closed_by_peer(50ms));
  expect_unaffected(t0);
}

// ================================================================================================
// C. AMF / command layer
// ================================================================================================

// T-24: a valid connect truncated at every prefix length, and the minimal
// crasher 02 0007 'connect' 00 3FF000: `_error` or close, never Success.
TEST_F(hostile, t24_truncated_connect_at_every_prefix_length) {
  start();
  const auto t0 = clock_type::now();
  const bytes full = proto::encode_command(proto::connect_command(1, connect_params_for("live")));
  std::vector<bytes> payloads{concat({amf_string("connect"), {0x00, 0x3F, 0xF0, 0x00}})};
  for (std::size_t k = 1; k < full.size(); ++k) payloads.emplace_back(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(k));
  std::size_t errors = 0;
  for (std::size_t i = 0; i < payloads.size(); ++i) {
    quick_client c(server_.port());
    send_bounded(c, message_bytes(3, 20, 0, 0, payloads[i]));
    auto reply = c.wait_command("_result", 1500ms);
    EXPECT_FALSE(reply) << "prefix " << payloads[i].size() << " got _result";
    EXPECT_TRUE(c.closed_by_peer(1500ms)) << "prefix " << payloads[i].size() << " left open";
    for (const auto& cmd : c.seen_commands) errors += cmd.name == "_error";
  }
  std::printf("[ info ] T-24: %zu prefixes, %zu answered with _error, the rest closed\n", payloads.size(), errors);
  expect_unaffected(t0);
}

// Nested AMF for T-25 (N levels).
bytes nested_objects(std::size_t n) {
  // 03 (0001 'a' 03)xN 0001 'a' 05 (000009)x(N+1)
  return concat({{0x03}, repeat({0x00, 0x01, 'a', 0x03}, n), {0x00, 0x01, 'a', 0x05}, repeat(amf_end, n + 1)});
}
bytes nested_ecma(std::size_t n) {
  return concat({{0x08, 0, 0, 0, 1}, repeat({0x00, 0x01, 'a', 0x08, 0, 0, 0, 1}, n), {0x00, 0x01, 'a', 0x05},
                 repeat(amf_end, n + 1)});
}
bytes nested_strict(std::size_t n) { return concat({{0x0A, 0, 0, 0, 1}, repeat({0x0A, 0, 0, 0, 1}, n), {0x05}}); }
bytes nested_amf3(std::size_t n) { return concat({{0x11}, repeat({0x09, 0x03, 0x01}, n), {0x01}}); }

// T-25: deep nesting (objects, ECMA arrays, strict arrays, AMF3) at N = 100,
// 5k, 20k, 40k, 140k in connect: rejected with a clean close, no stack growth.
TEST_F(hostile, t25_deeply_nested_connect_is_rejected) {
  start();
  const auto t0 = clock_type::now();
  const std::vector<std::pair<const char*, std::function<bytes(std::size_t)>>> kinds{
      {"object", nested_objects}, {"ecma", nested_ecma}, {"strict", nested_strict}, {"amf3", nested_amf3}};
  for (const auto& [kind, build] : kinds) {
    for (const std::size_t n : {100u, 5000u, 20000u, 40000u, 140000u}) {
      quick_client c(server_.port());
      send_bounded(c, message_bytes(3, 20, 0, 0, concat({connect_head(), build(n)})), 5s);
      EXPECT_FALSE(c.wait_command("_result", 2s)) << kind << " x" << n << " accepted";
      EXPECT_TRUE(c.closed_by_peer(2s)) << kind << " x" << n << " left open";
    }
  }
  expect_unaffected(t0);
}

// T-25: the same inside @setDataFrame/onMetaData (type 18) from a publisher.
TEST_F(hostile, t25_deeply_nested_metadata_is_rejected) {
  start();
  const auto t0 = clock_type::now();
  const std::vector<std::pair<const char*, std::function<bytes(std::size_t)>>> kinds{
      {"object", nested_objects}, {"ecma", nested_ecma}, {"strict", nested_strict}, {"amf3", nested_amf3}};
  int k = 0;
  for (const auto& [kind, build] : kinds) {
    for (const std::size_t n : {100u, 5000u, 40000u}) {
      for (const bool wrapped : {true, false}) {
        quick_client c(server_.port());
        const auto id = publish_on(c, "t25_" + std::to_string(k++));
        const bytes head =
            wrapped ? concat({amf_string("@setDataFrame"), amf_string("onMetaData")}) : amf_string("onMetaData");
        send_bounded(c, message_bytes(5, 18, 0, id, concat({head, build(n)})), 5s);
        EXPECT_TRUE(c.closed_by_peer(2s)) << kind << " x" << n << (wrapped ? " @setDataFrame" : " onMetaData");
      }
    }
  }
  expect_unaffected(t0);
}

// T-26: huge declared counts and lengths: nothing is allocated from a count;
// the decoder fails fast when the bytes are not there.
TEST_F(hostile, t26_huge_declared_counts_and_lengths) {
  start();
  const auto t0 = clock_type::now();
  const auto rss0 = rss_bytes();
  const std::vector<std::pair<const char*, bytes>> in_connect{
      {"strict array 0A FFFFFFFF 05", concat({connect_head(), {0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x05}})},
      {"ECMA 08 FFFFFFFF 000009", concat({connect_head(), {0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x09}})},
      {"long string 0C FFFFFFFF 41", concat({connect_head(), {0x0C, 0xFF, 0xFF, 0xFF, 0xFF, 0x41}})},
      {"short string 02 FFFF 'connect'", concat({{0x02, 0xFF, 0xFF}, bytes{'c', 'o', 'n', 'n', 'e', 'c', 't'}})},
      {"AMF3 array count 2^28", concat({connect_head(), {0x11, 0x09, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}})},
      {"AMF3 vector count 2^28", concat({connect_head(), {0x11, 0x0D, 0xFF, 0xFF, 0xFF, 0xFF, 0x00}})},
      {"AMF3 dictionary count 2^28", concat({connect_head(), {0x11, 0x11, 0xFF, 0xFF, 0xFF, 0xFF, 0x00}})},
      {"AMF3 class with 2^26 members", concat({connect_head(), {0x11, 0x0A, 0xFF, 0xFF, 0xFF, 0xF3, 0x01}})},
  };
  for (const auto& [what, payload] : in_connect) {
    quick_client c(server_.port());
    send_bounded(c, message_bytes(3, 20, 0, 0, payload));
    EXPECT_FALSE(c.wait_command("_result", 1500ms)) << what;
    EXPECT_TRUE(c.closed_by_peer(1500ms)) << what;
  }
  // In metadata from a publisher. An ECMA count of 0xFFFFFFFF followed by the
  // end marker is a valid empty array (the count is only a hint).
  const std::vector<std::pair<const char*, bytes>> in_metadata{
      {"strict array", {0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x05}},
      {"ECMA array", {0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x09}},
      {"long string", {0x0C, 0xFF, 0xFF, 0xFF, 0xFF, 0x41}},
  };
  int k = 0;
  for (const auto& [what, value] : in_metadata) {
    quick_client c(server_.port());
    const auto id = publish_on(c, "t26_" + std::to_string(k++));
    send_bounded(c,
                 message_bytes(5, 18, 0, id, concat({amf_string("@setDataFrame"), amf_string("onMetaData"), value})));
    const bool closed = c.closed_by_peer(500ms);
    std::printf("[ info ] T-26: metadata with %s -> %s\n", what, closed ? "closed" : "accepted");
  }
  EXPECT_LT(rss_bytes() - std::min(rss_bytes(), rss0), rss_bound);
  expect_unaffected(t0);
}

// Sends a hand-built command payload on `msid` and returns the reply (see wait_reply).
std::string raw_command_reply(test_client& c, const bytes& payload, std::uint32_t msid = 0, ms timeout = 1500ms) {
  send_bounded(c, message_bytes(3, 20, 0, msid, payload));
  return wait_reply(c, timeout);
}

// T-27: wrong argument types in commands: coerced or refused, never a crash;
// two leading numbers before @setDataFrame are tolerated.
TEST_F(hostile, t27_wrong_argument_types) {
  start();
  const auto t0 = clock_type::now();
  auto stream_of = [&](test_client& c) {
    c.connect();
    return c.create_stream();
  };
  {  // publish(false)
    quick_client c(server_.port());
    const auto id = stream_of(c);
    const auto r = raw_command_reply(c, concat({amf_string("publish"), amf_number(3), amf_null, {0x01, 0x00}}), id);
    EXPECT_TRUE(r == "NetStream.Publish.BadName" || r == "_error") << "publish(false): " << r;
  }
  {  // play(123)
    quick_client c(server_.port());
    const auto id = stream_of(c);
    const auto r = raw_command_reply(c, concat({amf_string("play"), amf_number(3), amf_null, amf_number(123)}), id);
    EXPECT_TRUE(r == "NetStream.Play.StreamNotFound" || r == "NetStream.Play.Failed" || r == "_error") << "play(123): " << r;
  }
  {  // publish() without its name
    quick_client c(server_.port());
    const auto id = stream_of(c);
    const auto r = raw_command_reply(c, concat({amf_string("publish"), amf_number(3), amf_null}), id);
    EXPECT_TRUE(r == "NetStream.Publish.BadName" || r == "_error") << "publish(): " << r;
  }
  {  // transaction id as a string: coerced, refused or closed; never Success without a usable state.
    quick_client c(server_.port());
    const auto r = raw_command_reply(c, concat({amf_string("connect"), amf_string("1"), connect_object("live")}));
    std::printf("[ info ] T-27: connect with a string transaction id -> '%s'\n", r.c_str());
  }
  for (const auto& [what, object] : std::vector<std::pair<const char*, bytes>>{{"null", amf_null}, {"number", amf_number(7)}}) {
    quick_client c(server_.port());  // connect whose command object is null / a number
    const auto r = raw_command_reply(c, concat({connect_head(), object}));
    EXPECT_TRUE(r == "_error" || r.empty()) << "connect with a " << what << " command object: " << r;
  }
  {  // FCUnpublish(obj), createStream with a number as command object and extra arguments, deleteStream()
    quick_client c(server_.port());
    c.connect();
    send_bounded(c, message_bytes(3, 20, 0, 0,
                                  concat({amf_string("FCUnpublish"), amf_number(5), amf_null,
                                          {0x03}, amf_key("a"), amf_null, amf_end})));
    send_bounded(c, message_bytes(3, 20, 0, 0, concat({amf_string("deleteStream"), amf_number(6), amf_null})));
    const auto r = raw_command_reply(
        c, concat({amf_string("createStream"), amf_number(7), amf_number(5), amf_number(1), amf_string("x"),
                   {0x03}, amf_key("k"), amf_null, amf_end}));
    EXPECT_EQ(r, "_result") << "createStream with odd arguments after FCUnpublish(obj)";
  }
  {  // two leading numbers before @setDataFrame: tolerated, players get onMetaData
    quick_client c(server_.port());
    const auto id = publish_on(c, "t27");
    bytes meta = concat({amf_number(0), amf_number(0), amf_string("@setDataFrame"), amf_string("onMetaData"),
                         {0x08, 0, 0, 0, 1}, amf_key("width"), amf_number(320), amf_end});
    send_bounded(c, message_bytes(5, 18, 0, id, meta));
    send_bounded(c, message_bytes(6, 9, 0, id, video_frame(true, 300, 0x27)));
    EXPECT_FALSE(c.closed_by_peer(200ms)) << "publisher closed for a two-number prefix";
    quick_client viewer(server_.port());
    ASSERT_EQ(viewer.play("t27"), "NetStream.Play.Start");
    const auto media = read_until(viewer, video_tagged(0x27), 2s);
    const auto m = std::find_if(media.begin(), media.end(), [](const proto::message& x) {
      const std::string s(x.payload.span().begin(), x.payload.span().end());
      return x.type == 18 && s.find("onMetaData") != std::string::npos && s.find("width") != std::string::npos;
    });
    EXPECT_NE(m, media.end()) << "metadata after a two-number prefix was not relayed";
  }
  expect_unaffected(t0);
}

// T-28: AMF3 and typed objects: a typed object is a plain map (connect
// works), out-of-range references and AMF3 switches are rejected.
TEST_F(hostile, t28_amf3_references_and_typed_objects) {
  start();
  const auto t0 = clock_type::now();
  {  // Typed object "java.lang.Runtime" as the command object: just a map.
    quick_client c(server_.port());
    const bytes typed = concat({{0x10}, amf_key("java.lang.Runtime"), amf_key("app"), amf_string("live"),
                                amf_key("tcUrl"), amf_string("rtmp://127.0.0.1/live"), amf_end});
    EXPECT_EQ(raw_command_reply(c, concat({connect_head(), typed})), "_result") << "typed object refused";
    const auto id = c.create_stream();
    c.send_command(proto::publish_command(3, "t28"), id);
    EXPECT_EQ(c.wait_status(), "NetStream.Publish.Start");
  }
  const std::vector<std::pair<const char*, bytes>> refused{
      {"AMF0 reference 07 FFFF", concat({connect_head(), {0x07, 0xFF, 0xFF}})},
      {"AMF0 reference inside an object",
       concat({connect_head(), {0x03}, amf_key("app"), {0x07, 0x00, 0x05}, amf_end})},
      {"AMF3 switch in type 20", concat({connect_head(), {0x11, 0x0A, 0x0B, 0x01, 0x01}})},
      {"AMF3 string reference 7", concat({connect_head(), {0x11, 0x06, 0x0E}})},
      {"AMF3 object reference 100", concat({connect_head(), {0x11, 0x0A, 0xC8, 0x01}})},
  };
  for (const auto& [what, payload] : refused) {
    quick_client c(server_.port());
    send_bounded(c, message_bytes(3, 20, 0, 0, payload));
    EXPECT_FALSE(c.wait_command("_result", 1500ms)) << what;
    EXPECT_TRUE(c.closed_by_peer(1500ms)) << what;
  }
  {  // Type 17 with an AMF3 value inside.
    quick_client c(server_.port());
    send_bounded(c, message_bytes(3, 17, 0, 0, concat({{0x00}, connect_head(), {0x11, 0x0A, 0x07}})));
    EXPECT_FALSE(c.wait_command("_result", 1500ms)) << "type 17 with AMF3 references";
    EXPECT_TRUE(c.closed_by_peer(1500ms));
  }
  {  // Type 17 with plain AMF0 inside (format byte 0): a normal connect.
    quick_client c(server_.port());
    send_bounded(c, message_bytes(3, 17, 0, 0, concat({{0x00}, connect_head(), connect_object("live")})));
    EXPECT_TRUE(c.wait_command("_result", 1500ms)) << "type 17 connect refused";
  }
  {  // Type 15 (AMF3 data) with AMF3 references from a publisher.
    quick_client c(server_.port());
    const auto id = publish_on(c, "t28_data");
    send_bounded(c, message_bytes(5, 15, 0, id, concat({{0x00}, amf_string("onMetaData"), {0x11, 0x0A, 0x07}})));
    const bool closed = c.closed_by_peer(500ms);
    std::printf("[ info ] T-28: type 15 with AMF3 references -> %s\n", closed ? "closed" : "ignored");
  }
  expect_unaffected(t0);
}

// T-29: 1,000 createStream before publish: capped (8), the rest refused with
// _error; 1,000 releaseStream/FCPublish: answered, nothing grows; publishing
// afterwards works.
TEST_F(hostile, t29_create_stream_and_helper_floods_are_capped) {
  start();
  const auto t0 = clock_type::now();
  quick_client c(server_.port());
  c.connect();
  bytes wire;
  for (int i = 0; i < 1000; ++i) append(wire, command_bytes(proto::create_stream_command(10 + i)));
  ASSERT_EQ(send_bounded(c, wire, 5s), send_result::ok);
  std::size_t results = 0, errors = 0;
  std::uint32_t first_id = 0;
  const auto deadline = clock_type::now() + 5s;
  while (results + errors < 1000 && clock_type::now() < deadline) {
    auto m = c.next(200ms);
    if (!m) continue;
    if (m->type != 20) continue;
    auto r = proto::parse_command(m->payload.span());
    if (!r.ok()) continue;
    if (r.cmd.name == "_result") {
      if (results++ == 0) first_id = static_cast<std::uint32_t>(proto::number_argument(r.cmd, 0).value_or(0));
    } else if (r.cmd.name == "_error") {
      ++errors;
    }
  }
  EXPECT_LE(results, 8u) << "stream ids are not capped";
  EXPECT_GE(results, 1u);
  EXPECT_EQ(results + errors, 1000u) << "every createStream deserves an answer";
  wire.clear();
  for (int i = 0; i < 1000; ++i) {
    append(wire, command_bytes(proto::release_stream_command(2000 + i, "t29")));
    append(wire, command_bytes(proto::fc_publish_command(4000 + i, "t29")));
  }
  ASSERT_EQ(send_bounded(c, wire, 5s), send_result::ok);
  c.send_command(proto::publish_command(3, "t29"), first_id);
  EXPECT_EQ(c.wait_status(5s), "NetStream.Publish.Start") << "publish after the floods";
  expect_unaffected(t0);
}

// T-30: out-of-order and unknown commands and messages: ignored or `_error`,
// the connection stays usable.
TEST_F(hostile, t30_out_of_order_and_unknown_commands) {
  start();
  const auto t0 = clock_type::now();
  quick_client c(server_.port());
  // publish / play before connect.
  EXPECT_EQ(raw_command_reply(c, proto::encode_command(proto::publish_command(5, "x")), 1), "_error");
  EXPECT_EQ(raw_command_reply(c, proto::encode_command(proto::play_command(6, "x")), 1), "_error");
  c.connect();
  // play on a message stream never created.
  EXPECT_EQ(raw_command_reply(c, proto::encode_command(proto::play_command(7, "x")), 77), "_error");
  bytes wire;
  append(wire, command_bytes(proto::delete_stream_command(0, 999)));
  append(wire, command_bytes(proto::close_stream_command(0), 1));
  append(wire, command_bytes(proto::close_stream_command(0), 1));
  append(wire, command_bytes(proto::on_status("status", "NetStream.Play.Start", "client-only"), 0));
  append(wire, command_bytes(proto::create_stream_result(1, 5), 0));
  // Media and data on msid 0 and on an unknown msid.
  for (const std::uint32_t msid : {0u, 55u}) {
    append(wire, message_bytes(4, 8, 0, msid, audio_frame(6, 0x30)));
    append(wire, message_bytes(6, 9, 0, msid, video_frame(true, 300, 0x30)));
    append(wire, message_bytes(5, 18, 0, msid, proto::on_metadata_message(proto::amf0::ecma_array{})));
  }
  // Unknown message types 0, 7, 23..255.
  for (unsigned type = 0; type < 256; ++type) {
    if (type != 0 && type != 7 && type < 23) continue;
    append(wire, message_bytes(7, static_cast<std::uint8_t>(type), 0, 0, {1, 2, 3, 4}));
  }
  send_bounded(c, wire);
  EXPECT_FALSE(c.closed_by_peer(200ms)) << "closed for ignorable input";
  const auto id = c.create_stream();
  c.send_command(proto::publish_command(3, "t30"), id);
  EXPECT_EQ(c.wait_status(), "NetStream.Publish.Start");
  expect_unaffected(t0);
}

// T-31: hostile app and stream names are refused by the whitelist, and the
// refused connection is closed; a "?vhost=" query does not change the key.
TEST_F(hostile, t31_hostile_names) {
  start();
  const auto t0 = clock_type::now();
  const std::string long_name(65000, 'a');
  const std::vector<std::string> bad_apps{"../etc",   "live/../x",  std::string("live\0x", 6), "live%00",
                                          "li\r\nve", "`id`",       "$(reboot)",               long_name,
                                          "\xff\xfe", "live?vhost=evil"};
  for (const auto& app : bad_apps) {
    quick_client c(server_.port());
    const auto r = raw_command_reply(c, concat({connect_head(), connect_object(app)}));
    EXPECT_NE(r, "_result") << "app '" << app.substr(0, 40) << "' accepted";
    EXPECT_TRUE(c.closed_by_peer(1500ms)) << "app '" << app.substr(0, 40) << "' left open";
  }
  const std::vector<std::string> bad_streams{"../x", "a/b",  std::string("x\0y", 3), "x%00y", "x\r\ny", "`id`",
                                             "$(id)", "",    long_name,              "\xc3\x28", "..",   "x y"};
  for (const bool play : {false, true}) {
    for (const auto& name : bad_streams) {
      quick_client c(server_.port());
      c.connect();
      const auto id = c.create_stream();
      const auto r = raw_command_reply(
          c, proto::encode_command(play ? proto::play_command(3, name) : proto::publish_command(3, name)), id);
      EXPECT_TRUE(r == (play ? "NetStream.Play.StreamNotFound" : "NetStream.Publish.BadName") || r == "_error")
          << (play ? "play" : "publish") << " '" << name.substr(0, 40) << "': " << r;
      EXPECT_TRUE(c.closed_by_peer(1500ms)) << (play ? "play" : "publish") << " '" << name.substr(0, 40) << "' left open";
    }
  }
  {  // The query is not part of the key: publishing t31?vhost=other feeds t31.
    quick_client viewer(server_.port());
    ASSERT_EQ(viewer.play("t31"), "NetStream.Play.Start");
    quick_client c(server_.port());
    const auto id = publish_on(c, "t31?vhost=other");
    send_bounded(c, message_bytes(6, 9, 0, id, video_frame(true, 300, 0x31)));
    EXPECT_FALSE(only_video(read_until(viewer, video_tagged(0x31), 2s)).empty());
  }
  expect_unaffected(t0);
}

// ================================================================================================
// D. Session policy
// ================================================================================================

// T-32: a second publisher on a busy key (anonymous, another token, the same
// token) gets NetStream.Publish.BadName and is disconnected, repeatedly; the
// first publisher is unaffected.
TEST_F(hostile, t32_same_name_publish_is_refused_and_disconnected) {
  start();
  const auto t0 = clock_type::now();
  for (int i = 0; i < 20; ++i) {
    const std::string name = i % 3 == 0 ? "healthy" : i % 3 == 1 ? "healthy?token=other" : "healthy?token=same";
    quick_client b(server_.port());
    EXPECT_EQ(b.publish(name), "NetStream.Publish.BadName") << name;
    EXPECT_TRUE(b.closed_by_peer(1500ms)) << name << ": the refused publisher stays connected";
  }
  expect_unaffected(t0);
}

// T-33 (in-process stand-in for iptables DROP): a publisher that goes silent
// without FIN frees its key at the idle timeout; a new publisher is accepted
// and the player resumes without reconnecting.
TEST_F(hostile, t33_silent_publisher_frees_its_key_at_the_idle_timeout) {
  auto cfg = base_config();
  cfg.idle_timeout = 1000ms;
  start(cfg);
  const auto t0 = clock_type::now();
  quick_client viewer(server_.port());
  ASSERT_EQ(viewer.play("t33"), "NetStream.Play.Start");
  auto a = std::make_unique<quick_client>(server_.port());
  const auto id = publish_on(*a, "t33");
  send_bounded(*a, message_bytes(6, 9, 0, id, video_frame(true, 300, 0xA0)));
  ASSERT_FALSE(only_video(read_until(viewer, video_tagged(0xA0), 2s)).empty());
  const auto silent_since = clock_type::now();  // A sends nothing more
  {
    quick_client b(server_.port());
    EXPECT_EQ(b.publish("t33"), "NetStream.Publish.BadName");
  }
  EXPECT_TRUE(a->closed_by_peer(3s)) << "the silent publisher was never dropped";
  quick_client b2(server_.port());
  const auto id2 = publish_on(b2, "t33");
  EXPECT_LT(ms_since(silent_since), 2500) << "the key stayed busy too long";
  send_bounded(b2, message_bytes(6, 9, 0, id2, short_avc_sequence_header()));
  send_bounded(b2, message_bytes(6, 9, 40, id2, video_frame(true, 300, 0xB2)));
  const auto frames = only_video(read_until(viewer, video_tagged(0xB2), 3s));
  EXPECT_TRUE(std::any_of(frames.begin(), frames.end(), [](auto& m) { return m.payload[2] == 0xB2; }))
      << "the player did not resume with the new publisher";
  expect_unaffected(t0);
}

// T-34: nothing from a publisher is relayed before the decision. A publisher
// pipelines publish(busy key) and media in one write: it is refused, and none
// of its frames reaches the players of that key.
TEST_F(hostile, t34_media_of_a_refused_publisher_is_never_relayed) {
  start();
  const auto t0 = clock_type::now();
  quick_client b(server_.port());
  b.connect();
  const auto id = b.create_stream();
  bytes wire = command_bytes(proto::publish_command(3, "healthy"), id);
  for (std::uint32_t i = 0; i < 10; ++i) append(wire, message_bytes(6, 9, i * 40, id, video_frame(true, 500, 0xEE)));
  append(wire, message_bytes(4, 8, 0, id, audio_frame(6, 0xEE)));
  send_bounded(b, wire);
  EXPECT_EQ(b.wait_status(), "NetStream.Publish.BadName");
  EXPECT_TRUE(b.closed_by_peer(1500ms));
  std::this_thread::sleep_for(200ms);
  EXPECT_FALSE(saw_tag(0xEE)) << "media of a refused publisher reached a player";
  expect_unaffected(t0);
}

// ================================================================================================
// E. Resource exhaustion and load
// ================================================================================================

// T-35 (scaled): 500 TCP connects that send nothing, from 100 source
// addresses (127.0.0.2..101), plus 100 completed handshakes that then idle:
// the healthy flow sees no gap, every idle socket is closed at its deadline
// and every descriptor is released.
TEST_F(hostile, t35_connection_flood) {
  rlimit lim{};
  ::getrlimit(RLIMIT_NOFILE, &lim);
  if (lim.rlim_cur < 2000 && lim.rlim_max > lim.rlim_cur) {
    lim.rlim_cur = std::min<rlim_t>(lim.rlim_max, 4096);
    ::setrlimit(RLIMIT_NOFILE, &lim);
  }
  ::getrlimit(RLIMIT_NOFILE, &lim);
  const std::size_t budget = lim.rlim_cur > 400 ? (lim.rlim_cur - 300) / 2 : 50;
  const std::size_t idle_n = std::min<std::size_t>(500, budget * 5 / 6);
  const std::size_t handshaken_n = std::min<std::size_t>(100, budget - idle_n);
  auto cfg = base_config();
  cfg.handshake_timeout = 500ms;
  cfg.negotiate_timeout = 1000ms;
  start(cfg);
  const auto fds0 = open_fds();
  const auto t0 = clock_type::now();
  std::vector<raw_socket> flood;
  flood.reserve(idle_n + handshaken_n);
  for (std::size_t i = 0; i < idle_n; ++i) {
    const std::string src = "127.0.0." + std::to_string(2 + i % 100);
    flood.emplace_back(server_.port(), src.c_str());
  }
  for (std::size_t i = 0; i < handshaken_n; ++i) {
    flood.emplace_back(server_.port());
    EXPECT_TRUE(flood.back().handshake()) << "handshake " << i;
  }
  const auto opened = std::count_if(flood.begin(), flood.end(), [](auto& s) { return s.ok(); });
  EXPECT_EQ(static_cast<std::size_t>(opened), idle_n + handshaken_n);
  std::printf("[ info ] T-35: %zu idle + %zu handshaken connections in %lld ms\n", idle_n, handshaken_n, ms_since(t0));
  std::size_t still_open = 0;
  for (auto& s : flood) still_open += s.ok() && !s.closed_by_peer(3000ms - ms(std::min<long long>(2500, ms_since(t0))));
  EXPECT_EQ(still_open, 0u) << "idle connections outlived their deadlines";
  EXPECT_TRUE(wait_connections(2, 3s)) << connections() << " connections still registered";
  expect_healthy_since(t0);
  flood.clear();
  EXPECT_LE(open_fds(), fds0 + 5) << "descriptors leaked";
  expect_still_serving();
}

// T-35 caps: --max-connections-per-ip and --max-connections refuse the
// excess at accept (closed at once, one log line per address per interval),
// leave the admitted connections working, and give a slot back when a
// connection closes.
TEST_F(hostile, t35_connection_caps_refuse_the_excess_and_release_slots) {
  auto sink = std::make_shared<counting_sink>("refused connection from");
  log_to(sink);
  auto cfg = base_config();
  cfg.max_connections = 14;
  cfg.max_connections_per_ip = 4;
  cfg.handshake_timeout = 20s;  // the held sockets must not time out during the test
  start(cfg);                   // the healthy publisher and player: 2 connections from 127.0.0.1
  const auto t0 = clock_type::now();

  // Per address: of 10 connections from 127.0.0.3, 4 are kept and 6 refused at once.
  std::vector<raw_socket> held;
  std::size_t refused = 0;
  for (int i = 0; i < 10; ++i) {
    raw_socket s(server_.port(), "127.0.0.3");
    ASSERT_TRUE(s.ok());
    if (s.closed_by_peer(300ms)) {
      ++refused;
    } else {
      held.push_back(std::move(s));
    }
  }
  EXPECT_EQ(held.size(), 4u);
  EXPECT_EQ(refused, 6u);

  // In total: 2 + 4 + 8 from two more addresses reaches 14; the next is refused.
  for (const char* src : {"127.0.0.4", "127.0.0.5"}) {
    for (int i = 0; i < 4; ++i) {
      held.emplace_back(server_.port(), src);
      EXPECT_FALSE(held.back().closed_by_peer(100ms)) << src << " #" << i << " refused under the caps";
    }
  }
  const auto deadline = clock_type::now() + 2s;
  while (connections() != 14 && clock_type::now() < deadline) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(connections(), 14u);
  std::size_t refused_total = 0;
  for (int i = 0; i < 100; ++i) {
    raw_socket over(server_.port(), "127.0.0.6");
    refused_total += over.closed_by_peer(1s) ? 1 : 0;
  }
  EXPECT_EQ(refused_total, 100u) << "connections over --max-connections were kept";
  EXPECT_EQ(connections(), 14u);

  // The admitted connections still work.
  EXPECT_TRUE(held[0].handshake());

  // Slots come back when connections close.
  held[1].reset();
  held[2].reset();
  EXPECT_TRUE(wait_connections(12, 2s));
  raw_socket again(server_.port(), "127.0.0.3");
  EXPECT_FALSE(again.closed_by_peer(300ms)) << "a released per-address slot was not given back";
  EXPECT_TRUE(again.handshake());
  raw_socket other(server_.port(), "127.0.0.6");
  EXPECT_FALSE(other.closed_by_peer(300ms)) << "a released slot was not given back";

  // One line per address and cap per second, not one per refusal (T-40).
  const auto lines = sink->lines.load();
  std::printf("[ info ] T-35 caps: %zu refusal log lines for %zu refusals in %lld ms\n", lines, refused + refused_total,
              ms_since(t0));
  EXPECT_GE(lines, 2u);
  EXPECT_LE(lines, 2u + static_cast<std::size_t>(ms_since(t0) / 1000) * 2) << "refusals are not rate-limited";

  held.clear();
  EXPECT_TRUE(wait_connections(4, 3s)) << connections() << " connections still registered";
  expect_unaffected(t0);
}

// T-36 (scaled): a player that stops reading (16 KiB-ish receive window) on
// a ~1 MB/s stream: its queue stays bounded, it is disconnected after
// slow_disconnect_after over the cap, memory stays bounded, and the others
// go on.
TEST_F(hostile, t36_non_reading_player_is_dropped_and_memory_stays_bounded) {
  auto cfg = base_config();
  cfg.queue_bytes = 256 * 1024;
  cfg.slow_disconnect_after = 1000ms;
  healthy_.frame_bytes = 20'000;
  healthy_.keyframe_bytes = 60'000;
  start(cfg);
  const auto rss0 = rss_bytes();
  quick_client slow(server_.port());
  slow.set_receive_buffer(4096);
  ASSERT_EQ(slow.play("healthy"), "NetStream.Play.Start");
  const auto t0 = clock_type::now();  // from here the slow player reads nothing
  EXPECT_TRUE(fd_hung_up(slow.socket().native_handle(), 10s)) << "the non-reading player was never dropped";
  std::printf("[ info ] T-36: slow player dropped after %lld ms\n", ms_since(t0));
  const auto growth = rss_bytes() - std::min(rss_bytes(), rss0);
  EXPECT_LT(growth, rss_bound) << "RSS grew by " << (growth >> 20) << " MiB";
  expect_unaffected(t0);
}

// T-37: a player that keeps sending Acknowledgements, PingResponses and
// receiveVideo/receiveAudio while the server writes: the server keeps reading
// the control direction (no build-up in our send queue), the player keeps
// receiving, nothing deadlocks.
TEST_F(hostile, t37_reverse_direction_drain) {
  start();
  quick_client r(server_.port());
  r.connect();
  const auto id = r.create_stream();
  r.send_command(proto::play_command(3, "healthy"), id);
  std::string code = r.wait_status();
  if (code == "NetStream.Play.Reset") code = r.wait_status();
  ASSERT_EQ(code, "NetStream.Play.Start");
  const auto t0 = clock_type::now();
  std::vector<clock_type::time_point> arrivals;
  std::uint32_t seq = 0;
  int backlog_peaks = 0;
  auto last_toggle = t0;
  while (clock_type::now() - t0 < 2s) {
    int queued = 0;
    ::ioctl(r.socket().native_handle(), SIOCOUTQ, &queued);
    if (queued > 256 * 1024) {
      ++backlog_peaks;  // the server is not reading: do not make it worse
    } else {
      bytes wire;
      for (int i = 0; i < 20; ++i) {
        append(wire, control_bytes(3, be32(seq += 1000)));
        append(wire, control_bytes(4, concat({{0x00, 0x07}, be32(seq)})));
      }
      if (clock_type::now() - last_toggle > 200ms) {
        last_toggle = clock_type::now();
        append(wire, command_bytes(proto::command{"receiveAudio", 0, proto::amf0::null, {true}}, id));
        append(wire, command_bytes(proto::command{"receiveVideo", 0, proto::amf0::null, {true}}, id));
      }
      EXPECT_EQ(send_bounded(r, wire, 1s), send_result::ok);
    }
    auto m = r.next(5ms);
    if (m && is_media(*m)) arrivals.push_back(clock_type::now());
  }
  int queued = 0;
  ::ioctl(r.socket().native_handle(), SIOCOUTQ, &queued);
  EXPECT_LT(queued, 256 * 1024) << "the server stopped reading the control direction";
  EXPECT_EQ(backlog_peaks, 0);
  ASSERT_FALSE(arrivals.empty()) << "the chatty player got no media";
  ms worst{0};
  for (std::size_t i = 1; i < arrivals.size(); ++i) {
    worst = std::max(worst, std::chrono::duration_cast<ms>(arrivals[i] - arrivals[i - 1]));
  }
  EXPECT_LT(worst, max_gap()) << "the chatty player stalled";
  EXPECT_FALSE(r.closed_by_peer(50ms));
  expect_unaffected(t0);
}

// T-38 (scaled: seconds, not 24 h): a publisher with no consumers and the GOP
// cache on: memory stays flat, a late joiner gets only the last GOP, and a
// join/leave storm of 50 players changes nothing.
TEST_F(hostile, t38_gop_cache_without_consumers_stays_bounded) {
  start();
  const auto t0 = clock_type::now();
  const auto rss0 = rss_bytes();
  quick_client c(server_.port());
  const auto id = publish_on(c, "t38");
  send_bounded(c, message_bytes(6, 9, 0, id, short_avc_sequence_header()));
  std::uint32_t ts = 0;
  for (int gop = 0; gop < 100; ++gop) {
    bytes wire = message_bytes(6, 9, ts, id, video_frame(true, 200'000, static_cast<std::uint8_t>(gop)), 128);
    for (int i = 1; i <= 4; ++i) {
      append(wire, message_bytes(6, 9, ts + 40 * i, id, video_frame(false, 50'000, static_cast<std::uint8_t>(gop))));
    }
    ASSERT_EQ(send_bounded(c, wire, 5s), send_result::ok);
    ts += 200;
  }
  std::this_thread::sleep_for(100ms);
  const auto growth = rss_bytes() - std::min(rss_bytes(), rss0);
  EXPECT_LT(growth, rss_bound) << "RSS grew by " << (growth >> 20) << " MiB for 40 MB published to nobody";
  {
    quick_client late(server_.port());
    ASSERT_EQ(late.play("t38"), "NetStream.Play.Start");
    auto frames = only_video(read_until(late, nth_video(5), 2s));
    for (const auto& m : only_video(read_media(late, 1, 300ms))) frames.push_back(m);
    ASSERT_FALSE(frames.empty());
    EXPECT_EQ(frames.front().payload[2], 99) << "the late joiner did not start at the last GOP";
    EXPECT_LE(frames.size(), 5u) << "more than one GOP cached";
  }
  for (int i = 0; i < 50; ++i) {
    quick_client p(server_.port());
    ASSERT_EQ(p.play("t38"), "NetStream.Play.Start");
    if (i % 2 == 0) read_media(p, 1, 200ms);
  }
  EXPECT_TRUE(wait_connections(3, 3s)) << connections() << " connections after the storm";
  EXPECT_LT(rss_bytes() - std::min(rss_bytes(), rss0), rss_bound);
  expect_unaffected(t0);
}

// T-39: 300k PingRequests, then 100k Window Acknowledgement Size messages,
// with our reading stalled: memory stays bounded and the others go on.
TEST_F(hostile, t39_ping_and_window_floods_with_reading_stalled) {
  start();
  quick_client c(server_.port());
  publish_on(c, "t39");  // a publisher: no negotiation deadline while it floods
  const auto rss0 = rss_bytes();
  const auto t0 = clock_type::now();
  // fmt 0 once, then fmt 3 (7 bytes per ping): C2 0006 xxxxxxxx.
  bytes pings = concat({{0x02, 0, 0, 0, 0, 0, 6, 0x04, 0, 0, 0, 0}, {0x00, 0x06}, be32(0)});
  pings.reserve(300'000 * 7);
  for (std::uint32_t i = 1; i < 300'000; ++i) append(pings, concat({{0xC2, 0x00, 0x06}, be32(i)}));
  // Closing the flooder is acceptable; a server that stops reading is not.
  EXPECT_NE(send_bounded(c, pings, 20s), send_result::stalled) << "the server stopped reading during the ping flood";
  // fmt 1 once (new type and length), then fmt 3: C2 00100000.
  bytes windows = concat({{0x42, 0, 0, 0, 0, 0, 4, 0x05}, be32(0x00100000)});
  for (int i = 1; i < 100'000; ++i) append(windows, concat({{0xC2}, be32(0x00100000)}));
  EXPECT_NE(send_bounded(c, windows, 20s), send_result::stalled) << "the server stopped reading during the window flood";
  std::this_thread::sleep_for(200ms);
  const auto growth = rss_bytes() - std::min(rss_bytes(), rss0);
  std::printf("[ info ] T-39: flood sent in %lld ms, RSS +%zu KiB\n", ms_since(t0), growth >> 10);
  EXPECT_LT(growth, rss_bound) << "RSS grew by " << (growth >> 20) << " MiB";
  expect_healthy_since(t0);
  // How many PingResponses come back when we finally read (informational:
  // the catalogue asks for rate-limited replies).
  std::size_t pongs = 0;
  const auto deadline = clock_type::now() + 1s;
  while (clock_type::now() < deadline) {
    auto m = c.next(100ms);
    if (!m) break;
    pongs += m->type == 4 && m->payload.size() >= 2 && m->payload[1] == 7;
  }
  std::printf("[ info ] T-39: %zu PingResponses read in 1 s for 300000 PingRequests\n", pongs);
  expect_still_serving();
}

// T-39: "replies rate-limited". A peer that floods PingRequests and never
// reads must not get one PingResponse per request: every reply is queued
// (unbounded non-media output) until it reads, so memory is bounded only by
// what the attacker is willing to send. Either the replies are limited (any
// sane limit passes: at most 1,000 for 300,000 requests) or the connection
// is closed.
TEST_F(hostile, t39_ping_replies_are_rate_limited) {
  start();
  quick_client c(server_.port());
  publish_on(c, "t39");
  const auto t0 = clock_type::now();
  bytes pings = concat({{0x02, 0, 0, 0, 0, 0, 6, 0x04, 0, 0, 0, 0}, {0x00, 0x06}, be32(0)});
  pings.reserve(300'000 * 7);
  for (std::uint32_t i = 1; i < 300'000; ++i) append(pings, concat({{0xC2, 0x00, 0x06}, be32(i)}));
  const auto sent = send_bounded(c, pings, 20s);
  std::size_t pongs = 0;
  bool closed = sent == send_result::closed;
  const auto deadline = clock_type::now() + 1500ms;
  while (!closed && clock_type::now() < deadline) {
    auto m = c.next(200ms);
    if (!m) {
      closed = c.closed_by_peer(10ms);
      break;
    }
    pongs += m->type == 4 && m->payload.size() >= 2 && m->payload[1] == 7;
  }
  std::printf("[ info ] T-39: %zu PingResponses for 300000 PingRequests (%s)\n", pongs, closed ? "closed" : "open");
  EXPECT_TRUE(closed || pongs <= 1000) << pongs << " PingResponses for 300000 PingRequests: not rate-limited";
  expect_unaffected(t0);
}

// T-40: a log flood (failed publishes and 1-byte garbage connections from one
// address, as fast as possible) must not turn into one log line per event:
// the catalogue asks for at most 1 line/s per (peer, message) plus summary
// counters. Bound here: 100 lines at info and above for ~400 events.
TEST_F(hostile, t40_log_flood_is_rate_limited) {
  auto sink = std::make_shared<counting_sink>();
  log_to(sink);
  start();
  const auto t0 = clock_type::now();
  const auto lines0 = sink->lines.load();
  for (int i = 0; i < 200; ++i) {
    quick_client b(server_.port());
    b.publish("healthy");  // BadName: the key is busy
  }
  for (int i = 0; i < 200; ++i) {
    raw_socket s(server_.port());
    s.send({'G'});
    s.closed_by_peer(500ms);
  }
  const auto lines = sink->lines.load() - lines0;
  std::printf("[ info ] T-40: %zu log lines for 400 hostile events in %lld ms\n", lines, ms_since(t0));
  EXPECT_LE(lines, 100u) << "one log line per hostile event: no rate limit";
  expect_unaffected(t0);
}

// T-41 (scaled): graceful stop with 5 publishers and 50 players: publishers
// get NetStream.Unpublish.Success, players UnpublishNotify/Play.Stop, every
// socket is closed, and stop() returns within its deadline.
TEST_F(hostile, t41_graceful_stop_under_load) {
  start();
  std::vector<std::unique_ptr<quick_client>> pubs, players;
  for (int s = 0; s < 5; ++s) {
    const std::string name = "t41_" + std::to_string(s);
    pubs.push_back(std::make_unique<quick_client>(server_.port()));
    const auto id = publish_on(*pubs.back(), name);
    send_bounded(*pubs.back(), message_bytes(6, 9, 0, id, video_frame(true, 500, 0x41)));
    for (int p = 0; p < 10; ++p) {
      players.push_back(std::make_unique<quick_client>(server_.port()));
      ASSERT_EQ(players.back()->play(name), "NetStream.Play.Start");
    }
  }
  const auto t0 = clock_type::now();
  server_->stop();
  EXPECT_LT(ms_since(t0), 3000) << "stop() took too long";
  for (auto& p : pubs) {
    EXPECT_EQ(p->wait_status(2s), "NetStream.Unpublish.Success");
    EXPECT_TRUE(p->closed_by_peer(2s));
  }
  for (auto& p : players) {
    const auto code = p->wait_status(2s);
    EXPECT_TRUE(code == "NetStream.Play.UnpublishNotify" || code == "NetStream.Play.Stop") << code;
    EXPECT_TRUE(p->closed_by_peer(2s));
  }
  EXPECT_EQ(connections(), 0u);
}

// T-41: the rtmp-server program under load gets SIGTERM: exit code 0 within
// a few seconds, every client told and closed.
TEST_F(hostile, t41_sigterm_to_rtmp_server_under_load) {
  const std::string bin = std::string(RTMP_BIN_DIR) + "/rtmp-server";
  RTMP_REQUIRE_TOOL(::access(bin.c_str(), X_OK) == 0, bin << " not built");
  const auto port = free_port();
  rtmp::test::child_process server(bin + " -l 127.0.0.1:" + std::to_string(port) + " -w 2 --log-level warn >/dev/null 2>&1");
  bool up = false;
  for (int i = 0; i < 100 && !up; ++i) {
    raw_socket probe(port);
    up = probe.ok();
    if (!up) std::this_thread::sleep_for(30ms);
  }
  ASSERT_TRUE(up) << "rtmp-server did not start listening";
  std::vector<std::unique_ptr<quick_client>> pubs, players;
  for (int s = 0; s < 5; ++s) {
    const std::string name = "t41_" + std::to_string(s);
    pubs.push_back(std::make_unique<quick_client>(port));
    const auto id = publish_on(*pubs.back(), name);
    send_bounded(*pubs.back(), message_bytes(6, 9, 0, id, video_frame(true, 500, 0x41)));
    for (int p = 0; p < 10; ++p) {
      players.push_back(std::make_unique<quick_client>(port));
      ASSERT_EQ(players.back()->play(name), "NetStream.Play.Start");
    }
  }
  const auto t0 = clock_type::now();
  server.signal(SIGTERM);
  EXPECT_EQ(server.wait(8s), 0) << "rtmp-server did not exit 0 after SIGTERM";
  EXPECT_LT(ms_since(t0), 6000);
  for (auto& p : pubs) EXPECT_TRUE(p->closed_by_peer(1s));
  for (auto& p : players) EXPECT_TRUE(p->closed_by_peer(1s));
}

// ================================================================================================
// Client side: a fake hostile server and `rtmp-client play` as a child
// process (T-04, T-14, T-43). The client must exit non-zero with a message
// on stderr within its --timeout (3 s here), never hang (we kill it after
// 10 s) and never crash (exit status < 128).
// ================================================================================================

// Waits (reading and dropping) until the client goes away, at most `limit`.
void until_client_leaves(raw_socket& s, ms limit = 9s) { s.closed_by_peer(limit); }

// Reads the client's first command (connect) after the handshake.
void await_connect(raw_socket& s) {
  const auto deadline = clock_type::now() + 3s;
  while (clock_type::now() < deadline) {
    auto b = s.read_some(100ms);
    if (!b || !b->empty()) return;
  }
}

// A real server_session behind a hand-made handshake: the session is fed a
// synthetic C0C1C2 (so it thinks it did its own), our bytes went out
// instead. It refuses every play and publish. `inject` is sent first.
void refusing_session(raw_socket& s, const bytes& inject) {
  proto::server_session session;
  bytes synthetic(1537 + 1536, 0);
  synthetic[0] = 3;
  if (session.on_bytes(synthetic)) return;
  bytes out;
  session.take_output(out);  // its S0S1S2: never sent
  if (!inject.empty() && s.send(inject) != send_result::ok) return;
  const auto deadline = clock_type::now() + 9s;
  while (clock_type::now() < deadline) {
    auto in = s.read_some(100ms);
    if (!in) return;
    if (in->empty()) continue;
    if (session.on_bytes(*in)) return;
    proto::session_event ev;
    while (session.next_event(ev)) {
      if (ev.type == proto::session_event::kind::play) {
        session.reject_play(ev.stream_id, "NetStream.Play.StreamNotFound", "fake");
      } else if (ev.type == proto::session_event::kind::publish) {
        session.reject_publish(ev.stream_id, "NetStream.Publish.BadName", "fake");
      }
    }
    session.take_output(out);
    if (!out.empty() && s.send(out) != send_result::ok) return;
  }
}

// Writes `unit` again and again until the client goes away (or 9 s).
void flood(raw_socket& s, const bytes& unit) {
  bytes batch = repeat(unit, std::max<std::size_t>(1, 16384 / std::max<std::size_t>(1, unit.size())));
  const auto deadline = clock_type::now() + 9s;
  while (clock_type::now() < deadline) {
    if (s.send(batch, 1s) == send_result::closed) return;
    auto in = s.read_some(0ms);
    if (!in) return;
  }
}

struct client_run {
  int status = -1;  // exit status; -1: killed after 10 s (hung)
  long long elapsed_ms = 0;
  std::string err;  // its stderr
};

const std::string client_bin = std::string(RTMP_BIN_DIR) + "/rtmp-client";

client_run run_client_play(std::uint16_t port, int timeout_s = 3) {
  rtmp::test::temp_dir dir;
  const std::string err = dir.file("stderr.txt");
  const auto t0 = clock_type::now();
  rtmp::test::child_process p(client_bin + " play rtmp://127.0.0.1:" + std::to_string(port) + "/live/x -o /dev/null --timeout " +
                              std::to_string(timeout_s) + " -q 2>'" + err + "'");
  client_run r;
  r.status = p.wait(10s);
  r.elapsed_ms = ms_since(t0);
  r.err = rtmp::test::read_text(err);
  return r;
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

class hostile_client : public ::testing::Test {
 protected:
  void SetUp() override {
    RTMP_REQUIRE_TOOL(::access(client_bin.c_str(), X_OK) == 0, client_bin << " not built");
  }

  // Asserts the client failed cleanly: non-zero, no crash, no hang, in time, with a message.
  static void expect_clean_failure(const client_run& r, const char* what, long long limit_ms = 5000) {
    std::printf("[ info ] %s: exit %d after %lld ms: %s\n", what, r.status, r.elapsed_ms, first_line(r.err).c_str());
    EXPECT_NE(r.status, -1) << what << ": rtmp-client hung (killed after 10 s)";
    EXPECT_NE(r.status, 0) << what << ": exit 0";
    EXPECT_LT(r.status, 128) << what << ": killed by signal " << (r.status - 128) << "\n" << r.err;
    EXPECT_LT(r.elapsed_ms, limit_ms) << what;
    EXPECT_FALSE(r.err.empty()) << what << ": no message on stderr";
  }
};

// T-14: the server re-declares a larger length in the middle of a message (a
// fmt 1 header on csid 3 while 128 of 200 bytes are in): the client closes
// with a size error and never writes past its buffer.
TEST_F(hostile_client, t14_length_redeclared_larger_mid_message) {
  fake_server fake([](raw_socket& s) {
    if (!fake_handshake(s)) return;
    await_connect(s);
    // 03 000000 0000C8 14 00000000 <128 B>, then 43 000000 0186A0 14 <128 B>...
    bytes wire = concat({{0x03, 0, 0, 0, 0, 0, 0xC8, 0x14, 0, 0, 0, 0}, bytes(128, 0x41)});
    append(wire, concat({{0x43, 0, 0, 0, 0x01, 0x86, 0xA0, 0x14}, bytes(128, 0x42)}));
    for (int i = 0; i < 100; ++i) append(wire, concat({{0xC3}, bytes(128, 0x43)}));
    s.send(wire);
    until_client_leaves(s);
  });
  expect_clean_failure(run_client_play(fake.port()), "T-14 length re-declared larger");
}

// T-43: Set Chunk Size 0x7FFFFFFF from the server is legal: the client
// accepts it without allocating from it and goes on (the fake then refuses
// the play: exit 7).
TEST_F(hostile_client, t43_set_chunk_size_max_is_accepted) {
  fake_server fake([](raw_socket& s) {
    if (!fake_handshake(s)) return;
    refusing_session(s, set_chunk_size_bytes(0x7FFFFFFF));
  });
  const auto r = run_client_play(fake.port());
  std::printf("[ info ] T-43 SCS 0x7FFFFFFF: exit %d: %s\n", r.status, first_line(r.err).c_str());
  EXPECT_EQ(r.status, 7) << "expected the play refusal after a legal Set Chunk Size\n" << r.err;
}

// T-43: Set Chunk Size 0 from the server: a protocol error.
TEST_F(hostile_client, t43_set_chunk_size_zero) {
  fake_server fake([](raw_socket& s) {
    if (!fake_handshake(s)) return;
    await_connect(s);
    s.send(set_chunk_size_bytes(0));
    until_client_leaves(s);
  });
  expect_clean_failure(run_client_play(fake.port()), "T-43 Set Chunk Size 0");
}

// T-43: a 16 MB _result is refused on its header, not after 16 MB.
TEST_F(hostile_client, t43_huge_result_is_refused_on_the_header) {
  fake_server fake([](raw_socket& s) {
    if (!fake_handshake(s)) return;
    await_connect(s);
    s.send(concat({bh(0, 3), mh0(0, 0xFFFFFF, 20, 0), amf_string("_result"), bytes(118, 0)}));
    flood(s, concat({{0xC3}, bytes(128, 0)}));
  });
  expect_clean_failure(run_client_play(fake.port()), "T-43 16 MB _result", 2500);
}

// T-43: deeply nested AMF in onStatus (5,000 levels, under the size cap, so
// the depth limit must catch it): no stack overflow.
TEST_F(hostile_client, t43_deep_amf_in_on_status) {
  fake_server fake([](raw_socket& s) {
    if (!fake_handshake(s)) return;
    await_connect(s);
    s.send(message_bytes(3, 20, 0, 0, concat({amf_string("onStatus"), amf_number(0), amf_null, nested_objects(5000)})));
    s.send(message_bytes(3, 20, 0, 0, concat({amf_string("_result"), amf_number(1), nested_ecma(5000)})));
    until_client_leaves(s);
  });
  expect_clean_failure(run_client_play(fake.port()), "T-43 deep AMF in onStatus");
}

// T-43: AMF3 references (type 17 with an AVM+ switch, out-of-range string
// and object references).
TEST_F(hostile_client, t43_amf3_references) {
  fake_server fake([](raw_socket& s) {
    if (!fake_handshake(s)) return;
    await_connect(s);
    s.send(
        message_bytes(3, 17, 0, 0, concat({{0x00}, amf_string("_result"), amf_number(1), {0x11, 0x0A, 0xC8, 0x01}})));
    s.send(message_bytes(3, 20, 0, 0, concat({amf_string("_result"), amf_number(1), {0x11, 0x06, 0x0E}})));
    until_client_leaves(s);
  });
  expect_clean_failure(run_client_play(fake.port()), "T-43 AMF3 references");
}

// T-43: a server that completes the handshake and never answers connect:
// the connect deadline (--timeout 3) holds: exit 8.
TEST_F(hostile_client, t43_server_never_answers_connect) {
  fake_server fake([](raw_socket& s) {
    if (!fake_handshake(s)) return;
    until_client_leaves(s);
  });
  const auto r = run_client_play(fake.port(), 2);
  expect_clean_failure(r, "T-43 never answers connect");
  EXPECT_EQ(r.status, 8);
  EXPECT_GE(r.elapsed_ms, 1500);
}

// T-43: a server that floods onStatus without end instead of answering.
TEST_F(hostile_client, t43_endless_on_status_flood) {
  fake_server fake([](raw_socket& s) {
    if (!fake_handshake(s)) return;
    await_connect(s);
    flood(s, command_bytes(proto::on_status("status", "NetStream.Info.Spam", "spam")));
  });
  expect_clean_failure(run_client_play(fake.port()), "T-43 onStatus flood");
}

// T-43: a server that floods media without end and never answers connect:
// the deadline still fires (the flood does not monopolise the event loop).
TEST_F(hostile_client, t43_endless_data_flood_does_not_defeat_the_deadline) {
  fake_server fake([](raw_socket& s) {
    if (!fake_handshake(s)) return;
    await_connect(s);
    bytes unit = message_bytes(4, 8, 0, 1, bytes(4000, 0xAF), 128);
    append(unit, message_bytes(5, 18, 0, 0, proto::on_metadata_message(proto::amf0::ecma_array{{"k", 1.0}})));
    flood(s, unit);
  });
  const auto r = run_client_play(fake.port(), 2);
  expect_clean_failure(r, "T-43 data flood");
  EXPECT_EQ(r.status, 8) << "the flood was mistaken for an answer";
}

// T-04 (client side): an S1 time of 0 and an S2 of garbage. Lenient (the
// fake then refuses the play: exit 7) or a handshake error (exit 3); never
// a hang or a crash.
TEST_F(hostile_client, t04_garbage_s2_and_zero_s1_time) {
  fake_server fake([](raw_socket& s) {
    if (!fake_handshake(s, /*garbage=*/true)) return;
    refusing_session(s, {});
  });
  const auto r = run_client_play(fake.port());
  expect_clean_failure(r, "T-04 garbage S2");
  EXPECT_TRUE(r.status == 7 || r.status == 3) << r.status;
}

}  // namespace
