// Relays: static push and on-demand pull (edge mode), with two or
// three in-process servers on loopback: a stream published to one server
// plays from another through a push; 20 players of an edge cause exactly one
// play connection on the origin and all get media; stopping the first origin
// makes the edge pull from the second within a few seconds while its player
// keeps receiving; a pull ends after its last player left.
// Loopback, ephemeral ports; every wait is bounded.

#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "rtmp/net/server.hpp"
#include "rtmp/proto/amf0_codec.hpp"
#include "rtmp/proto/command.hpp"
#include "support/media.hpp"
#include "support/net.hpp"
#include "support/process.hpp"
#include "support/running_server.hpp"
#include "support/test_client.hpp"

namespace {
using rtmp::test::avc_sequence_header;
using rtmp::test::video_frame;

using rtmp::test::wait_until;

using namespace std::chrono_literals;
namespace amf0 = rtmp::proto::amf0;
using bytes = std::vector<std::uint8_t>;
using rtmp::test::test_client;



/// A server on 127.0.0.1 with an ephemeral port.
struct node : rtmp::test::running_server {
  explicit node(const std::function<void(rtmp::net::server_config&)>& tweak = {}) {
    auto cfg = rtmp::test::loopback_config();
    if (tweak) tweak(cfg);
    start(cfg);
    if (port() == 0) throw std::runtime_error("server did not start");
  }
  std::string url() const { return "rtmp://127.0.0.1:" + std::to_string(port()) + "/live"; }
  std::size_t connections() const { return server().stats().connections; }
};

/// Publishes metadata, an H.264 header and frames (a keyframe every 10, one
/// frame per 20 ms) on a thread until destroyed or the server goes away.
class publisher {
 public:
  publisher(std::uint16_t port, std::string name) {
    thread_ = std::thread([this, port, name] {
      try {
        test_client pub(port);
        if (pub.publish(name) != "NetStream.Publish.Start") return;
        started_ = true;
        amf0::ecma_array meta;
        meta.push_back("videocodecid", 7.0);
        pub.send_media(18, 0, rtmp::proto::set_data_frame_message(meta));
        pub.send_media(9, 0, avc_sequence_header());
        for (int i = 0; !stop_; ++i) {
          pub.send_media(9, static_cast<std::uint32_t>(i * 20), video_frame(i % 10 == 0, 300));
          std::this_thread::sleep_for(20ms);
        }
      } catch (const std::exception&) {
        // the server stopped under us
      }
    });
  }
  ~publisher() {
    stop_ = true;
    thread_.join();
  }
  bool started() const { return started_; }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<bool> started_{false};
  std::thread thread_;
};

/// What a player saw of the video.
struct seen {
  bool header_before_first_frame = false;
  bool first_frame_is_key = false;
  int frames = 0;
};

/// Reads up to `want` video frames within `timeout`.
seen watch(test_client& player, int want, std::chrono::milliseconds timeout) {
  seen s;
  bool header = false;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (s.frames < want && std::chrono::steady_clock::now() < deadline) {
    auto m = player.next(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()));
    if (!m) break;
    if (m->type != 9 || m->payload.size() < 2) continue;
    if (m->payload[1] == 0) {
      header = true;
      continue;
    }
    if (s.frames == 0) {
      s.header_before_first_frame = header;
      s.first_frame_is_key = m->payload[0] == 0x17;
    }
    ++s.frames;
  }
  return s;
}

TEST(relay, a_stream_published_to_one_server_plays_from_the_push_target) {
  node target;
  node source([&](rtmp::net::server_config& c) { c.relay.push = {{"live", "", target.url()}}; });
  test_client player(target.port());
  ASSERT_EQ(player.play("cam"), "NetStream.Play.Start");
  publisher pub(source.port(), "cam");
  const seen s = watch(player, 30, 10s);
  EXPECT_EQ(s.frames, 30);
  EXPECT_TRUE(s.header_before_first_frame);
  EXPECT_TRUE(s.first_frame_is_key);
  // The target sees the source's push as one more connection: publisher.
  EXPECT_EQ(target.connections(), 2u);
}

TEST(relay, the_push_stops_when_the_local_publisher_stops) {
  node target;
  node source([&](rtmp::net::server_config& c) { c.relay.push = {{"live", "", target.url()}}; });
  {
    publisher pub(source.port(), "cam");
    ASSERT_TRUE(wait_until([&] { return target.connections() == 1; }, 5s));
  }
  EXPECT_TRUE(wait_until([&] { return target.connections() == 0; }, 5s));
}

TEST(relay, twenty_edge_players_share_one_pull_from_the_origin) {
  node origin;
  node edge([&](rtmp::net::server_config& c) { c.relay.pull["live"] = {origin.url()}; });
  publisher pub(origin.port(), "cam");
  ASSERT_TRUE(wait_until([&] { return pub.started(); }, 5s));
  constexpr int players = 20;
  std::vector<std::unique_ptr<test_client>> all;
  for (int i = 0; i < players; ++i) {
    all.push_back(std::make_unique<test_client>(edge.port()));
    ASSERT_EQ(all.back()->play("cam"), "NetStream.Play.Start") << "player " << i;
  }
  int with_media = 0;
  for (auto& p : all) {
    const seen s = watch(*p, 5, 10s);
    if (s.frames == 5 && s.first_frame_is_key && s.header_before_first_frame) ++with_media;
  }
  EXPECT_EQ(with_media, players);
  // Origin: the publisher and exactly one play connection (the edge's pull).
  EXPECT_EQ(origin.connections(), 2u);
  std::printf("edge: %d players, origin connections %zu (publisher + pulls)\n", players, origin.connections());
}

TEST(relay, the_edge_fails_over_to_the_second_origin) {
  auto a = std::make_unique<node>();
  node b;
  node edge([&](rtmp::net::server_config& c) {
    c.relay.pull["live"] = {a->url(), b.url()};
    c.relay.backoff_initial = 300ms;
  });
  auto pub_a = std::make_unique<publisher>(a->port(), "cam");
  publisher pub_b(b.port(), "cam");
  ASSERT_TRUE(wait_until([&] { return pub_a->started() && pub_b.started(); }, 5s));
  test_client player(edge.port());
  ASSERT_EQ(player.play("cam"), "NetStream.Play.Start");
  ASSERT_EQ(watch(player, 5, 10s).frames, 5);
  EXPECT_EQ(a->connections(), 2u);
  EXPECT_EQ(b.connections(), 1u);
  const auto stopped_at = std::chrono::steady_clock::now();
  a.reset();  // origin A goes away (graceful stop)
  pub_a.reset();
  EXPECT_TRUE(wait_until([&] { return b.connections() == 2u; }, 5s)) << "edge did not pull from origin B";
  const seen after = watch(player, 10, 10s);
  EXPECT_EQ(after.frames, 10) << "the player did not resume";
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - stopped_at);
  std::printf("failover: player resumed %lld ms after origin A stopped\n", static_cast<long long>(took.count()));
}

TEST(relay, the_pull_ends_after_the_last_player_left) {
  node origin;
  node edge([&](rtmp::net::server_config& c) {
    c.relay.pull["live"] = {origin.url()};
    c.relay.pull_idle_timeout = 500ms;
  });
  publisher pub(origin.port(), "cam");
  ASSERT_TRUE(wait_until([&] { return pub.started(); }, 5s));
  {
    test_client player(edge.port());
    ASSERT_EQ(player.play("cam"), "NetStream.Play.Start");
    ASSERT_EQ(watch(player, 3, 10s).frames, 3);
    EXPECT_EQ(origin.connections(), 2u);
  }
  EXPECT_TRUE(wait_until([&] { return origin.connections() == 1u; }, 5s)) << "the pull is still running";
  // A new player starts a new pull.
  test_client again(edge.port());
  ASSERT_EQ(again.play("cam"), "NetStream.Play.Start");
  EXPECT_EQ(watch(again, 3, 10s).frames, 3);
}

TEST(relay, a_reload_stops_the_pulls_of_an_application_no_longer_pulled_and_keeps_the_others) {
  node origin;
  auto cfg = rtmp::test::loopback_config();
  cfg.relay.pull["live"] = {origin.url()};
  cfg.relay.pull["other"] = {"rtmp://127.0.0.1:" + std::to_string(origin.port()) + "/live"};
  rtmp::test::running_server edge(cfg);
  publisher pub(origin.port(), "cam");
  ASSERT_TRUE(wait_until([&] { return pub.started(); }, 5s));
  test_client kept(edge.port());
  ASSERT_EQ(kept.play("cam", "other"), "NetStream.Play.Start");
  test_client dropped(edge.port());
  ASSERT_EQ(dropped.play("cam"), "NetStream.Play.Start");
  ASSERT_EQ(watch(kept, 3, 10s).frames, 3);
  ASSERT_EQ(watch(dropped, 3, 10s).frames, 3);
  EXPECT_EQ(origin.connections(), 3u) << "the publisher and two pulls";

  cfg.relay.pull.erase("live");
  const auto result = edge->reload(cfg);
  ASSERT_TRUE(result.applied) << result.problem;
  EXPECT_TRUE(wait_until([&] { return origin.connections() == 2u; }, 5s)) << "the live pull still runs";
  EXPECT_EQ(watch(kept, 10, 10s).frames, 10) << "the other pull was disturbed";
}

TEST(relay, a_pulled_app_without_wait_for_publisher_still_waits_for_the_pull) {
  node origin;
  node edge([&](rtmp::net::server_config& c) {
    c.relay.pull["live"] = {origin.url()};
    c.wait_for_publisher = false;
  });
  publisher pub(origin.port(), "cam");
  ASSERT_TRUE(wait_until([&] { return pub.started(); }, 5s));
  test_client player(edge.port());
  ASSERT_EQ(player.play("cam"), "NetStream.Play.Start");
  EXPECT_EQ(watch(player, 3, 10s).frames, 3);
}

// --- separate hosts: network namespaces -------------------------------------------

const std::string bin_dir = RTMP_BIN_DIR;

/// Four "hosts" made with `ip netns` + veth on this machine: players (P),
/// edge (E) and two origins (O1, O2); P reaches only E, E reaches both
/// origins, the origins reach nobody else. Needs root (CI); removed on
/// destruction (deleting a namespace deletes its veth ends).
class netns_hosts {
 public:
  netns_hosts() : tag_(std::to_string(::getpid() % 100000)) {
    std::string script = "set -e\n";
    for (const char* h : {"P", "E", "O1", "O2"}) {
      script += "ip netns add " + ns(h) + "\nip -n " + ns(h) + " link set lo up\n";
    }
    link(script, "P", "10.199.1.1", "E", "10.199.1.2", "a");
    link(script, "E", "10.199.2.1", "O1", "10.199.2.2", "b");
    link(script, "E", "10.199.3.1", "O2", "10.199.3.2", "c");
    const rtmp::test::temp_dir dir;
    const std::string file = dir.file("setup.sh");
    std::FILE* f = std::fopen(file.c_str(), "w");
    if (f == nullptr) return;
    std::fputs(script.c_str(), f);
    std::fclose(f);
    ok_ = rtmp::test::run("sh " + file + " >/dev/null 2>&1", 20s) == 0;
  }
  ~netns_hosts() {
    for (const char* h : {"P", "E", "O1", "O2"}) rtmp::test::run("ip netns del " + ns(h) + " 2>/dev/null", 10s);
  }
  bool ok() const { return ok_; }
  std::string ns(const std::string& host) const { return "rtmp" + host + "x" + tag_; }
  std::string exec(const std::string& host) const { return "ip netns exec " + ns(host) + " "; }
  /// Established RTMP connections to HOST's port 1935 from address `from`.
  int connections_from(const std::string& host, const std::string& from) const {
    const rtmp::test::temp_dir dir;
    const std::string out = dir.file("ss.txt");
    rtmp::test::run(exec(host) + "ss -Htn state established '( sport = :1935 )' > " + out, 10s);
    const std::string text = rtmp::test::read_text(out);
    int n = 0;
    for (std::size_t pos = 0; (pos = text.find(from + ":", pos)) != std::string::npos; ++pos) ++n;
    return n;
  }

 private:
  void link(std::string& script, const std::string& a, const std::string& a_ip, const std::string& b,
            const std::string& b_ip, const std::string& id) const {
    const std::string va = "vr" + id + "0" + tag_, vb = "vr" + id + "1" + tag_;
    script += "ip link add " + va + " netns " + ns(a) + " type veth peer name " + vb + " netns " + ns(b) + "\n";
    script += "ip -n " + ns(a) + " addr add " + a_ip + "/24 dev " + va + "\nip -n " + ns(a) + " link set " + va + " up\n";
    script += "ip -n " + ns(b) + " addr add " + b_ip + "/24 dev " + vb + "\nip -n " + ns(b) + " link set " + vb + " up\n";
  }

  std::string tag_;
  bool ok_ = false;
};

TEST(relay_netns, fifty_players_on_an_edge_pull_once_and_fail_over_between_origin_hosts) {
  netns_hosts hosts;
  RTMP_REQUIRE_TOOL(hosts.ok(), "cannot create network namespaces (needs root and iproute2)");
  const rtmp::test::temp_dir dir;
  const std::string server = bin_dir + "/rtmp-server", client = bin_dir + "/rtmp-client";
  using rtmp::test::child_process;
  auto origin1 = std::make_unique<child_process>(hosts.exec("O1") + server +
                                                 " -l 10.199.2.2:1935 -l 127.0.0.1:1935 -w 1 --log-level warn");
  child_process origin2(hosts.exec("O2") + server + " -l 10.199.3.2:1935 -l 127.0.0.1:1935 -w 1 --log-level warn");
  child_process edge(hosts.exec("E") + server +
                     " -l 10.199.1.2:1935 -w 2 --pull live=rtmp://10.199.2.2:1935/live,rtmp://10.199.3.2:1935/live"
                     " > " + dir.file("edge.log") + " 2>&1");
  std::this_thread::sleep_for(500ms);
  const std::string publish = " -n 0 --publish synthetic --bitrate 500000 --duration 40 rtmp://127.0.0.1:1935/live/x";
  auto pub1 = std::make_unique<child_process>(hosts.exec("O1") + client + " bench" + publish + " >/dev/null 2>&1");
  child_process pub2(hosts.exec("O2") + client + " bench" + publish + " >/dev/null 2>&1");
  std::this_thread::sleep_for(1s);

  constexpr int players = 50;
  child_process bench(hosts.exec("P") + client + " bench -n " + std::to_string(players) +
                      " --ramp 0 --duration 12 --json rtmp://10.199.1.2:1935/live/x > " + dir.file("bench.json") +
                      " 2>/dev/null");
  EXPECT_TRUE(wait_until([&] { return hosts.connections_from("E", "10.199.1.1") == players; }, 10s))
      << "players did not all connect to the edge";
  std::this_thread::sleep_for(2s);
  const int pulls = hosts.connections_from("O1", "10.199.2.1");
  std::printf("netns: %d players on the edge -> %d pull connection(s) on origin 1\n", players, pulls);
  EXPECT_EQ(pulls, 1);
  EXPECT_EQ(hosts.connections_from("O2", "10.199.3.1"), 0);

  // Kill origin 1 (and its publisher): the edge pulls from origin 2.
  const auto killed_at = std::chrono::steady_clock::now();
  origin1->kill();
  pub1->kill();
  EXPECT_TRUE(wait_until([&] { return hosts.connections_from("O2", "10.199.3.1") == 1; }, 8s))
      << "the edge did not fail over to origin 2";
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - killed_at);
  std::printf("netns: failover to origin 2 within %lld ms\n", static_cast<long long>(took.count()));
  // New players of the edge get media from origin 2.
  EXPECT_EQ(rtmp::test::run(hosts.exec("P") + client + " bench -n 5 --ramp 0 --duration 2 --json "
                            "rtmp://10.199.1.2:1935/live/x > " + dir.file("after.json") + " 2>/dev/null", 20s),
            0);
  EXPECT_NE(rtmp::test::read_text(dir.file("after.json")).find("\"with_keyframe\":5"), std::string::npos)
      << rtmp::test::read_text(dir.file("after.json"));
  // The first 50 players stayed connected through the failover.
  EXPECT_EQ(bench.wait(30s), 0);
  const std::string report = rtmp::test::read_text(dir.file("bench.json"));
  EXPECT_NE(report.find("\"connected\":50,\"failed\":0,\"disconnected\":0"), std::string::npos) << report;
  EXPECT_NE(report.find("\"with_keyframe\":50"), std::string::npos) << report;
}

}  // namespace
