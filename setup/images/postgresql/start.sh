#!/bin/bash
# Hearth PostgreSQL: prepares /var/lib/postgresql (a volume), runs initdb there on first
# start (cluster in data/), then runs postgres as user postgres.
#
# No superuser over the network: pg_hba.conf rejects the postgres role on every host
# connection (apps connect as their own roles with SCRAM), and the role has no password.
# Inside the container the socket uses peer authentication: `docker exec -u postgres
# <container> psql` needs no password; box provisions apps that way. A cluster made by an
# earlier image (which gave postgres a network password, marked by .hearth-password.sha256)
# has that password removed once, through a socket-only server, before the real start.
set -euo pipefail
ROOT=/var/lib/postgresql
PGDATA="${PGDATA:-$ROOT/data}"
CONF=/usr/share/hearth/postgresql/postgresql.conf
say() { printf '%s\n' "hearth-postgresql: $*"; }
die() { printf '%s\n' "hearth-postgresql: error: $*" >&2; exit 1; }
as_pg() { runuser -u postgres -- "$@"; }

[ "$(id -u)" -eq 0 ] || die "start as root: this script prepares $ROOT, then postgres runs as postgres"

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

if [ -f "$ROOT/.hearth-password.sha256" ]; then
  say "removing the postgres role's network password (made by an earlier image)"
  # this temporary server listens on a private socket only: readiness checks (which use
  # /run/postgresql) must not mistake it for the real one, which starts after it stops
  tmp_sock=/run/postgresql-init
  install -d -o postgres -g postgres -m 0700 "$tmp_sock"
  if ! as_pg pg_ctl -D "$PGDATA" -w -t 300 -l /tmp/pg-password.log \
    -o "-c config_file=$CONF -c listen_addresses='' -c unix_socket_directories=$tmp_sock" start >/dev/null; then
    cat /tmp/pg-password.log >&2
    die "could not start PostgreSQL to remove the password"
  fi
  ok=1
  printf 'ALTER ROLE postgres WITH PASSWORD NULL;\n' |
    as_pg psql -X -q -v ON_ERROR_STOP=1 -h "$tmp_sock" -d postgres >/dev/null || ok=0
  as_pg pg_ctl -D "$PGDATA" -w -t 300 -m fast stop >/dev/null
  [ "$ok" = 1 ] || die "could not remove the postgres role's password"
  rm -f "$ROOT/.hearth-password.sha256"
  rm -rf /tmp/pg-password.log "$tmp_sock"
fi

say "starting postgres $major"
exec setpriv --reuid=postgres --regid=postgres --init-groups postgres -D "$PGDATA" -c config_file="$CONF"
