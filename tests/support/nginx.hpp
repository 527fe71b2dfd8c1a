#pragma once
// Where Debian's nginx and its RTMP module (libnginx-mod-rtmp) are, for the
// tests that run nginx-rtmp as the reference server beside ours.

#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>

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

}  // namespace rtmp::test
