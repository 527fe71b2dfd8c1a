#include "rtmp/net/client.hpp"

#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <spdlog/spdlog.h>

#include <deque>
#include <exception>
#include <string>
#include <vector>

#include "net/coroutine_support.hpp"
#include "rtmp/error.hpp"
#include "net/socket_writer.hpp"
#include "net/tls.hpp"

namespace rtmp::net {

using clock = std::chrono::steady_clock;
using phase = proto::client_session::phase;

namespace {

// Bytes gathered into one write.
constexpr std::size_t max_write_batch_bytes = std::size_t{1024} * 1024;
// Bookkeeping charged per queued event on top of its payload.
constexpr std::size_t event_overhead = 64;

// EOF and resets mean the same to a caller: the server went away.
std::error_code normalize(std::error_code ec) {
  if (ec == asio::error::eof || ec == asio::error::connection_reset || ec == asio::error::broken_pipe) {
    return errc::peer_closed;
  }
  return ec;
}

}  // namespace

class client_impl {
 public:
  explicit client_impl(client_options options)
      : options_(std::move(options)),
        guard_(io_.get_executor()),
        resolver_(io_),
        socket_(io_),
        resume_(io_) {}

  ~client_impl() {
    close();
    guard_.reset();
  }

  std::error_code connect(std::string_view url, std::chrono::milliseconds timeout);
  std::error_code start_stream(bool publish, std::chrono::milliseconds timeout);
  std::error_code send(const proto::message* msg, std::span<const std::uint8_t> script, std::uint32_t ts);
  std::error_code receive(const event_handler& handler, std::chrono::milliseconds max_wait);
  std::error_code wait_until(clock::time_point deadline);
  std::error_code finish(std::chrono::milliseconds timeout);
  void close() noexcept;

  client_options options_;
  asio::io_context io_{1};
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  asio::ip::tcp::resolver resolver_;
  asio::ip::tcp::socket socket_;
  std::unique_ptr<asio::ssl::context> tls_context_;  // rtmps://: made on first use, kept for reconnects
  std::unique_ptr<tls_stream> tls_;                  // rtmps://: TLS over socket_; null for rtmp://
  asio::steady_timer resume_;  // wakes a read loop paused by undelivered events
  std::unique_ptr<proto::client_session> session_;
  proto::rtmp_url url_;

  std::deque<proto::client_event> events_;
  std::size_t event_bytes_ = 0;
  outbound_queue out_;

  bool connecting_ = false;  // connect_op running
  bool reading_ = false;     // read_loop running
  bool writing_ = false;     // write_loop running
  bool open_ = false;        // TCP connected and not closed
  bool finishing_ = false;   // finish(): EOF is expected
  bool eof_ = false;
  std::error_code error_;
  client_stats stats_;

 private:
  asio::awaitable<void> connect_op(std::string host, std::uint16_t port);
  asio::awaitable<void> read_loop();
  asio::awaitable<void> write_loop();

  template <class Pred>
  std::error_code run_until(Pred done, clock::time_point deadline);
  std::error_code fail(std::error_code ec);
  void set_error(std::error_code ec) {
    if (!error_) error_ = ec;
  }
  void pull_events();
  void flush_output();
  void start_reading();
};

// Runs the io_context on this thread until `done()`, an error, or `deadline`.
template <class Pred>
std::error_code client_impl::run_until(Pred done, clock::time_point deadline) {
  for (;;) {
    if (done()) return {};
    if (error_) return error_;
    if (clock::now() >= deadline) return errc::timeout;
    io_.run_one_until(deadline);
  }
}

std::error_code client_impl::fail(std::error_code ec) {
  set_error(ec);
  close();
  return error_;
}

void client_impl::close() noexcept {
  open_ = false;
  std::error_code ignored;
  resolver_.cancel();
  socket_.close(ignored);
  resume_.cancel();
  // Let every coroutine see the cancellation and finish, so none outlives
  // this connection (or touches the next one).
  while (connecting_ || reading_ || writing_) io_.run_one();
  tls_.reset();  // no coroutine uses it any more; a reconnect gets a fresh one
  out_.clear();
}

// --- connecting -----------------------------------------------------------------

std::error_code client_impl::connect(std::string_view url, std::chrono::milliseconds timeout) {
  close();
  error_ = {};
  eof_ = false;
  finishing_ = false;
  events_.clear();
  event_bytes_ = 0;
  stats_ = {};
  session_.reset();
  io_.restart();
  const auto deadline = clock::now() + timeout;

  proto::rtmp_url parsed;
  std::string_view reason;
  if (auto ec = proto::parse_rtmp_url(url, parsed, {}, &reason)) {
    spdlog::debug("rtmp client: bad URL: {}", reason);
    error_ = ec;
    return ec;
  }
  url_ = std::move(parsed);
  if (url_.tls && tls_context_ == nullptr) {
    std::string why;
    tls_context_ = make_client_tls_context(options_.tls_verify, options_.tls_ca_file, why);
    if (tls_context_ == nullptr) {
      spdlog::error("rtmp client: {}", why);
      error_ = std::make_error_code(std::errc::invalid_argument);
      return error_;
    }
  }

  proto::client_session_config cfg = options_.session;
  cfg.connect.app = url_.app;
  cfg.connect.tc_url = url_.tc_url;
  session_ = std::make_unique<proto::client_session>(std::move(cfg));

  connecting_ = true;
  asio::co_spawn(io_, connect_op(url_.host, url_.port), [this](const std::exception_ptr& e) {
    connecting_ = false;
    log_coroutine_failure("rtmp client connect coroutine", e);
  });
  if (auto ec = run_until([this] { return !connecting_; }, deadline)) return fail(ec);
  if (error_) return fail(error_);
  open_ = true;
  spdlog::debug("rtmp client: {} to {}:{}", tls_ ? "TLS connected" : "TCP connected", url_.host, url_.port);
  start_reading();
  flush_output();  // C0C1
  const auto connected = [this] {
    const auto p = session_->current_phase();
    return p != phase::handshake && p != phase::connecting;
  };
  if (auto ec = run_until(connected, deadline)) return fail(ec);
  spdlog::debug("rtmp client: connected (app={}, tcUrl={})", url_.app, url_.tc_url);
  return {};
}

asio::awaitable<void> client_impl::connect_op(std::string host, std::uint16_t port) {
  std::vector<asio::ip::tcp::endpoint> endpoints;
  std::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (!ec) {
    endpoints.emplace_back(address, port);
  } else {
    auto [rec, results] = co_await resolver_.async_resolve(host, std::to_string(port), as_tuple(use_awaitable));
    if (rec) {
      set_error(rec);
      co_return;
    }
    for (const auto& r : results) endpoints.push_back(r.endpoint());
    if (endpoints.empty()) {
      set_error(asio::error::host_not_found);
      co_return;
    }
  }
  auto [cec, endpoint] = co_await asio::async_connect(socket_, endpoints, as_tuple(use_awaitable));
  if (cec) {
    set_error(cec);
    co_return;
  }
  std::error_code ignored;
  socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
  if (!url_.tls) {
    socket_.non_blocking(true, ignored);  // plain writes are non-blocking writevs (socket_writer)
    co_return;
  }
  tls_ = std::make_unique<tls_stream>(socket_, *tls_context_);
  if (auto pec = prepare_client_tls(*tls_, host, options_.tls_verify)) {
    set_error(pec);
    co_return;
  }
  auto [hec] = co_await tls_->async_handshake(asio::ssl::stream_base::client, as_tuple(use_awaitable));
  if (hec) set_error(hec);  // e.g. "certificate verify failed"; the connect deadline bounds it
}

// --- reading ----------------------------------------------------------------------

void client_impl::start_reading() {
  reading_ = true;
  asio::co_spawn(io_, read_loop(), [this](const std::exception_ptr& e) {
    reading_ = false;
    log_coroutine_failure("rtmp client read coroutine", e);
  });
}

asio::awaitable<void> client_impl::read_loop() {
  std::vector<std::uint8_t> buffer(options_.read_buffer_size);
  while (open_ && !error_) {
    if (event_bytes_ > options_.max_pending_event_bytes) {
      // Back-pressure: the caller has not taken what we already read.
      resume_.expires_at(clock::time_point::max());
      co_await resume_.async_wait(as_tuple(use_awaitable));
      continue;
    }
    auto [ec, n] = co_await read_some(socket_, tls_.get(), asio::buffer(buffer));
    if (!open_) co_return;
    if (ec) {
      if (ec == asio::error::eof) eof_ = true;
      if (!(eof_ && finishing_)) set_error(normalize(ec));
      co_return;
    }
    stats_.bytes_received += n;
    const std::error_code err = session_->on_bytes(std::span<const std::uint8_t>(buffer.data(), n));
    pull_events();
    flush_output();
    if (err) {
      set_error(err);
      co_return;
    }
  }
}

void client_impl::pull_events() {
  proto::client_event ev;
  while (session_->next_event(ev)) {
    event_bytes_ += ev.msg.payload.size() + event_overhead;
    events_.push_back(std::move(ev));
  }
}

// --- writing ----------------------------------------------------------------------

void client_impl::flush_output() {
  if (!open_ || !session_ || !session_->has_output()) return;
  std::vector<std::uint8_t> bytes;
  session_->take_output(bytes);
  out_.push(proto::shared_bytes::adopt(std::move(bytes)), byte_class::media);
  if (writing_) return;
  writing_ = true;
  asio::co_spawn(io_, write_loop(), [this](const std::exception_ptr& e) {
    if (e) writing_ = false;  // else write_loop cleared it as it finished
    log_coroutine_failure("rtmp client write coroutine", e);
  });
}

asio::awaitable<void> client_impl::write_loop() {
  drain_hooks hooks{.sent = [this](std::size_t n) { stats_.bytes_sent += n; }, .open = [this] { return open_; }};
  const gather_limits limits{.max_buffers = max_write_buffers, .max_bytes = max_write_batch_bytes};
  const std::error_code ec = co_await drain(socket_, tls_.get(), out_, limits, std::move(hooks));
  // Cleared here, not in the completion handler: output queued between this
  // coroutine's end and that handler would otherwise find `writing_` still
  // set and wait for a writer that is gone.
  writing_ = false;
  if (ec && open_) set_error(normalize(ec));
}

// --- streams and media --------------------------------------------------------------

std::error_code client_impl::start_stream(bool publish, std::chrono::milliseconds timeout) {
  if (!open_ || !session_) return errc::command_out_of_order;
  if (error_) return error_;
  const auto deadline = clock::now() + timeout;
  const std::error_code ec = publish ? session_->publish(url_.stream) : session_->play(url_.stream);
  if (ec) return ec;
  flush_output();
  const phase target = publish ? phase::publishing : phase::playing;
  if (auto err = run_until([this, target] { return session_->current_phase() == target; }, deadline)) {
    return fail(err);
  }
  return {};
}

std::error_code client_impl::send(const proto::message* msg, std::span<const std::uint8_t> script,
                                  std::uint32_t ts) {
  if (!open_ || !session_) return errc::command_out_of_order;
  if (error_) return error_;
  const std::error_code ec = msg != nullptr ? session_->send_media(*msg) : session_->send_script_data(script, ts);
  if (ec) return ec;
  ++stats_.messages_sent;
  flush_output();
  io_.poll();  // let reads and writes progress without blocking
  if (error_) return fail(error_);
  if (out_.queued() > options_.max_queued_write_bytes) {
    const auto drained = [this] { return out_.queued() <= options_.max_queued_write_bytes; };
    if (auto err = run_until(drained, clock::now() + options_.write_timeout)) return fail(err);
  }
  return {};
}

std::error_code client_impl::receive(const event_handler& handler, std::chrono::milliseconds max_wait) {
  const auto deadline = clock::now() + max_wait;
  for (;;) {
    while (!events_.empty()) {
      proto::client_event ev = std::move(events_.front());
      events_.pop_front();
      event_bytes_ -= ev.msg.payload.size() + event_overhead;
      if (event_bytes_ <= options_.max_pending_event_bytes) resume_.cancel();
      if (!handler(ev)) return {};
    }
    if (error_) return error_;
    if (!open_) return errc::peer_closed;
    if (io_.poll_one() > 0) continue;
    if (clock::now() >= deadline) return {};
    io_.run_one_until(deadline);
  }
}

std::error_code client_impl::wait_until(clock::time_point deadline) {
  for (;;) {
    if (error_) return error_;
    if (!open_) return errc::peer_closed;
    if (clock::now() >= deadline) return {};
    io_.run_one_until(deadline);
  }
}

std::error_code client_impl::finish(std::chrono::milliseconds timeout) {
  if (!open_ || !session_) return {};
  const auto deadline = clock::now() + timeout;
  finishing_ = true;
  // What was not received by now is dropped: it must not pause the read
  // loop while we wait for the server to close.
  events_.clear();
  event_bytes_ = 0;
  resume_.cancel();
  session_->finish();
  flush_output();
  std::error_code ec = run_until([this] { return out_.empty() && !writing_; }, deadline);
  if (!ec) {
    // Half-close and wait for the server to close: closing with unread input
    // would send a reset, which may destroy data the server has not read yet.
    std::error_code ignored;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    (void)run_until([this] { return eof_ || !reading_; }, deadline);
    if (error_ && !eof_) ec = error_;
  }
  close();
  return ec;
}

// --- public facade ------------------------------------------------------------------

client::client(client_options options) : impl_(std::make_unique<client_impl>(std::move(options))) {}

client::~client() = default;

std::error_code client::connect(std::string_view url, std::chrono::milliseconds timeout) {
  return impl_->connect(url, timeout);
}

std::error_code client::publish(std::chrono::milliseconds timeout) { return impl_->start_stream(true, timeout); }

std::error_code client::play(std::chrono::milliseconds timeout) { return impl_->start_stream(false, timeout); }

std::error_code client::send(const proto::message& msg) { return impl_->send(&msg, {}, 0); }

std::error_code client::send_script_data(std::span<const std::uint8_t> payload, std::uint32_t timestamp) {
  return impl_->send(nullptr, payload, timestamp);
}

std::error_code client::receive(const event_handler& handler, std::chrono::milliseconds max_wait) {
  return impl_->receive(handler, max_wait);
}

std::error_code client::wait_until(std::chrono::steady_clock::time_point deadline) {
  return impl_->wait_until(deadline);
}

std::error_code client::finish(std::chrono::milliseconds timeout) { return impl_->finish(timeout); }

void client::close() noexcept { impl_->close(); }

bool client::is_open() const noexcept { return impl_->open_; }

proto::client_session::phase client::session_phase() const noexcept {
  return impl_->session_ ? impl_->session_->current_phase() : phase::handshake;
}

proto::status_info client::last_error_status() const {
  return impl_->session_ ? impl_->session_->last_error_status() : proto::status_info{};
}

const proto::rtmp_url& client::url() const noexcept { return impl_->url_; }

client_stats client::stats() const noexcept { return impl_->stats_; }

}  // namespace rtmp::net
