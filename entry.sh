#!/bin/sh
# Container entry point: lays out what the agent expects inside its container, then execs it (PID 1
# stays node, so SIGTERM from the engine reaches bosun, which closes API, engine streams and store in
# under 2 s and exits 0 without touching the apps).
#
# Every path can be moved by an environment variable (defaults match balena-supervisor's container
# layout, reference §1.1/§1.2, so bosun can take over a balena-supervisor container's mounts as they are):
#   ROOT_MOUNTPOINT     /mnt/root    the host's root filesystem, when mounted
#   BOOT_MOUNTPOINT     /mnt/boot    boot partition: config.json, device-type.json
#   STATE_MOUNTPOINT    /mnt/state   state partition
#   DATA_MOUNTPOINT     /mnt/data    data partition
#   BOSUN_CONFIG_PATH   $BOOT_MOUNTPOINT/config.json   (CONFIG_MOUNT_POINT is accepted too)
#   BOSUN_DATA_DIR      /data        the agent's own volume (database, log cursors)
#   BOSUN_LOCK_ROOT     /tmp/balena-supervisor   update-lock directories shared with the apps; must be
#                       the same path on the host, since app containers bind-mount from it
#   BOSUN_ENGINE_SOCKET the engine's socket: DOCKER_HOST=unix://…, else balena-engine's, else docker's
#   BOSUN_DEVICE_TYPE_PATH $BOOT_MOUNTPOINT/device-type.json
#   BOSUN_OS_RELEASE_PATH  $ROOT_MOUNTPOINT/etc/os-release
#   BOSUN_ENGINE_DATA_ROOT $DATA_MOUNTPOINT/docker when it exists (balenaOS keeps the engine's data there)
set -eu

say() { echo "entry.sh: $*" >&2; }

ROOT_MOUNTPOINT="${ROOT_MOUNTPOINT:-/mnt/root}"
BOOT_MOUNTPOINT="${BOOT_MOUNTPOINT:-/mnt/boot}"
STATE_MOUNTPOINT="${STATE_MOUNTPOINT:-/mnt/state}"
DATA_MOUNTPOINT="${DATA_MOUNTPOINT:-/mnt/data}"
export ROOT_MOUNTPOINT BOOT_MOUNTPOINT STATE_MOUNTPOINT DATA_MOUNTPOINT

# Boot partition and config.json. Without a mounted boot partition (a development run) the directory
# is made here; bosun then creates config.json with a fresh identity on first start.
: "${BOSUN_CONFIG_PATH:=${CONFIG_MOUNT_POINT:-$BOOT_MOUNTPOINT/config.json}}"
export BOSUN_CONFIG_PATH
mkdir -p "$BOOT_MOUNTPOINT" "$(dirname "$BOSUN_CONFIG_PATH")" "$STATE_MOUNTPOINT" "$DATA_MOUNTPOINT"
[ -f "$BOSUN_CONFIG_PATH" ] || say "no $BOSUN_CONFIG_PATH: bosun will create one (unmanaged)"
: "${BOSUN_DEVICE_TYPE_PATH:=$BOOT_MOUNTPOINT/device-type.json}"
export BOSUN_DEVICE_TYPE_PATH

# The agent's own data (SQLite database and log cursors): a volume that outlives image updates.
: "${BOSUN_DATA_DIR:=/data}"
export BOSUN_DATA_DIR
mkdir -p "$BOSUN_DATA_DIR"

# Update locks: apps see <lock root>/services/<appId>/<service> as /tmp/balena. The engine resolves
# that bind source on the host, so the agent must see the same directory under the same path. With the
# host root mounted (balena-supervisor's layout) the host's directory is reached through it.
: "${BOSUN_LOCK_ROOT:=/tmp/balena-supervisor}"
export BOSUN_LOCK_ROOT
if [ -d "$ROOT_MOUNTPOINT/tmp" ] && [ ! -e "$BOSUN_LOCK_ROOT" ]; then
  mkdir -p "$ROOT_MOUNTPOINT$BOSUN_LOCK_ROOT" "$(dirname "$BOSUN_LOCK_ROOT")"
  ln -s "$ROOT_MOUNTPOINT$BOSUN_LOCK_ROOT" "$BOSUN_LOCK_ROOT"
fi
mkdir -p "$BOSUN_LOCK_ROOT"

# The disk preflight reads the free space of the engine's data root; the engine names it as the host sees
# it (/var/lib/docker), which on balenaOS is the data partition's docker directory, mounted here.
if [ -z "${BOSUN_ENGINE_DATA_ROOT:-}" ] && [ -d "$DATA_MOUNTPOINT/docker" ]; then
  export BOSUN_ENGINE_DATA_ROOT="$DATA_MOUNTPOINT/docker"
fi

# Host OS facts come from the host's os-release, never the image's own (that is Debian's): without the
# host root mounted the OS version is simply unknown.
: "${BOSUN_OS_RELEASE_PATH:=$ROOT_MOUNTPOINT/etc/os-release}"
export BOSUN_OS_RELEASE_PATH

# The engine socket: explicit, else DOCKER_HOST (bosun reads it), else balenaEngine's, else Docker's.
if [ -z "${BOSUN_ENGINE_SOCKET:-}" ] && [ -z "${DOCKER_HOST:-}" ]; then
  for socket in /var/run/balena-engine.sock /var/run/docker.sock; do
    if [ -S "$socket" ]; then
      BOSUN_ENGINE_SOCKET="$socket"
      break
    fi
  done
  : "${BOSUN_ENGINE_SOCKET:=/var/run/docker.sock}"
  export BOSUN_ENGINE_SOCKET
fi
if [ -n "${BOSUN_ENGINE_SOCKET:-}" ] && [ ! -S "$BOSUN_ENGINE_SOCKET" ]; then
  say "engine socket $BOSUN_ENGINE_SOCKET is not there yet: bosun retries until the engine answers"
fi

exec /usr/src/bosun/bin/bosun "$@"
