#!/usr/bin/env bash
# Builds localhost/hearth/postgresql:<version> (version pinned in setup/images/services.env), skipped when
# unchanged: setup/images/postgresql/build.sh [--force]. See setup/images/build-service.sh.
set -euo pipefail
exec "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../build-service.sh" postgresql "$@"
