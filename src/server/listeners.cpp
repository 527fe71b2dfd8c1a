#include "server/listeners.hpp"

#include <asio/ip/v6_only.hpp>
#include <spdlog/spdlog.h>

#include <fcntl.h>

#include <algorithm>

namespace rtmp::net {

using asio::ip::tcp;

namespace {

bool same(const listener& a, const listener& b) { return a.kind == b.kind && a.address == b.address; }

bool contains(const std::vector<listener>& list, const listener& l) {
  return std::any_of(list.begin(), list.end(), [&](const listener& x) { return same(x, l); });
}

}  // namespace

std::vector<listener> listeners_wanted(const server_config& config) {
  std::vector<listener> out;
  const std::pair<listener_kind, const std::vector<std::string>*> lists[] = {
      {listener_kind::rtmp, &config.listen},
      {listener_kind::rtmps, &config.tls_listen},
      {listener_kind::proxied, &config.proxy_protocol_listen},
      {listener_kind::http, &config.http_listen},
  };
  for (const auto& [kind, addresses] : lists) {
    for (const auto& a : *addresses) {
      listener l{kind, a, nullptr};
      if (!contains(out, l)) out.push_back(std::move(l));
    }
  }
  return out;
}

std::error_code bind_listener(listener& l, asio::io_context& io) {
  tcp::endpoint ep;
  if (auto ec = parse_endpoint(l.address, ep)) {
    spdlog::error("invalid listen address '{}' (expected ADDR:PORT or [V6ADDR]:PORT)", l.address);
    return ec;
  }
  auto acceptor = std::make_shared<tcp::acceptor>(io);
  std::error_code ec;
  acceptor->open(ep.protocol(), ec);
  if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec && ep.protocol() == tcp::v6()) acceptor->set_option(asio::ip::v6_only(true), ec);
  if (!ec) ::fcntl(acceptor->native_handle(), F_SETFD, FD_CLOEXEC);
  if (!ec) acceptor->bind(ep, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    spdlog::error("cannot listen on {}: {}", l.address, ec.message());
    return ec;
  }
  l.acceptor = std::move(acceptor);
  return {};
}

std::string describe_listener(const listener& l) {
  std::error_code ec;
  const auto ep = l.acceptor ? l.acceptor->local_endpoint(ec) : tcp::endpoint();
  const std::string where = ep.address().to_string() + ":" + std::to_string(ep.port());
  switch (l.kind) {
    case listener_kind::rtmp: return "listening on " + where;
    case listener_kind::rtmps: return "listening for RTMPS on " + where;
    case listener_kind::proxied: return "listening on " + where + " for connections with a PROXY protocol header";
    case listener_kind::http: return "HTTP endpoint (/metrics, /api/streams, /healthz) on " + where;
  }
  return where;
}

std::error_code listener_set::bind_missing(const server_config& config, asio::io_context& io,
                                           std::vector<listener>& opened) const {
  std::vector<listener> wanted = listeners_wanted(config);
  {
    std::lock_guard lock(mutex_);
    std::erase_if(wanted, [&](const listener& l) { return contains(open_, l); });
  }
  for (auto& l : wanted) {
    if (auto ec = bind_listener(l, io)) return ec;  // `wanted` closes what it opened
  }
  opened = std::move(wanted);
  return {};
}

void listener_set::add(std::vector<listener> opened) {
  std::lock_guard lock(mutex_);
  for (auto& l : opened) open_.push_back(std::move(l));
}

std::vector<listener> listener_set::remove_unwanted(const server_config& config) {
  const std::vector<listener> wanted = listeners_wanted(config);
  std::vector<listener> removed;
  std::lock_guard lock(mutex_);
  for (auto it = open_.begin(); it != open_.end();) {
    if (contains(wanted, *it)) {
      ++it;
    } else {
      removed.push_back(std::move(*it));
      it = open_.erase(it);
    }
  }
  return removed;
}

std::vector<listener> listener_set::remove_all() {
  std::lock_guard lock(mutex_);
  std::vector<listener> all;
  all.swap(open_);
  return all;
}

std::vector<tcp::endpoint> listener_set::endpoints(listener_kind kind) const {
  std::vector<tcp::endpoint> out;
  std::lock_guard lock(mutex_);
  for (const auto& l : open_) {
    if (l.kind != kind) continue;
    std::error_code ec;
    auto ep = l.acceptor->local_endpoint(ec);
    if (!ec) out.push_back(ep);
  }
  return out;
}

}  // namespace rtmp::net
