#!/usr/bin/env bash
# Everything the test suite needs on a fresh machine, idempotent and quick when already done:
# node modules, a running Docker engine, the local registries on 127.0.0.1, and the test images.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
bash scripts/ensure-engine.sh
bash scripts/ensure-registry.sh
bash scripts/make-test-images.sh
# A real Prometheus (metrics e2e) and a real Chromium (dashboard browser test), from Debian's archive.
# (On a machine with systemd, Debian starts a prometheus service on :9090; the tests use their own.)
missing=()
command -v prometheus >/dev/null || missing+=(prometheus)
command -v chromium >/dev/null || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
