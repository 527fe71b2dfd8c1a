#pragma once
/// @file bench_report.hpp
/// The report of `rtmp-client bench`: one JSON object made of the run's
/// settings, timeline and CPU time and of what the players and the publisher
/// measured, and the table that prints it for people.

#include <nlohmann/json.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "bench.hpp"
#include "bench_clock.hpp"
#include "bench_player.hpp"
#include "bench_publisher.hpp"

namespace rtmp::bench {

/// CPU time the process has used.
struct cpu_times {
  double user_s = 0;    ///< In user mode, seconds.
  double system_s = 0;  ///< In the kernel, seconds.
};

/// The CPU time of this process so far (getrusage).
cpu_times process_cpu();

/// When the phases of a run began.
struct run_timeline {
  clock_type::time_point started{};        ///< The run began (before the threads started).
  clock_type::time_point ramp_ended{};     ///< The last player was started.
  clock_type::time_point window_opened{};  ///< Per-player bitrates count from here.
  clock_type::time_point stopped{};        ///< The run began closing its connections.
};

/// What the report says of the run besides the players' figures.
struct run_outcome {
  std::size_t threads = 0;                           ///< Player threads.
  run_timeline timeline;                             ///< When the phases began.
  bool publishing = false;                           ///< The run had publishers of its own.
  bool publisher_failed = false;                     ///< One of them never published.
  std::vector<const publisher_stats*> publishers;    ///< Their figures, one per stream; empty without.
  const histogram* publisher_lateness_us = nullptr;  ///< How late their frames left; null without.
  cpu_times cpu_at_start;                            ///< Process CPU time when the run began.
  cpu_times cpu_at_end;                              ///< Process CPU time once every thread was joined.
  std::vector<double> player_thread_shares;          ///< Each player thread's share of the wall time (bench_cpu.hpp).
  std::optional<double> publisher_thread_share;      ///< The publishers' thread's; nullopt without.
  bool tls = false;                                  ///< The RTMP connections ran inside TLS (rtmps://).
};

/// The report as one JSON object (the fields of `--json`; `transport` is
/// "rtmps" when the RTMP connections ran inside TLS, else "rtmp"); its CPU share is
/// of the wall time from the run's start to now. `tool_saturated` is true
/// when a player thread, or the publishers' thread, used more than
/// saturated_share of the wall time.
nlohmann::ordered_json build_report(const bench_options& options, const run_outcome& outcome,
                                    const player_totals& players);

/// `report` (from build_report) as a table, one line per figure, with a
/// WARNING line when the tool was saturated.
std::string format_table(const nlohmann::ordered_json& report);

/// Prints format_table(report) on stdout.
void print_table(const nlohmann::ordered_json& report);

}  // namespace rtmp::bench
