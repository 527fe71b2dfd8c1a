// The sans-I/O outbound queue every connection kind writes through:
// gather limits, partial writes, byte accounting per class, framing around
// shared bytes, linearizing for TLS, and ring growth and release.

#include "net/outbound_queue.hpp"

#include <gtest/gtest.h>

#include <numeric>
#include <random>
#include <string>
#include <vector>

namespace rtmp::net {
namespace {

struct piece {
  piece(const void* d, std::size_t n) : data(static_cast<const std::uint8_t*>(d)), size(n) {}
  const std::uint8_t* data;
  std::size_t size;
};

proto::shared_bytes bytes_of(std::string_view s) {
  return proto::shared_bytes::copy_of(
      std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
}

// What the queue would send next, as a string.
std::string next_write(const outbound_queue& q, gather_limits limits = {}) {
  std::vector<piece> pieces;
  const std::size_t n = q.gather(pieces, limits);
  std::string s;
  for (const auto& p : pieces) s.append(reinterpret_cast<const char*>(p.data), p.size);
  EXPECT_EQ(s.size(), n);
  return s;
}

// Sends everything, `step` bytes at a time at most; returns what went out.
std::string drain(outbound_queue& q, std::size_t step, gather_limits limits = {}) {
  std::string sent;
  while (!q.empty()) {
    const std::string w = next_write(q, limits);
    EXPECT_FALSE(w.empty());
    const std::size_t n = std::min(step, w.size());
    sent += w.substr(0, n);
    q.consume(n);
  }
  return sent;
}

TEST(outbound_queue, starts_empty_and_ignores_empty_blocks) {
  outbound_queue q;
  EXPECT_TRUE(q.empty());
  q.push(proto::shared_bytes{}, byte_class::media);
  q.push(out_block{});
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.queued(), 0u);
  EXPECT_EQ(next_write(q), "");
}

TEST(outbound_queue, gathers_in_order_and_accounts_per_class) {
  outbound_queue q;
  q.push(bytes_of("abc"), byte_class::control);
  q.push(bytes_of("defg"), byte_class::media);
  q.push(bytes_of("h"), byte_class::media);
  EXPECT_EQ(q.blocks(), 3u);
  EXPECT_EQ(q.queued(byte_class::control), 3u);
  EXPECT_EQ(q.queued(byte_class::media), 5u);
  EXPECT_EQ(next_write(q), "abcdefgh");
  q.consume(8);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.queued(), 0u);
}

TEST(outbound_queue, a_partly_sent_block_counts_until_done_and_resumes_at_its_offset) {
  outbound_queue q;
  q.push(bytes_of("hello"), byte_class::media);
  q.push(bytes_of("world"), byte_class::control);
  q.consume(3);
  EXPECT_EQ(q.queued(byte_class::media), 5u);
  EXPECT_EQ(next_write(q), "loworld");
  q.consume(4);  // "lo" and "wo"
  EXPECT_EQ(q.queued(byte_class::media), 0u);
  EXPECT_EQ(q.queued(byte_class::control), 5u);
  EXPECT_EQ(next_write(q), "rld");
}

TEST(outbound_queue, framing_is_sent_around_the_shared_body) {
  outbound_queue q;
  out_block b;
  const std::string head = "1a\r\nTAG";
  const std::string tail = "\r\n";
  b.head.append(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(head.data()), head.size()));
  b.body = bytes_of("payload");
  b.tail.append(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(tail.data()), tail.size()));
  q.push(std::move(b));
  EXPECT_EQ(q.queued(byte_class::media), head.size() + 7 + tail.size());
  std::vector<piece> pieces;
  q.gather(pieces);
  ASSERT_EQ(pieces.size(), 3u);
  EXPECT_EQ(next_write(q), "1a\r\nTAGpayload\r\n");
  // Offsets inside the head, the body and the tail.
  q.consume(2);
  EXPECT_EQ(next_write(q), "\r\nTAGpayload\r\n");
  q.consume(7);  // the rest of the head and "pa"
  EXPECT_EQ(next_write(q), "yload\r\n");
  q.consume(6);
  EXPECT_EQ(next_write(q), "\n");
  q.consume(1);
  EXPECT_TRUE(q.empty());
}

TEST(outbound_queue, the_body_is_shared_not_copied) {
  outbound_queue q;
  const auto payload = bytes_of("shared payload");
  q.push(payload, byte_class::media);
  q.push(payload, byte_class::media);
  EXPECT_EQ(payload.use_count(), 3);
  std::vector<piece> pieces;
  q.gather(pieces);
  ASSERT_EQ(pieces.size(), 2u);
  EXPECT_EQ(pieces[0].data, payload.data());
  EXPECT_EQ(pieces[1].data, payload.data());
  q.consume(payload.size());
  EXPECT_EQ(payload.use_count(), 2);  // released as soon as it was sent
  q.clear();
  EXPECT_EQ(payload.use_count(), 1);
}

TEST(outbound_queue, a_gather_holds_at_most_max_buffers) {
  outbound_queue q;
  for (int i = 0; i < 200; ++i) q.push(bytes_of("x"), byte_class::media);
  std::vector<piece> pieces;
  EXPECT_EQ(q.gather(pieces), max_write_buffers);
  EXPECT_EQ(pieces.size(), max_write_buffers);
  pieces.clear();
  EXPECT_EQ(q.gather(pieces, {.max_buffers = 3, .max_bytes = 1000}), 3u);
  EXPECT_EQ(pieces.size(), 3u);
}

TEST(outbound_queue, a_gather_stops_past_max_bytes_but_always_takes_one_piece) {
  outbound_queue q;
  q.push(bytes_of(std::string(100, 'a')), byte_class::media);
  q.push(bytes_of(std::string(100, 'b')), byte_class::media);
  q.push(bytes_of(std::string(100, 'c')), byte_class::media);
  EXPECT_EQ(next_write(q, {.max_buffers = 64, .max_bytes = 10}).size(), 100u);
  EXPECT_EQ(next_write(q, {.max_buffers = 64, .max_bytes = 150}).size(), 200u);
}

TEST(outbound_queue, linearize_copies_exactly_what_gather_gives) {
  outbound_queue q;
  q.push(bytes_of("0123456789"), byte_class::control);
  out_block b;
  const std::uint8_t h[] = {'<'};
  const std::uint8_t t[] = {'>'};
  b.head.append(h);
  b.body = bytes_of("mid");
  b.tail.append(t);
  q.push(std::move(b));
  q.consume(4);
  std::vector<std::uint8_t> flat{'s', 't', 'a', 'l', 'e'};
  const std::size_t n = q.linearize(flat);
  EXPECT_EQ(std::string(flat.begin(), flat.end()), "456789<mid>");
  EXPECT_EQ(n, flat.size());
}

TEST(outbound_queue, push_partial_starts_an_empty_queue_at_the_offset) {
  outbound_queue q;
  q.push_partial(bytes_of("abcdef"), byte_class::media, 4);
  EXPECT_EQ(next_write(q), "ef");
  EXPECT_EQ(q.queued(byte_class::media), 6u);
  q.push_partial(bytes_of("ghi"), byte_class::media, 0);
  EXPECT_EQ(next_write(q), "efghi");
  q.push_partial(bytes_of("zz"), byte_class::media, 2);  // all of it went: nothing to queue
  EXPECT_EQ(q.blocks(), 2u);
}

TEST(outbound_queue, any_split_of_the_writes_sends_the_same_bytes) {
  std::mt19937 rng(7);
  for (int round = 0; round < 50; ++round) {
    outbound_queue q;
    std::string expected;
    std::uniform_int_distribution<int> len(0, 40);
    std::uniform_int_distribution<int> step(1, 60);
    const int blocks = 1 + static_cast<int>(rng() % 300);
    for (int i = 0; i < blocks; ++i) {
      std::string s(static_cast<std::size_t>(len(rng)), static_cast<char>('a' + i % 26));
      expected += s;
      q.push(bytes_of(s), i % 3 == 0 ? byte_class::control : byte_class::media);
    }
    std::string sent;
    while (!q.empty()) {
      const std::string w = next_write(q, {.max_buffers = 1 + rng() % 64, .max_bytes = 1 + rng() % 500});
      const std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(step(rng)), w.size());
      sent += w.substr(0, n);
      q.consume(n);
    }
    EXPECT_EQ(sent, expected);
    EXPECT_EQ(q.queued(), 0u);
  }
}

TEST(outbound_queue, grows_while_writes_interleave_with_pushes) {
  outbound_queue q;
  std::string expected;
  std::string sent;
  for (int i = 0; i < 1000; ++i) {
    const std::string s = std::to_string(i) + ",";
    expected += s;
    q.push(bytes_of(s), byte_class::media);
    if (i % 7 == 0) {
      const std::string w = next_write(q);
      const std::size_t n = w.size() / 2;
      sent += w.substr(0, n);
      q.consume(n);
    }
  }
  sent += drain(q, 5);
  EXPECT_EQ(sent, expected);
}

}  // namespace
}  // namespace rtmp::net
