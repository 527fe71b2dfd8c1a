#pragma once
// The publishing part of an RTMP connection. Internal to the server.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "rtmp/hub/hub.hpp"
#include "rtmp/hub/player_policy.hpp"
#include "rtmp/hub/stream.hpp"
#include "rtmp/proto/message.hpp"

namespace rtmp::net {

/// What a connection publishes: the stream it claimed in the hub and on
/// which message stream, the media of one read gathered into a batch for
/// the hub, and the timeline that continues the stream's timestamps after
/// a publisher restart. No I/O, no session: the connection feeds it the
/// session's events and tells the peer the outcome.
///
/// Threading: used only on its connection's worker.
class connection_publisher {
 public:
  /// True while a stream is claimed.
  bool active() const noexcept { return stream_ != nullptr; }
  /// True when `stream_id` is the message stream this connection publishes on.
  bool owns(std::uint32_t stream_id) const noexcept { return active() && stream_id == stream_id_; }
  /// The message stream published on (meaningful while active).
  std::uint32_t stream_id() const noexcept { return stream_id_; }
  /// The claimed stream, or null.
  const std::shared_ptr<hub::stream>& stream() const noexcept { return stream_; }
  /// Media messages taken so far.
  std::uint64_t media_in() const noexcept { return media_in_; }

  /// Claims `key` in `streams` for `self`, publishing on message stream
  /// `stream_id`. On `busy` nothing is kept (and the hub may forget the
  /// stream); otherwise the stream is claimed and its timeline continues.
  hub::stream::claim_result claim(hub::hub& streams, const std::string& key, const std::shared_ptr<hub::publisher>& self,
                                  std::uint32_t stream_id);

  /// Takes one media message of the claimed stream into the batch: its
  /// timestamp continues the stream's timeline, and the hub encodes it in
  /// chunks of `chunk_size`. `is_metadata`: the session marked it onMetaData.
  void take(proto::message msg, std::uint32_t chunk_size, bool is_metadata);

  /// Hands the batch gathered since the last call to the hub (one call per read).
  void hand_over(hub::publisher* self);

  /// Releases the stream, if any (the batch is dropped): false when nothing
  /// was claimed.
  bool stop(hub::publisher* self, hub::hub& streams);

 private:
  std::shared_ptr<hub::stream> stream_;
  std::uint32_t stream_id_ = 0;
  std::uint64_t media_in_ = 0;
  hub::timeline_continuation timeline_;
  std::vector<std::shared_ptr<hub::media_packet>> batch_;
};

}  // namespace rtmp::net
