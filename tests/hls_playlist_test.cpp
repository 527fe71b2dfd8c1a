// The text of an HLS media playlist (RFC 8216 section 4.3): its tags in
// order, EXTINF durations, discontinuities and their sequence number, the
// program date-time and the end list; the Low-Latency HLS tags (RFC 8216bis:
// server control, part target, parts, the open segment, the preload hint).
#include <gtest/gtest.h>

#include "rtmp/hls/playlist.hpp"

namespace rtmp::hls {
namespace {

TEST(hls_playlist, a_live_window_lists_its_segments_after_the_header_tags) {
  media_playlist p;
  p.target_duration_s = 2;
  p.segments = {{41, 2000, false, 1'796'400'000'000, "41.ts", "", {}, true},
                {42, 1960, false, 1'796'400'002'000, "42.ts?token=t", "", {}, true}};
  EXPECT_EQ(render(p),
            "#EXTM3U\n"
            "#EXT-X-VERSION:3\n"
            "#EXT-X-TARGETDURATION:2\n"
            "#EXT-X-MEDIA-SEQUENCE:41\n"
            "#EXT-X-PROGRAM-DATE-TIME:2026-12-04T16:00:00.000Z\n"
            "#EXTINF:2.000,\n"
            "41.ts\n"
            "#EXT-X-PROGRAM-DATE-TIME:2026-12-04T16:00:02.000Z\n"
            "#EXTINF:1.960,\n"
            "42.ts?token=t\n");
}

TEST(hls_playlist, discontinuities_and_the_end_are_tagged) {
  media_playlist p;
  p.target_duration_s = 4;
  p.discontinuity_sequence = 3;
  p.segments = {{7, 3500, false, 0, "7.ts", "", {}, true}, {8, 10, true, 1, "8.ts", "", {}, true}};
  p.ended = true;
  const std::string text = render(p);
  EXPECT_NE(text.find("#EXT-X-DISCONTINUITY-SEQUENCE:3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("#EXT-X-DISCONTINUITY\n#EXT-X-PROGRAM-DATE-TIME:1970-01-01T00:00:00.001Z\n#EXTINF:0.010,\n8.ts\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.rfind("#EXT-X-ENDLIST\n"), text.size() - std::string("#EXT-X-ENDLIST\n").size()) << text;
  EXPECT_EQ(text.find("#EXT-X-DISCONTINUITY\n#EXT-X-PROGRAM-DATE-TIME:1970-01-01T00:00:00.000Z"), std::string::npos)
      << "only the segment after the restart is a discontinuity";
}

TEST(hls_playlist, no_discontinuity_sequence_while_it_is_zero) {
  media_playlist p;
  EXPECT_EQ(render(p).find("DISCONTINUITY"), std::string::npos);
  EXPECT_EQ(render(p).find("ENDLIST"), std::string::npos);
}

TEST(hls_playlist, fmp4_playlists_name_the_init_segment_where_it_changes) {
  media_playlist p;
  p.version = 7;
  p.segments = {{1, 2000, false, 0, "1.m4s", "init-1.mp4", {}, true},
                {2, 2000, false, 0, "2.m4s", "init-1.mp4", {}, true},
                {3, 2000, true, 0, "3.m4s", "init-2.mp4", {}, true}};
  const std::string text = render(p);
  EXPECT_NE(text.find("#EXT-X-VERSION:7\n"), std::string::npos) << text;
  EXPECT_NE(text.find("#EXT-X-MAP:URI=\"init-1.mp4\"\n#EXT-X-PROGRAM-DATE-TIME"), std::string::npos) << text;
  EXPECT_EQ(text.find("#EXT-X-MAP:URI=\"init-1.mp4\"", text.find("1.m4s")), std::string::npos)
      << "the same map is not repeated: " << text;
  EXPECT_NE(text.find("#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"init-2.mp4\"\n"), std::string::npos) << text;
}

TEST(hls_playlist, low_latency_lists_parts_before_each_extinf_and_the_open_segment_last) {
  media_playlist p;
  p.version = 7;
  p.target_duration_s = 2;
  p.part_target_ms = 500;
  p.segments = {{10, 2000, false, 0, "10.m4s", "init-1.mp4",
                 {{500, true, "10.0.m4s"}, {500, false, "10.1.m4s"}, {500, false, "10.2.m4s"},
                  {500, false, "10.3.m4s"}},
                 true},
                {11, 0, true, 2000, "", "init-2.mp4", {{480, true, "11.0.m4s?t=1"}, {40, false, "11.1.m4s?t=1"}},
                 false}};
  p.preload_hint_uri = "11.2.m4s?t=1";
  EXPECT_EQ(render(p),
            "#EXTM3U\n"
            "#EXT-X-VERSION:7\n"
            "#EXT-X-TARGETDURATION:2\n"
            "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=2.000\n"
            "#EXT-X-PART-INF:PART-TARGET=0.500\n"
            "#EXT-X-MEDIA-SEQUENCE:10\n"
            "#EXT-X-MAP:URI=\"init-1.mp4\"\n"
            "#EXT-X-PROGRAM-DATE-TIME:1970-01-01T00:00:00.000Z\n"
            "#EXT-X-PART:DURATION=0.500,URI=\"10.0.m4s\",INDEPENDENT=YES\n"
            "#EXT-X-PART:DURATION=0.500,URI=\"10.1.m4s\"\n"
            "#EXT-X-PART:DURATION=0.500,URI=\"10.2.m4s\"\n"
            "#EXT-X-PART:DURATION=0.500,URI=\"10.3.m4s\"\n"
            "#EXTINF:2.000,\n"
            "10.m4s\n"
            "#EXT-X-DISCONTINUITY\n"
            "#EXT-X-MAP:URI=\"init-2.mp4\"\n"
            "#EXT-X-PROGRAM-DATE-TIME:1970-01-01T00:00:02.000Z\n"
            "#EXT-X-PART:DURATION=0.480,URI=\"11.0.m4s?t=1\",INDEPENDENT=YES\n"
            "#EXT-X-PART:DURATION=0.040,URI=\"11.1.m4s?t=1\"\n"
            "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"11.2.m4s?t=1\"\n");
}

TEST(hls_playlist, low_latency_part_target_in_seconds_and_no_hint_after_the_end) {
  media_playlist p;
  p.part_target_ms = 1234;
  p.segments = {{0, 1000, false, 0, "0.m4s", "", {{1000, true, "0.0.m4s"}}, true}};
  p.preload_hint_uri = "1.0.m4s";
  p.ended = true;
  const std::string text = render(p);
  EXPECT_NE(text.find("#EXT-X-TARGETDURATION:2\n"
                      "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=4.936\n"
                      "#EXT-X-PART-INF:PART-TARGET=1.234\n"
                      "#EXT-X-MEDIA-SEQUENCE:0\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("PRELOAD-HINT"), std::string::npos) << "RFC 8216bis 4.4.5.3: not with EXT-X-ENDLIST: " << text;
  EXPECT_NE(text.find("#EXT-X-PART:DURATION=1.000,URI=\"0.0.m4s\",INDEPENDENT=YES\n"
                      "#EXTINF:1.000,\n0.m4s\n#EXT-X-ENDLIST\n"),
            std::string::npos)
      << text;

  media_playlist plain;
  plain.segments = {{0, 1000, false, 0, "0.ts", "", {}, true}};
  EXPECT_EQ(render(plain).find("PART"), std::string::npos) << "no part target: plain HLS";
  EXPECT_EQ(render(plain).find("SERVER-CONTROL"), std::string::npos);
}

TEST(hls_playlist, program_date_times_are_utc_with_milliseconds) {
  EXPECT_EQ(iso8601_ms(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(iso8601_ms(951'782'400'123), "2000-02-29T00:00:00.123Z");
  EXPECT_EQ(iso8601_ms(-1), "1969-12-31T23:59:59.999Z");
}

}  // namespace
}  // namespace rtmp::hls
