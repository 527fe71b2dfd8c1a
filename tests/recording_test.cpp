// Recording: FLV files of every publish, checked with our FLV
// reader and with ffprobe. The record file on its own (metadata patch, a
// crash before close), file names (placeholders, sanitizing), then the
// in-process server: ffmpeg publishes a 30 s file (not paced) and the
// recording has the source's video frame count; rotation by size; a
// publisher reconnect makes a second file; the rtmp-server program killed
// with SIGKILL mid-publish leaves a readable file; the on-record-done
// command; an unwritable record directory leaves the stream playing.
// Loopback, ephemeral ports, temporary directories; every wait is bounded.

#include <gtest/gtest.h>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/write.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "record/record_file.hpp"
#include "record/record_path.hpp"
#include "rtmp/net/server.hpp"
#include "rtmp/proto/amf0_codec.hpp"
#include "rtmp/proto/command.hpp"
#include "rtmp/proto/flv_reader.hpp"
#include "support/files.hpp"
#include "support/media.hpp"
#include "support/net.hpp"
#include "support/process.hpp"
#include "support/running_server.hpp"
#include "support/test_client.hpp"

namespace {
using namespace rtmp::test;

using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace amf0 = rtmp::proto::amf0;
using bytes = std::vector<std::uint8_t>;

const std::string bin_dir = RTMP_BIN_DIR;

struct parsed_flv {
  bool complete = false;  // ended right after a PreviousTagSize
  std::vector<rtmp::proto::flv_tag> tags;
};

parsed_flv parse_flv(const fs::path& p) {
  parsed_flv out;
  rtmp::proto::flv_reader reader;
  const bytes b = read_binary(p);
  if (reader.feed(b)) return out;
  out.complete = !reader.finish();
  rtmp::proto::flv_tag t;
  while (reader.next(t)) out.tags.push_back(t);
  return out;
}

// duration and filesize of a file's first onMetaData (-1 when missing).
std::pair<double, double> metadata_numbers(const parsed_flv& f) {
  for (const auto& t : f.tags) {
    if (t.type != 18) continue;
    std::vector<amf0::value> v;
    if (!amf0::decode_all(t.payload.span(), v).ok() || v.size() < 2 || v[0].as_string() != "onMetaData") break;
    double d = -1, s = -1;
    if (const auto* a = v[1].as_ecma_array()) {
      for (const auto& p : a->properties()) {
        if (p.key == "duration") d = p.val.as_number();
        if (p.key == "filesize") s = p.val.as_number();
      }
    }
    return {d, s};
  }
  return {-1, -1};
}

std::vector<fs::path> flv_files(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file() && it->path().extension() == ".flv") out.push_back(it->path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string sh_quote(const std::string& s) { return "'" + s + "'"; }

// ffprobe's decoded video frame count of `file` (-1 when ffprobe fails or reports errors).
int video_frames(const std::string& file) {
  temp_dir d;
  const std::string out = d.file("out"), err = d.file("err");
  if (run("ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 " +
              sh_quote(file) + " > " + out + " 2> " + err,
          60s) != 0) {
    return -1;
  }
  if (!rtmp::test::read_text(err).empty()) {
    ADD_FAILURE() << "ffprobe errors on " << file << ": " << rtmp::test::read_text(err);
  }
  const std::string text = rtmp::test::read_text(out);
  return text.empty() ? -1 : std::stoi(text);
}

// The first video packet of `file` is a keyframe (ffprobe's packet flags).
bool starts_with_keyframe(const std::string& file) {
  temp_dir d;
  const std::string out = d.file("out");
  if (run("ffprobe -v error -select_streams v:0 -show_entries packet=flags -of csv=p=0 " + sh_quote(file) + " > " +
              out,
          60s) != 0) {
    return false;
  }
  const std::string text = rtmp::test::read_text(out);
  return !text.empty() && text[0] == 'K';
}

// --- the record file alone --------------------------------------------------------

TEST(recording_file, close_patches_duration_and_filesize_in_the_publishers_metadata) {
  temp_dir d;
  const fs::path p = d.path() / "a.flv";
  rtmp::net::record_file f(1024, 1000ms);
  ASSERT_FALSE(f.open(p, {}));
  amf0::ecma_array meta;
  meta.push_back("width", 320.0);
  meta.push_back("duration", 99.0);  // the publisher's own value is replaced
  ASSERT_FALSE(f.write_metadata(rtmp::proto::on_metadata_message(meta)));
  ASSERT_FALSE(f.write_tag(9, 0, avc_sequence_header()));
  for (std::uint32_t i = 0; i < 50; ++i) ASSERT_FALSE(f.write_tag(9, i * 40, video_frame(i % 25 == 0, 300)));
  EXPECT_EQ(f.open(p, {}), std::errc::device_or_resource_busy);
  ASSERT_FALSE(f.close(1960));
  const parsed_flv got = parse_flv(p);
  ASSERT_TRUE(got.complete);
  ASSERT_EQ(got.tags.size(), 52u);
  const auto [duration, filesize] = metadata_numbers(got);
  EXPECT_DOUBLE_EQ(duration, 1.96);
  EXPECT_DOUBLE_EQ(filesize, static_cast<double>(fs::file_size(p)));
  std::vector<amf0::value> v;
  ASSERT_TRUE(amf0::decode_all(got.tags[0].payload.span(), v).ok());
  EXPECT_DOUBLE_EQ(v[1].as_ecma_array()->properties().at(2).val.as_number(), 320.0);  // kept, after the two
  // Never overwrites.
  rtmp::net::record_file again(1024, 1000ms);
  EXPECT_EQ(again.open(p, {}), std::errc::file_exists);
}

TEST(recording_file, a_crash_before_close_leaves_whole_tags_up_to_the_last_flush) {
  temp_dir d;
  const fs::path p = d.path() / "crash.flv";
  {
    rtmp::net::record_file f(4096, 1000ms);  // flushed every 4 KiB
    ASSERT_FALSE(f.open(p, {}));
    ASSERT_FALSE(f.write_metadata({}));  // no publisher metadata: a minimal one
    for (std::uint32_t i = 0; i < 100; ++i) ASSERT_FALSE(f.write_tag(9, i * 40, video_frame(i == 0, 1000)));
    f.abandon();  // no flush, no patch: what SIGKILL leaves
  }
  const parsed_flv got = parse_flv(p);
  EXPECT_TRUE(got.complete) << "the file must end at a tag boundary";
  EXPECT_GT(got.tags.size(), 80u);
  EXPECT_LT(got.tags.size(), 101u);
  EXPECT_EQ(metadata_numbers(got).first, 0.0);  // unpatched: unknown
}

TEST(recording_file, flush_if_due_writes_buffered_tags_after_the_interval) {
  temp_dir d;
  const fs::path p = d.path() / "slow.flv";
  rtmp::net::record_file f(1 << 20, 50ms);
  ASSERT_FALSE(f.open(p, {}));
  ASSERT_FALSE(f.write_tag(9, 0, video_frame(true, 500)));
  const auto before = fs::file_size(p);
  ASSERT_FALSE(f.flush_if_due(rtmp::net::record_file::clock::now()));
  EXPECT_EQ(fs::file_size(p), before) << "not due yet";
  std::this_thread::sleep_for(60ms);
  ASSERT_FALSE(f.flush_if_due(rtmp::net::record_file::clock::now()));
  EXPECT_EQ(fs::file_size(p), f.size());
}

// --- file names ---------------------------------------------------------------------

TEST(recording_path, placeholders_and_sanitizing_keep_files_inside_the_directory) {
  using rtmp::net::expand_record_pattern;
  const auto t = std::chrono::system_clock::from_time_t(1795635000);  // 2026-11-25 19:30:00 UTC
  fs::path out;
  ASSERT_FALSE(expand_record_pattern("{app}/{stream}-{time}.flv", "live", "cam", t, 0, out));
  EXPECT_EQ(out, "live/cam-20261125-193000.flv");
  ASSERT_FALSE(expand_record_pattern("{app}/{stream}/{n}.flv", "live", "cam", t, 7, out));
  EXPECT_EQ(out, "live/cam/7.flv");
  ASSERT_FALSE(expand_record_pattern("{app}/{stream}.flv", "..", "../../etc/passwd", t, 0, out));
  EXPECT_EQ(out, "_./_._.._etc_passwd.flv");
  ASSERT_FALSE(expand_record_pattern("{stream}.flv", "live", std::string("a\nb\x01/c\\d e\xc3\xa9"), t, 0, out));
  EXPECT_EQ(out, "a_b__c_d_e__.flv");
  ASSERT_FALSE(expand_record_pattern("{stream}.flv", "live", "", t, 0, out));
  EXPECT_EQ(out, "_.flv");
  ASSERT_FALSE(expand_record_pattern("{stream}.flv", "live", std::string(300, 'x'), t, 0, out));
  EXPECT_EQ(out.string().size(), rtmp::net::max_record_name_component + 4);
  // The operator's pattern cannot leave the directory either.
  EXPECT_TRUE(expand_record_pattern("../{stream}.flv", "live", "cam", t, 0, out));
  EXPECT_TRUE(expand_record_pattern("/tmp/{stream}.flv", "live", "cam", t, 0, out));
  EXPECT_TRUE(expand_record_pattern("{stream}/", "live", "cam", t, 0, out));
  EXPECT_TRUE(expand_record_pattern("{nope}.flv", "live", "cam", t, 0, out));
  EXPECT_EQ(rtmp::net::numbered_record_path("live/cam-1.flv", 2), fs::path("live/cam-1_2.flv"));
}

// --- the server ---------------------------------------------------------------------

class recording_test : public ::testing::Test {
 protected:
  void TearDown() override { server_.stop(); }

  void start(const std::function<void(rtmp::net::recording_config&)>& tweak) {
    auto cfg = rtmp::test::loopback_config();
    cfg.recording.apps["live"] = rtmp::net::record_mode::all;
    cfg.recording.path = (dir_.path() / "rec").string();
    if (tweak) tweak(cfg.recording);
    server_.start(cfg);
  }

  std::string url(const std::string& name) const {
    return "rtmp://127.0.0.1:" + std::to_string(server_.port()) + "/live/" + name;
  }

  fs::path rec() const { return dir_.path() / "rec"; }

  temp_dir dir_;
  rtmp::test::running_server server_;
};

// A publisher with metadata, an H.264 header and `frames` frames (keyframe every 25).
void publish_synthetic(test_client& pub, const std::string& name, int frames) {
  ASSERT_EQ(pub.publish(name), "NetStream.Publish.Start");
  amf0::ecma_array meta;
  meta.push_back("videocodecid", 7.0);
  pub.send_media(18, 0, rtmp::proto::set_data_frame_message(meta));
  pub.send_media(9, 0, avc_sequence_header());
  for (int i = 0; i < frames; ++i) pub.send_media(9, 1000 + i * 40, video_frame(i % 25 == 0, 400));
}

TEST_F(recording_test, stream_names_are_sanitized_inside_the_record_directory) {
  // The server refuses "..", "/" and control characters in stream names
  // already (T-31); a leading "." would still make a hidden file.
  start([&](rtmp::net::recording_config& r) { r.path = (dir_.path() / "a" / "b" / "rec").string(); });
  {
    test_client pub(server_.port());
    publish_synthetic(pub, ".cam", 30);
    std::this_thread::sleep_for(200ms);
  }
  server_->stop();
  std::vector<fs::path> all = flv_files(dir_.path());
  ASSERT_EQ(all.size(), 1u);
  const fs::path rel = all[0].lexically_relative(dir_.path() / "a" / "b" / "rec");
  EXPECT_EQ(rel.begin()->string(), "live") << all[0];
  EXPECT_EQ(rel.filename().string().rfind("_cam-", 0), 0u) << rel;
  const parsed_flv f = parse_flv(all[0]);
  EXPECT_TRUE(f.complete);
  EXPECT_EQ(f.tags.size(), 32u);  // metadata, header, 30 frames
  EXPECT_DOUBLE_EQ(metadata_numbers(f).first, 29 * 0.04);
  EXPECT_EQ(f.tags.at(2).timestamp, 0u) << "rebased to the first frame";
}

TEST_F(recording_test, an_unwritable_directory_is_logged_and_the_stream_keeps_flowing) {
  const fs::path blocker = dir_.path() / "not-a-dir";
  std::ofstream(blocker) << "x";
  start([&](rtmp::net::recording_config& r) { r.path = (blocker / "rec").string(); });
  test_client player(server_.port());
  ASSERT_EQ(player.play("cam"), "NetStream.Play.Start");
  test_client pub(server_.port());
  publish_synthetic(pub, "cam", 60);
  int video = 0;
  while (auto m = player.next(3s)) {
    if (m->type == 9) ++video;
    if (video == 61) break;
  }
  EXPECT_EQ(video, 61) << "the player gets the header and every frame";
  EXPECT_TRUE(flv_files(dir_.path()).empty());
}

TEST_F(recording_test, on_record_done_runs_the_command_with_the_path) {
  const std::string done = dir_.file("done.txt");
  start([&](rtmp::net::recording_config& r) {
    r.on_done = "echo \"$1|$RTMP_RECORD_APP|$RTMP_RECORD_STREAM|$RTMP_RECORD_BYTES|$RTMP_RECORD_DURATION_MS\" > " +
                done + ".tmp && mv " + done + ".tmp " + done;
  });
  {
    test_client pub(server_.port());
    publish_synthetic(pub, "cam", 26);
    std::this_thread::sleep_for(200ms);
  }
  ASSERT_TRUE(wait_until([&] { return fs::exists(done); }, 10s)) << "the hook did not run";
  const auto files = flv_files(rec());
  ASSERT_EQ(files.size(), 1u);
  const std::string expected = files[0].string() + "|live|cam|" + std::to_string(fs::file_size(files[0])) + "|1000\n";
  EXPECT_EQ(rtmp::test::read_text(done), expected);
}

TEST_F(recording_test, on_record_done_posts_json_to_an_http_url) {
  // A one-shot HTTP server: reads one request, answers 204.
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const auto hook_port = acceptor.local_endpoint().port();
  std::string request;
  std::thread hook([&] {
    asio::ip::tcp::socket s(io);
    std::error_code ec;
    acceptor.non_blocking(true);
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      acceptor.accept(s, ec);
      if (!ec) break;
      std::this_thread::sleep_for(10ms);
    }
    if (ec) return;
    char buf[4096];
    while (request.find("}") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      const std::size_t n = s.read_some(asio::buffer(buf), ec);
      if (ec) return;
      request.append(buf, n);
    }
    asio::write(s, asio::buffer(std::string("HTTP/1.1 204 No Content\r\n\r\n")), ec);
  });
  start([&](rtmp::net::recording_config& r) { r.on_done = "http://127.0.0.1:" + std::to_string(hook_port) + "/done"; });
  {
    test_client pub(server_.port());
    publish_synthetic(pub, "cam", 26);
    std::this_thread::sleep_for(200ms);
  }
  hook.join();
  const auto files = flv_files(rec());
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(request.rfind("POST /done HTTP/1.1\r\n", 0), 0u) << request;
  const std::string expected = R"({"app":"live","bytes":)" + std::to_string(fs::file_size(files[0])) +
                               R"(,"duration_ms":1000,"path":")" + files[0].string() + R"(","stream":"cam"})";
  EXPECT_NE(request.find(expected), std::string::npos) << request;
}

// --- with ffmpeg ----------------------------------------------------------------------

class recording_ffmpeg : public recording_test {
 protected:
  static void SetUpTestSuite() {
    if (!rtmp::test::have_program("ffmpeg") || !rtmp::test::have_program("ffprobe")) return;
    source_dir_ = new temp_dir;
    // 30 s, 25 fps, GOP 1 s, H.264 + AAC, made once (about 2 s).
    const std::string src = source_dir_->file("src.flv");
    if (run("ffmpeg -nostdin -loglevel error -f lavfi -i testsrc=size=160x120:rate=25 -f lavfi "
            "-i sine=frequency=440:sample_rate=44100 -t 30 -c:v libx264 -preset ultrafast -g 25 -pix_fmt yuv420p "
            "-c:a aac -b:a 32k -f flv " +
                src,
            60s) == 0) {
      source_ = src;
      source_frames_ = video_frames(src);
    }
  }
  static void TearDownTestSuite() {
    delete source_dir_;
    source_dir_ = nullptr;
  }
  void SetUp() override {
    RTMP_REQUIRE_TOOL(rtmp::test::have_program("ffmpeg") && rtmp::test::have_program("ffprobe"),
                      "ffmpeg/ffprobe not installed");
    ASSERT_FALSE(source_.empty()) << "could not make the source file";
    ASSERT_EQ(source_frames_, 750);
  }

  // Publishes the source (or its first `seconds`) as fast as possible; true
  // when ffmpeg succeeded and the server then read the whole stream. ffmpeg
  // exits once its bytes are in the socket: a slow (sanitized) server may
  // still be reading them, so wait until it has closed the publisher's
  // connection at the end of the stream (at most 30 s).
  bool publish_source(const std::string& name, int seconds = 0) {
    const std::string limit = seconds > 0 ? " -t " + std::to_string(seconds) : "";
    if (run("ffmpeg -nostdin -loglevel error -i " + source_ + limit + " -c copy -f flv " + url(name), 60s) != 0) {
      return false;
    }
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (server_->stats().connections > 0) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(20ms);
    }
    return true;
  }

  static inline temp_dir* source_dir_ = nullptr;
  static inline std::string source_;
  static inline int source_frames_ = 0;
};

TEST_F(recording_ffmpeg, a_30_s_publish_is_recorded_with_every_video_frame) {
  start({});
  ASSERT_TRUE(publish_source("cam"));
  server_->stop();  // the recording is finished (duration patched)
  const auto files = flv_files(rec());
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].parent_path().filename(), "live");
  EXPECT_EQ(files[0].filename().string().rfind("cam-20", 0), 0u) << files[0];
  EXPECT_EQ(video_frames(files[0].string()), source_frames_);
  const parsed_flv f = parse_flv(files[0]);
  EXPECT_TRUE(f.complete);
  const auto [duration, filesize] = metadata_numbers(f);
  EXPECT_NEAR(duration, 30.0, 0.2);
  EXPECT_DOUBLE_EQ(filesize, static_cast<double>(fs::file_size(files[0])));
}

TEST_F(recording_ffmpeg, rotation_by_size_gives_decodable_pieces_that_add_up) {
  start([](rtmp::net::recording_config& r) {
    r.max_bytes = 150 * 1024;
    r.pattern = "{app}/{stream}-{n}.flv";
  });
  ASSERT_TRUE(publish_source("cam"));
  server_->stop();
  const auto files = flv_files(rec());
  ASSERT_GE(files.size(), 3u);
  int total = 0;
  for (std::size_t i = 0; i < files.size(); ++i) {
    const std::string name = "cam-" + std::to_string(i) + ".flv";
    EXPECT_TRUE(std::any_of(files.begin(), files.end(), [&](const fs::path& p) { return p.filename() == name; }))
        << name;
    EXPECT_TRUE(starts_with_keyframe(files[i].string())) << files[i];
    const int n = video_frames(files[i].string());
    EXPECT_GT(n, 0) << files[i];
    total += n;
    // Each piece is about the limit: it ends at the first keyframe past it.
    if (i + 1 < files.size()) {
      EXPECT_GE(fs::file_size(files[i]), 150u * 1024) << files[i];
    }
  }
  EXPECT_EQ(total, source_frames_);
}

TEST_F(recording_ffmpeg, a_publisher_that_reconnects_gets_a_second_file) {
  start({});
  ASSERT_TRUE(publish_source("cam", 2));
  ASSERT_TRUE(publish_source("cam", 3));
  server_->stop();
  const auto files = flv_files(rec());
  ASSERT_EQ(files.size(), 2u);
  std::vector<int> frames{video_frames(files[0].string()), video_frames(files[1].string())};
  std::sort(frames.begin(), frames.end());
  EXPECT_EQ(frames, (std::vector<int>{50, 75}));
}

TEST_F(recording_ffmpeg, the_file_of_a_killed_server_is_still_readable) {
  const std::uint16_t port = free_port();
  const std::string log = dir_.file("server.log");
  rtmp::test::child_process server(bin_dir + "/rtmp-server --listen 127.0.0.1:" + std::to_string(port) +
                                   " --record live=all --record-path " + rec().string() + " 2> " + log);
  ASSERT_TRUE(wait_until([&] { return port_open(port); }, 10s))
      << rtmp::test::read_text(log);
  rtmp::test::child_process pub("ffmpeg -nostdin -loglevel error -re -i " + source_ +
                                " -c copy -f flv rtmp://127.0.0.1:" + std::to_string(port) + "/live/cam");
  // Mid-publish: at least one flush interval of media is on disk.
  std::this_thread::sleep_for(3500ms);
  server.signal(SIGKILL);
  server.kill();
  pub.kill();
  const auto files = flv_files(rec());
  ASSERT_EQ(files.size(), 1u) << rtmp::test::read_text(log);
  const parsed_flv f = parse_flv(files[0]);
  EXPECT_TRUE(f.complete) << "a killed server leaves whole tags";
  EXPECT_EQ(metadata_numbers(f).first, 0.0) << "not patched";
  const int n = video_frames(files[0].string());
  EXPECT_GE(n, 25) << "about 2 s or more of the publish is on disk";
  EXPECT_LT(n, source_frames_);
}

}  // namespace
