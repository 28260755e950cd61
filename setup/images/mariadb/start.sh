#!/bin/bash
# Hearth MariaDB: prepares /var/lib/mysql (a volume), initialises it on first start, then
# runs mariadbd as user mysql (mariadbd drops root itself).
#
# The password of root@'%' (what apps' provisioning connects as over the network) is read
# from the file $HEARTH_PASSWORD_FILE (default /etc/hearth/root-password, mounted in) or,
# without that file, from $HEARTH_PASSWORD. It is (re)applied on every start through
# mariadbd's --init-file, so the mounted file is the source of truth. root@localhost is
# unix_socket only: `docker exec <container> mariadb` as root needs no password.
set -euo pipefail
DATA=/var/lib/mysql
say() { printf '%s\n' "hearth-mariadb: $*"; }
die() { printf '%s\n' "hearth-mariadb: error: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "start as root: this script prepares $DATA, then mariadbd runs as mysql"

file="${HEARTH_PASSWORD_FILE:-/etc/hearth/root-password}"
if [ -f "$file" ]; then
  password="$(cat "$file")"
else
  password="${HEARTH_PASSWORD:-}"
fi
unset HEARTH_PASSWORD
[ -n "$password" ] || die "no root password: mount it as $file (or set HEARTH_PASSWORD_FILE / HEARTH_PASSWORD)"
case "$password" in *[[:cntrl:]]*) die "the root password must not contain control characters" ;; esac

install -d -o mysql -g mysql -m 0755 /run/mysqld
[ "$(stat -c %u "$DATA")" = "$(id -u mysql)" ] || chown -R mysql:mysql "$DATA"
chmod 0700 "$DATA"

# .hearth-initialising marks an initialisation in progress: when a start finds it, the one
# before died half-way and what it left is discarded (it can hold no data yet)
if [ -f "$DATA/.hearth-initialising" ]; then
  say "a previous initialisation was interrupted; starting it again"
  find "$DATA" -mindepth 1 -delete
fi
if [ ! -d "$DATA/mysql" ]; then
  say "initialising $DATA"
  touch "$DATA/.hearth-initialising"
  if ! mariadb-install-db --user=mysql --datadir="$DATA" --auth-root-authentication-method=socket \
    --skip-test-db --skip-name-resolve >/tmp/install-db.log 2>&1; then
    cat /tmp/install-db.log >&2
    die "mariadb-install-db failed"
  fi
  rm -f "$DATA/.hearth-initialising" /tmp/install-db.log
fi

# SQL string literal: backslash and quote escaped (default sql_mode)
esc="${password//\\/\\\\}"
esc="${esc//\'/\\\'}"
init=/run/mysqld/hearth-init.sql
install -o mysql -g mysql -m 0600 /dev/null "$init"
cat >"$init" <<SQL
CREATE USER IF NOT EXISTS 'root'@'%' IDENTIFIED BY '$esc';
ALTER USER 'root'@'%' IDENTIFIED BY '$esc';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;
SQL
unset password esc
say "starting mariadbd"
exec mariadbd --user=mysql --init-file="$init"
