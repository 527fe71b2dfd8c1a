#include "server/connection_player.hpp"

#include <utility>

namespace rtmp::net {

hub::stream_snapshot connection_player::subscribe(hub::hub& streams, const std::string& key, hub::subscriber* self,
                                                  std::uint32_t stream_id) {
  hub::stream_snapshot snap;
  stream_id_ = stream_id;
  stream_ = streams.subscribe(key, self, snap);
  policy_.wait_for_keyframe();
  return snap;
}

bool connection_player::stop(hub::subscriber* self, hub::hub& streams) {
  if (stream_ == nullptr) return false;
  auto s = std::move(stream_);
  stream_.reset();
  s->unsubscribe(self);
  streams.remove_if_unused(s);
  return true;
}

void connection_player::queue(const hub::media_packet& p, outbound_queue& out) const {
  if (plays_hub_wire()) {
    out.push(p.wire, byte_class::media);
    return;
  }
  auto [header, rest] = hub::wire_for_stream(p, stream_id_);
  out_block block;
  block.head.append(header.span());
  block.body = std::move(rest);
  out.push(std::move(block));
}

}  // namespace rtmp::net
