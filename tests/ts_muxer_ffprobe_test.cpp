// The transport stream muxer against ffprobe and ffmpeg: the sample file
// tests/data/flv/h264_aac.flv (H.264 with B-frames + AAC, 2 s, made by
// tests/data/flv/make.sh) read with the FLV reader, muxed to a .ts file as
// an HLS segmenter would (PAT/PMT first and before every keyframe), then
// probed and decoded.
#include "rtmp/hls/ts_muxer.hpp"

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

#include "rtmp/proto/flv_reader.hpp"

#include "support/files.hpp"
#include "support/process.hpp"

namespace {

using namespace std::chrono_literals;
using rtmp::hls::ts_muxer;
using rtmp::proto::flv_tag;

constexpr auto tool_timeout = rtmp::test::sanitized_build ? 120s : 30s;

struct muxed_file {
  std::vector<std::uint8_t> ts;
  std::uint32_t first_ms = 0;  // first and last audio/video tag timestamps
  std::uint32_t last_ms = 0;
  int video_frames = 0;  // PES written
  int audio_frames = 0;
  int refused = 0;  // tags the muxer returned false for
};

// Muxes every audio and video tag of the FLV file `path`.
muxed_file mux_flv(const std::string& path) {
  muxed_file m;
  ts_muxer muxer;
  bool tables_written = false;
  bool any = false;
  for (const flv_tag& tag : rtmp::test::read_flv_media_tags(path)) {
    const auto body = tag.payload.span();
    m.first_ms = any ? std::min(m.first_ms, tag.timestamp) : tag.timestamp;
    m.last_ms = any ? std::max(m.last_ms, tag.timestamp) : tag.timestamp;
    any = true;
    const bool config = body.size() > 1 && body[1] == 0;  // AVC sequence header / AudioSpecificConfig
    if (!config && (!tables_written || (tag.type == 9 && ts_muxer::is_avc_keyframe(body)))) {
      muxer.write_tables(m.ts);
      tables_written = true;
    }
    const std::size_t before = m.ts.size();
    const bool ok = tag.type == 9 ? muxer.video_tag(body, tag.timestamp, m.ts) : muxer.audio_tag(body, tag.timestamp, m.ts);
    if (!ok) ++m.refused;
    if (m.ts.size() > before) ++(tag.type == 9 ? m.video_frames : m.audio_frames);
  }
  return m;
}

class ts_muxer_ffprobe : public ::testing::Test {
 protected:
  void SetUp() override {
    RTMP_REQUIRE_TOOL(rtmp::test::have_program("ffprobe") && rtmp::test::have_program("ffmpeg"),
                      "ffprobe/ffmpeg not installed");
    muxed_ = mux_flv(std::string(RTMP_CAPTURES_DIR) + "/../flv/h264_aac.flv");
    ASSERT_EQ(muxed_.refused, 0);
    ASSERT_GT(muxed_.video_frames, 0);
    ASSERT_GT(muxed_.audio_frames, 0);
    ts_path_ = dir_.file("h264_aac.ts");
    rtmp::test::write_binary(ts_path_, muxed_.ts);
  }

  // Runs ffprobe with `args` on the .ts file; its standard output lines.
  std::vector<std::string> probe(const std::string& args) {
    const std::string out = dir_.file("probe.out");
    const std::string err = dir_.file("probe.err");
    const int status =
        rtmp::test::run("ffprobe -v error " + args + " '" + ts_path_ + "' >'" + out + "' 2>'" + err + "'", tool_timeout);
    EXPECT_EQ(status, 0) << rtmp::test::read_text(err);
    EXPECT_EQ(rtmp::test::read_text(err), "") << "ffprobe " << args;
    return rtmp::test::lines_of(out);
  }

  rtmp::test::temp_dir dir_;
  muxed_file muxed_;
  std::string ts_path_;
};

// ffprobe prints the streams of a transport stream twice: in the program's
// section and in the streams' section.

TEST_F(ts_muxer_ffprobe, ffprobe_finds_h264_and_aac) {
  const auto lines = probe("-show_entries stream=codec_name -of csv=p=0");
  EXPECT_EQ(std::set<std::string>(lines.begin(), lines.end()), (std::set<std::string>{"aac", "h264"}));
}

TEST_F(ts_muxer_ffprobe, ffmpeg_decodes_every_frame_without_an_error) {
  const std::string err = dir_.file("decode.err");
  const int status = rtmp::test::run("ffmpeg -nostdin -v error -i '" + ts_path_ + "' -f null - 2>'" + err + "'",
                                     tool_timeout);
  EXPECT_EQ(status, 0);
  EXPECT_EQ(rtmp::test::read_text(err), "") << "ffmpeg printed errors while decoding";
}

TEST_F(ts_muxer_ffprobe, ffprobe_reads_one_packet_per_frame_muxed) {
  const auto video = probe("-select_streams v -count_packets -show_entries stream=nb_read_packets -of csv=p=0");
  const auto audio = probe("-select_streams a -count_packets -show_entries stream=nb_read_packets -of csv=p=0");
  ASSERT_FALSE(video.empty());
  ASSERT_FALSE(audio.empty());
  for (const auto& n : video) EXPECT_EQ(n, std::to_string(muxed_.video_frames));
  for (const auto& n : audio) EXPECT_EQ(n, std::to_string(muxed_.audio_frames));
}

TEST_F(ts_muxer_ffprobe, duration_matches_the_flv_timestamps) {
  const auto lines = probe("-show_entries format=duration -of csv=p=0");
  ASSERT_EQ(lines.size(), 1u);
  const double duration = std::strtod(lines[0].c_str(), nullptr);
  const double flv_span = (muxed_.last_ms - muxed_.first_ms) / 1000.0;
  EXPECT_GT(flv_span, 1.5) << "the sample is 2 s long";
  EXPECT_NEAR(duration, flv_span, 0.2) << "ffprobe says " << lines[0];
}

}  // namespace
