#!/usr/bin/env bash
# Publishes an FLV file with rtmp-client, at real time, looping forever.
# Usage: examples/publish-rtmp-client.sh FILE.flv [URL]
#   URL default rtmp://127.0.0.1:1935/live/demo. Stop with Ctrl-C.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
client="${RTMP_CLIENT:-$here/build/bin/rtmp-client}"
file="${1:?usage: $0 FILE.flv [URL]}"
url="${2:-rtmp://127.0.0.1:1935/live/demo}"
exec "$client" publish "$url" -i "$file" --loop forever
