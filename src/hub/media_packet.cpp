#include "rtmp/hub/media_packet.hpp"

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

}  // namespace

std::shared_ptr<media_packet> make_packet(proto::message msg, std::uint32_t chunk_size, bool is_metadata) {
  auto p = std::make_shared<media_packet>();
  const auto body = msg.payload.span();
  if (msg.type == 9) {
    p->header = proto::is_video_sequence_header(body);
    p->keyframe = !p->header && proto::is_video_keyframe(body);
  } else if (msg.type == 8) {
    p->header = proto::is_audio_sequence_header(body);
  } else {
    p->metadata = is_metadata;
    p->header = is_metadata;
  }
  msg.stream_id = wire_stream_id;
  p->chunk_size = chunk_size;
  p->wire = proto::encode_standalone(csid_for(msg.type), msg, chunk_size);
  p->msg = std::move(msg);
  return p;
}

proto::shared_bytes encode_for_stream(const media_packet& p, std::uint32_t stream_id) {
  proto::message m = p.msg;
  m.stream_id = stream_id;
  return proto::encode_standalone(csid_for(m.type), m, p.chunk_size);
}

}  // namespace rtmp::hub
