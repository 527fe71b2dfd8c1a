// The hub's per-stream caches with Enhanced RTMP streams: every multitrack
// track's sequence header is cached (bounded) and handed to late joiners
// before the GOP; SequenceStart / SequenceEnd replace or retire a track's
// entry; legacy streams keep their one header per kind.
#include "rtmp/hub/stream.hpp"
#include "rtmp/proto/chunk_writer.hpp"
#include "rtmp/proto/server_session.hpp"

#include <gtest/gtest.h>

#include <asio/io_context.hpp>

#include <algorithm>
#include <functional>
#include <memory>
#include <thread>

#include "support/ertmp_samples.hpp"
#include "support/hub_peers.hpp"

namespace {

using namespace rtmp;
namespace ertmp = rtmp::test::ertmp;
using bytes = std::vector<std::uint8_t>;

using test::null_publisher;

class stream_fixture : public ::testing::Test {
 protected:
  void SetUp() override {
    stream_ = std::make_shared<hub::stream>("live/x", std::vector<asio::io_context*>{&io_}, hub::stream_config{});
    ASSERT_EQ(stream_->claim(pub_), hub::stream::claim_result::ok);
  }
  void TearDown() override { stream_->release(pub_.get()); }

  // Publishes one message; returns its packet as the hub stored it.
  hub::packet_ptr publish(std::uint8_t type, const bytes& payload, std::uint32_t ts = 0, bool metadata = false) {
    proto::message m;
    m.type = type;
    m.timestamp = ts;
    m.payload = proto::shared_bytes::copy_of(payload);
    std::vector<std::shared_ptr<hub::media_packet>> batch{hub::make_packet(std::move(m), 4096, metadata)};
    hub::packet_ptr p = batch.front();
    stream_->publish(pub_.get(), batch);
    return p;
  }

  hub::stream_snapshot join() {
    hub::stream_snapshot snap = stream_->subscribe(&player_);
    stream_->unsubscribe(&player_);
    return snap;
  }

  static bytes hevc_start(std::uint8_t marker) {
    bytes rec = ertmp::hvcc_1278x718();
    rec.push_back(marker);  // tells versions apart in assertions
    return rec;
  }

  asio::io_context io_;
  std::shared_ptr<hub::stream> stream_;
  std::shared_ptr<null_publisher> pub_ = std::make_shared<null_publisher>();
  test::recording_player player_;
};

TEST_F(stream_fixture, legacy_stream_snapshot_is_unchanged) {
  auto meta = publish(18, {0x02, 0x00, 0x0a, 'o', 'n', 'M', 'e', 't', 'a', 'D', 'a', 't', 'a'}, 0, true);
  auto vh = publish(9, {0x17, 0x00, 0, 0, 0, 0x01, 0x64, 0x00, 0x1f});
  auto ah = publish(8, {0xAF, 0x00, 0x12, 0x10});
  auto vh2 = publish(9, {0x17, 0x00, 0, 0, 0, 0x01, 0x4d, 0x00, 0x1f});  // a new header replaces the old
  auto key = publish(9, {0x17, 0x01, 0, 0, 0, 0xAA}, 40);
  auto inter = publish(9, {0x27, 0x01, 0, 0, 0, 0xBB}, 80);
  auto end = publish(9, {0x17, 0x02, 0, 0, 0}, 120);  // legacy end of sequence keeps the header

  const auto snap = join();
  EXPECT_EQ(snap.metadata, meta);
  EXPECT_EQ(snap.video_header, vh2);
  EXPECT_EQ(snap.audio_header, ah);
  EXPECT_EQ(snap.gop, (std::vector<hub::packet_ptr>{key, inter, end}));
  EXPECT_EQ(snap.start_sequence(), (std::vector<hub::packet_ptr>{meta, vh2, ah, key, inter, end}));
  const auto status = stream_->status();
  EXPECT_EQ(status.video_header, vh2);
  EXPECT_EQ(status.video_tracks, 1u);
  EXPECT_EQ(status.audio_tracks, 1u);
}

TEST_F(stream_fixture, enhanced_single_track_replaces_and_sequence_end_retires) {
  auto first = publish(9, ertmp::video_tag(ertmp::key_frame, ertmp::sequence_start, "hvc1", hevc_start(1)));
  EXPECT_TRUE(first->header);
  EXPECT_EQ(first->tracks, (std::vector<std::uint8_t>{0}));
  auto second = publish(9, ertmp::video_tag(ertmp::key_frame, ertmp::sequence_start, "hvc1", hevc_start(2)));
  EXPECT_EQ(join().video_header, second);

  auto end = publish(9, ertmp::video_tag(ertmp::key_frame, ertmp::sequence_end, "hvc1", {}));
  EXPECT_TRUE(end->sequence_end);
  EXPECT_FALSE(end->header);
  EXPECT_EQ(join().video_header, nullptr);  // no stale configuration for a late joiner
  EXPECT_EQ(stream_->status().video_tracks, 0u);
}

TEST_F(stream_fixture, multitrack_headers_are_cached_per_track) {
  // Track 0 and 1 in their own OneTrack messages, then audio, then a keyframe.
  auto t0 = publish(9, ertmp::multitrack_video_tag(ertmp::key_frame, ertmp::sequence_start, ertmp::one_track,
                                                   "hvc1", {{0, nullptr, hevc_start(0)}}));
  auto t1 = publish(9, ertmp::multitrack_video_tag(ertmp::key_frame, ertmp::sequence_start, ertmp::one_track,
                                                   "hvc1", {{1, nullptr, hevc_start(1)}}));
  auto ah = publish(8, {0xAF, 0x00, 0x12, 0x10});
  auto key = publish(9, ertmp::multitrack_video_tag(ertmp::key_frame, ertmp::coded_frames, ertmp::many_tracks, "hvc1",
                                                    {{0, nullptr, ertmp::hevc_frame(true, 1)},
                                                     {1, nullptr, ertmp::hevc_frame(true, 2)}}),
                     40);
  EXPECT_TRUE(key->keyframe);
  EXPECT_TRUE(key->tracks.empty());

  auto snap = join();
  EXPECT_EQ(snap.video_header, t0);
  EXPECT_EQ(snap.audio_header, ah);
  // Track 1's header has its own place, sent before the GOP: every track is
  // configured before the picture.
  EXPECT_EQ(snap.track_headers, (std::vector<hub::packet_ptr>{t1}));
  EXPECT_EQ(snap.gop, (std::vector<hub::packet_ptr>{key}));
  EXPECT_EQ(snap.start_sequence(), (std::vector<hub::packet_ptr>{t0, ah, t1, key}));
  EXPECT_EQ(stream_->status().video_tracks, 2u);

  // A new SequenceStart for track 1 replaces its entry only.
  auto t1b = publish(9, ertmp::multitrack_video_tag(ertmp::key_frame, ertmp::sequence_start, ertmp::one_track,
                                                    "hvc1", {{1, nullptr, hevc_start(9)}}));
  snap = join();
  EXPECT_EQ(snap.video_header, t0);
  EXPECT_EQ(snap.track_headers, (std::vector<hub::packet_ptr>{t1b}));

  // SequenceEnd for track 0 retires it; track 1 remains.
  publish(9, ertmp::multitrack_video_tag(ertmp::key_frame, ertmp::sequence_end, ertmp::one_track, "hvc1",
                                         {{0, nullptr, {}}}));
  snap = join();
  EXPECT_EQ(snap.video_header, t1b);
  EXPECT_EQ(stream_->status().video_header, t1b);
  EXPECT_EQ(stream_->status().video_tracks, 1u);
}

TEST_F(stream_fixture, one_message_configuring_many_tracks_is_sent_once_and_in_order) {
  // One ManyTracks message configures tracks 0 and 1; a later one replaces
  // track 0 only. The joiner gets the older message first, then the newer,
  // so the newer configuration of track 0 wins.
  auto both = publish(9, ertmp::multitrack_video_tag(ertmp::key_frame, ertmp::sequence_start, ertmp::many_tracks,
                                                     "hvc1", {{0, nullptr, hevc_start(1)}, {1, nullptr, hevc_start(2)}}));
  EXPECT_EQ(both->tracks, (std::vector<std::uint8_t>{0, 1}));
  auto again = publish(9, ertmp::multitrack_video_tag(ertmp::key_frame, ertmp::sequence_start, ertmp::one_track,
                                                      "hvc1", {{0, nullptr, hevc_start(3)}}));
  const auto snap = join();
  EXPECT_EQ(snap.video_header, both);
  EXPECT_EQ(snap.track_headers, (std::vector<hub::packet_ptr>{again}));
  EXPECT_TRUE(snap.gop.empty());
  // The API shows the lowest track's header.
  EXPECT_EQ(stream_->status().video_header, again);
}

TEST_F(stream_fixture, cached_tracks_are_bounded) {
  for (int id = 0; id < 40; ++id) {
    publish(9, ertmp::multitrack_video_tag(ertmp::key_frame, ertmp::sequence_start, ertmp::one_track, "hvc1",
                                           {{static_cast<std::uint8_t>(id), nullptr, hevc_start(0)}}));
  }
  EXPECT_EQ(stream_->status().video_tracks, hub::max_cached_tracks);
  const auto snap = join();
  EXPECT_EQ(snap.track_headers.size() + 1, hub::max_cached_tracks);
  // An already cached track can still be replaced when the cache is full.
  auto t3 = publish(9, ertmp::multitrack_video_tag(ertmp::key_frame, ertmp::sequence_start, ertmp::one_track, "hvc1",
                                                   {{3, nullptr, hevc_start(7)}}));
  const auto after = join();
  EXPECT_NE(std::find(after.track_headers.begin(), after.track_headers.end(), t3), after.track_headers.end());
  EXPECT_EQ(stream_->status().video_tracks, hub::max_cached_tracks);
}

TEST_F(stream_fixture, multitrack_audio_headers_are_cached_per_track) {
  auto opus = [](std::uint8_t track) {
    // ExHeader | Multitrack, OneTrack | SequenceStart, FourCC, trackId, OpusHead.
    return bytes{0x95, 0x00, 'O', 'p', 'u', 's', track, 'O', 'p', 'u', 's', 'H', 'e', 'a', 'd'};
  };
  auto a0 = publish(8, opus(0));
  auto a1 = publish(8, opus(1));
  const auto snap = join();
  EXPECT_EQ(snap.audio_header, a0);
  EXPECT_EQ(snap.track_headers, (std::vector<hub::packet_ptr>{a1}));
  EXPECT_EQ(stream_->status().audio_tracks, 2u);
}

TEST_F(stream_fixture, a_new_publisher_starts_with_empty_caches) {
  publish(9, ertmp::multitrack_video_tag(ertmp::key_frame, ertmp::sequence_start, ertmp::many_tracks, "hvc1",
                                         {{0, nullptr, hevc_start(1)}, {1, nullptr, hevc_start(2)}}));
  stream_->release(pub_.get());
  auto next = std::make_shared<null_publisher>();
  ASSERT_EQ(stream_->claim(next), hub::stream::claim_result::ok);
  const auto snap = stream_->subscribe(&player_);
  stream_->unsubscribe(&player_);
  EXPECT_EQ(snap.video_header, nullptr);
  EXPECT_TRUE(snap.track_headers.empty());
  EXPECT_TRUE(snap.gop.empty());
  stream_->release(next.get());
}

// A player whose delivery callback unsubscribes other players (a close
// that takes a shared connection down, say): the removed players get
// nothing more from that batch, the rest get it once, in order.
class recording_subscriber : public hub::subscriber {
 public:
  std::size_t worker() const noexcept override { return 0; }
  std::vector<std::uint64_t> seqs;
  std::function<void()> on_deliver;

 protected:
  void on_media(std::span<const hub::packet_ptr> batch) override {
    for (const auto& p : batch) seqs.push_back(p->seq);
    if (on_deliver) on_deliver();
  }
  void on_publish_start() override {}
  void on_publish_stop() override {
    ++stops;
    seqs_at_stop = seqs.size();
  }

 public:
  int stops = 0;
  std::size_t seqs_at_stop = 0;
};

TEST_F(stream_fixture, players_removed_during_a_delivery_get_nothing_more) {
  std::vector<std::unique_ptr<recording_subscriber>> players;
  for (int i = 0; i < 5; ++i) {
    players.push_back(std::make_unique<recording_subscriber>());
    stream_->subscribe(players.back().get());
  }
  // Player 1 removes itself, player 3 and player 4 (after it in the list)
  // and player 0 (before it) on its first delivery.
  players[1]->on_deliver = [&] {
    players[1]->on_deliver = nullptr;
    for (int i : {1, 3, 4, 0}) stream_->unsubscribe(players[i].get());
  };
  publish(9, {0x17, 0x01, 0, 0, 0, 0xAA}, 40);
  io_.run();
  io_.restart();
  for (int i : {0, 1, 2}) EXPECT_EQ(players[i]->seqs.size(), 1u) << "player " << i;
  for (int i : {3, 4}) EXPECT_TRUE(players[i]->seqs.empty()) << "player " << i;
  publish(9, {0x27, 0x01, 0, 0, 0, 0xBB}, 80);
  io_.run();
  EXPECT_EQ(players[2]->seqs.size(), 2u);
  EXPECT_EQ(players[0]->seqs.size(), 1u);
  EXPECT_EQ(players[1]->seqs.size(), 1u);
  EXPECT_EQ(stream_->subscriber_count(), 1u);
  stream_->unsubscribe(players[2].get());
}

// Write coalescing: a worker's players get a window's media in one
// delivery when the window ends, in order; a stop notice never overtakes
// held media; past coalesce_max_bytes the media leaves at once.
TEST(stream_coalescing, a_window_of_media_arrives_in_one_delivery) {
  asio::io_context io;
  hub::stream_config cfg;
  cfg.write_coalesce = std::chrono::milliseconds(50);
  cfg.coalesce_max_bytes = 1000;
  auto s = std::make_shared<hub::stream>("live/c", std::vector<asio::io_context*>{&io}, cfg);
  auto pub = std::make_shared<null_publisher>();
  ASSERT_EQ(s->claim(pub), hub::stream::claim_result::ok);
  recording_subscriber player;
  std::vector<std::size_t> deliveries;  // packets per on_media call
  player.on_deliver = [&] { deliveries.push_back(player.seqs.size()); };
  s->subscribe(&player);
  auto send = [&](std::size_t payload_bytes) {
    proto::message m;
    m.type = 9;
    m.timestamp = 40;
    bytes body(payload_bytes, 0x00);
    body[0] = 0x27;  // AVC inter frame
    body[1] = 0x01;
    m.payload = proto::shared_bytes::copy_of(body);
    std::vector<std::shared_ptr<hub::media_packet>> batch{hub::make_packet(std::move(m), 4096, false)};
    s->publish(pub.get(), batch);
  };
  const auto t0 = std::chrono::steady_clock::now();
  send(10);
  send(10);
  send(10);
  io.run_for(std::chrono::milliseconds(20));  // the posts ran; the window is open
  EXPECT_TRUE(player.seqs.empty());
  io.run_for(std::chrono::milliseconds(200));
  io.restart();
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(50));
  EXPECT_EQ(deliveries, (std::vector<std::size_t>{3}));
  EXPECT_EQ(player.seqs, (std::vector<std::uint64_t>{1, 2, 3}));

  // Over coalesce_max_bytes: delivered without waiting for the window.
  send(600);
  send(600);
  io.poll();
  io.restart();
  EXPECT_EQ(deliveries, (std::vector<std::size_t>{3, 5}));

  // A publisher that leaves: its held media comes before the stop notice.
  send(10);
  s->release(pub.get());
  io.poll();
  io.restart();
  EXPECT_EQ(deliveries, (std::vector<std::size_t>{3, 5, 6}));
  EXPECT_EQ(player.stops, 1);
  EXPECT_EQ(player.seqs_at_stop, 6u);  // the held packet was delivered first
  s->unsubscribe(&player);
  io.run_for(std::chrono::milliseconds(100));  // the cancelled window's wait ends
}

// Adaptive coalescing: with the worker's fan-out measured as costly the
// stream holds media for the controller's window; measured as cheap it
// hands media over at once.
TEST(stream_coalescing, adaptive_holds_media_only_when_fan_out_is_costly) {
  for (const bool costly : {true, false}) {
    asio::io_context io;
    auto pacing = hub::make_coalesce_controllers(1);
    // Two seconds of measured load ending now: 68 batches a second, each
    // round 5 ms (about 1,000 players) or 0.1 ms (about 20).
    const auto now = std::chrono::steady_clock::now();
    for (auto t = now - std::chrono::seconds(2); t < now; t += std::chrono::microseconds(14'700)) {
      (*pacing)[0]->on_arrival(t);
      (*pacing)[0]->on_round(costly ? std::chrono::microseconds(5'000) : std::chrono::microseconds(100),
                             costly ? 1000 : 20);
    }
    hub::stream_config cfg;
    cfg.coalesce_auto = true;
    cfg.max_coalesce_delay = std::chrono::milliseconds(50);
    ASSERT_EQ((*pacing)[0]->window(cfg.max_coalesce_delay) > std::chrono::microseconds(0), costly);
    auto s = std::make_shared<hub::stream>("live/c", std::vector<asio::io_context*>{&io}, cfg, pacing);
    auto pub = std::make_shared<null_publisher>();
    ASSERT_EQ(s->claim(pub), hub::stream::claim_result::ok);
    recording_subscriber player;
    s->subscribe(&player);
    for (std::uint32_t ts : {40u, 80u}) {
      proto::message m;
      m.type = 9;
      m.timestamp = ts;
      m.payload = proto::shared_bytes::copy_of(bytes{0x27, 0x01, 0, 0, 0, 0x00});
      std::vector<std::shared_ptr<hub::media_packet>> batch{hub::make_packet(std::move(m), 4096, false)};
      s->publish(pub.get(), batch);
    }
    io.poll();
    io.restart();
    EXPECT_EQ(player.seqs.size(), costly ? 0u : 2u) << (costly ? "held for the window" : "at once");
    io.run_for(std::chrono::milliseconds(150));
    io.restart();
    EXPECT_EQ(player.seqs, (std::vector<std::uint64_t>{1, 2}));
    s->unsubscribe(&player);
    io.run_for(std::chrono::milliseconds(60));
  }
}

// A player with another message stream id gets the same bytes as a fresh
// encode for that id, as a patched header plus the shared rest of the wire
// (the payload is not copied): small and multi-chunk messages, chunk
// streams with 1- and 2-byte basic headers, extended timestamps.
TEST(wire_for_stream, equals_a_fresh_encode_and_shares_the_payload) {
  for (const std::size_t size : {0u, 10u, 4096u, 10'000u}) {
    for (const std::uint32_t ts : {40u, 0x01000000u}) {
      for (const std::uint8_t type : {std::uint8_t{8}, std::uint8_t{9}}) {
        proto::message m;
        m.type = type;
        m.timestamp = ts;
        bytes body(size, 0x5A);
        if (!body.empty()) body[0] = type == 9 ? 0x27 : 0xAF;
        m.payload = proto::shared_bytes::copy_of(body);
        const auto p = hub::make_packet(m, 4096, false);
        for (const std::uint32_t id : {2u, 0x01020304u}) {
          const auto [header, rest] = hub::wire_for_stream(*p, id);
          bytes joined(header.data(), header.data() + header.size());
          joined.insert(joined.end(), rest.data(), rest.data() + rest.size());
          proto::message expected = m;
          expected.stream_id = id;
          const proto::shared_bytes fresh = proto::encode_standalone(
              type == 8 ? proto::server_csid::audio : proto::server_csid::video, expected, 4096);
          EXPECT_EQ(joined, bytes(fresh.data(), fresh.data() + fresh.size()))
              << "size " << size << " ts " << ts << " type " << int(type) << " id " << id;
          EXPECT_EQ(rest.data(), p->wire.data() + header.size());  // shared, not copied
        }
      }
    }
  }
  // A chunk stream id of 64 or more takes a 2-byte basic header.
  proto::message m;
  m.type = 9;
  m.stream_id = hub::wire_stream_id;
  m.timestamp = 7;
  m.payload = proto::shared_bytes::copy_of(bytes(300, 0x27));
  hub::media_packet p;
  p.msg = m;
  p.wire = proto::encode_standalone(100, m, 128);
  const auto [header, rest] = hub::wire_for_stream(p, 5);
  bytes joined(header.data(), header.data() + header.size());
  joined.insert(joined.end(), rest.data(), rest.data() + rest.size());
  m.stream_id = 5;
  const proto::shared_bytes fresh = proto::encode_standalone(100, m, 128);
  EXPECT_EQ(header.size(), 13u);
  EXPECT_EQ(joined, bytes(fresh.data(), fresh.data() + fresh.size()));
}

}  // namespace

namespace {

// A publisher that remembers why it was kicked.
class kickable_publisher : public hub::publisher {
 public:
  void kick(std::string reason) override { kicked = std::move(reason); }
  std::string kicked;
};

std::vector<std::shared_ptr<hub::media_packet>> one_audio_batch() {
  proto::message m;
  m.type = 8;
  m.payload = proto::shared_bytes::copy_of(bytes{0xAF, 0x01, 0x21});
  return {hub::make_packet(std::move(m), 4096, false)};
}

TEST(stream_claim, a_silent_publisher_turns_stale_and_yields_its_key) {
  asio::io_context io;
  hub::stream_config config;
  config.stale_publisher = std::chrono::milliseconds(100);
  auto s = std::make_shared<hub::stream>("live/x", std::vector<asio::io_context*>{&io}, config);
  EXPECT_FALSE(s->publisher_silence().has_value()) << "no publisher, no silence";
  auto first = std::make_shared<kickable_publisher>();
  auto second = std::make_shared<kickable_publisher>();
  ASSERT_EQ(s->claim(first), hub::stream::claim_result::ok);
  EXPECT_EQ(s->claim(second), hub::stream::claim_result::busy) << "a fresh publisher is live";

  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  auto batch = one_audio_batch();
  s->publish(first.get(), batch);  // media: the silence starts again
  EXPECT_LT(s->publisher_silence().value(), std::chrono::milliseconds(60));
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  EXPECT_EQ(s->claim(second), hub::stream::claim_result::busy) << "60 ms of silence is not 100";
  EXPECT_TRUE(first->kicked.empty());

  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  EXPECT_EQ(s->claim(second), hub::stream::claim_result::took_over_stale);
  EXPECT_NE(first->kicked.find("stale"), std::string::npos) << first->kicked;
  EXPECT_EQ(s->current_publisher(), second);
  s->release(second.get());
}

TEST(stream_claim, stale_recovery_off_keeps_a_silent_publisher) {
  asio::io_context io;
  hub::stream_config config;
  config.stale_publisher = std::chrono::milliseconds(0);
  auto s = std::make_shared<hub::stream>("live/x", std::vector<asio::io_context*>{&io}, config);
  auto first = std::make_shared<kickable_publisher>();
  auto second = std::make_shared<kickable_publisher>();
  ASSERT_EQ(s->claim(first), hub::stream::claim_result::ok);
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_EQ(s->claim(second), hub::stream::claim_result::busy);
  s->release(first.get());
}

}  // namespace
