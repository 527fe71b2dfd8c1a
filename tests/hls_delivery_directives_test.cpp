// LL-HLS delivery directives of a playlist request (RFC 8216bis section 6.2.5).

#include "rtmp/hls/delivery_directives.hpp"

#include <gtest/gtest.h>

namespace {

using rtmp::hls::parse_delivery_directives;

TEST(hls_delivery_directives, none_keeps_the_whole_query) {
  const auto d = parse_delivery_directives("token=abc&x=1");
  EXPECT_FALSE(d.msn);
  EXPECT_FALSE(d.part);
  EXPECT_TRUE(d.problem.empty());
  EXPECT_EQ(d.carried_query, "?token=abc&x=1");
  EXPECT_EQ(parse_delivery_directives("").carried_query, "");
}

TEST(hls_delivery_directives, msn_and_part_are_read_and_left_out_of_the_carried_query) {
  const auto d = parse_delivery_directives("_HLS_msn=1765112345&token=abc&_HLS_part=3&_HLS_skip=YES");
  ASSERT_TRUE(d.msn);
  EXPECT_EQ(*d.msn, 1765112345u);
  ASSERT_TRUE(d.part);
  EXPECT_EQ(*d.part, 3u);
  EXPECT_TRUE(d.problem.empty());
  EXPECT_EQ(d.carried_query, "?token=abc");
  const auto only_msn = parse_delivery_directives("_HLS_msn=0");
  ASSERT_TRUE(only_msn.msn);
  EXPECT_EQ(*only_msn.msn, 0u);
  EXPECT_FALSE(only_msn.part);
  EXPECT_EQ(only_msn.carried_query, "");
}

TEST(hls_delivery_directives, malformed_or_huge_values_are_problems) {
  for (const char* q : {"_HLS_msn=", "_HLS_msn", "_HLS_msn=-1", "_HLS_msn=12a", "_HLS_msn=99999999999999999999",
                        "_HLS_msn=1&_HLS_msn=2", "_HLS_msn=1&_HLS_part=x", "_HLS_msn=1&_HLS_part=1234567890",
                        "_HLS_part=2", "_HLS_msn=+1", "_HLS_msn=0x10"}) {
    EXPECT_FALSE(parse_delivery_directives(q).problem.empty()) << q;
  }
  // The largest accepted: 19 digits fit in 64 bits.
  const auto big = parse_delivery_directives("_HLS_msn=9999999999999999999");
  EXPECT_TRUE(big.problem.empty());
  ASSERT_TRUE(big.msn);
  EXPECT_EQ(*big.msn, 9999999999999999999u);
}

TEST(hls_delivery_directives, empty_parameters_are_skipped) {
  const auto d = parse_delivery_directives("&&_HLS_msn=5&&token=t&");
  ASSERT_TRUE(d.msn);
  EXPECT_EQ(*d.msn, 5u);
  EXPECT_EQ(d.carried_query, "?token=t");
}

}  // namespace
