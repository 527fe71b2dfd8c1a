// Cutting a stream into HLS segments: segments start at keyframes past the
// target duration, the window and the byte bound hold, a stream without
// keyframes in time is still cut, audio-only streams work, and publisher
// restarts and ends show in the playlist.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "rtmp/hls/segmenter.hpp"
#include "support/media.hpp"

namespace rtmp::hls {
namespace {

using bytes = std::vector<std::uint8_t>;

// An AVC frame tag body with one NAL unit of `size` bytes (IDR or not).
bytes avc_frame(bool key, std::size_t size = 200) {
  bytes b = {static_cast<std::uint8_t>(key ? 0x17 : 0x27), 0x01, 0, 0, 0};
  b.push_back(static_cast<std::uint8_t>(size >> 24));
  b.push_back(static_cast<std::uint8_t>(size >> 16));
  b.push_back(static_cast<std::uint8_t>(size >> 8));
  b.push_back(static_cast<std::uint8_t>(size));
  b.push_back(key ? 0x65 : 0x41);
  b.resize(b.size() + size - 1, 0x5A);
  return b;
}

// A raw AAC frame tag body.
bytes aac_frame(std::size_t size = 100) { return rtmp::test::audio_frame(size); }

struct feeder {
  segmenter& seg;
  std::uint32_t ts = 0;
  std::int64_t wall = 1'796'400'000'000;

  void headers() {
    seg.on_media(9, rtmp::test::avc_sequence_header(), ts, wall);
    seg.on_media(8, rtmp::test::aac_sequence_header(), ts, wall);
  }
  // `seconds` of 25 fps video with a keyframe every `gop` frames, and audio.
  void run(double seconds, int gop = 25, int first_frame = 0) {
    const int frames = static_cast<int>(seconds * 25);
    for (int i = 0; i < frames; ++i) {
      seg.on_media(9, avc_frame((first_frame + i) % gop == 0), ts, wall);
      seg.on_media(8, aac_frame(), ts, wall);
      ts += 40;
      wall += 40;
    }
  }
};

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

TEST(hls_segmenter, segments_start_at_keyframes_past_the_target_and_begin_with_the_tables) {
  segmenter_config cfg;
  cfg.first_sequence = 100;
  segmenter seg(cfg);
  feeder f{seg};
  f.headers();
  seg.on_media(9, avc_frame(false), 0, 0);  // before the first keyframe: not written
  EXPECT_EQ(seg.playlist(), "") << "nothing listed before the first segment is finished";
  f.run(6.04);  // keyframes at 0, 1, 2, ... s: cuts at 2 s, 4 s and 6 s
  ASSERT_EQ(seg.segments(), 3u);
  for (std::uint64_t n = 100; n < 103; ++n) {
    const auto s = seg.find(n);
    ASSERT_NE(s, nullptr) << n;
    EXPECT_EQ(s->duration_ms, 2000u);
    ASSERT_GE(s->bytes.size(), 2 * ts_packet_size);
    EXPECT_EQ(s->bytes.size() % ts_packet_size, 0u);
    EXPECT_EQ(s->bytes.data()[0], 0x47);
    EXPECT_EQ(s->bytes.data()[1] & 0x1F, 0) << "a segment starts with the PAT";
    EXPECT_EQ(s->bytes.data()[2], 0);
  }
  EXPECT_EQ(seg.find(99), nullptr);
  EXPECT_EQ(seg.find(103), nullptr) << "the open segment is not served";
  const std::string text = seg.playlist("?token=t");
  EXPECT_NE(text.find("#EXT-X-TARGETDURATION:2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("#EXT-X-MEDIA-SEQUENCE:100\n"), std::string::npos) << text;
  EXPECT_NE(text.find("#EXTINF:2.000,\n102.ts?token=t\n"), std::string::npos) << text;
  EXPECT_NE(text.find("#EXT-X-PROGRAM-DATE-TIME:2026-12-04T16:00:02.000Z\n"), std::string::npos) << text;
  EXPECT_EQ(seg.next_sequence(), 103u);
}

TEST(hls_segmenter, the_window_and_the_byte_bound_hold) {
  segmenter_config cfg;
  cfg.window = 3;
  cfg.kept_past_window = 1;
  segmenter seg(cfg);
  feeder f{seg};
  f.headers();
  f.run(20.04);
  EXPECT_EQ(seg.segments(), 4u) << "window + kept past it";
  EXPECT_EQ(count(seg.playlist(), "#EXTINF"), 3u);
  EXPECT_NE(seg.playlist().find("#EXT-X-MEDIA-SEQUENCE:7\n"), std::string::npos) << seg.playlist();
  EXPECT_NE(seg.find(6), nullptr) << "one segment past the window is still served";
  EXPECT_EQ(seg.find(5), nullptr);

  segmenter_config small;
  small.max_bytes = 64 * 1024;
  segmenter bounded(small);
  feeder g{bounded};
  g.headers();
  g.run(60);
  EXPECT_LE(bounded.bytes(), 2 * small.max_bytes) << "about the bound: the finished segments and the open one";
  EXPECT_GE(bounded.segments(), 1u);
}

TEST(hls_segmenter, keyframes_far_apart_still_give_bounded_segments) {
  segmenter_config cfg;
  cfg.max_segment_duration = std::chrono::milliseconds(5000);
  segmenter seg(cfg);
  feeder f{seg};
  f.headers();
  f.run(12.04, 1000);  // one keyframe only, at 0 s
  ASSERT_EQ(seg.segments(), 2u);
  EXPECT_EQ(seg.find(0)->duration_ms, 5000u);
  EXPECT_NE(seg.playlist().find("#EXT-X-TARGETDURATION:5\n"), std::string::npos) << seg.playlist();
}

TEST(hls_segmenter, an_audio_only_stream_is_cut_at_the_target) {
  segmenter seg;
  std::uint32_t ts = 0;
  seg.on_media(8, rtmp::test::aac_sequence_header(), 0, 0);
  for (int i = 0; i < 200; ++i, ts += 23) seg.on_media(8, aac_frame(), ts, ts);
  EXPECT_EQ(seg.segments(), 2u);  // 4.6 s of audio
  EXPECT_GE(seg.find(0)->duration_ms, 2000u);
  EXPECT_LT(seg.find(0)->duration_ms, 2023u);
}

TEST(hls_segmenter, a_restart_is_a_discontinuity_and_an_end_ends_the_playlist) {
  segmenter_config cfg;
  cfg.window = 2;
  cfg.kept_past_window = 0;
  segmenter seg(cfg);
  feeder f{seg};
  f.headers();
  f.run(4.04);
  seg.end();
  EXPECT_TRUE(seg.ended());
  EXPECT_NE(seg.playlist().find("#EXT-X-ENDLIST\n"), std::string::npos) << seg.playlist();
  seg.restart();
  f.headers();
  f.run(4.04);
  std::string text = seg.playlist();
  EXPECT_EQ(text.find("#EXT-X-ENDLIST"), std::string::npos) << text;
  EXPECT_EQ(count(text, "#EXT-X-DISCONTINUITY\n"), 1u) << text;
  EXPECT_EQ(text.find("#EXT-X-DISCONTINUITY-SEQUENCE"), std::string::npos) << text;
  f.run(4.0);  // the restart's segment leaves the window
  text = seg.playlist();
  EXPECT_EQ(count(text, "#EXT-X-DISCONTINUITY\n"), 0u) << text;
  EXPECT_NE(text.find("#EXT-X-DISCONTINUITY-SEQUENCE:1\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace rtmp::hls
