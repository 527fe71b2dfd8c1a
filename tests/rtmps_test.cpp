// RTMPS: RTMP inside TLS. The in-process server with a plain and a TLS
// listener (a self-signed certificate made at test time), rtmp::net::client
// and the rtmp-client program over rtmps://, ffmpeg publishing over rtmps://,
// certificate checks, and what a wrong-protocol peer gets on either port.
#include <gtest/gtest.h>

#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

#include <array>
#include <sstream>
#include <thread>

#include "rtmp/net/client.hpp"
#include "rtmp/net/server.hpp"
#include "support/process.hpp"
#include "support/running_server.hpp"
#include "support/tls_cert.hpp"

namespace {

using namespace std::chrono_literals;
using rtmp::proto::client_event;
using rtmp::test::child_process;
using rtmp::test::run;

const std::string client_bin = std::string(RTMP_BIN_DIR) + "/rtmp-client";

// A video message: AVC sequence header (key) or a coded frame with a marker byte.
rtmp::proto::message video(std::uint32_t ts, bool key, bool sequence_header, std::uint8_t marker) {
  std::vector<std::uint8_t> body = {static_cast<std::uint8_t>(key ? 0x17 : 0x27),
                                    static_cast<std::uint8_t>(sequence_header ? 0 : 1), 0, 0, 0};
  body.resize(sequence_header ? 40 : 3000, marker);
  rtmp::proto::message m;
  m.type = 9;
  m.timestamp = ts;
  m.payload = rtmp::proto::shared_bytes::copy_of(body);
  return m;
}

// The in-process server's settings with a plain and a TLS listener on
// 127.0.0.1 (ephemeral ports) serving the certificate and key `files`.
rtmp::net::server_config tls_config(const rtmp::test::tls_files& files, std::size_t workers = 2) {
  auto cfg = rtmp::test::loopback_config(workers);
  cfg.tls_listen = {"127.0.0.1:0"};
  cfg.tls_cert_file = files.cert;
  cfg.tls_key_file = files.key;
  return cfg;
}

class rtmps : public ::testing::Test {
 protected:
  void SetUp() override {
    files_ = rtmp::test::make_self_signed_certificate(dir_.path().string());
    ASSERT_FALSE(files_.cert.empty()) << "could not make a self-signed certificate";
    auto cfg = tls_config(files_);
    cfg.handshake_timeout = 3s;
    server_.start(cfg);
    ASSERT_EQ(server_->tls_endpoints().size(), 1u);
  }

  std::string tls_url(const std::string& name) const {
    return "rtmps://127.0.0.1:" + std::to_string(server_.tls_port()) + "/live/" + name;
  }
  std::string plain_url(const std::string& name) const {
    return "rtmp://127.0.0.1:" + std::to_string(server_.port()) + "/live/" + name;
  }
  rtmp::net::client_options trusting() const {
    rtmp::net::client_options o;
    o.tls_ca_file = files_.cert;
    return o;
  }
  // Video payload markers (byte 5) a player received, until `count` or `limit`.
  static std::vector<std::uint8_t> receive_markers(rtmp::net::client& c, std::size_t count,
                                                   std::chrono::milliseconds limit) {
    std::vector<std::uint8_t> markers;
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (markers.size() < count && std::chrono::steady_clock::now() < deadline) {
      const auto ec = c.receive(
          [&](const client_event& ev) {
            if (ev.type == client_event::kind::media && ev.msg.type == 9 && ev.msg.payload.size() > 5) {
              markers.push_back(ev.msg.payload.span()[5]);
            }
            return markers.size() < count;
          },
          200ms);
      if (ec) break;
    }
    return markers;
  }

  rtmp::test::temp_dir dir_;
  rtmp::test::tls_files files_;
  rtmp::test::running_server server_;
};

TEST_F(rtmps, publish_and_play_over_tls_with_the_certificate_checked_and_a_plain_player_alongside) {
  rtmp::net::client tls_player(trusting());
  ASSERT_FALSE(tls_player.connect(tls_url("x"), 5s));
  ASSERT_FALSE(tls_player.play(5s));
  rtmp::net::client plain_player;
  ASSERT_FALSE(plain_player.connect(plain_url("x"), 5s));
  ASSERT_FALSE(plain_player.play(5s));

  rtmp::net::client publisher(trusting());
  ASSERT_FALSE(publisher.connect(tls_url("x"), 5s));
  ASSERT_FALSE(publisher.publish(5s));
  ASSERT_FALSE(publisher.send(video(0, true, true, 0)));
  for (std::uint8_t i = 1; i <= 30; ++i) {
    ASSERT_FALSE(publisher.send(video(i * 40u, i % 10 == 1, false, i)));
  }
  ASSERT_FALSE(publisher.wait_until(std::chrono::steady_clock::now() + 100ms));

  std::vector<std::uint8_t> expected = {0};  // the sequence header, then frames 1..30 in order
  for (std::uint8_t i = 1; i <= 30; ++i) expected.push_back(i);
  EXPECT_EQ(receive_markers(tls_player, expected.size(), 10s), expected);
  EXPECT_EQ(receive_markers(plain_player, expected.size(), 10s), expected);
  EXPECT_FALSE(publisher.finish(3s));
  // TLS costs bytes: the TLS player read more than the payloads it got.
  EXPECT_GT(tls_player.stats().bytes_received, 30u * 3000u);
}

TEST_F(rtmps, an_untrusted_certificate_is_refused_unless_verification_is_off) {
  rtmp::net::client strict;  // the system's trust store: our self-signed certificate is not in it
  const auto ec = strict.connect(tls_url("v"), 5s);
  ASSERT_TRUE(ec);
  EXPECT_STREQ(ec.category().name(), "asio.ssl") << ec.message();
  EXPECT_FALSE(strict.is_open());

  rtmp::net::client_options insecure;
  insecure.tls_verify = false;
  rtmp::net::client lax(insecure);
  EXPECT_FALSE(lax.connect(tls_url("v"), 5s));

  // Trusted, and reached by host name (SNI "localhost", DNS:localhost in the certificate).
  rtmp::net::client by_name(trusting());
  EXPECT_FALSE(by_name.connect("rtmps://localhost:" + std::to_string(server_.tls_port()) + "/live/v", 5s));

  // Trusted by the CA file, but for another name than the one we connect to.
  rtmp::test::temp_dir other_dir;
  const auto other = rtmp::test::make_self_signed_certificate(other_dir.path().string(), "DNS:elsewhere.example");
  ASSERT_FALSE(other.cert.empty());
  rtmp::test::running_server elsewhere(tls_config(other, 1));
  ASSERT_NE(elsewhere.tls_port(), 0);
  rtmp::net::client_options trust_other;
  trust_other.tls_ca_file = other.cert;
  rtmp::net::client wrong_name(trust_other);
  const auto name_ec = wrong_name.connect(
      "rtmps://127.0.0.1:" + std::to_string(elsewhere.tls_port()) + "/live/v", 5s);
  ASSERT_TRUE(name_ec);
  EXPECT_STREQ(name_ec.category().name(), "asio.ssl") << name_ec.message();
  trust_other.tls_verify = false;  // the same server is fine without the check
  rtmp::net::client unchecked(trust_other);
  EXPECT_FALSE(unchecked.connect(
      "rtmps://127.0.0.1:" + std::to_string(elsewhere.tls_port()) + "/live/v", 5s));
  elsewhere.stop();

  rtmp::net::client_options missing;
  missing.tls_ca_file = dir_.file("no-such-ca.pem");
  rtmp::net::client bad_ca(missing);
  EXPECT_EQ(bad_ca.connect(tls_url("v"), 3s), std::make_error_code(std::errc::invalid_argument));
}

TEST_F(rtmps, wrong_protocol_on_either_port_is_closed_and_a_tls_session_keeps_streaming) {
  rtmp::net::client player(trusting());
  ASSERT_FALSE(player.connect(tls_url("w"), 5s));
  ASSERT_FALSE(player.play(5s));
  rtmp::net::client publisher(trusting());
  ASSERT_FALSE(publisher.connect(tls_url("w"), 5s));
  ASSERT_FALSE(publisher.publish(5s));
  ASSERT_FALSE(publisher.send(video(0, true, true, 0)));

  // A plain RTMP handshake (C0 = 3, then C1) on the TLS port: not a
  // ClientHello, so the TLS handshake fails and the server closes.
  asio::io_context io;
  asio::ip::tcp::socket raw(io);
  raw.connect({asio::ip::make_address("127.0.0.1"), server_.tls_port()});
  std::vector<std::uint8_t> c0c1(1537, 0x5a);
  c0c1[0] = 3;
  asio::write(raw, asio::buffer(c0c1));
  std::array<std::uint8_t, 4096> buf{};
  std::error_code rec;
  std::size_t got = 0;
  const auto started = std::chrono::steady_clock::now();
  for (;;) {
    const std::size_t n = raw.read_some(asio::buffer(buf), rec);
    got += n;
    if (rec) break;
  }
  EXPECT_TRUE(rec == asio::error::eof || rec == asio::error::connection_reset) << rec.message();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);  // at once, not at the handshake deadline
  EXPECT_LT(got, 1537u);  // never an RTMP S0+S1

  // rtmps:// to the plain port: the server sees a bad C0 and closes; the client reports an error.
  rtmp::net::client_options lax;
  lax.tls_verify = false;
  rtmp::net::client confused(lax);
  EXPECT_TRUE(confused.connect("rtmps://127.0.0.1:" + std::to_string(server_.port()) + "/live/w", 3s));

  // The TLS session was not disturbed.
  for (std::uint8_t i = 1; i <= 5; ++i) ASSERT_FALSE(publisher.send(video(i * 40u, i == 1, false, i)));
  EXPECT_EQ(receive_markers(player, 6, 10s), (std::vector<std::uint8_t>{0, 1, 2, 3, 4, 5}));
}

TEST_F(rtmps, a_missing_or_mismatched_key_fails_at_start) {
  rtmp::test::temp_dir other_dir;
  const auto other = rtmp::test::make_self_signed_certificate(other_dir.path().string());
  ASSERT_FALSE(other.key.empty());
  for (const auto& [cert, key] : {std::pair{files_.cert, other.key}, std::pair{files_.cert, dir_.file("none.pem")},
                                  std::pair{dir_.file("none.pem"), files_.key}}) {
    rtmp::net::server s(tls_config({cert, key}, 1));
    EXPECT_EQ(s.start(), std::make_error_code(std::errc::invalid_argument)) << cert << " " << key;
  }
}

TEST_F(rtmps, ffmpeg_publishes_over_rtmps_and_rtmp_client_plays_it_back_over_rtmps) {
  RTMP_REQUIRE_TOOL(rtmp::test::have_program("ffmpeg") && rtmp::test::have_program("ffprobe"),
                    "ffmpeg/ffprobe not installed");
  const std::string out = dir_.file("played.flv");
  const std::string err = dir_.file("client.err");
  // Our client first (it waits for the publisher), over rtmps with the CA file.
  child_process player(client_bin + " play " + tls_url("ff") + " --ca-file " + files_.cert + " -o " + out +
                       " -q --timeout 10 2> " + err);
  std::this_thread::sleep_for(300ms);
  const std::string pub_err = dir_.file("ffmpeg.err");
  const int pub = run("ffmpeg -nostdin -loglevel error -re -f lavfi -i testsrc=size=320x240:rate=25 "
                      "-f lavfi -i sine=frequency=440:sample_rate=44100 -t 3 -c:v libx264 -preset ultrafast "
                      "-g 25 -pix_fmt yuv420p -c:a aac -b:a 64k -f flv " +
                          tls_url("ff") + " 2> " + pub_err,
                      60s);
  ASSERT_EQ(pub, 0) << rtmp::test::read_text(pub_err);
  // The publisher left: the player ends by itself.
  EXPECT_EQ(player.wait(15s), 0) << rtmp::test::read_text(err);
  const std::string probe = dir_.file("probe.txt");
  ASSERT_EQ(run("ffprobe -v error -count_packets -show_entries stream=codec_name,width,height,nb_read_packets "
                "-of csv=p=0 " + out + " > " + probe,
                30s),
            0);
  const std::string p = rtmp::test::read_text(probe);
  EXPECT_NE(p.find("aac"), std::string::npos) << p;
  std::istringstream in(p);
  int frames = -1;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("h264,320,240,", 0) == 0) frames = std::stoi(line.substr(13));
  }
  // 75 frames published; the player joined before the publisher, so it gets all of them.
  EXPECT_EQ(frames, 75) << p;
}

}  // namespace
