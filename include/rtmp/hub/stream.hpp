#pragma once
/// @file stream.hpp
/// One live stream (app + name): at most one publisher, any number of
/// players spread over the worker threads, and the caches that give a late
/// joiner a decodable start (metadata, sequence headers, the current GOP).
///
/// Threading: the publisher calls `publish()` on its own worker; each batch
/// is handed to every worker that has players with one `asio::post`
/// (not one per player). A player is only ever touched on its own worker.
/// The stream's mutex guards the publisher slot, the caches and the per-worker
/// player counts; it is taken once per published batch and once per join or
/// leave, never per player.

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "rtmp/hub/coalesce_controller.hpp"
#include "rtmp/hub/media_packet.hpp"

namespace rtmp::hub {

/// Stream behaviour settings.
struct stream_config {
  bool gop_cache = true;                                ///< Cache media since the last keyframe.
  std::size_t gop_cache_max_bytes = std::size_t{16} * 1024 * 1024;   ///< Bound of that cache; past it, caching pauses until the next keyframe.
  bool publisher_takeover = false;                      ///< A new publisher replaces the current one instead of being refused.
  /// With takeover off, a publisher that has sent no media for this long is
  /// stale: a new publisher on its key replaces it (an encoder reconnecting
  /// after its network dropped, whose old connection is half-open). 0: never.
  std::chrono::milliseconds stale_publisher{3'000};
  /// Write coalescing: on each worker, media is handed to the players at
  /// most this long after the first of it arrived, together with what
  /// arrived meanwhile, so each player writes several messages at once
  /// (fewer system calls per byte, more delay). 0: at once. The players of
  /// a worker share the window: one timer per stream and worker, one
  /// delivery per player per window.
  std::chrono::milliseconds write_coalesce{0};
  /// A worker's held media past this many bytes is delivered at once.
  std::size_t coalesce_max_bytes = std::size_t{1024} * 1024;
  /// Adaptive coalescing: the window follows what fan-out costs on each
  /// worker (coalesce_controller): none while rounds are cheap, growing
  /// with the players, never making a message wait more than
  /// `max_coalesce_delay`. `write_coalesce` is then not used.
  bool coalesce_auto = false;
  /// The delay budget of adaptive coalescing (the window plus a round).
  std::chrono::milliseconds max_coalesce_delay{50};

  /// Member-wise (a reload compares the old and new settings).
  bool operator==(const stream_config&) const = default;
};

/// Most tracks per media kind (audio, video) whose sequence headers a
/// stream caches. Enhanced RTMP multitrack names tracks with a UI8; headers
/// of further tracks are still relayed live, only not cached for late joiners.
inline constexpr std::size_t max_cached_tracks = 16;

/// What a joining player needs to start decoding at once. Send it in the
/// order of `start_sequence()`: metadata, sequence headers, then the GOP.
struct stream_snapshot {
  bool publishing = false;          ///< A publisher is active.
  std::uint64_t generation = 0;     ///< Publisher generation the snapshot belongs to.
  std::uint64_t last_seq = 0;       ///< Sequence number of the newest packet included (or seen).
  packet_ptr metadata;              ///< Latest onMetaData, if any.
  /// The oldest cached video sequence header: the only one unless the
  /// publisher sends Enhanced RTMP multitrack video.
  packet_ptr video_header;
  /// The oldest cached audio sequence header (the only one unless multitrack).
  packet_ptr audio_header;
  /// The cached sequence headers of further Enhanced RTMP multitrack
  /// tracks, oldest first (so that a newer header of a track overrides an
  /// older multitrack message that also carried it). Empty unless the
  /// publisher sends multitrack audio or video.
  std::vector<packet_ptr> track_headers;
  /// The media since the last video keyframe, keyframe first (empty with
  /// the GOP cache off).
  std::vector<packet_ptr> gop;

  /// Everything above in sending order: metadata, video_header,
  /// audio_header, track_headers, gop, so that every track is configured
  /// before the first picture.
  std::vector<packet_ptr> start_sequence() const;
};

/// What the operator API shows of a stream: a consistent copy.
struct stream_status {
  bool publishing = false;                                 ///< A publisher is active.
  std::chrono::system_clock::time_point publish_started{};  ///< When the current (or last) publisher started.
  std::uint64_t bytes_in = 0;                              ///< Media payload bytes of the current publisher.
  std::uint64_t messages_in = 0;                           ///< Media messages of the current publisher.
  std::size_t subscribers = 0;                             ///< Players subscribed.
  packet_ptr metadata;                                     ///< Latest onMetaData, if any.
  packet_ptr video_header;                                 ///< Video sequence header of the lowest cached track (track 0 unless multitrack), if any.
  packet_ptr audio_header;                                 ///< Audio sequence header of the lowest cached track, if any.
  std::size_t video_tracks = 0;                            ///< Video tracks with a cached sequence header.
  std::size_t audio_tracks = 0;                            ///< Audio tracks with a cached sequence header.
};

/// A player of a stream. Lives on one worker; every callback runs there.
/// The base class filters duplicates (a join racing a batch already in
/// flight) so implementations see each packet and transition once.
class subscriber {
 public:
  virtual ~subscriber() = default;
  /// Worker index this subscriber lives on.
  virtual std::size_t worker() const noexcept = 0;

 protected:
  /// New packets, in order, each newer than anything delivered before.
  virtual void on_media(std::span<const packet_ptr> batch) = 0;
  /// A publisher started (the stream was idle when this player joined or
  /// the previous publisher left).
  virtual void on_publish_start() = 0;
  /// The publisher left.
  virtual void on_publish_stop() = 0;

 private:
  friend class stream;
  void deliver(std::span<const packet_ptr> batch, std::uint64_t generation);
  void deliver_start(std::uint64_t generation);
  void deliver_stop(std::uint64_t generation);
  void adopt(const stream_snapshot& snap) noexcept;

  std::uint64_t generation_ = 0;
  std::uint64_t last_seq_ = 0;
  bool active_ = false;
};

/// The publishing side of a stream, as the stream sees it.
class publisher {
 public:
  virtual ~publisher() = default;
  /// Asks the publisher to stop (takeover, operator kick, shutdown). Called
  /// from any thread; the implementation posts to its own worker.
  virtual void kick(std::string reason) = 0;
};

/// One live stream. Create through `hub`.
class stream : public std::enable_shared_from_this<stream> {
 public:
  /// Result of `claim()`: `took_over_stale` replaced a publisher that had
  /// sent no media for `stream_config::stale_publisher`.
  enum class claim_result : std::uint8_t { ok, busy, took_over, took_over_stale };

  /// `workers` are the io_contexts of the pool, indexed like
  /// `subscriber::worker()`; `pacing` the per-worker adaptive coalescing
  /// controllers the hub's streams share (null: the stream makes its own).
  stream(std::string key, std::vector<asio::io_context*> workers, stream_config config,
         std::shared_ptr<coalesce_controllers> pacing = nullptr);
  ~stream();
  stream(const stream&) = delete;
  stream& operator=(const stream&) = delete;

  /// "app/name" (without query).
  const std::string& key() const noexcept { return key_; }

  /// Makes `p` the publisher. `busy` when another publisher is active and
  /// takeover is off, unless that one is stale; with takeover on, or when
  /// it is stale, the old one is kicked.
  claim_result claim(const std::shared_ptr<publisher>& p);

  /// How long the active publisher has sent no media (since its claim when
  /// it sent none yet); nothing when there is no publisher.
  std::optional<std::chrono::steady_clock::duration> publisher_silence() const;

  /// The settings of this stream.
  const stream_config& config() const noexcept { return config_; }

  /// `p` stops publishing: caches are cleared and players are told.
  /// No effect when `p` is not the current publisher.
  void release(const publisher* p);

  /// Publishes a batch from `p` (its own worker): assigns sequence numbers,
  /// updates the caches and hands the batch to every player. Packets from a
  /// publisher that is no longer current are dropped. `batch` is left empty.
  void publish(const publisher* p, std::vector<std::shared_ptr<media_packet>>& batch);

  /// Adds a player (on its own worker) and returns what it needs to start.
  stream_snapshot subscribe(subscriber* s);

  /// Removes a player (on its own worker).
  void unsubscribe(subscriber* s);

  /// True when there is neither a publisher nor a player.
  bool unused() const;

  /// Number of players.
  std::size_t subscriber_count() const;

  /// True while a publisher is active.
  bool publishing() const;

  /// Counters and cached headers, for the operator API (takes the stream lock once).
  stream_status status() const;

  /// The active publisher, or null (e.g. to kick it).
  std::shared_ptr<publisher> current_publisher() const;

  /// The timestamp of the newest audio/video packet ever published on this
  /// stream (any publisher), if there was one. A new publisher offsets its
  /// timestamps to continue after it, so players that stay across a
  /// publisher restart see a monotonic timeline.
  bool last_timestamp(std::uint32_t& out) const;

 private:
  enum class notice : std::uint8_t { media, start, stop };
  // One track's cached sequence header.
  struct track_header {
    std::uint8_t track = 0;
    packet_ptr packet;
  };
  // Caches `pkt` (a sequence header) for each of its tracks, replacing their
  // entries; new tracks past max_cached_tracks are not cached.
  static void cache_header(std::vector<track_header>& cache, const packet_ptr& pkt);
  // Drops the entries of the tracks a SequenceEnd names.
  static void forget_tracks(std::vector<track_header>& cache, const media_packet& end);
  // Forgets metadata, sequence headers and the GOP (caller holds mu_): a new
  // publisher may use other codecs.
  void clear_caches();
  // Posts one handler to each worker that has players (caller holds mu_).
  void post_to_workers(notice what, std::uint64_t generation, const std::shared_ptr<const std::vector<packet_ptr>>& batch);
  void run_on_worker(std::size_t w, notice what, std::uint64_t generation, const std::vector<packet_ptr>* batch);
  // Hands `batch` to worker w's players now (on worker w).
  void deliver_on_worker(std::size_t w, notice what, std::uint64_t generation, std::span<const packet_ptr> batch);
  // Write coalescing: adds a batch to worker w's held media; delivers when
  // the window ends or the held bytes reach coalesce_max_bytes.
  void hold_on_worker(std::size_t w, std::uint64_t generation, const std::vector<packet_ptr>& batch,
                      std::chrono::microseconds window);
  // Delivers worker w's held media, if any.
  void release_held(std::size_t w);

  const std::string key_;
  const std::vector<asio::io_context*> workers_;
  const stream_config config_;
  const std::shared_ptr<coalesce_controllers> pacing_;  // entry w used on worker w

  mutable std::mutex mu_;
  std::shared_ptr<publisher> publisher_;
  std::uint64_t generation_ = 0;
  std::uint64_t seq_ = 0;
  packet_ptr metadata_;
  std::vector<track_header> video_headers_, audio_headers_;  // sorted by track id
  std::vector<packet_ptr> gop_;
  std::size_t gop_bytes_ = 0;
  bool gop_open_ = false;
  std::uint32_t last_ts_ = 0;
  std::chrono::system_clock::time_point publish_started_{};
  std::chrono::steady_clock::time_point last_media_at_{};  // the claim, then each published batch
  std::uint64_t bytes_in_ = 0;
  std::uint64_t messages_in_ = 0;
  bool has_last_ts_ = false;
  std::vector<std::size_t> count_per_worker_;
  std::size_t subscribers_ = 0;

  // Players per worker; entry w is only touched on worker w.
  std::vector<std::vector<subscriber*>> local_;
  // Unsubscribes per worker (entry w only touched on worker w): a delivery
  // loop re-checks membership only when this moved during the loop.
  std::vector<std::uint64_t> removals_;
  // Media held for write coalescing, per worker (entry w only touched on
  // worker w; the timer is made on first use).
  struct held_media {
    std::unique_ptr<asio::steady_timer> timer;
    std::vector<packet_ptr> packets;
    std::uint64_t generation = 0;
    std::size_t bytes = 0;
    std::uint64_t window = 0;  // counts windows, so a cancelled wait is told apart
    bool armed = false;
  };
  std::vector<held_media> held_;
};

}  // namespace rtmp::hub
