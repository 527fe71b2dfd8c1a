#pragma once
// Log sinks for tests: one that counts lines (to bound how much the server
// logs under floods), one that keeps them (to look for what must, or must
// not, be logged).

#include <spdlog/sinks/base_sink.h>

#include <atomic>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace rtmp::test {

/// Counts the log lines that contain a phrase (every line when it is empty).
class counting_sink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  /// Counts the lines containing `phrase`.
  explicit counting_sink(std::string phrase = "") : phrase_(std::move(phrase)) {}

  /// Lines counted so far.
  std::atomic<std::size_t> lines{0};

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    if (std::string_view(msg.payload.data(), msg.payload.size()).find(phrase_) != std::string_view::npos) ++lines;
  }
  void flush_() override {}

 private:
  std::string phrase_;
};

/// Keeps every log line (each followed by '\n').
class text_sink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  /// Everything logged so far.
  std::string all() {
    std::lock_guard lock(mutex_);
    return text_;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    text_.append(msg.payload.data(), msg.payload.size());
    text_ += '\n';
  }
  void flush_() override {}

 private:
  std::string text_;
};

}  // namespace rtmp::test
