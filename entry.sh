#!/bin/sh
# Container entry point: make sure the data dir exists, then hand PID 1 to node so SIGTERM reaches
# bosun directly (it closes the API, engine streams and store within 2 s and exits 0).
set -eu
mkdir -p "${BOSUN_DATA_DIR:-/data}"
exec /usr/src/bosun/bin/bosun "$@"
