#include "rtmp/proto/flv_writer.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <unistd.h>

#include "support/files.hpp"
#include "support/process.hpp"

#include "rtmp/error.hpp"
#include "rtmp/proto/flv_reader.hpp"
#include "rtmp/proto/media_info.hpp"

namespace {
using rtmp::test::read_binary;

using namespace rtmp::proto;
using bytes = std::vector<std::uint8_t>;

bytes to_vec(const shared_bytes& b) { return bytes(b.data(), b.data() + b.size()); }

std::vector<flv_tag> read_tags(const bytes& in, flv_reader& r) {
  EXPECT_FALSE(r.feed(in));
  EXPECT_FALSE(r.finish());
  std::vector<flv_tag> out;
  flv_tag t;
  while (r.next(t)) out.push_back(t);
  return out;
}

flv_tag make_tag(std::uint8_t type, std::uint32_t ts, const bytes& payload) {
  return flv_tag{type, ts, shared_bytes::copy_of(payload)};
}

TEST(flv_writer, file_header_carries_the_flags) {
  const auto both = flv_file_header({true, true});
  EXPECT_EQ(bytes(both.begin(), both.end()),
            (bytes{'F', 'L', 'V', 1, 0x05, 0, 0, 0, 9, 0, 0, 0, 0}));
  EXPECT_EQ(flv_file_header({true, false})[4], 0x04);
  EXPECT_EQ(flv_file_header({false, true})[4], 0x01);
  EXPECT_EQ(flv_file_header({false, false})[4], 0x00);

  for (bool a : {false, true}) {
    for (bool v : {false, true}) {
      flv_writer w({a, v});
      bytes out;
      w.write_header(out);
      flv_reader r;
      ASSERT_FALSE(r.feed(out));
      EXPECT_EQ(r.has_audio(), a);
      EXPECT_EQ(r.has_video(), v);
      EXPECT_FALSE(r.finish());
    }
  }
}

TEST(flv_writer, tag_layout_and_timestamp_extension) {
  flv_writer w;
  bytes out = {0xEE};  // existing content is kept: the writer appends
  ASSERT_FALSE(w.write_tag(9, 0x01020304, bytes{0x17, 0x01, 0xAB}, out));
  const bytes expected = {
      0xEE,
      'F', 'L', 'V', 1, 0x05, 0, 0, 0, 9, 0, 0, 0, 0,  // header written first, automatically
      9, 0, 0, 3,                                    // type, DataSize 3
      0x02, 0x03, 0x04, 0x01,                        // Timestamp low 24 bits, then extension byte
      0, 0, 0,                                       // StreamID
      0x17, 0x01, 0xAB,                              // payload
      0, 0, 0, 14};                                  // PreviousTagSize = 11 + 3
  EXPECT_EQ(out, expected);
  EXPECT_TRUE(w.header_written());
  EXPECT_EQ(w.tags_written(), 1u);
  EXPECT_EQ(w.bytes_written(), expected.size() - 1);

  // The header is written once.
  w.write_header(out);
  EXPECT_EQ(out.size(), expected.size());
}

TEST(flv_writer, set_flags_before_the_header) {
  flv_writer w;
  w.set_flags({true, false});
  EXPECT_TRUE(w.flags().has_audio);
  EXPECT_FALSE(w.flags().has_video);
  bytes out;
  ASSERT_FALSE(w.write_tag(8, 0, bytes{0xAF, 0x01}, out));
  EXPECT_EQ(out[4], 0x04);
}

TEST(flv_writer, invalid_tags_append_nothing) {
  flv_writer w;
  bytes out;
  EXPECT_EQ(w.write_tag(32, 0, bytes{1}, out), rtmp::errc::flv_malformed);
  const bytes huge(flv_max_data_size + 1, 0);
  EXPECT_EQ(w.write_tag(9, 0, huge, out), rtmp::errc::flv_tag_too_large);
  EXPECT_TRUE(out.empty());
  EXPECT_FALSE(w.header_written());
  EXPECT_EQ(w.tags_written(), 0u);

  flv_tag_framing f;
  f.header.fill(0x55);
  EXPECT_EQ(make_flv_tag_framing(9, 0, flv_max_data_size + 1, f), rtmp::errc::flv_tag_too_large);
  EXPECT_EQ(f.header[0], 0x55);  // unchanged
  EXPECT_FALSE(make_flv_tag_framing(9, 0, flv_max_data_size, f));
  EXPECT_EQ(f.header[1], 0xFF);
}

TEST(flv_writer, framing_around_a_shared_payload_matches_write_tag) {
  const shared_bytes payload = shared_bytes::copy_of(bytes{0x27, 0x01, 0, 0, 0, 1, 2, 3, 4, 5});
  flv_tag_framing f;
  ASSERT_FALSE(make_flv_tag_framing(9, 0x12345678, payload.size(), f));
  bytes gathered(f.header.begin(), f.header.end());
  gathered.insert(gathered.end(), payload.data(), payload.data() + payload.size());
  gathered.insert(gathered.end(), f.trailer.begin(), f.trailer.end());

  flv_writer w;
  bytes header_only;
  w.write_header(header_only);
  bytes out;
  ASSERT_FALSE(w.write_tag(9, 0x12345678, payload.span(), out));
  EXPECT_EQ(out, gathered);
  EXPECT_EQ(payload.use_count(), 1);  // framing never took a reference
  EXPECT_EQ(f.trailer, (std::array<std::uint8_t, 4>{0, 0, 0, 21}));
}

TEST(flv_writer, output_is_read_back_identically) {
  std::vector<flv_tag> tags = {
      make_tag(18, 0, {0x02, 0x00, 0x0a, 'o', 'n', 'M', 'e', 't', 'a', 'D', 'a', 't', 'a', 0x05}),
      make_tag(9, 0, {0x17, 0x00, 0, 0, 0, 1, 0x64, 0, 0x1f}),
      make_tag(8, 0, {0xAF, 0x00, 0x12, 0x10}),
      make_tag(9, 33, {0x17, 0x01, 0, 0, 0, 0, 0, 0, 1, 0x65}),
      make_tag(8, 23, {}),  // empty payload
      make_tag(8, 0x00FFFFFF, {0xAF, 0x01, 7}),
      make_tag(9, 0x01000000, {0x27, 0x01, 0, 0, 0}),
      make_tag(9, 0xFFFFFFFF, bytes(70000, 0x42)),
  };
  flv_writer w({true, true});
  bytes out;
  for (const auto& t : tags) ASSERT_FALSE(w.write_tag(t, out));
  EXPECT_EQ(w.bytes_written(), out.size());

  flv_reader r;
  const auto back = read_tags(out, r);
  EXPECT_EQ(r.previous_tag_size_mismatches(), 0u);
  ASSERT_EQ(back.size(), tags.size());
  for (std::size_t i = 0; i < tags.size(); ++i) {
    EXPECT_EQ(back[i].type, tags[i].type) << i;
    EXPECT_EQ(back[i].timestamp, tags[i].timestamp) << i;
    EXPECT_EQ(to_vec(back[i].payload), to_vec(tags[i].payload)) << i;
  }
}

// Runs a shell command, returning its stdout+stderr and exit status.
std::string run(const std::string& cmd, int& status) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) {
    status = -1;
    return out;
  }
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  status = ::pclose(p);
  return out;
}

// Validates writer output with ffprobe: the golden H.264+AAC file's tags,
// re-written with every media timestamp moved past 2^24 ms (so every tag uses
// TimestampExtended), must still demux into the same 50 video and 88 audio
// packets, with the shifted timestamps.
TEST(flv_writer, ffprobe_accepts_writer_output) {
  RTMP_REQUIRE_TOOL(rtmp::test::have_program("ffprobe"), "ffprobe not in PATH");
  const bytes golden = read_binary(std::string(RTMP_CAPTURES_DIR) + "/../flv/h264_aac.flv");
  ASSERT_FALSE(golden.empty());
  flv_reader r;
  const auto tags = read_tags(golden, r);
  ASSERT_EQ(tags.size(), 142u);

  constexpr std::uint32_t shift = 20'000'000;  // ms, > 2^24
  flv_writer w({true, true});
  bytes out;
  for (const auto& t : tags) {
    const std::uint32_t ts = t.type == 18 ? t.timestamp : t.timestamp + shift;
    ASSERT_FALSE(w.write_tag(t.type, ts, t.payload.span(), out));
  }
  const std::string path = ::testing::TempDir() + "flv_writer_ffprobe_" + std::to_string(::getpid()) + ".flv";
  {
    std::ofstream f(path, std::ios::binary);
    f.write(reinterpret_cast<const char*>(out.data()), static_cast<std::streamsize>(out.size()));
    ASSERT_TRUE(f.good());
  }
  int status = 0;
  const std::string csv = run("timeout 60 ffprobe -v error -show_entries packet=codec_type,dts "
                              "-of csv=p=0 '" + path + "' </dev/null 2>&1",
                              status);
  std::remove(path.c_str());
  ASSERT_EQ(status, 0) << csv;

  std::size_t video = 0;
  std::size_t audio = 0;
  std::size_t other = 0;
  long long min_dts = -1;
  std::size_t start = 0;
  while (start < csv.size()) {
    auto end = csv.find('\n', start);
    if (end == std::string::npos) end = csv.size();
    const std::string line = csv.substr(start, end - start);
    start = end + 1;
    if (line.empty()) continue;
    const auto comma = line.find(',');
    const std::string kind = line.substr(0, comma);
    if (kind == "video") {
      ++video;
    } else if (kind == "audio") {
      ++audio;
    } else {
      ++other;  // an ffprobe error line
      ADD_FAILURE() << line;
      continue;
    }
    const long long dts = std::atoll(line.c_str() + comma + 1);
    if (min_dts < 0 || dts < min_dts) min_dts = dts;
  }
  EXPECT_EQ(video, 50u);
  EXPECT_EQ(audio, 88u);
  EXPECT_EQ(other, 0u);
  EXPECT_GE(min_dts, shift);
}

}  // namespace
