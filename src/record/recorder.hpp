#pragma once
// Recording of published streams to FLV files.
//
// `recorder_manager` (owned by the server) is told by each publisher's
// connection, on its worker, right after a publish is accepted
// (`on_publish_start`). When the application records, it creates a
// `record_session`: a hub subscriber on the publisher's worker that writes
// every packet of that publish session to FLV files and ends when the
// publisher stops (the stream's publish-stop notice, which comes after the
// last media), so a publisher that reconnects starts a new file.
//
// Files (see record_file.hpp for crash safety and the duration patch):
// * A file opens at the session's first packet to record and starts with the
//   FLV header, an onMetaData (the publisher's latest, with duration and
//   filesize placeholders) and the cached sequence headers. Timestamps are
//   rebased so the file starts at 0.
// * Rotation (record-max-bytes, record-max-seconds): once over a limit, the
//   next video keyframe (an audio frame when the session has no video)
//   starts the next file, which again leads with header, metadata and
//   sequence headers, so every piece is decodable alone.
// * Mode video (audio) leaves out audio (video) messages; data messages are
//   always kept.
// * A write or open error ends that session's recording with one error
//   line; the stream, its publisher and its players are not affected.
// * When a file is complete, the on-record-done hook runs (record_hook.hpp).
//
// The recorder counts as one subscriber of the stream while it records (the
// operator API's "subscribers" includes it).

#include <asio/io_context.hpp>

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "net/reloadable.hpp"
#include "rtmp/hub/hub.hpp"
#include "rtmp/net/recording.hpp"

namespace rtmp::net {

class record_session;

/// Starts and tracks the recordings of a server. Thread-safe.
class recorder_manager {
 public:
  /// `workers` are the pool's io_contexts by worker index; `streams` the
  /// server's hub (both outlive the manager).
  recorder_manager(recording_config cfg, hub::hub& streams, std::vector<asio::io_context*> workers);
  /// Finishes recordings still open (`close_all`).
  ~recorder_manager();

  recorder_manager(const recorder_manager&) = delete;
  recorder_manager& operator=(const recorder_manager&) = delete;

  /// The mode of application `app` (off when not configured).
  record_mode mode_for(std::string_view app) const;

  /// A publish of `key` ("app/name") in `app` was accepted on `stream`; call
  /// on the publisher's worker `worker`, before its first media is
  /// published. Starts a recording when `app` records; else does nothing.
  void on_publish_start(std::string_view app, std::string_view key, const std::shared_ptr<hub::stream>& stream,
                        std::size_t worker);

  /// Finishes every recording still open (duration patched, hooks started
  /// but not awaited). Only when the workers no longer run (after the pool
  /// was joined): a graceful stop has finished them already.
  void close_all();

  /// Recordings in progress.
  std::size_t active() const;

  /// The settings in force (any thread).
  std::shared_ptr<const recording_config> config() const;

  /// Replaces the settings (a reload): publishes from now on are recorded
  /// under them; recordings in progress keep theirs.
  void set_config(recording_config cfg);

 private:
  friend class record_session;
  void forget(const record_session* s);

  hub::hub& streams_;
  const std::vector<asio::io_context*> workers_;
  std::shared_ptr<std::atomic<std::size_t>> hooks_running_;
  mutable std::mutex mu_;
  reloadable<recording_config> cfg_;
  std::unordered_map<const record_session*, std::shared_ptr<record_session>> sessions_;
};

}  // namespace rtmp::net
