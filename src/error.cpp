#include "rtmp/error.hpp"

namespace rtmp {
namespace {

class rtmp_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "rtmp"; }

  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::ok: return "success";
      case errc::amf_truncated: return "AMF decode: value truncated";
      case errc::amf_unknown_marker: return "AMF decode: unknown type marker";
      case errc::amf_depth_exceeded: return "AMF decode: nesting depth limit exceeded";
      case errc::amf_too_many_nodes: return "AMF decode: value count limit exceeded";
      case errc::amf_string_too_long: return "AMF: string length limit exceeded";
      case errc::amf_count_exceeds_bytes: return "AMF decode: declared element count exceeds remaining bytes";
      case errc::amf_unsupported_amf3: return "AMF decode: AMF3 (AVM+) value not supported here";
      case errc::amf_bad_reference: return "AMF decode: reference to an unknown object";
      case errc::amf_unexpected_type: return "AMF: value of an unexpected type";
      case errc::amf_missing_object_end: return "AMF decode: object without end marker";
      case errc::handshake_unsupported_version: return "handshake: unsupported RTMP version";
      case errc::handshake_bad_echo: return "handshake: peer did not echo our random block";
      case errc::handshake_state: return "handshake: operation not allowed in this phase";
      case errc::chunk_no_previous_header: return "chunk: header compression without a previous header on this chunk stream";
      case errc::chunk_size_invalid: return "chunk: invalid Set Chunk Size value";
      case errc::chunk_size_below_floor: return "chunk: Set Chunk Size below the configured minimum";
      case errc::message_too_large: return "chunk: message length above the configured maximum";
      case errc::message_length_changed: return "chunk: message length changed in the middle of a message";
      case errc::partial_bytes_exceeded: return "chunk: partial message bytes exceed the per-connection budget";
      case errc::too_many_chunk_streams: return "chunk: too many chunk streams with partial messages";
      case errc::control_message_malformed: return "chunk: malformed protocol control message";
      case errc::aggregate_malformed: return "chunk: malformed aggregate message";
      case errc::message_interrupted: return "chunk: new message started while the previous one was incomplete";
      case errc::command_malformed: return "command: malformed command message";
      case errc::command_out_of_order: return "command: not allowed in the session's current state";
      case errc::stream_id_exhausted: return "command: too many message streams on one connection";
      case errc::stream_name_invalid: return "command: invalid application or stream name";
      case errc::stream_busy: return "stream is already being published";
      case errc::unauthorized: return "not authorized";
      case errc::connect_rejected: return "connect rejected by the server";
      case errc::publish_rejected: return "publish rejected by the server";
      case errc::play_rejected: return "play rejected by the server";
      case errc::url_malformed: return "malformed RTMP URL";
      case errc::too_many_commands: return "command: too many commands before the stream started";
      case errc::peer_closed: return "connection closed by peer";
      case errc::timeout: return "timed out";
      case errc::queue_overflow: return "outbound queue limit exceeded";
      case errc::shutting_down: return "server is shutting down";
      case errc::flv_malformed: return "FLV: malformed input";
      case errc::flv_truncated: return "FLV: input truncated inside a tag";
      case errc::flv_encrypted: return "FLV: encrypted or filtered tag (Filter bit set) not supported";
      case errc::flv_tag_too_large: return "FLV: tag size above the configured maximum";
      case errc::http_malformed: return "HTTP: malformed request";
      case errc::http_body_too_large: return "HTTP: request body above the configured maximum";
      case errc::http_uri_too_long: return "HTTP: request line above the configured maximum";
      case errc::http_headers_too_large: return "HTTP: request header section above the configured limits";
      case errc::http_transfer_coding_unsupported: return "HTTP: Transfer-Encoding request bodies (chunked) are not supported";
      case errc::http_version_unsupported: return "HTTP: version not supported (only HTTP/1.0 and HTTP/1.1)";
    }
    return "unknown rtmp error " + std::to_string(value);
  }

  bool equivalent(int value, const std::error_condition& cond) const noexcept override {
    if (cond.category() != rtmp_condition_category()) return false;
    return classify(value) == cond.value();
  }

 private:
  static int classify(int value) noexcept {
    const auto e = static_cast<errc>(value);
    switch (e) {
      case errc::amf_depth_exceeded:
      case errc::amf_too_many_nodes:
      case errc::amf_string_too_long:
      case errc::chunk_size_below_floor:
      case errc::message_too_large:
      case errc::partial_bytes_exceeded:
      case errc::too_many_chunk_streams:
      case errc::stream_id_exhausted:
      case errc::too_many_commands:
      case errc::queue_overflow:
      case errc::flv_tag_too_large:
      case errc::http_body_too_large:
      case errc::http_uri_too_long:
      case errc::http_headers_too_large:
        return static_cast<int>(condition::resource_limit);
      case errc::peer_closed:
      case errc::shutting_down:
        return static_cast<int>(condition::peer_closed);
      case errc::timeout:
        return static_cast<int>(condition::timeout);
      case errc::ok:
        return 0;
      default:
        return static_cast<int>(condition::protocol_violation);
    }
  }
};

class rtmp_condition_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "rtmp-condition"; }
  std::string message(int value) const override {
    switch (static_cast<condition>(value)) {
      case condition::protocol_violation: return "protocol violation";
      case condition::resource_limit: return "resource limit exceeded";
      case condition::peer_closed: return "peer closed";
      case condition::timeout: return "timeout";
    }
    return "unknown condition";
  }
};

}  // namespace

const std::error_category& rtmp_category() noexcept {
  static const rtmp_category_impl instance;
  return instance;
}

const std::error_category& rtmp_condition_category() noexcept {
  static const rtmp_condition_category_impl instance;
  return instance;
}

}  // namespace rtmp
