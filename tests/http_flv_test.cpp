// HTTP-FLV playback on the in-process server's HTTP endpoint: the response
// head and the chunked FLV body parsed tag by tag (header, metadata and
// sequence headers, then a keyframe; rebased timestamps; the shared payload
// bytes), the end of the body when the publisher stops, 404/405/OPTIONS/HEAD,
// play tokens, a slow reader next to a healthy one, server shutdown, and
// ffmpeg/ffprobe reading http://.../live/x.flv while ffmpeg publishes over
// RTMP. Loopback and ephemeral ports only; every wait is bounded.

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <thread>

#include "rtmp/net/server.hpp"
#include "rtmp/proto/command.hpp"
#include "support/client_io.hpp"
#include "support/media.hpp"
#include "support/net.hpp"
#include "support/process.hpp"
#include "support/http_client.hpp"
#include "support/running_server.hpp"
#include "support/test_client.hpp"

namespace {
using namespace rtmp::test;

using namespace std::chrono_literals;
using bytes = std::vector<std::uint8_t>;

std::string request(const std::string& method, const std::string& target, const std::string& extra = "") {
  return method + " " + target + " HTTP/1.1\r\nHost: test\r\n" + extra + "\r\n";
}

bool has_header(const std::string& headers, const std::string& line) {
  return headers.find("\r\n" + line + "\r\n") != std::string::npos;
}

struct flv_tag {
  std::uint8_t type = 0;
  std::uint32_t timestamp = 0;
  bytes payload;
};

// An HTTP-FLV player on a raw socket: reads the response head, undoes the
// chunked coding and parses FLV tags, checking every PreviousTagSize.
class flv_player {
 public:
  explicit flv_player(std::uint16_t port, const std::string& target, int receive_buffer = 0)
      : fd_(rtmp::test::connect_loopback(port, receive_buffer)) {
    const std::string req = request("GET", target);
    if (fd_ >= 0) (void)::send(fd_, req.data(), req.size(), MSG_NOSIGNAL);
  }
  ~flv_player() {
    if (fd_ >= 0) ::close(fd_);
  }
  flv_player(const flv_player&) = delete;
  flv_player& operator=(const flv_player&) = delete;

  // The status line and header fields (empty on timeout).
  std::string head(std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (head_.empty()) {
      const auto end = raw_.find("\r\n\r\n");
      if (end != std::string::npos) {
        head_ = raw_.substr(0, end + 2);
        raw_.erase(0, end + 4);
        break;
      }
      if (!fill(deadline)) break;
    }
    return head_;
  }

  // The FLV file header (9 bytes + PreviousTagSize0), or empty.
  bytes file_header(std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (body_.size() < 13 && !ended_) {
      if (!decode_more(deadline)) return {};
    }
    if (body_.size() < 13) return {};
    bytes h(body_.begin(), body_.begin() + 13);
    body_.erase(body_.begin(), body_.begin() + 13);
    return h;
  }

  // The next tag, or nothing on timeout, end of body or a framing error
  // (then `error` says what).
  std::optional<flv_tag> next(std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (body_.size() >= 11) {
        const std::size_t size = (std::size_t{body_[1]} << 16) | (body_[2] << 8) | body_[3];
        if (body_.size() >= 11 + size + 4) {
          flv_tag t;
          t.type = body_[0] & 0x1f;
          t.timestamp = (std::uint32_t{body_[7]} << 24) | (std::uint32_t{body_[4]} << 16) | (body_[5] << 8) | body_[6];
          t.payload.assign(body_.begin() + 11, body_.begin() + 11 + static_cast<long>(size));
          const std::uint8_t* p = body_.data() + 11 + size;
          const std::uint32_t prev = (std::uint32_t{p[0]} << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
          if (prev != 11 + size) error = "PreviousTagSize " + std::to_string(prev) + " != " + std::to_string(11 + size);
          if ((body_[8] | body_[9] | body_[10]) != 0) error = "StreamID not 0";
          body_.erase(body_.begin(), body_.begin() + static_cast<long>(11 + size + 4));
          if (!error.empty()) return std::nullopt;
          return t;
        }
      }
      if (ended_ || !decode_more(deadline)) return std::nullopt;
    }
  }

  // True once the last chunk (size 0) arrived.
  bool ended() const { return ended_; }

  // True when the server closed the connection within `timeout` (reading and
  // dropping whatever arrives until then).
  bool closed_by_server(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (!fill(deadline) && eof_) return true;
      raw_.clear();
    }
    return eof_;
  }

  int fd() const { return fd_; }
  std::string error;

 private:
  // Reads what arrives before `deadline`; false on timeout or EOF.
  bool fill(std::chrono::steady_clock::time_point deadline) {
    if (eof_ || fd_ < 0) return false;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left <= 0ms) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char buf[65536];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    raw_.append(buf, static_cast<std::size_t>(n));
    return true;
  }

  // Decodes complete chunks from raw_ into body_, reading more as needed.
  bool decode_more(std::chrono::steady_clock::time_point deadline) {
    if (head(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()))
            .empty()) {
      return false;
    }
    for (;;) {
      const auto eol = raw_.find("\r\n");
      if (eol != std::string::npos) {
        const std::size_t size = std::stoul(raw_.substr(0, eol), nullptr, 16);
        if (size == 0) {
          if (raw_.size() >= eol + 4) {  // "0\r\n\r\n": no trailer fields
            ended_ = true;
            return true;
          }
        } else if (raw_.size() >= eol + 2 + size + 2) {
          if (raw_.compare(eol + 2 + size, 2, "\r\n") != 0) {
            error = "chunk not followed by CRLF";
            return false;
          }
          body_.insert(body_.end(), raw_.begin() + static_cast<long>(eol + 2),
                       raw_.begin() + static_cast<long>(eol + 2 + size));
          raw_.erase(0, eol + 2 + size + 2);
          return true;
        }
      }
      if (!fill(deadline)) return false;
    }
  }

  int fd_ = -1;
  std::string raw_;
  std::string head_;
  bytes body_;
  bool ended_ = false;
  bool eof_ = false;
};

// The value of one /metrics sample (0 when absent), e.g.
// `rtmp_connections_closed_total{reason="slow_player"}`.
double metric_value(std::uint16_t http_port, const std::string& sample) {
  const auto m = raw_http(http_port, request("GET", "/metrics", "Connection: close\r\n")).body;
  const std::string name = sample + " ";
  const auto at = m.find(name);
  return at == std::string::npos ? 0.0 : std::stod(m.substr(at + name.size()));
}

class http_flv_test : public ::testing::Test {
 protected:
  void SetUp() override { start({}); }

  // (Re)starts the server with `tweak` applied to the test defaults.
  void start(const std::function<void(rtmp::net::server_config&)>& tweak) {
    auto cfg = rtmp::test::loopback_config();
    cfg.http_listen = {"127.0.0.1:0"};
    cfg.http_flv_cors = "*";
    if (tweak) tweak(cfg);
    server_.start(cfg);
    ASSERT_FALSE(server_->http_endpoints().empty());
  }

  // /api/streams/live/NAME as JSON (null when absent).
  nlohmann::json stream_info(const std::string& name) {
    const auto r = raw_http(server_.http_port(), request("GET", "/api/streams/live/" + name, "Connection: close\r\n"));
    if (r.status != 200) return nullptr;
    return nlohmann::json::parse(r.body, nullptr, false);
  }

  // A publisher on live/NAME with metadata, H.264 and AAC headers and a GOP
  // starting at 1000 ms; returns once the server has taken all of it in.
  std::unique_ptr<test_client> publish(const std::string& name) {
    auto pub = std::make_unique<test_client>(server_.port());
    EXPECT_EQ(pub->publish(name), "NetStream.Publish.Start");
    auto meta = rtmp::test::picture_metadata(320, 240);
    meta.push_back("videocodecid", 7.0);
    meta.push_back("audiocodecid", 10.0);
    rtmp::test::send_stream_start(*pub, meta);
    pub->send_media(9, 1000, video_frame(true, 5000));
    pub->send_media(9, 1040, video_frame(false, 700));
    pub->send_media(8, 1030, audio_frame(300));
    EXPECT_TRUE(wait_until(
        [&] {
          const auto s = stream_info(name);
          return s.is_object() && s["messages_in"] == 6;
        },
        5s));
    return pub;
  }

  rtmp::test::running_server server_;
};

TEST_F(http_flv_test, a_player_gets_headers_then_a_keyframe_then_live_tags_and_the_end) {
  auto pub = publish("cam");
  flv_player player(server_.http_port(), "/live/cam.flv");
  const std::string head = player.head();
  ASSERT_EQ(head.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << head;
  EXPECT_TRUE(has_header(head, "Content-Type: video/x-flv")) << head;
  EXPECT_TRUE(has_header(head, "Transfer-Encoding: chunked")) << head;
  EXPECT_TRUE(has_header(head, "Access-Control-Allow-Origin: *")) << head;
  EXPECT_EQ(head.find("Content-Length"), std::string::npos) << head;

  // FLV version 1, audio and video, DataOffset 9, PreviousTagSize0 0.
  EXPECT_EQ(player.file_header(), (bytes{'F', 'L', 'V', 1, 0x05, 0, 0, 0, 9, 0, 0, 0, 0}));
  auto meta = player.next();
  ASSERT_TRUE(meta) << player.error;
  EXPECT_EQ(meta->type, 18);
  EXPECT_EQ(meta->timestamp, 0u);
  EXPECT_NE(std::string(meta->payload.begin(), meta->payload.end()).find("onMetaData"), std::string::npos);
  EXPECT_EQ(std::string(meta->payload.begin(), meta->payload.end()).find("@setDataFrame"), std::string::npos);
  auto vh = player.next();
  ASSERT_TRUE(vh);
  EXPECT_EQ(vh->type, 9);
  EXPECT_EQ(vh->payload, avc_sequence_header());
  auto ah = player.next();
  ASSERT_TRUE(ah);
  EXPECT_EQ(ah->type, 8);
  EXPECT_EQ(ah->payload, aac_sequence_header());
  // The cached GOP, rebased so that its first tag is at 0.
  auto key = player.next();
  ASSERT_TRUE(key);
  EXPECT_EQ(key->type, 9);
  EXPECT_EQ(key->payload, video_frame(true, 5000));
  EXPECT_EQ(key->timestamp, 0u);
  auto inter = player.next();
  ASSERT_TRUE(inter);
  EXPECT_EQ(inter->payload, video_frame(false, 700));
  EXPECT_EQ(inter->timestamp, 40u);
  auto audio = player.next();
  ASSERT_TRUE(audio);
  EXPECT_EQ(audio->type, 8);
  EXPECT_EQ(audio->timestamp, 30u);

  // Counted as a player of the stream.
  const auto info = stream_info("cam");
  ASSERT_TRUE(info.is_object());
  EXPECT_EQ(info["player_count"], 1) << info.dump();

  // Live.
  pub->send_media(9, 1080, video_frame(false, 900, 0x33));
  auto live = player.next();
  ASSERT_TRUE(live) << player.error;
  EXPECT_EQ(live->payload, video_frame(false, 900, 0x33));
  EXPECT_EQ(live->timestamp, 80u);

  // The publisher leaves: the body ends with the last chunk and the server closes.
  pub.reset();
  EXPECT_FALSE(player.next(5s));
  EXPECT_TRUE(player.error.empty()) << player.error;
  EXPECT_TRUE(player.ended());
  EXPECT_TRUE(player.closed_by_server(3s));
  EXPECT_TRUE(wait_until([&] { return stream_info("cam").is_null(); }, 3s)) << "the stream was not freed";
  // Counted as the end of the stream, not as a kick.
  EXPECT_EQ(metric_value(server_.http_port(), "rtmp_connections_closed_total{reason=\"stream_ended\"}"), 1.0);
  EXPECT_EQ(metric_value(server_.http_port(), "rtmp_connections_closed_total{reason=\"kicked\"}"), 0.0);
}

TEST_F(http_flv_test, a_late_player_starts_at_the_newest_keyframe) {
  auto pub = publish("late");
  pub->send_media(9, 2000, video_frame(true, 3000, 0x44));
  pub->send_media(9, 2040, video_frame(false, 500, 0x55));
  ASSERT_TRUE(wait_until([&] { return stream_info("late")["messages_in"] == 8; }, 5s));
  flv_player player(server_.http_port(), "/live/late.flv");
  ASSERT_EQ(player.file_header().size(), 13u);
  std::vector<flv_tag> tags;
  while (auto t = player.next(1s)) tags.push_back(*t);
  ASSERT_EQ(tags.size(), 5u) << player.error;  // metadata, 2 headers, keyframe, inter-frame
  EXPECT_EQ(tags[3].payload, video_frame(true, 3000, 0x44));
  EXPECT_EQ(tags[3].timestamp, 0u);
  EXPECT_EQ(tags[4].timestamp, 40u);
}

TEST_F(http_flv_test, an_http_1_0_player_gets_a_close_delimited_body) {
  auto pub = publish("old");
  const int fd = rtmp::test::connect_loopback(server_.http_port());
  ASSERT_GE(fd, 0);
  const std::string req = "GET /live/old.flv HTTP/1.0\r\n\r\n";
  (void)::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string in;
  bool closed = false;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) {
      if (pub && in.find("\r\n\r\n") != std::string::npos) pub.reset();  // got the start: end the stream
      continue;
    }
    char buf[8192];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      closed = true;
      break;
    }
    in.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  EXPECT_TRUE(closed);
  const auto end = in.find("\r\n\r\n");
  ASSERT_NE(end, std::string::npos) << in;
  const std::string head = in.substr(0, end + 2);
  EXPECT_EQ(head.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << head;
  EXPECT_EQ(head.find("Transfer-Encoding"), std::string::npos) << head;
  const std::string body = in.substr(end + 4);
  ASSERT_GT(body.size(), 13u + 6 * 15);
  EXPECT_EQ(body.substr(0, 3), "FLV");
  // The first tag right after the header: onMetaData, no chunk framing.
  EXPECT_EQ(static_cast<unsigned char>(body[13]), 18u);
}

TEST_F(http_flv_test, unknown_streams_methods_and_preflight) {
  const auto missing = raw_http(server_.http_port(), request("GET", "/live/nothing.flv"));
  EXPECT_EQ(missing.status, 404);
  EXPECT_TRUE(has_header(missing.headers, "Access-Control-Allow-Origin: *")) << missing.headers;
  EXPECT_TRUE(has_header(missing.headers, "Connection: close")) << missing.headers;
  EXPECT_EQ(raw_http(server_.http_port(), request("GET", "/nothing.flv", "Connection: close\r\n")).status, 404);
  EXPECT_EQ(raw_http(server_.http_port(), request("HEAD", "/live/nothing.flv")).status, 404);

  const auto post =
      raw_http(server_.http_port(), request("POST", "/live/cam.flv", "Content-Length: 0\r\nConnection: close\r\n"));
  EXPECT_EQ(post.status, 405);
  EXPECT_TRUE(has_header(post.headers, "Allow: GET, HEAD, OPTIONS")) << post.headers;

  const auto pre = raw_http(server_.http_port(), request("OPTIONS", "/live/cam.flv",
                                                "Origin: http://player.test\r\nAccess-Control-Request-Method: GET\r\n"
                                                "Access-Control-Request-Headers: range\r\nConnection: close\r\n"));
  EXPECT_EQ(pre.status, 204);
  EXPECT_TRUE(has_header(pre.headers, "Access-Control-Allow-Origin: *")) << pre.headers;
  EXPECT_TRUE(has_header(pre.headers, "Access-Control-Allow-Methods: GET, HEAD, OPTIONS")) << pre.headers;
  EXPECT_TRUE(has_header(pre.headers, "Access-Control-Allow-Headers: range")) << pre.headers;

  auto pub = publish("cam");
  const auto head = raw_http(server_.http_port(), request("HEAD", "/live/cam.flv"));
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(has_header(head.headers, "Content-Type: video/x-flv")) << head.headers;
  EXPECT_TRUE(head.body.empty()) << head.body.size();
  // The operator API is still there.
  EXPECT_EQ(raw_http(server_.http_port(), request("GET", "/healthz", "Connection: close\r\n")).status, 200);
}

TEST_F(http_flv_test, no_cors_header_unless_configured_and_play_tokens_apply) {
  start([](rtmp::net::server_config& c) {
    c.http_flv_cors.clear();
    c.auth.play_tokens["live"] = {"t0ken"};
  });
  auto pub = publish("cam");
  const auto none = raw_http(server_.http_port(), request("GET", "/live/cam.flv"));
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.headers.find("Access-Control"), std::string::npos) << none.headers;
  EXPECT_EQ(raw_http(server_.http_port(), request("GET", "/live/cam.flv?token=wrong")).status, 403);
  const auto pre = raw_http(server_.http_port(), request("OPTIONS", "/live/cam.flv", "Connection: close\r\n"));
  EXPECT_EQ(pre.status, 204);
  EXPECT_EQ(pre.headers.find("Access-Control"), std::string::npos) << pre.headers;

  flv_player player(server_.http_port(), "/live/cam.flv?a=1&token=t0ken");
  EXPECT_EQ(player.head().rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << player.head();
  EXPECT_EQ(player.file_header().size(), 13u);
  EXPECT_TRUE(player.next());
}

TEST_F(http_flv_test, a_reader_that_stops_is_dropped_then_closed_and_the_others_get_everything) {
  start([](rtmp::net::server_config& c) {
    c.queue_bytes = 256 * 1024;
    c.slow_disconnect_after = 1500ms;
  });
  auto pub = publish("busy");
  flv_player stuck(server_.http_port(), "/live/busy.flv", 4096);
  ASSERT_EQ(stuck.head().rfind("HTTP/1.1 200", 0), 0u);  // then it never reads again
  flv_player good(server_.http_port(), "/live/busy.flv");
  ASSERT_EQ(good.file_header().size(), 13u);
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(good.next()) << good.error;  // the fast start

  // 6 MB of video (a keyframe every 10th frame), far past the stuck
  // player's queue bound and socket buffers.
  constexpr int frames = 200;
  std::thread reader([&] {
    int video = 0;
    while (auto t = good.next(5s)) video += t->type == 9;
    EXPECT_EQ(video, frames) << good.error;
  });
  for (int i = 0; i < frames; ++i) {
    pub->send_media(9, 1080 + 40 * static_cast<std::uint32_t>(i), video_frame(i % 10 == 0, 30000));
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_GT(metric_value(server_.http_port(), "rtmp_media_dropped_total{reason=\"queue_full\"}"), 0.0);
  EXPECT_TRUE(stuck.closed_by_server(5s)) << "the stuck player was never disconnected";
  pub.reset();  // ends the good player's body
  reader.join();
  EXPECT_TRUE(good.ended());
}

TEST_F(http_flv_test, disconnect_policy_closes_a_stuck_reader_at_the_bound) {
  start([](rtmp::net::server_config& c) {
    c.queue_bytes = 128 * 1024;
    c.slow_policy = rtmp::net::slow_subscriber_policy::disconnect;
  });
  auto pub = publish("d");
  flv_player stuck(server_.http_port(), "/live/d.flv", 4096);
  ASSERT_EQ(stuck.head().rfind("HTTP/1.1 200", 0), 0u);
  // More than the kernel may buffer for a stuck reader (its send buffer
  // grows up to tcp_wmem's maximum, 4 MiB on Debian), so the bound is
  // reached however fast the server hands bytes to the socket.
  for (int i = 0; i < 300; ++i) {
    pub->send_media(9, 1080 + 40 * static_cast<std::uint32_t>(i), video_frame(i % 10 == 0, 30000));
  }
  EXPECT_TRUE(stuck.closed_by_server(5s));
  EXPECT_TRUE(wait_until([&] { return stream_info("d")["player_count"] == 0; }, 3s));
  EXPECT_EQ(metric_value(server_.http_port(), "rtmp_connections_closed_total{reason=\"slow_player\"}"), 1.0);
}

TEST_F(http_flv_test, server_shutdown_closes_players_promptly) {
  auto pub = publish("bye");
  flv_player a(server_.http_port(), "/live/bye.flv"), b(server_.http_port(), "/live/bye.flv");
  ASSERT_EQ(a.file_header().size(), 13u);
  ASSERT_EQ(b.file_header().size(), 13u);
  const auto t0 = std::chrono::steady_clock::now();
  server_->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  EXPECT_TRUE(a.closed_by_server(2s));
  EXPECT_TRUE(b.closed_by_server(2s));
}

// --- with ffmpeg ------------------------------------------------------------------

class http_flv_ffmpeg : public http_flv_test {
 protected:
  void SetUp() override {
    RTMP_REQUIRE_TOOL(rtmp::test::have_program("ffmpeg") && rtmp::test::have_program("ffprobe"),
                      "ffmpeg/ffprobe not installed");
    http_flv_test::SetUp();
  }
  std::string flv_url(const std::string& name) const {
    return "http://127.0.0.1:" + std::to_string(server_.http_port()) + "/live/" + name + ".flv";
  }
  // ffmpeg encodes a test pattern and a tone live (H.264 + AAC, GOP 1 s) and
  // publishes it over RTMP for `seconds`.
  std::unique_ptr<rtmp::test::child_process> ffmpeg_publish(const std::string& name, int seconds) {
    return std::make_unique<rtmp::test::child_process>(
        "ffmpeg -nostdin -loglevel error -re -f lavfi -i testsrc=size=320x240:rate=25 "
        "-f lavfi -i sine=frequency=440:sample_rate=44100 -t " +
        std::to_string(seconds) +
        " -c:v libx264 -preset ultrafast -tune zerolatency -g 25 -pix_fmt yuv420p -c:a aac -b:a 64k -f flv "
        "rtmp://127.0.0.1:" +
        std::to_string(server_.port()) + "/live/" + name);
  }
  rtmp::test::temp_dir dir_;
};

TEST_F(http_flv_ffmpeg, ffmpeg_plays_and_ffprobe_sees_h264_and_aac_over_http) {
  auto pub = ffmpeg_publish("x", 30);
  ASSERT_TRUE(wait_until(
      [&] {
        const auto s = stream_info("x");
        return s.is_object() && s["messages_in"].get<double>() > 50;
      },
      15s))
      << "ffmpeg did not publish";
  const std::string log = dir_.file("play.log");
  const std::string progress = dir_.file("progress.txt");
  EXPECT_EQ(rtmp::test::run("ffmpeg -nostdin -loglevel error -i " + flv_url("x") + " -t 5 -progress " + progress +
                                " -f null - 2> " + log,
                            40s),
            0)
      << rtmp::test::read_text(log);
  EXPECT_EQ(rtmp::test::read_text(log), "") << "ffmpeg reported errors";
  // 5 s at 25 fps, all decoded.
  const std::string stats = rtmp::test::read_text(progress);
  const auto at = stats.rfind("frame=");
  ASSERT_NE(at, std::string::npos) << stats;
  EXPECT_GE(std::stoi(stats.substr(at + 6)), 120) << stats;
  const std::string out = dir_.file("probe.txt");
  ASSERT_EQ(rtmp::test::run("ffprobe -v error -show_entries stream=codec_name,width,height -of csv=p=0 " +
                                flv_url("x") + " > " + out,
                            30s),
            0);
  const std::string p = rtmp::test::read_text(out);
  EXPECT_NE(p.find("h264,320,240"), std::string::npos) << p;
  EXPECT_NE(p.find("aac"), std::string::npos) << p;
}

}  // namespace
