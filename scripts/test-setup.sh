#!/usr/bin/env bash
# Everything the test suite needs on a fresh machine, idempotent and quick when already done:
# node modules, a running Docker engine, the local registries on 127.0.0.1, the test images and the
# base images bosun's own image builds on.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
bash scripts/ensure-engine.sh
bash scripts/ensure-registry.sh
bash scripts/make-test-images.sh
# dbus-daemon for the host-action tests (test/integration/host-actions-dbus.spec.ts start their own bus).
if ! command -v dbus-daemon >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q dbus-daemon >/dev/null 2>&1 || { apt-get update -q && apt-get install -y -q dbus-daemon; }
fi
# The amd64 bases for bosun's own image (test/e2e/container-image.spec.ts), made from this machine's
# installed Debian packages in under a minute; a no-op when they are up to date.
bash scripts/make-base-image.sh --from-host amd64
