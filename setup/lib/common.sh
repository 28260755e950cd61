# shellcheck shell=bash
# Helpers shared by setup/install.sh and test/run.sh. Source it; it defines functions only
# (and the paths below), it runs nothing.
# shellcheck disable=SC2034  # the paths are used by the scripts that source this file

HEARTH_HOME="${HEARTH_HOME:-/opt/hearth}"
HEARTH_RUNTIME="${HEARTH_RUNTIME:-$HEARTH_HOME/runtime}"
HEARTH_APP_DIR="$HEARTH_HOME/app"
HEARTH_STATE_DIR="$HEARTH_HOME/state"
HEARTH_DATA_DIR="/var/lib/hearth"
# what nginx's workers serve directly (the "app is starting" page, ACME challenges): readable
# by them, unlike the data dir
HEARTH_PUBLIC_DIR="/var/lib/hearth-public"
# root's (0750): only root-run scripts write here (the supervisor's logs, install.log)
HEARTH_LOG_DIR="/var/log/hearth"
# box's socket (hearth:hearth-sock 0750); no root-written file lives here
HEARTH_RUN_DIR="/run/hearth"
# the supervisor's pid files: root's (0700), so no other user can plant a link in their place
HEARTH_SUPERVISE_DIR="/run/hearth-supervise"
HEARTH_ETC_DIR="/etc/hearth"
HEARTH_ENV_FILE="$HEARTH_ETC_DIR/hearth.env"
HEARTH_TLS_DIR="$HEARTH_ETC_DIR/tls"
HEARTH_USER="hearth"
# admin's own user (internet-facing: no docker, no sudo, no app data) and the group of box's
# socket, which box and admin share instead of admin joining group hearth
HEARTH_ADMIN_USER="hearth-admin"
HEARTH_SOCK_GROUP="hearth-sock"
HEARTH_ADMIN_ENV_FILE="$HEARTH_ETC_DIR/admin.env"
# root's folder of the vhost set that setup/sudo/install-vhosts.sh installs for box
HEARTH_NGINX_ROOT_DIR="/etc/nginx/hearth"
# Packages' postinst scripts and apt itself must never wait for an answer.
export DEBIAN_FRONTEND=noninteractive

hearth_say() { printf '%s\n' "hearth: $*"; }
hearth_warn() { printf '%s\n' "hearth: warning: $*" >&2; }
hearth_die() { printf '%s\n' "hearth: error: $*" >&2; exit 1; }

# True when systemd manages this machine (PID 1). HEARTH_INIT=direct forces the
# no-systemd path, HEARTH_INIT=systemd insists on systemd.
hearth_has_systemd() {
  case "${HEARTH_INIT:-auto}" in
    direct) return 1 ;;
    systemd) return 0 ;;
  esac
  [ -d /run/systemd/system ]
}

# Debian packages from "$@" that are not installed yet, one a line.
hearth_missing_packages() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || printf '%s\n' "$p"
  done
}

# Installs the Debian packages in "$@" that are missing (apt-get update first, once).
# apt's output goes to $HEARTH_APT_LOG (default /var/log/hearth/apt.log).
hearth_apt_install() {
  local missing log="${HEARTH_APT_LOG:-$HEARTH_LOG_DIR/apt.log}"
  missing="$(hearth_missing_packages "$@" | tr '\n' ' ')"
  missing="${missing% }"
  if [ -z "$missing" ]; then
    return 0
  fi
  mkdir -p "$(dirname "$log")"
  hearth_say "installing Debian packages: $missing"
  if ! apt-get update -q >>"$log" 2>&1; then
    tail -n 20 "$log" >&2
    hearth_die "apt-get update failed (full output in $log)"
  fi
  # Without systemd, packages' postinst scripts start services through /etc/init.d, and
  # docker.io's fails the whole install when its init script cannot raise the open-files
  # limit. Hearth starts every service itself afterwards, so while apt runs, a policy-rc.d
  # (unless the machine has one already) tells invoke-rc.d not to start anything.
  local policy=/usr/sbin/policy-rc.d ours=0 rc=0
  if ! hearth_has_systemd && [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# written by Hearth while apt-get runs; removed afterwards\nexit 101\n' >"$policy"
    chmod 0755 "$policy"
    ours=1
  fi
  # shellcheck disable=SC2086
  apt-get install -y -q --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    $missing </dev/null >>"$log" 2>&1 || rc=$?
  [ "$ours" = 0 ] || rm -f "$policy"
  if [ "$rc" -ne 0 ]; then
    tail -n 30 "$log" >&2
    hearth_die "apt-get install $missing failed (full output in $log)"
  fi
}

# Mounts the cgroup hierarchies Docker needs when nothing did (no systemd, no
# cgroupfs-mount at boot): the same thing Debian's cgroupfs-mount does.
hearth_mount_cgroups() {
  [ -e /proc/cgroups ] && [ -d /sys/fs/cgroup ] || return 0
  if grep -qE '^[^ ]+ /sys/fs/cgroup(/[^ ]*)? (cgroup|cgroup2) ' /proc/self/mounts; then
    return 0
  fi
  mountpoint -q /sys/fs/cgroup || mount -t tmpfs -o uid=0,gid=0,mode=0755 cgroup /sys/fs/cgroup
  local sys
  for sys in $(awk '!/^#/ { if ($4 == 1) print $1 }' /proc/cgroups); do
    mkdir -p "/sys/fs/cgroup/$sys"
    mountpoint -q "/sys/fs/cgroup/$sys" || mount -n -t cgroup -o "$sys" cgroup "/sys/fs/cgroup/$sys" || rmdir "/sys/fs/cgroup/$sys" || true
  done
  # systemd-less docker also wants a name=systemd hierarchy for its cgroup driver
  mkdir -p /sys/fs/cgroup/systemd
  mountpoint -q /sys/fs/cgroup/systemd || mount -n -t cgroup -o none,name=systemd cgroup /sys/fs/cgroup/systemd || true
}

hearth_mariadb_up() { mariadb-admin ping >/dev/null 2>&1; }

# Starts MariaDB (systemd, or Debian's init script) and waits until it answers.
hearth_start_mariadb() {
  if hearth_has_systemd; then
    systemctl enable --now mariadb >/dev/null 2>&1 || systemctl start mariadb || true
  elif ! hearth_mariadb_up; then
    service mariadb start </dev/null >/dev/null 2>&1 || true
  fi
  local i
  for i in $(seq 1 60); do
    hearth_mariadb_up && return 0
    sleep 1
  done
  hearth_die "MariaDB did not start within 60s (see /var/log/mysql/ and 'journalctl -u mariadb' or /var/log/syslog)"
}

hearth_docker_up() { timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

# Starts the Docker engine and waits until it answers. Without systemd, Debian's
# /etc/init.d/docker cannot be used where the hard open-files limit is below 1048576 (it
# runs `ulimit -n 1048576` under `set -e` and gives up), so dockerd runs directly under
# Hearth's supervisor instead (logs in /var/log/hearth/dockerd.log).
# $1: directory holding supervise.sh (the checkout's or the installed setup/lib).
hearth_start_docker() {
  local libdir="$1"
  if hearth_docker_up; then
    return 0
  fi
  if hearth_has_systemd; then
    systemctl enable --now docker >/dev/null 2>&1 || systemctl start docker || true
  else
    hearth_mount_cgroups
    hearth_supervise_start dockerd root / "$libdir" /usr/sbin/dockerd -p /var/run/docker.pid
  fi
  local i
  for i in $(seq 1 60); do
    hearth_docker_up && return 0
    sleep 1
  done
  local where="/var/log/hearth/dockerd.log"
  hearth_has_systemd && where="journalctl -u docker"
  [ ! -f "$HEARTH_LOG_DIR/dockerd.log" ] || tail -n 20 "$HEARTH_LOG_DIR/dockerd.log" >&2
  hearth_die "the Docker engine did not start within 60s (see $where)"
}

# ---- the no-systemd service supervisor -------------------------------------------------

# The folders root's scripts write pid files and logs in: root's, and nothing another user
# left in them is followed. An older install made /var/log/hearth hearth's: it becomes
# root's, and what is not a root-owned regular file in it (a planted symlink, fifo, hard
# link target of someone else, folder) is removed.
hearth_root_dirs() {
  local d e
  for d in "$HEARTH_SUPERVISE_DIR" "$HEARTH_LOG_DIR"; do
    if [ -L "$d" ] || { [ -e "$d" ] && [ ! -d "$d" ]; }; then rm -f "$d"; fi
    mkdir -p "$d"
    chown root:root "$d"
  done
  chmod 0700 "$HEARTH_SUPERVISE_DIR"
  chmod 0750 "$HEARTH_LOG_DIR"
  for d in "$HEARTH_SUPERVISE_DIR" "$HEARTH_LOG_DIR"; do
    find "$d" -mindepth 1 -maxdepth 1 \( ! -user root -o ! -type f -o -links +1 \) -exec rm -rf {} + 2>/dev/null || true
  done
}

# hearth_root_only PATH: true when PATH, with every link resolved, is a regular file that
# root owns and no one else can write, in folders that root owns and no one else can write,
# up to /. For what a Hearth process loads from a path (LD_PRELOAD): no other user can
# change it underneath.
hearth_root_only() {
  local p
  p="$(readlink -e -- "$1")" || return 1
  [ -f "$p" ] || return 1
  while :; do
    [ "$(stat -c %u -- "$p")" = 0 ] || return 1
    [ $((0$(stat -c %a -- "$p") & 022)) -eq 0 ] || return 1
    [ "$p" = / ] && return 0
    p="$(dirname -- "$p")"
  done
}

# hearth_root_write FILE: stdin to FILE, root's, replacing whatever was there without
# following a link (the folder must be root's: see hearth_root_dirs).
hearth_root_write() {
  local f="$1" tmp
  tmp="$(mktemp "$(dirname "$f")/.tmp.XXXXXX")"
  cat >"$tmp"
  chmod 0644 "$tmp"
  mv -f "$tmp" "$f"
}

# True while process $1 exists and is not a zombie (an orphan's zombie lingers where PID 1
# does not reap, as in some containers, and would still answer kill -0).
hearth_alive() {
  local state
  state="$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null)"
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# The pid in a pid file when that process is alive, else nothing.
hearth_pid_of() {
  local f="$1" pid
  [ -s "$f" ] || return 1
  pid="$(cat "$f" 2>/dev/null)"
  case "$pid" in '' | *[!0-9]*) return 1 ;; esac
  hearth_alive "$pid" || return 1
  printf '%s\n' "$pid"
}

# Stops a service that hearth_supervise_start started: its supervisor, then (if it is
# still there) the service's process group. Prints what it stopped.
hearth_supervise_stop() {
  local name="$1" sup child i stopped=""
  sup="$(hearth_pid_of "$HEARTH_SUPERVISE_DIR/$name.supervisor.pid" || true)"
  if [ -z "$sup" ] && [ -f "$HEARTH_RUN_DIR/$name.supervisor.pid" ] && [ ! -L "$HEARTH_RUN_DIR/$name.supervisor.pid" ]; then
    # an older install's supervisor, whose pid file is in hearth's /run/hearth: believed only
    # for a root process that is that supervisor (checked below); its child is stopped by it
    sup="$(hearth_pid_of "$HEARTH_RUN_DIR/$name.supervisor.pid" || true)"
    [ -z "$sup" ] || [ "$(stat -c %u "/proc/$sup" 2>/dev/null)" = 0 ] || sup=""
  fi
  if [ -n "$sup" ] && tr '\0' ' ' <"/proc/$sup/cmdline" 2>/dev/null | grep -q "supervise.sh $name "; then
    kill -TERM "$sup" 2>/dev/null || true
    for i in $(seq 1 150); do
      hearth_alive "$sup" || break
      sleep 0.1
    done
    kill -KILL "$sup" 2>/dev/null || true
    stopped="supervisor $sup"
  fi
  child="$(hearth_pid_of "$HEARTH_SUPERVISE_DIR/$name.pid" || true)"
  if [ -n "$child" ]; then
    kill -TERM -- "-$child" 2>/dev/null || kill -TERM "$child" 2>/dev/null || true
    for i in $(seq 1 100); do
      hearth_alive "$child" || break
      sleep 0.1
    done
    kill -KILL -- "-$child" 2>/dev/null || kill -KILL "$child" 2>/dev/null || true
    stopped="${stopped:+$stopped, }process $child"
  fi
  rm -f "$HEARTH_SUPERVISE_DIR/$name.pid" "$HEARTH_SUPERVISE_DIR/$name.supervisor.pid"
  # pid files an older install kept in /run/hearth (hearth's, so only read, never trusted)
  [ -d "$HEARTH_RUN_DIR" ] && rm -f "$HEARTH_RUN_DIR/$name.pid" "$HEARTH_RUN_DIR/$name.supervisor.pid"
  [ -z "$stopped" ] || hearth_say "stopped the previous $name ($stopped)"
}

# hearth_supervise_start NAME USER WORKDIR LIBDIR CMD...: runs CMD as USER in WORKDIR under
# LIBDIR/supervise.sh, fully detached (own session, stdio to /var/log/hearth/NAME.log, which
# is root's and opened by root in a folder only root writes; supervise.sh rotates it by size).
hearth_supervise_start() {
  local name="$1" user="$2" dir="$3" libdir="$4" log
  shift 4
  hearth_root_dirs
  log="$HEARTH_LOG_DIR/$name.log"
  if [ -L "$log" ] || { [ -e "$log" ] && [ ! -f "$log" ]; }; then rm -rf "$log"; fi
  HEARTH_SUPERVISE_LOG="$log" setsid -f bash "$libdir/supervise.sh" "$name" "$user" "$dir" "$@" </dev/null >>"$log" 2>&1
  local i
  for i in $(seq 1 50); do
    hearth_pid_of "$HEARTH_SUPERVISE_DIR/$name.supervisor.pid" >/dev/null && return 0
    sleep 0.1
  done
  hearth_die "could not start the supervisor for $name (see $HEARTH_LOG_DIR/$name.log)"
}
