#!/usr/bin/env bash
# The whole test suite on a fresh Debian 12 machine, as root:
#
#   sudo ./test/run.sh
#
# Installs what the tests need (Debian packages — among them the real peers the tests talk
# to: bind9 and PowerDNS for the DNS providers, Pebble as the ACME CA, docker-registry as a
# private registry —, the Node.js runtime, MariaDB's test
# account, the Docker engine), then: npm ci, prisma generate, type-check, lint (Biome), build box and
# admin, and the vitest projects unit, integration, install (runs setup/install.sh on this
# machine for real) and e2e (Playwright against that install). A failing phase does not
# stop the run; the summary at the end comes from the JSON reports in test-results/ and
# ends with one line `N passed, N failed, N skipped`. Exit status 0 only when nothing
# failed and every phase wrote its report. A project that finds no test file fails its
# phase (vitest's default; no --passWithNoTests): an empty or mis-globbed project is a hole.
#
# Each vitest project is stopped after a time limit (seconds; unit 600, integration 2700,
# scale 2400, install 3000 — it installs Hearth here and on two fresh containers —, e2e 900),
# overridable with HEARTH_TIMEOUT_<PROJECT>, e.g. HEARTH_TIMEOUT_E2E.
#
# The install project installs Hearth on this machine. When an earlier run (or anyone)
# installed it here already, its services are stopped, its database is dropped and its
# Docker containers, networks and volumes (label hearth.managed=true) are removed before
# the tests start, so the machine is as on a fresh one (integration tests find port 3000
# free, e2e finds no owner account); set HEARTH_TEST_KEEP_INSTALL=1 to keep them.
# shellcheck disable=SC2317  # functions here are run through timed/step
set -uo pipefail
umask 022

REPO="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
cd "$REPO" || exit 1
# shellcheck source=../setup/lib/common.sh
. "$REPO/setup/lib/common.sh"
# shellcheck source=../setup/lib/runtime.sh
. "$REPO/setup/lib/runtime.sh"

[ "$(id -u)" -eq 0 ] || hearth_die "run the test suite as root (it installs packages and Hearth itself): sudo $0"

RESULTS="$REPO/test-results"
PROJECTS=(unit integration scale install e2e)
STEP_ARGS=()
TIME_ARGS=()
PHASE_ARGS=()
T_ALL=$(date +%s)
export NEXT_TELEMETRY_DISABLED=1
export PATH="$HEARTH_RUNTIME/bin:$PATH"

rm -rf "$RESULTS"
mkdir -p "$RESULTS"

# timed NAME CMD...: runs CMD between two banner lines, the second with its duration.
timed() {
  local name="$1" t rc d
  shift
  t=$(date +%s)
  printf '\n======== %s ========\n' "$name"
  # in a subshell: a helper that exits (hearth_die) ends the step, not the run
  ("$@")
  rc=$?
  d=$(($(date +%s) - t))
  if [ "$rc" -eq 0 ]; then
    printf '======== %s: ok in %ss ========\n' "$name" "$d"
  else
    printf '======== %s: FAILED (exit %s) in %ss ========\n' "$name" "$rc" "$d"
  fi
  TIME_ARGS+=(--time "$name=$d")
  return "$rc"
}

# step NAME CMD...: a timed step that is not a test run; its result goes in the summary.
step() {
  local name="$1" rc
  timed "$@"
  rc=$?
  STEP_ARGS+=(--step "$name=$rc")
  return "$rc"
}

summary() {
  printf '\nwhole run: %ss\n' "$(($(date +%s) - T_ALL))"
  node "$REPO/test/summary.mjs" "$RESULTS" "${PHASE_ARGS[@]}" "${STEP_ARGS[@]}" "${TIME_ARGS[@]}"
}

# A step everything after depends on: when it fails, say so and stop.
fatal() {
  if ! step "$@"; then
    echo "test/run.sh: '$1' failed; nothing after it can run" >&2
    if command -v node >/dev/null; then
      summary
    else
      echo "0 passed, 1 failed"
    fi
    exit 1
  fi
}

# ---- the machine -----------------------------------------------------------------------
prepare_machine() {
  mkdir -p "$HEARTH_LOG_DIR"
  HEARTH_APT_LOG="$RESULTS/apt.log" hearth_apt_install \
    ca-certificates curl openssl sudo rsync iproute2 procps util-linux systemd \
    mariadb-server nginx docker.io chromium fonts-liberation \
    bind9-dnsutils bind9 pdns-server pdns-backend-sqlite3 pebble docker-registry apache2-utils libnss3-tools restic || return 1
  install_runtime || return 1
  echo "node $(node --version), npm $(npm --version 2>/dev/null)"
  hearth_start_mariadb || return 1
  mariadb --protocol=socket -uroot <<'SQL' || return 1
CREATE USER IF NOT EXISTS 'hearth_test'@'127.0.0.1' IDENTIFIED BY 'hearth_test';
CREATE USER IF NOT EXISTS 'hearth_test'@'localhost' IDENTIFIED BY 'hearth_test';
ALTER USER 'hearth_test'@'127.0.0.1' IDENTIFIED BY 'hearth_test';
ALTER USER 'hearth_test'@'localhost' IDENTIFIED BY 'hearth_test';
GRANT ALL PRIVILEGES ON *.* TO 'hearth_test'@'127.0.0.1' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO 'hearth_test'@'localhost' WITH GRANT OPTION;
FLUSH PRIVILEGES;
SQL
  echo "MariaDB is running; test account hearth_test@127.0.0.1/localhost ready"
  hearth_start_docker "$REPO/setup/lib" || return 1
  echo "Docker $(docker version --format '{{.Server.Version}}' 2>/dev/null) is running"
}

npm_ci() {
  # skipped when node_modules was installed from this very lockfile with this npm (dev
  # machines); a fresh clone always installs
  local key stamp="node_modules/.hearth-npm-ci"
  key="$(cat package-lock.json <(node --version) <(npm --version 2>/dev/null) | sha256sum | cut -d' ' -f1)"
  if [ -d node_modules ] && [ "$(cat "$stamp" 2>/dev/null)" = "$key" ]; then
    echo "node_modules is up to date with package-lock.json: npm ci skipped"
    return 0
  fi
  npm ci --no-audit --no-fund --loglevel=error || return 1
  echo "$key" >"$stamp"
}

typecheck() {
  local rc=0
  echo "+ tsc -p tsconfig.json"
  npx tsc -p tsconfig.json || rc=1
  if [ -f apps/admin/tsconfig.json ]; then
    echo "+ tsc -p apps/admin/tsconfig.json --noEmit"
    npx tsc -p apps/admin/tsconfig.json --noEmit || rc=1
  fi
  return "$rc"
}

vitest_phase() {
  local project="$1" limit var
  case "$project" in
    unit) limit=600 ;;
    # ~1300 s of tests on an idle 2-core machine since the terminal, files, metrics and backups tests (1450 s for 51 of 64 files on a busy one)
    integration) limit=2700 ;;
    # scale-200-apps.test.ts: 10 min on an idle 2-core machine, 28 min on a busy one
    scale) limit=2400 ;;
    install) limit=3000 ;;
    *) limit=900 ;;
  esac
  var="HEARTH_TIMEOUT_$(echo "$project" | tr '[:lower:]-' '[:upper:]_')"
  limit="${!var:-$limit}"
  echo "(time limit ${limit}s)"
  timeout --kill-after=30 "$limit" npx vitest run --project "$project" \
    --reporter=default --reporter=json --outputFile.json="$RESULTS/$project.json" </dev/null
  local rc=$?
  [ "$rc" -ne 124 ] || echo "test/run.sh: the $project project did not finish within ${limit}s and was stopped"
  return "$rc"
}

# Undoes what an earlier install on this machine left that would make this one not fresh:
# the running box and admin, the hearth database (the password file is kept) and its
# app-container firewall (tests give their apps relays on ports of their own).
reset_previous_install() {
  [ "${HEARTH_TEST_KEEP_INSTALL:-0}" = 1 ] && return 0
  "$REPO/setup/lib/app-firewall.sh" --remove || return 1
  [ -f "$HEARTH_ENV_FILE" ] || return 0
  echo "an earlier Hearth install is on this machine: stopping it and dropping its database"
  if hearth_has_systemd; then
    systemctl stop hearth-admin.service hearth-box.service 2>/dev/null || true
  else
    hearth_supervise_stop admin
    hearth_supervise_stop box
  fi
  mariadb --protocol=socket -uroot -e 'DROP DATABASE IF EXISTS `hearth`' || return 1
  # its Docker objects too (the addon services, their network and data, apps): a new database
  # is a new store identity, and box rightly refuses to take over objects of another store
  # ("the network hearth-services belongs to another Hearth installation"). Images stay.
  echo "removing the earlier install's Docker containers, networks and volumes (label hearth.managed=true)"
  docker ps -aq --filter label=hearth.managed=true | xargs -r docker rm -f >/dev/null || return 1
  docker network ls -q --filter label=hearth.managed=true | xargs -r docker network rm >/dev/null || return 1
  docker volume ls -q --filter label=hearth.managed=true | xargs -r docker volume rm -f >/dev/null || return 1
}

fatal "prepare the machine" prepare_machine
fatal "npm ci" npm_ci
fatal "prisma generate" npm run generate
step "type-check" typecheck
step "lint" npm run lint
step "build box" npm run build -w @hearth/box
step "build admin" npm run build -w @hearth/admin

step "reset an earlier install" reset_previous_install

for p in "${PROJECTS[@]}"; do
  timed "$p" vitest_phase "$p"
  PHASE_ARGS+=("$p=$?")
done

summary
exit $?
