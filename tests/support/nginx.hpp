#pragma once
// Debian's nginx with its RTMP module (libnginx-mod-rtmp): where they are,
// and one running on loopback, for the tests that use nginx-rtmp as the
// reference server beside ours.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <memory>
#include <string>
#include <vector>

#include "net.hpp"
#include "process.hpp"

namespace rtmp::test {

/// The RTMP module's shared object, if installed.
inline std::optional<std::string> nginx_rtmp_module() {
  namespace fs = std::filesystem;
  for (const char* p : {"/usr/lib/nginx/modules/ngx_rtmp_module.so", "/usr/share/nginx/modules/ngx_rtmp_module.so"}) {
    if (fs::exists(p)) return std::string(p);
  }
  // Debian's modules-available snippet names the module relative to the prefix.
  std::ifstream f("/usr/share/nginx/modules-available/mod-rtmp.conf");
  const std::string snippet((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const auto at = snippet.find("modules/");
  if (at != std::string::npos) {
    const auto end = snippet.find(';', at);
    const std::string p = "/usr/lib/nginx/" + snippet.substr(at, end - at);
    if (fs::exists(p)) return p;
  }
  return std::nullopt;
}

/// The nginx binary, if installed.
inline std::optional<std::string> nginx_binary() {
  for (const char* p : {"/usr/sbin/nginx", "/usr/bin/nginx", "/usr/local/sbin/nginx"}) {
    if (std::filesystem::exists(p)) return std::string(p);
  }
  return std::nullopt;
}

/// nginx run from a configuration text on a free loopback port, its files
/// under `dir`; stopped on destruction. The base of the servers below.
class nginx_process {
 public:
  nginx_process(const nginx_process&) = delete;
  nginx_process& operator=(const nginx_process&) = delete;
  ~nginx_process() {
    if (proc_) {
      proc_->signal(SIGTERM);
      proc_->wait(std::chrono::seconds(5));
    }
  }

  /// True when it runs and listens.
  bool ok() const { return why_.empty(); }
  /// Why it does not (for the test's failure or skip message).
  const std::string& why() const { return why_; }
  /// The port it listens on.
  std::uint16_t port() const { return port_; }
  /// Its log so far.
  std::string log() const { return read_text(log_); }

 protected:
  nginx_process() = default;
  /// Writes `config` as `dir`/`name`.conf and starts nginx on it, waiting
  /// until port() accepts.
  void run(const std::string& dir, const std::string& name, const std::string& config) {
    const auto nginx = nginx_binary();
    if (!nginx) {
      why_ = "nginx not installed (scripts/deps.sh test installs it)";
      return;
    }
    log_ = dir + "/" + name + "-err.txt";
    const std::string conf = dir + "/" + name + ".conf";
    std::ofstream(conf) << config;
    proc_ = std::make_unique<child_process>(*nginx + " -e stderr -c " + conf + " -p " + dir + " 2> " + log_);
    if (!wait_until([this] { return port_open(port_); }, std::chrono::seconds(5))) {
      why_ = "nginx did not start: " + read_text(log_);
    }
  }

  std::unique_ptr<child_process> proc_;
  std::uint16_t port_ = 0;
  std::string log_;
  std::string why_;
};

/// nginx-rtmp on a free loopback port with one live application per name of
/// `apps`, its config, pid file and log in `dir`; stopped on destruction.
class nginx_rtmp_server : public nginx_process {
 public:
  explicit nginx_rtmp_server(const std::string& dir, const std::vector<std::string>& apps = {"live"}) {
    const auto module = nginx_rtmp_module();
    if (!nginx_binary() || !module) {
      why_ = "nginx or libnginx-mod-rtmp not installed (scripts/deps.sh test installs them)";
      return;
    }
    port_ = free_port();
    std::string conf = "load_module " + *module + ";\n" +
                       "daemon off;\nmaster_process off;\nworker_processes 1;\n"
                       "error_log stderr info;\npid " + dir + "/nginx.pid;\n"
                       "events { worker_connections 64; }\n"
                       "rtmp { server { listen 127.0.0.1:" + std::to_string(port_) + "; chunk_size 4096;\n";
    for (const auto& app : apps) conf += "  application " + app + " { live on; }\n";
    conf += "} }\n";
    run(dir, "nginx", conf);
  }
};

/// The configuration of an nginx HTTP cache on 127.0.0.1:`port` in front
/// of the origin at 127.0.0.1:`origin`, its files under `dir`: what
/// docs/scaling.md shows for HLS (the origin's Cache-Control decides how
/// long each object is kept; proxy_cache_lock sends one request per object
/// to the origin however many viewers ask at once).
inline std::string nginx_cache_config(const std::string& dir, std::uint16_t port, std::uint16_t origin) {
  return "daemon off;\nmaster_process off;\nworker_processes 1;\n"
         "error_log stderr warn;\npid " + dir + "/nginx.pid;\n"
         "events { worker_connections 512; }\n"
         "http {\n"
         "  access_log off;\n"
         "  client_body_temp_path " + dir + "/body; proxy_temp_path " + dir + "/proxy;\n"
         "  fastcgi_temp_path " + dir + "/fastcgi; uwsgi_temp_path " + dir + "/uwsgi; scgi_temp_path " + dir +
         "/scgi;\n"
         "  proxy_cache_path " + dir + "/cache levels=1:2 keys_zone=hls:10m max_size=1g inactive=10m "
         "use_temp_path=off;\n"
         "  server {\n"
         "    listen 127.0.0.1:" + std::to_string(port) + ";\n"
         "    location / {\n"
         "      proxy_pass http://127.0.0.1:" + std::to_string(origin) + ";\n"
         "      proxy_http_version 1.1;\n"
         "      proxy_set_header Connection \"\";\n"
         "      proxy_cache hls;\n"
         "      proxy_cache_lock on;\n"
         "      proxy_cache_lock_timeout 5s;\n"
         "      add_header X-Cache $upstream_cache_status;\n"
         "    }\n"
         "  }\n"
         "}\n";
}

/// nginx as an HTTP cache in front of 127.0.0.1:`origin` (nginx_cache_config),
/// on a free loopback port; stopped on destruction.
class nginx_cache_proxy : public nginx_process {
 public:
  nginx_cache_proxy(const std::string& dir, std::uint16_t origin) {
    port_ = free_port();
    run(dir, "nginx-cache", nginx_cache_config(dir, port_, origin));
  }
};

}  // namespace rtmp::test
