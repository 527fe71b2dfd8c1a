// Address rules for publish and play: CIDR blocks of both families, "all",
// per-application rules, first match in order, and malformed values.
#include "rtmp/net/access_rules.hpp"

#include <gtest/gtest.h>

namespace rtmp::net {
namespace {

access_rule rule(bool allow, bool publish, const char* value) {
  auto r = parse_access_rule(allow, publish, value);
  EXPECT_TRUE(r.has_value()) << value;
  return r.value_or(access_rule{});
}

TEST(access_rules, blocks_match_their_addresses_only) {
  const auto ten = parse_address_block("10.0.0.0/8").value();
  EXPECT_TRUE(ten.contains("10.1.2.3"));
  EXPECT_FALSE(ten.contains("11.0.0.1"));
  EXPECT_TRUE(ten.contains("::ffff:10.9.9.9")) << "IPv4-mapped IPv6 counts as IPv4";
  EXPECT_FALSE(ten.contains("2001:db8::1"));
  const auto odd = parse_address_block("192.168.4.0/22").value();
  EXPECT_TRUE(odd.contains("192.168.7.255"));
  EXPECT_FALSE(odd.contains("192.168.8.0"));
  const auto host = parse_address_block("127.0.0.1").value();
  EXPECT_TRUE(host.contains("127.0.0.1"));
  EXPECT_FALSE(host.contains("127.0.0.2"));
  const auto v6 = parse_address_block("2001:db8::/32").value();
  EXPECT_TRUE(v6.contains("2001:db8:1::5"));
  EXPECT_FALSE(v6.contains("2001:db9::1"));
  EXPECT_TRUE(parse_address_block("all")->contains("198.51.100.1"));
  EXPECT_TRUE(parse_address_block("all")->contains("::1"));
  EXPECT_TRUE(parse_address_block("0.0.0.0/0")->contains("198.51.100.1"));
  EXPECT_FALSE(ten.contains("not an address"));
}

TEST(access_rules, malformed_values_are_refused) {
  for (const char* bad : {"", "10.0.0.0/33", "2001:db8::/129", "10.0.0.0/", "10.0.0/8", "/8", "everyone",
                          "10.0.0.0/8x", "=10.0.0.0/8", "a.b=10.0.0.0/8"}) {
    EXPECT_FALSE(parse_access_rule(true, true, bad).has_value()) << bad;
  }
  const auto per_app = parse_access_rule(false, false, "live=192.0.2.0/24");
  ASSERT_TRUE(per_app.has_value());
  EXPECT_EQ(per_app->app, "live");
  EXPECT_FALSE(per_app->allow);
  EXPECT_FALSE(per_app->publish);
}

TEST(access_rules, the_first_matching_rule_decides_and_none_allows) {
  // nginx-rtmp's: allow publish 10.0.0.0/8; deny publish 10.1.0.0/16 (never reached); deny publish all;
  const std::vector<access_rule> rules = {rule(false, true, "10.9.9.9"), rule(true, true, "10.0.0.0/8"),
                                          rule(false, true, "all"), rule(false, false, "live=192.0.2.0/24")};
  EXPECT_FALSE(access_allowed(rules, true, "live", "10.9.9.9")) << "denied before the allow";
  EXPECT_TRUE(access_allowed(rules, true, "live", "10.1.2.3"));
  EXPECT_FALSE(access_allowed(rules, true, "live", "198.51.100.1")) << "deny all";
  EXPECT_TRUE(access_allowed(rules, false, "live", "198.51.100.1")) << "publish rules do not govern play";
  EXPECT_FALSE(access_allowed(rules, false, "live", "192.0.2.9"));
  EXPECT_TRUE(access_allowed(rules, false, "other", "192.0.2.9")) << "a rule for live does not govern other";
  EXPECT_TRUE(access_allowed({}, true, "live", "198.51.100.1")) << "no rules: allowed";
}

}  // namespace
}  // namespace rtmp::net
