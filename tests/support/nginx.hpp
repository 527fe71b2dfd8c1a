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

/// nginx-rtmp on a free loopback port with one live application per name of
/// `apps`, its config, pid file and log in `dir`; stopped on destruction.
class nginx_rtmp_server {
 public:
  explicit nginx_rtmp_server(const std::string& dir, const std::vector<std::string>& apps = {"live"}) {
    const auto nginx = nginx_binary();
    const auto module = nginx_rtmp_module();
    if (!nginx || !module) {
      why_ = "nginx or libnginx-mod-rtmp not installed (scripts/deps.sh test installs them)";
      return;
    }
    port_ = free_port();
    log_ = dir + "/nginx-err.txt";
    const std::string conf = dir + "/nginx.conf";
    {
      std::ofstream f(conf);
      f << "load_module " << *module << ";\n"
        << "daemon off;\nmaster_process off;\nworker_processes 1;\n"
        << "error_log stderr info;\npid " << dir << "/nginx.pid;\n"
        << "events { worker_connections 64; }\n"
        << "rtmp { server { listen 127.0.0.1:" << port_ << "; chunk_size 4096;\n";
      for (const auto& app : apps) f << "  application " << app << " { live on; }\n";
      f << "} }\n";
    }
    proc_ = std::make_unique<child_process>(*nginx + " -e stderr -c " + conf + " -p " + dir + " 2> " + log_);
    if (!wait_until([this] { return port_open(port_); }, std::chrono::seconds(5))) {
      why_ = "nginx did not start: " + read_text(log_);
    }
  }
  ~nginx_rtmp_server() {
    if (proc_) {
      proc_->signal(SIGTERM);
      proc_->wait(std::chrono::seconds(5));
    }
  }
  nginx_rtmp_server(const nginx_rtmp_server&) = delete;
  nginx_rtmp_server& operator=(const nginx_rtmp_server&) = delete;

  /// True when it runs and listens.
  bool ok() const { return why_.empty(); }
  /// Why it does not (for the test's failure or skip message).
  const std::string& why() const { return why_; }
  /// Its RTMP port.
  std::uint16_t port() const { return port_; }
  /// Its log so far.
  std::string log() const { return read_text(log_); }

 private:
  std::unique_ptr<child_process> proc_;
  std::uint16_t port_ = 0;
  std::string log_;
  std::string why_;
};

}  // namespace rtmp::test
