#include "rtmp/proto/client_session.hpp"

#include <utility>

#include "rtmp/error.hpp"
#include "rtmp/proto/control_message.hpp"

namespace rtmp::proto {
namespace {

constexpr std::string_view code_publish_start = "NetStream.Publish.Start";
constexpr std::string_view code_play_start = "NetStream.Play.Start";

bool contains(std::string_view s, std::string_view what) noexcept { return s.find(what) != std::string_view::npos; }

bool is_error_level(const status_info& s) noexcept { return s.level == "error"; }

// The first AMF0 value of a data message, when it is a String.
std::string_view first_string(std::span<const std::uint8_t> payload, std::string& storage) {
  amf0::value v;
  amf0::decode_limits limits;
  limits.max_nodes = 1;
  const auto r = amf0::decode_next(payload, 0, v, limits);
  if (!r.ok() || !v.is_string()) return {};
  storage = std::string(v.as_string());
  return storage;
}

}  // namespace

chunk_reader_limits default_client_chunk_limits() noexcept {
  chunk_reader_limits l;
  // Commands from a server are small (_result, onStatus); 64 KiB leaves room
  // for verbose servers while refusing a 16 MB _result at its header.
  l.max_command_size = 64 * 1024;
  return l;
}

client_session::client_session(client_session_config config)
    : config_(std::move(config)),
      handshake_(config_.handshake),
      reader_(config_.chunk_limits),
      control_({.answer_peer_bandwidth = true}) {
  handshake_.exchange({}, out_);  // C0C1, built by the handshake's constructor
}

bool client_session::next_event(client_event& out) { return events_.next(out); }

void client_session::take_output(std::vector<std::uint8_t>& out) {
  out.clear();
  out.swap(out_);
}

std::error_code client_session::fail(std::error_code ec) {
  if (!error_) error_ = ec;
  phase_ = phase::closed;
  return error_;
}

std::error_code client_session::on_bytes(std::span<const std::uint8_t> bytes) {
  if (error_) return error_;
  control_.on_bytes(bytes.size());
  if (phase_ == phase::handshake) {
    const std::size_t used = handshake_.exchange(bytes, out_);
    if (auto ec = handshake_.error()) return fail(ec);
    if (!handshake_.done()) return {};
    // C2 is queued before connect, as RTMP 1.0 section 5.2.1 requires.
    phase_ = phase::connecting;
    connect_tx_ = next_transaction_++;
    command connect = connect_command(connect_tx_, config_.connect);
    if (!config_.fourcc_list.empty()) {
      // Enhanced RTMP "Enhancing NetConnection connect Command": a Strict
      // Array of FourCC strings in the command object.
      amf0::strict_array list;
      for (const auto& fourcc : config_.fourcc_list) list.push_back(fourcc);
      if (amf0::object* object = connect.command_object.as_object()) object->set("fourCcList", std::move(list));
    }
    send_command(0, connect);
    bytes = bytes.subspan(used);
  }
  if (auto ec = read_messages(reader_, bytes, [this](message& m) { return on_message(m); })) return fail(ec);
  // RTMP 1.0 section 5.4.3: an Acknowledgement after each window of bytes.
  if (auto ack = control_.acknowledgement_due()) send_control(*ack);
  return {};
}

std::error_code client_session::on_message(message& msg) {
  if (is_protocol_control(msg.type)) return on_control(msg);
  if (is_command(msg.type)) return on_command(msg);
  switch (msg.kind()) {
    case message_type::audio:
    case message_type::video:
      if (!receiving_media()) {
        ++ignored_;  // media before play (or to a publisher) is not ours to deliver
        return {};
      }
      {
        client_event ev;
        ev.type = client_event::kind::media;
        ev.msg = std::move(msg);
        push_event(std::move(ev));
      }
      return {};
    case message_type::data_amf0:
    case message_type::data_amf3:
      on_data(msg);
      return {};
    default:
      ++ignored_;  // shared objects and unknown types are skipped, never fatal
      return {};
  }
}

std::error_code client_session::on_control(const message& msg) {
  control_outcome out = control_.on_control(msg);
  if (out.error) return out.error;
  if (out.reply) send_control(*out.reply);
  if (out.event) on_user_control(*out.event);
  return {};
}

void client_session::on_user_control(const user_control& uc) {
  switch (static_cast<user_control_event>(uc.event)) {
    case user_control_event::stream_eof:
      if (mode_ == mode::play && stream_id_ != 0 && uc.value == stream_id_ && phase_ == phase::playing) {
        stream_ended("StreamEOF", nullptr);
      }
      break;
    case user_control_event::stream_begin:
      if (mode_ == mode::play && ended_ && uc.value == stream_id_ && phase_ == phase::playing) {
        ended_ = false;
        client_event ev;
        ev.type = client_event::kind::stream_resumed;
        ev.reason = "StreamBegin";
        push_event(std::move(ev));
      }
      break;
    default:
      break;
  }
}

std::error_code client_session::on_command(const message& msg) {
  const bool amf3 = msg.kind() == message_type::command_amf3;
  auto parsed = parse_command(msg.payload.span(), amf3, config_.command_limits);
  if (!parsed.ok()) return parsed.ec;
  const command& cmd = parsed.cmd;

  if (phase_ != phase::publishing && phase_ != phase::playing && phase_ != phase::finished) {
    // Before the stream runs, every command is negotiation: bound them so an
    // endless onStatus (or onBWDone) flood cannot keep us busy forever.
    if (++negotiation_commands_ > config_.max_negotiation_commands) return errc::too_many_commands;
  }

  if (cmd.name == "_result") return on_result(cmd, false);
  if (cmd.name == "_error") return on_result(cmd, true);
  if (cmd.name == "onStatus") return on_status_command(cmd);
  if (cmd.name == "close") return errc::peer_closed;  // some servers ask the client to disconnect
  // onBWDone, onFCPublish, onFCUnpublish, _checkbw and unknown calls: nothing
  // to do. (Answering calls we do not implement is optional; we stay quiet.)
  ++ignored_;
  return {};
}

std::error_code client_session::on_result(const command& cmd, bool is_error) {
  auto info = read_status(cmd);
  if (connect_tx_ != 0 && cmd.transaction_id == connect_tx_ && phase_ == phase::connecting) {
    const bool rejected = is_error || (info && (is_error_level(*info) || contains(info->code, "Rejected") ||
                                                contains(info->code, "Failed")));
    if (rejected) {
      if (info) last_error_ = *info;
      return errc::connect_rejected;
    }
    client_event ev;
    ev.type = client_event::kind::connected;
    if (info) ev.status = *info;
    push_event(std::move(ev));
    on_connected();
    return {};
  }
  if (create_stream_tx_ != 0 && cmd.transaction_id == create_stream_tx_ && phase_ == phase::creating_stream) {
    const auto id = number_argument(cmd, 0);
    // Written so that NaN fails too (a hostile server's stream id).
    if (is_error || !id || !(*id >= 1 && *id <= 0xFFFFFFFF)) {
      if (info) last_error_ = *info;
      return mode_ == mode::publish ? errc::publish_rejected : errc::play_rejected;
    }
    stream_id_ = static_cast<std::uint32_t>(*id);
    send_stream_command();
    return {};
  }
  if (is_error && stream_tx_ != 0 && cmd.transaction_id == stream_tx_ && phase_ == phase::starting) {
    // e.g. NetConnection.Call.Failed for publish on an unknown stream id.
    if (info) last_error_ = *info;
    return mode_ == mode::publish ? errc::publish_rejected : errc::play_rejected;
  }
  ++ignored_;  // answers to releaseStream, FCPublish, ... need no action
  return {};
}

std::error_code client_session::on_status_command(const command& cmd) {
  auto info_opt = read_status(cmd);
  if (!info_opt) {
    ++ignored_;
    return {};
  }
  status_info info = std::move(*info_opt);
  const std::string_view code = info.code;

  if (phase_ == phase::connecting) {
    if (contains(code, "Connect.Rejected") || contains(code, "Connect.Failed") || is_error_level(info)) {
      last_error_ = info;
      return errc::connect_rejected;
    }
  }

  if (phase_ == phase::starting || phase_ == phase::creating_stream) {
    // A start is only believed once createStream gave us a stream id to
    // publish or play on (a hostile server may send it earlier).
    if (phase_ == phase::starting && mode_ == mode::publish && code == code_publish_start) {
      phase_ = phase::publishing;
      client_event ev;
      ev.type = client_event::kind::publish_started;
      ev.status = std::move(info);
      push_event(std::move(ev));
      return {};
    }
    if (phase_ == phase::starting && mode_ == mode::play && code == code_play_start) {
      phase_ = phase::playing;
      client_event ev;
      ev.type = client_event::kind::play_started;
      ev.status = std::move(info);
      push_event(std::move(ev));
      return {};
    }
    const bool refusal = is_error_level(info) || contains(code, "BadName") || contains(code, "StreamNotFound") ||
                         contains(code, "Play.Failed") || contains(code, "Publish.Denied") ||
                         contains(code, "Unauthorized") || contains(code, "Rejected");
    if (refusal) {
      last_error_ = info;
      if (contains(code, "Unauthorized") || contains(code, "Rejected")) return errc::unauthorized;
      return mode_ == mode::publish ? errc::publish_rejected : errc::play_rejected;
    }
  }

  if (mode_ == mode::play && (phase_ == phase::playing || phase_ == phase::starting)) {
    if (contains(code, "Play.UnpublishNotify") || contains(code, "Play.Stop") || contains(code, "Play.Complete")) {
      if (phase_ == phase::playing) {
        stream_ended(info.code, &info);
        return {};
      }
    } else if (contains(code, "Play.PublishNotify") && ended_) {
      ended_ = false;
      client_event ev;
      ev.type = client_event::kind::stream_resumed;
      ev.reason = info.code;
      ev.status = std::move(info);
      push_event(std::move(ev));
      return {};
    }
  }
  if (mode_ == mode::publish && phase_ == phase::publishing &&
      (contains(code, "Unpublish.Success") || is_error_level(info))) {
    // The server stopped our stream (shutdown, kick by a takeover).
    if (is_error_level(info)) last_error_ = info;
    stream_ended(info.code, &info);
    return {};
  }

  client_event ev;
  ev.type = client_event::kind::status;
  ev.status = std::move(info);
  push_event(std::move(ev));
  return {};
}

void client_session::on_data(message& msg) {
  if (!receiving_media()) {
    ++ignored_;
    return;
  }
  std::span<const std::uint8_t> body = msg.payload.span();
  if (msg.kind() == message_type::data_amf3 && !body.empty() && body[0] == 0) body = body.subspan(1);
  std::string storage;
  const std::string_view name = first_string(body, storage);
  if (name.empty() || name == "|RtmpSampleAccess") {
    ++ignored_;  // access flags for Flash players, or not AMF0 at all
    return;
  }
  client_event ev;
  ev.type = client_event::kind::media;
  if (name == "@setDataFrame") {
    auto stripped = strip_set_data_frame(body, config_.data_limits);
    if (!stripped.ok() || stripped.values.empty()) {
      ++ignored_;
      return;
    }
    ev.metadata = stripped.values.front().as_string() == "onMetaData";
    msg.payload = shared_bytes::copy_of(stripped.payload);
  } else {
    ev.metadata = name == "onMetaData";
    if (body.size() != msg.payload.size()) msg.payload = shared_bytes::copy_of(body);
  }
  msg.type = static_cast<std::uint8_t>(message_type::data_amf0);
  ev.msg = std::move(msg);
  push_event(std::move(ev));
}

void client_session::on_connected() {
  phase_ = phase::connected;
  // Our outbound chunk size: large chunks mean few headers for media.
  send_control(make_set_chunk_size(config_.chunk_size));
  writer_.set_chunk_size(config_.chunk_size);
  if (mode_ != mode::none) start_stream_request();
}

void client_session::start_stream_request() {
  if (mode_ == mode::publish) {
    // What FMLE-lineage encoders send; servers that do not know them answer
    // _error or nothing, both ignored.
    send_command(0, release_stream_command(next_transaction_++, stream_name_));
    send_command(0, fc_publish_command(next_transaction_++, stream_name_));
  }
  create_stream_tx_ = next_transaction_++;
  send_command(0, create_stream_command(create_stream_tx_));
  phase_ = phase::creating_stream;
}

void client_session::send_stream_command() {
  stream_tx_ = next_transaction_++;
  if (mode_ == mode::publish) {
    send_command(stream_id_, publish_command(stream_tx_, stream_name_, publish_type_));
  } else {
    send_command(stream_id_, play_command(stream_tx_, stream_name_, play_start_));
    send_control(make_set_buffer_length(stream_id_, config_.buffer_length_ms));
  }
  phase_ = phase::starting;
}

std::error_code client_session::publish(std::string stream_name, std::string type) {
  if (mode_ != mode::none || phase_ == phase::finished || phase_ == phase::closed) return errc::command_out_of_order;
  mode_ = mode::publish;
  stream_name_ = std::move(stream_name);
  publish_type_ = std::move(type);
  if (phase_ == phase::connected) start_stream_request();
  return {};
}

std::error_code client_session::play(std::string stream_name, double start) {
  if (mode_ != mode::none || phase_ == phase::finished || phase_ == phase::closed) return errc::command_out_of_order;
  mode_ = mode::play;
  stream_name_ = std::move(stream_name);
  play_start_ = start;
  if (phase_ == phase::connected) start_stream_request();
  return {};
}

std::error_code client_session::send_media(const message& msg) {
  if (phase_ != phase::publishing) return errc::command_out_of_order;
  std::uint32_t csid = 0;
  switch (msg.kind()) {
    case message_type::audio: csid = client_csid::audio; break;
    case message_type::video: csid = client_csid::video; break;
    case message_type::data_amf0: csid = client_csid::data; break;
    default: return errc::command_malformed;
  }
  message m = msg;
  m.stream_id = stream_id_;
  writer_.write(csid, m, out_);
  return {};
}

std::error_code client_session::send_script_data(std::span<const std::uint8_t> payload, std::uint32_t timestamp) {
  if (phase_ != phase::publishing) return errc::command_out_of_order;
  std::string storage;
  message m;
  m.type = static_cast<std::uint8_t>(message_type::data_amf0);
  m.timestamp = timestamp;
  if (first_string(payload, storage) == "onMetaData") {
    // "@setDataFrame" followed by the tag body unchanged: the server strips
    // the wrapper and relays exactly the bytes the file carried.
    std::vector<std::uint8_t> wrapped;
    if (auto ec = amf0::encode(amf0::value("@setDataFrame"), wrapped)) return ec;
    wrapped.insert(wrapped.end(), payload.begin(), payload.end());
    m.payload = shared_bytes::copy_of(wrapped);
  } else {
    m.payload = shared_bytes::copy_of(payload);
  }
  return send_media(m);
}

void client_session::finish() {
  if (phase_ == phase::finished || phase_ == phase::closed) return;
  if (mode_ == mode::publish && stream_id_ != 0) {
    send_command(0, fc_unpublish_command(next_transaction_++, stream_name_));
    send_command(0, delete_stream_command(next_transaction_++, stream_id_));
  } else if (mode_ == mode::play && stream_id_ != 0) {
    send_command(0, delete_stream_command(next_transaction_++, stream_id_));
  }
  phase_ = phase::finished;
}

void client_session::stream_ended(std::string reason, const status_info* status) {
  if (ended_) return;  // UnpublishNotify and Stream EOF usually come together
  ended_ = true;
  client_event ev;
  ev.type = client_event::kind::stream_ended;
  ev.reason = std::move(reason);
  if (status != nullptr) ev.status = *status;
  push_event(std::move(ev));
}

void client_session::send_command(std::uint32_t stream_id, const command& cmd) {
  message m;
  // Fails only for absurd key lengths, which are never built here.
  if (!make_command_message(cmd, stream_id, scratch_, m)) writer_.write(client_csid::command, m, out_);
}

void client_session::send_control(const message& msg) { writer_.write(client_csid::control, msg, out_); }

void client_session::push_event(client_event ev) { events_.push(std::move(ev)); }

}  // namespace rtmp::proto
