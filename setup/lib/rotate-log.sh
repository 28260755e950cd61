# shellcheck shell=bash
# Size-based rotation of root's logs in /var/log/hearth, sourced by supervise.sh (which runs
# it every minute for the log it writes: box, admin, dockerd without systemd) and install.sh
# (install.log, apt.log). No cron and no logrotate daemon is needed, so it works where
# systemd is not PID 1. Under systemd, box's and admin's output goes to the journal, which
# rotates itself (SystemMaxUse=, journald's defaults).
#
# hearth_rotate_log FILE MAX_BYTES KEEP
#   When FILE has reached MAX_BYTES: FILE.(KEEP-1).gz … FILE.1.gz move up one (FILE.KEEP.gz
#   is dropped), FILE is copied to FILE.1.gz and then truncated in place ("copytruncate":
#   its writers hold it open with O_APPEND and go on at its new end, so no one has to reopen
#   it; a line written between the copy and the truncation is lost).
#   Root follows nothing another user could have planted: FILE's folder must be root's and
#   writable by no one else, and FILE and every rotated file must be root-owned regular files
#   with one link; anything else there is refused (exit 1, message on stderr) and left alone.
#   New files are made under names mktemp picks in that folder, then renamed into place
#   (rename replaces a name, it never follows it).
#   Exit 0: rotated or nothing to do; 1: refused.

hearth_rotate_log() {
  local f="$1" max="$2" keep="$3" dir size i tmp
  case "$max$keep" in '' | *[!0-9]*)
    echo "hearth_rotate_log: MAX_BYTES and KEEP must be numbers" >&2
    return 1
    ;;
  esac
  [ "$keep" -ge 1 ] || keep=1
  dir="$(dirname -- "$f")"
  if [ -L "$dir" ] || [ ! -d "$dir" ] || [ "$(stat -c %u -- "$dir")" != 0 ] || [ $((0$(stat -c %a -- "$dir") & 022)) -ne 0 ]; then
    echo "hearth_rotate_log: $dir must be a folder of root's that no one else can write; not rotating $f" >&2
    return 1
  fi
  # the copy of a rotation that was killed half-way (never one under way: those are fresh)
  find "$dir" -maxdepth 1 -type f -name '.rotate.*' -mmin +10 -delete 2>/dev/null || true
  [ -e "$f" ] || [ -L "$f" ] || return 0
  if ! hearth_rotate_is_roots_file "$f"; then
    echo "hearth_rotate_log: $f is not a root-owned regular file with one link; not rotating it" >&2
    return 1
  fi
  size="$(stat -c %s -- "$f")"
  [ "$size" -ge "$max" ] || return 0
  for ((i = 1; i <= keep + 1; i++)); do
    if { [ -e "$f.$i.gz" ] || [ -L "$f.$i.gz" ]; } && ! hearth_rotate_is_roots_file "$f.$i.gz"; then
      echo "hearth_rotate_log: $f.$i.gz is not a root-owned regular file with one link; not rotating $f" >&2
      return 1
    fi
  done
  rm -f -- "$f.$keep.gz" "$f.$((keep + 1)).gz"
  for ((i = keep - 1; i >= 1; i--)); do
    [ ! -e "$f.$i.gz" ] || mv -fT -- "$f.$i.gz" "$f.$((i + 1)).gz"
  done
  tmp="$(mktemp -- "$dir/.rotate.XXXXXXXX")" || return 1
  # copy, then truncate at once: what comes after the truncation starts the new file
  cat -- "$f" >"$tmp"
  : >"$f"
  chmod 0640 -- "$tmp"
  if gzip -n -q -- "$tmp"; then
    mv -fT -- "$tmp.gz" "$f.1.gz"
  else
    rm -f -- "$tmp" "$tmp.gz"
    echo "hearth_rotate_log: could not compress the copy of $f" >&2
    return 1
  fi
}

# A root-owned regular file (not a link) with one hard link.
hearth_rotate_is_roots_file() {
  [ ! -L "$1" ] && [ -f "$1" ] && [ "$(stat -c '%u %h' -- "$1")" = "0 1" ]
}

# rotate-log.sh --loop SUPERVISOR_PID NAME FILE MAX_BYTES KEEP EVERY
#   supervise.sh runs this beside its loop: hearth_rotate_log every EVERY seconds while
#   SUPERVISOR_PID lives (SIGTERM ends it at once); a refusal is logged once, not every time.
if [ "${BASH_SOURCE[0]}" = "$0" ] && [ "${1:-}" = "--loop" ]; then
  set -u
  [ $# -eq 7 ] || {
    echo "usage: rotate-log.sh --loop SUPERVISOR_PID NAME FILE MAX_BYTES KEEP EVERY" >&2
    exit 2
  }
  sup="$2" name="$3" file="$4" max_bytes="$5" keep="$6" every="$7"
  trap '' INT HUP
  nap="" said=""
  trap '[ -z "$nap" ] || kill "$nap" 2>/dev/null; exit 0' TERM
  while kill -0 "$sup" 2>/dev/null; do
    if refused="$(hearth_rotate_log "$file" "$max_bytes" "$keep" 2>&1)"; then said=""; elif [ "$refused" != "$said" ]; then
      printf '%s supervise[%s]: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$name" "$refused"
      said="$refused"
    fi
    sleep "$every" &
    nap=$!
    wait "$nap"
    nap=""
  done
fi
