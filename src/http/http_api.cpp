#include "http/http_api.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <map>
#include <set>
#include <type_traits>
#include <vector>

#include "http/prometheus_text.hpp"
#include "server/auth.hpp"
#include "rtmp/proto/amf0_codec.hpp"
#include "rtmp/build_info.hpp"
#include "server/process_stats.hpp"
#include "rtmp/proto/codec_config.hpp"
#include "rtmp/proto/media_info.hpp"

namespace rtmp::net {
namespace {

using json = nlohmann::json;
using steady = std::chrono::steady_clock;
using system_clock = std::chrono::system_clock;

constexpr std::string_view streams_prefix = "/api/streams/";
constexpr std::string_view kick_suffix = "/kick";

std::string iso8601(system_clock::time_point t) {
  const std::time_t secs = system_clock::to_time_t(t);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// A metadata number as JSON: an integer when it is one (640, not 640.0),
// else the double (29.97).
json number_json(double v) {
  constexpr double exact_integers = 9007199254740992.0;  // 2^53
  if (std::isfinite(v) && std::trunc(v) == v && std::fabs(v) < exact_integers) return static_cast<std::int64_t>(v);
  return v;
}

// "app/stream" -> ("app", "stream"); a key without '/' is all stream.
std::pair<std::string, std::string> split_key(const std::string& key) {
  const auto slash = key.find('/');
  if (slash == std::string::npos) return {"", key};
  return {key.substr(0, slash), key.substr(slash + 1)};
}

// Codec, resolution, frame rate and sample rate from onMetaData and the
// sequence headers (the headers win for the codec: metadata may be stale).
json media_description(const hub::stream_status& s) {
  json video = json::object();
  json audio = json::object();
  if (s.metadata) {
    std::vector<proto::amf0::value> values;
    const auto& p = s.metadata->msg.payload;
    proto::amf0::decode_all(std::span<const std::uint8_t>(p.data(), p.size()), values,
                            proto::amf0::metadata_limits());
    for (const auto& v : values) {
      if (v.properties() == nullptr) continue;
      auto number = [&](const char* key) -> const proto::amf0::value* {
        const auto* x = v.get(key);
        return x != nullptr && x->is_number() ? x : nullptr;
      };
      if (const auto* w = number("width")) video["width"] = number_json(w->as_number());
      if (const auto* h = number("height")) video["height"] = number_json(h->as_number());
      if (const auto* f = number("framerate")) video["frame_rate"] = number_json(f->as_number());
      if (const auto* f = number("videodatarate")) video["metadata_kbps"] = number_json(f->as_number());
      if (const auto* r = number("audiosamplerate")) audio["sample_rate"] = number_json(r->as_number());
      if (const auto* c = number("audiochannels")) audio["channels"] = number_json(c->as_number());
      if (const auto* r = number("audiodatarate")) audio["metadata_kbps"] = number_json(r->as_number());
    }
  }
  if (s.video_header) {
    // The configuration record wins over onMetaData for the size too: HEVC
    // (hvcC -> SPS) and AV1 (av1C -> sequence header OBU) carry it; VP9's
    // vpcC and legacy AVC keep the metadata's width/height.
    const auto& p = s.video_header->msg.payload;
    const auto config = proto::describe_video_config(std::span<const std::uint8_t>(p.data(), p.size()));
    video["codec"] = std::string(config.codec);
    if (config.has_size) {
      video["width"] = config.size.width;
      video["height"] = config.size.height;
    }
    if (s.video_tracks > 1) video["tracks"] = s.video_tracks;
  }
  if (s.audio_header) {
    const auto& p = s.audio_header->msg.payload;
    const std::span<const std::uint8_t> body(p.data(), p.size());
    audio["codec"] = std::string(proto::audio_codec_name(body));
    if (s.audio_tracks > 1) audio["tracks"] = s.audio_tracks;
    // Legacy AAC: AudioSpecificConfig after the 2-byte tag header (ISO
    // 14496-3 1.6.2.1: 5 bits object type, 4 bits frequency index, 4 bits
    // channel configuration).
    const auto info = proto::describe_audio_tag(body);
    if (!info.enhanced && info.sound_format == 10 && info.packet_type == 0 && p.size() >= 4) {
      static constexpr int rates[] = {96000, 88200, 64000, 48000, 44100, 32000, 24000,
                                      22050, 16000, 12000, 11025, 8000,  7350};
      const unsigned index = ((p[2] & 0x07u) << 1) | (p[3] >> 7);
      const unsigned channels = (p[3] >> 3) & 0x0fu;
      if (index < std::size(rates)) audio["sample_rate"] = rates[index];
      if (channels != 0) audio["channels"] = channels;
    }
  }
  return json{{"video", video}, {"audio", audio}};
}

}  // namespace

http::response http_api::handle(const http::request& req) {
  const std::string& path = req.path;
  auto only = [&](std::string_view method) {
    auto r = http::make_error(405, "method not allowed");
    r.headers.emplace_back("Allow", std::string(method));
    return r;
  };
  if (path == "/healthz") {
    if (req.method != "GET" && req.method != "HEAD") return only("GET, HEAD");
    return http::make_text(200, "ok\n");
  }
  if (path == "/metrics") {
    if (req.method != "GET" && req.method != "HEAD") return only("GET, HEAD");
    return metrics_page();
  }
  if (path == "/api/reload") {
    if (req.method != "POST") return only("POST");
    return reload(req);
  }
  if (path == "/api/streams" || path == "/api/streams/") {
    if (req.method != "GET" && req.method != "HEAD") return only("GET, HEAD");
    return streams_page(nullptr);
  }
  if (path.size() > streams_prefix.size() && path.compare(0, streams_prefix.size(), streams_prefix) == 0) {
    std::string key = path.substr(streams_prefix.size());
    if (key.size() > kick_suffix.size() && key.compare(key.size() - kick_suffix.size(), kick_suffix.size(),
                                                        kick_suffix) == 0) {
      if (req.method != "POST") return only("POST");
      return kick(req, key.substr(0, key.size() - kick_suffix.size()));
    }
    if (req.method != "GET" && req.method != "HEAD") return only("GET, HEAD");
    return streams_page(&key);
  }
  return http::make_error(404, "no such endpoint");
}

std::pair<double, double> http_api::rates(const std::string& key, std::uint64_t in, std::uint64_t out,
                                          steady::time_point fallback_since) {
  const auto now = steady::now();
  std::lock_guard lock(rates_mutex_);
  if (samples_.size() > 4096) samples_.clear();  // bounded whatever the stream churn
  auto [it, fresh] = samples_.try_emplace(key);
  auto& [older, newer] = it->second;
  if (fresh) older = newer = rate_sample{fallback_since, 0, 0};
  const double secs = std::chrono::duration<double>(now - older.at).count();
  auto rate = [&](std::uint64_t now_bytes, std::uint64_t then) {
    return secs > 0 && now_bytes >= then ? static_cast<double>(now_bytes - then) * 8.0 / secs : 0.0;
  };
  const std::pair<double, double> result{rate(in, older.bytes_in), rate(out, older.bytes_out)};
  if (now - newer.at >= std::chrono::seconds(1)) {
    older = newer;
    newer = rate_sample{now, in, out};
  }
  return result;
}

http::response http_api::metrics_page() {
  using http::metric_type;
  const auto conns = metrics_.snapshot();
  std::uint64_t by_role[4] = {0, 0, 0, 0};
  struct per_stream {
    std::uint64_t bytes_out = 0;
  };
  std::map<std::string, per_stream> out_by_key;
  for (const auto& c : conns) {
    by_role[static_cast<int>(c.role)]++;
    if (c.role == connection_role::playing) out_by_key[c.stream_key].bytes_out += c.bytes_out;
  }
  http::prometheus_text page;
  process_metrics(page);
  page.family("rtmp_build_info", "The server's version, as a label; the value is always 1.", metric_type::gauge);
  page.sample("rtmp_build_info", http::prometheus_text::label_set({{"version", build_info::version}}), std::uint64_t{1});

  static constexpr const char* role_names[] = {"handshake", "negotiating", "publishing", "playing"};
  page.family("rtmp_connections", "Open RTMP connections by role.", metric_type::gauge);
  for (int r = 0; r < 4; ++r) {
    page.sample("rtmp_connections", http::prometheus_text::label_set({{"role", role_names[r]}}), by_role[r]);
  }
  page.family("rtmp_publishers", "Connections publishing a stream.", metric_type::gauge);
  page.sample("rtmp_publishers", "", by_role[2]);
  page.family("rtmp_players", "Connections playing a stream.", metric_type::gauge);
  page.sample("rtmp_players", "", by_role[3]);
  page.family("rtmp_connections_accepted_total", "Connections admitted.", metric_type::counter);
  page.sample("rtmp_connections_accepted_total", "", metrics_.accepted.load());
  page.family("rtmp_connections_refused_total", "Connections refused by a connection cap.", metric_type::counter);
  page.sample("rtmp_connections_refused_total", R"({cap="total"})", metrics_.refused_total_cap.load());
  page.sample("rtmp_connections_refused_total", R"({cap="per_ip"})", metrics_.refused_per_ip_cap.load());
  page.family("rtmp_connections_closed_total", "Closed connections by reason (handshake and protocol errors included).",
              metric_type::counter);
  for (std::size_t k = 0; k < close_kind_names.size(); ++k) {
    page.sample("rtmp_connections_closed_total", http::prometheus_text::label_set({{"reason", close_kind_names[k]}}),
                metrics_.closes[k].load());
  }
  const auto [total_in, total_out] = metrics_.total_bytes();
  page.family("rtmp_received_bytes_total", "Bytes read from RTMP (and HTTP-FLV) connections.", metric_type::counter);
  page.sample("rtmp_received_bytes_total", "", total_in);
  page.family("rtmp_sent_bytes_total", "Bytes written to RTMP and HTTP-FLV player connections.", metric_type::counter);
  page.sample("rtmp_sent_bytes_total", "", total_out);
  page.family("rtmp_hls_streams", "Streams with HLS segments (live, or ended and not yet expired).",
              metric_type::gauge);
  page.sample("rtmp_hls_streams", "", hls_.streams());
  page.family("rtmp_hls_bytes", "Bytes of HLS segments kept in memory.", metric_type::gauge);
  page.sample("rtmp_hls_bytes", "", hls_.bytes());
  page.family("rtmp_hls_requests_total", "HLS playlist and segment requests answered.", metric_type::counter);
  page.sample("rtmp_hls_requests_total", "", hls_.requests());
  page.family("rtmp_hls_blocked_requests", "LL-HLS blocking playlist reloads and part requests held now.",
              metric_type::gauge);
  page.sample("rtmp_hls_blocked_requests", "", hls_.blocked());
  page.family("rtmp_write_coalesce_window_seconds",
              "Each worker's write coalescing window now (adaptive: follows the cost of fan-out).",
              metric_type::gauge);
  for (std::size_t w = 0; w < streams_.workers(); ++w) {
    page.sample_double("rtmp_write_coalesce_window_seconds",
                http::prometheus_text::label_set({{"worker", std::to_string(w)}}),
                std::chrono::duration<double>(streams_.coalesce_window(w)).count());
  }
  page.family("rtmp_fanout_share", "Each worker's share of time fan-out would take without coalescing (estimate).",
              metric_type::gauge);
  for (std::size_t w = 0; w < streams_.workers(); ++w) {
    page.sample_double("rtmp_fanout_share", http::prometheus_text::label_set({{"worker", std::to_string(w)}}),
                streams_.fanout_share(w));
  }
  page.family("rtmp_media_dropped_total", "Media messages dropped, by reason.", metric_type::counter);
  page.sample("rtmp_media_dropped_total", R"({reason="queue_full"})", metrics_.dropped_queue_full.load());

  // Per stream: one row each, written family by family below.
  struct stream_row {
    std::string labels;
    std::uint64_t players = 0, bytes_in = 0, bytes_out = 0;
    double rate_in = 0, rate_out = 0;
  };
  std::vector<stream_row> rows;
  const auto departed = metrics_.departed_sent();
  std::set<std::string> live;
  const auto now_sys = system_clock::now();
  const auto now_steady = steady::now();
  for (const auto& s : streams_.streams()) {
    const auto st = s->status();
    const auto [app, name] = split_key(s->key());
    live.insert(s->key());
    const auto it = out_by_key.find(s->key());
    const std::uint64_t current_out = it == out_by_key.end() ? 0 : it->second.bytes_out;
    const auto gone = departed.find(s->key());
    const std::uint64_t out = current_out + (gone == departed.end() ? 0 : gone->second);
    const auto since = now_steady - std::chrono::duration_cast<steady::duration>(now_sys - st.publish_started);
    const auto [rin, rout] = rates(s->key(), st.bytes_in, out, since);
    rows.push_back(stream_row{http::prometheus_text::label_set({{"app", app}, {"stream", name}}), st.subscribers,
                              st.bytes_in, out, rin, rout});
  }
  metrics_.forget_departed_except([&](const std::string& key) { return live.contains(key); });
  const auto per_stream_family = [&](const char* name, const char* help, metric_type type, auto field) {
    page.family(name, help, type);
    for (const auto& r : rows) {
      if constexpr (std::is_same_v<decltype(r.*field), const double&>) {
        page.sample_double(name, r.labels, r.*field);
      } else {
        page.sample(name, r.labels, r.*field);
      }
    }
  };
  per_stream_family("rtmp_stream_players", "Players of a stream.", metric_type::gauge, &stream_row::players);
  per_stream_family("rtmp_stream_received_bytes_total", "Media payload bytes from the stream's current publisher.",
                    metric_type::counter, &stream_row::bytes_in);
  per_stream_family("rtmp_stream_sent_bytes_total", "Bytes sent to the stream's players, those who left included.",
                    metric_type::counter, &stream_row::bytes_out);
  per_stream_family("rtmp_stream_bitrate_in_bps", "Inbound bit rate over the last seconds.", metric_type::gauge,
                    &stream_row::rate_in);
  per_stream_family("rtmp_stream_bitrate_out_bps", "Outbound bit rate (all players) over the last seconds.",
                    metric_type::gauge, &stream_row::rate_out);
  auto r = http::make_text(200, page.take());
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  return r;
}

void http_api::process_metrics(http::prometheus_text& page) const {
  using http::metric_type;
  const process_stats p = read_process_stats();
  const auto integer = [&](const char* name, const char* help, const std::optional<std::uint64_t>& v) {
    if (!v) return;
    page.family(name, help, metric_type::gauge);
    page.sample(name, "", *v);
  };
  const auto seconds = [&](const char* name, const char* help, metric_type type, const std::optional<double>& v) {
    if (!v) return;
    page.family(name, help, type);
    page.sample_double(name, "", *v);
  };
  // The names, help texts and types of the Prometheus client libraries.
  seconds("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", metric_type::counter,
          p.cpu_seconds);
  integer("process_resident_memory_bytes", "Resident memory size in bytes.", p.rss_bytes);
  integer("process_open_fds", "Number of open file descriptors.", p.open_fds);
  integer("process_max_fds", "Maximum number of open file descriptors.", p.max_fds);
  seconds("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", metric_type::gauge,
          p.start_time_seconds);
}

http::response http_api::streams_page(const std::string* only_key) {
  const auto conns = metrics_.snapshot();
  const auto pushes = relays_.pushes();
  json list = json::array();
  const auto now_sys = system_clock::now();
  const auto now_steady = steady::now();
  for (const auto& s : streams_.streams()) {
    if (only_key != nullptr && s->key() != *only_key) continue;
    const auto st = s->status();
    const auto [app, name] = split_key(s->key());
    json players = json::array();
    json publisher = nullptr;
    std::uint64_t out = 0;
    for (const auto& c : conns) {
      if (c.stream_key != s->key()) continue;
      if (c.role == connection_role::publishing) {
        publisher = json{{"id", c.id},
                         {"address", c.remote},
                         {"connected_since", iso8601(c.connected_at)},
                         {"bytes_received", c.bytes_in}};
      } else if (c.role == connection_role::playing) {
        out += c.bytes_out;
        players.push_back(json{{"id", c.id},
                               {"address", c.remote},
                               {"connected_since", iso8601(c.connected_at)},
                               {"bytes_sent", c.bytes_out},
                               {"dropped", c.dropped}});
      }
    }
    const auto since = now_steady - std::chrono::duration_cast<steady::duration>(now_sys - st.publish_started);
    const auto [rin, rout] = rates(s->key(), st.bytes_in, out, since);
    json entry = media_description(st);
    entry["app"] = app;
    entry["stream"] = name;
    entry["publishing"] = st.publishing;
    entry["publisher"] = publisher;
    entry["publish_started"] = st.publishing ? json(iso8601(st.publish_started)) : json(nullptr);
    entry["bytes_in"] = st.bytes_in;
    entry["messages_in"] = st.messages_in;
    entry["bytes_out"] = out;
    entry["bitrate_in_bps"] = std::llround(rin);
    entry["bitrate_out_bps"] = std::llround(rout);
    entry["player_count"] = players.size();
    entry["players"] = std::move(players);
    json targets = json::array();  // push targets, their keys redacted
    for (const auto& p : pushes) {
      if (p.key != s->key()) continue;
      targets.push_back(json{{"url", p.url},
                             {"state", p.state},
                             {"bytes_sent", p.bytes_sent},
                             {"reconnects", p.reconnects},
                             {"last_error", p.last_error}});
    }
    entry["pushes"] = std::move(targets);
    if (const auto h = hls_.status(s->key())) {
      entry["hls"] = json{{"segments", h->segments},
                          {"bytes", h->bytes},
                          {"next_sequence", h->next_sequence},
                          {"ended", h->ended},
                          {"requests", h->requests},
                          {"requests_per_second", h->requests_per_second},
                          {"playlist_requests_per_second", h->playlist_requests_per_second},
                          {"blocked", h->blocked}};
    }
    list.push_back(std::move(entry));
  }
  if (only_key != nullptr) {
    if (list.empty()) return http::make_error(404, "no such stream");
    return http::make_json(200, list.front().dump(2) + "\n");
  }
  return http::make_json(200, json{{"streams", std::move(list)}}.dump(2) + "\n");
}

std::optional<http::response> http_api::refuse_without_token(const http::request& req, std::string_view what) const {
  if (token_.empty()) return http::make_error(403, std::string(what) + " is disabled: no http-token is configured");
  const auto auth = req.header("Authorization");
  constexpr std::string_view bearer = "Bearer ";
  if (!auth || auth->size() <= bearer.size() || !http::iequals(auth->substr(0, bearer.size()), bearer) ||
      !constant_time_equal(auth->substr(bearer.size()), token_)) {
    auto r = http::make_error(401, "a valid bearer token is required");
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
    return r;
  }
  return std::nullopt;
}

http::response http_api::reload(const http::request& req) {
  if (auto refused = refuse_without_token(req, "reload")) return *refused;
  std::function<reload_outcome()> handler;
  {
    std::lock_guard lock(reload_mutex_);
    handler = reload_handler_;
  }
  if (!handler) return http::make_error(501, "this server has no configuration file to reload");
  const reload_outcome outcome = handler();
  if (!outcome.ok) return http::make_json(422, json{{"reloaded", false}, {"error", outcome.text}}.dump() + "\n");
  return http::make_json(200, json{{"reloaded", true}, {"changes", outcome.text}}.dump() + "\n");
}

void http_api::set_reload_handler(std::function<reload_outcome()> handler) {
  std::lock_guard lock(reload_mutex_);
  reload_handler_ = std::move(handler);
}

http::response http_api::kick(const http::request& req, const std::string& key) {
  if (auto refused = refuse_without_token(req, "kick")) return *refused;
  auto s = streams_.find(key);
  auto p = s ? s->current_publisher() : nullptr;
  if (p == nullptr) return http::make_error(404, "no such stream is being published");
  p->kick("kicked by an operator (HTTP API)");
  return http::make_json(200, json{{"kicked", key}}.dump() + "\n");
}

}  // namespace rtmp::net
