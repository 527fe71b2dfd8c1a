// A change of push targets on the streams being published: which pushes
// stop, which start, and which are left running untouched.
#include <gtest/gtest.h>

#include "relay/push_plan.hpp"

namespace rtmp::net {
namespace {

push_target target(const char* rule) {
  auto t = parse_push_target(rule);
  EXPECT_TRUE(t.has_value()) << rule;
  return t.value_or(push_target{});
}

const std::vector<published_stream> cam_and_desk = {{"live/cam", "live", "cam"}, {"live/desk", "live", "desk"}};

TEST(push_plan, an_added_target_starts_on_every_stream_it_names_and_the_others_are_untouched) {
  const std::vector<push_route> running = {{"live/cam", "rtmp://a/in/cam"}, {"live/desk", "rtmp://a/in/desk"}};
  const auto plan = plan_pushes(cam_and_desk, running, {target("live=rtmp://a/in"), target("live/cam=rtmp://b/x/KEY")},
                                max_relay_targets);
  EXPECT_TRUE(plan.stop.empty());
  EXPECT_EQ(plan.start, (std::vector<push_route>{{"live/cam", "rtmp://b/x/KEY"}}));
}

TEST(push_plan, a_removed_target_stops_only_its_pushes) {
  const std::vector<push_route> running = {
      {"live/cam", "rtmp://a/in/cam"}, {"live/cam", "rtmp://b/x/KEY"}, {"live/desk", "rtmp://a/in/desk"}};
  const auto plan = plan_pushes(cam_and_desk, running, {target("live=rtmp://a/in")}, max_relay_targets);
  EXPECT_EQ(plan.stop, (std::vector<push_route>{{"live/cam", "rtmp://b/x/KEY"}}));
  EXPECT_TRUE(plan.start.empty());
}

TEST(push_plan, a_target_of_another_app_or_stream_changes_nothing_here) {
  const std::vector<push_route> running = {{"live/cam", "rtmp://a/in/cam"}};
  const auto plan = plan_pushes({{"live/cam", "live", "cam"}}, running,
                                {target("live=rtmp://a/in"), target("other=rtmp://c/in"), target("live/desk=rtmp://d/in")},
                                max_relay_targets);
  EXPECT_TRUE(plan.stop.empty());
  EXPECT_TRUE(plan.start.empty());
}

TEST(push_plan, pushes_of_streams_no_longer_published_are_left_to_end_with_them) {
  const std::vector<push_route> running = {{"live/gone", "rtmp://a/in/gone"}};
  const auto plan = plan_pushes(cam_and_desk, running, {}, max_relay_targets);
  EXPECT_TRUE(plan.stop.empty());
  EXPECT_TRUE(plan.start.empty());
}

TEST(push_plan, urls_repeat_once_and_stop_at_the_limit) {
  const std::vector<push_target> targets = {target("live=rtmp://a/in"), target("live=rtmp://a/in"),
                                            target("live=rtmp://b/in"), target("live=rtmp://c/in")};
  EXPECT_EQ(push_urls(targets, "live", "cam", 16), (std::vector<std::string>{"rtmp://a/in/cam", "rtmp://b/in/cam",
                                                                             "rtmp://c/in/cam"}));
  EXPECT_EQ(push_urls(targets, "live", "cam", 2).size(), 2u);
  const auto plan = plan_pushes({{"live/cam", "live", "cam"}}, {}, targets, 2);
  EXPECT_EQ(plan.start.size(), 2u);
}

}  // namespace
}  // namespace rtmp::net
