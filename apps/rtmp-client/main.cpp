// rtmp-client: publish and play RTMP streams from the shell.
#include <CLI/CLI.hpp>

#include <iostream>

#include "rtmp/version.hpp"

int main(int argc, char** argv) {
  CLI::App app{"rtmp-client: publish and play RTMP streams"};
  bool show_version = false;
  app.add_flag("-V,--version", show_version, "Print the version and exit");
  CLI11_PARSE(app, argc, argv);
  if (show_version) {
    std::cout << "rtmp-client " << rtmp::version_line() << "\n";
    return 0;
  }
  std::cerr << "rtmp-client: no command given (see --help)\n";
  return 1;
}
