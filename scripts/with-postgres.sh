#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL cluster on 127.0.0.1.
# Usage: scripts/with-postgres.sh CMD [ARGS...]
#
# The command sees:
#   LINKGATE_TEST_POSTGRES      postgres://linkgate@127.0.0.1:PORT/linkgate?sslmode=disable
#   LINKGATE_TEST_POSTGRES_BIN  the server's bin dir (for createdb per test:
#                               "$LINKGATE_TEST_POSTGRES_BIN/createdb" -h 127.0.0.1 -p PORT -U linkgate NAME)
# The cluster (superuser "linkgate", trust auth) is stopped and deleted when the command ends;
# the script exits with the command's status. If LINKGATE_TEST_POSTGRES is already set, the
# command is run as is against that external server.
set -euo pipefail

if [ $# -eq 0 ]; then
    echo "usage: $0 CMD [ARGS...]" >&2
    exit 64
fi

if [ -n "${LINKGATE_TEST_POSTGRES:-}" ]; then
    exec "$@"
fi

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/install-deps.sh" postgresql

bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ] || [ ! -x "$bin/pg_ctl" ]; then
    echo "with-postgres: no PostgreSQL server binaries under /usr/lib/postgresql/*/bin" >&2
    exit 1
fi

# Short path under /tmp: world-traversable, and short enough for the Unix socket.
tmp="$(mktemp -d /tmp/linkgate-pg.XXXXXX)"
data="$tmp/data"
log="$tmp/log"
started=""

run_as=()
if [ "$(id -u)" -eq 0 ]; then
    if ! id postgres >/dev/null 2>&1; then
        echo "with-postgres: running as root but there is no 'postgres' system user" >&2
        rm -rf "$tmp"
        exit 1
    fi
    chown postgres:postgres "$tmp"
    run_as=(runuser -u postgres --)
fi

# Runs a PostgreSQL program as the unprivileged user, from a directory it can enter.
pg() {
    local program="$1"
    shift
    (cd "$tmp" && "${run_as[@]}" "$bin/$program" "$@")
}

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    if [ -n "$started" ]; then
        pg pg_ctl -D "$data" -m fast -w -t 60 stop >/dev/null 2>&1 || {
            echo "with-postgres: pg_ctl stop failed; the server log follows" >&2
            cat "$log" >&2 2>/dev/null || true
        }
    fi
    rm -rf "$tmp"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if ! pg initdb -D "$data" --auth=trust -U linkgate --encoding=UTF8 --locale=C >"$tmp/initdb.out" 2>&1; then
    echo "with-postgres: initdb failed:" >&2
    cat "$tmp/initdb.out" >&2
    exit 1
fi

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Another process may take the port between probing and binding: try a few times.
port=""
for attempt in 1 2 3; do
    candidate="$(free_port)"
    if pg pg_ctl -D "$data" -l "$log" \
        -o "-h 127.0.0.1 -p $candidate -k $tmp -c fsync=on" -w -t 60 start >"$tmp/pg_ctl.out" 2>&1; then
        port="$candidate"
        started=1
        break
    fi
    # A server that came up late (after the -t timeout) must not be left behind.
    pg pg_ctl -D "$data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
    if ! grep -qi 'could not bind\|address already in use' "$log" 2>/dev/null; then
        break
    fi
done
if [ -z "$port" ]; then
    echo "with-postgres: the PostgreSQL cluster failed to start; pg_ctl said:" >&2
    cat "$tmp/pg_ctl.out" >&2 || true
    echo "with-postgres: server log:" >&2
    cat "$log" >&2 2>/dev/null || true
    exit 1
fi

if ! "$bin/createdb" -h 127.0.0.1 -p "$port" -U linkgate linkgate >"$tmp/createdb.out" 2>&1; then
    echo "with-postgres: createdb linkgate failed:" >&2
    cat "$tmp/createdb.out" >&2
    cat "$log" >&2 2>/dev/null || true
    exit 1
fi

export LINKGATE_TEST_POSTGRES="postgres://linkgate@127.0.0.1:$port/linkgate?sslmode=disable"
export LINKGATE_TEST_POSTGRES_BIN="$bin"

set +e
"$@"
status=$?
set -e
exit "$status"
