#include "net/outbound_queue.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

namespace rtmp::net {

namespace {

// First ring size, and the largest one a drained queue keeps: a connection
// that queues now and then (control replies, a short stall) does not
// allocate each time, and one that once queued a lot gives it back.
constexpr std::size_t initial_ring_blocks = 4;

}  // namespace

void outbound_queue::grow() {
  const std::size_t capacity = ring_.empty() ? initial_ring_blocks : ring_.size() * 2;
  std::vector<out_block> bigger(capacity);
  for (std::size_t i = 0; i < count_; ++i) bigger[i] = std::move(at(i));
  ring_.swap(bigger);
  head_ = 0;
}

void outbound_queue::push(out_block block) {
  const std::size_t size = block.size();
  if (size == 0) return;
  if (count_ == ring_.size()) grow();
  queued_[static_cast<std::size_t>(block.kind)] += size;
  at(count_) = std::move(block);
  ++count_;
}

void outbound_queue::push(proto::shared_bytes bytes, byte_class kind) {
  if (bytes.empty()) return;
  out_block b;
  b.body = std::move(bytes);
  b.kind = kind;
  push(std::move(b));
}

void outbound_queue::push_partial(proto::shared_bytes bytes, byte_class kind, std::size_t skip) {
  if (skip >= bytes.size()) return;
  const bool was_empty = empty();
  push(std::move(bytes), kind);
  if (was_empty) front_offset_ = skip;
}

void outbound_queue::pop_front() noexcept {
  out_block& b = at(0);
  queued_[static_cast<std::size_t>(b.kind)] -= b.size();
  b = out_block{};  // releases the shared bytes now
  head_ = (head_ + 1) & (ring_.size() - 1);
  --count_;
  if (count_ == 0) {
    head_ = 0;
    if (ring_.size() > initial_ring_blocks) std::vector<out_block>().swap(ring_);
  }
}

void outbound_queue::consume(std::size_t n) noexcept {
  while (n > 0 && count_ > 0) {
    const std::size_t rest = at(0).size() - front_offset_;
    if (n < rest) {
      front_offset_ += n;
      return;
    }
    n -= rest;
    front_offset_ = 0;
    pop_front();
  }
}

void outbound_queue::clear() noexcept {
  std::vector<out_block>().swap(ring_);
  head_ = 0;
  count_ = 0;
  front_offset_ = 0;
  queued_ = {};
}

std::size_t outbound_queue::linearize(std::vector<std::uint8_t>& out, const gather_limits& limits) const {
  std::size_t total = 0;
  std::size_t pieces = 0;
  out.clear();
  visit(limits, total, pieces, [&](std::span<const std::uint8_t> piece) {
    out.insert(out.end(), piece.begin(), piece.end());
  });
  return total;
}

}  // namespace rtmp::net
