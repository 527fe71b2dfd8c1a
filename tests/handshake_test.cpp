// Tests of the sans-I/O handshake machines (handshake.hpp): client against
// server with every input split, the server against real C0C1/C2 bytes of
// ffmpeg, rtmpdump and GStreamer, the client against a real server's
// S0S1S2, and malformed input (HOSTILE-CASES T-04, T-05).

#include "rtmp/proto/handshake.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <fstream>
#include <iterator>
#include <memory>
#include <numeric>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "rtmp/error.hpp"

#include "support/bytes.hpp"
#include "support/files.hpp"
#include "support/handshake_reference.hpp"

namespace {
// Captures, byte builders and the reference digest arithmetic: tests/support/.
using namespace rtmp::test;

using namespace rtmp::proto;
using bytes = std::vector<std::uint8_t>;
constexpr std::size_t blk = handshake_block_size;

bytes slice(const bytes& b, std::size_t off, std::size_t n) {
  return bytes(b.begin() + static_cast<std::ptrdiff_t>(off), b.begin() + static_cast<std::ptrdiff_t>(off + n));
}
bytes slice(std::span<const std::uint8_t> b, std::size_t off, std::size_t n) {
  return bytes(b.begin() + static_cast<std::ptrdiff_t>(off), b.begin() + static_cast<std::ptrdiff_t>(off + n));
}
std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

// --- independent digest arithmetic (straight OpenSSL, not our helpers) -----

std::size_t ref_offset_schema1(const bytes& b) { return (b[8] + b[9] + b[10] + b[11]) % 728 + 12; }
std::size_t ref_offset_schema0(const bytes& b) { return (b[772] + b[773] + b[774] + b[775]) % 728 + 776; }
bool ref_digest_ok(const bytes& b, std::size_t off, const bytes& key) {
  bytes data = slice(b, 0, off);
  const bytes tail = slice(b, off + 32, blk - off - 32);
  data.insert(data.end(), tail.begin(), tail.end());
  return reference_hmac(key, data) == slice(b, off, 32);
}
bool ref_signature_ok(const bytes& block2, const bytes& full_key, const bytes& peer_digest) {
  return reference_hmac(reference_hmac(full_key, peer_digest), slice(block2, 0, 1504)) == slice(block2, 1504, 32);
}

// --- scripted randomness and time -------------------------------------------

// Hands out bytes of a script in order; once exhausted, a counter pattern.
struct scripted_random {
  std::shared_ptr<std::deque<std::uint8_t>> script = std::make_shared<std::deque<std::uint8_t>>();
  void add(const bytes& b) { script->insert(script->end(), b.begin(), b.end()); }
  handshake_random_source source() const {
    auto s = script;
    return [s, counter = std::uint8_t{0x5a}](std::span<std::uint8_t> out) mutable {
      for (auto& x : out) {
        if (!s->empty()) {
          x = s->front();
          s->pop_front();
        } else {
          x = counter++;
        }
      }
    };
  }
};

handshake_clock clock_sequence(std::vector<std::uint32_t> values) {
  return [values = std::move(values), i = std::size_t{0}]() mutable {
    const auto v = values[std::min(i, values.size() - 1)];
    ++i;
    return v;
  };
}

handshake_random_source seeded_random(std::uint32_t seed) {
  return [rng = std::mt19937(seed)](std::span<std::uint8_t> out) mutable {
    for (auto& x : out) x = static_cast<std::uint8_t>(rng());
  };
}

// --- a lossless in-memory connection ----------------------------------------

// Moves bytes both ways in pieces chosen by `piece` (0 = everything at once),
// also acknowledging output in pieces. `server_trailer` is queued after S0S1S2,
// `client_trailer` after C2 (the first chunk bytes of each side); returns the
// bytes each machine left unconsumed.
struct pump_result {
  bytes client_leftover;  // s2c bytes the client did not take
  bytes server_leftover;  // c2s bytes the server did not take
};

template <class Piece>
pump_result pump(client_handshake& client, server_handshake& server, Piece piece, const bytes& client_trailer,
                 const bytes& server_trailer) {
  bytes c2s, s2c;
  std::size_t c2s_read = 0, s2c_read = 0;
  bool client_trailer_added = false, server_trailer_added = false;
  pump_result r;
  for (int guard = 0; guard < 100000; ++guard) {
    // Drain some output of each side onto its wire.
    if (auto out = client.pending_output(); !out.empty()) {
      const std::size_t n = std::min(out.size(), piece(out.size()));
      c2s.insert(c2s.end(), out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n));
      client.output_sent(n);
    }
    if (auto out = server.pending_output(); !out.empty()) {
      const std::size_t n = std::min(out.size(), piece(out.size()));
      s2c.insert(s2c.end(), out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n));
      server.output_sent(n);
    }
    if (client.current_phase() >= client_handshake::phase::await_second &&
        client.pending_output().empty() && !client_trailer_added) {
      c2s.insert(c2s.end(), client_trailer.begin(), client_trailer.end());
      client_trailer_added = true;
    }
    if (server.current_phase() >= server_handshake::phase::await_second && server.pending_output().empty() &&
        !server_trailer_added) {
      s2c.insert(s2c.end(), server_trailer.begin(), server_trailer.end());
      server_trailer_added = true;
    }
    // Deliver some wire bytes to each side.
    if (c2s_read < c2s.size() && !server.done()) {
      const std::size_t n = std::min(c2s.size() - c2s_read, piece(c2s.size() - c2s_read));
      const std::size_t used = server.consume(std::span<const std::uint8_t>(c2s).subspan(c2s_read, n));
      EXPECT_FALSE(server.error()) << server.error().message();
      if (!server.done()) {
        EXPECT_EQ(used, n);
      }
      c2s_read += used;
    }
    if (s2c_read < s2c.size() && !client.done()) {
      const std::size_t n = std::min(s2c.size() - s2c_read, piece(s2c.size() - s2c_read));
      const std::size_t used = client.consume(std::span<const std::uint8_t>(s2c).subspan(s2c_read, n));
      EXPECT_FALSE(client.error()) << client.error().message();
      if (!client.done()) {
        EXPECT_EQ(used, n);
      }
      s2c_read += used;
    }
    if (client.error() || server.error()) break;
    if (client.done() && server.done() && client.pending_output().empty() && server.pending_output().empty() &&
        client_trailer_added && server_trailer_added)
      break;
  }
  r.server_leftover = slice(c2s, c2s_read, c2s.size() - c2s_read);
  r.client_leftover = slice(s2c, s2c_read, s2c.size() - s2c_read);
  return r;
}

struct split_case {
  const char* name;
  bool digest;
  int mode;  // 0 = all at once, 1 = one byte at a time, 2.. = random pieces seeded with mode
};

void PrintTo(const split_case& c, std::ostream* os) { *os << c.name; }

class client_vs_server : public ::testing::TestWithParam<split_case> {};

TEST_P(client_vs_server, completes_and_preserves_leftover_bytes) {
  const auto& p = GetParam();
  std::mt19937 rng(static_cast<std::uint32_t>(p.mode));
  auto piece = [&](std::size_t avail) -> std::size_t {
    if (p.mode == 0) return avail;
    if (p.mode == 1) return 1;
    std::uniform_int_distribution<std::size_t> d(1, 700);
    return d(rng);
  };

  client_handshake_config cc;
  cc.use_digest = p.digest;
  cc.random = seeded_random(11);
  cc.clock = clock_sequence({1000, 1050});
  server_handshake_config sc;
  sc.random = seeded_random(22);
  sc.clock = clock_sequence({777});
  client_handshake client(cc);
  server_handshake server(sc);

  const bytes chunk_from_client = {0x03, 0x00, 0x00, 0x00, 0x00, 0x01, 0x05, 0x14, 0xAA};
  const bytes chunk_from_server = {0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x05, 0xBB, 0xCC};
  const pump_result r = pump(client, server, piece, chunk_from_client, chunk_from_server);

  ASSERT_TRUE(client.done()) << "client phase " << int(client.current_phase());
  ASSERT_TRUE(server.done()) << "server phase " << int(server.current_phase());
  EXPECT_FALSE(client.error());
  EXPECT_FALSE(server.error());
  EXPECT_EQ(r.server_leftover, chunk_from_client);
  EXPECT_EQ(r.client_leftover, chunk_from_server);

  const auto expected = p.digest ? handshake_scheme::digest : handshake_scheme::plain;
  EXPECT_EQ(client.c1_scheme(), expected);
  EXPECT_EQ(server.scheme(), expected);
  EXPECT_EQ(client.c2_scheme(), expected);
  EXPECT_EQ(server.peer().digest_valid, p.digest);
  EXPECT_EQ(client.peer().digest_valid, p.digest);
  if (p.digest) {
    EXPECT_EQ(server.peer().schema, digest_schema::schema1);
    EXPECT_EQ(client.peer().schema, digest_schema::schema1);
    EXPECT_EQ(client.peer().version, (std::array<std::uint8_t, 4>{0x04, 0x05, 0x00, 0x01}));
    EXPECT_EQ(server.peer().version, (std::array<std::uint8_t, 4>{0x80, 0x00, 0x07, 0x02}));
  } else {
    EXPECT_FALSE(server.peer().has_version());
    EXPECT_FALSE(client.peer().has_version());
  }
  EXPECT_TRUE(server.c2_echo_matched());
  EXPECT_TRUE(client.s2_matched());
  EXPECT_EQ(server.peer().time, 1000u);  // the client's C1 time is its clock
  EXPECT_EQ(client.peer().time, 777u);   // the server's S1 time is its clock
}

INSTANTIATE_TEST_SUITE_P(
    splits, client_vs_server,
    ::testing::Values(split_case{"digest_whole", true, 0}, split_case{"digest_bytewise", true, 1},
                      split_case{"digest_random2", true, 2}, split_case{"digest_random3", true, 3},
                      split_case{"digest_random4", true, 4}, split_case{"plain_whole", false, 0},
                      split_case{"plain_bytewise", false, 1}, split_case{"plain_random5", false, 5},
                      split_case{"plain_random6", false, 6}, split_case{"plain_random7", false, 7}),
    [](const auto& info) { return std::string(info.param.name); });

// --- the server against real clients -----------------------------------------

struct capture_case {
  const char* c2s;
  const char* s2c;
  bool digest;
};

const capture_case all_captures[] = {
    {"ffmpeg-publish.c2s.bin", "ffmpeg-publish.s2c.bin", true},
    {"ffmpeg-play.c2s.bin", "ffmpeg-play.s2c.bin", true},
    {"rtmpdump-play.c2s.bin", "rtmpdump-play.s2c.bin", false},
    {"gst-rtmp2src-play.c2s.bin", "gst-rtmp2src-play.s2c.bin", false},
    {"gst-rtmp2sink-publish.c2s.bin", "gst-rtmp2sink-publish.s2c.bin", false},
};

void PrintTo(const capture_case& c, std::ostream* os) { *os << c.c2s; }

class server_vs_capture : public ::testing::TestWithParam<capture_case> {};

TEST_P(server_vs_capture, answers_c1_with_the_right_scheme) {
  const auto& p = GetParam();
  const bytes c2s = read_capture(p.c2s);
  ASSERT_GE(c2s.size(), 3074u);
  const bytes c1 = slice(c2s, 1, blk);

  server_handshake_config sc;
  sc.clock = clock_sequence({123456});
  server_handshake server(sc);
  ASSERT_EQ(server.consume(std::span<const std::uint8_t>(c2s).first(1 + blk)), 1 + blk);
  ASSERT_FALSE(server.error());
  ASSERT_EQ(server.current_phase(), server_handshake::phase::await_second);
  EXPECT_EQ(server.peer().time, be32(c1.data()));
  EXPECT_EQ(server.peer().has_version(), p.digest);

  const auto out = server.pending_output();
  ASSERT_EQ(out.size(), 1 + 2 * blk);
  EXPECT_EQ(out[0], 3);
  const bytes s1 = slice(out, 1, blk);
  const bytes s2 = slice(out, 1 + blk, blk);
  EXPECT_EQ(be32(s1.data()), 123456u);

  if (p.digest) {
    // ffmpeg: digest at schema 1 (checked independently here too).
    ASSERT_TRUE(ref_digest_ok(c1, ref_offset_schema1(c1), client_key_text));
    EXPECT_TRUE(server.peer().digest_valid);
    EXPECT_EQ(server.peer().schema, digest_schema::schema1);
    EXPECT_EQ(server.scheme(), handshake_scheme::digest);
    EXPECT_EQ(slice(s1, 4, 4), (bytes{0x04, 0x05, 0x00, 0x01}));
    EXPECT_TRUE(ref_digest_ok(s1, ref_offset_schema1(s1), server_key_text));
    const bytes c1_digest = slice(c1, ref_offset_schema1(c1), 32);
    EXPECT_TRUE(ref_signature_ok(s2, concat({server_key_text, digest_key_constant}), c1_digest));
    EXPECT_NE(s2, c1);
  } else {
    EXPECT_FALSE(server.peer().digest_valid);
    EXPECT_FALSE(server.peer().schema.has_value());
    EXPECT_EQ(server.scheme(), handshake_scheme::plain);
    EXPECT_EQ(slice(s1, 4, 4), (bytes{0, 0, 0, 0}));
    EXPECT_EQ(s2, c1);  // exact echo by default
  }
}

TEST_P(server_vs_capture, whole_stream_stops_at_the_first_chunk_byte) {
  const auto& p = GetParam();
  const bytes c2s = read_capture(p.c2s);
  ASSERT_GE(c2s.size(), 3074u);
  ASSERT_EQ(c2s[3073], 0x03);

  for (int mode = 0; mode < 4; ++mode) {
    server_handshake server;
    std::mt19937 rng(static_cast<std::uint32_t>(mode));
    std::size_t pos = 0;
    while (!server.done() && pos < c2s.size()) {
      std::size_t n = c2s.size() - pos;
      if (mode == 1) n = 1;
      if (mode >= 2) n = std::min(n, std::uniform_int_distribution<std::size_t>(1, 3000)(rng));
      const std::size_t used = server.consume(std::span<const std::uint8_t>(c2s).subspan(pos, n));
      ASSERT_FALSE(server.error());
      if (!server.done()) {
        ASSERT_EQ(used, n);
      }
      pos += used;
    }
    EXPECT_TRUE(server.done()) << "mode " << mode;
    EXPECT_EQ(pos, 3073u) << "mode " << mode;
    EXPECT_EQ(server.consume(std::span<const std::uint8_t>(c2s).subspan(pos)), 0u);
    // Nothing was sent yet: S0S1S2 are still intact and pending.
    EXPECT_EQ(server.pending_output().size(), 1 + 2 * blk);
  }
}

// With the randomness and clock scripted from the reference server's own
// answer, our S0S1S2 reproduce its bytes exactly: same layout, same digest
// position, same signatures. The client's real C2 then matches our S1.
TEST_P(server_vs_capture, reproduces_the_reference_servers_answer) {
  const auto& p = GetParam();
  const bytes c2s = read_capture(p.c2s);
  const bytes s2c = read_capture(p.s2c);
  ASSERT_GE(c2s.size(), 3073u);
  ASSERT_GE(s2c.size(), 3073u);
  const bytes ref_s1 = slice(s2c, 1, blk);
  const bytes ref_s2 = slice(s2c, 1 + blk, blk);

  server_handshake_config sc;
  scripted_random script;
  script.add(slice(ref_s1, 8, blk - 8));
  if (p.digest) script.add(slice(ref_s2, 0, 1504));
  sc.random = script.source();
  sc.clock = clock_sequence({be32(ref_s1.data())});
  std::copy_n(ref_s1.begin() + 4, 4, sc.digest_version.begin());
  server_handshake server(sc);

  ASSERT_EQ(server.consume(c2s), 3073u);
  ASSERT_TRUE(server.done());
  EXPECT_EQ(slice(server.pending_output(), 0, 3073), slice(s2c, 0, 3073));
  // ffmpeg-publish echoes S1, ffmpeg-play signs, the others echo.
  EXPECT_TRUE(server.c2_echo_matched());
}

INSTANTIATE_TEST_SUITE_P(captures, server_vs_capture, ::testing::ValuesIn(all_captures),
                         [](const auto& info) {
                           std::string n = info.param.c2s;
                           n = n.substr(0, n.find('.'));
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

// --- the client against a real server's answer ----------------------------

TEST(client_vs_capture, reproduces_ffmpeg_play_against_the_reference_server) {
  const bytes c2s = read_capture("ffmpeg-play.c2s.bin");
  const bytes s2c = read_capture("ffmpeg-play.s2c.bin");
  ASSERT_GE(s2c.size(), 3074u);
  const bytes c1 = slice(c2s, 1, blk);

  client_handshake_config cc;
  std::copy_n(c1.begin() + 4, 4, cc.digest_version.begin());
  scripted_random script;
  script.add(slice(c1, 8, blk - 8));
  script.add(slice(c2s, 1 + blk, 1504));
  cc.random = script.source();
  cc.clock = clock_sequence({be32(c1.data())});
  client_handshake client(cc);
  EXPECT_EQ(slice(client.pending_output(), 0, 1 + blk), slice(c2s, 0, 1 + blk));
  client.output_sent(1 + blk);

  const std::size_t used = client.consume(s2c);
  EXPECT_EQ(used, 3073u);
  ASSERT_TRUE(client.done());
  EXPECT_TRUE(client.peer().digest_valid);
  EXPECT_EQ(client.peer().schema, digest_schema::schema1);
  EXPECT_TRUE(client.s2_matched());
  EXPECT_EQ(client.c2_scheme(), handshake_scheme::digest);
  EXPECT_EQ(slice(client.pending_output(), 0, blk), slice(c2s, 1 + blk, blk));
}

TEST(client_vs_capture, plain_clients_reproduce_their_c2) {
  struct plain_case {
    const char* name;
    bool write_time2;
  };
  for (const auto& pc : {plain_case{"rtmpdump-play", false}, plain_case{"gst-rtmp2sink-publish", true},
                         plain_case{"gst-rtmp2src-play", true}}) {
    const bytes c2s = read_capture(std::string(pc.name) + ".c2s.bin");
    const bytes s2c = read_capture(std::string(pc.name) + ".s2c.bin");
    ASSERT_GE(s2c.size(), 3073u) << pc.name;
    const bytes c1 = slice(c2s, 1, blk);
    const bytes c2 = slice(c2s, 1 + blk, blk);

    client_handshake_config cc;
    cc.use_digest = false;
    cc.write_time2 = pc.write_time2;
    scripted_random script;
    script.add(slice(c1, 8, blk - 8));
    cc.random = script.source();
    cc.clock = clock_sequence({be32(c1.data()), be32(c2.data() + 4)});
    client_handshake client(cc);
    EXPECT_EQ(slice(client.pending_output(), 0, 1 + blk), slice(c2s, 0, 1 + blk)) << pc.name;

    EXPECT_EQ(client.consume(std::span<const std::uint8_t>(s2c).first(3073)), 3073u) << pc.name;
    ASSERT_TRUE(client.done()) << pc.name;
    EXPECT_FALSE(client.peer().has_version()) << pc.name;
    EXPECT_TRUE(client.s2_matched()) << pc.name;
    EXPECT_EQ(client.c2_scheme(), handshake_scheme::plain) << pc.name;
    EXPECT_EQ(slice(client.pending_output(), 1 + blk, blk), c2) << pc.name;
  }
}

// --- malformed input ---------------------------------------------------------

TEST(server_handshake_malformed, rejects_other_versions_on_the_first_byte) {
  for (const std::uint8_t v : {std::uint8_t{6}, std::uint8_t{0xFF}, std::uint8_t{'G'}, std::uint8_t{0x16},
                               std::uint8_t{0}, std::uint8_t{4}}) {
    server_handshake server;
    const bytes one = {v};
    EXPECT_EQ(server.consume(one), 1u) << int(v);
    EXPECT_EQ(server.error(), rtmp::errc::handshake_unsupported_version) << int(v);
    EXPECT_EQ(server.error(), rtmp::condition::protocol_violation);
    EXPECT_EQ(server.current_phase(), server_handshake::phase::failed);
    EXPECT_FALSE(server.done());
    EXPECT_TRUE(server.pending_output().empty());
    const bytes more(2000, 3);
    EXPECT_EQ(server.consume(more), 0u);
  }
}

TEST(server_handshake_malformed, http_and_tls_fail_without_waiting_for_c1) {
  const bytes http = ascii("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  const bytes tls = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03};
  for (const auto& in : {http, tls}) {
    server_handshake server;
    EXPECT_EQ(server.consume(in), 1u);
    EXPECT_EQ(server.error(), rtmp::errc::handshake_unsupported_version);
  }
}

TEST(server_handshake_malformed, truncated_c1_waits_without_error) {
  const bytes c2s = read_capture("ffmpeg-publish.c2s.bin");
  ASSERT_GE(c2s.size(), 1536u);
  server_handshake server;
  EXPECT_EQ(server.consume(std::span<const std::uint8_t>(c2s).first(1536)), 1536u);  // C0 + 1535 of C1
  EXPECT_FALSE(server.error());
  EXPECT_FALSE(server.done());
  EXPECT_EQ(server.current_phase(), server_handshake::phase::await_first);
  EXPECT_TRUE(server.pending_output().empty());
  // The last byte completes it.
  EXPECT_EQ(server.consume(std::span<const std::uint8_t>(c2s).subspan(1536, 1)), 1u);
  EXPECT_EQ(server.current_phase(), server_handshake::phase::await_second);
  EXPECT_EQ(server.pending_output().size(), 3073u);
}

TEST(server_handshake_malformed, garbage_c2_is_accepted_and_flagged) {
  for (const char* name : {"ffmpeg-play.c2s.bin", "rtmpdump-play.c2s.bin"}) {
    const bytes c2s = read_capture(name);
    server_handshake server;
    ASSERT_EQ(server.consume(std::span<const std::uint8_t>(c2s).first(1 + blk)), 1 + blk);
    bytes garbage(blk + 3, 0xEE);
    EXPECT_EQ(server.consume(garbage), blk) << name;
    EXPECT_TRUE(server.done()) << name;
    EXPECT_FALSE(server.error()) << name;
    EXPECT_FALSE(server.c2_echo_matched()) << name;
  }
}

TEST(server_handshake_malformed, c2_before_output_is_sent) {
  // The whole client stream arrives before we sent a single byte of S0S1S2;
  // a C2 that echoes S1 cannot exist yet, so build it after C1 from our S1.
  server_handshake_config sc;
  sc.random = seeded_random(5);
  server_handshake server(sc);
  const bytes c2s = read_capture("rtmpdump-play.c2s.bin");
  ASSERT_EQ(server.consume(std::span<const std::uint8_t>(c2s).first(1 + blk)), 1 + blk);
  bytes c2 = slice(server.pending_output(), 1, blk);
  c2[4] = 9;  // time2 is free
  bytes tail = c2;
  tail.push_back(0x03);
  EXPECT_EQ(server.consume(tail), blk);
  EXPECT_TRUE(server.done());
  EXPECT_TRUE(server.c2_echo_matched());
  EXPECT_EQ(server.pending_output().size(), 3073u);  // still intact
  server.output_sent(1000);
  EXPECT_EQ(server.pending_output().size(), 2073u);
  server.output_sent(99999);  // clamped
  EXPECT_TRUE(server.pending_output().empty());
}

TEST(server_handshake_malformed, bad_digest_falls_back_to_plain) {
  const bytes c2s = read_capture("ffmpeg-publish.c2s.bin");
  bytes c0c1 = slice(c2s, 0, 1 + blk);
  c0c1[1 + 1000] ^= 0x40;  // breaks the digest, keeps the version field
  server_handshake server;
  ASSERT_EQ(server.consume(c0c1), 1 + blk);
  EXPECT_FALSE(server.error());
  EXPECT_TRUE(server.peer().has_version());
  EXPECT_FALSE(server.peer().digest_valid);
  EXPECT_EQ(server.scheme(), handshake_scheme::plain);
  const auto out = server.pending_output();
  EXPECT_EQ(slice(out, 1 + 4, 4), (bytes{0, 0, 0, 0}));
  EXPECT_EQ(slice(out, 1 + blk, blk), slice(c0c1, 1, blk));
}

// A Flash-style C1 with its digest at schema 0 (built here with the reference
// arithmetic): the server finds it and answers in schema 0.
TEST(server_handshake, schema0_c1_gets_a_schema0_s1) {
  bytes c1(blk);
  std::iota(c1.begin(), c1.end(), std::uint8_t{17});
  c1[4] = 0x0a; c1[5] = 0x00; c1[6] = 0x7c; c1[7] = 0x02;
  const std::size_t off = ref_offset_schema0(c1);
  bytes data = slice(c1, 0, off);
  const bytes tail = slice(c1, off + 32, blk - off - 32);
  data.insert(data.end(), tail.begin(), tail.end());
  const bytes digest = reference_hmac(client_key_text, data);
  std::copy(digest.begin(), digest.end(), c1.begin() + static_cast<std::ptrdiff_t>(off));
  ASSERT_FALSE(ref_digest_ok(c1, ref_offset_schema1(c1), client_key_text));

  bytes c0c1 = {3};
  c0c1.insert(c0c1.end(), c1.begin(), c1.end());
  server_handshake server;
  ASSERT_EQ(server.consume(c0c1), 1 + blk);
  EXPECT_TRUE(server.peer().digest_valid);
  EXPECT_EQ(server.peer().schema, digest_schema::schema0);
  const bytes s1 = slice(server.pending_output(), 1, blk);
  const bytes s2 = slice(server.pending_output(), 1 + blk, blk);
  EXPECT_TRUE(ref_digest_ok(s1, ref_offset_schema0(s1), server_key_text));
  EXPECT_TRUE(ref_signature_ok(s2, concat({server_key_text, digest_key_constant}), digest));

  // Our own client follows a schema-0 server too.
  client_handshake client;
  bytes s0s1s2(server.pending_output().begin(), server.pending_output().end());
  EXPECT_EQ(client.consume(s0s1s2), 1 + 2 * blk);
  EXPECT_TRUE(client.peer().digest_valid);
  EXPECT_EQ(client.peer().schema, digest_schema::schema0);
  EXPECT_EQ(client.c2_scheme(), handshake_scheme::digest);
  EXPECT_TRUE(client.done());
  EXPECT_FALSE(client.s2_matched());  // S2 was signed for c1 above, not for this client's C1
  const auto c2 = client.pending_output().subspan(1 + blk);
  EXPECT_EQ(server.consume(c2), blk);
  EXPECT_TRUE(server.c2_echo_matched());
}

TEST(server_handshake, time2_option_writes_our_clock) {
  const bytes c2s = read_capture("rtmpdump-play.c2s.bin");
  server_handshake_config sc;
  sc.write_time2 = true;
  sc.clock = clock_sequence({0x01020304});
  server_handshake server(sc);
  ASSERT_EQ(server.consume(std::span<const std::uint8_t>(c2s).first(1 + blk)), 1 + blk);
  const bytes s2 = slice(server.pending_output(), 1 + blk, blk);
  const bytes c1 = slice(c2s, 1, blk);
  EXPECT_EQ(be32(s2.data() + 4), 0x01020304u);
  EXPECT_EQ(slice(s2, 0, 4), slice(c1, 0, 4));
  EXPECT_EQ(slice(s2, 8, blk - 8), slice(c1, 8, blk - 8));
}

// --- client specifics --------------------------------------------------------

TEST(client_handshake, default_c1_is_a_valid_digest_block_with_our_time) {
  client_handshake_config cc;
  cc.clock = clock_sequence({424242});
  client_handshake client(cc);
  const auto out = client.pending_output();
  ASSERT_EQ(out.size(), 1 + blk);
  EXPECT_EQ(out[0], 3);
  const bytes c1 = slice(out, 1, blk);
  EXPECT_EQ(be32(c1.data()), 424242u);
  EXPECT_EQ(slice(c1, 4, 4), (bytes{0x80, 0x00, 0x07, 0x02}));
  EXPECT_TRUE(ref_digest_ok(c1, ref_offset_schema1(c1), client_key_text));
  EXPECT_EQ(client.c1_scheme(), handshake_scheme::digest);
}

TEST(client_handshake, default_clock_and_random_vary) {
  client_handshake a;
  client_handshake b;
  EXPECT_NE(slice(a.pending_output(), 9, 64), slice(b.pending_output(), 9, 64));
  // The default clock is steady_clock milliseconds, not a constant 0.
  const std::uint32_t t = be32(a.pending_output().data() + 1);
  const std::uint32_t now = default_handshake_clock();
  EXPECT_LE(now - t, 10000u);
}

TEST(client_handshake, plain_c1_has_a_zero_version_field) {
  client_handshake_config cc;
  cc.use_digest = false;
  client_handshake client(cc);
  const bytes c1 = slice(client.pending_output(), 1, blk);
  EXPECT_EQ(slice(c1, 4, 4), (bytes{0, 0, 0, 0}));
  EXPECT_EQ(client.c1_scheme(), handshake_scheme::plain);
}

TEST(client_handshake, wrong_s0_fails_at_once) {
  for (const std::uint8_t v : {std::uint8_t{6}, std::uint8_t{0xFF}, std::uint8_t{0x16}}) {
    client_handshake client;
    const bytes in = {v, 1, 2, 3};
    EXPECT_EQ(client.consume(in), 1u);
    EXPECT_EQ(client.error(), rtmp::errc::handshake_unsupported_version);
    EXPECT_EQ(client.current_phase(), client_handshake::phase::failed);
    EXPECT_EQ(client.consume(in), 0u);
  }
}

TEST(client_handshake, plain_s1_gets_an_echo_c2) {
  client_handshake_config cc;
  cc.clock = clock_sequence({100, 250});
  client_handshake client(cc);
  client.output_sent(1 + blk);
  bytes s0s1 = {3};
  bytes s1(blk);
  std::iota(s1.begin(), s1.end(), std::uint8_t{1});
  s1[4] = s1[5] = s1[6] = s1[7] = 0;
  s0s1.insert(s0s1.end(), s1.begin(), s1.end());
  EXPECT_EQ(client.consume(s0s1), 1 + blk);
  EXPECT_EQ(client.current_phase(), client_handshake::phase::await_second);
  EXPECT_FALSE(client.peer().has_version());
  EXPECT_EQ(client.c2_scheme(), handshake_scheme::plain);
  const bytes c2 = slice(client.pending_output(), 0, blk);
  ASSERT_EQ(client.pending_output().size(), blk);
  EXPECT_EQ(slice(c2, 0, 4), slice(s1, 0, 4));
  EXPECT_EQ(be32(c2.data() + 4), 250u);  // time2 = when we read S1
  EXPECT_EQ(slice(c2, 8, blk - 8), slice(s1, 8, blk - 8));
}

TEST(client_handshake, s1_with_version_but_bad_digest_is_tolerated) {
  client_handshake client;
  bytes in = {3};
  bytes s1(blk, 0x11);  // version field non-zero, no valid digest
  in.insert(in.end(), s1.begin(), s1.end());
  EXPECT_EQ(client.consume(in), 1 + blk);
  EXPECT_FALSE(client.error());
  EXPECT_TRUE(client.peer().has_version());
  EXPECT_FALSE(client.peer().digest_valid);
  EXPECT_EQ(client.c2_scheme(), handshake_scheme::plain);
  const auto out = client.pending_output();
  ASSERT_EQ(out.size(), 1 + 2 * blk);  // C0C1 not sent yet, C2 appended
  EXPECT_EQ(slice(out, 1 + blk + 8, blk - 8), slice(s1, 8, blk - 8));
}

TEST(client_handshake, garbage_s2_lenient_and_strict) {
  for (const bool strict : {false, true}) {
    client_handshake_config cc;
    cc.strict_s2 = strict;
    client_handshake client(cc);
    bytes in = {3};
    in.resize(1 + 2 * blk, 0x22);
    in.push_back(0x03);  // first chunk byte
    const std::size_t used = client.consume(in);
    EXPECT_EQ(used, 1 + 2 * blk);
    EXPECT_FALSE(client.s2_matched());
    if (strict) {
      EXPECT_EQ(client.error(), rtmp::errc::handshake_bad_echo);
      EXPECT_FALSE(client.done());
    } else {
      EXPECT_FALSE(client.error());
      EXPECT_TRUE(client.done());
    }
  }
}

TEST(client_handshake, strict_s2_passes_against_our_server) {
  for (const bool digest : {false, true}) {
    client_handshake_config cc;
    cc.strict_s2 = true;
    cc.use_digest = digest;
    client_handshake client(cc);
    server_handshake server;
    ASSERT_EQ(server.consume(client.pending_output()), 1 + blk);
    ASSERT_EQ(client.consume(server.pending_output()), 1 + 2 * blk);
    EXPECT_TRUE(client.done());
    EXPECT_FALSE(client.error());
    EXPECT_TRUE(client.s2_matched());
    const auto c2 = client.pending_output().subspan(1 + blk);
    EXPECT_EQ(server.consume(c2), blk);
    EXPECT_TRUE(server.done());
    EXPECT_TRUE(server.c2_echo_matched());
  }
}

}  // namespace
