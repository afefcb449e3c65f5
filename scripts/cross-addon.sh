#!/usr/bin/env bash
# Compiles better-sqlite3's addon on this machine for one image architecture, for
# `scripts/build-image.sh --addon cross`:
#
#   scripts/cross-addon.sh amd64|aarch64|armv7hf OUT_FILE
#
# Why: compiling sqlite3.c under qemu-user-static inside the emulated build stage takes the better part
# of an hour on a shared 2-core machine; a cross compiler does it in a minute or two. The result is the
# same addon the build stage would make: the same better-sqlite3 version (the lock file's, fetched with
# `npm pack`), compiled against the headers of the very Node in the build base (copied out of
# bosun-base-build:<arch>, so the ABI matches by construction), with the same node-gyp configuration.
# The build stage then load-checks it on the target architecture (under emulation).
#
# Needs the cross compiler for a foreign target (g++-aarch64-linux-gnu, g++-arm-linux-gnueabihf:
# installed here when missing) and the base image (scripts/make-base-image.sh <arch>). Cached by
# architecture + Node version + better-sqlite3 version + compiler version, under
# ${XDG_CACHE_HOME:-~/.cache}/bosun-addons: a second run copies the cached file.
set -euo pipefail
cd "$(dirname "$0")/.."

arch="${1:-}"
out="${2:-}"
case "$arch" in
  amd64) gyp_arch=x64 triplet= apt_pkg= elf_machine=62 platform=linux/amd64 ;;
  aarch64) gyp_arch=arm64 triplet=aarch64-linux-gnu apt_pkg=g++-aarch64-linux-gnu elf_machine=183 platform=linux/arm64 ;;
  armv7hf) gyp_arch=arm triplet=arm-linux-gnueabihf apt_pkg=g++-arm-linux-gnueabihf elf_machine=40 platform=linux/arm/v7 ;;
  *) arch= ;;
esac
if [ -z "$arch" ] || [ -z "$out" ]; then
  echo "usage: $0 amd64|aarch64|armv7hf OUT_FILE" >&2
  exit 2
fi
say() { echo "cross-addon[$arch]: $*" >&2; }

if [ -n "$triplet" ]; then
  cc="$triplet-gcc" cxx="$triplet-g++" ar="$triplet-ar"
  if ! command -v "$cxx" >/dev/null; then
    say "installing $apt_pkg"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends "$apt_pkg" >/dev/null 2>&1 ||
      { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "$apt_pkg" >/dev/null; }
  fi
else
  cc=gcc cxx=g++ ar=ar
fi

# BOSUN_ADDON_NODEDIR (a directory holding include/node) with BOSUN_ADDON_NODE_VERSION compiles against
# another Node than the base's (bench/image-node.sh compares Node versions in the same image).
base="bosun-base-build:$arch"
if [ -n "${BOSUN_ADDON_NODEDIR:-}" ]; then
  node_version="${BOSUN_ADDON_NODE_VERSION:?BOSUN_ADDON_NODE_VERSION goes with BOSUN_ADDON_NODEDIR}"
else
  docker image inspect "$base" >/dev/null 2>&1 || bash scripts/make-base-image.sh "$arch"
  node_version="$(docker image inspect -f '{{index .Config.Labels "io.bosun.base.node"}}' "$base")"
  [ -n "$node_version" ] || { say "ERROR: $base has no io.bosun.base.node label"; exit 1; }
fi
bsq_version="$(node -p "require('./package-lock.json').packages['node_modules/better-sqlite3'].version")"
compiler="$("$cxx" -dumpfullversion)"

cache="${XDG_CACHE_HOME:-$HOME/.cache}/bosun-addons"
cached="$cache/better_sqlite3-$bsq_version-node$node_version-$arch-gcc$compiler.node"
if [ -s "$cached" ]; then
  cp "$cached" "$out"
  say "cached $(basename "$cached")"
  exit 0
fi

work="$(mktemp -d)"
container=
cleanup() {
  [ -z "$container" ] || docker rm -f "$container" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# The target Node's headers, exactly as the build stage sees them (nodedir /usr/local).
nodedir="$work/nodedir"
if [ -n "${BOSUN_ADDON_NODEDIR:-}" ]; then
  nodedir="$BOSUN_ADDON_NODEDIR"
else
  container="$(docker create --platform "$platform" "$base" true)"
  mkdir -p "$nodedir/include"
  docker cp -q "$container:/usr/local/include/node" "$nodedir/include/node"
fi

(cd "$work" && npm pack --silent "better-sqlite3@$bsq_version" >/dev/null)
mkdir -p "$work/src"
tar -xzf "$work/better-sqlite3-$bsq_version.tgz" -C "$work/src" --strip-components=1

gyp="$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js"
[ -f "$gyp" ] || { say "ERROR: node-gyp not found at $gyp (it ships with npm)"; exit 1; }
start=$SECONDS
say "compiling better-sqlite3 $bsq_version for Node $node_version ($gyp_arch, $cxx $compiler)"
(
  cd "$work/src"
  CC="$cc" CXX="$cxx" LINK="$cxx" AR="$ar" CC_host=gcc CXX_host=g++ LINK_host=g++ \
    node "$gyp" rebuild --release --arch="$gyp_arch" --nodedir="$nodedir" --jobs=2 >"$work/gyp.log" 2>&1
) || {
  tail -40 "$work/gyp.log" >&2
  exit 1
}
addon="$work/src/build/Release/better_sqlite3.node"
# A wrong-architecture file would only fail later, at load time in the image: check the ELF header's
# e_machine now (62 x86-64, 183 AArch64, 40 ARM; read with Node, `file` is not on every machine).
machine="$(node -e "const b = require('fs').readFileSync(process.argv[1]); console.log(b.toString('latin1', 0, 4) === '\x7fELF' ? b.readUInt16LE(18) : 'not ELF')" "$addon")"
[ "$machine" = "$elf_machine" ] || { say "ERROR: ELF machine $machine, expected $elf_machine ($arch)"; exit 1; }
mkdir -p "$cache"
cp "$addon" "$cached.tmp" && mv "$cached.tmp" "$cached"
cp "$addon" "$out"
say "built in $((SECONDS - start)) s (ELF machine $machine)"
