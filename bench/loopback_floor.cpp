// The physical floor of fan-out on this machine: what one writev to a
// loopback TCP socket costs the *writing* thread, as a function of the bytes
// it carries. A player's share of server CPU can never be lower than one
// such call per gathered write, so this is the yardstick for the CPU and
// delay targets in docs/performance.md.
//
// Two modes.
//
// 1. Google Benchmark (the default): the benchmark thread writes to
//    `sockets` loopback connections in turn (blocking sockets, one writev per
//    iteration, the payload split over `iovs` buffers as a gathered write of
//    queued messages would be); a drain thread (on another CPU when there is
//    one) reads every connection with epoll, as a well-behaved player would.
//    Google Benchmark's CPU column is the writing thread's own CPU time
//    (user + system, which on loopback includes the kernel's delivery into
//    the reader's socket).
//
//    Run: build/bin/loopback_floor --benchmark_repetitions=3
//             --benchmark_report_aggregates_only=true
//
// 2. The fan-out shape (--shape): the same fleet, driven the way the server
//    drives its players, paced in real time:
//
//    build/bin/loopback_floor --shape players=N,bitrate=BPS[,messages=M]
//        [,window_ms=W][,seconds=S][,audio_bitrate=A][,chunk=C]
//        [,writer_cpu=X][,drain_cpu=Y]
//
//    players=N        loopback connections (default 100)
//    bitrate=BPS      the stream's bits per second, video + audio (default
//                     2628000: 2.5 Mbit/s video + 128 kbit/s audio)
//    messages=M       messages per second (default 68). Up to 25 of them are
//                     video frames (25 fps, a keyframe every 2 s of five
//                     times an inter frame's size, as rtmp-client bench's
//                     synthetic publisher); the rest are audio frames of
//                     audio_bitrate
//    audio_bitrate=A  the audio part of BPS (default 128000; ignored when
//                     M <= 25: no audio; 0: all M messages are video frames,
//                     a keyframe every 2 s)
//    window_ms=W      coalescing window (default 0: one write per message).
//                     W > 0: a window opens when a message is due and closes
//                     W ms later; every message due by then goes to each
//                     player as ONE gathered writev (at most 64 buffers per
//                     writev, as the server's outbound queue), like the
//                     server's --write-coalesce-ms
//    seconds=S        stream time, paced in real time (default 10)
//    chunk=C          each message carries its RTMP chunk headers at chunk
//                     size C (a 12-byte header, 1 byte per further chunk), so
//                     the bytes written are the wire bytes a player reads
//                     (default 4096, the server's; 0: payload only)
//    writer_cpu=X     CPU of the writing thread (default 0)
//    drain_cpu=Y      CPU of the drain thread (default the last CPU)
//
//    Every message is its own buffer, shared by all the players' writevs (the
//    server encodes a message once and queues the same bytes to every
//    player). Sockets are blocking: if the drain falls behind, the writer
//    blocks (no CPU) and the round starts late; "max_late_ms" shows it.
//    Prints one JSON line on stdout, for scripts:
//      {"mode":"shape","players":N,...,"bytes":B,"writes":W,
//       "writes_per_s":...,"writer_cpu_s":...,"writer_user_s":...,
//       "writer_sys_s":...,"cpu_s_per_gb":...,"us_per_write":...,
//       "drain_cpu_s":...,"wall_s":...,"max_late_ms":...,"mean_late_ms":...}
//    (writer CPU from CLOCK_THREAD_CPUTIME_ID, user/sys from RUSAGE_THREAD,
//    GB = 1e9 bytes written, writes_per_s per second of stream time) and one
//    human-readable line on stderr. Exit 2 on a bad spec, 1 on a failure.
//
// No timing is asserted anywhere.
#include <benchmark/benchmark.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

bool pin_thread(pthread_t thread, int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return ::pthread_setaffinity_np(thread, sizeof set, &set) == 0;
}

// Connected loopback TCP pairs (writer ends blocking, reader ends
// non-blocking) and a thread that drains the reader ends until stopped.
// The drain thread runs on `drain_cpu` (< 0: the last CPU, when there are
// several).
class loopback_fleet {
 public:
  explicit loopback_fleet(int count, int drain_cpu = -1) {
    const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::listen(listener, count) != 0 || ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error("loopback listener");
    }
    epoll_ = ::epoll_create1(0);
    for (int i = 0; i < count; ++i) {
      const int w = ::socket(AF_INET, SOCK_STREAM, 0);
      if (w < 0 || ::connect(w, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        throw std::runtime_error("loopback connect (raise ulimit -n?)");
      }
      const int one = 1;
      ::setsockopt(w, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // as the server's sockets
      const int r = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK);
      if (r < 0) throw std::runtime_error("loopback accept (raise ulimit -n?)");
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.fd = r;
      ::epoll_ctl(epoll_, EPOLL_CTL_ADD, r, &ev);
      writers_.push_back(w);
      readers_.push_back(r);
    }
    ::close(listener);
    const unsigned cpus = std::thread::hardware_concurrency();
    if (drain_cpu < 0 && cpus > 1) drain_cpu = static_cast<int>(cpus - 1);
    drain_ = std::thread([this, drain_cpu] { drain(drain_cpu); });
  }

  ~loopback_fleet() {
    stop_ = true;
    for (int w : writers_) ::shutdown(w, SHUT_WR);  // wakes the drain thread
    drain_.join();
    for (int fd : writers_) ::close(fd);
    for (int fd : readers_) ::close(fd);
    ::close(epoll_);
  }

  loopback_fleet(const loopback_fleet&) = delete;
  loopback_fleet& operator=(const loopback_fleet&) = delete;

  int writer(std::size_t i) const { return writers_[i % writers_.size()]; }
  std::size_t size() const { return writers_.size(); }
  // The drain thread's CPU time so far, in seconds.
  double drain_cpu_seconds() {
    clockid_t clock;
    timespec ts{};
    if (::pthread_getcpuclockid(drain_.native_handle(), &clock) != 0 || ::clock_gettime(clock, &ts) != 0) return 0;
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
  }

 private:
  void drain(int cpu) {
    if (cpu >= 0 && !pin_thread(pthread_self(), cpu)) {
      std::fprintf(stderr, "loopback_floor: could not pin the drain thread to CPU %d\n", cpu);
    }
    std::vector<char> sink(1 << 20);
    epoll_event events[64];
    while (!stop_) {
      const int n = ::epoll_wait(epoll_, events, 64, 100);
      for (int i = 0; i < n; ++i) {
        while (::read(events[i].data.fd, sink.data(), sink.size()) > 0) {
        }
      }
    }
  }

  std::vector<int> writers_, readers_;
  int epoll_ = -1;
  std::atomic<bool> stop_{false};
  std::thread drain_;
};

void pin_to_first_cpu() { pin_thread(pthread_self(), 0); }

// Args: payload bytes per writev, buffers per writev, connections.
void bm_loopback_writev(benchmark::State& state) {
  const auto bytes = static_cast<std::size_t>(state.range(0));
  const auto iovs = static_cast<std::size_t>(state.range(1));
  const auto sockets = static_cast<int>(state.range(2));
  pin_to_first_cpu();
  loopback_fleet fleet(sockets);
  std::vector<char> payload(bytes, 'x');
  std::vector<iovec> iov(iovs);
  for (std::size_t i = 0; i < iovs; ++i) {
    const std::size_t begin = bytes * i / iovs;
    const std::size_t end = bytes * (i + 1) / iovs;
    iov[i] = iovec{payload.data() + begin, end - begin};
  }
  std::size_t next = 0;
  for (auto _ : state) {
    const ssize_t n = ::writev(fleet.writer(next++), iov.data(), static_cast<int>(iov.size()));
    if (n != static_cast<ssize_t>(bytes)) {
      state.SkipWithError("short or failed writev");
      break;
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
}

BENCHMARK(bm_loopback_writev)
    ->ArgNames({"bytes", "iovs", "sockets"})
    ->Args({128, 1, 64})
    ->Args({1024, 1, 64})
    ->Args({4096, 1, 64})
    ->Args({16384, 1, 64})
    ->Args({16384, 4, 64})
    ->Args({32768, 1, 64})
    ->Args({65536, 1, 64})
    ->Args({16384, 1, 1000});

// ---- The fan-out shape (--shape) -------------------------------------------

struct shape_spec {
  long players = 100;
  double bitrate = 2'628'000;  // bits/s, video + audio
  double messages = 68;        // per second
  double audio_bitrate = 128'000;
  long window_ms = 0;
  double seconds = 10;
  long chunk = 4096;
  long writer_cpu = 0;
  long drain_cpu = -1;  // the last CPU
};

constexpr std::size_t max_buffers_per_write = 64;  // net::max_write_buffers
constexpr double video_fps = 25;                   // rtmp-client bench's synthetic stream
constexpr double keyframe_interval_s = 2;
constexpr double keyframe_weight = 5;  // keyframe size / inter frame size

[[noreturn]] void shape_usage(const std::string& why) {
  std::fprintf(stderr,
               "loopback_floor: %s\n"
               "usage: loopback_floor --shape players=N,bitrate=BPS[,messages=M][,window_ms=W][,seconds=S]\n"
               "                      [,audio_bitrate=A][,chunk=C][,writer_cpu=X][,drain_cpu=Y]\n"
               "(defaults: players=100,bitrate=2628000,messages=68,window_ms=0,seconds=10,\n"
               " audio_bitrate=128000,chunk=4096,writer_cpu=0, drain_cpu the last CPU; see the file header)\n",
               why.c_str());
  std::exit(2);
}

double parse_number(std::string_view key, std::string_view text) {
  const std::string s(text);
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || errno != 0 || !std::isfinite(v) || v < 0) {
    shape_usage("bad value for " + std::string(key) + ": '" + s + "'");
  }
  return v;
}

shape_spec parse_shape(std::string_view text) {
  shape_spec spec;
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    if (item.empty()) continue;
    const std::size_t eq = item.find('=');
    if (eq == std::string_view::npos) shape_usage("expected key=value, got '" + std::string(item) + "'");
    const std::string_view key = item.substr(0, eq);
    const double v = parse_number(key, item.substr(eq + 1));
    const auto whole = [&] {
      if (v != std::floor(v) || v > 1e9) shape_usage(std::string(key) + " must be a whole number");
      return static_cast<long>(v);
    };
    if (key == "players") spec.players = whole();
    else if (key == "bitrate") spec.bitrate = v;
    else if (key == "messages") spec.messages = v;
    else if (key == "audio_bitrate") spec.audio_bitrate = v;
    else if (key == "window_ms") spec.window_ms = whole();
    else if (key == "seconds") spec.seconds = v;
    else if (key == "chunk") spec.chunk = whole();
    else if (key == "writer_cpu") spec.writer_cpu = whole();
    else if (key == "drain_cpu") spec.drain_cpu = whole();
    else shape_usage("unknown key '" + std::string(key) + "'");
  }
  if (spec.players < 1) shape_usage("players must be at least 1");
  if (spec.bitrate <= 0 || spec.messages <= 0 || spec.seconds <= 0) {
    shape_usage("bitrate, messages and seconds must be above 0");
  }
  return spec;
}

// One message of the stream: when it is due (ns after the start) and its
// bytes (its own buffer, shared by every player's write).
struct shape_message {
  std::int64_t due_ns;
  std::size_t offset;
  std::size_t size;
};

// The messages of `spec.seconds` of the stream, in time order, laid out in
// `arena`.
std::vector<shape_message> plan_messages(const shape_spec& spec, std::vector<char>& arena) {
  const double vfps = spec.audio_bitrate > 0 ? std::min(spec.messages, video_fps) : spec.messages;
  const double afps = spec.messages - vfps;
  const double audio_bps = afps > 0 ? spec.audio_bitrate : 0;
  if (audio_bps >= spec.bitrate) shape_usage("audio_bitrate must be below bitrate");
  const double video_bps = spec.bitrate - audio_bps;
  const auto gop = std::max<long>(1, std::lround(vfps * keyframe_interval_s));
  const double gop_bytes = video_bps * static_cast<double>(gop) / vfps / 8;
  const double inter = gop > 1 ? gop_bytes / (static_cast<double>(gop - 1) + keyframe_weight) : 0;
  const double key = gop_bytes - inter * static_cast<double>(gop - 1);
  const double audio = afps > 0 ? audio_bps / 8 / afps : 0;
  const auto wire = [&](double payload) {
    const auto p = std::max<std::size_t>(1, static_cast<std::size_t>(std::llround(payload)));
    return spec.chunk > 0 ? p + 12 + (p - 1) / static_cast<std::size_t>(spec.chunk) : p;
  };
  std::vector<shape_message> out;
  const auto end_ns = static_cast<std::int64_t>(spec.seconds * 1e9);
  for (long k = 0;; ++k) {
    const auto t = static_cast<std::int64_t>(static_cast<double>(k) * 1e9 / vfps);
    if (t >= end_ns) break;
    out.push_back({t, 0, wire(k % gop == 0 ? key : inter)});
  }
  for (long j = 0; afps > 0; ++j) {
    const auto t = static_cast<std::int64_t>(static_cast<double>(j) * 1e9 / afps);
    if (t >= end_ns) break;
    out.push_back({t, 0, wire(audio)});
  }
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.due_ns < b.due_ns; });
  std::size_t total = 0;
  for (auto& m : out) {
    m.offset = total;
    total += m.size;
  }
  arena.assign(total, 'x');  // every message its own bytes, touched once
  return out;
}

// Writes all of `iov` to the blocking socket `fd`; counts the writev calls.
void write_all(int fd, iovec* iov, std::size_t count, std::uint64_t& calls) {
  while (count > 0) {
    const ssize_t n = ::writev(fd, iov, static_cast<int>(count));
    ++calls;
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("writev: ") + std::strerror(errno));
    }
    auto left = static_cast<std::size_t>(n);
    while (count > 0 && left >= iov->iov_len) {
      left -= iov->iov_len;
      ++iov;
      --count;
    }
    if (count > 0) {
      iov->iov_base = static_cast<char*>(iov->iov_base) + left;
      iov->iov_len -= left;
    }
  }
}

double thread_cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double seconds_of(const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; }

std::int64_t monotonic_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

void sleep_until_ns(std::int64_t t) {
  timespec ts{static_cast<time_t>(t / 1'000'000'000), static_cast<long>(t % 1'000'000'000)};
  while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

int run_shape(const shape_spec& spec) {
  // Two descriptors per player: raise the open-file limit as far as allowed.
  rlimit nofile{};
  if (::getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
    nofile.rlim_cur = nofile.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &nofile);
  }
  if (!pin_thread(pthread_self(), static_cast<int>(spec.writer_cpu))) {
    std::fprintf(stderr, "loopback_floor: could not pin the writer to CPU %ld\n", spec.writer_cpu);
  }
  std::vector<char> arena;
  const std::vector<shape_message> plan = plan_messages(spec, arena);
  loopback_fleet fleet(static_cast<int>(spec.players), static_cast<int>(spec.drain_cpu));
  const auto players = fleet.size();
  const std::int64_t window_ns = spec.window_ms * 1'000'000;

  std::vector<iovec> iov, scratch;
  std::uint64_t writes = 0, bytes = 0, rounds = 0;
  double late_sum_ms = 0, late_max_ms = 0;
  const std::int64_t start = monotonic_ns() + 100'000'000;  // the fleet settles
  sleep_until_ns(start);
  rusage ru0{};
  ::getrusage(RUSAGE_THREAD, &ru0);
  const double cpu0 = thread_cpu_seconds();
  const double drain0 = fleet.drain_cpu_seconds();
  for (std::size_t i = 0; i < plan.size();) {
    // W = 0: this message alone; W > 0: every message due within W of it.
    const std::int64_t close = plan[i].due_ns + window_ns;
    std::size_t j = i + 1;
    if (window_ns > 0) {
      while (j < plan.size() && plan[j].due_ns <= close) ++j;
    }
    sleep_until_ns(start + close);
    const double late_ms = static_cast<double>(monotonic_ns() - (start + close)) / 1e6;
    late_sum_ms += late_ms;
    late_max_ms = std::max(late_max_ms, late_ms);
    ++rounds;
    iov.clear();
    std::size_t round_bytes = 0;
    for (std::size_t k = i; k < j; ++k) {
      iov.push_back(iovec{arena.data() + plan[k].offset, plan[k].size});
      round_bytes += plan[k].size;
    }
    for (std::size_t p = 0; p < players; ++p) {
      for (std::size_t b = 0; b < iov.size(); b += max_buffers_per_write) {
        // writev may advance the iovecs on a short write: hand it a copy.
        scratch.assign(iov.begin() + static_cast<std::ptrdiff_t>(b),
                       iov.begin() + static_cast<std::ptrdiff_t>(std::min(iov.size(), b + max_buffers_per_write)));
        write_all(fleet.writer(p), scratch.data(), scratch.size(), writes);
      }
    }
    bytes += round_bytes * players;
    i = j;
  }
  const double cpu = thread_cpu_seconds() - cpu0;
  rusage ru1{};
  ::getrusage(RUSAGE_THREAD, &ru1);
  const double wall = static_cast<double>(monotonic_ns() - start) / 1e9;
  const double drain = fleet.drain_cpu_seconds() - drain0;
  const double user = seconds_of(ru1.ru_utime) - seconds_of(ru0.ru_utime);
  const double sys = seconds_of(ru1.ru_stime) - seconds_of(ru0.ru_stime);
  const double gb = static_cast<double>(bytes) / 1e9;
  const double per_gb = gb > 0 ? cpu / gb : 0;
  const double writes_per_s = static_cast<double>(writes) / spec.seconds;
  const double us_per_write = writes ? cpu * 1e6 / static_cast<double>(writes) : 0;
  const double mean_late = rounds ? late_sum_ms / static_cast<double>(rounds) : 0;

  std::printf(
      "{\"mode\":\"shape\",\"players\":%zu,\"bitrate_bps\":%.0f,\"messages_per_s\":%g,\"audio_bitrate_bps\":%.0f,"
      "\"window_ms\":%ld,\"seconds\":%g,\"chunk\":%ld,\"writer_cpu\":%ld,\"drain_cpu\":%ld,"
      "\"messages\":%zu,\"rounds\":%llu,\"bytes\":%llu,\"writes\":%llu,\"writes_per_s\":%.1f,"
      "\"writer_cpu_s\":%.4f,\"writer_user_s\":%.4f,\"writer_sys_s\":%.4f,\"cpu_s_per_gb\":%.4f,"
      "\"us_per_write\":%.3f,\"drain_cpu_s\":%.4f,\"wall_s\":%.3f,\"max_late_ms\":%.3f,\"mean_late_ms\":%.3f}\n",
      players, spec.bitrate, spec.messages, spec.audio_bitrate > 0 && spec.messages > video_fps ? spec.audio_bitrate : 0.0, spec.window_ms,
      spec.seconds, spec.chunk, spec.writer_cpu,
      spec.drain_cpu >= 0 ? spec.drain_cpu : static_cast<long>(std::thread::hardware_concurrency()) - 1, plan.size(),
      static_cast<unsigned long long>(rounds), static_cast<unsigned long long>(bytes),
      static_cast<unsigned long long>(writes), writes_per_s, cpu, user, sys, per_gb, us_per_write, drain, wall,
      late_max_ms, mean_late);
  std::fflush(stdout);
  std::fprintf(stderr,
               "shape: %zu players, %.0f bit/s in %g messages/s, window %ld ms, %g s: %llu writes (%.0f/s), %.3f GB; "
               "writer CPU %.3f s (user %.3f, sys %.3f) = %.3f s per GB, %.2f us per write; drain CPU %.3f s; "
               "rounds late by %.2f ms mean, %.2f ms max\n",
               players, spec.bitrate, spec.messages, spec.window_ms, spec.seconds,
               static_cast<unsigned long long>(writes), writes_per_s, gb, cpu, user, sys, per_gb, us_per_write, drain,
               mean_late, late_max_ms);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--shape" || arg.starts_with("--shape=")) {
      std::string_view spec;
      if (arg.size() > 7) {
        spec = arg.substr(8);
      } else if (i + 1 < argc && argv[i + 1][0] != '-') {
        spec = argv[i + 1];
      }
      try {
        return run_shape(parse_shape(spec));
      } catch (const std::exception& e) {
        std::fprintf(stderr, "loopback_floor: %s\n", e.what());
        return 1;
      }
    }
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
