#include "rtmp/hub/player_policy.hpp"

#include "rtmp/hub/stream.hpp"

namespace rtmp::hub {

admission player_policy::admit(const media_packet& p, std::size_t owed, std::size_t size) noexcept {
  started_dropping_ = false;
  const bool video = p.is_video();
  const bool audio = p.is_audio();
  if (!p.header) {
    if (paused_ || (video && !want_video_) || (audio && !want_audio_)) return admission::skip;
    if (video && need_keyframe_) {
      if (!p.keyframe) return admission::skip;  // start (or resume) at a keyframe
      need_keyframe_ = false;
    }
  }
  const bool over = owed + size > limits_.queue_bytes;
  if (over && !p.header) {
    if (limits_.policy == slow_subscriber_policy::disconnect) return admission::disconnect;
    if (!dropping_) {
      dropping_ = true;
      started_dropping_ = true;
      dropping_since_ = now_();
    }
    // Inter-frames go until the next keyframe that fits; audio and data
    // only while there is no room.
    need_keyframe_ = true;
    ++dropped_;
    return admission::drop;
  }
  if (dropping_ && video && p.keyframe) dropping_ = false;
  ++sent_;
  return admission::send;
}

bool player_policy::overdue(clock::time_point now) const noexcept {
  if (!dropping_ || limits_.disconnect_after == std::chrono::milliseconds::max()) return false;
  return now - dropping_since_ > limits_.disconnect_after;
}

void player_policy::set_paused(bool paused) noexcept {
  if (paused_ && !paused) need_keyframe_ = true;
  paused_ = paused;
}

void player_policy::set_receive_video(bool on) noexcept {
  // Video turned back on resumes at a keyframe; a repeated receiveVideo(true)
  // changes nothing (T-37).
  if (on && !want_video_) need_keyframe_ = true;
  want_video_ = on;
}

void timeline_continuation::begin(const stream& s) {
  continue_ = s.last_timestamp(base_);
  set_ = false;
  offset_ = 0;
}

std::uint32_t timeline_continuation::apply(std::uint32_t timestamp) noexcept {
  if (!set_) {
    set_ = true;
    offset_ = continue_ ? base_ + 1 - timestamp : 0;
  }
  return timestamp + offset_;
}

}  // namespace rtmp::hub
