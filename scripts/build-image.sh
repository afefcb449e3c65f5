#!/usr/bin/env bash
# Builds bosun's container image for one balena architecture from the locally made bases:
#
#   scripts/build-image.sh [--from-host] [--addon native|cross] [--no-cache] [--tag NAME] amd64|aarch64|armv7hf
#
# Renders Dockerfile.template (%%BALENA_ARCH%%, as balena's builder does), makes the base images when
# they are missing (scripts/make-base-image.sh; --from-host uses the fast host-package bases, amd64 on
# this machine only), builds with the engine's builder and prints the image size. Default tag:
# bosun:<arch>. A foreign architecture builds under qemu-user-static (binfmt_misc). Each build gets its
# own io.bosun.build-id label (BOSUN_BUILD_ID), so a rebuild is a new image even when every layer
# comes from the engine's build cache.
#
# --addon native (default): better-sqlite3 is compiled inside the build stage, on the target
# architecture (for a foreign one under emulation: the better part of an hour on a 2-core machine).
# --addon cross: scripts/cross-addon.sh compiles it on this machine for the target (a cross compiler,
# the target Node's headers) and the build stage only copies it in and load-checks it under emulation.
#
# The build stage runs `npm ci` against the registry npm is configured with here. When npm trusts an
# extra CA on this machine (a TLS-inspecting proxy), that bundle goes into the build stage only, as
# .build-ca.pem, and never into the runtime image.
set -euo pipefail
cd "$(dirname "$0")/.."

from_host=()
tag=
addon=native
no_cache=()
while [ $# -gt 0 ]; do
  case "$1" in
    --from-host) from_host=(--from-host); shift ;;
    --tag) tag="$2"; shift 2 ;;
    --addon) addon="$2"; shift 2 ;;
    --no-cache) no_cache=(--no-cache); shift ;; # a cold build (for measuring it)
    *) break ;;
  esac
done
arch="${1:-}"
case "$arch" in
  amd64 | aarch64 | armv7hf) ;;
  *) echo "usage: $0 [--from-host] [--addon native|cross] [--no-cache] [--tag NAME] amd64|aarch64|armv7hf" >&2; exit 2 ;;
esac
case "$addon" in
  native | cross) ;;
  *) echo "$0: --addon is native or cross, not '$addon'" >&2; exit 2 ;;
esac
tag="${tag:-bosun:$arch}"
suffix=
[ "${#from_host[@]}" -gt 0 ] && suffix=-host

bash scripts/make-base-image.sh "${from_host[@]}" "$arch"

rendered="$(mktemp)"
ca=.build-ca.pem
prebuilt=.prebuilt-addon.node
trap 'rm -f "$rendered" "$ca" "$prebuilt"' EXIT
if [ "$addon" = cross ]; then
  bash scripts/cross-addon.sh "$arch" "$prebuilt"
else
  : >"$prebuilt" # empty: compile in the build stage
fi
sed "s/%%BALENA_ARCH%%/$arch/g" Dockerfile.template >"$rendered"
cafile="$(npm config get cafile 2>/dev/null || true)"
[ -n "$cafile" ] && [ "$cafile" != null ] && [ "$cafile" != undefined ] || cafile="${NODE_EXTRA_CA_CERTS:-}"
if [ -n "$cafile" ] && [ -s "$cafile" ]; then cp "$cafile" "$ca"; else : >"$ca"; fi

start=$SECONDS
# Host networking for the build's RUN steps: they reach the npm registry as this machine does.
DOCKER_BUILDKIT=0 docker build --network host -q "${no_cache[@]}" -f "$rendered" \
  --build-arg "BUILD_BASE=bosun-base-build:$arch$suffix" \
  --build-arg "RUNTIME_BASE=bosun-base-runtime:$arch$suffix" \
  --label "io.bosun.image.arch=$arch" \
  --build-arg "BOSUN_BUILD_ID=${BOSUN_BUILD_ID:-$(date -u +%Y%m%dT%H%M%SZ)-$$}" \
  -t "$tag" . >/dev/null
size="$(docker image inspect -f '{{.Size}}' "$tag")"
echo "build-image[$arch, addon $addon]: $tag built in $((SECONDS - start)) s, $((size / 1000000)) MB ($(numfmt --to=iec "$size"))" >&2
