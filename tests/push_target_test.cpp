// Push rules: APP=URL and APP/STREAM=URL, server URLs that get the stream's
// name and ingest URLs used as they are (query included), {app} and
// {stream}, and stream keys redacted for logs and the API.
#include <gtest/gtest.h>

#include "rtmp/net/relay.hpp"

namespace rtmp::net {
namespace {

push_target parsed(const char* rule) {
  std::string why;
  auto t = parse_push_target(rule, &why);
  EXPECT_TRUE(t.has_value()) << rule << ": " << why;
  return t.value_or(push_target{});
}

TEST(push_target, a_server_url_gets_the_local_stream_name) {
  const auto t = parsed("live=rtmp://backup.example.com/live");
  EXPECT_EQ(t.app, "live");
  EXPECT_TRUE(t.stream.empty());
  EXPECT_EQ(push_url_for(t, "live", "cam"), "rtmp://backup.example.com/live/cam");
  EXPECT_EQ(push_url_for(parsed("live=rtmp://h:1936/in/"), "live", "cam"), "rtmp://h:1936/in/cam");
  EXPECT_EQ(push_url_for(parsed("live=rtmp://h/in?token=t"), "live", "cam"), "rtmp://h/in/cam?token=t")
      << "the name goes before the query";
}

TEST(push_target, an_ingest_url_with_its_key_is_used_as_it_is) {
  EXPECT_EQ(push_url_for(parsed("live=rtmp://a.rtmp.youtube.com/live2/abcd-efgh"), "live", "cam"),
            "rtmp://a.rtmp.youtube.com/live2/abcd-efgh");
  const auto fb = parsed("live/cam=rtmps://live-api-s.facebook.com:443/rtmp/FB-1?s_bl=1&s_sw=0&a=Ab_9");
  EXPECT_EQ(fb.stream, "cam");
  EXPECT_EQ(push_url_for(fb, "live", "cam"), "rtmps://live-api-s.facebook.com:443/rtmp/FB-1?s_bl=1&s_sw=0&a=Ab_9")
      << "the query byte for byte";
}

TEST(push_target, placeholders_stand_for_the_local_names) {
  EXPECT_EQ(push_url_for(parsed("live=rtmp://h/{app}/{stream}-copy"), "live", "cam"), "rtmp://h/live/cam-copy");
  EXPECT_EQ(push_url_for(parsed("live=rtmp://h/{app}"), "live", "cam"), "rtmp://h/live/cam");
}

TEST(push_target, malformed_rules_are_refused_without_showing_a_key) {
  for (const char* bad : {"rtmp://h/live", "=rtmp://h/live", "live=", "live/=rtmp://h/x", "live/a/b=rtmp://h/x",
                          "live=http://h/live", "live=rtmp:///live", "live=rtmp://h"}) {
    std::string why;
    EXPECT_FALSE(parse_push_target(bad, &why).has_value()) << bad;
    EXPECT_FALSE(why.empty()) << bad;
  }
  std::string why;
  EXPECT_FALSE(parse_push_target("live=rtmp://h:99999/live2/SECRETKEY", &why).has_value());
  EXPECT_EQ(why.find("SECRETKEY"), std::string::npos) << why;
}

TEST(push_target, redaction_hides_the_stream_key_and_query) {
  EXPECT_EQ(redact_stream_key("rtmp://a.rtmp.youtube.com/live2/abcd-efgh"), "rtmp://a.rtmp.youtube.com/live2/<redacted>");
  EXPECT_EQ(redact_stream_key("rtmps://live-api-s.facebook.com:443/rtmp/FB-1?s_bl=1"),
            "rtmps://live-api-s.facebook.com:443/rtmp/<redacted>");
  EXPECT_EQ(redact_stream_key("rtmp://h/live"), "rtmp://h/live") << "no key: unchanged";
  EXPECT_EQ(redact_stream_key("rtmp://h/live?token=t"), "rtmp://h/live<redacted>") << "a bare query is a secret too";
  EXPECT_EQ(redact_stream_key("not a url"), "not a url");
}

}  // namespace
}  // namespace rtmp::net
