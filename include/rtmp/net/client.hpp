#pragma once
/// @file client.hpp
/// An RTMP client for C++ programs: connect to `rtmp://host[:port]/app/stream`,
/// publish or play, send messages and receive them through a callback.
///
/// The API is blocking with deadlines, built on Asio: one `asio::io_context`
/// owned by the client runs only inside the client's calls, on the calling
/// thread. While a call runs, the client also reads the socket (answering
/// pings and acknowledging windows through `proto::client_session`), so a
/// publisher that calls `send()` / `wait_until()` / `poll()` regularly keeps the
/// connection healthy without a thread of its own.
///
/// Typical publisher:
///     rtmp::net::client c;
///     if (auto ec = c.connect("rtmp://127.0.0.1/live/key", 10s)) ...
///     if (auto ec = c.publish(10s)) ...
///     c.send_script_data(metadata_tag_body, 0);
///     for (...) c.send(msg);             // audio (8) / video (9) / data (18)
///     c.finish(2s);                      // FCUnpublish + deleteStream, graceful close
/// Typical player:
///     c.connect(url, 10s); c.play(10s);
///     c.receive([](const rtmp::proto::client_event& ev) { ...; return true; }, 500ms);
///
/// Thread-safety: none. One client belongs to one thread at a time.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

#include "rtmp/proto/client_session.hpp"
#include "rtmp/proto/message.hpp"
#include "rtmp/proto/rtmp_url.hpp"

namespace rtmp::net {

/// Client settings. Every limit and deadline is named here.
struct client_options {
  /// Protocol settings and inbound limits. `session.connect.app` and
  /// `tc_url` are filled in from the URL by `connect()`; `flash_ver` is kept.
  proto::client_session_config session;
  /// Bytes per socket read: the most inbound data processed (and turned into
  /// events) per step.
  std::size_t read_buffer_size = std::size_t{64} * 1024;
  /// Reading pauses while undelivered events hold more than this many
  /// payload bytes (a caller that does not `receive()` cannot make us buffer
  /// a fast server without bound).
  std::size_t max_pending_event_bytes = std::size_t{8} * 1024 * 1024;
  /// `send()` blocks while more than this many bytes wait to be written.
  std::size_t max_queued_write_bytes = std::size_t{2} * 1024 * 1024;
  /// How long `send()` may block on a server that does not read.
  std::chrono::milliseconds write_timeout{10'000};
  /// rtmps://: check the server's certificate chain and host name (turn off
  /// only for self-signed test servers: `rtmp-client --insecure`).
  bool tls_verify = true;
  /// rtmps://: PEM file of the CA certificates to trust instead of the
  /// system's store (e.g. a private CA or the self-signed certificate itself).
  std::string tls_ca_file;
};

/// Called with each event; return false to stop `receive()`.
using event_handler = std::function<bool(const proto::client_event&)>;

/// Counters of a client.
struct client_stats {
  std::uint64_t bytes_sent = 0;      ///< Bytes written to the socket (handshake included).
  std::uint64_t bytes_received = 0;  ///< Bytes read from the socket (handshake included).
  std::uint64_t messages_sent = 0;   ///< Media / data messages queued by `send*()`.
};

class client_impl;

/// One RTMP client connection (see the file comment).
class client {
 public:
  /// An unconnected client.
  explicit client(client_options options = {});
  /// Closes the connection at once (no goodbye; call `finish()` for one).
  ~client();

  client(const client&) = delete;
  client& operator=(const client&) = delete;

  /// Parses `url`, resolves the host (IP literals skip DNS), connects over
  /// TCP (for rtmps://, then TLS: SNI, and the certificate checked unless
  /// `tls_verify` is off), does the handshake and the RTMP connect (app and
  /// tcUrl from the URL), all within `timeout`. Blocks the calling thread.
  /// Errors: errc::url_malformed; std::errc::invalid_argument when the TLS
  /// settings cannot be loaded (reason logged); TLS errors (asio::ssl
  /// category, e.g. certificate verify failed); resolver errors (asio::error::
  /// host_not_found...); connection errors (connection_refused,
  /// network_unreachable...); handshake errors (rtmp::errc 2xx, or
  /// errc::peer_closed while `session_phase()` is still `handshake`);
  /// errc::connect_rejected; errc::timeout; chunk/AMF errors from a broken
  /// server. After an error the client is closed; a new connect() may be tried.
  std::error_code connect(std::string_view url, std::chrono::milliseconds timeout);

  /// Publishes the URL's stream (name with its query) as "live" and waits
  /// for NetStream.Publish.Start, within `timeout`. Errors:
  /// errc::publish_rejected (e.g. BadName: the key is busy), errc::unauthorized,
  /// errc::timeout, errc::command_out_of_order (not connected or already
  /// started), connection errors.
  std::error_code publish(std::chrono::milliseconds timeout);

  /// Plays the URL's stream and waits for NetStream.Play.Start within
  /// `timeout`. Errors: errc::play_rejected (StreamNotFound, Play.Failed),
  /// errc::unauthorized, errc::timeout, connection errors.
  std::error_code play(std::chrono::milliseconds timeout);

  /// Sends an audio (8), video (9) or data (18) message on our stream (the
  /// message's stream id is ignored). The payload is copied before the call
  /// returns. Blocks only while more than `max_queued_write_bytes` are
  /// waiting (at most `write_timeout`, then errc::timeout). Errors:
  /// errc::command_out_of_order unless publishing; the connection's error.
  std::error_code send(const proto::message& msg);

  /// Sends an FLV script tag body as a data message; `onMetaData` goes out
  /// as `@setDataFrame onMetaData` (see `client_session::send_script_data`).
  std::error_code send_script_data(std::span<const std::uint8_t> payload, std::uint32_t timestamp);

  /// Delivers events (status, media, stream end...) to `handler`: queued ones
  /// first, then those that arrive within `max_wait`. Returns success when
  /// `handler` returned false or `max_wait` passed (`max_wait` 0: only what
  /// is already there); otherwise the connection's error (e.g.
  /// errc::peer_closed), after every event received before it was delivered.
  std::error_code receive(const event_handler& handler, std::chrono::milliseconds max_wait);

  /// Same as `receive(handler, 0ms)`.
  std::error_code poll(const event_handler& handler) { return receive(handler, std::chrono::milliseconds(0)); }

  /// Keeps the connection serviced (reads, pings, acks, pending writes)
  /// until `deadline` (used to pace a publisher). Events stay queued for
  /// `receive()`/`poll()`. Returns the connection's error, if any.
  std::error_code wait_until(std::chrono::steady_clock::time_point deadline);

  /// Ends politely: FCUnpublish + deleteStream (publisher) or deleteStream
  /// (player), waits for everything queued to be written, half-closes and
  /// waits (at most `timeout` in total) for the server to close, then closes.
  /// Returns a write error or errc::timeout if the queued bytes could not be
  /// written in time; the client is closed afterwards in any case.
  std::error_code finish(std::chrono::milliseconds timeout);

  /// Closes the socket at once. Idempotent.
  void close() noexcept;

  /// True between a successful `connect()` and `close()`/`finish()`/an error.
  bool is_open() const noexcept;
  /// The session's phase (`handshake` before any connect). Tells, after an
  /// error, how far the connection got (e.g. peer_closed during the handshake).
  proto::client_session::phase session_phase() const noexcept;
  /// The last error-level status from the server (code and description of a refusal).
  proto::status_info last_error_status() const;
  /// The parsed URL of the last `connect()`.
  const proto::rtmp_url& url() const noexcept;
  /// Counters.
  client_stats stats() const noexcept;

 private:
  std::unique_ptr<client_impl> impl_;
};

}  // namespace rtmp::net
