#!/usr/bin/env bash
# Hearth installer: turns a Debian 12 / Ubuntu server into a running Hearth.
#
#   sudo ./setup/install.sh          (from a checkout of the repository)
#
# Idempotent: a second run checks every step and redoes only what changed (new code is
# copied and rebuilt, services are restarted); the database password, the certificate and
# the data are kept. Everything it runs is logged to /var/log/hearth/install.log.
#
# Where things go:
#   /opt/hearth/runtime   Node.js (pinned; Debian's is too old)   root, world-readable
#   /opt/hearth/app       the code, built                         root, world-readable
#   /opt/hearth/state     install stamps (what was built from what)
#   /etc/hearth           hearth.env (box), admin.env (admin), tls/  root:root 0755, files 0640
#   /etc/nginx/hearth     the vhost set box hands to setup/sudo/install-vhosts.sh   root 0755
#   /var/lib/hearth       data (home of the hearth user)          hearth:hearth 0750
#   /var/log/hearth       logs of box, admin, dockerd, install    root:root 0750
#   /run/hearth           box.sock                                hearth:hearth-sock 0750
#   /run/hearth-supervise the supervisor's pid files (no systemd) root:root 0700
#
# Users: hearth runs box (with the groups docker and hearth-sock, per process); hearth-admin
# runs admin (group hearth-sock only). Root never reads a file either of them can write.
#
# Environment: HEARTH_INIT=direct runs the services under Hearth's own supervisor even when
# systemd is PID 1 (it is used automatically where systemd is not running).
# HEARTH_APP_FIREWALL=0 skips setup/lib/app-firewall.sh (only where iptables cannot run,
# e.g. a container without NET_ADMIN: app containers then reach every host service).
# HEARTH_SKIP_IMAGE_BUILDS=1 skips building the base, service and catalog images: for tests
# only (a second fresh machine in test/install, to stay within CI's time; README "Tests").
set -euo pipefail
umask 022

SRC_DIR="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
# shellcheck source=lib/common.sh
. "$SRC_DIR/setup/lib/common.sh"
# shellcheck source=lib/runtime.sh
. "$SRC_DIR/setup/lib/runtime.sh"
# shellcheck source=lib/rotate-log.sh
. "$SRC_DIR/setup/lib/rotate-log.sh"

INSTALL_LOG="$HEARTH_LOG_DIR/install.log"
READY_TIMEOUT="${HEARTH_READY_TIMEOUT:-180}"
T0=$(date +%s)
CURRENT_STEP="start"

step() {
  CURRENT_STEP="$*"
  printf '==> %s\n' "$*"
}
on_exit() {
  local rc=$?
  rm -f /run/hearth-install.pid
  if [ "$rc" -ne 0 ]; then
    printf 'hearth: install.sh failed during "%s" (exit %s); details in %s\n' "$CURRENT_STEP" "$rc" "$INSTALL_LOG" >&2
  fi
}

# run_logged WHAT CMD...: runs CMD with its output in install.log; on failure shows the
# end of it and stops.
run_logged() {
  local what="$1"
  shift
  printf '\n### %s: %s\n' "$(date -u +%FT%TZ)" "$what" >>"$INSTALL_LOG"
  if ! "$@" </dev/null >>"$INSTALL_LOG" 2>&1; then
    echo "---- last lines of $INSTALL_LOG ----" >&2
    tail -n 40 "$INSTALL_LOG" >&2
    echo "----" >&2
    hearth_die "$what failed"
  fi
}

# ---------------------------------------------------------------------------------------
step "checking the machine"
[ "$(id -u)" -eq 0 ] || hearth_die "run me as root: sudo $0"
[ -r /etc/os-release ] || hearth_die "cannot tell which OS this is (/etc/os-release is missing); Hearth supports Debian 12 and Ubuntu"
# shellcheck disable=SC1091
OS_ID="$(. /etc/os-release && echo "${ID:-}")"
OS_LIKE="$(. /etc/os-release && echo "${ID_LIKE:-}")"
OS_NAME="$(. /etc/os-release && echo "${PRETTY_NAME:-$OS_ID}")"
case " $OS_ID $OS_LIKE " in
  *" debian "* | *" ubuntu "*) ;;
  *) hearth_die "Hearth installs on Debian 12 or Ubuntu; this is $OS_NAME" ;;
esac
command -v apt-get >/dev/null || hearth_die "apt-get not found: Hearth installs on Debian 12 or Ubuntu"
if [ -s /run/hearth-install.pid ] && kill -0 "$(cat /run/hearth-install.pid)" 2>/dev/null; then
  hearth_die "another install.sh is running (pid $(cat /run/hearth-install.pid))"
fi
echo $$ >/run/hearth-install.pid
trap on_exit EXIT
# root's own log folder (an older install made it hearth's): before anything is written there
hearth_root_dirs
# the installer's own logs grow with every run: rotated by size like the supervised services'
# (10 MiB, 3 gzipped copies; box's, admin's and dockerd's are rotated by supervise.sh)
for f in "$INSTALL_LOG" "$HEARTH_LOG_DIR/apt.log"; do hearth_rotate_log "$f" 10485760 3 || true; done
printf '\n===== install.sh started %s from %s =====\n' "$(date -u +%FT%TZ)" "$SRC_DIR" >>"$INSTALL_LOG"
if hearth_has_systemd; then
  INIT=systemd
  hearth_say "$OS_NAME, systemd is PID 1: services run as systemd units"
else
  INIT=direct
  hearth_say "$OS_NAME, systemd is not running: services run under Hearth's supervisor (setup/lib/supervise.sh)"
fi

# ---------------------------------------------------------------------------------------
step "installing system packages"
# bind9-dnsutils: nsupdate (RFC 2136 DNS provider) and dig (DNS propagation checks);
# libjemalloc2: admin's malloc (see admin.env below)
PACKAGES=(ca-certificates curl openssl sudo rsync iproute2 procps util-linux nginx mariadb-server docker.io bind9-dnsutils libjemalloc2 restic)
HEARTH_APT_LOG="$INSTALL_LOG" hearth_apt_install "${PACKAGES[@]}"
hearth_say "packages present: ${PACKAGES[*]}"

# ---------------------------------------------------------------------------------------
step "installing the Node.js runtime in $HEARTH_RUNTIME"
install_runtime
export PATH="$HEARTH_RUNTIME/bin:$PATH"
hearth_say "node $(node --version), npm $(npm --version 2>/dev/null)"

# ---------------------------------------------------------------------------------------
step "creating the hearth user and folders"
getent group "$HEARTH_USER" >/dev/null || groupadd --system "$HEARTH_USER"
if ! id -u "$HEARTH_USER" >/dev/null 2>&1; then
  useradd --system --gid "$HEARTH_USER" --home-dir "$HEARTH_DATA_DIR" --no-create-home \
    --shell /usr/sbin/nologin --comment "Hearth" "$HEARTH_USER"
fi
if [ "$(getent passwd "$HEARTH_USER" | cut -d: -f6,7)" != "$HEARTH_DATA_DIR:/usr/sbin/nologin" ]; then
  usermod --home "$HEARTH_DATA_DIR" --shell /usr/sbin/nologin "$HEARTH_USER"
fi
getent group docker >/dev/null || groupadd --system docker
# Membership of group docker is root-equivalent, so the hearth user is NOT in it: only box
# gets the group, per process (SupplementaryGroups=docker in its unit, "hearth+docker,..."
# for the supervisor). admin, which runs as hearth-admin, never can reach Docker.
if id -nG "$HEARTH_USER" | tr ' ' '\n' | grep -qx docker; then gpasswd -d "$HEARTH_USER" docker >/dev/null; fi
# admin runs as a user of its own: another uid than box (no ptrace of box, which holds the
# docker group), not in group hearth (no app data), never in docker or sudoers. It shares
# only the group of box's socket with box; both get it per process, like docker.
getent group "$HEARTH_SOCK_GROUP" >/dev/null || groupadd --system "$HEARTH_SOCK_GROUP"
getent group "$HEARTH_ADMIN_USER" >/dev/null || groupadd --system "$HEARTH_ADMIN_USER"
if ! id -u "$HEARTH_ADMIN_USER" >/dev/null 2>&1; then
  useradd --system --gid "$HEARTH_ADMIN_USER" --home-dir /nonexistent --no-create-home \
    --shell /usr/sbin/nologin --comment "Hearth admin dashboard" "$HEARTH_ADMIN_USER"
fi
for g in $(id -nG "$HEARTH_ADMIN_USER"); do
  [ "$g" = "$HEARTH_ADMIN_USER" ] || gpasswd -d "$HEARTH_ADMIN_USER" "$g" >/dev/null
done
install -d -o root -g root -m 0755 "$HEARTH_HOME" "$HEARTH_APP_DIR" "$HEARTH_STATE_DIR"
install -d -o "$HEARTH_USER" -g "$HEARTH_USER" -m 0750 "$HEARTH_DATA_DIR"
install -d -o "$HEARTH_USER" -g "$HEARTH_SOCK_GROUP" -m 0750 "$HEARTH_RUN_DIR"
install -d -o "$HEARTH_USER" -g "$HEARTH_USER" -m 0755 "$HEARTH_PUBLIC_DIR"
# world-traversable: each file in it says who reads it (hearth.env: hearth; admin.env:
# hearth-admin; tls/: root)
install -d -o root -g root -m 0755 "$HEARTH_ETC_DIR"
install -d -o root -g root -m 0755 "$HEARTH_TLS_DIR"
install -d -o root -g root -m 0755 "$HEARTH_NGINX_ROOT_DIR"
hearth_say "users $HEARTH_USER (box) and $HEARTH_ADMIN_USER (admin), socket group $HEARTH_SOCK_GROUP, data in $HEARTH_DATA_DIR"

# ---------------------------------------------------------------------------------------
step "copying the code to $HEARTH_APP_DIR"
if [ "$SRC_DIR" = "$HEARTH_APP_DIR" ]; then
  hearth_say "running from $HEARTH_APP_DIR itself: nothing to copy"
else
  # generated and built files are excluded both ways: never copied, never deleted
  run_logged "copying $SRC_DIR to $HEARTH_APP_DIR" rsync -a --delete --chown=root:root --chmod=go+rX,go-w \
    --exclude=/.git --exclude=node_modules --exclude=.next --exclude=dist --exclude=test-results \
    --exclude=/packages/db/src/generated --exclude=/apps/admin/next-env.d.ts --exclude='*.tsbuildinfo' \
    --exclude=/.env "$SRC_DIR/" "$HEARTH_APP_DIR/"
  hearth_say "copied $SRC_DIR"
fi
chmod 0755 "$HEARTH_APP_DIR"

# ---------------------------------------------------------------------------------------
step "installing npm dependencies"
cd "$HEARTH_APP_DIR"
[ -f package-lock.json ] || hearth_die "$HEARTH_APP_DIR/package-lock.json is missing: is $SRC_DIR a Hearth checkout?"
NPM_KEY="$(cat package-lock.json <(node --version) <(npm --version 2>/dev/null) | sha256sum | cut -d' ' -f1)"
if [ -d node_modules ] && [ "$(cat "$HEARTH_STATE_DIR/npm-ci" 2>/dev/null)" = "$NPM_KEY" ]; then
  hearth_say "package-lock.json unchanged: node_modules kept"
else
  rm -f "$HEARTH_STATE_DIR/npm-ci" "$HEARTH_STATE_DIR/build"
  run_logged "npm ci" npm ci --prefer-offline --no-audit --no-fund --loglevel=error
  echo "$NPM_KEY" >"$HEARTH_STATE_DIR/npm-ci"
  hearth_say "npm ci done"
fi

# ---------------------------------------------------------------------------------------
step "building box and admin"
# admin's .next/cache was the hearth user's in older installs: a build (as root) would read
# it, so what another user wrote there is thrown away before building
if [ -d apps/admin/.next ] && [ -n "$(find apps/admin/.next \( ! -user root -o \( -perm -002 ! -type l \) \) -print -quit 2>/dev/null)" ]; then
  rm -rf apps/admin/.next/cache
  chown -R root:root apps/admin/.next
  hearth_say "removed admin's build cache written by another user"
fi
# the inputs of the build: a change in any of them rebuilds
build_key() {
  {
    echo "$NPM_KEY"
    find package.json package-lock.json tsconfig*.json prisma.config.ts prisma packages apps \
      \( -name node_modules -o -name .next -o -name dist -o -path packages/db/src/generated \
      -o -name next-env.d.ts -o -name '*.tsbuildinfo' \) -prune -o -type f -print0 2>/dev/null \
      | sort -z | xargs -0 sha256sum
  } | sha256sum | cut -d' ' -f1
}
BOX_MAIN="$HEARTH_APP_DIR/apps/box/dist/main.mjs"
ADMIN_BUILD_ID="$HEARTH_APP_DIR/apps/admin/.next/BUILD_ID"
# admin's own server (Next's handler plus the web terminal's WebSocket upgrades)
ADMIN_SERVER="$HEARTH_APP_DIR/apps/admin/dist/server.mjs"
HAVE_BOX=0
HAVE_ADMIN=0
[ -f apps/box/src/main.ts ] && HAVE_BOX=1
[ -d apps/admin/app ] && HAVE_ADMIN=1
BUILD_KEY="$(build_key)"
if [ "$(cat "$HEARTH_STATE_DIR/build" 2>/dev/null)" = "$BUILD_KEY" ] \
  && { [ "$HAVE_BOX" = 0 ] || [ -f "$BOX_MAIN" ]; } && { [ "$HAVE_ADMIN" = 0 ] || { [ -f "$ADMIN_BUILD_ID" ] && [ -f "$ADMIN_SERVER" ]; }; }; then
  hearth_say "sources unchanged since the last build: build kept"
else
  rm -f "$HEARTH_STATE_DIR/build"
  # a running admin would serve half-replaced files while .next is rebuilt
  if [ "$INIT" = direct ]; then
    hearth_supervise_stop admin
    hearth_supervise_stop box
  else
    systemctl stop hearth-admin.service hearth-box.service 2>/dev/null || true
  fi
  export NEXT_TELEMETRY_DISABLED=1
  run_logged "npm run generate (Prisma client)" npm run generate
  if [ "$HAVE_BOX" = 1 ]; then
    run_logged "building box (npm run build -w @hearth/box)" npm run build -w @hearth/box
    [ -f "$BOX_MAIN" ] || hearth_die "box's build did not produce $BOX_MAIN"
    hearth_say "built box"
  else
    hearth_warn "this checkout has no apps/box/src/main.ts: box is not built and will not run"
  fi
  if [ "$HAVE_ADMIN" = 1 ]; then
    run_logged "building admin (npm run build -w @hearth/admin)" npm run build -w @hearth/admin
    [ -f "$ADMIN_BUILD_ID" ] || hearth_die "admin's build did not produce $ADMIN_BUILD_ID"
    [ -f "$ADMIN_SERVER" ] || hearth_die "admin's build did not produce $ADMIN_SERVER"
    hearth_say "built admin"
  else
    hearth_warn "this checkout has no apps/admin/app: admin is not built and will not run"
  fi
  if [ "$HAVE_BOX" = 1 ] && [ "$HAVE_ADMIN" = 1 ]; then
    echo "$BUILD_KEY" >"$HEARTH_STATE_DIR/build"
  fi
fi
chmod -R go+rX,go-w "$HEARTH_APP_DIR"
# admin gets no writable cache: .next (and .next/cache) stay root's, read-only to admin

# ---------------------------------------------------------------------------------------
step "setting up MariaDB"
hearth_start_mariadb
DB_PASSWORD="$(sed -n 's#^HEARTH_DATABASE_URL=mysql://hearth:\([0-9a-f]\{16,\}\)@.*#\1#p' "$HEARTH_ENV_FILE" 2>/dev/null | head -n 1 || true)"
if [ -n "$DB_PASSWORD" ]; then
  hearth_say "database password kept from $HEARTH_ENV_FILE"
else
  DB_PASSWORD="$(openssl rand -hex 24)"
  hearth_say "new database password generated (kept in $HEARTH_ENV_FILE)"
fi
# the password goes through stdin, never on a command line
if ! mariadb --protocol=socket -uroot <<SQL >>"$INSTALL_LOG" 2>&1; then
CREATE DATABASE IF NOT EXISTS \`hearth\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'hearth'@'127.0.0.1' IDENTIFIED BY '$DB_PASSWORD';
CREATE USER IF NOT EXISTS 'hearth'@'localhost' IDENTIFIED BY '$DB_PASSWORD';
ALTER USER 'hearth'@'127.0.0.1' IDENTIFIED BY '$DB_PASSWORD';
ALTER USER 'hearth'@'localhost' IDENTIFIED BY '$DB_PASSWORD';
GRANT ALL PRIVILEGES ON \`hearth\`.* TO 'hearth'@'127.0.0.1';
GRANT ALL PRIVILEGES ON \`hearth\`.* TO 'hearth'@'localhost';
FLUSH PRIVILEGES;
SQL
  hearth_die "could not create the hearth database and user in MariaDB (as root over its socket); see $INSTALL_LOG"
fi
hearth_say "database hearth and user hearth@127.0.0.1/localhost ready"

# ---------------------------------------------------------------------------------------
step "writing $HEARTH_ENV_FILE"
INSTALL_ID="$(openssl rand -hex 16)"
declare -A ENV_VALUES=(
  [HEARTH_DATABASE_URL]="mysql://hearth:$DB_PASSWORD@127.0.0.1:3306/hearth"
  [HEARTH_DATA_DIR]="$HEARTH_DATA_DIR"
  [HEARTH_BOX_SOCKET]="$HEARTH_RUN_DIR/box.sock"
  [HEARTH_SOCKET_GROUP]="$HEARTH_SOCK_GROUP"
  [HEARTH_MIGRATIONS_DIR]="$HEARTH_APP_DIR/prisma/migrations"
  [HEARTH_PUBLIC_DIR]="$HEARTH_PUBLIC_DIR"
  # a nonce of this run: admin's /api/v1/status answers it, so "ready" below means the admin
  # this run started answers (not one left running, nor a redirect, from an earlier install)
  [HEARTH_INSTALL_ID]="$INSTALL_ID"
)
ENV_ORDER=(HEARTH_DATABASE_URL HEARTH_DATA_DIR HEARTH_BOX_SOCKET HEARTH_SOCKET_GROUP HEARTH_LOG_LEVEL HEARTH_MIGRATIONS_DIR HEARTH_PUBLIC_DIR HEARTH_SECRET_KEY HEARTH_INSTALL_ID)
# the key that seals secrets at rest (registry passwords, addon credentials): made once and
# never changed, or what it sealed could not be opened again
OLD_SECRET_KEY="$(sed -n 's/^HEARTH_SECRET_KEY=//p' "$HEARTH_ENV_FILE" 2>/dev/null | tail -n 1 || true)"
ENV_VALUES[HEARTH_SECRET_KEY]="${OLD_SECRET_KEY:-$(openssl rand -base64 32)}"
# an admin's own HEARTH_LOG_LEVEL and any other variables they added are kept
OLD_LOG_LEVEL="$(sed -n 's/^HEARTH_LOG_LEVEL=//p' "$HEARTH_ENV_FILE" 2>/dev/null | tail -n 1 || true)"
ENV_VALUES[HEARTH_LOG_LEVEL]="${OLD_LOG_LEVEL:-info}"
ENV_TMP="$(mktemp "$HEARTH_ETC_DIR/.hearth.env.XXXXXX")"
{
  echo "# Hearth's process wiring, read by box and admin (systemd EnvironmentFile= format)."
  echo "# Written by setup/install.sh; the variables above the blank line are rewritten on"
  echo "# each run (HEARTH_LOG_LEVEL is kept), the ones below it are yours."
  for k in "${ENV_ORDER[@]}"; do echo "$k=${ENV_VALUES[$k]}"; done
  echo
  if [ -f "$HEARTH_ENV_FILE" ]; then
    while IFS= read -r line || [ -n "$line" ]; do
      case "$line" in '' | '#'*) continue ;; esac
      key="${line%%=*}"
      [ -n "${ENV_VALUES[$key]+set}" ] || printf '%s\n' "$line"
    done <"$HEARTH_ENV_FILE"
  fi
} >"$ENV_TMP"
chown root:"$HEARTH_USER" "$ENV_TMP"
chmod 0640 "$ENV_TMP"
# admin's copy: the same wiring and secrets (database URL, HEARTH_SECRET_KEY, ...), readable
# by hearth-admin only (it cannot read hearth.env, box's)
# plus the secret nginx sends on dashboard requests, without which admin believes no
# X-Real-IP (made once; box never sees it: root's nginx config holds it, see below)
PROXY_SECRET="$(sed -n 's/^HEARTH_PROXY_SECRET=\([0-9a-f]\{64\}\)$/\1/p' "$HEARTH_ADMIN_ENV_FILE" 2>/dev/null | tail -n 1 || true)"
[ -n "$PROXY_SECRET" ] || PROXY_SECRET="$(openssl rand -hex 32)"
# admin's malloc is jemalloc (Debian's libjemalloc2, root's, preloaded by the loader): with
# glibc's, the native memory its start and first requests leave behind stayed in admin's RSS
# (idle 138-146 MiB with the Node options below, up to 179 without); with jemalloc 130-131 MiB
# (bench/idle-rss.ts). box keeps glibc's (jemalloc made its idle RSS larger). Without the
# library admin runs on glibc's malloc as before.
# The library is the one the package installed for this machine's architecture (not whatever
# ldconfig lists first), with its links resolved, and only when root alone can change it and
# every folder above it (hearth_root_only).
JEMALLOC="$(dpkg -L "libjemalloc2:$(dpkg --print-architecture)" 2>/dev/null | grep -E '^/usr/lib/[^/]+/libjemalloc\.so\.2$' | head -n 1 || true)"
if [ -n "$JEMALLOC" ] && hearth_root_only "$JEMALLOC"; then JEMALLOC="$(readlink -e -- "$JEMALLOC")"; else JEMALLOC=""; fi
ADMIN_ENV_TMP="$(mktemp "$HEARTH_ETC_DIR/.admin.env.XXXXXX")"
{
  echo "# admin's copy of $HEARTH_ENV_FILE, written by setup/install.sh on each run: edit that file"
  grep -v '^#' "$ENV_TMP" | grep -v '^HEARTH_PROXY_SECRET=' | grep -v '^LD_PRELOAD='
  echo "HEARTH_PROXY_SECRET=$PROXY_SECRET"
  if [ -n "$JEMALLOC" ]; then echo "LD_PRELOAD=$JEMALLOC"; fi
} >"$ADMIN_ENV_TMP"
chown root:"$HEARTH_ADMIN_USER" "$ADMIN_ENV_TMP"
chmod 0640 "$ADMIN_ENV_TMP"
mv -f "$ENV_TMP" "$HEARTH_ENV_FILE"
mv -f "$ADMIN_ENV_TMP" "$HEARTH_ADMIN_ENV_FILE"
hearth_say "$HEARTH_ENV_FILE (0640 root:$HEARTH_USER), $HEARTH_ADMIN_ENV_FILE (0640 root:$HEARTH_ADMIN_USER)"

# env of a process run as hearth: a clean one plus hearth.env
hearth_env_args() {
  local line
  HEARTH_ENV_ARGS=("PATH=$HEARTH_RUNTIME/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    "HOME=$HEARTH_DATA_DIR" "USER=$HEARTH_USER" "LANG=C.UTF-8" "TSX_DISABLE_CACHE=1")
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in '' | '#'*) continue ;; *=*) HEARTH_ENV_ARGS+=("$line") ;; esac
  done <"$HEARTH_ENV_FILE"
}

# ---------------------------------------------------------------------------------------
step "applying database migrations"
hearth_env_args
# setsid: the hearth process gets no controlling terminal (it could push keystrokes into
# root's with TIOCSTI, or read them); TSX_DISABLE_CACHE: tsx would run compiled code from its
# cache in /tmp/tsx-<uid>/, which the hearth user owns and could have planted
run_logged "migrations (setup/migrate.ts)" setsid --wait setpriv --reuid="$HEARTH_USER" --regid="$HEARTH_USER" --init-groups \
  env -i "${HEARTH_ENV_ARGS[@]}" node --import tsx "$HEARTH_APP_DIR/setup/migrate.ts"
hearth_say "$(grep '^migrate: ' "$INSTALL_LOG" | tail -n 1 | sed 's/^migrate: /migrations: /')"

# the one-time setup code that the first-run page asks for (so whoever reaches the dashboard
# first does not become its owner): kept while no owner exists, in a root-only file; the
# database holds only its hash. Given on stdin and read from stdout, never as an argument.
SETUP_CODE_FILE="$HEARTH_ETC_DIR/setup-code"
SETUP_CODE=""
SETUP_CODE_IN=/dev/null
[ ! -f "$SETUP_CODE_FILE" ] || SETUP_CODE_IN="$SETUP_CODE_FILE"
printf '\n### %s: setup code (setup/setup-code.ts)\n' "$(date -u +%FT%TZ)" >>"$INSTALL_LOG"
if ! SETUP_CODE="$(setsid --wait setpriv --reuid="$HEARTH_USER" --regid="$HEARTH_USER" --init-groups \
  env -i "${HEARTH_ENV_ARGS[@]}" node --import tsx "$HEARTH_APP_DIR/setup/setup-code.ts" \
  <"$SETUP_CODE_IN" 2>>"$INSTALL_LOG")"; then
  hearth_die "could not make the setup code (details in $INSTALL_LOG)"
fi
# what the hearth process printed goes to root's terminal at the end: only a well-formed code
case "$SETUP_CODE" in
  '' | [A-Z2-9][A-Z2-9][A-Z2-9][A-Z2-9]-[A-Z2-9][A-Z2-9][A-Z2-9][A-Z2-9]-[A-Z2-9][A-Z2-9][A-Z2-9][A-Z2-9]) ;;
  *) hearth_die "setup/setup-code.ts printed something that is not a setup code (details in $INSTALL_LOG)" ;;
esac
if [ -n "$SETUP_CODE" ]; then
  (umask 077 && printf '%s\n' "$SETUP_CODE" >"$SETUP_CODE_FILE.tmp")
  chown root:root "$SETUP_CODE_FILE.tmp"
  chmod 0600 "$SETUP_CODE_FILE.tmp"
  mv -f "$SETUP_CODE_FILE.tmp" "$SETUP_CODE_FILE"
  hearth_say "setup code in $SETUP_CODE_FILE (0600 root); it is shown at the end"
else
  rm -f "$SETUP_CODE_FILE"
  hearth_say "the owner account exists: no setup code"
fi

# ---------------------------------------------------------------------------------------
step "installing the sudo helpers"
# box may run, as root, exactly the scripts in setup/sudo/ and nothing else. Each of them,
# and every folder above it, must be root's and writable by nobody else.
# The helpers' code (install-vhosts.mjs) and the Node that runs it are root's too.
HELPERS=()
for f in "$HEARTH_APP_DIR"/setup/sudo/*; do
  [ -f "$f" ] || continue
  chown root:root "$f"
  case "$f" in
    *.sh) chmod 0755 "$f"; HELPERS+=("$f") ;;
    *) chmod 0644 "$f" ;;
  esac
done
[ "${#HELPERS[@]}" -gt 0 ] || hearth_die "no helper scripts found in $HEARTH_APP_DIR/setup/sudo"
for d in "$HEARTH_APP_DIR/setup/sudo" "$HEARTH_RUNTIME/bin/node"; do
  d="$(readlink -f "$d")"
  while [ "$d" != / ]; do
    if [ "$(stat -c %u "$d")" != 0 ] || [ $(($(stat -c '0%a' "$d") & 022)) -ne 0 ]; then
      hearth_die "$d must be owned by root and writable only by root (the sudo helpers and their Node live below it)"
    fi
    d="$(dirname "$d")"
  done
done
SUDOERS_TMP="$(mktemp)"
{
  echo "# Installed by Hearth's setup/install.sh and rewritten on each run: edits are lost."
  echo "# The box daemon (user $HEARTH_USER) may run these root-owned helper scripts as root,"
  echo "# and nothing else: sudo -n /opt/hearth/app/setup/sudo/<name>.sh (no arguments; input on"
  echo "# stdin). admin's user ($HEARTH_ADMIN_USER) may run nothing."
  # each with "" : sudo allows it with no arguments at all (the input comes on stdin)
  printf 'Cmnd_Alias HEARTH_HELPERS = %s\n' "$(printf '%s "", ' "${HELPERS[@]}" | sed 's/, $//')"
  echo "Defaults:$HEARTH_USER !requiretty"
  echo "$HEARTH_USER ALL=(root) NOPASSWD: HEARTH_HELPERS"
} >"$SUDOERS_TMP"
if ! out="$(visudo -cf "$SUDOERS_TMP" 2>&1)"; then
  rm -f "$SUDOERS_TMP"
  hearth_die "the generated sudoers file does not validate: $out"
fi
install -o root -g root -m 0440 "$SUDOERS_TMP" /etc/sudoers.d/hearth
rm -f "$SUDOERS_TMP"
grep -q '^[[:space:]]*[@#]includedir[[:space:]]\+/etc/sudoers.d' /etc/sudoers \
  || hearth_warn "/etc/sudoers does not include /etc/sudoers.d: box cannot use its helpers"
hearth_say "/etc/sudoers.d/hearth allows: $(basename -a "${HELPERS[@]}" | paste -sd' ')"

# ---------------------------------------------------------------------------------------
step "installing the systemd units"
for u in hearth.target hearth-firewall.service hearth-box.service hearth-admin.service; do
  install -o root -g root -m 0644 "$HEARTH_APP_DIR/systemd/$u" "/etc/systemd/system/$u"
done
if [ "$INIT" = systemd ]; then
  systemctl daemon-reload
  systemctl enable hearth.target hearth-firewall.service hearth-box.service hearth-admin.service >/dev/null 2>&1
  hearth_say "units installed and enabled"
else
  hearth_say "unit files installed in /etc/systemd/system (not used: systemd is not running)"
fi

# ---------------------------------------------------------------------------------------
step "starting the Docker engine"
hearth_start_docker "$HEARTH_APP_DIR/setup/lib"
hearth_say "Docker $(docker version --format '{{.Server.Version}}' 2>/dev/null) is running"

# ---------------------------------------------------------------------------------------
step "protecting the host from app containers"
# Hearth's Docker networks have host interfaces named hth…: from them, no link-local /
# metadata address and, of this host's services, only nginx and box's mail relay
# (setup/lib/app-firewall.sh; idempotent). Re-applied at boot by hearth-firewall.service;
# without systemd, by running this setup again.
RELAY_PORT="$(sed -n 's/^HEARTH_MAIL_RELAY_PORT=\([0-9]*\)$/\1/p' "$HEARTH_ENV_FILE" 2>/dev/null | tail -n 1)"
if [ "${HEARTH_APP_FIREWALL:-1}" = 0 ]; then
  hearth_warn "HEARTH_APP_FIREWALL=0: app containers can reach the metadata address and every service of this host"
else
  "$HEARTH_APP_DIR/setup/lib/app-firewall.sh" --existing --relay-port "${RELAY_PORT:-2525}"
fi

# ---------------------------------------------------------------------------------------
step "building the container images"
# The Debian base (debootstrap + docker import: no registry needed) and the built-in
# catalog's app images, so installing a catalog app needs no build. Unchanged images are
# skipped (recipe hashes in their labels).
T_IMAGES=$(date +%s)
if [ "${HEARTH_SKIP_IMAGE_BUILDS:-0}" = 1 ]; then
  # only for tests (test/install/fresh-container.test.ts's second machine): without these
  # images, apps with addons cannot be installed until build-all.sh has run
  hearth_say "image builds SKIPPED (HEARTH_SKIP_IMAGE_BUILDS=1): run setup/images/build-all.sh --catalog before installing apps"
else
  run_logged "image builds (setup/images/build-all.sh --catalog)" "$HEARTH_APP_DIR/setup/images/build-all.sh" --catalog
  hearth_say "images ready in $(($(date +%s) - T_IMAGES))s: $(docker images --filter label=hearth.catalog.id --format '{{.Repository}}:{{.Tag}}' | tr '\n' ' ')"
fi

# ---------------------------------------------------------------------------------------
step "starting box and admin"
# Node options for a small idle footprint (a 1 MiB young generation, V8's size-over-speed
# heuristics, one V8 worker thread: with the default pool, what its threads' compile and GC
# work leave in glibc's per-thread arenas stayed in RSS, box idle at 125-160 MiB from one start
# to the next, ~122 with one; bench/idle-rss.ts): the same as ExecStart in
# systemd/hearth-{box,admin}.service (a test compares)
BOX_NODE_OPTIONS=(--max-semi-space-size=1 --optimize-for-size --v8-pool-size=1)
ADMIN_NODE_OPTIONS=(--max-semi-space-size=1 --optimize-for-size --v8-pool-size=1)
BOX_CMD=("$HEARTH_RUNTIME/bin/node" "${BOX_NODE_OPTIONS[@]}" "$BOX_MAIN")
ADMIN_CMD=("$HEARTH_RUNTIME/bin/node" "${ADMIN_NODE_OPTIONS[@]}" "$ADMIN_SERVER" -H 127.0.0.1 -p 3000)
if [ "$INIT" = systemd ]; then
  [ -f "$BOX_MAIN" ] && systemctl restart hearth-box.service
  [ -f "$ADMIN_BUILD_ID" ] && systemctl restart hearth-admin.service
  systemctl start hearth.target
  hearth_say "hearth-box and hearth-admin (re)started by systemd (logs: journalctl -u hearth-box -u hearth-admin)"
else
  hearth_supervise_stop admin
  hearth_supervise_stop box
  if [ -f "$BOX_MAIN" ]; then
    hearth_supervise_start box "$HEARTH_USER+docker,$HEARTH_SOCK_GROUP" "$HEARTH_APP_DIR/apps/box" "$HEARTH_APP_DIR/setup/lib" "${BOX_CMD[@]}"
    hearth_say "started box as $HEARTH_USER under the supervisor (pid $(cat "$HEARTH_SUPERVISE_DIR/box.supervisor.pid"), log $HEARTH_LOG_DIR/box.log)"
  else
    hearth_warn "box is not built ($BOX_MAIN missing): not started"
  fi
  if [ -f "$ADMIN_BUILD_ID" ]; then
    hearth_supervise_start admin "$HEARTH_ADMIN_USER+$HEARTH_SOCK_GROUP" "$HEARTH_APP_DIR/apps/admin" "$HEARTH_APP_DIR/setup/lib" \
      env NODE_ENV=production NEXT_TELEMETRY_DISABLED=1 "${ADMIN_CMD[@]}"
    hearth_say "started admin as $HEARTH_ADMIN_USER under the supervisor (pid $(cat "$HEARTH_SUPERVISE_DIR/admin.supervisor.pid"), log $HEARTH_LOG_DIR/admin.log)"
  else
    hearth_warn "admin is not built ($ADMIN_BUILD_ID missing): not started"
  fi
fi

# ---------------------------------------------------------------------------------------
step "configuring nginx"
SERVER_IP="$(ip -4 route get 1.1.1.1 2>/dev/null | sed -n 's/.* src \([0-9.]*\).*/\1/p' | head -n 1 || true)"
[ -n "$SERVER_IP" ] || SERVER_IP="$(hostname -I 2>/dev/null | awk '{print $1}' || true)"
[ -n "$SERVER_IP" ] || SERVER_IP=127.0.0.1
CERT="$HEARTH_TLS_DIR/dashboard.crt"
KEY="$HEARTH_TLS_DIR/dashboard.key"
if [ -s "$CERT" ] && [ -s "$KEY" ] && openssl x509 -noout -checkip "$SERVER_IP" -in "$CERT" 2>/dev/null | grep -q 'does match'; then
  hearth_say "self-signed certificate for $SERVER_IP kept"
else
  SAN="IP:$SERVER_IP,DNS:localhost"
  [ "$SERVER_IP" = 127.0.0.1 ] || SAN="$SAN,IP:127.0.0.1"
  run_logged "generating the self-signed certificate" openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -nodes -days 3650 -subj "/CN=$SERVER_IP" -addext "subjectAltName=$SAN" \
    -keyout "$KEY.new" -out "$CERT.new"
  chmod 0600 "$KEY.new"
  chmod 0644 "$CERT.new"
  mv -f "$KEY.new" "$KEY"
  mv -f "$CERT.new" "$CERT"
  hearth_say "self-signed certificate generated for $SERVER_IP ($CERT)"
fi
if grep -q '^[[:space:]]*include[[:space:]]\+/etc/nginx/sites-enabled/' /etc/nginx/nginx.conf; then
  SITE_FILE=/etc/nginx/sites-available/hearth-dashboard
  SITE_LINK=/etc/nginx/sites-enabled/hearth-dashboard
else
  SITE_FILE=/etc/nginx/conf.d/hearth-dashboard.conf
  SITE_LINK=""
fi
# what this step changes, kept to put back if nginx -t rejects the result
NGINX_BACKUP="$(mktemp -d)"
NGINX_SAVED=()
for f in /etc/nginx/conf.d/hearth.conf /etc/nginx/conf.d/hearth-sites.conf "$SITE_FILE" ${SITE_LINK:+"$SITE_LINK"} /etc/nginx/sites-enabled/default; do
  if [ -e "$f" ] || [ -L "$f" ]; then
    cp -a "$f" "$NGINX_BACKUP/${#NGINX_SAVED[@]}"
    NGINX_SAVED+=("$f")
  fi
done
mkdir -p "$(dirname "$SITE_FILE")"
# box's vhosts: nginx includes only root's $HEARTH_NGINX_ROOT_DIR, which the sudo helper
# install-vhosts.sh fills from what box hands it (box re-sends its whole set at each start).
# Older installs included /var/lib/hearth/nginx/sites (box's own folder): that include is
# replaced here, and box's copy there is no longer read by root.
install -o root -g root -m 0644 "$HEARTH_APP_DIR/setup/nginx/hearth-http.conf" /etc/nginx/conf.d/hearth.conf
install -o root -g root -m 0644 "$HEARTH_APP_DIR/setup/nginx/hearth-sites.conf" /etc/nginx/conf.d/hearth-sites.conf
# the value of hearth.conf's $hearth_proxy_secret: root's only (nginx's master reads it)
install -d -o root -g root -m 0700 /etc/nginx/hearth-secret
PROXY_MAP_TMP="$(mktemp /etc/nginx/hearth-secret/.proxy.map.XXXXXX)"
printf '# written by setup/install.sh: the X-Hearth-Proxy-Secret nginx sends to admin\n~. "%s";\n' "$PROXY_SECRET" >"$PROXY_MAP_TMP"
chmod 0600 "$PROXY_MAP_TMP"
mv -f "$PROXY_MAP_TMP" /etc/nginx/hearth-secret/proxy.map
IPV6=0
[ -s /proc/net/if_inet6 ] && IPV6=1
sed -e "s#@CERT@#$CERT#; s#@KEY@#$KEY#; s#@ACME_DIR@#$HEARTH_PUBLIC_DIR/acme-challenges#; s#@PAGES_DIR@#$HEARTH_PUBLIC_DIR/pages#" "$HEARTH_APP_DIR/setup/nginx/dashboard.conf" \
  | if [ "$IPV6" = 1 ]; then sed 's/^#IPV6//'; else grep -v '^#IPV6'; fi >"$SITE_FILE.new"
mv -f "$SITE_FILE.new" "$SITE_FILE"
chmod 0644 "$SITE_FILE"
if [ -n "$SITE_LINK" ]; then
  ln -sfn "$SITE_FILE" "$SITE_LINK"
  rm -f /etc/nginx/sites-enabled/default
fi
if ! out="$(nginx -t 2>&1)"; then
  # put back what was there, so a working nginx stays working
  rm -f /etc/nginx/conf.d/hearth.conf /etc/nginx/conf.d/hearth-sites.conf "$SITE_FILE" ${SITE_LINK:+"$SITE_LINK"}
  for i in "${!NGINX_SAVED[@]}"; do
    cp -a "$NGINX_BACKUP/$i" "${NGINX_SAVED[$i]}"
  done
  rm -rf "$NGINX_BACKUP"
  printf '%s\n' "$out" >&2
  hearth_die "nginx -t rejected the configuration (the previous one was put back)"
fi
rm -rf "$NGINX_BACKUP"
[ "$INIT" = systemd ] && systemctl enable nginx >/dev/null 2>&1
run_logged "reloading nginx" bash "$HEARTH_APP_DIR/setup/lib/reload-nginx.sh"
hearth_say "nginx serves the dashboard on :443 (self-signed), :80 redirects to https"

# ---------------------------------------------------------------------------------------
step "waiting for Hearth to answer"
if [ "$INIT" = systemd ]; then
  LOGS="journalctl -u hearth-admin -u hearth-box, /var/log/nginx/hearth-dashboard.error.log"
else
  LOGS="$HEARTH_LOG_DIR/admin.log, $HEARTH_LOG_DIR/box.log, /var/log/nginx/hearth-dashboard.error.log"
fi
if [ ! -f "$ADMIN_BUILD_ID" ]; then
  hearth_die "admin is not built, so the dashboard cannot answer; everything else is installed"
fi
STATUS_URL="https://127.0.0.1/api/v1/status"
ready=0
deadline=$(($(date +%s) + READY_TIMEOUT))
last=""
while [ "$(date +%s)" -lt "$deadline" ]; do
  # 200 with this run's install id: a redirect, an error page or an admin still running from
  # an earlier install (another id, or none) is not ready
  if body="$(curl -fsS --max-time 5 --cacert "$CERT" -w '\n%{http_code}' "$STATUS_URL" 2>/dev/null)"; then
    code="${body##*$'\n'}"
    body="${body%$'\n'*}"
    if [ "$code" = 200 ] && printf '%s' "$body" | grep -q "\"installId\":\"$INSTALL_ID\""; then
      ready=1
      break
    fi
    last="HTTP $code: ${body:0:200}"
  fi
  sleep 1
done
if [ "$ready" != 1 ]; then
  if [ "$INIT" = direct ]; then
    for n in box admin; do
      echo "---- last lines of $HEARTH_LOG_DIR/$n.log ----" >&2
      [ ! -f "$HEARTH_LOG_DIR/$n.log" ] || tail -n 15 "$HEARTH_LOG_DIR/$n.log" >&2
    done
  fi
  [ -z "$last" ] || hearth_warn "the last answer was not this install's admin ($INSTALL_ID): $last"
  hearth_die "Hearth did not answer at $STATUS_URL within ${READY_TIMEOUT}s. Look at: $LOGS"
fi
hearth_say "status: $body"
hearth_say "install took $(($(date +%s) - T0))s"
if [ "$INIT" = direct ]; then
  hearth_say "note: without systemd nothing starts Hearth after a reboot; run this installer again then"
fi
echo "Hearth is ready: https://$SERVER_IP/"
if [ -n "$SETUP_CODE" ]; then
  echo "Setup code: $SETUP_CODE"
  echo "(open the address above and enter it to create the owner account; it is also in $SETUP_CODE_FILE)"
fi
