#include "http/http_flv_session.hpp"

#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "server/auth.hpp"
#include "server/stream_hooks.hpp"
#include "rtmp/proto/amf0_codec.hpp"
#include "rtmp/proto/flv_writer.hpp"
#include "net/coroutine_support.hpp"
#include "net/socket_writer.hpp"

namespace rtmp::net {

namespace {

constexpr std::string_view flv_suffix = ".flv";
constexpr std::string_view allowed_methods = "GET, HEAD, OPTIONS";
// A player sends nothing after its request; what it does send is read into
// this much and dropped (the read only watches for the peer leaving).
constexpr std::size_t discard_buffer_size = 512;
// An FLV tag's DataSize is 24 bits (FLV spec, annex E.4.1).
constexpr std::size_t max_flv_tag_payload = 0xFFFFFF;
// How long browsers may cache a CORS preflight answer (seconds).
constexpr int cors_max_age_seconds = 600;

// A comma-separated list of header names (Access-Control-Request-Headers).
bool is_token_list(std::string_view v) {
  return !v.empty() && std::all_of(v.begin(), v.end(), [](char c) {
    return c == ',' || c == ' ' || http::is_tchar(static_cast<unsigned char>(c));
  });
}

// Audio/video presence for the FLV header's TypeFlags: from the cached
// sequence headers and the metadata's codec ids; both when nothing is known
// yet (players treat the flags as hints, and a missing flag makes MSE
// players such as flv.js ignore that track).
proto::flv_header_flags header_flags(const hub::stream_snapshot& snap) {
  bool audio = snap.audio_header != nullptr;
  bool video = snap.video_header != nullptr;
  if (snap.metadata) {
    std::vector<proto::amf0::value> values;
    const auto& p = snap.metadata->msg.payload;
    proto::amf0::decode_all(std::span<const std::uint8_t>(p.data(), p.size()), values,
                            proto::amf0::metadata_limits());
    for (const auto& v : values) {
      if (v.properties() == nullptr) continue;
      if (v.get("audiocodecid") != nullptr) audio = true;
      if (v.get("videocodecid") != nullptr) video = true;
    }
  }
  if (!audio && !video) audio = video = true;
  return {audio, video};
}

}  // namespace

void add_cors(std::vector<std::pair<std::string, std::string>>& headers, const std::string& cors) {
  if (cors.empty()) return;
  headers.emplace_back("Access-Control-Allow-Origin", cors);
  if (cors != "*") headers.emplace_back("Vary", "Origin");
}

std::optional<flv_target> match_flv_path(std::string_view path) {
  if (path.size() <= flv_suffix.size() + 1 || path.front() != '/') return std::nullopt;
  if (path.substr(path.size() - flv_suffix.size()) != flv_suffix) return std::nullopt;
  const std::string_view key = path.substr(1, path.size() - 1 - flv_suffix.size());
  const auto slash = key.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == key.size()) return std::nullopt;
  flv_target t;
  t.app = std::string(key.substr(0, slash));
  t.name = std::string(key.substr(slash + 1));
  t.key = std::string(key);  // hub::stream_key(app, name): "app/name"
  return t;
}

http::response flv_other_method_response(const http::request& req, const std::string& cors) {
  if (req.method == "OPTIONS") {
    http::response r;
    r.status = 204;
    r.headers.emplace_back("Allow", std::string(allowed_methods));
    if (!cors.empty()) {
      add_cors(r.headers, cors);
      r.headers.emplace_back("Access-Control-Allow-Methods", std::string(allowed_methods));
      if (const auto asked = req.header("Access-Control-Request-Headers"); asked && is_token_list(*asked)) {
        r.headers.emplace_back("Access-Control-Allow-Headers", std::string(*asked));
      }
      r.headers.emplace_back("Access-Control-Max-Age", std::to_string(cors_max_age_seconds));
    }
    return r;
  }
  auto r = http::make_error(405, "method not allowed");
  r.headers.emplace_back("Allow", std::string(allowed_methods));
  add_cors(r.headers, cors);
  return r;
}

// --- session ------------------------------------------------------------------

http_flv_session::http_flv_session(connection_services& services, std::shared_ptr<asio::ip::tcp::socket> socket,
                                   std::size_t worker, std::uint64_t id, std::string remote,
                                   admission_ticket ticket)
    : services_(services),
      config_ptr_(services.live.load()),
      config_(*config_ptr_),
      socket_(std::move(socket)),
      worker_(worker),
      id_(id),
      remote_(std::move(remote)),
      ticket_(std::move(ticket)),
      wake_(socket_->get_executor()),
      watchdog_(socket_->get_executor()),
      policy_(config_.player_limits()) {
  std::error_code ec;
  const auto peer = socket_->remote_endpoint(ec);
  remote_ip_ = ec ? std::string("?") : peer.address().to_string();
}

http_flv_session::~http_flv_session() {
  // run() always closes; this only matters when a stopped server destroys
  // the coroutine frames without resuming them. The stream object is kept
  // alive by stream_; the hub and the metrics may already be gone.
  if (!closed_ && stream_ != nullptr) stream_->unsubscribe(this);
}

asio::awaitable<int> http_flv_session::authorize(const http::request& req, const flv_target& target) {
  // As an RTMP play: ?token=T after the stream name (here: the URL's query).
  co_return co_await authorize_http_play(
      socket_->get_executor(), config_.auth,
      http_play_request(target.app, target.name, req.query, remote_ip_, remote_, "http-flv"), true);
}

asio::awaitable<void> http_flv_session::answer(http::response r, const std::string& why) {
  std::uint64_t suppressed = 0;
  if (services_.limiter(worker_).allow(remote_ip_ + "|flv-refused", clock::now(), suppressed)) {
    spdlog::info("HTTP-FLV {} {}: {} ({})", remote_, key_, r.status, why);
  }
  r.keep_alive = false;
  add_cors(r.headers, config_.http_flv_cors);
  std::string bytes = http::serialize(r);
  if (head_only_) bytes.resize(bytes.size() - r.body.size());  // same fields, no body
  co_await asio::async_write(*socket_, asio::buffer(bytes), as_tuple(use_awaitable));
  closed_ = true;  // nothing subscribed, nothing registered: the listener closes the socket
  ticket_.reset();
}

std::string http_flv_session::response_head() const {
  std::string h = "HTTP/1.1 200 OK\r\nContent-Type: video/x-flv\r\n";
  if (chunked_) h += "Transfer-Encoding: chunked\r\n";
  h += "Connection: close\r\nCache-Control: no-store\r\n";
  if (!config_.http_flv_cors.empty()) {
    h += "Access-Control-Allow-Origin: " + config_.http_flv_cors + "\r\n";
    if (config_.http_flv_cors != "*") h += "Vary: Origin\r\n";
  }
  h += "\r\n";
  return h;
}

asio::awaitable<void> http_flv_session::run(http::request req, flv_target target) {
  auto self = shared_from_this();
  key_ = target.key;
  chunked_ = req.version_minor >= 1;
  head_only_ = req.method == "HEAD";
  if (const int refused = co_await authorize(req, target); refused != 0) {
    auto r = http::make_error(refused, refused == 401 ? "a token is required to play this stream (?token=T)"
                                                      : "not allowed to play this stream");
    // RFC 9110 section 11.6.1: a 401 carries a challenge; the token goes in the query.
    if (refused == 401) r.headers.emplace_back("WWW-Authenticate", "Token realm=\"play\"");
    co_await answer(std::move(r), refused == 401 ? "no token" : "refused");
    co_return;
  }
  if (services_.stopping) {
    co_await answer(http::make_error(503, "the server is shutting down"), "shutting down");
    co_return;
  }
  const auto existing = services_.streams.find(key_);
  if (existing == nullptr || !existing->publishing()) {
    co_await answer(http::make_error(404, "no such stream is being published"), "not published");
    co_return;
  }
  if (head_only_) {
    const std::string h = response_head();
    co_await asio::async_write(*socket_, asio::buffer(h), as_tuple(use_awaitable));
    closed_ = true;
    ticket_.reset();
    co_return;
  }

  hub::stream_snapshot snap;
  stream_ = services_.streams.subscribe(key_, this, snap);
  if (!snap.publishing) {  // the publisher left between the lookup and here
    auto s = std::move(stream_);
    s->unsubscribe(this);
    services_.streams.remove_if_unused(s);
    co_await answer(http::make_error(404, "no such stream is being published"), "not published");
    co_return;
  }
  entry_ = services_.metrics.add(id_, remote_);
  services_.metrics.set_role(*entry_, connection_role::playing, key_);
  playing_since_ = std::chrono::steady_clock::now();
  spdlog::info("HTTP-FLV {} play {}", remote_, key_);

  std::error_code nb;
  socket_->non_blocking(true, nb);  // writes are non-blocking writevs (socket_writer)
  queue_raw(response_head());
  queue_header(snap);
  queue_snapshot(snap);
  asio::co_spawn(socket_->get_executor(), read_loop(self), log_failure("HTTP-FLV read loop"));
  asio::co_spawn(socket_->get_executor(), watchdog_loop(self), log_failure("HTTP-FLV watchdog"));
  co_await write_loop();
  close(close_reason::write_error, "write loop ended");  // no-op: the loop closes before it ends
}

// --- queueing -----------------------------------------------------------------

void http_flv_session::queue_raw(std::string_view bytes) {
  out_.push(proto::shared_bytes::copy_of(std::span<const std::uint8_t>(
                reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size())),
            byte_class::media);
}

void http_flv_session::queue_header(const hub::stream_snapshot& snap) {
  const auto file_header = proto::flv_file_header(header_flags(snap));
  std::string chunk;
  if (chunked_) chunk = "d\r\n";  // 13 bytes: header and PreviousTagSize0
  chunk.append(reinterpret_cast<const char*>(file_header.data()), file_header.size());
  if (chunked_) chunk += "\r\n";
  queue_raw(chunk);
}

void http_flv_session::queue_snapshot(const hub::stream_snapshot& snap) {
  // The timeline starts at the cached GOP's earliest tag (audio may be
  // stamped a little before the keyframe it follows).
  for (const auto& p : snap.gop) {
    if (p->header) continue;
    const std::uint32_t ts = p->msg.timestamp;
    if (!has_base_ || static_cast<std::int32_t>(ts - base_) < 0) base_ = ts;
    has_base_ = true;
  }
  if (snap.metadata) queue_packet(snap.metadata, true);
  if (snap.video_header) queue_packet(snap.video_header, true);
  if (snap.audio_header) queue_packet(snap.audio_header, true);
  for (const auto& p : snap.track_headers) queue_packet(p, true);
  for (const auto& p : snap.gop) queue_packet(p, false);
  wake_writer();
}

std::uint32_t http_flv_session::rebase(std::uint32_t timestamp, bool header) {
  if (!has_base_) {
    if (header) return 0;
    base_ = timestamp;
    has_base_ = true;
  }
  // Modular difference: correct across the publisher's 2^32 wrap. A tag
  // stamped before the base (a header, a late audio frame) is sent at 0.
  const auto d = static_cast<std::int32_t>(timestamp - base_);
  return d < 0 ? 0 : static_cast<std::uint32_t>(d);
}

void http_flv_session::queue_packet(const hub::packet_ptr& p, bool cached_header) {
  if (closed_ || closing_) return;
  const std::uint8_t type = p->msg.type;
  if (type != 8 && type != 9 && type != 18) return;  // FLV has audio, video and script tags only
  const std::size_t payload = p->msg.payload.size();
  if (payload > max_flv_tag_payload) return;  // larger than FLV can frame
  const std::size_t tag_size = proto::flv_tag_header_size + payload + proto::flv_previous_tag_size_size;
  std::array<char, 20> line{};  // the chunk-size line
  const std::size_t line_size =
      chunked_ ? static_cast<std::size_t>(std::snprintf(line.data(), line.size(), "%zx\r\n", tag_size)) : 0;
  const std::size_t size = line_size + tag_size + (chunked_ ? 2 : 0);

  // The RTMP players' policy, on the same bound.
  switch (policy_.admit(*p, out_.queued(byte_class::media), size)) {
    case hub::admission::send: break;
    case hub::admission::skip: return;
    case hub::admission::disconnect: close(close_reason::slow_player_at_bound); return;
    case hub::admission::drop:
      if (policy_.started_dropping()) {
        spdlog::warn("HTTP-FLV {} {} slow player: dropping until the next keyframe", remote_, key_);
      }
      if (entry_) entry_->dropped.fetch_add(1, std::memory_order_relaxed);
      services_.metrics.dropped_queue_full.fetch_add(1, std::memory_order_relaxed);
      return;
  }

  proto::flv_tag_framing framing;
  const std::uint32_t ts = cached_header ? 0 : rebase(p->msg.timestamp, p->header);
  (void)proto::make_flv_tag_framing(type, ts, payload, framing);  // the size was checked above
  out_block item;
  item.head.append(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(line.data()), line_size));
  item.head.append(framing.header);
  item.body = p->msg.payload;  // shared with every other player: no copy
  item.tail.append(framing.trailer);
  if (chunked_) {
    static constexpr std::uint8_t crlf[] = {'\r', '\n'};
    item.tail.append(crlf);
  }
  out_.push(std::move(item));
}

// --- hub callbacks (on this worker) -----------------------------------------------

void http_flv_session::on_media(std::span<const hub::packet_ptr> batch) {
  if (closed_ || closing_) return;
  for (const auto& p : batch) queue_packet(p, false);
  if (closed_ || out_.empty()) return;
  if (!writer_idle_) {
    wake_writer();  // a drain is under way, or the loop is about to look
    return;
  }
  // A viewer that keeps up: write now, as RTMP players do, so the write is
  // part of the hub's fan-out round, which adaptive coalescing measures
  // (a write left to the loop would make rounds look free, and the window
  // would never open). What the socket does not take goes to the loop.
  const gather_limits limits{.max_buffers = max_write_buffers, .max_bytes = config_.max_write_batch_bytes};
  std::uint64_t sent = 0;
  std::error_code ec;
  const write_state state = write_queued(*socket_, out_, limits, sent, ec);
  if (entry_ && sent > 0) add_bytes(entry_->bytes_out, sent);
  switch (state) {
    case write_state::drained: break;
    case write_state::blocked: wake_writer(); break;
    case write_state::failed: close(close_reason::write_error, ec.message()); break;
  }
}

void http_flv_session::on_publish_start() {
  // Not reached in practice: a session subscribes to a published stream and
  // ends with its publisher.
}

void http_flv_session::on_publish_stop() { end_stream(close_reason::stream_ended); }

void http_flv_session::end_stream(close_reason why) {
  if (closed_ || closing_) return;
  if (chunked_) queue_raw("0\r\n\r\n");  // the last chunk, no trailer section
  closing_ = true;
  closing_since_ = clock::now();
  pending_reason_ = why;
  wake_writer();
}

void http_flv_session::wake_writer() { wake_.cancel(); }

void http_flv_session::close(close_reason why, std::string_view detail, bool force_reset) {
  if (closed_) return;
  closed_ = true;
  const close_reason_info& info = info_of(why);
  spdlog::log(info.level == close_log_level::warn ? spdlog::level::warn : spdlog::level::info,
              "HTTP-FLV {} {} closed: {} (tags out {}, dropped {})", remote_, key_, close_text(why, detail),
              policy_.sent(), policy_.dropped());
  if (stream_ != nullptr) {
    auto s = std::move(stream_);
    s->unsubscribe(this);
    services_.streams.remove_if_unused(s);
    // The viewer ends: on-play-done.
    session_end e;
    e.publish = false;
    const auto slash = key_.find('/');
    e.app = key_.substr(0, slash);
    e.stream = slash == std::string::npos ? key_ : key_.substr(slash + 1);
    e.client = remote_ip_;
    e.client_endpoint = remote_;
    e.duration_ms = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                   std::chrono::steady_clock::now() - playing_since_)
                                                   .count());
    if (entry_) e.bytes = entry_->bytes_out.load(std::memory_order_relaxed);
    e.reason = close_text(why, detail);
    e.protocol = "http-flv";
    services_.hooks.ended(socket_->get_executor(), std::move(e));
  }
  std::error_code ec;
  if (info.reset || force_reset) {
    socket_->set_option(asio::socket_base::linger(true, 0), ec);
  } else {
    socket_->shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  }
  socket_->close(ec);
  wake_.cancel();
  watchdog_.cancel();
  out_.clear();
  ticket_.reset();
  if (entry_) services_.metrics.remove(id_, info.metric);
}

// --- socket loops -----------------------------------------------------------------

asio::awaitable<void> http_flv_session::read_loop(std::shared_ptr<http_flv_session> self) {
  std::array<std::uint8_t, discard_buffer_size> buffer{};
  while (!closed_) {
    auto [ec, n] = co_await socket_->async_read_some(asio::buffer(buffer), as_tuple(use_awaitable));
    (void)n;
    if (closed_) co_return;
    if (ec) {
      if (services_.stopping) {
        close(close_reason::shutdown);
      } else if (ec == asio::error::eof) {
        close(close_reason::peer_closed);
      } else {
        close(close_reason::read_error, ec.message());
      }
      co_return;
    }
  }
  (void)self;
}

asio::awaitable<void> http_flv_session::write_loop() {
  const gather_limits limits{.max_buffers = max_write_buffers, .max_bytes = config_.max_write_batch_bytes};
  while (!closed_) {
    if (out_.empty()) {
      if (closing_) {
        close(pending_reason_);
        co_return;
      }
      wake_.expires_at(clock::time_point::max());
      writer_idle_ = true;
      co_await wake_.async_wait(as_tuple(use_awaitable));
      writer_idle_ = false;
      continue;
    }
    drain_hooks hooks{.sent = [this](std::size_t n) { if (entry_) add_bytes(entry_->bytes_out, n); },
                      .open = [this] { return !closed_; }};
    const std::error_code ec = co_await drain(*socket_, nullptr, out_, limits, std::move(hooks));
    if (closed_) co_return;
    if (ec) {
      if (services_.stopping) {
        close(close_reason::shutdown);
      } else {
        close(close_reason::write_error, ec.message());
      }
      co_return;
    }
  }
}

std::chrono::milliseconds http_flv_session::watchdog_tick() const {
  using std::chrono::milliseconds;
  const milliseconds shortest = std::min(config_.shutdown_timeout, config_.slow_disconnect_after);
  return std::clamp(shortest / 4, milliseconds(50), milliseconds(1000));
}

asio::awaitable<void> http_flv_session::watchdog_loop(std::shared_ptr<http_flv_session> self) {
  while (!closed_) {
    watchdog_.expires_after(watchdog_tick());
    co_await watchdog_.async_wait(as_tuple(use_awaitable));
    if (closed_) co_return;
    const auto now = clock::now();
    if (closing_ && now - closing_since_ > config_.shutdown_timeout) {
      // A player that does not read the end of the body cannot hold the connection.
      close(pending_reason_, "end not read in time", true);
      co_return;
    }
    if (policy_.overdue(now)) {
      close(close_reason::slow_player_overdue);
      co_return;
    }
  }
  (void)self;
}

}  // namespace rtmp::net
