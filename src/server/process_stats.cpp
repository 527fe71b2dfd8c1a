#include "server/process_stats.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace rtmp::net {
namespace {

// /proc/self/stat fields after the command name (which may hold spaces and
// parentheses, so parse from the last ')'): proc(5) numbers them from 1 with
// state as field 3; utime is 14, stime 15, starttime 22.
bool read_stat(double& cpu_seconds, double& start_ticks) {
  std::ifstream in("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int n = 3; fields >> field; ++n) {
    if (n == 14) utime = std::stod(field);
    if (n == 15) stime = std::stod(field);
    if (n == 22) {
      start_ticks = std::stod(field);
      const double hz = static_cast<double>(::sysconf(_SC_CLK_TCK));
      cpu_seconds = (utime + stime) / hz;
      return true;
    }
  }
  return false;
}

// The boot time from /proc/stat's "btime" line, seconds since the epoch.
bool read_boot_time(double& btime) {
  std::ifstream in("/proc/stat");
  std::string key;
  while (in >> key) {
    if (key == "btime") return static_cast<bool>(in >> btime);
    in.ignore(1 << 20, '\n');
  }
  return false;
}

}  // namespace

process_stats read_process_stats() {
  process_stats s;
  double cpu = 0, start_ticks = 0, btime = 0;
  try {
    if (read_stat(cpu, start_ticks)) {
      s.cpu_seconds = cpu;
      if (read_boot_time(btime)) s.start_time_seconds = btime + start_ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
    }
  } catch (const std::exception&) {
    // A field that is not a number: leave the series out.
  }
  std::ifstream statm("/proc/self/statm");
  std::uint64_t size_pages = 0, resident_pages = 0;
  if (statm >> size_pages >> resident_pages) {
    s.rss_bytes = resident_pages * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  }
  if (DIR* dir = ::opendir("/proc/self/fd")) {
    std::uint64_t n = 0;
    while (const dirent* e = ::readdir(dir)) {
      if (e->d_name[0] != '.') ++n;
    }
    ::closedir(dir);
    s.open_fds = n > 0 ? n - 1 : 0;  // without the descriptor of the listing itself
  }
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY) s.max_fds = lim.rlim_cur;
  return s;
}

}  // namespace rtmp::net
