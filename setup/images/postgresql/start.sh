#!/bin/bash
# Hearth PostgreSQL: prepares /var/lib/postgresql (a volume), runs initdb there on first
# start (cluster in data/), then runs postgres as user postgres.
#
# The postgres role's password (what apps' provisioning connects as over the network) is
# read from the file $HEARTH_PASSWORD_FILE (default /etc/hearth/root-password, mounted in)
# or, without that file, from $HEARTH_PASSWORD. Whenever it differs from the one applied
# last (a sha256 in the volume), it is applied through a socket-only server before the
# real start, so the mounted file is the source of truth. Inside the container the socket
# uses peer authentication: `docker exec -u postgres <container> psql` needs no password.
set -euo pipefail
ROOT=/var/lib/postgresql
PGDATA="${PGDATA:-$ROOT/data}"
CONF=/usr/share/hearth/postgresql/postgresql.conf
say() { printf '%s\n' "hearth-postgresql: $*"; }
die() { printf '%s\n' "hearth-postgresql: error: $*" >&2; exit 1; }
as_pg() { runuser -u postgres -- "$@"; }

[ "$(id -u)" -eq 0 ] || die "start as root: this script prepares $ROOT, then postgres runs as postgres"

file="${HEARTH_PASSWORD_FILE:-/etc/hearth/root-password}"
if [ -f "$file" ]; then
  password="$(cat "$file")"
else
  password="${HEARTH_PASSWORD:-}"
fi
unset HEARTH_PASSWORD
[ -n "$password" ] || die "no password for the postgres role: mount it as $file (or set HEARTH_PASSWORD_FILE / HEARTH_PASSWORD)"
case "$password" in *[[:cntrl:]]*) die "the password must not contain control characters" ;; esac

install -d -o postgres -g postgres -m 2775 /run/postgresql
[ "$(stat -c %u "$ROOT")" = "$(id -u postgres)" ] || chown -R postgres:postgres "$ROOT"
chmod 0700 "$ROOT"

# .hearth-initialising marks an initdb in progress: when a start finds it, the one before
# died half-way and its cluster (which can hold no data yet) is discarded
if [ -f "$ROOT/.hearth-initialising" ]; then
  say "a previous initialisation was interrupted; starting it again"
  rm -rf "$PGDATA"
fi
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  say "initialising $PGDATA"
  touch "$ROOT/.hearth-initialising"
  rm -f "$ROOT/.hearth-password.sha256"
  if ! as_pg initdb -D "$PGDATA" -U postgres -E UTF8 --locale=C.UTF-8 \
    --auth-local=peer --auth-host=scram-sha-256 >/tmp/initdb.log 2>&1; then
    cat /tmp/initdb.log >&2
    die "initdb failed"
  fi
  rm -f "$ROOT/.hearth-initialising" /tmp/initdb.log
fi

major="$(postgres --version | sed -E 's/.* ([0-9]+)\..*/\1/')"
have="$(cat "$PGDATA/PG_VERSION")"
[ "$have" = "$major" ] || die "$PGDATA holds a PostgreSQL $have cluster and this is PostgreSQL $major: upgrade through a dump (box does that when the version changes)"

sum="$(printf '%s' "$password" | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$ROOT/.hearth-password.sha256" 2>/dev/null || true)" != "$sum" ]; then
  say "applying the postgres role's password"
  # this temporary server listens on a private socket only: readiness checks (which use
  # /run/postgresql) must not mistake it for the real one, which starts after it stops
  tmp_sock=/run/postgresql-init
  install -d -o postgres -g postgres -m 0700 "$tmp_sock"
  if ! as_pg pg_ctl -D "$PGDATA" -w -t 300 -l /tmp/pg-password.log \
    -o "-c config_file=$CONF -c listen_addresses='' -c unix_socket_directories=$tmp_sock" start >/dev/null; then
    cat /tmp/pg-password.log >&2
    die "could not start PostgreSQL to apply the password"
  fi
  # the password goes in on stdin (printf is a builtin: never in a process's arguments)
  ok=1
  printf "ALTER ROLE postgres WITH PASSWORD '%s';\n" "${password//\'/\'\'}" |
    as_pg psql -X -q -v ON_ERROR_STOP=1 -h "$tmp_sock" -d postgres >/dev/null || ok=0
  as_pg pg_ctl -D "$PGDATA" -w -t 300 -m fast stop >/dev/null
  [ "$ok" = 1 ] || die "could not apply the postgres role's password"
  printf '%s\n' "$sum" >"$ROOT/.hearth-password.sha256"
  rm -rf /tmp/pg-password.log "$tmp_sock"
fi
unset password

say "starting postgres $major"
exec setpriv --reuid=postgres --regid=postgres --init-groups postgres -D "$PGDATA" -c config_file="$CONF"
