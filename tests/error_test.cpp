#include "rtmp/error.hpp"

#include <gtest/gtest.h>

namespace {

TEST(error, codes_have_category_and_message) {
  std::error_code ec = rtmp::errc::amf_truncated;
  EXPECT_EQ(ec.category().name(), std::string("rtmp"));
  EXPECT_NE(ec.message().find("truncated"), std::string::npos);
  EXPECT_TRUE(ec);
  EXPECT_FALSE(std::error_code(rtmp::errc::ok));
}

TEST(error, conditions_classify_codes) {
  EXPECT_EQ(std::error_code(rtmp::errc::message_too_large), rtmp::condition::resource_limit);
  EXPECT_EQ(std::error_code(rtmp::errc::chunk_size_invalid), rtmp::condition::protocol_violation);
  EXPECT_EQ(std::error_code(rtmp::errc::peer_closed), rtmp::condition::peer_closed);
  EXPECT_EQ(std::error_code(rtmp::errc::timeout), rtmp::condition::timeout);
  EXPECT_NE(std::error_code(rtmp::errc::timeout), rtmp::condition::protocol_violation);
  // A code of another category never matches our conditions.
  EXPECT_NE(std::make_error_code(std::errc::timed_out), rtmp::condition::timeout);
}

TEST(error, unknown_value_has_a_message) {
  std::error_code ec(9999, rtmp::rtmp_category());
  EXPECT_NE(ec.message().find("9999"), std::string::npos);
}

}  // namespace
