#pragma once
// The playing part of an RTMP connection. Internal to the server.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "net/outbound_queue.hpp"
#include "rtmp/hub/hub.hpp"
#include "rtmp/hub/media_packet.hpp"
#include "rtmp/hub/player_policy.hpp"
#include "rtmp/hub/stream.hpp"

namespace rtmp::net {

/// What a connection plays: the stream it subscribed to and on which
/// message stream, the player policy that filters the hub's media (pause,
/// receiveAudio/Video, keyframe start, the queue bound), and the form in
/// which a packet goes into the connection's outbound queue. No I/O, no
/// session: the connection writes and tells the peer.
///
/// Threading: used only on its connection's worker.
class connection_player {
 public:
  /// A player under `limits` (the queue bound and the slow-player policy).
  explicit connection_player(hub::player_limits limits) noexcept : policy_(limits) {}

  /// True while subscribed.
  bool active() const noexcept { return stream_ != nullptr; }
  /// True when `stream_id` is the message stream this connection plays on.
  bool owns(std::uint32_t stream_id) const noexcept { return active() && stream_id == stream_id_; }
  /// The message stream played on (meaningful while active).
  std::uint32_t stream_id() const noexcept { return stream_id_; }
  /// True when packets go out as the hub encoded them, on `hub::wire_stream_id`
  /// (the usual case), so they can be written without a patched header.
  bool plays_hub_wire() const noexcept { return stream_id_ == hub::wire_stream_id; }
  /// The filter and slow-player policy.
  hub::player_policy& policy() noexcept { return policy_; }
  /// The same, read-only (for the close line's counts).
  const hub::player_policy& policy() const noexcept { return policy_; }

  /// Subscribes `self` to `key` on message stream `stream_id`; the media
  /// then starts at a keyframe. Returns the stream's fast-start snapshot.
  hub::stream_snapshot subscribe(hub::hub& streams, const std::string& key, hub::subscriber* self,
                                 std::uint32_t stream_id);

  /// Unsubscribes, if subscribed: false when it was not.
  bool stop(hub::subscriber* self, hub::hub& streams);

  /// Queues an admitted packet for this player's message stream: the
  /// hub's wire bytes as they are, or for another message stream id a
  /// patched copy of the first header before the shared rest (no copy of
  /// the payload, no allocation).
  void queue(const hub::media_packet& p, outbound_queue& out) const;

 private:
  std::shared_ptr<hub::stream> stream_;
  std::uint32_t stream_id_ = 0;
  hub::player_policy policy_;
};

}  // namespace rtmp::net
