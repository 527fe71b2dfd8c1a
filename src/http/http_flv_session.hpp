#pragma once
// HTTP-FLV playback: GET /{app}/{stream}.flv on the operator HTTP
// endpoint answers with an endless FLV body (Transfer-Encoding: chunked for
// HTTP/1.1, close-delimited for HTTP/1.0) fed from the same hub queues as
// RTMP players: the fast start (metadata, sequence headers, GOP cache), then
// live tags, under the same slow-subscriber policy.
//
// Wire format (FLV spec, Adobe Video File Format Spec v10.1, annex E): the
// 9-byte header and PreviousTagSize0, then per tag the 11-byte tag header,
// the payload (the hub's shared bytes, gathered into the write, never
// copied per player) and its 4-byte PreviousTagSize. With chunked transfer
// coding (RFC 9112 section 7.1) each tag is one chunk.
//
// Choices:
// * A stream that is not being published is answered 404 at once (no wait):
//   HTTP players retry on their own, and a waiting request would hold an
//   HTTP connection slot for a stream that may never come.
// * Timestamps are rebased: the first media tag sent is at 0 (cached headers
//   too). A player joins mid-stream; FLV players (MSE-based ones like
//   flv.js/mpegts.js, and ffmpeg) treat the body as a file that starts at
//   0, and a viewer then never sees the publisher's 32-bit wrap unless it
//   watches for 49 days.
// * When the publisher stops, the body ends (last chunk) and the connection
//   closes: an HTTP player cannot be told "unpublished, wait" in-band.
//
// Threading: a session lives on one worker, like an RTMP connection; the hub
// calls it there, so nothing here takes a lock.

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "server/close_reason.hpp"
#include "server/connection_limits.hpp"
#include "server/connection_services.hpp"
#include "net/outbound_queue.hpp"
#include "server/server_metrics.hpp"
#include "rtmp/http/request_parser.hpp"
#include "rtmp/http/response.hpp"
#include "rtmp/hub/player_policy.hpp"
#include "rtmp/hub/stream.hpp"
#include "rtmp/net/server.hpp"

namespace rtmp::net {


/// The stream an FLV playback URL names.
struct flv_target {
  std::string app;   ///< First path segment; auth rules are per app.
  std::string name;  ///< The rest of the path without ".flv" (may hold '/').
  std::string key;   ///< Hub stream key, "app/name".
};

/// The target of a request path ("/live/cam.flv": app "live", name "cam"),
/// or nothing when `path` is not an FLV playback URL (both parts non-empty).
std::optional<flv_target> match_flv_path(std::string_view path);

/// The answer to a request for an FLV URL whose method is neither GET nor
/// HEAD: 204 with the CORS preflight headers (when `cors` is set) for
/// OPTIONS, 405 with `Allow` for anything else.
http::response flv_other_method_response(const http::request& req, const std::string& cors);

/// Adds Access-Control-Allow-Origin `cors` (and Vary: Origin for an origin
/// other than "*") to `headers`; nothing when `cors` is empty.
void add_cors(std::vector<std::pair<std::string, std::string>>& headers, const std::string& cors);

/// One HTTP-FLV player: authorizes, subscribes, streams, unsubscribes.
class http_flv_session final : public hub::subscriber, public std::enable_shared_from_this<http_flv_session> {
 public:
  using clock = std::chrono::steady_clock;

  /// `socket` is the HTTP connection (shared with the listener, which closes
  /// it after `run`); `remote` is "ADDR:PORT"; `ticket` is the player's slot
  /// under the connection caps, given back when it closes.
  http_flv_session(connection_services& services, std::shared_ptr<asio::ip::tcp::socket> socket, std::size_t worker,
                   std::uint64_t id, std::string remote, admission_ticket ticket);
  ~http_flv_session() override;

  http_flv_session(const http_flv_session&) = delete;
  http_flv_session& operator=(const http_flv_session&) = delete;

  /// Serves a GET or HEAD of `target` on the session's worker: answers
  /// 401/403 (token or callback refused), 404 (not published) or 503
  /// (shutting down) with Connection: close, or streams until the publisher
  /// stops, the player leaves or falls too far behind, or the server stops.
  /// Returns when the connection is finished with.
  asio::awaitable<void> run(http::request req, flv_target target);

  // hub::subscriber
  std::size_t worker() const noexcept override { return worker_; }

 protected:
  void on_media(std::span<const hub::packet_ptr> batch) override;
  void on_publish_start() override;
  void on_publish_stop() override;

 private:
  // 0 when allowed, else the status to answer (401 no token, 403 refused).
  asio::awaitable<int> authorize(const http::request& req, const flv_target& target);
  // Writes a complete non-streaming response and closes.
  asio::awaitable<void> answer(http::response r, const std::string& why);
  // The 200 response head (status line and fields, empty line included).
  std::string response_head() const;
  void queue_header(const hub::stream_snapshot& snap);
  void queue_snapshot(const hub::stream_snapshot& snap);
  void queue_packet(const hub::packet_ptr& p, bool cached_header);
  void queue_raw(std::string_view bytes);
  std::uint32_t rebase(std::uint32_t timestamp, bool header);
  // Ends the body (the last chunk) and closes once it is written.
  void end_stream(close_reason why);
  // Closes now (idempotent); close_reason.hpp gives the log text, metric and reset.
  void close(close_reason why, std::string_view detail = {}, bool force_reset = false);
  void wake_writer();
  asio::awaitable<void> read_loop(std::shared_ptr<http_flv_session> self);
  asio::awaitable<void> write_loop();
  asio::awaitable<void> watchdog_loop(std::shared_ptr<http_flv_session> self);
  std::chrono::milliseconds watchdog_tick() const;

  connection_services& services_;
  const std::shared_ptr<const server_config> config_ptr_;  // the settings this session started with
  const server_config& config_;
  const std::shared_ptr<asio::ip::tcp::socket> socket_;
  const std::size_t worker_;
  const std::uint64_t id_;
  const std::string remote_;
  std::string remote_ip_;
  std::string key_;
  std::chrono::steady_clock::time_point playing_since_{};  // for on-play-done
  admission_ticket ticket_;
  std::shared_ptr<connection_entry> entry_;
  std::shared_ptr<hub::stream> stream_;
  asio::steady_timer wake_;
  asio::steady_timer watchdog_;

  bool chunked_ = true;     // HTTP/1.1: chunked coding; HTTP/1.0: the body ends at close
  bool head_only_ = false;  // HEAD: the response head without a body

  outbound_queue out_;  // the body still to send (tag framing inline, payloads shared)

  bool has_base_ = false;       // base_ is fixed
  std::uint32_t base_ = 0;      // publisher timestamp sent as 0
  hub::player_policy policy_;  // keyframes and the queue bound, as for RTMP players

  // The write loop is parked on wake_ with nothing queued: media may be
  // written at once, within the hub's fan-out round (see on_media).
  bool writer_idle_ = false;
  bool closing_ = false;  // the body is ending: flush, then close
  clock::time_point closing_since_{};
  close_reason pending_reason_ = close_reason::stream_ended;  // end_stream's reason
  bool closed_ = false;
};

}  // namespace rtmp::net
