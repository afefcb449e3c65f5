#!/usr/bin/env bash
# Runs two local image registries for the tests, bound to 127.0.0.1 only (never the package's default
# :5000 on every interface), with our own config and storage under /var/lib/bosun-test/registry:
#   open: 127.0.0.1:${BOSUN_TEST_REGISTRY_PORT:-5050}       no auth
#   auth: 127.0.0.1:${BOSUN_TEST_AUTH_REGISTRY_PORT:-5051}  htpasswd basic auth (user/password below)
# Docker treats 127.0.0.0/8 registries as insecure (plain HTTP) by default and does send basic-auth
# credentials to them, so no daemon.json change is needed. Idempotent; waits until /v2/ answers.
# The ports and credentials are mirrored in test/support/registry.ts: change both together.
set -euo pipefail

OPEN_PORT="${BOSUN_TEST_REGISTRY_PORT:-5050}"
AUTH_PORT="${BOSUN_TEST_AUTH_REGISTRY_PORT:-5051}"
AUTH_USER="${BOSUN_TEST_REGISTRY_USER:-bosun}"
AUTH_PASSWORD="${BOSUN_TEST_REGISTRY_PASSWORD:-bosun-test-password}"
BASE=/var/lib/bosun-test/registry
WAIT_SEC="${BOSUN_REGISTRY_WAIT_SEC:-30}"

say() { echo "ensure-registry: $*" >&2; }

apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  if [ ! -f /var/lib/bosun-test/.apt-updated ]; then
    apt-get update -q
    mkdir -p /var/lib/bosun-test && touch /var/lib/bosun-test/.apt-updated
  fi
  apt-get install -y -q "$@"
}

# HTTP status of a GET, or 000 when nothing answers (curl when present, node otherwise: node is always here).
http_status() {
  if command -v curl >/dev/null 2>&1; then
    curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$1" || true
  else
    node -e 'fetch(process.argv[1]).then((r) => console.log(r.status), () => console.log("000"))' "$1"
  fi
}

# The package's bcrypt-only htpasswd format: apache2-utils' htpasswd -B writes it offline.
write_htpasswd() {
  local file="$1"
  command -v htpasswd >/dev/null 2>&1 || apt_install apache2-utils
  if [ -f "$file" ] && htpasswd -vb "$file" "$AUTH_USER" "$AUTH_PASSWORD" >/dev/null 2>&1; then
    return 0
  fi
  htpasswd -Bbc "$file" "$AUTH_USER" "$AUTH_PASSWORD" >/dev/null 2>&1
}

write_config() {
  local name="$1" port="$2" auth="$3" dir="$BASE/$1"
  mkdir -p "$dir/data"
  {
    echo "version: 0.1"
    echo "log:"
    echo "  level: warn"
    echo "  accesslog:"
    echo "    disabled: true"
    echo "storage:"
    echo "  filesystem:"
    echo "    rootdirectory: $dir/data"
    echo "  delete:"
    echo "    enabled: true"
    echo "http:"
    echo "  addr: 127.0.0.1:$port"
    echo "  secret: bosun-test-$name"
    if [ "$auth" = yes ]; then
      echo "auth:"
      echo "  htpasswd:"
      echo "    realm: bosun-test"
      echo "    path: $dir/htpasswd"
    fi
  } >"$dir/config.yml.new"
  if cmp -s "$dir/config.yml.new" "$dir/config.yml"; then
    rm "$dir/config.yml.new"
    return 1 # unchanged
  fi
  mv "$dir/config.yml.new" "$dir/config.yml"
  return 0
}

ensure_instance() {
  local name="$1" port="$2" auth="$3" dir="$BASE/$1" changed=no pid status
  [ "$auth" = yes ] && { mkdir -p "$dir"; write_htpasswd "$dir/htpasswd"; }
  write_config "$name" "$port" "$auth" && changed=yes
  pid="$(cat "$dir/pid" 2>/dev/null || true)"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    if [ "$changed" = no ]; then
      status="$(http_status "http://127.0.0.1:$port/v2/")"
      [ "$status" != 000 ] && return 0
    fi
    say "restarting the $name registry (pid $pid)"
    kill "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  status="$(http_status "http://127.0.0.1:$port/v2/")"
  if [ "$status" != 000 ]; then
    say "ERROR: something else answers on 127.0.0.1:$port (HTTP $status); set BOSUN_TEST_${name^^}_REGISTRY_PORT"
    exit 1
  fi
  say "starting the $name registry on 127.0.0.1:$port"
  setsid docker-registry serve "$dir/config.yml" </dev/null >>"$dir/registry.log" 2>&1 &
  echo $! >"$dir/pid"
}

wait_for() {
  local name="$1" port="$2" want="$3" deadline=$((SECONDS + WAIT_SEC)) status
  while :; do
    status="$(http_status "http://127.0.0.1:$port/v2/")"
    [ "$status" = "$want" ] && return 0
    if [ "$SECONDS" -ge "$deadline" ]; then
      say "ERROR: the $name registry on 127.0.0.1:$port answered $status, not $want, within ${WAIT_SEC}s"
      tail -n 20 "$BASE/$name/registry.log" >&2 2>/dev/null || true
      exit 1
    fi
    sleep 0.2
  done
}

if ! command -v docker-registry >/dev/null 2>&1; then
  # The package would start its own registry on :5000, every interface; policy-rc.d tells its
  # postinst not to start services (only when no policy is in place already, and only for this install).
  own_policy=no
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && own_policy=yes
  fi
  apt_install docker-registry
  if [ "$own_policy" = yes ]; then rm -f /usr/sbin/policy-rc.d; fi
fi
ensure_instance open "$OPEN_PORT" no
ensure_instance auth "$AUTH_PORT" yes
wait_for open "$OPEN_PORT" 200
wait_for auth "$AUTH_PORT" 401
echo "registry open: 127.0.0.1:$OPEN_PORT"
echo "registry auth: 127.0.0.1:$AUTH_PORT (user $AUTH_USER)"
