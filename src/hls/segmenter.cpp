#include "rtmp/hls/segmenter.hpp"

#include <algorithm>

#include "rtmp/proto/media_info.hpp"

namespace rtmp::hls {

namespace {

// A decoder configuration: a sequence header (legacy) or SequenceStart
// (Enhanced RTMP), as the hub classifies them.
bool is_configuration(std::uint8_t type, std::span<const std::uint8_t> p) noexcept {
  return type == 9 ? proto::is_video_sequence_header(p) : proto::is_audio_sequence_header(p);
}

}  // namespace

segmenter::segmenter(segmenter_config config) : config_(config), next_sequence_(config.first_sequence) {}

bool segmenter::low_latency() const noexcept {
  return config_.format == segment_format::fmp4 && config_.part_duration.count() > 0;
}

bool segmenter::cut_due(std::uint8_t type, bool keyframe, bool has_video, std::uint32_t elapsed) const {
  const auto target = static_cast<std::uint32_t>(config_.segment_duration.count());
  if (keyframe && (elapsed >= target || !open_has_video_)) {
    return true;  // due; or the video's configuration came after this segment began without video
  }
  if (type == 8 && !has_video && elapsed >= target) return true;  // audio only: any frame may begin one
  // No keyframe in time: cut anyway, bounded.
  return elapsed >= static_cast<std::uint32_t>(config_.max_segment_duration.count()) ||
         open_size() >= config_.max_bytes;
}

bool segmenter::part_due(std::uint32_t timestamp_ms) const noexcept {
  const auto target = static_cast<std::uint64_t>(config_.part_duration.count());
  const std::uint64_t elapsed = static_cast<std::uint32_t>(timestamp_ms - part_start_ts_);
  // A part is at most the Part Target Duration (RFC 8216bis section
  // 4.4.4.9): cut here when the next frame, a gap like the last one away,
  // would take it past the target; and once the target is reached anyway.
  return elapsed >= target || (elapsed > 0 && elapsed + drive_gap_ > target);
}

void segmenter::on_media(std::uint8_t type, std::span<const std::uint8_t> payload, std::uint32_t timestamp_ms,
                         std::int64_t now_ms) {
  if (type != 8 && type != 9) return;  // onMetaData and the like: not in a segment
  if (config_.format == segment_format::fmp4) {
    on_fmp4_media(type, payload, timestamp_ms, now_ms);
    return;
  }
  if (type == 9 && proto::is_video_sequence_header(payload)) {
    scratch_.clear();
    (void)muxer_.video_tag(payload, timestamp_ms, scratch_);  // kept for the next keyframe
    return;
  }
  if (type == 8 && proto::is_audio_sequence_header(payload)) {
    scratch_.clear();
    (void)muxer_.audio_tag(payload, timestamp_ms, scratch_);
    return;
  }
  const bool keyframe = type == 9 && ts_muxer::is_avc_keyframe(payload);
  if (!is_open_) {
    // A segment starts decodable: at a keyframe, or anywhere in an audio-only stream.
    if (!keyframe && (type == 9 || muxer_.has_video())) return;
    open_segment(timestamp_ms, now_ms);
  } else if (cut_due(type, keyframe, muxer_.has_video(), timestamp_ms - open_start_ts_)) {
    finish_segment(timestamp_ms);
    open_segment(timestamp_ms, now_ms);
  }
  const bool written = type == 9 ? muxer_.video_tag(payload, timestamp_ms, open_)
                                 : muxer_.audio_tag(payload, timestamp_ms, open_);
  if (written) {
    last_ts_ = timestamp_ms;
    open_has_media_ = true;
  }
}

void segmenter::on_fmp4_media(std::uint8_t type, std::span<const std::uint8_t> payload, std::uint32_t timestamp_ms,
                              std::int64_t now_ms) {
  if (is_configuration(type, payload)) {
    // Kept for the next initialization segment; no sample, never a segment's start.
    (void)(type == 9 ? fmp4_.video_tag(payload, timestamp_ms) : fmp4_.audio_tag(payload, timestamp_ms));
    return;
  }
  const bool keyframe = type == 9 && fmp4_muxer::is_keyframe(payload);
  const bool can_start = keyframe || (type == 8 && !fmp4_.has_video());
  if (!is_open_ && !can_start) return;  // a segment starts decodable
  const bool cut = is_open_ && cut_due(type, keyframe, fmp4_.has_video(), timestamp_ms - open_start_ts_);
  // The muxer holds back each track's newest sample (its duration is not
  // known yet): the frame that begins a segment (or part) goes in first, so
  // that the finished one ends just before it.
  const bool written = type == 9 ? fmp4_.video_tag(payload, timestamp_ms) : fmp4_.audio_tag(payload, timestamp_ms);
  // LL-HLS: parts are cut at frames of one track (video, else audio).
  const bool drives = written && (type == 9) == fmp4_.has_video();
  if (drives) {
    drive_gap_ = drive_seen_ ? timestamp_ms - drive_last_ts_ : 0;
    drive_last_ts_ = timestamp_ms;
    drive_seen_ = true;
  }
  const bool independent = keyframe || !fmp4_.has_video();
  if (!is_open_) {
    if (!written) return;
    open_segment(timestamp_ms, now_ms);
    part_independent_ = independent;
  } else if (cut) {
    finish_segment(timestamp_ms);
    open_segment(timestamp_ms, now_ms);
    part_independent_ = independent;
  } else if (drives && low_latency() && part_due(timestamp_ms)) {
    // Only the first part of a segment carries its styp.
    fmp4_.flush_fragment(open_, false, open_size() == 0);
    if (!open_.empty()) {  // else everything is still held back: the part goes on
      record_part(timestamp_ms);
      part_independent_ = independent;
    }
  }
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
  part_start_ts_ = timestamp_ms;
  open_discontinuity_ = pending_discontinuity_;
  pending_discontinuity_ = false;
  open_.clear();
  if (config_.format == segment_format::ts) {
    muxer_.write_tables(open_);
    open_has_video_ = muxer_.has_video();
    return;
  }
  open_has_video_ = fmp4_.has_video();
  if (init_number_ == 0 || fmp4_.config_changed()) {
    // New codec settings: a new initialization segment, and players reset.
    std::vector<std::uint8_t> init;
    fmp4_.init_segment(init);
    if (init_number_ > 0) open_discontinuity_ = true;
    inits_.emplace_back(++init_number_, proto::shared_bytes::adopt(std::move(init)));
  }
}

void segmenter::record_part(std::uint32_t end_timestamp_ms) {
  auto p = std::make_shared<part>();
  p->sequence = next_sequence_;
  p->index = open_parts_;
  p->duration_ms = std::max<std::uint32_t>(end_timestamp_ms - part_start_ts_, 1);
  p->independent = part_independent_;
  p->bytes = proto::shared_bytes::adopt(std::move(open_));
  open_ = {};
  open_part_bytes_ += p->bytes.size();
  kept_bytes_ += p->bytes.size();
  open_part_list_.push_back(std::move(p));
  ++open_parts_;
  ++version_;
  part_start_ts_ = end_timestamp_ms;
}

void segmenter::finish_segment(std::uint32_t end_timestamp_ms, bool final) {
  is_open_ = false;
  if (config_.format == segment_format::fmp4) {
    fmp4_.flush_fragment(open_, final, open_size() == 0);
    // LL-HLS: the segment's last part ends with it.
    if (low_latency() && !open_.empty()) record_part(end_timestamp_ms);
  }
  std::vector<std::shared_ptr<const part>> parts = std::move(open_part_list_);
  open_part_list_.clear();
  kept_bytes_ -= open_part_bytes_;
  open_part_bytes_ = 0;
  open_parts_ = 0;
  // fMP4: every sample may still be held back by the muxer (one per track,
  // their durations unknown); they carry over into the next segment.
  if (!open_has_media_ || (open_.empty() && parts.empty())) {
    open_.clear();
    return;
  }
  auto s = std::make_shared<segment>();
  s->sequence = next_sequence_++;
  s->duration_ms = std::max<std::uint32_t>(end_timestamp_ms - open_start_ts_, 1);
  s->discontinuity = open_discontinuity_;
  s->program_date_ms = open_date_ms_;
  s->init = init_number_;
  if (parts.empty()) {
    s->bytes = proto::shared_bytes::adopt(std::move(open_));
  } else {
    // The segment is its parts in order; from now on they share its bytes.
    std::vector<std::uint8_t> all;
    for (const auto& p : parts) all.insert(all.end(), p->bytes.data(), p->bytes.data() + p->bytes.size());
    s->bytes = proto::shared_bytes::adopt(std::move(all));
    std::size_t offset = 0;
    for (auto& p : parts) {
      auto shared = std::make_shared<part>(*p);
      shared->bytes = s->bytes.slice(offset, p->bytes.size());
      offset += p->bytes.size();
      p = std::move(shared);
    }
    done_parts_.emplace_back(s->sequence, std::move(parts));
    while (done_parts_.size() > config_.parts_kept_segments) done_parts_.pop_front();
  }
  open_ = {};
  longest_ms_ = std::max(longest_ms_, s->duration_ms);
  kept_bytes_ += s->bytes.size();
  done_.push_back(std::move(s));
  ++version_;
  trim();
}

void segmenter::trim() {
  while (done_.size() > 1 &&
         (done_.size() > config_.window + config_.kept_past_window || kept_bytes_ > config_.max_bytes)) {
    if (done_.front()->discontinuity) ++discontinuities_dropped_;
    kept_bytes_ -= done_.front()->bytes.size();
    done_.pop_front();
  }
  while (!done_parts_.empty() && (done_.empty() || done_parts_.front().first < done_.front()->sequence)) {
    done_parts_.pop_front();
  }
  // Initialization segments older than the oldest kept segment's are not needed.
  while (inits_.size() > 1 && !done_.empty() && inits_.front().first < done_.front()->init) inits_.pop_front();
}

void segmenter::end() {
  if (is_open_) {
    // The last frame's own duration is unknown: the segment ends at it.
    finish_segment(last_ts_ == open_start_ts_ ? last_ts_ + 1 : last_ts_, true);
  }
  ended_ = true;
  ++version_;
}

void segmenter::restart() {
  if (is_open_) finish_segment(last_ts_ == open_start_ts_ ? last_ts_ + 1 : last_ts_, true);
  if (!done_.empty()) pending_discontinuity_ = true;
  ended_ = false;
  drive_seen_ = false;  // a new publisher's frame rate
  ++version_;
}

std::string segmenter::playlist(const std::string& query) const {
  // Players want one whole segment (hls.js: levelEmptyError on a playlist
  // of parts alone). LL-HLS: the open segment is listed (its parts) once it has one.
  if (done_.empty()) return {};
  const bool open_listed = low_latency() && is_open_ && open_parts_ > 0 && !ended_;
  media_playlist p;
  const bool fmp4 = config_.format == segment_format::fmp4;
  if (fmp4) p.version = 7;
  const std::size_t listed = std::min(done_.size(), config_.window);
  const std::size_t first = done_.size() - listed;
  p.discontinuity_sequence = discontinuities_dropped_;
  for (std::size_t i = 0; i < first; ++i) p.discontinuity_sequence += done_[i]->discontinuity ? 1 : 0;
  // RFC 8216 section 4.3.3.1: every EXTINF, rounded, at most the target.
  const auto configured = static_cast<std::uint32_t>((config_.segment_duration.count() + 999) / 1000);
  p.target_duration_s = std::max<std::uint32_t>({1, configured, (longest_ms_ + 999) / 1000});
  const auto list_parts = [&query](const std::vector<std::shared_ptr<const part>>& parts, playlist_segment& s) {
    for (const auto& each : parts) {
      s.parts.push_back({each->duration_ms, each->independent,
                         std::to_string(each->sequence) + "." + std::to_string(each->index) + ".m4s" + query});
    }
  };
  for (std::size_t i = first; i < done_.size(); ++i) {
    const segment& s = *done_[i];
    p.segments.push_back({s.sequence, s.duration_ms, s.discontinuity, s.program_date_ms,
                          std::to_string(s.sequence) + (fmp4 ? ".m4s" : ".ts") + query,
                          fmp4 ? "init-" + std::to_string(s.init) + ".mp4" + query : std::string(), {}, true});
    for (const auto& [sequence, parts] : done_parts_) {
      if (sequence == s.sequence) list_parts(parts, p.segments.back());
    }
  }
  if (low_latency()) {
    p.part_target_ms = static_cast<std::uint32_t>(config_.part_duration.count());
    if (open_listed) {
      playlist_segment open;
      open.sequence = next_sequence_;
      open.discontinuity = open_discontinuity_;
      open.program_date_ms = open_date_ms_;
      open.map_uri = "init-" + std::to_string(init_number_) + ".mp4" + query;
      open.complete = false;
      list_parts(open_part_list_, open);
      p.segments.push_back(std::move(open));
    }
    // RFC 8216bis section 4.4.5.3: not with EXT-X-ENDLIST.
    if (!ended_) {
      p.preload_hint_uri = std::to_string(next_sequence_) + "." + std::to_string(open_parts_) + ".m4s" + query;
    }
  }
  p.ended = ended_;
  return render(p);
}

proto::shared_bytes segmenter::find_init(std::uint64_t number) const {
  for (const auto& [n, bytes] : inits_) {
    if (n == number) return bytes;
  }
  return {};
}

std::shared_ptr<const part> segmenter::find_part(std::uint64_t sequence, std::uint32_t index) const {
  if (sequence == next_sequence_) return index < open_part_list_.size() ? open_part_list_[index] : nullptr;
  for (const auto& [s, parts] : done_parts_) {
    if (s == sequence) return index < parts.size() ? parts[index] : nullptr;
  }
  return nullptr;
}

bool segmenter::has(std::uint64_t sequence, std::int64_t index) const noexcept {
  if (ended_ || sequence < next_sequence_) return true;
  return index >= 0 && sequence == next_sequence_ && index < std::int64_t{open_parts_};
}

std::shared_ptr<const segment> segmenter::find(std::uint64_t sequence) const {
  if (done_.empty() || sequence < done_.front()->sequence || sequence > done_.back()->sequence) return nullptr;
  return done_[static_cast<std::size_t>(sequence - done_.front()->sequence)];
}

}  // namespace rtmp::hls
