#!/usr/bin/env bash
# Publishes a file (or a generated test pattern) to an RTMP server with ffmpeg.
# Usage: examples/publish-ffmpeg.sh [URL] [INPUT]
#   URL    default rtmp://127.0.0.1:1935/live/demo
#   INPUT  a media file; without it ffmpeg generates a test pattern and a tone
set -euo pipefail
url="${1:-rtmp://127.0.0.1:1935/live/demo}"
input="${2:-}"
if [ -n "$input" ]; then
  # -re: read at real time; -c copy keeps the codecs (FLV needs H.264/AAC or similar).
  exec ffmpeg -nostdin -hide_banner -re -i "$input" -c copy -f flv "$url"
fi
exec ffmpeg -nostdin -hide_banner -re \
  -f lavfi -i testsrc=size=640x360:rate=25 -f lavfi -i sine=frequency=440:sample_rate=44100 \
  -c:v libx264 -preset veryfast -tune zerolatency -g 50 -pix_fmt yuv420p -c:a aac -b:a 96k \
  -f flv "$url"
