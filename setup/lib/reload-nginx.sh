#!/bin/bash
# Run by setup/install.sh as root (not a sudo helper: box installs its vhosts through
# setup/sudo/install-vhosts.sh, which reloads by itself): checks nginx's configuration and
# reloads nginx, or starts it when it is not running. Takes no arguments. A failed check
# prints nginx's message, exits 1 and leaves the running nginx untouched.
set -euo pipefail
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH

if [ $# -ne 0 ]; then
  echo "reload-nginx.sh takes no arguments" >&2
  exit 2
fi

if ! out="$(nginx -t 2>&1)"; then
  printf '%s\n' "$out" >&2
  exit 1
fi

if [ -d /run/systemd/system ] && [ "${HEARTH_INIT:-auto}" != direct ]; then
  if systemctl is-active --quiet nginx; then
    exec systemctl reload nginx
  fi
  exec systemctl start nginx
fi

pid="$(cat /run/nginx.pid 2>/dev/null || true)"
if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
  exec nginx -s reload
fi
# not running: start it (it daemonizes itself)
exec nginx </dev/null >/dev/null 2>&1
