#!/usr/bin/env bash
# bosun's image: size, start time and memory inside its container.
#
#   bash bench/image.sh [IMAGE] [RUNS]     (default bosun:amd64, 3 runs; build it first with
#                                           scripts/build-image.sh; an aarch64 image runs under qemu)
#
# Each run starts a fresh container as the e2e test does (host network, engine socket, fresh /data
# volume, local mode, scoped to a label nothing carries so it manages nothing) and polls /ping every
# 20 ms: start = `docker start` → first 200. RSS = VmRSS of PID 1 (the agent) 20 s later, peak VmHWM.
# The floor, in the same run: the runtime base image starting a bare Node HTTP server the same way.
set -euo pipefail
cd "$(dirname "$0")/.."
image="${1:-bosun:amd64}"
runs="${2:-3}"
arch="$(docker image inspect -f '{{ index .Config.Labels "io.bosun.image.arch" }}' "$image")"
# BOSUN_BENCH_FLOOR_IMAGE: another floor image (bench/image-node.sh: the base with the Node under test).
base="${BOSUN_BENCH_FLOOR_IMAGE:-bosun-base-runtime:$arch}"
docker image inspect "$base" >/dev/null 2>&1 || base="bosun-base-runtime:$arch-host"
port=$((49000 + RANDOM % 1000))

now_ms() { date +%s%3N; }
wait_ping() {
  local start="$1"
  until curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/ping"; do sleep 0.02; done
  echo $(($(now_ms) - start))
}

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

bosun_ms=() floor_ms=() rss=() hwm=()
for i in $(seq "$runs"); do
  vol="bosun-bench-image-$$-$i"
  docker volume create "$vol" >/dev/null
  cid="$(docker create --network host -v /var/run/docker.sock:/var/run/docker.sock -v "$vol:/data" \
    -e BOSUN_LOCAL_MODE=true -e BOSUN_API_HOST=127.0.0.1 -e "BOSUN_API_PORT=$port" \
    -e BOSUN_SCOPE_LABELS=io.bosun.bench.none=1 -e BOSUN_LOG_LEVEL=warn "$image")"
  t0=$(now_ms)
  docker start "$cid" >/dev/null
  bosun_ms+=("$(wait_ping "$t0")")
  sleep 20
  status="$(docker exec "$cid" cat /proc/1/status)"
  rss+=("$(awk '/^VmRSS/ { print int($2 / 1024) }' <<<"$status")")
  hwm+=("$(awk '/^VmHWM/ { print int($2 / 1024) }' <<<"$status")")
  docker rm -f "$cid" >/dev/null
  docker volume rm "$vol" >/dev/null

  cid="$(docker create --network host "$base" node -e \
    "require('http').createServer((q, s) => s.end('OK')).listen($port, '127.0.0.1')")"
  t0=$(now_ms)
  docker start "$cid" >/dev/null
  floor_ms+=("$(wait_ping "$t0")")
  docker rm -f "$cid" >/dev/null
done

size="$(docker image inspect -f '{{.Size}}' "$image")"
base_size="$(docker image inspect -f '{{.Size}}' "$base")"
b="$(printf '%s\n' "${bosun_ms[@]}" | median)"
f="$(printf '%s\n' "${floor_ms[@]}" | median)"
echo "image $image ($arch): $((size / 1000000)) MB; runtime base (Debian + Node, the floor) $((base_size / 1000000)) MB"
echo "docker start -> /ping: bosun ${b} ms (runs: ${bosun_ms[*]}), bare Node server ${f} ms (${floor_ms[*]}), ratio $(awk -v a="$b" -v c="$f" 'BEGIN { printf "%.1f", a / c }')x"
echo "agent RSS 20 s after start: $(printf '%s\n' "${rss[@]}" | median) MiB (runs: ${rss[*]}); peak $(printf '%s\n' "${hwm[@]}" | median) MiB"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
