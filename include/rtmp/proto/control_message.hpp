#pragma once
/// @file control_message.hpp
/// Protocol control messages (RTMP 1.0 section 5.4, types 1-6) and User
/// Control events (section 7.1.7, type 4): builders that return complete
/// messages and parsers that validate the payload length before reading.
/// All multi-byte fields are big-endian.

#include <cstdint>
#include <span>
#include <system_error>

#include "rtmp/proto/message.hpp"

namespace rtmp::proto {

/// User Control event types (RTMP 1.0 section 7.1.7).
enum class user_control_event : std::uint16_t {
  stream_begin = 0,
  stream_eof = 1,
  stream_dry = 2,
  set_buffer_length = 3,
  stream_is_recorded = 4,
  ping_request = 6,
  ping_response = 7,
};

/// Set Peer Bandwidth limit types (RTMP 1.0 section 5.4.5).
enum class bandwidth_limit : std::uint8_t { hard = 0, soft = 1, dynamic = 2 };

/// A decoded User Control message.
struct user_control {
  std::uint16_t event = 0;   ///< A `user_control_event` value (unknown values kept).
  std::uint32_t value = 0;   ///< First 4-byte field: stream id or ping timestamp.
  std::uint32_t value2 = 0;  ///< Buffer length in ms, for set_buffer_length only.
};

/// A decoded Set Peer Bandwidth message.
struct peer_bandwidth {
  std::uint32_t window = 0;  ///< Acknowledgement window size in bytes.
  std::uint8_t limit = 0;    ///< A `bandwidth_limit` value; other values are kept as sent.
};

/// Set Chunk Size (type 1). `size` must be 1..0x7FFFFFFF.
message make_set_chunk_size(std::uint32_t size);
/// Abort Message (type 2) for chunk stream `csid`.
message make_abort(std::uint32_t csid);
/// Acknowledgement (type 3) carrying the byte count received, modulo 2^32.
message make_acknowledgement(std::uint32_t sequence_number);
/// Window Acknowledgement Size (type 5).
message make_window_ack_size(std::uint32_t window);
/// Set Peer Bandwidth (type 6).
message make_set_peer_bandwidth(std::uint32_t window, bandwidth_limit limit);
/// User Control (type 4) with one 4-byte field (every event but set_buffer_length).
message make_user_control(user_control_event event, std::uint32_t value);
/// User Control Set Buffer Length: stream id and buffer length in milliseconds.
message make_set_buffer_length(std::uint32_t stream_id, std::uint32_t buffer_ms);

/// Reads the 4-byte big-endian field of types 1, 2, 3 and 5. Errors:
/// control_message_malformed when the payload is shorter than 4 bytes.
/// Longer payloads are accepted (the extra bytes are ignored).
std::error_code parse_u32_control(std::span<const std::uint8_t> payload, std::uint32_t& out);

/// Validates a Set Chunk Size value (RTMP 1.0 section 5.4.1: a 31-bit field,
/// at least 1; the top bit must be zero). Errors: control_message_malformed,
/// chunk_size_invalid.
std::error_code parse_set_chunk_size(std::span<const std::uint8_t> payload, std::uint32_t& size);

/// Parses a User Control payload. Errors: control_message_malformed when the
/// payload is shorter than the event needs (6 bytes, 10 for set_buffer_length).
std::error_code parse_user_control(std::span<const std::uint8_t> payload, user_control& out);

/// Parses a Set Peer Bandwidth payload (5 bytes). Errors: control_message_malformed.
std::error_code parse_peer_bandwidth(std::span<const std::uint8_t> payload, peer_bandwidth& out);

}  // namespace rtmp::proto
