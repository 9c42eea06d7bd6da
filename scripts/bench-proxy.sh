#!/usr/bin/env bash
# `make bench-proxy`: linkgate as a proxy, side by side with nginx.
#
# Contenders, all on 127.0.0.1 and free ports, all in front of the same origin and
# all served from the same CPU(s):
#   nginx direct                  nginx answering a small body itself (the origin)
#   nginx proxy                   nginx as a plain reverse proxy in front of the origin
#   Apache mod_proxy              Apache httpd (event MPM, one child) as a plain
#                                 reverse proxy (bench/apache/proxy.conf.template)
#   Apache mod_oauth2             the same Apache, with mod_oauth2 verifying an HS256
#                                 JWT (the app's shared secret) on every request
#                                 (bench/apache/oauth2.conf.template)
#   linkgate (info log)           linkgate with a valid Connect JWT on a route that needs
#                                 a scope and a permission, proxying to the origin; the
#                                 default info access log goes to a file (production)
#   linkgate (log-level warning)  the same with --log-level warning: the cost of the log
#   linkgate (Bearer token)       the info-log gateway, same route, with an OAuth 2.0
#                                 access token of the JWT bearer grant (acting as the
#                                 user bench-user) instead of the Connect JWT
#   linkgate (API token, Basic)   the same gateway and route with an API token of bench-user
#                                 over HTTP Basic (the store vouches once, then the
#                                 gateway's cache of verified credentials answers)
#   linkgate (OAuth 1.0a 2LO)     the same with an application link's 2-legged requests
#                                 signed RSA-SHA1 (bench/oauth1-requests.py; a fresh nonce
#                                 each, checked and written to the store in shared inserts)
#   NIO floor, HTTP               bench/NIOFloorProxy: SwiftNIO's HTTP/1.1 server
#                                 handlers in front and its HTTP client handlers behind a
#                                 per-loop keep-alive pool, and no gateway logic at all:
#                                 the most any proxy built on NIO's HTTP handlers (as
#                                 linkgate's data plane is) can do on this machine
#   NIO floor, framing            the same program with HTTP/1.1 framed by hand on the
#                                 sockets' bytes (head forwarded as received, answers by
#                                 Content-Length), one layer below NIO's HTTP handlers
#   NIO floor, bytes              the same program relaying bytes between a client
#                                 connection and its own upstream connection (no HTTP):
#                                 the floor of NIO's sockets alone
#   nginx + linkgate authz        nginx with auth_request to the info-log gateway's authz
#                                 listener (--authz-listen; docs/forward-auth.md), then
#                                 proxying to the origin (bench/nginx/authz.conf.template):
#                                 its RPS is the authz listener's decisions per second,
#                                 reported beside nginx proxy and linkgate (info log)
#   nginx TLS                     nginx terminating TLS 1.2/1.3 in front of the origin
#                                 (bench/nginx/tls.conf.template)
#   linkgate TLS                  a third linkgate (info log) whose main listener speaks
#                                 TLS (gateway.json "tls", docs/tls.md), same route and
#                                 Connect JWTs; both TLS contenders use a P-256 certificate
#                                 from a throwaway CA made with openssl in the bench folder.
#                                 wrk keeps its connections alive, so the TLS figures are
#                                 the cost of TLS records per request, not of handshakes
# Every request of every contender goes through bench/token-cycle.lua, which
# sends the next token of a file: each round a fresh file of distinct Connect JWTs
# (bench/connect-tokens.py: each with the qsh of the benchmarked request, differing
# in jti and iat), so that linkgate (also behind nginx auth_request, which passes
# the original method and URI for the qsh) and mod_oauth2 verify every token and
# no cache of verified tokens answers; the Bearer contender sends its one access token.
# Every contender gets the same wrk settings, ROUNDS rounds interleaved, medians
# reported; then one run at RSS_CONNECTIONS connections measures the gateway's
# memory (VmHWM / VmRSS), and ROUNDS runs of bench/token-exchange.lua against
# the info-log gateway's POST /oauth2/token (the jwt-bearer grant on the SQLite
# store), each round with a fresh file of never used assertions. Last, the
# two-CPU run: a second nginx origin and nginx proxy with two workers each and a
# second linkgate (info log), all allowed SCALE_CPUS, with wrk sharing them.
# Targets (docs in README.md, "The gateway as a proxy"): Connect JWT >= 0.7x
# nginx-proxy RPS and >= 3x Apache mod_oauth2 RPS, p99 within 2 ms of
# nginx-proxy's, RSS under 150 MB; Bearer RPS >= 0.95x Connect-JWT RPS; Basic and
# OAuth 1.0a 2LO RPS >= 0.5x Connect-JWT RPS;
# >= 3,000 token exchanges per second. nginx + linkgate authz and the TLS rows have
# no target, nor have the two NIO floors: the report gives their ratios (to nginx
# proxy, and linkgate's to the HTTP floor; the authz and TLS rows to nginx proxy and linkgate (info log);
# linkgate TLS / nginx TLS, and RPS with TLS / without for each).
#
# Environment: ROUNDS (3), DURATION (10s), WARMUP (2s), CONNECTIONS (32),
# RSS_CONNECTIONS (256), TOKEN_CONNECTIONS (CONNECTIONS), TOKEN_RATE_CEILING
# (20000: assertions generated per second of DURATION, more than the gateway can
# use), JWT_RATE_CEILING (50000: Connect JWTs generated per second of DURATION;
# a contender faster than that sends some twice, and the report says so),
# SCALE_JWT_RATE_CEILING (80000: the same for the two-CPU run, where linkgate passes 50,000/s),
# OAUTH1_RATE_CEILING (24000: signed OAuth 1.0a requests made per second of DURATION,
# each with its own nonce, their timestamps advancing one second every 24000 as a
# client's clock would; signing them takes a while before each round),
# APACHE_THREADS (64), SERVER_CPUS (0), CLIENT_CPUS (1), SCALE_CPUS (0,1; empty
# skips the two-CPU run), SWIFT (swift), LINKGATE (a linkgate binary to use
# instead of the release build; the default builds one in .build-release),
# RELEASE_SWIFT_FLAGS (-Xswiftc -cross-module-optimization: the release build's flags),
# NIO_FLOOR (a NIOFloorProxy binary; the default builds one in .build-bench with
# LINKGATE_BENCHMARKS=1),
# KEEP_BENCH_DIR=1 keeps the temporary folder (configs, logs, raw wrk output).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)

SWIFT=${SWIFT:-swift}
# How a release gateway is built (README, "Building for production"): with
# cross-module optimization, so that the decision, the JWT checks and NIO's
# generics are specialized and inlined into the data plane.
RELEASE_SWIFT_FLAGS=${RELEASE_SWIFT_FLAGS--Xswiftc -cross-module-optimization}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
CONNECTIONS=${CONNECTIONS:-32}
RSS_CONNECTIONS=${RSS_CONNECTIONS:-256}
TOKEN_CONNECTIONS=${TOKEN_CONNECTIONS:-$CONNECTIONS}
TOKEN_RATE_CEILING=${TOKEN_RATE_CEILING:-20000}
JWT_RATE_CEILING=${JWT_RATE_CEILING:-50000}
SCALE_JWT_RATE_CEILING=${SCALE_JWT_RATE_CEILING:-80000}
OAUTH1_RATE_CEILING=${OAUTH1_RATE_CEILING:-24000}
APACHE_THREADS=${APACHE_THREADS:-64}
THREADS=1
APP_KEY=com.example.reports
BEARER_USER=bench-user   # bench/policies/users.json; its group bench-readers may browse PROJ
APP_FILE=bench/policies/apps/reports.json   # the app APP_KEY: its shared secret signs the JWTs
LINK_CONSUMER=bench-link   # the consumer key of the application link added to the policy copy
REQUEST_PATH=/rest/api/3/project/PROJ

say() { echo "bench-proxy: $*"; }
die() { echo "bench-proxy: ERROR: $*" >&2; exit 1; }

# seconds_of DURATION: wrk's duration syntax (10, 10s, 2m, 1h) in whole seconds.
seconds_of() {
    case $1 in
        *h) echo $(( ${1%h} * 3600 )) ;;
        *m) echo $(( ${1%m} * 60 )) ;;
        *s) echo $(( ${1%s} )) ;;
        *) echo $(( $1 )) ;;
    esac
}
seconds_of "$DURATION" >/dev/null 2>&1 || die "DURATION=$DURATION: use wrk's syntax with whole numbers (10s, 2m)"
seconds_of "$WARMUP" >/dev/null 2>&1 || die "WARMUP=$WARMUP: use wrk's syntax with whole numbers (2s)"

# --- tools ------------------------------------------------------------------
extra=(nginx wrk apache2 libapache2-mod-oauth2)
command -v curl >/dev/null 2>&1 || extra+=(curl)
command -v python3 >/dev/null 2>&1 || extra+=(python3)
command -v taskset >/dev/null 2>&1 || extra+=(util-linux)
command -v openssl >/dev/null 2>&1 || extra+=(openssl)
scripts/install-deps.sh "${extra[@]}"
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
[ -x "$NGINX" ] || die "nginx not found (looked on PATH and at /usr/sbin/nginx)"
command -v wrk >/dev/null 2>&1 || die "wrk not found on PATH"
APACHE=${APACHE:-$(command -v apache2 || echo /usr/sbin/apache2)}
[ -x "$APACHE" ] || die "apache2 not found (looked on PATH and at /usr/sbin/apache2)"
APACHE_MODULES=${APACHE_MODULES:-/usr/lib/apache2/modules}
for module in mod_mpm_event mod_proxy mod_proxy_http mod_oauth2; do
    [ -f "$APACHE_MODULES/$module.so" ] || die "$APACHE_MODULES/$module.so not found"
done

# --- pinning: servers on one set of CPUs, the load generator on another -------
cpus=$(nproc)
if [ -z "${SERVER_CPUS+x}" ] && [ -z "${CLIENT_CPUS+x}" ] && [ "$cpus" -lt 2 ]; then
    SERVER_CPUS=0 CLIENT_CPUS=0
    PINNING="only 1 CPU: servers and wrk share CPU 0 (taskset -c 0)"
else
    SERVER_CPUS=${SERVER_CPUS:-0}
    CLIENT_CPUS=${CLIENT_CPUS:-1}
    PINNING="every server (nginx origin, nginx proxy, Apache, linkgate) on CPU $SERVER_CPUS (taskset -c $SERVER_CPUS); wrk on CPU $CLIENT_CPUS (taskset -c $CLIENT_CPUS); $cpus CPUs online"
fi
SCALE_CPUS=${SCALE_CPUS-0,1}
if [ -n "$SCALE_CPUS" ] && ! taskset -c "$SCALE_CPUS" true 2>/dev/null; then
    say "SCALE_CPUS=$SCALE_CPUS cannot be used here ($cpus CPUs online): no two-CPU run"
    SCALE_CPUS=""
fi

# --- release build ----------------------------------------------------------
if [ -n "${LINKGATE:-}" ]; then
    [ -x "$LINKGATE" ] || die "LINKGATE=$LINKGATE is not an executable"
    say "using $LINKGATE (LINKGATE), no build"
else
    say "building linkgate in release mode (.build-release, $RELEASE_SWIFT_FLAGS; the first build takes 20 minutes)"
    # shellcheck disable=SC2086 # RELEASE_SWIFT_FLAGS is a list of words
    "$SWIFT" build -c release --scratch-path .build-release $RELEASE_SWIFT_FLAGS
    # shellcheck disable=SC2086
    BIN=$("$SWIFT" build -c release --scratch-path .build-release $RELEASE_SWIFT_FLAGS --show-bin-path)
    LINKGATE="$BIN/linkgate"
    [ -x "$LINKGATE" ] || die "$LINKGATE was not built"
fi

if [ -n "${NIO_FLOOR:-}" ]; then
    [ -x "$NIO_FLOOR" ] || die "NIO_FLOOR=$NIO_FLOOR is not an executable"
else
    say "building the NIO floor proxy in release mode (.build-bench, LINKGATE_BENCHMARKS=1)"
    LINKGATE_BENCHMARKS=1 "$SWIFT" build -c release --scratch-path .build-bench --product NIOFloorProxy
    NIO_FLOOR="$(LINKGATE_BENCHMARKS=1 "$SWIFT" build -c release --scratch-path .build-bench --show-bin-path)/NIOFloorProxy"
    [ -x "$NIO_FLOOR" ] || die "$NIO_FLOOR was not built"
fi

# --- temporary folder and clean-up ------------------------------------------
WORK=$(mktemp -d -t linkgate-bench-proxy.XXXXXX)
pids=()
cleanup() {
    local status=$?
    trap - EXIT INT TERM
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            kill -KILL "$pid" 2>/dev/null || true
        fi
        wait "$pid" 2>/dev/null || true
    done
    if [ "${KEEP_BENCH_DIR:-0}" = 1 ]; then
        echo "bench-proxy: kept $WORK"
    else
        rm -rf "$WORK"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# wait_for_http NAME PID URL [CURL_ARGS...]: at most 100 x 0.1 s for any HTTP answer.
wait_for_http() {
    local name=$1 pid=$2 url=$3
    shift 3
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || die "$name exited during start-up (see its log in $WORK; KEEP_BENCH_DIR=1 keeps it)"
        if curl -s -o /dev/null --max-time 1 "$@" "$url"; then return 0; fi
        sleep 0.1
    done
    die "$name did not answer on $url within 10 s"
}

# wait_for_line NAME PID FILE PATTERN: at most 100 x 0.1 s for a start-up line.
wait_for_line() {
    local name=$1 pid=$2 file=$3 pattern=$4
    for _ in $(seq 1 100); do
        if grep -q -m1 -- "$pattern" "$file" 2>/dev/null; then return 0; fi
        kill -0 "$pid" 2>/dev/null || { cat "$file" "$file.err" >&2 2>/dev/null || true; die "$name exited during start-up"; }
        sleep 0.1
    done
    die "$name did not print \"$pattern\" within 10 s"
}

expect_status() {
    local what=$1 expected=$2 got
    shift 2
    got=$(curl -s -o "$WORK/sanity.body" -w '%{http_code}' --max-time 5 "$@") || got="no answer"
    if [ "$got" != "$expected" ]; then
        echo "bench-proxy: body of the answer:" >&2
        cat "$WORK/sanity.body" >&2 2>/dev/null || true
        echo >&2
        die "sanity check failed: $what answered $got, expected $expected"
    fi
    say "sanity: $what -> $got"
}

# --- nginx: origin, then a plain reverse proxy in front of it ----------------
ORIGIN_PORT=$(free_port)
PROXY_PORT=$(free_port)
while [ "$PROXY_PORT" = "$ORIGIN_PORT" ]; do PROXY_PORT=$(free_port); done
if [ "$(id -u)" -eq 0 ]; then
    USER_DIRECTIVE="user $(id -un) $(id -gn);"   # workers stay the current user, not nobody
else
    USER_DIRECTIVE=""
fi
# render_nginx TEMPLATE OUTPUT DIR PORT UPSTREAM_PORT WORKERS; @AUTHZ_PORT@ (the
# linkgate authz listener) and @TLS_DIR@ (the test certificate) come from AUTHZ_PORT
# and TLS_DIR once they are set.
render_nginx() {
    sed -e "s|@DIR@|$3|g" -e "s|@PORT@|$4|g" -e "s|@UPSTREAM_PORT@|$5|g" -e "s|@WORKERS@|$6|g" \
        -e "s|@AUTHZ_PORT@|${AUTHZ_PORT:-}|g" -e "s|@TLS_DIR@|${TLS_DIR:-}|g" \
        -e "s|@USER_DIRECTIVE@|$USER_DIRECTIVE|g" "$1" >"$2"
}
# start_nginx_pair DIR CPUS WORKERS ORIGIN_PORT PROXY_PORT: the origin and the proxy
# in front of it, both pinned to CPUS; sets STARTED_ORIGIN_PID and STARTED_PROXY_PID.
start_nginx_pair() {
    local dir=$1 cpus=$2 workers=$3 origin_port=$4 proxy_port=$5 name
    mkdir -p "$dir"
    render_nginx bench/nginx/origin.conf.template "$dir/origin.conf" "$dir" "$origin_port" "" "$workers"
    render_nginx bench/nginx/proxy.conf.template "$dir/proxy.conf" "$dir" "$proxy_port" "$origin_port" "$workers"
    for name in origin proxy; do
        "$NGINX" -t -q -p "$dir" -e "$dir/$name.error.log" -c "$dir/$name.conf" \
            || die "nginx rejected $dir/$name.conf"
    done
    taskset -c "$cpus" "$NGINX" -p "$dir" -e "$dir/origin.error.log" -c "$dir/origin.conf" &
    STARTED_ORIGIN_PID=$!; pids+=("$STARTED_ORIGIN_PID")
    wait_for_http "nginx origin ($dir)" "$STARTED_ORIGIN_PID" "http://127.0.0.1:$origin_port/"
    taskset -c "$cpus" "$NGINX" -p "$dir" -e "$dir/proxy.error.log" -c "$dir/proxy.conf" &
    STARTED_PROXY_PID=$!; pids+=("$STARTED_PROXY_PID")
    wait_for_http "nginx proxy ($dir)" "$STARTED_PROXY_PID" "http://127.0.0.1:$proxy_port/"
}
start_nginx_pair "$WORK/nginx" "$SERVER_CPUS" 1 "$ORIGIN_PORT" "$PROXY_PORT"
ORIGIN_PID=$STARTED_ORIGIN_PID
PROXY_PID=$STARTED_PROXY_PID

# --- the NIO floors: HTTP handlers and no gateway logic, framing by hand, bytes alone
FLOOR_HTTP_PORT=$(free_port)
taskset -c "$SERVER_CPUS" "$NIO_FLOOR" "$FLOOR_HTTP_PORT" "$ORIGIN_PORT" http >"$WORK/nio-floor-http.log" 2>&1 &
FLOOR_HTTP_PID=$!; pids+=("$FLOOR_HTTP_PID")
wait_for_http "NIO floor (HTTP)" "$!" "http://127.0.0.1:$FLOOR_HTTP_PORT/"
FLOOR_FRAMING_PORT=$(free_port)
taskset -c "$SERVER_CPUS" "$NIO_FLOOR" "$FLOOR_FRAMING_PORT" "$ORIGIN_PORT" framing >"$WORK/nio-floor-framing.log" 2>&1 &
FLOOR_FRAMING_PID=$!; pids+=("$FLOOR_FRAMING_PID")
wait_for_http "NIO floor (framing)" "$!" "http://127.0.0.1:$FLOOR_FRAMING_PORT/"
FLOOR_TCP_PORT=$(free_port)
taskset -c "$SERVER_CPUS" "$NIO_FLOOR" "$FLOOR_TCP_PORT" "$ORIGIN_PORT" tcp >"$WORK/nio-floor-tcp.log" 2>&1 &
FLOOR_TCP_PID=$!; pids+=("$FLOOR_TCP_PID")
wait_for_http "NIO floor (bytes)" "$!" "http://127.0.0.1:$FLOOR_TCP_PORT/"

# --- Apache: mod_proxy alone, and mod_oauth2 in front of mod_proxy -------------
# Both in the foreground (-DFOREGROUND), each with its own configuration, pid file
# and runtime folder under $WORK/apache; as root its children run as www-data
# (Apache refuses to serve as root), otherwise as the current user.
APACHE_PROXY_PORT=$(free_port)
APACHE_OAUTH2_PORT=$(free_port)
APACHE_DIR="$WORK/apache"
mkdir -p "$APACHE_DIR/mod_proxy-run" "$APACHE_DIR/oauth2-run"
if [ "$(id -u)" -eq 0 ]; then
    apache_user=www-data
    id -u "$apache_user" >/dev/null 2>&1 || apache_user=nobody
    APACHE_USER_DIRECTIVE="User $apache_user
Group $(id -gn "$apache_user")"
    chmod 711 "$WORK" "$APACHE_DIR"
    chown "$apache_user" "$APACHE_DIR/mod_proxy-run" "$APACHE_DIR/oauth2-run"
else
    APACHE_USER_DIRECTIVE=""
fi
# render_apache TEMPLATE OUTPUT NAME PORT: the shared secret is read from APP_FILE
# into the rendered copy only (never on a command line, never in a log).
render_apache() {
    python3 - "$@" "$APP_FILE" "$APACHE_DIR" "$ORIGIN_PORT" "$APACHE_THREADS" "$APACHE_MODULES" \
        "$APACHE_USER_DIRECTIVE" <<'PY'
import json, sys
template, output, name, port, app_file, directory, upstream, threads, modules, user = sys.argv[1:]
app = json.load(open(app_file))
text = open(template).read()
for key, value in {"DIR": directory, "NAME": name, "PORT": port, "UPSTREAM_PORT": upstream,
                   "THREADS": threads, "MODULES": modules, "USER_DIRECTIVE": user,
                   "APP_KEY": app["key"], "SECRET": app["sharedSecret"]}.items():
    text = text.replace(f"@{key}@", value)
with open(output, "w") as f:
    f.write(text)
PY
}
render_apache bench/apache/proxy.conf.template "$APACHE_DIR/mod_proxy.conf" mod_proxy "$APACHE_PROXY_PORT"
render_apache bench/apache/proxy.conf.template "$APACHE_DIR/oauth2-proxy.conf" oauth2 "$APACHE_OAUTH2_PORT"
render_apache bench/apache/oauth2.conf.template "$APACHE_DIR/oauth2.conf" oauth2 "$APACHE_OAUTH2_PORT"
chmod 600 "$APACHE_DIR"/*.conf
for name in mod_proxy oauth2; do
    "$APACHE" -t -f "$APACHE_DIR/$name.conf" >"$APACHE_DIR/$name.check" 2>&1 \
        || { cat "$APACHE_DIR/$name.check" >&2; die "apache2 rejected $APACHE_DIR/$name.conf"; }
done
taskset -c "$SERVER_CPUS" "$APACHE" -DFOREGROUND -f "$APACHE_DIR/mod_proxy.conf" >"$APACHE_DIR/mod_proxy.out" 2>&1 &
APACHE_PROXY_PID=$!; pids+=("$APACHE_PROXY_PID")
wait_for_http "Apache mod_proxy" "$APACHE_PROXY_PID" "http://127.0.0.1:$APACHE_PROXY_PORT/"
taskset -c "$SERVER_CPUS" "$APACHE" -DFOREGROUND -f "$APACHE_DIR/oauth2.conf" >"$APACHE_DIR/oauth2.out" 2>&1 &
APACHE_OAUTH2_PID=$!; pids+=("$APACHE_OAUTH2_PID")
wait_for_http "Apache mod_oauth2" "$APACHE_OAUTH2_PID" "http://127.0.0.1:$APACHE_OAUTH2_PORT/"

# --- TLS: a throwaway CA and a server certificate for 127.0.0.1 and localhost ---
# P-256 keys (0600), as docs/tls.md makes them; used by nginx TLS and linkgate TLS.
TLS_DIR="$WORK/tls"
mkdir -p "$TLS_DIR"
(
    cd "$TLS_DIR"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout ca.key -out ca.pem -days 2 -subj "/CN=linkgate bench-proxy test CA" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout server.key -out server.csr -subj "/CN=localhost"
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
        -days 2 -out server.pem -extfile server.ext
    chmod 600 ca.key server.key
) >"$TLS_DIR/openssl.log" 2>&1 || { cat "$TLS_DIR/openssl.log" >&2; die "openssl could not make the test certificate"; }
CACERT=(--cacert "$TLS_DIR/ca.pem")

# --- linkgate: the bench policy folder, pointed at the origin ----------------
GATEWAY_PORT=$(free_port)
ADMIN_PORT=$(free_port)
AUTHZ_PORT=$(free_port)
QUIET_PORT=$(free_port)
QUIET_ADMIN_PORT=$(free_port)
NIO_PATH_PORT=$(free_port)
NIO_PATH_ADMIN_PORT=$(free_port)
TLS_GATEWAY_PORT=$(free_port)
TLS_ADMIN_PORT=$(free_port)
# write_policies FOLDER ORIGIN_PORT LISTEN_PORT ADMIN_PORT STORE_FILE: a copy of
# bench/policies pointed at that origin, listening there, with its own store.
write_policies() {
    cp -R bench/policies "$1"
    python3 - "$@" <<'PY'
import json, sys
folder, origin, listen, admin, store = sys.argv[1:]
with open(f"{folder}/routes.json") as f:
    routes = json.load(f)
for upstream in routes["upstreams"].values():
    upstream["url"] = f"http://127.0.0.1:{origin}"
with open(f"{folder}/routes.json", "w") as f:
    json.dump(routes, f, indent=2)
with open(f"{folder}/gateway.json") as f:
    gateway = json.load(f)
gateway["baseUrl"] = f"http://127.0.0.1:{listen}"
gateway["listen"] = f"127.0.0.1:{listen}"
gateway["adminListen"] = f"127.0.0.1:{admin}"
gateway["store"] = f"sqlite:{store}"
with open(f"{folder}/gateway.json", "w") as f:
    json.dump(gateway, f, indent=2)
PY
}
write_policies "$WORK/policies" "$ORIGIN_PORT" "$GATEWAY_PORT" "$ADMIN_PORT" "$WORK/linkgate.sqlite"
# The info-log gateway also takes API tokens over Basic and an application link
# (OAuth 1.0a, 2-legged, acting as BEARER_USER): an RSA key made for this run, its
# public half in the policy copy, its private half only in the bench folder.
LINK_KEY="$WORK/link.private.pem"
mkdir -p "$WORK/policies/keys"
openssl genrsa -out "$LINK_KEY" 2048 2>/dev/null || die "openssl genrsa failed"
chmod 600 "$LINK_KEY"
openssl rsa -in "$LINK_KEY" -pubout -out "$WORK/policies/keys/bench-link.public.pem" 2>/dev/null \
    || die "openssl rsa -pubout failed"
python3 - "$WORK/policies" "$BEARER_USER" "$LINK_CONSUMER" <<'PY'
import json, sys
folder, user, consumer = sys.argv[1:]
with open(f"{folder}/gateway.json") as f:
    gateway = json.load(f)
gateway["basicAuth"] = True
with open(f"{folder}/gateway.json", "w") as f:
    json.dump(gateway, f, indent=2)
link = {
    "key": "com.example.benchlink", "name": "Benchmark application link", "enabled": True,
    "scopes": ["READ"], "appUser": "app-reports",
    "oauth1": {"consumerKey": consumer, "publicKeyFile": "keys/bench-link.public.pem",
               "twoLegged": {"enabled": True, "executeAs": user}, "twoLeggedImpersonation": False},
}
with open(f"{folder}/apps/benchlink.json", "w") as f:
    json.dump(link, f, indent=2)
# A 3LO client, for the code-exchange and refresh rounds (bench/oauth2-codes.py puts its codes in the store).
threelo = {
    "key": "com.example.bench3lo", "name": "Benchmark 3LO client", "enabled": True,
    "oauth2": {"clientId": "bench-3lo", "clientSecret": "bench-only-3lo-client-secret-0123456789",
               "public": False, "redirectUris": ["http://127.0.0.1:9/callback"],
               "scopes": ["read:jira-work", "offline_access"]},
}
with open(f"{folder}/apps/bench3lo.json", "w") as f:
    json.dump(threelo, f, indent=2)
PY
"$LINKGATE" check --policies "$WORK/policies" || die "linkgate check rejected the bench policies"
# The TLS gateway: a copy whose main listener speaks HTTPS with the test certificate.
write_policies "$WORK/policies-tls" "$ORIGIN_PORT" "$TLS_GATEWAY_PORT" "$TLS_ADMIN_PORT" "$WORK/linkgate-tls.sqlite"
python3 - "$WORK/policies-tls/gateway.json" "$TLS_DIR" "$TLS_GATEWAY_PORT" <<'PY'
import json, sys
path, tls, port = sys.argv[1:]
with open(path) as f:
    gateway = json.load(f)
gateway["baseUrl"] = f"https://127.0.0.1:{port}"
gateway["tls"] = {"certificateFile": f"{tls}/server.pem", "keyFile": f"{tls}/server.key"}
with open(path, "w") as f:
    json.dump(gateway, f, indent=2)
PY
"$LINKGATE" check --policies "$WORK/policies-tls" || die "linkgate check rejected the TLS bench policies"
TOKEN=$("$LINKGATE" token connect --policies "$WORK/policies" --app "$APP_KEY" \
    --method GET --url "$REQUEST_PATH" --ttl 3600)
[ -n "$TOKEN" ] || die "linkgate token connect printed no token"

# start_gateway LOG ARGS...: linkgate serve pinned to GATEWAY_CPUS (SERVER_CPUS),
# stdout (the access log) to LOG; sets STARTED_PID
start_gateway() {
    local log=$1
    shift
    # GATEWAY_ENV: NAME=VALUE words for the gateway's environment.
    (cd "$WORK" && exec env ${GATEWAY_ENV:-} taskset -c "${GATEWAY_CPUS:-$SERVER_CPUS}" "$LINKGATE" serve "$@" \
        >"$log" 2>"$log.err") &
    STARTED_PID=$!
    pids+=("$STARTED_PID")
}
GATEWAY_LOG="$WORK/linkgate-info.log"
QUIET_LOG="$WORK/linkgate-warning.log"
NIO_PATH_LOG="$WORK/linkgate-nio.log"
TLS_LOG="$WORK/linkgate-tls.log"
# The info-log gateway also serves the authz listener that nginx + linkgate authz asks.
start_gateway "$GATEWAY_LOG" --policies "$WORK/policies" --authz-listen "127.0.0.1:$AUTHZ_PORT"
GATEWAY_PID=$STARTED_PID
start_gateway "$QUIET_LOG" --policies "$WORK/policies" --log-level warning --listen "127.0.0.1:$QUIET_PORT" --admin-listen "127.0.0.1:$QUIET_ADMIN_PORT"
QUIET_PID=$STARTED_PID
# The same gateway with the byte path off: every request through NIO's HTTP handlers.
GATEWAY_ENV=LINKGATE_BYTE_PATH=off start_gateway "$NIO_PATH_LOG" --policies "$WORK/policies" \
    --listen "127.0.0.1:$NIO_PATH_PORT" --admin-listen "127.0.0.1:$NIO_PATH_ADMIN_PORT"
NIO_PATH_PID=$STARTED_PID
start_gateway "$TLS_LOG" --policies "$WORK/policies-tls"
TLS_GATEWAY_PID=$STARTED_PID
wait_for_line "linkgate (info log)" "$GATEWAY_PID" "$GATEWAY_LOG" "linkgate: main listener on http://"
wait_for_line "linkgate (info log)" "$GATEWAY_PID" "$GATEWAY_LOG" "linkgate: authz listener on http://"
wait_for_line "linkgate (log-level warning)" "$QUIET_PID" "$QUIET_LOG" "linkgate: main listener on http://"
wait_for_line "linkgate (byte path off)" "$NIO_PATH_PID" "$NIO_PATH_LOG" "linkgate: main listener on http://"
wait_for_line "linkgate (TLS)" "$TLS_GATEWAY_PID" "$TLS_LOG" "linkgate: main listener on https://"
# listener_port LOG [LISTENER]: the port on the start-up line of that listener
# ("main listener on http" unless told).
listener_port() { grep -m1 "linkgate: ${2:-main listener on http}://" "$1" | sed -E 's|.*:([0-9]+)$|\1|'; }
[ "$(listener_port "$GATEWAY_LOG")" = "$GATEWAY_PORT" ] || die "linkgate (info log) listens on $(listener_port "$GATEWAY_LOG"), not $GATEWAY_PORT"
[ "$(listener_port "$GATEWAY_LOG" "authz listener on http")" = "$AUTHZ_PORT" ] \
    || die "linkgate (info log) has its authz listener on $(listener_port "$GATEWAY_LOG" "authz listener on http"), not $AUTHZ_PORT"
[ "$(listener_port "$NIO_PATH_LOG")" = "$NIO_PATH_PORT" ] || die "linkgate (byte path off) listens on $(listener_port "$NIO_PATH_LOG"), not $NIO_PATH_PORT"
[ "$(listener_port "$QUIET_LOG")" = "$QUIET_PORT" ] || die "linkgate (log-level warning) listens on $(listener_port "$QUIET_LOG"), not $QUIET_PORT"
[ "$(listener_port "$TLS_LOG" "main listener on https")" = "$TLS_GATEWAY_PORT" ] \
    || die "linkgate (TLS) listens on $(listener_port "$TLS_LOG" "main listener on https"), not $TLS_GATEWAY_PORT"
[ "$(cat "/proc/$GATEWAY_PID/comm")" = linkgate ] || die "PID $GATEWAY_PID is not linkgate"
IDLE_RSS_KB=$(awk '/^VmRSS:/ { print $2 }' "/proc/$GATEWAY_PID/status")

# --- nginx in front of linkgate's authz listener, and nginx terminating TLS ----
AUTHZ_PROXY_PORT=$(free_port)
NGINX_TLS_PORT=$(free_port)
# start_nginx NAME TEMPLATE PORT [CURL_ARGS...]: one more nginx in front of the
# origin (one worker, pinned like the others, its files under $WORK/nginx, named
# after the template); sets STARTED_PID.
start_nginx() {
    local name=$1 template=$2 port=$3 dir="$WORK/nginx" conf scheme=http
    shift 3
    conf=$(basename "$template" .conf.template)
    [ "$conf" = tls ] && scheme=https
    render_nginx "$template" "$dir/$conf.conf" "$dir" "$port" "$ORIGIN_PORT" 1
    "$NGINX" -t -q -p "$dir" -e "$dir/$conf.error.log" -c "$dir/$conf.conf" \
        || die "nginx rejected $dir/$conf.conf"
    taskset -c "$SERVER_CPUS" "$NGINX" -p "$dir" -e "$dir/$conf.error.log" -c "$dir/$conf.conf" &
    STARTED_PID=$!; pids+=("$STARTED_PID")
    wait_for_http "$name" "$STARTED_PID" "$scheme://127.0.0.1:$port/" "$@"
}
start_nginx "nginx + linkgate authz" bench/nginx/authz.conf.template "$AUTHZ_PROXY_PORT"
AUTHZ_NGINX_PID=$STARTED_PID
start_nginx "nginx TLS" bench/nginx/tls.conf.template "$NGINX_TLS_PORT" "${CACERT[@]}"
NGINX_TLS_PID=$STARTED_PID

# --- sanity -----------------------------------------------------------------
expect_status "nginx direct" 200 "http://127.0.0.1:$ORIGIN_PORT$REQUEST_PATH"
expect_status "nginx proxy" 200 "http://127.0.0.1:$PROXY_PORT$REQUEST_PATH"
for port in "$GATEWAY_PORT" "$QUIET_PORT" "$NIO_PATH_PORT"; do
    expect_status "linkgate :$port with the Connect JWT" 200 \
        -H "Authorization: JWT $TOKEN" "http://127.0.0.1:$port$REQUEST_PATH"
    expect_status "linkgate :$port without a credential" 401 "http://127.0.0.1:$port$REQUEST_PATH"
done
say "sanity: linkgate's answer is the origin's body: $(curl -s -H "Authorization: JWT $TOKEN" "http://127.0.0.1:$GATEWAY_PORT$REQUEST_PATH")"

# --- distinct Connect JWTs: a fresh file for every round -----------------------
# connect_tokens COUNT FILE: COUNT distinct Connect JWTs for GET REQUEST_PATH, one a line.
connect_tokens() {
    python3 bench/connect-tokens.py "$APP_FILE" GET "$REQUEST_PATH" "$1" "$2" \
        || die "bench/connect-tokens.py failed"
}
TOKENS="$WORK/tokens.txt"
connect_tokens 3 "$TOKENS"
generated=$(head -1 "$TOKENS")
expect_status "linkgate :$GATEWAY_PORT with a generated Connect JWT (bench/connect-tokens.py)" 200 \
    -H "Authorization: JWT $generated" "http://127.0.0.1:$GATEWAY_PORT$REQUEST_PATH"
expect_status "Apache mod_proxy" 200 "http://127.0.0.1:$APACHE_PROXY_PORT$REQUEST_PATH"
expect_status "Apache mod_oauth2 with a generated JWT as Bearer token" 200 \
    -H "Authorization: Bearer $generated" "http://127.0.0.1:$APACHE_OAUTH2_PORT$REQUEST_PATH"
expect_status "Apache mod_oauth2 without a token" 401 "http://127.0.0.1:$APACHE_OAUTH2_PORT$REQUEST_PATH"
tampered=$(python3 -c '
import sys
t = sys.argv[1]; i = len(t) - 12
print(t[:i] + ("A" if t[i] != "A" else "B") + t[i + 1:])' "$generated")
expect_status "Apache mod_oauth2 with a tampered JWT" 401 \
    -H "Authorization: Bearer $tampered" "http://127.0.0.1:$APACHE_OAUTH2_PORT$REQUEST_PATH"
expect_status "linkgate :$GATEWAY_PORT with the same tampered JWT" 401 \
    -H "Authorization: JWT $tampered" "http://127.0.0.1:$GATEWAY_PORT$REQUEST_PATH"
say "sanity: Apache mod_oauth2's answer is the origin's body: $(curl -s -H "Authorization: Bearer $generated" "http://127.0.0.1:$APACHE_OAUTH2_PORT$REQUEST_PATH")"
AUTHZ_URL="http://127.0.0.1:$AUTHZ_PROXY_PORT$REQUEST_PATH"
authz_before=$(grep -c 'mode=authz' "$GATEWAY_LOG" || true)
expect_status "nginx + linkgate authz with a generated Connect JWT" 200 -H "Authorization: JWT $generated" "$AUTHZ_URL"
expect_status "nginx + linkgate authz without a credential" 401 "$AUTHZ_URL"
expect_status "nginx + linkgate authz with the tampered JWT" 401 -H "Authorization: JWT $tampered" "$AUTHZ_URL"
# The qsh names the original request: the same token for another target is refused.
expect_status "nginx + linkgate authz with the JWT on another target (qsh)" 401 -H "Authorization: JWT $generated" "$AUTHZ_URL?other=1"
for _ in $(seq 1 50); do   # the access log is written behind the answers
    authz_after=$(grep -c 'mode=authz' "$GATEWAY_LOG" || true)
    [ "$(( authz_after - authz_before ))" -ge 4 ] && break
    sleep 0.1
done
[ "$(( authz_after - authz_before ))" -eq 4 ] \
    || die "linkgate (info log) logged $(( authz_after - authz_before )) authz decisions (mode=authz) for the 4 requests through nginx + linkgate authz"
grep 'mode=authz' "$GATEWAY_LOG" | tail -n 1 | grep -q 'reason=qsh_mismatch' \
    || die "linkgate (info log) did not log the last authz decision as reason=qsh_mismatch"
say "sanity: linkgate logged the 4 decisions with mode=authz, the last with reason=qsh_mismatch; nginx + linkgate authz's answer is the origin's body: $(curl -s -H "Authorization: JWT $generated" "$AUTHZ_URL")"
NGINX_TLS_URL="https://127.0.0.1:$NGINX_TLS_PORT$REQUEST_PATH"
LINKGATE_TLS_URL="https://127.0.0.1:$TLS_GATEWAY_PORT$REQUEST_PATH"
expect_status "nginx TLS (curl --cacert the test CA)" 200 "${CACERT[@]}" "$NGINX_TLS_URL"
expect_status "linkgate TLS with a generated Connect JWT (curl --cacert the test CA)" 200 "${CACERT[@]}" \
    -H "Authorization: JWT $generated" "$LINKGATE_TLS_URL"
expect_status "linkgate TLS without a credential" 401 "${CACERT[@]}" "$LINKGATE_TLS_URL"
# tls_session PORT: protocol, cipher suite and key exchange as OpenSSL's client
# negotiates them (wrk uses the same library with its defaults); empty when the
# handshake or the verification against the test CA fails.
tls_session() {
    openssl s_client -brief -verify_return_error -CAfile "$TLS_DIR/ca.pem" -connect "127.0.0.1:$1" </dev/null 2>&1 \
        | awk -F': ' '/^Protocol version/ { p = $2 } /^Ciphersuite/ { c = $2 } /^(Server Temp Key|Negotiated TLS1.3 group)/ { k = $2 }
                      /^Verification: OK/ { v = 1 } END { if (v && p) print p ", " c ", " k ", certificate verified" }'
}
NGINX_TLS_SESSION=$(tls_session "$NGINX_TLS_PORT")
LINKGATE_TLS_SESSION=$(tls_session "$TLS_GATEWAY_PORT")
[ -n "$NGINX_TLS_SESSION" ] || die "openssl s_client: no verified TLS session with nginx TLS on :$NGINX_TLS_PORT"
[ -n "$LINKGATE_TLS_SESSION" ] || die "openssl s_client: no verified TLS session with linkgate TLS on :$TLS_GATEWAY_PORT"
say "sanity: TLS negotiated by OpenSSL's client: nginx $NGINX_TLS_SESSION; linkgate $LINKGATE_TLS_SESSION"
# fresh_tokens DURATION [RATE]: a new TOKENS file, RATE (JWT_RATE_CEILING) tokens per second of DURATION.
fresh_tokens() {
    rm -f "$TOKENS"
    connect_tokens $(( ${2:-$JWT_RATE_CEILING} * $(seconds_of "$1") )) "$TOKENS"
}

# --- API token (Basic) and application link (OAuth 1.0a 2LO), both as BEARER_USER ---
API_TOKEN=$("$LINKGATE" api-token create --policies "$WORK/policies" --user "$BEARER_USER" --label bench-proxy 2>/dev/null) \
    || die "linkgate api-token create failed"
BASIC=$(printf '%s:%s' "$BEARER_USER" "$API_TOKEN" | base64 -w0)
printf '%s\n' "$BASIC" >"$WORK/basic.txt"
expect_status "linkgate :$GATEWAY_PORT with the API token over Basic" 200 \
    -H "Authorization: Basic $BASIC" "http://127.0.0.1:$GATEWAY_PORT$REQUEST_PATH"
expect_status "linkgate :$GATEWAY_PORT with a wrong API token over Basic" 401 \
    -H "Authorization: Basic $(printf '%s:%s' "$BEARER_USER" "lgat_wrong" | base64 -w0)" \
    "http://127.0.0.1:$GATEWAY_PORT$REQUEST_PATH"
OAUTH1_REQUESTS="$WORK/oauth1.txt"
# fresh_oauth1 DURATION: a new file of signed 2-legged requests, OAUTH1_RATE_CEILING per second of DURATION,
# stamped as if sent at that rate (one timestamp for the whole file would be a client whose clock stood still).
# Made right before the OAuth 1.0a contender runs: its first timestamps are the time it is made, and a file
# made at the start of a round could be past the gateway's 5-minute window by then on a slow machine
# (signing takes minutes there, and ten contenders run before it).
fresh_oauth1() {
    rm -f "$OAUTH1_REQUESTS"
    python3 bench/oauth1-requests.py "$LINK_KEY" "$LINK_CONSUMER" GET "http://127.0.0.1:$GATEWAY_PORT$REQUEST_PATH" \
        $(( OAUTH1_RATE_CEILING * $(seconds_of "$1") )) "$OAUTH1_REQUESTS" "$OAUTH1_RATE_CEILING" \
        || die "bench/oauth1-requests.py failed"
}
python3 bench/oauth1-requests.py "$LINK_KEY" "$LINK_CONSUMER" GET "http://127.0.0.1:$GATEWAY_PORT$REQUEST_PATH" 1 \
    "$WORK/oauth1-sanity.txt" || die "bench/oauth1-requests.py failed"
signed=$(head -1 "$WORK/oauth1-sanity.txt")
expect_status "linkgate :$GATEWAY_PORT with a signed OAuth 1.0a 2LO request" 200 \
    -H "Authorization: OAuth $signed" "http://127.0.0.1:$GATEWAY_PORT$REQUEST_PATH"
expect_status "linkgate :$GATEWAY_PORT with the same OAuth 1.0a request again (a used nonce)" 401 \
    -H "Authorization: OAuth $signed" "http://127.0.0.1:$GATEWAY_PORT$REQUEST_PATH"

# --- the JWT bearer grant: an access token for BEARER_USER ---------------------
TOKEN_URL="http://127.0.0.1:$GATEWAY_PORT/oauth2/token"
GRANT_TYPE=urn:ietf:params:oauth:grant-type:jwt-bearer
# assertions COUNT FILE [FOLDER]: COUNT fresh assertions (ttl 600 = the bench assertionMax) for
# the gateway of FOLDER (the info-log gateway's by default), one a line.
assertions() {
    local count=$1 file=$2 folder=${3:-$WORK/policies} chunk
    : >"$file"
    while [ "$count" -gt 0 ]; do
        chunk=$(( count > 1000000 ? 1000000 : count ))
        "$LINKGATE" token assertion --policies "$folder" --app "$APP_KEY" --user "$BEARER_USER" \
            --ttl 600 --count "$chunk" >>"$file" || die "linkgate token assertion failed"
        count=$(( count - chunk ))
    done
}
# get_bearer: exchanges one fresh assertion; prints the access token.
get_bearer() {
    local assertion status
    assertion=$("$LINKGATE" token assertion --policies "$WORK/policies" --app "$APP_KEY" --user "$BEARER_USER" --ttl 60) \
        || die "linkgate token assertion failed"
    status=$(curl -s -o "$WORK/token.json" -w '%{http_code}' --max-time 5 \
        --data "grant_type=$GRANT_TYPE&assertion=$assertion" "$TOKEN_URL") || status="no answer"
    [ "$status" = 200 ] || { cat "$WORK/token.json" >&2 2>/dev/null || true; echo >&2; die "POST /oauth2/token answered $status, expected 200"; }
    python3 -c '
import json, sys
answer = json.load(open(sys.argv[1]))
assert answer.get("token_type") == "Bearer" and answer.get("access_token"), answer
print(answer["access_token"])' "$WORK/token.json" || die "POST /oauth2/token: no Bearer access token in $(cat "$WORK/token.json")"
}
BEARER=$(get_bearer)
say "sanity: POST /oauth2/token (jwt-bearer, user $BEARER_USER) -> 200, $(python3 -c '
import json, sys
a = json.load(open(sys.argv[1]))
print("token_type %s, scope %s, expires_in %s, token %d bytes" % (a["token_type"], a.get("scope"), a.get("expires_in"), len(a["access_token"])))' "$WORK/token.json")"
REPLAYED=$("$LINKGATE" token assertion --policies "$WORK/policies" --app "$APP_KEY" --user "$BEARER_USER" --ttl 60)
expect_status "POST /oauth2/token with a fresh assertion" 200 --data "grant_type=$GRANT_TYPE&assertion=$REPLAYED" "$TOKEN_URL"
expect_status "POST /oauth2/token with the same assertion again (replay)" 400 --data "grant_type=$GRANT_TYPE&assertion=$REPLAYED" "$TOKEN_URL"
expect_status "linkgate :$GATEWAY_PORT with the Bearer token" 200 \
    -H "Authorization: Bearer $BEARER" "http://127.0.0.1:$GATEWAY_PORT$REQUEST_PATH"
# Tampered: one character in the middle of the last segment (the signature) changed.
TAMPERED=$(python3 -c '
import sys
t = sys.argv[1]; i = len(t) - 12
print(t[:i] + ("A" if t[i] != "A" else "B") + t[i + 1:])' "$BEARER")
expect_status "linkgate :$GATEWAY_PORT with a tampered Bearer token" 401 \
    -H "Authorization: Bearer $TAMPERED" "http://127.0.0.1:$GATEWAY_PORT$REQUEST_PATH"

# --- wrk --------------------------------------------------------------------
# Every run goes through bench/token-cycle.lua (the next token of a file with every
# request); its done() hook prints exact figures (latencies in microseconds) on one line.
RESULTS="$WORK/results"
mkdir -p "$RESULTS"
# linkgate-bearer follows linkgate-info, so the two run back to back in every round;
# so do the two Apache peers, and the two TLS contenders.
contenders=(nginx-direct nginx-proxy nio-floor-http nio-floor-framing nio-floor-tcp apache-proxy apache-oauth2 linkgate-info linkgate-bearer linkgate-basic
    linkgate-oauth1 linkgate-warning linkgate-nio nginx-authz nginx-tls linkgate-tls)
url_of() {
    case $1 in
        nginx-direct) echo "http://127.0.0.1:$ORIGIN_PORT$REQUEST_PATH" ;;
        nginx-proxy) echo "http://127.0.0.1:$PROXY_PORT$REQUEST_PATH" ;;
        nio-floor-http) echo "http://127.0.0.1:$FLOOR_HTTP_PORT$REQUEST_PATH" ;;
        nio-floor-framing) echo "http://127.0.0.1:$FLOOR_FRAMING_PORT$REQUEST_PATH" ;;
        nio-floor-tcp) echo "http://127.0.0.1:$FLOOR_TCP_PORT$REQUEST_PATH" ;;
        apache-proxy) echo "http://127.0.0.1:$APACHE_PROXY_PORT$REQUEST_PATH" ;;
        apache-oauth2) echo "http://127.0.0.1:$APACHE_OAUTH2_PORT$REQUEST_PATH" ;;
        linkgate-info | linkgate-bearer | linkgate-basic | linkgate-oauth1)
            echo "http://127.0.0.1:$GATEWAY_PORT$REQUEST_PATH" ;;
        linkgate-warning) echo "http://127.0.0.1:$QUIET_PORT$REQUEST_PATH" ;;
        linkgate-nio) echo "http://127.0.0.1:$NIO_PATH_PORT$REQUEST_PATH" ;;
        nginx-authz) echo "$AUTHZ_URL" ;;
        nginx-tls) echo "$NGINX_TLS_URL" ;;
        linkgate-tls) echo "$LINKGATE_TLS_URL" ;;
        nginx-proxy-2cpu) echo "http://127.0.0.1:$SCALE_PROXY_PORT$REQUEST_PATH" ;;
        linkgate-2cpu) echo "http://127.0.0.1:$SCALE_GATEWAY_PORT$REQUEST_PATH" ;;
    esac
}
# tokens_of CONTENDER: the token file and the scheme. The round's Connect JWTs go
# to every contender but linkgate-bearer (nginx and Apache mod_proxy ignore them,
# Apache mod_oauth2 takes them as Bearer tokens, nginx + linkgate authz passes them
# to the authz listener), so every request has the same size; linkgate-bearer sends
# its one access token, linkgate-basic its one API token (answered from the gateway's
# cache of verified credentials after the first request), linkgate-oauth1 the round's
# signed 2-legged headers (each nonce new, so each one is checked and recorded).
tokens_of() {
    case $1 in
        linkgate-bearer) echo "$WORK/bearer.txt Bearer" ;;
        linkgate-basic) echo "$WORK/basic.txt Basic" ;;
        linkgate-oauth1) echo "$OAUTH1_REQUESTS OAuth" ;;
        apache-oauth2) echo "$TOKENS Bearer" ;;
        *) echo "$TOKENS JWT" ;;
    esac
}
# server_pids CONTENDER: the processes serving CONTENDER's requests, the origin
# aside: nginx's and Apache's masters with their workers, linkgate's process (all
# its threads), nginx + linkgate authz both.
server_pids() {
    local roots
    case $1 in
        nginx-direct) roots=$ORIGIN_PID ;;
        nginx-proxy) roots=$PROXY_PID ;;
        nio-floor-http) roots=$FLOOR_HTTP_PID ;;
        nio-floor-framing) roots=$FLOOR_FRAMING_PID ;;
        nio-floor-tcp) roots=$FLOOR_TCP_PID ;;
        apache-proxy) roots=$APACHE_PROXY_PID ;;
        apache-oauth2) roots=$APACHE_OAUTH2_PID ;;
        linkgate-info | linkgate-bearer | linkgate-basic | linkgate-oauth1) roots=$GATEWAY_PID ;;
        linkgate-warning) roots=$QUIET_PID ;;
        linkgate-nio) roots=$NIO_PATH_PID ;;
        nginx-authz) roots="$AUTHZ_NGINX_PID $GATEWAY_PID" ;;
        nginx-tls) roots=$NGINX_TLS_PID ;;
        linkgate-tls) roots=$TLS_GATEWAY_PID ;;
        nginx-proxy-2cpu) roots=$SCALE_PROXY_PID ;;
        linkgate-2cpu) roots=$SCALE_PID ;;
    esac
    for pid in $roots; do
        echo "$pid"
        pgrep -P "$pid" || true
    done
}
# server_usage PIDS...: "TICKS PREEMPTIONS WAITS": the CPU time of those processes
# (user and system, in clock ticks, from /proc/PID/stat), how often the scheduler
# took the CPU from one of their threads while it could still run
# (nonvoluntary_ctxt_switches of /proc/PID/task/*/status), and how often one of
# their threads gave it up to wait, in epoll_wait say (voluntary_ctxt_switches).
server_usage() {
    local ticks=0 preemptions=0 waits=0 pid status counts
    for pid in "$@"; do
        [ -r "/proc/$pid/stat" ] || continue
        # Fields after the command name's closing parenthesis: utime and stime are the 12th and 13th.
        ticks=$(( ticks + $(sed 's/.*) //' "/proc/$pid/stat" | awk '{ print $12 + $13 }') ))
        for status in /proc/"$pid"/task/*/status; do
            counts=$(awk '/^voluntary_ctxt_switches:/ { v = $2 } /^nonvoluntary_ctxt_switches:/ { n = $2 }
                END { print n + 0, v + 0 }' "$status" 2>/dev/null) || counts="0 0"
            preemptions=$(( preemptions + ${counts% *} ))
            waits=$(( waits + ${counts#* } ))
        done
    done
    echo "$ticks $preemptions $waits"
}
CLOCK_TICKS=$(getconf CLK_TCK)
# run_wrk CONTENDER CONNECTIONS DURATION OUTPUT [CPUS]: the same settings for everyone.
# OUTPUT also gets the load average and a "server" line: the serving processes'
# CPU ticks, preemptions and waits before and after the run, and the ticks per second.
run_wrk() {
    local file scheme servers before after
    read -r file scheme <<<"$(tokens_of "$1")"
    mapfile -t servers < <(server_pids "$1")
    before=$(server_usage "${servers[@]}")
    taskset -c "${5:-$CLIENT_CPUS}" wrk -t"$THREADS" -c"$2" -d"$3" --latency -s "$ROOT/bench/token-cycle.lua" \
        "$(url_of "$1")" -- "$file" "$scheme" "$THREADS" >"$4" 2>&1 \
        || { cat "$4" >&2; die "wrk failed against $1"; }
    after=$(server_usage "${servers[@]}")
    grep -q '^BENCH-SUMMARY ' "$4" || { cat "$4" >&2; die "wrk printed no summary against $1"; }
    echo "load $(cut -d' ' -f1-3 /proc/loadavg)" >>"$4"
    echo "server $before $after $CLOCK_TICKS" >>"$4"
}
# new_bearer: a fresh access token in bearer.txt (it lives jwtBearerAccessToken, 3600 s)
new_bearer() {
    BEARER=$(get_bearer)
    printf '%s\n' "$BEARER" >"$WORK/bearer.txt"
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
WRK_SETTINGS="wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency -s bench/token-cycle.lua, $ROUNDS rounds interleaved, medians"
say "pinning: $PINNING"
say "settings: $WRK_SETTINGS; warm-up $WARMUP each; $JWT_RATE_CEILING distinct Connect JWTs per second of each run, a fresh file each round"
say "Apache: $("$APACHE" -v | head -1 | sed 's/.*: //'), event MPM, one child of $APACHE_THREADS threads; mod_oauth2 $(dpkg-query -W -f='${Version}' libapache2-mod-oauth2 2>/dev/null || echo '?')"
new_bearer
fresh_tokens "$WARMUP"
for contender in "${contenders[@]}"; do
    if [ "$contender" = linkgate-oauth1 ]; then fresh_oauth1 "$WARMUP"; fi
    run_wrk "$contender" "$CONNECTIONS" "$WARMUP" "$RESULTS/warmup.$contender.txt"
done
for round in $(seq 1 "$ROUNDS"); do
    new_bearer
    fresh_tokens "$DURATION"
    for contender in "${contenders[@]}"; do
        if [ "$contender" = linkgate-oauth1 ]; then fresh_oauth1 "$DURATION"; fi
        run_wrk "$contender" "$CONNECTIONS" "$DURATION" "$RESULTS/$contender.$round.txt"
        say "round $round/$ROUNDS $contender: $(grep -m1 '^Requests/sec' "$RESULTS/$contender.$round.txt" | tr -s ' ')"
    done
done
LOAD_AFTER_ROUNDS=$(cut -d' ' -f1-3 /proc/loadavg)

# --- memory at RSS_CONNECTIONS connections ----------------------------------
say "memory: linkgate (info log) under wrk -c$RSS_CONNECTIONS for $DURATION"
fresh_tokens "$DURATION"
: >"$RESULTS/rss-samples.txt"
(
    while kill -0 "$GATEWAY_PID" 2>/dev/null; do
        awk '/^VmRSS:/ { print $2 }' "/proc/$GATEWAY_PID/status" >>"$RESULTS/rss-samples.txt" 2>/dev/null || true
        sleep 0.2
    done
) &
SAMPLER_PID=$!   # ends by itself when the gateway stops
run_wrk linkgate-info "$RSS_CONNECTIONS" "$DURATION" "$RESULTS/rss-run.txt"
kill "$SAMPLER_PID" 2>/dev/null || true
wait "$SAMPLER_PID" 2>/dev/null || true
awk '/^VmHWM:|^VmRSS:|^Threads:/ { print $1, $2 }' "/proc/$GATEWAY_PID/status" >"$RESULTS/rss-final.txt"
kill -0 "$GATEWAY_PID" 2>/dev/null || die "linkgate (info log) died during the benchmark"
kill -0 "$TLS_GATEWAY_PID" 2>/dev/null || die "linkgate (TLS) died during the benchmark"

# --- token endpoint: jwt-bearer exchanges per second on SQLite ------------------
# Each round POSTs assertions from its own fresh file, never one twice; the file
# holds TOKEN_RATE_CEILING per second of the run, so it cannot run out (if it
# does, the Lua script stops that thread and the report fails the run).
TOKEN_SETTINGS="wrk -t$THREADS -c$TOKEN_CONNECTIONS -d$DURATION --latency -s bench/token-exchange.lua, $ROUNDS rounds, medians"
token_round() { # NAME DURATION
    local name=$1 duration=$2 count started
    count=$(( TOKEN_RATE_CEILING * $(seconds_of "$duration") ))
    started=$(date +%s.%N)
    assertions "$count" "$WORK/assertions.txt"
    GENERATED=$(python3 -c 'import sys; print(f"{float(sys.argv[2]) - float(sys.argv[1]):.2f}")' "$started" "$(date +%s.%N)")
    taskset -c "$CLIENT_CPUS" wrk -t"$THREADS" -c"$TOKEN_CONNECTIONS" -d"$duration" --latency \
        -s "$ROOT/bench/token-exchange.lua" "$TOKEN_URL" -- "$WORK/assertions.txt" "$THREADS" \
        >"$RESULTS/$name.txt" 2>&1 || { cat "$RESULTS/$name.txt" >&2; die "wrk failed against $TOKEN_URL"; }
    grep -q '^BENCH-SUMMARY ' "$RESULTS/$name.txt" || { cat "$RESULTS/$name.txt" >&2; die "wrk printed no summary against $TOKEN_URL"; }
    echo "assertions=$count generated_s=$GENERATED" >>"$RESULTS/$name.txt"
    rm -f "$WORK/assertions.txt"
}
say "token endpoint: $TOKEN_SETTINGS; $TOKEN_RATE_CEILING fresh assertions per second of each run (ttl 600)"
token_round token-warmup "$WARMUP"
for round in $(seq 1 "$ROUNDS"); do
    token_round "token-exchange.$round" "$DURATION"
    say "round $round/$ROUNDS token-exchange: $(grep -m1 '^Requests/sec' "$RESULTS/token-exchange.$round.txt" | tr -s ' ') ($(tail -1 "$RESULTS/token-exchange.$round.txt"))"
    grep -m1 '^BENCH-FIRST-FAILURE' "$RESULTS/token-exchange.$round.txt" || true
done
kill -0 "$GATEWAY_PID" 2>/dev/null || die "linkgate (info log) died during the token-endpoint benchmark"

# --- 3LO: authorization-code exchanges, then refresh rotations, on SQLite -------
# Each round puts TOKEN_RATE_CEILING codes per second of the run into the info-log
# gateway's store (bench/oauth2-codes.py, as the consent page would) and exchanges
# them at POST /oauth2/token with the client's secret; the refresh tokens of those
# answers seed the refresh round, in which each answer's new refresh token is sent
# next (bench/token-exchange.lua, mode refresh), so every request rotates a token.
THREELO_CLIENT="client_id=bench-3lo&client_secret=bench-only-3lo-client-secret-0123456789"
threelo_round() { # NAME DURATION
    local name=$1 duration=$2 count
    count=$(( TOKEN_RATE_CEILING * $(seconds_of "$duration") ))
    python3 bench/oauth2-codes.py "$WORK/linkgate.sqlite" "$count" "$WORK/codes.txt" com.example.bench3lo bench-3lo \
        bench-only-3lo-client-secret-0123456789 http://127.0.0.1:9/callback "$BEARER_USER" \
        "read:jira-work offline_access" || die "bench/oauth2-codes.py failed"
    rm -f "$WORK"/refresh-seeds.txt.*
    taskset -c "$CLIENT_CPUS" wrk -t"$THREADS" -c"$TOKEN_CONNECTIONS" -d"$duration" --latency \
        -s "$ROOT/bench/token-exchange.lua" "$TOKEN_URL" -- "$WORK/codes.txt" "$THREADS" form "$WORK/refresh-seeds.txt" \
        >"$RESULTS/code-$name.txt" 2>&1 || { cat "$RESULTS/code-$name.txt" >&2; die "wrk failed (code exchanges)"; }
    grep -q '^BENCH-SUMMARY ' "$RESULTS/code-$name.txt" || { cat "$RESULTS/code-$name.txt" >&2; die "wrk printed no summary (code exchanges)"; }
    cat "$WORK"/refresh-seeds.txt.* >"$WORK/refresh-seeds.txt"
    [ -s "$WORK/refresh-seeds.txt" ] || die "the code exchanges answered no refresh token"
    BENCH_CLIENT="$THREELO_CLIENT" taskset -c "$CLIENT_CPUS" wrk -t"$THREADS" -c"$TOKEN_CONNECTIONS" -d"$duration" \
        --latency -s "$ROOT/bench/token-exchange.lua" "$TOKEN_URL" -- "$WORK/refresh-seeds.txt" "$THREADS" refresh \
        >"$RESULTS/refresh-$name.txt" 2>&1 || { cat "$RESULTS/refresh-$name.txt" >&2; die "wrk failed (refreshes)"; }
    grep -q '^BENCH-SUMMARY ' "$RESULTS/refresh-$name.txt" || { cat "$RESULTS/refresh-$name.txt" >&2; die "wrk printed no summary (refreshes)"; }
    rm -f "$WORK/codes.txt" "$WORK"/refresh-seeds.txt*
}
python3 bench/oauth2-codes.py "$WORK/linkgate.sqlite" 1 "$WORK/code-sanity.txt" com.example.bench3lo bench-3lo \
    bench-only-3lo-client-secret-0123456789 http://127.0.0.1:9/callback "$BEARER_USER" \
    "read:jira-work offline_access" || die "bench/oauth2-codes.py failed"
expect_status "POST /oauth2/token, an authorization code" 200 --data "$(cat "$WORK/code-sanity.txt")" "$TOKEN_URL"
expect_status "POST /oauth2/token, the same authorization code again (replay)" 400 --data "$(cat "$WORK/code-sanity.txt")" "$TOKEN_URL"
THREELO_SETTINGS="wrk -t$THREADS -c$TOKEN_CONNECTIONS -d$DURATION --latency -s bench/token-exchange.lua (modes form and refresh), $ROUNDS rounds, medians"
say "3LO: $THREELO_SETTINGS; $TOKEN_RATE_CEILING fresh codes per second of each run, then refresh rotations seeded by their answers"
threelo_round warmup "$WARMUP"
for round in $(seq 1 "$ROUNDS"); do
    threelo_round "$round" "$DURATION"
    say "round $round/$ROUNDS code exchanges: $(grep -m1 '^Requests/sec' "$RESULTS/code-$round.txt" | tr -s ' '); refreshes: $(grep -m1 '^Requests/sec' "$RESULTS/refresh-$round.txt" | tr -s ' ')"
done
kill -0 "$GATEWAY_PID" 2>/dev/null || die "linkgate (info log) died during the 3LO benchmark"

# --- token endpoint on PostgreSQL: two gateways sharing one database ----------
# Under scripts/with-postgres.sh (make bench-proxy uses it when a PostgreSQL server
# can be installed), two more info-log gateways, on the servers' CPU, share a fresh
# database of that cluster (unpinned); one wrk for each (on the client CPU) posts
# fresh assertions to both at once, and the figure is the sum of the two. Without a
# cluster this part is skipped and the report says so.
PG_SETTINGS=""
if [ -n "${LINKGATE_TEST_POSTGRES:-}" ] && [ -n "${LINKGATE_TEST_POSTGRES_BIN:-}" ]; then
    PG_URL=$(python3 - "$LINKGATE_TEST_POSTGRES" "$LINKGATE_TEST_POSTGRES_BIN" <<'PY'
import subprocess, sys, urllib.parse, uuid
url, bin_dir = sys.argv[1:]
parts = urllib.parse.urlsplit(url)
name = "bench_" + uuid.uuid4().hex[:12]
subprocess.run([f"{bin_dir}/createdb", "-h", parts.hostname or "127.0.0.1", "-p", str(parts.port),
                "-U", parts.username or "linkgate", name], check=True)
print(urllib.parse.urlunsplit(parts._replace(path="/" + name)))
PY
    ) || die "createdb failed for the PostgreSQL token benchmark"
    PG_URLS=()
    for n in 1 2; do
        pg_port=$(free_port)
        write_policies "$WORK/policies-pg$n" "$ORIGIN_PORT" "$pg_port" "$(free_port)" "$WORK/unused-pg$n.sqlite"
        # One after the other: the first creates the tables.
        start_gateway "$WORK/linkgate-pg$n.log" --policies "$WORK/policies-pg$n" --store "$PG_URL"
        wait_for_line "linkgate on PostgreSQL #$n" "$STARTED_PID" "$WORK/linkgate-pg$n.log" "linkgate: main listener on http://"
        PG_URLS+=("http://127.0.0.1:$pg_port/oauth2/token")
        sanity_assertion=$("$LINKGATE" token assertion --policies "$WORK/policies-pg$n" --app "$APP_KEY" \
            --user "$BEARER_USER" --ttl 60) || die "linkgate token assertion failed"
        expect_status "POST /oauth2/token on PostgreSQL gateway #$n" 200 \
            --data "grant_type=$GRANT_TYPE&assertion=$sanity_assertion" "${PG_URLS[$((n - 1))]}"
        expect_status "POST /oauth2/token on PostgreSQL gateway #$n, the same assertion again (replay)" 400 \
            --data "grant_type=$GRANT_TYPE&assertion=$sanity_assertion" "${PG_URLS[$((n - 1))]}"
    done
    PG_SETTINGS="two linkgate (info log) on CPU(s) $SERVER_CPUS sharing one PostgreSQL database (the throwaway cluster of scripts/with-postgres.sh, fsync on, not pinned); per gateway wrk -t$THREADS -c$TOKEN_CONNECTIONS -d$DURATION -s bench/token-exchange.lua on CPU(s) $CLIENT_CPUS, both at once; $ROUNDS rounds, median of the sums"
    say "token endpoint on PostgreSQL: $PG_SETTINGS"
    # pg_round NAME DURATION: both gateways at once, each from its own fresh assertions.
    pg_round() {
        local name=$1 duration=$2 count n wrk_pids=()
        count=$(( TOKEN_RATE_CEILING * $(seconds_of "$duration") / 2 ))
        for n in 1 2; do assertions "$count" "$WORK/assertions-pg$n.txt" "$WORK/policies-pg$n"; done
        for n in 1 2; do
            taskset -c "$CLIENT_CPUS" wrk -t"$THREADS" -c"$TOKEN_CONNECTIONS" -d"$duration" --latency \
                -s "$ROOT/bench/token-exchange.lua" "${PG_URLS[$((n - 1))]}" -- "$WORK/assertions-pg$n.txt" "$THREADS" \
                >"$RESULTS/$name.$n.txt" 2>&1 &
            wrk_pids+=($!)
        done
        for n in 1 2; do
            wait "${wrk_pids[$((n - 1))]}" || { cat "$RESULTS/$name.$n.txt" >&2; die "wrk failed against ${PG_URLS[$((n - 1))]}"; }
            grep -q '^BENCH-SUMMARY ' "$RESULTS/$name.$n.txt" || { cat "$RESULTS/$name.$n.txt" >&2; die "wrk printed no summary against ${PG_URLS[$((n - 1))]}"; }
        done
        rm -f "$WORK"/assertions-pg?.txt
    }
    pg_round pg-warmup "$WARMUP"
    for round in $(seq 1 "$ROUNDS"); do
        pg_round "pg-exchange-$round" "$DURATION"
        say "round $round/$ROUNDS token-exchange on PostgreSQL: $(grep -h -m1 '^Requests/sec' "$RESULTS/pg-exchange-$round".?.txt | tr -s ' ' | paste -sd+ -)"
    done
fi

# --- two CPUs: nginx with two workers, linkgate with two event loops ------------
# A second nginx origin and proxy (two workers each) and a second linkgate (info
# log; NIO starts one event loop per CPU it may use) on a copy of the policies,
# all allowed SCALE_CPUS; wrk is allowed the same CPUs, so it competes with them.
SCALE_SETTINGS=""
if [ -n "$SCALE_CPUS" ]; then
    SCALE_ORIGIN_PORT=$(free_port)
    SCALE_PROXY_PORT=$(free_port)
    SCALE_GATEWAY_PORT=$(free_port)
    SCALE_ADMIN_PORT=$(free_port)
    start_nginx_pair "$WORK/nginx-2cpu" "$SCALE_CPUS" 2 "$SCALE_ORIGIN_PORT" "$SCALE_PROXY_PORT"
    SCALE_PROXY_PID=$STARTED_PROXY_PID
    write_policies "$WORK/policies-2cpu" "$SCALE_ORIGIN_PORT" "$SCALE_GATEWAY_PORT" "$SCALE_ADMIN_PORT" "$WORK/linkgate-2cpu.sqlite"
    SCALE_LOG="$WORK/linkgate-2cpu.log"
    GATEWAY_CPUS=$SCALE_CPUS start_gateway "$SCALE_LOG" --policies "$WORK/policies-2cpu"
    SCALE_PID=$STARTED_PID
    wait_for_line "linkgate (two CPUs)" "$SCALE_PID" "$SCALE_LOG" "linkgate: main listener on http://"
    expect_status "nginx proxy (two workers)" 200 "http://127.0.0.1:$SCALE_PROXY_PORT$REQUEST_PATH"
    expect_status "linkgate (two CPUs) with a generated Connect JWT" 200 \
        -H "Authorization: JWT $generated" "http://127.0.0.1:$SCALE_GATEWAY_PORT$REQUEST_PATH"
    SCALE_SETTINGS="nginx origin and proxy with 2 workers each, linkgate (info log), all on CPUs $SCALE_CPUS (taskset -c $SCALE_CPUS); wrk on the same CPUs; same wrk settings, $ROUNDS rounds interleaved, medians; $SCALE_JWT_RATE_CEILING distinct Connect JWTs per second"
    say "two CPUs: $SCALE_SETTINGS"
    scale_contenders=(nginx-proxy-2cpu linkgate-2cpu)
    fresh_tokens "$WARMUP" "$SCALE_JWT_RATE_CEILING"
    for contender in "${scale_contenders[@]}"; do
        run_wrk "$contender" "$CONNECTIONS" "$WARMUP" "$RESULTS/warmup.$contender.txt" "$SCALE_CPUS"
    done
    for round in $(seq 1 "$ROUNDS"); do
        fresh_tokens "$DURATION" "$SCALE_JWT_RATE_CEILING"
        for contender in "${scale_contenders[@]}"; do
            run_wrk "$contender" "$CONNECTIONS" "$DURATION" "$RESULTS/$contender.$round.txt" "$SCALE_CPUS"
            say "round $round/$ROUNDS $contender: $(grep -m1 '^Requests/sec' "$RESULTS/$contender.$round.txt" | tr -s ' ')"
        done
    done
    awk '/^Threads:/ { print $2 }' "/proc/$SCALE_PID/status" >"$RESULTS/linkgate-2cpu.threads"
    kill -0 "$SCALE_PID" 2>/dev/null || die "linkgate (two CPUs) died during the benchmark"
fi
rm -f "$TOKENS" "$OAUTH1_REQUESTS"

LOG_LINES=$(wc -l <"$GATEWAY_LOG")
LOG_BYTES=$(wc -c <"$GATEWAY_LOG")
cat >"$RESULTS/meta.json" <<EOF
{
  "pinning": "$PINNING",
  "settings": "$WRK_SETTINGS",
  "rounds": $ROUNDS,
  "rss_connections": $RSS_CONNECTIONS,
  "token_settings": "$TOKEN_SETTINGS",
  "bearer_user": "$BEARER_USER",
  "idle_rss_kb": $IDLE_RSS_KB,
  "load_before": "$LOAD_BEFORE",
  "load_after_rounds": "$LOAD_AFTER_ROUNDS",
  "load_after": "$(cut -d' ' -f1-3 /proc/loadavg)",
  "jwt_rate_ceiling": $JWT_RATE_CEILING,
  "tls_certificate": "an ECDSA P-256 certificate for 127.0.0.1 and localhost from a throwaway CA",
  "openssl": "$(openssl version | cut -d' ' -f1-2)",
  "nginx_tls_session": "$NGINX_TLS_SESSION",
  "linkgate_tls_session": "$LINKGATE_TLS_SESSION",
  "scale_settings": "$SCALE_SETTINGS",
  "pg_settings": "$PG_SETTINGS",
  "threelo_settings": "$THREELO_SETTINGS",
  "apache": "$("$APACHE" -v | head -1 | sed 's/.*: //'), event MPM, one child, $APACHE_THREADS threads",
  "mod_oauth2": "$(dpkg-query -W -f='${Version}' libapache2-mod-oauth2 2>/dev/null || echo '?')",
  "access_log_lines": $LOG_LINES,
  "access_log_bytes": $LOG_BYTES,
  "nginx": "$("$NGINX" -v 2>&1 | sed 's/.*: //')",
  "wrk": "$( (wrk -v 2>&1 || true) | head -1 | cut -d' ' -f1-2)"
}
EOF
if grep -q 'oauth2:error' "$APACHE_DIR/oauth2.error.log" 2>/dev/null; then
    say "Apache mod_oauth2 logged errors (first 3):"; grep -m3 'oauth2:error' "$APACHE_DIR/oauth2.error.log" >&2
fi
if grep -qiE 'error|warn' "$GATEWAY_LOG.err" "$QUIET_LOG.err" "$TLS_LOG.err" 2>/dev/null; then
    say "linkgate wrote to stderr:"; head -5 "$GATEWAY_LOG.err" "$QUIET_LOG.err" "$TLS_LOG.err" >&2
fi
for name in authz tls; do
    if grep -qE '\[(error|crit|alert|emerg)\]' "$WORK/nginx/$name.error.log" 2>/dev/null; then
        say "nginx ($name.conf) logged errors (first 3):"; grep -m3 -E '\[(error|crit|alert|emerg)\]' "$WORK/nginx/$name.error.log" >&2
    fi
done
echo
python3 scripts/bench-proxy-report.py "$RESULTS"
