#include "rtmp/hub/stream.hpp"

#include <asio/post.hpp>

#include <algorithm>

namespace rtmp::hub {

namespace {

// The distinct packets of a header cache, oldest first (a multitrack message
// may configure several tracks; it is sent once).
template <typename Cache>
std::vector<packet_ptr> distinct_oldest_first(const Cache& cache) {
  std::vector<packet_ptr> out;
  for (const auto& entry : cache) {
    if (std::find(out.begin(), out.end(), entry.packet) == out.end()) out.push_back(entry.packet);
  }
  std::sort(out.begin(), out.end(), [](const packet_ptr& a, const packet_ptr& b) { return a->seq < b->seq; });
  return out;
}

}  // namespace

std::vector<packet_ptr> stream_snapshot::start_sequence() const {
  std::vector<packet_ptr> out;
  out.reserve(track_headers.size() + gop.size() + 3);
  if (metadata) out.push_back(metadata);
  if (video_header) out.push_back(video_header);
  if (audio_header) out.push_back(audio_header);
  out.insert(out.end(), track_headers.begin(), track_headers.end());
  out.insert(out.end(), gop.begin(), gop.end());
  return out;
}

// --- subscriber ---------------------------------------------------------------

void subscriber::adopt(const stream_snapshot& snap) noexcept {
  generation_ = snap.generation;
  last_seq_ = snap.last_seq;
  active_ = snap.publishing;
}

void subscriber::deliver(std::span<const packet_ptr> batch, std::uint64_t generation) {
  if (!active_ || generation != generation_) return;
  // A batch is in sequence order (publish() numbers it; a coalescing window
  // appends batches as they come), so what the player already has (from
  // its join snapshot) is a prefix: hand on the rest without copying it.
  std::size_t first = 0;
  while (first < batch.size() && batch[first]->seq <= last_seq_) ++first;
  if (first == batch.size()) return;
  last_seq_ = batch.back()->seq;
  on_media(batch.subspan(first));
}

void subscriber::deliver_start(std::uint64_t generation) {
  if (generation <= generation_ && (active_ || generation < generation_)) return;
  generation_ = generation;
  active_ = true;
  on_publish_start();
}

void subscriber::deliver_stop(std::uint64_t generation) {
  if (generation != generation_ || !active_) return;
  active_ = false;
  on_publish_stop();
}

// --- stream ---------------------------------------------------------------------

stream::stream(std::string key, std::vector<asio::io_context*> workers, stream_config config,
               std::shared_ptr<coalesce_controllers> pacing)
    : key_(std::move(key)),
      workers_(std::move(workers)),
      config_(config),
      pacing_(pacing != nullptr ? std::move(pacing) : make_coalesce_controllers(workers_.size())),
      count_per_worker_(workers_.size(), 0),
      local_(workers_.size()),
      removals_(workers_.size(), 0),
      held_(workers_.size()) {}

stream::~stream() = default;

stream::claim_result stream::claim(const std::shared_ptr<publisher>& p) {
  std::shared_ptr<publisher> old;
  claim_result result = claim_result::ok;
  {
    std::lock_guard lock(mu_);
    const auto now = std::chrono::steady_clock::now();
    if (publisher_ != nullptr) {
      const bool stale = config_.stale_publisher.count() > 0 && now - last_media_at_ >= config_.stale_publisher;
      if (!config_.publisher_takeover && !stale) return claim_result::busy;
      old = std::move(publisher_);
      post_to_workers(notice::stop, generation_, nullptr);
      result = config_.publisher_takeover ? claim_result::took_over : claim_result::took_over_stale;
    }
    publisher_ = p;
    ++generation_;
    last_media_at_ = now;
    publish_started_ = std::chrono::system_clock::now();
    bytes_in_ = 0;
    messages_in_ = 0;
    clear_caches();
    post_to_workers(notice::start, generation_, nullptr);
  }
  if (old != nullptr) {
    old->kick(result == claim_result::took_over_stale ? "stale: no media for " +
                                                            std::to_string(config_.stale_publisher.count()) +
                                                            " ms, and a new publisher took over the stream"
                                                      : "another publisher took over the stream");
  }
  return result;
}

std::optional<std::chrono::steady_clock::duration> stream::publisher_silence() const {
  std::lock_guard lock(mu_);
  if (publisher_ == nullptr) return std::nullopt;
  return std::chrono::steady_clock::now() - last_media_at_;
}

void stream::clear_caches() {
  metadata_.reset();
  video_headers_.clear();
  audio_headers_.clear();
  gop_.clear();
  gop_bytes_ = 0;
  gop_open_ = false;
}

void stream::cache_header(std::vector<track_header>& cache, const packet_ptr& pkt) {
  for (const std::uint8_t track : pkt->tracks) {
    auto it = std::lower_bound(cache.begin(), cache.end(), track,
                               [](const track_header& h, std::uint8_t t) { return h.track < t; });
    if (it != cache.end() && it->track == track) {
      it->packet = pkt;  // a new SequenceStart replaces the track's configuration
    } else if (cache.size() < max_cached_tracks) {
      cache.insert(it, track_header{track, pkt});
    }
  }
}

void stream::forget_tracks(std::vector<track_header>& cache, const media_packet& end) {
  std::erase_if(cache, [&](const track_header& h) {
    return std::find(end.tracks.begin(), end.tracks.end(), h.track) != end.tracks.end();
  });
}

void stream::release(const publisher* p) {
  std::lock_guard lock(mu_);
  if (publisher_.get() != p || p == nullptr) return;
  publisher_.reset();
  clear_caches();
  post_to_workers(notice::stop, generation_, nullptr);
}

void stream::publish(const publisher* p, std::vector<std::shared_ptr<media_packet>>& batch) {
  if (batch.empty()) return;
  auto shared = std::make_shared<std::vector<packet_ptr>>();
  shared->reserve(batch.size());
  const auto now = std::chrono::steady_clock::now();  // before the lock: keep it short
  std::lock_guard lock(mu_);
  if (publisher_.get() != p || p == nullptr) {
    batch.clear();
    return;
  }
  last_media_at_ = now;
  for (auto& mp : batch) {
    mp->seq = ++seq_;
    bytes_in_ += mp->msg.payload.size();
    ++messages_in_;
    packet_ptr pkt = std::move(mp);
    if (pkt->is_video() || pkt->is_audio()) {
      // Keep the newest timestamp (modulo 2^32), not the last one: a message
      // older than one sent before it (e.g. an end-of-sequence video tag
      // after later audio) must not pull the next publisher's timeline back.
      const std::uint32_t ts = pkt->msg.timestamp;
      if (!has_last_ts_ || static_cast<std::uint32_t>(ts - last_ts_) < 0x80000000u) last_ts_ = ts;
      has_last_ts_ = true;
    }
    if (pkt->header) {
      if (pkt->metadata) {
        metadata_ = pkt;
      } else if (pkt->is_video()) {
        cache_header(video_headers_, pkt);
      } else if (pkt->is_audio()) {
        cache_header(audio_headers_, pkt);
      }
    } else if (config_.gop_cache && (pkt->is_video() || pkt->is_audio())) {
      if (pkt->keyframe) {
        gop_.clear();
        gop_bytes_ = 0;
        gop_open_ = true;
      }
      if (gop_open_) {
        gop_.push_back(pkt);
        gop_bytes_ += pkt->wire.size();
        if (gop_bytes_ > config_.gop_cache_max_bytes) {
          // Too long a GOP to cache: wait for the next keyframe.
          gop_.clear();
          gop_bytes_ = 0;
          gop_open_ = false;
        }
      }
    }
    // A SequenceEnd stays in the GOP (like any other media) and also retires its
    // tracks' cached headers: a late joiner must not get a stale one.
    if (pkt->sequence_end) forget_tracks(pkt->is_video() ? video_headers_ : audio_headers_, *pkt);
    shared->push_back(std::move(pkt));
  }
  batch.clear();
  if (subscribers_ > 0) post_to_workers(notice::media, generation_, std::move(shared));
}

stream_snapshot stream::subscribe(subscriber* s) {
  const std::size_t w = s->worker();
  stream_snapshot snap;
  {
    std::lock_guard lock(mu_);
    snap.publishing = publisher_ != nullptr;
    snap.generation = generation_;
    snap.last_seq = seq_;
    if (snap.publishing) {
      snap.metadata = metadata_;
      auto video = distinct_oldest_first(video_headers_);
      auto audio = distinct_oldest_first(audio_headers_);
      if (!video.empty()) snap.video_header = video.front();
      if (!audio.empty()) snap.audio_header = audio.front();
      // Further tracks' headers (multitrack only), oldest first.
      for (std::size_t i = 1; i < video.size(); ++i) snap.track_headers.push_back(std::move(video[i]));
      for (std::size_t i = 1; i < audio.size(); ++i) snap.track_headers.push_back(std::move(audio[i]));
      std::sort(snap.track_headers.begin(), snap.track_headers.end(),
                [](const packet_ptr& a, const packet_ptr& b) { return a->seq < b->seq; });
      if (config_.gop_cache && gop_open_) snap.gop = gop_;
    }
    ++count_per_worker_[w];
    ++subscribers_;
  }
  local_[w].push_back(s);
  s->adopt(snap);
  return snap;
}

void stream::unsubscribe(subscriber* s) {
  const std::size_t w = s->worker();
  auto& list = local_[w];
  auto it = std::find(list.begin(), list.end(), s);
  if (it == list.end()) return;
  list.erase(it);
  ++removals_[w];
  std::lock_guard lock(mu_);
  --count_per_worker_[w];
  --subscribers_;
}

bool stream::unused() const {
  std::lock_guard lock(mu_);
  return publisher_ == nullptr && subscribers_ == 0;
}

std::size_t stream::subscriber_count() const {
  std::lock_guard lock(mu_);
  return subscribers_;
}

bool stream::last_timestamp(std::uint32_t& out) const {
  std::lock_guard lock(mu_);
  out = last_ts_;
  return has_last_ts_;
}

bool stream::publishing() const {
  std::lock_guard lock(mu_);
  return publisher_ != nullptr;
}

stream_status stream::status() const {
  std::lock_guard lock(mu_);
  stream_status s;
  s.publishing = publisher_ != nullptr;
  s.publish_started = publish_started_;
  s.bytes_in = bytes_in_;
  s.messages_in = messages_in_;
  s.subscribers = subscribers_;
  s.metadata = metadata_;
  if (!video_headers_.empty()) s.video_header = video_headers_.front().packet;
  if (!audio_headers_.empty()) s.audio_header = audio_headers_.front().packet;
  s.video_tracks = video_headers_.size();
  s.audio_tracks = audio_headers_.size();
  return s;
}

std::shared_ptr<publisher> stream::current_publisher() const {
  std::lock_guard lock(mu_);
  return publisher_;
}

void stream::post_to_workers(notice what, std::uint64_t generation,
                             const std::shared_ptr<const std::vector<packet_ptr>>& batch) {
  for (std::size_t w = 0; w < workers_.size(); ++w) {
    if (count_per_worker_[w] == 0) continue;
    asio::post(*workers_[w], [self = shared_from_this(), w, what, generation, batch] {
      self->run_on_worker(w, what, generation, batch.get());
    });
  }
}

void stream::run_on_worker(std::size_t w, notice what, std::uint64_t generation,
                           const std::vector<packet_ptr>* batch) {
  if (what == notice::media) {
    std::chrono::microseconds window = config_.write_coalesce;
    if (config_.coalesce_auto) {
      coalesce_controller& pacing = *(*pacing_)[w];
      pacing.on_arrival(std::chrono::steady_clock::now());
      window = pacing.window(config_.max_coalesce_delay);
    }
    if (window.count() > 0) {
      hold_on_worker(w, generation, *batch, window);
      return;
    }
  }
  // Held media goes first: a start or stop notice must not overtake it.
  release_held(w);
  deliver_on_worker(w, what, generation,
                    batch != nullptr ? std::span<const packet_ptr>(*batch) : std::span<const packet_ptr>());
}

void stream::hold_on_worker(std::size_t w, std::uint64_t generation, const std::vector<packet_ptr>& batch,
                            std::chrono::microseconds window) {
  held_media& h = held_[w];
  if (!h.packets.empty() && h.generation != generation) release_held(w);  // another publisher's media
  h.generation = generation;
  for (const auto& p : batch) {
    h.packets.push_back(p);
    h.bytes += p->wire.size();
  }
  if (h.bytes >= config_.coalesce_max_bytes) {
    release_held(w);
    return;
  }
  if (h.armed || h.packets.empty()) return;
  if (h.timer == nullptr) h.timer = std::make_unique<asio::steady_timer>(*workers_[w]);
  h.armed = true;
  h.timer->expires_after(window);
  h.timer->async_wait([self = shared_from_this(), w, window = h.window](const std::error_code&) {
    if (self->held_[w].window == window) self->release_held(w);  // else released early meanwhile
  });
}

void stream::release_held(std::size_t w) {
  held_media& h = held_[w];
  if (h.armed) {
    h.armed = false;
    ++h.window;
    h.timer->cancel();
  }
  if (h.packets.empty()) return;
  std::vector<packet_ptr> packets;
  packets.swap(h.packets);
  h.bytes = 0;
  deliver_on_worker(w, notice::media, h.generation, packets);
  packets.clear();
  if (h.packets.empty()) h.packets.swap(packets);  // keep the capacity for the next window
}

void stream::deliver_on_worker(std::size_t w, notice what, std::uint64_t generation,
                               std::span<const packet_ptr> batch) {
  // A callback may unsubscribe (close) players: iterate over a copy of the
  // list so removal cannot invalidate the loop, and skip a player removed
  // meanwhile. Membership is re-checked only after a removal happened during
  // this loop (a search per player per batch would be quadratic: 10,000
  // players are 50 million comparisons per message).
  auto& list = local_[w];
  if (list.empty()) return;
  // Adaptive coalescing measures what a round of media costs.
  const bool timed = what == notice::media && config_.coalesce_auto;
  const auto began = timed ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
  thread_local std::vector<subscriber*> spare;  // reused between batches
  std::vector<subscriber*> players;
  players.swap(spare);  // a nested call would find `spare` empty: still correct
  players.assign(list.begin(), list.end());
  const std::uint64_t removals_before = removals_[w];
  const std::size_t round_players = players.size();
  for (subscriber* s : players) {
    if (removals_[w] != removals_before && std::find(list.begin(), list.end(), s) == list.end()) continue;
    switch (what) {
      case notice::media: s->deliver(batch, generation); break;
      case notice::start: s->deliver_start(generation); break;
      case notice::stop: s->deliver_stop(generation); break;
    }
  }
  players.clear();
  if (players.capacity() > spare.capacity()) players.swap(spare);
  if (timed) (*pacing_)[w]->on_round(std::chrono::steady_clock::now() - began, round_players);
}

}  // namespace rtmp::hub
