#include "net/http_post.hpp"

#include <asio/connect.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read_until.hpp>
#include <asio/steady_timer.hpp>
#include <asio/streambuf.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <charconv>
#include <memory>
#include <string_view>

#include "net/coroutine_support.hpp"
#include "net/tls.hpp"

namespace rtmp::net {

using tcp = asio::ip::tcp;

namespace {

constexpr std::size_t max_status_line = 8192;

struct http_url {
  bool tls = false;
  std::string host;
  std::string port;
  std::string path = "/";  // with the query
};

bool parse_http_url(std::string_view url, http_url& out) {
  if (url.rfind("http://", 0) == 0) {
    url.remove_prefix(7);
    out.port = "80";
  } else if (url.rfind("https://", 0) == 0) {
    url.remove_prefix(8);
    out.port = "443";
    out.tls = true;
  } else {
    return false;
  }
  const auto slash = url.find_first_of("/?");
  std::string_view authority = url.substr(0, slash);
  if (slash != std::string_view::npos) {
    out.path = std::string(url.substr(slash));
    if (out.path.front() == '?') out.path.insert(0, "/");
  }
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
  return !out.host.empty() && !out.port.empty() && out.path.find_first_of(" \r\n") == std::string::npos;
}

// Writes the request and reads the status line from `stream`.
template <class Stream>
asio::awaitable<int> exchange(Stream& stream, const std::string& request) {
  auto [wec, wn] = co_await asio::async_write(stream, asio::buffer(request), as_tuple(use_awaitable));
  if (wec) co_return -1;
  asio::streambuf reply(max_status_line);
  auto [ec, n] = co_await asio::async_read_until(stream, reply, "\r\n", as_tuple(use_awaitable));
  if (ec) co_return -1;
  // "HTTP/1.x SSS reason"
  const std::string_view line(static_cast<const char*>(reply.data().data()), n);
  if (line.size() < 12 || line.substr(0, 7) != "HTTP/1.") co_return -1;
  int status = 0;
  const auto [p, perr] = std::from_chars(line.data() + 9, line.data() + 12, status);
  (void)p;
  co_return perr == std::errc() ? status : -1;
}

}  // namespace

bool is_callback_url(std::string_view url) {
  http_url u;
  return parse_http_url(url, u);
}

asio::awaitable<int> post_json(asio::any_io_executor ex, std::string url, std::string json_body,
                               std::chrono::milliseconds timeout, std::string ca_file) {
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
  const bool default_port = u.port == (u.tls ? "443" : "80");
  const std::string host_header = (u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host) +
                                  (default_port ? std::string() : ":" + u.port);
  const std::string request = "POST " + u.path + " HTTP/1.1\r\nHost: " + host_header +
                              "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
                              std::to_string(json_body.size()) + "\r\n\r\n" + json_body;
  int status = -1;
  if (!u.tls) {
    status = co_await exchange(*socket, request);
  } else {
    std::string why;
    const auto context = make_client_tls_context(true, ca_file, why);
    if (context == nullptr) co_return -1;
    tls_stream stream(*socket, *context);
    if (prepare_client_tls(stream, u.host, true)) co_return -1;
    auto [hec] = co_await stream.async_handshake(asio::ssl::stream_base::client, as_tuple(use_awaitable));
    if (!hec) status = co_await exchange(stream, request);
  }
  deadline.cancel();
  std::error_code ignored;
  socket->close(ignored);
  co_return status;
}

}  // namespace rtmp::net
