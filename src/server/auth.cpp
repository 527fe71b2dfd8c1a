#include "server/auth.hpp"

#include <asio/connect.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read_until.hpp>
#include <asio/steady_timer.hpp>
#include <asio/streambuf.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <algorithm>
#include <charconv>
#include <memory>

#include <nlohmann/json.hpp>

#include "net/coroutine_support.hpp"

namespace rtmp::net {

using tcp = asio::ip::tcp;

namespace {

constexpr std::size_t max_status_line = 8192;

struct http_url {
  std::string host;
  std::string port = "80";
  std::string path = "/";
};

bool parse_http_url(std::string_view url, http_url& out) {
  constexpr std::string_view scheme = "http://";
  if (url.substr(0, scheme.size()) != scheme) return false;
  url.remove_prefix(scheme.size());
  const auto slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  if (slash != std::string_view::npos) out.path = std::string(url.substr(slash));
  if (!authority.empty() && authority.front() == '[') {  // [v6]:port
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return false;
    out.host = std::string(authority.substr(1, close - 1));
    authority.remove_prefix(close + 1);
    if (!authority.empty()) {
      if (authority.front() != ':') return false;
      out.port = std::string(authority.substr(1));
    }
  } else {
    const auto colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) out.port = std::string(authority.substr(colon + 1));
  }
  return !out.host.empty() && !out.port.empty();
}

}  // namespace

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

asio::awaitable<int> post_json(asio::any_io_executor ex, std::string url, std::string json_body,
                               std::chrono::milliseconds timeout) {
  http_url u;
  if (!parse_http_url(url, u)) co_return -1;
  // The deadline closes the socket (shared: the handler may outlive us).
  auto socket = std::make_shared<tcp::socket>(ex);
  asio::steady_timer deadline(ex);
  deadline.expires_after(timeout);
  deadline.async_wait([socket](std::error_code e) {
    if (e) return;
    std::error_code ignored;
    socket->close(ignored);
  });
  tcp::resolver resolver(ex);
  auto [rec, results] = co_await resolver.async_resolve(u.host, u.port, as_tuple(use_awaitable));
  if (rec || deadline.expiry() <= std::chrono::steady_clock::now()) co_return -1;
  auto [cec, ep] = co_await asio::async_connect(*socket, results, as_tuple(use_awaitable));
  if (cec) co_return -1;
  std::string request = "POST " + u.path + " HTTP/1.1\r\nHost: " + u.host +
                        "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
                        std::to_string(json_body.size()) + "\r\n\r\n" + json_body;
  auto [wec, wn] = co_await asio::async_write(*socket, asio::buffer(request), as_tuple(use_awaitable));
  if (wec) co_return -1;
  asio::streambuf reply(max_status_line);
  auto [ec, n] = co_await asio::async_read_until(*socket, reply, "\r\n", as_tuple(use_awaitable));
  deadline.cancel();
  if (ec) co_return -1;
  // "HTTP/1.x SSS reason"
  const std::string_view line(static_cast<const char*>(reply.data().data()), n);
  if (line.size() < 12 || line.substr(0, 7) != "HTTP/1.") co_return -1;
  int status = 0;
  const auto [p, perr] = std::from_chars(line.data() + 9, line.data() + 12, status);
  (void)p;
  if (perr != std::errc()) co_return -1;
  std::error_code ignored;
  socket->close(ignored);
  co_return status;
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
  if (!access_allowed(auth.access, r.publish, r.app, r.client)) {
    auth_decision d;
    d.allowed = false;
    d.why = "the client address " + r.client + " is not allowed to " + (r.publish ? "publish" : "play");
    return d;
  }
  return check_tokens(auth, r);
}

bool has_callback(const auth_config& auth, bool publish) noexcept {
  return !(publish ? auth.on_publish_url : auth.on_play_url).empty();
}

asio::awaitable<auth_decision> ask_callback(asio::any_io_executor ex, const auth_config& auth, auth_request r) {
  nlohmann::json body{{"action", r.publish ? "publish" : "play"},
                      {"app", r.app},
                      {"stream", r.stream},
                      {"query", r.query},
                      {"tc_url", r.tc_url},
                      {"client", r.client},
                      {"client_endpoint", r.client_endpoint}};
  if (!r.protocol.empty()) body["protocol"] = r.protocol;
  const std::string& url = r.publish ? auth.on_publish_url : auth.on_play_url;
  const int status = co_await post_json(std::move(ex), url, body.dump(), auth.callback_timeout);
  auth_decision d;
  const bool reached = status > 0;
  d.allowed = reached ? status >= 200 && status < 300 : auth.callback_fail_open;
  d.fail_open = !reached && d.allowed;
  if (!d.allowed) {
    d.why = reached ? "the " + std::string(r.publish ? "on_publish" : "on_play") + " callback answered " +
                          std::to_string(status)
                    : "the callback could not be reached in time (fail-closed)";
  }
  co_return d;
}

}  // namespace rtmp::net
