// In-process integration tests: rtmp::net::server on a loopback ephemeral
// port, driven by test clients that speak RTMP over real sockets.
#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "rtmp/net/server.hpp"
#include "support/client_io.hpp"
#include "support/media.hpp"
#include "support/running_server.hpp"
#include "support/test_client.hpp"

namespace {

using namespace std::chrono_literals;
using rtmp::test::loopback_config;
using rtmp::test::read_media;
using rtmp::test::test_client;
using bytes = std::vector<std::uint8_t>;

bytes video_header() { return rtmp::test::short_avc_sequence_header(); }
bytes keyframe(std::uint8_t tag, std::size_t size = 2000) { return rtmp::test::video_frame(true, size, tag); }
bytes interframe(std::uint8_t tag, std::size_t size = 500) { return rtmp::test::video_frame(false, size, tag); }
bytes audio_frame(std::uint8_t tag) { return rtmp::test::audio_frame(5, tag); }

class server_fixture : public ::testing::Test {
 protected:
  // Publishes metadata, headers and one GOP (keyframe + n inter frames).
  static void publish_gop(test_client& pub, std::uint32_t ts, std::uint8_t tag, int inter = 3) {
    pub.send_media(9, ts, keyframe(tag));
    pub.send_media(8, ts, audio_frame(tag));
    for (int i = 1; i <= inter; ++i) pub.send_media(9, ts + 40 * i, interframe(tag));
  }

  static void publish_headers(test_client& pub) {
    rtmp::test::send_stream_start(pub, rtmp::test::picture_metadata(320, 240), video_header());
  }

  rtmp::test::running_server server_;
};

TEST_F(server_fixture, publish_and_two_players_receive_everything_in_order) {
  server_.start();
  test_client pub(server_.port());
  ASSERT_EQ(pub.publish("demo"), "NetStream.Publish.Start");
  test_client p1(server_.port()), p2(server_.port());
  ASSERT_EQ(p1.play("demo"), "NetStream.Play.Start");
  ASSERT_EQ(p2.play("demo?token=abc"), "NetStream.Play.Start");  // the query is not part of the key
  publish_headers(pub);
  publish_gop(pub, 100, 1);
  for (auto* p : {&p1, &p2}) {
    auto media = read_media(*p, 8);
    ASSERT_GE(media.size(), 8u);
    // |RtmpSampleAccess first, then onMetaData, headers and the GOP.
    std::size_t i = 0;
    if (media[i].type == 18 && media[i].payload[3] == '|') ++i;
    EXPECT_EQ(media[i].type, 18);
    EXPECT_EQ(media[i].payload[3], 'o');  // onMetaData (wrapper stripped)
    EXPECT_EQ(media[i + 1].type, 9);
    EXPECT_EQ(media[i + 1].payload[1], 0x00);  // AVC sequence header
    EXPECT_EQ(media[i + 2].type, 8);
    EXPECT_EQ(media[i + 3].type, 9);
    EXPECT_EQ(media[i + 3].payload[0], 0x17);  // keyframe
    EXPECT_EQ(media[i + 3].timestamp, 100u);
    EXPECT_EQ(media[i + 3].payload.size(), 2000u);
  }
}

TEST_F(server_fixture, late_joiner_starts_at_the_cached_keyframe) {
  server_.start();
  test_client pub(server_.port());
  ASSERT_EQ(pub.publish("late"), "NetStream.Publish.Start");
  publish_headers(pub);
  publish_gop(pub, 0, 1);
  publish_gop(pub, 1000, 2, 5);
  std::this_thread::sleep_for(200ms);
  test_client p(server_.port());
  ASSERT_EQ(p.play("late"), "NetStream.Play.Start");
  auto media = read_media(p, 10, 3s);
  // Drop |RtmpSampleAccess.
  std::erase_if(media, [](const rtmp::proto::message& m) { return m.type == 18 && m.payload[3] == '|'; });
  ASSERT_GE(media.size(), 5u);
  EXPECT_EQ(media[0].type, 18);  // metadata
  EXPECT_EQ(media[1].payload[1], 0x00);  // video sequence header
  EXPECT_EQ(media[2].type, 8);           // audio sequence header
  // The first coded video frame is the latest keyframe (tag 2), not an inter frame.
  const auto first_video = std::find_if(media.begin() + 3, media.end(), [](auto& m) { return m.type == 9; });
  ASSERT_NE(first_video, media.end());
  EXPECT_EQ(first_video->payload[0], 0x17);
  EXPECT_EQ(first_video->payload[2], 2);
  EXPECT_EQ(first_video->timestamp, 1000u);
}

TEST_F(server_fixture, gop_cache_can_be_turned_off_per_application) {
  auto cfg = loopback_config();
  cfg.app_stream["nocache"] = cfg.stream;
  cfg.app_stream["nocache"].gop_cache = false;
  server_.start(cfg);
  test_client cached_pub(server_.port());
  ASSERT_EQ(cached_pub.publish("s", "live"), "NetStream.Publish.Start");
  test_client uncached_pub(server_.port());
  ASSERT_EQ(uncached_pub.publish("s", "nocache"), "NetStream.Publish.Start");
  for (test_client* pub : {&cached_pub, &uncached_pub}) {
    publish_headers(*pub);
    publish_gop(*pub, 0, 1);
  }
  std::this_thread::sleep_for(200ms);
  const auto coded_video = [](test_client& player) {
    auto media = read_media(player, 12, 1500ms);
    std::erase_if(media, [](const rtmp::proto::message& m) { return m.type != 9 || m.payload[1] != 0x01; });
    return media.size();
  };
  test_client live_player(server_.port());
  ASSERT_EQ(live_player.play("s", "live"), "NetStream.Play.Start");
  EXPECT_EQ(coded_video(live_player), 4u);  // the cached GOP: keyframe + 3 inter frames
  test_client nocache_player(server_.port());
  ASSERT_EQ(nocache_player.play("s", "nocache"), "NetStream.Play.Start");
  EXPECT_EQ(coded_video(nocache_player), 0u);  // headers only; pictures from the next keyframe
  publish_gop(uncached_pub, 1000, 2);
  EXPECT_EQ(coded_video(nocache_player), 4u);
}

TEST_F(server_fixture, second_publisher_is_refused_and_closed_first_keeps_flowing) {
  server_.start();
  test_client a(server_.port());
  ASSERT_EQ(a.publish("busy"), "NetStream.Publish.Start");
  test_client player(server_.port());
  ASSERT_EQ(player.play("busy"), "NetStream.Play.Start");
  test_client b(server_.port());
  EXPECT_EQ(b.publish("busy"), "NetStream.Publish.BadName");
  EXPECT_TRUE(b.closed_by_peer(3s));
  publish_headers(a);
  publish_gop(a, 0, 7);
  auto media = read_media(player, 6);
  EXPECT_GE(media.size(), 6u);
}

TEST_F(server_fixture, player_waits_for_publisher_and_survives_publisher_restart) {
  server_.start();
  test_client player(server_.port());
  ASSERT_EQ(player.play("restart"), "NetStream.Play.Start");
  {
    test_client pub(server_.port());
    ASSERT_EQ(pub.publish("restart"), "NetStream.Publish.Start");
    EXPECT_EQ(player.wait_status(), "NetStream.Play.PublishNotify");
    publish_headers(pub);
    publish_gop(pub, 40, 1);  // last timestamp 40 + 3 * 40 = 160
    EXPECT_GE(read_media(player, 5).size(), 5u);
  }  // publisher disconnects
  EXPECT_EQ(player.wait_status(), "NetStream.Play.UnpublishNotify");
  test_client pub2(server_.port());
  ASSERT_EQ(pub2.publish("restart"), "NetStream.Publish.Start");
  EXPECT_EQ(player.wait_status(), "NetStream.Play.PublishNotify");
  player.skipped.clear();  // leftovers of the first publisher
  publish_headers(pub2);
  publish_gop(pub2, 5000, 9);
  auto media = read_media(player, 5);
  ASSERT_GE(media.size(), 4u);
  const auto key = std::find_if(media.begin(), media.end(), [](auto& m) { return m.type == 9 && m.payload[1] == 1; });
  ASSERT_NE(key, media.end());
  EXPECT_EQ(key->payload[2], 9);
  // The timeline continues after the first publisher's last timestamp (160):
  // the new publisher's clock restarted at 0 (its metadata), so everything
  // it sends is shifted by 161.
  EXPECT_EQ(key->timestamp, 5161u);
}

TEST_F(server_fixture, publisher_takeover_replaces_a_stale_publisher_and_players_stay) {
  auto cfg = loopback_config();
  cfg.stream.publisher_takeover = true;
  server_.start(cfg);
  test_client stale(server_.port());
  ASSERT_EQ(stale.publish("take"), "NetStream.Publish.Start");
  test_client player(server_.port());
  ASSERT_EQ(player.play("take"), "NetStream.Play.Start");
  test_client fresh(server_.port());
  ASSERT_EQ(fresh.publish("take"), "NetStream.Publish.Start");
  // The old publisher is told and closed; the player sees a restart.
  EXPECT_EQ(stale.wait_status(3s), "NetStream.Unpublish.Success");
  EXPECT_TRUE(stale.closed_by_peer(3s));
  std::string code;
  for (int i = 0; i < 3 && code != "NetStream.Play.PublishNotify"; ++i) code = player.wait_status(3s);
  EXPECT_EQ(code, "NetStream.Play.PublishNotify");
  player.skipped.clear();
  publish_headers(fresh);
  publish_gop(fresh, 0, 4);
  EXPECT_GE(read_media(player, 6).size(), 6u);
}

TEST_F(server_fixture, play_of_missing_stream_is_refused_when_not_waiting) {
  auto cfg = loopback_config();
  cfg.wait_for_publisher = false;
  server_.start(cfg);
  test_client p(server_.port());
  EXPECT_EQ(p.play("nothing"), "NetStream.Play.StreamNotFound");
  EXPECT_TRUE(p.closed_by_peer(3s));
}

TEST_F(server_fixture, slow_player_is_dropped_while_a_fast_one_gets_everything) {
  auto cfg = loopback_config();
  cfg.queue_bytes = 1024 * 1024;
  cfg.slow_disconnect_after = 1s;
  server_.start(cfg);
  test_client pub(server_.port());
  ASSERT_EQ(pub.publish("fan"), "NetStream.Publish.Start");
  test_client fast(server_.port());
  ASSERT_EQ(fast.play("fan"), "NetStream.Play.Start");
  test_client slow(server_.port());
  slow.set_receive_buffer(4096);
  ASSERT_EQ(slow.play("fan"), "NetStream.Play.Start");
  publish_headers(pub);
  // About 12 MB of video at roughly 40 MB/s (paced, as a live source is),
  // read concurrently by the fast player only.
  constexpr int gops = 60;
  std::size_t fast_video = 0;
  std::thread reader([&] {
    auto media = read_media(fast, 4 + gops * 4, 20s);  // + |RtmpSampleAccess, metadata, 2 headers
    for (auto& m : media) fast_video += m.type == 9 && m.payload[1] == 1;
  });
  for (int g = 0; g < gops; ++g) {
    pub.send_media(9, g * 200, keyframe(1, 100'000));
    for (int i = 1; i <= 3; ++i) pub.send_media(9, g * 200 + i * 40, interframe(1, 30'000));
    std::this_thread::sleep_for(5ms);
  }
  reader.join();
  EXPECT_EQ(fast_video, static_cast<std::size_t>(gops * 4));
  // The slow player was disconnected (over the cap for longer than 1 s).
  EXPECT_TRUE(slow.closed_by_peer(6s));
}

// A player that stops reading for a while: its socket fills, writes come
// back short (part of a message written, the rest queued) and it waits for
// writability. Once it reads again every message arrives whole, in order,
// byte for byte (nothing dropped: the backlog stays under the queue cap).
TEST_F(server_fixture, a_player_that_pauses_reading_gets_every_byte_once_it_reads) {
  auto cfg = loopback_config();
  cfg.queue_bytes = 32 * 1024 * 1024;
  server_.start(cfg);
  test_client pub(server_.port());
  ASSERT_EQ(pub.publish("pause"), "NetStream.Publish.Start");
  test_client player(server_.port());
  player.set_receive_buffer(64 * 1024);  // far less than what is sent, enough to read it back fast
  ASSERT_EQ(player.play("pause"), "NetStream.Play.Start");
  publish_headers(pub);
  constexpr int frames = 60;
  auto frame = [](int i) {
    // 6 MB in all: more than the kernel buffers of the connection hold
    // (the send buffer grows to 4 MB at most: net.ipv4.tcp_wmem).
    bytes b = i == 0 ? keyframe(1, 100'000 + 37 * i) : interframe(1, 100'000 + 37 * i);
    for (std::size_t k = 2; k < b.size(); ++k) b[k] = static_cast<std::uint8_t>(i * 7 + k);
    return b;
  };
  for (int i = 0; i < frames; ++i) pub.send_media(9, 100 + 40 * i, frame(i));
  std::this_thread::sleep_for(300ms);  // the player does not read meanwhile
  auto media = read_media(player, 4 + frames, 10s);  // + |RtmpSampleAccess, metadata, 2 headers
  std::vector<rtmp::proto::message> video;
  for (auto& m : media) {
    if (m.type == 9 && m.payload.size() > 1 && m.payload[1] == 0x01) video.push_back(m);
  }
  ASSERT_EQ(video.size(), static_cast<std::size_t>(frames));
  for (int i = 0; i < frames; ++i) {
    const bytes expected = frame(i);
    ASSERT_EQ(video[i].timestamp, static_cast<std::uint32_t>(100 + 40 * i));
    const auto* got = video[i].payload.data();
    ASSERT_TRUE(std::equal(got, got + video[i].payload.size(), expected.begin(), expected.end()))
        << "frame " << i;
  }
}

// A player that plays on its second message stream: every message carries
// that stream id (the server patches the first chunk header of the shared
// wire bytes) and the payloads are intact.
TEST_F(server_fixture, a_player_on_its_second_stream_id_gets_the_media_on_that_id) {
  server_.start();
  test_client pub(server_.port());
  ASSERT_EQ(pub.publish("ids"), "NetStream.Publish.Start");
  test_client player(server_.port());
  player.connect("live");
  const std::uint32_t first = player.create_stream();
  const std::uint32_t second = player.create_stream();
  ASSERT_NE(first, second);
  player.send_command(rtmp::proto::play_command(3, "ids"), second);
  std::string code = player.wait_status();
  if (code == "NetStream.Play.Reset") code = player.wait_status();
  ASSERT_EQ(code, "NetStream.Play.Start");
  publish_headers(pub);
  publish_gop(pub, 100, 7);
  publish_gop(pub, 300, 8);
  auto media = read_media(player, 3 + 10);
  ASSERT_GE(media.size(), 13u);
  std::size_t keyframes = 0;
  for (const auto& m : media) {
    EXPECT_EQ(m.stream_id, second);
    if (m.type == 9 && m.payload[0] == 0x17 && m.payload[1] == 0x01) {
      ++keyframes;
      EXPECT_EQ(m.payload.size(), 2000u);
      EXPECT_EQ(m.payload[1999], keyframes == 1 ? 7 : 8);
    }
  }
  EXPECT_EQ(keyframes, 2u);
}

TEST_F(server_fixture, slow_player_is_disconnected_at_once_with_policy_disconnect) {
  auto cfg = loopback_config();
  cfg.queue_bytes = 128 * 1024;
  cfg.slow_policy = rtmp::net::slow_subscriber_policy::disconnect;
  server_.start(cfg);
  test_client pub(server_.port());
  ASSERT_EQ(pub.publish("fan2"), "NetStream.Publish.Start");
  // A small window from the start (set before connect), and no reading
  // until everything was published: the queue must pass its cap however
  // fast the kernel drains (closed_by_peer reads).
  test_client slow(server_.port(), 4096);
  ASSERT_EQ(slow.play("fan2"), "NetStream.Play.Start");
  publish_headers(pub);
  for (int g = 0; g < 80; ++g) pub.send_media(9, g * 40, keyframe(1, 100'000));
  EXPECT_TRUE(slow.closed_by_peer(5s));
  // The publisher is unaffected.
  test_client p(server_.port());
  ASSERT_EQ(p.play("fan2"), "NetStream.Play.Start");
}

TEST_F(server_fixture, handshake_and_negotiation_deadlines_close_idle_sockets) {
  auto cfg = loopback_config();
  cfg.handshake_timeout = 300ms;
  cfg.negotiate_timeout = 300ms;
  server_.start(cfg);
  test_client silent(server_.port(), false);  // no bytes at all
  test_client c0_only(server_.port(), false);
  const std::uint8_t c0 = 3;
  c0_only.send_raw(std::span<const std::uint8_t>(&c0, 1));
  test_client handshaken(server_.port());  // full handshake, then silence
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(silent.closed_by_peer(3s));
  EXPECT_TRUE(c0_only.closed_by_peer(3s));
  EXPECT_TRUE(handshaken.closed_by_peer(3s));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
}

TEST_F(server_fixture, garbage_closes_only_the_offending_connection) {
  server_.start();
  test_client pub(server_.port());
  ASSERT_EQ(pub.publish("safe"), "NetStream.Publish.Start");
  test_client player(server_.port());
  ASSERT_EQ(player.play("safe"), "NetStream.Play.Start");
  test_client http(server_.port(), false);
  const std::string get = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  http.send_raw(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(get.data()), get.size()));
  EXPECT_TRUE(http.closed_by_peer(3s));
  test_client bad_chunk(server_.port());
  const bytes scs0 = {0x02, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0, 0, 0, 0, 0};  // Set Chunk Size 0 (T-06)
  bad_chunk.send_raw(scs0);
  EXPECT_TRUE(bad_chunk.closed_by_peer(3s));
  publish_headers(pub);
  publish_gop(pub, 0, 3);
  EXPECT_GE(read_media(player, 6).size(), 6u);
}

TEST_F(server_fixture, stop_with_clients_connected_returns_quickly) {
  server_.start();
  test_client pub(server_.port());
  ASSERT_EQ(pub.publish("bye"), "NetStream.Publish.Start");
  test_client player(server_.port());
  ASSERT_EQ(player.play("bye"), "NetStream.Play.Start");
  const auto t0 = std::chrono::steady_clock::now();
  server_->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  EXPECT_EQ(player.wait_status(2s), "NetStream.Play.UnpublishNotify");
  EXPECT_TRUE(player.closed_by_peer(2s));
  EXPECT_TRUE(pub.closed_by_peer(2s));
}

}  // namespace

// Write coalescing: media held for the window still arrives complete and in
// order, and a full batch leaves at once even with a window far longer than
// the test (it would otherwise hang until the deadline below).
TEST_F(server_fixture, write_coalescing_delivers_everything_in_order) {
  for (const auto window : {30ms, 60'000ms}) {
    auto cfg = loopback_config();
    cfg.write_coalesce = window;
    cfg.max_write_batch_bytes = 16 * 1024;  // a GOP below is larger: it must not wait for the window
    server_.start(cfg);
    test_client pub(server_.port());
    ASSERT_EQ(pub.publish("coalesce"), "NetStream.Publish.Start");
    test_client player(server_.port());
    ASSERT_EQ(player.play("coalesce"), "NetStream.Play.Start");
    publish_headers(pub);
    std::uint32_t ts = 100;
    for (std::uint8_t gop = 1; gop <= 8; ++gop, ts += 200) publish_gop(pub, ts, gop);
    // With the long window only full batches leave: at least 16 KiB (the
    // first 4 GOPs) must have; with the short one everything arrives.
    const std::size_t expected = window < 1s ? 3 + 8 * 5 : 3 + 4 * 5;
    auto media = read_media(player, expected, 5s);
    ASSERT_GE(media.size(), expected) << "window " << window.count() << " ms";
    std::uint32_t last_video_ts = 0;
    std::uint8_t last_tag = 0;
    for (const auto& m : media) {
      if (m.type != 9 || m.payload.size() < 3 || m.payload[1] != 0x01) continue;
      EXPECT_GE(m.timestamp, last_video_ts);
      EXPECT_GE(m.payload[2], last_tag);  // GOP tags only increase: nothing reordered
      last_video_ts = m.timestamp;
      last_tag = m.payload[2];
    }
    EXPECT_GE(last_tag, window < 1s ? 8 : 4) << "window " << window.count() << " ms: GOPs missing";
    server_->stop();
  }
}
