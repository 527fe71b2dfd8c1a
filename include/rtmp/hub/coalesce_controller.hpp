#pragma once
/// @file coalesce_controller.hpp
/// Adaptive write coalescing: how long a worker holds newly arrived media
/// before handing it to its players, chosen from what fan-out costs there.
///
/// Handing a batch to N players costs about N gathered writes, whatever the
/// batch's size. Holding media for a window W turns the batches that arrive
/// in W into one round: fewer system calls per byte, W more delay. It pays
/// only when rounds are a real share of the worker's time; with a few
/// players the media should go out at once. The controller measures, per
/// period, the average cost of a round and the rate at which batches arrive,
/// and from their product (the share of the worker that fan-out would take
/// without holding) picks the window:
///
///     share < hold_from, or fewer than min_players_per_round players a
///     round on average       -> 0 (at once)
///     share >= full_hold_at      -> budget - 2 x round cost - margin
///     in between                 -> linearly between min_window and that
///
/// Two rounds, not one: a message held for the window may then wait behind
/// another stream's round (or a keyframe's longer one) before its own, and
/// the margin covers the timer's lateness on a busy worker.
///
/// Sans-I/O and single-threaded (one per worker, used on that worker's
/// thread); `window()` and `share()` may be read from any thread (/metrics).

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace rtmp::hub {

/// The settings of adaptive coalescing; every one is named here (the delay
/// budget is the stream's: hub::stream_config::max_coalesce_delay).
struct coalesce_policy {
  /// Fan-out share of the worker below which media goes out at once
  /// (measured: 100 players of a 2.6 Mbit/s stream are about 6 %).
  double hold_from = 0.10;
  /// Fan-out share at and above which the whole budget is used.
  double full_hold_at = 0.30;
  /// The smallest window worth holding (below it: at once).
  std::chrono::microseconds min_window{2'000};
  /// Kept free of the budget for the timer's lateness.
  std::chrono::microseconds margin{3'000};
  /// Players per round (on average) below which media goes out at once:
  /// holding saves writes per player, and with one or two players per
  /// stream the round's own overhead dominates (measured: 500 streams of
  /// one player each saved 6 % CPU and doubled the delay p99; 200 streams
  /// of five saved a third of the CPU).
  double min_players_per_round = 3;
  /// How often the window is recomputed from what was measured.
  std::chrono::microseconds period{100'000};
};

/// One worker's adaptive coalescing window.
class coalesce_controller {
 public:
  using clock = std::chrono::steady_clock;

  explicit coalesce_controller(coalesce_policy policy = {}) noexcept : policy_(policy) {}
  coalesce_controller(const coalesce_controller&) = delete;
  coalesce_controller& operator=(const coalesce_controller&) = delete;

  /// A batch of media arrived for this worker's players at `now` (one
  /// round, were it delivered at once).
  void on_arrival(clock::time_point now) noexcept;

  /// A fan-out round (media handed to one stream's `players` on this
  /// worker) took `cost`.
  void on_round(std::chrono::nanoseconds cost, std::size_t players) noexcept;

  /// How long to hold media that arrives now (0: deliver at once) so that
  /// it waits at most `budget` (the window, rounds and margin).
  std::chrono::microseconds window(std::chrono::microseconds budget) const noexcept;

  /// The fan-out share of the worker estimated at the last update (the
  /// average round cost times the arrival rate; may exceed 1 when rounds
  /// cannot keep up).
  double share() const noexcept { return share_.load(std::memory_order_relaxed); }
  /// The smoothed cost of a round at the last update.
  std::chrono::microseconds round_cost() const noexcept {
    return std::chrono::microseconds(round_cost_us_.load(std::memory_order_relaxed));
  }

 private:
  void update(clock::time_point now) noexcept;

  coalesce_policy policy_;
  clock::time_point period_start_{};
  std::uint64_t arrivals_ = 0;  // in this period
  std::uint64_t rounds_ = 0;
  std::chrono::nanoseconds cost_{0};
  std::uint64_t players_ = 0;  // summed over this period's rounds
  double round_cost_s_ = 0;  // smoothed average over periods
  double rate_ = 0;          // arrivals per second, smoothed
  // What window() reads (any thread may: /metrics).
  std::atomic<double> share_{0};
  std::atomic<std::int64_t> round_cost_us_{0};
  std::atomic<double> players_per_round_{0};
};

/// One controller per worker, shared by the streams of a hub: entry w is
/// fed on worker w only.
using coalesce_controllers = std::vector<std::unique_ptr<coalesce_controller>>;

/// `workers` controllers with `policy`.
std::shared_ptr<coalesce_controllers> make_coalesce_controllers(std::size_t workers, coalesce_policy policy = {});

}  // namespace rtmp::hub
