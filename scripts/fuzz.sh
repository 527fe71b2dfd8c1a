#!/usr/bin/env bash
# Builds the libFuzzer targets (preset "fuzz": clang, ASan + UBSan) and runs
# each one for SECONDS on a working copy of its seed corpus.
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
#   SECONDS  run time per target (default 30)
#   TARGET   amf0 chunk_reader handshake flv_reader server_session
#            client_session http_request proxy_header ts_muxer hls_segmenter (with or without
#            the fuzz_ prefix);
#            default: all
#
# Environment:
#   RTMP_FUZZ_LOCK=FILE  run every build and every fuzz run under `flock FILE`
#                        (machines where several people build at once)
#   RTMP_FUZZ_ARGS=...   extra libFuzzer flags, e.g. "-jobs=2 -workers=2"
#   RTMP_FUZZ_PARALLEL=N run N targets at a time (default 1; CI uses the core count)
#
# Working files live in build-fuzz/: corpus/<target>/ (fuzz/corpus/<target>
# copied in, grown by each run and kept between runs), artifacts/<target>/
# (crash-*, leak-*, timeout-*, oom-* files) and logs/<target>.log.
#
# Exit status: 0 when no target crashed; 1 when one did (the crash file's path
# and the end of its log are printed); 2 for a usage error. A crash becomes a
# regression test: minimise it (see README "Fuzzing") into
# fuzz/regressions/<target>/, where tests/fuzz_regressions_test.cpp replays it.
set -euo pipefail
cd "$(dirname "$0")/.."

all_targets=(amf0 chunk_reader handshake flv_reader server_session client_session http_request proxy_header ts_muxer hls_segmenter)

seconds="${1:-30}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -eq 0 ]; then
  echo "usage: $0 [SECONDS] [TARGET...]   targets: ${all_targets[*]}" >&2
  exit 2
fi
[ $# -gt 0 ] && shift
targets=()
for t in "${@:-${all_targets[@]}}"; do
  t="${t#fuzz_}"
  if [[ " ${all_targets[*]} " != *" $t "* ]]; then
    echo "fuzz: unknown target '$t' (known: ${all_targets[*]})" >&2
    exit 2
  fi
  targets+=("$t")
done

lock=()
if [ -n "${RTMP_FUZZ_LOCK:-}" ]; then lock=(flock "$RTMP_FUZZ_LOCK"); fi

bash scripts/deps.sh fuzz
"${lock[@]}" cmake --preset fuzz -DRTMP_WARNINGS_AS_ERRORS=ON >/dev/null
"${lock[@]}" cmake --build --preset fuzz

# Readable stack traces; UBSan findings are fatal (also compiled in).
symbolizer=/usr/lib/llvm-14/bin/llvm-symbolizer
if [ -z "${ASAN_SYMBOLIZER_PATH:-}" ] && [ -x "$symbolizer" ]; then export ASAN_SYMBOLIZER_PATH="$symbolizer"; fi
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

read -r -a extra <<<"${RTMP_FUZZ_ARGS:-}"
parallel="${RTMP_FUZZ_PARALLEL:-1}"
[[ "$parallel" =~ ^[1-9][0-9]*$ ]] || parallel=1

# Runs one target; its exit status goes to build-fuzz/logs/NAME.status.
run_target() {
  local name="$1" work="build-fuzz/corpus/$1" artifacts="build-fuzz/artifacts/$1" log="build-fuzz/logs/$1.log"
  local status=0
  "${lock[@]}" "build-fuzz/bin/$name" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" "${extra[@]}" "$work" >"$log" 2>&1 || status=$?
  echo "$status" >"build-fuzz/logs/$name.status"
}

running=0
for t in "${targets[@]}"; do
  name="fuzz_$t"
  work="build-fuzz/corpus/$name"
  mkdir -p "$work" "build-fuzz/artifacts/$name" build-fuzz/logs
  cp -n fuzz/corpus/"$name"/* "$work"/ 2>/dev/null || true
  echo "fuzz: $name for ${seconds}s (corpus $work, log build-fuzz/logs/$name.log)"
  # RTMP_FUZZ_PARALLEL=N runs N targets at a time (each still gets SECONDS).
  run_target "$name" &
  running=$((running + 1))
  if [ "$running" -ge "$parallel" ]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait || true

failed=()
summary=()
for t in "${targets[@]}"; do
  name="fuzz_$t"
  log="build-fuzz/logs/$name.log"
  status="$(cat "build-fuzz/logs/$name.status" 2>/dev/null || echo 1)"
  stats="$(grep -E '^#[0-9]+' "$log" | tail -n 1 | sed -E 's/^(#[0-9]+)[[:space:]]+[A-Z]+[[:space:]]+/\1 /')"
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
  rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)"
  if [ "$status" -ne 0 ]; then
    crash="$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)"
    echo "fuzz: $name FAILED (exit $status)${crash:+; crash file: $crash}" >&2
    grep -E 'ERROR: |SUMMARY: |fuzz property violated|^ *#[0-9]+ 0x' "$log" | head -n 40 >&2 || true
    failed+=("$name${crash:+ ($crash)}")
    summary+=("$name: CRASH ${crash:-see $log}")
  else
    summary+=("$name: ${execs:-?} execs, ${rate:-?} exec/s, ${stats}")
  fi
done

echo "fuzz: summary (${seconds}s per target)"
printf '  %s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: ${#failed[@]} target(s) crashed: ${failed[*]}" >&2
  echo "fuzz: minimise each with: build-fuzz/bin/TARGET -minimize_crash=1 -runs=20000 -exact_artifact_path=fuzz/regressions/TARGET/NAME CRASH_FILE" >&2
  exit 1
fi
