#pragma once
// What the networking files that run Asio coroutines share: the GCC 12
// diagnostic workaround, the completion handler that logs a coroutine's
// escaping exception (a coroutine is never spawned with bare `detached`),
// and the completion tokens every coroutine uses.
// Internal to the networking layer.

#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <exception>
#include <string_view>

// GCC 12 false positive on coroutine frames whose promise has a sized
// operator delete (GCC PR 109224): the frame is allocated and freed by
// Asio's awaitable_frame_base operators. Applies to the rest of each file
// that includes this header.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace rtmp::net {

// Completion tokens: `co_await op(..., as_tuple(use_awaitable))` gives the
// error code and results as a tuple instead of throwing.
using asio::experimental::as_tuple;
using asio::use_awaitable;

/// Logs the exception in `e` (if any) as "`what` failed: ...".
inline void log_coroutine_failure(std::string_view what, const std::exception_ptr& e) noexcept {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    spdlog::error("{} failed: {}", what, ex.what());
  } catch (...) {
    spdlog::error("{} failed: unknown exception", what);
  }
}

/// A co_spawn completion handler that logs an escaping exception as
/// "`what` failed: ...". `what` must be a string literal (it is kept).
inline auto log_failure(const char* what) noexcept {
  return [what](const std::exception_ptr& e) { log_coroutine_failure(what, e); };
}

}  // namespace rtmp::net
