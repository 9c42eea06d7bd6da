#!/usr/bin/env bash
# `make run`: start the echo upstream and the gateway on the example policies,
# then print two ready-to-paste curl commands (one allowed, one denied).
# Ctrl-C stops both.
set -euo pipefail

BIN_DIR=${1:?usage: scripts/run-demo.sh BIN_DIR}
# The example policies' addresses; a copy on other ports may set all three
# (the end-to-end test of this script does).
POLICIES=${POLICIES:-policies}
UPSTREAM=${UPSTREAM:-127.0.0.1:9000}
GATEWAY=${GATEWAY:-http://127.0.0.1:8080}
LOG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/linkgate-run.XXXXXX")

pids=()
stop() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap stop EXIT
trap 'exit 0' INT TERM

# Waits (at most 15 s) for a line in a log file; fails with the log otherwise.
wait_for_line() {
    local file=$1 pattern=$2
    for _ in $(seq 150); do
        grep -q "$pattern" "$file" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "run: no \"$pattern\" in $file:" >&2
    cat "$file" >&2
    exit 1
}

"$BIN_DIR/linkgate" check --policies "$POLICIES"

"$BIN_DIR/linkgate-echo" --listen "$UPSTREAM" >"$LOG_DIR/echo.log" 2>&1 &
pids+=($!)
wait_for_line "$LOG_DIR/echo.log" "listening on"

# Process substitution, not a pipe: $! is then the gateway's own pid (not tee's),
# so stopping this script stops the gateway.
"$BIN_DIR/linkgate" serve --policies "$POLICIES" > >(tee "$LOG_DIR/gateway.log") 2>&1 &
pids+=($!)
wait_for_line "$LOG_DIR/gateway.log" "admin listener on"

allowed_url=/rest/api/3/project/PROJ
denied_url='/rest/api/3/issue/PROJ-1?projectKey=PROJ'
allowed=$("$BIN_DIR/linkgate" token connect --policies "$POLICIES" --app com.example.reports \
    --method GET --url "$allowed_url" --ttl 3600)
denied=$("$BIN_DIR/linkgate" token connect --policies "$POLICIES" --app com.example.reports \
    --method DELETE --url "$denied_url" --ttl 3600)
# 2LOi: the Automation app trades an assertion for a Bearer token acting as alice.
alice=5b10ac8d82e05b22cc7d4ef5
assertion=$("$BIN_DIR/linkgate" token assertion --policies "$POLICIES" --app com.example.automation --user "$alice")
bearer=$(curl -s "$GATEWAY/oauth2/token" -d grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer \
    -d "assertion=$assertion" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
[ -n "$bearer" ] || { echo "run: the token endpoint gave no access token" >&2; exit 1; }

cat <<TEXT

Linkgate is running on $GATEWAY in front of the echo upstream on http://$UPSTREAM
(logs in $LOG_DIR). Try, from another terminal:

# Allowed: the Reports app reads project PROJ; the echo shows what the backend received.
curl -i -H 'Authorization: JWT $allowed' '$GATEWAY$allowed_url'

# Denied with 403: the Reports app holds only READ, and deleting an issue needs DELETE.
curl -i -X DELETE -H 'Authorization: JWT $denied' '$GATEWAY$denied_url'

# A Bearer token from the JWT bearer grant (2LOi): the Automation app acting as alice, for 15 minutes.
curl -i -H 'Authorization: Bearer $bearer' '$GATEWAY/rest/api/3/project/SECRET'
# Get another: an assertion signed with the app's secret, traded at the token endpoint (each works once).
curl -s $GATEWAY/oauth2/token -d grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer \\
     -d assertion=\$($BIN_DIR/linkgate token assertion --policies $POLICIES --app com.example.automation --user $alice)

# 3LO: open this in a browser, sign in as alice / alice-demo-password, approve. The browser then
# goes to http://127.0.0.1:8765/callback?code=... (nothing listens there: copy the code from the address bar).
$GATEWAY/authorize?response_type=code&client_id=automation-3lo&redirect_uri=http%3A%2F%2F127.0.0.1%3A8765%2Fcallback&scope=read%3Ajira-work%20offline_access&state=demo
# Then trade the code for tokens (it works once, for 10 minutes):
curl -s -u automation-3lo:demo-only-automation-3lo-client-secret $GATEWAY/oauth/token \\
     -d grant_type=authorization_code -d redirect_uri=http://127.0.0.1:8765/callback -d code=CODE
# Your connected apps: $GATEWAY/account/apps

The audit log: $BIN_DIR/linkgate audit --policies $POLICIES --since 15m
Health and metrics: curl http://127.0.0.1:8081/healthz ; curl http://127.0.0.1:8081/metrics
Explain a decision:  $BIN_DIR/linkgate explain --policies $POLICIES --app com.example.reports --method DELETE --path '$denied_url'
Press Ctrl-C to stop.
TEXT

wait "${pids[1]}"
