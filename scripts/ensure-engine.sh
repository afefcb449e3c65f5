#!/usr/bin/env bash
# Makes sure a Docker engine answers on /var/run/docker.sock. Idempotent and quick when it already does.
# Works on a fresh Debian bookworm machine as root without systemd: installs docker.io when dockerd is
# missing, starts dockerd detached in its own session (so it outlives whoever called us), and waits for it.
#
#   scripts/ensure-engine.sh            ensure it runs
#   scripts/ensure-engine.sh --restart  stop the running dockerd, then start it again (used by the
#                                       engine adapter's reconnect test; holds the restart lock)
#
# Env: BOSUN_ENGINE_WAIT_SEC (default 90), BOSUN_DOCKERD_LOG (default /var/log/bosun-dockerd.log).
set -euo pipefail

WAIT_SEC="${BOSUN_ENGINE_WAIT_SEC:-90}"
LOG="${BOSUN_DOCKERD_LOG:-/var/log/bosun-dockerd.log}"
PIDFILE=/var/run/docker.pid
LOCK=/tmp/bosun-dockerd-restart.lock

say() { echo "ensure-engine: $*" >&2; }

# The machine's engine, whatever DOCKER_HOST a caller has set (a private engine's, say).
engine_answers() { DOCKER_HOST=unix:///var/run/docker.sock docker info >/dev/null 2>&1; }

dockerd_pid() {
  local pid
  [ -f "$PIDFILE" ] || return 1
  pid="$(cat "$PIDFILE" 2>/dev/null || true)"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

install_engine() {
  command -v dockerd >/dev/null 2>&1 && command -v docker >/dev/null 2>&1 && return 0
  say "dockerd not found: installing Debian docker.io"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  # Without systemd the package's postinst cannot start the service; that is fine, we start it below.
  apt-get install -y -q docker.io
}

start_engine() {
  if dockerd_pid >/dev/null; then
    say "dockerd (pid $(dockerd_pid)) is running but not answering yet; waiting"
    return 0
  fi
  say "starting dockerd (log: $LOG)"
  # Networks get /24s from a 10.240.0.0/16 pool (256 of them) instead of Docker's default 31 ranges in
  # 172.17.0.0/12 and 192.168.0.0/16, which a machine's own routes, VPNs or bridges another engine left
  # behind can use up: the scale test alone needs seven networks at once. Not when daemon.json already
  # sets pools: dockerd refuses to start with the same option given twice.
  local pools=(--default-address-pool base=10.240.0.0/16,size=24)
  if grep -qs '"default-address-pools"' /etc/docker/daemon.json; then pools=(); fi
  # setsid: a new session, so a test runner's process-group kill does not take the engine with it.
  # 9>&-: the engine must not inherit (and so hold forever) the restart lock.
  setsid dockerd "${pools[@]}" </dev/null >>"$LOG" 2>&1 9>&- &
}

wait_for_engine() {
  local deadline=$((SECONDS + WAIT_SEC))
  until engine_answers; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      say "ERROR: the Docker engine did not answer on /var/run/docker.sock within ${WAIT_SEC}s"
      say "last lines of $LOG:"
      tail -n 30 "$LOG" >&2 2>/dev/null || true
      exit 1
    fi
    sleep 0.3
  done
}

stop_engine() {
  local pid deadline
  pid="$(dockerd_pid)" || { say "no dockerd running"; return 0; }
  say "stopping dockerd (pid $pid)"
  kill -TERM "$pid"
  deadline=$((SECONDS + WAIT_SEC))
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      say "ERROR: dockerd (pid $pid) did not exit within ${WAIT_SEC}s of SIGTERM"
      exit 1
    fi
    sleep 0.1
  done
}

LOCKED=no
# One starter or restarter at a time across every test run on this machine: whoever finds the engine
# down while a restart is in progress waits for it instead of starting a second dockerd.
take_lock() {
  [ "$LOCKED" = yes ] && return 0
  exec 9>"$LOCK"
  flock 9
  LOCKED=yes
}

ensure() {
  install_engine
  engine_answers && return 0
  take_lock
  engine_answers && return 0
  start_engine
  wait_for_engine
  say "engine ready"
}

case "${1:-}" in
  --restart)
    take_lock
    stop_engine
    ensure
    ;;
  "") ensure ;;
  *)
    say "usage: $0 [--restart]"
    exit 2
    ;;
esac
