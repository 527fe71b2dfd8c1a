#pragma once
/// @file hub.hpp
/// The registry of live streams, keyed by "app/name" (the stream name's
/// query string is not part of the key).

#include <asio/io_context.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "rtmp/hub/stream.hpp"

namespace rtmp::hub {

/// "app/name" without any "?query" of the name.
std::string stream_key(std::string_view app, std::string_view name);

/// All streams of a server. Thread-safe; the mutex is taken on stream
/// lookup and removal only (publish, play, leave), never per message.
class hub {
 public:
  /// `workers` are the pool's io_contexts, by worker index. A stream gets
  /// `config`, or the entry of `per_app` for its application
  /// (per-application settings such as the GOP cache).
  hub(std::vector<asio::io_context*> workers, stream_config config,
      std::map<std::string, stream_config> per_app = {});

  /// Makes `p` the publisher of `key` (creating the stream when absent).
  /// The stream is returned whatever the result, so the caller can log it.
  std::shared_ptr<stream> claim(const std::string& key, const std::shared_ptr<publisher>& p,
                                stream::claim_result& result);

  /// Adds player `s` (on its own worker) to `key`, creating the stream when
  /// absent (a player may arrive before the publisher).
  std::shared_ptr<stream> subscribe(const std::string& key, subscriber* s, stream_snapshot& snapshot);

  /// The stream for `key`, or nullptr.
  std::shared_ptr<stream> find(const std::string& key) const;

  /// Forgets `s` when it has neither publisher nor players. Lookup, claim,
  /// subscribe and removal all hold the registry mutex, so a stream is never
  /// removed between being found and being joined.
  void remove_if_unused(const std::shared_ptr<stream>& s);

  /// Every stream (for stats and shutdown).
  std::vector<std::shared_ptr<stream>> streams() const;

  /// The stream settings (those of applications without their own).
  stream_config config() const;

  /// The settings a stream of `key` ("app/name") gets: those of the longest
  /// application in `per_app` that `key` starts with (followed by '/'),
  /// else `config()`.
  stream_config config_for(std::string_view key) const;

  /// Replaces the settings (a reload): streams created from now on get
  /// them; streams that exist keep theirs.
  void set_config(stream_config config, std::map<std::string, stream_config> per_app);

  /// Number of workers.
  std::size_t workers() const noexcept { return workers_.size(); }

  /// Worker `w`'s write coalescing window now under the default settings:
  /// the adaptive one (coalesce_controller) or the fixed one.
  std::chrono::microseconds coalesce_window(std::size_t w) const;

  /// Worker `w`'s fan-out share as adaptive coalescing estimates it.
  double fanout_share(std::size_t w) const;

 private:
  // config_for with mu_ held.
  const stream_config& config_for_locked(std::string_view key) const noexcept;

  std::vector<asio::io_context*> workers_;
  const std::shared_ptr<coalesce_controllers> pacing_;  // one per worker, shared by every stream
  mutable std::mutex mu_;
  stream_config config_;                          // mu_
  std::map<std::string, stream_config> per_app_;  // mu_
  std::unordered_map<std::string, std::shared_ptr<stream>> streams_;
};

}  // namespace rtmp::hub
