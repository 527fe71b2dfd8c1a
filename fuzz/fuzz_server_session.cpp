/// @file fuzz_server_session.cpp
/// libFuzzer target: the server session after a valid handshake, every publish/play accepted.
/// The body is rtmp::fuzz::run_server_session in targets.hpp (shared with the regression test).

#include <cstddef>
#include <cstdint>

#include "targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  rtmp::fuzz::run_server_session(rtmp::fuzz::bytes_view(data, size));
  return 0;
}
