#include "rtmp/proto/control_message.hpp"

#include "rtmp/error.hpp"
#include "rtmp/proto/byte_order.hpp"

namespace rtmp::proto {
namespace {

message make_control(message_type type, std::span<const std::uint8_t> payload) {
  message m;
  m.type = static_cast<std::uint8_t>(type);
  m.payload = shared_bytes::copy_of(payload);
  return m;
}

message make_u32_control(message_type type, std::uint32_t value) {
  std::uint8_t b[4];
  store_be32(b, value);
  return make_control(type, b);
}

}  // namespace

message make_set_chunk_size(std::uint32_t size) {
  return make_u32_control(message_type::set_chunk_size, size & 0x7FFFFFFFu);
}

message make_abort(std::uint32_t csid) { return make_u32_control(message_type::abort, csid); }

message make_acknowledgement(std::uint32_t sequence_number) {
  return make_u32_control(message_type::acknowledgement, sequence_number);
}

message make_window_ack_size(std::uint32_t window) {
  return make_u32_control(message_type::window_ack_size, window);
}

message make_set_peer_bandwidth(std::uint32_t window, bandwidth_limit limit) {
  std::uint8_t b[5];
  store_be32(b, window);
  b[4] = static_cast<std::uint8_t>(limit);
  return make_control(message_type::set_peer_bandwidth, b);
}

message make_user_control(user_control_event event, std::uint32_t value) {
  std::uint8_t b[6];
  store_be16(b, static_cast<std::uint16_t>(event));
  store_be32(b + 2, value);
  return make_control(message_type::user_control, b);
}

message make_set_buffer_length(std::uint32_t stream_id, std::uint32_t buffer_ms) {
  std::uint8_t b[10];
  store_be16(b, static_cast<std::uint16_t>(user_control_event::set_buffer_length));
  store_be32(b + 2, stream_id);
  store_be32(b + 6, buffer_ms);
  return make_control(message_type::user_control, b);
}

std::error_code parse_u32_control(std::span<const std::uint8_t> payload, std::uint32_t& out) {
  if (payload.size() < 4) return errc::control_message_malformed;
  out = load_be32(payload.data());
  return {};
}

std::error_code parse_set_chunk_size(std::span<const std::uint8_t> payload, std::uint32_t& size) {
  std::uint32_t v = 0;
  if (auto ec = parse_u32_control(payload, v)) return ec;
  if (v == 0 || (v & 0x80000000u) != 0) return errc::chunk_size_invalid;
  size = v;
  return {};
}

std::error_code parse_user_control(std::span<const std::uint8_t> payload, user_control& out) {
  if (payload.size() < 6) return errc::control_message_malformed;
  user_control uc;
  uc.event = load_be16(payload.data());
  uc.value = load_be32(payload.data() + 2);
  if (uc.event == static_cast<std::uint16_t>(user_control_event::set_buffer_length)) {
    if (payload.size() < 10) return errc::control_message_malformed;
    uc.value2 = load_be32(payload.data() + 6);
  }
  out = uc;
  return {};
}

std::error_code parse_peer_bandwidth(std::span<const std::uint8_t> payload, peer_bandwidth& out) {
  if (payload.size() < 5) return errc::control_message_malformed;
  out.window = load_be32(payload.data());
  out.limit = payload[4];
  return {};
}

}  // namespace rtmp::proto
