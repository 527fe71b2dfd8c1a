// Restreaming one ffmpeg publish to three targets at once: a second
// rtmp-server over RTMPS with a self-signed CA (--ca-file), nginx-rtmp under
// a full URL naming another stream key, and a target that refuses
// connections. The good ones serve H.264 + AAC under their own keys, the
// refusing one reconnects without costing the others anything, and no log
// line or API field of the restreaming server shows a key.

#include <gtest/gtest.h>

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <string>

#include "support/counting_sink.hpp"
#include "support/http_client.hpp"
#include "support/net.hpp"
#include "support/nginx.hpp"
#include "support/process.hpp"
#include "support/running_server.hpp"
#include "support/tls_cert.hpp"

namespace {

using namespace std::chrono_literals;

const std::string server_bin = std::string(RTMP_BIN_DIR) + "/rtmp-server";

class restream : public ::testing::Test {
 protected:
  void SetUp() override {
    RTMP_REQUIRE_TOOL(rtmp::test::have_program("ffmpeg") && rtmp::test::have_program("ffprobe"),
                      "ffmpeg/ffprobe not installed");
    sink_ = std::make_shared<rtmp::test::text_sink>();
    old_ = spdlog::default_logger();
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("restream", spdlog::sinks_init_list{sink_}));
    spdlog::set_level(spdlog::level::info);
  }
  void TearDown() override {
    if (old_) spdlog::set_default_logger(old_);
  }

  // What ffprobe finds at `url` ("h264\naac\n"), within 20 s.
  std::string probe(const std::string& url) {
    const std::string out = dir_.file("probe.txt");
    rtmp::test::run("ffprobe -v error -rw_timeout 15000000 -show_entries stream=codec_name -of csv=p=0 '" + url +
                        "' > " + out + " 2>&1",
                    20s);
    return rtmp::test::read_text(out);
  }

  std::shared_ptr<rtmp::test::text_sink> sink_;
  std::shared_ptr<spdlog::logger> old_;
  rtmp::test::temp_dir dir_;
};

TEST_F(restream, one_publish_goes_to_rtmps_nginx_and_a_refusing_target_without_showing_a_key) {
  // Target 1: another rtmp-server, RTMPS with a self-signed certificate for "localhost".
  const auto tls = rtmp::test::make_self_signed_certificate(dir_.path().string());
  ASSERT_FALSE(tls.cert.empty());
  const std::uint16_t a_plain = rtmp::test::free_port(), a_tls = rtmp::test::free_port();
  rtmp::test::child_process a(server_bin + " -w 1 -l 127.0.0.1:" + std::to_string(a_plain) +
                              " --tls-listen 127.0.0.1:" + std::to_string(a_tls) + " --tls-cert " + tls.cert +
                              " --tls-key " + tls.key + " > " + dir_.file("a.log") + " 2>&1");
  ASSERT_TRUE(rtmp::test::wait_until([&] { return rtmp::test::port_open(a_tls); }, 10s))
      << rtmp::test::read_text(dir_.file("a.log"));
  // Target 2: nginx-rtmp, application "ingest".
  rtmp::test::nginx_rtmp_server nginx(dir_.path().string(), {"ingest"});
  RTMP_REQUIRE_TOOL(nginx.ok(), nginx.why());
  // Target 3: nothing listens there.
  const std::uint16_t refusing = rtmp::test::free_port();

  auto cfg = rtmp::test::loopback_config();
  cfg.http_listen = {"127.0.0.1:0"};
  cfg.relay.ca_file = tls.cert;
  cfg.relay.backoff_initial = 200ms;
  cfg.relay.backoff_max = 400ms;
  cfg.relay.push = {
      *rtmp::net::parse_push_target("live/cam=rtmps://localhost:" + std::to_string(a_tls) + "/live/KEY-ALPHA"),
      *rtmp::net::parse_push_target("live/cam=rtmp://127.0.0.1:" + std::to_string(nginx.port()) +
                                    "/ingest/KEY-BRAVO?pass=KEY-QUERY"),
      *rtmp::net::parse_push_target("live=rtmp://127.0.0.1:" + std::to_string(refusing) + "/live"),
  };
  rtmp::test::running_server source(cfg);

  rtmp::test::child_process ffmpeg(rtmp::test::ffmpeg_live_publish(
      "rtmp://127.0.0.1:" + std::to_string(source.port()) + "/live/cam", 30, dir_.file("ffmpeg.log")));

  // Both good targets serve the stream under their own keys.
  const std::string at_a = probe("rtmp://127.0.0.1:" + std::to_string(a_plain) + "/live/KEY-ALPHA");
  EXPECT_NE(at_a.find("h264"), std::string::npos) << at_a << rtmp::test::read_text(dir_.file("a.log"));
  EXPECT_NE(at_a.find("aac"), std::string::npos) << at_a;
  const std::string at_b = probe("rtmp://127.0.0.1:" + std::to_string(nginx.port()) + "/ingest/KEY-BRAVO");
  EXPECT_NE(at_b.find("h264"), std::string::npos) << at_b << nginx.log();
  EXPECT_NE(at_b.find("aac"), std::string::npos) << at_b;

  // /api/streams: each push with its state; the refusing one keeps trying.
  nlohmann::json pushes;
  ASSERT_TRUE(rtmp::test::wait_until(
      [&] {
        const auto r = rtmp::test::http_get(source.http_port(), "/api/streams/live/cam");
        if (r.status != 200) return false;
        pushes = nlohmann::json::parse(r.body)["pushes"];
        for (const auto& p : pushes) {
          if (p["url"].get<std::string>().find(std::to_string(refusing)) != std::string::npos &&
              p["reconnects"].get<int>() >= 2) {
            return true;
          }
        }
        return false;
      },
      10s))
      << pushes.dump(2);
  ASSERT_EQ(pushes.size(), 3u) << pushes.dump(2);
  int publishing = 0;
  for (const auto& p : pushes) {
    if (p["state"] == "publishing") {
      ++publishing;
      EXPECT_GT(p["bytes_sent"].get<std::uint64_t>(), 10000u) << p.dump();
    }
  }
  EXPECT_EQ(publishing, 2) << "the refusing target costs the others nothing: " << pushes.dump(2);

  const std::string api_text = pushes.dump();
  const std::string logs = sink_->all();
  for (const char* key : {"KEY-ALPHA", "KEY-BRAVO", "KEY-QUERY"}) {
    EXPECT_EQ(api_text.find(key), std::string::npos) << key << " in /api/streams: " << api_text;
    EXPECT_EQ(logs.find(key), std::string::npos) << key << " in the logs:\n" << logs;
  }
  EXPECT_NE(logs.find("<redacted>"), std::string::npos) << "the push lines name their targets, redacted";
}

}  // namespace
