#!/usr/bin/env bash
# `make soak`: the release gateway at full load for SOAK_SECONDS (default 300).
#
# On 127.0.0.1 and free ports, in a temporary folder: linkgate-echo as the upstream
# and `linkgate serve` (release build in .build-release, as bench-proxy.sh builds it)
# on a copy of bench/soak/policies with its own SQLite store. Then, for SOAK_SECONDS:
#   - wrk (bench/soak/load.lua) at full load on allowed requests, in turn a Connect
#     JWT (distinct tokens bound by qsh, bench/connect-tokens.py), a Bearer token of
#     the JWT bearer grant (GET, and POST with a body), HTTP Basic with an API token;
#     every answer must be 200 with the X-Linkgate-Auth of its kind, and wrk must
#     count no socket error;
#   - bench/soak/driver.py (.venv: requests, PyJWT) alongside: token exchanges
#     (JWT bearer grant), 3LO authorizations (login, consent, code) and refreshes
#     (rotation), and denials that must get their exact status (401, 403, 404, 400);
#     a policy reload every RELOAD_EVERY s (in turn SIGHUP and a change of
#     permissions.json, each checked in force within 2 s) and a revocation every
#     REVOKE_EVERY s (in turn `linkgate revoke --token`, POST /oauth2/revoke of a
#     2LOi and of a 3LO token, `linkgate api-token revoke`), each checked refused
#     within 2 s while the load's own credentials keep working; the gateway's VmRSS,
#     open file descriptors and threads sampled every SOAK_SAMPLE_SECONDS.
# It fails on any unexpected status, any socket error, a failed or missing reload,
# a revocation not honoured in 2 s, a store error or a 5xx in /metrics, an error
# line in the gateway's log, RSS growth over SOAK_RSS_GROWTH (10%) from the first
# window after warm-up to the last one, open file descriptors growing by more than
# SOAK_FD_SLACK over the same span, or a gateway that does not stop cleanly (exit 0)
# on SIGTERM afterwards.
# Everything it starts stops when it ends or is interrupted (bounded waits). The
# summary is printed at the end; .build-release/soak-results.json keeps the last
# run's figures with every sample. See docs/testing.md, "Soak: make soak".
#
# Environment: SOAK_SECONDS (300, at least 60), SOAK_WARMUP (max(30, SOAK_SECONDS/5)
# s, at most half the run), SOAK_CONNECTIONS (64), SOAK_THREADS (2, wrk's),
# SOAK_SAMPLE_SECONDS (2), RELOAD_EVERY (10), REVOKE_EVERY (30), SOAK_RSS_GROWTH
# (0.10), SOAK_FD_SLACK (8), SOAK_JWT_TOKENS (100000 distinct Connect JWTs, cycled),
# SOAK_BEARER_TOKENS (500), SOAK_DRIVER_RATE (5 driver steps a second: a steady
# rate, so that the new access tokens the gateway verifies and caches, about 1.4 KB
# each in its bounded cache, add the same to RSS on any machine), SWIFT (swift), SOAK_SKIP_BUILD=1 (run the release
# binaries already in .build-release without building), KEEP_SOAK_DIR=1 keeps the
# temporary folder (policies, store, logs, wrk output, results.json with every
# sample); it is kept after a failure too (not after an interruption).
# Each API-token revocation costs one failed Basic attempt from 127.0.0.1, and the
# login throttle refuses Basic from an address after 20 failures in 15 minutes:
# keep REVOKE_EVERY at 12 s or more for runs longer than a few minutes.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)

SWIFT=${SWIFT:-swift}
RELEASE_SWIFT_FLAGS=${RELEASE_SWIFT_FLAGS--Xswiftc -cross-module-optimization}   # as bench-proxy.sh's
SOAK_SECONDS=${SOAK_SECONDS:-300}
SOAK_CONNECTIONS=${SOAK_CONNECTIONS:-64}
SOAK_THREADS=${SOAK_THREADS:-2}
SOAK_SAMPLE_SECONDS=${SOAK_SAMPLE_SECONDS:-2}
RELOAD_EVERY=${RELOAD_EVERY:-10}
REVOKE_EVERY=${REVOKE_EVERY:-30}
SOAK_RSS_GROWTH=${SOAK_RSS_GROWTH:-0.10}
SOAK_FD_SLACK=${SOAK_FD_SLACK:-8}
SOAK_JWT_TOKENS=${SOAK_JWT_TOKENS:-100000}
SOAK_BEARER_TOKENS=${SOAK_BEARER_TOKENS:-500}
SOAK_DRIVER_RATE=${SOAK_DRIVER_RATE:-5}
# The password of soak-user in bench/soak/policies/users.json (its scrypt hash is there).
SOAK_PASSWORD=soak-user-password
REQUEST_PATH=/rest/api/3/project/PROJ

say() { echo "soak: $*"; }
die() { echo "soak: ERROR: $*" >&2; exit 1; }

for name in SOAK_SECONDS SOAK_CONNECTIONS SOAK_THREADS SOAK_SAMPLE_SECONDS RELOAD_EVERY REVOKE_EVERY \
    SOAK_FD_SLACK SOAK_JWT_TOKENS SOAK_BEARER_TOKENS SOAK_DRIVER_RATE; do
    [[ ${!name} =~ ^[0-9]+$ ]] && [ "${!name}" -gt 0 ] || die "$name=${!name}: a positive whole number, please"
done
[ "$SOAK_SECONDS" -ge 60 ] || die "SOAK_SECONDS=$SOAK_SECONDS: at least 60 (a warm-up, a reload, a revocation and two windows)"
if [ -z "${SOAK_WARMUP:-}" ]; then
    SOAK_WARMUP=$(( SOAK_SECONDS / 5 > 30 ? SOAK_SECONDS / 5 : 30 ))
fi
[[ $SOAK_WARMUP =~ ^[0-9]+$ ]] && [ "$SOAK_WARMUP" -le $(( SOAK_SECONDS / 2 )) ] \
    || die "SOAK_WARMUP=$SOAK_WARMUP: whole seconds, at most half of SOAK_SECONDS"

# --- tools ------------------------------------------------------------------
extra=(wrk)
command -v curl >/dev/null 2>&1 || extra+=(curl)
command -v python3 >/dev/null 2>&1 || extra+=(python3)
scripts/install-deps.sh "${extra[@]}"
command -v wrk >/dev/null 2>&1 || die "wrk not found on PATH"
scripts/python-env.sh
PYTHON="$ROOT/.venv/bin/python"

# --- release build (the same as bench-proxy.sh's) -----------------------------
if [ "${SOAK_SKIP_BUILD:-0}" = 1 ]; then
    say "SOAK_SKIP_BUILD=1: the release binaries already in .build-release, as they are"
else
    say "building linkgate in release mode (.build-release; the first build takes several minutes)"
    # shellcheck disable=SC2086 # RELEASE_SWIFT_FLAGS is a list of words
    "$SWIFT" build -c release --scratch-path .build-release $RELEASE_SWIFT_FLAGS
fi
# shellcheck disable=SC2086
BIN=$("$SWIFT" build -c release --scratch-path .build-release $RELEASE_SWIFT_FLAGS --show-bin-path)
LINKGATE="$BIN/linkgate"
ECHO="$BIN/linkgate-echo"
[ -x "$LINKGATE" ] && [ -x "$ECHO" ] || die "$LINKGATE or $ECHO was not built"

# --- temporary folder and clean-up ------------------------------------------
WORK=$(mktemp -d -t linkgate-soak.XXXXXX)
pids=()
PASSED=0   # the folder is kept after a failure (exit 1), not after an interruption
cleanup() {
    local status=$?
    trap - EXIT INT TERM
    # The driver first: it stops wrk itself.
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        for _ in $(seq 1 150); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            kill -KILL "$pid" 2>/dev/null || true
        fi
        wait "$pid" 2>/dev/null || true
    done
    rm -f "$WORK/jwt.txt"
    if [ "${KEEP_SOAK_DIR:-0}" = 1 ] || { [ "$PASSED" != 1 ] && [ "$status" = 1 ]; }; then
        echo "soak: kept $WORK (policies, store, logs, wrk output, results.json)"
    else
        rm -rf "$WORK"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# forget PID: no longer to be stopped by the clean-up (it has ended).
forget() {
    local kept=() pid
    for pid in "${pids[@]}"; do [ "$pid" = "$1" ] || kept+=("$pid"); done
    pids=("${kept[@]}")
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# wait_for_line NAME PID FILE PATTERN: at most 150 x 0.1 s for a start-up line.
wait_for_line() {
    local name=$1 pid=$2 file=$3 pattern=$4
    for _ in $(seq 1 150); do
        if grep -q -m1 -- "$pattern" "$file" 2>/dev/null; then return 0; fi
        kill -0 "$pid" 2>/dev/null || { cat "$file" "$file.err" >&2 2>/dev/null || true; die "$name exited during start-up"; }
        sleep 0.1
    done
    die "$name did not print \"$pattern\" within 15 s"
}

# --- the upstream and the gateway --------------------------------------------
ECHO_PORT=$(free_port)
GATEWAY_PORT=$(free_port)
ADMIN_PORT=$(free_port)
while [ "$GATEWAY_PORT" = "$ECHO_PORT" ]; do GATEWAY_PORT=$(free_port); done
while [ "$ADMIN_PORT" = "$ECHO_PORT" ] || [ "$ADMIN_PORT" = "$GATEWAY_PORT" ]; do ADMIN_PORT=$(free_port); done
BASE_URL="http://127.0.0.1:$GATEWAY_PORT"
# Tokens outlive the run: Connect JWTs (connectJwtMax) and 2LOi access tokens.
TOKEN_TTL=$(( SOAK_SECONDS + 3600 ))

cp -R bench/soak/policies "$WORK/policies"
python3 - "$WORK/policies" "$ECHO_PORT" "$GATEWAY_PORT" "$ADMIN_PORT" "$WORK/linkgate-soak.sqlite" "$TOKEN_TTL" <<'PY'
import json, sys
folder, echo, listen, admin, store, ttl = sys.argv[1:]
with open(f"{folder}/routes.json") as f:
    routes = json.load(f)
for upstream in routes["upstreams"].values():
    upstream["url"] = f"http://127.0.0.1:{echo}"
with open(f"{folder}/routes.json", "w") as f:
    json.dump(routes, f, indent=2)
with open(f"{folder}/gateway.json") as f:
    gateway = json.load(f)
gateway["baseUrl"] = f"http://127.0.0.1:{listen}"
gateway["listen"] = f"127.0.0.1:{listen}"
gateway["adminListen"] = f"127.0.0.1:{admin}"
gateway["store"] = f"sqlite:{store}"
gateway["lifetimes"]["jwtBearerAccessToken"] = int(ttl)
gateway["lifetimes"]["connectJwtMax"] = int(ttl)
with open(f"{folder}/gateway.json", "w") as f:
    json.dump(gateway, f, indent=2)
PY
"$LINKGATE" check --policies "$WORK/policies" >/dev/null || die "linkgate check rejected the soak policies"

"$ECHO" --listen "127.0.0.1:$ECHO_PORT" >"$WORK/echo.log" 2>"$WORK/echo.log.err" &
ECHO_PID=$!
pids+=("$ECHO_PID")
wait_for_line linkgate-echo "$ECHO_PID" "$WORK/echo.log" "listening on http://"

GATEWAY_LOG="$WORK/linkgate.log"   # the access log (info) and the reload lines
(cd "$WORK" && exec "$LINKGATE" serve --policies "$WORK/policies") >"$GATEWAY_LOG" 2>"$GATEWAY_LOG.err" &
GATEWAY_PID=$!
pids+=("$GATEWAY_PID")
wait_for_line linkgate "$GATEWAY_PID" "$GATEWAY_LOG" "linkgate: admin listener on http://"
grep -q -m1 "linkgate: main listener on http://127.0.0.1:$GATEWAY_PORT\$" "$GATEWAY_LOG" \
    || die "linkgate does not listen on $BASE_URL: $(grep -m1 'main listener' "$GATEWAY_LOG")"
[ "$(cat "/proc/$GATEWAY_PID/comm")" = linkgate ] || die "PID $GATEWAY_PID is not linkgate"
for _ in $(seq 1 50); do
    curl -sf --max-time 2 "http://127.0.0.1:$ADMIN_PORT/readyz" >/dev/null && break
    sleep 0.1
done
curl -sf --max-time 2 "http://127.0.0.1:$ADMIN_PORT/readyz" >/dev/null || die "linkgate is not ready (/readyz)"
say "linkgate (release) pid $GATEWAY_PID on $BASE_URL (admin :$ADMIN_PORT), linkgate-echo on :$ECHO_PORT, in $WORK"

# --- credentials for the load --------------------------------------------------
say "writing $SOAK_JWT_TOKENS distinct Connect JWTs (qsh of GET $REQUEST_PATH, ttl $TOKEN_TTL s)"
python3 bench/connect-tokens.py "$WORK/policies/apps/soak.json" GET "$REQUEST_PATH" "$SOAK_JWT_TOKENS" \
    "$WORK/jwt.txt" "$TOKEN_TTL" || die "bench/connect-tokens.py failed"

CONFIG="$WORK/config.json"
python3 - "$CONFIG" <<PY
import json, sys
work = "$WORK"
threads = "$SOAK_THREADS"
config = {
    "base_url": "$BASE_URL", "admin_url": "http://127.0.0.1:$ADMIN_PORT", "policies": work + "/policies",
    "work": work, "linkgate": "$LINKGATE", "gateway_pid": $GATEWAY_PID, "password": "$SOAK_PASSWORD",
    "duration": $SOAK_SECONDS, "warmup": $SOAK_WARMUP, "sample_seconds": $SOAK_SAMPLE_SECONDS,
    "reload_every": $RELOAD_EVERY, "revoke_every": $REVOKE_EVERY,
    "rss_growth_limit": float("$SOAK_RSS_GROWTH"), "fd_slack": $SOAK_FD_SLACK,
    "bearer_tokens": $SOAK_BEARER_TOKENS, "driver_rate": $SOAK_DRIVER_RATE,
    "bearer_file": work + "/bearer.txt", "basic_file": work + "/basic.txt",
    "outsider_file": work + "/outsider.txt", "wrk_output": work + "/wrk.txt", "results": work + "/results.json",
    "wrk_command": ["wrk", "-t" + threads, "-c$SOAK_CONNECTIONS", "-d${SOAK_SECONDS}s", "--timeout", "10s",
                    "-s", "$ROOT/bench/soak/load.lua", "$BASE_URL",
                    "--", work + "/jwt.txt", work + "/bearer.txt", work + "/basic.txt", threads],
}
with open(sys.argv[1], "w") as f:
    json.dump(config, f, indent=2)
PY
chmod 600 "$CONFIG"
"$PYTHON" bench/soak/driver.py prepare "$CONFIG" || die "the driver could not prepare the load's credentials"

# --- the soak ---------------------------------------------------------------
say "soak for $SOAK_SECONDS s (warm-up $SOAK_WARMUP s): wrk -t$SOAK_THREADS -c$SOAK_CONNECTIONS, the driver, a reload every $RELOAD_EVERY s, a revocation every $REVOKE_EVERY s; load $(cut -d' ' -f1-3 /proc/loadavg)"
"$PYTHON" bench/soak/driver.py run "$CONFIG" &
DRIVER_PID=$!
pids=("$DRIVER_PID" "${pids[@]}")
DRIVER_STATUS=0
wait "$DRIVER_PID" || DRIVER_STATUS=$?
forget "$DRIVER_PID"
# The last run's figures, every sample included, outlive the temporary folder.
if [ -f "$WORK/results.json" ]; then cp "$WORK/results.json" .build-release/soak-results.json; fi

# --- shutdown: SIGTERM drains (at most 10 s) and exits 0 ------------------------
kill -0 "$GATEWAY_PID" 2>/dev/null || die "linkgate died during the soak (see $GATEWAY_LOG.err)"
FDS_IDLE=$(ls "/proc/$GATEWAY_PID/fd" | wc -l)
kill -TERM "$GATEWAY_PID"
stopped=0
for _ in $(seq 1 200); do
    kill -0 "$GATEWAY_PID" 2>/dev/null || { stopped=1; break; }
    sleep 0.1
done
GATEWAY_STATUS=stuck
if [ "$stopped" = 1 ]; then
    GATEWAY_STATUS=0
    wait "$GATEWAY_PID" || GATEWAY_STATUS=$?
    forget "$GATEWAY_PID"
fi
say "after the load: $FDS_IDLE open fds; SIGTERM -> linkgate exit $GATEWAY_STATUS; access log $(wc -l <"$GATEWAY_LOG") lines"
if [ -s "$GATEWAY_LOG.err" ]; then
    say "linkgate wrote to stderr (first 5 lines):"
    head -5 "$GATEWAY_LOG.err" >&2
fi
LOGGED_ERRORS=$(grep -Ec '^[^ ]+ (error|critical) ' "$GATEWAY_LOG" || true)
if [ "$LOGGED_ERRORS" != 0 ]; then
    say "linkgate logged $LOGGED_ERRORS errors (first 5):"
    grep -E -m5 '^[^ ]+ (error|critical) ' "$GATEWAY_LOG" >&2
fi
[ "$GATEWAY_STATUS" = 0 ] || die "linkgate did not stop cleanly on SIGTERM within 20 s (status $GATEWAY_STATUS)"
[ "$LOGGED_ERRORS" = 0 ] || die "linkgate logged errors during the soak (see $GATEWAY_LOG)"
[ "$DRIVER_STATUS" = 0 ] || die "the soak failed (summary above; details in $WORK/results.json)"
PASSED=1
say "PASS"
