#include "rtmp/proto/chunk_writer.hpp"

#include <gtest/gtest.h>

#include "rtmp/proto/chunk_reader.hpp"

namespace {

using namespace rtmp::proto;
using bytes = std::vector<std::uint8_t>;

message make_message(std::uint8_t type, std::uint32_t ts, std::uint32_t msid, std::size_t len) {
  bytes p(len);
  for (std::size_t i = 0; i < len; ++i) p[i] = static_cast<std::uint8_t>(i);
  message m;
  m.type = type;
  m.timestamp = ts;
  m.stream_id = msid;
  m.payload = shared_bytes::copy_of(p);
  return m;
}

TEST(chunk_writer, fmt0_header_bytes_are_exact) {
  chunk_writer w;
  bytes out;
  w.write(3, make_message(20, 0x010203, 0x04030201, 2), out);
  const bytes expected = {0x03, 0x01, 0x02, 0x03, 0x00, 0x00, 0x02, 0x14, 0x01, 0x02, 0x03, 0x04, 0x00, 0x01};
  EXPECT_EQ(out, expected);  // message stream id is little-endian
}

TEST(chunk_writer, header_compression_goes_fmt0_1_2_3) {
  chunk_writer w;
  std::vector<unsigned> fmts;
  auto fmt_of = [&](const message& m) {
    bytes out;
    w.write(6, m, out);
    fmts.push_back(out[0] >> 6);
  };
  fmt_of(make_message(9, 0, 1, 10));   // first: fmt 0
  fmt_of(make_message(9, 40, 1, 20));  // length changes: fmt 1
  fmt_of(make_message(9, 80, 1, 20));  // same length, delta 40 again, but after fmt 1: fmt 3
  fmt_of(make_message(9, 90, 1, 20));  // delta changes: fmt 2
  fmt_of(make_message(9, 100, 1, 20)); // same delta: fmt 3
  fmt_of(make_message(8, 110, 1, 20)); // type changes: fmt 1
  fmt_of(make_message(8, 50, 1, 20));  // backwards: fmt 0
  fmt_of(make_message(8, 60, 2, 20));  // other stream id: fmt 0
  EXPECT_EQ(fmts, (std::vector<unsigned>{0, 1, 3, 2, 3, 1, 0, 0}));
}

TEST(chunk_writer, splits_payload_into_fmt3_continuations) {
  chunk_writer w;
  bytes out;
  w.write(4, make_message(8, 5, 1, 300), out);  // 128 + 128 + 44
  EXPECT_EQ(out.size(), 12u + 300u + 2u);
  EXPECT_EQ(out[12 + 128], 0xC4);
  EXPECT_EQ(out[12 + 128 + 1 + 128], 0xC4);
}

TEST(chunk_writer, extended_timestamp_is_repeated_on_continuations) {
  chunk_writer w;
  bytes out;
  w.write(4, make_message(8, 0x12345678, 1, 200), out);
  ASSERT_EQ(out.size(), 12u + 4u + 200u + 1u + 4u);
  EXPECT_EQ(out[1], 0xFF);
  EXPECT_EQ(out[2], 0xFF);
  EXPECT_EQ(out[3], 0xFF);
  EXPECT_EQ(out[12], 0x12);
  EXPECT_EQ(out[16 + 128], 0xC4);
  EXPECT_EQ(out[16 + 128 + 1], 0x12);
  EXPECT_EQ(out[16 + 128 + 4], 0x78);
}

TEST(chunk_writer, zero_length_message_is_a_bare_header) {
  chunk_writer w;
  bytes out;
  w.write(3, make_message(20, 0, 0, 0), out);
  EXPECT_EQ(out.size(), 12u);
}

TEST(chunk_writer, standalone_encoding_matches_a_fresh_writer_and_decodes) {
  for (std::uint32_t chunk_size : {128u, 4096u}) {
    for (std::uint32_t ts : {0u, 1000u, 0xFFFFFFu, 0xFFFFFFFFu}) {
      const auto m = make_message(9, ts, 1, 10000);
      chunk_writer w;
      w.set_chunk_size(chunk_size);
      bytes fresh;
      w.write(6, m, fresh);
      const auto shared = encode_standalone(6, m, chunk_size);
      ASSERT_EQ(bytes(shared.data(), shared.data() + shared.size()), fresh);

      chunk_reader_limits limits;
      chunk_reader r(limits);
      if (chunk_size != 128) {
        bytes scs = {0x02, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0, 0, 0, 0x10, 0};
        ASSERT_FALSE(r.feed(scs));
      }
      ASSERT_FALSE(r.feed(shared.span()));
      message got;
      if (chunk_size != 128) {
        ASSERT_TRUE(r.next(got));
      }
      ASSERT_TRUE(r.next(got));
      EXPECT_EQ(got.timestamp, ts);
      EXPECT_EQ(got.payload.size(), 10000u);
    }
  }
}

TEST(chunk_writer, reset_forces_fmt0) {
  chunk_writer w;
  bytes out;
  w.write(6, make_message(9, 0, 1, 10), out);
  w.reset(6);
  out.clear();
  w.write(6, make_message(9, 40, 1, 10), out);
  EXPECT_EQ(out[0] >> 6, 0);
}

TEST(chunk_writer, chunk_size_is_clamped) {
  chunk_writer w;
  w.set_chunk_size(0);
  EXPECT_EQ(w.chunk_size(), 1u);
  w.set_chunk_size(0xFFFFFFFFu);
  EXPECT_EQ(w.chunk_size(), max_chunk_size);
}

}  // namespace
