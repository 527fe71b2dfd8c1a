#!/usr/bin/env bash
# Relays a stream from one RTMP server to another: rtmp-client play writes
# FLV to a pipe, rtmp-client publish reads it (no pacing: the source is live).
# Usage: examples/relay.sh FROM_URL TO_URL
#   e.g. examples/relay.sh rtmp://a.example/live/cam rtmp://127.0.0.1:1935/live/cam
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
client="${RTMP_CLIENT:-$here/build/bin/rtmp-client}"
from="${1:?usage: $0 FROM_URL TO_URL}"
to="${2:?usage: $0 FROM_URL TO_URL}"
"$client" play "$from" -o - -q | "$client" publish "$to" -i - --no-pace -q
