// The authentication part of an RTMP connection: the token rules decide in
// the caller's turn; a configured callback decides later, with pending()
// true meanwhile; an unreachable callback follows the fail-open setting.
#include "server/connection_authorizer.hpp"

#include <gtest/gtest.h>

#include <asio/io_context.hpp>

#include <chrono>
#include <optional>
#include <string>

#include "support/net.hpp"

namespace rtmp::net {
namespace {

using namespace std::chrono_literals;

auth_request publish_of(std::string stream, std::string query) {
  auth_request r;
  r.publish = true;
  r.app = "live";
  r.stream = std::move(stream);
  r.query = std::move(query);
  r.client = "127.0.0.1";
  return r;
}

class connection_authorizer_test : public ::testing::Test {
 protected:
  // Runs the decision to its end (bounded) and returns it.
  auth_decision run_until_decided() {
    io_.run_for(5s);
    EXPECT_TRUE(decision_.has_value()) << "no decision within 5 s";
    return decision_.value_or(auth_decision{});
  }
  connection_authorizer::decided record() {
    return [this](const auth_decision& d) { decision_ = d; };
  }

  asio::io_context io_;
  auth_config auth_;
  connection_authorizer authorizer_;
  std::optional<auth_decision> decision_;
};

TEST_F(connection_authorizer_test, tokens_decide_at_once) {
  auth_.publish_tokens["live"] = {"s3cret"};
  authorizer_.decide(io_.get_executor(), auth_, publish_of("cam", "token=s3cret"), record());
  ASSERT_TRUE(decision_.has_value()) << "a token decision comes in the caller's turn";
  EXPECT_TRUE(decision_->allowed);
  EXPECT_FALSE(authorizer_.pending());

  decision_.reset();
  authorizer_.decide(io_.get_executor(), auth_, publish_of("cam", "token=wrong"), record());
  ASSERT_TRUE(decision_.has_value());
  EXPECT_FALSE(decision_->allowed);
  EXPECT_EQ(decision_->why.find("s3cret"), std::string::npos) << "the reason never names a token";
}

TEST_F(connection_authorizer_test, a_token_refusal_does_not_ask_the_callback) {
  auth_.publish_tokens["live"] = {"s3cret"};
  auth_.on_publish_url = "http://127.0.0.1:" + std::to_string(rtmp::test::free_port()) + "/auth";
  authorizer_.decide(io_.get_executor(), auth_, publish_of("cam", ""), record());
  ASSERT_TRUE(decision_.has_value());
  EXPECT_FALSE(decision_->allowed);
  EXPECT_FALSE(authorizer_.pending());
}

TEST_F(connection_authorizer_test, an_unreachable_callback_refuses_unless_fail_open) {
  for (const bool open : {false, true}) {
    SCOPED_TRACE(open ? "fail-open" : "fail-closed");
    auth_.on_publish_url = "http://127.0.0.1:" + std::to_string(rtmp::test::free_port()) + "/auth";
    auth_.callback_timeout = 500ms;
    auth_.callback_fail_open = open;
    decision_.reset();
    io_.restart();
    authorizer_.decide(io_.get_executor(), auth_, publish_of("cam", ""), record());
    EXPECT_FALSE(decision_.has_value()) << "a callback decides later";
    EXPECT_TRUE(authorizer_.pending());
    const auth_decision d = run_until_decided();
    EXPECT_FALSE(authorizer_.pending());
    EXPECT_EQ(d.allowed, open);
    EXPECT_EQ(d.fail_open, open);
  }
}

TEST_F(connection_authorizer_test, play_is_decided_by_the_play_rules) {
  auth_.publish_tokens["live"] = {"s3cret"};
  auth_.on_publish_url = "http://127.0.0.1:1/never-asked";
  auth_request play = publish_of("cam", "");
  play.publish = false;
  authorizer_.decide(io_.get_executor(), auth_, play, record());
  ASSERT_TRUE(decision_.has_value()) << "no play rule: allowed at once";
  EXPECT_TRUE(decision_->allowed);
}

}  // namespace
}  // namespace rtmp::net
