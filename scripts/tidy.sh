#!/usr/bin/env bash
# clang-tidy (Debian's clang-tidy 14) over the core library, src/, with the
# checked-in .clang-tidy (the .clang-tidy of each networking folder adds one
# exception for Asio's coroutine frames). Every
# finding is an error: the script exits non-zero on the first run with any.
# Needs the default preset's compile_commands.json (configured here if
# missing). Takes about 2 minutes on 2 cores.
# Usage: scripts/tidy.sh [FILE-REGEX]   default: every .cpp under src/
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v run-clang-tidy-14 >/dev/null; then
  bash scripts/deps.sh tidy
fi
[ -f build/compile_commands.json ] || cmake --preset default >/dev/null
# Generated headers (build_info.hpp) must exist for the analysis.
cmake --build --preset default --target rtmp_proto >/dev/null

regex="${1:-^$(pwd)/src/.*\.cpp$}"
run-clang-tidy-14 -p build -j "$(nproc)" -quiet "$regex" 2>&1 | sed 's/\x1b\[[0-9;]*m//g' >build/clang-tidy.log || true
findings="$(grep -E '(warning|error): ' build/clang-tidy.log | sort -u || true)"
if [ -n "$findings" ]; then
  printf '%s\n' "$findings" >&2
  echo "clang-tidy: findings above (full log: build/clang-tidy.log)" >&2
  exit 1
fi
echo "clang-tidy: no findings in $(grep -c '^clang-tidy-14 ' build/clang-tidy.log || true) file(s) checked ($regex)"
