#include "server/server_connection.hpp"

#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/ssl/error.hpp>
#include <asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <fcntl.h>

#include <algorithm>
#include <tuple>

#include "hls/hls_manager.hpp"
#include "server/auth.hpp"
#include "net/coroutine_support.hpp"
#include "net/socket_writer.hpp"

namespace rtmp::net {

using level = spdlog::level::level_enum;

namespace {

std::string address_text(const asio::ip::tcp::socket& s) {
  std::error_code ec;
  const auto ep = s.remote_endpoint(ec);
  return ec ? std::string("?") : ep.address().to_string();
}

std::string endpoint_text(const asio::ip::tcp::socket& s) {
  std::error_code ec;
  const auto ep = s.remote_endpoint(ec);
  if (ec) return "?";
  if (ep.address().is_v6()) return "[" + ep.address().to_string() + "]:" + std::to_string(ep.port());
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

}  // namespace

namespace {
// The session's settings: the server's, and with an on-connect callback a
// connect that waits for it.
proto::server_session_config session_settings(const server_config& c) {
  proto::server_session_config s = c.session;
  s.hold_connect = !c.auth.on_connect_url.empty();
  return s;
}
}  // namespace

server_connection::server_connection(connection_services& services, std::size_t worker, std::uint64_t id,
                                     asio::ip::tcp::socket socket, admission_ticket ticket,
                                     std::shared_ptr<asio::ssl::context> tls)
    : services_(services),
      config_ptr_(services.live.load()),
      config_(*config_ptr_),
      worker_(worker),
      id_(id),
      socket_(std::move(socket)),
      tls_context_(std::move(tls)),
      tls_(tls_context_ != nullptr ? std::make_unique<tls_stream>(socket_, *tls_context_) : nullptr),
      remote_(endpoint_text(socket_)),
      remote_ip_(address_text(socket_)),
      ticket_(std::move(ticket)),
      session_(session_settings(config_)),
      player_(config_.player_limits()) {
  started_at_ = clock::now();
  last_read_ = started_at_;
}

server_connection::server_connection(connection_services& services, std::size_t worker, std::uint64_t id,
                                     asio::ip::tcp::socket socket, admission_ticket ticket, relayed_client client)
    : server_connection(services, worker, id, std::move(socket), std::move(ticket), nullptr) {
  remote_ = std::move(client.endpoint);
  remote_ip_ = std::move(client.address);
  leftover_ = std::move(client.leftover);
}

server_connection::~server_connection() {
  if (entry_ && !closed_) services_.metrics.remove(id_, close_kind::shutdown);
}

std::string server_connection::tag() const {
  std::string t = "conn=" + std::to_string(id_) + " remote=" + remote_;
  if (!session_.app().empty()) t += " app=" + session_.app();
  if (!stream_name_.empty()) t += " stream=" + stream_name_;
  return t;
}

void server_connection::start() {
  services_.registry.attach(this);
  entry_ = services_.metrics.add(id_, remote_);
  // Programs the server may start later (hooks) must not inherit sockets.
  ::fcntl(socket_.native_handle(), F_SETFD, FD_CLOEXEC);
  std::error_code ec;
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  // Plain TCP reads and writes without blocking (read_loop, write_plain);
  // TLS does its own I/O through Asio's stream, which does not care.
  if (tls_ == nullptr) socket_.non_blocking(true, ec);
  spdlog::debug("{} accepted", tag());
  if (!leftover_.empty()) {
    const std::vector<std::uint8_t> first = std::move(leftover_);
    if (!on_read({}, first)) return;
  }
  auto self = shared_from_this();
  asio::co_spawn(socket_.get_executor(), [self]() { return self->read_loop(); }, log_failure("connection read loop"));
}

void server_connection::close(close_reason why, std::string_view detail, bool force_reset) {
  if (closed_) return;
  closed_ = true;
  const close_reason_info& info = info_of(why);
  const auto lvl = info.level == close_log_level::warn ? level::warn : level::info;
  end_reason_ = close_text(why, detail);
  log_limited(lvl, "close:" + std::string(info.name), "{} closed: {} (media in {}, out {}, dropped {})", tag(),
              end_reason_, publisher_.media_in(), player_.policy().sent(), player_.policy().dropped());
  stop_publishing();
  stop_playing();
  std::error_code ec;
  if (info.reset || force_reset) {
    socket_.set_option(asio::socket_base::linger(true, 0), ec);
  } else {
    socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  }
  socket_.close(ec);  // cancels a writability wait
  if (publish_retry_) publish_retry_->cancel();
  out_.clear();
  ticket_.reset();
  if (entry_) services_.metrics.remove(id_, info.metric);
  services_.registry.detach(this);
}

void server_connection::close_after_flush(close_reason why, std::string detail) {
  if (closing_ || closed_) return;
  closing_ = true;
  closing_since_ = clock::now();
  pending_reason_ = why;
  pending_detail_ = std::move(detail);
  flush();
}

void server_connection::shutdown() {
  if (closed_) return;
  if (publisher_.active()) session_.notify_publish_stopped(publisher_.stream_id(), "Server shutting down.");
  if (player_.active()) session_.notify_unpublished(player_.stream_id());
  flush_session_output();
  close_after_flush(close_reason::shutdown);
}

void server_connection::kick(std::string reason) {
  auto self = shared_from_this();
  asio::post(socket_.get_executor(), [self, reason = std::move(reason)]() mutable {
    if (self->closed_) return;
    if (self->publisher_.active()) self->session_.notify_publish_stopped(self->publisher_.stream_id(), reason);
    self->flush_session_output();
    self->end_reason_ = reason;
    self->stop_publishing();  // a no-op in the stream when it already replaced us
    self->close_after_flush(close_reason::kicked, std::move(reason));
  });
}

// --- reading ------------------------------------------------------------------

asio::awaitable<void> server_connection::read_loop() {
  auto self = shared_from_this();
  if (tls_ != nullptr) {
    co_await tls_read_loop();
    co_return;
  }
  // Plain TCP: wait for readability, then read into the worker's buffer.
  // While it waits a connection holds no read buffer of its own: 10,000 idle
  // players would otherwise keep 10,000 buffers. Asio's epoll reactor is
  // edge-triggered, so a wait only ends on new data: after a wake-up we read
  // until a read comes back short (the socket is drained) or would block,
  // yielding to the other sessions between full reads.
  std::vector<std::uint8_t>& buffer = worker_read_buffer(config_.read_buffer_size);
  while (!closed_) {
    auto [wait_ec] = co_await socket_.async_wait(asio::socket_base::wait_read, as_tuple(use_awaitable));
    if (closed_) co_return;
    if (wait_ec) {
      if (wait_ec != asio::error::operation_aborted) close(close_reason::read_error, wait_ec.message());
      co_return;
    }
    for (;;) {
      std::error_code read_ec;
      const std::size_t n = socket_.read_some(asio::buffer(buffer), read_ec);
      if (read_ec == asio::error::would_block || read_ec == asio::error::try_again) break;
      if (!on_read(read_ec, std::span<const std::uint8_t>(buffer.data(), n))) co_return;
      if (n < buffer.size()) break;
      co_await asio::post(socket_.get_executor(), use_awaitable);
      if (closed_) co_return;
    }
  }
}

asio::awaitable<void> server_connection::tls_read_loop() {
  // RTMPS: TLS first. Nothing is written before it completes (the session
  // has no output until RTMP bytes arrive); the handshake
  // deadline covers both handshakes.
  auto [hs_ec] = co_await tls_->async_handshake(asio::ssl::stream_base::server, as_tuple(use_awaitable));
  if (closed_) co_return;
  if (hs_ec) {
    close(close_reason::tls_handshake_failed, hs_ec.message());
    co_return;
  }
  // TLS keeps decrypted bytes of its own, so readiness of the socket says
  // little: this path reads through the stream into a buffer of its own,
  // starting small and doubling on full reads up to read_buffer_size.
  std::vector<std::uint8_t> buffer(std::min(initial_read_buffer_size, config_.read_buffer_size));
  while (!closed_) {
    auto [ec, n] = co_await tls_->async_read_some(asio::buffer(buffer), as_tuple(use_awaitable));
    if (closed_) co_return;
    // A peer that closes TCP without a TLS close_notify is the usual way a client leaves.
    if (ec == asio::ssl::error::stream_truncated) ec = asio::error::eof;
    if (!on_read(ec, std::span<const std::uint8_t>(buffer.data(), n))) co_return;
    if (n == buffer.size() && buffer.size() < config_.read_buffer_size) {
      buffer.resize(std::min(buffer.size() * 2, config_.read_buffer_size));
    }
  }
}

std::vector<std::uint8_t>& server_connection::worker_read_buffer(std::size_t size) {
  // One per worker thread: every session on the thread reads into it and
  // consumes it before the next read (the chunk reader copies what it keeps).
  static thread_local std::vector<std::uint8_t> buffer;
  if (buffer.size() < size) buffer.resize(size);
  return buffer;
}

bool server_connection::on_read(const std::error_code& ec, std::span<const std::uint8_t> data) {
  if (closed_) return false;
  if (ec) {
    if (ec == asio::error::eof) {
      close(close_reason::peer_closed);
    } else if (ec != asio::error::operation_aborted) {
      close(close_reason::read_error, ec.message());
    }
    return false;
  }
  last_read_ = clock::now();
  add_bytes(entry_->bytes_in, data.size());
  ping_outstanding_ = false;  // any inbound byte proves the peer alive (T-03)
  const auto phase_before = session_.current_phase();
  const std::error_code err = session_.on_bytes(data);
  if (phase_before == proto::server_session::phase::handshake &&
      session_.current_phase() != proto::server_session::phase::handshake) {
    handshake_done_at_ = last_read_;
    entry_->role.store(connection_role::negotiating, std::memory_order_relaxed);
  }
  return after_session_input(err);
}

bool server_connection::after_session_input(std::error_code err) {
  flush_session_output();
  handle_events();
  publisher_.hand_over(this);
  flush_session_output();
  if (err) {
    // Send what is pending (an _error, an S0 we never got to) but do not wait for it.
    close(close_reason::protocol_error, err.message());
    return false;
  }
  if (session_.close_requested()) close_after_flush(close_reason::refused);
  return !closed_;
}
void server_connection::handle_events() {
  proto::session_event ev;
  while (session_.next_event(ev)) {
    using kind = proto::session_event::kind;
    switch (ev.type) {
      case kind::connected:
        // The tcUrl without its query: it may carry a token.
        log_limited(level::info, "connect", "{} connect tcUrl={} flashVer={}", tag(),
                    session_.tc_url().substr(0, session_.tc_url().find('?')), session_.flash_ver());
        break;
      case kind::connect_request: authorize_connect(); break;
      case kind::publish: on_publish_request(ev); break;
      case kind::play: on_play_request(ev); break;
      case kind::unpublish:
        if (publisher_.owns(ev.stream_id)) {
          // The same read may carry the last media and the unpublish: hand
          // the media over first, or the stream's tail would be lost.
          publisher_.hand_over(this);
          spdlog::info("{} unpublish", tag());
          stop_publishing();
        }
        break;
      case kind::stop_play:
        if (player_.owns(ev.stream_id)) {
          spdlog::info("{} stop playing", tag());
          stop_playing();
        }
        break;
      case kind::media:
        if (publisher_.owns(ev.stream_id)) publisher_.take(std::move(ev.msg), config_.session.chunk_size, ev.flag);
        break;
      case kind::pause: player_.policy().set_paused(ev.flag); break;
      case kind::receive_audio: player_.policy().set_receive_audio(ev.flag); break;
      case kind::receive_video: player_.policy().set_receive_video(ev.flag); break;
      case kind::ping_response: break;
    }
  }
}

// --- authentication ----------------------------------------------------------

auth_request server_connection::auth_request_for(const proto::session_event& ev, bool publish) const {
  const auto q = ev.name.find('?');
  auth_request r;
  r.publish = publish;
  r.app = session_.app();
  r.stream = ev.name.substr(0, q);
  r.query = q == std::string::npos ? std::string() : ev.name.substr(q + 1);
  r.tc_url = session_.tc_url();
  r.client = remote_ip_;
  r.client_endpoint = remote_;
  return r;
}

void server_connection::authorize_connect() {
  auth_request r;
  r.connect = true;
  r.app = session_.app();
  r.tc_url = session_.tc_url();
  const auto q = r.tc_url.find('?');
  if (q != std::string::npos) r.query = r.tc_url.substr(q + 1);
  r.client = remote_ip_;
  r.client_endpoint = remote_;
  authorizer_.decide(socket_.get_executor(), config_.auth, std::move(r),
                     [self = shared_from_this()](const auth_decision& d) { self->on_connect_decided(d); });
}

void server_connection::on_connect_decided(const auth_decision& d) {
  if (closed_ || closing_) return;
  if (!d.allowed) {
    log_limited(level::warn, "connect unauthorized", "{} connect to {} refused: {}", tag(), session_.app(), d.why);
    session_.reject_connect("Connecting to " + session_.app() + " needs authorization.");
    flush_session_output();
    close_after_flush(close_reason::unauthorized);
    return;
  }
  if (d.fail_open) spdlog::warn("{} on-connect callback unreachable: allowed (fail-open)", tag());
  (void)after_session_input(session_.accept_connect());  // what the client pipelined runs now
}

void server_connection::authorize(const proto::session_event& ev, bool publish) {
  stream_name_ = hub::stream_key(session_.app(), ev.name);
  authorizer_.decide(socket_.get_executor(), config_.auth, auth_request_for(ev, publish),
                     [self = shared_from_this(), ev, publish](const auth_decision& d) {
                       self->on_decided(ev, publish, d);
                     });
}

void server_connection::on_decided(const proto::session_event& ev, bool publish, const auth_decision& d) {
  if (closed_ || closing_) return;
  if (!d.allowed) {
    refuse_unauthorized(ev, publish, d.why);
    return;
  }
  if (d.fail_open) spdlog::warn("{} auth callback unreachable: allowed (fail-open)", tag());
  if (publish) {
    start_publish(ev);
  } else {
    start_play(ev);
  }
  flush_session_output();
}

void server_connection::refuse_unauthorized(const proto::session_event& ev, bool publish, std::string_view why) {
  // One line, never the token: the stream key has no query.
  log_limited(level::warn, publish ? "publish unauthorized" : "play unauthorized", "{} {} refused: {}", tag(),
              publish ? "publish" : "play", why);
  if (publish) {
    session_.reject_publish(ev.stream_id, "NetStream.Publish.Unauthorized",
                            "Publishing to " + stream_name_ + " needs authorization.");
  } else {
    session_.reject_play(ev.stream_id, "NetStream.Play.Failed", "Playing " + stream_name_ + " needs authorization.");
  }
  flush_session_output();
  close_after_flush(close_reason::unauthorized);
}

void server_connection::on_publish_request(const proto::session_event& ev) {
  if (busy()) {
    session_.reject_publish(ev.stream_id, "NetStream.Publish.BadName", "Connection is already busy.");
    return;
  }
  authorize(ev, true);
}

std::optional<std::chrono::milliseconds> server_connection::until_stale(const std::string& key) const {
  using std::chrono::milliseconds;
  const auto s = services_.streams.find(key);
  if (s == nullptr || s->config().publisher_takeover || s->config().stale_publisher.count() == 0) return std::nullopt;
  const auto silence = s->publisher_silence();
  // A publisher that sent media a moment ago is live: refuse at once rather
  // than hold a newcomer that will be refused anyway.
  if (silence && *silence < silent_before_hold) return std::nullopt;
  const auto left =
      silence ? s->config().stale_publisher - std::chrono::duration_cast<milliseconds>(*silence) : milliseconds(0);
  // A little past the moment, so the retry finds it stale.
  return std::max(left, milliseconds(0)) + milliseconds(20);
}

void server_connection::hold_publish(const proto::session_event& ev, std::chrono::milliseconds wait) {
  log_limited(level::info, "publish held", "{} publish held {} ms: the stream's publisher has gone silent", tag(),
              wait.count());
  publish_retry_ = std::make_unique<asio::steady_timer>(socket_.get_executor(), wait);
  publish_retry_->async_wait([self = shared_from_this(), ev](const std::error_code& ec) {
    self->publish_retry_.reset();
    if (ec || self->closed_ || self->closing_) return;
    self->start_publish(ev, false);
    self->flush_session_output();
  });
}

void server_connection::start_publish(const proto::session_event& ev, bool may_hold) {
  const std::string key = hub::stream_key(session_.app(), ev.name);
  stream_name_ = key;
  const std::shared_ptr<hub::publisher> self(shared_from_this(), static_cast<hub::publisher*>(this));
  const auto result = publisher_.claim(services_.streams, key, self, ev.stream_id);
  if (result == hub::stream::claim_result::busy) {
    if (may_hold) {
      if (const auto wait = until_stale(key)) {
        hold_publish(ev, *wait);
        return;
      }
    }
    log_limited(level::warn, "publish refused", "{} publish refused: stream is already being published", tag());
    session_.reject_publish(ev.stream_id, "NetStream.Publish.BadName", key + " is already being published.");
    return;
  }
  session_.accept_publish(ev.stream_id);
  services_.recorders.on_publish_start(session_.app(), key, publisher_.stream(), worker_);
  services_.hls.on_publish_start(session_.app(), key, publisher_.stream(), worker_);
  services_.relays.on_publish_start(session_.app(), key, publisher_.stream(), worker_);
  services_.metrics.set_role(*entry_, connection_role::publishing, key);
  role_since_ = clock::now();
  services_.hooks.publish_started(session_.app(), stream_name_only());
  log_limited(level::info, "publish", "{} publish{}", tag(),
              result == hub::stream::claim_result::took_over         ? " (took over)"
              : result == hub::stream::claim_result::took_over_stale ? " (took over a stale publisher)"
                                                                     : "");
}

void server_connection::stop_publishing() {
  if (!publisher_.active()) return;
  if (entry_ && !closed_) services_.metrics.set_role(*entry_, connection_role::negotiating, {});
  publisher_.stop(this, services_.streams);
  services_.hooks.publish_stopped(session_.app(), stream_name_only());
  notify_end(true);
}

std::string server_connection::stream_name_only() const {
  const std::string& app = session_.app();
  return stream_name_.size() > app.size() ? stream_name_.substr(app.size() + 1) : stream_name_;
}

void server_connection::notify_end(bool publish) {
  session_end e;
  e.publish = publish;
  e.app = session_.app();
  e.stream = stream_name_only();
  e.client = remote_ip_;
  e.client_endpoint = remote_;
  e.duration_ms = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - role_since_).count());
  if (entry_) e.bytes = (publish ? entry_->bytes_in : entry_->bytes_out).load(std::memory_order_relaxed);
  e.reason = end_reason_.empty() ? (publish ? "unpublished" : "stopped playing") : end_reason_;
  services_.hooks.ended(socket_.get_executor(), std::move(e));
}

// --- session output -------------------------------------------------------------

void server_connection::queue_control(proto::shared_bytes bytes) {
  // Replies the peer provokes (pongs, acks, _error) but does not read
  // would queue without bound (T-39): cap them.
  if (out_.queued(byte_class::control) + bytes.size() > config_.max_control_queue_bytes) {
    close(close_reason::control_flood);
    return;
  }
  out_.push(std::move(bytes), byte_class::control);
}

void server_connection::flush_session_output() {
  if (!session_.has_output() || closed_) return;
  session_.take_output(scratch_);
  queue_control(proto::shared_bytes::copy_of(scratch_));
  // The session and this buffer swap on every take_output, so both would
  // keep the largest output ever made (the handshake's S0+S1 and S2, a big
  // _result) for the connection's lifetime: keep only a small one.
  // (Not `scratch_ = {}`: that is the initializer_list assignment, which
  // keeps the capacity.)
  scratch_.clear();
  if (scratch_.capacity() > retained_output_capacity) std::vector<std::uint8_t>().swap(scratch_);
  flush();
}

// --- writing ---------------------------------------------------------------------

gather_limits server_connection::write_limits() const noexcept {
  return {.max_buffers = max_write_buffers, .max_bytes = config_.max_write_batch_bytes};
}

void server_connection::flush() {
  if (closed_ || write_busy_ || write_failed_) return;
  if (!out_.empty()) {
    if (tls_ != nullptr) {
      write_busy_ = true;
      auto self = shared_from_this();
      asio::co_spawn(socket_.get_executor(), [self]() { return self->tls_write_loop(); },
                     log_failure("RTMPS write"));
      return;
    }
    if (!write_plain()) return;
  }
  if (closing_) close_when_flushed();
}

bool server_connection::write_plain() {
  std::uint64_t sent = 0;
  std::error_code ec;
  const write_state state = write_queued(socket_, out_, write_limits(), sent, ec);
  if (sent > 0) add_bytes(entry_->bytes_out, sent);
  switch (state) {
    case write_state::drained: return true;
    case write_state::blocked: wait_writable(); return false;
    case write_state::failed: fail_write(ec); return false;
  }
  return false;
}

void server_connection::wait_writable() {
  write_busy_ = true;
  socket_.async_wait(asio::socket_base::wait_write, [self = shared_from_this()](const std::error_code& ec) {
    self->write_busy_ = false;
    if (self->closed_) return;
    if (ec) {
      if (ec != asio::error::operation_aborted) self->fail_write(ec);
      return;
    }
    self->flush();
  });
}

void server_connection::fail_write(const std::error_code& ec) {
  write_failed_ = true;
  asio::post(socket_.get_executor(), [self = shared_from_this(), detail = ec.message()] {
    self->close(close_reason::write_error, detail);
  });
}

void server_connection::close_when_flushed() {
  // From the worker's queue: the caller may be in the middle of handling
  // the session's events or the hub's delivery.
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    if (!self->closed_ && self->out_.empty()) self->close(self->pending_reason_, self->pending_detail_);
  });
}

asio::awaitable<void> server_connection::tls_write_loop() {
  auto self = shared_from_this();
  drain_hooks hooks{.sent = [this](std::size_t n) { add_bytes(entry_->bytes_out, n); },
                    .open = [this] { return !closed_; }};
  const std::error_code ec = co_await drain(socket_, tls_.get(), out_, write_limits(), std::move(hooks));
  write_busy_ = false;
  if (closed_) co_return;
  if (ec) {
    fail_write(ec);
    co_return;
  }
  if (closing_) close_when_flushed();
}

// --- deadlines ----------------------------------------------------------------------

void server_connection::check_deadlines(clock::time_point now) {
  if (closed_) return;
  if (session_.current_phase() == proto::server_session::phase::handshake) {
    // Total deadline, whatever the per-byte pace (T-01).
    if (now - started_at_ > config_.handshake_timeout) close(close_reason::handshake_timeout);
    return;
  }
  if (!publisher_.active() && !player_.active() && !closing_ &&
      now - handshake_done_at_ > config_.negotiate_timeout) {
    close(close_reason::negotiate_timeout);
    return;
  }
  if (closing_ && now - closing_since_ > config_.shutdown_timeout) {
    // A peer that does not read our goodbye cannot hold the connection.
    close(pending_reason_, pending_detail_.empty() ? "goodbye not read in time" : pending_detail_ + " (goodbye not read in time)",
          true);
    return;
  }
  if (publisher_.active() && now - last_read_ > config_.idle_timeout) {
    close(close_reason::idle_timeout);
    return;
  }
  if (!player_.active()) return;
  if (ping_outstanding_ && now - ping_sent_at_ > config_.pong_timeout) {
    close(close_reason::ping_timeout);
    return;
  }
  if (!ping_outstanding_ && now - last_read_ > config_.ping_interval) {
    session_.send_ping(static_cast<std::uint32_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(now - started_at_).count()));
    ping_outstanding_ = true;
    ping_sent_at_ = now;
    flush_session_output();
  }
  if (player_.policy().overdue(now)) {
    close(close_reason::slow_player_overdue);
  }
}

}  // namespace rtmp::net
