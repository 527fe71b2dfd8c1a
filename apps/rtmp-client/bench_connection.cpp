// The socket side of a bench connection (see bench_connection.hpp): connect,
// edge-triggered reads into the thread's buffer, queued non-blocking writes;
// and the RTMP connection that puts a client_session on it.
#include "bench_connection.hpp"

#include <asio/post.hpp>

#include <utility>

#include "rtmp/error.hpp"
#include "net/socket_writer.hpp"

namespace rtmp::bench {

namespace {

// Socket reads per connection before it yields to the others on its thread.
constexpr int max_reads_per_turn = 8;

// Resets and broken pipes mean the same here: the server went away.
std::error_code normalize(std::error_code ec) {
  if (ec == asio::error::eof || ec == asio::error::connection_reset || ec == asio::error::broken_pipe) {
    return errc::peer_closed;
  }
  return ec;
}

}  // namespace

// --- socket_connection -----------------------------------------------------------------------

socket_connection::socket_connection(asio::io_context& io, std::vector<std::uint8_t>& read_buffer)
    : io_(io), buffer_(read_buffer), socket_(io) {}

void socket_connection::start(const tcp::endpoint& endpoint) {
  socket_.async_connect(endpoint, [this](std::error_code ec) {
    if (closed_) return;
    if (ec) {
      close(ec);
      return;
    }
    std::error_code ignored;
    socket_.set_option(tcp::no_delay(true), ignored);
    socket_.non_blocking(true, ignored);
    tcp_connected_ = true;
    write();  // what was sent before the connection was up
    on_connected();
    if (!closed_) arm_read();
  });
}

void socket_connection::close(std::error_code why) {
  if (closed_) return;
  closed_ = true;
  error_ = why;
  std::error_code ignored;
  socket_.close(ignored);
  out_.clear();
  on_close(clock_type::now());
}

std::error_code socket_connection::on_end_of_input() { return errc::peer_closed; }

void socket_connection::send(proto::shared_bytes bytes) {
  if (closed_) return;
  out_.push(std::move(bytes), net::byte_class::media);
  if (tcp_connected_) write();
}

void socket_connection::arm_read() {
  socket_.async_wait(tcp::socket::wait_read, [this](std::error_code ec) { on_readable(ec); });
}

void socket_connection::on_readable(std::error_code ec) {
  if (closed_) return;
  if (ec) {
    close(normalize(ec));
    return;
  }
  for (int reads = 0; reads < max_reads_per_turn; ++reads) {
    std::error_code rec;
    const std::size_t n = socket_.read_some(asio::buffer(buffer_), rec);
    if (rec == asio::error::would_block || rec == asio::error::try_again) {
      arm_read();
      return;
    }
    if (rec == asio::error::eof) {
      close(on_end_of_input());
      return;
    }
    if (rec) {
      close(normalize(rec));
      return;
    }
    bytes_in_ += n;
    const std::error_code perr = on_bytes(std::span<const std::uint8_t>(buffer_.data(), n), clock_type::now());
    if (closed_) return;
    if (perr) {
      close(perr);
      return;
    }
  }
  asio::post(io_, [this] { on_readable({}); });
}

void socket_connection::write() {
  if (waiting_writable_ || closed_ || out_.queued() == 0) return;
  std::uint64_t sent = 0;
  std::error_code ec;
  switch (net::write_queued(socket_, out_, {}, sent, ec)) {
    case net::write_state::drained: return;
    case net::write_state::failed: close(normalize(ec)); return;
    case net::write_state::blocked: break;
  }
  waiting_writable_ = true;
  socket_.async_wait(tcp::socket::wait_write, [this](std::error_code wec) {
    waiting_writable_ = false;
    if (closed_) return;
    if (wec) {
      close(normalize(wec));
      return;
    }
    write();
  });
}

// --- connection (RTMP) -----------------------------------------------------------------------

connection::connection(asio::io_context& io, std::vector<std::uint8_t>& read_buffer,
                       proto::client_session_config config)
    : socket_connection(io, read_buffer), session_(std::move(config)) {}

void connection::flush() {
  if (closed() || !session_.has_output()) return;
  std::vector<std::uint8_t> bytes;
  session_.take_output(bytes);
  send(proto::shared_bytes::adopt(std::move(bytes)));
}

std::error_code connection::on_bytes(std::span<const std::uint8_t> bytes, clock_type::time_point now) {
  const std::error_code perr = session_.on_bytes(bytes);
  proto::client_event ev;
  while (session_.next_event(ev)) {
    on_event(ev, now);
    if (closed()) return {};
  }
  if (perr) return perr;
  flush();
  return {};
}

}  // namespace rtmp::bench
