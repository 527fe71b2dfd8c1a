// Adaptive write coalescing's controller (sans-I/O): no window while fan-out
// is cheap, a window growing with its cost, never past the budget minus a
// round, and back to none when the load goes.
#include "rtmp/hub/coalesce_controller.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace {

using namespace std::chrono_literals;
using rtmp::hub::coalesce_controller;
using clock_type = coalesce_controller::clock;

// `seconds` of batches arriving every `gap`, each delivered at once in a
// round to `players` players costing `cost`.
void run(coalesce_controller& c, clock_type::time_point& now, std::chrono::microseconds gap,
         std::chrono::microseconds cost, double seconds, std::size_t players = 500) {
  const auto end = now + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(seconds));
  while (now < end) {
    c.on_arrival(now);
    c.on_round(cost, players);
    now += gap;
  }
}

TEST(coalesce_controller, cheap_rounds_get_no_window) {
  coalesce_controller c;
  auto now = clock_type::time_point{} + 1h;
  // 68 batches a second (25 fps video and 43 audio frames) to 20 players: 0.1 ms a round.
  run(c, now, 14'700us, 100us, 2.0);
  EXPECT_NEAR(c.share(), 68 * 0.0001, 0.002);
  EXPECT_EQ(c.window(50ms), 0us);
  // 100 players: 0.9 ms a round, 6 % of the worker: still at once.
  run(c, now, 14'700us, 900us, 2.0);
  EXPECT_EQ(c.window(50ms), 0us);
}

TEST(coalesce_controller, the_window_grows_with_the_cost_of_a_round_and_stays_within_the_budget) {
  coalesce_controller c;
  auto now = clock_type::time_point{} + 1h;
  run(c, now, 14'700us, 2'500us, 2.0);  // 500 players: ~17 % of the worker
  const auto middle = c.window(50ms);
  EXPECT_GT(middle, 2ms);
  EXPECT_LT(middle, 48ms);
  run(c, now, 14'700us, 5'000us, 2.0);  // 1,000 players and more: ~34 %
  const auto full = c.window(50ms);
  EXPECT_GT(full, middle);
  EXPECT_LE(full + 2 * c.round_cost() + 3ms, 50ms) << "window, two rounds and the margin within the budget";
  EXPECT_GE(full + 2 * c.round_cost() + 3ms, 49ms) << "the whole budget is used at full load";
  // A smaller budget bounds it the same way.
  EXPECT_LE(c.window(30ms) + 2 * c.round_cost() + 3ms, 30ms);
  // A budget two rounds and the margin use up leaves no window.
  EXPECT_EQ(c.window(12ms), 0us);
}

TEST(coalesce_controller, the_window_goes_when_the_load_goes) {
  coalesce_controller c;
  auto now = clock_type::time_point{} + 1h;
  run(c, now, 14'700us, 5'000us, 2.0);
  ASSERT_GT(c.window(50ms), 0us);
  run(c, now, 14'700us, 100us, 3.0);  // the players left
  EXPECT_EQ(c.window(50ms), 0us);
  // A pause in the media: the first period after it sees a low rate.
  now += 10s;
  run(c, now, 14'700us, 5'000us, 0.15);
  EXPECT_LT(c.share(), 0.3);
}

TEST(coalesce_controller, many_streams_are_held_unless_each_has_a_player_or_two) {
  coalesce_controller c;
  auto now = clock_type::time_point{} + 1h;
  // 500 streams of one player on one worker: 34,000 batches a second of
  // 10 us rounds are a third of the worker, but holding would save little.
  run(c, now, 29us, 10us, 2.0, 1);
  EXPECT_NEAR(c.share(), 0.34, 0.03);
  EXPECT_EQ(c.window(50ms), 0us);
  // 200 streams of 5 players: 13,600 batches a second of 25 us rounds: held.
  run(c, now, 73us, 25us, 2.0, 5);
  EXPECT_NEAR(c.share(), 0.34, 0.03);
  EXPECT_GT(c.window(50ms), 40ms);
}

}  // namespace
