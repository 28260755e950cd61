#!/bin/bash
# Hearth DokuWiki: prepares /app/data (idempotent), then runs lighttpd + php-cgi as www-data (lighttpd drops root itself after opening its logs).
#
# /app/data/conf  DokuWiki's configuration (/etc/dokuwiki); files new in an image update are
#                 added, the admin's changes are kept
# /app/data/acl   acl.auth.php and users.auth.php
# /app/data/data  pages, media, revisions, cache, index
# On first start the user "admin" (group admin, DokuWiki's superuser) is created with the
# password in $DOKUWIKI_ADMIN_PASSWORD, or a random one that is printed to the log.
set -euo pipefail
D=/app/data
DIST=/usr/share/hearth/dokuwiki

mkdir -p "$D/conf" "$D/acl" "$D/data"
cp -an "$DIST/conf/." "$D/conf/"
cp -an "$DIST/data/." "$D/data/"
# Debian's conf keeps the ACL files in /var/lib/dokuwiki/acl (= /app/data/acl)
ln -sfn /var/lib/dokuwiki/acl/acl.auth.php "$D/conf/acl.auth.php"
ln -sfn /var/lib/dokuwiki/acl/users.auth.php "$D/conf/users.auth.php"

if [ ! -f "$D/acl/acl.auth.php" ]; then
  cat >"$D/acl/acl.auth.php" <<'ACL'
# acl.auth.php
# <?php exit()?>
# Hearth default: everyone may read, logged-in users may edit and upload.
*               @ALL          1
*               @user         8
ACL
fi
if [ ! -f "$D/acl/users.auth.php" ]; then
  password="${DOKUWIKI_ADMIN_PASSWORD:-}"
  generated=0
  if [ -z "$password" ]; then
    password="$(head -c 18 /dev/urandom | base64 | tr -d '/+=' | cut -c1-16)"
    generated=1
  fi
  hash="$(DW_PW="$password" php -r 'echo password_hash(getenv("DW_PW"), PASSWORD_BCRYPT);')"
  {
    printf '# users.auth.php\n# <?php exit()?>\n# login:passwordhash:Real Name:email:groups,comma,separated\n\n'
    printf 'admin:%s:Administrator:admin@%s:admin,user\n' "$hash" "${HEARTH_APP_DOMAIN:-localhost}"
  } >"$D/acl/users.auth.php"
  if [ "$generated" = 1 ]; then
    echo "dokuwiki: ============================================================"
    echo "dokuwiki: first start: log in as 'admin' with the password: $password"
    echo "dokuwiki: (change it under 'Update Profile' after logging in)"
    echo "dokuwiki: ============================================================"
  else
    echo "dokuwiki: first start: created the user 'admin' with the password from DOKUWIKI_ADMIN_PASSWORD"
  fi
fi

# stale locks and caches from a previous container are harmless, but temp files are not needed
rm -rf "$D/data/tmp"/* 2>/dev/null || true
chown -R www-data:www-data "$D"
chmod 0750 "$D/acl" "$D/data" "$D/conf"

echo "dokuwiki: listening on :8000 (origin ${HEARTH_APP_ORIGIN:-unknown})"
# lighttpd points stdout at /dev/null and opens its logs after dropping root: its access log
# goes to a FIFO that cat copies to the container's stdout
rm -f /run/lighttpd-access.log
mkfifo -m 0600 /run/lighttpd-access.log
chown www-data:www-data /run/lighttpd-access.log
cat /run/lighttpd-access.log &
exec /usr/sbin/lighttpd -D -f /etc/hearth/lighttpd.conf
