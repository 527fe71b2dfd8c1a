#pragma once
// Publish/play authentication helpers (see rtmp::net::auth_config): the
// static token check and the HTTP callback client.

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "net/http_post.hpp"
#include "rtmp/net/server.hpp"

namespace rtmp::net {

/// The value of parameter `name` in a query string ("a=1&token=x"), or
/// empty when absent. Not percent-decoded (tokens are compared as sent).
std::string_view query_param(std::string_view query, std::string_view name) noexcept;

/// True when `given` equals the non-empty `secret`, in a time that depends
/// on the length of `given` only, not on where the first difference is (so a
/// remote guesser learns nothing from response times).
bool constant_time_equal(std::string_view given, std::string_view secret) noexcept;

/// True when `tokens` holds the `token` given after the stream name
/// ("cam?token=T") or in the tcUrl's query ("rtmp://h/live?token=T").
bool token_allowed(const std::vector<std::string>& tokens, std::string_view stream_name, std::string_view tc_url);

/// A publish or play request, as the authorization rules see it.
struct auth_request {
  bool connect = false;         ///< A connect (app and tcUrl; no stream): on-connect decides.
  bool publish = false;         ///< Publish, else play (for a connect: false).
  std::string app;              ///< Application (first path segment).
  std::string stream;           ///< Stream name without its query.
  std::string query;            ///< The stream name's query ("token=T"), or an HTTP request's.
  std::string tc_url;           ///< The connect tcUrl (empty over HTTP).
  std::string client;           ///< The peer's address.
  std::string client_endpoint;  ///< The peer's "ADDR:PORT".
  std::string protocol;         ///< "http-flv" over HTTP; empty for RTMP (not sent).
};

/// What the rules decided.
struct auth_decision {
  bool allowed = true;     ///< Go ahead.
  bool no_token = false;   ///< Refused, and the query has no token at all (HTTP: 401, not 403).
  std::string why;         ///< When refused: why, for the log (never the token).
  bool fail_open = false;  ///< Allowed only because the callback could not be reached (fail-open).
};

/// The static token rules of `auth` for `r`: allowed when the app needs no
/// token or a valid one was given (after the stream name, or in the tcUrl).
auth_decision check_tokens(const auth_config& auth, const auth_request& r);

/// The static rules of `auth` for `r`: the address rules (`auth.access`,
/// on `r.client`), then the tokens (`check_tokens`).
auth_decision check_rules(const auth_config& auth, const auth_request& r);

/// True when `r` is decided by an HTTP callback of `auth` (on-connect,
/// on-publish or on-play).
bool has_callback(const auth_config& auth, const auth_request& r) noexcept;

/// Asks the on_connect / on_publish / on_play callback of `auth` about `r`
/// (a JSON POST of action, app, stream, query, tc_url, client,
/// client_endpoint and, over HTTP, protocol): allowed on 2xx; when it cannot be reached in time, as
/// `callback_fail_open` says. Runs on `ex`.
asio::awaitable<auth_decision> ask_callback(asio::any_io_executor ex, const auth_config& auth, auth_request r);

/// A play over HTTP (`protocol`: "http-flv", "hls") as the rules see it:
/// `query` is the URL's ("token=T").
auth_request http_play_request(std::string app, std::string stream, std::string query, std::string client,
                               std::string client_endpoint, std::string protocol);

/// Decides a play over HTTP (`r.protocol`: HTTP-FLV, HLS) as an RTMP play
/// is decided: the address rules and tokens (`?token=T` is the URL's
/// query), then, when `ask` and one is set, the on_play callback. The HTTP
/// status of a refusal (401: no token given, 403: refused), or 0 to go on.
asio::awaitable<int> authorize_http_play(asio::any_io_executor ex, const auth_config& auth, auth_request r, bool ask);

}  // namespace rtmp::net
