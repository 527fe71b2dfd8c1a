/// @file fuzz_ts_muxer.cpp
/// libFuzzer target: the MPEG-2 transport stream muxer fed FLV video and
/// audio tag bodies (see run_ts_muxer in targets.hpp).

#include <cstddef>
#include <cstdint>

#include "targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  rtmp::fuzz::run_ts_muxer(rtmp::fuzz::bytes_view(data, size));
  return 0;
}
