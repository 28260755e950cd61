#!/usr/bin/env bash
# Builds the built-in catalog's app images from packages/catalog/apps/<slug>/ (on top of
# localhost/hearth/base:bookworm, built first when missing), tagged with each manifest's dockerImage.
#
#   packages/catalog/build.sh [slug...]     (default: every app)
#
# An image is skipped when it exists with the label hearth.catalog.hash equal to a hash of
# its folder (and of the base image's ID); HEARTH_CATALOG_FORCE=1 rebuilds.
# Prints the time each build took.
set -euo pipefail
HERE="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
NODE="${NODE:-$(command -v node || echo /opt/hearth/runtime/bin/node)}"
say() { printf '%s\n' "hearth-catalog: $*"; }

"$REPO/setup/images/base/build.sh"
base_id="$(docker image inspect -f '{{.Id}}' localhost/hearth/base:bookworm)"

if [ "$#" -eq 0 ]; then
  for m in "$HERE"/apps/*/HearthManifest.json; do
    m="${m%/HearthManifest.json}"
    set -- "$@" "${m##*/}"
  done
fi
for slug in "$@"; do
  dir="$HERE/apps/$slug"
  [ -f "$dir/HearthManifest.json" ] || { echo "hearth-catalog: error: no app $slug" >&2; exit 1; }
  read -r image id version < <("$NODE" -e '
    const m = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    console.log(m.dockerImage, m.id, m.version);' "$dir/HearthManifest.json")
  case "$image" in
    localhost/hearth/?*) ;;
    *) echo "hearth-catalog: error: $slug: dockerImage $image is not a local Hearth image (localhost/hearth/...)" >&2; exit 1 ;;
  esac
  hash="$( { printf '%s\n' "$base_id"; cd "$dir" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum; } | sha256sum | cut -c1-16)"
  have="$(docker image inspect -f '{{ index .Config.Labels "hearth.catalog.hash" }}' "$image" 2>/dev/null || true)"
  if [ "${HEARTH_CATALOG_FORCE:-0}" != 1 ] && [ "$have" = "$hash" ]; then
    say "$image is up to date, skipped"
    continue
  fi
  t=$(date +%s)
  log="$(mktemp)"
  if ! docker build --pull=false --label "hearth.catalog.id=$id" --label "hearth.catalog.version=$version" \
    --label "hearth.catalog.hash=$hash" -t "$image" "$dir" >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    rm -f "$log"
    echo "hearth-catalog: error: building $image from $dir failed" >&2
    exit 1
  fi
  rm -f "$log"
  say "built $image in $(($(date +%s) - t))s"
done
