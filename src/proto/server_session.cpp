#include "rtmp/proto/server_session.hpp"

#include <algorithm>
#include <cmath>

#include "rtmp/error.hpp"
#include "rtmp/proto/control_message.hpp"

namespace rtmp::proto {
namespace {

constexpr std::string_view level_status = "status";
constexpr std::string_view level_error = "error";

// App and stream names become hub keys and log fields (and, later, file
// names), so they are restricted to a safe alphabet (HOSTILE-CASES T-31).
bool safe_name_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '.';
}

bool valid_path_name(std::string_view name, std::size_t max_length, bool allow_slash) noexcept {
  if (name.empty() || name.size() > max_length) return false;
  if (name.find("..") != std::string_view::npos) return false;
  if (name.front() == '/' || name.back() == '/') return false;
  return std::all_of(name.begin(), name.end(),
                     [allow_slash](char c) { return safe_name_char(c) || (allow_slash && c == '/'); });
}

bool is_metadata_name(const amf0::value& v) noexcept { return v.as_string() == "onMetaData"; }

}  // namespace

server_session::server_session(server_session_config config)
    : config_(std::move(config)),
      handshake_(std::make_unique<server_handshake>(config_.handshake)),
      reader_(config_.chunk_limits),
      control_({.answer_peer_bandwidth = false, .max_ping_replies_per_read = config_.max_ping_replies_per_read}) {}

bool server_session::next_event(session_event& out) { return events_.next(out); }

void server_session::take_output(std::vector<std::uint8_t>& out) {
  out.clear();
  out.swap(out_);
}

std::error_code server_session::on_bytes(std::span<const std::uint8_t> bytes) {
  if (phase_ == phase::closed) return errc::peer_closed;
  control_.on_bytes(bytes.size());
  if (phase_ == phase::handshake) {
    const std::size_t used = handshake_->exchange(bytes, out_);
    if (auto ec = handshake_->error()) {
      phase_ = phase::closed;
      return ec;
    }
    if (!handshake_->done()) return {};
    handshake_.reset();
    phase_ = phase::await_connect;
    bytes = bytes.subspan(used);
  }
  if (auto ec = read_messages(reader_, bytes, [this](message& m) { return on_message(m); })) {
    phase_ = phase::closed;
    return ec;
  }
  // RTMP 1.0 section 5.4.3: an Acknowledgement after each window of bytes.
  if (auto ack = control_.acknowledgement_due()) send_control(*ack);
  return {};
}

std::error_code server_session::on_message(message& msg) {
  // Control messages (chunk size, acknowledgements) apply at once; the rest
  // waits for the connect's answer.
  if (phase_ == phase::connect_pending && !is_protocol_control(msg.type)) return hold(msg);
  switch (msg.kind()) {
    case message_type::audio:  // a publisher's messages, the most frequent, first
    case message_type::video:
    case message_type::data_amf0:
    case message_type::data_amf3:
      return on_media(msg);
    default:
      if (is_protocol_control(msg.type)) return on_control(msg);
      if (is_command(msg.type)) return on_command(msg);
      ++ignored_;  // unknown types and shared objects are skipped, never fatal
      return {};
  }
}

std::error_code server_session::on_control(const message& msg) {
  control_outcome out = control_.on_control(msg);
  if (out.error) return out.error;
  if (out.ignored) ++ignored_;
  if (out.reply) send_control(*out.reply);
  if (out.event && out.event->event == static_cast<std::uint16_t>(user_control_event::ping_response)) {
    session_event ev;
    ev.type = session_event::kind::ping_response;
    ev.value = out.event->value;
    events_.push(std::move(ev));
  }
  return {};
}

std::error_code server_session::on_command(const message& msg) {
  const bool amf3 = msg.kind() == message_type::command_amf3;
  auto parsed = parse_command(msg.payload.span(), amf3, config_.command_limits);
  if (!parsed.ok()) return parsed.ec;  // T-24: a broken command closes the connection
  const command& cmd = parsed.cmd;
  const std::string_view name = cmd.name;

  if (name == "connect") {
    on_connect(cmd);
    return {};
  }
  if (name == "_result" || name == "_error" || name == "onStatus" || name == "onBWDone") {
    return {};  // client-side messages and answers to our onBWDone: nothing to do
  }
  if (phase_ != phase::connected) {
    // T-30: a command before connect gets an error, never a crash.
    if (cmd.transaction_id != 0) {
      send_command(0, error_result(cmd.transaction_id, "NetConnection.Call.Failed", "Not connected."));
    }
    ++ignored_;
    return {};
  }

  if (name == "createStream") {
    on_create_stream(cmd);
  } else if (name == "publish") {
    on_publish(cmd, msg.stream_id);
  } else if (name == "play") {
    on_play(cmd, msg.stream_id);
  } else if (name == "deleteStream") {
    const double id = number_argument(cmd, 0).value_or(0);
    if (id >= 1 && id <= 0xFFFFFFFF) on_close_stream(static_cast<std::uint32_t>(id), true);
  } else if (name == "closeStream") {
    on_close_stream(msg.stream_id, false);
  } else if (name == "FCUnpublish") {
    handle_fc_unpublish(cmd);
  } else if (name == "FCPublish") {
    const auto stream_name = string_argument(cmd, 0).value_or("");
    send_command(0, on_fc_publish("NetStream.Publish.Start", stream_name));
  } else if (name == "releaseStream" || name == "FCSubscribe" || name == "_checkbw" ||
             name == "getStreamLength") {
    // Helper calls: nothing to do for live streams. Answer only when the
    // client asked for an answer (GStreamer sends transaction id 0).
    send_result_if_wanted(cmd);
  } else if (name == "receiveAudio" || name == "receiveVideo") {
    session_event ev;
    ev.type = name == "receiveAudio" ? session_event::kind::receive_audio : session_event::kind::receive_video;
    ev.stream_id = msg.stream_id;
    const amf0::value* arg = cmd.argument(0);
    ev.flag = arg == nullptr || arg->as_bool(true);
    events_.push(std::move(ev));
  } else if (name == "pause") {
    stream_slot* slot = find_stream(msg.stream_id);
    if (slot != nullptr && slot->state == stream_state::playing) {
      const amf0::value* arg = cmd.argument(0);
      const bool paused = arg != nullptr && arg->as_bool(false);
      session_event ev;
      ev.type = session_event::kind::pause;
      ev.stream_id = msg.stream_id;
      ev.flag = paused;
      events_.push(std::move(ev));
      send_status(msg.stream_id, level_status, paused ? "NetStream.Pause.Notify" : "NetStream.Unpause.Notify",
                  paused ? "Paused." : "Unpaused.");
    }
  } else {
    // Unknown commands get _error, never a disconnect.
    if (cmd.transaction_id != 0) {
      send_command(0, error_result(cmd.transaction_id, "NetConnection.Call.Failed", "Unknown command."));
    }
    ++ignored_;
  }
  return {};
}

void server_session::send_result_if_wanted(const command& cmd) {
  if (cmd.transaction_id == 0) return;
  command result;
  result.name = "_result";
  result.transaction_id = cmd.transaction_id;
  if (cmd.name == "getStreamLength") result.arguments.emplace_back(0.0);
  send_command(0, result);
}

void server_session::on_connect(const command& cmd) {
  if (phase_ == phase::connected) {
    send_command(0, error_result(cmd.transaction_id, "NetConnection.Connect.Rejected", "Already connected."));
    ++ignored_;
    return;
  }
  connect_request req;
  if (read_connect(cmd, req) || !valid_path_name(req.app, config_.max_name_length, true)) {
    send_command(0, error_result(cmd.transaction_id, "NetConnection.Connect.Rejected", "Invalid application name."));
    close_requested_ = true;
    return;
  }
  if (!config_.allowed_apps.empty() &&
      std::find(config_.allowed_apps.begin(), config_.allowed_apps.end(), req.app) == config_.allowed_apps.end()) {
    send_command(0, error_result(cmd.transaction_id, "NetConnection.Connect.Rejected", "Unknown application."));
    close_requested_ = true;
    return;
  }
  connect_ = std::move(req);
  // Enhanced RTMP v2 "Enhancing NetConnection connect Command": what the
  // client declared decides the form of our answer.
  peer_caps_ = read_enhanced_capabilities(cmd.command_object);
  if (config_.hold_connect) {
    phase_ = phase::connect_pending;
    connect_transaction_ = cmd.transaction_id;
    push_event(session_event::kind::connect_request, 0);
    return;
  }
  answer_connect(cmd.transaction_id);
}

void server_session::answer_connect(double transaction_id) {
  phase_ = phase::connected;
  // The answer real clients expect (RTMP 1.0 section 7.2.1.1): window,
  // peer bandwidth, chunk size, then _result.
  send_control(make_window_ack_size(config_.window_ack_size));
  send_control(make_set_peer_bandwidth(config_.peer_bandwidth, bandwidth_limit::dynamic));
  send_control(make_set_chunk_size(config_.chunk_size));
  writer_.set_chunk_size(config_.chunk_size);
  command result = connect_result(transaction_id, connect_.object_encoding);
  // A client that declared E-RTMP support gets ours in the _result
  // properties object. A legacy client gets the legacy answer, byte for byte.
  if (peer_caps_.enhanced) {
    if (amf0::object* properties = result.command_object.as_object()) {
      add_enhanced_capabilities(*properties, server_capabilities());
    }
  }
  send_command(0, result);
  send_command(0, on_bw_done());
  push_event(session_event::kind::connected, 0);
}

std::error_code server_session::hold(const message& msg) {
  held_bytes_ += msg.payload.size();
  if (held_.size() >= config_.max_held_messages || held_bytes_ > config_.max_pending_publish_bytes) {
    phase_ = phase::closed;
    return errc::partial_bytes_exceeded;
  }
  held_.push_back(msg);
  return {};
}

std::error_code server_session::accept_connect() {
  if (phase_ != phase::connect_pending) return {};
  answer_connect(connect_transaction_);
  std::vector<message> held;
  held.swap(held_);
  held_bytes_ = 0;
  for (auto& m : held) {
    if (auto ec = on_message(m)) {
      phase_ = phase::closed;
      return ec;
    }
  }
  return {};
}

void server_session::reject_connect(std::string_view description) {
  if (phase_ != phase::connect_pending) return;
  phase_ = phase::await_connect;
  held_.clear();
  held_bytes_ = 0;
  send_command(0, error_result(connect_transaction_, "NetConnection.Connect.Rejected", description));
  close_requested_ = true;
}

void server_session::on_create_stream(const command& cmd) {
  if (streams_.size() >= config_.max_message_streams) {
    send_command(0, error_result(cmd.transaction_id, "NetConnection.Call.Failed", "Too many streams."));
    ++ignored_;
    return;
  }
  stream_slot slot;
  slot.id = next_stream_id_++;
  streams_.push_back(slot);
  send_command(0, create_stream_result(cmd.transaction_id, slot.id));
}

bool server_session::valid_stream_name(std::string_view name) const noexcept {
  const auto q = name.find('?');
  const std::string_view base = name.substr(0, q);
  if (q != std::string_view::npos) {
    const std::string_view query = name.substr(q + 1);
    if (query.size() > config_.max_query_length) return false;
    for (char c : query) {
      const auto u = static_cast<unsigned char>(c);
      if (u < 0x21 || u > 0x7E) return false;  // no spaces, controls or non-ASCII
    }
  }
  return valid_path_name(base, config_.max_name_length, false);
}

void server_session::on_publish(const command& cmd, std::uint32_t stream_id) {
  stream_slot* slot = find_stream(stream_id);
  publish_request req;
  if (slot == nullptr) {
    send_command(0, error_result(cmd.transaction_id, "NetConnection.Call.Failed", "Unknown stream id."));
    ++ignored_;
    return;
  }
  if (read_publish(cmd, req) || !valid_stream_name(req.stream_name)) {
    send_status(stream_id, level_error, "NetStream.Publish.BadName", "Invalid stream name.");
    close_requested_ = true;
    return;
  }
  if (slot->state != stream_state::idle) {
    send_status(stream_id, level_error, "NetStream.Publish.BadName", "Stream is busy.");
    return;
  }
  slot->state = stream_state::publish_pending;
  slot->name = req.stream_name;
  push_event(session_event::kind::publish, stream_id, req.stream_name);
}

void server_session::on_play(const command& cmd, std::uint32_t stream_id) {
  stream_slot* slot = find_stream(stream_id);
  play_request req;
  if (slot == nullptr) {
    send_command(0, error_result(cmd.transaction_id, "NetConnection.Call.Failed", "Unknown stream id."));
    ++ignored_;
    return;
  }
  if (read_play(cmd, req) || !valid_stream_name(req.stream_name)) {
    send_status(stream_id, level_error, "NetStream.Play.StreamNotFound", "Invalid stream name.");
    close_requested_ = true;
    return;
  }
  if (slot->state != stream_state::idle) {
    send_status(stream_id, "warning", "NetStream.Play.Failed", "Stream is busy.");
    return;
  }
  slot->state = stream_state::play_pending;
  slot->name = req.stream_name;
  push_event(session_event::kind::play, stream_id, req.stream_name);
}

void server_session::on_close_stream(std::uint32_t stream_id, bool release_id) {
  auto it = std::find_if(streams_.begin(), streams_.end(), [&](const stream_slot& s) { return s.id == stream_id; });
  if (it == streams_.end()) {
    ++ignored_;  // deleteStream(999) and friends (T-30)
    return;
  }
  switch (it->state) {
    case stream_state::publishing:
    case stream_state::publish_pending:
      push_event(session_event::kind::unpublish, stream_id, it->name);
      break;
    case stream_state::playing:
    case stream_state::play_pending:
      push_event(session_event::kind::stop_play, stream_id, it->name);
      break;
    case stream_state::idle:
      break;
  }
  it->state = stream_state::idle;
  it->name.clear();
  if (release_id) streams_.erase(it);
}

void server_session::handle_fc_unpublish(const command& cmd) {
  const auto stream_name = string_argument(cmd, 0).value_or("");
  send_command(0, on_fc_unpublish("NetStream.Unpublish.Success", stream_name));
  for (auto& s : streams_) {
    if ((s.state == stream_state::publishing || s.state == stream_state::publish_pending) && s.name == stream_name) {
      push_event(session_event::kind::unpublish, s.id, s.name);
      s.state = stream_state::idle;
      s.name.clear();
    }
  }
}

std::error_code server_session::on_media(message& msg) {
  stream_slot* slot = find_stream(msg.stream_id);
  const bool pending = slot != nullptr && slot->state == stream_state::publish_pending;
  if (slot == nullptr || (slot->state != stream_state::publishing && !pending)) {
    // T-34: nothing is relayed before the publish decision; media on an
    // unknown stream is dropped (T-30).
    ++ignored_;
    return {};
  }
  session_event ev;
  ev.type = session_event::kind::media;
  ev.stream_id = msg.stream_id;
  if (msg.kind() == message_type::data_amf0 || msg.kind() == message_type::data_amf3) {
    std::span<const std::uint8_t> body = msg.payload.span();
    if (msg.kind() == message_type::data_amf3 && !body.empty() && body[0] == 0) body = body.subspan(1);
    auto stripped = strip_set_data_frame(body, config_.data_limits);
    if (!stripped.ok()) return stripped.ec;
    if (stripped.values.empty()) {
      ++ignored_;
      return {};
    }
    ev.flag = is_metadata_name(stripped.values.front());
    msg.type = static_cast<std::uint8_t>(message_type::data_amf0);
    if (stripped.wrapped || msg.payload.size() != body.size()) {
      msg.payload = shared_bytes::copy_of(stripped.payload);
    }
  }
  ev.msg = std::move(msg);
  if (pending) {
    pending_media_bytes_ += ev.msg.payload.size();
    if (pending_media_bytes_ > config_.max_pending_publish_bytes) return errc::partial_bytes_exceeded;
    pending_media_.push_back(std::move(ev));
    return {};
  }
  events_.push(std::move(ev));
  return {};
}

void server_session::accept_publish(std::uint32_t stream_id) {
  stream_slot* slot = find_stream(stream_id);
  if (slot == nullptr || slot->state != stream_state::publish_pending) return;
  slot->state = stream_state::publishing;
  send_status(stream_id, level_status, "NetStream.Publish.Start", slot->name + " is now published.");
  // Media that arrived while the decision was pending, in order.
  for (auto& ev : pending_media_) {
    if (ev.stream_id == stream_id) events_.push(std::move(ev));
  }
  pending_media_.clear();
  pending_media_bytes_ = 0;
}

void server_session::reject_publish(std::uint32_t stream_id, std::string_view code, std::string_view description) {
  stream_slot* slot = find_stream(stream_id);
  if (slot != nullptr) {
    slot->state = stream_state::idle;
    slot->name.clear();
  }
  pending_media_.clear();
  pending_media_bytes_ = 0;
  send_status(stream_id, level_error, code, description);
  close_requested_ = true;
}

void server_session::accept_play(std::uint32_t stream_id) {
  stream_slot* slot = find_stream(stream_id);
  if (slot == nullptr || slot->state != stream_state::play_pending) return;
  slot->state = stream_state::playing;
  send_control(make_user_control(user_control_event::stream_begin, stream_id));
  send_status(stream_id, level_status, "NetStream.Play.Reset", "Playing and resetting " + slot->name + ".");
  send_status(stream_id, level_status, "NetStream.Play.Start", "Started playing " + slot->name + ".");
  send_data(stream_id, sample_access_message(true, true), 0);
}

void server_session::reject_play(std::uint32_t stream_id, std::string_view code, std::string_view description) {
  stream_slot* slot = find_stream(stream_id);
  if (slot != nullptr) {
    slot->state = stream_state::idle;
    slot->name.clear();
  }
  send_status(stream_id, level_error, code, description);
  close_requested_ = true;
}

void server_session::notify_unpublished(std::uint32_t stream_id) {
  const stream_slot* slot = find_stream(stream_id);
  if (slot == nullptr || slot->state != stream_state::playing) return;
  send_status(stream_id, level_status, "NetStream.Play.UnpublishNotify", slot->name + " is now unpublished.");
  send_control(make_user_control(user_control_event::stream_eof, stream_id));
}

void server_session::notify_published(std::uint32_t stream_id) {
  const stream_slot* slot = find_stream(stream_id);
  if (slot == nullptr || slot->state != stream_state::playing) return;
  send_control(make_user_control(user_control_event::stream_begin, stream_id));
  send_status(stream_id, level_status, "NetStream.Play.PublishNotify", slot->name + " is now published.");
}

void server_session::notify_publish_stopped(std::uint32_t stream_id, std::string_view description) {
  stream_slot* slot = find_stream(stream_id);
  if (slot == nullptr || slot->state != stream_state::publishing) return;
  slot->state = stream_state::idle;
  send_status(stream_id, level_status, "NetStream.Unpublish.Success", description);
}

void server_session::notify_play_stopped(std::uint32_t stream_id, std::string_view description) {
  stream_slot* slot = find_stream(stream_id);
  if (slot == nullptr || slot->state != stream_state::playing) return;
  slot->state = stream_state::idle;
  send_status(stream_id, level_status, "NetStream.Play.Stop", description);
  send_control(make_user_control(user_control_event::stream_eof, stream_id));
}

void server_session::send_ping(std::uint32_t timestamp_ms) {
  send_control(make_user_control(user_control_event::ping_request, timestamp_ms));
}

void server_session::send_data(std::uint32_t stream_id, std::span<const std::uint8_t> payload,
                               std::uint32_t timestamp) {
  message m;
  m.type = static_cast<std::uint8_t>(message_type::data_amf0);
  m.stream_id = stream_id;
  m.timestamp = timestamp;
  m.payload = shared_bytes::copy_of(payload);
  writer_.write(server_csid::command, m, out_);
}

void server_session::send_command(std::uint32_t stream_id, const command& cmd) {
  message m;
  // Fails only for absurd key lengths, which are never built here.
  if (!make_command_message(cmd, stream_id, scratch_, m)) writer_.write(server_csid::command, m, out_);
}

void server_session::send_status(std::uint32_t stream_id, std::string_view level, std::string_view code,
                                 std::string_view description) {
  send_command(stream_id, on_status(level, code, description));
}

void server_session::send_control(const message& msg) { writer_.write(server_csid::control, msg, out_); }

server_session::stream_slot* server_session::find_stream(std::uint32_t id) noexcept {
  for (auto& s : streams_) {
    if (s.id == id) return &s;
  }
  return nullptr;
}

void server_session::push_event(session_event::kind type, std::uint32_t stream_id, std::string name) {
  session_event ev;
  ev.type = type;
  ev.stream_id = stream_id;
  ev.name = std::move(name);
  events_.push(std::move(ev));
}

}  // namespace rtmp::proto
