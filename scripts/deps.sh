#!/usr/bin/env bash
# Installs the Debian packages this project needs, when they are missing.
# Usage: scripts/deps.sh build|test|fuzz
#   build: compiler, CMake, Ninja, the libraries the programs link, help2man, dpkg-dev.
#   test:  build + what the tests run (ffmpeg, rtmpdump, gcovr, ...).
#   fuzz:  build + clang (14 on Debian 12), libFuzzer (libclang-rt-14-dev), llvm-symbolizer.
# Uses apt-get directly as root, through sudo otherwise. Downloads nothing
# but Debian packages, and for `test` the one npm package the browser test
# loads into Chromium (hls.js, pinned in tests/browser/package-lock.json,
# installed under tests/browser/node_modules; nothing is built with it).
set -euo pipefail

# help2man makes the rtmp-server(1) and rtmp-client(1) man pages; dpkg-dev's
# dpkg-shlibdeps gives the Debian package (cpack -G DEB) its Depends.
build_pkgs=(g++ cmake ninja-build pkg-config libasio-dev libspdlog-dev libfmt-dev nlohmann-json3-dev
            libcli11-dev libssl-dev libtomlplusplus-dev help2man dpkg-dev)
# Every tool a test runs: with CI=true a test whose tool is missing fails.
# iproute2 (ip netns) for the relay test on network namespaces, systemd for
# systemd-analyze verify of the installed unit, prometheus for promtool;
# man-db and groff-base (man --warnings), file and binutils (readelf: the
# packaged programs are stripped) and procps (pgrep) for the packaging test;
# haproxy for the PROXY-protocol test; chromium (headless) for the browser
# HLS test, which also needs hls.js from the npm registry (see the end);
# lld, the linker scripts/test.sh uses under CI=true.
test_pkgs=(lld libgtest-dev libgmock-dev libbenchmark-dev ffmpeg rtmpdump gcovr curl gstreamer1.0-tools gstreamer1.0-plugins-base
           gstreamer1.0-plugins-good gstreamer1.0-plugins-bad nginx libnginx-mod-rtmp iproute2 systemd prometheus
           man-db groff-base file binutils procps haproxy chromium)
fuzz_pkgs=(clang libclang-rt-14-dev llvm-14)
tidy_pkgs=(clang-tidy)

want=("${build_pkgs[@]}")
case "${1:-build}" in
  build) ;;
  test) want+=("${test_pkgs[@]}") ;;
  fuzz) want+=("${fuzz_pkgs[@]}") ;;
  tidy) want+=("${tidy_pkgs[@]}") ;;
  *) echo "usage: $0 build|test|fuzz|tidy" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# npm comes with Node.js from some sources and as Debian's npm otherwise.
if [ "${1:-build}" = test ] && ! command -v npm >/dev/null; then missing+=(npm); fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing missing Debian packages: ${missing[*]}" >&2
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
fi

if [ "${1:-build}" = test ]; then
  browser="$(dirname "$0")/../tests/browser"
  want_hls=$(grep -o '"hls.js": "[^"]*"' "$browser/package.json" | cut -d'"' -f4)
  have_hls=$(grep -so '"version": "[^"]*"' "$browser/node_modules/hls.js/package.json" | head -1 | cut -d'"' -f4 || true)
  if [ "$want_hls" != "$have_hls" ]; then
    echo "deps: installing hls.js for the browser test (npm ci in tests/browser)" >&2
    (cd "$browser" && npm ci --no-audit --no-fund --loglevel=error </dev/null)
  fi
fi
