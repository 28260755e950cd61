#!/bin/bash
# Hearth Static Site: prepares /app/data (idempotent), then runs lighttpd as www-data.
set -euo pipefail
if [ ! -d /app/data/public ]; then
  echo "static-site: first start, creating /app/data/public with a default page"
  mkdir -p /app/data/public
  cp -a /usr/share/hearth/default/public/. /app/data/public/
fi
chown -R www-data:www-data /app/data
echo "static-site: serving /app/data/public on :8000 (origin ${HEARTH_APP_ORIGIN:-unknown})"
# lighttpd points stdout at /dev/null and opens its logs after dropping root: its access log
# goes to a FIFO that cat copies to the container's stdout
rm -f /run/lighttpd-access.log
mkfifo -m 0600 /run/lighttpd-access.log
chown www-data:www-data /run/lighttpd-access.log
cat /run/lighttpd-access.log &
exec /usr/sbin/lighttpd -D -f /etc/hearth/lighttpd.conf
