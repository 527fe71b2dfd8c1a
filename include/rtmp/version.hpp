#pragma once
/// @file rtmp/version.hpp
/// Version information of the library and programs.

#include <string>

namespace rtmp {

/// A one-line description: program version and the versions of the libraries
/// it was built with, e.g. "0.1.0 (asio 1.22.1, spdlog 1.10.0)".
std::string version_line();

}  // namespace rtmp
