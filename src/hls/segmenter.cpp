#include "rtmp/hls/segmenter.hpp"

#include <algorithm>

namespace rtmp::hls {

namespace {

bool is_video_sequence_header(std::span<const std::uint8_t> p) noexcept {
  return p.size() >= 2 && (p[0] & 0x0F) == 7 && p[1] == 0;
}

bool is_aac_sequence_header(std::span<const std::uint8_t> p) noexcept {
  return p.size() >= 2 && (p[0] >> 4) == 10 && p[1] == 0;
}

}  // namespace

segmenter::segmenter(segmenter_config config) : config_(config), next_sequence_(config.first_sequence) {}

void segmenter::on_media(std::uint8_t type, std::span<const std::uint8_t> payload, std::uint32_t timestamp_ms,
                         std::int64_t now_ms) {
  if (type != 8 && type != 9) return;  // onMetaData and the like: not in a transport stream
  if (type == 9 && is_video_sequence_header(payload)) {
    scratch_.clear();
    (void)muxer_.video_tag(payload, timestamp_ms, scratch_);  // kept for the next keyframe
    return;
  }
  if (type == 8 && is_aac_sequence_header(payload)) {
    scratch_.clear();
    (void)muxer_.audio_tag(payload, timestamp_ms, scratch_);
    return;
  }
  const bool keyframe = type == 9 && ts_muxer::is_avc_keyframe(payload);
  const std::uint32_t elapsed = timestamp_ms - open_start_ts_;  // modulo 2^32, as RTMP timestamps wrap
  if (!is_open_) {
    // A segment starts decodable: at a keyframe, or anywhere in an audio-only stream.
    if (!keyframe && (type == 9 || muxer_.has_video())) return;
    open_segment(timestamp_ms, now_ms);
  } else if (keyframe && (elapsed >= config_.segment_duration.count() || !open_has_video_)) {
    // Due; or the video's configuration came after this segment's tables were written.
    finish_segment(timestamp_ms);
    open_segment(timestamp_ms, now_ms);
  } else if (type == 8 && !muxer_.has_video() && elapsed >= config_.segment_duration.count()) {
    // Audio only: any frame may begin a segment.
    finish_segment(timestamp_ms);
    open_segment(timestamp_ms, now_ms);
  } else if (elapsed >= config_.max_segment_duration.count() || open_.size() >= config_.max_bytes) {
    finish_segment(timestamp_ms);  // no keyframe in time: cut anyway, bounded
    open_segment(timestamp_ms, now_ms);
  }
  const bool written = type == 9 ? muxer_.video_tag(payload, timestamp_ms, open_)
                                 : muxer_.audio_tag(payload, timestamp_ms, open_);
  if (written) {
    last_ts_ = timestamp_ms;
    open_has_media_ = true;
  }
}

void segmenter::open_segment(std::uint32_t timestamp_ms, std::int64_t now_ms) {
  is_open_ = true;
  open_has_media_ = false;
  open_start_ts_ = timestamp_ms;
  last_ts_ = timestamp_ms;
  open_date_ms_ = now_ms;
  open_discontinuity_ = pending_discontinuity_;
  pending_discontinuity_ = false;
  open_.clear();
  muxer_.write_tables(open_);
  open_has_video_ = muxer_.has_video();
}

void segmenter::finish_segment(std::uint32_t end_timestamp_ms) {
  is_open_ = false;
  if (!open_has_media_) {
    open_.clear();
    return;
  }
  auto s = std::make_shared<segment>();
  s->sequence = next_sequence_++;
  s->duration_ms = std::max<std::uint32_t>(end_timestamp_ms - open_start_ts_, 1);
  s->discontinuity = open_discontinuity_;
  s->program_date_ms = open_date_ms_;
  s->bytes = proto::shared_bytes::adopt(std::move(open_));
  open_ = {};
  longest_ms_ = std::max(longest_ms_, s->duration_ms);
  kept_bytes_ += s->bytes.size();
  done_.push_back(std::move(s));
  trim();
}

void segmenter::trim() {
  while (done_.size() > 1 &&
         (done_.size() > config_.window + config_.kept_past_window || kept_bytes_ > config_.max_bytes)) {
    if (done_.front()->discontinuity) ++discontinuities_dropped_;
    kept_bytes_ -= done_.front()->bytes.size();
    done_.pop_front();
  }
}

void segmenter::end() {
  if (is_open_) {
    // The last frame's own duration is unknown: the segment ends at it.
    finish_segment(last_ts_ == open_start_ts_ ? last_ts_ + 1 : last_ts_);
  }
  ended_ = true;
}

void segmenter::restart() {
  if (is_open_) finish_segment(last_ts_ == open_start_ts_ ? last_ts_ + 1 : last_ts_);
  if (!done_.empty()) pending_discontinuity_ = true;
  ended_ = false;
}

std::string segmenter::playlist(const std::string& query) const {
  if (done_.empty()) return {};
  media_playlist p;
  const std::size_t listed = std::min(done_.size(), config_.window);
  const std::size_t first = done_.size() - listed;
  p.discontinuity_sequence = discontinuities_dropped_;
  for (std::size_t i = 0; i < first; ++i) p.discontinuity_sequence += done_[i]->discontinuity ? 1 : 0;
  // RFC 8216 section 4.3.3.1: every EXTINF, rounded, at most the target.
  const auto configured = static_cast<std::uint32_t>((config_.segment_duration.count() + 999) / 1000);
  p.target_duration_s = std::max<std::uint32_t>({1, configured, (longest_ms_ + 999) / 1000});
  for (std::size_t i = first; i < done_.size(); ++i) {
    const segment& s = *done_[i];
    p.segments.push_back({s.sequence, s.duration_ms, s.discontinuity, s.program_date_ms,
                          std::to_string(s.sequence) + ".ts" + query});
  }
  p.ended = ended_;
  return render(p);
}

std::shared_ptr<const segment> segmenter::find(std::uint64_t sequence) const {
  if (done_.empty() || sequence < done_.front()->sequence || sequence > done_.back()->sequence) return nullptr;
  return done_[static_cast<std::size_t>(sequence - done_.front()->sequence)];
}

}  // namespace rtmp::hls
