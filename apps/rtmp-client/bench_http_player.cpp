// The HTTP-FLV player of `rtmp-client bench` (see bench_http_player.hpp).
#include "bench_http_player.hpp"

#include "bench_names.hpp"
#include "rtmp/error.hpp"

namespace rtmp::bench {

http_flv_player::http_flv_player(player_thread& thread, const http_flv_site& site, std::chrono::milliseconds timeout)
    : socket_connection(thread.io, thread.read_buffer), player(thread, timeout), site_(site) {}

void http_flv_player::begin(const std::string& stream, const tcp::endpoint& endpoint) {
  note_started();
  const std::string request = http_flv_request(site_.host, site_.app, stream);
  send(proto::shared_bytes::copy_of(
      std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(request.data()), request.size())));
  start(endpoint);
}

std::error_code http_flv_player::on_bytes(std::span<const std::uint8_t> bytes, clock_type::time_point now) {
  const std::error_code ec = reader_.feed(bytes);
  if (reader_.head_complete() && reader_.status() == 200) note_playing(now);
  proto::flv_tag tag;
  while (reader_.next(tag)) note_media(tag.type, tag.payload.span(), now);
  if (ec) return ec;
  if (reader_.body_complete()) {
    note_stream_end();
    return http_flv_errc::body_ended;
  }
  return {};
}

std::error_code http_flv_player::on_end_of_input() {
  if (!reader_.ended_cleanly()) return errc::peer_closed;
  note_stream_end();
  return http_flv_errc::body_ended;
}

}  // namespace rtmp::bench
