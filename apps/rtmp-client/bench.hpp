#pragma once
/// @file bench.hpp
/// `rtmp-client bench`: a load tool for any RTMP server. One process opens
/// many player connections to one URL (each does handshake, connect,
/// createStream and play, then counts bytes, messages and keyframes), can
/// drive its own publisher to the same URL (a synthetic H.264/AAC-shaped
/// stream whose video frames carry a send timestamp and a sequence number,
/// or an FLV file), and reports connection success, per-player delivered
/// bitrate, time to the first keyframe, end-to-end delay, gaps and its own
/// CPU time, as a table or as one JSON object.
///
/// Connections are asynchronous on a small pool of io_contexts (one thread
/// each) and drive the sans-I/O `rtmp::proto::client_session` directly; the
/// publisher has an io_context and thread of its own so that its pacing does
/// not depend on how busy the players are.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace CLI {
class App;
}

namespace rtmp::bench {

/// Settings of one bench run (the subcommand's flags).
struct bench_options {
  std::string url;                    ///< rtmp://host[:port]/app/stream played (and published) by the tool.
  std::size_t players = 1;            ///< Player connections to open.
  std::string publish;                ///< "" (no publisher), "synthetic", or an FLV file to publish in a loop.
  std::uint64_t bitrate = 2'500'000;  ///< Synthetic video bitrate, bits per second.
  std::uint64_t audio_bitrate = 0;    ///< Synthetic AAC-shaped audio bitrate, bits per second (0: no audio).
  double ramp = 500;                  ///< Player connections started per second (0: all at once).
  double duration_s = 10;             ///< Seconds to keep running after the last player was started.
  std::size_t threads = 0;            ///< Player threads (io_contexts); 0: one per core.
  bool json = false;                  ///< Print one JSON object instead of the table.
  std::chrono::milliseconds timeout{10'000};  ///< Per connection: TCP connect + handshake + connect + play/publish.
};

/// Registers the `bench` subcommand on `app`, writing its flags into
/// `options` (which must outlive parsing). Returns the subcommand so the
/// caller can test `parsed()`.
CLI::App* add_bench_command(CLI::App& app, bench_options& options);

/// Runs a bench: raises RLIMIT_NOFILE to its hard limit, starts the
/// publisher (if any) and waits until it publishes, starts the players at
/// `ramp` per second, runs `duration_s` more seconds (or until SIGINT /
/// SIGTERM), closes everything and prints the report on stdout. Returns the
/// process exit code: 0 when a report was printed (failed players are part of
/// the report, not an error), 1 for a bad URL or a publisher that could not
/// start (the report is still printed), 2 when the host cannot be resolved.
int run_bench(const bench_options& options);

}  // namespace rtmp::bench
