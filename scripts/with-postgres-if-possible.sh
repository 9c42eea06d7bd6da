#!/usr/bin/env bash
# Runs a command under scripts/with-postgres.sh when a PostgreSQL server is at hand
# (LINKGATE_TEST_POSTGRES already set, or Debian's server installed or installable),
# otherwise on its own after saying what is skipped. LINKGATE_POSTGRES=0 skips it on
# purpose. `make bench` and `make bench-proxy` use it for their PostgreSQL rows.
# Usage: scripts/with-postgres-if-possible.sh "WHAT IS SKIPPED" CMD [ARGS...]
set -euo pipefail
cd "$(dirname "$0")/.."

skipped=$1
shift
if [ "${LINKGATE_POSTGRES:-1}" != 1 ]; then
    echo "LINKGATE_POSTGRES=${LINKGATE_POSTGRES}: $skipped" >&2
    exec "$@"
fi
if [ -n "${LINKGATE_TEST_POSTGRES:-}" ] || { scripts/install-deps.sh postgresql \
    && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; }; then
    exec scripts/with-postgres.sh "$@"
fi
echo "no PostgreSQL server (scripts/install-deps.sh postgresql): $skipped" >&2
exec "$@"
