// Cutting a stream into HLS segments: segments start at keyframes past the
// target duration, the window and the byte bound hold, a stream without
// keyframes in time is still cut, audio-only streams work, and publisher
// restarts and ends show in the playlist. Low-Latency HLS (fMP4): the
// partial segments, their timing and bytes, and the playlist that lists them.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <span>
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
  // `n` more frames of the same stream (a keyframe every 2 s from ts 0).
  void frames(int n) { run(n * 0.04 + 0.001, 50, static_cast<int>(ts / 40)); }
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

// ---------------------------------------------------------------------------
// Low-Latency HLS: partial segments (RFC 8216bis section 4.4.4.9).

segmenter_config ll_config() {
  segmenter_config cfg;
  cfg.format = segment_format::fmp4;
  cfg.part_duration = std::chrono::milliseconds(500);
  cfg.parts_kept_segments = 2;
  return cfg;
}

// The top-level box types of fMP4 bytes, in order ("?" for a broken box).
std::vector<std::string> box_types(std::span<const std::uint8_t> b) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < b.size()) {
    if (b.size() - pos < 8) return out.push_back("?"), out;
    const std::size_t size = (std::size_t{b[pos]} << 24) | (std::size_t{b[pos + 1]} << 16) |
                             (std::size_t{b[pos + 2]} << 8) | b[pos + 3];
    if (size < 8 || size > b.size() - pos) return out.push_back("?"), out;
    out.emplace_back(reinterpret_cast<const char*>(b.data() + pos + 4), 4);
    pos += size;
  }
  return out;
}

// The kept parts of segment `sequence`, in order.
std::vector<std::shared_ptr<const part>> parts_of(const segmenter& seg, std::uint64_t sequence) {
  std::vector<std::shared_ptr<const part>> out;
  for (std::uint32_t i = 0; auto p = seg.find_part(sequence, i); ++i) out.push_back(std::move(p));
  return out;
}

TEST(hls_segmenter, low_latency_parts_tile_their_segment) {
  segmenter seg(ll_config());
  EXPECT_TRUE(seg.low_latency());
  feeder f{seg};
  f.headers();
  f.frames(51);  // keyframes at 0 and 2 s: segment 0 is cut at 2 s
  ASSERT_EQ(seg.segments(), 1u);
  const auto s = seg.find(0);
  ASSERT_NE(s, nullptr);
  const auto parts = parts_of(seg, 0);
  // 25 fps: a part is cut at a frame when the next one (40 ms on) would take
  // it past 500 ms; the last one ends at the segment's keyframe.
  std::vector<std::uint32_t> durations;
  std::vector<std::uint8_t> joined;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const part& p = *parts[i];
    EXPECT_EQ(p.sequence, 0u);
    EXPECT_EQ(p.index, i);
    EXPECT_GT(p.duration_ms, 0u);
    EXPECT_LE(p.duration_ms, 500u);
    EXPECT_EQ(p.independent, i == 0) << "only the first part begins with a keyframe";
    const auto types = box_types(p.bytes.span());
    ASSERT_GE(types.size(), 2u) << i;
    EXPECT_EQ(types[0], i == 0 ? "styp" : "moof") << i;
    EXPECT_EQ(types.back(), "mdat") << i;
    durations.push_back(p.duration_ms);
    joined.insert(joined.end(), p.bytes.data(), p.bytes.data() + p.bytes.size());
  }
  EXPECT_EQ(durations, (std::vector<std::uint32_t>{480, 480, 480, 480, 80}));
  EXPECT_EQ(s->duration_ms, 2000u);
  EXPECT_EQ(joined, std::vector<std::uint8_t>(s->bytes.data(), s->bytes.data() + s->bytes.size()))
      << "the segment is its parts, in order";
  const auto types = box_types(s->bytes.span());
  EXPECT_EQ(std::count(types.begin(), types.end(), "styp"), 1) << "one styp, at the start";
  EXPECT_EQ(types.front(), "styp");
  EXPECT_EQ(std::count(types.begin(), types.end(), "moof"), 5);
  EXPECT_EQ(seg.find_part(0, 5), nullptr);
  EXPECT_EQ(parts[1]->bytes.data(), s->bytes.data() + parts[0]->bytes.size())
      << "finished parts share the segment's bytes";
}

TEST(hls_segmenter, low_latency_playlist_lists_the_open_segment_and_the_parts_of_the_newest) {
  segmenter seg(ll_config());
  feeder f{seg};
  f.headers();
  f.frames(12);  // frames 0..440 ms: the first part is not due yet
  EXPECT_EQ(seg.open_parts(), 0u);
  EXPECT_EQ(seg.version(), 0u);
  EXPECT_EQ(seg.playlist(), "");
  EXPECT_FALSE(seg.has(0, 0));
  f.frames(1);  // the frame at 480 ms begins part 1
  EXPECT_EQ(seg.open_parts(), 1u);
  EXPECT_EQ(seg.version(), 1u);
  EXPECT_EQ(seg.segments(), 0u);
  EXPECT_TRUE(seg.has(0, 0));
  EXPECT_FALSE(seg.has(0, 1));
  EXPECT_FALSE(seg.has(0));
  ASSERT_NE(seg.find_part(0, 0), nullptr);
  EXPECT_EQ(seg.find_part(0, 1), nullptr);
  EXPECT_EQ(seg.bytes(), seg.find_part(0, 0)->bytes.size());
  EXPECT_EQ(seg.playlist("?t=1"), "") << "no playlist before a whole segment: players want one to start";
  f.frames(38);  // to 2 s: segment 0 finished, segment 1 opened
  f.frames(13);  // segment 1's first part
  ASSERT_EQ(seg.segments(), 1u);
  ASSERT_EQ(seg.open_parts(), 1u);
  std::string text = seg.playlist("?t=1");
  EXPECT_EQ(text,
            "#EXTM3U\n"
            "#EXT-X-VERSION:7\n"
            "#EXT-X-TARGETDURATION:2\n"
            "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=2.000\n"
            "#EXT-X-PART-INF:PART-TARGET=0.500\n"
            "#EXT-X-MEDIA-SEQUENCE:0\n"
            "#EXT-X-MAP:URI=\"init-1.mp4?t=1\"\n"
            "#EXT-X-PROGRAM-DATE-TIME:2026-12-04T16:00:00.000Z\n"
            "#EXT-X-PART:DURATION=0.480,URI=\"0.0.m4s?t=1\",INDEPENDENT=YES\n"
            "#EXT-X-PART:DURATION=0.480,URI=\"0.1.m4s?t=1\"\n"
            "#EXT-X-PART:DURATION=0.480,URI=\"0.2.m4s?t=1\"\n"
            "#EXT-X-PART:DURATION=0.480,URI=\"0.3.m4s?t=1\"\n"
            "#EXT-X-PART:DURATION=0.080,URI=\"0.4.m4s?t=1\"\n"
            "#EXTINF:2.000,\n"
            "0.m4s?t=1\n"
            "#EXT-X-PROGRAM-DATE-TIME:2026-12-04T16:00:02.000Z\n"
            "#EXT-X-PART:DURATION=0.480,URI=\"1.0.m4s?t=1\",INDEPENDENT=YES\n"
            "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"1.1.m4s?t=1\"\n")
      << "the open segment's parts after the whole one";

  f.frames(87);  // up to 6 s: segments 0, 1, 2 (five parts each), segment 3 opened
  ASSERT_EQ(seg.segments(), 3u);
  EXPECT_EQ(seg.next_sequence(), 3u);
  EXPECT_EQ(seg.open_parts(), 0u);
  EXPECT_EQ(seg.version(), 3u * 5 + 3) << "every part and segment";
  EXPECT_EQ(seg.find_part(0, 0), nullptr) << "beyond parts_kept_segments";
  EXPECT_NE(seg.find(0), nullptr) << "the segment itself is kept";
  EXPECT_EQ(parts_of(seg, 1).size(), 5u);
  EXPECT_EQ(parts_of(seg, 2).size(), 5u);
  EXPECT_TRUE(seg.has(2, 99)) << "a finished segment has every part asked for";
  EXPECT_FALSE(seg.has(3));
  EXPECT_FALSE(seg.has(3, 0));
  text = seg.playlist();
  EXPECT_EQ(count(text, "#EXTINF:2.000,\n"), 3u) << text;
  EXPECT_EQ(count(text, "#EXT-X-PART:"), 10u) << text;
  EXPECT_EQ(text.find("\"0.0.m4s\""), std::string::npos) << text;
  EXPECT_NE(text.find("#EXT-X-PROGRAM-DATE-TIME:2026-12-04T16:00:02.000Z\n"
                      "#EXT-X-PART:DURATION=0.480,URI=\"1.0.m4s\",INDEPENDENT=YES\n"
                      "#EXT-X-PART:DURATION=0.480,URI=\"1.1.m4s\"\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("#EXT-X-PART:DURATION=0.080,URI=\"2.4.m4s\"\n#EXTINF:2.000,\n2.m4s\n"
                      "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"3.0.m4s\"\n"),
            std::string::npos)
      << "no open segment without a part: " << text;

  f.frames(13);  // the open segment's first part
  text = seg.playlist();
  const std::string tail =
      "2.m4s\n"
      "#EXT-X-PROGRAM-DATE-TIME:2026-12-04T16:00:06.000Z\n"
      "#EXT-X-PART:DURATION=0.480,URI=\"3.0.m4s\",INDEPENDENT=YES\n"
      "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"3.1.m4s\"\n";
  ASSERT_GE(text.size(), tail.size());
  EXPECT_EQ(text.substr(text.size() - tail.size()), tail) << text;
  EXPECT_TRUE(seg.has(3, 0));
  // Every byte once: segments (their parts share them) and the open parts.
  std::size_t expected = seg.find_part(3, 0)->bytes.size();
  for (std::uint64_t n = 0; n < 3; ++n) expected += seg.find(n)->bytes.size();
  EXPECT_EQ(seg.bytes(), expected);

  const std::uint64_t before = seg.version();
  seg.end();  // the open segment ends with its last part
  EXPECT_EQ(seg.version(), before + 3) << "its last part, the segment, the end";
  EXPECT_EQ(seg.open_parts(), 0u);
  ASSERT_NE(seg.find(3), nullptr);
  EXPECT_EQ(parts_of(seg, 3).size(), 2u);
  EXPECT_TRUE(seg.has(9, 9)) << "waiting is over once the publish ended";
  text = seg.playlist();
  EXPECT_EQ(text.find("PRELOAD-HINT"), std::string::npos) << text;
  EXPECT_EQ(text.rfind("3.m4s\n#EXT-X-ENDLIST\n"), text.size() - std::string("3.m4s\n#EXT-X-ENDLIST\n").size()) << text;
}

TEST(hls_segmenter, low_latency_parts_stay_bounded_and_follow_a_restart) {
  segmenter_config cfg = ll_config();
  cfg.window = 3;
  cfg.kept_past_window = 0;
  cfg.max_bytes = 24 * 1024;  // one segment of 2 s is about 16 KiB
  segmenter seg(cfg);
  feeder f{seg};
  f.headers();
  f.frames(751);
  EXPECT_EQ(seg.segments(), 1u) << "the byte bound, not the window";
  EXPECT_LE(seg.bytes(), 2 * cfg.max_bytes);
  std::size_t expected = 0;
  for (std::uint64_t n = seg.next_sequence() - seg.segments(); n < seg.next_sequence(); ++n) {
    expected += seg.find(n)->bytes.size();
  }
  for (const auto& p : parts_of(seg, seg.next_sequence())) expected += p->bytes.size();
  EXPECT_EQ(seg.bytes(), expected);
  EXPECT_EQ(parts_of(seg, seg.next_sequence() - 1).size(), 5u);
  EXPECT_EQ(parts_of(seg, seg.next_sequence() - 2).size(), 0u) << "parts go with their segment";

  const std::uint64_t before = seg.version();
  seg.end();
  seg.restart();
  EXPECT_EQ(seg.version(), before + 4) << "the last part, the segment, the end, the restart";
  EXPECT_FALSE(seg.has(seg.next_sequence(), 0));
  f.headers();
  f.run(0.52);  // begins with a keyframe
  const std::string text = seg.playlist();
  EXPECT_NE(text.find("#EXT-X-DISCONTINUITY\n#EXT-X-PROGRAM-DATE-TIME:"), std::string::npos) << text;
  const auto at = text.rfind("#EXT-X-DISCONTINUITY\n");
  EXPECT_NE(text.find("#EXT-X-PART:DURATION=0.480,URI=\"" + std::to_string(seg.next_sequence()) + ".0.m4s\"", at),
            std::string::npos)
      << "the open segment after the restart is the discontinuity: " << text;
}

TEST(hls_segmenter, low_latency_audio_only_parts_are_independent) {
  segmenter seg(ll_config());
  std::uint32_t ts = 0;
  seg.on_media(8, rtmp::test::aac_sequence_header(), 0, 0);
  for (int i = 0; i < 110; ++i, ts += 23) seg.on_media(8, aac_frame(), ts, ts);  // 2.5 s
  ASSERT_EQ(seg.segments(), 1u);
  const auto parts = parts_of(seg, 0);
  ASSERT_EQ(parts.size(), 5u);
  std::uint32_t total = 0;
  for (const auto& p : parts) {
    EXPECT_TRUE(p->independent);
    EXPECT_GT(p->duration_ms, 0u);
    EXPECT_LE(p->duration_ms, 500u);
    total += p->duration_ms;
  }
  EXPECT_EQ(parts[0]->duration_ms, 483u) << "21 frames of 23 ms";
  EXPECT_EQ(total, seg.find(0)->duration_ms);
  EXPECT_EQ(seg.open_parts(), 1u) << "cut at 2001 ms, its first part at 2484 ms";
}

TEST(hls_segmenter, ts_and_fmp4_without_a_part_duration_make_no_parts) {
  for (const auto format : {segment_format::ts, segment_format::fmp4}) {
    segmenter_config cfg;
    cfg.format = format;
    cfg.part_duration = format == segment_format::ts ? std::chrono::milliseconds(500) : std::chrono::milliseconds(0);
    segmenter seg(cfg);
    EXPECT_FALSE(seg.low_latency());
    feeder f{seg};
    f.headers();
    f.run(2.52);
    EXPECT_EQ(seg.segments(), 1u);
    EXPECT_EQ(seg.open_parts(), 0u);
    EXPECT_EQ(seg.find_part(0, 0), nullptr);
    EXPECT_EQ(seg.find_part(1, 0), nullptr);
    EXPECT_TRUE(seg.has(0, 7)) << "the part index is ignored";
    EXPECT_FALSE(seg.has(1, 0));
    EXPECT_EQ(seg.version(), 1u) << "the segment";
    const std::string text = seg.playlist();
    EXPECT_EQ(text.find("PART"), std::string::npos) << text;
    EXPECT_EQ(text.find("SERVER-CONTROL"), std::string::npos) << text;
  }
}

}  // namespace
}  // namespace rtmp::hls
