#include "rtmp/proto/control_responder.hpp"

namespace rtmp::proto {

control_outcome control_responder::on_control(const message& msg) {
  control_outcome out;
  switch (msg.kind()) {
    case message_type::window_ack_size: {
      std::uint32_t window = 0;
      out.error = parse_u32_control(msg.payload.span(), window);
      if (!out.error) peer_window_ = window;
      return out;
    }
    case message_type::set_peer_bandwidth: {
      peer_bandwidth pb;
      out.error = parse_peer_bandwidth(msg.payload.span(), pb);
      if (out.error || !config_.answer_peer_bandwidth) return out;
      if (pb.window != 0 && pb.window != announced_window_) {
        announced_window_ = pb.window;
        out.reply = make_window_ack_size(pb.window);
      }
      return out;
    }
    case message_type::user_control: {
      user_control uc;
      out.error = parse_user_control(msg.payload.span(), uc);
      if (out.error) return out;
      if (uc.event != static_cast<std::uint16_t>(user_control_event::ping_request)) {
        out.event = uc;
        return out;
      }
      if (ping_replies_ >= config_.max_ping_replies_per_read) {
        out.ignored = true;  // one answer is all a live peer needs
        return out;
      }
      ++ping_replies_;
      out.reply = make_user_control(user_control_event::ping_response, uc.value);
      return out;
    }
    case message_type::acknowledgement: {
      std::uint32_t sequence = 0;
      out.error = parse_u32_control(msg.payload.span(), sequence);
      return out;
    }
    default:
      return out;  // Set Chunk Size and Abort: applied by the chunk reader
  }
}

std::optional<message> control_responder::acknowledgement_due() {
  if (peer_window_ == 0) return std::nullopt;
  if (bytes_in_ - last_ack_at_ < peer_window_) return std::nullopt;
  last_ack_at_ = bytes_in_;
  ++acks_sent_;
  return make_acknowledgement(static_cast<std::uint32_t>(bytes_in_));
}

}  // namespace rtmp::proto
