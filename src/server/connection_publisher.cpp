#include "server/connection_publisher.hpp"

#include <utility>

namespace rtmp::net {

hub::stream::claim_result connection_publisher::claim(hub::hub& streams, const std::string& key,
                                                      const std::shared_ptr<hub::publisher>& self,
                                                      std::uint32_t stream_id) {
  hub::stream::claim_result result{};
  auto s = streams.claim(key, self, result);
  if (result == hub::stream::claim_result::busy) {
    streams.remove_if_unused(s);
    return result;
  }
  stream_ = std::move(s);
  stream_id_ = stream_id;
  timeline_.begin(*stream_);
  return result;
}

void connection_publisher::take(proto::message msg, std::uint32_t chunk_size, bool is_metadata) {
  ++media_in_;
  msg.timestamp = timeline_.apply(msg.timestamp);  // continues after a publisher restart
  batch_.push_back(hub::make_packet(std::move(msg), chunk_size, is_metadata));
}

void connection_publisher::hand_over(hub::publisher* self) {
  if (!batch_.empty() && stream_ != nullptr) stream_->publish(self, batch_);
  batch_.clear();
}

bool connection_publisher::stop(hub::publisher* self, hub::hub& streams) {
  if (stream_ == nullptr) return false;
  auto s = std::move(stream_);
  stream_.reset();
  batch_.clear();
  s->release(self);
  streams.remove_if_unused(s);
  return true;
}

}  // namespace rtmp::net
