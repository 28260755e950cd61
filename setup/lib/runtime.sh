#!/usr/bin/env bash
# Installs Hearth's pinned Node.js runtime into $HEARTH_RUNTIME (default /opt/hearth/runtime).
#
# Why: Debian 12 ships Node 18, too old for Next 16 / Prisma 7, and a server may reach no
# site but the npm registry and Debian's apt. The official Node binaries are published on
# the npm registry as node-linux-<arch>, so we fetch them with `npm pack` (any npm can do
# that; Debian's `npm` package is used to bootstrap when no npm is present), plus a pinned
# npm. Idempotent: does nothing when the pinned versions are already in place.
set -euo pipefail

HEARTH_NODE_VERSION="${HEARTH_NODE_VERSION:-24.21.0}"
HEARTH_NPM_VERSION="${HEARTH_NPM_VERSION:-11.21.2}"
HEARTH_RUNTIME="${HEARTH_RUNTIME:-/opt/hearth/runtime}"

install_runtime() {
  local want="v${HEARTH_NODE_VERSION}"
  if [ -x "$HEARTH_RUNTIME/bin/node" ] && [ "$("$HEARTH_RUNTIME/bin/node" --version)" = "$want" ] \
     && [ -x "$HEARTH_RUNTIME/bin/npm" ] && [ "$("$HEARTH_RUNTIME/bin/npm" --version 2>/dev/null)" = "$HEARTH_NPM_VERSION" ]; then
    return 0
  fi
  local arch
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64|arm64) arch=arm64 ;;
    *) echo "hearth: unsupported CPU architecture $(uname -m)" >&2; return 1 ;;
  esac
  if ! command -v npm >/dev/null 2>&1; then
    echo "hearth: bootstrapping npm from Debian to fetch the Node.js runtime"
    apt-get install -y -q npm >/dev/null
  fi
  local tmp; tmp="$(mktemp -d)"
  ( cd "$tmp" && npm pack --silent "node-linux-${arch}@${HEARTH_NODE_VERSION}" "npm@${HEARTH_NPM_VERSION}" >/dev/null )
  rm -rf "$HEARTH_RUNTIME.new" && mkdir -p "$HEARTH_RUNTIME.new/lib/node_modules/npm" "$HEARTH_RUNTIME.new/bin"
  tar xzf "$tmp/node-linux-${arch}-${HEARTH_NODE_VERSION}.tgz" -C "$HEARTH_RUNTIME.new" --strip-components=1 package/bin/node
  tar xzf "$tmp/npm-${HEARTH_NPM_VERSION}.tgz" -C "$HEARTH_RUNTIME.new/lib/node_modules/npm" --strip-components=1
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$HEARTH_RUNTIME.new/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$HEARTH_RUNTIME.new/bin/npx"
  rm -rf "$tmp" "$HEARTH_RUNTIME.old"
  [ -e "$HEARTH_RUNTIME" ] && mv "$HEARTH_RUNTIME" "$HEARTH_RUNTIME.old"
  mv "$HEARTH_RUNTIME.new" "$HEARTH_RUNTIME"
  rm -rf "$HEARTH_RUNTIME.old"
  chmod -R a+rX "$HEARTH_RUNTIME"
  echo "hearth: Node.js $("$HEARTH_RUNTIME/bin/node" --version), npm $("$HEARTH_RUNTIME/bin/npm" --version) in $HEARTH_RUNTIME"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then install_runtime; fi
