#pragma once
/// @file bench_names.hpp
/// Names and requests of a `rtmp-client bench` run, without I/O: the
/// stream names of a run of several streams, the stream each player plays,
/// and the HTTP request of an HTTP-FLV player.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace rtmp::bench {

/// The name of stream `index` (0-based) of a run of `count` streams whose
/// URL names `base`: `base` itself when `count` is 1 (so that a single
/// stream keeps the URL's name), otherwise `base` with "-index" appended,
/// before any "?query" ("cam?token=t", 3 streams: "cam-0?token=t" ..
/// "cam-2?token=t"; the query goes with every stream).
std::string stream_name(std::string_view base, std::size_t count, std::size_t index);

/// The stream (0-based) that player `player` (0-based, in start order)
/// plays among `streams`: round-robin, so the players spread evenly and
/// every stream has a player as soon as there are as many players.
constexpr std::size_t stream_of_player(std::size_t player, std::size_t streams) noexcept {
  return streams == 0 ? 0 : player % streams;
}

/// The value of a Host header for `host` (an IPv6 literal when
/// `ipv6_literal`, then written in brackets) and `port`.
std::string host_header(std::string_view host, bool ipv6_literal, std::uint16_t port);

/// The request target of the HTTP-FLV play of `stream` (a name, with its
/// "?query" if any) of `app`: "/app/stream.flv?query", path bytes that are
/// not URI path characters percent-encoded, the query as given.
std::string http_flv_target(std::string_view app, std::string_view stream);

/// The whole request (an HTTP/1.1 GET with `Connection: close`) of the
/// HTTP-FLV play of `stream` of `app` from the server at `host` (a Host
/// header value, see host_header).
std::string http_flv_request(std::string_view host, std::string_view app, std::string_view stream);

}  // namespace rtmp::bench
