// Push rules: parsing, the URL per stream, and redaction of stream keys.
#include <string>
#include <string_view>

#include "rtmp/net/relay.hpp"
#include "rtmp/proto/rtmp_url.hpp"

namespace rtmp::net {

namespace {

void replace_all(std::string& text, std::string_view from, std::string_view to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

}  // namespace

std::optional<push_target> parse_push_target(std::string_view rule, std::string* why) {
  const auto fail = [why](std::string text) -> std::optional<push_target> {
    if (why != nullptr) *why = std::move(text);
    return std::nullopt;
  };
  const auto eq = rule.find('=');
  if (eq == std::string_view::npos || eq == 0 || eq + 1 == rule.size()) {
    return fail("must be APP=URL or APP/STREAM=URL");
  }
  push_target t;
  const std::string_view who = rule.substr(0, eq);
  const auto slash = who.find('/');
  t.app = std::string(who.substr(0, slash));
  if (slash != std::string_view::npos) t.stream = std::string(who.substr(slash + 1));
  if (t.app.empty() || (slash != std::string_view::npos && (t.stream.empty() || t.stream.find('/') != std::string::npos))) {
    return fail("must be APP=URL or APP/STREAM=URL");
  }
  t.url = std::string(rule.substr(eq + 1));
  // The URL as it will be used (placeholders filled with plain names).
  proto::rtmp_url u;
  std::string_view reason;
  if (proto::parse_rtmp_url(push_url_for(t, t.app, t.stream.empty() ? "stream" : t.stream), u, {}, &reason)) {
    return fail("\"" + redact_stream_key(t.url) + "\" is not an rtmp[s]://HOST[:PORT]/APP[/STREAM] URL (" +
                std::string(reason) + ")");
  }
  return t;
}

std::string push_url_for(const push_target& t, std::string_view app, std::string_view stream) {
  std::string url = t.url;
  replace_all(url, "{app}", app);
  replace_all(url, "{stream}", stream);
  proto::rtmp_url u;
  proto::rtmp_url_options loose;
  loose.require_stream = false;
  if (!proto::parse_rtmp_url(url, u, loose) && u.stream_name_without_query().empty()) {
    // A server URL: the local stream goes under its own name, before any query.
    const auto q = url.find('?');
    const std::string query = q == std::string::npos ? std::string() : url.substr(q);
    url = url.substr(0, q);
    if (!url.empty() && url.back() != '/') url += '/';
    url += stream;
    url += query;
  }
  return url;
}

std::string redact_stream_key(std::string_view url) {
  proto::rtmp_url u;
  proto::rtmp_url_options loose;
  loose.require_stream = false;
  if (proto::parse_rtmp_url(url, u, loose)) {
    // Not a valid URL: keep scheme, authority and the first path segment.
    const auto scheme = url.find("://");
    const auto path = scheme == std::string_view::npos ? std::string_view::npos : url.find('/', scheme + 3);
    const auto rest = path == std::string_view::npos ? std::string_view::npos : url.find_first_of("/?", path + 1);
    if (rest == std::string_view::npos) return std::string(url);
    return std::string(url.substr(0, rest + (url[rest] == '/' ? 1 : 0))) + "<redacted>";
  }
  if (u.stream.empty()) return std::string(url);
  // Everything before the stream name stays: "rtmp://host/app/" + "<redacted>".
  const auto cut = url.size() - u.stream.size();
  return std::string(url.substr(0, cut)) + "<redacted>";
}

}  // namespace rtmp::net
