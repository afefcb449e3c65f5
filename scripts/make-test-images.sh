#!/usr/bin/env bash
# Builds the small test images without the internet and pushes them to the local registries
# (scripts/ensure-registry.sh). Idempotent: does nothing but a few HTTP HEADs when they are there.
# Names are mirrored in test/support/images.ts: change both together.
#
#   OPEN/bosun-test/busybox:1   busybox-static rootfs, CMD ["sh"], label io.bosun.test.variant=1
#   OPEN/bosun-test/busybox:2   same plus a different /etc/bosun-test-image: a distinct layer
#   OPEN/bosun-test/large:1     busybox:1 plus 3 layers of 12 MiB random data (pull progress, cancel);
#                               not kept in the local engine, so the first pull really downloads
#   OPEN/bosun-test/large:2     the same with other random data (the disk preflight's second release)
#   AUTH/bosun-test/busybox:1   busybox:1 in the registry that needs basic auth
# where OPEN=127.0.0.1:5050 and AUTH=127.0.0.1:5051 by default.
set -euo pipefail
cd "$(dirname "$0")/.."

OPEN="127.0.0.1:${BOSUN_TEST_REGISTRY_PORT:-5050}"
AUTH="127.0.0.1:${BOSUN_TEST_AUTH_REGISTRY_PORT:-5051}"
AUTH_USER="${BOSUN_TEST_REGISTRY_USER:-bosun}"
AUTH_PASSWORD="${BOSUN_TEST_REGISTRY_PASSWORD:-bosun-test-password}"
CACHE=/var/lib/bosun-test/images
LARGE_LAYER_BYTES=$((12 * 1024 * 1024))
ACCEPT='application/vnd.docker.distribution.manifest.v2+json'

say() { echo "make-test-images: $*" >&2; }

# 0 when the registry has the manifest (user:password for the auth registry).
in_registry() {
  local registry="$1" repo="$2" tag="$3" creds="${4:-}"
  local args=(-s -o /dev/null -w '%{http_code}' --max-time 5 -I -H "Accept: $ACCEPT")
  [ -n "$creds" ] && args+=(-u "$creds")
  [ "$(curl "${args[@]}" "http://$registry/v2/$repo/manifests/$tag" || true)" = 200 ]
}

local_image() { docker image inspect "$1" >/dev/null 2>&1; }

all_done() {
  in_registry "$OPEN" bosun-test/busybox 1 &&
    in_registry "$OPEN" bosun-test/busybox 2 &&
    in_registry "$OPEN" bosun-test/large 1 &&
    in_registry "$OPEN" bosun-test/large 2 &&
    in_registry "$AUTH" bosun-test/busybox 1 "$AUTH_USER:$AUTH_PASSWORD" &&
    local_image "$OPEN/bosun-test/busybox:1"
}

# A statically linked busybox: the installed busybox-static package, else its .deb unpacked (not
# installed: it conflicts with the `busybox` package that other software may rely on).
static_busybox() {
  if dpkg -s busybox-static >/dev/null 2>&1 && [ -x /bin/busybox ]; then
    echo /bin/busybox
    return
  fi
  if [ ! -x "$CACHE/busybox-static/bin/busybox" ]; then
    say "fetching busybox-static from Debian"
    rm -rf "$CACHE/deb" && mkdir -p "$CACHE/deb"
    (cd "$CACHE/deb" && apt-get download busybox-static >/dev/null 2>&1) ||
      { apt-get update -q && (cd "$CACHE/deb" && apt-get download busybox-static); }
    dpkg-deb -x "$CACHE"/deb/busybox-static_*.deb "$CACHE/busybox-static"
  fi
  echo "$CACHE/busybox-static/bin/busybox"
}

# Deterministic rootfs tarball (sorted names, fixed times and owners): the same content gives the same
# layer digest on every machine, so re-running does not grow the registry.
busybox_tar() {
  local variant="$1" out="$2" root busybox
  busybox="$(static_busybox)"
  root="$(mktemp -d)"
  mkdir -p "$root"/{bin,etc,tmp,proc,sys,dev,root,var/run,run}
  chmod 1777 "$root/tmp"
  cp "$busybox" "$root/bin/busybox"
  for applet in $("$busybox" --list); do
    [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  echo "bosun-test/busybox:$variant" >"$root/etc/bosun-test-image"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$root" -cf "$out" .
  rm -rf "$root"
}

import_busybox() {
  local variant="$1" tarball
  tarball="$(mktemp)"
  busybox_tar "$variant" "$tarball"
  docker import \
    --change 'CMD ["sh"]' \
    --change 'ENV PATH=/bin' \
    --change "LABEL io.bosun.test.variant=$variant" \
    "$tarball" "$OPEN/bosun-test/busybox:$variant" >/dev/null
  rm -f "$tarball"
}

build_large() {
  local tag="$1" image="$OPEN/bosun-test/busybox:1" name i
  for i in 1 2 3; do
    name="bosun-test-mkimg-$$-$i"
    docker run --name "$name" --network none "$image" \
      sh -c "head -c $LARGE_LAYER_BYTES /dev/urandom > /data-$i" >/dev/null
    image="$(docker commit --change 'CMD ["sh"]' "$name")"
    docker rm "$name" >/dev/null
  done
  docker tag "$image" "$OPEN/bosun-test/large:$tag"
}

push_auth() {
  local config
  config="$(mktemp -d)" # a private client config: never touch root's ~/.docker credentials
  local out
  # The client warns that the (throw-away) config stores the password: print its output only on failure.
  out="$(echo "$AUTH_PASSWORD" | DOCKER_CONFIG="$config" docker login "$AUTH" -u "$AUTH_USER" --password-stdin 2>&1)" ||
    { echo "$out" >&2; exit 1; }
  docker tag "$OPEN/bosun-test/busybox:1" "$AUTH/bosun-test/busybox:1"
  DOCKER_CONFIG="$config" docker push -q "$AUTH/bosun-test/busybox:1" >/dev/null
  docker rmi "$AUTH/bosun-test/busybox:1" >/dev/null
  rm -rf "$config"
}

bash scripts/ensure-registry.sh >/dev/null
if ! command -v curl >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q && apt-get install -y -q curl
fi
all_done && exit 0

# One builder at a time: parallel test runs share the registries.
mkdir -p "$CACHE"
exec 9>/tmp/bosun-make-test-images.lock
flock 9
all_done && exit 0

for variant in 1 2; do
  if ! in_registry "$OPEN" bosun-test/busybox "$variant"; then
    say "building bosun-test/busybox:$variant"
    import_busybox "$variant"
    docker push -q "$OPEN/bosun-test/busybox:$variant" >/dev/null
  fi
done
local_image "$OPEN/bosun-test/busybox:1" || docker pull -q "$OPEN/bosun-test/busybox:1" >/dev/null

for tag in 1 2; do
  if ! in_registry "$OPEN" bosun-test/large "$tag"; then
    say "building bosun-test/large:$tag (3 x 12 MiB random layers)"
    build_large "$tag"
    docker push -q "$OPEN/bosun-test/large:$tag" >/dev/null
    docker rmi "$OPEN/bosun-test/large:$tag" >/dev/null # so a pull downloads for real
  fi
done

if ! in_registry "$AUTH" bosun-test/busybox 1 "$AUTH_USER:$AUTH_PASSWORD"; then
  say "pushing bosun-test/busybox:1 to the auth registry"
  push_auth
fi

all_done || { say "ERROR: images still missing after the build"; exit 1; }
say "test images ready in $OPEN and $AUTH"
