#pragma once
/// @file server_session.hpp
/// The server side of one RTMP connection as a sans-I/O state machine:
/// handshake, chunk stream, control messages and the NetConnection /
/// NetStream command flow (RTMP 1.0 sections 5-7). Bytes go in; bytes to
/// send and events for the stream hub come out. Decisions that need the
/// rest of the server (may this key be published? played?) are events that
/// the caller answers with `accept_*` / `reject_*`.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "rtmp/proto/amf0_codec.hpp"
#include "rtmp/proto/chunk_reader.hpp"
#include "rtmp/proto/chunk_writer.hpp"
#include "rtmp/proto/control_responder.hpp"
#include "rtmp/proto/event_queue.hpp"
#include "rtmp/proto/command.hpp"
#include "rtmp/proto/enhanced_connect.hpp"
#include "rtmp/proto/handshake.hpp"
#include "rtmp/proto/message.hpp"

namespace rtmp::proto {

/// Chunk stream ids the server uses. Media encoded once by the hub travels on
/// its own chunk streams with fmt 0 headers, so it never disturbs the header
/// compression state of the session's own writer.
namespace server_csid {
inline constexpr std::uint32_t control = 2;  ///< Protocol control messages (required by 5.4).
inline constexpr std::uint32_t command = 3;  ///< Commands and the session's own data messages.
inline constexpr std::uint32_t audio = 4;    ///< Hub-encoded audio.
inline constexpr std::uint32_t data = 5;     ///< Hub-encoded data (metadata).
inline constexpr std::uint32_t video = 6;    ///< Hub-encoded video.
}  // namespace server_csid

/// Settings of a server session; every limit is named here.
struct server_session_config {
  chunk_reader_limits chunk_limits;                              ///< Inbound chunk stream limits.
  amf0::decode_limits command_limits = amf0::command_limits();   ///< AMF limits for commands.
  amf0::decode_limits data_limits = amf0::metadata_limits();     ///< AMF limits for metadata.
  std::uint32_t chunk_size = 4096;            ///< Outbound chunk size, announced after connect.
  std::uint32_t window_ack_size = 2'500'000;  ///< Window Acknowledgement Size we announce.
  std::uint32_t peer_bandwidth = 2'500'000;   ///< Set Peer Bandwidth we announce (dynamic).
  std::size_t max_message_streams = 8;        ///< createStream calls allowed per connection (T-29).
  std::size_t max_ping_replies_per_read = 4;  ///< PingResponses per on_bytes() call; a flood gets few (T-39).
  std::size_t max_name_length = 128;          ///< Longest app or stream name (without query).
  std::size_t max_query_length = 1024;        ///< Longest "?query" after a stream name.
  /// Media a publisher may send between publish and our decision (clients
  /// pipeline metadata and media right after publish). It is held, never
  /// relayed, until accept_publish (T-34); past this bound the connection
  /// is closed.
  std::size_t max_pending_publish_bytes = std::size_t{4} * 1024 * 1024;
  server_handshake_config handshake;          ///< Handshake options.
  /// Applications a client may connect to; empty: any. Others get
  /// NetConnection.Connect.Rejected ("Unknown application.").
  std::vector<std::string> allowed_apps;
  /// True: a valid connect is not answered at once but reported as a
  /// `connect_request` event for the owner to answer with accept_connect or
  /// reject_connect (an on-connect callback decides). Messages that arrive
  /// meanwhile (clients pipeline createStream and more) are held, at most
  /// `max_held_messages` and `max_pending_publish_bytes` of them, and handled
  /// after the answer; past either bound the connection is closed.
  bool hold_connect = false;
  std::size_t max_held_messages = 64;  ///< Messages held while a connect awaits its answer.
};

/// What the session tells its owner.
struct session_event {
  enum class kind : std::uint8_t {
    connected,      ///< connect accepted; `app()`/`tc_url()` are set.
    connect_request,  ///< connect awaits accept_connect/reject_connect (hold_connect); `app()`/`tc_url()` are set.
    publish,        ///< publish requested on `stream_id` for `name`: answer accept_publish/reject_publish.
    unpublish,      ///< The publisher on `stream_id` stopped (FCUnpublish, closeStream, deleteStream).
    play,           ///< play requested on `stream_id` for `name`: answer accept_play/reject_play.
    stop_play,      ///< The player on `stream_id` stopped (closeStream, deleteStream).
    media,          ///< Audio (8), video (9) or data (18) from an accepted publisher; `msg` holds it.
    pause,          ///< The player paused (`flag` true) or resumed (false).
    receive_audio,  ///< receiveAudio(`flag`).
    receive_video,  ///< receiveVideo(`flag`).
    ping_response,  ///< A PingResponse arrived; `value` is its timestamp.
  };
  kind type = kind::media;
  std::uint32_t stream_id = 0;  ///< Message stream the event is about.
  std::string name;             ///< Stream name as sent, with any "?query" (publish, play).
  message msg;                  ///< The media message (media only). For metadata the
                                ///< @setDataFrame wrapper has been removed.
  bool flag = false;            ///< pause/receive_*; for media: true when `msg` is onMetaData.
  std::uint32_t value = 0;      ///< ping_response timestamp.
};

/// One server-side RTMP connection without sockets.
///
/// Drive it with `on_bytes()` for every read; after each call send
/// `take_output()` and handle `next_event()` until it returns false. Errors
/// returned by `on_bytes()` are fatal: log them and close the connection
/// (after sending pending output, which may carry an `_error`).
///
/// Not thread-safe; the owner keeps it on one thread.
class server_session {
 public:
  /// Phases of the connection.
  enum class phase : std::uint8_t { handshake, await_connect, connect_pending, connected, closed };

  explicit server_session(server_session_config config = {});

  /// Consumes bytes read from the peer. Errors: handshake, chunk and AMF
  /// errors (`rtmp::errc`); after an error the session is closed.
  std::error_code on_bytes(std::span<const std::uint8_t> bytes);

  /// Moves the bytes to send (handshake, control, commands) into `out`
  /// (cleared first). The session keeps no reference to them.
  void take_output(std::vector<std::uint8_t>& out);

  /// True when there are bytes to send.
  bool has_output() const noexcept { return !out_.empty(); }

  /// Pops the next event. Returns false when there is none.
  bool next_event(session_event& out);

  /// Answers a connect_request event: the connect's answer (window, peer
  /// bandwidth, chunk size, _result, onBWDone), then the messages held
  /// meanwhile are handled. Errors: as on_bytes' for a held message (the
  /// session is then closed).
  std::error_code accept_connect();

  /// Answers a connect_request event with NetConnection.Connect.Rejected
  /// and `description`; the held messages are dropped and the owner closes
  /// once the output is sent (`close_requested()` becomes true).
  void reject_connect(std::string_view description);

  /// Answers a publish event: NetStream.Publish.Start on `stream_id`.
  void accept_publish(std::uint32_t stream_id);

  /// Answers a publish event with a refusal, e.g. code
  /// "NetStream.Publish.BadName". The owner should close the connection once
  /// the output is sent (`close_requested()` becomes true).
  void reject_publish(std::uint32_t stream_id, std::string_view code, std::string_view description);

  /// Answers a play event: Stream Begin, NetStream.Play.Reset,
  /// NetStream.Play.Start and |RtmpSampleAccess on `stream_id`. Media follows
  /// from the hub on the `server_csid` chunk streams.
  void accept_play(std::uint32_t stream_id);

  /// Answers a play event with a refusal (e.g. "NetStream.Play.StreamNotFound")
  /// at level "error"; the owner closes once the output is sent.
  void reject_play(std::uint32_t stream_id, std::string_view code, std::string_view description);

  /// Tells a player that the publisher left: NetStream.Play.UnpublishNotify
  /// (level "status") and Stream EOF.
  void notify_unpublished(std::uint32_t stream_id);

  /// Tells a waiting player that a publisher (re)started:
  /// NetStream.Play.PublishNotify and Stream Begin.
  void notify_published(std::uint32_t stream_id);

  /// Tells a publisher that the server stopped its stream (shutdown, kick):
  /// NetStream.Unpublish.Success at level "status".
  void notify_publish_stopped(std::uint32_t stream_id, std::string_view description);

  /// Tells a player that the server stopped playback: NetStream.Play.Stop
  /// and Stream EOF.
  void notify_play_stopped(std::uint32_t stream_id, std::string_view description);

  /// Queues a PingRequest carrying `timestamp_ms` (RTMP 1.0 section 7.1.7).
  void send_ping(std::uint32_t timestamp_ms);

  /// Queues a data message (type 18) on `stream_id` through the session's
  /// own writer (used for things not encoded by the hub).
  void send_data(std::uint32_t stream_id, std::span<const std::uint8_t> payload, std::uint32_t timestamp);

  /// Current phase.
  phase current_phase() const noexcept { return phase_; }
  /// True once a refusal asked the owner to close after flushing.
  bool close_requested() const noexcept { return close_requested_; }
  /// The connect command's app ("" before connect).
  const std::string& app() const noexcept { return connect_.app; }
  /// The connect command's tcUrl.
  const std::string& tc_url() const noexcept { return connect_.tc_url; }
  /// The connect command's flashVer.
  const std::string& flash_ver() const noexcept { return connect_.flash_ver; }
  /// The Enhanced RTMP capabilities the client declared in connect
  /// (fourCcList, [audio|video]FourCcInfoMap, capsEx); `enhanced` is false
  /// for a legacy client and before connect.
  const enhanced_capabilities& peer_capabilities() const noexcept { return peer_caps_; }
  /// Outbound chunk size in force (media must be encoded with it).
  std::uint32_t chunk_size() const noexcept { return writer_.chunk_size(); }
  /// Total bytes received (handshake included).
  std::uint64_t bytes_received() const noexcept { return control_.bytes_received(); }
  /// Number of messages ignored (media before publish, unknown types, ...).
  std::uint64_t ignored_messages() const noexcept { return ignored_; }
  /// The handshake machine (peer info for logs).
  /// The handshake machine while the handshake runs; null afterwards (its
  /// 4.6 KB of buffers are freed: a server holds thousands of sessions).
  const server_handshake* handshake() const noexcept { return handshake_.get(); }
  /// The settings.
  const server_session_config& config() const noexcept { return config_; }

 private:
  enum class stream_state : std::uint8_t { idle, publish_pending, publishing, play_pending, playing };
  struct stream_slot {
    std::uint32_t id = 0;
    stream_state state = stream_state::idle;
    std::string name;
  };

  std::error_code on_message(message& msg);
  std::error_code on_control(const message& msg);
  std::error_code on_command(const message& msg);
  std::error_code on_media(message& msg);
  void on_connect(const command& cmd);
  // The connect's answer (RTMP 1.0 section 7.2.1.1) to transaction `transaction_id`.
  void answer_connect(double transaction_id);
  // Keeps `msg` until the connect is answered.
  std::error_code hold(const message& msg);
  void on_create_stream(const command& cmd);
  void on_publish(const command& cmd, std::uint32_t stream_id);
  void on_play(const command& cmd, std::uint32_t stream_id);
  void on_close_stream(std::uint32_t stream_id, bool release_id);
  void handle_fc_unpublish(const command& cmd);
  void send_command(std::uint32_t stream_id, const command& cmd);
  void send_status(std::uint32_t stream_id, std::string_view level, std::string_view code,
                   std::string_view description);
  void send_control(const message& msg);
  void send_result_if_wanted(const command& cmd);
  bool valid_stream_name(std::string_view name) const noexcept;
  stream_slot* find_stream(std::uint32_t id) noexcept;
  void push_event(session_event::kind type, std::uint32_t stream_id, std::string name = {});

  server_session_config config_;
  phase phase_ = phase::handshake;
  std::unique_ptr<server_handshake> handshake_;
  chunk_reader reader_;
  chunk_writer writer_;
  control_responder control_;  // acks, window, pings
  connect_request connect_;
  enhanced_capabilities peer_caps_;
  std::vector<std::uint8_t> out_;
  std::vector<std::uint8_t> scratch_;
  event_queue<session_event> events_;
  std::vector<stream_slot> streams_;
  std::vector<session_event> pending_media_;  // held while a publish awaits its decision
  std::size_t pending_media_bytes_ = 0;
  std::vector<message> held_;  // arrived while the connect awaits its answer
  std::size_t held_bytes_ = 0;
  double connect_transaction_ = 1;  // of the connect awaiting its answer
  std::uint32_t next_stream_id_ = 1;
  std::uint64_t ignored_ = 0;
  bool close_requested_ = false;
};

}  // namespace rtmp::proto
