#pragma once
/// @file bench_player.hpp
/// The players of `rtmp-client bench`: one connection each that plays a
/// stream and measures what arrives (bytes, keyframes, gaps in the stamped
/// sequence, live delay), the RTMP player (the HTTP-FLV one is in
/// bench_http_player.hpp), the thread that runs a share of them, and the
/// totals over every player that the report is made of.

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "bench_clock.hpp"
#include "bench_connection.hpp"
#include "bench_detail.hpp"
#include "rtmp/error.hpp"
#include "rtmp/proto/client_session.hpp"

namespace rtmp::bench {

/// What one player measured; read after its thread was joined.
struct player_stats {
  clock_type::time_point started{};         ///< Connect started.
  clock_type::time_point playing_at{};      ///< NetStream.Play.Start, or the HTTP-FLV response's 200 head.
  clock_type::time_point first_keyframe{};  ///< The first video keyframe arrived.
  clock_type::time_point ended{};           ///< Closed (by us at the end, or by an error).
  bool playing = false;                     ///< Playback started (`playing_at` holds).
  bool have_keyframe = false;               ///< A keyframe came.
  std::uint64_t media_bytes = 0;            ///< Audio/video/data payload bytes.
  std::uint64_t window_bytes = 0;           ///< Media bytes received in the measured window.
  clock_type::time_point window_from{};     ///< When this player's measured window began.
  std::uint64_t messages = 0;               ///< Media messages.
  std::uint64_t video = 0;                  ///< Video messages.
  std::uint64_t audio = 0;                  ///< Audio messages.
  std::uint64_t keyframes = 0;              ///< Video keyframes.
  std::uint64_t stamped = 0;                ///< Video messages carrying a frame stamp.
  std::uint64_t gaps = 0;                   ///< Jumps forward in the stamped sequence.
  std::uint64_t dropped = 0;                ///< Stamped frames the jumps skipped.
  std::uint64_t reordered = 0;              ///< Stamped frames that were duplicates or older.
  std::uint64_t stream_ends = 0;            ///< Stream-ended events (the publisher left; an HTTP-FLV body ended).
  bool have_seq = false;                    ///< A stamped frame came: `last_seq` holds.
  std::uint64_t last_seq = 0;               ///< Sequence number of the newest stamped frame.
};

struct player_thread;

/// A player, whatever its protocol: what the run drives (begin, end, the
/// negotiation deadline) and what the report reads. Subclasses hand it what
/// arrives (note_playing, note_media, ...) and it counts: bytes, kinds,
/// keyframes, the stamped sequence and the live delay. Runs on its
/// player_thread and touches nothing of the other threads.
class player {
 public:
  /// A player on `thread` whose negotiation (TCP connect to the start of
  /// playback) may take `timeout`.
  player(player_thread& thread, std::chrono::milliseconds timeout) : thread_(thread), timeout_(timeout) {}
  virtual ~player() = default;

  /// Not copyable: its connection's handlers hold it.
  player(const player&) = delete;
  player& operator=(const player&) = delete;

  /// Starts playing `stream` (a name, with its query if any) from `endpoint`.
  virtual void begin(const std::string& stream, const tcp::endpoint& endpoint) = 0;
  /// Closes the connection; `why` is empty when the run stopped it. Idempotent.
  virtual void end(std::error_code why) = 0;
  /// True once the connection was closed.
  virtual bool ended() const = 0;
  /// Why the connection closed; empty while open or when the run stopped it.
  virtual std::error_code failure() const = 0;
  /// Bytes read from the socket (the wire, not only media).
  virtual std::uint64_t wire_bytes() const = 0;

  /// Closes a player whose negotiation took longer than the timeout.
  void check_deadline(clock_type::time_point now) {
    if (!ended() && !stats_.playing && now - stats_.started > timeout_) end(errc::timeout);
  }

  /// What the player measured.
  const player_stats& stats() const noexcept { return stats_; }

 protected:
  /// The connection starts now.
  void note_started() { stats_.started = clock_type::now(); }
  /// Playback started (NetStream.Play.Start, or an HTTP 200) at `now`.
  void note_playing(clock_type::time_point now);
  /// A media message (FLV tag type 8, 9 or 18, and its payload) arrived at
  /// `now`: bytes, kind, keyframe, stamp sequence and live delay.
  void note_media(std::uint8_t type, std::span<const std::uint8_t> payload, clock_type::time_point now);
  /// The stream ended (the publisher left).
  void note_stream_end() noexcept { ++stats_.stream_ends; }
  /// The connection closed at `now`; a player that never played failed.
  void note_closed(clock_type::time_point now);

 private:
  player_thread& thread_;
  std::chrono::milliseconds timeout_;
  player_stats stats_;
};

/// A player over RTMP: handshake, connect, createStream, play.
class rtmp_player final : public connection, public player {
 public:
  /// A player on `thread` that negotiates with `config` within `timeout`.
  rtmp_player(player_thread& thread, const proto::client_session_config& config, std::chrono::milliseconds timeout);

  /// Requests play of `stream` and connects to `endpoint`.
  void begin(const std::string& stream, const tcp::endpoint& endpoint) override;
  void end(std::error_code why) override { close(why); }
  bool ended() const override { return closed(); }
  std::error_code failure() const override { return error(); }
  std::uint64_t wire_bytes() const override { return bytes_received(); }

 protected:
  /// Counts Play.Start, media and stream-ended events.
  void on_event(proto::client_event& ev, clock_type::time_point now) override;
  /// Notes the end, and the failure when the player never played.
  void on_close(clock_type::time_point now) override { note_closed(now); }
};

/// One thread: an io_context, its players and their shared read buffer.
struct player_thread {
  asio::io_context io{1};  ///< The players' sockets and timers.
  asio::executor_work_guard<asio::io_context::executor_type> guard{io.get_executor()};  ///< Keeps `io` running.
  std::vector<std::uint8_t> read_buffer = std::vector<std::uint8_t>(read_buffer_bytes);  ///< Shared by the players.
  std::vector<std::unique_ptr<player>> players;  ///< Started on this thread.
  histogram delay_us;                            ///< Publisher -> player, live frames only.
  asio::steady_timer sweep{io};                  ///< Next deadline check.
  bool stopping = false;                         ///< The run is closing its players.
  bool measuring = false;  ///< The ramp is over: per-player bitrates count from here.
  clock_type::time_point measure_from{};   ///< When `measuring` became true.
  std::atomic<std::uint64_t> playing{0};  ///< Players playing (progress log only).
  std::atomic<std::uint64_t> failed{0};   ///< Players closed before they played.
  std::atomic<std::uint64_t> keyed{0};    ///< Players that got a keyframe.
  std::thread thread;                     ///< Runs `io`.
};

/// Checks the deadlines of `thread`'s players now and then, until the
/// thread is stopping.
void schedule_deadline_sweep(player_thread& thread);

/// The players' figures summed over every thread, for the report.
struct player_totals {
  std::uint64_t connected = 0;             ///< Players that played.
  std::uint64_t failed = 0;                ///< Players that never played, or were never started.
  std::uint64_t disconnected = 0;          ///< Players that played, then closed with an error.
  std::uint64_t with_media = 0;            ///< Playing players that received media.
  std::uint64_t with_keyframe = 0;         ///< Playing players that received a keyframe.
  std::uint64_t media_bytes = 0;           ///< Media payload bytes of every player.
  std::uint64_t wire_bytes = 0;            ///< Bytes read from every socket.
  std::uint64_t messages = 0;              ///< Media messages.
  std::uint64_t video = 0;                 ///< Video messages.
  std::uint64_t audio = 0;                 ///< Audio messages.
  std::uint64_t keyframes = 0;             ///< Video keyframes.
  std::uint64_t stamped = 0;               ///< Stamped video messages.
  std::uint64_t gaps = 0;                  ///< Jumps forward in the stamped sequences.
  std::uint64_t dropped = 0;               ///< Stamped frames the jumps skipped.
  std::uint64_t reordered = 0;             ///< Stamped frames that were duplicates or older.
  std::uint64_t stream_ends = 0;           ///< Stream-ended events.
  std::uint64_t min_player_bytes = 0;      ///< Fewest media bytes of a playing player.
  std::uint64_t min_player_keyframes = 0;  ///< Fewest keyframes of a playing player.
  std::vector<double> bitrates_bps;        ///< Per playing player over its measured window, sorted.
  std::vector<double> first_keyframe_ms;   ///< Connect start to first keyframe, per player that got one.
  std::vector<double> connect_ms;          ///< Connect start to Play.Start, per playing player.
  std::map<std::string, std::uint64_t> failures;  ///< Players per reason of failure or disconnection.
  histogram delay_us;                             ///< Live delay samples of every thread.
};

/// Sums the figures of every player of `threads` (joined already); players
/// of the `requested` that were never started count as failed.
player_totals total_player_stats(const std::vector<std::unique_ptr<player_thread>>& threads,
                                 std::size_t requested);

}  // namespace rtmp::bench
