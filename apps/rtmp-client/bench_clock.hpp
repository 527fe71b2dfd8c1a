#pragma once
/// @file bench_clock.hpp
/// The clock of `rtmp-client bench` and the conversions of its time points
/// that the connections and the report share.

#include <chrono>
#include <cstdint>

namespace rtmp::bench {

/// The clock every bench time point comes from (CLOCK_MONOTONIC on Linux,
/// the clock of the send time in a frame stamp).
using clock_type = std::chrono::steady_clock;

/// `t` as nanoseconds since the clock's epoch, the unit of a frame stamp.
inline std::uint64_t ns_of(clock_type::time_point t) noexcept {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}

/// Milliseconds from `from` to `to`.
inline double ms_between(clock_type::time_point from, clock_type::time_point to) noexcept {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

/// Seconds from `from` to `to`.
inline double seconds_between(clock_type::time_point from, clock_type::time_point to) noexcept {
  return std::chrono::duration<double>(to - from).count();
}

}  // namespace rtmp::bench
