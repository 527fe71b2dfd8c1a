#include "server/connection_authorizer.hpp"

#include <asio/co_spawn.hpp>

#include <utility>

#include "net/coroutine_support.hpp"

namespace rtmp::net {

void connection_authorizer::decide(const asio::any_io_executor& ex, const auth_config& auth, auth_request request,
                                   decided done) {
  const auth_decision by_tokens = check_rules(auth, request);
  if (!by_tokens.allowed || !has_callback(auth, request)) {
    done(by_tokens);
    return;
  }
  pending_ = true;
  asio::co_spawn(ex, ask(ex, auth, std::move(request), std::move(done)), log_failure("auth callback"));
}

asio::awaitable<void> connection_authorizer::ask(asio::any_io_executor ex, const auth_config& auth,
                                                 auth_request request, decided done) {
  const auth_decision d = co_await ask_callback(ex, auth, std::move(request));
  pending_ = false;
  done(d);
}

}  // namespace rtmp::net
