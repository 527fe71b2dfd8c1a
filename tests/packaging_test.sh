#!/usr/bin/env bash
# Installation as an administrator meets it. One step per run;
# tests/CMakeLists.txt registers each as a ctest test:
#
#   prefixes BUILD SRC      `cmake --install --prefix P` into a DESTDIR for
#                           /usr, /usr/local and /opt/NAME: where the programs
#                           and the configuration land, and the unit's ExecStart
#
# Every command is bounded in time; nothing touches the network. A missing
# tool skips the step (exit 77), and fails it under CI=true.
set -euo pipefail

step=${1:?usage: packaging_test.sh STEP ARGS...}
shift
tmp=$(mktemp -d "${TMPDIR:-/tmp}/rtmp-packaging-XXXXXX")
cleanups=("rm -rf '$tmp'")
trap 'for c in "${cleanups[@]}"; do eval "$c" || true; done' EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
skip() {
  echo "SKIP: $*" >&2
  exit 77
}
# Each tool named must be in PATH.
need() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 && continue
    if [ "${CI:-}" = true ]; then
      fail "$tool not installed (CI=true: a missing tool fails; scripts/deps.sh test installs it)"
    fi
    skip "$tool not installed (scripts/deps.sh test installs it)"
  done
}
# Runs a command within SECONDS (first argument), no standard input; its
# output goes to $tmp/log, shown when it fails.
bounded() {
  local seconds=$1
  shift
  if ! timeout "$seconds" "$@" </dev/null >"$tmp/log" 2>&1; then
    cat "$tmp/log" >&2
    fail "$* (exit or timeout)"
  fi
}
expect_file() {
  [ -f "$1" ] || fail "missing: $1"
}
expect_line() {  # FILE LINE: LINE is a whole line of FILE
  grep -qxF -- "$2" "$1" || fail "$1 has no line '$2'"
}

# The configuration directory GNUInstallDirs gives the prefix $1.
confdir_for() {
  case $1 in
    /usr) echo /etc/rtmp-server ;;
    /opt/*) echo "/etc$1/rtmp-server" ;;
    *) echo "$1/etc/rtmp-server" ;;
  esac
}

step_prefixes() {
  local build=${1:?BUILD} src=${2:?SOURCE}
  need cmake
  local prefix
  for prefix in /usr /usr/local /opt/rtmp-server; do
    local dest=$tmp/dest${prefix//\//_}
    bounded 120 env DESTDIR="$dest" cmake --install "$build" --prefix "$prefix"
    local conf
    conf=$(confdir_for "$prefix")
    local unit=$dest$prefix/lib/systemd/system/rtmp-server.service
    [ -x "$dest$prefix/bin/rtmp-server" ] && [ -x "$dest$prefix/bin/rtmp-client" ] ||
      fail "prefix $prefix: programs not in $prefix/bin"
    expect_file "$dest$conf/rtmp-server.toml"
    cmp -s "$dest$conf/rtmp-server.toml" "$src/examples/rtmp-server.toml" ||
      fail "prefix $prefix: $conf/rtmp-server.toml is not examples/rtmp-server.toml"
    expect_file "$unit"
    expect_line "$unit" "ExecStart=$prefix/bin/rtmp-server --config $conf/rtmp-server.toml"
    [ ! -e "$dest$prefix/etc/rtmp-server" ] || [ "$conf" = "$prefix/etc/rtmp-server" ] ||
      fail "prefix $prefix: a configuration under $prefix/etc as well as $conf"
    # The installed program accepts the installed configuration.
    bounded 10 "$dest$prefix/bin/rtmp-server" --config "$dest$conf/rtmp-server.toml" --print-config
    echo "prefix $prefix: $(grep '^ExecStart=' "$unit")"
  done
  # An edited configuration file survives the next install.
  local conf=$tmp/dest_usr/etc/rtmp-server/rtmp-server.toml
  echo 'workers = 2' >"$conf"
  bounded 120 env DESTDIR="$tmp/dest_usr" cmake --install "$build" --prefix /usr
  [ "$(cat "$conf")" = 'workers = 2' ] || fail "install replaced an edited $conf"
}

case $step in
  prefixes) step_prefixes "$@" ;;
  *) fail "unknown step $step" ;;
esac
echo "passed: $step"
