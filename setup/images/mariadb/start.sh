#!/bin/bash
# Hearth MariaDB: prepares /var/lib/mysql (a volume), initialises it on first start, then
# runs mariadbd as user mysql (mariadbd drops root itself).
#
# No administrator over the network: root@localhost is unix_socket only (`docker exec
# <container> mariadb` as root needs no password; box provisions apps that way), and a
# root@'%' (made by Hearth's images before, or brought back by an upgrade's dump) is dropped
# on every start through mariadbd's --init-file. Apps connect as their own users.
set -euo pipefail
DATA=/var/lib/mysql
say() { printf '%s\n' "hearth-mariadb: $*"; }
die() { printf '%s\n' "hearth-mariadb: error: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "start as root: this script prepares $DATA, then mariadbd runs as mysql"

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

init=/run/mysqld/hearth-init.sql
install -o mysql -g mysql -m 0600 /dev/null "$init"
cat >"$init" <<'SQL'
DROP USER IF EXISTS 'root'@'%', 'root'@'127.0.0.1', 'root'@'::1';
SQL
say "starting mariadbd"
exec mariadbd --user=mysql --init-file="$init"
