/// @file fuzz_flv_reader.cpp
/// libFuzzer target: FLV files and streams, split and whole, written back with flv_writer.
/// The body is rtmp::fuzz::run_flv_reader in targets.hpp (shared with the regression test).

#include <cstddef>
#include <cstdint>

#include "targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  rtmp::fuzz::run_flv_reader(rtmp::fuzz::bytes_view(data, size));
  return 0;
}
