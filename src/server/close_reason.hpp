#pragma once
// Why a connection ends. Every connection kind closes with one of these
// values (plus free detail such as an OS error or an operator's words); the
// log text, the log level, whether the socket is reset instead of closed
// with a FIN, and the /metrics label all come from one table here.
// Internal to the networking layer.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "server/server_metrics.hpp"

namespace rtmp::net {

/// Why a connection closed.
enum class close_reason : std::uint8_t {
  peer_closed,           ///< EOF from the peer.
  read_error,            ///< A socket read failed (detail: the error).
  write_error,           ///< A socket write failed (detail: the error).
  tls_handshake_failed,  ///< RTMPS: the TLS handshake failed (detail: the error).
  protocol_error,        ///< Malformed or forbidden input (detail: the error).
  handshake_timeout,     ///< No complete handshake in time.
  negotiate_timeout,     ///< No publish or play in time.
  idle_timeout,          ///< A publisher that sent nothing for too long.
  ping_timeout,          ///< A player that stopped answering pings.
  slow_player_at_bound,  ///< Over the queue bound with policy disconnect.
  slow_player_overdue,   ///< Over the queue bound for longer than slow_disconnect_after.
  control_flood,         ///< Control replies the peer provokes but does not read.
  refused,               ///< A publish or play request refused.
  unauthorized,          ///< A publish or play refused for want of authorization.
  kicked,                ///< Replaced by a new publisher or kicked by an operator (detail: why).
  stream_ended,          ///< HTTP-FLV: the publisher stopped, so the body ended.
  shutdown,              ///< The server is stopping.
  count_
};

/// How loudly a close is logged.
enum class close_log_level : std::uint8_t { info, warn };

/// What the table says of one close_reason.
struct close_reason_info {
  std::string_view name;   ///< Short name (the log limiter's key).
  std::string_view text;   ///< Log text; the detail follows after ": ".
  close_kind metric;       ///< The /metrics label (rtmp_connections_closed_total{reason}).
  close_log_level level;   ///< Log level of the close line.
  bool reset;              ///< Reset (SO_LINGER 0) instead of a FIN: the kernel drops what a stuck peer did not read.
};

/// The one table, indexed by close_reason.
inline constexpr std::array<close_reason_info, static_cast<std::size_t>(close_reason::count_)> close_reasons = {{
    {"peer_closed", "peer closed the connection", close_kind::peer_closed, close_log_level::info, false},
    {"read_error", "read error", close_kind::io_error, close_log_level::info, false},
    {"write_error", "write error", close_kind::io_error, close_log_level::info, false},
    {"tls_handshake", "TLS handshake failed", close_kind::protocol_error, close_log_level::info, false},
    {"protocol_error", "protocol error", close_kind::protocol_error, close_log_level::warn, false},
    {"handshake_timeout", "handshake timeout", close_kind::handshake_timeout, close_log_level::info, false},
    {"negotiate_timeout", "no publish or play within the negotiation deadline", close_kind::negotiate_timeout,
     close_log_level::info, false},
    {"idle_timeout", "publisher idle timeout", close_kind::idle_timeout, close_log_level::warn, false},
    {"ping_timeout", "ping timeout: peer silent", close_kind::ping_timeout, close_log_level::warn, true},
    {"slow_at_bound", "slow player: queue limit reached (policy disconnect)", close_kind::slow_player,
     close_log_level::warn, true},
    {"slow_overdue", "slow player: over the queue limit for too long", close_kind::slow_player,
     close_log_level::warn, true},
    {"control_flood", "peer does not read its control replies", close_kind::control_flood, close_log_level::warn,
     true},
    {"refused", "request refused", close_kind::refused, close_log_level::info, false},
    {"unauthorized", "request refused: unauthorized", close_kind::refused, close_log_level::info, false},
    {"kicked", "kicked", close_kind::kicked, close_log_level::info, false},
    {"stream_ended", "stream ended: the publisher stopped", close_kind::stream_ended, close_log_level::info, false},
    {"shutdown", "server shutdown", close_kind::shutdown, close_log_level::info, false},
}};

// Every reason has its entry (a missing one would be value-initialized).
constexpr bool every_close_reason_described() {
  for (const auto& r : close_reasons) {
    if (r.name.empty() || r.text.empty()) return false;
  }
  return true;
}
static_assert(every_close_reason_described(), "close_reasons lacks an entry");

/// The table's entry for `r`.
constexpr const close_reason_info& info_of(close_reason r) noexcept {
  return close_reasons[static_cast<std::size_t>(r)];
}

/// The log text of a close: the table's text, then ": detail" when there is one.
inline std::string close_text(close_reason r, std::string_view detail) {
  std::string text(info_of(r).text);
  if (!detail.empty()) {
    text += ": ";
    text += detail;
  }
  return text;
}

}  // namespace rtmp::net
