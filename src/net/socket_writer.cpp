#include "net/socket_writer.hpp"
#include "net/coroutine_support.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <limits>

namespace rtmp::net {

std::size_t send_now(asio::ip::tcp::socket& socket, std::span<const asio::const_buffer> buffers,
                     std::error_code& ec) {
  const std::size_t n = socket.write_some(buffers, ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) {
    ec.clear();
    return 0;
  }
  return ec ? 0 : n;
}

write_state write_queued(asio::ip::tcp::socket& socket, outbound_queue& queue, const gather_limits& limits,
                         std::uint64_t& sent, std::error_code& ec) {
  // One gather list per worker thread: a write is synchronous, so every
  // connection of the thread can share it (an idle connection holds none).
  thread_local std::vector<asio::const_buffer> buffers;
  while (!queue.empty()) {
    buffers.clear();
    const std::size_t total = queue.gather(buffers, limits);
    const std::size_t n = send_now(socket, buffers, ec);
    buffers.clear();
    if (ec) return write_state::failed;
    queue.consume(n);
    sent += n;
    if (n < total) return write_state::blocked;
  }
  return write_state::drained;
}

asio::awaitable<std::error_code> drain(asio::ip::tcp::socket& socket, tls_stream* tls, outbound_queue& queue,
                                       gather_limits limits, drain_hooks hooks) {
  std::vector<std::uint8_t> scratch;  // TLS: one gather, linearized for the record layer
  while (hooks.open() && !queue.empty()) {
    if (tls != nullptr) {
      gather_limits flat = limits;
      flat.max_buffers = std::numeric_limits<std::size_t>::max();  // one copy, whatever the pieces
      queue.linearize(scratch, flat);
      auto [ec, n] = co_await asio::async_write(*tls, asio::buffer(scratch), as_tuple(use_awaitable));
      if (!hooks.open()) co_return std::error_code{};
      if (n > 0) hooks.sent(n);
      if (ec) co_return ec;
      queue.consume(n);
      continue;
    }
    std::uint64_t sent = 0;
    std::error_code ec;
    const write_state state = write_queued(socket, queue, limits, sent, ec);
    if (sent > 0) hooks.sent(static_cast<std::size_t>(sent));
    if (state == write_state::failed) co_return ec;
    if (state == write_state::blocked) {
      auto [wec] = co_await socket.async_wait(asio::socket_base::wait_write, as_tuple(use_awaitable));
      if (!hooks.open()) co_return std::error_code{};
      if (wec) co_return wec;
    }
  }
  co_return std::error_code{};
}

}  // namespace rtmp::net
