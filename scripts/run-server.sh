#!/usr/bin/env bash
# Builds rtmp-server (installing missing Debian packages first) and starts it
# on 0.0.0.0:1935. Extra arguments are passed to rtmp-server.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh build
cmake --preset default
cmake --build --preset default --target rtmp-server rtmp-client
exec build/bin/rtmp-server "$@"
