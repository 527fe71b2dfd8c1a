// HLS requests on the HTTP endpoint: /{app}/{stream}/index.m3u8 and its
// segments (hls_manager answers them), under the same play rules as every
// player: address rules and play tokens for each request (a token in the
// playlist's URL is carried into its segment URLs), the on-play callback
// for the playlist.

#include "http/http_flv_session.hpp"
#include "rtmp/hub/hub.hpp"
#include "server/auth.hpp"
#include "server/server_impl.hpp"

namespace rtmp::net {

asio::awaitable<http::response> server_impl::hls_response(asio::any_io_executor ex, const http::request& req,
                                                          const hls_target& target, const std::string& ip,
                                                          const std::string& endpoint) {
  const auto cfg = live.load();
  auth_request r = http_play_request(target.app, target.stream, req.query, ip, endpoint, "hls");
  http::response response;
  // The callback for playlists only: a viewer asks for segments every few seconds.
  if (const int refused = co_await authorize_http_play(std::move(ex), cfg->auth, std::move(r), target.playlist)) {
    response = http::make_error(refused, "playing this stream needs authorization");
  } else {
    const auto none_match = req.header("If-None-Match");
    response = hls.answer(target, hub::stream_key(target.app, target.stream), req.query.empty() ? "" : "?" + req.query,
                          none_match ? std::string(*none_match) : std::string());
  }
  add_cors(response.headers, cfg->http_flv_cors);
  co_return response;
}

}  // namespace rtmp::net
