#pragma once
/// @file control_responder.hpp
/// The protocol control handling both roles share, sans-I/O: counting the
/// bytes received and acknowledging each window of them (RTMP 1.0 section
/// 5.4.3), remembering the peer's Window Acknowledgement Size (5.4.4),
/// answering Set Peer Bandwidth (5.4.5), answering PingRequest (7.1.7)
/// within a per-read budget, and validating every control payload.
/// `client_session` and `server_session` each hold one; what is particular
/// to a role (StreamBegin/StreamEOF for a player, PingResponse for a
/// server's liveness check) comes back as a user control event.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <system_error>

#include "rtmp/proto/control_message.hpp"
#include "rtmp/proto/message.hpp"

namespace rtmp::proto {

/// Settings of a control_responder.
struct control_responder_config {
  /// Answer Set Peer Bandwidth with a Window Acknowledgement Size of that
  /// window when it differs from the one last announced (what a client
  /// does, section 5.4.5). Off: the message is only validated (a server
  /// does not limit its output by it).
  bool answer_peer_bandwidth = false;
  /// PingRequests answered per read (`on_bytes`); further ones are ignored,
  /// so a flood of pings does not become a flood of replies (T-39).
  std::size_t max_ping_replies_per_read = std::numeric_limits<std::size_t>::max();
};

/// What one control message asks of the session.
struct control_outcome {
  std::error_code error;                ///< A malformed payload: the session fails.
  std::optional<message> reply;         ///< A reply to send on the control chunk stream.
  std::optional<user_control> event;    ///< A user control event for the session (not PingRequest).
  bool ignored = false;                 ///< Dropped under the ping budget.
};

/// One session's protocol control state. Not thread-safe.
class control_responder {
 public:
  explicit control_responder(control_responder_config config = {}) noexcept : config_(config) {}

  /// A read of `n` bytes arrived (handshake bytes included, as the
  /// acknowledgement sequence number counts them); a new ping budget starts.
  void on_bytes(std::size_t n) noexcept {
    bytes_in_ += n;
    ping_replies_ = 0;
  }

  /// Handles a message of types 1 to 6. Set Chunk Size and Abort were
  /// applied by the chunk reader and need nothing more here.
  control_outcome on_control(const message& msg);

  /// The Acknowledgement due now, if a window's worth of bytes arrived
  /// since the last one; none while the peer's window is 0 (T-23).
  std::optional<message> acknowledgement_due();

  /// Bytes received (`on_bytes`).
  std::uint64_t bytes_received() const noexcept { return bytes_in_; }
  /// Acknowledgements produced.
  std::uint64_t acknowledgements_sent() const noexcept { return acks_sent_; }
  /// The peer's Window Acknowledgement Size (0: none announced).
  std::uint32_t peer_window() const noexcept { return peer_window_; }

 private:
  control_responder_config config_;
  std::uint32_t peer_window_ = 0;       // the peer's Window Acknowledgement Size; 0: no acks
  std::uint32_t announced_window_ = 0;  // our last answer to Set Peer Bandwidth
  std::uint64_t bytes_in_ = 0;
  std::uint64_t last_ack_at_ = 0;
  std::uint64_t acks_sent_ = 0;
  std::size_t ping_replies_ = 0;        // in the current read
};

}  // namespace rtmp::proto
