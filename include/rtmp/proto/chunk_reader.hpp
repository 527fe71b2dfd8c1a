#pragma once
/// @file chunk_reader.hpp
/// Sans-I/O RTMP chunk stream decoder (RTMP 1.0, section 5.3): bytes in,
/// complete messages out. It enforces its own limits, so a hostile peer can
/// neither make it allocate from a declared size nor grow it without bound.

#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>
#include <vector>

#include "rtmp/proto/message.hpp"
#include "rtmp/proto/shared_bytes.hpp"

namespace rtmp::proto {

/// Limits of one chunk reader. Every field is a named, configurable bound.
struct chunk_reader_limits {
  /// Largest message of any type (audio, video, aggregate, unknown types).
  std::uint32_t max_message_size = 16 * 1024 * 1024;
  /// Largest command or shared-object message (types 16, 17, 19, 20).
  std::uint32_t max_command_size = 256 * 1024;
  /// Largest data message (types 15, 18: metadata).
  std::uint32_t max_data_size = 1024 * 1024;
  /// Largest protocol control message (types 1-6 carry at most 10 bytes).
  std::uint32_t max_control_size = 64;
  /// Smallest chunk size the peer may set. Tiny chunks multiply the header
  /// work per payload byte (HOSTILE-CASES T-09); 1 is the spec minimum.
  std::uint32_t min_chunk_size = 128;
  /// Bytes of buffer capacity that partially received messages may hold,
  /// across all chunk streams (HOSTILE-CASES T-13, T-18).
  std::size_t max_partial_bytes = std::size_t{16} * 1024 * 1024;
  /// Chunk streams that may hold a partial message at the same time.
  std::size_t max_open_chunk_streams = 32;
  /// Chunk streams whose previous header is remembered (any csid value is legal;
  /// the count is what is bounded, HOSTILE-CASES T-17).
  std::size_t max_chunk_streams = 256;
  /// A message's buffer starts at min(declared length, this) and grows by
  /// doubling as bytes arrive, so a declared length alone allocates little.
  std::size_t initial_payload_allocation = std::size_t{1024} * 1024;
  /// Split aggregate messages (type 22) into their sub-messages.
  bool split_aggregates = true;
};

/// Decodes an RTMP chunk stream into messages.
///
/// Feed it every byte received after the handshake, split anywhere; pop the
/// completed messages with `next()`. The reader applies Set Chunk Size (type 1)
/// and Abort (type 2) itself, because they change how the following bytes
/// parse, and still hands them out so the session can log them.
///
/// Errors are sticky: after `feed()` returns an error, the reader accepts no
/// more input and the connection should be closed. Errors are `rtmp::errc`
/// values: chunk_no_previous_header, chunk_size_invalid,
/// chunk_size_below_floor, message_too_large, message_length_changed,
/// message_interrupted, partial_bytes_exceeded, too_many_chunk_streams,
/// control_message_malformed, aggregate_malformed.
///
/// Not thread-safe; one reader belongs to one connection.
class chunk_reader {
 public:
  /// A reader with the given limits and the initial chunk size of 128
  /// (RTMP 1.0 section 5.4.1).
  explicit chunk_reader(chunk_reader_limits limits = {});

  /// Consumes all of `bytes` (the caller's buffer is not referenced after the
  /// call; payload bytes are copied once into the message being assembled).
  /// Returns the first error found, or success.
  std::error_code feed(std::span<const std::uint8_t> bytes);

  /// Pops the oldest completed message into `out`. Returns false when none is ready.
  bool next(message& out);

  /// Number of completed messages not popped yet.
  std::size_t ready_count() const noexcept { return ready_.size() - ready_pos_; }

  /// The inbound chunk size now in force (after the peer's Set Chunk Size,
  /// clamped to `max_message_size`).
  std::uint32_t chunk_size() const noexcept { return chunk_size_; }

  /// Total bytes fed so far; the session acknowledges this count modulo 2^32
  /// (RTMP 1.0 section 5.4.3).
  std::uint64_t bytes_received() const noexcept { return bytes_received_; }

  /// Buffer capacity held by partial messages now (for tests and metrics).
  std::size_t partial_bytes() const noexcept { return partial_bytes_; }

  /// The sticky error, if any.
  std::error_code error() const noexcept { return error_; }

  /// The limits this reader enforces.
  const chunk_reader_limits& limits() const noexcept { return limits_; }

 private:
  struct chunk_stream {
    std::uint32_t csid = 0;
    std::uint32_t timestamp = 0;       // absolute timestamp of the current/last message
    std::uint32_t delta = 0;           // delta that a fmt 3 new message adds
    std::uint32_t length = 0;          // message length from the last header
    std::uint32_t stream_id = 0;       // message stream id from the last fmt 0 header
    std::uint8_t type = 0;             // message type from the last fmt 0/1 header
    bool has_header = false;           // a fmt 0/1/2 header was seen
    bool extended = false;             // the last header used an extended timestamp
    std::uint32_t extended_value = 0;  // its 32-bit value
    bool in_message = false;           // a message is partially received
    std::uint32_t received = 0;        // payload bytes received of it
    writable_bytes partial;            // its buffer (capacity <= length)
  };

  enum class phase { header, payload };

  std::error_code process(std::span<const std::uint8_t> in);
  std::size_t header_bytes_needed();
  std::error_code parse_header(std::span<const std::uint8_t>& leftover);
  std::error_code start_message(chunk_stream& cs);
  std::error_code append_payload(chunk_stream& cs, std::span<const std::uint8_t> bytes);
  std::error_code complete_message(chunk_stream& cs);
  std::error_code apply_control(const message& msg);
  void discard_partial(chunk_stream& cs) noexcept;
  chunk_stream* find_stream(std::uint32_t csid) noexcept;
  std::error_code find_or_add_stream(std::uint32_t csid, std::size_t& index);
  std::uint32_t max_size_for_type(std::uint8_t type) const noexcept;

  chunk_reader_limits limits_;
  std::uint32_t chunk_size_ = 128;
  std::uint64_t bytes_received_ = 0;
  std::size_t partial_bytes_ = 0;
  std::size_t open_streams_ = 0;
  std::error_code error_;

  phase phase_ = phase::header;
  std::uint8_t header_[18] = {};  // basic (<=3) + message (<=11) + extended (4)
  std::size_t header_len_ = 0;
  std::size_t current_ = 0;         // index into streams_ of the chunk being read
  std::uint32_t chunk_remaining_ = 0;

  std::vector<chunk_stream> streams_;
  std::vector<message> ready_;
  std::size_t ready_pos_ = 0;
};

/// Feeds `bytes` to `reader` and calls `on_message(message&)` for each
/// message they complete, in order. Stops at the first error, the reader's
/// or the one `on_message` returns, and returns it.
template <class OnMessage>
std::error_code read_messages(chunk_reader& reader, std::span<const std::uint8_t> bytes, OnMessage&& on_message) {
  if (auto ec = reader.feed(bytes)) return ec;
  message msg;
  while (reader.next(msg)) {
    if (auto ec = on_message(msg)) return ec;
  }
  return {};
}

}  // namespace rtmp::proto
