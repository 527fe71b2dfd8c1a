#pragma once
// A small blocking RTMP client for in-process server tests. It speaks the
// real protocol over a real loopback socket (handshake, chunk stream, AMF0
// commands) using the project's sans-I/O machines; every wait has a deadline.

#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>
#include <poll.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "rtmp/proto/chunk_reader.hpp"
#include "rtmp/proto/chunk_writer.hpp"
#include "rtmp/proto/command.hpp"
#include "rtmp/proto/control_message.hpp"
#include "rtmp/proto/handshake.hpp"

namespace rtmp::test {

using namespace std::chrono_literals;

class test_client {
 public:
  explicit test_client(std::uint16_t port, bool do_handshake = true) : socket_(io_) {
    socket_.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    if (do_handshake) handshake();
  }

  // A client whose receive buffer is `receive_buffer` bytes from before the
  // connect, so the TCP window it advertises stays small (a slow player).
  test_client(std::uint16_t port, int receive_buffer) : socket_(io_) {
    socket_.open(asio::ip::tcp::v4());
    set_receive_buffer(receive_buffer);
    socket_.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    handshake();
  }

  asio::ip::tcp::socket& socket() { return socket_; }

  void set_receive_buffer(int bytes) {
    socket_.set_option(asio::socket_base::receive_buffer_size(bytes));
  }

  void handshake() {
    proto::client_handshake hs;
    send_raw(hs.pending_output());
    hs.output_sent(hs.pending_output().size());
    std::vector<std::uint8_t> buf(4096);
    while (!hs.done()) {
      const std::size_t n = read_some(buf, 5s);
      if (n == 0) throw std::runtime_error("handshake: no answer");
      std::size_t used = hs.consume(std::span<const std::uint8_t>(buf.data(), n));
      if (hs.error()) throw std::runtime_error("handshake: " + hs.error().message());
      const auto out = hs.pending_output();
      if (!out.empty()) {
        send_raw(out);
        hs.output_sent(out.size());
      }
      if (hs.done() && used < n) {
        if (reader_.feed(std::span<const std::uint8_t>(buf.data() + used, n - used))) {
          throw std::runtime_error("chunk error");
        }
      }
    }
  }

  void send_raw(std::span<const std::uint8_t> bytes) { asio::write(socket_, asio::buffer(bytes.data(), bytes.size())); }

  void send_message(std::uint32_t csid, const proto::message& m) {
    std::vector<std::uint8_t> wire;
    writer_.write(csid, m, wire);
    send_raw(wire);
  }

  void send_command(const proto::command& c, std::uint32_t msid = 0) {
    proto::message m;
    m.type = 20;
    m.stream_id = msid;
    m.payload = proto::shared_bytes::copy_of(proto::encode_command(c));
    send_message(3, m);
  }

  void send_media(std::uint8_t type, std::uint32_t ts, const std::vector<std::uint8_t>& payload,
                  std::uint32_t msid = 1) {
    proto::message m;
    m.type = type;
    m.timestamp = ts;
    m.stream_id = msid;
    m.payload = proto::shared_bytes::copy_of(payload);
    send_message(type == 8 ? 4 : type == 9 ? 6 : 5, m);
  }

  // Reads the next message, answering pings; nullopt on timeout or close.
  std::optional<proto::message> next(std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::vector<std::uint8_t> buf(65536);
    for (;;) {
      proto::message m;
      if (reader_.next(m)) {
        if (m.type == 4 && m.payload.size() >= 6 && m.payload[1] == 6) {
          send_message(2, proto::make_user_control(proto::user_control_event::ping_response,
                                                   (std::uint32_t{m.payload[2]} << 24) | (m.payload[3] << 16) |
                                                       (m.payload[4] << 8) | m.payload[5]));
        }
        return m;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left <= 0ms) return std::nullopt;
      const std::size_t n = read_some(buf, left);
      if (n == 0) return std::nullopt;
      if (reader_.feed(std::span<const std::uint8_t>(buf.data(), n))) return std::nullopt;
    }
  }

  // Reads until a command named `name` (or onStatus with a code) arrives.
  std::optional<proto::command> wait_command(const std::string& name, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto m = next(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()));
      if (!m) return std::nullopt;
      if (m->type != 20) {
        skipped.push_back(*m);
        continue;
      }
      auto r = proto::parse_command(m->payload.span());
      if (r.ok() && r.cmd.name == name) return r.cmd;
      if (r.ok()) seen_commands.push_back(r.cmd);
    }
    return std::nullopt;
  }

  // onStatus code of the next onStatus, or "" on timeout.
  std::string wait_status(std::chrono::milliseconds timeout = 5s) {
    auto c = wait_command("onStatus", timeout);
    if (!c) return "";
    auto info = proto::read_status(*c);
    return info ? info->code : "";
  }

  void connect(const std::string& app = "live") {
    proto::connect_params p;
    p.app = app;
    p.tc_url = "rtmp://127.0.0.1/" + app;
    send_command(proto::connect_command(1, p));
    auto r = wait_command("_result");
    if (!r) throw std::runtime_error("connect: no _result");
  }

  std::uint32_t create_stream() {
    send_command(proto::create_stream_command(2));
    auto r = wait_command("_result");
    if (!r) throw std::runtime_error("createStream: no _result");
    return static_cast<std::uint32_t>(proto::number_argument(*r, 0).value_or(0));
  }

  // connect + createStream + publish; returns the onStatus code.
  std::string publish(const std::string& name, const std::string& app = "live") {
    connect(app);
    const auto id = create_stream();
    send_command(proto::publish_command(3, name), id);
    return wait_status();
  }

  // connect + createStream + play; returns the first onStatus code after Play.Reset.
  std::string play(const std::string& name, const std::string& app = "live") {
    connect(app);
    const auto id = create_stream();
    send_command(proto::play_command(3, name), id);
    std::string code = wait_status();
    if (code == "NetStream.Play.Reset") code = wait_status();
    return code;
  }

  // True when the server closed the connection (EOF) within `timeout`.
  bool closed_by_peer(std::chrono::milliseconds timeout) {
    std::vector<std::uint8_t> buf(65536);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd p{socket_.native_handle(), POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(std::max<long>(1, left.count()))) <= 0) continue;
      std::error_code ec;
      const std::size_t n = socket_.read_some(asio::buffer(buf), ec);
      if (ec || n == 0) return true;
    }
    return false;
  }

  std::vector<proto::message> skipped;          // non-command messages seen while waiting for commands
  std::vector<proto::command> seen_commands;    // commands seen while waiting for another

 private:
  // Reads what is available within `timeout`; 0 on timeout, EOF or error.
  std::size_t read_some(std::vector<std::uint8_t>& buf, std::chrono::milliseconds timeout) {
    pollfd p{socket_.native_handle(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(std::max<long>(1, timeout.count()))) <= 0) return 0;
    std::error_code ec;
    const std::size_t n = socket_.read_some(asio::buffer(buf), ec);
    return ec ? 0 : n;
  }

  asio::io_context io_;
  asio::ip::tcp::socket socket_;
  proto::chunk_reader reader_;
  proto::chunk_writer writer_;
};

/// A test_client with TCP_NODELAY: without it, two small writes in a row (C2
/// then a command) wait for a delayed ACK (40 ms per connection).
class quick_client : public test_client {
 public:
  /// Connects to 127.0.0.1:`port` and, unless `do_handshake` is false, shakes hands.
  explicit quick_client(std::uint16_t port, bool do_handshake = true) : test_client(port, false) {
    socket().set_option(asio::ip::tcp::no_delay(true));
    if (do_handshake) handshake();
  }

  /// Closes with SO_LINGER 0 when destroyed: the server gets a RST.
  void reset_on_close() { socket().set_option(asio::socket_base::linger(true, 0)); }
};

}  // namespace rtmp::test
