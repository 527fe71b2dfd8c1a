// The operator HTTP endpoint of the in-process server: /healthz, /metrics,
// /api/streams (codecs and resolution from the publisher's metadata and
// sequence headers, publisher and player counts, byte counters), kicks with
// and without the bearer token, and malformed requests.

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <optional>
#include <regex>
#include <string>
#include <thread>

#include "rtmp/net/server.hpp"
#include "rtmp/proto/command.hpp"
#include "support/media.hpp"
#include "support/process.hpp"
#include "support/process_stats.hpp"
#include "support/client_io.hpp"
#include "support/http_client.hpp"
#include "support/running_server.hpp"
#include "support/test_client.hpp"

namespace {

using namespace std::chrono_literals;
using rtmp::test::http_reply;
using rtmp::test::http_get;
using rtmp::test::raw_http;
using rtmp::test::test_client;
using bytes = std::vector<std::uint8_t>;


const auto& sample = rtmp::test::metric_sample;

bytes keyframe(std::size_t n) { return rtmp::test::video_frame(true, n); }

class http_api_test : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cfg = rtmp::test::loopback_config();
    cfg.http_listen = {"127.0.0.1:0"};
    cfg.http_token = "s3cret";
    server_.start(cfg);
    ASSERT_EQ(server_->http_endpoints().size(), 1u);
  }

  // A publisher on live/cam with metadata, H.264 and AAC headers and a keyframe.
  std::unique_ptr<test_client> publish() {
    auto pub = std::make_unique<test_client>(server_.port());
    EXPECT_EQ(pub->publish("cam?token=hidden"), "NetStream.Publish.Start");
    auto meta = rtmp::test::picture_metadata(1280, 720);
    meta.push_back("framerate", 25.0);
    meta.push_back("videocodecid", 7.0);
    rtmp::test::send_stream_start(*pub, meta);
    pub->send_media(9, 0, keyframe(5000));
    return pub;
  }

  rtmp::test::running_server server_;
};

TEST_F(http_api_test, healthz_answers_ok) {
  const auto r = http_get(server_.http_port(), "/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok\n");
  EXPECT_NE(r.headers.find("Cache-Control: no-store"), std::string::npos);
}

TEST_F(http_api_test, metrics_and_streams_show_publisher_players_codecs_and_rising_bytes) {
  auto pub = publish();
  test_client p1(server_.port()), p2(server_.port());
  ASSERT_EQ(p1.play("cam"), "NetStream.Play.Start");
  ASSERT_EQ(p2.play("cam"), "NetStream.Play.Start");
  // Let the players receive the cached start.
  for (auto* p : {&p1, &p2}) {
    for (int i = 0; i < 20; ++i) {
      auto m = p->next(200ms);
      if (m && m->type == 9 && m->payload.size() > 1000) break;
    }
  }
  const auto m1 = http_get(server_.http_port(), "/metrics");
  ASSERT_EQ(m1.status, 200);
  EXPECT_NE(m1.headers.find("text/plain; version=0.0.4"), std::string::npos);
  EXPECT_EQ(sample(m1.body, "rtmp_publishers"), 1.0) << m1.body;
  EXPECT_EQ(sample(m1.body, "rtmp_players"), 2.0);
  EXPECT_EQ(sample(m1.body, "rtmp_stream_players{app=\"live\",stream=\"cam\"}"), 2.0);
  const auto in1 = sample(m1.body, "rtmp_received_bytes_total").value_or(0);
  const auto out1 = sample(m1.body, "rtmp_sent_bytes_total").value_or(0);
  EXPECT_GT(in1, 5000);
  EXPECT_GT(out1, 10000);  // two players got the keyframe
  EXPECT_EQ(m1.body.find("hidden"), std::string::npos) << "the token leaked into /metrics";

  pub->send_media(9, 40, keyframe(20000));
  for (auto* p : {&p1, &p2}) {
    for (int i = 0; i < 20; ++i) {
      auto m = p->next(200ms);
      if (m && m->type == 9 && m->payload.size() == 20000) break;
    }
  }
  const auto m2 = http_get(server_.http_port(), "/metrics");
  EXPECT_GE(sample(m2.body, "rtmp_received_bytes_total").value_or(0), in1 + 20000);
  EXPECT_GE(sample(m2.body, "rtmp_sent_bytes_total").value_or(0), out1 + 40000);
  EXPECT_GE(sample(m2.body, "rtmp_connections_accepted_total").value_or(0), 3.0);

  const auto s = http_get(server_.http_port(), "/api/streams");
  ASSERT_EQ(s.status, 200);
  EXPECT_NE(s.headers.find("application/json"), std::string::npos);
  const auto doc = nlohmann::json::parse(s.body);
  ASSERT_EQ(doc["streams"].size(), 1u) << s.body;
  const auto& st = doc["streams"][0];
  EXPECT_EQ(st["app"], "live");
  EXPECT_EQ(st["stream"], "cam");
  EXPECT_EQ(st["publishing"], true);
  EXPECT_EQ(st["video"]["codec"], "H264") << st.dump();
  EXPECT_EQ(st["video"]["width"], 1280);
  EXPECT_EQ(st["video"]["height"], 720);
  EXPECT_EQ(st["video"]["frame_rate"], 25);
  EXPECT_EQ(st["audio"]["codec"], "AAC") << st.dump();
  EXPECT_EQ(st["audio"]["sample_rate"], 44100);
  EXPECT_EQ(st["audio"]["channels"], 2);
  EXPECT_EQ(st["player_count"], 2);
  EXPECT_EQ(st["players"].size(), 2u);
  EXPECT_TRUE(st["publisher"].is_object());
  EXPECT_EQ(st["publisher"]["address"].get<std::string>().rfind("127.0.0.1:", 0), 0u);
  EXPECT_GE(st["bytes_in"].get<double>(), 25000);
  EXPECT_GE(st["bytes_out"].get<double>(), 40000);
  for (const auto& p : st["players"]) EXPECT_GT(p["bytes_sent"].get<double>(), 20000);
  EXPECT_EQ(s.body.find("hidden"), std::string::npos) << "the token leaked into /api/streams";

  const auto one = http_get(server_.http_port(), "/api/streams/live/cam");
  ASSERT_EQ(one.status, 200);
  EXPECT_EQ(nlohmann::json::parse(one.body)["stream"], "cam");
  EXPECT_EQ(http_get(server_.http_port(), "/api/streams/live/nothing").status, 404);
}

TEST_F(http_api_test, kick_needs_the_bearer_token_and_closes_the_publisher) {
  auto pub = publish();
  auto post = [&](const std::string& auth) {
    return raw_http(server_.http_port(),
                    "POST /api/streams/live/cam/kick HTTP/1.1\r\nHost: t\r\nConnection: close\r\n" + auth +
                        "Content-Length: 0\r\n\r\n");
  };
  const auto none = post("");
  EXPECT_EQ(none.status, 401);
  EXPECT_NE(none.headers.find("WWW-Authenticate: Bearer"), std::string::npos);
  EXPECT_EQ(post("Authorization: Bearer wrong\r\n").status, 401);
  EXPECT_EQ(post("Authorization: Bearer s3cre\r\n").status, 401);
  EXPECT_EQ(http_get(server_.http_port(), "/api/streams/live/cam/kick").status, 405);
  const auto ok = post("Authorization: Bearer s3cret\r\n");
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(pub->wait_status(3s), "NetStream.Unpublish.Success");  // told, then closed
  EXPECT_TRUE(pub->closed_by_peer(3s));
  EXPECT_EQ(post("Authorization: Bearer s3cret\r\n").status, 404);  // nothing left to kick
}

TEST_F(http_api_test, malformed_and_unknown_requests_get_clear_4xx_and_the_server_goes_on) {
  EXPECT_EQ(http_get(server_.http_port(), "/nowhere").status, 404);
  EXPECT_EQ(raw_http(server_.http_port(), "DELETE /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").status,
            405);
  EXPECT_EQ(raw_http(server_.http_port(), "GARBAGE\r\n\r\n").status, 400);
  EXPECT_EQ(raw_http(server_.http_port(), "GET /metrics HTTP/2.0\r\n\r\n").status, 505);
  EXPECT_EQ(raw_http(server_.http_port(), "GET /" + std::string(10000, 'a') + " HTTP/1.1\r\n\r\n").status, 414);
  std::string many = "GET /metrics HTTP/1.1\r\n";
  for (int i = 0; i < 100; ++i) many += "X-H" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(raw_http(server_.http_port(), many + "\r\n").status, 431);
  EXPECT_EQ(raw_http(server_.http_port(),
                     "POST /api/streams/a/b/kick HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000000000\r\n\r\n")
                .status,
            413);
  // Keep-alive: two pipelined requests on one connection, both answered.
  const auto two = raw_http(server_.http_port(),
                            "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\nGET /healthz HTTP/1.1\r\nHost: t\r\nConnection: "
                            "close\r\n\r\n");
  EXPECT_EQ(two.status, 200);
  EXPECT_NE(two.body.find("HTTP/1.1 200"), std::string::npos) << "the second pipelined request was not answered";
  // RTMP still works.
  auto pub = publish();
  EXPECT_EQ(http_get(server_.http_port(), "/healthz").status, 200);
}

TEST_F(http_api_test, a_silent_http_client_is_closed_at_the_request_deadline) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(server_.http_port());
  ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  (void)::send(fd, "GET /metr", 9, MSG_NOSIGNAL);
  pollfd p{fd, POLLIN, 0};
  const int ready = ::poll(&p, 1, 8000);  // the deadline is 5 s
  char c;
  const bool closed = ready == 1 && ::recv(fd, &c, 1, 0) <= 0;
  ::close(fd);
  EXPECT_TRUE(closed) << "a half-sent request held its connection past the deadline";
}

}  // namespace

namespace {

// Clients that send a request one header line at a time, never finishing
// it, and reconnect when the server closes them; on a thread of their own.
class tricklers {
 public:
  using clock = std::chrono::steady_clock;

  tricklers(std::uint16_t port, std::size_t count) : port_(port), slots_(count) {
    thread_ = std::thread([this] { run(); });
  }
  ~tricklers() {
    stop_ = true;
    thread_.join();
    for (auto& s : slots_) {
      if (s.fd >= 0) ::close(s.fd);
    }
  }

  /// Connections the server closed so far.
  std::size_t closed() const { return closed_.load(); }
  /// The longest any connection lived before the server closed it.
  std::chrono::milliseconds longest_life() const { return std::chrono::milliseconds(longest_ms_.load()); }

 private:
  struct slot {
    int fd = -1;
    clock::time_point opened{};
  };

  void run() {
    while (!stop_) {
      for (auto& s : slots_) {
        if (s.fd < 0) {
          s.fd = rtmp::test::connect_loopback(port_);
          s.opened = clock::now();
          send_line(s, "GET /metrics HTTP/1.1\r\n");
          continue;
        }
        if (closed_by_server(s) || !send_line(s, "X-Slow: 1\r\n")) {
          const auto life = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - s.opened).count();
          longest_ms_ = std::max<long long>(longest_ms_.load(), life);
          ++closed_;
          ::close(s.fd);
          s.fd = -1;
        }
      }
      std::this_thread::sleep_for(100ms);
    }
  }

  static bool send_line(const slot& s, std::string_view line) {
    return s.fd >= 0 && ::send(s.fd, line.data(), line.size(), MSG_NOSIGNAL | MSG_DONTWAIT) > 0;
  }

  static bool closed_by_server(const slot& s) {
    pollfd p{s.fd, POLLIN, 0};
    if (::poll(&p, 1, 0) <= 0) return false;
    char c;
    return ::recv(s.fd, &c, 1, MSG_DONTWAIT) <= 0;  // EOF or reset: it sends nothing else
  }

  const std::uint16_t port_;
  std::vector<slot> slots_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> closed_{0};
  std::atomic<long long> longest_ms_{0};
};

TEST(http_admission, trickling_clients_lock_out_neither_healthz_nor_viewers) {
  auto cfg = rtmp::test::loopback_config();
  cfg.http_listen = {"127.0.0.1:0"};
  cfg.http_request_timeout = 2000ms;
  rtmp::test::running_server server(cfg);
  const std::size_t rss_before = rtmp::test::rss_bytes();

  tricklers attack(server.http_port(), 300);
  std::this_thread::sleep_for(500ms);  // every trickler connected once

  // /healthz answers within a second every time it is asked.
  const auto until = std::chrono::steady_clock::now() + 5s;
  int asked = 0;
  while (std::chrono::steady_clock::now() < until) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = http_get(server.http_port(), "/healthz");
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_EQ(r.status, 200) << "ask " << asked;
    EXPECT_LT(took, 1s) << "ask " << asked;
    ++asked;
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_GE(asked, 10);

  // An HTTP-FLV viewer joins a live stream.
  test_client pub(server.port());
  ASSERT_EQ(pub.publish("cam"), "NetStream.Publish.Start");
  rtmp::test::send_stream_start(pub, rtmp::test::picture_metadata(320, 240));
  pub.send_media(9, 0, keyframe(3000));
  const auto flv = raw_http(server.http_port(), "GET /live/cam.flv HTTP/1.1\r\nHost: t\r\n\r\n", 1500ms);
  EXPECT_EQ(flv.status, 200) << flv.headers;
  EXPECT_NE(flv.body.find("FLV\x01"), std::string::npos) << "no FLV header for the viewer (chunked body)";

  // The tricklers were closed, each by its deadline or earlier to make room.
  EXPECT_GT(attack.closed(), 300u);
  EXPECT_LE(attack.longest_life(), 3000ms) << "the request deadline is 2 s";
  // ASan keeps freed memory in quarantine (up to 256 MB): a wider bound there.
  const std::size_t growth = (rtmp::test::sanitized_build ? 512u : 64u) * 1024 * 1024;
  EXPECT_LT(rtmp::test::rss_bytes(), rss_before + growth) << "memory stays bounded";
}

}  // namespace
