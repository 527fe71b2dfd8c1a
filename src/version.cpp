#include "rtmp/version.hpp"

#include <asio/version.hpp>
#include <spdlog/version.h>

#include "rtmp/build_info.hpp"

namespace rtmp {

std::string version_line() {
  std::string line = build_info::version;
  line += " (asio ";
  line += std::to_string(ASIO_VERSION / 100000) + "." + std::to_string(ASIO_VERSION / 100 % 1000) + "." +
          std::to_string(ASIO_VERSION % 100);
  line += ", spdlog ";
  line += std::to_string(SPDLOG_VER_MAJOR) + "." + std::to_string(SPDLOG_VER_MINOR) + "." +
          std::to_string(SPDLOG_VER_PATCH);
  line += ")";
  return line;
}

}  // namespace rtmp
