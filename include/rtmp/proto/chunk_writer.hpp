#pragma once
/// @file chunk_writer.hpp
/// Sans-I/O RTMP chunk stream encoder (RTMP 1.0, section 5.3): messages in,
/// chunk bytes out.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "rtmp/proto/message.hpp"
#include "rtmp/proto/shared_bytes.hpp"

namespace rtmp::proto {

/// Largest chunk size a Set Chunk Size may carry (31 bits, RTMP 1.0 section 5.4.1).
inline constexpr std::uint32_t max_chunk_size = 0x7FFFFFFF;

/// Encodes messages into chunks at the current outbound chunk size, with
/// header compression: fmt 0 for the first message of a chunk stream, a new
/// message stream id or a timestamp that goes backwards; fmt 1 when length
/// or type change; fmt 2 when only the timestamp delta changes; fmt 3 when
/// everything including the delta repeats. Timestamps or deltas of 0xFFFFFF
/// and above use the extended timestamp field, which is repeated on every
/// fmt 3 chunk of the message (as Flash Media Server does; FFmpeg and
/// librtmp accept it).
///
/// Not thread-safe; one writer belongs to one connection.
class chunk_writer {
 public:
  /// A writer at the initial chunk size of 128.
  chunk_writer() = default;

  /// The outbound chunk size in force.
  std::uint32_t chunk_size() const noexcept { return chunk_size_; }

  /// Changes the outbound chunk size (clamped to 1..max_chunk_size). The
  /// caller sends a Set Chunk Size message *before* calling this, so the peer
  /// learns the size before the first chunk that uses it.
  void set_chunk_size(std::uint32_t size) noexcept;

  /// Appends the chunks of `msg` on chunk stream `csid` (2..65599) to `out`.
  void write(std::uint32_t csid, const message& msg, std::vector<std::uint8_t>& out);

  /// Forgets the header state of `csid` (after sending an Abort for it, or
  /// after another encoder used the chunk stream), so its next message
  /// starts with a fmt 0 header.
  void reset(std::uint32_t csid) noexcept;

 private:
  struct stream_state {
    std::uint32_t csid = 0;
    std::uint32_t timestamp = 0;
    std::uint32_t delta = 0;
    std::uint32_t length = 0;
    std::uint32_t stream_id = 0;
    std::uint8_t type = 0;
    std::uint8_t last_fmt = 0;
  };

  stream_state* find(std::uint32_t csid) noexcept;

  std::uint32_t chunk_size_ = 128;
  std::vector<stream_state> streams_;
};

/// Encodes `msg` as a self-contained chunk sequence (a fmt 0 header, fmt 3
/// continuations) into one immutable buffer, so a message can be encoded once
/// and the same bytes sent to many peers that use the same chunk size.
/// The receiving chunk stream `csid` must not be used by a compressing
/// `chunk_writer` of the same connection (or that writer must be `reset()`).
shared_bytes encode_standalone(std::uint32_t csid, const message& msg, std::uint32_t chunk_size);

/// Size of a basic header for `csid` (1, 2 or 3 bytes).
std::size_t basic_header_size_for(std::uint32_t csid) noexcept;

}  // namespace rtmp::proto
