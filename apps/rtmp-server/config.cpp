// rtmp-server settings: flags, validation and conversion (see config.hpp).
#include "config.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string_view>

#include "rtmp/proto/rtmp_url.hpp"

namespace rtmp::server_app {

namespace {

constexpr std::int64_t kib = 1024;
constexpr std::int64_t mib = 1024 * kib;

// "a, b or c" for problem messages.
std::string one_of_text(const std::vector<std::string_view>& allowed) {
  std::string out;
  for (std::size_t i = 0; i < allowed.size(); ++i) {
    if (i > 0) out += i + 1 == allowed.size() ? " or " : ", ";
    out += allowed[i];
  }
  return out;
}

std::optional<config_problem> check_range(const char* key, std::int64_t value, std::int64_t low, std::int64_t high,
                                          const char* unit = "") {
  if (value >= low && value <= high) return std::nullopt;
  return config_problem{key, "must be between " + std::to_string(low) + " and " + std::to_string(high) + unit +
                                 " (got " + std::to_string(value) + ")"};
}

std::optional<config_problem> check_one_of(const char* key, const std::string& value,
                                           const std::vector<std::string_view>& allowed) {
  if (std::find(allowed.begin(), allowed.end(), value) != allowed.end()) return std::nullopt;
  return config_problem{key, "must be " + one_of_text(allowed) + " (got \"" + value + "\")"};
}

std::optional<config_problem> check_not_negative(const char* key, std::int64_t value) {
  if (value >= 0) return std::nullopt;
  return config_problem{key, "must be 0 (unlimited) or more (got " + std::to_string(value) + ")"};
}

// on|off, also accepting TOML's true|false.
bool is_on(const std::string& v) { return v == "on" || v == "true"; }

const std::vector<std::string_view> on_off = {"on", "off", "true", "false"};

bool is_on_off(std::string_view v) { return std::find(on_off.begin(), on_off.end(), v) != on_off.end(); }

}  // namespace

namespace {

// Listening, workers, protocol limits, streams and connection caps.
void add_core_options(CLI::App& app, settings& s, const settings& d) {
  app.add_option("-l,--listen", s.listen,
                 "Address to listen on: ADDR:PORT, [V6ADDR]:PORT, HOST:PORT (resolved at start), :PORT or PORT "
                 "(repeatable; port 0: any)")
      ->default_str(d.listen.front());
  app.add_option("-w,--workers", s.workers, "Worker threads, each with its own io_context (0: one per core)")
      ->default_val(d.workers);
  app.add_option("--chunk-size", s.chunk_size, "Outbound chunk size in bytes, 128 to 65536")->default_val(d.chunk_size);
  app.add_option("--log-level", s.log_level, "trace, debug, info, warn, error, critical or off")
      ->default_val(d.log_level);
  app.add_option("--log-format", s.log_format, "text, or json: one JSON object per line (time, level, logger, msg)")
      ->default_val(d.log_format);
  app.add_option("--idle-timeout", s.idle_timeout, "Seconds without data before a publisher is dropped, 1 to 3600")
      ->default_val(d.idle_timeout);
  app.add_option("--handshake-timeout", s.handshake_timeout,
                 "Seconds allowed for the whole handshake, and again for connect + publish/play, 1 to 300")
      ->default_val(d.handshake_timeout);
  app.add_option("--max-message-size", s.max_message_size,
                 "Largest inbound audio/video message in bytes, 65536 to 16777215")
      ->default_val(d.max_message_size);
  app.add_option("--queue-bytes", s.queue_bytes, "Per-player bound on queued media bytes, 65536 to 1073741824")
      ->default_val(d.queue_bytes);
  app.add_option("--write-coalesce-ms", s.write_coalesce_ms,
                 "auto: hold players' media only when fan-out is costly, as long as it pays within "
                 "--max-coalesce-delay-ms; or a fixed window in ms to send media in fewer writes (0: off), 0 to 1000")
      ->default_val(d.write_coalesce_ms);
  app.add_option("--max-coalesce-delay-ms", s.max_coalesce_delay_ms,
                 "With --write-coalesce-ms auto: the most a message waits, window and fan-out round, 5 to 1000")
      ->default_val(d.max_coalesce_delay_ms);
  app.add_option("--slow-subscriber", s.slow_subscriber,
                 "What to do with a player that cannot keep up: drop or disconnect")
      ->default_val(d.slow_subscriber);
  app.add_option("--gop-cache", s.gop_cache, "Cache the current GOP so late joiners start at a keyframe: on or off")
      ->default_val(d.gop_cache);
  app.add_option("--gop-cache-app", s.gop_cache_app,
                 "APP=on|off: the GOP cache of one application, overriding --gop-cache (repeatable)");
  app.add_option("--wait-for-publisher", s.wait_for_publisher,
                 "A player of an idle stream waits (on) or is refused (off)")
      ->default_val(d.wait_for_publisher);
  app.add_option("--publisher-takeover", s.publisher_takeover,
                 "A new publisher on a busy key replaces the old one: on or off")
      ->default_val(d.publisher_takeover);
  app.add_option("--stale-publisher-ms", s.stale_publisher_ms,
                 "With takeover off, a publisher that sent no media this long yields its key to a new publisher "
                 "(0: never), 0 to 3600000")
      ->default_val(d.stale_publisher_ms);
  app.add_option("--max-connections", s.max_connections, "Open connections at once; more are closed (0: unlimited)")
      ->default_val(d.max_connections);
  app.add_option("--max-connections-per-ip", s.max_connections_per_ip,
                 "Open connections per client address; more are closed (0: unlimited)")
      ->default_val(d.max_connections_per_ip);
}

// RTMPS and the operator HTTP endpoint.
void add_endpoint_options(CLI::App& app, settings& s, const settings& d) {  app.add_option("--tls-listen", s.tls_listen,
                 "Accept RTMPS (RTMP over TLS) on ADDR:PORT (repeatable; off when unset; needs --tls-cert and --tls-key)");
  app.add_option("--tls-cert", s.tls_cert, "PEM file with the RTMPS certificate chain (server certificate first)");
  app.add_option("--tls-key", s.tls_key, "PEM file with the private key of --tls-cert");
  app.add_option("--http-listen", s.http_listen,
                 "Serve /metrics, /api/streams and /healthz on ADDR:PORT (repeatable; off when unset)");
  app.add_option("--http-token", s.http_token,
                 "Bearer token that allows POST /api/streams/{app}/{stream}/kick (kicks are refused without one)");
  app.add_option("--http-flv-cors", s.http_flv_cors,
                 "Access-Control-Allow-Origin for HTTP-FLV playback (GET /{app}/{stream}.flv): \"*\" or an origin "
                 "(empty: no CORS headers)");
  app.add_option("--http-max-pending", s.http_max_pending,
                 "HTTP connections still sending a request, 1 to 100000; past it the oldest is closed for the new one")
      ->default_val(d.http_max_pending);
  app.add_option("--http-max-api", s.http_max_api,
                 "Operator HTTP requests answered at once, 1 to 100000; more get 503")
      ->default_val(d.http_max_api);
}

// Applications, tokens, callbacks and address rules.
void add_access_options(CLI::App& app, settings& s, const settings& d) {  app.add_option("--app", s.apps,
                 "An application clients may connect to (repeatable); others get Connect.Rejected (default: any)");
  app.add_option("--publish-token", s.publish_tokens,
                 "APP=TOKEN: publishing to APP needs ?token=TOKEN in the stream name or tcUrl (repeatable)");
  app.add_option("--play-token", s.play_tokens, "APP=TOKEN: playing from APP needs ?token=TOKEN (repeatable)");
  app.add_option("--token-file", s.token_file,
                 "File of tokens, one 'publish APP TOKEN' or 'play APP TOKEN' per line ('#' comments), "
                 "added to --publish-token/--play-token and kept out of the command line");
  app.add_option("--on-publish", s.on_publish,
                 "http://HOST:PORT/PATH to POST {action, app, stream, query, tc_url, client} before each publish; "
                 "2xx allows");
  app.add_option("--on-play", s.on_play, "The same callback before each play");
  app.add_option("--on-connect", s.on_connect,
                 "The same callback ({action: \"connect\", app, tc_url, client, ...}) after each connect, before "
                 "the server answers it; 2xx allows, otherwise NetConnection.Connect.Rejected");
  app.add_option("--on-publish-done", s.on_publish_done,
                 "http(s)://HOST[:PORT]/PATH[?QUERY] to POST {action, app, stream, client, client_endpoint, "
                 "duration_ms, bytes, reason} when a publish ends");
  app.add_option("--on-play-done", s.on_play_done, "The same when a play ends (RTMP or HTTP-FLV)");
  app.add_option("--exec-publish", s.exec_publish,
                 "APP=CMD: run /bin/sh -c CMD while a stream of APP is published (environment RTMP_APP, "
                 "RTMP_STREAM, RTMP_URL); restarted with back-off if it dies, SIGTERM then SIGKILL when the "
                 "publish ends; its stderr is logged (repeatable)");
  app.add_option("--exec-publish-done", s.exec_publish_done,
                 "APP=CMD: run /bin/sh -c CMD once when a publish of APP ends (same environment; repeatable)");
  app.add_option("--hook-timeout-ms", s.hook_timeout_ms,
                 "Deadline of the on-publish-done / on-play-done POSTs in ms, 100 to 60000 (an exec-publish-done "
                 "command gets 10 times this)")
      ->default_val(d.hook_timeout_ms);
  app.add_option("--auth-timeout-ms", s.auth_timeout_ms, "Callback deadline in ms, 100 to 60000")
      ->default_val(d.auth_timeout_ms);
  app.add_option("--auth-fail-open", s.auth_fail_open,
                 "on: allow when the callback cannot be reached in time; off: refuse")
      ->default_val(d.auth_fail_open);
  app.add_option("--allow-publish", s.allow_publish,
                 "CIDR, APP=CIDR or all: addresses allowed to publish; rules of the four access options apply in the "
                 "order given, the first match decides, none: allowed (repeatable)");
  app.add_option("--deny-publish", s.deny_publish, "CIDR, APP=CIDR or all: addresses refused to publish (repeatable)");
  app.add_option("--allow-play", s.allow_play, "CIDR, APP=CIDR or all: addresses allowed to play (repeatable)");
  app.add_option("--deny-play", s.deny_play, "CIDR, APP=CIDR or all: addresses refused to play (repeatable)");
  app.add_option("--proxy-protocol-listen", s.proxy_protocol_listen,
                 "Accept RTMP behind a TCP load balancer on ADDR:PORT: each connection starts with a PROXY protocol "
                 "v1 or v2 header, whose client address counts (repeatable; off when unset)");
}

// Recording and relays.
void add_recording_and_relay_options(CLI::App& app, settings& s, const settings& d) {
  app.add_option("--record", s.record,
                 "APP=all|video|audio|off: record every publish of APP to FLV files (repeatable; default off)");
  app.add_option("--hls", s.hls,
                 "APP=on|off: serve every stream of APP as HLS, http://HTTP-LISTEN/APP/STREAM/index.m3u8 "
                 "(MPEG-TS segments of H.264 + AAC; repeatable; default off)");
  app.add_option("--hls-format", s.hls_format,
                 "ts: MPEG-TS segments (H.264 + AAC); fmp4: fMP4/CMAF segments with an init segment (also HEVC and "
                 "AV1 from Enhanced RTMP)")
      ->default_val(d.hls_format);
  app.add_option("--hls-path", s.hls_path,
                 "Also write each stream's index.m3u8 and segments under DIR/APP/STREAM/ for another web server "
                 "(replaced atomically, old segments removed; default: memory only)")
      ->type_name("DIR");
  app.add_option("--hls-segment-ms", s.hls_segment_ms,
                 "HLS segment length: cut at the first keyframe past it, in ms, 500 to 60000")
      ->default_val(d.hls_segment_ms);
  app.add_option("--hls-window", s.hls_window, "Segments an HLS playlist lists, 2 to 100")->default_val(d.hls_window);
  app.add_option("--hls-max-stream-mb", s.hls_max_stream_mb, "HLS segment megabytes kept per stream, 1 to 4096")
      ->default_val(d.hls_max_stream_mb);
  app.add_option("--hls-max-total-mb", s.hls_max_total_mb,
                 "HLS segment megabytes kept over every stream; past it new streams get no HLS, 1 to 65536")
      ->default_val(d.hls_max_total_mb);
  app.add_option("--hls-expire-ms", s.hls_expire_ms,
                 "After its publisher stops, a stream's HLS playlist (ended) and segments stay this long, in ms, "
                 "1000 to 3600000")
      ->default_val(d.hls_expire_ms);
  app.add_option("--hls-part-ms", s.hls_part_ms,
                 "Low-Latency HLS with --hls-format fmp4: partial segments of about this many ms, blocking playlist "
                 "reloads and preload hints; 0 turns it off, else 100 to 5000 and below --hls-segment-ms")
      ->default_val(d.hls_part_ms);
  app.add_option("--hls-max-blocked", s.hls_max_blocked,
                 "LL-HLS blocking playlist reloads and hinted part requests held at once over the server; past it "
                 "they get 503, 1 to 1000000")
      ->default_val(d.hls_max_blocked);
  app.add_option("--record-path", s.record_path, "Directory of the recordings (created when needed)")
      ->default_val(d.record_path);
  app.add_option("--record-pattern", s.record_pattern,
                 "Recording file name under --record-path: {app}, {stream}, {time} (UTC start), {n} (piece)")
      ->default_val(d.record_pattern);
  app.add_option("--record-max-bytes", s.record_max_bytes,
                 "Start a new recording file at the next keyframe past this size (0: no limit)")
      ->default_val(d.record_max_bytes);
  app.add_option("--record-max-seconds", s.record_max_seconds,
                 "Start a new recording file at the next keyframe past this duration (0: no limit)")
      ->default_val(d.record_max_seconds);
  app.add_option("--on-record-done", s.on_record_done,
                 "When a recording file is complete: a /bin/sh command ($1 = the file) or an http:// URL that gets "
                 "a JSON POST {app, stream, path, bytes, duration_ms}");
  app.add_option("--on-record-done-timeout-ms", s.on_record_done_timeout_ms,
                 "Deadline of the on-record-done command or POST in ms, 100 to 3600000")
      ->default_val(d.on_record_done_timeout_ms);
  app.add_option("--ca-file", s.ca_file,
                 "PEM CA certificates that rtmps:// push targets and https:// callbacks must chain to (default: the system's trust store)");
  app.add_option("--push", s.push,
                 "APP=URL or APP/STREAM=URL: re-publish every stream of APP (or one) to URL, reconnecting with "
                 "back-off; URL is rtmp[s]://HOST[:PORT]/APP2 (the stream goes to URL/STREAM) or a full ingest URL "
                 "with its key (used as is); {app} and {stream} stand for the local names (repeatable)");
  app.add_option("--pull", s.pull,
                 "APP=URL[,URL...]: edge mode; a player of APP/STREAM with no local publisher makes the server play "
                 "URL/STREAM from the first origin that works (repeatable)");
  app.add_option("--pull-idle-timeout-ms", s.pull_idle_timeout_ms,
                 "A pull ends this long after its last player left, in ms, 100 to 3600000")
      ->default_val(d.pull_idle_timeout_ms);}

}  // namespace

void add_setting_options(CLI::App& app, settings& s) {
  const settings d;
  add_core_options(app, s, d);
  add_endpoint_options(app, s, d);
  add_access_options(app, s, d);
  add_recording_and_relay_options(app, s, d);

}

namespace {

// The access rules in the order they were given (settings::access_order),
// or the four lists one after another.
std::vector<net::access_rule> access_rules_of(const settings& s) {
  std::vector<std::string> ordered = s.access_order;
  if (ordered.empty()) {
    const std::vector<std::string>* lists[] = {&s.allow_publish, &s.deny_publish, &s.allow_play, &s.deny_play};
    for (std::size_t i = 0; i < std::size(lists); ++i) {
      for (const auto& value : *lists[i]) ordered.push_back(std::string(access_keys[i].action) + " " + value);
    }
  }
  std::vector<net::access_rule> rules;
  for (const auto& entry : ordered) {
    // "allow publish VALUE"
    const auto first = entry.find(' ');
    const auto second = entry.find(' ', first + 1);
    if (first == std::string::npos || second == std::string::npos || second + 1 >= entry.size()) continue;
    const bool allow = entry.compare(0, first, "allow") == 0;
    const bool publish = entry.compare(first + 1, second - first - 1, "publish") == 0;
    if (auto rule = net::parse_access_rule(allow, publish, std::string_view(entry).substr(second + 1))) {
      rules.push_back(std::move(*rule));
    }
  }
  return rules;
}

// Why a listen address is refused.
std::string address_problem(const std::string& text, const std::error_code& ec) {
  if (ec == std::errc::address_not_available) return "\"" + text + "\": the host name does not resolve";
  return "\"" + text +
         "\" is not ADDR:PORT, [V6ADDR]:PORT, HOST:PORT, :PORT or PORT with a port up to 65535 "
         "(in the file, quote it: listen = \"[::]:1935\")";
}

// "ADDR:PORT" lists: listen (at least one), tls-listen and http-listen
// ("" is what --print-config writes for none: off), and the TLS files.
std::optional<config_problem> validate_listeners(const settings& s) {
  if (s.listen.empty()) return config_problem{"listen", "needs at least one address"};
  asio::ip::tcp::endpoint ep;
  for (const auto& text : s.listen) {
    if (const auto ec = net::parse_endpoint(text, ep)) return config_problem{"listen", address_problem(text, ec)};
  }
  bool tls_on = false;
  for (const auto& [key, list] : {std::pair{"tls-listen", &s.tls_listen}, std::pair{"http-listen", &s.http_listen},
                                  std::pair{"proxy-protocol-listen", &s.proxy_protocol_listen}}) {
    for (const auto& text : *list) {
      if (text.empty()) continue;
      if (list == &s.tls_listen) tls_on = true;
      if (const auto ec = net::parse_endpoint(text, ep)) return config_problem{key, address_problem(text, ec)};
    }
  }
  for (const auto& [key, file] : {std::pair{"tls-cert", &s.tls_cert}, std::pair{"tls-key", &s.tls_key}}) {
    if (!tls_on) break;
    if (file->empty()) return config_problem{key, "is needed when tls-listen is set"};
    std::error_code ec;
    if (!std::filesystem::is_regular_file(*file, ec)) {
      return config_problem{key, "\"" + *file + "\" is not a readable file"};
    }
  }
  return std::nullopt;
}

// Values that end up in HTTP header fields.
std::optional<config_problem> validate_header_values(const settings& s) {
  for (const auto& [key, value] : {std::pair{"http-token", &s.http_token}, std::pair{"http-flv-cors", &s.http_flv_cors}}) {
    for (char c : *value) {
      if (c <= ' ' || c == 0x7f) return config_problem{key, "must not contain spaces or control characters"};
    }
  }
  return std::nullopt;
}

// One APP=VALUE list: every non-empty rule needs a non-empty APP, and
// `value_ok` says whether its value is acceptable.
struct app_rule_list {
  const char* key;
  const std::vector<std::string>* rules;
  bool (*value_ok)(std::string_view value);
  const char* expected;  // what a rule must look like, for the message
};

bool non_empty(std::string_view v) { return !v.empty(); }
bool record_mode_ok(std::string_view v) {
  net::record_mode mode{};
  return net::parse_record_mode(std::string(v), mode);
}

std::optional<config_problem> validate_app_rules(const settings& s) {
  const app_rule_list lists[] = {
      {"publish-token", &s.publish_tokens, non_empty, "APP=TOKEN"},
      {"play-token", &s.play_tokens, non_empty, "APP=TOKEN"},
      {"gop-cache-app", &s.gop_cache_app, is_on_off, "APP=on or APP=off"},
      {"record", &s.record, record_mode_ok, "APP=all, APP=video, APP=audio or APP=off"},
      {"hls", &s.hls, is_on_off, "APP=on or APP=off"},
  };
  for (const auto& list : lists) {
    for (const auto& rule : *list.rules) {
      if (rule.empty()) continue;
      const auto eq = rule.find('=');
      if (eq == std::string::npos || eq == 0 || !list.value_ok(std::string_view(rule).substr(eq + 1))) {
        // Token rules are not echoed: the value is a secret.
        const bool secret = list.rules == &s.publish_tokens || list.rules == &s.play_tokens;
        return config_problem{list.key, std::string("must be ") + list.expected +
                                            (secret ? " (got a value without '=' or with an empty side)"
                                                    : " (got \"" + rule + "\")")};
      }
    }
  }
  return std::nullopt;
}

// Publish/play authorization: the token file and the callbacks.
std::optional<config_problem> validate_auth(const settings& s) {
  if (!s.token_file.empty()) {
    net::auth_config scratch;
    if (auto why = read_token_file(s.token_file, scratch)) return config_problem{"token-file", *why};
  }
  for (const auto& [key, url] : {std::pair{"on-publish", &s.on_publish}, std::pair{"on-play", &s.on_play},
                                 std::pair{"on-connect", &s.on_connect},
                                 std::pair{"on-publish-done", &s.on_publish_done},
                                 std::pair{"on-play-done", &s.on_play_done}}) {
    if (!url->empty() && url->rfind("http://", 0) != 0 && url->rfind("https://", 0) != 0) {
      return config_problem{key, "must be an http:// or https:// URL"};
    }
  }
  std::optional<config_problem> p;
  if ((p = check_range("auth-timeout-ms", s.auth_timeout_ms, 100, 60000, " ms"))) return p;
  for (const auto& [key, list] : {std::pair{"exec-publish", &s.exec_publish},
                                  std::pair{"exec-publish-done", &s.exec_publish_done}}) {
    for (const auto& rule : *list) {
      const auto eq = rule.find('=');
      if (!rule.empty() && (eq == std::string::npos || eq == 0 || eq + 1 == rule.size())) {
        return config_problem{key, "must be APP=COMMAND"};
      }
    }
  }
  if ((p = check_range("hook-timeout-ms", s.hook_timeout_ms, 100, 60000, " ms"))) return p;
  return check_one_of("auth-fail-open", s.auth_fail_open, on_off);
}

// allow-publish and the others: CIDR, APP=CIDR or all.
std::optional<config_problem> validate_access(const settings& s) {
  const std::vector<std::string>* lists[] = {&s.allow_publish, &s.deny_publish, &s.allow_play, &s.deny_play};
  for (std::size_t i = 0; i < std::size(lists); ++i) {
    for (const auto& value : *lists[i]) {
      if (value.empty()) continue;
      if (!net::parse_access_rule(true, true, value)) {
        return config_problem{access_keys[i].key,
                              "\"" + value + "\" is not CIDR, APP=CIDR or all (e.g. 10.0.0.0/8, live=2001:db8::/32)"};
      }
    }
  }
  return std::nullopt;
}

// push = APP=URL (one per rule), pull = APP=URL[,URL...].
std::optional<config_problem> validate_relays(const settings& s) {
  std::map<std::string, std::size_t> per_stream;
  for (const auto& rule : s.push) {
    if (rule.empty()) continue;
    std::string why;
    const auto target = net::parse_push_target(rule, &why);
    if (!target) return config_problem{"push", why};  // the reason shows no stream key
    if (++per_stream[target->app + "/" + target->stream] > net::max_relay_targets) {
      return config_problem{"push", "more than " + std::to_string(net::max_relay_targets) + " targets for one stream"};
    }
  }
  for (const auto& [key, list] : {std::pair{"pull", &s.pull}}) {
    std::map<std::string, std::size_t> per_app;
    for (const auto& rule : *list) {
      if (rule.empty()) continue;
      const auto eq = rule.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == rule.size()) {
        return config_problem{key, "must be APP=rtmp://HOST[:PORT]/APP (got \"" + rule + "\")"};
      }
      std::string_view urls = std::string_view(rule).substr(eq + 1);
      while (!urls.empty()) {
        const std::string url(urls.substr(0, urls.find(',')));
        urls.remove_prefix(std::min(urls.size(), url.size() + 1));
        proto::rtmp_url parsed;
        proto::rtmp_url_options opts;
        opts.require_stream = false;
        if (proto::parse_rtmp_url(url, parsed, opts) || parsed.tls || !parsed.stream.empty()) {
          return config_problem{key, "\"" + url + "\" is not an rtmp://HOST[:PORT]/APP URL (rtmps:// is not supported)"};
        }
        if (++per_app[rule.substr(0, eq)] > net::max_relay_targets) {
          return config_problem{key, "more than " + std::to_string(net::max_relay_targets) + " URLs for one application"};
        }
      }
    }
  }
  return check_range("pull-idle-timeout-ms", s.pull_idle_timeout_ms, 100, 3600000, " ms");
}

std::optional<config_problem> validate_recording(const settings& s) {
  if (s.record_path.empty()) return config_problem{"record-path", "must not be empty"};
  if (s.record_pattern.empty()) return config_problem{"record-pattern", "must not be empty"};
  std::optional<config_problem> p;
  if ((p = check_not_negative("record-max-bytes", s.record_max_bytes))) return p;
  if ((p = check_not_negative("record-max-seconds", s.record_max_seconds))) return p;
  if ((p = check_range("on-record-done-timeout-ms", s.on_record_done_timeout_ms, 100, 3600000, " ms"))) return p;
  if (s.hls_format != "ts" && s.hls_format != "fmp4") return config_problem{"hls-format", "must be ts or fmp4"};
  if ((p = check_range("hls-segment-ms", s.hls_segment_ms, 500, 60000, " ms"))) return p;
  if ((p = check_range("hls-window", s.hls_window, 2, 100, ""))) return p;
  if ((p = check_range("hls-max-stream-mb", s.hls_max_stream_mb, 1, 4096, " MB"))) return p;
  if ((p = check_range("hls-max-total-mb", s.hls_max_total_mb, 1, 65536, " MB"))) return p;
  if ((p = check_range("hls-max-blocked", s.hls_max_blocked, 1, 1000000, ""))) return p;
  if (s.hls_part_ms != 0) {
    if ((p = check_range("hls-part-ms", s.hls_part_ms, 100, 5000, " ms (or 0)"))) return p;
    if (s.hls_part_ms >= s.hls_segment_ms) return config_problem{"hls-part-ms", "must be below hls-segment-ms"};
  }
  return check_range("hls-expire-ms", s.hls_expire_ms, 1000, 3600000, " ms");
}

// Numbers in their ranges and words from their lists.
std::optional<config_problem> validate_scalars(const settings& s) {
  std::optional<config_problem> p;
  if ((p = check_range("workers", s.workers, 0, 1024))) return p;
  if ((p = check_range("chunk-size", s.chunk_size, 128, 65536, " bytes"))) return p;
  if ((p = check_one_of("log-level", s.log_level, {"trace", "debug", "info", "warn", "error", "critical", "off"}))) {
    return p;
  }
  if ((p = check_one_of("log-format", s.log_format, {"text", "json"}))) return p;
  if ((p = check_range("idle-timeout", s.idle_timeout, 1, 3600, " seconds"))) return p;
  if ((p = check_range("handshake-timeout", s.handshake_timeout, 1, 300, " seconds"))) return p;
  if ((p = check_range("max-message-size", s.max_message_size, 64 * kib, 16 * mib - 1, " bytes"))) return p;
  if ((p = check_range("queue-bytes", s.queue_bytes, 64 * kib, 1024 * mib, " bytes"))) return p;
  if (s.write_coalesce_ms != "auto") {
    std::int64_t ms = -1;
    const auto& t = s.write_coalesce_ms;
    const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), ms);
    if (ec != std::errc() || end != t.data() + t.size() || ms < 0 || ms > 1000) {
      return config_problem{"write-coalesce-ms", "must be auto or 0 to 1000 ms"};
    }
  }
  if ((p = check_range("max-coalesce-delay-ms", s.max_coalesce_delay_ms, 5, 1000, " ms"))) return p;
  if ((p = check_one_of("slow-subscriber", s.slow_subscriber, {"drop", "disconnect"}))) return p;
  if ((p = check_one_of("gop-cache", s.gop_cache, on_off))) return p;
  if ((p = check_one_of("wait-for-publisher", s.wait_for_publisher, on_off))) return p;
  if ((p = check_one_of("publisher-takeover", s.publisher_takeover, on_off))) return p;
  if ((p = check_range("stale-publisher-ms", s.stale_publisher_ms, 0, 3'600'000))) return p;
  if ((p = check_not_negative("max-connections", s.max_connections))) return p;
  if ((p = check_range("http-max-pending", s.http_max_pending, 1, 100000))) return p;
  if ((p = check_range("http-max-api", s.http_max_api, 1, 100000))) return p;
  return check_not_negative("max-connections-per-ip", s.max_connections_per_ip);
}

}  // namespace

std::optional<config_problem> validate(const settings& s) {
  // The first problem found is the one reported.
  for (auto* check : {validate_listeners, validate_header_values, validate_app_rules, validate_auth, validate_access,
                      validate_recording, validate_relays, validate_scalars}) {
    if (auto p = check(s)) return p;
  }
  return std::nullopt;
}

std::optional<std::string> read_token_file(const std::string& path, net::auth_config& auth) {
  std::ifstream in(path);
  if (!in) return "cannot read \"" + path + "\"";
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    std::istringstream fields(line);
    std::string action;
    std::string app;
    std::string token;
    std::string extra;
    fields >> action;
    if (action.empty() || action[0] == '#') continue;
    fields >> app >> token >> extra;
    if ((action != "publish" && action != "play") || app.empty() || token.empty() || !extra.empty()) {
      return "line " + std::to_string(number) + " of \"" + path + "\" is not 'publish APP TOKEN' or 'play APP TOKEN'";
    }
    (action == "publish" ? auth.publish_tokens : auth.play_tokens)[app].push_back(token);
  }
  if (in.bad()) return "cannot read \"" + path + "\"";
  return std::nullopt;
}

net::server_config to_server_config(const settings& s) {
  net::server_config cfg;
  cfg.listen = s.listen;
  cfg.workers = static_cast<std::size_t>(s.workers);
  cfg.session.chunk_size = static_cast<std::uint32_t>(s.chunk_size);
  cfg.idle_timeout = std::chrono::seconds(s.idle_timeout);
  cfg.handshake_timeout = std::chrono::seconds(s.handshake_timeout);
  cfg.negotiate_timeout = std::chrono::seconds(s.handshake_timeout);
  cfg.session.chunk_limits.max_message_size = static_cast<std::uint32_t>(s.max_message_size);
  cfg.queue_bytes = static_cast<std::size_t>(s.queue_bytes);
  cfg.write_coalesce_auto = s.write_coalesce_ms == "auto";
  cfg.write_coalesce = std::chrono::milliseconds(cfg.write_coalesce_auto ? 0 : std::stoll(s.write_coalesce_ms));
  cfg.max_coalesce_delay = std::chrono::milliseconds(s.max_coalesce_delay_ms);
  cfg.slow_policy =
      s.slow_subscriber == "drop" ? net::slow_subscriber_policy::drop : net::slow_subscriber_policy::disconnect;
  cfg.stream.gop_cache = is_on(s.gop_cache);
  cfg.wait_for_publisher = is_on(s.wait_for_publisher);
  cfg.stream.publisher_takeover = is_on(s.publisher_takeover);
  cfg.stream.stale_publisher = std::chrono::milliseconds(s.stale_publisher_ms);
  for (const auto& rule : s.gop_cache_app) {
    const auto eq = rule.find('=');
    if (eq == std::string::npos) continue;
    auto& app_cfg = cfg.app_stream.try_emplace(rule.substr(0, eq), cfg.stream).first->second;
    app_cfg.gop_cache = is_on(rule.substr(eq + 1));
  }
  cfg.max_connections = static_cast<std::size_t>(s.max_connections);
  cfg.max_connections_per_ip = static_cast<std::size_t>(s.max_connections_per_ip);
  for (const auto& text : s.tls_listen) {
    if (!text.empty()) cfg.tls_listen.push_back(text);
  }
  cfg.tls_cert_file = s.tls_cert;
  cfg.tls_key_file = s.tls_key;
  for (const auto& text : s.http_listen) {
    if (!text.empty()) cfg.http_listen.push_back(text);
  }
  for (const auto& text : s.proxy_protocol_listen) {
    if (!text.empty()) cfg.proxy_protocol_listen.push_back(text);
  }
  cfg.http_token = s.http_token;
  cfg.http_flv_cors = s.http_flv_cors;
  cfg.http_max_pending_requests = static_cast<std::size_t>(s.http_max_pending);
  cfg.http_max_api_requests = static_cast<std::size_t>(s.http_max_api);
  for (const auto& a : s.apps) {
    if (!a.empty()) cfg.session.allowed_apps.push_back(a);
  }
  auto add_rules = [](const std::vector<std::string>& rules, std::map<std::string, std::vector<std::string>>& out) {
    for (const auto& rule : rules) {
      const auto eq = rule.find('=');
      if (eq != std::string::npos) out[rule.substr(0, eq)].push_back(rule.substr(eq + 1));
    }
  };
  add_rules(s.publish_tokens, cfg.auth.publish_tokens);
  add_rules(s.play_tokens, cfg.auth.play_tokens);
  if (!s.token_file.empty()) (void)read_token_file(s.token_file, cfg.auth);  // validate() read it once already
  cfg.auth.on_publish_url = s.on_publish;
  cfg.auth.on_play_url = s.on_play;
  cfg.auth.on_connect_url = s.on_connect;
  cfg.auth.callback_timeout = std::chrono::milliseconds(s.auth_timeout_ms);
  cfg.auth.callback_fail_open = is_on(s.auth_fail_open);
  cfg.auth.access = access_rules_of(s);
  for (const auto& rule : s.record) {
    const auto eq = rule.find('=');
    net::record_mode mode{};
    if (eq != std::string::npos && net::parse_record_mode(rule.substr(eq + 1), mode)) {
      cfg.recording.apps[rule.substr(0, eq)] = mode;
    }
  }
  for (const auto& rule : s.hls) {
    const auto eq = rule.find('=');
    if (eq != std::string::npos && is_on(rule.substr(eq + 1))) cfg.hls.apps.insert(rule.substr(0, eq));
  }
  cfg.hls.fmp4 = s.hls_format == "fmp4";
  cfg.hls.path = s.hls_path;
  cfg.hls.segment_duration = std::chrono::milliseconds(s.hls_segment_ms);
  cfg.hls.window = static_cast<std::size_t>(s.hls_window);
  cfg.hls.max_stream_bytes = static_cast<std::size_t>(s.hls_max_stream_mb) * 1024 * 1024;
  cfg.hls.max_total_bytes = static_cast<std::size_t>(s.hls_max_total_mb) * 1024 * 1024;
  cfg.hls.expire_after = std::chrono::milliseconds(s.hls_expire_ms);
  cfg.hls.part_duration = std::chrono::milliseconds(s.hls_part_ms);
  cfg.hls.max_blocked_requests = static_cast<std::size_t>(s.hls_max_blocked);
  cfg.recording.path = s.record_path;
  cfg.recording.pattern = s.record_pattern;
  cfg.recording.max_bytes = static_cast<std::uint64_t>(s.record_max_bytes);
  cfg.recording.max_duration = std::chrono::seconds(s.record_max_seconds);
  cfg.recording.on_done = s.on_record_done;
  cfg.recording.ca_file = s.ca_file;
  cfg.auth.ca_file = s.ca_file;
  cfg.hooks.on_publish_done = s.on_publish_done;
  cfg.hooks.on_play_done = s.on_play_done;
  cfg.hooks.ca_file = s.ca_file;
  cfg.hooks.timeout = std::chrono::milliseconds(s.hook_timeout_ms);
  for (const auto& [list, out] : {std::pair{&s.exec_publish, &cfg.hooks.exec_publish},
                                  std::pair{&s.exec_publish_done, &cfg.hooks.exec_publish_done}}) {
    for (const auto& rule : *list) {
      const auto eq = rule.find('=');
      if (eq != std::string::npos && eq > 0) (*out)[rule.substr(0, eq)] = rule.substr(eq + 1);
    }
  }
  cfg.recording.on_done_timeout = std::chrono::milliseconds(s.on_record_done_timeout_ms);
  for (const auto& rule : s.push) {
    if (auto target = net::parse_push_target(rule)) cfg.relay.push.push_back(std::move(*target));
  }
  cfg.relay.ca_file = s.ca_file;
  for (const auto& rule : s.pull) {
    const auto eq = rule.find('=');
    if (eq == std::string::npos) continue;
    std::string_view urls = std::string_view(rule).substr(eq + 1);
    auto& origins = cfg.relay.pull[rule.substr(0, eq)];
    while (!urls.empty()) {
      const auto comma = urls.find(',');
      origins.emplace_back(urls.substr(0, comma));
      urls.remove_prefix(comma == std::string_view::npos ? urls.size() : comma + 1);
    }
  }
  cfg.relay.pull_idle_timeout = std::chrono::milliseconds(s.pull_idle_timeout_ms);
  return cfg;
}

}  // namespace rtmp::server_app
