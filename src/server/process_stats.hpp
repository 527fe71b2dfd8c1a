#pragma once
// What the kernel says about this process, for the standard `process_*`
// series of /metrics (the names the Prometheus client libraries use).
// Linux: read from /proc/self.

#include <cstdint>
#include <optional>

namespace rtmp::net {

/// One reading of the process's resources; a field the system could not
/// give stays empty (and its series is left out).
struct process_stats {
  std::optional<double> cpu_seconds;          ///< User + system CPU time.
  std::optional<std::uint64_t> rss_bytes;     ///< Resident memory.
  std::optional<std::uint64_t> open_fds;      ///< Open file descriptors.
  std::optional<std::uint64_t> max_fds;       ///< The soft RLIMIT_NOFILE.
  std::optional<double> start_time_seconds;   ///< Process start, seconds since the Unix epoch.
};

/// Reads the calling process's stats now (a few small /proc reads and one
/// directory listing: for a scrape, not a hot path).
process_stats read_process_stats();

}  // namespace rtmp::net
