#include "rtmp/proto/chunk_reader.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <random>
#include <string>

#include "rtmp/error.hpp"
#include "rtmp/proto/byte_order.hpp"
#include "rtmp/proto/chunk_writer.hpp"
#include "rtmp/proto/control_message.hpp"

#include "support/files.hpp"

namespace {
using rtmp::test::read_capture;

using namespace rtmp::proto;
using bytes = std::vector<std::uint8_t>;

bytes payload_of(std::size_t n, std::uint8_t seed) {
  bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(seed + i * 7);
  return b;
}

message make_message(std::uint8_t type, std::uint32_t ts, std::uint32_t msid, const bytes& payload) {
  message m;
  m.type = type;
  m.timestamp = ts;
  m.stream_id = msid;
  m.payload = shared_bytes::copy_of(payload);
  return m;
}

bytes to_vec(const shared_bytes& b) { return bytes(b.data(), b.data() + b.size()); }

std::vector<message> drain(chunk_reader& r) {
  std::vector<message> out;
  message m;
  while (r.next(m)) out.push_back(m);
  return out;
}

// fmt 0 header bytes: basic header (1-byte form) + 11-byte message header.
bytes fmt0(std::uint32_t csid, std::uint32_t ts, std::uint32_t len, std::uint8_t type, std::uint32_t msid) {
  bytes h(12);
  h[0] = static_cast<std::uint8_t>(csid);
  store_be24(&h[1], ts);
  store_be24(&h[4], len);
  h[7] = type;
  store_le32(&h[8], msid);
  return h;
}

void append(bytes& out, const bytes& more) { out.insert(out.end(), more.begin(), more.end()); }

// ---------------------------------------------------------------------------
// Round trips through chunk_writer, fed whole, byte by byte and in random splits.

struct roundtrip_case {
  std::uint32_t chunk_size;
  std::vector<std::uint32_t> csids;
};

void feed_split(chunk_reader& r, const bytes& wire, int mode, std::mt19937& rng) {
  if (mode == 0) {
    ASSERT_FALSE(r.feed(wire));
  } else if (mode == 1) {
    for (std::uint8_t b : wire) ASSERT_FALSE(r.feed(std::span<const std::uint8_t>(&b, 1)));
  } else {
    std::size_t pos = 0;
    while (pos < wire.size()) {
      const std::size_t n = std::min<std::size_t>(wire.size() - pos, rng() % 300 + 1);
      ASSERT_FALSE(r.feed(std::span<const std::uint8_t>(wire.data() + pos, n)));
      pos += n;
    }
  }
}

TEST(chunk_reader, roundtrip_random_messages_at_every_chunk_size_and_split) {
  std::mt19937 rng(1234);
  for (std::uint32_t chunk_size : {1u, 128u, 4096u, 65536u}) {
    for (int mode = 0; mode < 3; ++mode) {
      chunk_writer w;
      bytes wire;
      if (chunk_size != 128) {
        w.write(2, make_set_chunk_size(chunk_size), wire);
        w.set_chunk_size(chunk_size);
      }
      std::vector<message> sent;
      const std::uint32_t csids[] = {2, 3, 63, 64, 319, 320, 65599};
      std::uint32_t ts[7] = {0, 0xFFFFF0, 0xFFFFFE, 0xFFFFFFFFu - 300, 40, 1000, 7};
      const std::size_t count = chunk_size == 1 ? 30 : 120;
      for (std::size_t i = 0; i < count; ++i) {
        const std::size_t k = rng() % 7;
        const std::size_t len = (i % 17 == 0) ? 0 : rng() % (chunk_size == 1 ? 300 : 20000);
        ts[k] += rng() % 3 == 0 ? 0 : rng() % 50;  // repeats deltas sometimes: fmt 3
        const std::uint8_t type = (i % 5 == 0) ? 9 : 8;
        auto m = make_message(type, ts[k], k == 0 ? 0 : 1, payload_of(len, static_cast<std::uint8_t>(i)));
        if (k == 0) m.type = 20;  // csid 2 carries whatever; keep it a legal size
        if (k == 0) m.payload = shared_bytes::copy_of(payload_of(len % 100, 3));
        w.write(csids[k], m, wire);
        sent.push_back(m);
      }
      chunk_reader_limits limits;
      limits.min_chunk_size = 1;
      chunk_reader r(limits);
      feed_split(r, wire, mode, rng);
      auto got = drain(r);
      if (chunk_size != 128) {
        ASSERT_FALSE(got.empty());
        EXPECT_EQ(got.front().type, 1);
        got.erase(got.begin());
      }
      ASSERT_EQ(got.size(), sent.size()) << "chunk size " << chunk_size << " mode " << mode;
      for (std::size_t i = 0; i < sent.size(); ++i) {
        EXPECT_EQ(got[i].type, sent[i].type) << i;
        EXPECT_EQ(got[i].timestamp, sent[i].timestamp) << i;
        EXPECT_EQ(got[i].stream_id, sent[i].stream_id) << i;
        EXPECT_EQ(to_vec(got[i].payload), to_vec(sent[i].payload)) << i;
      }
      EXPECT_EQ(r.bytes_received(), wire.size());
      EXPECT_EQ(r.partial_bytes(), 0u);
      EXPECT_EQ(r.chunk_size(), chunk_size);
    }
  }
}

TEST(chunk_reader, timestamps_wrap_modulo_2_pow_32) {
  chunk_writer w;
  bytes wire;
  std::vector<std::uint32_t> stamps = {0xFFFFFFFFu - 50, 0xFFFFFFFFu - 10, 5, 60, 0xFFFFFE, 0xFFFFFF, 0x1000000};
  for (auto ts : stamps) w.write(6, make_message(9, ts, 1, payload_of(300, 1)), wire);
  chunk_reader r;
  ASSERT_FALSE(r.feed(wire));
  auto got = drain(r);
  ASSERT_EQ(got.size(), stamps.size());
  for (std::size_t i = 0; i < stamps.size(); ++i) EXPECT_EQ(got[i].timestamp, stamps[i]) << i;
}

// ---------------------------------------------------------------------------
// Hand-built wire bytes.

TEST(chunk_reader, interleaved_chunk_streams) {
  // Two 200-byte messages on csid 4 and 6, chunks alternating (chunk size 128).
  const bytes a = payload_of(200, 1), v = payload_of(200, 100);
  bytes wire;
  append(wire, fmt0(4, 10, 200, 8, 1));
  wire.insert(wire.end(), a.begin(), a.begin() + 128);
  append(wire, fmt0(6, 20, 200, 9, 1));
  wire.insert(wire.end(), v.begin(), v.begin() + 128);
  wire.push_back(0xC4);  // fmt 3, csid 4
  wire.insert(wire.end(), a.begin() + 128, a.end());
  wire.push_back(0xC6);
  wire.insert(wire.end(), v.begin() + 128, v.end());
  chunk_reader r;
  ASSERT_FALSE(r.feed(wire));
  auto got = drain(r);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].type, 8);
  EXPECT_EQ(to_vec(got[0].payload), a);
  EXPECT_EQ(got[1].timestamp, 20u);
  EXPECT_EQ(to_vec(got[1].payload), v);
}

TEST(chunk_reader, basic_header_forms) {
  struct form {
    std::uint32_t csid;
    bytes basic;
  };
  const form forms[] = {{2, {0x02}},          {63, {0x3F}},          {64, {0x00, 0x00}},
                        {319, {0x00, 0xFF}},  {320, {0x01, 0x00, 0x01}}, {65599, {0x01, 0xFF, 0xFF}}};
  for (const auto& f : forms) {
    // What the writer emits ...
    chunk_writer w;
    bytes wire;
    w.write(f.csid, make_message(8, 0, 1, payload_of(3, 0)), wire);
    ASSERT_GE(wire.size(), f.basic.size());
    EXPECT_EQ(bytes(wire.begin(), wire.begin() + static_cast<long>(f.basic.size())), f.basic) << f.csid;
    EXPECT_EQ(basic_header_size_for(f.csid), f.basic.size());
    // ... and what the reader accepts: a fmt 0 then a fmt 3 new message.
    bytes in = f.basic;
    bytes mh = fmt0(2, 5, 3, 8, 1);
    in.insert(in.end(), mh.begin() + 1, mh.end());
    append(in, {1, 2, 3});
    bytes cont = f.basic;
    cont[0] |= 0xC0;
    append(in, cont);
    append(in, {4, 5, 6});
    chunk_reader r;
    ASSERT_FALSE(r.feed(in)) << f.csid;
    auto got = drain(r);
    ASSERT_EQ(got.size(), 2u) << f.csid;
    EXPECT_EQ(got[1].timestamp, 10u);  // fmt 3 after fmt 0 adds the fmt 0 timestamp
    EXPECT_EQ(to_vec(got[1].payload), (bytes{4, 5, 6}));
  }
}

TEST(chunk_reader, extended_timestamp_with_and_without_repeat_on_fmt3) {
  const bytes p = payload_of(200, 9);
  for (bool repeat : {true, false}) {
    bytes wire;
    bytes h = fmt0(6, 0xFFFFFF, 200, 9, 1);
    append(wire, h);
    append(wire, {0x01, 0x02, 0x03, 0x04});  // extended timestamp 0x01020304
    wire.insert(wire.end(), p.begin(), p.begin() + 128);
    wire.push_back(0xC6);
    if (repeat) append(wire, {0x01, 0x02, 0x03, 0x04});
    wire.insert(wire.end(), p.begin() + 128, p.end());
    // A second message right after, so that a mis-parse would show.
    append(wire, fmt0(4, 1, 2, 8, 1));
    append(wire, {0xAA, 0xBB});
    for (int one_by_one = 0; one_by_one < 2; ++one_by_one) {
      chunk_reader r;
      if (one_by_one) {
        for (auto b : wire) ASSERT_FALSE(r.feed(std::span<const std::uint8_t>(&b, 1)));
      } else {
        ASSERT_FALSE(r.feed(wire));
      }
      auto got = drain(r);
      ASSERT_EQ(got.size(), 2u) << "repeat=" << repeat;
      EXPECT_EQ(got[0].timestamp, 0x01020304u);
      EXPECT_EQ(to_vec(got[0].payload), p);
      EXPECT_EQ(to_vec(got[1].payload), (bytes{0xAA, 0xBB}));
    }
  }
}

TEST(chunk_reader, extended_delta_on_fmt1_and_fmt2) {
  bytes wire;
  append(wire, fmt0(4, 100, 1, 8, 1));
  wire.push_back(1);
  // fmt 1: delta escape + extended delta 0x01000000, length 1, type 8
  append(wire, {0x44, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x01, 0x08, 0x01, 0x00, 0x00, 0x00, 2});
  // fmt 2: delta escape + extended 0x02000000
  append(wire, {0x84, 0xFF, 0xFF, 0xFF, 0x02, 0x00, 0x00, 0x00, 3});
  // fmt 3 new message: adds the last delta again, and repeats the extended field
  append(wire, {0xC4, 0x02, 0x00, 0x00, 0x00, 4});
  chunk_reader r;
  ASSERT_FALSE(r.feed(wire));
  auto got = drain(r);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[1].timestamp, 100u + 0x01000000u);
  EXPECT_EQ(got[2].timestamp, 100u + 0x03000000u);
  EXPECT_EQ(got[3].timestamp, 100u + 0x05000000u);
  EXPECT_EQ(got[3].payload[0], 4);
}

TEST(chunk_reader, fmt1_and_fmt2_first_on_a_chunk_stream_are_accepted) {
  bytes wire = {0x42, 0x00, 0x00, 0x05, 0x00, 0x00, 0x06, 0x04, 0x00, 0x06, 0, 0, 0, 1};  // ping request
  chunk_reader r;
  ASSERT_FALSE(r.feed(wire));
  auto got = drain(r);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].type, 4);
  EXPECT_EQ(got[0].stream_id, 0u);
  EXPECT_EQ(got[0].timestamp, 5u);
}

TEST(chunk_reader, fmt3_without_history_is_an_error) {
  chunk_reader r;
  const bytes wire = {0xC5, 0x01};
  EXPECT_EQ(r.feed(wire), rtmp::errc::chunk_no_previous_header);
  // Sticky: no more input is accepted.
  EXPECT_EQ(r.feed(wire), rtmp::errc::chunk_no_previous_header);
}

TEST(chunk_reader, zero_length_messages_are_delivered_empty) {
  bytes wire = fmt0(3, 0, 0, 20, 0);
  append(wire, fmt0(4, 0, 0, 8, 1));
  append(wire, fmt0(4, 0, 1, 8, 1));
  wire.push_back(7);
  chunk_reader r;
  ASSERT_FALSE(r.feed(wire));
  auto got = drain(r);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_TRUE(got[0].payload.empty());
  EXPECT_TRUE(got[1].payload.empty());
  EXPECT_EQ(got[2].payload[0], 7);
}

// ---------------------------------------------------------------------------
// Set Chunk Size and Abort.

bytes set_chunk_size_bytes(std::uint32_t v) {
  bytes wire = fmt0(2, 0, 4, 1, 0);
  bytes b(4);
  store_be32(b.data(), v);
  append(wire, b);
  return wire;
}

TEST(chunk_reader, set_chunk_size_zero_and_top_bit_are_errors) {
  for (std::uint32_t v : {0u, 0x80000000u, 0xFFFFFFFFu}) {
    chunk_reader r;
    EXPECT_EQ(r.feed(set_chunk_size_bytes(v)), rtmp::errc::chunk_size_invalid) << v;
  }
}

TEST(chunk_reader, set_chunk_size_below_floor_is_refused_unless_configured) {
  chunk_reader strict;
  EXPECT_EQ(strict.feed(set_chunk_size_bytes(1)), rtmp::errc::chunk_size_below_floor);
  chunk_reader_limits limits;
  limits.min_chunk_size = 1;
  chunk_reader lenient(limits);
  EXPECT_FALSE(lenient.feed(set_chunk_size_bytes(1)));
  EXPECT_EQ(lenient.chunk_size(), 1u);
}

TEST(chunk_reader, huge_chunk_size_is_legal_and_allocates_nothing) {
  chunk_reader r;
  bytes wire = set_chunk_size_bytes(0x7FFFFFFF);
  const bytes p = payload_of(5000, 1);
  append(wire, fmt0(6, 0, 5000, 9, 1));
  append(wire, p);
  ASSERT_FALSE(r.feed(wire));
  EXPECT_EQ(r.chunk_size(), r.limits().max_message_size);
  auto got = drain(r);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(to_vec(got[1].payload), p);
  EXPECT_EQ(r.partial_bytes(), 0u);
}

TEST(chunk_reader, set_chunk_size_with_short_payload_is_malformed) {
  bytes wire = fmt0(2, 0, 3, 1, 0);
  append(wire, {0, 0, 1});
  chunk_reader r;
  EXPECT_EQ(r.feed(wire), rtmp::errc::control_message_malformed);
}

TEST(chunk_reader, abort_discards_only_the_partial_message) {
  const bytes p = payload_of(300, 1);
  bytes wire = fmt0(6, 0, 300, 9, 1);
  wire.insert(wire.end(), p.begin(), p.begin() + 128);
  // Abort csid 6 (and 999, which is unknown: ignored).
  append(wire, fmt0(2, 0, 4, 2, 0));
  append(wire, {0, 0, 0, 6});
  append(wire, fmt0(2, 0, 4, 2, 0));
  append(wire, {0, 0, 0x03, 0xE7});
  // A new message on csid 6 parses normally.
  append(wire, fmt0(6, 33, 3, 9, 1));
  append(wire, {7, 8, 9});
  chunk_reader r;
  ASSERT_FALSE(r.feed(wire));
  auto got = drain(r);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].type, 2);
  EXPECT_EQ(got[2].timestamp, 33u);
  EXPECT_EQ(to_vec(got[2].payload), (bytes{7, 8, 9}));
  EXPECT_EQ(r.partial_bytes(), 0u);
}

TEST(chunk_reader, abort_naming_its_own_chunk_stream_then_fmt1) {
  // HOSTILE-CASES T-10: 02 000000 000004 02 00000000 00000002, then 42 000000 000004 03 00000000.
  const bytes wire = {0x02, 0, 0, 0, 0, 0, 4, 2, 0, 0, 0, 0, 0, 0, 0, 2,
                      0x42, 0, 0, 0, 0, 0, 4, 3, 0, 0, 0, 0};
  chunk_reader r;
  ASSERT_FALSE(r.feed(wire));
  auto got = drain(r);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].type, 3);
}

TEST(chunk_reader, abort_with_short_payload_is_malformed) {
  bytes wire = fmt0(2, 0, 2, 2, 0);
  append(wire, {0, 6});
  chunk_reader r;
  EXPECT_EQ(r.feed(wire), rtmp::errc::control_message_malformed);
}

// ---------------------------------------------------------------------------
// Limits.

TEST(chunk_reader, message_length_redeclared_mid_message_is_an_error) {
  // T-13: 05 000000 030D40 09 01000000 <64 KiB>, then 45 000000 00000A 09.
  chunk_reader_limits limits;
  limits.min_chunk_size = 1;
  chunk_reader r(limits);
  bytes wire = set_chunk_size_bytes(65536);
  append(wire, fmt0(5, 0, 0x030D40, 9, 1));
  append(wire, bytes(65536, 0x11));
  append(wire, {0x45, 0, 0, 0, 0, 0, 0x0A, 9});
  EXPECT_EQ(r.feed(wire), rtmp::errc::message_length_changed);
}

TEST(chunk_reader, new_header_while_partial_is_an_error) {
  bytes wire = fmt0(5, 0, 200, 9, 1);
  append(wire, bytes(128, 1));
  append(wire, fmt0(5, 0, 200, 9, 1));
  chunk_reader r;
  EXPECT_EQ(r.feed(wire), rtmp::errc::message_interrupted);
}

TEST(chunk_reader, message_size_limits_apply_per_type_before_buffering) {
  struct c {
    std::uint8_t type;
    std::uint32_t len;
  };
  chunk_reader_limits limits;
  limits.max_message_size = 2 * 1024 * 1024;
  for (const c& k : {c{20, 256 * 1024 + 1}, c{18, 1024 * 1024 + 1}, c{9, 2 * 1024 * 1024 + 1}, c{4, 65}}) {
    chunk_reader r(limits);
    EXPECT_EQ(r.feed(fmt0(5, 0, k.len, k.type, 1)), rtmp::errc::message_too_large) << int(k.type);
    EXPECT_EQ(r.partial_bytes(), 0u);
  }
  // 16 MB command (T-19) is refused on the header.
  chunk_reader r;
  EXPECT_EQ(r.feed(fmt0(3, 0, 0xFFFFFF, 20, 0)), rtmp::errc::message_too_large);
}

TEST(chunk_reader, many_chunk_streams_with_partials_hit_the_open_stream_cap) {
  // T-18: csids 64+i, each with the first 128 bytes of a 16 MB video message.
  chunk_reader r;
  std::error_code ec;
  std::size_t i = 0;
  for (; i < 1000 && !ec; ++i) {
    const std::uint32_t csid = 64 + static_cast<std::uint32_t>(i);
    bytes wire = {0x01, static_cast<std::uint8_t>((csid - 64) & 0xFF), static_cast<std::uint8_t>((csid - 64) >> 8)};
    bytes mh = fmt0(2, 0, 0xFFFFF0, 9, 1);
    wire.insert(wire.end(), mh.begin() + 1, mh.end());
    append(wire, bytes(128, 0x22));
    ec = r.feed(wire);
  }
  EXPECT_TRUE(ec == rtmp::errc::too_many_chunk_streams || ec == rtmp::errc::partial_bytes_exceeded) << ec.message();
  EXPECT_LE(i, 33u);
  EXPECT_LE(r.partial_bytes(), r.limits().max_partial_bytes);
}

TEST(chunk_reader, partial_byte_budget) {
  chunk_reader_limits limits;
  limits.max_partial_bytes = 1000;
  limits.initial_payload_allocation = 100;
  chunk_reader r(limits);
  bytes wire = fmt0(6, 0, 5000, 9, 1);
  append(wire, bytes(128, 0x33));
  for (int i = 0; i < 9; ++i) {
    wire.push_back(0xC6);
    append(wire, bytes(128, 0x33));
  }
  EXPECT_EQ(r.feed(wire), rtmp::errc::partial_bytes_exceeded);
}

TEST(chunk_reader, tracked_chunk_stream_cap) {
  chunk_reader_limits limits;
  limits.max_chunk_streams = 4;
  chunk_reader r(limits);
  bytes wire;
  for (std::uint32_t csid = 3; csid < 8; ++csid) {
    append(wire, fmt0(csid, 0, 1, 8, 1));
    wire.push_back(1);
  }
  EXPECT_EQ(r.feed(wire), rtmp::errc::too_many_chunk_streams);
  EXPECT_EQ(r.ready_count(), 4u);
}

TEST(chunk_reader, declared_length_alone_allocates_little) {
  chunk_reader_limits limits;
  limits.initial_payload_allocation = 4096;
  chunk_reader r(limits);
  bytes wire = fmt0(6, 0, 8 * 1024 * 1024, 9, 1);
  append(wire, bytes(128, 1));
  ASSERT_FALSE(r.feed(wire));
  EXPECT_EQ(r.partial_bytes(), 4096u);
}

// ---------------------------------------------------------------------------
// Aggregates and real captures.

TEST(chunk_reader, aggregate_is_split_into_sub_messages) {
  bytes body;
  auto tag = [&](std::uint8_t type, std::uint32_t ts, const bytes& p) {
    bytes h(11, 0);
    h[0] = type;
    store_be24(&h[1], static_cast<std::uint32_t>(p.size()));
    store_be24(&h[4], ts & 0xFFFFFF);
    h[7] = static_cast<std::uint8_t>(ts >> 24);
    append(body, h);
    append(body, p);
    bytes bp(4);
    store_be32(bp.data(), static_cast<std::uint32_t>(11 + p.size()));
    append(body, bp);
  };
  tag(9, 1000, {1, 2, 3});
  tag(8, 1040, {4, 5});
  bytes wire = fmt0(6, 500, static_cast<std::uint32_t>(body.size()), 22, 1);
  append(wire, body);
  chunk_reader r;
  ASSERT_FALSE(r.feed(wire));
  auto got = drain(r);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].type, 9);
  EXPECT_EQ(got[0].timestamp, 500u);
  EXPECT_EQ(got[1].timestamp, 540u);
  EXPECT_EQ(got[1].stream_id, 1u);
  EXPECT_EQ(to_vec(got[1].payload), (bytes{4, 5}));
}

TEST(chunk_reader, malformed_aggregate_is_an_error) {
  bytes body = {9, 0, 0, 50, 0, 0, 0, 0, 0, 0, 0, 1, 2};  // declares 50 bytes, has 2
  bytes wire = fmt0(6, 0, static_cast<std::uint32_t>(body.size()), 22, 1);
  append(wire, body);
  chunk_reader r;
  EXPECT_EQ(r.feed(wire), rtmp::errc::aggregate_malformed);
}

TEST(chunk_reader, decodes_ffmpeg_publish_capture) {
  const bytes file = read_capture("ffmpeg-publish.c2s.bin");
  ASSERT_GT(file.size(), 3073u);
  const std::span<const std::uint8_t> chunks(file.data() + 3073, file.size() - 3073);
  for (int mode = 0; mode < 2; ++mode) {
    chunk_reader r;
    if (mode == 0) {
      ASSERT_FALSE(r.feed(chunks));
    } else {
      for (std::size_t i = 0; i < chunks.size(); i += 1000) {
        ASSERT_FALSE(r.feed(chunks.subspan(i, std::min<std::size_t>(1000, chunks.size() - i))));
      }
    }
    auto got = drain(r);
    ASSERT_GT(got.size(), 20u);
    EXPECT_EQ(got[0].type, 20);
    EXPECT_EQ(got[0].payload.size(), 140u);
    EXPECT_EQ(got[1].type, 1);  // ffmpeg's Set Chunk Size
    EXPECT_EQ(r.chunk_size(), 4096u);
    std::size_t audio = 0, video = 0, data = 0, commands = 0;
    for (const auto& m : got) {
      audio += m.type == 8;
      video += m.type == 9;
      data += m.type == 18;
      commands += m.type == 20;
    }
    EXPECT_EQ(commands, 5u);  // connect, releaseStream, FCPublish, createStream, publish
    EXPECT_EQ(data, 1u);      // @setDataFrame onMetaData
    EXPECT_GT(audio, 10u);
    EXPECT_GT(video, 3u);
    // First video message is the AVC sequence header (17 00).
    for (const auto& m : got) {
      if (m.type == 9) {
        EXPECT_EQ(m.payload[0], 0x17);
        EXPECT_EQ(m.payload[1], 0x00);
        EXPECT_EQ(m.stream_id, 1u);
        break;
      }
    }
  }
}

TEST(chunk_reader, decodes_every_client_capture_without_error) {
  for (const char* name : {"ffmpeg-play.c2s.bin", "rtmpdump-play.c2s.bin", "gst-rtmp2src-play.c2s.bin",
                           "gst-rtmp2sink-publish.c2s.bin"}) {
    const bytes file = read_capture(name);
    ASSERT_GT(file.size(), 3073u) << name;
    chunk_reader r;
    ASSERT_FALSE(r.feed(std::span<const std::uint8_t>(file.data() + 3073, file.size() - 3073))) << name;
    auto got = drain(r);
    ASSERT_FALSE(got.empty()) << name;
    EXPECT_EQ(got[0].type, 20) << name;  // connect
  }
}

TEST(chunk_reader, decodes_every_server_capture_without_error) {
  for (const char* name : {"ffmpeg-play.s2c.bin", "rtmpdump-play.s2c.bin", "gst-rtmp2src-play.s2c.bin",
                           "ffmpeg-publish.s2c.bin", "gst-rtmp2sink-publish.s2c.bin"}) {
    const bytes file = read_capture(name);
    ASSERT_GT(file.size(), 3073u) << name;
    chunk_reader r;
    ASSERT_FALSE(r.feed(std::span<const std::uint8_t>(file.data() + 3073, file.size() - 3073))) << name;
    auto got = drain(r);
    EXPECT_GE(got.size(), 4u) << name;
  }
}

}  // namespace
