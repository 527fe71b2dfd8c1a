#!/usr/bin/env bash
# Installation and the Debian package as an administrator meets them. One
# step per run; tests/CMakeLists.txt registers each as a ctest test:
#
#   prefixes BUILD SRC      `cmake --install --prefix P` into a DESTDIR for
#                           /usr, /usr/local and /opt/NAME: where the programs,
#                           the configuration, man pages and completion land,
#                           and the unit's ExecStart
#   man BUILD               man --warnings renders each built man page with
#                           no warning; the (5) page names every key
#   completion BUILD SRC    the bash completion offers options, subcommands,
#                           values and file names
#   deb-build BUILD OUT     cpack -G DEB into OUT (for the two below)
#   deb-contents OUT VER    the package's name, files, stripped programs,
#                           control fields, conffiles and maintainer scripts
#                           (those also on a simulated systemd host, as root)
#   deb-install OUT         apt-get install, the installed files, no service
#                           started, apt-get remove and purge. It changes the
#                           system, so it runs only as root and with CI=true
#                           or RTMP_TEST_INSTALL_DEB=1, and is skipped
#                           otherwise; it leaves the package purged.
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

# The processes of the installed program (other builds' rtmp-server
# processes on this machine are not counted).
installed_server_pids() {
  local pid
  for pid in $(pgrep -x rtmp-server || true); do
    case $(readlink "/proc/$pid/exe" 2>/dev/null) in
      /usr/bin/rtmp-server*) echo "$pid" ;;
    esac
  done
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

step_deb_build() {
  local build=${1:?BUILD} out=${2:?OUT}
  need cpack dpkg-deb
  rm -rf "$out"
  mkdir -p "$out"
  bounded 300 cpack -G DEB -B "$out" --config "$build/CPackConfig.cmake"
  ls -l "$out"/*.deb
}

the_deb() {
  local out=$1 debs
  debs=("$out"/*.deb)
  [ ${#debs[@]} -eq 1 ] && [ -f "${debs[0]}" ] || fail "expected one .deb in $out: ${debs[*]}"
  echo "${debs[0]}"
}

step_deb_contents() {
  local out=${1:?OUT} version=${2:?VERSION}
  need dpkg-deb dpkg file readelf sh
  local deb arch
  deb=$(the_deb "$out")
  arch=$(dpkg --print-architecture)
  [ "$(basename "$deb")" = "rtmp-server_${version}_${arch}.deb" ] ||
    fail "package file $(basename "$deb"), expected rtmp-server_${version}_${arch}.deb"
  echo "package: $(basename "$deb"), $(stat -c %s "$deb") bytes"

  timeout 30 dpkg-deb -c "$deb" </dev/null | awk '{print $6}' >"$tmp/files"
  local f
  for f in ./usr/bin/rtmp-server ./usr/bin/rtmp-client ./usr/lib/systemd/system/rtmp-server.service \
      ./etc/rtmp-server/rtmp-server.toml ./usr/share/man/man1/rtmp-server.1 ./usr/share/man/man1/rtmp-client.1 \
      ./usr/share/man/man5/rtmp-server.toml.5 ./usr/share/bash-completion/completions/rtmp-server \
      ./usr/share/bash-completion/completions/rtmp-client ./usr/share/doc/rtmp-server/copyright; do
    expect_line "$tmp/files" "$f"
  done
  ! grep -qE '^\./usr/(local|etc)/' "$tmp/files" || fail "files under /usr/local or /usr/etc: $(grep -E '^\./usr/(local|etc)/' "$tmp/files")"

  timeout 30 dpkg-deb -x "$deb" "$tmp/root" </dev/null
  local program
  for program in rtmp-server rtmp-client; do
    local bin=$tmp/root/usr/bin/$program
    file "$bin" | grep -q ', stripped' || fail "$program not stripped: $(file "$bin")"
    ! readelf -S "$bin" | grep -q '\.debug_info' || fail "$program has a .debug_info section"
    echo "$program: stripped, $(stat -c %s "$bin") bytes"
  done
  expect_line "$tmp/root/usr/lib/systemd/system/rtmp-server.service" \
    "ExecStart=/usr/bin/rtmp-server --config /etc/rtmp-server/rtmp-server.toml"

  timeout 30 dpkg-deb -I "$deb" </dev/null >"$tmp/info"
  local field
  for field in 'Package: rtmp-server' "Version: $version" "Architecture: $arch" 'Section: net' 'Priority: optional'; do
    grep -qx " $field" "$tmp/info" || fail "dpkg-deb -I: no '$field'"
  done
  grep -qE '^ Maintainer: .+ <.+@.+>$' "$tmp/info" || fail "dpkg-deb -I: no Maintainer NAME <EMAIL>"
  grep -qE '^ Description: .+' "$tmp/info" || fail "dpkg-deb -I: no Description"
  local depends
  depends=$(sed -n 's/^ Depends: //p' "$tmp/info")
  local lib
  for lib in libc6 libstdc++6 libgcc-s1 libssl3 libfmt9 libspdlog; do
    [[ ", $depends" == *", $lib"* ]] || fail "Depends lacks $lib: $depends"
  done
  echo "Depends: $depends"

  timeout 30 dpkg-deb -e "$deb" "$tmp/control" </dev/null
  expect_line "$tmp/control/conffiles" /etc/rtmp-server/rtmp-server.toml
  local script
  for script in postinst prerm postrm; do
    [ -x "$tmp/control/$script" ] || fail "$script missing or not executable"
    sh -n "$tmp/control/$script" || fail "$script: syntax"
    grep -qx 'set -e' "$tmp/control/$script" || fail "$script does not set -e"
  done
  maintainer_scripts "$tmp/control"
}

# The maintainer scripts in $1, run with stand-ins for systemctl and
# deb-systemd-invoke that record their arguments: without systemd (no
# /run/systemd/system) they call neither; as root, in a mount namespace with
# /run/systemd/system, as on a systemd host.
maintainer_scripts() {
  local control=$1
  mkdir -p "$tmp/fake"
  local tool
  for tool in systemctl deb-systemd-invoke; do
    printf '#!/bin/sh\necho "%s $*" >>"%s"\n' "$tool" "$tmp/calls" >"$tmp/fake/$tool"
    chmod +x "$tmp/fake/$tool"
  done
  # run_scripts OUTPUT [SCRIPT ARGS...]...: the calls of each script in turn.
  cat >"$tmp/run-scripts.sh" <<EOF
set -e
for call in "\$@"; do
  : >"$tmp/calls"
  set -- \$call
  script=\$1
  shift
  PATH="$tmp/fake:\$PATH" sh "$control/\$script" "\$@"
  echo "\$script \$*: \$(tr '\n' ';' <"$tmp/calls")"
done
EOF
  local calls=('postinst configure' 'postinst configure 0.0.1' 'prerm remove' 'prerm upgrade 9.9.9'
               'postrm remove' 'postrm purge')
  local have_systemd=false
  [ -d /run/systemd/system ] && have_systemd=true
  if ! $have_systemd; then
    timeout 30 sh "$tmp/run-scripts.sh" "${calls[@]}" </dev/null >"$tmp/without" 2>&1 ||
      fail "maintainer scripts without systemd: $(cat "$tmp/without")"
    grep -q 'system' <(cut -d: -f2- "$tmp/without") && fail "without systemd, systemctl was called: $(cat "$tmp/without")"
    echo "maintainer scripts without systemd: exit 0, no systemctl"
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "maintainer scripts on a systemd host: needs root (a mount namespace), left out"
    return 0
  fi
  need unshare mount
  timeout 30 unshare --mount sh -c 'mount -t tmpfs rtmp-test /run/systemd 2>/dev/null ||
      { mkdir -p /run/systemd && mount -t tmpfs rtmp-test /run/systemd; } && mkdir /run/systemd/system && exec sh "$@"' \
    sh "$tmp/run-scripts.sh" "${calls[@]}" </dev/null >"$tmp/with" 2>&1 ||
    fail "maintainer scripts on a systemd host: $(cat "$tmp/with")"
  cat "$tmp/with"
  expect_line "$tmp/with" "postinst configure: systemctl --system daemon-reload;"
  expect_line "$tmp/with" "postinst configure 0.0.1: systemctl --system daemon-reload;deb-systemd-invoke try-restart rtmp-server.service;"
  expect_line "$tmp/with" "prerm remove: systemctl stop rtmp-server.service;"
  expect_line "$tmp/with" "prerm upgrade 9.9.9: "
  expect_line "$tmp/with" "postrm remove: systemctl --system daemon-reload;"
}

step_deb_install() {
  local out=${1:?OUT}
  [ "$(id -u)" -eq 0 ] || skip "installs the package into this system: root only"
  [ "${CI:-}" = true ] || [ "${RTMP_TEST_INSTALL_DEB:-}" = 1 ] ||
    skip "installs the package into this system: runs with CI=true or RTMP_TEST_INSTALL_DEB=1"
  need apt-get dpkg dpkg-query systemd-analyze man pgrep bash
  local deb
  deb=$(the_deb "$out")
  export DEBIAN_FRONTEND=noninteractive
  # Another apt-get or dpkg at work: wait for its lock rather than fail.
  local apt_options=(-o DPkg::Lock::Timeout=120)
  [ -z "$(installed_server_pids)" ] || fail "an installed rtmp-server is running already: $(installed_server_pids)"
  if dpkg-query -W -f='${Status}' rtmp-server 2>/dev/null | grep -q ' installed'; then
    echo "note: replacing the rtmp-server package installed before (purged at the end)"
  fi
  cp "$deb" "$tmp/"
  # Whatever happens, the package does not stay.
  cleanups=("timeout 120 dpkg --purge rtmp-server </dev/null >/dev/null 2>&1" "${cleanups[@]}")

  bounded 300 apt-get "${apt_options[@]}" install -y "$tmp/$(basename "$deb")"
  echo "apt-get install ./$(basename "$deb"): ok"
  timeout 10 dpkg -L rtmp-server </dev/null >"$tmp/listed"
  local f
  for f in /usr/bin/rtmp-server /usr/bin/rtmp-client /usr/lib/systemd/system/rtmp-server.service \
      /etc/rtmp-server/rtmp-server.toml /usr/share/man/man1/rtmp-server.1 /usr/share/man/man1/rtmp-client.1 \
      /usr/share/man/man5/rtmp-server.toml.5 /usr/share/bash-completion/completions/rtmp-server \
      /usr/share/bash-completion/completions/rtmp-client; do
    expect_line "$tmp/listed" "$f"
    [ -e "$f" ] || fail "dpkg -L lists $f, which is not there"
  done
  dpkg-query -W -f='${Conffiles}\n' rtmp-server | grep -q '^ /etc/rtmp-server/rtmp-server.toml ' ||
    fail "dpkg does not treat /etc/rtmp-server/rtmp-server.toml as a conffile"
  # systemd accepts the unit, man page of Documentation= included.
  if ! timeout 60 systemd-analyze verify /usr/lib/systemd/system/rtmp-server.service </dev/null >"$tmp/verify" 2>&1 ||
      [ -s "$tmp/verify" ]; then
    fail "systemd-analyze verify: $(cat "$tmp/verify")"
  fi
  echo "systemd-analyze verify: no complaint"
  render_man -l /usr/share/man/man1/rtmp-server.1
  render_man -l /usr/share/man/man1/rtmp-client.1
  render_man -l /usr/share/man/man5/rtmp-server.toml.5
  render_man 5 rtmp-server.toml
  render_man 1 rtmp-server
  echo "man --warnings: installed pages render without a warning"
  bounded 10 /usr/bin/rtmp-server --config /etc/rtmp-server/rtmp-server.toml --print-config
  timeout 10 bash -c 'source /usr/share/bash-completion/completions/rtmp-client && complete -p rtmp-client rtmp-server' \
    </dev/null >/dev/null || fail "the installed bash completion does not register both commands"
  [ -z "$(installed_server_pids)" ] || fail "the install started rtmp-server: $(installed_server_pids)"
  echo "installed: files in place, configuration accepted, no rtmp-server started"

  bounded 300 apt-get "${apt_options[@]}" remove -y rtmp-server
  [ ! -e /usr/bin/rtmp-server ] || fail "/usr/bin/rtmp-server left after apt-get remove"
  [ -f /etc/rtmp-server/rtmp-server.toml ] || fail "apt-get remove dropped the conffile (only purge should)"
  [ -z "$(installed_server_pids)" ] || fail "rtmp-server running after apt-get remove: $(installed_server_pids)"
  echo "apt-get remove: ok, configuration kept, no rtmp-server running"
  bounded 300 apt-get "${apt_options[@]}" purge -y rtmp-server
  [ ! -e /etc/rtmp-server/rtmp-server.toml ] || fail "/etc/rtmp-server/rtmp-server.toml left after purge"
  echo "apt-get purge: configuration gone"
}

case $step in
  prefixes) step_prefixes "$@" ;;
  man) step_man "$@" ;;
  completion) step_completion "$@" ;;
  deb-build) step_deb_build "$@" ;;
  deb-contents) step_deb_contents "$@" ;;
  deb-install) step_deb_install "$@" ;;
  *) fail "unknown step $step" ;;
esac
echo "passed: $step"
