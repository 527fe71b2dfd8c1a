// rtmp-client: publish and play RTMP streams from the shell.
//
// Wires CLI11 flags and spdlog (always to stderr: stdout may carry FLV) to
// rtmp::net::client, proto::flv_reader and proto::flv_writer.
#include <CLI/CLI.hpp>
#include <asio/error.hpp>
#include <fcntl.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "bench.hpp"
#include "rtmp/error.hpp"
#include "rtmp/net/client.hpp"
#include "rtmp/proto/flv_reader.hpp"
#include "rtmp/proto/flv_writer.hpp"
#include "rtmp/proto/media_info.hpp"
#include "rtmp/version.hpp"

namespace {

using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;
using rtmp::errc;

// Exit codes (documented in --help and README.md).
enum exit_code : int {
  exit_ok = 0,
  exit_usage = 1,              // usage, bad URL, other errors, connection lost
  exit_connect_failed = 2,     // connection refused, DNS failure, unreachable
  exit_handshake = 3,          // handshake failure
  exit_connect_rejected = 4,   // NetConnection.Connect.Rejected / _error
  exit_publish_rejected = 5,   // NetStream.Publish.BadName (e.g. key busy)
  exit_unauthorized = 6,       // a status code with Unauthorized / Rejected
  exit_play_rejected = 7,      // NetStream.Play.StreamNotFound / Play.Failed, or no media arrived
  exit_timeout = 8,            // --timeout passed (connect+handshake+negotiation) or writes stalled
  exit_file = 9,               // input FLV unreadable/invalid, output not writable
};

constexpr const char* exit_codes_help =
    "Exit codes:\n"
    "  0  success (publish: whole input sent; play: media received until the stream ended, --duration,\n"
    "     SIGINT/SIGTERM, or the reader of stdout closed it)\n"
    "  1  usage error, bad URL, connection lost, other errors\n"
    "  2  connection refused, DNS failure, host unreachable\n"
    "  3  RTMP handshake failed\n"
    "  4  connect rejected by the server\n"
    "  5  publish rejected (NetStream.Publish.BadName, e.g. the key is busy)\n"
    "  6  unauthorized (status code containing Unauthorized or Rejected)\n"
    "  7  play rejected (NetStream.Play.StreamNotFound / Play.Failed), or no media: none arrived within\n"
    "     --timeout of the play's start (without --wait), or the play ended before any arrived\n"
    "  8  timeout (--timeout for connect + handshake + publish/play negotiation)\n"
    "  9  file error (input not readable or not FLV, output not writable)\n";

std::atomic<bool> g_stop{false};

extern "C" void on_signal(int) { g_stop.store(true); }

void install_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND;  // a second signal kills at once; no SA_RESTART so reads wake up
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);  // a closed stdout pipe becomes EPIPE: play ends there, like `head`
}

struct common_options {
  std::string url;
  double timeout_s = 10;
  bool quiet = false;
  std::string log_level = "info";
  bool log_level_given = false;
  bool insecure = false;  // rtmps://: accept any certificate
  std::string ca_file;    // rtmps://: trust these CA certificates (PEM)
};

std::chrono::milliseconds timeout_of(const common_options& o) {
  return std::chrono::milliseconds(static_cast<long long>(o.timeout_s * 1000));
}

// Asio's own "asio.system" category carries errno values but (in 1.22
// standalone) does not map them to std::errc conditions: compare the values.
bool is_errno(const std::error_code& ec, int value) {
  const std::string_view cat = ec.category().name();
  return ec.value() == value && (cat == "asio.system" || cat == "system" || cat == "generic");
}

bool is_connection_failure(const std::error_code& ec) {
  const std::string_view cat = ec.category().name();
  if (cat == "asio.netdb" || cat == "asio.addrinfo") return true;
  return is_errno(ec, ECONNREFUSED) || is_errno(ec, EHOSTUNREACH) || is_errno(ec, ENETUNREACH) ||
         is_errno(ec, EADDRNOTAVAIL) || is_errno(ec, ECONNABORTED);
}

int exit_code_for(const std::error_code& ec, rtmp::proto::client_session::phase phase) {
  using phase_t = rtmp::proto::client_session::phase;
  if (ec == errc::timeout || is_errno(ec, ETIMEDOUT)) return exit_timeout;
  if (ec == errc::connect_rejected) return exit_connect_rejected;
  if (ec == errc::publish_rejected) return exit_publish_rejected;
  if (ec == errc::unauthorized) return exit_unauthorized;
  if (ec == errc::play_rejected) return exit_play_rejected;
  if (ec == errc::url_malformed) return exit_usage;
  if (is_connection_failure(ec)) return exit_connect_failed;
  if (ec.category() == rtmp::rtmp_category() && ec.value() >= 200 && ec.value() < 300) return exit_handshake;
  if (phase == phase_t::handshake) return exit_handshake;  // e.g. the server closed during the handshake
  if (ec.category() == rtmp::rtmp_category() &&
      (ec == errc::flv_malformed || ec == errc::flv_truncated || ec == errc::flv_encrypted ||
       ec == errc::flv_tag_too_large)) {
    return exit_file;
  }
  return exit_usage;
}

// Logs a client failure with the server's status text when there is one.
int report(const rtmp::net::client& c, const char* what, const std::error_code& ec) {
  const auto status = c.last_error_status();
  if (ec.category().name() == std::string_view("asio.ssl")) {
    spdlog::error("{}: TLS: {}{}", what, ec.message(),
                  ec.message().find("certificate") != std::string::npos
                      ? " (--ca-file FILE trusts a private CA; --insecure skips the check)"
                      : "");
  } else if (!status.code.empty()) {
    spdlog::error("{}: {} ({}: {})", what, ec.message(), status.code, status.description);
  } else {
    spdlog::error("{}: {}", what, ec.message());
  }
  return exit_code_for(ec, c.session_phase());
}

// --- progress line -------------------------------------------------------------------

class progress_line {
 public:
  progress_line(const char* label, bool enabled) : label_(label), enabled_(enabled) {}

  void media(std::uint8_t type, std::uint32_t timestamp, std::size_t bytes) {
    bytes_ += bytes;
    if (type == 8 || type == 9) ++frames_;
    if (!have_ts_) {
      first_ts_ = timestamp;
      have_ts_ = true;
    }
    if (timestamp >= first_ts_) media_ms_ = std::max<std::uint64_t>(media_ms_, timestamp - first_ts_);
  }
  void dropped() { ++dropped_; }
  std::uint64_t frames() const { return frames_; }

  void update(bool force = false) {
    if (!enabled_) return;
    const auto now = clock_type::now();
    if (!force && now - last_print_ < 500ms) return;
    last_print_ = now;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double kbps = elapsed > 0 ? static_cast<double>(bytes_) * 8 / 1000 / elapsed : 0;
    const auto secs = static_cast<unsigned>(elapsed);
    std::fprintf(stderr, "\r%s %02u:%02u:%02u  media %.2f s  %.0f kbit/s  frames %llu  dropped %llu\x1b[K", label_,
                 secs / 3600, secs / 60 % 60, secs % 60, static_cast<double>(media_ms_) / 1000, kbps,
                 static_cast<unsigned long long>(frames_), static_cast<unsigned long long>(dropped_));
    std::fflush(stderr);
    printed_ = true;
  }
  void done() {
    if (!enabled_) return;
    update(true);
    if (printed_) std::fputc('\n', stderr);
    printed_ = false;
  }

 private:
  const char* label_;
  bool enabled_;
  clock_type::time_point start_ = clock_type::now();
  clock_type::time_point last_print_{};
  std::uint64_t bytes_ = 0, frames_ = 0, dropped_ = 0, media_ms_ = 0;
  std::uint32_t first_ts_ = 0;
  bool have_ts_ = false;
  bool printed_ = false;
};

// --- file helpers ----------------------------------------------------------------------

// Reads up to `n` bytes; returns -1 on error (errno set), 0 at EOF. A signal
// interrupts the read (so Ctrl-C works while stdin is idle).
ssize_t read_some(int fd, std::uint8_t* p, std::size_t n) {
  for (;;) {
    const ssize_t r = ::read(fd, p, n);
    if (r >= 0) return r;
    if (errno == EINTR && !g_stop.load()) continue;
    return -1;
  }
}

bool write_all(int fd, const std::vector<std::uint8_t>& bytes) {
  std::size_t off = 0;
  while (off < bytes.size()) {
    const ssize_t r = ::write(fd, bytes.data() + off, bytes.size() - off);
    if (r < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    off += static_cast<std::size_t>(r);
  }
  return true;
}

bool is_metadata_tag(const rtmp::proto::flv_tag& tag) {
  // "onMetaData" as an AMF0 String: 02 00 0A 'onMetaData'.
  static constexpr std::uint8_t prefix[] = {0x02, 0x00, 0x0A, 'o', 'n', 'M', 'e', 't', 'a', 'D', 'a', 't', 'a'};
  const auto p = tag.payload.span();
  return p.size() >= sizeof(prefix) && std::memcmp(p.data(), prefix, sizeof(prefix)) == 0;
}

rtmp::net::client_options client_options_for(const common_options& common) {
  rtmp::net::client_options o;
  o.tls_verify = !common.insecure;
  o.tls_ca_file = common.ca_file;
  o.session.connect.flash_ver = "FMLE/3.0 (compatible; rtmp-client " + rtmp::version_line().substr(0, rtmp::version_line().find(' ')) + ")";
  return o;
}

// --- publish ------------------------------------------------------------------------------

struct publish_options {
  std::string input;
  bool no_pace = false;
  std::string loop = "1";
};

// --loop: a count >= 1, or 0 for "forever"/"inf"; nothing when invalid.
std::optional<std::uint64_t> parse_loop_count(const std::string& text) {
  if (text == "forever" || text == "inf") return 0;
  try {
    const long long n = std::stoll(text);
    if (n >= 1) return static_cast<std::uint64_t>(n);
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

// Sends an FLV input through a connected, publishing client: paced to the
// tags' timestamps (unless --no-pace), looped with one continuous timeline,
// metadata once per stream.
class flv_publish_run {
 public:
  flv_publish_run(rtmp::net::client& c, const common_options& common, const publish_options& opt)
      : c_(c), opt_(opt), progress_("publish", !common.quiet && ::isatty(STDERR_FILENO)) {}

  // Publishes `loops` passes of `fd` (0: until stopped); the exit code.
  int run(int fd, std::uint64_t loops) {
    for (std::uint64_t pass = 0; (loops == 0 || pass < loops) && !g_stop; ++pass) {
      if (pass > 0 && ::lseek(fd, 0, SEEK_SET) != 0) {
        spdlog::error("cannot rewind {}: {}", opt_.input, std::strerror(errno));
        return finish(exit_file);
      }
      if (const int code = publish_pass(fd, pass); code != exit_ok) return finish(code);
    }
    return finish(exit_ok);
  }

  std::uint64_t frames() const noexcept { return progress_.frames(); }

 private:
  // Ends the progress line (once) before `code` is returned or reported.
  int finish(int code) {
    if (!progress_done_) progress_.done();
    progress_done_ = true;
    return code;
  }

  // The progress line ends before the error is reported.
  int fail(const char* what, const std::error_code& ec) {
    finish(exit_ok);
    return report(c_, what, ec);
  }

  // One pass over the input; exit_ok at its end (or when stopped).
  int publish_pass(int fd, std::uint64_t pass) {
    rtmp::proto::flv_reader reader;
    pass_ = {};
    std::vector<std::uint8_t> block(64 * 1024);
    while (!g_stop) {
      const ssize_t n = read_some(fd, block.data(), block.size());
      if (n < 0) {
        if (g_stop) break;
        spdlog::error("cannot read {}: {}", opt_.input, std::strerror(errno));
        return exit_file;
      }
      if (n == 0) {
        if (auto ec = reader.finish()) {
          if (ec != errc::flv_truncated || reader.tags_read() == 0) {
            spdlog::error("{}: {}", opt_.input, ec.message());
            return exit_file;
          }
          spdlog::warn("{}: input ends inside a tag; the incomplete tag was skipped", opt_.input);
        }
        break;
      }
      if (auto ec = reader.feed(std::span<const std::uint8_t>(block.data(), static_cast<std::size_t>(n)))) {
        spdlog::error("{}: {}", opt_.input, ec.message());
        return exit_file;
      }
      rtmp::proto::flv_tag tag;
      while (!g_stop && reader.next(tag)) {
        if (const int code = publish_tag(tag, pass); code != exit_ok) return code;
      }
    }
    // The next pass starts one frame interval after this one's last timestamp.
    if (pass_.have_first) {
      loop_base_ += static_cast<std::uint64_t>(pass_.max - pass_.first) + (pass_.gap ? pass_.gap : 40);
    }
    return exit_ok;
  }

  // One tag: its timestamp on the continuous timeline, pacing, sending.
  int publish_tag(const rtmp::proto::flv_tag& tag, std::uint64_t pass) {
    if (!pass_.have_first) {
      pass_.first = tag.timestamp;
      pass_.have_first = true;
      if (pass == 0) loop_base_ = pass_.first;  // the first pass keeps the file's timestamps
    }
    if (tag.timestamp > pass_.last && tag.type != 18) pass_.gap = tag.timestamp - pass_.last;
    if (tag.type != 18) pass_.last = tag.timestamp;
    pass_.max = std::max(pass_.max, tag.timestamp);
    // Continuous timeline over passes: out = raw - first of the pass + loop base.
    const std::int64_t shifted =
        static_cast<std::int64_t>(tag.timestamp) - pass_.first + static_cast<std::int64_t>(loop_base_);
    const auto ts = static_cast<std::uint32_t>(std::max<std::int64_t>(0, shifted));
    if (!opt_.no_pace) {
      if (const int code = wait_for(ts); code != exit_ok || g_stop) return code;
    }
    last_out_ts_ = ts;
    return send(tag, ts);
  }

  // Waits until `ts` is due on the pacing clock, keeping the connection served.
  int wait_for(std::uint32_t ts) {
    if (!have_pace_base_ || ts < last_out_ts_ || ts - last_out_ts_ > 5000) {
      // Start, or a timestamp jump: restart the pacing clock here.
      have_pace_base_ = true;
      pace_base_ts_ = ts;
      pace_start_ = clock_type::now();
    }
    const auto target = pace_start_ + std::chrono::milliseconds(ts - pace_base_ts_);
    while (!g_stop && clock_type::now() < target) {
      const auto step = std::min(target, clock_type::now() + 250ms);
      if (auto ec = c_.wait_until(step)) return fail("connection failed", ec);
      progress_.update();
    }
    return exit_ok;
  }

  int send(const rtmp::proto::flv_tag& tag, std::uint32_t ts) {
    std::error_code ec;
    if (tag.type == 18) {
      const bool meta = is_metadata_tag(tag);
      if (meta && metadata_sent_) return exit_ok;  // once per stream, not per pass
      ec = c_.send_script_data(tag.payload.span(), meta ? 0 : ts);
      metadata_sent_ = metadata_sent_ || meta;
    } else if (tag.type == 8 || tag.type == 9) {
      rtmp::proto::message m;
      m.type = tag.type;
      m.timestamp = ts;
      m.payload = tag.payload;
      ec = c_.send(m);
    } else {
      progress_.dropped();
      return exit_ok;
    }
    if (ec) return fail("send failed", ec);
    progress_.media(tag.type, ts, tag.payload.size());
    progress_.update();
    bool ended_by_server = false;
    const auto on_event = [&ended_by_server](const rtmp::proto::client_event& ev) {
      if (ev.type == rtmp::proto::client_event::kind::stream_ended) {
        spdlog::error("the server stopped the stream: {} {}", ev.reason, ev.status.description);
        ended_by_server = true;
        return false;
      }
      if (ev.type == rtmp::proto::client_event::kind::status) {
        spdlog::debug("status {} {}", ev.status.code, ev.status.description);
      }
      return true;
    };
    if (auto perr = c_.poll(on_event)) return fail("connection failed", perr);
    if (ended_by_server) {
      c_.close();
      return finish(exit_usage);
    }
    return exit_ok;
  }

  // Timestamps of the current pass.
  struct pass_state {
    bool have_first = false;
    std::uint32_t first = 0;  // the pass's first timestamp
    std::uint32_t max = 0;    // its largest
    std::uint32_t last = 0;   // its last audio/video timestamp
    std::uint32_t gap = 0;    // the last increase between audio/video timestamps
  };

  rtmp::net::client& c_;
  const publish_options& opt_;
  progress_line progress_;
  bool progress_done_ = false;
  pass_state pass_;
  std::uint64_t loop_base_ = 0;  // where the current pass starts on the output timeline
  bool metadata_sent_ = false;
  bool have_pace_base_ = false;
  std::uint32_t pace_base_ts_ = 0;  // output timestamp at pace_start_
  clock_type::time_point pace_start_{};
  std::uint32_t last_out_ts_ = 0;
};

int run_publish(const common_options& common, const publish_options& opt) {
  const auto loops = parse_loop_count(opt.loop);
  if (!loops) {
    spdlog::error("--loop takes a count >= 1 or 'forever', not '{}'", opt.loop);
    return exit_usage;
  }
  const bool from_stdin = opt.input == "-";
  if (from_stdin && *loops != 1) {
    spdlog::error("--loop needs a regular file, not stdin");
    return exit_usage;
  }
  const int fd = from_stdin ? STDIN_FILENO : ::open(opt.input.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    spdlog::error("cannot open {}: {}", opt.input, std::strerror(errno));
    return exit_file;
  }

  rtmp::net::client c(client_options_for(common));
  if (auto ec = c.connect(common.url, timeout_of(common))) return report(c, "connect failed", ec);
  if (auto ec = c.publish(timeout_of(common))) return report(c, "publish failed", ec);
  spdlog::info("publishing {} to {}", from_stdin ? "stdin" : opt.input, common.url);

  flv_publish_run publishing(c, common, opt);
  const int result = publishing.run(fd, *loops);
  if (!from_stdin) ::close(fd);
  if (result != exit_ok) {
    c.close();
    return result;
  }
  if (auto ec = c.finish(std::chrono::milliseconds(3000))) return report(c, "finishing failed", ec);
  spdlog::info("done: {} frames sent{}", publishing.frames(), g_stop ? " (interrupted)" : "");
  return exit_ok;
}

// --- play -----------------------------------------------------------------------------------

struct play_options {
  std::string output;
  double duration_s = 0;
  bool wait = false;
};

int run_play(const common_options& common, const play_options& opt) {
  const bool to_stdout = opt.output == "-";
  const int fd = to_stdout ? STDOUT_FILENO : ::open(opt.output.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    spdlog::error("cannot open {}: {}", opt.output, std::strerror(errno));
    return exit_file;
  }
  rtmp::net::client c(client_options_for(common));
  const auto started = clock_type::now();
  if (auto ec = c.connect(common.url, timeout_of(common))) return report(c, "connect failed", ec);
  if (auto ec = c.play(timeout_of(common))) return report(c, "play failed", ec);
  spdlog::info("playing {} into {}", common.url, to_stdout ? "stdout" : opt.output);

  progress_line progress("play", !common.quiet && ::isatty(STDERR_FILENO));
  rtmp::proto::flv_writer writer(rtmp::proto::flv_header_flags{true, true});
  std::vector<std::uint8_t> out;
  writer.write_header(out);
  bool ended = false;
  bool rebase = false;  // after a new publisher: keep the output timeline going forward
  std::int64_t ts_offset = 0;
  std::uint32_t last_out_ts = 0;
  bool have_out = false;

  const auto on_event = [&](const rtmp::proto::client_event& ev) {
    using kind = rtmp::proto::client_event::kind;
    switch (ev.type) {
      case kind::media: {
        if (rebase && ev.msg.type != 18) {
          rebase = false;
          if (have_out && ev.msg.timestamp + ts_offset < static_cast<std::int64_t>(last_out_ts)) {
            ts_offset = static_cast<std::int64_t>(last_out_ts) + 40 - ev.msg.timestamp;
          }
        }
        const std::int64_t t = std::max<std::int64_t>(0, ev.msg.timestamp + ts_offset);
        const auto ts = static_cast<std::uint32_t>(t);
        if (writer.write_tag(ev.msg.type, ev.msg.type == 18 ? (have_out ? last_out_ts : 0) : ts,
                             ev.msg.payload.span(), out)) {
          progress.dropped();
          return true;
        }
        if (ev.msg.type != 18) {
          last_out_ts = ts;
          have_out = true;
        }
        progress.media(ev.msg.type, ts, ev.msg.payload.size());
        return true;
      }
      case kind::stream_ended:
        spdlog::info("stream ended ({})", ev.reason);
        if (!opt.wait) {
          ended = true;
          return false;
        }
        return true;
      case kind::stream_resumed:
        spdlog::info("stream resumed ({})", ev.reason);
        rebase = true;
        return true;
      case kind::status:
        spdlog::debug("status {} {}", ev.status.code, ev.status.description);
        return true;
      default:
        return true;
    }
  };

  int result = exit_ok;
  const auto duration = std::chrono::duration<double>(opt.duration_s);
  const auto play_started = clock_type::now();
  while (!ended && !g_stop) {
    auto wait = 250ms;
    const std::error_code ec = c.receive(on_event, wait);
    if (!out.empty()) {
      if (!write_all(fd, out)) {
        // The reader of a pipe has what it wanted (`| head -c N`): a normal end.
        if (errno == EPIPE) break;
        spdlog::error("cannot write {}: {}", to_stdout ? "stdout" : opt.output, std::strerror(errno));
        result = exit_file;
        break;
      }
      out.clear();
    }
    if (ec) {
      progress.done();
      result = report(c, "connection lost", ec);
      break;
    }
    if (opt.duration_s > 0 && clock_type::now() - started >= duration) {
      spdlog::info("duration reached");
      break;
    }
    if (!opt.wait && !have_out && clock_type::now() - play_started >= timeout_of(common)) {
      spdlog::error("no stream arrived within {} s (--wait waits without a deadline)", common.timeout_s);
      result = exit_play_rejected;
      break;
    }
    progress.update();
  }
  progress.done();
  (void)c.finish(std::chrono::milliseconds(2000));
  if (!to_stdout && ::close(fd) != 0 && result == exit_ok) {
    spdlog::error("cannot write {}: {}", opt.output, std::strerror(errno));
    result = exit_file;
  }
  if (result == exit_ok && !have_out) {
    spdlog::error("no media received");
    result = exit_play_rejected;
  }
  if (result == exit_ok) spdlog::info("done: {} frames received", progress.frames());
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"rtmp-client: publish and play RTMP streams.\n"
               "  rtmp-client publish rtmp://HOST/live/KEY -i in.flv      (-i - reads FLV from stdin)\n"
               "  rtmp-client play rtmp://HOST/live/KEY -o out.flv        (-o - writes FLV to stdout)"};
  app.footer(exit_codes_help);
  app.fallthrough();
  common_options common;
  publish_options pub_opt;
  play_options play_opt;
  bool show_version = false;

  app.add_flag("-V,--version", show_version, "Print the version and exit");
  app.add_option("--log-level", common.log_level, "trace, debug, info, warn, error or off (logs go to stderr)")
      ->default_val("info")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}))
      ->each([&](const std::string&) { common.log_level_given = true; });
  app.add_flag("-q,--quiet", common.quiet, "No progress line, and only warnings and errors unless --log-level is given");
  app.add_option("--timeout", common.timeout_s,
                 "Seconds allowed for connect + handshake + publish/play negotiation, and for play's first media "
                 "(unless --wait)")
      ->default_val(10)
      ->check(CLI::Range(0.1, 3600.0));
  app.add_flag("--insecure", common.insecure,
               "rtmps://: do not check the server's certificate (self-signed test servers only)");
  app.add_option("--ca-file", common.ca_file, "rtmps://: PEM file of CA certificates to trust instead of the system's")
      ->check(CLI::ExistingFile);

  auto* publish = app.add_subcommand("publish", "Publish an FLV file (or stdin) to an RTMP URL");
  publish->add_option("url", common.url, "rtmp[s]://host[:port]/app/stream")->required();
  publish->add_option("-i,--input", pub_opt.input, "FLV file to send, '-' for stdin")->required();
  publish->add_flag("--no-pace", pub_opt.no_pace, "Send as fast as possible instead of at real time (by timestamps)");
  publish->add_option("--loop", pub_opt.loop, "Send the file N times (or 'forever') on one continuous timeline")
      ->default_val("1");

  auto* play = app.add_subcommand("play", "Play an RTMP stream into an FLV file (or stdout)");
  play->add_option("url", common.url, "rtmp[s]://host[:port]/app/stream")->required();
  play->add_option("-o,--output", play_opt.output,
                   "FLV file to write, '-' for stdout (then only warnings and errors are logged unless --log-level "
                   "is given)")
      ->required();
  play->add_option("--duration", play_opt.duration_s, "Stop after this many seconds")
      ->check(CLI::Range(0.0, 1e9));
  play->add_flag("--wait", play_opt.wait,
                 "Wait for a publisher without a deadline, and keep waiting when it stops (until SIGINT/SIGTERM or "
                 "--duration)");

  rtmp::bench::bench_options bench_opt;
  auto* bench = rtmp::bench::add_bench_command(app, bench_opt);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help prints and exits 0; every usage error is exit code 1.
    return app.exit(e) == 0 ? exit_ok : exit_usage;
  }
  if (show_version) {
    std::cout << "rtmp-client " << rtmp::version_line() << "\n";
    return exit_ok;
  }
  if (!publish->parsed() && !play->parsed() && !bench->parsed()) {
    std::cerr << "rtmp-client: no command given (see --help)\n";
    return exit_usage;
  }

  try {
    auto logger = spdlog::stderr_color_mt("rtmp-client");
    logger->set_pattern("rtmp-client: %^%l%$: %v");
    spdlog::set_default_logger(logger);
    std::string level = common.log_level;
    // Quiet by request, or when the stream itself goes to stdout: stderr
    // then carries only what went wrong, as a filter's should.
    const bool stream_to_stdout = play->parsed() && play_opt.output == "-";
    if ((common.quiet || stream_to_stdout) && !common.log_level_given) level = "warn";
    spdlog::set_level(spdlog::level::from_str(level));
    install_signals();
    if (bench->parsed()) {
      bench_opt.timeout = timeout_of(common);
      return rtmp::bench::run_bench(bench_opt);
    }
    return publish->parsed() ? run_publish(common, pub_opt) : run_play(common, play_opt);
  } catch (const std::exception& e) {
    spdlog::critical("fatal: {}", e.what());
    return exit_usage;
  }
}
