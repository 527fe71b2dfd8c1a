// Per-thread CPU time of `rtmp-client bench` (see bench_cpu.hpp).
#include "bench_cpu.hpp"

#include <pthread.h>
#include <time.h>

#include <algorithm>

namespace rtmp::bench {

std::optional<double> thread_cpu_seconds(std::thread& thread) {
  if (!thread.joinable()) return std::nullopt;
  clockid_t clock{};
  if (::pthread_getcpuclockid(thread.native_handle(), &clock) != 0) return std::nullopt;
  timespec ts{};
  if (::clock_gettime(clock, &ts) != 0) return std::nullopt;
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double thread_cpu_track::share() const noexcept {
  if (stopped <= started) return 0;
  double s = cpu_share(cpu_at_stop, seconds_between(started, stopped));
  if (window > started && stopped - window >= min_window) {
    s = std::max(s, cpu_share(cpu_at_stop - cpu_at_window, seconds_between(window, stopped)));
  }
  return s;
}

}  // namespace rtmp::bench
