#!/usr/bin/env bash
# Builds the local images Hearth needs, in order, each skipped when up to date:
#   1. localhost/hearth/base:bookworm (setup/images/base/build.sh)
#   2. the addon service images localhost/hearth/mariadb, localhost/hearth/postgresql, localhost/hearth/redis
#      (setup/images/<name>/build.sh; versions pinned in setup/images/services.env)
#   3. with --catalog, the built-in catalog's app images (packages/catalog/build.sh)
#
#   setup/images/build-all.sh [--catalog]
#
# Called by setup/install.sh and test/run.sh. Prints how long each part took.
set -euo pipefail
HERE="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
T0=$(date +%s)

"$HERE/base/build.sh"

# addon service images: every setup/images/<name>/build.sh except base's
for b in "$HERE"/*/build.sh; do
  [ "$b" = "$HERE/base/build.sh" ] && continue
  "$b"
done

if [ "${1:-}" = "--catalog" ]; then
  "$REPO/packages/catalog/build.sh"
fi
echo "hearth-images: all images ready in $(($(date +%s) - T0))s"
