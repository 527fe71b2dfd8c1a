/// @file fuzz_chunk_reader.cpp
/// libFuzzer target: chunk streams fed in splits, with re-encoding through chunk_writer.
/// The body is rtmp::fuzz::run_chunk_reader in targets.hpp (shared with the regression test).

#include <cstddef>
#include <cstdint>

#include "targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  rtmp::fuzz::run_chunk_reader(rtmp::fuzz::bytes_view(data, size));
  return 0;
}
