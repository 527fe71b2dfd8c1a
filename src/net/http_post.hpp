#pragma once
// A small HTTP(S) client for the server's callbacks (on-publish, on-play,
// on-record-done, on-publish-done, on-play-done): one JSON POST, the status
// code back, everything within one deadline. Internal to the networking layer.

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>

#include <chrono>
#include <string>

namespace rtmp::net {

/// POSTs `json_body` to `url` ("http://HOST[:PORT]/PATH[?QUERY]" or
/// "https://..."; an IPv6 host in brackets) and returns the response's
/// status code, or -1 when the URL is invalid or the server cannot be
/// reached, fails TLS verification, or does not answer within `timeout`.
/// https:// checks the server's certificate and host name against
/// `ca_file` (PEM) when given, else the system's trust store. Runs on `ex`.
asio::awaitable<int> post_json(asio::any_io_executor ex, std::string url, std::string json_body,
                               std::chrono::milliseconds timeout, std::string ca_file = {});

/// True when `url` is an http:// or https:// URL post_json can use.
bool is_callback_url(std::string_view url);

}  // namespace rtmp::net
