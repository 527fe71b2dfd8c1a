#!/usr/bin/env bash
# Builds everything with warnings as errors and runs every test.
# Installs missing Debian packages first (scripts/deps.sh test).
# Usage: scripts/test.sh [PRESET]   (default: "default"; also "asan", "tsan")
set -euo pipefail
cd "$(dirname "$0")/.."

preset="${1:-default}"
bash scripts/deps.sh test
cmake --preset "$preset" -DRTMP_WARNINGS_AS_ERRORS=ON
cmake --build --preset "$preset"
ctest --preset "$preset"
