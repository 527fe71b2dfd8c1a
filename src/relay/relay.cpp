#include "relay/relay_manager.hpp"

#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <spdlog/spdlog.h>


#include <algorithm>
#include <chrono>
#include <deque>

#include "rtmp/hub/player_policy.hpp"
#include "rtmp/proto/client_session.hpp"
#include "rtmp/proto/rtmp_url.hpp"
#include "net/coroutine_support.hpp"
#include "net/socket_writer.hpp"
#include "net/tls.hpp"
#include "relay/push_plan.hpp"
#include "relay/relay_conn.hpp"

namespace rtmp::net {

using tcp = asio::ip::tcp;
using clock = std::chrono::steady_clock;

namespace {

/// How often a relay looks at its deadlines (connect, stall, idle).
constexpr std::chrono::milliseconds relay_tick_interval{200};
/// A stopping push flushes FCUnpublish/deleteStream this long at most.
constexpr std::chrono::milliseconds relay_goodbye_timeout{2'000};
/// Bytes per socket read of a relay connection.
constexpr std::size_t relay_read_buffer_size = std::size_t{64} * 1024;
/// Bytes gathered into one write of a relay connection.
constexpr std::size_t relay_max_write_batch_bytes = std::size_t{1024} * 1024;
/// Sequence headers a push keeps to lead a (re)connection.
constexpr std::size_t max_push_headers = 2 * hub::max_cached_tracks;

}  // namespace

/// A push (subscriber of a local stream, publishing to a remote server) or a
/// pull (player of a remote stream, publisher of the local one). Lives on one
/// worker; every member is used there only, except `last_request_`
/// (relay_manager::mu_).
class relay_session final : public hub::subscriber,
                            public hub::publisher,
                            public std::enable_shared_from_this<relay_session> {
 public:
  enum class kind : std::uint8_t { push, pull };

  relay_session(relay_manager& owner, kind k, std::string key, std::string name, std::vector<std::string> urls,
                std::shared_ptr<hub::stream> stream, std::size_t worker)
      : owner_(owner),
        cfg_(owner.cfg_),
        kind_(k),
        key_(std::move(key)),
        name_(std::move(name)),
        urls_(std::move(urls)),
        stream_(std::move(stream)),
        worker_(worker),
        io_(*owner.workers_.at(worker)),
        tick_(io_),
        retry_(io_),
        last_request_(clock::now()),
        policy_(hub::player_limits{.queue_bytes = cfg_.queue_bytes}) {
    status_.key = key_;
    status_.url = redact_stream_key(url_of(0));
    status_.state = "connecting";
  }

  /// How the push is doing (any thread).
  push_status status() const {
    std::lock_guard lock(status_mu_);
    push_status st = status_;
    st.bytes_sent = bytes_sent_.load(std::memory_order_relaxed);
    return st;
  }

  std::size_t worker() const noexcept override { return worker_; }
  const std::string& key() const noexcept { return key_; }
  kind type() const noexcept { return kind_; }
  /// The stream's name within its application.
  const std::string& name() const noexcept { return name_; }
  /// A push's target URL (unredacted).
  const std::string& url() const noexcept { return urls_.front(); }

  /// Starts (on the worker): a push subscribes; both start connecting.
  void begin() {
    if (kind_ == kind::push) {
      const hub::stream_snapshot snap = stream_->subscribe(this);
      subscribed_ = true;
      for (const auto& p : snap.start_sequence()) remember(p);
      if (!stream_->publishing()) {  // started by a reload as the publisher left
        stop("local publisher stopped");
        return;
      }
    }
    auto self = shared_from_this();
    asio::co_spawn(io_, [self]() { return self->run(); }, log_failure("relay"));
    arm_tick();
  }

  /// Ends the relay (on the worker). Idempotent.
  void stop(std::string_view why) {
    if (stopped_) return;
    stopped_ = true;
    spdlog::info("relay: {} {} stopped: {}", kind_ == kind::push ? "push" : "pull", key_, why);
    tick_.cancel();
    retry_.cancel();
    if (conn_ && !conn_->closed) {
      if (kind_ == kind::push && started_) {
        conn_->session.finish();
        conn_->close_when_drained = true;
        flush();
        if (!conn_->writing && conn_->out.empty()) conn_->close();
        conn_->goodbye.expires_after(relay_goodbye_timeout);
        conn_->goodbye.async_wait([c = conn_](std::error_code ec) {
          if (!ec) c->close();
        });
      } else {
        conn_->close();
      }
    }
    if (subscribed_) {
      subscribed_ = false;
      stream_->unsubscribe(this);
      owner_.streams_.remove_if_unused(stream_);
    }
    release_local();
    owner_.forget(this);
  }

  /// Pull: a new player asked (relay_manager::mu_ held).
  void touched(clock::time_point now) { last_request_ = now; }
  clock::time_point last_request() const { return last_request_; }

  // hub::publisher (pull)
  void kick(std::string reason) override {
    asio::post(io_, [self = shared_from_this(), reason = std::move(reason)] { self->stop(reason); });
  }

 protected:
  // hub::subscriber (push)
  void on_media(std::span<const hub::packet_ptr> batch) override {
    for (const auto& p : batch) {
      remember(p);
      if (p->header || p->metadata || p->sequence_end) continue;  // sent by remember()
      send(*p);
    }
    flush();
  }
  void on_publish_start() override {}
  void on_publish_stop() override {
    auto self = shared_from_this();  // the stream is iterating its players: keep us alive
    stop("local publisher stopped");
    asio::post(io_, [self] {});
  }

 private:
  // --- push -----------------------------------------------------------------------
  // Keeps metadata and sequence headers to lead a reconnection; sends them now
  // when the remote publish runs.
  void remember(const hub::packet_ptr& p) {
    if (p->metadata) {
      metadata_ = p;
    } else if (p->header || p->sequence_end) {
      std::erase_if(headers_, [&](const hub::packet_ptr& h) { return h->msg.type == p->msg.type && h->tracks == p->tracks; });
      if (!p->sequence_end) {
        if (headers_.size() == max_push_headers) headers_.erase(headers_.begin());
        headers_.push_back(p);
      }
    } else {
      return;
    }
    if (started_) send_now(*p);
  }

  void send(const hub::media_packet& p) {
    if (!started_ || !conn_ || conn_->closed) return;
    switch (policy_.admit(p, conn_->out.queued(), p.msg.payload.size())) {
      case hub::admission::send: send_now(p); return;
      case hub::admission::drop:
        if (policy_.started_dropping()) spdlog::warn("relay: push {} is slow: dropping to the next keyframe", key_);
        return;
      case hub::admission::skip:
      case hub::admission::disconnect: return;  // a push drops, it is never disconnected for being slow
    }
  }

  void send_now(const hub::media_packet& p) {
    if (!conn_ || conn_->closed) return;
    if (p.metadata) {
      (void)conn_->session.send_script_data(p.msg.payload.span(), p.msg.timestamp);
    } else {
      (void)conn_->session.send_media(p.msg);
    }
  }

  void on_push_started() {
    started_ = true;
    policy_.wait_for_keyframe();
    if (metadata_) send_now(*metadata_);
    for (const auto& h : headers_) send_now(*h);
    flush();
  }

  // --- pull -----------------------------------------------------------------------
  void on_pulled(proto::client_event& ev) {
    if (!claimed_) {
      hub::stream::claim_result result{};
      auto s = owner_.streams_.claim(key_, std::shared_ptr<hub::publisher>(shared_from_this(), static_cast<hub::publisher*>(this)),
                                     result);
      if (result == hub::stream::claim_result::busy) {
        owner_.streams_.remove_if_unused(s);
        stop("the stream has a local publisher");
        return;
      }
      stream_ = std::move(s);
      claimed_ = true;
      timeline_.begin(*stream_);
      spdlog::info("relay: pull {} publishing locally from {}", key_, current_url_);
    }
    delivered_ = true;
    last_media_at_ = clock::now();
    ev.msg.timestamp = timeline_.apply(ev.msg.timestamp);  // continues after a publisher restart
    batch_.push_back(hub::make_packet(std::move(ev.msg), owner_.chunk_size_, ev.metadata));
  }

  void release_local() {
    batch_.clear();
    if (!claimed_) return;
    claimed_ = false;
    auto s = std::move(stream_);
    stream_.reset();
    s->release(this);
    owner_.streams_.remove_if_unused(s);
  }

  std::size_t local_players() const {
    if (stream_) return stream_->subscriber_count();
    const auto s = owner_.streams_.find(key_);
    return s ? s->subscriber_count() : 0;
  }

  // --- connection -------------------------------------------------------------------
  // The URL of attempt `n`: a push's own URL (complete: push_url_for), or
  // origin n of a pull with the stream's name.
  std::string url_of(std::size_t n) const {
    const std::string& base = urls_.at(n % urls_.size());
    return kind_ == kind::push ? base : base + "/" + name_;
  }

  asio::awaitable<void> run() {
    auto self = shared_from_this();
    std::size_t origin = 0;
    auto delay = cfg_.backoff_initial;
    for (bool first = true; !stopped_; first = false) {
      current_url_ = redact_stream_key(url_of(origin));  // logs never show a key
      set_state("connecting", !first);
      delivered_ = false;
      co_await attempt(url_of(origin));
      if (stopped_) break;
      set_state("retrying", false);
      release_local();  // players are told; they wait for the next origin
      if (delivered_) delay = cfg_.backoff_initial;
      origin = (origin + 1) % urls_.size();
      spdlog::info("relay: {} {}: retrying with {} in {} ms", kind_ == kind::push ? "push" : "pull", key_,
                   redact_stream_key(url_of(origin)), delay.count());
      retry_.expires_after(delay);
      co_await retry_.async_wait(as_tuple(use_awaitable));
      if (!delivered_) delay = std::min(delay * 2, cfg_.backoff_max);
    }
  }

  // The operator API's view: `state`, and one more reconnect when `retry`.
  void set_state(const char* state, bool retry) {
    std::lock_guard lock(status_mu_);
    status_.state = state;
    if (retry) ++status_.reconnects;
  }
  // Why the current attempt ended, for the operator API (no stream key: the
  // messages are the system's and the protocol's).
  void note_failure(std::string why) {
    std::lock_guard lock(status_mu_);
    status_.last_error = std::move(why);
  }

  // One connection: returns when it ended (error, refusal, stop).
  asio::awaitable<void> attempt(std::string url) {
    proto::rtmp_url u;
    std::string_view why;
    if (proto::parse_rtmp_url(url, u, {}, &why)) {
      spdlog::error("relay: {}: unusable URL {}: {}", key_, current_url_, why);
      co_return;
    }
    asio::ssl::context* tls_context = nullptr;
    if (u.tls) {
      std::string tls_why;
      tls_context = owner_.client_tls(tls_why);
      if (tls_context == nullptr) {
        spdlog::error("relay: {}: cannot use {}: {}", key_, current_url_, tls_why);
        co_return;
      }
    }
    proto::client_session_config scfg;
    scfg.connect.app = u.app;
    scfg.connect.tc_url = u.tc_url;
    auto c = std::make_shared<relay_conn>(io_, std::move(scfg));
    conn_ = c;
    started_ = false;
    attempt_deadline_ = clock::now() + cfg_.connect_timeout;
    const std::string failed = co_await open_relay_conn(*c, u, tls_context);
    if (c->closed) co_return;
    if (!failed.empty()) {
      spdlog::warn("relay: {}: {} ({})", key_, failed, current_url_);
      note_failure(failed);
      c->close();
      co_return;
    }
    if (kind_ == kind::push) {
      (void)c->session.publish(u.stream);
    } else {
      (void)c->session.play(u.stream);
    }
    flush();
    std::vector<std::uint8_t> buffer(relay_read_buffer_size);
    while (!c->closed) {
      auto [rec, n] = co_await read_some(c->socket, c->tls.get(), asio::buffer(buffer));
      if (c->closed) break;
      if (rec) {
        spdlog::info("relay: {} {} connection to {} ended: {}", kind_ == kind::push ? "push" : "pull", key_,
                     current_url_, rec.message());
        note_failure(rec.message());
        break;
      }
      const std::error_code err = c->session.on_bytes(std::span<const std::uint8_t>(buffer.data(), n));
      handle_events(c);
      if (!batch_.empty() && claimed_ && stream_) stream_->publish(this, batch_);
      batch_.clear();
      flush();
      if (err) {
        spdlog::warn("relay: {} {} to {}: {}", kind_ == kind::push ? "push" : "pull", key_, current_url_,
                     err.message());
        note_failure(err.message());
        break;
      }
    }
    if (!c->close_when_drained) c->close();
    if (conn_ == c) started_ = false;
  }

  void handle_events(const std::shared_ptr<relay_conn>& c) {
    proto::client_event ev;
    while (!c->closed && c->session.next_event(ev)) {
      using k = proto::client_event::kind;
      switch (ev.type) {
        case k::publish_started:
          spdlog::info("relay: push {} publishing to {}", key_, current_url_);
          set_state("publishing", false);
          on_push_started();
          break;
        case k::play_started:
          started_ = true;
          last_media_at_ = clock::now();
          break;
        case k::media:
          if (kind_ == kind::pull && !stopped_) on_pulled(ev);
          break;
        case k::stream_ended:
          spdlog::info("relay: {} {}: remote stream ended ({})", kind_ == kind::push ? "push" : "pull", key_,
                       ev.reason);
          if (!batch_.empty() && claimed_ && stream_) stream_->publish(this, batch_);
          batch_.clear();
          c->close();
          break;
        default: break;
      }
    }
  }

  void flush() {
    if (!conn_ || conn_->closed || !conn_->session.has_output()) return;
    std::vector<std::uint8_t> bytes;
    conn_->session.take_output(bytes);
    conn_->out.push(proto::shared_bytes::adopt(std::move(bytes)), byte_class::media);
    if (conn_->writing) return;
    conn_->writing = true;
    asio::co_spawn(io_, write_loop(conn_), log_failure("relay write loop"));
  }

  asio::awaitable<void> write_loop(std::shared_ptr<relay_conn> c) {
    auto self = shared_from_this();
    drain_hooks hooks{.sent = [this](std::size_t n) { bytes_sent_.fetch_add(n, std::memory_order_relaxed); },
                      .open = [c] { return !c->closed; }};
    const gather_limits limits{.max_buffers = max_write_buffers, .max_bytes = relay_max_write_batch_bytes};
    const std::error_code ec = co_await drain(c->socket, c->tls.get(), c->out, limits, std::move(hooks));
    c->writing = false;
    if (ec || (c->close_when_drained && c->out.empty())) c->close();
  }

  // --- deadlines ----------------------------------------------------------------------
  void arm_tick() {
    tick_.expires_after(relay_tick_interval);
    tick_.async_wait([weak = weak_from_this()](std::error_code ec) {
      if (ec) return;
      auto self = weak.lock();
      if (!self || self->stopped_) return;
      self->on_tick();
      if (!self->stopped_) self->arm_tick();
    });
  }

  void on_tick() {
    const auto now = clock::now();
    if (kind_ == kind::pull) {
      if (local_players() == 0 && owner_.may_stop_idle(this)) {
        stop("no players");
        return;
      }
    }
    if (!conn_ || conn_->closed) return;
    if (!started_ && now > attempt_deadline_) {
      spdlog::warn("relay: {}: {} did not accept in time", key_, current_url_);
      conn_->close();
    } else if (kind_ == kind::pull && started_ && now - last_media_at_ > cfg_.stall_timeout) {
      spdlog::warn("relay: pull {}: no media from {} for {} ms", key_, current_url_, cfg_.stall_timeout.count());
      conn_->close();
    }
  }

  relay_manager& owner_;
  const relay_config& cfg_;
  const kind kind_;
  const std::string key_;
  const std::string name_;
  const std::vector<std::string> urls_;
  std::shared_ptr<hub::stream> stream_;  // push: the subscribed stream; pull: the claimed one
  const std::size_t worker_;
  asio::io_context& io_;
  asio::steady_timer tick_;
  asio::steady_timer retry_;
  std::shared_ptr<relay_conn> conn_;
  std::string current_url_;  // redacted: for logs
  mutable std::mutex status_mu_;
  push_status status_;  // status_mu_ (bytes_sent: bytes_sent_)
  std::atomic<std::uint64_t> bytes_sent_{0};
  clock::time_point attempt_deadline_{};
  clock::time_point last_media_at_{};
  clock::time_point last_request_;
  bool stopped_ = false;
  bool started_ = false;  // remote publish / play accepted on conn_
  bool delivered_ = false;
  // push
  bool subscribed_ = false;
  hub::player_policy policy_;  // keyframes and the queue bound on the outbound connection
  hub::packet_ptr metadata_;
  std::vector<hub::packet_ptr> headers_;
  // pull
  bool claimed_ = false;
  hub::timeline_continuation timeline_;
  std::vector<std::shared_ptr<hub::media_packet>> batch_;
};

// --- manager ----------------------------------------------------------------------

relay_manager::relay_manager(relay_config cfg, hub::hub& streams, std::vector<asio::io_context*> workers,
                             std::uint32_t chunk_size)
    : cfg_(std::move(cfg)),
      streams_(streams),
      workers_(std::move(workers)),
      chunk_size_(chunk_size),
      push_(cfg_.push),
      pull_(cfg_.pull) {}

relay_manager::~relay_manager() { clear(); }

namespace {
std::string_view name_of(std::string_view app, std::string_view key) {
  if (key.size() > app.size() && key.substr(0, app.size()) == app && key[app.size()] == '/') {
    key.remove_prefix(app.size() + 1);
  }
  return key;
}
}  // namespace

void relay_manager::on_publish_start(std::string_view app, std::string_view key,
                                     const std::shared_ptr<hub::stream>& stream, std::size_t worker) {
  if (stream == nullptr || worker >= workers_.size()) return;
  const std::string name(name_of(app, key));
  std::vector<std::shared_ptr<relay_session>> started;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    // Remembered for a reload that adds targets; streams that ended are forgotten here.
    std::erase_if(published_, [](const auto& e) { return e.second.stream.expired(); });
    published_[std::string(key)] = published{std::string(app), name, stream, worker};
    for (const auto& url : push_urls(push_, app, name, max_relay_targets)) {
      started.push_back(add_push(std::string(key), name, url, stream, worker));
    }
  }
  for (auto& s : started) s->begin();  // on the publisher's worker, before its first media
}

std::shared_ptr<relay_session> relay_manager::add_push(std::string key, const std::string& name, const std::string& url,
                                                       std::shared_ptr<hub::stream> stream, std::size_t worker) {
  auto s = std::make_shared<relay_session>(*this, relay_session::kind::push, std::move(key), name,
                                           std::vector<std::string>{url}, std::move(stream), worker);
  sessions_.emplace(s.get(), s);
  return s;
}

bool relay_manager::on_play(std::string_view app, std::string_view key, std::size_t worker) {
  if (worker >= workers_.size()) return false;
  const auto existing = streams_.find(std::string(key));
  std::shared_ptr<relay_session> s;
  {
    std::lock_guard lock(mu_);
    const auto it = pull_.find(std::string(app));
    if (it == pull_.end() || it->second.empty()) return false;
    if (stopping_) return true;
    const auto p = pulls_.find(std::string(key));
    if (p != pulls_.end()) {
      p->second->touched(clock::now());
      return true;
    }
    // A local publisher (not a pull that is stopping: a new pull takes over from it).
    if (existing != nullptr && existing->publishing() &&
        dynamic_cast<relay_session*>(existing->current_publisher().get()) == nullptr) {
      return true;
    }
    std::vector<std::string> origins(it->second.begin(),
                                     it->second.begin() + static_cast<std::ptrdiff_t>(std::min(it->second.size(), max_relay_targets)));
    s = std::make_shared<relay_session>(*this, relay_session::kind::pull, std::string(key),
                                        std::string(name_of(app, key)), origins, nullptr, worker);
    sessions_.emplace(s.get(), s);
    pulls_.emplace(s->key(), s.get());
    pulls_started_.fetch_add(1);
  }
  spdlog::info("relay: pull {} started for its first player", key);
  asio::post(*workers_[worker], [s] { s->begin(); });
  return true;
}

bool relay_manager::may_stop_idle(const relay_session* s) {
  std::lock_guard lock(mu_);
  if (clock::now() - s->last_request() < cfg_.pull_idle_timeout) return false;
  const auto p = pulls_.find(s->key());
  if (p != pulls_.end() && p->second == s) pulls_.erase(p);
  return true;
}

void relay_manager::forget(const relay_session* s) {
  std::shared_ptr<relay_session> keep;  // released outside the lock
  std::lock_guard lock(mu_);
  const auto p = pulls_.find(s->key());
  if (p != pulls_.end() && p->second == s) pulls_.erase(p);
  const auto it = sessions_.find(s);
  if (it != sessions_.end()) {
    keep = std::move(it->second);
    sessions_.erase(it);
  }
}

void relay_manager::shutdown() {
  std::vector<std::shared_ptr<relay_session>> all;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    for (auto& [p, s] : sessions_) all.push_back(s);
  }
  for (auto& s : all) {
    asio::post(*workers_.at(s->worker()), [s] { s->stop("server shutdown"); });
  }
}

void relay_manager::clear() {
  std::unordered_map<const relay_session*, std::shared_ptr<relay_session>> all;
  {
    std::lock_guard lock(mu_);
    all.swap(sessions_);
    pulls_.clear();
  }
}

void relay_manager::set_push_targets(std::vector<push_target> targets) {
  std::vector<std::shared_ptr<relay_session>> stopped;
  std::vector<std::shared_ptr<relay_session>> started;
  {
    std::lock_guard lock(mu_);
    push_.swap(targets);
    if (stopping_) return;
    // The streams published locally now (not pulled, not ended).
    std::vector<published_stream> live;
    for (const auto& [key, p] : published_) {
      const auto s = p.stream.lock();
      if (s == nullptr || !s->publishing() ||
          dynamic_cast<relay_session*>(s->current_publisher().get()) != nullptr) {
        continue;
      }
      live.push_back({key, p.app, p.name});
    }
    std::vector<push_route> running;
    for (const auto& [ptr, s] : sessions_) {
      if (s->type() == relay_session::kind::push) running.push_back({s->key(), s->url()});
    }
    const push_plan plan = plan_pushes(live, running, push_, max_relay_targets);
    for (const auto& r : plan.stop) {
      for (const auto& [ptr, s] : sessions_) {
        if (s->type() == relay_session::kind::push && s->key() == r.key && s->url() == r.url) stopped.push_back(s);
      }
    }
    for (const auto& r : plan.start) {
      const published& p = published_.at(r.key);
      if (auto stream = p.stream.lock()) started.push_back(add_push(r.key, p.name, r.url, std::move(stream), p.worker));
    }
  }
  for (auto& s : stopped) asio::post(*workers_.at(s->worker()), [s] { s->stop("target removed by a reload"); });
  for (auto& s : started) asio::post(*workers_.at(s->worker()), [s] { s->begin(); });
}

void relay_manager::set_pull_origins(std::map<std::string, std::vector<std::string>> origins) {
  std::vector<std::shared_ptr<relay_session>> stopped;
  {
    std::lock_guard lock(mu_);
    pull_.swap(origins);
    for (const auto& [key, s] : pulls_) {
      // The key is "app/name": the application is what precedes "/name".
      const std::string app = key.substr(0, key.size() - std::min(key.size(), s->name().size() + 1));
      const auto it = pull_.find(app);
      if (it == pull_.end() || it->second.empty()) stopped.push_back(sessions_.at(s));
    }
  }
  for (auto& s : stopped) asio::post(*workers_.at(s->worker()), [s] { s->stop("origins removed by a reload"); });
}

asio::ssl::context* relay_manager::client_tls(std::string& why) {
  std::lock_guard lock(mu_);
  if (client_tls_ == nullptr) client_tls_ = make_client_tls_context(true, cfg_.ca_file, why);
  return client_tls_.get();
}

std::vector<push_status> relay_manager::pushes() const {
  std::vector<push_status> out;
  std::lock_guard lock(mu_);
  for (const auto& [p, s] : sessions_) {
    if (s->type() == relay_session::kind::push) out.push_back(s->status());
  }
  std::sort(out.begin(), out.end(), [](const push_status& a, const push_status& b) {
    return a.key != b.key ? a.key < b.key : a.url < b.url;
  });
  return out;
}

std::size_t relay_manager::active_pulls() const {
  std::lock_guard lock(mu_);
  return pulls_.size();
}

std::size_t relay_manager::active_pushes() const {
  std::lock_guard lock(mu_);
  return sessions_.size() - pulls_.size();
}

}  // namespace rtmp::net
