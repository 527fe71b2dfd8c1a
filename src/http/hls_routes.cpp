// HLS requests on the HTTP endpoint: /{app}/{stream}/index.m3u8 and its
// segments and parts (hls_manager answers them), under the same play rules
// as every player: address rules and play tokens for each request (a token
// in the playlist's URL is carried into its segment URLs), the on-play
// callback for the playlist. LL-HLS blocking playlist reloads
// (`_HLS_msn`, `_HLS_part`) and requests for the hinted next part are held
// on this connection's worker until the stream has what they ask for.

#include "http/http_flv_session.hpp"
#include "rtmp/hls/delivery_directives.hpp"
#include "rtmp/hub/hub.hpp"
#include "server/auth.hpp"
#include "server/server_impl.hpp"

namespace rtmp::net {

namespace {

// The answer to a held request that did not end ready.
http::response hold_refusal(hls_hold outcome) {
  switch (outcome) {
    case hls_hold::no_stream:
      return http::make_error(404, "no such HLS stream");
    case hls_hold::too_far:
      return http::make_error(400, "_HLS_msn/_HLS_part is too far ahead of the playlist");
    case hls_hold::busy: {
      auto r = http::make_error(503, "busy: too many playlist reloads held");
      r.headers.emplace_back("Retry-After", "1");
      return r;
    }
    case hls_hold::timed_out:
    case hls_hold::ready:
      break;
  }
  return http::make_error(503, "the stream did not reach the requested segment in time");
}

}  // namespace

asio::awaitable<http::response> server_impl::hls_response(asio::any_io_executor ex, const http::request& req,
                                                          const hls_target& target, const std::string& ip,
                                                          const std::string& endpoint) {
  const auto cfg = live.load();
  const std::string key = hub::stream_key(target.app, target.stream);
  auth_request r = http_play_request(target.app, target.stream, req.query, ip, endpoint, "hls");
  http::response response;
  // The callback for playlists only: a viewer asks for segments every few seconds.
  if (const int refused = co_await authorize_http_play(ex, cfg->auth, std::move(r), target.playlist)) {
    response = http::make_error(refused, "playing this stream needs authorization");
  } else {
    const hls::delivery_directives d = hls::parse_delivery_directives(req.query);
    const auto none_match = req.header("If-None-Match");
    hls_hold held = hls_hold::ready;
    if (target.playlist && !d.problem.empty()) {
      response = http::make_error(400, d.problem);
    } else {
      if (target.playlist && d.msn) {
        held = co_await hls.hold(key, *d.msn, d.part ? static_cast<std::int64_t>(*d.part) : -1, ex);
      } else if (target.kind == hls_target::file::part) {
        held = co_await hls.hold(key, target.sequence, target.part, ex);  // the preload hint's part
        if (held == hls_hold::too_far) held = hls_hold::ready;           // not there: 404 below
      }
      response = held == hls_hold::ready
                     ? hls.answer(target, key, d.carried_query, none_match ? std::string(*none_match) : std::string())
                     : hold_refusal(held);
    }
  }
  add_cors(response.headers, cfg->http_flv_cors);
  co_return response;
}

}  // namespace rtmp::net
