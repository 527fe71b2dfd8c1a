#!/usr/bin/env bash
# Records a stream into an FLV file with rtmp-client (until the publisher
# stops, or for SECONDS), then shows what it got with ffprobe.
# Usage: examples/play-rtmp-client.sh [URL] [OUT.flv] [SECONDS]
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
client="${RTMP_CLIENT:-$here/build/bin/rtmp-client}"
url="${1:-rtmp://127.0.0.1:1935/live/demo}"
out="${2:-out.flv}"
args=(play "$url" -o "$out")
if [ -n "${3:-}" ]; then args+=(--duration "$3"); fi
"$client" "${args[@]}"
if command -v ffprobe >/dev/null; then
  ffprobe -hide_banner -v error -show_entries stream=codec_name,width,height,sample_rate -of compact "$out" </dev/null
fi
