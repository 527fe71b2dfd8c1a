// The socket side of a bench connection (see bench_connection.hpp): connect,
// edge-triggered reads into the thread's buffer, queued non-blocking writes.
#include "bench_connection.hpp"

#include <asio/post.hpp>

#include <span>
#include <utility>

#include "rtmp/error.hpp"
#include "net/socket_writer.hpp"

namespace rtmp::bench {

namespace {

// Socket reads per connection before it yields to the others on its thread.
constexpr int max_reads_per_turn = 8;

// EOF and resets mean the same here: the server went away.
std::error_code normalize(std::error_code ec) {
  if (ec == asio::error::eof || ec == asio::error::connection_reset || ec == asio::error::broken_pipe) {
    return errc::peer_closed;
  }
  return ec;
}

}  // namespace

connection::connection(asio::io_context& io, std::vector<std::uint8_t>& read_buffer,
                       proto::client_session_config config)
    : io_(io), buffer_(read_buffer), socket_(io), session_(std::move(config)) {}

void connection::start(const tcp::endpoint& endpoint) {
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
    flush();  // C0C1, and whatever was requested before (play / publish)
    arm_read();
  });
}

void connection::close(std::error_code why) {
  if (closed_) return;
  closed_ = true;
  error_ = why;
  std::error_code ignored;
  socket_.close(ignored);
  out_.clear();
  on_close(clock_type::now());
}

void connection::flush() {
  if (closed_ || !tcp_connected_ || !session_.has_output()) return;
  std::vector<std::uint8_t> bytes;
  session_.take_output(bytes);
  out_.push(proto::shared_bytes::adopt(std::move(bytes)), net::byte_class::media);
  write();
}

void connection::arm_read() {
  socket_.async_wait(tcp::socket::wait_read, [this](std::error_code ec) { on_readable(ec); });
}

void connection::on_readable(std::error_code ec) {
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
    if (rec) {
      close(normalize(rec));
      return;
    }
    bytes_in_ += n;
    const std::error_code perr = session_.on_bytes(std::span<const std::uint8_t>(buffer_.data(), n));
    const auto now = clock_type::now();
    proto::client_event ev;
    while (session_.next_event(ev)) {
      on_event(ev, now);
      if (closed_) return;
    }
    if (perr) {
      close(perr);
      return;
    }
    flush();
  }
  asio::post(io_, [this] { on_readable({}); });
}

void connection::write() {
  if (waiting_writable_ || closed_) return;
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

}  // namespace rtmp::bench
