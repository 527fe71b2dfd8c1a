#pragma once
/// @file delivery_directives.hpp
/// The Low-Latency HLS delivery directives a playlist request's query may
/// carry (RFC 8216bis section 6.2.5): `_HLS_msn=M` and `_HLS_part=P` ask the
/// server to hold the request until the playlist has segment M (or its part
/// P); `_HLS_skip` asks for a delta update. Sans-I/O: a query string in, the
/// directives and the query to carry into segment URIs out.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rtmp::hls {

/// What a playlist request's query asks for.
struct delivery_directives {
  std::optional<std::uint64_t> msn;   ///< `_HLS_msn`: hold until segment `msn` is listed.
  std::optional<std::uint32_t> part;  ///< `_HLS_part`: ... or part `part` of it.
  /// Why the directives are invalid (the answer is 400, RFC 8216bis section
  /// 6.2.5.2); empty when they are valid or absent.
  std::string problem;
  /// The query without the `_HLS_` parameters, to carry into the segment
  /// and part URIs of the playlist (a play token): "" or "?k=v&...".
  std::string carried_query;
};

/// Reads the directives of `query` (without its '?'). `_HLS_msn` and
/// `_HLS_part` are decimal (at most 19 and 9 digits); `_HLS_part` without
/// `_HLS_msn`, a repeated or empty one, or another form is a problem.
/// `_HLS_skip` is accepted and ignored (no delta updates: the full playlist
/// is a valid answer). Other parameters are kept, in order, in
/// `carried_query`.
delivery_directives parse_delivery_directives(std::string_view query);

}  // namespace rtmp::hls
