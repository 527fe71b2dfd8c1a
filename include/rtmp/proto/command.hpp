#pragma once
/// @file command.hpp
/// RTMP command messages (RTMP 1.0 section 7.1.1 and 7.2) and the AMF0 data
/// messages around them (section 7.1.2), sans-I/O.
///
/// A command is AMF0-encoded as: command name (String), transaction id
/// (Number), command object (Object or Null), then optional arguments.
/// Message type 20 carries it directly; type 17 (AMF3 command) carries a 0x00
/// format byte and then the same AMF0 values.
///
/// Builders are plain functions that return a `command` (encode it with
/// `encode_command`) or, for data messages (type 18), ready payload bytes.
/// Nothing here throws except `std::bad_alloc`.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "rtmp/error.hpp"
#include "rtmp/proto/amf0_codec.hpp"
#include "rtmp/proto/amf0_value.hpp"
#include "rtmp/proto/message.hpp"

namespace rtmp::proto {

/// One decoded or to-be-encoded command message.
struct command {
  std::string name;                    ///< e.g. "connect", "publish", "_result".
  double transaction_id = 0;           ///< 0 when absent or null on the wire.
  amf0::value command_object;          ///< Usually an Object or Null; Null when absent.
  std::vector<amf0::value> arguments;  ///< The values after the command object.

  /// Argument `i`, or nullptr when there are fewer arguments.
  const amf0::value* argument(std::size_t i) const noexcept {
    return i < arguments.size() ? &arguments[i] : nullptr;
  }
};

/// Result of `parse_command`.
struct command_parse_result {
  command cmd;             ///< The command; meaningful only when `ok()`.
  std::error_code ec;      ///< Empty on success.
  std::size_t offset = 0;  ///< Failure: byte offset in the payload. Success: payload size.

  /// True on success.
  bool ok() const noexcept { return !ec; }
};

/// Parses a command message payload. Borrows `payload` for the call only.
///
/// `amf3_message` is true for message type 17: a leading 0x00 format byte is
/// skipped (if present) and the rest is decoded as AMF0; an AVM+ switch
/// inside fails with `errc::amf_unsupported_amf3`.
///
/// Tolerant by design (HOSTILE T-27): a missing, null or undefined transaction
/// id is 0; the command object may be missing (Null), null, undefined or of
/// any other type (kept as is); extra arguments are kept.
///
/// Errors: any AMF0 decode error (with its offset) for the whole payload;
/// `errc::amf_unexpected_type` when the name is not a String or the
/// transaction id is neither a Number nor null/undefined.
command_parse_result parse_command(std::span<const std::uint8_t> payload, bool amf3_message = false,
                                   const amf0::decode_limits& limits = amf0::command_limits());

/// Appends the AMF0 encoding (type 20 body) of `c` to `out`. Errors as
/// `amf0::encode` (on error `out` keeps its original size).
std::error_code encode_command(const command& c, std::vector<std::uint8_t>& out);

/// Returns the AMF0 encoding of `c`; an empty vector if it cannot be encoded
/// (only possible for keys over 65535 bytes or strings over 4 GiB).
std::vector<std::uint8_t> encode_command(const command& c);

/// `c` as an AMF0 command message (type 20) on message stream `stream_id`,
/// encoded through `scratch` (cleared first) and copied once into the
/// message's shared payload. Errors as `encode_command`; `out` is then
/// unchanged.
std::error_code make_command_message(const command& c, std::uint32_t stream_id, std::vector<std::uint8_t>& scratch,
                                     message& out);

// --- reading commands ---------------------------------------------------------

/// Argument `i` as a string, or nullopt when absent or not a String. The view
/// is valid while `c` is unchanged.
std::optional<std::string_view> string_argument(const command& c, std::size_t i) noexcept;

/// Argument `i` as a number, or nullopt when absent or not a Number.
std::optional<double> number_argument(const command& c, std::size_t i) noexcept;

/// The level/code/description of an onStatus, _result or _error information
/// object, plus the optional details/clientid that some servers add.
struct status_info {
  std::string level;        ///< "status", "warning" or "error".
  std::string code;         ///< e.g. "NetStream.Publish.Start".
  std::string description;  ///< Human-readable text.
  std::string details;      ///< Optional ("details"); omitted from encoding when empty.
  amf0::value client_id = amf0::undefined;  ///< Optional ("clientid"); omitted when undefined.
};

/// Reads the information object of an onStatus / _result / _error command:
/// the first Object/ECMA Array argument, else the command object when it is
/// one. Missing or non-string fields read as empty. Returns nullopt when there
/// is no such object.
std::optional<status_info> read_status(const command& c);

/// What a server needs from a client's `connect` command object.
struct connect_request {
  std::string app;          ///< "app" (required).
  std::string tc_url;       ///< "tcUrl".
  std::string flash_ver;    ///< "flashVer".
  std::string swf_url;      ///< "swfUrl".
  std::string page_url;     ///< "pageUrl".
  std::string type;         ///< "type" (e.g. "nonprivate").
  double object_encoding = 0;  ///< "objectEncoding": 3 only when the client sent 3, else 0.
};

/// Reads a `connect` command (RTMP 1.0 section 7.2.1.1). Optional fields of
/// the wrong type read as empty. Errors: `errc::command_malformed` when the
/// command object has no properties or "app" is missing or not a String.
std::error_code read_connect(const command& c, connect_request& out);

/// What a server needs from `publish` (RTMP 1.0 section 7.2.2.6).
struct publish_request {
  std::string stream_name;     ///< Publishing name (may carry "?query").
  std::string type = "live";   ///< "live", "record" or "append"; "live" when absent or not a String.
};

/// Reads a `publish` command. Errors: `errc::command_malformed` when the first
/// argument is missing or not a String (e.g. `publish(false)`).
std::error_code read_publish(const command& c, publish_request& out);

/// What a server needs from `play` (RTMP 1.0 section 7.2.2.1).
struct play_request {
  std::string stream_name;  ///< Stream name (may carry "?query").
  double start = -2;        ///< -2 live or recorded, -1 live only, >= 0 recorded from there.
  double duration = -1;     ///< -1 until the end.
  bool reset = true;        ///< Flush previous playlists.
};

/// Reads a `play` command; optional fields of the wrong type keep their
/// defaults. Errors: `errc::command_malformed` when the first argument is
/// missing or not a String (e.g. `play(123)`).
std::error_code read_play(const command& c, play_request& out);

// --- what a server sends --------------------------------------------------------

/// "fmsVer" that servers commonly advertise (what clients expect to see).
inline constexpr std::string_view default_fms_version = "FMS/3,0,1,123";

/// `_result` answering connect: properties {fmsVer "FMS/3,0,1,123",
/// capabilities 31, mode 1} and information {level "status", code
/// "NetConnection.Connect.Success", description "Connection succeeded.",
/// objectEncoding} where objectEncoding echoes the client's 3, else 0.
command connect_result(double transaction_id, double object_encoding = 0);

/// `_result` answering createStream: null command object, the stream id.
command create_stream_result(double transaction_id, double stream_id);

/// `_error` with information {level "error", code, description}.
command error_result(double transaction_id, std::string_view code, std::string_view description);

/// The information object {level, code, description[, details][, clientid]}.
amf0::object status_object(const status_info& info);

/// `onStatus` (transaction 0, null command object, `status_object(info)`).
/// Sent on the message stream the status is about (RTMP 1.0 section 7.2.2).
command on_status(const status_info& info);

/// `onStatus` from its three usual fields.
command on_status(std::string_view level, std::string_view code, std::string_view description);

/// `onFCPublish` (transaction 0, null, {code, description}), e.g.
/// code "NetStream.Publish.Start" and the stream name as description.
command on_fc_publish(std::string_view code, std::string_view description);

/// `onFCUnpublish` (transaction 0, null, {code, description}).
command on_fc_unpublish(std::string_view code, std::string_view description);

/// `onBWDone` (transaction 0, null, no arguments): tells Flash-era clients
/// that the bandwidth check is over.
command on_bw_done();

// --- data messages (type 18) ----------------------------------------------------

/// Payload of the `|RtmpSampleAccess` data message (two Booleans: audio and
/// video sample access), sent before stream data to players.
std::vector<std::uint8_t> sample_access_message(bool audio = true, bool video = true);

/// Decodes a type-18 data message payload into its list of values (`out` is
/// cleared first). Errors as `amf0::decode_all`.
amf0::decode_result parse_data_message(std::span<const std::uint8_t> payload,
                                       std::vector<amf0::value>& out,
                                       const amf0::decode_limits& limits = amf0::metadata_limits());

/// Result of `strip_set_data_frame`.
struct set_data_frame_result {
  std::error_code ec;                ///< Empty on success.
  std::size_t offset = 0;            ///< Failure: byte offset in the input.
  bool wrapped = false;              ///< True when an @setDataFrame wrapper was removed.
  std::vector<amf0::value> values;   ///< The values, starting at the handler name ("onMetaData").
  std::vector<std::uint8_t> payload; ///< `values` re-encoded: what a server stores and relays.

  /// True on success.
  bool ok() const noexcept { return !ec; }
};

/// Unwraps what a publisher sends as `@setDataFrame("onMetaData", {...})`
/// into the `onMetaData({...})` payload that players expect. Up to two
/// leading Numbers before "@setDataFrame" are skipped (some encoders send
/// them; HOSTILE T-27). Input without the wrapper is returned re-encoded
/// unchanged (`wrapped` false). Borrows `payload` for the call only.
///
/// Errors: AMF0 decode errors; `errc::command_malformed` when nothing or a
/// non-String follows "@setDataFrame"; encode errors (not expected).
set_data_frame_result strip_set_data_frame(std::span<const std::uint8_t> payload,
                                           const amf0::decode_limits& limits = amf0::metadata_limits());

/// Payload `"onMetaData", metadata` (metadata usually an ECMA Array). Empty
/// on encoding failure (keys over 65535 bytes).
std::vector<std::uint8_t> on_metadata_message(const amf0::value& metadata);

/// Payload `"@setDataFrame", "onMetaData", metadata` as a publisher sends it.
/// Empty on encoding failure.
std::vector<std::uint8_t> set_data_frame_message(const amf0::value& metadata);

// --- what a client sends ----------------------------------------------------------

/// Parameters of a client's `connect` (RTMP 1.0 section 7.2.1.1).
struct connect_params {
  std::string app;  ///< Application name, e.g. "live".
  std::string tc_url;  ///< e.g. "rtmp://host:1935/live".
  std::string flash_ver = "FMLE/3.0 (compatible; rtmp-client)";  ///< Client version string.
  std::string swf_url;   ///< Omitted when empty.
  std::string page_url;  ///< Omitted when empty.
  double object_encoding = 0;  ///< 0 = AMF0.
};

/// `connect` with command object {app, type "nonprivate", flashVer,
/// [swfUrl], tcUrl, fpad false, capabilities 15, audioCodecs 4071,
/// videoCodecs 252, videoFunction 1, [pageUrl], objectEncoding}.
command connect_command(double transaction_id, const connect_params& params);

/// `releaseStream(name)` (null command object), as FMLE/ffmpeg send before publishing.
command release_stream_command(double transaction_id, std::string_view stream_name);

/// `FCPublish(name)`.
command fc_publish_command(double transaction_id, std::string_view stream_name);

/// `FCUnpublish(name)`.
command fc_unpublish_command(double transaction_id, std::string_view stream_name);

/// `createStream()` (RTMP 1.0 section 7.2.1.3).
command create_stream_command(double transaction_id);

/// `publish(name, type)` (section 7.2.2.6); send on the created message stream.
command publish_command(double transaction_id, std::string_view stream_name,
                        std::string_view type = "live");

/// `play(name, start)` (section 7.2.2.1); send on the created message stream.
command play_command(double transaction_id, std::string_view stream_name, double start = -2000);

/// `deleteStream(stream_id)` (section 7.2.2.3).
command delete_stream_command(double transaction_id, double stream_id);

/// `closeStream()`; send on the message stream to close.
command close_stream_command(double transaction_id = 0);

/// `getStreamLength(name)`, as ffmpeg sends before play.
command get_stream_length_command(double transaction_id, std::string_view stream_name);

}  // namespace rtmp::proto
