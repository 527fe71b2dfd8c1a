#pragma once
/// @file bench_connection.hpp
/// The base of every `rtmp-client bench` connection, player or publisher: a
/// TCP socket driving a sans-I/O client_session, reading into its thread's
/// shared buffer and writing through net::outbound_queue / net::write_queued.

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include <cstddef>
#include <cstdint>
#include <system_error>
#include <vector>

#include "bench_clock.hpp"
#include "net/outbound_queue.hpp"
#include "rtmp/proto/client_session.hpp"

namespace rtmp::bench {

/// TCP as Asio spells it.
using tcp = asio::ip::tcp;

/// Bytes of the per-thread read buffer, shared by every connection of the
/// thread: a connection reads only when its socket is readable and hands the
/// bytes to its session before the next connection runs, so no connection
/// keeps a buffer of its own.
inline constexpr std::size_t read_buffer_bytes = 64 * 1024;

/// A socket driving a client_session: connect, read when readable (into the
/// thread's shared buffer), write what the session produces. Subclasses see
/// the session's events. Lives until its io_context stops running, so
/// handlers may capture `this`.
class connection {
 public:
  /// A connection on `io` that reads into `read_buffer` (shared with the
  /// other connections of the thread) and negotiates with `config`.
  connection(asio::io_context& io, std::vector<std::uint8_t>& read_buffer, proto::client_session_config config);
  virtual ~connection() = default;

  /// Not copyable: the socket's handlers hold `this`.
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  /// Starts the TCP connect; the handshake follows on success.
  void start(const tcp::endpoint& endpoint);

  /// Closes the socket; `why` (empty when we stopped it) is kept as the
  /// connection's error. Idempotent.
  void close(std::error_code why);

  /// True once the connection was closed.
  bool closed() const noexcept { return closed_; }
  /// Why the connection closed; empty while open or when we stopped it.
  std::error_code error() const noexcept { return error_; }
  /// Bytes read from the socket (the wire, not only media).
  std::uint64_t bytes_received() const noexcept { return bytes_in_; }

 protected:
  /// Called for each event of the session, `now` being when its bytes came in.
  virtual void on_event(proto::client_event& ev, clock_type::time_point now) = 0;
  /// Called once, when the connection closes.
  virtual void on_close(clock_type::time_point /*now*/) {}

  /// Moves the session's output to the socket: non-blocking writes of what
  /// is queued, a writability wait when the socket is full.
  void flush();

  /// Bytes the socket has not taken yet.
  std::size_t queued_bytes() const noexcept { return out_.queued(); }

  asio::io_context& io_;               // the thread's
  std::vector<std::uint8_t>& buffer_;  // the thread's read buffer
  tcp::socket socket_;
  proto::client_session session_;      // the RTMP side, without I/O

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

  net::outbound_queue out_;  // what the socket has not taken yet
  std::uint64_t bytes_in_ = 0;
  std::error_code error_;
  bool tcp_connected_ = false;
  bool waiting_writable_ = false;
  bool closed_ = false;
};

}  // namespace rtmp::bench
