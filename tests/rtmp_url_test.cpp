#include "rtmp/proto/rtmp_url.hpp"

#include <gtest/gtest.h>

#include <string>

#include "rtmp/error.hpp"

namespace {

using namespace rtmp::proto;

rtmp_url parse_ok(std::string_view text, rtmp_url_options options = {}) {
  rtmp_url url;
  std::string_view reason;
  const auto ec = parse_rtmp_url(text, url, options, &reason);
  EXPECT_FALSE(ec) << text << ": " << reason;
  return url;
}

// Expects url_malformed with a reason containing `why`.
void expect_error(std::string_view text, std::string_view why, rtmp_url_options options = {}) {
  rtmp_url url;
  url.host = "untouched";
  std::string_view reason;
  const auto ec = parse_rtmp_url(text, url, options, &reason);
  EXPECT_EQ(ec, rtmp::errc::url_malformed) << text;
  EXPECT_NE(reason.find(why), std::string_view::npos) << text << " -> " << reason;
  EXPECT_EQ(url.host, "untouched") << "output modified on error: " << text;
}

TEST(rtmp_url, basic_form) {
  const auto u = parse_ok("rtmp://example.com/live/stream1");
  EXPECT_EQ(u.scheme, "rtmp");
  EXPECT_FALSE(u.tls);
  EXPECT_EQ(u.host, "example.com");
  EXPECT_FALSE(u.ipv6_literal);
  EXPECT_EQ(u.port, 1935);
  EXPECT_FALSE(u.port_given);
  EXPECT_EQ(u.app, "live");
  EXPECT_EQ(u.stream, "stream1");
  EXPECT_EQ(u.stream_name_without_query(), "stream1");
  EXPECT_EQ(u.query(), "");
  EXPECT_EQ(u.tc_url, "rtmp://example.com/live");
}

TEST(rtmp_url, explicit_port_is_kept_in_tc_url) {
  const auto u = parse_ok("rtmp://127.0.0.1:1936/live/x");
  EXPECT_EQ(u.host, "127.0.0.1");
  EXPECT_EQ(u.port, 1936);
  EXPECT_TRUE(u.port_given);
  EXPECT_EQ(u.tc_url, "rtmp://127.0.0.1:1936/live");
  // Even the default port, when written, appears (as ffmpeg does).
  EXPECT_EQ(parse_ok("rtmp://h:1935/live/x").tc_url, "rtmp://h:1935/live");
  EXPECT_EQ(parse_ok("rtmp://h:65535/live/x").port, 65535);
  EXPECT_EQ(parse_ok("rtmp://h:1/live/x").port, 1);
}

TEST(rtmp_url, rtmps_default_port_and_tls) {
  const auto u = parse_ok("rtmps://live.example.com/app/key");
  EXPECT_EQ(u.scheme, "rtmps");
  EXPECT_TRUE(u.tls);
  EXPECT_EQ(u.port, 443);
  EXPECT_FALSE(u.port_given);
  EXPECT_EQ(u.tc_url, "rtmps://live.example.com/app");
  const auto p = parse_ok("rtmps://h:8443/app/key");
  EXPECT_EQ(p.port, 8443);
  EXPECT_EQ(p.tc_url, "rtmps://h:8443/app");
}

TEST(rtmp_url, scheme_is_case_insensitive) {
  const auto u = parse_ok("RTMP://Host.Example/live/x");
  EXPECT_EQ(u.scheme, "rtmp");
  EXPECT_EQ(u.host, "Host.Example");  // host spelling kept
  EXPECT_EQ(u.tc_url, "rtmp://Host.Example/live");
  EXPECT_TRUE(parse_ok("RtMpS://h/a/b").tls);
}

TEST(rtmp_url, ipv6_literals) {
  const auto u = parse_ok("rtmp://[::1]:1935/live/x");
  EXPECT_EQ(u.host, "::1");
  EXPECT_TRUE(u.ipv6_literal);
  EXPECT_EQ(u.port, 1935);
  EXPECT_EQ(u.tc_url, "rtmp://[::1]:1935/live");
  const auto v = parse_ok("rtmp://[2001:db8::10]/live/x");
  EXPECT_EQ(v.host, "2001:db8::10");
  EXPECT_EQ(v.port, 1935);
  EXPECT_FALSE(v.port_given);
  EXPECT_EQ(v.tc_url, "rtmp://[2001:db8::10]/live");
  EXPECT_EQ(parse_ok("rtmp://[::ffff:192.0.2.1]/a/b").host, "::ffff:192.0.2.1");
  EXPECT_EQ(parse_ok("rtmp://[fe80::1%25eth0]/a/b").host, "fe80::1%25eth0");
}

TEST(rtmp_url, app_instance_split_like_ffmpeg) {
  // Two segments: app / stream.
  auto u = parse_ok("rtmp://h/app/stream");
  EXPECT_EQ(u.app, "app");
  EXPECT_EQ(u.stream, "stream");
  // More than two: the second segment joins the app.
  u = parse_ok("rtmp://h/app/instance/stream");
  EXPECT_EQ(u.app, "app/instance");
  EXPECT_EQ(u.stream, "stream");
  EXPECT_EQ(u.tc_url, "rtmp://h/app/instance");
  u = parse_ok("rtmp://h/app/instance/dir/stream");
  EXPECT_EQ(u.app, "app/instance");
  EXPECT_EQ(u.stream, "dir/stream");
  // A ':' in the second segment marks a playpath (mp4:...), not an instance.
  u = parse_ok("rtmp://h/vod/mp4:dir/file.mp4");
  EXPECT_EQ(u.app, "vod");
  EXPECT_EQ(u.stream, "mp4:dir/file.mp4");
}

TEST(rtmp_url, query_travels_with_the_stream) {
  auto u = parse_ok("rtmp://h/live/x?token=abc");
  EXPECT_EQ(u.app, "live");
  EXPECT_EQ(u.stream, "x?token=abc");
  EXPECT_EQ(u.stream_name_without_query(), "x");
  EXPECT_EQ(u.query(), "token=abc");
  EXPECT_EQ(u.tc_url, "rtmp://h/live");
  // A '/' inside the query does not move the app/stream boundary.
  u = parse_ok("rtmp://h/live/x?next=/a/b&k=v");
  EXPECT_EQ(u.app, "live");
  EXPECT_EQ(u.stream, "x?next=/a/b&k=v");
  EXPECT_EQ(u.query(), "next=/a/b&k=v");
  u = parse_ok("rtmp://h/app/inst/x?t=1");
  EXPECT_EQ(u.app, "app/inst");
  EXPECT_EQ(u.stream, "x?t=1");
  // Empty query.
  u = parse_ok("rtmp://h/live/x?");
  EXPECT_EQ(u.stream, "x?");
  EXPECT_EQ(u.stream_name_without_query(), "x");
  EXPECT_EQ(u.query(), "");
}

TEST(rtmp_url, stream_optional_for_server_urls) {
  const rtmp_url_options optional{false};
  auto u = parse_ok("rtmp://h/live", optional);
  EXPECT_EQ(u.app, "live");
  EXPECT_EQ(u.stream, "");
  EXPECT_EQ(u.tc_url, "rtmp://h/live");
  u = parse_ok("rtmp://h:1936/live/", optional);
  EXPECT_EQ(u.app, "live");
  EXPECT_EQ(u.stream, "");
  u = parse_ok("rtmp://h/live?auth=1", optional);
  EXPECT_EQ(u.app, "live");
  EXPECT_EQ(u.stream, "?auth=1");
  EXPECT_EQ(u.stream_name_without_query(), "");
  EXPECT_EQ(u.query(), "auth=1");
}

TEST(rtmp_url, error_wrong_scheme) {
  expect_error("http://h/live/x", "unsupported scheme");
  expect_error("rtmpt://h/live/x", "unsupported scheme");
  expect_error("rtmpe://h/live/x", "unsupported scheme");
  expect_error("h/live/x", "missing scheme");
  expect_error("rtmp:/h/live/x", "missing scheme");
  expect_error("://h/live/x", "missing scheme");
  expect_error("", "missing scheme");
}

TEST(rtmp_url, error_empty_or_bad_host) {
  expect_error("rtmp:///live/x", "empty host");
  expect_error("rtmp://:1935/live/x", "empty host");
  expect_error("rtmp://[]/live/x", "empty host");
  expect_error("rtmp://ho!st/live/x", "invalid character in host");
  expect_error("rtmp://h?x/live/x", "invalid character in host");
  expect_error("rtmp://user:pw@h/live/x", "user info");
}

TEST(rtmp_url, error_bad_port) {
  expect_error("rtmp://h:/live/x", "invalid port");
  expect_error("rtmp://h:abc/live/x", "invalid port");
  expect_error("rtmp://h:19x5/live/x", "invalid port");
  expect_error("rtmp://h:0/live/x", "invalid port");
  expect_error("rtmp://h:65536/live/x", "invalid port");
  expect_error("rtmp://h:99999999999/live/x", "invalid port");
  expect_error("rtmp://h:-1/live/x", "invalid port");
  expect_error("rtmp://[::1]:0/live/x", "invalid port");
  expect_error("rtmp://fe80::1/live/x", "invalid port");  // unbracketed IPv6
}

TEST(rtmp_url, error_ipv6) {
  expect_error("rtmp://[::1/live/x", "unterminated IPv6");
  expect_error("rtmp://[::1:1935/live/x", "unterminated IPv6");
  expect_error("rtmp://[::1]x/live/x", "after IPv6");
  expect_error("rtmp://[example.com]/live/x", "invalid IPv6");
  expect_error("rtmp://[::g1]/live/x", "invalid IPv6");
  expect_error("rtmp://[fe80::1%]/live/x", "invalid IPv6");
}

TEST(rtmp_url, error_missing_app) {
  expect_error("rtmp://h", "missing application");
  expect_error("rtmp://h/", "missing application");
  expect_error("rtmp://h//x", "missing application");
  expect_error("rtmp://h/?t=1", "missing application");
  expect_error("rtmp://h:1935", "missing application", {false});
  expect_error("rtmp://h/app//x", "empty application instance");
}

TEST(rtmp_url, error_missing_stream_when_required) {
  expect_error("rtmp://h/live", "missing stream");
  expect_error("rtmp://h/live/", "missing stream");
  expect_error("rtmp://h/live/?token=abc", "missing stream");
  expect_error("rtmp://h/app/inst/", "missing stream");
}

TEST(rtmp_url, error_whitespace_and_control_characters) {
  expect_error("rtmp://h/live/x y", "whitespace or control");
  expect_error(" rtmp://h/live/x", "whitespace or control");
  expect_error("rtmp://h/live/x\n", "whitespace or control");
  expect_error("rtmp://h/live/x\t", "whitespace or control");
  expect_error(std::string_view("rtmp://h/live/x\0y", 17), "whitespace or control");
  expect_error("rtmp://h/live/x\x7f", "whitespace or control");
}

TEST(rtmp_url, reason_is_optional) {
  rtmp_url url;
  EXPECT_EQ(parse_rtmp_url("bogus", url), rtmp::errc::url_malformed);
  EXPECT_FALSE(parse_rtmp_url("rtmp://h/a/b", url));
  EXPECT_EQ(url.stream, "b");
}

TEST(rtmp_url, stream_key_strips_the_query) {
  EXPECT_EQ(stream_key("live", "x?token=abc"), "live/x");
  EXPECT_EQ(stream_key("live", "x"), "live/x");
  EXPECT_EQ(stream_key("app/inst", "dir/x?a=1?b=2"), "app/inst/dir/x");
  const auto u = parse_ok("rtmp://h/live/cam?token=secret");
  EXPECT_EQ(stream_key(u.app, u.stream), "live/cam");
}

}  // namespace
