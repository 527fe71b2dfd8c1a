#!/usr/bin/env bash
# Installation as an administrator meets it. One step per run;
# tests/CMakeLists.txt registers each as a ctest test:
#
#   prefixes BUILD SRC      `cmake --install --prefix P` into a DESTDIR for
#                           /usr, /usr/local and /opt/NAME: where the programs,
#                           the configuration, man pages and completion land,
#                           and the unit's ExecStart
#   man BUILD               man --warnings renders each built man page with
#                           no warning; the (5) page names every key
#   completion BUILD SRC    the bash completion offers options, subcommands,
#                           values and file names
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

# man renders the page $1 (a file, or "SECTION NAME" to look it up) with no
# warning on standard error.
render_man() {
  local err=$tmp/man.err out=$tmp/man.out
  if ! env -u MANOPT -u MAN_KEEP_FORMATTING -u MANPAGER -u PAGER MANWIDTH=80 \
      timeout 30 man --warnings "$@" </dev/null >"$out" 2>"$err"; then
    cat "$err" >&2
    fail "man --warnings $* failed"
  fi
  [ ! -s "$err" ] || fail "man --warnings $* warns: $(cat "$err")"
  grep -q '^NAME' "$out" || fail "man $*: no NAME section in $(head -c 300 "$out")"
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
  local have_man1=false
  [ -f "$build/man/rtmp-server.1" ] && have_man1=true
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
    expect_file "$dest$prefix/share/man/man5/rtmp-server.toml.5"
    if $have_man1; then
      expect_file "$dest$prefix/share/man/man1/rtmp-server.1"
      expect_file "$dest$prefix/share/man/man1/rtmp-client.1"
    fi
    expect_file "$dest$prefix/share/bash-completion/completions/rtmp-server"
    expect_file "$dest$prefix/share/bash-completion/completions/rtmp-client"
    # The installed program accepts the installed configuration.
    bounded 10 "$dest$prefix/bin/rtmp-server" --config "$dest$conf/rtmp-server.toml" --print-config
    echo "prefix $prefix: $(grep '^ExecStart=' "$unit")"
  done
  # An edited configuration file survives the next install.
  local conf=$tmp/dest_usr/etc/rtmp-server/rtmp-server.toml
  echo 'workers = 2' >"$conf"
  bounded 120 env DESTDIR="$tmp/dest_usr" cmake --install "$build" --prefix /usr
  [ "$(cat "$conf")" = 'workers = 2' ] || fail "install replaced an edited $conf"
  $have_man1 || need help2man
}

step_man() {
  local build=${1:?BUILD}
  need man groff
  [ -f "$build/man/rtmp-server.1" ] || need help2man
  local page
  for page in rtmp-server.1 rtmp-client.1 rtmp-server.toml.5; do
    expect_file "$build/man/$page"
    render_man -l "$build/man/$page"
    echo "man -l $page: $(wc -l <"$tmp/man.out") lines, no warning"
  done
  # The check is real: a page groff cannot read warns.
  printf '.TH BROKEN 1\n.SH NAME\nbroken \\- a test\n.BOGUS macro\n' >"$tmp/broken.1"
  if env -u MANOPT MANWIDTH=80 timeout 30 man --warnings -l "$tmp/broken.1" </dev/null >/dev/null 2>"$tmp/broken.err" &&
      [ ! -s "$tmp/broken.err" ]; then
    fail "man --warnings reports nothing for an undefined macro"
  fi
  # rtmp-server.toml(5) documents every key of --print-config ...
  render_man -l "$build/man/rtmp-server.toml.5"
  local key count=0
  for key in $(timeout 10 "$build/bin/rtmp-server" --print-config </dev/null | sed -n 's/^\([a-z][a-z0-9-]*\)=.*/\1/p'); do
    grep -q "^ *$key = " "$tmp/man.out" || fail "rtmp-server.toml(5) does not document the key $key"
    count=$((count + 1))
  done
  [ "$count" -gt 20 ] || fail "rtmp-server --print-config listed only $count keys"
  echo "rtmp-server.toml(5) documents all $count keys"
  # ... rtmp-server(1) every option, rtmp-client(1) its exit codes and commands.
  render_man -l "$build/man/rtmp-server.1"
  local option
  for option in $(timeout 10 "$build/bin/rtmp-server" --help </dev/null | grep -o -- '--[a-z][a-z0-9-]*' | sort -u); do
    grep -q -- "$option" "$tmp/man.out" || fail "rtmp-server(1) does not name $option"
  done
  grep -q '^EXIT STATUS' "$tmp/man.out" || fail "rtmp-server(1) has no EXIT STATUS"
  render_man -l "$build/man/rtmp-client.1"
  local section
  for section in 'EXIT STATUS' COMMANDS EXAMPLES 'SEE ALSO'; do
    grep -q "^$section" "$tmp/man.out" || fail "rtmp-client(1) has no $section section"
  done
  grep -q '^ *9 .*file error' "$tmp/man.out" || fail "rtmp-client(1) lacks exit status 9"
  grep -q 'rtmp-client bench \[OPTIONS\]' "$tmp/man.out" || fail "rtmp-client(1) lacks the bench command"
}

step_completion() {
  local build=${1:?BUILD} src=${2:?SOURCE}
  need bash
  # complete LINE...: what the completion offers for the last word of LINE
  # (a trailing space: an empty word), with both programs in PATH.
  cat >"$tmp/complete.sh" <<'EOF'
source "$1"
shift
compopt() { :; }
read -ra COMP_WORDS <<<"$1"
[[ $1 == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
"$(complete -p "${COMP_WORDS[0]}" | sed 's/.* -F \([^ ]*\) .*/\1/')"
printf '%s\n' "${COMPREPLY[@]}"
EOF
  mkdir "$tmp/files" && touch "$tmp/files/server.toml" "$tmp/files/input.flv"
  offers() {  # LINE WORD...: completing LINE offers every WORD
    local line=$1 word
    shift
    (cd "$tmp/files" && PATH="$build/bin:$PATH" timeout 20 bash "$tmp/complete.sh" "$src/completions/rtmp.bash" "$line") \
      </dev/null >"$tmp/offers" 2>&1 || fail "completing '$line': $(cat "$tmp/offers")"
    for word in "$@"; do
      grep -qxF -- "$word" "$tmp/offers" || fail "completing '$line' does not offer '$word': $(tr '\n' ' ' <"$tmp/offers")"
    done
  }
  offers 'rtmp-server --con' --config
  offers 'rtmp-server --config ' server.toml
  offers 'rtmp-server --log-level ' trace debug info warn error critical off
  offers 'rtmp-server --gop-cache ' on off
  offers 'rtmp-server --tls-cert s' server.toml
  offers 'rtmp-client ' publish play bench
  offers 'rtmp-client --log-level debug p' publish play
  offers 'rtmp-client publish -' --input -i --no-pace --loop
  offers 'rtmp-client publish rtmp://127.0.0.1/live/x -i ' input.flv
  offers 'rtmp-client play rtmp://127.0.0.1/live/x -o i' input.flv
  offers 'rtmp-client bench --publish ' synthetic input.flv
  offers 'rtmp-client bench rtmp://127.0.0.1/live/x --pl' --players
  offers 'rtmp-client publish ' rtmp:// rtmps://
  # No options of `publish` after `play`.
  offers 'rtmp-client play --' --output --wait
  ! grep -qx -- '--input' "$tmp/offers" || fail "completing 'rtmp-client play --' offers publish's --input"
  echo "bash completion: options, subcommands, values and files offered"
}

case $step in
  prefixes) step_prefixes "$@" ;;
  man) step_man "$@" ;;
  completion) step_completion "$@" ;;
  *) fail "unknown step $step" ;;
esac
echo "passed: $step"
