// Replays the fuzzers' inputs through the same entry functions the libFuzzer
// targets call (fuzz/targets.hpp), built with the ordinary compiler:
// * fuzz/regressions/<target>/: every crash a fuzzer found, minimised. Each
//   file must now run cleanly (no sanitizer report, no violated property).
// * fuzz/corpus/<target>/: the committed seeds (captures, FLV samples,
//   HOSTILE-CASES byte strings), so they stay valid inputs that run clean.
// A violated property aborts the process (the test fails with a crash and
// the message names the property and the file being replayed).

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "targets.hpp"

#include "support/files.hpp"

namespace {
using rtmp::test::read_binary;

namespace fs = std::filesystem;

// Regular files of `dir` (none when it does not exist), sorted, without
// dot files such as .gitkeep.
std::vector<fs::path> inputs_in(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (!entry.is_regular_file()) continue;
    if (entry.path().filename().string().starts_with(".")) continue;
    out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Runs every input of `dir` through `t`; returns how many ran.
std::size_t replay(const rtmp::fuzz::target& t, const fs::path& dir) {
  std::size_t count = 0;
  for (const fs::path& path : inputs_in(dir)) {
    SCOPED_TRACE(path.string());
    // Printed before the run so that an abort names the file.
    std::fprintf(stderr, "replaying %s\n", path.c_str());
    const auto bytes = read_binary(path);
    t.run(rtmp::fuzz::bytes_view(bytes.data(), bytes.size()));
    ++count;
  }
  return count;
}

class fuzz_inputs : public ::testing::TestWithParam<rtmp::fuzz::target> {};

TEST_P(fuzz_inputs, regressions_run_clean) {
  const fs::path dir = fs::path(RTMP_FUZZ_DIR) / "regressions" / GetParam().name;
  const std::size_t n = replay(GetParam(), dir);
  RecordProperty("inputs", static_cast<int>(n));
}

TEST_P(fuzz_inputs, seed_corpus_runs_clean) {
  const fs::path dir = fs::path(RTMP_FUZZ_DIR) / "corpus" / GetParam().name;
  const std::size_t n = replay(GetParam(), dir);
  // Catches a wrong path or an empty corpus (fuzz/make_seeds.py makes them).
  EXPECT_GT(n, 0u) << dir;
}

INSTANTIATE_TEST_SUITE_P(targets, fuzz_inputs, ::testing::ValuesIn(rtmp::fuzz::all_targets),
                         [](const ::testing::TestParamInfo<rtmp::fuzz::target>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
