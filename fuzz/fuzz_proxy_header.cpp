/// @file fuzz_proxy_header.cpp
/// libFuzzer target: the PROXY protocol header parser (see run_proxy_header
/// in targets.hpp).

#include <cstddef>
#include <cstdint>

#include "targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  rtmp::fuzz::run_proxy_header(rtmp::fuzz::bytes_view(data, size));
  return 0;
}
