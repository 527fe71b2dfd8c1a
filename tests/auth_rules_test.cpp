// The sans-I/O authorization rules: the token in the stream name or the
// tcUrl, compared in constant time, and the per-application rules.
#include "server/auth.hpp"

#include <gtest/gtest.h>

namespace rtmp::net {
namespace {

TEST(auth_rules, constant_time_equal_matches_only_the_whole_non_empty_secret) {
  EXPECT_TRUE(constant_time_equal("s3cret", "s3cret"));
  EXPECT_FALSE(constant_time_equal("s3cre", "s3cret"));
  EXPECT_FALSE(constant_time_equal("s3cretX", "s3cret"));
  EXPECT_FALSE(constant_time_equal("s3creT", "s3cret"));
  EXPECT_FALSE(constant_time_equal("", "s3cret"));
  EXPECT_FALSE(constant_time_equal("", "")) << "an empty secret never matches";
  EXPECT_FALSE(constant_time_equal("x", ""));
  EXPECT_FALSE(constant_time_equal("s3cret", "s3cretXs3cret")) << "a repeat of a prefix is not a match";
}

TEST(auth_rules, token_in_the_stream_name_or_the_tc_url) {
  const std::vector<std::string> tokens{"one", "two"};
  EXPECT_TRUE(token_allowed(tokens, "cam?token=two", "rtmp://h/live"));
  EXPECT_TRUE(token_allowed(tokens, "cam", "rtmp://h/live?token=one"));
  EXPECT_TRUE(token_allowed(tokens, "cam?a=1&token=one&b=2", ""));
  EXPECT_FALSE(token_allowed(tokens, "cam?token=three", "rtmp://h/live"));
  EXPECT_FALSE(token_allowed(tokens, "cam?token=", "rtmp://h/live"));
  EXPECT_FALSE(token_allowed(tokens, "cam", "rtmp://h/live"));
  EXPECT_FALSE(token_allowed({""}, "cam?token=", "")) << "an empty configured token allows nothing";
}

TEST(auth_rules, check_tokens_applies_the_rules_of_the_request_s_application) {
  auth_config auth;
  auth.publish_tokens["live"] = {"pub-7f3a"};
  auth.play_tokens["live"] = {"play-91c2"};
  auth_request r;
  r.app = "live";
  r.stream = "cam";
  r.publish = true;
  r.query = "token=pub-7f3a";
  EXPECT_TRUE(check_tokens(auth, r).allowed);
  r.query = "token=play-91c2";
  const auto refused = check_tokens(auth, r);
  EXPECT_FALSE(refused.allowed) << "a play token does not publish";
  EXPECT_FALSE(refused.no_token);
  EXPECT_EQ(refused.why.find("play-91c2"), std::string::npos) << "the reason never holds the token";
  r.query.clear();
  EXPECT_TRUE(check_tokens(auth, r).no_token);
  r.app = "open";
  EXPECT_TRUE(check_tokens(auth, r).allowed) << "an application without rules needs no token";
}

}  // namespace
}  // namespace rtmp::net
