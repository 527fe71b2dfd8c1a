#pragma once
/// @file event_queue.hpp
/// The queue a sans-I/O session hands its events out of: the session
/// pushes while it consumes bytes, the caller takes them in order with
/// `next()`. Storage is reused once the queue is drained.

#include <cstddef>
#include <utility>
#include <vector>

namespace rtmp::proto {

/// Events of one session, first in first out. Not thread-safe.
template <class Event>
class event_queue {
 public:
  /// Appends `ev`.
  void push(Event ev) { events_.push_back(std::move(ev)); }

  /// Moves the oldest event into `out`; false when there is none.
  bool next(Event& out) {
    if (pos_ == events_.size()) return false;
    out = std::move(events_[pos_++]);
    if (pos_ == events_.size()) {
      events_.clear();
      pos_ = 0;
    }
    return true;
  }

 private:
  std::vector<Event> events_;
  std::size_t pos_ = 0;  // events before it were taken
};

}  // namespace rtmp::proto
