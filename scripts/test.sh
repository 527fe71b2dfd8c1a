#!/usr/bin/env bash
# Builds with warnings as errors and runs every test, in each build flavour
# given (CMake presets): default, asan (AddressSanitizer + UBSan), tsan
# (ThreadSanitizer), and `fuzz`: every libFuzzer target for
# RTMP_CI_FUZZ_SECONDS (default 10) under ASan + UBSan (scripts/fuzz.sh).
# With no argument: all four, which is what CI runs. `tidy` runs clang-tidy
# over the core (scripts/tidy.sh; not part of the default list).
# Installs missing Debian packages first (scripts/deps.sh test).
# Usage: scripts/test.sh [PRESET...]    e.g. scripts/test.sh default  (quick loop)
set -euo pipefail
cd "$(dirname "$0")/.."

presets=("$@")
[ ${#presets[@]} -eq 0 ] && presets=(default asan tsan fuzz)
bash scripts/deps.sh test
for preset in "${presets[@]}"; do
  echo "=== ${preset}: build and test ==="
  start=$(date +%s)
  if [ "$preset" = tidy ]; then
    bash scripts/tidy.sh
    continue
  fi
  if [ "$preset" = fuzz ]; then
    RTMP_FUZZ_PARALLEL="${RTMP_FUZZ_PARALLEL:-$(nproc)}" bash scripts/fuzz.sh "${RTMP_CI_FUZZ_SECONDS:-10}"
    echo "=== ${preset}: passed in $(( $(date +%s) - start )) s ==="
    continue
  fi
  # CI builds keep line tables only (-g1): enough for sanitizer and crash
  # stack traces, and much cheaper to compile and link than full -g. The
  # default and TSan flavours are built at -Og there (a fifth less compile
  # time than -O1, and the same flow-based warnings, -Wmaybe-uninitialized
  # among them; the benchmarks are not timed in CI), and every flavour links
  # with lld (a third of ld.bfd's time for the ~80 test programs).
  ci_flags=()
  if [ "${CI:-}" = true ]; then
    ci_flags=(-DCMAKE_CXX_FLAGS_DEBUG=-g1 "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-Og -g1 -DNDEBUG"
              -DCMAKE_EXE_LINKER_FLAGS=-fuse-ld=lld)
    [ "$preset" = tsan ] && ci_flags+=(-DCMAKE_CXX_FLAGS=-Og)
  fi
  cmake --preset "$preset" -DRTMP_WARNINGS_AS_ERRORS=ON "${ci_flags[@]}"
  cmake --build --preset "$preset"
  ctest --preset "$preset"
  echo "=== ${preset}: passed in $(( $(date +%s) - start )) s ==="
done
