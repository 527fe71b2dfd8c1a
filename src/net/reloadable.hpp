#pragma once
// Settings a reload replaces whole while readers keep the snapshot they took.
// Internal to the networking layer.

#include <memory>
#include <mutex>
#include <utility>

namespace rtmp::net {

/// A value of settings `T` that a reload replaces. Readers take a snapshot
/// (`load`) and keep it as long as they need it, so a reload never changes
/// the settings under a running connection, recording or process.
/// Thread-safe; the mutex is held only to copy or swap the pointer.
template <class T>
class reloadable {
 public:
  /// Starts with `initial`.
  explicit reloadable(std::shared_ptr<const T> initial) : current_(std::move(initial)) {}
  /// Starts with a copy of `initial`.
  explicit reloadable(T initial) : current_(std::make_shared<const T>(std::move(initial))) {}

  /// The settings in force now (any thread).
  std::shared_ptr<const T> load() const {
    std::lock_guard lock(mutex_);
    return current_;
  }
  /// Puts `next` in force for what takes a snapshot from now on.
  void store(std::shared_ptr<const T> next) {
    std::lock_guard lock(mutex_);
    current_.swap(next);  // the old one is released outside the lock
  }
  /// Puts a copy of `next` in force.
  void store(T next) { store(std::make_shared<const T>(std::move(next))); }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const T> current_;
};

}  // namespace rtmp::net
