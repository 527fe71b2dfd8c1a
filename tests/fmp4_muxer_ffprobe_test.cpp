// The fragmented MP4 muxer against ffprobe and ffmpeg: the sample file
// tests/data/flv/h264_aac.flv (H.264 with B-frames + AAC, 2 s) read with the
// FLV reader, muxed as an HLS packager would (init segment, then a fragment
// at each keyframe), written as init + fragments in one file, then probed
// and decoded; and an Enhanced RTMP HEVC init segment probed on its own.
// Low-Latency HLS: the segmenter's partial segments of the same sample,
// joined with the init segment in front, decode like the whole stream.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "rtmp/hls/fmp4_muxer.hpp"
#include "rtmp/hls/segmenter.hpp"
#include "rtmp/proto/flv_reader.hpp"
#include "support/ertmp_samples.hpp"
#include "support/files.hpp"
#include "support/process.hpp"

namespace {

using namespace std::chrono_literals;
using rtmp::hls::fmp4_muxer;
using rtmp::proto::flv_tag;
namespace ertmp = rtmp::test::ertmp;

constexpr auto tool_timeout = rtmp::test::sanitized_build ? 120s : 30s;

struct muxed_file {
  std::vector<std::uint8_t> mp4;  // init segment + fragments
  std::uint32_t first_ms = 0;     // first and last audio/video tag timestamps
  std::uint32_t last_ms = 0;
  int fragments = 0;
  int refused = 0;  // tags the muxer returned false for
};

// Muxes every audio and video tag of the FLV file `path`: the init segment
// before the first frame, a fragment right after every keyframe is fed (the
// keyframe, whose duration is not known yet, is held back and begins the
// next fragment).
muxed_file mux_flv(const std::string& path) {
  muxed_file m;
  fmp4_muxer muxer;
  bool init_written = false;
  bool any = false;
  for (const flv_tag& tag : rtmp::test::read_flv_media_tags(path)) {
    const auto body = tag.payload.span();
    m.first_ms = any ? std::min(m.first_ms, tag.timestamp) : tag.timestamp;
    m.last_ms = any ? std::max(m.last_ms, tag.timestamp) : tag.timestamp;
    any = true;
    const bool config = body.size() > 1 && body[1] == 0;  // AVC sequence header / AudioSpecificConfig
    if (!config && !init_written) {
      muxer.init_segment(m.mp4);
      init_written = true;
    }
    const bool ok = tag.type == 9 ? muxer.video_tag(body, tag.timestamp) : muxer.audio_tag(body, tag.timestamp);
    if (!ok) ++m.refused;
    if (tag.type == 9 && fmp4_muxer::is_keyframe(body)) {
      const std::size_t before = m.mp4.size();
      muxer.flush_fragment(m.mp4);
      if (m.mp4.size() > before) ++m.fragments;
    }
  }
  EXPECT_FALSE(muxer.config_changed());
  EXPECT_EQ(muxer.codecs(), "avc1.64000d,mp4a.40.2");
  const std::size_t before = m.mp4.size();
  muxer.flush_fragment(m.mp4, true);
  if (m.mp4.size() > before) ++m.fragments;
  return m;
}

class fmp4_muxer_ffprobe : public ::testing::Test {
 protected:
  void SetUp() override {
    RTMP_REQUIRE_TOOL(rtmp::test::have_program("ffprobe") && rtmp::test::have_program("ffmpeg"),
                      "ffprobe/ffmpeg not installed");
  }

  // Runs ffprobe with `args` on `file`; its standard output lines.
  std::vector<std::string> probe(const std::string& args, const std::string& file) {
    const std::string out = dir_.file("probe.out");
    const std::string err = dir_.file("probe.err");
    const int status =
        rtmp::test::run("ffprobe -v error " + args + " '" + file + "' >'" + out + "' 2>'" + err + "'", tool_timeout);
    EXPECT_EQ(status, 0) << rtmp::test::read_text(err);
    EXPECT_EQ(rtmp::test::read_text(err), "") << "ffprobe " << args;
    return rtmp::test::lines_of(out);
  }

  // The sample FLV muxed into `path`.
  muxed_file mux_sample(const std::string& path) {
    muxed_file m = mux_flv(std::string(RTMP_CAPTURES_DIR) + "/../flv/h264_aac.flv");
    EXPECT_EQ(m.refused, 0);
    EXPECT_GE(m.fragments, 2) << "one fragment per second of the sample, at least";
    rtmp::test::write_binary(path, m.mp4);
    return m;
  }

  // Decodes `file` with ffmpeg: true when it exits 0 and prints no error.
  void expect_clean_decode(const std::string& file) {
    const std::string err = dir_.file("decode.err");
    const int status =
        rtmp::test::run("ffmpeg -nostdin -v error -i '" + file + "' -f null - 2>'" + err + "'", tool_timeout);
    EXPECT_EQ(status, 0);
    EXPECT_EQ(rtmp::test::read_text(err), "") << "ffmpeg printed errors while decoding " << file;
  }

  // The video frames ffprobe decodes in `file`.
  int decoded_video_frames(const std::string& file) {
    const auto lines = probe("-count_frames -select_streams v -show_entries stream=nb_read_frames -of csv=p=0", file);
    return lines.size() == 1 ? std::atoi(lines[0].c_str()) : -1;
  }

  rtmp::test::temp_dir dir_;
};

TEST_F(fmp4_muxer_ffprobe, ffprobe_finds_h264_and_aac) {
  const std::string file = dir_.file("h264_aac.mp4");
  mux_sample(file);
  const auto lines = probe("-show_entries stream=codec_name -of csv=p=0", file);
  EXPECT_EQ(std::set<std::string>(lines.begin(), lines.end()), (std::set<std::string>{"aac", "h264"}));
  EXPECT_EQ(lines.size(), 2u);
  const auto size = probe("-select_streams v -show_entries stream=width,height -of csv=p=0", file);
  EXPECT_EQ(size, (std::vector<std::string>{"320,240"}));
}

TEST_F(fmp4_muxer_ffprobe, ffmpeg_decodes_every_frame_without_an_error) {
  const std::string file = dir_.file("h264_aac.mp4");
  mux_sample(file);
  const std::string err = dir_.file("decode.err");
  const int status =
      rtmp::test::run("ffmpeg -nostdin -v error -i '" + file + "' -f null - 2>'" + err + "'", tool_timeout);
  EXPECT_EQ(status, 0);
  EXPECT_EQ(rtmp::test::read_text(err), "") << "ffmpeg printed errors while decoding";
}

TEST_F(fmp4_muxer_ffprobe, duration_matches_the_flv_timestamps) {
  const std::string file = dir_.file("h264_aac.mp4");
  const muxed_file m = mux_sample(file);
  const auto lines = probe("-show_entries format=duration -of csv=p=0", file);
  ASSERT_EQ(lines.size(), 1u);
  const double duration = std::strtod(lines[0].c_str(), nullptr);
  const double flv_span = (m.last_ms - m.first_ms) / 1000.0;
  EXPECT_GT(flv_span, 1.5) << "the sample is 2 s long";
  EXPECT_NEAR(duration, flv_span, 0.2) << "ffprobe says " << lines[0];
}

// The sample through an LL-HLS segmenter (segments of 1 s, keyframes every
// second, parts of at most 200 ms): each segment's parts, joined after its
// init segment, decode without an error; the first segment alone has the
// frames before the second keyframe, all segments the sample's frames.
TEST_F(fmp4_muxer_ffprobe, low_latency_parts_decode_with_ffmpeg) {
  rtmp::hls::segmenter_config cfg;
  cfg.format = rtmp::hls::segment_format::fmp4;
  cfg.segment_duration = 1000ms;
  cfg.part_duration = 200ms;
  cfg.window = 100;
  cfg.parts_kept_segments = 100;
  rtmp::hls::segmenter seg(cfg);
  int video_frames = 0;
  std::vector<std::uint32_t> keyframes;  // timestamps
  std::vector<std::uint32_t> video_ts;
  for (const flv_tag& tag : rtmp::test::read_flv_media_tags(std::string(RTMP_CAPTURES_DIR) + "/../flv/h264_aac.flv")) {
    const auto body = tag.payload.span();
    if (tag.type == 9 && body.size() > 1 && body[1] == 1) {
      ++video_frames;
      video_ts.push_back(tag.timestamp);
      if (fmp4_muxer::is_keyframe(body)) keyframes.push_back(tag.timestamp);
    }
    seg.on_media(tag.type, body, tag.timestamp, tag.timestamp);  // wall clock = timestamps
  }
  seg.end();
  ASSERT_EQ(keyframes.size(), 2u) << "the sample: keyframes at 0 and 1 s";
  ASSERT_EQ(seg.segments(), 2u);

  ASSERT_NE(seg.find(0), nullptr);
  const auto init_bytes = seg.find_init(seg.find(0)->init);
  ASSERT_FALSE(init_bytes.empty()) << "the init segment";
  const std::vector<std::uint8_t> init(init_bytes.data(), init_bytes.data() + init_bytes.size());
  std::vector<std::uint8_t> all = init;
  for (std::uint64_t n = 0; n < 2; ++n) {
    const auto s = seg.find(n);
    ASSERT_NE(s, nullptr);
    std::vector<std::uint8_t> joined;
    std::uint32_t parts = 0;
    for (; const auto p = seg.find_part(n, parts); ++parts) {
      EXPECT_LE(p->duration_ms, 200u);
      joined.insert(joined.end(), p->bytes.data(), p->bytes.data() + p->bytes.size());
    }
    EXPECT_GE(parts, 4u) << "several parts in segment " << n;
    EXPECT_EQ(joined, std::vector<std::uint8_t>(s->bytes.data(), s->bytes.data() + s->bytes.size()));
    std::vector<std::uint8_t> file = init;
    file.insert(file.end(), joined.begin(), joined.end());
    const std::string path = dir_.file("ll-" + std::to_string(n) + ".mp4");
    rtmp::test::write_binary(path, file);
    expect_clean_decode(path);
    if (n == 0) {
      const auto before_second_key =
          std::count_if(video_ts.begin(), video_ts.end(), [&](std::uint32_t ts) { return ts < keyframes[1]; });
      EXPECT_EQ(decoded_video_frames(path), before_second_key) << "segment 0: up to the second keyframe";
      EXPECT_EQ(s->program_date_ms + s->duration_ms, keyframes[1]);
    }
    all.insert(all.end(), joined.begin(), joined.end());
  }
  const std::string path = dir_.file("ll-all.mp4");
  rtmp::test::write_binary(path, all);
  expect_clean_decode(path);
  EXPECT_EQ(decoded_video_frames(path), video_frames);
}

// An Enhanced RTMP HEVC stream: the frames are synthetic (not decodable),
// so only the init segment is probed.
TEST_F(fmp4_muxer_ffprobe, enhanced_hevc_init_segment_probes_as_hevc) {
  fmp4_muxer muxer;
  ASSERT_TRUE(
      muxer.video_tag(ertmp::video_tag(ertmp::key_frame, ertmp::sequence_start, "hvc1", ertmp::hvcc_1278x718()), 0));
  for (std::uint32_t i = 0; i < 4; ++i) {
    const bool key = i == 0;
    ASSERT_TRUE(muxer.video_tag(ertmp::video_tag(key ? ertmp::key_frame : ertmp::inter_frame, ertmp::coded_frames,
                                                 "hvc1", ertmp::hevc_frame(key, static_cast<std::uint8_t>(i))),
                                i * 40));
  }
  std::vector<std::uint8_t> init;
  muxer.init_segment(init);
  std::vector<std::uint8_t> fragment;
  muxer.flush_fragment(fragment, true);
  EXPECT_FALSE(fragment.empty());
  const std::string file = dir_.file("init.mp4");
  rtmp::test::write_binary(file, init);
  const auto lines = probe("-show_entries stream=codec_name,width,height -of csv=p=0", file);
  EXPECT_EQ(lines, (std::vector<std::string>{"hevc,1278,718"}));
}

}  // namespace
