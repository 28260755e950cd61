#!/usr/bin/env bash
# supervise.sh NAME USER[+GROUP,...] WORKDIR CMD [ARGS...]
#
# Hearth's stand-in for systemd on machines where systemd is not PID 1 (containers, CI
# microVMs). Runs CMD as USER with USER's primary group and exactly the supplementary
# groups after '+' (none without it; like SupplementaryGroups= in a unit) in WORKDIR with a clean
# environment plus its env file (read again at every start, by root): /etc/hearth/NAME.env
# when it exists (admin: admin.env, root:hearth-admin), else /etc/hearth/hearth.env for
# the hearth user only. Restarts it whenever it exits, like Restart=always. The service
# runs in a process group of its own so stopping kills everything it started, like
# KillMode=control-group.
#
#   /run/hearth-supervise/NAME.supervisor.pid   this loop          (SIGTERM: stop the service, exit)
#   /run/hearth-supervise/NAME.pid              the service itself
#   stdout/stderr                     whatever the caller gave (install.sh: /var/log/hearth/NAME.log)
# HEARTH_SUPERVISE_LOG: the log file that stdout/stderr are (hearth_supervise_start sets it).
# It is rotated by size every HEARTH_LOG_CHECK_SECONDS (60) once it reaches
# HEARTH_LOG_MAX_BYTES (10 MiB), keeping HEARTH_LOG_KEEP (5) gzipped copies: NAME.log.1.gz …
# (setup/lib/rotate-log.sh: copytruncate, in root's folder only, following no link).
# /run/hearth-supervise is root's (0700): the pid files are written and read by root only,
# so no other user can plant a link there or make root signal a process of its choosing.
set -uo pipefail

if [ $# -lt 4 ]; then
  echo "usage: supervise.sh NAME USER WORKDIR CMD [ARGS...]" >&2
  exit 2
fi
name="$1" user="${2%%+*}" workdir="$3"
extra_groups=""
case "$2" in *+*) extra_groups="${2#*+}" ;; esac
if [ -n "$extra_groups" ]; then group_args=(--groups="$extra_groups"); else group_args=(--clear-groups); fi
shift 3
run_dir="${HEARTH_SUPERVISE_DIR:-/run/hearth-supervise}"
if [ -f "/etc/hearth/$name.env" ]; then
  env_file="/etc/hearth/$name.env"
elif [ "$user" = hearth ]; then
  env_file=/etc/hearth/hearth.env
else
  env_file=""
fi
# the pid files' folder: root's, never a link, writable by no one else
if [ -L "$run_dir" ] || { [ -e "$run_dir" ] && [ ! -d "$run_dir" ]; }; then rm -f "$run_dir"; fi
mkdir -p -m 0700 "$run_dir"
if [ "$(stat -c %u "$run_dir")" != 0 ] || [ $(($(stat -c '0%a' "$run_dir") & 022)) -ne 0 ]; then
  echo "supervise.sh: $run_dir must be root's and writable only by root" >&2
  exit 1
fi
pid_file="$run_dir/$name.pid"
sup_file="$run_dir/$name.supervisor.pid"
path="/opt/hearth/runtime/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

log() { printf '%s supervise[%s]: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$name" "$*"; }

echo $$ >"$sup_file"
child=""
rotator=""

# the log's rotation: a loop beside this one that ends with it (stop() or, if this loop was
# killed, at its next check)
log_file="${HEARTH_SUPERVISE_LOG:-}"
if [ -n "$log_file" ]; then
  max_bytes="${HEARTH_LOG_MAX_BYTES:-10485760}" keep="${HEARTH_LOG_KEEP:-5}" every="${HEARTH_LOG_CHECK_SECONDS:-60}"
  # a process of its own (its command line is rotate-log.sh's, so `ps` and pgrep show one
  # supervise.sh per service), ending with this loop
  "$BASH" "$(dirname -- "${BASH_SOURCE[0]}")/rotate-log.sh" --loop "$$" "$name" "$log_file" "$max_bytes" "$keep" "$every" &
  rotator=$!
fi

stop() {
  trap - TERM INT HUP
  [ -z "$rotator" ] || kill "$rotator" 2>/dev/null
  if [ -n "$child" ] && kill -0 "$child" 2>/dev/null; then
    log "stopping $name (pid $child)"
    kill -TERM -- "-$child" 2>/dev/null || kill -TERM "$child" 2>/dev/null
    # wait (which also reaps it: a zombie would still answer kill -0) at most 10s
    (
      sleep 10
      if kill -0 -- "-$child" 2>/dev/null; then
        log "$name did not stop within 10s; killing it"
        kill -KILL -- "-$child" 2>/dev/null
      fi
    ) &
    killer=$!
    wait "$child" 2>/dev/null
    kill "$killer" 2>/dev/null
    # whatever it started and left behind in its process group
    kill -KILL -- "-$child" 2>/dev/null || true
  fi
  rm -f "$pid_file" "$sup_file"
  exit 0
}
trap stop TERM INT HUP

delay=1
while :; do
  envs=("PATH=$path" "LANG=C.UTF-8")
  if [ "$user" != root ]; then
    home="$(getent passwd "$user" | cut -d: -f6)"
    envs+=("HOME=${home:-/}" "USER=$user" "LOGNAME=$user")
  else
    envs+=("HOME=/root")
  fi
  if [ -n "$env_file" ] && [ -r "$env_file" ] && [ "$user" != root ]; then
    while IFS= read -r line || [ -n "$line" ]; do
      case "$line" in '' | '#'*) continue ;; *=*) envs+=("$line") ;; esac
    done <"$env_file"
  fi
  started=$(date +%s)
  log "starting: $*"
  if [ "$user" = root ]; then
    (cd "$workdir" && exec setsid env -i "${envs[@]}" "$@") &
  else
    (cd "$workdir" && exec setsid setpriv --reuid="$user" --regid="$user" "${group_args[@]}" --inh-caps=-all \
      env -i "${envs[@]}" "$@") &
  fi
  child=$!
  echo "$child" >"$pid_file"
  wait "$child"
  rc=$?
  ran=$(($(date +%s) - started))
  # a service that keeps dying at once is restarted less and less often (at most every 30s)
  if [ "$ran" -ge 30 ]; then delay=1; elif [ "$delay" -lt 30 ]; then delay=$((delay * 2)); fi
  log "$name exited with status $rc after ${ran}s; restarting in ${delay}s"
  kill -KILL -- "-$child" 2>/dev/null || true
  child=""
  rm -f "$pid_file"
  sleep "$delay" &
  wait $! || true
done
