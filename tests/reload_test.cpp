// Reloading a running rtmp-server with the real programs: while ffmpeg
// publishes and two ffmpeg players play, five SIGHUPs with an edited
// configuration file in between (a token changed, an application and a
// listener added, a push target added and then removed, the log level
// changed with the certificate renewed in place), then an invalid file.
// No player sees a gap over 1 s; each change holds for what starts after
// it; the invalid file changes nothing.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/http_client.hpp"
#include "support/net.hpp"
#include "support/process.hpp"
#include "support/tls_cert.hpp"

namespace {

using namespace std::chrono_literals;
using rtmp::test::read_text;

const std::string server_bin = std::string(RTMP_BIN_DIR) + "/rtmp-server";
const std::string client_bin = std::string(RTMP_BIN_DIR) + "/rtmp-client";

void write_text(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

// How often `needle` occurs in the file at `path`.
std::size_t count_in(const std::string& path, const std::string& needle) {
  const std::string text = read_text(path);
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// The port in the log line that starts with `marker` ("... 127.0.0.1:PORT"),
// waiting up to 10 s for it; 0 when it never came.
std::uint16_t port_in_log(const std::string& log, const std::string& marker) {
  std::uint16_t port = 0;
  rtmp::test::wait_until(
      [&] {
        const std::string text = read_text(log);
        const auto at = text.find(marker);
        if (at == std::string::npos) return false;
        port = static_cast<std::uint16_t>(std::stoi(text.substr(at + marker.size())));
        return true;
      },
      10s);
  return port;
}

// rtmp-client publishes the sample file to `url`; its exit code (6: refused).
int publish_file(const std::string& url, const std::string& extra = "") {
  const std::string flv = std::string(RTMP_CAPTURES_DIR) + "/../flv/h264_aac.flv";
  return rtmp::test::run(client_bin + " publish '" + url + "' -i " + flv + " --no-pace -q --timeout 5 " + extra +
                             " 2>/dev/null",
                         20s);
}

// The wall-clock arrival times (seconds since the epoch) a player wrote.
std::vector<double> arrivals(const std::string& path) {
  std::vector<double> out;
  std::istringstream in(read_text(path));
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(std::stod(line));
  }
  return out;
}

double wall_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The longest time without a packet in `times` between `from` and `to`
// (both ends count: a player that stopped has a gap up to `to`).
double longest_gap(const std::vector<double>& times, double from, double to) {
  double previous = from;
  double longest = 0;
  for (double t : times) {
    if (t < from) continue;
    if (t > to) break;
    longest = std::max(longest, t - previous);
    previous = t;
  }
  return std::max(longest, to - previous);
}

class reload : public ::testing::Test {
 protected:
  void SetUp() override {
    RTMP_REQUIRE_TOOL(rtmp::test::have_program("ffmpeg") && rtmp::test::have_program("ffprobe") &&
                          rtmp::test::have_program("bash"),
                      "ffmpeg/ffprobe/bash not installed");
    std::filesystem::create_directories(dir_.file("old"));
    std::filesystem::create_directories(dir_.file("new"));
    old_pair_ = rtmp::test::make_self_signed_certificate(dir_.file("old"));
    new_pair_ = rtmp::test::make_self_signed_certificate(dir_.file("new"));
    ASSERT_FALSE(old_pair_.cert.empty() || new_pair_.cert.empty());
    std::filesystem::copy_file(old_pair_.cert, dir_.file("cert.pem"));
    std::filesystem::copy_file(old_pair_.key, dir_.file("key.pem"));
  }

  // The configuration file after `step` edits.
  std::string config(int step) const {
    std::string text = "workers = 2\nhttp-listen = \"127.0.0.1:0\"\ntls-listen = \"127.0.0.1:0\"\n";
    text += "tls-cert = \"" + dir_.file("cert.pem") + "\"\ntls-key = \"" + dir_.file("key.pem") + "\"\n";
    text += step >= 2 ? "listen = [\"127.0.0.1:0\", \"127.0.0.1:" + std::to_string(extra_port_) + "\"]\n"
                      : "listen = \"127.0.0.1:0\"\n";
    text += step >= 1 ? "publish-token = [\"live=second\"]\n" : "publish-token = [\"live=first\"]\n";
    text += step >= 2 ? "app = [\"live\", \"extra\"]\n" : "app = [\"live\"]\n";
    if (step == 3) text += "push = [\"live=rtmp://127.0.0.1:" + std::to_string(target_port_) + "/live\"]\n";
    text += step >= 5 ? "log-level = \"debug\"\n" : "log-level = \"info\"\n";
    return text;
  }

  // Writes the configuration of `step`, sends SIGHUP and waits for the
  // reload's log line.
  void reload_to(int step) {
    write_text(dir_.file("rtmp-server.toml"), config(step));
    const std::size_t before = count_in(log_, "reload: ");
    server_->signal(SIGHUP);
    ASSERT_TRUE(rtmp::test::wait_until([&] { return count_in(log_, "reload: ") > before; }, 10s)) << read_text(log_);
  }

  // ffmpeg plays live/cam and copies it to a frame log; bash writes the
  // wall-clock time of each packet's arrival to `name`.
  std::unique_ptr<rtmp::test::child_process> player(const std::string& name) {
    const std::string script = dir_.file(name + ".sh");
    write_text(script, "ffmpeg -nostdin -loglevel error -i rtmp://127.0.0.1:" + std::to_string(port_) +
                           "/live/cam -c copy -f framecrc -flush_packets 1 - 2>" + dir_.file(name + ".err") +
                           " | while IFS= read -r line; do echo \"$EPOCHREALTIME\"; done > " + dir_.file(name) + "\n");
    return std::make_unique<rtmp::test::child_process>("bash " + script);
  }

  rtmp::test::temp_dir dir_;
  rtmp::test::tls_files old_pair_, new_pair_;
  std::string log_ = dir_.file("server.log");
  std::unique_ptr<rtmp::test::child_process> server_;
  std::uint16_t port_ = 0;
  std::uint16_t extra_port_ = rtmp::test::free_port();
  std::uint16_t target_port_ = 0;
};

TEST_F(reload, five_sighups_with_edits_keep_two_players_playing_and_each_change_holds) {
  // The push target: another rtmp-server, with its operator endpoint.
  const std::string target_log = dir_.file("target.log");
  rtmp::test::child_process target(server_bin + " -w 1 -l 127.0.0.1:0 --http-listen 127.0.0.1:0 > " + target_log +
                                   " 2>&1");
  target_port_ = port_in_log(target_log, "listening on 127.0.0.1:");
  const std::uint16_t target_http = port_in_log(target_log, "/healthz) on 127.0.0.1:");
  ASSERT_NE(target_port_, 0) << read_text(target_log);

  write_text(dir_.file("rtmp-server.toml"), config(0));
  server_ = std::make_unique<rtmp::test::child_process>(server_bin + " --config " + dir_.file("rtmp-server.toml") +
                                                        " > " + log_ + " 2>&1");
  port_ = port_in_log(log_, "listening on 127.0.0.1:");
  const std::uint16_t tls_port = port_in_log(log_, "listening for RTMPS on 127.0.0.1:");
  const std::uint16_t http_port = port_in_log(log_, "/healthz) on 127.0.0.1:");
  ASSERT_TRUE(port_ != 0 && tls_port != 0 && http_port != 0) << read_text(log_);
  const std::string base = "rtmp://127.0.0.1:" + std::to_string(port_) + "/";

  rtmp::test::child_process publisher(
      rtmp::test::ffmpeg_live_publish(base + "live/cam?token=first", 120, dir_.file("publisher.log")));
  auto first = player("first.times");
  auto second = player("second.times");
  ASSERT_TRUE(rtmp::test::wait_until(
      [&] { return arrivals(dir_.file("first.times")).size() > 50 && arrivals(dir_.file("second.times")).size() > 50; },
      30s))
      << "the players got nothing: " << read_text(dir_.file("first.times.err")) << read_text(dir_.file("publisher.log"));
  EXPECT_TRUE(rtmp::test::tls_handshake_trusts(tls_port, old_pair_.cert));
  const double reloads_began = wall_now();

  // 1. A token changed: the old one is refused for new publishes, the new one accepted.
  reload_to(1);
  EXPECT_NE(read_text(log_).find("tokens, callbacks and address rules"), std::string::npos) << read_text(log_);
  EXPECT_EQ(publish_file(base + "live/x?token=first"), 6) << "the old token still works";
  EXPECT_EQ(publish_file(base + "live/x?token=second"), 0);

  // 2. An application and a listener added.
  EXPECT_NE(publish_file(base + "extra/y"), 0) << "an application not listed yet";
  reload_to(2);
  EXPECT_EQ(publish_file(base + "extra/y"), 0);
  EXPECT_EQ(publish_file("rtmp://127.0.0.1:" + std::to_string(extra_port_) + "/extra/z"), 0)
      << "the added listener does not accept: " << read_text(log_);

  // 3. A push target added: the target receives the stream being published.
  reload_to(3);
  const std::string probe = dir_.file("probe.txt");
  rtmp::test::run("ffprobe -v error -rw_timeout 15000000 -show_entries stream=codec_name -of csv=p=0 "
                  "rtmp://127.0.0.1:" + std::to_string(target_port_) + "/live/cam > " + probe + " 2>&1",
                  20s);
  EXPECT_NE(read_text(probe).find("h264"), std::string::npos) << read_text(probe) << read_text(log_);
  EXPECT_NE(read_text(probe).find("aac"), std::string::npos) << read_text(probe);

  // 4. ... and removed: its connection closes, the target's stream goes.
  reload_to(4);
  EXPECT_TRUE(rtmp::test::wait_until(
      [&] { return rtmp::test::http_get(target_http, "/api/streams/live/cam").status == 404; }, 10s))
      << "the removed target still gets the stream: " << read_text(target_log);
  EXPECT_NE(read_text(log_).find("target removed by a reload"), std::string::npos) << read_text(log_);

  // 5. The log level changed and the certificate renewed in place: RTMPS
  // handshakes from now on see the new one.
  EXPECT_FALSE(rtmp::test::tls_handshake_trusts(tls_port, new_pair_.cert));
  std::filesystem::copy_file(new_pair_.cert, dir_.file("cert.pem"), std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(new_pair_.key, dir_.file("key.pem"), std::filesystem::copy_options::overwrite_existing);
  reload_to(5);
  EXPECT_NE(read_text(log_).find("TLS certificate and key"), std::string::npos) << read_text(log_);
  EXPECT_NE(read_text(log_).find("log level"), std::string::npos) << read_text(log_);
  EXPECT_TRUE(rtmp::test::tls_handshake_trusts(tls_port, new_pair_.cert));
  EXPECT_FALSE(rtmp::test::tls_handshake_trusts(tls_port, old_pair_.cert));
  EXPECT_EQ(publish_file("rtmps://localhost:" + std::to_string(tls_port) + "/extra/tls", "--ca-file " + new_pair_.cert),
            0);

  // An invalid file changes nothing.
  write_text(dir_.file("rtmp-server.toml"), config(5) + "idle-timeout = 0\n");
  server_->signal(SIGHUP);
  ASSERT_TRUE(rtmp::test::wait_until([&] { return count_in(log_, "reload refused") == 1; }, 10s)) << read_text(log_);
  EXPECT_EQ(publish_file(base + "live/x?token=second"), 0) << "the configuration in force changed";
  EXPECT_EQ(publish_file(base + "live/x?token=first"), 6);
  EXPECT_TRUE(rtmp::test::tls_handshake_trusts(tls_port, new_pair_.cert));

  // Both players played through all of it.
  std::this_thread::sleep_for(1s);
  const double end = wall_now();
  for (const char* name : {"first.times", "second.times"}) {
    const double gap = longest_gap(arrivals(dir_.file(name)), reloads_began, end);
    EXPECT_LE(gap, 1.0) << name << ": a gap of " << gap << " s; " << read_text(dir_.file(std::string(name) + ".err"));
  }
  server_->signal(SIGTERM);
  EXPECT_EQ(server_->wait(10s), 0) << read_text(log_);
}

}  // namespace
