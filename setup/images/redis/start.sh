#!/bin/bash
# Hearth Redis: writes its configuration to /run/redis (tmpfs), then runs redis-server as
# user redis with data (RDB snapshots) in /var/lib/redis (a volume).
#
# Persistence: an append-only file (fsync every second) plus RDB snapshots (dump.rdb, what
# a backup copies). A data folder with a dump.rdb but no append-only file yet (a restored
# backup) is converted first: Redis 7.0 would otherwise start empty with AOF on.
#
# The password (requirepass, i.e. the default user's) is read from the file
# $HEARTH_PASSWORD_FILE (default /etc/hearth/password, mounted in) or, without that file,
# from $HEARTH_PASSWORD; it ends up only in the 0600 config in /run. A health check in the
# container can use it without putting it in a process's arguments:
#   sh -c 'REDISCLI_AUTH="$(cat /etc/hearth/password)" redis-cli ping'
# HEARTH_REDIS_MAXMEMORY (bytes, optional) caps the dataset below the container's limit.
set -euo pipefail
DATA=/var/lib/redis
say() { printf '%s\n' "hearth-redis: $*"; }
die() { printf '%s\n' "hearth-redis: error: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "start as root: this script prepares $DATA, then redis-server runs as redis"

file="${HEARTH_PASSWORD_FILE:-/etc/hearth/password}"
if [ -f "$file" ]; then
  password="$(cat "$file")"
else
  password="${HEARTH_PASSWORD:-}"
fi
unset HEARTH_PASSWORD
[ -n "$password" ] || die "no password: mount it as $file (or set HEARTH_PASSWORD_FILE / HEARTH_PASSWORD)"
case "$password" in *[[:cntrl:]]*) die "the password must not contain control characters" ;; esac
maxmemory="${HEARTH_REDIS_MAXMEMORY:-0}"
[[ "$maxmemory" =~ ^[0-9]+$ ]] || die "HEARTH_REDIS_MAXMEMORY must be a number of bytes"

install -d -o redis -g redis -m 0750 /run/redis
[ "$(stat -c %u "$DATA")" = "$(id -u redis)" ] || chown -R redis:redis "$DATA"
chmod 0700 "$DATA"

# a double-quoted config string: backslash and quote escaped
esc="${password//\\/\\\\}"
esc="${esc//\"/\\\"}"
conf=/run/redis/redis.conf
install -o redis -g redis -m 0600 /dev/null "$conf"
cat >"$conf" <<CONF
bind * -::*
port 6379
protected-mode yes
requirepass "$esc"
dir $DATA
dbfilename dump.rdb
save 3600 1 300 100 60 10000
appendonly yes
appendfsync everysec
daemonize no
supervised no
logfile ""
maxmemory $maxmemory
CONF

if [ -f "$DATA/dump.rdb" ] && [ ! -d "$DATA/appendonlydir" ]; then
  say "converting the RDB snapshot to an append-only file"
  # a temporary server on a private socket only (the readiness check uses port 6379): it
  # loads dump.rdb, writes the append-only file from memory, and saves on shutdown
  init=/run/redis-init
  install -d -o redis -g redis -m 0700 "$init"
  sed -e 's/^appendonly yes$/appendonly no/' -e 's/^port 6379$/port 0/' -e 's/^bind .*$//' "$conf" >"$init/redis.conf"
  printf 'unixsocket %s/redis.sock\nunixsocketperm 700\n' "$init" >>"$init/redis.conf"
  chown redis:redis "$init/redis.conf"
  chmod 0600 "$init/redis.conf"
  setpriv --reuid=redis --regid=redis --init-groups redis-server "$init/redis.conf" >"$init/log" 2>&1 &
  pid=$!
  # the password reaches redis-cli through its environment, never its arguments
  cli() { REDISCLI_AUTH="$password" setpriv --reuid=redis --regid=redis --init-groups redis-cli --no-auth-warning -s "$init/redis.sock" "$@"; }
  ok=0
  for _ in $(seq 1 600); do
    if [ "$(cli ping 2>/dev/null)" = PONG ]; then ok=1; break; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  [ "$ok" = 1 ] || { cat "$init/log" >&2; die "the temporary server for the conversion did not start"; }
  [ "$(cli config set appendonly yes)" = OK ] || die "could not turn the append-only file on"
  ok=0
  for _ in $(seq 1 3600); do
    info="$(cli info persistence | tr -d '\r')"
    if grep -qx 'aof_enabled:1' <<<"$info" && grep -qx 'aof_rewrite_in_progress:0' <<<"$info" &&
      grep -qx 'aof_rewrite_scheduled:0' <<<"$info"; then
      grep -qx 'aof_last_bgrewrite_status:ok' <<<"$info" && ok=1
      break
    fi
    sleep 0.5
  done
  cli shutdown save >/dev/null 2>&1 || true
  wait "$pid" || true
  if [ "$ok" != 1 ] || [ ! -d "$DATA/appendonlydir" ]; then
    cat "$init/log" >&2
    die "converting to an append-only file failed"
  fi
  rm -rf "$init"
fi

unset password esc
say "starting redis-server"
exec setpriv --reuid=redis --regid=redis --init-groups redis-server "$conf"
