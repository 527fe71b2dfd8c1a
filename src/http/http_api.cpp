#include "http/http_api.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <map>
#include <vector>

#include "rtmp/proto/amf0_codec.hpp"
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

// Prometheus label values escape backslash, double quote and newline
// (exposition format 0.0.4).
std::string label(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
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
      if (const auto* w = number("width")) video["width"] = w->as_number();
      if (const auto* h = number("height")) video["height"] = h->as_number();
      if (const auto* f = number("framerate")) video["frame_rate"] = f->as_number();
      if (const auto* f = number("videodatarate")) video["metadata_kbps"] = f->as_number();
      if (const auto* r = number("audiosamplerate")) audio["sample_rate"] = r->as_number();
      if (const auto* c = number("audiochannels")) audio["channels"] = c->as_number();
      if (const auto* r = number("audiodatarate")) audio["metadata_kbps"] = r->as_number();
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

bool constant_time_equal(std::string_view a, std::string_view b) {
  unsigned diff = a.size() == b.size() ? 0u : 1u;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned>(a[i] ^ b[i % (b.empty() ? 1 : b.size())]);
  return diff == 0 && !b.empty();
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
  const auto conns = metrics_.snapshot();
  std::size_t by_role[4] = {0, 0, 0, 0};
  struct per_stream {
    std::uint64_t bytes_out = 0;
    std::size_t players = 0;
  };
  std::map<std::string, per_stream> out_by_key;
  for (const auto& c : conns) {
    by_role[static_cast<int>(c.role)]++;
    if (c.role == connection_role::playing) {
      auto& s = out_by_key[c.stream_key];
      s.bytes_out += c.bytes_out;
      s.players++;
    }
  }
  std::string b;
  b.reserve(4096);
  auto line = [&](std::string_view text) {
    b += text;
    b += '\n';
  };
  auto counter = [&](const char* name, const char* help, const char* type) {
    b += "# HELP ";
    b += name;
    b += ' ';
    b += help;
    b += "\n# TYPE ";
    b += name;
    b += ' ';
    b += type;
    b += '\n';
  };
  auto num = [](double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return std::string(buf);
  };
  static constexpr const char* role_names[] = {"handshake", "negotiating", "publishing", "playing"};
  counter("rtmp_connections", "Open RTMP connections by role.", "gauge");
  for (int r = 0; r < 4; ++r) line(std::string("rtmp_connections{role=\"") + role_names[r] + "\"} " + num(by_role[r]));
  counter("rtmp_publishers", "Connections publishing a stream.", "gauge");
  line("rtmp_publishers " + num(by_role[2]));
  counter("rtmp_players", "Connections playing a stream.", "gauge");
  line("rtmp_players " + num(by_role[3]));
  counter("rtmp_connections_accepted_total", "Connections admitted.", "counter");
  line("rtmp_connections_accepted_total " + num(metrics_.accepted.load()));
  counter("rtmp_connections_refused_total", "Connections refused by a connection cap.", "counter");
  line("rtmp_connections_refused_total{cap=\"total\"} " + num(metrics_.refused_total_cap.load()));
  line("rtmp_connections_refused_total{cap=\"per_ip\"} " + num(metrics_.refused_per_ip_cap.load()));
  counter("rtmp_connections_closed_total", "Closed connections by reason (handshake and protocol errors included).",
          "counter");
  for (std::size_t k = 0; k < close_kind_names.size(); ++k) {
    line("rtmp_connections_closed_total{reason=\"" + std::string(close_kind_names[k]) + "\"} " +
         num(metrics_.closes[k].load()));
  }
  const auto [total_in, total_out] = metrics_.total_bytes();
  counter("rtmp_received_bytes_total", "Bytes read from RTMP (and HTTP-FLV) connections.", "counter");
  line("rtmp_received_bytes_total " + num(total_in));
  counter("rtmp_sent_bytes_total", "Bytes written to RTMP and HTTP-FLV player connections.", "counter");
  line("rtmp_sent_bytes_total " + num(total_out));
  counter("rtmp_media_dropped_total", "Media messages dropped, by reason.", "counter");
  line("rtmp_media_dropped_total{reason=\"queue_full\"} " + num(metrics_.dropped_queue_full.load()));

  counter("rtmp_stream_players", "Players of a stream.", "gauge");
  std::string in_lines, out_lines, rate_in_lines, rate_out_lines, players_lines;
  const auto now_sys = system_clock::now();
  const auto now_steady = steady::now();
  for (const auto& s : streams_.streams()) {
    const auto st = s->status();
    const auto [app, name] = split_key(s->key());
    const std::string labels = "{app=\"" + label(app) + "\",stream=\"" + label(name) + "\"}";
    const auto it = out_by_key.find(s->key());
    const std::uint64_t out = it == out_by_key.end() ? 0 : it->second.bytes_out;
    const auto since = now_steady - std::chrono::duration_cast<steady::duration>(now_sys - st.publish_started);
    const auto [rin, rout] = rates(s->key(), st.bytes_in, out, since);
    players_lines += "rtmp_stream_players" + labels + " " + num(static_cast<double>(st.subscribers)) + "\n";
    in_lines += "rtmp_stream_received_bytes_total" + labels + " " + num(static_cast<double>(st.bytes_in)) + "\n";
    out_lines += "rtmp_stream_sent_bytes_total" + labels + " " + num(static_cast<double>(out)) + "\n";
    rate_in_lines += "rtmp_stream_bitrate_in_bps" + labels + " " + num(rin) + "\n";
    rate_out_lines += "rtmp_stream_bitrate_out_bps" + labels + " " + num(rout) + "\n";
  }
  b += players_lines;
  counter("rtmp_stream_received_bytes_total", "Media payload bytes from the stream's current publisher.", "counter");
  b += in_lines;
  counter("rtmp_stream_sent_bytes_total", "Bytes sent to the stream's current players.", "gauge");
  b += out_lines;
  counter("rtmp_stream_bitrate_in_bps", "Inbound bit rate over the last seconds.", "gauge");
  b += rate_in_lines;
  counter("rtmp_stream_bitrate_out_bps", "Outbound bit rate (all players) over the last seconds.", "gauge");
  b += rate_out_lines;
  auto r = http::make_text(200, std::move(b));
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  return r;
}

http::response http_api::streams_page(const std::string* only_key) {
  const auto conns = metrics_.snapshot();
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
    entry["bitrate_in_bps"] = rin;
    entry["bitrate_out_bps"] = rout;
    entry["player_count"] = players.size();
    entry["players"] = std::move(players);
    list.push_back(std::move(entry));
  }
  if (only_key != nullptr) {
    if (list.empty()) return http::make_error(404, "no such stream");
    return http::make_json(200, list.front().dump(2) + "\n");
  }
  return http::make_json(200, json{{"streams", std::move(list)}}.dump(2) + "\n");
}

http::response http_api::kick(const http::request& req, const std::string& key) {
  if (token_.empty()) return http::make_error(403, "kick is disabled: no http-token is configured");
  const auto auth = req.header("Authorization");
  constexpr std::string_view bearer = "Bearer ";
  if (!auth || auth->size() <= bearer.size() || !http::iequals(auth->substr(0, bearer.size()), bearer) ||
      !constant_time_equal(auth->substr(bearer.size()), token_)) {
    auto r = http::make_error(401, "a valid bearer token is required");
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
    return r;
  }
  auto s = streams_.find(key);
  auto p = s ? s->current_publisher() : nullptr;
  if (p == nullptr) return http::make_error(404, "no such stream is being published");
  p->kick("kicked by an operator (HTTP API)");
  return http::make_json(200, json{{"kicked", key}}.dump() + "\n");
}

}  // namespace rtmp::net
