#include "relay/push_plan.hpp"

#include <algorithm>

namespace rtmp::net {

std::vector<std::string> push_urls(const std::vector<push_target>& targets, std::string_view app, std::string_view name,
                                   std::size_t limit) {
  std::vector<std::string> urls;
  for (const auto& t : targets) {
    if (urls.size() == limit) break;
    if (t.app != app || (!t.stream.empty() && t.stream != name)) continue;
    std::string url = push_url_for(t, app, name);
    if (std::find(urls.begin(), urls.end(), url) == urls.end()) urls.push_back(std::move(url));
  }
  return urls;
}

push_plan plan_pushes(const std::vector<published_stream>& published, const std::vector<push_route>& running,
                      const std::vector<push_target>& targets, std::size_t limit) {
  push_plan plan;
  for (const auto& p : published) {
    const std::vector<std::string> wanted = push_urls(targets, p.app, p.name, limit);
    std::vector<std::string> present;
    for (const auto& r : running) {
      if (r.key != p.key) continue;
      if (std::find(wanted.begin(), wanted.end(), r.url) == wanted.end()) {
        plan.stop.push_back(r);
      } else {
        present.push_back(r.url);
      }
    }
    for (const auto& url : wanted) {
      if (std::find(present.begin(), present.end(), url) == present.end()) plan.start.push_back({p.key, url});
    }
  }
  return plan;
}

}  // namespace rtmp::net
