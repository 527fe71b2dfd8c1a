#include "server/auth.hpp"

#include <algorithm>
#include <charconv>
#include <memory>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "net/coroutine_support.hpp"

namespace rtmp::net {

std::string_view query_param(std::string_view query, std::string_view name) noexcept {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) == name && eq != std::string_view::npos) return pair.substr(eq + 1);
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

bool constant_time_equal(std::string_view given, std::string_view secret) noexcept {
  if (secret.empty()) return false;
  unsigned diff = given.size() == secret.size() ? 0u : 1u;
  for (std::size_t i = 0; i < given.size(); ++i) {
    diff |= static_cast<unsigned char>(given[i]) ^ static_cast<unsigned char>(secret[i % secret.size()]);
  }
  return diff == 0;
}

bool token_allowed(const std::vector<std::string>& tokens, std::string_view stream_name, std::string_view tc_url) {
  auto query_of = [](std::string_view s) {
    const auto q = s.find('?');
    return q == std::string_view::npos ? std::string_view() : s.substr(q + 1);
  };
  for (const std::string_view where : {query_of(stream_name), query_of(tc_url)}) {
    const std::string_view given = query_param(where, "token");
    if (given.empty()) continue;
    // Every token is compared, in full: the time does not tell which matched, or how far.
    bool allowed = false;
    for (const auto& t : tokens) allowed |= constant_time_equal(given, t);
    if (allowed) return true;
  }
  return false;
}


auth_decision check_tokens(const auth_config& auth, const auth_request& r) {
  const auto& rules = r.publish ? auth.publish_tokens : auth.play_tokens;
  const auto rule = rules.find(r.app);
  if (rule == rules.end()) return {};  // the app needs no token
  const std::string name = r.query.empty() ? r.stream : r.stream + "?" + r.query;
  if (token_allowed(rule->second, name, r.tc_url)) return {};
  auth_decision d;
  d.allowed = false;
  d.no_token = query_param(r.query, "token").empty();
  d.why = "no valid token";
  return d;
}

auth_decision check_rules(const auth_config& auth, const auth_request& r) {
  if (r.connect) return {};  // address rules and tokens are per publish and play
  if (!access_allowed(auth.access, r.publish, r.app, r.client)) {
    auth_decision d;
    d.allowed = false;
    d.why = "the client address " + r.client + " is not allowed to " + (r.publish ? "publish" : "play");
    return d;
  }
  return check_tokens(auth, r);
}

namespace {
const std::string& callback_url(const auth_config& auth, const auth_request& r) noexcept {
  return r.connect ? auth.on_connect_url : r.publish ? auth.on_publish_url : auth.on_play_url;
}
}  // namespace

bool has_callback(const auth_config& auth, const auth_request& r) noexcept { return !callback_url(auth, r).empty(); }

asio::awaitable<auth_decision> ask_callback(asio::any_io_executor ex, const auth_config& auth, auth_request r) {
  const char* action = r.connect ? "connect" : r.publish ? "publish" : "play";
  nlohmann::json body{{"action", action},
                      {"app", r.app},
                      {"stream", r.stream},
                      {"query", r.query},
                      {"tc_url", r.tc_url},
                      {"client", r.client},
                      {"client_endpoint", r.client_endpoint}};
  if (!r.protocol.empty()) body["protocol"] = r.protocol;
  const std::string& url = callback_url(auth, r);
  const int status = co_await post_json(std::move(ex), url, body.dump(), auth.callback_timeout, auth.ca_file);
  auth_decision d;
  const bool reached = status > 0;
  d.allowed = reached ? status >= 200 && status < 300 : auth.callback_fail_open;
  d.fail_open = !reached && d.allowed;
  if (!d.allowed) {
    d.why = reached ? "the on_" + std::string(action) + " callback answered " +
                          std::to_string(status)
                    : "the callback could not be reached in time (fail-closed)";
  }
  co_return d;
}

auth_request http_play_request(std::string app, std::string stream, std::string query, std::string client,
                               std::string client_endpoint, std::string protocol) {
  auth_request r;
  r.app = std::move(app);
  r.stream = std::move(stream);
  r.query = std::move(query);
  r.client = std::move(client);
  r.client_endpoint = std::move(client_endpoint);
  r.protocol = std::move(protocol);
  return r;
}

asio::awaitable<int> authorize_http_play(asio::any_io_executor ex, const auth_config& auth, auth_request r, bool ask) {
  if (const auth_decision d = check_rules(auth, r); !d.allowed) co_return d.no_token ? 401 : 403;
  if (!ask || !has_callback(auth, r)) co_return 0;
  const std::string who = r.protocol + " " + r.client_endpoint;
  const auth_decision d = co_await ask_callback(std::move(ex), auth, std::move(r));
  if (d.fail_open) spdlog::warn("{} auth callback unreachable: allowed (fail-open)", who);
  co_return d.allowed ? 0 : 403;
}

}  // namespace rtmp::net
