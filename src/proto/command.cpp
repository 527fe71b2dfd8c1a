// RTMP command and data message helpers (RTMP 1.0 sections 7.1.1, 7.1.2, 7.2).

#include "rtmp/proto/command.hpp"

#include <utility>

namespace rtmp::proto {
namespace {

// Builds a command with a null command object.
command make(std::string_view name, double transaction_id, std::vector<amf0::value> args = {}) {
  command c;
  c.name = std::string(name);
  c.transaction_id = transaction_id;
  c.arguments = std::move(args);
  return c;
}

std::string string_field(const amf0::value& obj, std::string_view key) {
  const amf0::value* v = obj.get(key);
  return v ? std::string(v->as_string()) : std::string();
}

std::vector<std::uint8_t> encode_values(std::span<const amf0::value> values) {
  std::vector<std::uint8_t> out;
  if (amf0::encode_all(values, out)) out.clear();
  return out;
}

}  // namespace

command_parse_result parse_command(std::span<const std::uint8_t> payload, bool amf3_message,
                                   const amf0::decode_limits& limits) {
  command_parse_result r;
  // RTMP 1.0 section 7.1.1: a type-17 command starts with a format byte 0x00
  // followed by AMF0. Without it we still try AMF0 (the name must be a String).
  const std::size_t start = (amf3_message && !payload.empty() && payload[0] == 0x00) ? 1 : 0;
  amf0::decoder d(payload, limits, start);
  auto failed = [&r](const amf0::decode_result& dr) {
    r.ec = dr.ec;
    r.offset = dr.offset;
    return r;
  };

  amf0::value name;
  std::size_t at = d.offset();
  if (auto dr = d.next(name); !dr.ok()) return failed(dr);
  if (!name.is_string()) return failed({make_error_code(errc::amf_unexpected_type), at});
  r.cmd.name = std::string(name.as_string());

  if (!d.at_end()) {
    amf0::value txn;
    at = d.offset();
    if (auto dr = d.next(txn); !dr.ok()) return failed(dr);
    if (txn.is_number()) {
      r.cmd.transaction_id = txn.as_number();
    } else if (!txn.is_nullish()) {
      return failed({make_error_code(errc::amf_unexpected_type), at});
    }
  }
  if (!d.at_end()) {
    if (auto dr = d.next(r.cmd.command_object); !dr.ok()) return failed(dr);
  }
  while (!d.at_end()) {
    amf0::value arg;
    if (auto dr = d.next(arg); !dr.ok()) return failed(dr);
    r.cmd.arguments.push_back(std::move(arg));
  }
  r.offset = d.offset();
  return r;
}

std::error_code encode_command(const command& c, std::vector<std::uint8_t>& out) {
  const std::size_t original = out.size();
  const amf0::value head[] = {amf0::value(c.name), amf0::value(c.transaction_id)};
  std::error_code ec = amf0::encode_all(head, out);
  if (!ec) ec = amf0::encode(c.command_object, out);
  if (!ec) ec = amf0::encode_all(c.arguments, out);
  if (ec) out.resize(original);
  return ec;
}

std::error_code make_command_message(const command& c, std::uint32_t stream_id, std::vector<std::uint8_t>& scratch,
                                     message& out) {
  scratch.clear();
  if (auto ec = encode_command(c, scratch)) return ec;
  out.type = static_cast<std::uint8_t>(message_type::command_amf0);
  out.timestamp = 0;
  out.stream_id = stream_id;
  out.payload = shared_bytes::copy_of(scratch);
  return {};
}

std::vector<std::uint8_t> encode_command(const command& c) {
  std::vector<std::uint8_t> out;
  if (encode_command(c, out)) out.clear();
  return out;
}

// --- reading ---------------------------------------------------------------------

std::optional<std::string_view> string_argument(const command& c, std::size_t i) noexcept {
  const amf0::value* v = c.argument(i);
  if (!v || !v->is_string()) return std::nullopt;
  return v->as_string();
}

std::optional<double> number_argument(const command& c, std::size_t i) noexcept {
  const amf0::value* v = c.argument(i);
  if (!v || !v->is_number()) return std::nullopt;
  return v->as_number();
}

std::optional<status_info> read_status(const command& c) {
  const amf0::value* info = nullptr;
  for (const amf0::value& arg : c.arguments) {
    if (arg.is_object_like()) {
      info = &arg;
      break;
    }
  }
  if (!info && c.command_object.is_object_like()) info = &c.command_object;
  if (!info) return std::nullopt;
  status_info s;
  s.level = string_field(*info, "level");
  s.code = string_field(*info, "code");
  s.description = string_field(*info, "description");
  s.details = string_field(*info, "details");
  if (const amf0::value* id = info->get("clientid")) s.client_id = *id;
  return s;
}

std::error_code read_connect(const command& c, connect_request& out) {
  const amf0::value& obj = c.command_object;
  const amf0::value* app = obj.get("app");
  if (!app || !app->is_string()) return make_error_code(errc::command_malformed);
  out.app = std::string(app->as_string());
  out.tc_url = string_field(obj, "tcUrl");
  out.flash_ver = string_field(obj, "flashVer");
  out.swf_url = string_field(obj, "swfUrl");
  out.page_url = string_field(obj, "pageUrl");
  out.type = string_field(obj, "type");
  const amf0::value* enc = obj.get("objectEncoding");
  out.object_encoding = (enc && enc->as_number() == 3) ? 3 : 0;
  return {};
}

std::error_code read_publish(const command& c, publish_request& out) {
  const auto name = string_argument(c, 0);
  if (!name) return make_error_code(errc::command_malformed);
  out.stream_name = std::string(*name);
  const auto type = string_argument(c, 1);
  out.type = type ? std::string(*type) : std::string("live");
  return {};
}

std::error_code read_play(const command& c, play_request& out) {
  const auto name = string_argument(c, 0);
  if (!name) return make_error_code(errc::command_malformed);
  out.stream_name = std::string(*name);
  out.start = number_argument(c, 1).value_or(-2);
  out.duration = number_argument(c, 2).value_or(-1);
  const amf0::value* reset = c.argument(3);
  out.reset = reset ? reset->as_bool(true) : true;
  return {};
}

// --- server side ---------------------------------------------------------------------

command connect_result(double transaction_id, double object_encoding) {
  command c = make("_result", transaction_id);
  c.command_object = amf0::object{
      {"fmsVer", default_fms_version},
      {"capabilities", 31},
      {"mode", 1},
  };
  c.arguments.push_back(amf0::object{
      {"level", "status"},
      {"code", "NetConnection.Connect.Success"},
      {"description", "Connection succeeded."},
      {"objectEncoding", object_encoding == 3 ? 3 : 0},
  });
  return c;
}

command create_stream_result(double transaction_id, double stream_id) {
  return make("_result", transaction_id, {stream_id});
}

command error_result(double transaction_id, std::string_view code, std::string_view description) {
  status_info info;
  info.level = "error";
  info.code = std::string(code);
  info.description = std::string(description);
  return make("_error", transaction_id, {status_object(info)});
}

amf0::object status_object(const status_info& info) {
  amf0::object o{
      {"level", info.level},
      {"code", info.code},
      {"description", info.description},
  };
  if (!info.details.empty()) o.push_back("details", info.details);
  if (!info.client_id.is_undefined()) o.push_back("clientid", info.client_id);
  return o;
}

command on_status(const status_info& info) { return make("onStatus", 0, {status_object(info)}); }

command on_status(std::string_view level, std::string_view code, std::string_view description) {
  status_info info;
  info.level = std::string(level);
  info.code = std::string(code);
  info.description = std::string(description);
  return on_status(info);
}

command on_fc_publish(std::string_view code, std::string_view description) {
  return make("onFCPublish", 0, {amf0::object{{"code", code}, {"description", description}}});
}

command on_fc_unpublish(std::string_view code, std::string_view description) {
  return make("onFCUnpublish", 0, {amf0::object{{"code", code}, {"description", description}}});
}

command on_bw_done() { return make("onBWDone", 0); }

// --- data messages ---------------------------------------------------------------------

std::vector<std::uint8_t> sample_access_message(bool audio, bool video) {
  const amf0::value values[] = {"|RtmpSampleAccess", audio, video};
  return encode_values(values);
}

amf0::decode_result parse_data_message(std::span<const std::uint8_t> payload,
                                       std::vector<amf0::value>& out,
                                       const amf0::decode_limits& limits) {
  return amf0::decode_all(payload, out, limits);
}

set_data_frame_result strip_set_data_frame(std::span<const std::uint8_t> payload,
                                           const amf0::decode_limits& limits) {
  set_data_frame_result r;
  const amf0::decode_result dr = amf0::decode_all(payload, r.values, limits);
  if (!dr.ok()) {
    r.ec = dr.ec;
    r.offset = dr.offset;
    r.values.clear();
    return r;
  }
  // Some encoders put up to two Numbers before the wrapper name; nginx-rtmp
  // skips them as well. Only strip them when the wrapper follows.
  std::size_t skip = 0;
  while (skip < 2 && skip < r.values.size() && r.values[skip].is_number()) ++skip;
  if (skip < r.values.size() && r.values[skip].is_string() &&
      r.values[skip].as_string() == "@setDataFrame") {
    r.values.erase(r.values.begin(), r.values.begin() + static_cast<std::ptrdiff_t>(skip + 1));
    r.wrapped = true;
    if (r.values.empty() || !r.values.front().is_string()) {
      r.ec = make_error_code(errc::command_malformed);
      r.offset = payload.size();
      r.values.clear();
      return r;
    }
  }
  if (std::error_code ec = amf0::encode_all(r.values, r.payload)) {
    r.ec = ec;
    r.values.clear();
  }
  return r;
}

std::vector<std::uint8_t> on_metadata_message(const amf0::value& metadata) {
  const amf0::value values[] = {"onMetaData", metadata};
  return encode_values(values);
}

std::vector<std::uint8_t> set_data_frame_message(const amf0::value& metadata) {
  const amf0::value values[] = {"@setDataFrame", "onMetaData", metadata};
  return encode_values(values);
}

// --- client side ------------------------------------------------------------------------

command connect_command(double transaction_id, const connect_params& params) {
  command c = make("connect", transaction_id);
  amf0::object o{
      {"app", params.app},
      {"type", "nonprivate"},
      {"flashVer", params.flash_ver},
  };
  if (!params.swf_url.empty()) o.push_back("swfUrl", params.swf_url);
  o.push_back("tcUrl", params.tc_url);
  o.push_back("fpad", false);
  o.push_back("capabilities", 15);
  o.push_back("audioCodecs", 4071);
  o.push_back("videoCodecs", 252);
  o.push_back("videoFunction", 1);
  if (!params.page_url.empty()) o.push_back("pageUrl", params.page_url);
  o.push_back("objectEncoding", params.object_encoding);
  c.command_object = std::move(o);
  return c;
}

command release_stream_command(double transaction_id, std::string_view stream_name) {
  return make("releaseStream", transaction_id, {stream_name});
}

command fc_publish_command(double transaction_id, std::string_view stream_name) {
  return make("FCPublish", transaction_id, {stream_name});
}

command fc_unpublish_command(double transaction_id, std::string_view stream_name) {
  return make("FCUnpublish", transaction_id, {stream_name});
}

command create_stream_command(double transaction_id) { return make("createStream", transaction_id); }

command publish_command(double transaction_id, std::string_view stream_name, std::string_view type) {
  return make("publish", transaction_id, {stream_name, type});
}

command play_command(double transaction_id, std::string_view stream_name, double start) {
  return make("play", transaction_id, {stream_name, start});
}

command delete_stream_command(double transaction_id, double stream_id) {
  return make("deleteStream", transaction_id, {stream_id});
}

command close_stream_command(double transaction_id) { return make("closeStream", transaction_id); }

command get_stream_length_command(double transaction_id, std::string_view stream_name) {
  return make("getStreamLength", transaction_id, {stream_name});
}

}  // namespace rtmp::proto
