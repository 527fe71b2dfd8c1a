// The physical floor of fan-out on this machine: what one writev to a
// loopback TCP socket costs the *writing* thread, as a function of the bytes
// it carries. A player's share of server CPU can never be lower than one
// such call per gathered write, so this is the yardstick for the CPU and
// delay targets in docs/performance.md.
//
// The benchmark thread writes to `sockets` loopback connections in turn
// (blocking sockets, one writev per iteration, the payload split over
// `iovs` buffers as a gathered write of queued messages would be); a drain
// thread (on another CPU when there is one) reads every connection with
// epoll, as a well-behaved player would. Google Benchmark's CPU column is
// the writing thread's own CPU time (user + system, which on loopback
// includes the kernel's delivery into the reader's socket).
//
// Run: build/bin/loopback_floor --benchmark_repetitions=3
//          --benchmark_report_aggregates_only=true
// No timing is asserted anywhere.
#include <benchmark/benchmark.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <thread>
#include <vector>

namespace {

// Connected loopback TCP pairs (writer ends blocking, reader ends
// non-blocking) and a thread that drains the reader ends until stopped.
class loopback_fleet {
 public:
  explicit loopback_fleet(int count) {
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
        throw std::runtime_error("loopback connect");
      }
      const int one = 1;
      ::setsockopt(w, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // as the server's sockets
      const int r = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK);
      if (r < 0) throw std::runtime_error("loopback accept");
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.fd = r;
      ::epoll_ctl(epoll_, EPOLL_CTL_ADD, r, &ev);
      writers_.push_back(w);
      readers_.push_back(r);
    }
    ::close(listener);
    drain_ = std::thread([this] { drain(); });
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

 private:
  void drain() {
    // The reader runs on the last CPU, the benchmark thread on the first.
    const unsigned cpus = std::thread::hardware_concurrency();
    if (cpus > 1) {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(cpus - 1, &set);
      ::pthread_setaffinity_np(pthread_self(), sizeof set, &set);
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

void pin_to_first_cpu() {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(0, &set);
  ::pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

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

}  // namespace

BENCHMARK_MAIN();
