#!/usr/bin/env bash
# A second Docker engine of its own, for benchmarks and tests that must not share the machine's engine:
# its own socket, data root, exec root, pid file and default bridge (bosun-NAME, 10.231.N.0/24), no
# iptables rules, so it never touches the main engine's containers, its docker0, or the host's firewall.
# Never `--bridge none`: a dockerd started that way deletes the host's docker0 interface at start-up
# (it "removes the default bridge interface"), and the main engine's containers then fail to start.
# Idle measurements use it so that other work's engine events do not count; a test can give it a
# small data root (a tmpfs) to fill a disk.
#
#   scripts/private-engine.sh start NAME [DATA_ROOT]   start (idempotent); prints the socket path
#   scripts/private-engine.sh stop NAME                stop it and wait for it to exit
#
# NAME is a short word ([a-z0-9-]); everything lives under /run/bosun-engine-NAME and, unless DATA_ROOT
# is given, /var/lib/bosun-engine-NAME. The log goes to /var/log/bosun-engine-NAME.log.
#
# Networks: the engine's own address pool (BOSUN_ENGINE_ADDRESS_POOL, default base=10.232.0.0/16,size=24;
# a test may give it a pool of one network). Its network bridges live in the host's namespace, so with
# the Docker defaults every network of a private engine would take one of the 31 ranges the main engine
# draws from, and a bridge left behind would keep it. `stop` deletes the bridges of the networks the
# engine had (dockerd leaves them in place at exit; it makes them again when it starts on the same
# data root).
set -euo pipefail

say() { echo "private-engine: $*" >&2; }
usage() {
  say "usage: $0 start NAME [DATA_ROOT] | stop NAME"
  exit 2
}

[ $# -ge 2 ] || usage
cmd="$1"
name="$2"
[[ "$name" =~ ^[a-z0-9-]{1,20}$ ]] || { say "NAME must be 1-20 of [a-z0-9-], got '$name'"; exit 2; }
run="/run/bosun-engine-$name"
data="${3:-/var/lib/bosun-engine-$name}"
sock="$run/docker.sock"
pidfile="$run/dockerd.pid"
log="/var/log/bosun-engine-$name.log"
# Interface names are at most 15 characters; the subnet's third octet comes from the name's checksum.
bridge="bosun-$(printf '%s' "$name" | cksum | cut -c1-8)"
bridge="${bridge:0:15}"
subnet="10.231.$(($(printf '%s' "$name" | cksum | cut -d' ' -f1) % 250 + 1)).1/24"

answers() { DOCKER_HOST="unix://$sock" docker info >/dev/null 2>&1; }

running_pid() {
  [ -f "$pidfile" ] || return 1
  local pid
  pid="$(cat "$pidfile" 2>/dev/null || true)"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

case "$cmd" in
  start)
    bash "$(dirname "$0")/ensure-engine.sh" # installs docker.io when missing
    if answers; then
      echo "$sock"
      exit 0
    fi
    mkdir -p "$run" "$data"
    if ! ip link show "$bridge" >/dev/null 2>&1; then
      ip link add "$bridge" type bridge
      ip addr add "$subnet" dev "$bridge"
      ip link set "$bridge" up
    fi
    if ! running_pid >/dev/null; then
      say "starting dockerd '$name' (data root $data, log $log)"
      # setsid: outlives a test runner's process-group kill, like the main engine (ensure-engine.sh).
      setsid dockerd \
        --host "unix://$sock" \
        --data-root "$data" \
        --exec-root "$run/exec" \
        --pidfile "$pidfile" \
        --bridge "$bridge" \
        --iptables=false \
        --ip6tables=false \
        --ip-masq=false \
        --userland-proxy=false \
        --default-address-pool "${BOSUN_ENGINE_ADDRESS_POOL:-base=10.232.0.0/16,size=24}" \
        </dev/null >>"$log" 2>&1 &
    fi
    for _ in $(seq 1 300); do
      if answers; then
        echo "$sock"
        exit 0
      fi
      sleep 0.2
    done
    say "ERROR: dockerd '$name' did not answer on $sock within 60 s; last lines of $log:"
    tail -n 30 "$log" >&2 || true
    exit 1
    ;;
  stop)
    pid="$(running_pid)" || { say "dockerd '$name' is not running"; exit 0; }
    # The bridges of its user-defined networks (br-<first 12 of the id>), asked before it goes away.
    bridges="$(DOCKER_HOST="unix://$sock" docker network ls --quiet --filter driver=bridge 2>/dev/null |
      while read -r id; do echo "br-${id:0:12}"; done || true)"
    kill -TERM "$pid"
    for _ in $(seq 1 300); do
      if ! kill -0 "$pid" 2>/dev/null; then
        for bridge_name in $bridges; do ip link delete "$bridge_name" 2>/dev/null || true; done
        exit 0
      fi
      sleep 0.2
    done
    say "ERROR: dockerd '$name' (pid $pid) did not exit within 60 s of SIGTERM"
    exit 1
    ;;
  *) usage ;;
esac
