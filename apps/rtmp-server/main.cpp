// rtmp-server: the RTMP live-streaming daemon.
#include <CLI/CLI.hpp>

#include <iostream>

#include "rtmp/version.hpp"

int main(int argc, char** argv) {
  CLI::App app{"rtmp-server: RTMP live-streaming server"};
  bool show_version = false;
  app.add_flag("-V,--version", show_version, "Print the version and exit");
  CLI11_PARSE(app, argc, argv);
  if (show_version) {
    std::cout << "rtmp-server " << rtmp::version_line() << "\n";
    return 0;
  }
  std::cerr << "rtmp-server: the server is not implemented yet\n";
  return 1;
}
