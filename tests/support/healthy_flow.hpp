#pragma once
// A healthy publisher and player on live/healthy beside whatever a test does
// to the server, each in its own thread: the publisher sends metadata, the
// sequence headers, then a video and an audio frame every 20 ms (a keyframe
// every 25), all tagged at payload byte 2; the player notes when media
// arrives. A test under attack then checks that the flow never stalled.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "rtmp/proto/command.hpp"
#include "client_io.hpp"
#include "media.hpp"
#include "test_client.hpp"

namespace rtmp::test {

/// The healthy publisher and player, started by start() and stopped by stop().
class healthy_flow {
 public:
  /// The tag (payload byte 2) of every frame the healthy publisher sends.
  static constexpr std::uint8_t tag = 0x11;

  healthy_flow() = default;
  ~healthy_flow() { stop(); }
  healthy_flow(const healthy_flow&) = delete;
  healthy_flow& operator=(const healthy_flow&) = delete;

  /// Size of the inter frames (set before start()).
  std::size_t frame_bytes = 600;
  /// Size of the keyframes (set before start()).
  std::size_t keyframe_bytes = 2000;

  /// Publishes and plays live/healthy on 127.0.0.1:`port` and starts both
  /// threads; fails the calling test when the player gets no media in 3 s.
  void start(std::uint16_t port) {
    using namespace std::chrono_literals;
    pub_ = std::make_unique<quick_client>(port);
    ASSERT_EQ(pub_->publish("healthy"), "NetStream.Publish.Start");
    player_ = std::make_unique<quick_client>(port);
    ASSERT_EQ(player_->play("healthy"), "NetStream.Play.Start");
    player_->skipped.clear();
    pub_thread_ = std::thread([this] { publisher_loop(); });
    player_thread_ = std::thread([this] { player_loop(); });
    const auto deadline = std::chrono::steady_clock::now() + 3s;
    while (received_.load() < 3 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
    ASSERT_GE(received_.load(), 3u) << "the healthy player never got media";
  }

  /// Stops both threads. One still busy after 2 s is stuck in a write to a
  /// server that stopped reading: `unstick` runs then (stopping the server
  /// closes its sockets and frees the write).
  void stop(const std::function<void()>& unstick = {}) {
    using namespace std::chrono_literals;
    stop_ = true;
    const auto deadline = std::chrono::steady_clock::now() + 2s;
    while ((pub_running_ || player_running_) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(10ms);
    }
    if ((pub_running_ || player_running_) && unstick) unstick();
    if (pub_thread_.joinable()) pub_thread_.join();
    if (player_thread_.joinable()) player_thread_.join();
  }

  /// True once start() has connected the publisher and the player.
  bool started() const { return pub_ && player_; }

  /// True when the publisher lost its connection before stop().
  bool publisher_failed() const { return pub_failed_; }

  /// The largest gap between media arrivals at the player since `t0` (the
  /// gap from `t0` to the first arrival and from the last one to now count).
  std::chrono::milliseconds gap_since(std::chrono::steady_clock::time_point t0) {
    const auto now = std::chrono::steady_clock::now();
    const std::lock_guard<std::mutex> lock(mutex_);
    auto prev = t0;
    std::chrono::milliseconds worst{0};
    for (const auto& t : arrivals_) {
      if (t < t0) continue;
      worst = std::max(worst, std::chrono::duration_cast<std::chrono::milliseconds>(t - prev));
      prev = t;
    }
    return std::max(worst, std::chrono::duration_cast<std::chrono::milliseconds>(now - prev));
  }

  /// True when the player received a frame tagged `t` (another publisher's
  /// media reaching the healthy stream).
  bool saw_tag(std::uint8_t t) {
    const std::lock_guard<std::mutex> lock(mutex_);
    return tags_seen_.count(t) > 0;
  }

 private:
  void publisher_loop() {
    using namespace std::chrono_literals;
    pub_running_ = true;
    try {
      send_stream_start(*pub_, picture_metadata(320, 240), short_avc_sequence_header());
      std::uint32_t ts = 0;
      auto next = std::chrono::steady_clock::now();
      for (int frame = 0; !stop_; ++frame) {
        if (frame % 25 == 0) {
          pub_->send_media(9, ts, video_frame(true, keyframe_bytes, tag));
        } else {
          pub_->send_media(9, ts, video_frame(false, frame_bytes, tag));
        }
        pub_->send_media(8, ts, audio_frame(6, tag));
        ts += 20;
        next += 20ms;
        std::this_thread::sleep_until(next);
      }
    } catch (const std::exception&) {
      pub_failed_ = !stop_;
    }
    pub_running_ = false;
  }

  void player_loop() {
    using namespace std::chrono_literals;
    player_running_ = true;
    while (!stop_) {
      const auto t0 = std::chrono::steady_clock::now();
      auto m = player_->next(50ms);
      if (m && is_media(*m)) {
        const std::lock_guard<std::mutex> lock(mutex_);
        arrivals_.push_back(std::chrono::steady_clock::now());
        if (m->payload.size() >= 3) tags_seen_.insert(m->payload[2]);
        ++received_;
      } else if (!m && std::chrono::steady_clock::now() - t0 < 10ms) {
        std::this_thread::sleep_for(10ms);  // closed: do not spin
      }
    }
    player_running_ = false;
  }

  std::unique_ptr<quick_client> pub_, player_;
  std::thread pub_thread_, player_thread_;
  std::atomic<bool> stop_{false}, pub_running_{false}, player_running_{false}, pub_failed_{false};
  std::atomic<std::size_t> received_{0};
  std::mutex mutex_;
  std::vector<std::chrono::steady_clock::time_point> arrivals_;
  std::set<std::uint8_t> tags_seen_;
};

}  // namespace rtmp::test
