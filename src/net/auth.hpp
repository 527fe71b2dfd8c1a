#pragma once
// Publish/play authentication helpers (see rtmp::net::auth_config): the
// static token check and the HTTP callback client.

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace rtmp::net {

/// The value of parameter `name` in a query string ("a=1&token=x"), or
/// empty when absent. Not percent-decoded (tokens are compared as sent).
std::string_view query_param(std::string_view query, std::string_view name) noexcept;

/// True when `tokens` holds the `token` given after the stream name
/// ("cam?token=T") or in the tcUrl's query ("rtmp://h/live?token=T").
bool token_allowed(const std::vector<std::string>& tokens, std::string_view stream_name, std::string_view tc_url);

/// POSTs `json_body` to `url` ("http://HOST[:PORT]/PATH"; no TLS) and
/// returns the response's status code, or -1 when the URL is invalid or
/// the server cannot be reached or does not answer within `timeout`.
asio::awaitable<int> post_json(asio::any_io_executor ex, std::string url, std::string json_body,
                               std::chrono::milliseconds timeout);

}  // namespace rtmp::net
