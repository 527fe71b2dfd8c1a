#include "rtmp/proto/flv_reader.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "rtmp/error.hpp"
#include "rtmp/proto/byte_order.hpp"
#include "rtmp/proto/flv_writer.hpp"
#include "rtmp/proto/media_info.hpp"

#include "support/files.hpp"

namespace {
using rtmp::test::read_binary;

using namespace rtmp::proto;
using bytes = std::vector<std::uint8_t>;

// Golden files made by tests/data/flv/make.sh (ffmpeg 5.1), next to the captures.
std::string flv_path(const std::string& name) {
  return std::string(RTMP_CAPTURES_DIR) + "/../flv/" + name;
}

bytes load_golden(const std::string& name) {
  bytes b = read_binary(flv_path(name));
  EXPECT_FALSE(b.empty()) << "missing golden file " << flv_path(name);
  return b;
}

bytes to_vec(const shared_bytes& b) { return bytes(b.data(), b.data() + b.size()); }

std::vector<flv_tag> drain(flv_reader& r) {
  std::vector<flv_tag> out;
  flv_tag t;
  while (r.next(t)) out.push_back(t);
  return out;
}

// Reads all of `in` in one feed and checks that the input ended cleanly.
std::vector<flv_tag> read_all(const bytes& in, flv_reader* reader_out = nullptr) {
  flv_reader r;
  EXPECT_FALSE(r.feed(in));
  EXPECT_FALSE(r.finish());
  auto tags = drain(r);
  if (reader_out) *reader_out = std::move(r);
  return tags;
}

void expect_same_tags(const std::vector<flv_tag>& a, const std::vector<flv_tag>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].type, b[i].type) << "tag " << i;
    EXPECT_EQ(a[i].timestamp, b[i].timestamp) << "tag " << i;
    EXPECT_EQ(to_vec(a[i].payload), to_vec(b[i].payload)) << "tag " << i;
  }
}

std::size_t count_type(const std::vector<flv_tag>& tags, std::uint8_t type) {
  return static_cast<std::size_t>(
      std::count_if(tags.begin(), tags.end(), [&](const flv_tag& t) { return t.type == type; }));
}

// Coded video frames: video tags other than sequence headers and end-of-sequence
// tags, i.e. what ffprobe -show_packets lists as video packets.
std::vector<flv_tag> video_frames(const std::vector<flv_tag>& tags) {
  std::vector<flv_tag> out;
  for (const auto& t : tags) {
    if (t.type != 9 || is_video_sequence_header(t.payload.span())) continue;
    const auto info = describe_video_tag(t.payload.span());
    if (info.packet_type == 2) continue;  // AVC end of sequence
    out.push_back(t);
  }
  return out;
}

std::size_t audio_frames(const std::vector<flv_tag>& tags) {
  std::size_t n = 0;
  for (const auto& t : tags) {
    if (t.type == 8 && !is_audio_sequence_header(t.payload.span())) ++n;
  }
  return n;
}

std::vector<std::size_t> keyframe_positions(const std::vector<flv_tag>& frames) {
  std::vector<std::size_t> pos;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    if (is_video_keyframe(frames[i].payload.span())) pos.push_back(i);
  }
  return pos;
}

bool is_on_metadata(const flv_tag& t) {
  // AMF0 string marker 0x02, length 10, "onMetaData".
  static const std::uint8_t prefix[] = {0x02, 0x00, 0x0a, 'o', 'n', 'M', 'e', 't', 'a', 'D', 'a', 't', 'a'};
  return t.type == 18 && t.payload.size() >= sizeof prefix &&
         std::memcmp(t.payload.data(), prefix, sizeof prefix) == 0;
}

// A tiny FLV built by hand: header (flags, data offset) + PreviousTagSize0.
bytes flv_header_bytes(std::uint8_t flags = 0x05, std::uint32_t data_offset = 9) {
  bytes b = {'F', 'L', 'V', 1, flags, 0, 0, 0, 0};
  store_be32(&b[5], data_offset);
  b.resize(data_offset, 0xEE);  // extra header bytes, if any
  b.insert(b.end(), {0, 0, 0, 0});
  return b;
}

void append_tag(bytes& out, std::uint8_t first_byte, std::uint32_t ts, const bytes& payload,
                std::int64_t prev_size_override = -1) {
  std::uint8_t h[11];
  h[0] = first_byte;
  store_be24(h + 1, static_cast<std::uint32_t>(payload.size()));
  store_be24(h + 4, ts);
  h[7] = static_cast<std::uint8_t>(ts >> 24);
  store_be24(h + 8, 0);
  out.insert(out.end(), h, h + 11);
  out.insert(out.end(), payload.begin(), payload.end());
  std::uint8_t p[4];
  store_be32(p, prev_size_override >= 0 ? static_cast<std::uint32_t>(prev_size_override)
                                        : static_cast<std::uint32_t>(11 + payload.size()));
  out.insert(out.end(), p, p + 4);
}

// --- golden files --------------------------------------------------------------
//
// Packet counts verified once with
//   ffprobe -v error -show_packets -of csv=p=0 -show_entries packet=codec_type,flags FILE
// (ffprobe lists coded frames only: no onMetaData, sequence headers or the
// H.264 end-of-sequence tag):
//   h264_aac.flv   50 video (K at video packets 1 and 26), 88 audio
//   aac_only.flv   88 audio
//   h264_only.flv  50 video (K at video packets 1, 11, 21, 31, 41)
//   mp3_ext_ts.flv 40 audio, first dts 16799975

TEST(flv_reader, golden_h264_aac) {
  const bytes file = load_golden("h264_aac.flv");
  flv_reader r;
  const auto tags = read_all(file, &r);
  EXPECT_TRUE(r.header_parsed());
  EXPECT_TRUE(r.has_audio());
  EXPECT_TRUE(r.has_video());
  EXPECT_EQ(r.version(), 1);
  EXPECT_EQ(r.data_offset(), 9u);
  EXPECT_EQ(r.previous_tag_size_mismatches(), 0u);
  EXPECT_EQ(r.bytes_consumed(), file.size());
  // 1 onMetaData + 52 video (sequence header, 50 frames, end of sequence) + 89
  // audio (AudioSpecificConfig + 88 frames).
  ASSERT_EQ(tags.size(), 142u);
  EXPECT_EQ(r.tags_read(), 142u);
  EXPECT_EQ(count_type(tags, 18), 1u);
  EXPECT_EQ(count_type(tags, 9), 52u);
  EXPECT_EQ(count_type(tags, 8), 89u);
  const auto frames = video_frames(tags);
  EXPECT_EQ(frames.size(), 50u);
  EXPECT_EQ(audio_frames(tags), 88u);

  // onMetaData first, then both sequence headers before any frame.
  EXPECT_TRUE(is_on_metadata(tags[0]));
  EXPECT_EQ(tags[1].type, 9);
  EXPECT_TRUE(is_video_sequence_header(tags[1].payload.span()));
  EXPECT_EQ(tags[2].type, 8);
  EXPECT_TRUE(is_audio_sequence_header(tags[2].payload.span()));
  EXPECT_TRUE(is_video_keyframe(tags[3].payload.span()));
  EXPECT_EQ(video_codec_name(tags[1].payload.span()), "H264");
  EXPECT_EQ(audio_codec_name(tags[2].payload.span()), "AAC");

  // GOP 25: keyframes at video packets 0 and 25.
  EXPECT_EQ(keyframe_positions(frames), (std::vector<std::size_t>{0, 25}));
  EXPECT_EQ(frames[25].timestamp, 1000u);
  // The last tag is the H.264 end of sequence (frame type 1, packet type 2).
  EXPECT_FALSE(is_video_keyframe(tags.back().payload.span()));
  EXPECT_EQ(describe_video_tag(tags.back().payload.span()).packet_type, 2);
}

TEST(flv_reader, golden_aac_only) {
  const bytes file = load_golden("aac_only.flv");
  flv_reader r;
  const auto tags = read_all(file, &r);
  EXPECT_TRUE(r.has_audio());
  EXPECT_FALSE(r.has_video());
  ASSERT_EQ(tags.size(), 90u);
  EXPECT_EQ(count_type(tags, 9), 0u);
  EXPECT_EQ(audio_frames(tags), 88u);
  EXPECT_TRUE(is_on_metadata(tags[0]));
  EXPECT_TRUE(is_audio_sequence_header(tags[1].payload.span()));
  // AAC frames of 1024 samples at 44.1 kHz: 23.2 ms apart.
  EXPECT_EQ(tags[3].timestamp, 23u);
  EXPECT_EQ(tags[4].timestamp, 46u);
}

TEST(flv_reader, golden_h264_only) {
  const bytes file = load_golden("h264_only.flv");
  flv_reader r;
  const auto tags = read_all(file, &r);
  EXPECT_FALSE(r.has_audio());
  EXPECT_TRUE(r.has_video());
  ASSERT_EQ(tags.size(), 53u);
  EXPECT_TRUE(is_on_metadata(tags[0]));
  EXPECT_TRUE(is_video_sequence_header(tags[1].payload.span()));
  const auto frames = video_frames(tags);
  ASSERT_EQ(frames.size(), 50u);
  EXPECT_EQ(keyframe_positions(frames), (std::vector<std::size_t>{0, 10, 20, 30, 40}));
  for (std::size_t i = 0; i < frames.size(); ++i) {
    EXPECT_EQ(frames[i].timestamp, i * 40) << i;  // 25 fps, no B-frames
  }
}

TEST(flv_reader, golden_extended_timestamps) {
  const bytes file = load_golden("mp3_ext_ts.flv");
  const auto tags = read_all(file);
  ASSERT_EQ(tags.size(), 41u);
  EXPECT_EQ(audio_frames(tags), 40u);
  EXPECT_EQ(tags[1].timestamp, 16799975u);  // > 2^24: needs TimestampExtended
  EXPECT_EQ(audio_codec_name(tags[1].payload.span()), "MP3");
  // The raw bytes really use the extension byte: 16799975 = 0x01 0x00 0x57 0x67.
  const std::size_t tag1 = 13 + 11 + tags[0].payload.size() + 4;
  EXPECT_EQ(file[tag1 + 7], 0x01);
  EXPECT_EQ(load_be24(&file[tag1 + 4]), 16799975u & 0xFFFFFF);
  for (std::size_t i = 2; i < tags.size(); ++i) EXPECT_GT(tags[i].timestamp, tags[i - 1].timestamp);
}

TEST(flv_reader, round_trip_is_byte_identical) {
  for (const char* name : {"h264_aac.flv", "aac_only.flv", "h264_only.flv", "mp3_ext_ts.flv"}) {
    SCOPED_TRACE(name);
    const bytes file = load_golden(name);
    flv_reader r;
    const auto tags = read_all(file, &r);
    flv_writer w({r.has_audio(), r.has_video()});
    bytes out;
    w.write_header(out);
    for (const auto& t : tags) ASSERT_FALSE(w.write_tag(t, out));
    EXPECT_EQ(out.size(), file.size());
    EXPECT_TRUE(out == file);
  }
}

// --- splitting ---------------------------------------------------------------

TEST(flv_reader, one_byte_at_a_time_and_random_splits_give_identical_tags) {
  const bytes file = load_golden("h264_aac.flv");
  const auto whole = read_all(file);
  ASSERT_EQ(whole.size(), 142u);

  {
    flv_reader r;
    std::vector<flv_tag> tags;
    for (std::uint8_t b : file) {
      ASSERT_FALSE(r.feed(std::span<const std::uint8_t>(&b, 1)));
      // Pop as we go: tags are delivered as soon as their payload completes.
      auto more = drain(r);
      tags.insert(tags.end(), more.begin(), more.end());
    }
    EXPECT_FALSE(r.finish());
    expect_same_tags(tags, whole);
  }
  for (unsigned seed : {1u, 2u, 3u, 42u, 1234u}) {
    SCOPED_TRACE(seed);
    std::mt19937 rng(seed);
    std::uniform_int_distribution<std::size_t> len(0, 3000);
    flv_reader r;
    std::size_t pos = 0;
    while (pos < file.size()) {
      const std::size_t n = std::min(len(rng), file.size() - pos);
      ASSERT_FALSE(r.feed(std::span<const std::uint8_t>(file).subspan(pos, n)));
      pos += n;
    }
    EXPECT_FALSE(r.finish());
    expect_same_tags(drain(r), whole);
  }
}

TEST(flv_reader, truncated_input_delivers_complete_tags_and_reports_truncation) {
  const bytes file = load_golden("h264_aac.flv");
  const auto whole = read_all(file);
  // Offsets (from the tag sizes) where each tag's payload ends and where the
  // next tag starts.
  std::vector<std::size_t> payload_end;
  std::vector<std::size_t> boundary = {13};  // after header + PreviousTagSize0
  for (const auto& t : whole) {
    payload_end.push_back(boundary.back() + 11 + t.payload.size());
    boundary.push_back(payload_end.back() + 4);
  }
  ASSERT_EQ(boundary.back(), file.size());

  std::vector<std::size_t> cuts = {0, 1, 3, 5, 8, 9, 12, 13, 14, 23, file.size() - 1, file.size()};
  for (std::size_t i = 0; i < 12; ++i) {
    for (std::size_t d : {boundary[i], boundary[i] + 5, payload_end[i] - 1, payload_end[i],
                          payload_end[i] + 2}) {
      cuts.push_back(d);
    }
  }
  for (std::size_t c = 0; c < file.size(); c += 997) cuts.push_back(c);

  for (std::size_t cut : cuts) {
    SCOPED_TRACE(cut);
    flv_reader r;
    ASSERT_FALSE(r.feed(std::span<const std::uint8_t>(file).first(cut)));
    const auto tags = drain(r);
    const auto expected = static_cast<std::size_t>(
        std::count_if(payload_end.begin(), payload_end.end(), [&](std::size_t e) { return e <= cut; }));
    ASSERT_EQ(tags.size(), expected);
    for (std::size_t i = 0; i < tags.size(); ++i) {
      EXPECT_EQ(to_vec(tags[i].payload), to_vec(whole[i].payload));
    }
    const bool clean = std::find(boundary.begin(), boundary.end(), cut) != boundary.end();
    if (clean) {
      EXPECT_FALSE(r.finish());
    } else {
      EXPECT_EQ(r.finish(), rtmp::errc::flv_truncated);
    }
    EXPECT_EQ(r.finish(), r.finish());  // no state change
  }
}

// --- malformed input -----------------------------------------------------------

TEST(flv_reader, non_flv_input_fails_on_the_first_wrong_byte) {
  for (const bytes& junk : {bytes{'G', 'I', 'F', '8', '9', 'a'}, bytes{'F', 'L', 'X', 1, 5},
                            bytes{0, 0, 0, 0x20, 'f', 't', 'y', 'p'}, bytes{'f', 'l', 'v'}}) {
    flv_reader r;
    std::error_code ec;
    std::size_t fed = 0;
    for (std::uint8_t b : junk) {
      ++fed;
      ec = r.feed(std::span<const std::uint8_t>(&b, 1));
      if (ec) break;
    }
    EXPECT_EQ(ec, rtmp::errc::flv_malformed);
    EXPECT_EQ(ec, rtmp::condition::protocol_violation);
    EXPECT_LE(fed, 3u);
    EXPECT_FALSE(r.header_parsed());
    // Sticky, and finish() repeats it.
    EXPECT_EQ(r.feed(flv_header_bytes()), rtmp::errc::flv_malformed);
    EXPECT_EQ(r.finish(), rtmp::errc::flv_malformed);
    flv_tag t;
    EXPECT_FALSE(r.next(t));
  }
}

TEST(flv_reader, bad_data_offset_is_malformed) {
  for (std::uint32_t offset : {0u, 8u, 64u * 1024 + 1, 0xFFFFFFFFu}) {
    SCOPED_TRACE(offset);
    bytes b = {'F', 'L', 'V', 1, 5, 0, 0, 0, 0};
    store_be32(&b[5], offset);
    flv_reader r;
    EXPECT_EQ(r.feed(b), rtmp::errc::flv_malformed);
  }
}

TEST(flv_reader, extra_header_bytes_are_skipped) {
  bytes b = flv_header_bytes(0x04, 17);  // 8 bytes beyond the 9 defined ones
  append_tag(b, 8, 10, {0xAF, 0x00, 0x12, 0x10});
  for (std::size_t step : {std::size_t{1}, b.size()}) {
    flv_reader r;
    for (std::size_t pos = 0; pos < b.size(); pos += step) {
      ASSERT_FALSE(r.feed(std::span<const std::uint8_t>(b).subspan(pos, std::min(step, b.size() - pos))));
    }
    EXPECT_FALSE(r.finish());
    EXPECT_EQ(r.data_offset(), 17u);
    EXPECT_TRUE(r.has_audio());
    EXPECT_FALSE(r.has_video());
    const auto tags = drain(r);
    ASSERT_EQ(tags.size(), 1u);
    EXPECT_EQ(to_vec(tags[0].payload), (bytes{0xAF, 0x00, 0x12, 0x10}));
    EXPECT_EQ(r.previous_tag_size_mismatches(), 0u);
  }
}

TEST(flv_reader, tag_size_above_the_limit_is_refused) {
  flv_reader_limits limits;
  limits.max_tag_size = 1000;
  bytes ok = flv_header_bytes();
  append_tag(ok, 9, 0, bytes(1000, 0x27));
  {
    flv_reader r(limits);
    EXPECT_FALSE(r.feed(ok));
    EXPECT_EQ(drain(r).size(), 1u);
  }
  bytes big = flv_header_bytes();
  append_tag(big, 9, 0, bytes(1001, 0x27));
  flv_reader r(limits);
  const auto ec = r.feed(big);
  EXPECT_EQ(ec, rtmp::errc::flv_tag_too_large);
  EXPECT_EQ(ec, rtmp::condition::resource_limit);
  EXPECT_EQ(r.ready_count(), 0u);
  EXPECT_EQ(r.finish(), rtmp::errc::flv_tag_too_large);
}

TEST(flv_reader, largest_declared_size_is_accepted_by_default) {
  // DataSize 0xFFFFFF: within the 24-bit field, so the default limit takes it;
  // the input then ends inside the payload.
  bytes b = flv_header_bytes();
  b.insert(b.end(), {9, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0x17, 0x01});
  flv_reader r;
  EXPECT_FALSE(r.feed(b));
  EXPECT_EQ(r.ready_count(), 0u);
  EXPECT_EQ(r.finish(), rtmp::errc::flv_truncated);
}

TEST(flv_reader, extended_timestamp_byte_is_the_upper_byte) {
  bytes b = flv_header_bytes();
  append_tag(b, 9, 0x78123456, {0x27, 0x01, 0, 0, 0});
  append_tag(b, 8, 0x00FFFFFF, {0xAF, 0x01});
  append_tag(b, 8, 0xFFFFFFFF, {0xAF, 0x01});
  const auto tags = read_all(b);
  ASSERT_EQ(tags.size(), 3u);
  EXPECT_EQ(tags[0].timestamp, 0x78123456u);
  EXPECT_EQ(tags[1].timestamp, 0x00FFFFFFu);
  EXPECT_EQ(tags[2].timestamp, 0xFFFFFFFFu);
}

TEST(flv_reader, filter_bit_is_refused_as_encrypted) {
  bytes b = flv_header_bytes();
  append_tag(b, 8, 0, {0xAF, 0x01});
  append_tag(b, 0x20 | 9, 40, {0x17, 0x01, 0, 0, 0});
  append_tag(b, 8, 80, {0xAF, 0x01});
  flv_reader r;
  EXPECT_EQ(r.feed(b), rtmp::errc::flv_encrypted);
  EXPECT_EQ(drain(r).size(), 1u);  // the tag before it was delivered
  EXPECT_EQ(r.feed(b), rtmp::errc::flv_encrypted);
  EXPECT_EQ(r.ready_count(), 0u);
}

TEST(flv_reader, unknown_tag_type_is_malformed_unless_accepted) {
  bytes b = flv_header_bytes();
  append_tag(b, 7, 0, {1, 2, 3});
  {
    flv_reader r;
    EXPECT_EQ(r.feed(b), rtmp::errc::flv_malformed);
  }
  flv_reader_limits limits;
  limits.accept_unknown_tag_types = true;
  flv_reader r(limits);
  EXPECT_FALSE(r.feed(b));
  EXPECT_FALSE(r.finish());
  const auto tags = drain(r);
  ASSERT_EQ(tags.size(), 1u);
  EXPECT_EQ(tags[0].type, 7);
}

TEST(flv_reader, reserved_bits_and_stream_id_are_ignored) {
  bytes b = flv_header_bytes();
  append_tag(b, 0xC0 | 8, 5, {0xAF, 0x01});
  b[13 + 8] = 0x12;  // StreamID bytes (should be 0)
  b[13 + 10] = 0x34;
  const auto tags = read_all(b);
  ASSERT_EQ(tags.size(), 1u);
  EXPECT_EQ(tags[0].type, 8);
  EXPECT_EQ(tags[0].timestamp, 5u);
}

TEST(flv_reader, previous_tag_size_mismatch_is_tolerated_and_counted) {
  bytes b = flv_header_bytes();
  store_be32(&b[9], 77);  // PreviousTagSize0 should be 0
  append_tag(b, 8, 0, {0xAF, 0x00, 0x12, 0x10});
  append_tag(b, 8, 23, {0xAF, 0x01, 0x21}, 0);  // wrong: 0 instead of 14
  append_tag(b, 8, 46, {0xAF, 0x01, 0x22});
  flv_reader r;
  const auto tags = read_all(b, &r);
  EXPECT_EQ(tags.size(), 3u);
  EXPECT_EQ(r.previous_tag_size_mismatches(), 2u);
  EXPECT_EQ(tags[2].timestamp, 46u);
}

TEST(flv_reader, zero_length_tag_is_delivered_with_an_empty_payload) {
  bytes b = flv_header_bytes();
  append_tag(b, 18, 0, {});
  append_tag(b, 8, 1, {0xAF, 0x01});
  const auto tags = read_all(b);
  ASSERT_EQ(tags.size(), 2u);
  EXPECT_TRUE(tags[0].payload.empty());
  EXPECT_EQ(tags[1].payload.size(), 2u);
}

TEST(flv_reader, header_only_input_is_a_clean_end) {
  flv_reader r;
  EXPECT_EQ(r.finish(), rtmp::errc::flv_truncated);  // nothing at all
  EXPECT_FALSE(r.feed(flv_header_bytes(0x00)));
  EXPECT_TRUE(r.header_parsed());
  EXPECT_FALSE(r.has_audio());
  EXPECT_FALSE(r.has_video());
  EXPECT_FALSE(r.finish());
  EXPECT_EQ(r.tags_read(), 0u);
}

TEST(flv_reader, payload_is_one_private_block) {
  bytes b = flv_header_bytes();
  append_tag(b, 9, 0, {0x17, 0x01, 0, 0, 0, 0xAA});
  flv_reader r;
  ASSERT_FALSE(r.feed(b));
  b.assign(b.size(), 0);  // the reader must not reference the caller's buffer
  flv_tag t;
  ASSERT_TRUE(r.next(t));
  EXPECT_EQ(to_vec(t.payload), (bytes{0x17, 0x01, 0, 0, 0, 0xAA}));
  EXPECT_EQ(t.payload.use_count(), 1);
}

}  // namespace
