#pragma once
/// @file bench_cpu.hpp
/// The CPU time of the threads of `rtmp-client bench`, so that its report
/// can say when the tool itself, not the server, was the bottleneck.

#include <chrono>
#include <optional>
#include <thread>

#include "bench_clock.hpp"

namespace rtmp::bench {

/// A thread that used more than this share of the wall time (CPU seconds
/// per second) was saturated: what it measured may be the tool's limit.
inline constexpr double saturated_share = 0.9;

/// The CPU time (user and system, seconds) that the running thread `thread`
/// has used so far, from its per-thread CPU clock (pthread_getcpuclockid);
/// nullopt when the thread is not running or the clock cannot be read.
std::optional<double> thread_cpu_seconds(std::thread& thread);

/// The share of `wall_s` seconds of wall time that `cpu_s` seconds of one
/// thread's CPU time are (0 when `wall_s` is not positive).
inline double cpu_share(double cpu_s, double wall_s) noexcept { return wall_s > 0 ? cpu_s / wall_s : 0; }

/// The CPU time of one thread sampled twice during a run (it was 0 when
/// the thread started), and the share of the wall time it used.
struct thread_cpu_track {
  /// The shortest window whose share counts: over a shorter one a burst
  /// (the players' connects) would look like saturation.
  static constexpr std::chrono::seconds min_window{1};

  clock_type::time_point started{};  ///< The thread started.
  clock_type::time_point window{};   ///< The first sample (when the bitrate window opened).
  double cpu_at_window = 0;          ///< CPU seconds at `window`.
  clock_type::time_point stopped{};  ///< The second sample (before the connections closed).
  double cpu_at_stop = 0;            ///< CPU seconds at `stopped`.

  /// The larger share of the wall time the thread used: from its start to
  /// `stopped`, or from `window` to `stopped` when that lasted `min_window`
  /// or more. 0 before `stopped` was sampled.
  double share() const noexcept;
};

}  // namespace rtmp::bench
