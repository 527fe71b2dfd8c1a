#pragma once
// What a change of push targets means for the streams being published: the
// pushes to stop and the ones to start. Pure (no sockets): the relay
// manager applies the plan.

#include <string>
#include <vector>

#include "rtmp/net/relay.hpp"

namespace rtmp::net {

/// A stream being published here.
struct published_stream {
  std::string key;   ///< "app/name".
  std::string app;   ///< Its application.
  std::string name;  ///< Its name within the application.
};

/// One push: a stream and the URL it goes to (push_url_for's, unredacted).
struct push_route {
  std::string key;  ///< The local stream, "app/name".
  std::string url;  ///< Where it goes.
  bool operator==(const push_route&) const = default;
};

/// The pushes to stop and to start.
struct push_plan {
  std::vector<push_route> stop;   ///< Running pushes no target asks for any more.
  std::vector<push_route> start;  ///< Pushes the targets ask for that do not run.
};

/// The URLs `targets` send stream `name` of `app` to, in target order, at
/// most `limit` of them, without repeats.
std::vector<std::string> push_urls(const std::vector<push_target>& targets, std::string_view app, std::string_view name,
                                   std::size_t limit);

/// Compares the pushes `running` for the streams `published` with what
/// `targets` ask for (at most `limit` per stream). Pushes of streams not in
/// `published` are left alone: their publisher is gone and they stop with it.
push_plan plan_pushes(const std::vector<published_stream>& published, const std::vector<push_route>& running,
                      const std::vector<push_target>& targets, std::size_t limit);

}  // namespace rtmp::net
