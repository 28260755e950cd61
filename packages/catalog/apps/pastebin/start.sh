#!/bin/bash
# Hearth Pastebin: prepares /app/data (idempotent), waits for PostgreSQL and Redis (bounded),
# migrates the schema, makes 'admin' on the first start, then runs gunicorn as the user pastebin.
#
# /app/data/secret.key  random key (made once) for the HMAC of client addresses in Redis's
#                       rate-limit keys; everything else is in the addons:
# PostgreSQL (postgresql addon)  accounts (scrypt hashes) and pastes; table schema_version
# Redis (redis addon)            login sessions, view counters, rate-limit windows
set -euo pipefail
D=/app/data
chown root:pastebin "$D"
chmod 0750 "$D"
if [ ! -s "$D/secret.key" ]; then
  (umask 077; head -c 48 /dev/urandom | base64 -w0 >"$D/secret.key.new" && mv "$D/secret.key.new" "$D/secret.key")
  echo "pastebin: made /app/data/secret.key"
fi
chown pastebin:pastebin "$D/secret.key"
chmod 0400 "$D/secret.key"

as_app() { setpriv --reuid=pastebin --regid=pastebin --init-groups -- "$@"; }
as_app /usr/bin/python3 -m pastebin.init

echo "pastebin: listening on :8000 (origin ${HEARTH_APP_ORIGIN:-unknown})"
exec setpriv --reuid=pastebin --regid=pastebin --init-groups -- \
  /usr/bin/gunicorn --bind 0.0.0.0:8000 --workers "${PASTEBIN_WORKERS:-2}" --threads 4 --worker-class gthread \
  --timeout 60 --graceful-timeout 20 --worker-tmp-dir /tmp --forwarded-allow-ips 127.0.0.1 \
  --access-logfile - --error-logfile - \
  --access-logformat '%({x-real-ip}i)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"' \
  'pastebin.app:create_app()'
