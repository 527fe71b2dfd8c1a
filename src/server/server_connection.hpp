#pragma once
// One accepted RTMP connection: the Asio shell around proto::server_session,
// composed of its publishing part (connection_publisher), playing part
// (connection_player) and authentication part (connection_authorizer).
// Internal to the networking layer (not a public header).
//
// Threading: a connection lives on one worker io_context for its whole life;
// all members are touched only there, so nothing here takes a lock. The hub
// reaches it through `hub::subscriber` callbacks (run on its worker) and
// `hub::publisher::kick` (posts to its worker).

#include <asio/ip/tcp.hpp>
#include <asio/awaitable.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "net/outbound_queue.hpp"
#include "net/tls.hpp"
#include "rtmp/hub/hub.hpp"
#include "rtmp/hub/stream.hpp"
#include "server/auth.hpp"
#include "server/close_reason.hpp"
#include "server/connection_authorizer.hpp"
#include "server/connection_limits.hpp"
#include "server/connection_player.hpp"
#include "server/connection_publisher.hpp"
#include "server/connection_services.hpp"
#include "server/server_metrics.hpp"
#include "server/stream_hooks.hpp"
#include "rtmp/net/server.hpp"
#include "rtmp/proto/server_session.hpp"

namespace rtmp::net {


class server_connection final : public std::enable_shared_from_this<server_connection>,
                                public hub::subscriber,
                                public hub::publisher {
 public:
  using clock = std::chrono::steady_clock;

  /// `ticket` is the connection's slot under the connection caps; it is
  /// given back when the connection closes. With `tls` (the RTMPS context
  /// in force when it was accepted; kept for the connection's life) the
  /// connection first does the TLS handshake and then speaks RTMP inside TLS.
  server_connection(connection_services& services, std::size_t worker, std::uint64_t id, asio::ip::tcp::socket socket,
                    admission_ticket ticket = {}, std::shared_ptr<asio::ssl::context> tls = nullptr);

  /// Who a connection behind a load balancer really is: the client that a
  /// PROXY protocol header named, and the bytes that came after the header
  /// in the same read (the start of the RTMP handshake).
  struct relayed_client {
    std::string address;                 ///< The client's IP address.
    std::string endpoint;                ///< "ADDR:PORT" (IPv6 in brackets).
    std::vector<std::uint8_t> leftover;  ///< Read past the header; handled first.
  };
  /// A plain RTMP connection on a PROXY-protocol listener: `client` stands
  /// for the socket's peer in limits, access rules, logs, callbacks and the API.
  server_connection(connection_services& services, std::size_t worker, std::uint64_t id, asio::ip::tcp::socket socket,
                    admission_ticket ticket, relayed_client client);
  ~server_connection() override;

  /// Starts reading (on the connection's worker).
  void start();

  /// Graceful goodbye for server shutdown: tells the peer, flushes, closes.
  void shutdown();

  /// Closes now (idempotent), logging why once (close_reason.hpp: text,
  /// level, metric). A reason marked `reset` there, or `force_reset`, resets
  /// the connection instead of a graceful FIN: the kernel then drops
  /// whatever a stuck peer has not read instead of holding it.
  void close(close_reason why, std::string_view detail = {}, bool force_reset = false);

  /// Closes the connection when a deadline that applies now has passed
  /// (handshake, negotiation, goodbye, publisher idle, pong, slow player) and
  /// pings a silent player. Called by its worker's deadline sweep
  /// (connection_registry), so a connection needs no timer of its own.
  void check_deadlines(clock::time_point now);

  // hub::subscriber
  std::size_t worker() const noexcept override { return worker_; }
  // hub::publisher
  void kick(std::string reason) override;

 protected:
  void on_media(std::span<const hub::packet_ptr> batch) override;
  void on_publish_start() override;
  void on_publish_stop() override;

 private:
  asio::awaitable<void> read_loop();
  asio::awaitable<void> tls_read_loop();
  // Handles one read's result (bytes or error); false when reading must stop.
  bool on_read(const std::error_code& ec, std::span<const std::uint8_t> data);
  // The calling worker thread's read buffer, at least `size` bytes.
  static std::vector<std::uint8_t>& worker_read_buffer(std::size_t size);

  // Writing. Plain TCP writes straight from the caller (the hub's delivery,
  // a session reply) with one non-blocking writev of everything queued; only
  // when the socket buffer is full does it wait for writability. So a
  // player costs one system call per delivered batch and no coroutine
  // resumption, timer or scheduler round trip. RTMPS runs a coroutine that
  // drains the queue through TLS.
  void flush();
  // Writes the queue (plain TCP); false when the socket is full (a
  // writability wait is started) or the write failed.
  bool write_plain();
  void wait_writable();
  asio::awaitable<void> tls_write_loop();
  // What one write may gather.
  gather_limits write_limits() const noexcept;
  // Stops writing after a write error; the close runs from the worker's
  // queue, not inside the caller (which may be the hub's delivery loop).
  void fail_write(const std::error_code& ec);
  // Closes after a goodbye once the queue is written (close_after_flush).
  void close_when_flushed();
  // RTMPS read buffer at first; it grows on full reads up to config
  // read_buffer_size. (Plain connections read into the worker's buffer.)
  static constexpr std::size_t initial_read_buffer_size = 1024;
  // Session output buffer capacity kept between outputs (see flush_session_output).
  static constexpr std::size_t retained_output_capacity = 256;

  void handle_events();
  void on_publish_request(const proto::session_event& ev);
  void on_play_request(const proto::session_event& ev);
  // The decision made: claim the stream / subscribe (after any auth). A
  // publish to a busy key whose publisher may turn stale is held (once,
  // when `may_hold`) until it would be, then tried again.
  void start_publish(const proto::session_event& ev, bool may_hold = true);
  // A publisher silent for less than this is live (a stream sends media
  // every few tens of ms): a new publisher on its key is refused at once.
  static constexpr std::chrono::milliseconds silent_before_hold{250};
  // How long until the publisher of `key` turns stale, when a new publisher
  // should wait for that rather than be refused.
  std::optional<std::chrono::milliseconds> until_stale(const std::string& key) const;
  void hold_publish(const proto::session_event& ev, std::chrono::milliseconds wait);
  void start_play(const proto::session_event& ev);
  // The request as the authorization rules see it.
  auth_request auth_request_for(const proto::session_event& ev, bool publish) const;
  // Asks the authorizer, then starts the publish or play, or refuses it.
  void authorize(const proto::session_event& ev, bool publish);
  // After the session took input (`err`: what it returned): sends its
  // output, handles its events, hands media to the hub; closes on `err` or
  // a refusal. False when the connection is closed.
  bool after_session_input(std::error_code err);
  // connect_request (an on-connect callback is set): asks it, then answers
  // the connect and handles what the client sent meanwhile, or refuses it.
  void authorize_connect();
  void on_connect_decided(const auth_decision& d);
  // Acts on the authorizer's decision about `ev`.
  void on_decided(const proto::session_event& ev, bool publish, const auth_decision& d);
  // Unauthorized / Play.Failed, one log line, close after the goodbye.
  void refuse_unauthorized(const proto::session_event& ev, bool publish, std::string_view why);
  // True when a publish or play is under way or being decided.
  bool busy() const noexcept {
    return publisher_.active() || player_.active() || authorizer_.pending() || publish_retry_ != nullptr;
  }
  void stop_publishing();
  void stop_playing();
  // The stream's name without the app ("cam" of "live/cam").
  std::string stream_name_only() const;
  // Tells the hooks that the publish (or play) ended (on-publish-done, ...).
  void notify_end(bool publish);
  void flush_session_output();
  // Queues a session reply, under the control-reply bound.
  void queue_control(proto::shared_bytes bytes);
  void queue_packet(const hub::packet_ptr& p);
  // The player's filter for one media packet (pause, receiveAudio/Video,
  // start at a keyframe, the slow-player queue cap and its policy, which
  // may close the connection): true when it is to be sent. `owed` is what
  // the player already owes its peer (queued, or admitted into the write
  // being gathered).
  bool admit_media(const hub::media_packet& p, std::size_t owed);
  // Writes a batch straight from the packets (nothing queued, plain TCP,
  // the hub's stream id); queues what the socket does not take.
  void write_batch_now(std::span<const hub::packet_ptr> batch);
  void queue_snapshot(const hub::stream_snapshot& snap);
  // Closes once what is queued (a goodbye) is written, or at the shutdown deadline.
  void close_after_flush(close_reason why, std::string detail = {});
  std::string tag() const;
  // Logs a per-peer line unless the limiter suppresses it (T-40).
  template <class... Args>
  void log_limited(int level, std::string_view kind, spdlog::format_string_t<Args...> fmt, Args&&... args);

  connection_services& services_;
  const std::shared_ptr<const server_config> config_ptr_;  // the settings this connection started with
  const server_config& config_;
  const std::size_t worker_;
  const std::uint64_t id_;
  asio::ip::tcp::socket socket_;
  const std::shared_ptr<asio::ssl::context> tls_context_;  // RTMPS: what tls_ was made with
  std::unique_ptr<tls_stream> tls_;  // RTMPS: TLS over socket_; null for plain RTMP
  std::string remote_;
  std::string remote_ip_;  // limiter key
  admission_ticket ticket_;  // slot under --max-connections(-per-ip)
  std::shared_ptr<connection_entry> entry_;  // this connection in /metrics and /api (from start())
  proto::server_session session_;
  std::vector<std::uint8_t> leftover_;  // read before start() (after a PROXY header)

  outbound_queue out_;
  bool write_busy_ = false;  // waiting for writability, or the RTMPS writer runs
  bool write_failed_ = false;
  std::vector<std::uint8_t> scratch_;

  // The parts.
  connection_publisher publisher_;
  connection_player player_;
  connection_authorizer authorizer_;
  std::string stream_name_;  // for logs: the key of what we publish or play
  std::unique_ptr<asio::steady_timer> publish_retry_;  // a held publish (see start_publish)
  clock::time_point role_since_{};  // the publish or play was accepted
  std::string end_reason_;          // why the publish or play ends, for the hooks

  // Lifetime and deadlines.
  clock::time_point started_at_;
  clock::time_point handshake_done_at_{};
  clock::time_point last_read_;
  clock::time_point ping_sent_at_{};
  bool ping_outstanding_ = false;
  bool closing_ = false;   // close_after_flush requested
  clock::time_point closing_since_{};
  bool closed_ = false;
  close_reason pending_reason_ = close_reason::shutdown;  // close_after_flush's reason
  std::string pending_detail_;
};

template <class... Args>
inline void server_connection::log_limited(int lvl, std::string_view kind, spdlog::format_string_t<Args...> fmt,
                                           Args&&... args) {
  const auto spd_level = static_cast<spdlog::level::level_enum>(lvl);
  if (!spdlog::should_log(spd_level)) return;
  std::uint64_t suppressed = 0;
  std::string key = remote_ip_;
  key += '|';
  key += kind;
  if (!services_.limiter(worker_).allow(key, clock::now(), suppressed)) return;
  std::string line = fmt::format(fmt, std::forward<Args>(args)...);
  if (suppressed > 0) line += fmt::format(" ({} similar lines from this address suppressed)", suppressed);
  spdlog::log(spd_level, "{}", line);
}

}  // namespace rtmp::net
