#!/usr/bin/env bash
# Installs Hearth's pinned Node.js runtime into $HEARTH_RUNTIME (default /opt/hearth/runtime).
#
# Why: Debian 12 ships Node 18, too old for Next 16 / Prisma 7, and a server may reach no
# site but the npm registry and Debian's apt. The official Node binaries are published on
# the npm registry as node-linux-<arch>, so we fetch them with `npm pack` (any npm can do
# that; Debian's `npm` package is used to bootstrap when no npm is present), plus a pinned
# npm. Idempotent: does nothing when the pinned versions are already in place.
#
# Run it, or source it and call install_runtime. Sourcing changes no shell options, and
# install_runtime checks each command itself, so it fails properly (returns 1) even where
# `set -e` is off or ignored (inside `if`, `||`).

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
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q npm </dev/null >/dev/null; then
      echo "hearth: could not install Debian's npm (needed once to fetch the Node.js runtime)" >&2
      return 1
    fi
  fi
  local tmp; tmp="$(mktemp -d)" || return 1
  if ! ( cd "$tmp" && npm pack --silent "node-linux-${arch}@${HEARTH_NODE_VERSION}" "npm@${HEARTH_NPM_VERSION}" >/dev/null ); then
    rm -rf "$tmp"
    echo "hearth: could not fetch node-linux-${arch}@${HEARTH_NODE_VERSION} and npm@${HEARTH_NPM_VERSION} with npm pack" >&2
    return 1
  fi
  rm -rf "$HEARTH_RUNTIME.new" && mkdir -p "$HEARTH_RUNTIME.new/lib/node_modules/npm" "$HEARTH_RUNTIME.new/bin" \
    && tar xzf "$tmp/node-linux-${arch}-${HEARTH_NODE_VERSION}.tgz" -C "$HEARTH_RUNTIME.new" --strip-components=1 package/bin/node \
    && tar xzf "$tmp/npm-${HEARTH_NPM_VERSION}.tgz" -C "$HEARTH_RUNTIME.new/lib/node_modules/npm" --strip-components=1 \
    && ln -s ../lib/node_modules/npm/bin/npm-cli.js "$HEARTH_RUNTIME.new/bin/npm" \
    && ln -s ../lib/node_modules/npm/bin/npx-cli.js "$HEARTH_RUNTIME.new/bin/npx" \
    && "$HEARTH_RUNTIME.new/bin/node" --version >/dev/null
  local ok=$?
  rm -rf "$tmp"
  if [ "$ok" -ne 0 ]; then
    rm -rf "$HEARTH_RUNTIME.new"
    echo "hearth: could not unpack the Node.js runtime into $HEARTH_RUNTIME" >&2
    return 1
  fi
  rm -rf "$HEARTH_RUNTIME.old"
  if [ -e "$HEARTH_RUNTIME" ]; then mv "$HEARTH_RUNTIME" "$HEARTH_RUNTIME.old" || return 1; fi
  mv "$HEARTH_RUNTIME.new" "$HEARTH_RUNTIME" || return 1
  rm -rf "$HEARTH_RUNTIME.old"
  chmod -R a+rX "$HEARTH_RUNTIME"
  echo "hearth: Node.js $("$HEARTH_RUNTIME/bin/node" --version), npm $("$HEARTH_RUNTIME/bin/npm" --version) in $HEARTH_RUNTIME"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  install_runtime
fi
