#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Builds the local Debian base image localhost/hearth/base:bookworm, from which the addon service
# images and the built-in catalog's app images are built (no container registry needed):
#
#   setup/images/base/build.sh [--force]
#
# debootstrap --variant=minbase from the Debian mirror this machine's apt uses (read from
# /etc/apt/sources.list{,.d}), plus ca-certificates, then `docker import`. apt inside the
# image points at the same mirror, so Dockerfiles can `apt-get install`.
#
# Idempotent: the image carries the label hearth.recipe=<sha256 of this script, the
# mirrors, suite, architecture and package list>; when an image with that label exists the
# build is skipped. --force (or HEARTH_BASE_FORCE=1) rebuilds anyway.
# Downloaded .debs are cached in $HEARTH_BASE_CACHE (default /var/cache/hearth/debootstrap).
set -euo pipefail

HERE="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
IMAGE="${HEARTH_BASE_IMAGE:-localhost/hearth/base:bookworm}"
SUITE=bookworm
INCLUDE="ca-certificates"
CACHE="${HEARTH_BASE_CACHE:-/var/cache/hearth/debootstrap}"
FORCE="${HEARTH_BASE_FORCE:-0}"
[ "${1:-}" = "--force" ] && FORCE=1

say() { printf '%s\n' "hearth-base: $*"; }
die() { printf '%s\n' "hearth-base: error: $*" >&2; exit 1; }

T0=$(date +%s)
[ "$(id -u)" -eq 0 ] || die "run as root (debootstrap needs it)"
command -v docker >/dev/null || die "docker is not installed"
docker info >/dev/null 2>&1 || die "the Docker engine does not answer (docker info)"

# The mirrors apt uses: "<debian archive URI> <security archive URI or empty>".
# shellcheck source=../mirror.sh
. "$HERE/../mirror.sh"
read -r MIRROR SECURITY < <(hearth_apt_mirrors) || true
[ -n "${MIRROR:-}" ] || die "could not find a Debian mirror for $SUITE in /etc/apt/sources.list{,.d}"
ARCH="$(dpkg --print-architecture)"

RECIPE="$( { cat "$HERE/build.sh" "$HERE/../mirror.sh"; printf '%s\n' "$MIRROR" "${SECURITY:-}" "$SUITE" "$ARCH" "$INCLUDE"; } | sha256sum | cut -c1-16)"

if [ "$FORCE" != 1 ] && docker image inspect "$IMAGE" >/dev/null 2>&1; then
  have="$(docker image inspect -f '{{ index .Config.Labels "hearth.recipe" }}' "$IMAGE" 2>/dev/null || true)"
  if [ "$have" = "$RECIPE" ]; then
    say "$IMAGE is up to date (recipe $RECIPE), skipped in $(($(date +%s) - T0))s"
    exit 0
  fi
fi

if ! command -v debootstrap >/dev/null; then
  # shellcheck source=../../lib/common.sh
  . "$HERE/../../lib/common.sh"
  hearth_apt_install debootstrap
fi
say "building $IMAGE from $MIRROR ($SUITE, $ARCH, recipe $RECIPE)"

WORK="$(mktemp -d /var/tmp/hearth-base.XXXXXX)"
ROOT="$WORK/rootfs"
cleanup() {
  # debootstrap may leave proc/sys mounted when it fails
  for m in proc sys dev/pts dev; do umount -l "$ROOT/$m" 2>/dev/null || true; done
  rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT

mkdir -p "$CACHE" "$ROOT"
# apt's proxy, if the machine has one, also serves debootstrap
eval "$(apt-config shell HTTP_PROXY Acquire::http::Proxy 2>/dev/null || true)"
if [ -n "${HTTP_PROXY:-}" ]; then export http_proxy="$HTTP_PROXY"; fi

if ! debootstrap --variant=minbase --include="$INCLUDE" --cache-dir="$CACHE" \
  "$SUITE" "$ROOT" "$MIRROR" >"$WORK/debootstrap.log" 2>&1; then
  tail -n 30 "$WORK/debootstrap.log" >&2
  [ -f "$ROOT/debootstrap/debootstrap.log" ] && tail -n 30 "$ROOT/debootstrap/debootstrap.log" >&2
  die "debootstrap failed"
fi

# apt inside the image: the same mirror, no recommends, no caches left in layers
{
  printf 'deb %s %s main\n' "$MIRROR" "$SUITE"
  printf 'deb %s %s-updates main\n' "$MIRROR" "$SUITE"
  [ -n "${SECURITY:-}" ] && printf 'deb %s %s-security main\n' "$SECURITY" "$SUITE"
} >"$ROOT/etc/apt/sources.list"
cat >"$ROOT/etc/apt/apt.conf.d/90hearth" <<'APT'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
Acquire::Retries "3";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";
APT
# docs, man pages and translations are dead weight in containers
cat >"$ROOT/etc/dpkg/dpkg.cfg.d/90hearth-nodoc" <<'DPKG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
DPKG
# services installed by Dockerfiles must not start during the build
printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
chmod 0755 "$ROOT/usr/sbin/policy-rc.d"
printf 'hearth\n' >"$ROOT/etc/hostname"
: >"$ROOT/etc/resolv.conf"
rm -rf "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/lib/apt/lists/* "$ROOT"/debootstrap \
  "$ROOT"/var/log/*.log "$ROOT"/var/log/apt/* "$ROOT"/usr/share/doc/*/changelog* "$ROOT"/usr/share/man/* \
  "$ROOT"/tmp/* "$ROOT"/var/tmp/*
for m in proc sys dev/pts dev; do umount -l "$ROOT/$m" 2>/dev/null || true; done

# import; keep the previous image's ID to remove it once the new one is tagged
old="$(docker image inspect -f '{{.Id}}' "$IMAGE" 2>/dev/null || true)"
tar --numeric-owner --xattrs -C "$ROOT" -c . | docker import \
  --change "LABEL hearth.recipe=$RECIPE" \
  --change "LABEL hearth.managed=true" \
  --change "ENV LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
  --change 'CMD ["/bin/bash"]' \
  - "$IMAGE" >/dev/null
new="$(docker image inspect -f '{{.Id}}' "$IMAGE")"
if [ -n "$old" ] && [ "$old" != "$new" ]; then docker image rm "$old" >/dev/null 2>&1 || true; fi

size="$(docker image inspect -f '{{.Size}}' "$IMAGE")"
say "built $IMAGE (recipe $RECIPE, $((size / 1048576)) MiB) in $(($(date +%s) - T0))s"
