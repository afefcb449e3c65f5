#!/usr/bin/env bash
# One command for a newcomer: install what bosun needs (node modules, the Docker engine), build it,
# and run the agent in local mode with embedded defaults (data under ./.data, API on :48484).
# Push to it from a laptop on the same LAN with `balena push <device-ip>`.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
bash scripts/ensure-engine.sh
npm run build --silent
export BOSUN_LOCAL_MODE="${BOSUN_LOCAL_MODE:-true}"
exec bin/bosun
