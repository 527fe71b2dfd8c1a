#include "hls/hls_manager.hpp"

#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <chrono>

#include "net/coroutine_support.hpp"

namespace rtmp::net {

namespace {

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool plain_segment(std::string_view s) { return !s.empty() && s != "." && s != ".."; }

// A decimal of 1 to `max_digits` digits and nothing else.
template <typename T>
bool read_decimal(std::string_view digits, std::size_t max_digits, T& out) {
  if (digits.empty() || digits.size() > max_digits) return false;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), out);
  return ec == std::errc() && end == digits.data() + digits.size();
}

// A part index past this is never made (segments are cut by
// max_segment_duration long before): a request for one is too far ahead.
constexpr std::int64_t max_part_index = 1000;

std::string_view name_of(std::string_view app, std::string_view key) {
  if (key.size() > app.size() && key.substr(0, app.size()) == app && key[app.size()] == '/') {
    key.remove_prefix(app.size() + 1);
  }
  return key;
}

}  // namespace

std::optional<hls_target> match_hls_path(std::string_view path) {
  if (path.size() < 2 || path.front() != '/') return std::nullopt;
  path.remove_prefix(1);
  const auto first = path.find('/');
  if (first == std::string_view::npos) return std::nullopt;
  const auto second = path.find('/', first + 1);
  if (second == std::string_view::npos || path.find('/', second + 1) != std::string_view::npos) return std::nullopt;
  hls_target t;
  t.app = std::string(path.substr(0, first));
  t.stream = std::string(path.substr(first + 1, second - first - 1));
  if (!plain_segment(t.app) || !plain_segment(t.stream)) return std::nullopt;
  std::string_view file = path.substr(second + 1);
  if (file == "index.m3u8") return t;
  struct form {
    std::string_view prefix, suffix;
    hls_target::file kind;
  };
  for (const form f : {form{"", ".ts", hls_target::file::ts_segment}, form{"", ".m4s", hls_target::file::fmp4_segment},
                       form{"init-", ".mp4", hls_target::file::init}}) {
    if (file.size() <= f.prefix.size() + f.suffix.size() || file.substr(0, f.prefix.size()) != f.prefix ||
        file.substr(file.size() - f.suffix.size()) != f.suffix) {
      continue;
    }
    std::string_view digits = file.substr(f.prefix.size(), file.size() - f.prefix.size() - f.suffix.size());
    t.kind = f.kind;
    t.playlist = false;
    if (const auto dot = digits.find('.'); dot != std::string_view::npos) {
      // "{N}.{P}.m4s": an LL-HLS part.
      if (f.kind != hls_target::file::fmp4_segment || !read_decimal(digits.substr(dot + 1), 9, t.part)) {
        return std::nullopt;
      }
      digits = digits.substr(0, dot);
      t.kind = hls_target::file::part;
    }
    if (!read_decimal(digits, 20, t.sequence)) return std::nullopt;
    return t;
  }
  return std::nullopt;
}

/// Feeds one publish of a stream into its segmenter: a hub subscriber on the
/// publisher's worker; every member is used there only.
class hls_session final : public hub::subscriber, public std::enable_shared_from_this<hls_session> {
 public:
  hls_session(hls_manager& owner, std::string key, std::shared_ptr<hls_manager::entry> e, std::uint64_t number,
              std::shared_ptr<hub::stream> s, std::size_t worker, std::chrono::milliseconds expire_after)
      : owner_(owner),
        key_(std::move(key)),
        entry_(std::move(e)),
        number_(number),
        stream_(std::move(s)),
        worker_(worker),
        expire_after_(expire_after),
        timer_(*owner.workers_.at(worker)) {}

  std::size_t worker() const noexcept override { return worker_; }

  // Subscribes (on the worker) and feeds what the stream has cached: its
  // headers and the GOP since the last keyframe.
  void begin() {
    const hub::stream_snapshot snap = stream_->subscribe(this);
    subscribed_ = true;
    feed(snap.start_sequence());
  }

  // The publish ended (or the server stops): the playlist ends; it expires later.
  void finish(bool expire_later) {
    if (finished_) return;
    finished_ = true;
    {
      std::lock_guard lock(entry_->mu);
      if (entry_->session == number_) {
        entry_->seg.end();
        owner_.account(*entry_);
        sync_files();
        owner_.wake(*entry_, true);
      }
    }
    if (subscribed_) {
      subscribed_ = false;
      stream_->unsubscribe(this);
      owner_.streams_.remove_if_unused(stream_);
    }
    if (!expire_later) return;
    timer_.expires_after(expire_after_);
    timer_.async_wait([self = shared_from_this()](const std::error_code& ec) {
      if (!ec) self->owner_.expire(self->key_, self->entry_, self->number_);
      self->owner_.forget(self.get());
    });
  }

  void stop() {
    timer_.cancel();
    finish(false);
    owner_.forget(this);
  }

 protected:
  void on_media(std::span<const hub::packet_ptr> batch) override { feed(batch); }
  void on_publish_start() override {}  // a session feeds one publish; the next one starts its own
  void on_publish_stop() override { finish(true); }

 private:
  void feed(std::span<const hub::packet_ptr> batch) {
    if (finished_ || batch.empty()) return;
    const std::int64_t now = wall_ms();
    std::lock_guard lock(entry_->mu);
    if (entry_->session != number_) return;  // a newer publish took the stream over
    const std::uint64_t before = entry_->seg.next_sequence();
    const std::uint64_t version = entry_->seg.version();
    for (const auto& p : batch) {
      if (p->sequence_end || p->metadata) continue;
      entry_->seg.on_media(p->msg.type, p->msg.payload.span(), p->msg.timestamp, now);
    }
    owner_.account(*entry_);
    if (entry_->seg.next_sequence() != before) sync_files();
    if (entry_->seg.version() != version) owner_.wake(*entry_);
  }

  // --hls-path: the directory follows the segmenter (entry_->mu held).
  void sync_files() {
    if (entry_->files == nullptr || entry_->files->sync(entry_->seg)) return;
    spdlog::warn("hls: {}: {}; its files are no longer written", key_, entry_->files->error());
    entry_->files.reset();
  }

  hls_manager& owner_;
  const std::string key_;
  const std::shared_ptr<hls_manager::entry> entry_;
  const std::uint64_t number_;
  const std::shared_ptr<hub::stream> stream_;
  const std::size_t worker_;
  const std::chrono::milliseconds expire_after_;
  asio::steady_timer timer_;
  bool subscribed_ = false;
  bool finished_ = false;
};

hls_manager::hls_manager(hls_config cfg, hub::hub& streams, std::vector<asio::io_context*> workers)
    : cfg_(std::move(cfg)), streams_(streams), workers_(std::move(workers)) {}

hls_manager::~hls_manager() {
  std::lock_guard lock(mu_);
  sessions_.clear();
}

bool hls_manager::enabled(std::string_view app) const { return cfg_.load()->apps.count(std::string(app)) != 0; }

void hls_manager::on_publish_start(std::string_view app, std::string_view key,
                                   const std::shared_ptr<hub::stream>& stream, std::size_t worker) {
  const auto cfg = cfg_.load();
  if (cfg->apps.count(std::string(app)) == 0 || stream == nullptr || worker >= workers_.size()) return;
  std::shared_ptr<hls_session> s;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    auto& e = entries_[std::string(key)];
    if (e == nullptr) {
      if (total_bytes_.load() >= cfg->max_total_bytes) {
        entries_.erase(std::string(key));
        spdlog::warn("hls: {} gets no HLS: {} bytes of segments kept, the server-wide bound", key,
                     total_bytes_.load());
        return;
      }
      hls::segmenter_config sc;
      sc.segment_duration = cfg->segment_duration;
      sc.window = cfg->window;
      sc.max_bytes = cfg->max_stream_bytes;
      sc.format = cfg->fmp4 ? hls::segment_format::fmp4 : hls::segment_format::ts;
      if (cfg->fmp4) sc.part_duration = cfg->part_duration;
      // Sequence numbers start at the wall clock's seconds: a stream that
      // expired and came back never reuses a segment URL a cache may hold.
      sc.first_sequence = static_cast<std::uint64_t>(wall_ms() / 1000);
      e = std::make_shared<entry>(sc);
      e->fmp4 = cfg->fmp4;
      if (!cfg->path.empty()) e->files = std::make_unique<hls_directory>(cfg->path, app, name_of(app, key));
    }
    const std::uint64_t number = next_session_++;
    {
      std::lock_guard entry_lock(e->mu);
      e->session = number;
      e->seg.restart();
    }
    s = std::make_shared<hls_session>(*this, std::string(key), e, number, stream, worker, cfg->expire_after);
    sessions_.emplace(s.get(), s);
  }
  spdlog::info("hls: {} segmenting ({}/index.m3u8)", key, name_of(app, key));
  s->begin();
}

void hls_manager::account(entry& e) {
  const std::size_t now = e.seg.bytes();
  if (now >= e.counted_bytes) {
    total_bytes_.fetch_add(now - e.counted_bytes, std::memory_order_relaxed);
  } else {
    total_bytes_.fetch_sub(e.counted_bytes - now, std::memory_order_relaxed);
  }
  e.counted_bytes = now;
}

void hls_manager::expire(const std::string& key, const std::shared_ptr<entry>& e, std::uint64_t session) {
  std::lock_guard lock(mu_);
  const auto it = entries_.find(key);
  if (it == entries_.end() || it->second != e) return;
  std::lock_guard entry_lock(e->mu);
  if (e->session != session || !e->seg.ended()) return;  // published again meanwhile
  total_bytes_.fetch_sub(e->counted_bytes, std::memory_order_relaxed);
  e->counted_bytes = 0;
  if (e->files != nullptr) e->files->remove();
  wake(*e, true);  // they find the stream gone
  entries_.erase(it);
  spdlog::info("hls: {} expired", key);
}

void hls_manager::forget(const hls_session* s) {
  std::shared_ptr<hls_session> keep;  // released outside the lock
  std::lock_guard lock(mu_);
  const auto it = sessions_.find(s);
  if (it == sessions_.end()) return;
  keep = std::move(it->second);
  sessions_.erase(it);
}

std::optional<hls_stream_status> hls_manager::status(const std::string& key) const {
  std::shared_ptr<entry> e;
  {
    std::lock_guard lock(mu_);
    const auto it = entries_.find(key);
    if (it == entries_.end()) return std::nullopt;
    e = it->second;
  }
  hls_stream_status st;
  std::lock_guard lock(e->mu);
  st.segments = e->seg.segments();
  st.bytes = e->seg.bytes();
  st.next_sequence = e->seg.next_sequence();
  st.ended = e->seg.ended();
  st.requests = e->requests.load(std::memory_order_relaxed);
  const std::int64_t now_s = wall_ms() / 1000;
  st.requests_per_second = e->request_rate.rate(now_s);
  st.playlist_requests_per_second = e->playlist_rate.rate(now_s);
  st.blocked = e->waiters.size();
  return st;
}

std::size_t hls_manager::streams() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

http::response hls_manager::answer(const hls_target& target, const std::string& key, const std::string& query,
                                   const std::string& if_none_match) const {
  requests_.fetch_add(1, std::memory_order_relaxed);
  const std::shared_ptr<entry> e = find(key);
  if (e == nullptr) return http::make_error(404, "no such HLS stream");
  e->requests.fetch_add(1, std::memory_order_relaxed);
  const std::int64_t now_s = wall_ms() / 1000;
  e->request_rate.hit(now_s);
  http::response r;
  if (!target.playlist) {
    // A segment of the other format is not there either.
    const bool wanted_fmp4 = target.kind != hls_target::file::ts_segment;
    proto::shared_bytes bytes;
    if (wanted_fmp4 == e->fmp4) {
      std::lock_guard lock(e->mu);
      if (target.kind == hls_target::file::init) {
        bytes = e->seg.find_init(target.sequence);
      } else if (target.kind == hls_target::file::part) {
        if (const auto part = e->seg.find_part(target.sequence, target.part)) bytes = part->bytes;
      } else if (const auto s = e->seg.find(target.sequence)) {
        bytes = s->bytes;
      }
    }
    if (bytes.size() == 0) return http::make_error(404, "no such segment (it may have left the window)");
    r.content_type = e->fmp4 ? "video/mp4" : "video/mp2t";
    r.shared_body = std::move(bytes);
    // A segment never changes: caches may keep it (RFC 9111 section 5.2.2).
    r.cache_control = "public, max-age=86400, immutable";
    return r;
  }
  e->playlist_rate.hit(now_s);
  std::string text;
  std::string etag;
  std::uint32_t max_age = 1;
  {
    std::lock_guard lock(e->mu);
    text = e->seg.playlist(query);
    etag = "\"" + std::to_string(e->seg.next_sequence()) + "." + std::to_string(e->seg.open_parts()) +
           (e->seg.ended() ? "e" : "") + "\"";
    // LL-HLS playlists change every part: a second at most.
    if (!e->seg.low_latency()) {
      max_age = static_cast<std::uint32_t>(std::max<std::int64_t>(1, cfg_.load()->segment_duration.count() / 2000));
    }
  }
  if (text.empty()) return http::make_error(404, "no segment yet: the stream has just started");
  r.headers.emplace_back("ETag", etag);
  // About half a segment: a cache refreshes the playlist before a new segment is due.
  r.cache_control = "public, max-age=" + std::to_string(max_age);
  if (!if_none_match.empty() && if_none_match == etag) {
    r.status = 304;
    return r;
  }
  r.content_type = "application/vnd.apple.mpegurl";
  r.body = std::move(text);
  return r;
}

std::shared_ptr<hls_manager::entry> hls_manager::find(const std::string& key) const {
  std::lock_guard lock(mu_);
  const auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : it->second;
}

void hls_manager::wake(entry& e, bool all) {
  if (e.waiters.empty()) return;
  // Satisfied waiters, grouped by the executor they wait on: one post each.
  std::vector<std::pair<asio::any_io_executor, std::vector<std::shared_ptr<waiter>>>> by_executor;
  auto keep = std::remove_if(e.waiters.begin(), e.waiters.end(), [&](std::shared_ptr<waiter>& w) {
    if (!all && !e.seg.has(w->sequence, w->part)) return false;
    auto ex = w->timer.get_executor();
    auto group = std::find_if(by_executor.begin(), by_executor.end(), [&](const auto& g) { return g.first == ex; });
    if (group == by_executor.end()) group = by_executor.insert(by_executor.end(), {std::move(ex), {}});
    group->second.push_back(std::move(w));
    return true;
  });
  e.waiters.erase(keep, e.waiters.end());
  for (auto& [ex, waiters] : by_executor) {
    asio::post(ex, [waiters = std::move(waiters)] {
      for (const auto& w : waiters) w->timer.cancel();
    });
  }
}

asio::awaitable<hls_hold> hls_manager::hold(const std::string& key, std::uint64_t sequence, std::int64_t part,
                                            asio::any_io_executor ex) {
  const std::shared_ptr<entry> e = find(key);
  if (e == nullptr) co_return hls_hold::no_stream;
  const auto cfg = cfg_.load();
  // RFC 8216bis section 6.2.5.2: the server SHOULD answer within three
  // target durations, and 503 when it cannot.
  const auto patience = 3 * std::max(cfg->segment_duration, std::chrono::milliseconds(1000));
  auto w = std::make_shared<waiter>(ex);
  w->sequence = sequence;
  w->part = part;
  w->timer.expires_after(patience);
  {
    std::lock_guard lock(e->mu);
    if (!e->seg.low_latency() || e->seg.has(sequence, part)) co_return hls_hold::ready;
    // More than one segment past the open one (two past the last listed),
    // or a part index no segment reaches: 400 (section 6.2.5.2).
    if (sequence > e->seg.next_sequence() + 1 || part > max_part_index) co_return hls_hold::too_far;
    if (blocked_.fetch_add(1, std::memory_order_relaxed) >= cfg->max_blocked_requests) {
      blocked_.fetch_sub(1, std::memory_order_relaxed);
      co_return hls_hold::busy;
    }
    e->waiters.push_back(w);
  }
  // Woken by wake() (cancelled) or by the patience running out.
  (void)co_await w->timer.async_wait(as_tuple(use_awaitable));
  blocked_.fetch_sub(1, std::memory_order_relaxed);
  std::lock_guard lock(e->mu);
  const auto it = std::find(e->waiters.begin(), e->waiters.end(), w);
  if (it != e->waiters.end()) e->waiters.erase(it);
  co_return e->seg.has(sequence, part) ? hls_hold::ready : hls_hold::timed_out;
}

void hls_manager::rate_meter::hit(std::int64_t now_s) noexcept {
  const std::size_t slot = static_cast<std::size_t>(now_s) % slots;
  std::int64_t seen = second[slot].load(std::memory_order_relaxed);
  if (seen != now_s && second[slot].compare_exchange_strong(seen, now_s, std::memory_order_relaxed)) {
    count[slot].store(0, std::memory_order_relaxed);
  }
  count[slot].fetch_add(1, std::memory_order_relaxed);
}

double hls_manager::rate_meter::rate(std::int64_t now_s) const noexcept {
  constexpr std::int64_t seconds = 10;
  std::uint64_t total = 0;
  for (std::int64_t t = now_s - seconds; t < now_s; ++t) {
    const std::size_t slot = static_cast<std::size_t>(t) % slots;
    if (second[slot].load(std::memory_order_relaxed) == t) total += count[slot].load(std::memory_order_relaxed);
  }
  return static_cast<double>(total) / seconds;
}

void hls_manager::shutdown() {
  std::vector<std::shared_ptr<hls_session>> all;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    for (auto& [p, s] : sessions_) all.push_back(s);
    for (auto& [key, e] : entries_) {
      std::lock_guard entry_lock(e->mu);
      wake(*e, true);  // held requests are answered now
    }
  }
  for (auto& s : all) asio::post(*workers_.at(s->worker()), [s] { s->stop(); });
}

}  // namespace rtmp::net
