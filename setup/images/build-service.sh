#!/usr/bin/env bash
# Builds one addon service image, localhost/hearth/<service>:<version>, from setup/images/<service>/
# on top of localhost/hearth/base:bookworm (built first when missing):
#
#   setup/images/build-service.sh mariadb|postgresql|redis [--force]
#
# (each setup/images/<service>/build.sh calls this; build-all.sh runs those). The version
# and the infra version come from setup/images/services.env, the one place they are pinned.
#
# Idempotent: the image carries the label hearth.recipe=<hash of the base image's ID,
# services.env, this script and the service's folder>; when the tag exists with that label
# the build is skipped. --force (or HEARTH_SERVICE_FORCE=1) rebuilds anyway. The image
# also carries hearth.service, hearth.service.version and hearth.infra, which box puts on
# the containers it creates to know when they must be upgraded.
set -euo pipefail

HERE="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
BASE_IMAGE="${HEARTH_BASE_IMAGE:-localhost/hearth/base:bookworm}"
NAME="${1:-}"
FORCE="${HEARTH_SERVICE_FORCE:-0}"
[ "${2:-}" = "--force" ] && FORCE=1

say() { printf '%s\n' "hearth-$NAME: $*"; }
die() { printf '%s\n' "hearth-${NAME:-service}: error: $*" >&2; exit 1; }

case "$NAME" in
  mariadb | postgresql | redis) ;;
  *) die "usage: $0 mariadb|postgresql|redis [--force]" ;;
esac
DIR="$HERE/$NAME"
[ -f "$DIR/Dockerfile" ] || die "no $DIR/Dockerfile"

# services.env: plain KEY=VALUE lines; read, not sourced, so it stays data
ENV_FILE="$HERE/services.env"
declare -A PIN=()
while IFS= read -r line || [ -n "$line" ]; do
  case "$line" in '' | '#'*) continue ;; esac
  [[ "$line" =~ ^([A-Z][A-Z0-9_]*)=([A-Za-z0-9._-]+)$ ]] || die "$ENV_FILE: bad line: $line"
  PIN["${BASH_REMATCH[1]}"]="${BASH_REMATCH[2]}"
done <"$ENV_FILE"
VAR="$(printf '%s' "$NAME" | tr '[:lower:]' '[:upper:]')_VERSION"
VERSION="${PIN[$VAR]:-}"
INFRA="${PIN[INFRA_VERSION]:-}"
[ -n "$VERSION" ] || die "$ENV_FILE does not set $VAR"
[ -n "$INFRA" ] || die "$ENV_FILE does not set INFRA_VERSION"
IMAGE="localhost/hearth/$NAME:$VERSION"

T0=$(date +%s)
command -v docker >/dev/null || die "docker is not installed"
if ! docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  "$HERE/base/build.sh"
fi
base_id="$(docker image inspect -f '{{.Id}}' "$BASE_IMAGE")"

RECIPE="$( {
  printf '%s\n' "$base_id"
  cat "$ENV_FILE" "$HERE/build-service.sh"
  cd "$DIR" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
} | sha256sum | cut -c1-16)"

if [ "$FORCE" != 1 ]; then
  have="$(docker image inspect -f '{{ index .Config.Labels "hearth.recipe" }}' "$IMAGE" 2>/dev/null || true)"
  if [ "$have" = "$RECIPE" ]; then
    say "$IMAGE is up to date (recipe $RECIPE), skipped in $(($(date +%s) - T0))s"
    exit 0
  fi
fi

say "building $IMAGE (infra $INFRA, recipe $RECIPE)"
old="$(docker image inspect -f '{{.Id}}' "$IMAGE" 2>/dev/null || true)"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! docker build --pull=false --build-arg "VERSION=$VERSION" \
  --label "hearth.managed=true" --label "hearth.recipe=$RECIPE" --label "hearth.service=$NAME" \
  --label "hearth.service.version=$VERSION" --label "hearth.infra=$INFRA" \
  -t "$IMAGE" "$DIR" >"$log" 2>&1; then
  tail -n 40 "$log" >&2
  die "building $IMAGE from $DIR failed"
fi
new="$(docker image inspect -f '{{.Id}}' "$IMAGE")"
# the previous build is dropped unless a container still runs it (box replaces that
# container on its next start and removes the image then)
if [ -n "$old" ] && [ "$old" != "$new" ]; then docker image rm "$old" >/dev/null 2>&1 || true; fi

size="$(docker image inspect -f '{{.Size}}' "$IMAGE")"
say "built $IMAGE ($((size / 1048576)) MiB) in $(($(date +%s) - T0))s"
