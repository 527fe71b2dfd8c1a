// The socket side of a bench connection (see bench_connection.hpp): connect,
// edge-triggered reads into the thread's buffer, queued non-blocking writes,
// the same over TLS; and the RTMP connection that puts a client_session on it.
#include "bench_connection.hpp"

#include <asio/post.hpp>

#include <algorithm>
#include <utility>

#include "bench_tls.hpp"
#include "rtmp/error.hpp"
#include "net/socket_writer.hpp"

namespace rtmp::bench {

namespace {

// Socket reads per connection before it yields to the others on its thread.
constexpr int max_reads_per_turn = 8;

// Plaintext per TLS write: a full record (RFC 8446 section 5.1: at most 2^14
// bytes), so small queued blocks share a record and a large one is not copied.
constexpr std::size_t tls_write_bytes = 16 * 1024;

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

// Out of line: tls_session is complete here only.
socket_connection::~socket_connection() = default;

void socket_connection::enable_tls(const tls_client_config& config) { tls_ = std::make_unique<tls_session>(config); }

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
    if (!tls_) {
      on_up();
      return;
    }
    if (const std::error_code aec = tls_->attach(socket_.native_handle())) {
      close(aec);
      return;
    }
    handshake();
  });
}

void socket_connection::on_up() {
  up_ = true;
  write();  // what was sent before the connection was up
  on_connected();
  if (!closed_) arm_read();
}

void socket_connection::handshake() {
  const tls_step step = tls_->handshake();
  switch (step.want) {
    case tls_want::nothing:
      on_up();
      return;
    case tls_want::read:
    case tls_want::write:
      socket_.async_wait(step.want == tls_want::read ? tcp::socket::wait_read : tcp::socket::wait_write,
                         [this](std::error_code ec) {
                           if (closed_) return;
                           if (ec) {
                             close(normalize(ec));
                             return;
                           }
                           handshake();
                         });
      return;
    case tls_want::closed:
    case tls_want::failed:
      end_tls(step);
      return;
  }
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
  if (up_) write();
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
  if (tls_) {
    read_tls();
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

void socket_connection::read_tls() {
  for (int reads = 0; reads < max_reads_per_turn; ++reads) {
    const tls_step step = tls_->read(std::span<std::uint8_t>(buffer_.data(), buffer_.size()));
    bytes_in_ = tls_->wire_bytes_read();
    if (step.bytes > 0) {
      const std::error_code perr =
          on_bytes(std::span<const std::uint8_t>(buffer_.data(), step.bytes), clock_type::now());
      if (closed_) return;
      if (perr) {
        close(perr);
        return;
      }
    }
    switch (step.want) {
      case tls_want::nothing:
        continue;  // the buffer filled up: there may be more
      case tls_want::read:
        arm_read();
        if (tls_write_wants_read_) {
          tls_write_wants_read_ = false;
          write();
        }
        return;
      case tls_want::write:
        // OpenSSL has to send before it reads on (a key update): readable
        // again once the socket takes bytes.
        socket_.async_wait(tcp::socket::wait_write, [this](std::error_code wec) { on_readable(wec); });
        return;
      case tls_want::closed:
      case tls_want::failed:
        end_tls(step);
        return;
    }
  }
  asio::post(io_, [this] { on_readable({}); });
}

void socket_connection::write() {
  if (waiting_writable_ || closed_ || out_.queued() == 0) return;
  if (tls_) {
    write_tls();
    return;
  }
  std::uint64_t sent = 0;
  std::error_code ec;
  switch (net::write_queued(socket_, out_, {}, sent, ec)) {
    case net::write_state::drained: return;
    case net::write_state::failed: close(normalize(ec)); return;
    case net::write_state::blocked: break;
  }
  wait_writable();
}

void socket_connection::write_tls() {
  // One gather list and one record's buffer per thread: a write is
  // synchronous, so every connection of the thread shares them.
  thread_local std::vector<asio::const_buffer> pieces;
  thread_local std::vector<std::uint8_t> record;
  while (!out_.empty() && !tls_write_wants_read_) {
    pieces.clear();
    out_.gather(pieces, {.max_buffers = net::max_write_buffers, .max_bytes = tls_write_bytes});
    std::span<const std::uint8_t> bytes(static_cast<const std::uint8_t*>(pieces.front().data()),
                                        pieces.front().size());
    if (pieces.size() > 1) {
      // Small blocks: one record of them. A retry after `write` gathers the
      // same front again (perhaps with more after it), as OpenSSL requires.
      record.clear();
      for (const auto& piece : pieces) {
        const std::size_t take = std::min(piece.size(), tls_write_bytes - record.size());
        const auto* from = static_cast<const std::uint8_t*>(piece.data());
        record.insert(record.end(), from, from + take);
        if (record.size() == tls_write_bytes) break;
      }
      bytes = std::span<const std::uint8_t>(record.data(), record.size());
    }
    pieces.clear();
    const tls_step step = tls_->write(bytes);
    out_.consume(step.bytes);
    switch (step.want) {
      case tls_want::nothing:
        continue;
      case tls_want::write:
        wait_writable();
        return;
      case tls_want::read:
        tls_write_wants_read_ = true;  // read_tls writes again once it has read
        return;
      case tls_want::closed:
      case tls_want::failed:
        end_tls(step);
        return;
    }
  }
}

void socket_connection::end_tls(const tls_step& step) {
  close(step.want == tls_want::closed ? on_end_of_input() : normalize(step.ec));
}

void socket_connection::wait_writable() {
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
