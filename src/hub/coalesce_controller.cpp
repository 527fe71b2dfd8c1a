#include "rtmp/hub/coalesce_controller.hpp"

#include <algorithm>

namespace rtmp::hub {

namespace {

// Weight of the newest period in the smoothed figures: a change of load
// shows within a few periods, one odd period does not swing the window.
constexpr double smoothing = 0.3;

}  // namespace

void coalesce_controller::on_arrival(clock::time_point now) noexcept {
  if (period_start_ == clock::time_point{}) period_start_ = now;
  ++arrivals_;
  if (now - period_start_ >= policy_.period) update(now);
}

void coalesce_controller::on_round(std::chrono::nanoseconds cost, std::size_t players) noexcept {
  ++rounds_;
  cost_ += cost;
  players_ += players;
}

void coalesce_controller::update(clock::time_point now) noexcept {
  const double seconds = std::chrono::duration<double>(now - period_start_).count();
  const double rate = static_cast<double>(arrivals_) / seconds;
  rate_ = rate_ == 0 ? rate : rate_ + smoothing * (rate - rate_);
  if (rounds_ > 0) {
    const double cost = std::chrono::duration<double>(cost_).count() / static_cast<double>(rounds_);
    round_cost_s_ = round_cost_s_ == 0 ? cost : round_cost_s_ + smoothing * (cost - round_cost_s_);
    const double players = static_cast<double>(players_) / static_cast<double>(rounds_);
    const double before = players_per_round_.load(std::memory_order_relaxed);
    players_per_round_.store(before == 0 ? players : before + smoothing * (players - before),
                             std::memory_order_relaxed);
  }
  period_start_ = now;
  arrivals_ = 0;
  rounds_ = 0;
  players_ = 0;
  cost_ = std::chrono::nanoseconds(0);

  // Without holding, every arrival is a round.
  share_.store(round_cost_s_ * rate_, std::memory_order_relaxed);
  round_cost_us_.store(static_cast<std::int64_t>(round_cost_s_ * 1e6), std::memory_order_relaxed);
}

std::chrono::microseconds coalesce_controller::window(std::chrono::microseconds budget) const noexcept {
  const double share = share_.load(std::memory_order_relaxed);
  if (share < policy_.hold_from || players_per_round_.load(std::memory_order_relaxed) < policy_.min_players_per_round) {
    return std::chrono::microseconds(0);
  }
  const auto round = std::chrono::microseconds(round_cost_us_.load(std::memory_order_relaxed));
  const auto most = budget - 2 * round - policy_.margin;
  if (most < policy_.min_window) return std::chrono::microseconds(0);
  const double span = std::max(policy_.full_hold_at - policy_.hold_from, 1e-9);
  const double fraction = std::min(1.0, (share - policy_.hold_from) / span);
  return policy_.min_window + std::chrono::duration_cast<std::chrono::microseconds>(
                                  (most - policy_.min_window) * fraction);
}

std::shared_ptr<coalesce_controllers> make_coalesce_controllers(std::size_t workers, coalesce_policy policy) {
  auto all = std::make_shared<coalesce_controllers>();
  for (std::size_t w = 0; w < workers; ++w) all->push_back(std::make_unique<coalesce_controller>(policy));
  return all;
}

}  // namespace rtmp::hub
