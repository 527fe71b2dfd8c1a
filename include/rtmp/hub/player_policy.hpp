#pragma once
/// @file player_policy.hpp
/// What every consumer of a stream (RTMP player, HTTP-FLV player, relay
/// push, recorder) decides per packet, written once and with no I/O:
/// whether the consumer wants it (pause, receiveAudio / receiveVideo,
/// start and resume at a keyframe), whether it fits the consumer's bound on
/// unsent bytes (drop inter-frames to the next keyframe, or disconnect), and
/// when a consumer that stays over its bound has to go. Also the timeline a
/// new publisher continues, so consumers that stay across a publisher
/// restart see timestamps that keep increasing.
///
/// Threading: none; a policy belongs to one consumer on one worker.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "rtmp/hub/media_packet.hpp"

namespace rtmp::hub {

class stream;

/// What to do with a player whose queue is full.
enum class slow_subscriber_policy : std::uint8_t {
  drop,        ///< Drop inter-frames until the next keyframe; disconnect after `disconnect_after` over the bound.
  disconnect,  ///< Close the player at once.
};

/// A consumer's bound on what it owes and what happens past it.
struct player_limits {
  /// Media bytes the consumer may owe its peer (queued, not yet written).
  std::size_t queue_bytes = std::size_t{4} * 1024 * 1024;
  /// Past the bound: drop to the next keyframe, or disconnect.
  slow_subscriber_policy policy = slow_subscriber_policy::drop;
  /// With `drop`: how long a consumer may stay over the bound before it is
  /// disconnected (`overdue`). The maximum: never.
  std::chrono::milliseconds disconnect_after{std::chrono::milliseconds::max()};
};

/// The decision about one packet.
enum class admission : std::uint8_t {
  send,        ///< Send it.
  skip,        ///< Not wanted (paused, kind turned off, waiting for a keyframe): not a drop.
  drop,        ///< Over the bound: dropped, counted; video resumes at the next keyframe.
  disconnect,  ///< Over the bound with policy `disconnect`: close the consumer.
};

/// One consumer's filter and slow-consumer policy.
class player_policy {
 public:
  using clock = std::chrono::steady_clock;

  /// The time source: read once when a drop period starts, never per packet.
  using now_function = clock::time_point (*)();

  /// A policy that starts at a keyframe; `now` dates drop periods (tests
  /// pass their own clock).
  explicit player_policy(player_limits limits = {}, now_function now = &clock::now) noexcept
      : limits_(limits), now_(now) {}

  /// Decides about `p`, which would add `size` bytes to the `owed` bytes
  /// the consumer has not written yet (its queue, plus what it already
  /// admitted from the same batch). Sequence headers and metadata are
  /// always sent: they configure the decoder and are small.
  admission admit(const media_packet& p, std::size_t owed, std::size_t size) noexcept;

  /// True when the consumer has been dropping (over its bound) for longer
  /// than `disconnect_after`: it cannot keep up and should be closed.
  bool overdue(clock::time_point now) const noexcept;

  /// True from a drop until a keyframe fits again.
  bool dropping() const noexcept { return dropping_; }
  /// True when the last `admit` started a drop period (for one log line per period).
  bool started_dropping() const noexcept { return started_dropping_; }

  /// Pause (NetStream.pause): while paused only headers pass; video
  /// resumes at a keyframe.
  void set_paused(bool paused) noexcept;
  /// receiveAudio.
  void set_receive_audio(bool on) noexcept { want_audio_ = on; }
  /// receiveVideo: turned back on, video resumes at a keyframe; a repeated
  /// `true` changes nothing.
  void set_receive_video(bool on) noexcept;
  /// The next video sent must be a keyframe (a publisher started).
  void wait_for_keyframe() noexcept { need_keyframe_ = true; }

  /// Packets sent (admitted).
  std::uint64_t sent() const noexcept { return sent_; }
  /// Packets dropped over the bound.
  std::uint64_t dropped() const noexcept { return dropped_; }
  /// The limits.
  const player_limits& limits() const noexcept { return limits_; }

 private:
  player_limits limits_;
  now_function now_;
  bool paused_ = false;
  bool want_audio_ = true;
  bool want_video_ = true;
  bool need_keyframe_ = true;
  bool dropping_ = false;
  bool started_dropping_ = false;
  clock::time_point dropping_since_{};
  std::uint64_t sent_ = 0;
  std::uint64_t dropped_ = 0;
};

/// A publisher's timestamps offset so that the stream's timeline continues
/// after the previous publisher's last timestamp (mod 2^32): players that
/// stay across a publisher restart see no jump back.
class timeline_continuation {
 public:
  /// A publisher starts on `s`: it continues after the newest audio/video
  /// timestamp `s` ever carried, if any.
  void begin(const stream& s);
  /// The timestamp to publish for the publisher's `timestamp`; the first
  /// call fixes the offset.
  std::uint32_t apply(std::uint32_t timestamp) noexcept;

 private:
  bool continue_ = false;  // a previous publisher left a timeline to continue
  bool set_ = false;       // offset_ fixed by the first message
  std::uint32_t base_ = 0;    // the previous publisher's last timestamp
  std::uint32_t offset_ = 0;  // added (mod 2^32) to every timestamp
};

}  // namespace rtmp::hub
