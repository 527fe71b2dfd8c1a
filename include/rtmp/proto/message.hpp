#pragma once
/// @file message.hpp
/// An RTMP message (RTMP 1.0, section 6.1): a type, a timestamp, a message
/// stream id and an opaque payload. The chunk layer turns messages into chunks
/// and back; everything above it works on messages.

#include <cstdint>

#include "rtmp/proto/shared_bytes.hpp"

namespace rtmp::proto {

/// Message type ids (RTMP 1.0 sections 5.4 and 7.1).
enum class message_type : std::uint8_t {
  set_chunk_size = 1,
  abort = 2,
  acknowledgement = 3,
  user_control = 4,
  window_ack_size = 5,
  set_peer_bandwidth = 6,
  audio = 8,
  video = 9,
  data_amf3 = 15,
  shared_object_amf3 = 16,
  command_amf3 = 17,
  data_amf0 = 18,
  shared_object_amf0 = 19,
  command_amf0 = 20,
  aggregate = 22,
};

/// True for the protocol control messages (types 1-6) that travel on chunk
/// stream 2 with message stream id 0.
constexpr bool is_protocol_control(std::uint8_t type) noexcept { return type >= 1 && type <= 6; }

/// True for command messages, AMF0 (20) or AMF3-wrapped (17).
constexpr bool is_command(std::uint8_t type) noexcept {
  return type == static_cast<std::uint8_t>(message_type::command_amf0) ||
         type == static_cast<std::uint8_t>(message_type::command_amf3);
}

/// One complete RTMP message. Cheap to copy: the payload is shared.
struct message {
  std::uint8_t type = 0;        ///< A `message_type` value (unknown values are kept as they are).
  std::uint32_t timestamp = 0;  ///< Absolute timestamp in milliseconds, modulo 2^32.
  std::uint32_t stream_id = 0;  ///< Message stream id (0 for NetConnection-level traffic).
  shared_bytes payload;         ///< The message body, immutable and shared.

  /// The type as the enum (may hold values outside the named ones).
  message_type kind() const noexcept { return static_cast<message_type>(type); }
};

}  // namespace rtmp::proto
