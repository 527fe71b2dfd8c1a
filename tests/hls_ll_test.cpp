// Low-Latency HLS on the HTTP endpoint (RFC 8216bis): parts listed in the
// playlist and served, a blocking playlist reload (`_HLS_msn`/`_HLS_part`)
// and a request for the hinted part held until the stream has them, a held
// request answered 503 when the stream stalls, and the hostile cases: bad or
// far-ahead directives get 400, and past --hls-max-blocked held requests
// get 503 at once while other streams keep being served.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "support/ertmp_samples.hpp"
#include "support/http_client.hpp"
#include "support/net.hpp"
#include "support/running_server.hpp"
#include "support/test_client.hpp"

namespace {

using namespace std::chrono_literals;
namespace ertmp = rtmp::test::ertmp;

rtmp::net::server_config ll_config() {
  auto cfg = rtmp::test::loopback_config();
  cfg.http_listen = {"127.0.0.1:0"};
  cfg.hls.apps = {"live"};
  cfg.hls.fmp4 = true;
  cfg.hls.segment_duration = 1000ms;
  cfg.hls.part_duration = 200ms;
  return cfg;
}

// A publisher of an HEVC stream (Enhanced RTMP, 25 fps, a keyframe every
// second) whose frames the test sends when it wants: media time is in its hands.
class stepped_publisher {
 public:
  stepped_publisher(std::uint16_t port, const std::string& name) : client_(port) {
    ok_ = client_.publish(name) == "NetStream.Publish.Start";
    client_.send_media(9, 0, ertmp::video_tag(ertmp::key_frame, ertmp::sequence_start, "hvc1", ertmp::hvcc_1278x718()));
  }
  bool ok() const { return ok_; }
  // The next `ms` of media.
  void send(std::uint32_t ms) {
    for (const std::uint32_t end = ts_ + ms; ts_ < end; ts_ += 40) {
      const bool key = ts_ % 1000 == 0;
      client_.send_media(9, ts_, ertmp::video_tag(key ? ertmp::key_frame : ertmp::inter_frame, ertmp::coded_frames,
                                                  "hvc1", ertmp::hevc_frame(key, key ? 0x10 : 0x20, key ? 1500 : 300)));
    }
  }

 private:
  rtmp::test::test_client client_;
  bool ok_ = false;
  std::uint32_t ts_ = 0;
};

// The URI of the playlist's EXT-X-PRELOAD-HINT ("M.P.m4s"), or "".
std::string preload_hint(const std::string& playlist) {
  const std::string tag = "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"";
  const auto at = playlist.find(tag);
  if (at == std::string::npos) return {};
  const auto from = at + tag.size();
  return playlist.substr(from, playlist.find('"', from) - from);
}

// "M.P.m4s" -> {M, P}.
std::pair<std::string, std::string> msn_and_part(const std::string& uri) {
  const auto dot = uri.find('.');
  return {uri.substr(0, dot), uri.substr(dot + 1, uri.find('.', dot + 1) - dot - 1)};
}

class ll_hls : public ::testing::Test {
 protected:
  void start(rtmp::net::server_config cfg = ll_config()) {
    server_.start(cfg);
    publisher_ = std::make_unique<stepped_publisher>(server_.port(), "cam");
    ASSERT_TRUE(publisher_->ok());
    publisher_->send(2'500);
    ASSERT_TRUE(rtmp::test::wait_until([&] { return !preload_hint(playlist()).empty(); }, 10s)) << playlist();
  }
  std::string playlist(const std::string& query = "") const {
    return rtmp::test::http_get(server_.http_port(), "/live/cam/index.m3u8" + query).body;
  }
  rtmp::test::running_server server_;
  std::unique_ptr<stepped_publisher> publisher_;
};

TEST_F(ll_hls, parts_are_listed_with_server_control_and_served) {
  start();
  const std::string text = playlist();
  EXPECT_NE(text.find("#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.800\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("#EXT-X-PART-INF:PART-TARGET=0.200\n"), std::string::npos) << text;
  // Every listed part is served, as an fMP4 fragment, cacheable for good.
  std::size_t parts = 0;
  for (auto at = text.find("#EXT-X-PART:"); at != std::string::npos; at = text.find("#EXT-X-PART:", at + 1)) {
    const auto uri_at = text.find("URI=\"", at) + 5;
    const std::string uri = text.substr(uri_at, text.find('"', uri_at) - uri_at);
    const auto part = rtmp::test::http_get(server_.http_port(), "/live/cam/" + uri);
    EXPECT_EQ(part.status, 200) << uri;
    EXPECT_NE(part.body.find("moof"), std::string::npos) << uri;
    EXPECT_NE(part.headers.find("immutable"), std::string::npos) << part.headers;
    ++parts;
  }
  EXPECT_GE(parts, 5u) << text;
  EXPECT_EQ(rtmp::test::http_get(server_.http_port(), "/live/cam/1.999999.m4s").status, 404);
  EXPECT_EQ(rtmp::test::http_get(server_.http_port(), "/live/cam/1.x.m4s").status, 404);
  // /api/streams shows the requests per second once their second is over.
  std::this_thread::sleep_for(1100ms);
  const auto api = nlohmann::json::parse(rtmp::test::http_get(server_.http_port(), "/api/streams/live/cam").body);
  const auto& hls = api.at("hls");
  EXPECT_GT(hls.at("requests_per_second").get<double>(), 0.0) << api.dump();
  EXPECT_GT(hls.at("playlist_requests_per_second").get<double>(), 0.0) << api.dump();
  EXPECT_LT(hls.at("playlist_requests_per_second").get<double>(), hls.at("requests_per_second").get<double>());
  EXPECT_EQ(hls.at("blocked").get<int>(), 0);
}

TEST_F(ll_hls, a_blocking_reload_and_the_hinted_part_are_held_until_the_part_exists) {
  start();
  const std::string hint = preload_hint(playlist());
  const auto [msn, part] = msn_and_part(hint);
  const auto port = server_.http_port();
  auto reload = std::async(std::launch::async, [&, msn = msn, part = part] {
    return rtmp::test::http_get(port, "/live/cam/index.m3u8?_HLS_msn=" + msn + "&_HLS_part=" + part);
  });
  auto hinted = std::async(std::launch::async, [&] { return rtmp::test::http_get(port, "/live/cam/" + hint); });
  // Nothing new is published: both wait.
  EXPECT_EQ(reload.wait_for(700ms), std::future_status::timeout);
  EXPECT_EQ(hinted.wait_for(0ms), std::future_status::timeout);
  const auto metrics = rtmp::test::http_get(port, "/metrics").body;
  EXPECT_EQ(rtmp::test::metric_sample(metrics, "rtmp_hls_blocked_requests"), 2.0) << metrics;
  // The next part's media arrives (and the frame that closes it): both are answered.
  publisher_->send(440);
  ASSERT_EQ(reload.wait_for(3s), std::future_status::ready);
  const auto r = reload.get();
  EXPECT_EQ(r.status, 200) << r.headers;
  EXPECT_NE(r.body.find("URI=\"" + hint + "\""), std::string::npos) << "the requested part is listed\n" << r.body;
  ASSERT_EQ(hinted.wait_for(3s), std::future_status::ready);
  const auto h = hinted.get();
  EXPECT_EQ(h.status, 200) << h.headers;
  EXPECT_NE(h.body.find("moof"), std::string::npos);
}

TEST_F(ll_hls, a_held_reload_gets_503_when_the_stream_stalls_for_three_target_durations) {
  start();
  const auto [msn, part] = msn_and_part(preload_hint(playlist()));
  const auto began = std::chrono::steady_clock::now();
  const auto r = rtmp::test::raw_http(server_.http_port(),
                                      "GET /live/cam/index.m3u8?_HLS_msn=" + msn + "&_HLS_part=" + part +
                                          " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
                                      10s);
  const auto waited = std::chrono::steady_clock::now() - began;
  EXPECT_EQ(r.status, 503) << r.headers;
  EXPECT_GE(waited, 2500ms) << "held about three target durations (3 x 1 s)";
}

TEST_F(ll_hls, bad_or_far_ahead_directives_get_400) {
  start();
  const auto [msn, part] = msn_and_part(preload_hint(playlist()));
  const auto status = [&](const std::string& query) {
    return rtmp::test::http_get(server_.http_port(), "/live/cam/index.m3u8" + query).status;
  };
  EXPECT_EQ(status("?_HLS_msn=9999999999999999999"), 400);
  EXPECT_EQ(status("?_HLS_msn=" + std::to_string(std::stoull(msn) + 2)), 400);
  EXPECT_EQ(status("?_HLS_msn=" + msn + "&_HLS_part=5000"), 400);
  EXPECT_EQ(status("?_HLS_part=1"), 400);
  EXPECT_EQ(status("?_HLS_msn=abc"), 400);
  EXPECT_EQ(status("?_HLS_msn=99999999999999999999999"), 400);
  // An old one is answered at once.
  EXPECT_EQ(status("?_HLS_msn=" + std::to_string(std::stoull(msn) - 1)), 200);
  EXPECT_EQ(rtmp::test::http_get(server_.http_port(), "/live/none/index.m3u8?_HLS_msn=1").status, 404);
}

// Sends `request` on `count` new connections and returns their sockets; in
// batches below the server's budget of connections still sending a request.
std::vector<int> send_on_many(std::uint16_t port, const std::string& request, std::size_t count) {
  std::vector<int> fds;
  for (std::size_t i = 0; i < count; ++i) {
    const int fd = rtmp::test::connect_loopback(port);
    if (fd < 0) break;
    (void)::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    fds.push_back(fd);
    if (i % 40 == 39) std::this_thread::sleep_for(10ms);
  }
  return fds;
}

// The response status of each of many connections, as they arrive.
struct many_responses {
  std::vector<int> fds;
  std::vector<int> status;  // 0: none yet; -1: closed without one
  std::vector<std::string> in;

  explicit many_responses(std::vector<int> sockets)
      : fds(std::move(sockets)), status(fds.size(), 0), in(fds.size()) {}
  ~many_responses() {
    for (const int fd : fds) ::close(fd);
  }
  std::size_t count(int s) const { return static_cast<std::size_t>(std::count(status.begin(), status.end(), s)); }
  // Reads until `answered` connections have a status or `limit` passes.
  void collect(std::size_t answered, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (fds.size() - count(0) < answered && std::chrono::steady_clock::now() < deadline) {
      std::vector<pollfd> p;
      for (std::size_t i = 0; i < fds.size(); ++i) p.push_back({status[i] == 0 ? fds[i] : -1, POLLIN, 0});
      if (::poll(p.data(), p.size(), 50) <= 0) continue;
      for (std::size_t i = 0; i < fds.size(); ++i) {
        if ((p[i].revents & (POLLIN | POLLHUP)) == 0) continue;
        char buf[4096];
        const ssize_t n = ::recv(fds[i], buf, sizeof buf, 0);
        if (n > 0) in[i].append(buf, static_cast<std::size_t>(n));
        if (in[i].size() >= 12) {
          status[i] = std::stoi(in[i].substr(9, 3));
        } else if (n <= 0) {
          status[i] = -1;
        }
      }
    }
  }
};

TEST_F(ll_hls, past_max_blocked_held_reloads_get_503_at_once_and_other_streams_are_served) {
  // 2,000 connections, both ends in this process.
  rlimit lim{};
  ::getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = std::max<rlim_t>(lim.rlim_cur, std::min<rlim_t>(lim.rlim_max, 8192));
  ::setrlimit(RLIMIT_NOFILE, &lim);
  ASSERT_GE(lim.rlim_cur, 4600u) << "needs 4,600 descriptors";
  auto cfg = ll_config();
  cfg.hls.max_blocked_requests = 100;
  start(cfg);
  stepped_publisher other(server_.port(), "other");
  ASSERT_TRUE(other.ok());
  other.send(1'500);
  const auto [msn, part] = msn_and_part(preload_hint(playlist()));
  const std::string request = "GET /live/cam/index.m3u8?_HLS_msn=" + msn + "&_HLS_part=" + part +
                              " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
  many_responses held(send_on_many(server_.http_port(), request, 2000));
  ASSERT_EQ(held.fds.size(), 2000u);
  // The held ones fill the bound; the others are refused at once.
  held.collect(1900, 10s);
  EXPECT_EQ(held.count(503), 1900u);
  EXPECT_EQ(held.count(0), 100u);
  EXPECT_EQ(rtmp::test::metric_sample(rtmp::test::http_get(server_.http_port(), "/metrics").body,
                                      "rtmp_hls_blocked_requests"),
            100.0);
  // Another stream is served as usual meanwhile.
  const auto began = std::chrono::steady_clock::now();
  const auto other_playlist = rtmp::test::http_get(server_.http_port(), "/live/other/index.m3u8");
  EXPECT_EQ(other_playlist.status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - began, 1s);
  // The part arrives: every held one is answered with it.
  publisher_->send(440);
  held.collect(2000, 10s);
  EXPECT_EQ(held.count(200), 100u);
  EXPECT_EQ(rtmp::test::metric_sample(rtmp::test::http_get(server_.http_port(), "/metrics").body,
                                      "rtmp_hls_blocked_requests"),
            0.0);
}

}  // namespace
