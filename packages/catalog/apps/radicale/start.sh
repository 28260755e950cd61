#!/bin/bash
# Hearth Radicale: prepares /app/data (idempotent), then runs Radicale as the user radicale.
#
# /app/data/collections  calendars and address books
# /app/data/users        htpasswd file (bcrypt); add users with `hearth-radicale-user NAME`
# On first start the user "admin" is created with the password in $RADICALE_ADMIN_PASSWORD,
# or a random one that is printed to the log.
set -euo pipefail
D=/app/data
mkdir -p "$D/collections"
if [ ! -s "$D/users" ]; then
  password="${RADICALE_ADMIN_PASSWORD:-}"
  generated=0
  if [ -z "$password" ]; then
    password="$(head -c 18 /dev/urandom | base64 | tr -d '/+=' | cut -c1-16)"
    generated=1
  fi
  printf '%s\n' "$password" | RADICALE_USERS_FILE="$D/users" /usr/local/bin/hearth-radicale-user admin >/dev/null
  if [ "$generated" = 1 ]; then
    echo "radicale: ============================================================"
    echo "radicale: first start: log in as 'admin' with the password: $password"
    echo "radicale: (add users or change passwords with: hearth-radicale-user NAME)"
    echo "radicale: ============================================================"
  else
    echo "radicale: first start: created the user 'admin' with the password from RADICALE_ADMIN_PASSWORD"
  fi
fi
chown -R radicale:radicale "$D"
chmod 0750 "$D/collections"
echo "radicale: listening on :5232 (origin ${HEARTH_APP_ORIGIN:-unknown})"
exec setpriv --reuid=radicale --regid=radicale --init-groups -- \
  /usr/bin/python3 -m radicale --config /etc/hearth/radicale.conf
