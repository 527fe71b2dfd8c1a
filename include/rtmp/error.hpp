#pragma once
/// @file error.hpp
/// The project's error codes: one `std::error_category` for every failure the
/// protocol core, the sessions and the tools report, plus a few error
/// *conditions* that let a session decide "log and close" without listing
/// individual codes.

#include <string>
#include <system_error>
#include <type_traits>

namespace rtmp {

/// Every error the library reports. Values are stable (they appear in logs and
/// metrics); add new ones at the end of their group.
enum class errc {
  ok = 0,

  // --- AMF0 decoding / encoding (1xx) -------------------------------------
  amf_truncated = 100,         ///< A value ended before its declared size.
  amf_unknown_marker,          ///< A type marker that AMF0 does not define.
  amf_depth_exceeded,          ///< Nesting deeper than the configured limit.
  amf_too_many_nodes,          ///< More values than the configured node budget.
  amf_string_too_long,         ///< A string longer than the configured limit.
  amf_count_exceeds_bytes,     ///< A declared element count larger than the bytes left could hold.
  amf_unsupported_amf3,        ///< The AVM+ (AMF3) switch marker where AMF0 is required.
  amf_bad_reference,           ///< A Reference (0x07) to an object that was not decoded yet.
  amf_unexpected_type,         ///< A value of the wrong type for where it appears (e.g. a command name that is not a string).
  amf_missing_object_end,      ///< An object's property list did not end with the 00 00 09 terminator.

  // --- Handshake (2xx) ---------------------------------------------------
  handshake_unsupported_version = 200,  ///< C0/S0 is not 3 (e.g. 6 = RTMPE, or garbage).
  handshake_bad_echo,                   ///< S2 did not echo C1 (client side, strict mode only).
  handshake_state,                      ///< An operation that the handshake's current phase does not allow.

  // --- Chunk stream (3xx) ------------------------------------------------
  chunk_no_previous_header = 300,  ///< fmt 1/2/3 where the chunk stream has no header to reuse (fmt 3 only, by default).
  chunk_size_invalid,              ///< Set Chunk Size of 0 or with the top bit set (RTMP 5.4.1: 31-bit field, >= 1).
  chunk_size_below_floor,          ///< Set Chunk Size below the configured minimum (CPU amplification guard).
  message_too_large,               ///< A declared message length above the configured maximum for its type.
  message_length_changed,          ///< A new header changed the length of a message that is half received.
  partial_bytes_exceeded,          ///< Partially assembled messages would hold more than the per-connection budget.
  too_many_chunk_streams,          ///< More chunk streams with partial messages than the per-connection limit.
  control_message_malformed,       ///< A protocol control message (types 1-6) with a payload of the wrong size.
  aggregate_malformed,             ///< An aggregate message (type 22) whose sub-message headers do not fit.
  message_interrupted,             ///< A fmt 0 header started a new message on a chunk stream while one was partial.

  // --- Session / command layer (4xx) ---------------------------------------
  command_malformed = 400,  ///< A command message whose name or arguments are not usable.
  command_out_of_order,     ///< A command that the session's state does not allow (e.g. publish before connect).
  stream_id_exhausted,      ///< createStream called more often than the per-connection limit.
  stream_name_invalid,      ///< An app or stream name outside the allowed alphabet or length.
  stream_busy,              ///< publish on a key that is already being published.
  unauthorized,             ///< The request was refused by policy.
  connect_rejected,         ///< The peer answered connect with _error / NetConnection.Connect.Rejected.
  publish_rejected,         ///< The peer refused publish (e.g. NetStream.Publish.BadName).
  play_rejected,            ///< The peer refused play (e.g. NetStream.Play.StreamNotFound).
  url_malformed,            ///< An rtmp:// URL that cannot be parsed.
  too_many_commands,        ///< The peer sent more commands than allowed before a stream started (e.g. an endless onStatus flood).

  // --- Transport / lifetime (5xx) --------------------------------------------
  peer_closed = 500,   ///< The peer closed the connection.
  timeout,             ///< A deadline (handshake, negotiation, idle, pong) passed.
  queue_overflow,      ///< A subscriber's outbound queue exceeded its bound (policy: disconnect).
  shutting_down,       ///< The server is shutting down.
  flv_malformed,       ///< An FLV file or stream that is not valid FLV.
  flv_truncated,       ///< An FLV stream that ended inside a tag.
  flv_encrypted,       ///< An FLV tag with the Filter bit set (encrypted/pre-processed body), which is not supported.
  flv_tag_too_large,   ///< An FLV tag whose DataSize exceeds the configured (or the 24-bit) maximum.

  // --- HTTP operator endpoint (6xx); rtmp::http::request_parser ---------------
  // Each maps to the HTTP status the server answers with (in parentheses).
  http_malformed = 600,          ///< A request that breaks HTTP/1.1 syntax or framing rules (400).
  http_body_too_large,           ///< A Content-Length above the configured body limit (413).
  http_uri_too_long,             ///< A request line longer than the configured limit (414).
  http_headers_too_large,        ///< A header section over the configured byte or field count limit (431).
  http_transfer_coding_unsupported,  ///< A Transfer-Encoding (e.g. chunked) request body, which is not supported (501).
  http_version_unsupported,      ///< An HTTP version other than 1.0 and 1.1 (505).
};

/// Broad classes of `errc` values. Compare an `std::error_code` against one of
/// these (`ec == rtmp::condition::protocol_violation`) to decide how to react.
enum class condition {
  protocol_violation = 1,  ///< The peer sent bytes that break the protocol: close with a log line.
  resource_limit,          ///< The peer asked for more than a configured limit allows: close with a log line.
  peer_closed,             ///< The peer went away: close quietly.
  timeout,                 ///< A deadline passed: close with a log line.
};

/// The category of `rtmp::errc` values (name "rtmp").
const std::error_category& rtmp_category() noexcept;

/// The category of `rtmp::condition` values (name "rtmp-condition").
const std::error_category& rtmp_condition_category() noexcept;

/// Makes an `std::error_code` from an `errc` (found by ADL).
inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), rtmp_category()};
}

/// Makes an `std::error_condition` from a `condition` (found by ADL).
inline std::error_condition make_error_condition(condition c) noexcept {
  return {static_cast<int>(c), rtmp_condition_category()};
}

}  // namespace rtmp

template <>
struct std::is_error_code_enum<rtmp::errc> : std::true_type {};

template <>
struct std::is_error_condition_enum<rtmp::condition> : std::true_type {};
