#pragma once
// HLS for the streams of the applications that have it on: one segmenter
// per stream, fed by one hub subscriber on the publisher's worker (not one
// per viewer), and the HTTP answers for its playlist and segments. Internal
// to the networking layer.

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "hls/hls_directory.hpp"
#include "net/reloadable.hpp"
#include "rtmp/hls/segmenter.hpp"
#include "rtmp/http/response.hpp"
#include "rtmp/hub/hub.hpp"
#include "rtmp/net/hls.hpp"

namespace rtmp::net {

/// What an HLS request names.
struct hls_target {
  /// The kinds of file.
  enum class file : std::uint8_t { playlist, ts_segment, fmp4_segment, init, part };
  std::string app;             ///< Application.
  std::string stream;          ///< Stream name.
  file kind = file::playlist;  ///< What is asked for.
  bool playlist = true;        ///< index.m3u8 (kind playlist).
  std::uint64_t sequence = 0;  ///< The segment's media sequence number, or the init segment's number.
  std::uint32_t part = 0;      ///< The part's index in segment `sequence` (kind part).
};

/// `/{app}/{stream}/index.m3u8`, `/{app}/{stream}/{N}.ts`,
/// `/{app}/{stream}/{N}.m4s`, `/{app}/{stream}/{N}.{P}.m4s` (part P of
/// segment N) or `/{app}/{stream}/init-{N}.mp4` (N decimal, at most 20
/// digits; P at most 9); nothing for any other path (a '..' or an empty
/// segment never matches).
std::optional<hls_target> match_hls_path(std::string_view path);

class hls_session;

/// One stream's HLS state, for the operator API.
struct hls_stream_status {
  std::size_t segments = 0;        ///< Finished segments kept.
  std::size_t bytes = 0;           ///< Their bytes (and the open segment's).
  std::uint64_t next_sequence = 0; ///< The media sequence number the next segment gets.
  bool ended = false;              ///< The publisher stopped (the playlist has EXT-X-ENDLIST).
  std::uint64_t requests = 0;      ///< Playlist and segment requests answered.
  double requests_per_second = 0;  ///< Over the last ten whole seconds.
  /// Playlist requests per second over the last ten whole seconds: about
  /// the viewers (each reloads the playlist once a target duration, or
  /// once a part with LL-HLS).
  double playlist_requests_per_second = 0;
  std::size_t blocked = 0;         ///< Blocking reloads and part requests held now.
};

/// How a held request (a blocking playlist reload or a hinted part) ends.
enum class hls_hold : std::uint8_t {
  ready,      ///< What it waits for is there (or the stream ended): answer it.
  no_stream,  ///< The stream has no HLS (404).
  too_far,    ///< It asks for a segment or part too far ahead (400, RFC 8216bis section 6.2.5.2).
  busy,       ///< Too many requests are held already (503).
  timed_out,  ///< Not there within three target durations (503).
};

/// The HLS streams of a server. Thread-safe.
class hls_manager {
 public:
  /// `workers` are the pool's io_contexts by worker index; `streams` the
  /// server's hub (both outlive the manager).
  hls_manager(hls_config cfg, hub::hub& streams, std::vector<asio::io_context*> workers);
  ~hls_manager();

  hls_manager(const hls_manager&) = delete;
  hls_manager& operator=(const hls_manager&) = delete;

  /// True when `app` has HLS on.
  bool enabled(std::string_view app) const;

  /// A publish of `key` in `app` was accepted on `stream` (on the
  /// publisher's worker `worker`): starts (or resumes) its segmenter when
  /// `app` has HLS on and the server-wide byte bound allows.
  void on_publish_start(std::string_view app, std::string_view key, const std::shared_ptr<hub::stream>& stream,
                        std::size_t worker);

  /// The answer to GET `target` of stream `key`: the playlist (segment
  /// URIs carry `query`, so a token reaches the segments) with an ETag
  /// (304 when `if_none_match` matches), or the segment (its bytes shared,
  /// not copied: `response::shared_body`); 404 when there is none.
  http::response answer(const hls_target& target, const std::string& key, const std::string& query,
                        const std::string& if_none_match) const;

  /// Holds a request on `ex` (its connection's executor; a timer, not a
  /// thread) until stream `key`'s playlist lists segment `sequence` (or,
  /// with `part` >= 0, that part of it; RFC 8216bis section 6.2.5.2), the
  /// stream ends, or three target durations pass. Ready at once when it is
  /// already there or the stream has no LL-HLS. Wakes come from the
  /// publisher's worker, one post per waiting worker per change.
  asio::awaitable<hls_hold> hold(const std::string& key, std::uint64_t sequence, std::int64_t part,
                                 asio::any_io_executor ex);

  /// Replaces the settings (a reload): streams that start afterwards get them.
  void set_config(hls_config cfg) { cfg_.store(std::move(cfg)); }

  /// Segment bytes kept over every stream.
  std::size_t bytes() const noexcept { return total_bytes_.load(std::memory_order_relaxed); }
  /// Streams with HLS (live or ended and not yet expired).
  std::size_t streams() const;
  /// The HLS state of stream `key`, if it has HLS.
  std::optional<hls_stream_status> status(const std::string& key) const;
  /// Playlist and segment requests answered (any status).
  std::uint64_t requests() const noexcept { return requests_.load(std::memory_order_relaxed); }
  /// Requests held now (blocking reloads, hinted parts).
  std::size_t blocked() const noexcept { return blocked_.load(std::memory_order_relaxed); }

  /// Stops every segmenter (server shutdown); posted to their workers.
  void shutdown();

 private:
  friend class hls_session;
  // A held request: its timer is used on its own executor only (a wake is
  // posted there and cancels it).
  struct waiter {
    asio::steady_timer timer;
    std::uint64_t sequence = 0;
    std::int64_t part = -1;
    explicit waiter(asio::any_io_executor ex) : timer(std::move(ex)) {}
  };
  // Requests per whole second over the last `slots` seconds, without a lock
  // (a race at a second's turn may lose a count: a rate for display).
  struct rate_meter {
    static constexpr std::size_t slots = 12;
    std::array<std::atomic<std::int64_t>, slots> second{};
    std::array<std::atomic<std::uint64_t>, slots> count{};
    void hit(std::int64_t now_s) noexcept;
    // Per second over the ten whole seconds before `now_s`.
    double rate(std::int64_t now_s) const noexcept;
  };
  // One stream's segmenter and what reads it.
  struct entry {
    mutable std::mutex mu;
    hls::segmenter seg;
    std::size_t counted_bytes = 0;  // mu: its share of total_bytes_
    std::uint64_t session = 0;      // mu: the feeding session's number; 0 when none
    std::atomic<std::uint64_t> requests{0};
    rate_meter request_rate;
    rate_meter playlist_rate;
    std::vector<std::shared_ptr<waiter>> waiters;  // mu: held requests
    bool fmp4 = false;  // its segment format (set at creation)
    std::unique_ptr<hls_directory> files;  // mu: --hls-path mirror; null when off (or after an I/O error)
    explicit entry(hls::segmenter_config c) : seg(c) {}
  };
  // The entry of `key` when it is still `e` and ended long enough: forgotten.
  void expire(const std::string& key, const std::shared_ptr<entry>& e, std::uint64_t session);
  // Adds the change of `e`'s bytes to the total (e->mu held).
  void account(entry& e);
  // Wakes the held requests of `e` that are satisfied (all of them when
  // `all`): one post per worker they wait on (e->mu held).
  void wake(entry& e, bool all = false);
  std::shared_ptr<entry> find(const std::string& key) const;
  void forget(const hls_session* s);

  reloadable<hls_config> cfg_;
  hub::hub& streams_;
  const std::vector<asio::io_context*> workers_;
  std::atomic<std::size_t> total_bytes_{0};
  mutable std::atomic<std::uint64_t> requests_{0};
  std::atomic<std::size_t> blocked_{0};
  mutable std::mutex mu_;
  bool stopping_ = false;                                             // mu_
  std::uint64_t next_session_ = 1;                                    // mu_
  std::unordered_map<std::string, std::shared_ptr<entry>> entries_;   // mu_
  std::unordered_map<const hls_session*, std::shared_ptr<hls_session>> sessions_;  // mu_
};

}  // namespace rtmp::net
