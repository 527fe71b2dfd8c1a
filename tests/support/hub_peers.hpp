#pragma once
// Stand-ins for a stream's publisher and players in tests of the hub and of
// the parts of a connection that use it.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "rtmp/hub/stream.hpp"

namespace rtmp::test {

/// A publisher that ignores kicks.
class null_publisher : public hub::publisher {
 public:
  void kick(std::string) override {}
};

/// A player on worker 0 that records what the hub delivers to it.
class recording_player : public hub::subscriber {
 public:
  std::size_t worker() const noexcept override { return 0; }

  std::vector<std::uint32_t> stamps;  ///< Timestamps of the delivered packets, in order.
  std::size_t batches = 0;            ///< Deliveries so far.

 protected:
  void on_media(std::span<const hub::packet_ptr> batch) override {
    ++batches;
    for (const auto& p : batch) stamps.push_back(p->msg.timestamp);
  }
  void on_publish_start() override {}
  void on_publish_stop() override {}
};

}  // namespace rtmp::test
