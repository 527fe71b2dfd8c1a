#pragma once
/// @file config.hpp
/// rtmp-server's settings: one field per command-line flag, each of which
/// can also be a key of the configuration file (`--config FILE`, TOML; the
/// command line wins). Values are checked in one place, `validate()`, and
/// only then turned into an `rtmp::net::server_config`.

#include <CLI/CLI.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rtmp/net/server.hpp"

namespace rtmp::server_app {

/// Every configurable setting, as given (before conversion). The key of a
/// field is its name with '_' written '-', e.g. `chunk-size`.
struct settings {
  std::vector<std::string> listen{"0.0.0.0:1935"};  ///< ADDR:PORT or [V6ADDR]:PORT, one or more.
  std::int64_t workers = 0;                         ///< Worker threads; 0: one per core.
  std::int64_t chunk_size = 4096;                   ///< Outbound chunk size in bytes.
  std::string log_level = "info";                   ///< trace, debug, info, warn, error, critical, off.
  std::string log_format = "text";                  ///< text or json.
  std::int64_t idle_timeout = 10;                   ///< Seconds a publisher may stay silent.
  std::int64_t handshake_timeout = 10;              ///< Seconds for the handshake, and for connect + publish/play.
  std::int64_t max_message_size = 16 * 1024 * 1024 - 1;  ///< Largest inbound audio/video message.
  std::int64_t queue_bytes = 4 * 1024 * 1024;            ///< Per-player bound on queued media.
  std::string write_coalesce_ms = "auto";                ///< "auto" (adaptive), or hold a player's media up to this many ms (0: off).
  std::int64_t max_coalesce_delay_ms = 50;               ///< Adaptive coalescing: the most a message is held, with its round.
  std::string slow_subscriber = "drop";                  ///< drop or disconnect.
  std::string gop_cache = "on";                          ///< on or off.
  std::vector<std::string> gop_cache_app;                ///< "APP=on|off": the GOP cache of one application.
  std::string wait_for_publisher = "on";                 ///< on or off.
  std::string publisher_takeover = "off";                ///< on or off.
  std::int64_t stale_publisher_ms = 3000;                ///< A silent publisher this long yields its key (0: never).
  std::int64_t max_connections = 0;                      ///< Open connections at once; 0: unlimited.
  std::int64_t max_connections_per_ip = 0;               ///< Open connections per peer address; 0: unlimited.
  std::vector<std::string> tls_listen;                   ///< RTMPS listen addresses; empty: off.
  std::string tls_cert;                                  ///< PEM certificate chain for RTMPS.
  std::string tls_key;                                   ///< PEM private key for RTMPS.
  std::vector<std::string> http_listen;                  ///< Operator HTTP endpoint addresses; empty: off.
  std::string http_token;                                ///< Bearer token for POST /api/streams/{app}/{stream}/kick.
  std::string http_flv_cors;                             ///< HTTP-FLV Access-Control-Allow-Origin; empty: none.
  std::int64_t http_max_pending = 64;                    ///< HTTP connections still sending a request (oldest yields).
  std::int64_t http_max_api = 64;                        ///< Operator requests answered at once (more: 503).
  std::vector<std::string> apps;                         ///< Applications clients may connect to; empty: any.
  std::vector<std::string> publish_tokens;               ///< "APP=TOKEN": publishing to APP needs a token.
  std::vector<std::string> play_tokens;                  ///< "APP=TOKEN": playing from APP needs a token.
  std::string token_file;                                ///< File of "publish|play APP TOKEN" lines.
  std::string on_publish;                                ///< HTTP callback URL asked before each publish.
  std::string on_play;                                   ///< HTTP callback URL asked before each play.
  std::string on_connect;                                ///< HTTP callback URL asked after each connect.
  std::string on_publish_done;                           ///< http(s):// URL told when a publish ends.
  std::string on_play_done;                              ///< http(s):// URL told when a play ends.
  std::vector<std::string> exec_publish;                 ///< "APP=CMD": run while a stream of APP is published.
  std::vector<std::string> exec_publish_done;            ///< "APP=CMD": run once when a publish of APP ends.
  std::int64_t hook_timeout_ms = 5000;                   ///< Deadline of on-publish-done / on-play-done POSTs.
  std::int64_t auth_timeout_ms = 3000;                   ///< Callback deadline.
  std::string auth_fail_open = "off";                    ///< on: allow when the callback is unreachable.
  std::vector<std::string> allow_publish;                ///< "CIDR" or "APP=CIDR": who may publish (first match decides).
  std::vector<std::string> deny_publish;                 ///< "CIDR" or "APP=CIDR": who may not publish.
  std::vector<std::string> allow_play;                   ///< The same for playing.
  std::vector<std::string> deny_play;                    ///< The same for playing.
  /// The four lists above merged in the order they were given ("allow
  /// publish VALUE", ...): the command line's first, then the file's. Not a
  /// setting: filled after parsing (see order_access_rules); when empty, the
  /// lists are taken in the order allow-publish, deny-publish, allow-play, deny-play.
  std::vector<std::string> access_order;
  std::vector<std::string> proxy_protocol_listen;        ///< RTMP listen addresses behind a PROXY-protocol balancer.
  std::vector<std::string> record;                       ///< "APP=all|video|audio|off": record APP's publishes.
  std::string record_path = "recordings";                ///< Directory of the recordings.
  std::vector<std::string> hls;                          ///< "APP=on|off": HLS for APP's streams.
  std::string hls_format = "ts";                         ///< "ts" or "fmp4".
  std::string hls_path;                                  ///< Also write the files under this directory.
  std::int64_t hls_segment_ms = 2000;                    ///< Target segment duration.
  std::int64_t hls_window = 6;                           ///< Segments a playlist lists.
  std::int64_t hls_max_stream_mb = 64;                   ///< Segment megabytes kept per stream.
  std::int64_t hls_max_total_mb = 1024;                  ///< Over every stream.
  std::int64_t hls_expire_ms = 30000;                    ///< An ended stream's playlist and segments are kept this long.
  std::int64_t hls_part_ms = 500;                        ///< LL-HLS part duration (fmp4); 0: off.
  std::int64_t hls_max_blocked = 10000;                  ///< Blocking reloads held at once, server-wide.
  std::string record_pattern = "{app}/{stream}-{time}.flv";  ///< File name under record-path.
  std::int64_t record_max_bytes = 0;                     ///< Rotate past this size; 0: no limit.
  std::int64_t record_max_seconds = 0;                   ///< Rotate past this duration; 0: no limit.
  std::string on_record_done;                            ///< Command or http:// URL run when a file is complete.
  std::int64_t on_record_done_timeout_ms = 10000;        ///< Hook deadline.
  std::vector<std::string> push;                         ///< "APP[/STREAM]=rtmp[s]://HOST[:PORT]/APP2[/KEY]": re-publish there.
  std::string ca_file;                                   ///< CA certificates for rtmps:// push targets; empty: the system's.
  std::vector<std::string> pull;                         ///< "APP=URL[,URL...]": edge; play APP's streams from these origins.
  std::int64_t pull_idle_timeout_ms = 5000;              ///< A pull ends this long after its last player left.
};

/// The first problem found in a configuration: the key and what is wrong.
struct config_problem {
  std::string key;      ///< Key name as in the file (flag without "--").
  std::string problem;  ///< Human-readable description, e.g. "must be between 1 and 3600".
};

/// Registers every configurable flag on `app`, bound to the fields of `s`
/// (which must outlive the parse), with its default shown in --help and in
/// `app.config_to_str(true, ...)`.
void add_setting_options(CLI::App& app, settings& s);

/// Checks every value of `s`; returns the first problem, or nothing when
/// the configuration is usable.
std::optional<config_problem> validate(const settings& s);

/// Reads a token file into `auth`: one rule per line, `publish APP TOKEN` or
/// `play APP TOKEN` (fields separated by spaces or tabs); empty lines and
/// lines starting with '#' are skipped. Returns what is wrong (with the line
/// number; never the token), or nothing.
std::optional<std::string> read_token_file(const std::string& path, net::auth_config& auth);

/// The access-rule keys, in the order settings::access_order names them:
/// {key, "allow publish"} ...
struct access_key {
  const char* key;     ///< "allow-publish", ...
  const char* action;  ///< "allow publish", ...
};
inline constexpr access_key access_keys[] = {{"allow-publish", "allow publish"},
                                             {"deny-publish", "deny publish"},
                                             {"allow-play", "allow play"},
                                             {"deny-play", "deny play"}};

/// Converts settings that passed `validate()` into the server's config.
net::server_config to_server_config(const settings& s);

}  // namespace rtmp::server_app
