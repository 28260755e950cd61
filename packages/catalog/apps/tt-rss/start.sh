#!/bin/bash
# Hearth Tiny Tiny RSS: prepares /app/data (idempotent), writes tt-rss's config from the
# environment into /run, loads or updates the database schema and sets the admin's password
# (init.php), then runs the feed updater (update_daemon2.php as www-data, restarted when it
# exits) and Apache (children as www-data).
#
# /app/data/feed-icons  the feeds' icons
# /app/data/cache       tt-rss's caches (images, upload, export, feeds)
# The database is the postgresql addon's; the config with its credentials is regenerated in
# /run on every start (never stored in /app/data); lock files are in /run/tt-rss/lock.
set -euo pipefail
D=/app/data
WWW=/usr/share/tt-rss/www
H=/usr/share/hearth/tt-rss

mkdir -p "$D/feed-icons" "$D/cache/images" "$D/cache/upload" "$D/cache/export" "$D/cache/feeds"
find "$D/feed-icons" "$D/cache" \! -user www-data -exec chown -h www-data:www-data {} +
chown root:www-data "$D"
chmod 0750 "$D"

php "$H/configure.php"
(cd "$WWW" && runuser -u www-data -- php "$H/init.php")

# the feed updater, as www-data; restarted when it dies (its lock is released with it)
(
  while :; do
    echo "tt-rss: starting the feed updater"
    rc=0
    (cd "$WWW" && exec runuser -u www-data -- php "$WWW/update_daemon2.php") || rc=$?
    echo "tt-rss: the feed updater exited ($rc), restarting in 10 s" >&2
    sleep 10
  done
) &

echo "tt-rss: listening on :8000 (origin ${HEARTH_APP_ORIGIN:-unknown})"
mkdir -p /run/apache2
exec /usr/sbin/apache2 -f /etc/hearth/apache2.conf -DFOREGROUND
