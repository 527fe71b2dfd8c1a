#pragma once
// The operator endpoint's routes: GET /healthz,
// GET /metrics (Prometheus text exposition 0.0.4), GET /api/streams,
// GET /api/streams/{app}/{stream}, POST /api/streams/{app}/{stream}/kick
// (bearer token). Request in, response out: the socket side lives in
// http_listener.cpp.

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "rtmp/hub/hub.hpp"
#include "rtmp/http/request_parser.hpp"
#include "http/prometheus_text.hpp"
#include "rtmp/http/response.hpp"
#include "hls/hls_manager.hpp"
#include "relay/relay_manager.hpp"
#include "server/server_metrics.hpp"

namespace rtmp::net {

/// Routes requests against the live server state. Thread-safe: handlers on
/// any worker may call `handle` at once.
class http_api {
 public:
  /// `token`: the bearer token that allows kicks; empty disables them.
  http_api(hub::hub& streams, server_metrics& metrics, const relay_manager& relays, const hls_manager& hls,
           std::string token)
      : streams_(streams), metrics_(metrics), relays_(relays), hls_(hls), token_(std::move(token)) {}

  /// The response to `req`.
  http::response handle(const http::request& req);

  /// What POST /api/reload reports.
  struct reload_outcome {
    bool ok = false;   ///< The configuration was read and put in force.
    std::string text;  ///< What changed, or what is wrong.
  };
  /// Makes POST /api/reload (with the bearer token) call `handler` (on an HTTP worker thread).
  void set_reload_handler(std::function<reload_outcome()> handler);

 private:
  struct rate_sample {
    std::chrono::steady_clock::time_point at;
    std::uint64_t bytes_in = 0;
    std::uint64_t bytes_out = 0;
  };

  http::response metrics_page();
  // The standard process_* series (CPU, memory, descriptors, start time).
  void process_metrics(http::prometheus_text& page) const;
  http::response streams_page(const std::string* only_key);
  http::response kick(const http::request& req, const std::string& key);
  http::response reload(const http::request& req);
  // 401/403 unless the request carries the bearer token (`what`: for the message).
  std::optional<http::response> refuse_without_token(const http::request& req, std::string_view what) const;

  // Bits per second in and out of a stream since the last sample at least
  // a second old (or since `fallback_since` on the first call).
  std::pair<double, double> rates(const std::string& key, std::uint64_t in, std::uint64_t out,
                                  std::chrono::steady_clock::time_point fallback_since);

  hub::hub& streams_;
  server_metrics& metrics_;
  const relay_manager& relays_;
  const hls_manager& hls_;
  const std::string token_;
  std::mutex rates_mutex_;
  std::mutex reload_mutex_;
  std::function<reload_outcome()> reload_handler_;  // reload_mutex_
  std::unordered_map<std::string, std::pair<rate_sample, rate_sample>> samples_;  // key -> (older, newer)
};

}  // namespace rtmp::net
