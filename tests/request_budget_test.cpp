// The budget of HTTP connections still sending a request: within it nobody
// is evicted; past it the oldest gives way; leaving is idempotent.
#include "http/request_budget.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace rtmp::net {
namespace {

TEST(request_budget, the_oldest_gives_way_when_full) {
  request_budget budget(3);
  std::vector<int> evicted;
  const auto enter = [&](int who) { return budget.enter([&evicted, who] { evicted.push_back(who); }); };
  const auto a = enter(1);
  enter(2);
  enter(3);
  EXPECT_TRUE(evicted.empty());
  EXPECT_EQ(budget.size(), 3u);
  enter(4);
  EXPECT_EQ(evicted, std::vector<int>{1});
  EXPECT_EQ(budget.size(), 3u);
  budget.leave(a);  // evicted already: nothing happens
  EXPECT_EQ(budget.size(), 3u);
  EXPECT_EQ(budget.evicted(), 1u);
}

TEST(request_budget, leaving_makes_room_and_is_idempotent) {
  request_budget budget(2);
  int evictions = 0;
  const auto a = budget.enter([&] { ++evictions; });
  const auto b = budget.enter([&] { ++evictions; });
  budget.leave(a);
  budget.leave(a);
  EXPECT_EQ(budget.size(), 1u);
  budget.enter([&] { ++evictions; });
  EXPECT_EQ(evictions, 0) << "a free place is taken without evicting";
  budget.enter([&] { ++evictions; });
  EXPECT_EQ(evictions, 1) << "b, the oldest, gave way";
  budget.leave(b);
  EXPECT_EQ(budget.size(), 2u);
}

TEST(request_budget, a_capacity_of_zero_still_admits_one) {
  request_budget budget(0);
  int evictions = 0;
  budget.enter([&] { ++evictions; });
  budget.enter([&] { ++evictions; });
  EXPECT_EQ(evictions, 1);
  EXPECT_EQ(budget.size(), 1u);
}

TEST(request_budget, workers_enter_and_leave_at_once) {
  request_budget budget(8);
  std::atomic<int> evictions{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        const auto t = budget.enter([&] { ++evictions; });
        if (i % 3 != 0) budget.leave(t);
      }
    });
  }
  for (auto& t : workers) t.join();
  EXPECT_LE(budget.size(), 8u);
  EXPECT_EQ(static_cast<std::uint64_t>(evictions.load()), budget.evicted());
}

}  // namespace
}  // namespace rtmp::net
