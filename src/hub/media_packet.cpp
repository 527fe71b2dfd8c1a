#include "rtmp/hub/media_packet.hpp"

#include <algorithm>
#include <array>
#include <span>

#include "rtmp/proto/chunk_writer.hpp"
#include "rtmp/proto/media_info.hpp"
#include "rtmp/proto/server_session.hpp"

namespace rtmp::hub {
namespace {

std::uint32_t csid_for(std::uint8_t type) noexcept {
  switch (type) {
    case 8: return proto::server_csid::audio;
    case 9: return proto::server_csid::video;
    default: return proto::server_csid::data;
  }
}

// The trackIds a sequence header or SequenceEnd applies to.
std::vector<std::uint8_t> track_ids(std::span<const std::uint8_t> body, bool video) {
  std::array<proto::media_track, proto::max_tracks_per_message> tracks{};
  const std::size_t n = video ? proto::split_video_tracks(body, tracks) : proto::split_audio_tracks(body, tracks);
  std::vector<std::uint8_t> ids;
  ids.reserve(n);
  for (std::size_t i = 0; i < n; ++i) ids.push_back(tracks[i].track_id);
  return ids;
}

}  // namespace

std::shared_ptr<media_packet> make_packet(proto::message msg, std::uint32_t chunk_size, bool is_metadata) {
  auto p = std::make_shared<media_packet>();
  const auto body = msg.payload.span();
  if (msg.type == 9 || msg.type == 8) {
    const bool video = msg.type == 9;
    p->header = video ? proto::is_video_sequence_header(body) : proto::is_audio_sequence_header(body);
    p->keyframe = video && !p->header && proto::is_video_keyframe(body);
    p->sequence_end = !p->header && proto::is_sequence_end(body, video);
    if (p->header || p->sequence_end) {
      p->tracks = track_ids(body, video);
      // A header whose tracks cannot be split (legacy AVC with a short
      // body, say) still configures the default track.
      if (p->tracks.empty()) p->tracks.push_back(0);
    }
  } else {
    p->metadata = is_metadata;
    p->header = is_metadata;
  }
  msg.stream_id = wire_stream_id;
  p->wire = proto::encode_standalone(csid_for(msg.type), msg, chunk_size);
  p->msg = std::move(msg);
  return p;
}

restamped_wire wire_for_stream(const media_packet& p, std::uint32_t stream_id) {
  // The wire starts with a type 0 chunk (encode_standalone): a basic header
  // of 1, 2 or 3 bytes (chunk stream id 2-63, 64-319, 320+; section 5.3.1.1),
  // then timestamp (3), length (3), type id (1) and the message stream id
  // (4 bytes, little-endian; section 5.3.1.2.1).
  const std::span<const std::uint8_t> wire = p.wire.span();
  const std::uint8_t csid_bits = wire[0] & 0x3F;
  const std::size_t basic = csid_bits == 0 ? 2 : csid_bits == 1 ? 3 : 1;
  const std::size_t header_size = basic + 11;
  restamped_wire out;
  std::copy_n(wire.begin(), header_size, out.header.bytes.begin());
  out.header.length = static_cast<std::uint8_t>(header_size);
  for (std::size_t i = 0; i < 4; ++i) {
    out.header.bytes[basic + 7 + i] = static_cast<std::uint8_t>(stream_id >> (8 * i));
  }
  out.rest = p.wire.slice(header_size, wire.size() - header_size);
  return out;
}

}  // namespace rtmp::hub
