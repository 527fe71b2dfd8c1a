#pragma once
// Relays: static push and on-demand pull (edge mode).
//
// `relay_manager` (owned by the server) is told by each publisher's
// connection right after a publish is accepted (`on_publish_start`) and by
// each player's connection before it subscribes (`on_play`).
//
// * Push: for every URL configured for the application, a `relay_session`
//   subscribes to the stream on the publisher's worker and re-publishes it
//   over an outbound RTMP connection (sans-I/O client_session + an Asio
//   socket on that worker). Metadata and sequence headers go first, media
//   from the next keyframe. It reconnects with exponential back-off while
//   the local publisher is there and ends at the stream's publish-stop.
// * Pull: the first player of a stream of a pulled application with no
//   local publisher starts one `relay_session` (one per stream key) on that
//   player's worker: it plays the stream from the first origin and, at its
//   first media, claims the local stream as its publisher, so local players
//   get the usual fast start from the hub's caches. An origin that fails
//   (connection error, stream ended, no media for stall_timeout) is left
//   for the next one after the back-off delay; the pull ends
//   pull_idle_timeout after the stream has no player.
//
// Outbound relay connections are not counted in the server's connections.

#include <asio/io_context.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <asio/ssl/context.hpp>

#include "rtmp/hub/hub.hpp"
#include "rtmp/net/relay.hpp"

namespace rtmp::net {

class relay_session;

/// One push as the operator API shows it.
struct push_status {
  std::string key;         ///< The local stream ("app/name").
  std::string url;         ///< The target, its stream key redacted.
  std::string state;       ///< "connecting", "publishing" or "retrying".
  std::uint64_t bytes_sent = 0;   ///< Bytes written to the target (all attempts).
  std::uint64_t reconnects = 0;   ///< Attempts after the first.
  std::string last_error;  ///< Why the last attempt ended ("" when none did).
};

/// Starts and tracks the relays of a server. Thread-safe.
class relay_manager {
 public:
  /// `streams` is the server's hub, `workers` the pool's io_contexts by
  /// worker index (both outlive the manager); `chunk_size` the outbound
  /// chunk size pulled media is encoded with for local players.
  relay_manager(relay_config cfg, hub::hub& streams, std::vector<asio::io_context*> workers,
                std::uint32_t chunk_size);
  ~relay_manager();

  relay_manager(const relay_manager&) = delete;
  relay_manager& operator=(const relay_manager&) = delete;

  /// A publish of `key` ("app/name") in `app` was accepted on `stream`; call
  /// on the publisher's worker `worker`. Starts one push per target that
  /// applies to the stream (its app, or its app and name).
  void on_publish_start(std::string_view app, std::string_view key, const std::shared_ptr<hub::stream>& stream,
                        std::size_t worker);

  /// A player of `key` in `app` is about to subscribe, on worker `worker`.
  /// When `app` is pulled, makes sure one pull of `key` runs (unless the
  /// stream has a local publisher) and returns true: the player should wait
  /// for the publisher even when the server does not wait otherwise.
  bool on_play(std::string_view app, std::string_view key, std::size_t worker);

  /// Stops every relay (posted to their workers); no new ones start.
  void shutdown();

  /// Forgets every relay; only after the workers stopped.
  void clear();

  /// Pulls running (one per stream key).
  std::size_t active_pulls() const;
  /// Pushes running.
  std::size_t active_pushes() const;
  /// Pulls started since the server started.
  std::uint64_t pulls_started() const noexcept { return pulls_started_.load(); }

  /// The settings.
  const relay_config& config() const noexcept { return cfg_; }

  /// Replaces the push targets (a reload): streams published from now on
  /// get the new ones; on the streams being published, pushes to removed
  /// targets stop and pushes to added targets start, and pushes to targets
  /// in both lists run on untouched.
  void set_push_targets(std::vector<push_target> targets);

  /// Replaces the pull origins (a reload): plays from now on use them; the
  /// pulls of an application that has no origins any more stop, the others
  /// run on with the origins they started with.
  void set_pull_origins(std::map<std::string, std::vector<std::string>> origins);

  /// Every push running now, for the operator API.
  std::vector<push_status> pushes() const;

 private:
  friend class relay_session;
  // A push of `key` to `url` entered into sessions_, not begun (mu_ held).
  std::shared_ptr<relay_session> add_push(std::string key, const std::string& name, const std::string& url,
                                          std::shared_ptr<hub::stream> stream, std::size_t worker);
  // Removes `s` (and its pull entry).
  void forget(const relay_session* s);
  // Pull idle stop: true (and the pull forgotten) when `s` may stop now.
  bool may_stop_idle(const relay_session* s);
  // The client TLS context of rtmps:// targets (verifying against
  // relay_config::ca_file or the system's store), made on first use; null
  // with `why` when it cannot be made.
  asio::ssl::context* client_tls(std::string& why);

  const relay_config cfg_;
  hub::hub& streams_;
  const std::vector<asio::io_context*> workers_;
  const std::uint32_t chunk_size_;
  std::atomic<std::uint64_t> pulls_started_{0};
  mutable std::mutex mu_;
  bool stopping_ = false;
  std::unordered_map<const relay_session*, std::shared_ptr<relay_session>> sessions_;
  std::unordered_map<std::string, relay_session*> pulls_;  // key -> its pull
  std::unique_ptr<asio::ssl::context> client_tls_;        // mu_
  std::vector<push_target> push_;                         // mu_: the targets of new publishes
  std::map<std::string, std::vector<std::string>> pull_;  // mu_: app -> origins of new pulls
  struct published {
    std::string app;
    std::string name;
    std::weak_ptr<hub::stream> stream;
    std::size_t worker = 0;
  };
  std::unordered_map<std::string, published> published_;  // mu_: local publishes by key (a reload's streams)
};

}  // namespace rtmp::net
