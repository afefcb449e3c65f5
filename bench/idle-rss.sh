#!/usr/bin/env bash
# One agent's idle memory, for A/B comparisons of two bundles (BENCHMARKS.md, issue 16's idle-memory
# subsections, "exp" method): the agent starts once on a new data dir until its whole API answers and
# stops (so the next start is a reopen: store migrated), then starts again on it with bin/bosun's Node
# flags and malloc settings, local mode, idles, and prints VmRSS, RssAnon, RssFile and V8's used and
# physical heap. The figure of record is bench/startup.ts (nine starts against bare Node); this one is
# quick enough to alternate two bundles a few times (run both in turn, compare medians). The agent
# watches the machine's Docker engine: run it with no other containers, or their logs count.
#
# Usage: bash bench/idle-rss.sh LABEL [BUNDLE (dist/bosun.mjs)] [IDLE_SECONDS (40)] [EXTRA_NODE_FLAGS...]
set -euo pipefail
label="${1:?label}"; bundle="$(readlink -f "${2:-dist/bosun.mjs}")"; idle="${3:-40}"; shift $(( $# < 3 ? $# : 3 ))
here="$(cd "$(dirname "$0")" && pwd)"
flags=$(sed -n 's/^exec node \(.*\) "\$here.*/\1/p' "$here/../bin/bosun")
eval "$(grep '^export MALLOC' "$here/../bin/bosun")"
dir="$(mktemp -d /tmp/bosun-idle-rss-XXXXXX)"; port=$((20000 + RANDOM % 10000))
trap 'kill "${pid:-0}" 2>/dev/null || true; rm -rf "$dir"' EXIT
run() {
  BOSUN_DATA_DIR="$dir/data" BOSUN_API_PORT=$port BOSUN_API_HOST=127.0.0.1 BOSUN_LOCAL_MODE=true \
    BOSUN_LOG_LEVEL=warn BOSUN_LOCK_ROOT="$dir/data/locks" BOSUN_HEAP_PROBE_FILE="$dir/heap.json" \
    node $flags "$@" --import "$here/support/heap-probe.mjs" "$bundle" >>"$dir/agent.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 400); do curl -sf "127.0.0.1:$port/v2/version" >/dev/null 2>&1 && return; sleep 0.05; done
  echo "idle-rss: the agent did not answer; its log:" >&2; cat "$dir/agent.log" >&2; exit 1
}
run "$@"; kill "$pid"; wait "$pid" 2>/dev/null || true
run "$@"; sleep "$idle"
kill -USR2 "$pid"; sleep 0.5
status=$(awk '/^(VmRSS|RssAnon|RssFile):/ {printf "%s %.1f  ", $1, $2/1024}' "/proc/$pid/status")
heap=$(node -e "const h=require('$dir/heap.json').heap; console.log('heapUsed', (h.used_heap_size/1048576).toFixed(2), 'phys', (h.total_physical_size/1048576).toFixed(2))")
echo "$label | $status| $heap"
[ -z "${IDLE_RSS_KEEP_LOG:-}" ] || cp "$dir/agent.log" "$IDLE_RSS_KEEP_LOG"
