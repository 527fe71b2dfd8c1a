/// @file fuzz_hls_segmenter.cpp
/// libFuzzer target: the HLS segmenter (TS, fMP4, and fMP4 with LL-HLS
/// parts) fed FLV video and audio tag bodies (see run_hls_segmenter_target
/// in targets.hpp).

#include <cstddef>
#include <cstdint>

#include "targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  rtmp::fuzz::run_hls_segmenter_target(rtmp::fuzz::bytes_view(data, size));
  return 0;
}
