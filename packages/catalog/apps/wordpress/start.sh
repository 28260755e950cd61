#!/bin/bash
# Hearth WordPress: prepares /app/data (idempotent), writes the config from the environment,
# installs or upgrades WordPress's database, then runs Apache (children as www-data).
#
# /app/data/wp-content   plugins, themes, uploads, languages (bundled themes and plugins are
#                        symlinks into the image, added when new, never overwritten)
# /app/data/wp-salts.php WordPress's keys and salts (made once)
# The database is the mysql addon's; the config with its credentials is regenerated in /run
# on every start (never stored in /app/data).
set -euo pipefail
D=/app/data
DIST=/usr/share/wordpress/wp-content
H=/usr/share/hearth/wordpress

for d in wp-content wp-content/plugins wp-content/themes wp-content/uploads wp-content/languages wp-content/upgrade; do
  mkdir -p "$D/$d"
done
for src in "$DIST"/themes/*/ "$DIST"/plugins/*/; do
  src="${src%/}"
  kind="${src%/*}"; kind="${kind##*/}"
  dest="$D/wp-content/$kind/${src##*/}"
  [ -e "$dest" ] || [ -L "$dest" ] || ln -s "$src" "$dest"
done
[ -f "$D/wp-content/index.php" ] || printf '<?php\n// Silence is golden.\n' >"$D/wp-content/index.php"
# only what is not www-data's yet: uploads can be many files
find "$D/wp-content" \! -user www-data -exec chown -h www-data:www-data {} +
chown root:www-data "$D"
chmod 0750 "$D"

php "$H/configure.php"
runuser -u www-data -- php "$H/install.php"

# WordPress's scheduled tasks (DISABLE_WP_CRON is set): every 5 minutes, as www-data
(
  while sleep 300; do
    runuser -u www-data -- php /usr/share/wordpress/wp-cron.php >/dev/null || echo "wordpress: wp-cron.php failed" >&2
  done
) &

echo "wordpress: listening on :8000 (origin ${HEARTH_APP_ORIGIN:-unknown})"
mkdir -p /run/apache2
exec /usr/sbin/apache2 -f /etc/hearth/apache2.conf -DFOREGROUND
