#pragma once
// The bytes a connection still has to send, with no I/O: every connection
// kind (RTMP player and publisher, RTMPS, HTTP API, HTTP-FLV, relay, client,
// bench) queues what it sends here and drives one of the two socket drivers
// of socket_writer.hpp. The queue answers the writer's three questions:
// what to write next (`gather`, or `linearize` for a TLS record layer), how
// much went (`consume`), and how much is still owed (`queued`, per class of
// bytes, for the connection's bounds).
//
// A block is shared bytes (a packet's wire bytes, a payload: never copied
// here) between optional small inline framing: a patched chunk header for a
// player on another message stream id, the HTTP chunk-size line and FLV tag
// header before a payload, the PreviousTagSize and CRLF after it. So framing
// per player costs no allocation either.
//
// Storage is a ring that allocates on first use and is released when it
// drains after having grown large: an idle connection holds no buffer.
//
// Threading: none; a queue belongs to one connection on one worker.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "rtmp/proto/shared_bytes.hpp"

namespace rtmp::net {

/// One socket operation carries at most this many buffers: Asio caps a
/// buffer sequence at 64 entries (IOV_MAX is larger on Linux).
inline constexpr std::size_t max_write_buffers = 64;

/// What queued bytes are, for the connection's bounds.
enum class byte_class : std::uint8_t {
  media,    ///< Audio/video/data for a player: bounded by the player's queue bound.
  control,  ///< Replies the peer provokes (acks, pongs, command results): bounded separately.
};

/// A few framing bytes kept inline in a block.
template <std::size_t Capacity>
struct inline_bytes {
  std::array<std::uint8_t, Capacity> data{};
  std::uint8_t size = 0;

  /// Appends `bytes`; the caller keeps the total within Capacity.
  void append(std::span<const std::uint8_t> bytes) noexcept {
    for (const std::uint8_t b : bytes) data[size++] = b;
  }
  /// The bytes held.
  std::span<const std::uint8_t> span() const noexcept { return {data.data(), size}; }
};

/// One queued unit: `head`, then `body` (shared), then `tail`.
struct out_block {
  /// Longest inline head: an HTTP chunk-size line (8 hex digits and CRLF)
  /// and an 11-byte FLV tag header fit, and so does a full RTMP chunk
  /// header (3 + 11 + 4 bytes).
  static constexpr std::size_t head_capacity = 32;
  /// Longest inline tail: a PreviousTagSize and CRLF.
  static constexpr std::size_t tail_capacity = 8;

  inline_bytes<head_capacity> head;
  proto::shared_bytes body;
  inline_bytes<tail_capacity> tail;
  byte_class kind = byte_class::media;

  /// Bytes of the whole block.
  std::size_t size() const noexcept { return head.size + body.size() + tail.size; }
};

/// How much one write may carry.
struct gather_limits {
  std::size_t max_buffers = max_write_buffers;              ///< Buffers per gather (pieces of blocks).
  std::size_t max_bytes = std::size_t{1024} * 1024;         ///< Bytes per gather (at least one piece goes).
};

/// A connection's unsent bytes: a queue of blocks with a front offset.
class outbound_queue {
 public:
  outbound_queue() = default;
  outbound_queue(const outbound_queue&) = delete;
  outbound_queue& operator=(const outbound_queue&) = delete;
  outbound_queue(outbound_queue&&) noexcept = default;
  outbound_queue& operator=(outbound_queue&&) noexcept = default;

  /// Queues `bytes` (shared, not copied). Empty bytes are ignored.
  void push(proto::shared_bytes bytes, byte_class kind);
  /// Queues a block with framing. A block of 0 bytes is ignored.
  void push(out_block block);
  /// Queues `bytes` the caller wrote after `skip` bytes of them were
  /// already sent (a direct write the socket took only part of).
  void push_partial(proto::shared_bytes bytes, byte_class kind, std::size_t skip);

  /// True when nothing is owed.
  bool empty() const noexcept { return count_ == 0; }
  /// Blocks queued.
  std::size_t blocks() const noexcept { return count_; }
  /// Unsent bytes of one class (a partly sent front block counts whole until it is done).
  std::size_t queued(byte_class kind) const noexcept { return queued_[static_cast<std::size_t>(kind)]; }
  /// Unsent bytes of both classes.
  std::size_t queued() const noexcept { return queued_[0] + queued_[1]; }

  /// The next write: appends up to `limits.max_buffers` buffers (each made
  /// as `Buffer(const void*, std::size_t)`, e.g. asio::const_buffer) to
  /// `out`, the front block from its offset. Returns the bytes gathered.
  /// The buffers point into the queued blocks: valid until `consume`,
  /// `clear` or the queue's destruction.
  template <class Buffer>
  std::size_t gather(std::vector<Buffer>& out, const gather_limits& limits = {}) const {
    std::size_t total = 0;
    std::size_t pieces = 0;
    visit(limits, total, pieces, [&](std::span<const std::uint8_t> piece) {
      out.emplace_back(static_cast<const void*>(piece.data()), piece.size());
    });
    return total;
  }

  /// The next write for a record layer (TLS), which wants one buffer:
  /// copies what `gather` would give into `out` (replacing its contents).
  /// Returns the bytes copied.
  std::size_t linearize(std::vector<std::uint8_t>& out, const gather_limits& limits = {}) const;

  /// `n` bytes of the front went out: retires whole blocks and moves the
  /// front offset. `n` is at most `queued()`.
  void consume(std::size_t n) noexcept;

  /// Drops everything (the connection closes).
  void clear() noexcept;

 private:
  // Calls `piece` for each non-empty piece of the next write.
  template <class F>
  void visit(const gather_limits& limits, std::size_t& total, std::size_t& pieces, F&& piece) const {
    std::size_t skip = front_offset_;
    for (std::size_t i = 0; i < count_; ++i) {
      const out_block& b = at(i);
      const std::span<const std::uint8_t> parts[3] = {b.head.span(), b.body.span(), b.tail.span()};
      for (const auto& part : parts) {
        if (part.size() <= skip) {
          skip -= part.size();
          continue;
        }
        if (pieces == limits.max_buffers || (pieces > 0 && total >= limits.max_bytes)) return;
        const auto rest = part.subspan(skip);
        skip = 0;
        piece(rest);
        total += rest.size();
        ++pieces;
      }
    }
  }

  const out_block& at(std::size_t i) const noexcept { return ring_[(head_ + i) & (ring_.size() - 1)]; }
  out_block& at(std::size_t i) noexcept { return ring_[(head_ + i) & (ring_.size() - 1)]; }
  void grow();
  void pop_front() noexcept;

  std::vector<out_block> ring_;  // capacity a power of two, or empty
  std::size_t head_ = 0;
  std::size_t count_ = 0;
  std::size_t front_offset_ = 0;  // bytes of the front block already sent
  std::array<std::size_t, 2> queued_{};
};

}  // namespace rtmp::net
