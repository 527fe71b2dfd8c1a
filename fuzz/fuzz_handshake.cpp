/// @file fuzz_handshake.cpp
/// libFuzzer target: the server handshake (and two client handshakes) fed in splits.
/// The body is rtmp::fuzz::run_handshake in targets.hpp (shared with the regression test).

#include <cstddef>
#include <cstdint>

#include "targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  rtmp::fuzz::run_handshake(rtmp::fuzz::bytes_view(data, size));
  return 0;
}
