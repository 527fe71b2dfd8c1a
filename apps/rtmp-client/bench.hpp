#pragma once
/// @file bench.hpp
/// `rtmp-client bench`: a load tool for any RTMP (or RTMPS) server. One process opens
/// many player connections (each does handshake, connect, createStream and
/// play, or with `--http-flv` one HTTP GET of the stream as FLV, then counts
/// bytes, messages and keyframes), can drive its own publishers (one per
/// stream, `--streams`: a synthetic stream of valid H.264 and AAC-LC whose
/// video frames carry their send time and a sequence number in an SEI NAL
/// unit, or an FLV file), and reports connection success, per-player
/// delivered bitrate, time to the first keyframe, end-to-end delay, gaps,
/// the publishers' pacing and its own CPU time (and whether one of its
/// threads was saturated), as a table or as one JSON object.
///
/// Connections are asynchronous on a small pool of io_contexts (one thread
/// each) and drive the sans-I/O `rtmp::proto::client_session` (or, over
/// HTTP-FLV, the sans-I/O response reader of bench_http_flv.hpp) directly;
/// the publishers share an io_context and thread of their own, each paced
/// by its own timer, so that their pacing does not depend on how busy the
/// players are. With an rtmps:// URL every RTMP connection (players and
/// publishers) runs inside TLS (bench_tls.hpp); HTTP-FLV players stay on
/// plain HTTP.

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
  std::string url;                    ///< rtmp[s]://host[:port]/app/stream played (and published) by the tool.
  std::size_t players = 1;            ///< Player connections to open.
  std::size_t streams = 1;            ///< Streams: "stream-0".."stream-{N-1}" (the URL's name when 1); players round-robin.
  std::string publish;                ///< "" (no publisher), "synthetic", or an FLV file to publish in a loop (per stream).
  std::uint64_t bitrate = 2'500'000;  ///< Synthetic video bitrate per stream, bits per second.
  std::uint64_t audio_bitrate = 0;    ///< Synthetic AAC-LC audio bitrate per stream, bits per second (0: no audio).
  std::uint16_t http_flv_port = 0;    ///< Players GET http://host:PORT/app/stream.flv instead of RTMP (0: RTMP).
  double ramp = 500;                  ///< Player connections started per second (0: all at once).
  double duration_s = 10;             ///< Seconds to keep running after the last player was started.
  std::size_t threads = 0;            ///< Player threads (io_contexts); 0: one per core (the report says when they were saturated).
  bool json = false;                  ///< Print one JSON object instead of the table.
  std::chrono::milliseconds timeout{10'000};  ///< Per connection: TCP connect + handshake(s) + connect + play/publish.
  bool tls_verify = true;   ///< rtmps://: check the server's certificate (the program's --insecure turns it off).
  std::string tls_ca_file;  ///< rtmps://: PEM CA file to trust instead of the system's (the program's --ca-file).
};

/// Registers the `bench` subcommand on `app`, writing its flags into
/// `options` (which must outlive parsing). `app`'s own `--insecure` flag
/// and `--ca-file` option, when it has them, fill `options.tls_verify` and
/// `options.tls_ca_file` once a parse of `bench` completes. Returns the
/// subcommand so the caller can test `parsed()`.
CLI::App* add_bench_command(CLI::App& app, bench_options& options);

/// Runs a bench: raises RLIMIT_NOFILE to its hard limit, starts the
/// publishers (if any) and waits until they publish, starts the players at
/// `ramp` per second, runs `duration_s` more seconds (or until SIGINT /
/// SIGTERM), closes the players, then the publishers, and prints the report
/// on stdout. Returns the process exit code: 0 when a report was printed
/// (failed players are part of the report, not an error), 1 for a bad URL,
/// an unusable --ca-file or a publisher that could not start (the report is
/// still printed; a refused certificate is one reason), 2 when the host
/// cannot be resolved.
int run_bench(const bench_options& options);

}  // namespace rtmp::bench
