#!/usr/bin/env bash
# Watches an RTMP stream with ffplay (needs a display), or checks it with
# ffmpeg without one when NO_DISPLAY=1.
# Usage: examples/play-ffplay.sh [URL]     (default rtmp://127.0.0.1:1935/live/demo)
set -euo pipefail
url="${1:-rtmp://127.0.0.1:1935/live/demo}"
if [ "${NO_DISPLAY:-0}" = 1 ]; then
  exec ffmpeg -nostdin -hide_banner -i "$url" -t 10 -f null -
fi
exec ffplay -hide_banner -fflags nobuffer -i "$url"
