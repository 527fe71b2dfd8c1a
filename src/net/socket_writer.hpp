#pragma once
// The socket side of writing: the two drivers every connection kind uses to
// send what its outbound_queue holds. Internal to the networking layer.
//
// * `write_queued` is the plain TCP path: non-blocking writevs straight from
//   the queue, no coroutine and no timer; when the socket is full the
//   caller waits for writability (`socket.async_wait(wait_write)`) and calls
//   it again. A connection that keeps up costs one system call per flush.
// * `drain` is a coroutine for connections that would rather wait in line:
//   plain TCP through the same non-blocking writes and writability waits,
//   TLS by linearizing each gather into one buffer for the record layer
//   (asio::ssl writes one record per buffer of a sequence otherwise).
//
// No buffer handed to the kernel outlives the call that gathered it on the
// plain path, so queue blocks may move (the ring grows) between writes; the
// TLS path writes from its own copy.
//
// Plain sockets must be in non-blocking mode (`socket.non_blocking(true)`).

#include <asio/awaitable.hpp>
#include <asio/buffer.hpp>
#include <asio/ip/tcp.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <system_error>
#include <vector>

#include "net/outbound_queue.hpp"
#include "net/tls.hpp"

namespace rtmp::net {

/// How `write_queued` ended.
enum class write_state : std::uint8_t {
  drained,  ///< The queue is empty.
  blocked,  ///< The socket is full: wait for writability, then call again.
  failed,   ///< A write error (in `ec`): the connection is finished.
};

/// One non-blocking writev of `buffers` (at most max_write_buffers).
/// Returns the bytes the socket took, 0 when it is full; a real error goes
/// to `ec` (would-block is not one).
std::size_t send_now(asio::ip::tcp::socket& socket, std::span<const asio::const_buffer> buffers,
                     std::error_code& ec);

/// Writes from `queue` until it is empty or the socket is full, each write
/// gathered within `limits`. Adds the bytes written to `sent`.
write_state write_queued(asio::ip::tcp::socket& socket, outbound_queue& queue, const gather_limits& limits,
                         std::uint64_t& sent, std::error_code& ec);

/// Callbacks of a `drain`.
struct drain_hooks {
  std::function<void(std::size_t)> sent;  ///< Bytes written (called after each write).
  std::function<bool()> open;             ///< False once the connection closed: the drain stops.
};

/// Writes everything `queue` holds, and what is queued while it runs, then
/// returns; returns early with the write error, or with no error once
/// `hooks.open()` is false. With `tls` the bytes go through it (each
/// gather linearized into a buffer the drain holds while it runs), else
/// through the non-blocking `socket`. `queue`, `socket` and `tls` must
/// outlive the coroutine (its owner holds itself alive while it runs).
/// Runs on the socket's executor.
asio::awaitable<std::error_code> drain(asio::ip::tcp::socket& socket, tls_stream* tls, outbound_queue& queue,
                                       gather_limits limits, drain_hooks hooks);

}  // namespace rtmp::net
