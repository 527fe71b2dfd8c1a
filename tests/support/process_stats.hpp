#pragma once
// Memory and descriptors of a process as /proc shows them: of this test
// process (where the in-process server runs) or of a child, by pid.

#include <sys/types.h>
#include <unistd.h>

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

namespace rtmp::test {

/// /proc/PID, or /proc/self when `pid` is 0.
inline std::string proc_dir(pid_t pid = 0) { return pid == 0 ? "/proc/self" : "/proc/" + std::to_string(pid); }

/// Resident set size in bytes (0 when unreadable).
inline std::size_t rss_bytes(pid_t pid = 0) {
  std::ifstream f(proc_dir(pid) + "/statm");
  std::size_t vm = 0, rss = 0;
  f >> vm >> rss;
  return rss * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

/// Virtual memory size in bytes (0 when unreadable).
inline std::size_t vm_bytes(pid_t pid = 0) {
  std::ifstream f(proc_dir(pid) + "/statm");
  std::size_t vm = 0;
  f >> vm;
  return vm * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

/// Open descriptors (-1 when unreadable).
inline long open_fds(pid_t pid = 0) {
  std::error_code ec;
  long n = 0;
  for (std::filesystem::directory_iterator it(proc_dir(pid) + "/fd", ec), end; !ec && it != end; it.increment(ec)) {
    ++n;
  }
  return ec ? -1 : n;
}

}  // namespace rtmp::test
