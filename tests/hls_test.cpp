// HLS with the real programs: ffmpeg publishes over RTMP, ffprobe and
// ffmpeg read the stream back from index.m3u8 (h264 + aac, decoded without
// an error line), a publisher restart gives a discontinuity that ffmpeg
// plays through, and the HTTP side answers as caches and browsers expect.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "support/http_client.hpp"
#include "support/net.hpp"
#include "support/process.hpp"
#include "support/ertmp_samples.hpp"
#include "support/running_server.hpp"
#include "support/test_client.hpp"

namespace {

using namespace std::chrono_literals;
using rtmp::test::read_text;

class hls : public ::testing::Test {
 protected:
  void SetUp() override {
    RTMP_REQUIRE_TOOL(rtmp::test::have_program("ffmpeg") && rtmp::test::have_program("ffprobe"),
                      "ffmpeg/ffprobe not installed");
    auto cfg = rtmp::test::loopback_config();
    cfg.http_listen = {"127.0.0.1:0"};
    cfg.http_flv_cors = "*";
    cfg.hls.apps = {"live"};
    cfg.hls.segment_duration = 1000ms;
    cfg.auth.play_tokens["secure"] = {"view"};
    cfg.hls.apps.insert("secure");
    server_.start(cfg);
  }

  // ffmpeg encodes a test picture and tone (H.264 with a keyframe every
  // second, AAC) live and publishes it to `path` for `seconds`.
  std::unique_ptr<rtmp::test::child_process> publish(const std::string& path, int seconds, const std::string& log) {
    return std::make_unique<rtmp::test::child_process>(rtmp::test::ffmpeg_live_publish(
        "rtmp://127.0.0.1:" + std::to_string(server_.port()) + "/" + path, seconds, dir_.file(log)));
  }

  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(server_.http_port()) + path;
  }

  // Waits until the playlist at `path` lists at least `segments` segments.
  bool wait_for_segments(const std::string& path, std::size_t segments, std::chrono::milliseconds timeout = 20s) {
    return rtmp::test::wait_until(
        [&] {
          const auto r = rtmp::test::http_get(server_.http_port(), path);
          std::size_t n = 0;
          for (auto at = r.body.find("#EXTINF"); at != std::string::npos; at = r.body.find("#EXTINF", at + 1)) ++n;
          return r.status == 200 && n >= segments;
        },
        timeout);
  }

  rtmp::test::running_server server_;
  rtmp::test::temp_dir dir_;
};

TEST_F(hls, ffmpeg_publishes_and_ffprobe_and_ffmpeg_read_h264_and_aac_from_the_playlist) {
  auto publisher = publish("live/cam", 40, "publisher.log");
  ASSERT_TRUE(wait_for_segments("/live/cam/index.m3u8", 3)) << read_text(dir_.file("publisher.log"));

  const std::string probe = dir_.file("probe.txt");
  rtmp::test::run("ffprobe -v error -show_entries stream=codec_name -of csv=p=0 " + url("/live/cam/index.m3u8") +
                      " > " + probe + " 2>&1",
                  20s);
  EXPECT_NE(read_text(probe).find("h264"), std::string::npos) << read_text(probe);
  EXPECT_NE(read_text(probe).find("aac"), std::string::npos) << read_text(probe);

  const std::string errors = dir_.file("decode.txt");
  const int status = rtmp::test::run("ffmpeg -nostdin -v error -i " + url("/live/cam/index.m3u8") +
                                         " -t 10 -f null - 2> " + errors,
                                     40s);
  EXPECT_EQ(status, 0) << read_text(errors);
  EXPECT_EQ(read_text(errors), "") << "ffmpeg printed error lines while decoding";
}

TEST_F(hls, a_publisher_restart_is_a_discontinuity_that_ffmpeg_plays_through) {
  {
    auto first = publish("live/cam", 4, "first.log");
    ASSERT_EQ(first->wait(20s), 0) << read_text(dir_.file("first.log"));
  }
  ASSERT_TRUE(rtmp::test::wait_until(
      [&] {
        return rtmp::test::http_get(server_.http_port(), "/live/cam/index.m3u8").body.find("#EXT-X-ENDLIST") !=
               std::string::npos;
      },
      5s))
      << "the playlist did not end with the publisher";
  auto second = publish("live/cam", 30, "second.log");
  ASSERT_TRUE(rtmp::test::wait_until(
      [&] {
        const auto body = rtmp::test::http_get(server_.http_port(), "/live/cam/index.m3u8").body;
        const auto gap = body.find("#EXT-X-DISCONTINUITY\n");
        return gap != std::string::npos && body.find("#EXTINF", gap) != std::string::npos &&
               body.find("#EXTINF", body.find("#EXTINF", gap) + 1) != std::string::npos &&
               body.find("#EXT-X-ENDLIST") == std::string::npos;
      },
      20s))
      << rtmp::test::http_get(server_.http_port(), "/live/cam/index.m3u8").body;
  // From the first listed segment, across the discontinuity.
  const std::string errors = dir_.file("decode.txt");
  const std::string frames = dir_.file("frames.txt");
  const int status = rtmp::test::run("ffmpeg -nostdin -v error -live_start_index 0 -i " +
                                         url("/live/cam/index.m3u8") + " -t 8 -f framecrc " + frames + " 2> " +
                                         errors,
                                     40s);
  EXPECT_EQ(status, 0) << read_text(errors);
  EXPECT_EQ(read_text(errors), "") << "ffmpeg printed error lines across the discontinuity";
  std::size_t lines = 0;
  for (char c : read_text(frames)) lines += c == '\n' ? 1 : 0;
  EXPECT_GT(lines, 200u) << "ffmpeg stopped at the discontinuity";
}

TEST_F(hls, segments_are_cacheable_playlists_revalidate_and_bad_requests_get_4xx) {
  auto publisher = publish("live/cam", 30, "publisher.log");
  ASSERT_TRUE(wait_for_segments("/live/cam/index.m3u8", 2)) << read_text(dir_.file("publisher.log"));
  const auto playlist = rtmp::test::http_get(server_.http_port(), "/live/cam/index.m3u8");
  EXPECT_NE(playlist.headers.find("Content-Type: application/vnd.apple.mpegurl"), std::string::npos)
      << playlist.headers;
  EXPECT_NE(playlist.headers.find("Access-Control-Allow-Origin: *"), std::string::npos) << playlist.headers;
  EXPECT_NE(playlist.headers.find("Cache-Control: public, max-age="), std::string::npos) << playlist.headers;
  const auto etag_at = playlist.headers.find("ETag: ");
  ASSERT_NE(etag_at, std::string::npos) << playlist.headers;
  const std::string etag = playlist.headers.substr(etag_at + 6, playlist.headers.find("\r\n", etag_at) - etag_at - 6);
  const auto again = rtmp::test::http_get(server_.http_port(), "/live/cam/index.m3u8", "If-None-Match: " + etag + "\r\n");
  EXPECT_TRUE(again.status == 304 || again.status == 200) << again.status;  // 200 when a segment was added meanwhile

  const auto first_uri = playlist.body.find(".ts");
  ASSERT_NE(first_uri, std::string::npos) << playlist.body;
  const auto line_start = playlist.body.rfind('\n', first_uri) + 1;
  const std::string segment = "/live/cam/" + playlist.body.substr(line_start, first_uri + 3 - line_start);
  const auto ts = rtmp::test::http_get(server_.http_port(), segment);
  EXPECT_EQ(ts.status, 200) << segment;
  EXPECT_NE(ts.headers.find("Content-Type: video/mp2t"), std::string::npos) << ts.headers;
  EXPECT_NE(ts.headers.find("immutable"), std::string::npos) << ts.headers;
  ASSERT_GT(ts.body.size(), 188u);
  EXPECT_EQ(ts.body.size() % 188, 0u);
  EXPECT_EQ(static_cast<unsigned char>(ts.body[0]), 0x47);

  EXPECT_EQ(rtmp::test::http_get(server_.http_port(), "/live/none/index.m3u8").status, 404);
  EXPECT_EQ(rtmp::test::http_get(server_.http_port(), "/live/cam/99999999999.ts").status, 404);
  for (const char* traversal : {"/live/cam/..%2F..%2Fetc%2Fpasswd", "/live/../index.m3u8", "/live/cam/../../x.ts"}) {
    const int status = rtmp::test::http_get(server_.http_port(), traversal).status;
    EXPECT_TRUE(status == 400 || status == 404) << traversal << ": " << status;
  }
  EXPECT_EQ(rtmp::test::http_get(server_.http_port(), "/secure/cam/index.m3u8").status, 401) << "a play token is needed";
  EXPECT_EQ(rtmp::test::http_get(server_.http_port(), "/secure/cam/index.m3u8?token=bad").status, 403);
  EXPECT_EQ(rtmp::test::http_get(server_.http_port(), "/secure/cam/index.m3u8?token=view").status, 404)
      << "the right token reaches the (absent) stream";
}

TEST(hls_files, hls_path_mirrors_the_playlist_and_segments_and_removes_them_when_the_stream_expires) {
  RTMP_REQUIRE_TOOL(rtmp::test::have_program("ffmpeg") && rtmp::test::have_program("ffprobe"),
                    "ffmpeg/ffprobe not installed");
  rtmp::test::temp_dir dir;
  auto cfg = rtmp::test::loopback_config();
  cfg.http_listen = {"127.0.0.1:0"};
  cfg.hls.apps = {"live"};
  cfg.hls.segment_duration = 1000ms;
  cfg.hls.window = 3;
  cfg.hls.expire_after = 1000ms;
  cfg.hls.path = dir.file("www");
  rtmp::test::running_server server(cfg);
  const std::string stream_dir = dir.file("www") + "/live/cam";
  {
    rtmp::test::child_process publisher(rtmp::test::ffmpeg_live_publish(
        "rtmp://127.0.0.1:" + std::to_string(server.port()) + "/live/cam", 8, dir.file("publisher.log")));
    ASSERT_TRUE(rtmp::test::wait_until(
        [&] {
          std::size_t n = 0;
          if (!std::filesystem::exists(stream_dir)) return false;
          for (const auto& f : std::filesystem::directory_iterator(stream_dir)) n += f.path().extension() == ".ts";
          return n >= 4;
        },
        20s))
        << read_text(dir.file("publisher.log"));
    std::size_t segments = 0;
    for (const auto& f : std::filesystem::directory_iterator(stream_dir)) segments += f.path().extension() == ".ts";
    EXPECT_LE(segments, 3u + 2u) << "old segments are removed: the window and two more";
    const std::string playlist = read_text(stream_dir + "/index.m3u8");
    EXPECT_EQ(playlist.rfind("#EXTM3U", 0), 0u) << playlist;
    const std::string probe = dir.file("probe.txt");
    rtmp::test::run("ffprobe -v error -show_entries stream=codec_name -of csv=p=0 " + stream_dir + "/index.m3u8 > " +
                        probe + " 2>&1",
                    20s);
    EXPECT_NE(read_text(probe).find("h264"), std::string::npos) << read_text(probe);
    EXPECT_EQ(publisher.wait(20s), 0);
  }
  EXPECT_TRUE(rtmp::test::wait_until(
      [&] { return read_text(stream_dir + "/index.m3u8").find("#EXT-X-ENDLIST") != std::string::npos ||
                   !std::filesystem::exists(stream_dir); },
      5s));
  EXPECT_TRUE(rtmp::test::wait_until([&] { return !std::filesystem::exists(stream_dir); }, 5s))
      << "the stream's files outlived its expiry";
}

// A server with fMP4 segments for "live", on loopback.
rtmp::net::server_config fmp4_config() {
  auto cfg = rtmp::test::loopback_config();
  cfg.http_listen = {"127.0.0.1:0"};
  cfg.hls.apps = {"live"};
  cfg.hls.fmp4 = true;
  cfg.hls.segment_duration = 1000ms;
  return cfg;
}

TEST(hls_fmp4, an_enhanced_rtmp_hevc_stream_is_listed_and_its_init_segment_parses_with_ffprobe) {
  RTMP_REQUIRE_TOOL(rtmp::test::have_program("ffprobe"), "ffprobe not installed");
  namespace ertmp = rtmp::test::ertmp;
  rtmp::test::running_server server(fmp4_config());
  rtmp::test::temp_dir dir;
  rtmp::test::test_client pub(server.port());
  ASSERT_EQ(pub.publish("hevc"), "NetStream.Publish.Start");
  pub.send_media(9, 0, ertmp::video_tag(ertmp::key_frame, ertmp::sequence_start, "hvc1", ertmp::hvcc_1278x718()));
  for (std::uint32_t gop = 0; gop < 4; ++gop) {
    pub.send_media(9, gop * 1000, ertmp::video_tag(ertmp::key_frame, ertmp::coded_frames, "hvc1",
                                                   ertmp::hevc_frame(true, 0x10, 1500)));
    for (std::uint32_t i = 1; i < 25; ++i) {
      pub.send_media(9, gop * 1000 + i * 40,
                     ertmp::video_tag(ertmp::inter_frame, ertmp::coded_frames, "hvc1", ertmp::hevc_frame(false, 0x20)));
    }
  }
  std::string playlist;
  ASSERT_TRUE(rtmp::test::wait_until(
      [&] {
        playlist = rtmp::test::http_get(server.http_port(), "/live/hevc/index.m3u8").body;
        return playlist.find(".m4s\n") != std::string::npos;
      },
      10s))
      << playlist;
  EXPECT_NE(playlist.find("#EXT-X-VERSION:7\n"), std::string::npos) << playlist;
  EXPECT_NE(playlist.find("#EXT-X-MAP:URI=\"init-1.mp4\"\n"), std::string::npos) << playlist;
  const auto init = rtmp::test::http_get(server.http_port(), "/live/hevc/init-1.mp4");
  ASSERT_EQ(init.status, 200);
  EXPECT_NE(init.headers.find("Content-Type: video/mp4"), std::string::npos) << init.headers;
  {
    std::ofstream(dir.file("init.mp4"), std::ios::binary) << init.body;
  }
  const std::string probe = dir.file("probe.txt");
  rtmp::test::run("ffprobe -v error -show_entries stream=codec_name,width,height -of csv=p=0 " + dir.file("init.mp4") +
                      " > " + probe + " 2>&1",
                  20s);
  EXPECT_NE(read_text(probe).find("hevc"), std::string::npos) << read_text(probe);
  const auto first = playlist.find(".m4s\n");  // a segment's URI line (a part's is in an EXT-X-PART tag)
  const auto line = playlist.rfind('\n', first) + 1;
  const auto segment = rtmp::test::http_get(server.http_port(),
                                            "/live/hevc/" + playlist.substr(line, first + 4 - line));
  EXPECT_EQ(segment.status, 200);
  EXPECT_NE(segment.body.find("moof"), std::string::npos);
  EXPECT_EQ(rtmp::test::http_get(server.http_port(), "/live/hevc/0.ts").status, 404) << "not a TS stream";
}

TEST(hls_fmp4, ffmpeg_h264_and_aac_in_fmp4_segments_probe_and_decode) {
  RTMP_REQUIRE_TOOL(rtmp::test::have_program("ffmpeg") && rtmp::test::have_program("ffprobe"),
                    "ffmpeg/ffprobe not installed");
  rtmp::test::running_server server(fmp4_config());
  rtmp::test::temp_dir dir;
  rtmp::test::child_process publisher(rtmp::test::ffmpeg_live_publish(
      "rtmp://127.0.0.1:" + std::to_string(server.port()) + "/live/cam", 30, dir.file("publisher.log")));
  const std::string url = "http://127.0.0.1:" + std::to_string(server.http_port()) + "/live/cam/index.m3u8";
  ASSERT_TRUE(rtmp::test::wait_until(
      [&] {
        const auto body = rtmp::test::http_get(server.http_port(), "/live/cam/index.m3u8").body;
        std::size_t n = 0;
        for (auto at = body.find(".m4s\n"); at != std::string::npos; at = body.find(".m4s\n", at + 1)) ++n;
        return n >= 3;  // segments (parts are listed too, with LL-HLS on by default)
      },
      20s))
      << read_text(dir.file("publisher.log"));
  const std::string probe = dir.file("probe.txt");
  rtmp::test::run("ffprobe -v error -show_entries stream=codec_name -of csv=p=0 " + url + " > " + probe + " 2>&1", 20s);
  EXPECT_NE(read_text(probe).find("h264"), std::string::npos) << read_text(probe);
  EXPECT_NE(read_text(probe).find("aac"), std::string::npos) << read_text(probe);
  const std::string errors = dir.file("decode.txt");
  EXPECT_EQ(rtmp::test::run("ffmpeg -nostdin -v error -i " + url + " -t 6 -f null - 2> " + errors, 40s), 0)
      << read_text(errors);
  EXPECT_EQ(read_text(errors), "") << "ffmpeg printed error lines while decoding fMP4 segments";
}

}  // namespace
