#include "rtmp/hub/hub.hpp"

namespace rtmp::hub {

std::string stream_key(std::string_view app, std::string_view name) {
  const auto q = name.find('?');
  std::string key(app);
  key += '/';
  key += name.substr(0, q);
  return key;
}

hub::hub(std::vector<asio::io_context*> workers, stream_config config, std::map<std::string, stream_config> per_app)
    : workers_(std::move(workers)),
      pacing_(make_coalesce_controllers(workers_.size())),
      config_(config),
      per_app_(std::move(per_app)) {}

std::chrono::microseconds hub::coalesce_window(std::size_t w) const {
  const stream_config c = config();
  if (!c.coalesce_auto) return c.write_coalesce;
  return w < pacing_->size() ? (*pacing_)[w]->window(c.max_coalesce_delay) : std::chrono::microseconds(0);
}

double hub::fanout_share(std::size_t w) const { return w < pacing_->size() ? (*pacing_)[w]->share() : 0.0; }

stream_config hub::config() const {
  std::lock_guard lock(mu_);
  return config_;
}

stream_config hub::config_for(std::string_view key) const {
  std::lock_guard lock(mu_);
  return config_for_locked(key);
}

void hub::set_config(stream_config config, std::map<std::string, stream_config> per_app) {
  std::lock_guard lock(mu_);
  config_ = config;
  per_app_.swap(per_app);
}

const stream_config& hub::config_for_locked(std::string_view key) const noexcept {
  // The key is app + '/' + name, and an app may itself contain '/'
  // ("app/instance"): the longest configured app that prefixes the key wins.
  const stream_config* best = &config_;
  std::size_t best_length = 0;
  for (const auto& [app, cfg] : per_app_) {
    if (app.size() >= best_length && key.size() > app.size() && key[app.size()] == '/' &&
        key.substr(0, app.size()) == app) {
      best = &cfg;
      best_length = app.size();
    }
  }
  return *best;
}

std::shared_ptr<stream> hub::claim(const std::string& key, const std::shared_ptr<publisher>& p,
                                   stream::claim_result& result) {
  std::lock_guard lock(mu_);
  auto& s = streams_[key];
  if (s == nullptr) s = std::make_shared<stream>(key, workers_, config_for_locked(key), pacing_);
  result = s->claim(p);
  return s;
}

std::shared_ptr<stream> hub::subscribe(const std::string& key, subscriber* sub, stream_snapshot& snapshot) {
  std::lock_guard lock(mu_);
  auto& s = streams_[key];
  if (s == nullptr) s = std::make_shared<stream>(key, workers_, config_for_locked(key), pacing_);
  snapshot = s->subscribe(sub);
  return s;
}

std::shared_ptr<stream> hub::find(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = streams_.find(key);
  return it == streams_.end() ? nullptr : it->second;
}

void hub::remove_if_unused(const std::shared_ptr<stream>& s) {
  if (s == nullptr) return;
  std::lock_guard lock(mu_);
  auto it = streams_.find(s->key());
  if (it != streams_.end() && it->second == s && s->unused()) streams_.erase(it);
}

std::vector<std::shared_ptr<stream>> hub::streams() const {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<stream>> out;
  out.reserve(streams_.size());
  for (const auto& [key, s] : streams_) out.push_back(s);
  return out;
}

}  // namespace rtmp::hub
