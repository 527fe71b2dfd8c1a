#!/usr/bin/env bash
# Fan-out comparison: rtmp-server vs nginx-rtmp, on this machine, over loopback.
#
# For each server and each player count, the script starts a fresh server
# pinned to one CPU (rtmp-server --workers 1; nginx with libnginx-mod-rtmp,
# worker_processes 1, master_process off so one process does the work, config
# written into a temp dir), publishes one stream to it and opens N players
# with `rtmp-client bench`, which is pinned to another CPU. It reads the
# server's CPU time (utime + stime from /proc/PID/stat) and peak VmRSS, takes
# the rest from the bench tool's JSON report, and prints one markdown table
# with ours/nginx ratios.
#
# After the fan-out runs it measures the floor for each player count:
# `loopback_floor --shape` (bench/loopback_floor.cpp) writes the same stream
# (the run's video + audio bitrate, in as many messages a second as the
# bench JSON says the publisher sent, else 68) to N loopback connections, one
# writev per player per message (or per FLOOR_WINDOW_MS window), the writer
# pinned to SERVER_CPU and its drain to LOAD_CPU, for --duration seconds
# (with --streams: N players of one stream, the same bytes per player). The
# table gains "floor CPU s per GB" and each server's CPU per GB over it; both
# are n/a when build/bin/loopback_floor is missing (benchmarks not built).
# Not in --scale runs.
#
# Usage: bench/compare-nginx.sh [options]
#   --players "LIST"   player counts (default "100 500 1000"; env PLAYERS)
#   --duration S       seconds per run after the last player joined (default 10; env DURATION)
#   --bitrate BPS      published video bitrate (default 2500000; env BITRATE)
#   --audio-bitrate BPS  synthetic publisher's AAC-LC audio (1024-sample
#                      frames at 44.1 kHz, about 43 a second; default 128000
#                      as in the ffmpeg-made file; 0: video only; env AUDIO_BITRATE)
#   --publisher P      synthetic: the bench tool's stamped stream (delay and gap
#                      figures); ffmpeg: an ffmpeg-made H.264/AAC FLV published
#                      with `ffmpeg -nostdin -re` (no delay or gap figures)
#                      (default synthetic; env PUBLISHER)
#   --ramp R           player connections per second (default 1000; env RAMP)
#   --streams N        publish N streams (synthetic publisher: the bench tool's
#                      --streams) and spread the players over them; --players
#                      stays the total (e.g. 200 streams x 5 players: --streams
#                      200 --players 1000 --bitrate 1000000). Adds server memory
#                      per stream to the table (default 1; env STREAMS)
#   --scale [N]        instead: the connection-scale run, N players (default
#                      10000; env SCALE_PLAYERS) of a 128 kbit/s stream (env
#                      SCALE_BITRATE): RSS per connection and connect time,
#                      players joining at SCALE_RAMP per second (default 250: a
#                      single-threaded server that also serves thousands of
#                      players accepts a few hundred connections a second; past
#                      that its listen queue overflows and clients wait for SYN
#                      retransmits, which measures the backlog, not the server).
#                      SCALE_PUBLISH=0: no publisher, the players wait idle for
#                      the stream (connection memory alone)
#   --servers "LIST"   which servers (default "ours nginx"; env SERVERS). Besides
#                      ours and nginx: ours-rtmps (every bench connection over
#                      RTMPS to our TLS listener, a self-signed certificate made
#                      with the openssl program, `bench --insecure`) and
#                      ours-http-flv (the players over HTTP-FLV, `bench
#                      --http-flv`; the publisher over RTMP). Without nginx the
#                      ratio columns compare each server with the first one
#                      listed, e.g. --servers "ours ours-rtmps ours-http-flv"
#   --build-dir DIR    where bin/rtmp-server and bin/rtmp-client are (default build; env BUILD_DIR)
#   --floor-window-ms W  the floor's coalescing window: one gathered writev per
#                      player per W ms instead of per message, to compare with
#                      OURS_ARGS="--write-coalesce-ms W" (default 0; env FLOOR_WINDOW_MS)
# Env SERVER_CPU (default 0) and LOAD_CPU (default 1) pick the CPUs; OURS_ARGS adds
# rtmp-server flags (e.g. OURS_ARGS="--write-coalesce-ms 20").
#
# Needs: nginx + libnginx-mod-rtmp, taskset (util-linux), python3, and
# ffmpeg for --publisher ffmpeg. Raises `ulimit -n` as far as allowed. Only
# loopback addresses are used; every process it starts is stopped by its PID.
# Run it on a quiet machine (e.g. under `flock /tmp/rtmp-build.lock`).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
players_list=${PLAYERS:-"100 500 1000"}
duration=${DURATION:-10}
bitrate=${BITRATE:-2500000}
audio_bitrate=${AUDIO_BITRATE:-128000}
publisher=${PUBLISHER:-synthetic}
ramp=${RAMP:-1000}
streams=${STREAMS:-1}
servers=${SERVERS:-"ours nginx"}
build_dir=${BUILD_DIR:-$repo/build}
server_cpu=${SERVER_CPU:-0}
load_cpu=${LOAD_CPU:-1}
scale=0
scale_players=${SCALE_PLAYERS:-10000}
scale_bitrate=${SCALE_BITRATE:-128000}
scale_ramp=${SCALE_RAMP:-250}
scale_publish=${SCALE_PUBLISH:-1}
floor_window_ms=${FLOOR_WINDOW_MS:-0}

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit "${1:-0}"; }
die() { echo "compare-nginx: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --players) players_list=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --bitrate) bitrate=$2; shift 2 ;;
    --audio-bitrate) audio_bitrate=$2; shift 2 ;;
    --publisher) publisher=$2; shift 2 ;;
    --ramp) ramp=$2; shift 2 ;;
    --streams) streams=$2; shift 2 ;;
    --servers) servers=$2; shift 2 ;;
    --build-dir) build_dir=$2; shift 2 ;;
    --floor-window-ms) floor_window_ms=$2; shift 2 ;;
    --scale)
      scale=1; shift
      if [ $# -gt 0 ] && [[ $1 =~ ^[0-9]+$ ]]; then scale_players=$1; shift; fi ;;
    -h|--help) usage 0 ;;
    *) echo "unknown option: $1" >&2; usage 2 ;;
  esac
done
case "$publisher" in synthetic|ffmpeg) ;; *) die "--publisher is synthetic or ffmpeg" ;; esac
[ "$streams" -gt 1 ] && [ "$publisher" = ffmpeg ] && die "--streams needs the synthetic publisher"

server_bin=$build_dir/bin/rtmp-server
client_bin=$build_dir/bin/rtmp-client
[ -x "$server_bin" ] && [ -x "$client_bin" ] || die "build first: $server_bin / $client_bin not found"
command -v taskset >/dev/null || die "taskset (util-linux) not found"
command -v python3 >/dev/null || die "python3 not found"
nginx_bin=$(command -v nginx || true)
[ -z "$nginx_bin" ] && [ -x /usr/sbin/nginx ] && nginx_bin=/usr/sbin/nginx
nginx_module=""
for m in /usr/lib/nginx/modules/ngx_rtmp_module.so /usr/share/nginx/modules/ngx_rtmp_module.so; do
  [ -f "$m" ] && nginx_module=$m && break
done
if [[ " $servers " == *" nginx "* ]]; then
  [ -n "$nginx_bin" ] && [ -n "$nginx_module" ] || die "nginx and libnginx-mod-rtmp are needed (scripts/deps.sh test)"
fi
[ "$publisher" = ffmpeg ] && ! command -v ffmpeg >/dev/null && die "ffmpeg not found"

# Many connections: raise the open-file limit as far as we may.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

work=$(mktemp -d /tmp/compare-nginx.XXXXXX)
server_pid=""
ffmpeg_pid=""
cleanup() {
  [ -n "$ffmpeg_pid" ] && kill "$ffmpeg_pid" 2>/dev/null || true
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_port() {
  local i
  for i in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  return 1
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
clk_tck=$(getconf CLK_TCK)

# Starts server $1 (ours | ours-rtmps | ours-http-flv | nginx) on a fresh
# port: sets server_pid, port (RTMP) and extra_port (RTMPS or HTTP, else 0).
start_server() {
  port=$(free_port)
  extra_port=0
  if [[ $1 == ours* ]]; then
    local extra=()
    case "$1" in
      ours-rtmps)
        extra_port=$(free_port)
        if [ ! -f "$work/cert.pem" ]; then
          openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=localhost \
            -addext subjectAltName=IP:127.0.0.1 -keyout "$work/key.pem" -out "$work/cert.pem" >/dev/null 2>&1 \
            || die "openssl could not make a certificate"
        fi
        extra=(--tls-listen "127.0.0.1:$extra_port" --tls-cert "$work/cert.pem" --tls-key "$work/key.pem") ;;
      ours-http-flv)
        extra_port=$(free_port)
        extra=(--http-listen "127.0.0.1:$extra_port") ;;
    esac
    # OURS_ARGS: extra rtmp-server flags, e.g. "--write-coalesce-ms 20".
    # shellcheck disable=SC2086
    taskset -c "$server_cpu" "$server_bin" --workers 1 --listen "127.0.0.1:$port" --log-level warn "${extra[@]}" \
      ${OURS_ARGS:-} >"$work/$1.log" 2>&1 </dev/null &
  else
    local dir=$work/nginx
    mkdir -p "$dir/logs"
    cat >"$dir/nginx.conf" <<EOF
load_module $nginx_module;
daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile 65536;
error_log stderr warn;
pid $dir/nginx.pid;
events { worker_connections 30000; }
rtmp {
  access_log off;
  server {
    listen 127.0.0.1:$port;
    chunk_size 4096;
    application live { live on; }
  }
}
EOF
    taskset -c "$server_cpu" "$nginx_bin" -e stderr -c "$dir/nginx.conf" -p "$dir" >"$work/nginx.log" 2>&1 </dev/null &
  fi
  server_pid=$!
  wait_port "$port" || { cat "$work/$1.log" >&2; die "$1 did not start listening on 127.0.0.1:$port"; }
  if [ "$extra_port" != 0 ]; then
    wait_port "$extra_port" || { cat "$work/$1.log" >&2; die "$1 did not start listening on 127.0.0.1:$extra_port"; }
  fi
}

stop_server() {
  kill -TERM "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

# An H.264/AAC FLV of 20 s at the wanted video bitrate (for --publisher ffmpeg).
make_media() {
  local out=$1 bps=$2
  ffmpeg -nostdin -hide_banner -loglevel error -y \
    -f lavfi -i "testsrc2=size=1280x720:rate=25" -f lavfi -i "sine=frequency=440:sample_rate=44100" \
    -t 20 -c:v libx264 -preset veryfast -tune zerolatency -g 50 -keyint_min 50 -sc_threshold 0 \
    -b:v "$bps" -maxrate "$bps" -bufsize "$((bps / 2))" -pix_fmt yuv420p \
    -c:a aac -b:a 128k -ac 2 -f flv "$out"
}

# One run: server $1, $2 players, video bitrate $3; appends a JSON line to results.
run_case() {
  local kind=$1 players=$2 bps=$3
  local url json=$work/bench.json
  start_server "$kind"
  url="rtmp://127.0.0.1:$port/live/bench"
  local transport_args=()
  case "$kind" in
    ours-rtmps) url="rtmps://127.0.0.1:$extra_port/live/bench"; transport_args=(--insecure) ;;
    ours-http-flv) transport_args=(--http-flv "$extra_port") ;;
  esac
  local pub_args=(--publish synthetic --bitrate "$bps" --streams "$streams")
  # Audio only on the fan-out stream (the scale run's 128 kbit/s is all video).
  [ "$scale" = 1 ] || pub_args+=(--audio-bitrate "$audio_bitrate")
  if [ "$scale" = 1 ] && [ "$scale_publish" = 0 ]; then pub_args=(); fi
  if [ "$publisher" = ffmpeg ] && [ ${#pub_args[@]} -gt 0 ]; then
    [ "$kind" = ours-rtmps ] && die "--publisher ffmpeg with ours-rtmps: not supported (the publisher would need TLS)"
    pub_args=()
    [ -f "$work/media-$bps.flv" ] || make_media "$work/media-$bps.flv" "$bps"
    taskset -c "$load_cpu" ffmpeg -nostdin -hide_banner -loglevel error -re -stream_loop -1 \
      -i "$work/media-$bps.flv" -c copy -f flv "$url" </dev/null >"$work/ffmpeg.log" 2>&1 &
    ffmpeg_pid=$!
  fi
  sleep 1
  local idle_rss cpu0 cpu1 peak r t0 t1
  idle_rss=$(rss_kb "$server_pid")
  cpu0=$(cpu_ticks "$server_pid")
  t0=$(date +%s.%N)
  taskset -c "$load_cpu" "$client_bin" --timeout 30 -q bench "$url" --players "$players" "${pub_args[@]}" \
    "${transport_args[@]}" \
    --duration "$duration" --ramp "$ramp" --threads 1 --json >"$json" 2>"$work/bench.err" </dev/null &
  local bench_pid=$!
  peak=$idle_rss
  while kill -0 "$bench_pid" 2>/dev/null; do
    r=$(rss_kb "$server_pid" 2>/dev/null || echo 0)
    [ "${r:-0}" -gt "$peak" ] && peak=$r
    sleep 0.25
  done
  wait "$bench_pid" || { cat "$work/bench.err" >&2; echo "compare-nginx: bench failed ($kind, $players players)" >&2; }
  t1=$(date +%s.%N)
  cpu1=$(cpu_ticks "$server_pid")
  if [ -n "$ffmpeg_pid" ]; then kill "$ffmpeg_pid" 2>/dev/null || true; wait "$ffmpeg_pid" 2>/dev/null || true; ffmpeg_pid=""; fi
  stop_server
  python3 - "$kind" "$players" "$bps" "$(((cpu1 - cpu0)))" "$clk_tck" "$idle_rss" "$peak" "$t0" "$t1" "$json" \
    "$streams" >>"$work/results.jsonl" <<'EOF'
import json, sys
kind, players, bps, ticks, tck, idle, peak, t0, t1, path, streams = sys.argv[1:]
try:
    bench = json.load(open(path))
except Exception:
    bench = None
print(json.dumps({"server": kind, "players": int(players), "bitrate": int(bps), "streams": int(streams),
                  "cpu_s": int(ticks) / int(tck), "wall_s": float(t1) - float(t0),
                  "idle_rss_kb": int(idle), "peak_rss_kb": int(peak), "bench": bench}))
EOF
  echo "compare-nginx: done $kind with $players players" >&2
}

: >"$work/results.jsonl"
if [ "$scale" = 1 ]; then
  ramp=$scale_ramp
  for s in $servers; do run_case "$s" "$scale_players" "$scale_bitrate"; done
else
  for n in $players_list; do
    for s in $servers; do run_case "$s" "$n" "$bitrate"; done
  done
fi

# The floor for each fan-out player count (see the header): appends
# loopback_floor's JSON line, with the command, to floor.jsonl.
floor_bin=$build_dir/bin/loopback_floor
: >"$work/floor.jsonl"
if [ "$scale" = 0 ] && [ ! -x "$floor_bin" ]; then
  echo "compare-nginx: $floor_bin not found (benchmarks not built): floor rows n/a" >&2
elif [ "$scale" = 0 ]; then
  floor_audio=$audio_bitrate
  [ "$publisher" = ffmpeg ] && floor_audio=128000  # make_media's -b:a 128k
  for n in $players_list; do
    # Messages per second per stream as the publisher sent them (video +
    # audio frames over its sending time, bytes * 8 / bitrate), else 68.
    msgs=$(python3 - "$work/results.jsonl" "$n" "$floor_audio" <<'EOF'
import json, sys
path, n, audio = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rate = None
for l in open(path):
    r = json.loads(l) if l.strip() else {}
    p = (r.get("bench") or {}).get("publisher") or {}
    frames = (p.get("video_frames") or 0) + (p.get("audio_frames") or 0)
    if r.get("players") == n and frames and p.get("bytes") and p.get("bitrate_bps"):
        rate = frames * p["bitrate_bps"] / (p["bytes"] * 8)
        if r.get("server") == "ours":
            break
print("%.2f" % rate if rate else (68 if audio > 0 else 25))
EOF
)
    spec="players=$n,bitrate=$((bitrate + floor_audio)),messages=$msgs,audio_bitrate=$floor_audio"
    spec+=",window_ms=$floor_window_ms,seconds=$duration,writer_cpu=$server_cpu,drain_cpu=$load_cpu"
    if "$floor_bin" --shape "$spec" >"$work/floor.json" 2>"$work/floor.err" </dev/null; then
      python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); j["command"] = sys.argv[2]; print(json.dumps(j))' \
        "$work/floor.json" "${floor_bin#"$repo"/} --shape $spec" >>"$work/floor.jsonl"
      echo "compare-nginx: done floor with $n players" >&2
    else
      cat "$work/floor.err" >&2
      echo "compare-nginx: floor failed ($n players)" >&2
    fi
  done
fi

[ "$scale" = 1 ] && [ "$scale_publish" = 0 ] && publisher=none
audio_label=$audio_bitrate
[ "$scale" = 1 ] && audio_label=0
python3 - "$work/results.jsonl" "$scale" "$publisher" "$duration" "$audio_label" "$work/floor.jsonl" \
  "$floor_window_ms" "$servers" <<'EOF'
import json, sys
path, scale, publisher, duration = sys.argv[1], sys.argv[2] == "1", sys.argv[3], sys.argv[4]
audio_bps = int(sys.argv[5])
floors = {f["players"]: f for f in (json.loads(l) for l in open(sys.argv[6]) if l.strip())}
floor_window_ms = int(sys.argv[7])
servers = sys.argv[8].split()
rows = [json.loads(l) for l in open(path) if l.strip()]
by = {(r["server"], r["players"]): r for r in rows}
counts = sorted({r["players"] for r in rows})

def g(r, *keys):
    v = r.get("bench")
    for k in keys:
        if not isinstance(v, dict) or k not in v:
            return None
        v = v[k]
    return v

def delivered_gb(r):
    w = g(r, "delivered", "wire_bytes")
    return w / 1e9 if w else None

def metrics(r):
    gb = delivered_gb(r)
    keyed = (g(r, "first_keyframe_ms", "count") or 0) > 0
    pub = g(r, "publisher", "bitrate_bps") or 0
    if not pub and publisher == "ffmpeg":
        pub = None
    windowed = (g(r, "bitrate_window_s") or 0) > 0  # 0: not every player got a keyframe in time
    med = g(r, "delivered", "bitrate_bps", "median") if windowed else None
    p1 = g(r, "delivered", "bitrate_bps", "p1") if windowed else None
    stamped = publisher == "synthetic"
    m = {
        "players connected / failed": "%s / %s" % (g(r, "players", "connected"), g(r, "players", "failed")),
        "server CPU s per GB delivered": (r["cpu_s"] / gb) if gb else None,
        "server CPU, % of one core": 100 * r["cpu_s"] / r["wall_s"] if r["wall_s"] else None,
        "server peak RSS, MiB": r["peak_rss_kb"] / 1024,
        "delivered / published (median player)": (med / pub) if pub and med is not None else None,
        "delivered / published (p1 player)": (p1 / pub) if pub and p1 is not None else None,
        "end-to-end delay p50, ms": g(r, "delay_ms", "p50") if stamped else None,
        "end-to-end delay p99, ms": g(r, "delay_ms", "p99") if stamped else None,
        "connect to first keyframe p50, ms": g(r, "first_keyframe_ms", "p50") if keyed else None,
        "connect to first keyframe p99, ms": g(r, "first_keyframe_ms", "p99") if keyed else None,
        "frames missing (gaps)": g(r, "gaps", "dropped_messages") if stamped else None,
        "bench tool CPU, % of one core": g(r, "cpu", "percent_of_one_core"),
    }
    if r.get("streams", 1) > 1:
        m["server RSS per stream, KiB"] = (r["peak_rss_kb"] - r["idle_rss_kb"]) / r["streams"]
    if g(r, "tool_saturated"):
        m["bench tool saturated"] = "yes"
    if scale:
        n = g(r, "players", "connected") or 0
        m = {
            "players connected / failed": m["players connected / failed"],
            "server idle RSS, MiB": r["idle_rss_kb"] / 1024,
            "server peak RSS, MiB": r["peak_rss_kb"] / 1024,
            "RSS per connected player, KiB": (r["peak_rss_kb"] - r["idle_rss_kb"]) / n if n else None,
            "server CPU, % of one core": m["server CPU, % of one core"],
            "connect to Play.Start p50, ms": g(r, "connect_ms", "p50"),
            "connect to Play.Start p99, ms": g(r, "connect_ms", "p99"),
            "connect to Play.Start max, ms": g(r, "connect_ms", "max"),
            "connect to first keyframe p50, ms": m["connect to first keyframe p50, ms"],
            "connect to first keyframe p99, ms": m["connect to first keyframe p99, ms"],
            "server CPU s per GB delivered": m["server CPU s per GB delivered"] if publisher != "none" else None,
            "delivered / published (median player)": m["delivered / published (median player)"],
            "frames missing (gaps)": m["frames missing (gaps)"],
            "bench tool CPU, % of one core": m["bench tool CPU, % of one core"],
        }
    return m

def fmt(v):
    if v is None:
        return "n/a"
    if isinstance(v, str):
        return v
    if isinstance(v, int):
        return str(v)
    if abs(v) >= 100:
        return "%.0f" % v
    if abs(v) >= 10:
        return "%.1f" % v
    return "%.3g" % v

def ratio(a, b):
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b:
        q = a / b
        return "%.2f" % q if q >= 0.1 else "%.3f" % q
    return "—"

print()
what = "connection scale: %d players" % counts[0] if scale else "fan-out"
if rows and rows[0].get("streams", 1) > 1:
    what += " over %d streams" % rows[0]["streams"]
ramp = rows[0]["bench"]["ramp_per_s"] if rows and rows[0].get("bench") else "?"
pub = "none (idle players)" if publisher == "none" else "%s at %s bit/s" % (publisher, rows[0]["bitrate"] if rows else "?")
if publisher == "synthetic" and audio_bps > 0:
    pub += " video + %d bit/s audio" % audio_bps
names = {"ours": "rtmp-server", "nginx": "nginx-rtmp", "ours-rtmps": "rtmp-server, RTMPS",
         "ours-http-flv": "rtmp-server, HTTP-FLV"}
short = {"ours": "ours", "nginx": "nginx", "ours-rtmps": "rtmps", "ours-http-flv": "http-flv"}
if set(servers) <= {"ours", "nginx"}:
    # The usual table: ours and nginx-rtmp, and ours/nginx.
    columns, base, pairs = ["ours", "nginx"], None, [("ours", "nginx")]
    title = "rtmp-server vs nginx-rtmp"
else:
    # Each server listed, then each one after the first over the first.
    columns, base = servers, servers[0]
    pairs = [(s, base) for s in servers[1:]]
    transports = {"ours": "RTMP", "ours-rtmps": "RTMPS", "ours-http-flv": "HTTP-FLV"}
    if all(s in transports for s in servers):
        title = "rtmp-server over " + ", ".join(transports[s] for s in servers)
    else:
        title = " vs ".join(names.get(s, s) for s in servers)
print("### %s, %s (publisher: %s, %s players/s, %s s after the ramp)" % (title, what, pub, ramp, duration))
print()
head = [names.get(c, c) for c in columns] + ["%s/%s" % (short.get(a, a), short.get(b, b)) for a, b in pairs]
print("| players | metric | " + " | ".join(head) + " |")
print("|---:|---|" + "---:|" * len(head))
for n in counts:
    ms = {c: (metrics(by[(c, n)]) if (c, n) in by else {}) for c in columns}
    keys = next((list(m) for m in ms.values() if m), [])
    for k in keys:
        vals = [ms[c].get(k) for c in columns]
        ratios = [ratio(ms[a].get(k), ms[b].get(k)) for a, b in pairs]
        print("| %d | %s | %s |" % (n, k, " | ".join([fmt(v) for v in vals] + ratios)))
    if scale:
        continue
    # The floor (loopback_floor --shape): the same for every server, shown
    # under each server that ran; then each server's CPU per GB over it.
    f = (floors.get(n) or {}).get("cpu_s_per_gb")
    how = "1 write per message" if floor_window_ms == 0 else "1 write per %d ms window" % floor_window_ms
    print("| %d | floor CPU s per GB (%s) | %s |" % (n, how, " | ".join(
        [fmt(f if ms[c] else None) for c in columns] + ["—"] * len(pairs))))
    key = "server CPU s per GB delivered"
    q = {c: (ms[c][key] / f if f and ms[c].get(key) is not None else None) for c in columns}
    print("| %d | server / floor (server CPU per GB) | %s |" % (n, " | ".join(
        [fmt(q[c]) for c in columns] + [ratio(q[a], q[b]) for a, b in pairs])))
if floors:
    print()
    for n in counts:
        if n in floors:
            print("Floor, %d players: `%s` (bench/loopback_floor.cpp)" % (n, floors[n]["command"]))
EOF
