/// @file fuzz_amf0.cpp
/// libFuzzer target: AMF0 payloads: decode_all, parse_command, strip_set_data_frame.
/// The body is rtmp::fuzz::run_amf0 in targets.hpp (shared with the regression test).

#include <cstddef>
#include <cstdint>

#include "targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  rtmp::fuzz::run_amf0(rtmp::fuzz::bytes_view(data, size));
  return 0;
}
