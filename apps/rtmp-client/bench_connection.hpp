#pragma once
/// @file bench_connection.hpp
/// The bases of every `rtmp-client bench` connection: `socket_connection`, a
/// TCP socket that reads into its thread's shared buffer and writes through
/// net::outbound_queue / net::write_queued (the HTTP-FLV players use it as
/// it is), optionally with TLS over it (rtmps://, bench_tls.hpp), and
/// `connection`, one that drives a sans-I/O client_session (the RTMP players
/// and the publishers).

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <system_error>
#include <vector>

#include "bench_clock.hpp"
#include "net/outbound_queue.hpp"
#include "rtmp/proto/client_session.hpp"
#include "rtmp/proto/shared_bytes.hpp"

namespace rtmp::bench {

/// TCP as Asio spells it.
using tcp = asio::ip::tcp;

/// Bytes of the per-thread read buffer, shared by every connection of the
/// thread: a connection reads only when its socket is readable and hands the
/// bytes on before the next connection runs, so no connection keeps a
/// buffer of its own.
inline constexpr std::size_t read_buffer_bytes = 64 * 1024;

class tls_client_config;
class tls_session;
struct tls_step;

/// A socket: connect, read when readable (into the thread's shared buffer)
/// and hand the bytes to the subclass, write what it sends. Lives until its
/// io_context stops running, so handlers may capture `this`.
///
/// Over TLS (`enable_tls`) the same readiness waits drive OpenSSL on the
/// same socket: decrypted bytes land in the thread's shared buffer too, and
/// the queue holds plaintext. The plain path pays one branch per readable
/// event and per write for it.
class socket_connection {
 public:
  /// A connection on `io` that reads into `read_buffer` (shared with the
  /// other connections of the thread).
  socket_connection(asio::io_context& io, std::vector<std::uint8_t>& read_buffer);
  virtual ~socket_connection();

  /// Not copyable: the socket's handlers hold `this`.
  socket_connection(const socket_connection&) = delete;
  socket_connection& operator=(const socket_connection&) = delete;

  /// Runs the connection over TLS with `config` (which must outlive it):
  /// a client handshake follows the TCP connect. Call before `start`.
  void enable_tls(const tls_client_config& config);

  /// Starts the TCP connect (and, over TLS, the handshake); what was sent
  /// before goes out once it is up.
  void start(const tcp::endpoint& endpoint);

  /// Closes the socket; `why` (empty when we stopped it) is kept as the
  /// connection's error. Idempotent.
  void close(std::error_code why);

  /// True once the connection was closed.
  bool closed() const noexcept { return closed_; }
  /// Why the connection closed; empty while open or when we stopped it.
  std::error_code error() const noexcept { return error_; }
  /// Bytes read from the socket (the wire, not only media; over TLS the
  /// records, the handshake's included).
  std::uint64_t bytes_received() const noexcept { return bytes_in_; }

 protected:
  /// Called once the connection is up (TCP connected and, over TLS, the
  /// handshake done), before the first read.
  virtual void on_connected() {}
  /// Called with the bytes of each read, `now` being when they came in;
  /// an error closes the connection with it.
  virtual std::error_code on_bytes(std::span<const std::uint8_t> bytes, clock_type::time_point now) = 0;
  /// The error to close with when the peer ended the connection cleanly
  /// (EOF); errc::peer_closed unless a subclass knows better.
  virtual std::error_code on_end_of_input();
  /// Called once, when the connection closes.
  virtual void on_close(clock_type::time_point /*now*/) {}

  /// Queues `bytes` and writes them as soon as the socket takes them.
  void send(proto::shared_bytes bytes);

  /// Bytes the socket has not taken yet.
  std::size_t queued_bytes() const noexcept { return out_.queued(); }

  asio::io_context& io_;               // the thread's
  std::vector<std::uint8_t>& buffer_;  // the thread's read buffer
  tcp::socket socket_;

 private:
  /// Waits for the socket to become readable.
  void arm_read();

  /// Reads until the socket would block (Asio's reactor is edge-triggered:
  /// re-arming with bytes left unread could wait forever), yielding to the
  /// other connections after a few reads.
  void on_readable(std::error_code ec);

  /// Writes what is queued until the socket is full, then waits for it to
  /// become writable again.
  void write();

  /// Closes after a TLS call that ended the session (`closed`: the peer's
  /// end, as EOF; `failed`: its error).
  void end_tls(const tls_step& step);

  /// Waits for the socket to become writable, then writes again.
  void wait_writable();

  /// The connection is up: sends what was queued, tells the subclass, reads.
  void on_up();

  /// Moves the TLS handshake on, waiting for the socket as it asks.
  void handshake();

  /// on_readable over TLS: decrypts into the thread's buffer until the
  /// socket would block, yielding as the plain path does.
  void read_tls();

  /// write over TLS: hands the queue's front to the TLS session (at most a
  /// record's worth, linearized when it is in several pieces).
  void write_tls();

  net::outbound_queue out_;  // what the socket has not taken yet (plaintext over TLS)
  std::unique_ptr<tls_session> tls_;  // rtmps://; null over plain TCP
  std::uint64_t bytes_in_ = 0;
  std::error_code error_;
  bool up_ = false;  // connected (and the TLS handshake done): writes may go
  bool waiting_writable_ = false;
  bool tls_write_wants_read_ = false;  // a TLS write waits for the socket to be readable
  bool closed_ = false;
};

/// A socket driving a client_session: what the session produces goes out,
/// what comes in goes to the session, and subclasses see its events.
class connection : public socket_connection {
 public:
  /// A connection on `io` that reads into `read_buffer` and negotiates with `config`.
  connection(asio::io_context& io, std::vector<std::uint8_t>& read_buffer, proto::client_session_config config);

 protected:
  /// Called for each event of the session, `now` being when its bytes came in.
  virtual void on_event(proto::client_event& ev, clock_type::time_point now) = 0;

  /// Moves the session's output to the socket.
  void flush();

  proto::client_session session_;  // the RTMP side, without I/O

 private:
  /// Sends the handshake and whatever was requested before (play / publish).
  void on_connected() override { flush(); }
  /// Feeds the session, hands its events on, then sends what it answered.
  std::error_code on_bytes(std::span<const std::uint8_t> bytes, clock_type::time_point now) override;
};

}  // namespace rtmp::bench
