#pragma once
/// @file client_session.hpp
/// The client side of one RTMP connection as a sans-I/O state machine, the
/// mirror of `server_session`: handshake, chunk stream, control messages and
/// the NetConnection / NetStream command flow of a publisher or a player
/// (RTMP 1.0 sections 5-7). Bytes go in; bytes to send and events come out.
///
/// Flow (what goes on the wire, in order):
///   handshake (C0C1 queued at construction) -> connect(app, tcUrl) ->
///   _result NetConnection.Connect.Success -> Set Chunk Size (ours) ->
///   publish: releaseStream, FCPublish, createStream -> _result id ->
///            publish(name, type) -> onStatus NetStream.Publish.Start
///   play:    createStream -> _result id -> play(name, start) + Set Buffer
///            Length -> onStatus NetStream.Play.Start
///   then media both ways, and `finish()`: FCUnpublish + deleteStream
///   (publish) or deleteStream (play).
///
/// The session never blocks and never measures time: the caller (net layer)
/// owns every deadline, including "the server never answers connect".

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "rtmp/proto/amf0_codec.hpp"
#include "rtmp/proto/chunk_reader.hpp"
#include "rtmp/proto/chunk_writer.hpp"
#include "rtmp/proto/control_responder.hpp"
#include "rtmp/proto/event_queue.hpp"
#include "rtmp/proto/command.hpp"
#include "rtmp/proto/handshake.hpp"
#include "rtmp/proto/message.hpp"

namespace rtmp::proto {

/// Chunk stream ids the client uses for what it sends.
namespace client_csid {
inline constexpr std::uint32_t control = 2;  ///< Protocol control messages (required by 5.4).
inline constexpr std::uint32_t command = 3;  ///< Commands.
inline constexpr std::uint32_t audio = 4;    ///< Audio messages.
inline constexpr std::uint32_t data = 5;     ///< Data messages (@setDataFrame onMetaData).
inline constexpr std::uint32_t video = 6;    ///< Video messages.
}  // namespace client_csid

/// Inbound limits suited to a client: the same bounds a server applies, so a
/// hostile server can neither make us allocate from a declared size (a 16 MB
/// `_result` fails with message_too_large at its header) nor spin on tiny chunks.
chunk_reader_limits default_client_chunk_limits() noexcept;

/// Settings of a client session; every limit is named here. Copied into the session.
struct client_session_config {
  connect_params connect;                  ///< app, tcUrl, flashVer... of the connect command.
  /// Enhanced RTMP v1 fourCcList sent in the connect command object (e.g.
  /// {"hvc1", "av01"}, or {"*"} for "any codec"); empty: not sent, the
  /// legacy connect command.
  std::vector<std::string> fourcc_list;
  chunk_reader_limits chunk_limits = default_client_chunk_limits();  ///< Inbound chunk stream limits.
  amf0::decode_limits command_limits = amf0::command_limits();  ///< AMF limits for commands.
  amf0::decode_limits data_limits = amf0::metadata_limits();    ///< AMF limits for data messages.
  std::uint32_t chunk_size = 4096;         ///< Outbound chunk size, announced after connect succeeds.
  std::uint32_t buffer_length_ms = 1000;   ///< Set Buffer Length sent with play.
  /// Commands the server may send before the stream is started (publish or
  /// play accepted). A real server sends fewer than ten; past this bound
  /// (an endless onStatus flood) the session fails with errc::too_many_commands.
  std::size_t max_negotiation_commands = 64;
  client_handshake_config handshake;       ///< Handshake options.
};

/// What the session tells its owner.
struct client_event {
  enum class kind : std::uint8_t {
    connected,        ///< connect answered with _result (NetConnection.Connect.Success).
    publish_started,  ///< onStatus NetStream.Publish.Start: media may be sent.
    play_started,     ///< onStatus NetStream.Play.Start: media will follow.
    media,            ///< Audio (8), video (9) or data (18) from the server; `msg` holds it.
    status,           ///< Any other onStatus (informational); `status` holds it.
    stream_ended,     ///< The stream ended: UnpublishNotify, Play.Stop, Stream EOF (play),
                      ///< or the server stopped our publish (NetStream.Unpublish.Success).
    stream_resumed,   ///< A player's stream has a publisher again (PublishNotify / Stream Begin
                      ///< after `stream_ended`).
  };
  kind type = kind::media;
  message msg;          ///< media only. Data messages are type 18 with any @setDataFrame
                        ///< wrapper removed and AMF3 framing byte dropped.
  bool metadata = false;  ///< media: `msg` is onMetaData.
  status_info status;   ///< status, connected, *_started and (when from onStatus) stream_ended.
  std::string reason;   ///< stream_ended / stream_resumed: the code or event that caused it.
};

/// One client-side RTMP connection without sockets.
///
/// Drive it with `on_bytes()` for every read; after each call (and after
/// `publish()`, `play()`, `send_*()`, `finish()`) send `take_output()` and
/// handle `next_event()` until it returns false. Errors returned by
/// `on_bytes()` are fatal: close the connection. Besides handshake, chunk
/// and AMF errors they include the server's refusals:
/// errc::connect_rejected (connect _error or NetConnection.Connect.Rejected),
/// errc::publish_rejected (NetStream.Publish.BadName and other publish errors),
/// errc::unauthorized (an error status whose code contains "Unauthorized"
/// or, for publish/play, "Rejected"), errc::play_rejected
/// (NetStream.Play.StreamNotFound, NetStream.Play.Failed and other play
/// errors), errc::too_many_commands, errc::peer_closed (the server's "close").
///
/// Handled internally: the server's Set Chunk Size (by the chunk reader),
/// Window Acknowledgement Size (we acknowledge every window of bytes
/// received, handshake included), Set Peer Bandwidth (answered with a Window
/// Acknowledgement Size, RTMP 1.0 section 5.4.5), Ping Request (answered).
///
/// Not thread-safe; the owner keeps it on one thread.
class client_session {
 public:
  /// Phases of the connection.
  enum class phase : std::uint8_t {
    handshake,        ///< C0C1 sent, waiting for S0S1S2.
    connecting,       ///< connect sent, waiting for its answer.
    connected,        ///< NetConnection up, no stream requested yet.
    creating_stream,  ///< createStream sent.
    starting,         ///< publish / play sent, waiting for its onStatus.
    publishing,       ///< Publish.Start received: `send_media` allowed.
    playing,          ///< Play.Start received: media events follow.
    finished,         ///< `finish()` called: input is still consumed, media ignored.
    closed,           ///< A fatal error happened.
  };

  /// Queues C0C1 and, once the handshake is done, the connect command with
  /// `config.connect`.
  explicit client_session(client_session_config config = {});

  /// Consumes bytes read from the server (`bytes` is only read during the
  /// call). Returns the first fatal error (sticky: later calls return it too).
  std::error_code on_bytes(std::span<const std::uint8_t> bytes);

  /// Moves the bytes to send into `out` (cleared first). The session keeps no
  /// reference to them.
  void take_output(std::vector<std::uint8_t>& out);

  /// True when there are bytes to send.
  bool has_output() const noexcept { return !out_.empty(); }

  /// Pops the next event. Returns false when there is none.
  bool next_event(client_event& out);

  /// Requests publishing `stream_name` (with any "?query") as `type`
  /// ("live", "record", "append"). Allowed once, before or after connect
  /// succeeds (the commands go out as soon as the connection is up).
  /// Errors: command_out_of_order (a stream was already requested, or the
  /// session is finished/closed).
  std::error_code publish(std::string stream_name, std::string type = "live");

  /// Requests playing `stream_name`; `start` as in the play command (-2000
  /// and -2: live or recorded; -1: live only). Same rules as `publish`.
  std::error_code play(std::string stream_name, double start = -2000);

  /// Queues an audio (8), video (9) or data (18) message on our stream; the
  /// message's `stream_id` is replaced by ours. The payload is copied into
  /// the output. Errors: command_out_of_order unless publishing;
  /// command_malformed for other message types.
  std::error_code send_media(const message& msg);

  /// Queues a data message built from an FLV script tag body (e.g.
  /// `"onMetaData", {...}`): when it starts with the String "onMetaData" it
  /// is sent as `"@setDataFrame", "onMetaData", {...}` as publishers do,
  /// otherwise unchanged. Errors as `send_media`.
  std::error_code send_script_data(std::span<const std::uint8_t> payload, std::uint32_t timestamp);

  /// Ends the stream politely: FCUnpublish(name) + deleteStream(id) when
  /// publishing, deleteStream(id) when playing (nothing before a stream
  /// exists). The phase becomes `finished`; later input is still parsed
  /// (acks, pings) but produces no media. Idempotent.
  void finish();

  /// Current phase.
  phase current_phase() const noexcept { return phase_; }
  /// The sticky error, if any.
  std::error_code error() const noexcept { return error_; }
  /// The message stream id from createStream (0 before).
  std::uint32_t stream_id() const noexcept { return stream_id_; }
  /// The last error-level status (code and description of a refusal), for messages.
  const status_info& last_error_status() const noexcept { return last_error_; }
  /// Outbound chunk size in force.
  std::uint32_t chunk_size() const noexcept { return writer_.chunk_size(); }
  /// Inbound chunk size in force (the server's Set Chunk Size).
  std::uint32_t peer_chunk_size() const noexcept { return reader_.chunk_size(); }
  /// Total bytes received (handshake included).
  std::uint64_t bytes_received() const noexcept { return control_.bytes_received(); }
  /// Acknowledgements sent so far.
  std::uint64_t acknowledgements_sent() const noexcept { return control_.acknowledgements_sent(); }
  /// Messages ignored (unknown types, |RtmpSampleAccess, malformed data messages...).
  std::uint64_t ignored_messages() const noexcept { return ignored_; }
  /// The handshake machine (peer info for logs).
  const client_handshake& handshake() const noexcept { return handshake_; }
  /// The settings.
  const client_session_config& config() const noexcept { return config_; }

 private:
  enum class mode : std::uint8_t { none, publish, play };

  std::error_code fail(std::error_code ec);
  std::error_code on_message(message& msg);
  std::error_code on_control(const message& msg);
  void on_user_control(const user_control& uc);
  std::error_code on_command(const message& msg);
  std::error_code on_result(const command& cmd, bool is_error);
  std::error_code on_status_command(const command& cmd);
  void on_data(message& msg);
  void on_connected();
  void start_stream_request();
  void send_stream_command();
  void stream_ended(std::string reason, const status_info* status);
  void send_command(std::uint32_t stream_id, const command& cmd);
  void send_control(const message& msg);
  void push_event(client_event ev);

  client_session_config config_;
  phase phase_ = phase::handshake;
  std::error_code error_;
  client_handshake handshake_;
  chunk_reader reader_;
  chunk_writer writer_;
  control_responder control_;  // acks, window, pings
  std::vector<std::uint8_t> out_;
  std::vector<std::uint8_t> scratch_;
  event_queue<client_event> events_;

  mode mode_ = mode::none;
  // A player that asked to play (starting) or plays takes the server's
  // media; a publisher never does, whatever the server sends it.
  bool receiving_media() const noexcept {
    return mode_ == mode::play && (phase_ == phase::playing || phase_ == phase::starting);
  }
  std::string stream_name_;
  std::string publish_type_ = "live";
  double play_start_ = -2000;
  std::uint32_t stream_id_ = 0;
  double next_transaction_ = 1;
  double connect_tx_ = 0;
  double create_stream_tx_ = 0;
  double stream_tx_ = 0;  // publish / play
  std::size_t negotiation_commands_ = 0;
  bool ended_ = false;  // stream_ended reported and not resumed since
  status_info last_error_;

  std::uint64_t ignored_ = 0;
};

}  // namespace rtmp::proto
