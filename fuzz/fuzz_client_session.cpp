/// @file fuzz_client_session.cpp
/// libFuzzer target: publisher and player client sessions against hostile server bytes.
/// The body is rtmp::fuzz::run_client_session in targets.hpp (shared with the regression test).

#include <cstddef>
#include <cstdint>

#include "targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  rtmp::fuzz::run_client_session(rtmp::fuzz::bytes_view(data, size));
  return 0;
}
