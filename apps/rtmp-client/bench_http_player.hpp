#pragma once
/// @file bench_http_player.hpp
/// The HTTP-FLV player of `rtmp-client bench` (`--http-flv PORT`): one GET
/// of /APP/STREAM.flv, its response read by http_flv_reader, every FLV tag
/// counted as an RTMP player counts a media message.

#include <chrono>
#include <cstdint>
#include <string>
#include <system_error>

#include "bench_clock.hpp"
#include "bench_connection.hpp"
#include "bench_http_flv.hpp"
#include "bench_player.hpp"

namespace rtmp::bench {

/// Where HTTP-FLV players play from: the Host header and the application.
struct http_flv_site {
  std::string host;  ///< The Host header's value ("127.0.0.1:8080").
  std::string app;   ///< The application, the first part of the path.
};

/// A player over HTTP-FLV: it plays once the response's 200 head came (a
/// status other than 200 fails it with "HTTP status N"), and its stream
/// ends with the body (the server ends it when the publisher leaves): the
/// player then closes with http_flv_errc::body_ended.
class http_flv_player final : public socket_connection, public player {
 public:
  /// A player on `thread` of the streams at `site` (which must outlive it)
  /// whose response head must come within `timeout`.
  http_flv_player(player_thread& thread, const http_flv_site& site, std::chrono::milliseconds timeout);

  /// Sends the GET of `stream` and connects to `endpoint` (the HTTP port).
  void begin(const std::string& stream, const tcp::endpoint& endpoint) override;
  void end(std::error_code why) override { close(why); }
  bool ended() const override { return closed(); }
  std::error_code failure() const override { return error(); }
  std::uint64_t wire_bytes() const override { return bytes_received(); }

 protected:
  /// Reads the response: notes the start at the 200 head, counts every tag,
  /// ends at the end of the body.
  std::error_code on_bytes(std::span<const std::uint8_t> bytes, clock_type::time_point now) override;
  /// The server closed: the end of an until-close body, or a cut.
  std::error_code on_end_of_input() override;
  /// Notes the end, and the failure when the player never played.
  void on_close(clock_type::time_point now) override { note_closed(now); }

 private:
  const http_flv_site& site_;
  http_flv_reader reader_;
};

}  // namespace rtmp::bench
