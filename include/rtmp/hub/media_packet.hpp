#pragma once
/// @file media_packet.hpp
/// A published media message prepared once for every subscriber: classified
/// (keyframe, sequence header, metadata) and chunk-encoded into immutable
/// wire bytes that all players share.

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "rtmp/proto/message.hpp"
#include "rtmp/proto/shared_bytes.hpp"

namespace rtmp::hub {

/// Message stream id used in hub-encoded wire bytes; a player whose stream id
/// differs gets the same bytes behind a patched first chunk header
/// (`wire_for_stream`; rare: clients call createStream once).
inline constexpr std::uint32_t wire_stream_id = 1;

/// One published message, shared by every subscriber. Immutable after creation.
struct media_packet {
  proto::message msg;         ///< The message (payload shared with `wire`'s source).
  proto::shared_bytes wire;   ///< Chunk-encoded (fmt 0 + fmt 3), msid `wire_stream_id`.
  std::uint64_t seq = 0;      ///< Position in its stream (1, 2, ...), assigned by the stream.
  bool keyframe = false;      ///< A video keyframe: a player may start or resume here.
  bool header = false;        ///< Sequence header or metadata: never dropped.
  bool metadata = false;      ///< onMetaData.
  /// An Enhanced RTMP SequenceEnd: the tracks in `tracks` have no
  /// configuration any more (never a header, never dropped as a keyframe).
  bool sequence_end = false;
  /// For audio/video sequence headers and SequenceEnd: the trackIds the
  /// packet applies to, in wire order (one 0 for a body that is not
  /// multitrack; a multitrack body lists each of its tracks, at most
  /// `proto::max_tracks_per_message`). Empty for every other packet.
  std::vector<std::uint8_t> tracks;

  /// True for video messages.
  bool is_video() const noexcept { return msg.type == 9; }
  /// True for audio messages.
  bool is_audio() const noexcept { return msg.type == 8; }
};

/// Shared, immutable packet.
using packet_ptr = std::shared_ptr<const media_packet>;

/// Classifies `msg` and encodes it at `chunk_size` (the server's outbound
/// chunk size, server_session_config::chunk_size: every player reads it). `is_metadata` marks an
/// onMetaData data message. Allocates the packet and its wire bytes once.
/// The packet is mutable until the stream assigns its sequence number.
std::shared_ptr<media_packet> make_packet(proto::message msg, std::uint32_t chunk_size, bool is_metadata);

/// The first chunk header of a packet's wire bytes, patched: a few bytes
/// held by value (no allocation).
struct chunk_header_copy {
  std::array<std::uint8_t, 3 + 11> bytes{};  ///< Basic header (1-3 bytes) and type 0 message header (11).
  std::uint8_t length = 0;                   ///< Bytes used.
  /// The bytes.
  const std::uint8_t* data() const noexcept { return bytes.data(); }
  /// Their number.
  std::size_t size() const noexcept { return length; }
  /// The bytes as a span.
  std::span<const std::uint8_t> span() const noexcept { return {bytes.data(), length}; }
};

/// A packet's wire bytes for another message stream id, in two parts.
struct restamped_wire {
  chunk_header_copy header;  ///< The first chunk's basic and message header, with the new stream id.
  proto::shared_bytes rest;  ///< Everything after it: shares the packet's wire bytes.
};

/// The packet's bytes for a player whose message stream id is `stream_id`
/// (one that did not get `wire_stream_id`), without copying the payload or allocating:
/// only the first chunk's type 0 message header carries the stream id
/// (RTMP 1.0 section 5.3.1.2.1; type 3 continuation chunks carry none), so
/// that header is copied and patched and the rest is shared. Write `header`
/// then `rest`.
restamped_wire wire_for_stream(const media_packet& p, std::uint32_t stream_id);

}  // namespace rtmp::hub
