// rtmp-client bench: many asynchronous RTMP connections on a few threads
// (see bench.hpp). Each connection owns a sans-I/O client_session and a
// socket on one io_context; nothing is shared between threads while the
// run lasts except a few relaxed counters for the progress log. The
// statistics are read after every thread has been joined.
#include "bench.hpp"

#include <CLI/CLI.hpp>
#include <asio/connect.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>
#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "bench_detail.hpp"
#include "outbound_queue.hpp"
#include "rtmp/error.hpp"
#include "socket_writer.hpp"
#include "rtmp/proto/client_session.hpp"
#include "rtmp/proto/flv_reader.hpp"
#include "rtmp/proto/media_info.hpp"
#include "rtmp/proto/rtmp_url.hpp"
#include "rtmp/version.hpp"

namespace rtmp::bench {

namespace {

using clock_type = std::chrono::steady_clock;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

// Socket reads per connection before it yields to the others on its thread.
constexpr int max_reads_per_turn = 8;
// Per-thread read buffer, shared by every connection of the thread: a
// connection reads only when its socket is readable and hands the bytes to
// its session before the next connection runs, so no connection keeps a
// buffer of its own.
constexpr std::size_t read_buffer_bytes = 64 * 1024;
// The publisher skips frames (and says so) rather than queue more than this.
constexpr std::size_t max_publisher_backlog = 8 * 1024 * 1024;
// How often each thread checks negotiation deadlines.
constexpr auto sweep_interval = 250ms;

std::atomic<bool> g_bench_stop{false};

extern "C" void rtmp_bench_on_signal(int) { g_bench_stop.store(true); }

std::uint64_t ns_of(clock_type::time_point t) noexcept {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}

double ms_between(clock_type::time_point from, clock_type::time_point to) noexcept {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

double seconds_between(clock_type::time_point from, clock_type::time_point to) noexcept {
  return std::chrono::duration<double>(to - from).count();
}

// EOF and resets mean the same here: the server went away.
std::error_code normalize(std::error_code ec) {
  if (ec == asio::error::eof || ec == asio::error::connection_reset || ec == asio::error::broken_pipe) {
    return errc::peer_closed;
  }
  return ec;
}

// --- one connection ------------------------------------------------------------------------

// A socket driving a client_session: connect, read when readable (into the
// thread's shared buffer), write what the session produces. Subclasses see
// the session's events. Lives until its io_context stops running, so
// handlers may capture `this`.
class connection {
 public:
  connection(asio::io_context& io, std::vector<std::uint8_t>& read_buffer, proto::client_session_config config)
      : io_(io), buffer_(read_buffer), socket_(io), session_(std::move(config)) {}
  virtual ~connection() = default;

  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  /// Starts the TCP connect; the handshake follows on success.
  void start(const tcp::endpoint& endpoint) {
    socket_.async_connect(endpoint, [this](std::error_code ec) {
      if (closed_) return;
      if (ec) {
        close(ec);
        return;
      }
      std::error_code ignored;
      socket_.set_option(tcp::no_delay(true), ignored);
      socket_.non_blocking(true, ignored);
      tcp_connected_ = true;
      flush();  // C0C1, and whatever was requested before (play / publish)
      arm_read();
    });
  }

  /// Closes the socket; `why` (empty when we stopped it) is kept as the
  /// connection's error. Idempotent.
  void close(std::error_code why) {
    if (closed_) return;
    closed_ = true;
    error_ = why;
    std::error_code ignored;
    socket_.close(ignored);
    out_.clear();
    on_close(clock_type::now());
  }

  bool closed() const noexcept { return closed_; }
  std::error_code error() const noexcept { return error_; }
  std::uint64_t bytes_received() const noexcept { return bytes_in_; }

 protected:
  virtual void on_event(proto::client_event& ev, clock_type::time_point now) = 0;
  virtual void on_close(clock_type::time_point /*now*/) {}

  // Moves the session's output to the socket: non-blocking writes of what
  // is queued, a writability wait when the socket is full.
  void flush() {
    if (closed_ || !tcp_connected_ || !session_.has_output()) return;
    std::vector<std::uint8_t> bytes;
    session_.take_output(bytes);
    out_.push(proto::shared_bytes::adopt(std::move(bytes)), net::byte_class::media);
    write();
  }

  std::size_t queued_bytes() const noexcept { return out_.queued(); }

  asio::io_context& io_;
  std::vector<std::uint8_t>& buffer_;
  tcp::socket socket_;
  proto::client_session session_;

 private:
  void arm_read() {
    socket_.async_wait(tcp::socket::wait_read, [this](std::error_code ec) { on_readable(ec); });
  }

  // Reads until the socket would block (Asio's reactor is edge-triggered:
  // re-arming with bytes left unread could wait forever), yielding to the
  // other connections after a few reads.
  void on_readable(std::error_code ec) {
    if (closed_) return;
    if (ec) {
      close(normalize(ec));
      return;
    }
    for (int reads = 0; reads < max_reads_per_turn; ++reads) {
      std::error_code rec;
      const std::size_t n = socket_.read_some(asio::buffer(buffer_), rec);
      if (rec == asio::error::would_block || rec == asio::error::try_again) {
        arm_read();
        return;
      }
      if (rec) {
        close(normalize(rec));
        return;
      }
      bytes_in_ += n;
      const std::error_code perr = session_.on_bytes(std::span<const std::uint8_t>(buffer_.data(), n));
      const auto now = clock_type::now();
      proto::client_event ev;
      while (session_.next_event(ev)) {
        on_event(ev, now);
        if (closed_) return;
      }
      if (perr) {
        close(perr);
        return;
      }
      flush();
    }
    asio::post(io_, [this] { on_readable({}); });
  }

  void write() {
    if (waiting_writable_ || closed_) return;
    std::uint64_t sent = 0;
    std::error_code ec;
    switch (net::write_queued(socket_, out_, {}, sent, ec)) {
      case net::write_state::drained: return;
      case net::write_state::failed: close(normalize(ec)); return;
      case net::write_state::blocked: break;
    }
    waiting_writable_ = true;
    socket_.async_wait(tcp::socket::wait_write, [this](std::error_code wec) {
      waiting_writable_ = false;
      if (closed_) return;
      if (wec) {
        close(normalize(wec));
        return;
      }
      write();
    });
  }

  net::outbound_queue out_;  // what the socket has not taken yet
  std::uint64_t bytes_in_ = 0;
  std::error_code error_;
  bool tcp_connected_ = false;
  bool waiting_writable_ = false;
  bool closed_ = false;
};

proto::client_session_config session_config(const proto::rtmp_url& url, const char* flash_ver) {
  proto::client_session_config cfg;
  cfg.connect.app = url.app;
  cfg.connect.tc_url = url.tc_url;
  cfg.connect.flash_ver = flash_ver;
  return cfg;
}

// --- players ---------------------------------------------------------------------------------

class player;

// What one player measured; read after its thread was joined.
struct player_stats {
  clock_type::time_point started{};       // connect started
  clock_type::time_point playing_at{};    // NetStream.Play.Start
  clock_type::time_point first_keyframe{};
  clock_type::time_point ended{};         // closed (by us at the end, or by an error)
  bool playing = false;
  bool have_keyframe = false;
  std::uint64_t media_bytes = 0;
  std::uint64_t window_bytes = 0;         // media bytes received in the measured window
  clock_type::time_point window_from{};   // when this player's measured window began
  std::uint64_t messages = 0;
  std::uint64_t video = 0;
  std::uint64_t audio = 0;
  std::uint64_t keyframes = 0;
  std::uint64_t stamped = 0;
  std::uint64_t gaps = 0;
  std::uint64_t dropped = 0;
  std::uint64_t reordered = 0;
  std::uint64_t stream_ends = 0;
  bool have_seq = false;
  std::uint64_t last_seq = 0;
};

// One thread: an io_context, its players and their shared read buffer.
struct worker {
  asio::io_context io{1};
  asio::executor_work_guard<asio::io_context::executor_type> guard{io.get_executor()};
  std::vector<std::uint8_t> read_buffer = std::vector<std::uint8_t>(read_buffer_bytes);
  std::vector<std::unique_ptr<player>> players;
  histogram delay_us;  // publisher -> player, live frames only
  asio::steady_timer sweep{io};
  bool stopping = false;
  bool measuring = false;  // the ramp is over: per-player bitrates count from here
  clock_type::time_point measure_from{};
  std::atomic<std::uint64_t> playing{0};  // progress log only
  std::atomic<std::uint64_t> failed{0};
  std::atomic<std::uint64_t> keyed{0};  // players that got a keyframe
  std::thread thread;
};

class player final : public connection {
 public:
  player(worker& w, const proto::client_session_config& config, std::chrono::milliseconds timeout)
      : connection(w.io, w.read_buffer, config), w_(w), timeout_(timeout) {}

  void begin(const std::string& stream, const tcp::endpoint& endpoint) {
    stats_.started = clock_type::now();
    (void)session_.play(stream);  // goes out as soon as the connection is up
    start(endpoint);
  }

  // Closes a player whose negotiation took longer than the timeout.
  void check_deadline(clock_type::time_point now) {
    if (!closed() && !stats_.playing && now - stats_.started > timeout_) close(errc::timeout);
  }

  const player_stats& stats() const noexcept { return stats_; }

 protected:
  void on_event(proto::client_event& ev, clock_type::time_point now) override {
    using kind = proto::client_event::kind;
    switch (ev.type) {
      case kind::play_started:
        if (!stats_.playing) {
          stats_.playing = true;
          stats_.playing_at = now;
          w_.playing.fetch_add(1, std::memory_order_relaxed);
        }
        break;
      case kind::media:
        on_media(ev.msg, now);
        break;
      case kind::stream_ended:
        ++stats_.stream_ends;
        break;
      default:
        break;
    }
  }

  void on_close(clock_type::time_point now) override {
    stats_.ended = now;
    if (!stats_.playing) w_.failed.fetch_add(1, std::memory_order_relaxed);
  }

 private:
  void on_media(const proto::message& msg, clock_type::time_point now) {
    const auto payload = msg.payload.span();
    ++stats_.messages;
    stats_.media_bytes += payload.size();
    if (w_.measuring) {
      if (stats_.window_bytes == 0 && stats_.window_from == clock_type::time_point{}) {
        stats_.window_from = std::max(w_.measure_from, stats_.playing_at);
      }
      stats_.window_bytes += payload.size();
    }
    if (msg.type == 8) {
      ++stats_.audio;
      return;
    }
    if (msg.type != 9) return;
    ++stats_.video;
    if (proto::is_video_keyframe(payload)) {
      ++stats_.keyframes;
      if (!stats_.have_keyframe) {
        stats_.have_keyframe = true;
        stats_.first_keyframe = now;
        w_.keyed.fetch_add(1, std::memory_order_relaxed);
      }
    }
    const auto stamp = read_stamp(payload);
    if (!stamp) return;
    ++stats_.stamped;
    if (!stats_.have_seq) {
      stats_.have_seq = true;
      stats_.last_seq = stamp->sequence;
    } else if (stamp->sequence == stats_.last_seq + 1) {
      stats_.last_seq = stamp->sequence;
    } else if (stamp->sequence > stats_.last_seq + 1) {
      ++stats_.gaps;
      stats_.dropped += stamp->sequence - stats_.last_seq - 1;
      stats_.last_seq = stamp->sequence;
    } else {
      ++stats_.reordered;  // a duplicate or an older frame
    }
    // Frames sent before this player was playing came from a cache (a GOP
    // replayed to a late joiner): their age is not the live delay.
    const std::uint64_t now_ns = ns_of(now);
    if (stamp->send_ns >= ns_of(stats_.playing_at) && now_ns >= stamp->send_ns && stats_.playing) {
      w_.delay_us.record((now_ns - stamp->send_ns) / 1000);
    }
  }

  worker& w_;
  std::chrono::milliseconds timeout_;
  player_stats stats_;
};

void schedule_sweep(worker& w) {
  w.sweep.expires_after(sweep_interval);
  w.sweep.async_wait([&w](std::error_code ec) {
    if (ec || w.stopping) return;
    const auto now = clock_type::now();
    for (auto& p : w.players) p->check_deadline(now);
    schedule_sweep(w);
  });
}

// --- the publisher ----------------------------------------------------------------------------

struct publisher_stats {
  clock_type::time_point started{};  // Publish.Start
  clock_type::time_point ended{};
  std::uint64_t video_frames = 0;
  std::uint64_t audio_frames = 0;
  std::uint64_t skipped_frames = 0;
  std::uint64_t media_bytes = 0;
  std::string failure;
};

class publisher final : public connection {
 public:
  enum class state : int { connecting, publishing, failed };

  publisher(asio::io_context& io, std::vector<std::uint8_t>& buffer, const proto::client_session_config& config,
            const bench_options& options, std::vector<proto::flv_tag> file_tags)
      : connection(io, buffer, config),
        synthetic_(options.bitrate, options.audio_bitrate),
        file_tags_(std::move(file_tags)),
        use_file_(options.publish != "synthetic"),
        timer_(io) {}

  void begin(const std::string& stream, const tcp::endpoint& endpoint) {
    (void)session_.publish(stream);
    start(endpoint);
  }

  /// Stops sending and closes (on the publisher's thread).
  void stop() {
    timer_.cancel();
    close({});
  }

  state current_state() const noexcept { return state_.load(); }
  const publisher_stats& stats() const noexcept { return stats_; }

 protected:
  void on_event(proto::client_event& ev, clock_type::time_point now) override {
    using kind = proto::client_event::kind;
    if (ev.type == kind::publish_started) {
      stats_.started = now;
      state_.store(state::publishing);
      send_headers();
      tick();
    } else if (ev.type == kind::stream_ended) {
      stats_.failure = "the server stopped the stream: " + ev.reason;
      close(errc::peer_closed);
    }
  }

  void on_close(clock_type::time_point now) override {
    stats_.ended = now;
    timer_.cancel();
    if (error()) {
      if (stats_.failure.empty()) {
        const auto& st = session_.last_error_status();
        stats_.failure = error().message() + (st.code.empty() ? "" : " (" + st.code + ")");
      }
      if (state_.load() == state::connecting) state_.store(state::failed);
    }
  }

 private:
  void send_headers() {
    if (use_file_) {
      for (const auto& tag : file_tags_) {
        if (tag.type == 18 && is_metadata(tag)) {
          (void)session_.send_script_data(tag.payload.span(), 0);
          break;
        }
      }
    } else {
      const auto meta = synthetic_.metadata();
      (void)session_.send_script_data(meta, 0);
      (void)session_.send_media(synthetic_.video_sequence_header());
      if (synthetic_.has_audio()) (void)session_.send_media(synthetic_.audio_sequence_header());
    }
    flush();
  }

  static bool is_metadata(const proto::flv_tag& tag) {
    static constexpr std::uint8_t prefix[] = {0x02, 0x00, 0x0A, 'o', 'n', 'M', 'e', 't', 'a', 'D', 'a', 't', 'a'};
    const auto p = tag.payload.span();
    return p.size() >= sizeof(prefix) && std::memcmp(p.data(), prefix, sizeof(prefix)) == 0;
  }

  bool backlogged() const noexcept { return queued_bytes() > max_publisher_backlog; }

  void send(const proto::message& m) {
    if (session_.send_media(m)) return;
    stats_.media_bytes += m.payload.size();
    if (m.type == 9) ++stats_.video_frames;
    if (m.type == 8) ++stats_.audio_frames;
  }

  // Sends every frame that is due, then sleeps until the next one.
  void tick() {
    if (closed()) return;
    const auto now = clock_type::now();
    clock_type::time_point next = use_file_ ? tick_file(now) : tick_synthetic(now);
    flush();
    timer_.expires_at(next);
    timer_.async_wait([this](std::error_code ec) {
      if (!ec) tick();
    });
  }

  clock_type::time_point tick_synthetic(clock_type::time_point now) {
    const auto t0 = stats_.started;
    for (;;) {
      const auto video_due = t0 + std::chrono::milliseconds(synthetic_stream::video_time_ms(video_index_));
      const auto audio_due = t0 + std::chrono::microseconds(synthetic_stream::audio_time_us(audio_index_));
      const bool audio_first = synthetic_.has_audio() && audio_due < video_due;
      const auto due = audio_first ? audio_due : video_due;
      if (due > now) return due;
      if (audio_first) {
        if (backlogged()) {
          ++stats_.skipped_frames;
        } else {
          send(synthetic_.audio_frame(audio_index_));
        }
        ++audio_index_;
        continue;
      }
      if (backlogged()) {
        ++stats_.skipped_frames;  // the sequence number does not advance: players see no gap for it
      } else {
        send(synthetic_.video_frame(video_index_, sequence_++, ns_of(clock_type::now())));
      }
      ++video_index_;
    }
  }

  clock_type::time_point tick_file(clock_type::time_point now) {
    if (file_tags_.empty()) return now + 1h;
    const std::uint32_t first = file_tags_.front().timestamp;
    for (;;) {
      if (file_pos_ == file_tags_.size()) {
        // Next loop starts one frame interval after this one's last timestamp.
        const std::uint32_t last = file_tags_.back().timestamp;
        loop_offset_ms_ += (last >= first ? last - first : 0) + 40;
        file_pos_ = 0;
        ++loops_;
      }
      const auto& tag = file_tags_[file_pos_];
      const std::uint64_t rel = (tag.timestamp >= first ? tag.timestamp - first : 0) + loop_offset_ms_;
      const auto due = stats_.started + std::chrono::milliseconds(rel);
      if (due > now) return due;
      ++file_pos_;
      if (tag.type != 8 && tag.type != 9) continue;  // metadata went out once at the start
      if (loops_ > 0 && (proto::is_video_sequence_header(tag.payload.span()) ||
                         (tag.type == 8 && proto::is_audio_sequence_header(tag.payload.span())))) {
        continue;
      }
      if (backlogged()) {
        ++stats_.skipped_frames;
        continue;
      }
      proto::message m;
      m.type = tag.type;
      m.timestamp = static_cast<std::uint32_t>(rel);
      m.payload = tag.payload;
      send(m);
    }
  }

  synthetic_stream synthetic_;
  std::vector<proto::flv_tag> file_tags_;
  bool use_file_;
  asio::steady_timer timer_;
  std::atomic<state> state_{state::connecting};
  publisher_stats stats_;
  std::uint64_t video_index_ = 0;
  std::uint64_t audio_index_ = 0;
  std::uint64_t sequence_ = 0;
  std::size_t file_pos_ = 0;
  std::uint64_t loop_offset_ms_ = 0;
  std::uint64_t loops_ = 0;
};

// --- helpers of run_bench ---------------------------------------------------------------------

void raise_nofile_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &rl) != 0) spdlog::warn("cannot raise RLIMIT_NOFILE: {}", std::strerror(errno));
  }
}

std::uint64_t open_file_limit() {
  rlimit rl{};
  return ::getrlimit(RLIMIT_NOFILE, &rl) == 0 ? static_cast<std::uint64_t>(rl.rlim_cur) : 0;
}

void install_stop_signals() {
  struct sigaction sa {};
  sa.sa_handler = rtmp_bench_on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND;  // a second signal kills at once
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

struct cpu_times {
  double user_s = 0;
  double system_s = 0;
};

cpu_times process_cpu() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  const auto secs = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; };
  return {secs(ru.ru_utime), secs(ru.ru_stime)};
}

// Reads an FLV file into memory (tags only). Errors: the reader's, or errno's.
std::error_code load_flv(const std::string& path, std::vector<proto::flv_tag>& tags) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {errno, std::generic_category()};
  proto::flv_reader reader;
  std::vector<std::uint8_t> block(256 * 1024);
  std::error_code result;
  for (;;) {
    const ssize_t n = ::read(fd, block.data(), block.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      result = {errno, std::generic_category()};
      break;
    }
    if (n == 0) {
      const auto ec = reader.finish();
      if (ec && !(ec == errc::flv_truncated && reader.tags_read() > 0)) result = ec;
      break;
    }
    if (auto ec = reader.feed(std::span<const std::uint8_t>(block.data(), static_cast<std::size_t>(n)))) {
      result = ec;
      break;
    }
    proto::flv_tag tag;
    while (reader.next(tag)) tags.push_back(std::move(tag));
  }
  ::close(fd);
  if (!result && tags.empty()) result = errc::flv_malformed;
  return result;
}

// Nearest-rank percentile of sorted values (p in 0..100); 0 when empty.
double percentile_of(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const double rank = std::ceil(p / 100.0 * static_cast<double>(sorted.size()));
  const auto i = static_cast<std::size_t>(std::clamp(rank, 1.0, static_cast<double>(sorted.size()))) - 1;
  return sorted[i];
}

double round_to(double v, int decimals) {
  const double f = std::pow(10.0, decimals);
  return std::round(v * f) / f;
}

nlohmann::ordered_json distribution(std::vector<double> v, int decimals) {
  std::sort(v.begin(), v.end());
  nlohmann::ordered_json j;
  j["count"] = v.size();
  j["p50"] = round_to(percentile_of(v, 50), decimals);
  j["p99"] = round_to(percentile_of(v, 99), decimals);
  j["max"] = round_to(v.empty() ? 0 : v.back(), decimals);
  return j;
}

std::string mbit(double bps) { return fmt::format("{:.3f} Mbit/s", bps / 1e6); }

// The readable form of the report.
void print_table(const nlohmann::ordered_json& r) {
  const auto& pl = r["players"];
  const auto& pub = r["publisher"];
  const auto& del = r["delivered"];
  const auto& br = del["bitrate_bps"];
  const auto& fk = r["first_keyframe_ms"];
  const auto& cn = r["connect_ms"];
  const auto& dl = r["delay_ms"];
  const auto& gp = r["gaps"];
  const auto& cpu = r["cpu"];
  std::string out;
  out += fmt::format("rtmp-client bench: {}\n", r["url"].get<std::string>());
  out += fmt::format("  {} player threads, ran {:.1f} s ({:.1f} s after the last player started)\n",
                     r["threads"].get<std::uint64_t>(), r["elapsed_s"].get<double>(),
                     r["measured_s"].get<double>());
  out += fmt::format("| {:<22} | {} |\n|{:-<24}|{:-<60}|\n", "what", "value", "", "");
  const auto row = [&out](const std::string& what, const std::string& value) {
    out += fmt::format("| {:<22} | {} |\n", what, value);
  };
  row("players", fmt::format("{} requested, {} connected, {} failed, {} disconnected",
                             pl["requested"].get<std::uint64_t>(), pl["connected"].get<std::uint64_t>(),
                             pl["failed"].get<std::uint64_t>(), pl["disconnected"].get<std::uint64_t>()));
  for (const auto& [reason, count] : pl["failures"].items()) {
    row("  failure", fmt::format("{} x {}", count.get<std::uint64_t>(), reason));
  }
  if (pub["mode"] != "none") {
    row("publisher", fmt::format("{}, {} sent, {} video / {} audio frames, {} skipped{}",
                                 pub["mode"].get<std::string>(), mbit(pub["bitrate_bps"].get<double>()),
                                 pub["video_frames"].get<std::uint64_t>(), pub["audio_frames"].get<std::uint64_t>(),
                                 pub["skipped_frames"].get<std::uint64_t>(),
                                 pub["error"].get<std::string>().empty() ? "" : ", error: " + pub["error"].get<std::string>()));
  }
  row("delivered per player", fmt::format("min {}, p1 {}, median {}, max {}", mbit(br["min"].get<double>()),
                                          mbit(br["p1"].get<double>()), mbit(br["median"].get<double>()),
                                          mbit(br["max"].get<double>())));
  row("delivered in total", fmt::format("{:.1f} MB media, {:.1f} MB on the wire, {} messages, {} keyframes",
                                        del["bytes"].get<double>() / 1e6, del["wire_bytes"].get<double>() / 1e6,
                                        del["messages"].get<std::uint64_t>(), del["keyframes"].get<std::uint64_t>()));
  row("first keyframe", fmt::format("p50 {:.1f} ms, p99 {:.1f} ms, max {:.1f} ms ({} players)", fk["p50"].get<double>(),
                                    fk["p99"].get<double>(), fk["max"].get<double>(), fk["count"].get<std::uint64_t>()));
  row("connect to Play.Start", fmt::format("p50 {:.1f} ms, p99 {:.1f} ms, max {:.1f} ms", cn["p50"].get<double>(),
                                           cn["p99"].get<double>(), cn["max"].get<double>()));
  row("end-to-end delay", fmt::format("p50 {:.2f} ms, p99 {:.2f} ms, max {:.2f} ms ({} samples)",
                                      dl["p50"].get<double>(), dl["p99"].get<double>(), dl["max"].get<double>(),
                                      dl["samples"].get<std::uint64_t>()));
  row("gaps", fmt::format("{} gaps, {} frames missing, {} out of order ({} stamped frames)",
                          gp["gaps"].get<std::uint64_t>(), gp["dropped_messages"].get<std::uint64_t>(),
                          gp["reordered"].get<std::uint64_t>(), gp["stamped_messages"].get<std::uint64_t>()));
  row("tool CPU", fmt::format("user {:.2f} s, system {:.2f} s ({:.0f} % of one core)", cpu["user_s"].get<double>(),
                              cpu["system_s"].get<double>(), cpu["percent_of_one_core"].get<double>()));
  std::fputs(out.c_str(), stdout);
  std::fflush(stdout);
}

// Sleeps until `deadline` in short steps; false when a stop signal came.
bool sleep_until(clock_type::time_point deadline) {
  while (!g_bench_stop.load()) {
    const auto now = clock_type::now();
    if (now >= deadline) return true;
    std::this_thread::sleep_for(std::min<clock_type::duration>(deadline - now, 50ms));
  }
  return false;
}

}  // namespace

// --- the subcommand -------------------------------------------------------------------------------

CLI::App* add_bench_command(CLI::App& app, bench_options& o) {
  auto* cmd = app.add_subcommand(
      "bench", "Load-test an RTMP server: many players on one URL, optionally with our own publisher");
  cmd->add_option("url,--url", o.url, "rtmp://host[:port]/app/stream (played, and published with --publish)")
      ->required();
  cmd->add_option("-n,--players", o.players, "Player connections to open")
      ->default_val(1)
      ->check(CLI::Range(0, 1'000'000));
  cmd->add_option("--publish", o.publish,
                  "Also publish to the URL: 'synthetic' (stamped frames: delay and gap figures) or an FLV file (looped)");
  cmd->add_option("--bitrate", o.bitrate, "Synthetic video bitrate in bits per second (25 fps, keyframe every 2 s)")
      ->default_val(2'500'000)
      ->check(CLI::Range(8'000.0, 1e9));
  cmd->add_option("--audio-bitrate", o.audio_bitrate, "Synthetic AAC-shaped audio bitrate in bits/s (0: no audio)")
      ->default_val(0)
      ->check(CLI::Range(0.0, 1e7));
  cmd->add_option("--ramp", o.ramp, "Player connections started per second (0: all at once)")
      ->default_val(500)
      ->check(CLI::Range(0.0, 1e6));
  cmd->add_option("--duration", o.duration_s, "Seconds to run after the last player was started")
      ->default_val(10)
      ->check(CLI::Range(0.0, 1e7));
  cmd->add_option("--threads", o.threads, "Player threads, one io_context each (0: one per core)")
      ->default_val(0)
      ->check(CLI::Range(0, 256));
  cmd->add_flag("--json", o.json, "Print one JSON object instead of a table");
  return cmd;
}

int run_bench(const bench_options& opt) {
  raise_nofile_limit();
  const std::uint64_t fd_limit = open_file_limit();
  if (fd_limit > 0 && opt.players + 64 > fd_limit) {
    spdlog::warn("{} players need more file descriptors than RLIMIT_NOFILE allows ({}); some will fail",
                 opt.players, fd_limit);
  }

  proto::rtmp_url url;
  std::string_view reason;
  if (auto ec = proto::parse_rtmp_url(opt.url, url, {}, &reason)) {
    spdlog::error("bad URL {}: {}", opt.url, reason);
    return 1;
  }
  if (url.tls) {
    spdlog::error("bench measures RTMP over TCP; rtmps:// URLs are not supported by bench");
    return 1;
  }
  tcp::endpoint endpoint;
  {
    asio::io_context resolve_io;
    tcp::resolver resolver(resolve_io);
    std::error_code ec;
    const auto results = resolver.resolve(url.host, std::to_string(url.port), ec);
    if (ec || results.empty()) {
      spdlog::error("cannot resolve {}: {}", url.host, ec ? ec.message() : "no address");
      return 2;
    }
    endpoint = results.begin()->endpoint();
  }

  std::vector<proto::flv_tag> file_tags;
  const bool publishing = !opt.publish.empty();
  if (publishing && opt.publish != "synthetic") {
    if (auto ec = load_flv(opt.publish, file_tags)) {
      spdlog::error("cannot publish {}: {}", opt.publish, ec.message());
      return 1;
    }
  }

  install_stop_signals();
  const std::size_t thread_count =
      opt.threads > 0 ? opt.threads : std::max<std::size_t>(1, std::thread::hardware_concurrency());
  const cpu_times cpu0 = process_cpu();
  const auto t_run0 = clock_type::now();

  // Player threads.
  std::vector<std::unique_ptr<worker>> workers;
  for (std::size_t i = 0; i < thread_count; ++i) {
    auto w = std::make_unique<worker>();
    schedule_sweep(*w);
    workers.push_back(std::move(w));
  }
  for (auto& w : workers) {
    worker* wp = w.get();
    wp->thread = std::thread([wp] { wp->io.run(); });
  }

  // The publisher, on a thread of its own.
  asio::io_context pub_io{1};
  auto pub_guard = asio::make_work_guard(pub_io);
  std::vector<std::uint8_t> pub_buffer(read_buffer_bytes);
  std::unique_ptr<publisher> pub;
  std::thread pub_thread;
  bool publisher_failed = false;
  if (publishing) {
    const auto cfg = session_config(url, "FMLE/3.0 (compatible; rtmp-client bench)");
    pub = std::make_unique<publisher>(pub_io, pub_buffer, cfg, opt, std::move(file_tags));
    publisher* pp = pub.get();
    asio::post(pub_io, [pp, &url, endpoint] { pp->begin(url.stream, endpoint); });
    pub_thread = std::thread([&pub_io] { pub_io.run(); });
    const auto deadline = clock_type::now() + opt.timeout;
    while (pp->current_state() == publisher::state::connecting && clock_type::now() < deadline &&
           !g_bench_stop.load()) {
      std::this_thread::sleep_for(5ms);
    }
    if (pp->current_state() != publisher::state::publishing) {
      publisher_failed = true;
      asio::post(pub_io, [pp] {
        if (!pp->closed()) pp->close(errc::timeout);
      });
    } else {
      spdlog::debug("bench: publishing {}", opt.url);
    }
  }

  // Players, at `ramp` per second.
  const auto player_cfg = session_config(url, "LNX 9,0,124,2");
  const auto t_ramp0 = clock_type::now();
  auto last_log = t_ramp0;
  const auto log_progress = [&](clock_type::time_point now) {
    if (now - last_log < 5s) return;
    last_log = now;
    std::uint64_t playing = 0, failed = 0;
    for (const auto& w : workers) {
      playing += w->playing.load(std::memory_order_relaxed);
      failed += w->failed.load(std::memory_order_relaxed);
    }
    spdlog::info("bench: {:.0f} s, {} of {} players playing, {} failed", seconds_between(t_run0, now), playing,
                 opt.players, failed);
  };
  if (!publisher_failed) {
    for (std::size_t i = 0; i < opt.players && !g_bench_stop.load(); ++i) {
      if (opt.ramp > 0) {
        const auto due = t_ramp0 + std::chrono::duration_cast<clock_type::duration>(
                                       std::chrono::duration<double>(static_cast<double>(i) / opt.ramp));
        if (!sleep_until(due)) break;
      }
      worker& w = *workers[i % workers.size()];
      asio::post(w.io, [&w, &player_cfg, &url, endpoint, timeout = opt.timeout] {
        if (w.stopping) return;
        w.players.push_back(std::make_unique<player>(w, player_cfg, timeout));
        w.players.back()->begin(url.stream, endpoint);
      });
      log_progress(clock_type::now());
    }
  }
  const auto t_ramp_end = clock_type::now();
  const auto end = t_ramp_end + std::chrono::duration_cast<clock_type::duration>(
                                    std::chrono::duration<double>(opt.duration_s));
  // The window for per-player bitrates opens once every player has its
  // first keyframe (or has failed), plus half a second: neither the burst of
  // cached GOP a joiner may get nor the wait for the next keyframe a server
  // may impose is steady-state throughput.
  if (!publisher_failed) {
    // Without our publisher the stream may be idle: do not wait long for keyframes.
    const auto settle_limit = publishing ? clock_type::duration(opt.timeout) : clock_type::duration(3s);
    const auto settle_deadline = std::min(end, t_ramp_end + settle_limit);
    const auto settled = [&] {
      std::uint64_t done = 0;
      for (const auto& w : workers) {
        done += w->keyed.load(std::memory_order_relaxed) + w->failed.load(std::memory_order_relaxed);
      }
      return done >= opt.players;
    };
    while (!g_bench_stop.load() && !settled() && clock_type::now() < settle_deadline) {
      std::this_thread::sleep_for(10ms);
    }
    sleep_until(std::min(end, clock_type::now() + 500ms));
  }
  const auto t_window = clock_type::now();
  for (auto& w : workers) {
    worker* wp = w.get();
    asio::post(wp->io, [wp] {
      wp->measuring = true;
      wp->measure_from = clock_type::now();
    });
  }
  if (!publisher_failed) {
    while (!g_bench_stop.load() && clock_type::now() < end) {
      sleep_until(std::min(end, clock_type::now() + 1s));
      log_progress(clock_type::now());
    }
  }
  if (g_bench_stop.load()) spdlog::info("bench: stopped by a signal");

  // Stop: close every connection on its own thread, then let the threads end.
  const auto t_stop = clock_type::now();
  for (auto& w : workers) {
    worker* wp = w.get();
    asio::post(wp->io, [wp] {
      wp->stopping = true;
      wp->sweep.cancel();
      for (auto& p : wp->players) p->close({});
    });
    wp->guard.reset();
  }
  if (pub) {
    publisher* pp = pub.get();
    asio::post(pub_io, [pp] { pp->stop(); });
  }
  pub_guard.reset();
  for (auto& w : workers) w->thread.join();
  if (pub_thread.joinable()) pub_thread.join();
  const cpu_times cpu1 = process_cpu();

  // --- the report ---
  std::uint64_t connected = 0, failed = 0, disconnected = 0, with_media = 0, with_keyframe = 0;
  std::uint64_t bytes = 0, wire = 0, messages = 0, video = 0, audio = 0, keyframes = 0;
  std::uint64_t stamped = 0, gaps = 0, dropped = 0, reordered = 0, stream_ends = 0;
  std::uint64_t min_bytes = 0, min_keyframes = 0;
  bool first_player = true;
  std::vector<double> rates, first_key_ms, connect_ms;
  std::map<std::string, std::uint64_t> failures;
  histogram delay;
  std::uint64_t started_players = 0;
  for (const auto& w : workers) {
    delay.merge(w->delay_us);
    for (const auto& p : w->players) {
      ++started_players;
      const auto& s = p->stats();
      wire += p->bytes_received();
      bytes += s.media_bytes;
      messages += s.messages;
      video += s.video;
      audio += s.audio;
      keyframes += s.keyframes;
      stamped += s.stamped;
      gaps += s.gaps;
      dropped += s.dropped;
      reordered += s.reordered;
      stream_ends += s.stream_ends;
      if (!s.playing) {
        ++failed;
        ++failures[p->error() ? p->error().message() : "not playing when the run ended"];
        continue;
      }
      ++connected;
      if (p->error()) {
        ++disconnected;
        ++failures["disconnected: " + p->error().message()];
      }
      if (s.media_bytes > 0) ++with_media;
      if (s.have_keyframe) {
        ++with_keyframe;
        first_key_ms.push_back(ms_between(s.started, s.first_keyframe));
      }
      connect_ms.push_back(ms_between(s.started, s.playing_at));
      // Delivered bitrate over the measured window (after the ramp), so that a
      // late joiner's burst of cached GOP does not count as throughput.
      const double secs = s.window_from != clock_type::time_point{} ? seconds_between(s.window_from, s.ended) : 0;
      rates.push_back(secs > 0 ? static_cast<double>(s.window_bytes) * 8 / secs : 0);
      min_bytes = first_player ? s.media_bytes : std::min(min_bytes, s.media_bytes);
      min_keyframes = first_player ? s.keyframes : std::min(min_keyframes, s.keyframes);
      first_player = false;
    }
  }
  // Players never started (a signal during the ramp) count as failed too.
  if (started_players < opt.players) {
    failed += opt.players - started_players;
    failures["not started (stopped)"] += opt.players - started_players;
  }
  std::sort(rates.begin(), rates.end());

  nlohmann::ordered_json r;
  r["tool"] = "rtmp-client bench";
  r["version"] = rtmp::version_line();
  r["url"] = opt.url;
  r["threads"] = thread_count;
  r["duration_s"] = opt.duration_s;
  r["ramp_per_s"] = opt.ramp;
  r["elapsed_s"] = round_to(seconds_between(t_run0, t_stop), 3);
  r["measured_s"] = round_to(seconds_between(t_ramp_end, t_stop), 3);
  r["bitrate_window_s"] = round_to(seconds_between(t_window, t_stop), 3);
  r["players"] = {{"requested", opt.players},   {"connected", connected},       {"failed", failed},
                  {"disconnected", disconnected}, {"with_media", with_media}, {"with_keyframe", with_keyframe},
                  {"stream_ended_events", stream_ends}, {"failures", failures}};
  {
    nlohmann::ordered_json p;
    p["mode"] = !publishing ? "none" : (opt.publish == "synthetic" ? "synthetic" : "file");
    p["target_bitrate_bps"] = opt.publish == "synthetic" ? opt.bitrate : 0;
    p["audio_bitrate_bps"] = opt.publish == "synthetic" ? opt.audio_bitrate : 0;
    p["started"] = publishing && !publisher_failed;
    std::uint64_t vf = 0, af = 0, sk = 0, pb = 0;
    double rate = 0;
    std::string err;
    if (pub) {
      const auto& s = pub->stats();
      vf = s.video_frames;
      af = s.audio_frames;
      sk = s.skipped_frames;
      pb = s.media_bytes;
      err = s.failure;
      if (publisher_failed && err.empty()) err = "no NetStream.Publish.Start within the timeout";
      const double secs = s.started != clock_type::time_point{} ? seconds_between(s.started, s.ended) : 0;
      rate = secs > 0 ? static_cast<double>(pb) * 8 / secs : 0;
    }
    p["video_frames"] = vf;
    p["audio_frames"] = af;
    p["skipped_frames"] = sk;
    p["bytes"] = pb;
    p["bitrate_bps"] = static_cast<std::uint64_t>(std::llround(rate));
    p["error"] = err;
    r["publisher"] = p;
  }
  {
    nlohmann::ordered_json d;
    d["bytes"] = bytes;
    d["wire_bytes"] = wire;
    d["messages"] = messages;
    d["video_messages"] = video;
    d["audio_messages"] = audio;
    d["keyframes"] = keyframes;
    d["min_player_bytes"] = min_bytes;
    d["min_player_keyframes"] = min_keyframes;
    double mean = 0;
    for (double v : rates) mean += v;
    if (!rates.empty()) mean /= static_cast<double>(rates.size());
    d["bitrate_bps"] = {{"min", std::llround(rates.empty() ? 0 : rates.front())},
                        {"p1", std::llround(percentile_of(rates, 1))},
                        {"median", std::llround(percentile_of(rates, 50))},
                        {"mean", std::llround(mean)},
                        {"max", std::llround(rates.empty() ? 0 : rates.back())}};
    const double pub_rate = r["publisher"]["bitrate_bps"].get<double>();
    d["median_to_published"] = pub_rate > 0 ? round_to(percentile_of(rates, 50) / pub_rate, 4) : 0.0;
    r["delivered"] = d;
  }
  r["first_keyframe_ms"] = distribution(first_key_ms, 2);
  r["connect_ms"] = distribution(connect_ms, 2);
  r["delay_ms"] = {{"samples", delay.count()},
                   {"p50", round_to(static_cast<double>(delay.percentile(50)) / 1000, 3)},
                   {"p99", round_to(static_cast<double>(delay.percentile(99)) / 1000, 3)},
                   {"max", round_to(static_cast<double>(delay.max()) / 1000, 3)}};
  r["gaps"] = {{"gaps", gaps}, {"dropped_messages", dropped}, {"reordered", reordered}, {"stamped_messages", stamped}};
  {
    const double user = cpu1.user_s - cpu0.user_s;
    const double sys = cpu1.system_s - cpu0.system_s;
    const double wall = seconds_between(t_run0, clock_type::now());
    r["cpu"] = {{"user_s", round_to(user, 3)},
                {"system_s", round_to(sys, 3)},
                {"total_s", round_to(user + sys, 3)},
                {"percent_of_one_core", round_to(wall > 0 ? (user + sys) / wall * 100 : 0, 1)}};
  }

  if (opt.json) {
    std::cout << r.dump() << std::endl;
  } else {
    print_table(r);
  }
  if (publisher_failed) {
    spdlog::error("the publisher could not start: {}", r["publisher"]["error"].get<std::string>());
    return 1;
  }
  return 0;
}

}  // namespace rtmp::bench
