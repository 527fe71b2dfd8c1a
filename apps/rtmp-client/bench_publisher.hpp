#pragma once
/// @file bench_publisher.hpp
/// The publishers of `rtmp-client bench`: one connection per stream that
/// publishes to it, paced in real time by a timer of its own, either the
/// synthetic stream (stamped video frames, optional audio) or the tags of an
/// FLV file in a loop. Every publisher of a run shares one thread.

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <system_error>
#include <vector>

#include "bench.hpp"
#include "bench_clock.hpp"
#include "bench_connection.hpp"
#include "bench_detail.hpp"
#include "rtmp/proto/client_session.hpp"
#include "rtmp/proto/flv_reader.hpp"

namespace rtmp::bench {

/// What the publisher sent; read after its thread was joined.
struct publisher_stats {
  std::string stream;                ///< The stream name it publishes.
  clock_type::time_point started{};  ///< NetStream.Publish.Start.
  clock_type::time_point ended{};    ///< Closed (by us at the end, or by an error).
  std::uint64_t video_frames = 0;    ///< Video messages sent.
  std::uint64_t audio_frames = 0;    ///< Audio messages sent.
  std::uint64_t skipped_frames = 0;  ///< Frames not sent because too much was queued.
  std::uint64_t media_bytes = 0;     ///< Payload bytes of the frames sent.
  std::string failure;               ///< Why it stopped early; empty when it did not.
};

/// One connection that publishes a stream: sends the stream's headers at
/// NetStream.Publish.Start, then every frame when it is due (a timer wakes
/// it for the next one: no polling), skipping frames (and counting them)
/// rather than queueing without bound.
class publisher final : public connection {
 public:
  /// Where the publisher is; readable from any thread.
  enum class state : int { connecting, publishing, failed };

  /// A publisher on `io` reading into `buffer`: of the synthetic stream at
  /// the bitrates of `options`, or of `file_tags` (which must outlive it,
  /// and may be shared by every publisher) when `options.publish` names a
  /// file. How late each frame leaves (after it was due, microseconds) goes
  /// into `lateness_us`, shared by the publishers of the thread.
  publisher(asio::io_context& io, std::vector<std::uint8_t>& buffer, const proto::client_session_config& config,
            const bench_options& options, const std::vector<proto::flv_tag>& file_tags, histogram& lateness_us);

  /// Requests publishing of `stream` and connects to `endpoint`. Frames
  /// are due `phase` later than they would be from Publish.Start on: the
  /// publishers of a thread, phased apart, do not all wake at once.
  void begin(const std::string& stream, const tcp::endpoint& endpoint, clock_type::duration phase = {});

  /// Stops sending and closes (on the publisher's thread).
  void stop();

  /// Where the publisher is now.
  state current_state() const noexcept { return state_.load(); }
  /// What the publisher sent.
  const publisher_stats& stats() const noexcept { return stats_; }

 protected:
  /// Starts sending at Publish.Start; closes when the server ends the stream.
  void on_event(proto::client_event& ev, clock_type::time_point now) override;
  /// Notes the end and, after an error, why (and that it never published).
  void on_close(clock_type::time_point now) override;

 private:
  /// Sends onMetaData and the sequence headers: the file's metadata tag, or
  /// the synthetic stream's metadata and headers.
  void send_headers();

  /// True when the socket owes more than the publisher lets queue.
  bool backlogged() const noexcept;

  /// Sends one media message, due at `due`, and counts it.
  void send(const proto::message& m, clock_type::time_point due);

  /// Sends every frame that is due, then sleeps until the next one.
  void tick();

  /// Sends the synthetic frames due by `now`; returns when the next is due.
  clock_type::time_point tick_synthetic(clock_type::time_point now);

  /// Sends the file's tags due by `now` (looping at its end, without the
  /// sequence headers again); returns when the next is due.
  clock_type::time_point tick_file(clock_type::time_point now);

  synthetic_stream synthetic_;
  const std::vector<proto::flv_tag>& file_tags_;
  histogram& lateness_us_;       // the thread's
  bool use_file_;                // file_tags_, not synthetic_
  asio::steady_timer timer_;     // until the next frame is due
  std::atomic<state> state_{state::connecting};
  publisher_stats stats_;
  clock_type::duration phase_{};      // the schedule's offset from Publish.Start
  std::uint64_t video_index_ = 0;     // next synthetic video frame
  std::uint64_t audio_index_ = 0;     // next synthetic audio frame
  std::uint64_t sequence_ = 0;        // stamp of the next video frame sent
  std::size_t file_pos_ = 0;          // next tag of the file
  std::uint64_t loop_offset_ms_ = 0;  // timestamp offset of the current loop
  std::uint64_t loops_ = 0;           // loops of the file completed
};

/// Reads an FLV file into memory (tags only). Errors: the reader's, or errno's.
std::error_code load_flv(const std::string& path, std::vector<proto::flv_tag>& tags);

}  // namespace rtmp::bench
