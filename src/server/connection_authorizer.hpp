#pragma once
// The authentication part of an RTMP connection. Internal to the server.

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>

#include <functional>

#include "server/auth.hpp"

namespace rtmp::net {

/// Decides a connection's publish or play request by the rules of
/// `auth_config`: the address rules and static tokens first, then the HTTP
/// callback when one is configured. A decision those rules make is given at once, in the
/// caller's turn, so an accepted publish or play answers in the same read;
/// a callback's decision comes later on the connection's executor, and
/// `pending()` is true meanwhile (the connection refuses other requests).
///
/// Threading: used only on its connection's worker.
class connection_authorizer {
 public:
  /// Receives the decision.
  using decided = std::function<void(const auth_decision&)>;

  /// Decides `request` under `auth` and calls `done` with the outcome, now
  /// or, when the callback decides, from a coroutine on `ex`. `done` must
  /// keep its connection (and so this object) alive; `auth` must outlive
  /// the decision.
  void decide(const asio::any_io_executor& ex, const auth_config& auth, auth_request request, decided done);

  /// True while a callback is deciding.
  bool pending() const noexcept { return pending_; }

 private:
  asio::awaitable<void> ask(asio::any_io_executor ex, const auth_config& auth, auth_request request, decided done);

  bool pending_ = false;
};

}  // namespace rtmp::net
