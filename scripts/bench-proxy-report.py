#!/usr/bin/env python3
"""Prints the `make bench-proxy` table, the ratios to nginx-proxy and Apache
mod_oauth2, the targets, nginx auth_request + linkgate's authz listener beside
nginx proxy, and the cost of TLS on nginx and on linkgate's main listener.

Usage: bench-proxy-report.py RESULTS_DIR
RESULTS_DIR holds what scripts/bench-proxy.sh wrote: one wrk output per contender
and round (CONTENDER.ROUND.txt, each with a BENCH-SUMMARY line from the done()
hook of bench/token-cycle.lua, a "load" line with /proc/loadavg after it, and a
"server" line with the serving processes' CPU ticks, preemptions and waits
before and after the run, from which the table's CPU us/req, preempted/req and
waited/req come),
rss-run.txt, rss-samples.txt, rss-final.txt, token-exchange.ROUND.txt
(bench/token-exchange.lua against POST /oauth2/token), the two-CPU run's
nginx-proxy-2cpu.ROUND.txt and linkgate-2cpu.ROUND.txt (when it ran) and meta.json
(with the TLS sessions OpenSSL's client negotiated with nginx-tls and linkgate-tls).
Each figure is the median over the rounds of that figure (RPS, p50 and p99 are
taken separately). Exit 1 when any contender had non-2xx answers, when a contender
that verifies tokens sent one twice (its token file ran out), when a
token-exchange round ran out of assertions, or when the files are incomplete; the
targets themselves only print MET or MISSED.
"""
import glob
import json
import os
import re
import statistics
import sys

CONTENDERS = [
    ("nginx-direct", "nginx direct (origin)"),
    ("nginx-proxy", "nginx proxy"),
    ("nio-floor-http", "NIO floor: HTTP handlers, no gateway logic"),
    ("nio-floor-framing", "NIO floor: HTTP/1.1 framed by hand"),
    ("nio-floor-tcp", "NIO floor: bytes relayed, no HTTP"),
    ("apache-proxy", "Apache mod_proxy"),
    ("apache-oauth2", "Apache mod_oauth2 (HS256 JWT)"),
    ("linkgate-info", "linkgate, Connect JWT (info log)"),
    ("linkgate-bearer", "linkgate, Bearer token (info log)"),
    ("linkgate-basic", "linkgate, API token over Basic (info log)"),
    ("linkgate-oauth1", "linkgate, OAuth 1.0a 2LO (info log)"),
    ("linkgate-warning", "linkgate, Connect JWT (log-level warning)"),
    ("linkgate-nio", "linkgate, Connect JWT, byte path off (info log)"),
    ("nginx-authz", "nginx auth_request + linkgate authz"),
    ("nginx-tls", "nginx proxy, TLS"),
    ("linkgate-tls", "linkgate, Connect JWT, TLS (info log)"),
]
SCALE_CONTENDERS = [
    ("nginx-proxy-2cpu", "nginx proxy, 2 workers"),
    ("linkgate-2cpu", "linkgate, Connect JWT (info log)"),
]
# Contenders that verify every token: a token sent twice could be answered by a cache.
VERIFYING = {
    "apache-oauth2", "linkgate-info", "linkgate-warning", "linkgate-nio", "nginx-authz", "linkgate-tls", "linkgate-2cpu", "linkgate-oauth1",
}
VERSUS_NGINX = ["linkgate-info", "linkgate-warning", "linkgate-nio"]
BASELINE = "nginx-proxy"
APACHE_OAUTH2 = "apache-oauth2"
RPS_RATIO_TARGET = 0.7
APACHE_RATIO_TARGET = 3.0       # linkgate-info (Connect JWT) RPS / Apache mod_oauth2 RPS
P99_DIFFERENCE_TARGET_MS = 2.0
RSS_TARGET_MB = 150.0
BEARER_RATIO_TARGET = 0.95      # linkgate-bearer RPS / linkgate-info (Connect JWT) RPS
LEGACY_RATIO_TARGET = 0.5       # linkgate-basic and linkgate-oauth1 RPS / linkgate-info RPS
EXCHANGES_TARGET = 3000.0       # POST /oauth2/token jwt-bearer exchanges per second
PG_EXCHANGES_TARGET = 1500.0    # the same, two gateways sharing one PostgreSQL database, together
THREELO_TARGET = 2000.0         # 3LO code exchanges, and refresh rotations, per second on SQLite


def parse(path):
    """The done() hook's figures, plus wrk's own 'Non-2xx or 3xx' and socket-error lines."""
    text = open(path).read()
    match = re.search(r"^BENCH-SUMMARY (.*)$", text, re.M)
    if not match:
        raise SystemExit(f"bench-proxy-report: {path}: no BENCH-SUMMARY line")
    figures = {key: int(value) for key, value in (pair.split("=") for pair in match.group(1).split())}
    non2xx = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", text)
    figures["non2xx"] = max(figures["non2xx"], int(non2xx.group(1)) if non2xx else 0)
    figures["socket_errors"] = figures["connect"] + figures["read"] + figures["write"] + figures["timeout"]
    figures["rps"] = figures["requests"] / (figures["duration_us"] / 1e6)
    load = re.search(r"^load ([0-9.]+) ([0-9.]+) ([0-9.]+)$", text, re.M)
    figures["load1"] = float(load.group(1)) if load else None
    # The serving processes' CPU ticks, preemptions and waits before and after the run
    # (bench-proxy.sh's run_wrk); results of runs before the waits were counted have five numbers.
    server = re.search(r"^server ((?:\d+ )+\d+)$", text, re.M)
    counts = [int(number) for number in server.group(1).split()] if server else []
    if len(counts) in (5, 7) and figures["requests"] > 0:
        half = (len(counts) - 1) // 2
        before, after, hertz = counts[:half], counts[half:-1], counts[-1]
        figures["cpu_us"] = (after[0] - before[0]) / hertz * 1e6 / figures["requests"]
        figures["preempted"] = (after[1] - before[1]) / figures["requests"]
        if half == 3:
            figures["waited"] = (after[2] - before[2]) / figures["requests"]
    return figures


def rounds_of(directory, key):
    """The parsed CONTENDER.ROUND.txt files of one contender, in round order."""
    paths = sorted(glob.glob(os.path.join(directory, f"{key}.[0-9]*.txt")),
                   key=lambda p: int(p.rsplit(".", 2)[1]))
    if not paths:
        raise SystemExit(f"bench-proxy-report: no results for {key} in {directory}")
    return paths, [parse(path) for path in paths]


def row_of(directory, key):
    """The medians of one contender's rounds."""
    _, runs = rounds_of(directory, key)
    return {
        "rps": statistics.median(run["rps"] for run in runs),
        "p50": statistics.median(run["p50_us"] for run in runs) / 1000,
        "p99": statistics.median(run["p99_us"] for run in runs) / 1000,
        "non2xx": sum(run["non2xx"] for run in runs),
        "socket_errors": sum(run["socket_errors"] for run in runs),
        "requests": sum(run["requests"] for run in runs),
        "wraps": sum(run.get("wraps", 0) for run in runs),
        "rounds": [run["rps"] for run in runs],
        "loads": [run["load1"] for run in runs if run["load1"] is not None],
        "cpu_us": median_of(runs, "cpu_us"),
        "preempted": median_of(runs, "preempted"),
        "waited": median_of(runs, "waited"),
    }


def median_of(runs, key):
    """The median of a figure over the runs that have it; None if none has."""
    values = [run[key] for run in runs if key in run]
    return statistics.median(values) if values else None


def print_table(contenders, rows):
    header = ["contender", "RPS", "p50 ms", "p99 ms", "non-2xx", "sock err", "CPU us/req", "preempted/req",
              "waited/req", "RPS per round"]
    table = [header]
    for key, name in contenders:
        row = rows[key]
        table.append([
            name,
            f"{row['rps']:.0f}",
            f"{row['p50']:.3f}",
            f"{row['p99']:.3f}",
            f"{row['non2xx']}",
            f"{row['socket_errors']}",
            "-" if row["cpu_us"] is None else f"{row['cpu_us']:.1f}",
            "-" if row["preempted"] is None else f"{row['preempted']:.2f}",
            "-" if row["waited"] is None else f"{row['waited']:.2f}",
            " ".join(f"{rps:.0f}" for rps in row["rounds"]),
        ])
    widths = [max(len(line[column]) for line in table) for column in range(len(header))]
    for index, line in enumerate(table):
        cells = [line[0].ljust(widths[0])] + [cell.rjust(width) for cell, width in zip(line[1:-1], widths[1:-1])]
        cells.append(line[-1])
        print("  ".join(cells).rstrip())
        if index == 0:
            print("  ".join("-" * width for width in widths))


def print_floors(rows, base, jwt, apache):
    """What SwiftNIO allows on this machine: the three floors beside nginx proxy and the targets."""
    floors = [("HTTP handlers", rows["nio-floor-http"]), ("framing by hand", rows["nio-floor-framing"]),
              ("bytes alone", rows["nio-floor-tcp"])]
    http, framing = rows["nio-floor-http"], rows["nio-floor-framing"]
    print("what a proxy on SwiftNIO can reach here (bench/NIOFloorProxy, no gateway logic; same origin, "
          "pinning and wrk; no target):")
    for label, row in floors:
        print(f"  NIO floor, {label:<16} {row['rps'] / base['rps']:.2f}x nginx proxy RPS ({row['rps']:.0f})")
    print(f"  linkgate (Connect JWT) runs at {jwt['rps'] / http['rps']:.2f}x the HTTP-handlers floor")
    handlers = 1e6 / http["rps"] - 1e6 / framing["rps"]
    gateway = 1e6 / jwt["rps"] - 1e6 / http["rps"]
    print(f"  per request on the server CPU: NIO's HTTP handlers (both sides) {handlers:.1f} us more than framing "
          f"by hand; linkgate's own work {gateway:.1f} us over the HTTP-handlers floor")
    for label, needed in (("0.7x nginx proxy", RPS_RATIO_TARGET * base["rps"]),
                          ("3x Apache mod_oauth2", APACHE_RATIO_TARGET * apache["rps"])):
        print(f"  the target {label} needs {needed:.0f} RPS: " + ", ".join(
            f"{needed / row['rps']:.2f}x the {name} floor" for name, row in floors))


def verdict(met):
    return "MET" if met else "MISSED"


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    directory = sys.argv[1]
    meta = json.load(open(os.path.join(directory, "meta.json")))
    rows = {key: row_of(directory, key) for key, _ in CONTENDERS}
    scaled = bool(meta.get("scale_settings"))
    if scaled:
        rows.update({key: row_of(directory, key) for key, _ in SCALE_CONTENDERS})
    loads = [load for row in rows.values() for load in row["loads"]]

    print(f"linkgate proxy benchmark: {meta['settings']}")
    print(f"pinning: {meta['pinning']}")
    print(f"tokens: every request of every contender carries the next token of a file (bench/token-cycle.lua); "
          f"each round a fresh file of {meta.get('jwt_rate_ceiling', '?')} distinct Connect JWTs per second of the "
          f"run (different jti and iat, the request's qsh); Apache mod_oauth2 gets them as Bearer tokens; "
          f"the Bearer contender sends its one access token")
    print(f"tools: nginx {meta['nginx']}, Apache {meta.get('apache', '?')}, mod_oauth2 {meta.get('mod_oauth2', '?')}, "
          f"{meta['wrk']}")
    print(f"load average (1, 5, 15 min): before {meta['load_before']}, after the rounds "
          f"{meta.get('load_after_rounds', '?')}, at the end {meta['load_after']}"
          + (f"; 1-min after each run {min(loads):.2f} to {max(loads):.2f}" if loads else "")
          + " (other work on the machine skews the figures)")
    print()
    print_table(CONTENDERS, rows)
    print()

    base = rows[BASELINE]
    names = dict(CONTENDERS)
    for key in VERSUS_NGINX:
        name = names[key]
        row = rows[key]
        ratio = row["rps"] / base["rps"]
        difference = row["p99"] - base["p99"]
        print(f"{name} vs nginx proxy:")
        print(f"  RPS ratio       {f'{ratio:.2f}x':>10}   target >= {RPS_RATIO_TARGET:.1f}x    "
              f"{verdict(ratio >= RPS_RATIO_TARGET)}")
        print(f"  p99 difference  {f'{difference:+.2f} ms':>10}   target <= +{P99_DIFFERENCE_TARGET_MS:.1f} ms "
              f"{verdict(difference <= P99_DIFFERENCE_TARGET_MS)}")
    apache, apache_proxy, jwt = rows[APACHE_OAUTH2], rows["apache-proxy"], rows["linkgate-info"]
    print_floors(rows, base, jwt, apache)
    ratio = jwt["rps"] / apache["rps"]
    print(f"{names['linkgate-info']} vs {names[APACHE_OAUTH2]}:")
    print(f"  RPS ratio       {f'{ratio:.2f}x':>10}   target >= {APACHE_RATIO_TARGET:.1f}x    "
          f"{verdict(ratio >= APACHE_RATIO_TARGET)}")
    apache_p99 = f"{jwt['p99'] - apache['p99']:+.2f} ms"
    print(f"  p99 difference  {apache_p99:>10}   (no target)")
    print(f"  (Apache mod_oauth2 runs at {apache['rps'] / apache_proxy['rps']:.2f}x Apache mod_proxy's RPS, "
          f"{apache['rps'] / base['rps']:.2f}x nginx proxy's)")
    bearer = rows["linkgate-bearer"]
    ratio = bearer["rps"] / jwt["rps"]
    print(f"linkgate (Bearer token) vs linkgate (info log, Connect JWT), same gateway and route "
          f"(user {meta.get('bearer_user', '?')}):")
    bearer_rps, jwt_rps = f"{bearer['rps']:.0f}", f"{jwt['rps']:.0f}"
    bearer_p99 = f"{bearer['p99'] - jwt['p99']:+.2f} ms"
    print(f"  RPS             {bearer_rps:>10}   vs {jwt_rps} with the Connect JWT")
    print(f"  RPS ratio       {f'{ratio:.2f}x':>10}   target >= {BEARER_RATIO_TARGET:.2f}x   "
          f"{verdict(ratio >= BEARER_RATIO_TARGET)}")
    print(f"  p99 difference  {bearer_p99:>10}   (no target)")
    for key in ("linkgate-basic", "linkgate-oauth1"):
        legacy = rows[key]
        ratio = legacy["rps"] / jwt["rps"]
        print(f"{names[key]} vs {names['linkgate-info']}, same gateway and route (user {meta.get('bearer_user', '?')}):")
        print(f"  RPS             {legacy['rps']:>10.0f}   vs {jwt['rps']:.0f} with the Connect JWT")
        print(f"  RPS ratio       {f'{ratio:.2f}x':>10}   target >= {LEGACY_RATIO_TARGET:.2f}x   "
              f"{verdict(ratio >= LEGACY_RATIO_TARGET)}")
        print(f"  p99 difference  {legacy['p99'] - jwt['p99']:>+7.2f} ms   (no target)")

    authz = rows["nginx-authz"]
    print(f"{names['nginx-authz']} (each request one decision of the info-log gateway's authz listener, "
          f"then proxied by nginx; no target):")
    print(f"  decisions/s     {authz['rps']:>10.0f}   p50 {authz['p50']:.3f} ms, p99 {authz['p99']:.3f} ms")
    versus_proxy, versus_linkgate = f"{authz['rps'] / base['rps']:.2f}x", f"{authz['rps'] / jwt['rps']:.2f}x"
    print(f"  vs nginx proxy  {versus_proxy:>10}   RPS; p99 difference {authz['p99'] - base['p99']:+.2f} ms")
    print(f"  vs linkgate     {versus_linkgate:>10}   RPS of {names['linkgate-info']} proxying itself; "
          f"p99 difference {authz['p99'] - jwt['p99']:+.2f} ms")
    nginx_tls, linkgate_tls = rows["nginx-tls"], rows["linkgate-tls"]
    print(f"TLS on the main listener: nginx proxy and linkgate (Connect JWT, info log) terminate TLS themselves, "
          f"{meta.get('tls_certificate', '?')}; wrk ({meta.get('openssl', 'OpenSSL')}) keeps its connections "
          f"alive, so this is the cost of TLS records per request, not of handshakes (no target):")
    print(f"  negotiated      nginx {meta.get('nginx_tls_session', '?')}")
    print(f"                  linkgate {meta.get('linkgate_tls_session', '?')}")
    both_tls = f"{linkgate_tls['rps'] / nginx_tls['rps']:.2f}x"
    print(f"  linkgate / nginx, both TLS {both_tls:>6} RPS (plain HTTP: {jwt['rps'] / base['rps']:.2f}x); "
          f"p99 difference {linkgate_tls['p99'] - nginx_tls['p99']:+.2f} ms")
    for name, plain, tls in (("nginx proxy", base, nginx_tls), ("linkgate (info log)", jwt, linkgate_tls)):
        cost = f"{tls['rps'] / plain['rps']:.2f}x"
        print(f"  cost of TLS, {name:<19} {cost:>6} RPS with TLS / without ({tls['rps']:.0f} / {plain['rps']:.0f}); "
              f"p99 {tls['p99'] - plain['p99']:+.2f} ms")

    rss_run = parse(os.path.join(directory, "rss-run.txt"))
    final = dict(line.split() for line in open(os.path.join(directory, "rss-final.txt")) if line.strip())
    samples = [int(line) for line in open(os.path.join(directory, "rss-samples.txt")) if line.strip().isdigit()]
    hwm_mb = int(final["VmHWM:"]) / 1024
    rss_mb = int(final["VmRSS:"]) / 1024
    sampled_mb = max(samples) / 1024 if samples else float("nan")
    idle_mb = meta["idle_rss_kb"] / 1024
    print(f"linkgate (info log) memory at -c{meta['rss_connections']} "
          f"({rss_run['rps']:.0f} RPS, p99 {rss_run['p99_us'] / 1000:.3f} ms, non-2xx {rss_run['non2xx']}, "
          f"sock err {rss_run['socket_errors']}, {final.get('Threads:', '?')} threads):")
    print(f"  VmHWM {hwm_mb:.1f} MB (peak since start), VmRSS max sampled {sampled_mb:.1f} MB, "
          f"VmRSS after {rss_mb:.1f} MB, idle at start {idle_mb:.1f} MB")
    print(f"  VmHWM           {f'{hwm_mb:.1f} MB':>10}   target < {RSS_TARGET_MB:.0f} MB    "
          f"{verdict(hwm_mb < RSS_TARGET_MB)}")
    print(f"access log (info): {meta['access_log_lines']} lines, {meta['access_log_bytes'] / 1e6:.1f} MB written during the run "
          f"(proxied requests and authz decisions)")

    token_paths, token_runs = rounds_of(directory, "token-exchange")
    generation = []
    for path in token_paths:
        match = re.search(r"^assertions=(\d+) generated_s=([0-9.]+)$", open(path).read(), re.M)
        if match:
            generation.append((int(match.group(1)), float(match.group(2))))
    exchanges = statistics.median(run["rps"] for run in token_runs)
    token_non2xx = sum(run["non2xx"] for run in token_runs)
    token_requests = sum(run["requests"] for run in token_runs)
    token_exhausted = sum(run.get("exhausted", 0) for run in token_runs)
    used = sum(run.get("used", 0) for run in token_runs)
    print(f"token endpoint of linkgate (info log), POST /oauth2/token, jwt-bearer grant on SQLite "
          f"({meta.get('token_settings', '?')}; fresh assertions, none sent twice):")
    print(f"  exchanges/s {exchanges:.0f} (per round " + " ".join(f"{run['rps']:.0f}" for run in token_runs)
          + f"), p50 {statistics.median(run['p50_us'] for run in token_runs) / 1000:.3f} ms, "
          f"p99 {statistics.median(run['p99_us'] for run in token_runs) / 1000:.3f} ms, non-2xx {token_non2xx}, "
          f"sock err {sum(run['socket_errors'] for run in token_runs)}")
    if generation:
        print(f"  assertions: {generation[0][0]} generated per round ({used} sent in all), "
              f"generation took " + " ".join(f"{seconds:.1f}" for _, seconds in generation) + " s")
    print(f"  exchanges/s     {f'{exchanges:.0f}/s':>10}   target >= {EXCHANGES_TARGET:,.0f}/s  "
          f"{verdict(exchanges >= EXCHANGES_TARGET)}")

    threelo_failures = []
    print(f"3LO on linkgate (info log), POST /oauth2/token on SQLite ({meta.get('threelo_settings', '?')}; "
          f"each code exchanged once, each refresh token rotated once):")
    for kind, label in (("code", "code exchanges"), ("refresh", "refresh rotations")):
        runs = [parse(path) for path in sorted(glob.glob(os.path.join(directory, f"{kind}-[0-9]*.txt")),
                                                key=lambda p: int(re.search(r"-(\d+)\.txt$", p).group(1)))]
        if not runs:
            raise SystemExit(f"bench-proxy-report: no {kind}-ROUND.txt results in {directory}")
        rate = statistics.median(run["rps"] for run in runs)
        bad = sum(run["non2xx"] for run in runs)
        if bad:
            threelo_failures.append(f"linkgate {label}: {bad} non-2xx answers")
        print(f"  {label:<18} {f'{rate:.0f}/s':>8}   (per round " + " ".join(f"{run['rps']:.0f}" for run in runs)
              + f"; p99 {statistics.median(run['p99_us'] for run in runs) / 1000:.3f} ms, non-2xx {bad})   "
              f"target >= {THREELO_TARGET:,.0f}/s  {verdict(rate >= THREELO_TARGET)}")

    pg_rounds = sorted(glob.glob(os.path.join(directory, "pg-exchange-[0-9]*.1.txt")))
    pg_failure = None
    if meta.get("pg_settings") and pg_rounds:
        sums, pg_runs = [], []
        for first in pg_rounds:
            pair = [parse(first), parse(first[: -len("1.txt")] + "2.txt")]
            pg_runs += pair
            sums.append(sum(run["rps"] for run in pair))
        together = statistics.median(sums)
        pg_non2xx = sum(run["non2xx"] for run in pg_runs)
        if pg_non2xx:
            pg_failure = f"linkgate token endpoint on PostgreSQL: {pg_non2xx} non-2xx answers"
        print(f"token endpoint on PostgreSQL, two gateways sharing one database ({meta['pg_settings']}):")
        print(f"  exchanges/s together {together:.0f} (per round " + " ".join(f"{total:.0f}" for total in sums)
              + f"), p99 {statistics.median(run['p99_us'] for run in pg_runs) / 1000:.3f} ms, non-2xx {pg_non2xx}")
        print(f"  exchanges/s     {f'{together:.0f}/s':>10}   target >= {PG_EXCHANGES_TARGET:,.0f}/s  "
              f"{verdict(together >= PG_EXCHANGES_TARGET)}")
    else:
        print("token endpoint on PostgreSQL: skipped (no cluster: run under scripts/with-postgres.sh, "
              "as make bench-proxy does when it can install PostgreSQL)")

    all_contenders = list(CONTENDERS)
    if scaled:
        print()
        print(f"two CPUs: {meta['scale_settings']}")
        print()
        print_table(SCALE_CONTENDERS, rows)
        two_nginx, two_linkgate = rows["nginx-proxy-2cpu"], rows["linkgate-2cpu"]
        threads = open(os.path.join(directory, "linkgate-2cpu.threads")).read().strip() \
            if os.path.exists(os.path.join(directory, "linkgate-2cpu.threads")) else "?"
        print(f"  linkgate / nginx proxy RPS  {two_linkgate['rps'] / two_nginx['rps']:.2f}x "
              f"(one CPU: {jwt['rps'] / base['rps']:.2f}x); p99 difference {two_linkgate['p99'] - two_nginx['p99']:+.2f} ms")
        print(f"  two CPUs / one CPU RPS      linkgate {two_linkgate['rps'] / jwt['rps']:.2f}x, "
              f"nginx proxy {two_nginx['rps'] / base['rps']:.2f}x (wrk shares the CPUs here; linkgate had {threads} threads)")
        all_contenders += [(key, f"{name} (two CPUs)") for key, name in SCALE_CONTENDERS]

    failures = ([pg_failure] if pg_failure else []) + threelo_failures
    for key, name in all_contenders:
        if rows[key]["non2xx"]:
            failures.append(f"{name}: {rows[key]['non2xx']} non-2xx answers out of {rows[key]['requests']}")
        if key in VERIFYING and rows[key]["wraps"]:
            ceiling = "OAUTH1_RATE_CEILING" if key == "linkgate-oauth1" else "JWT_RATE_CEILING"
            failures.append(f"{name}: the token file ran out {rows[key]['wraps']} time(s), so tokens were sent twice "
                            f"(raise {ceiling}); a cache of verified tokens may have answered")
    if rss_run["non2xx"]:
        failures.append(f"linkgate (info log) at -c{meta['rss_connections']}: {rss_run['non2xx']} non-2xx answers")
    if token_non2xx:
        failures.append(f"linkgate token endpoint: {token_non2xx} non-2xx answers out of {token_requests}")
    if token_exhausted:
        failures.append(f"linkgate token endpoint: {token_exhausted} round(s) ran out of assertions "
                        "(raise TOKEN_RATE_CEILING); their exchanges/s are not valid")
    if failures:
        print()
        for failure in failures:
            print(f"FAILED: {failure}", file=sys.stderr)
        if any(failure.startswith(("linkgate", "Apache", "nginx auth_request")) for failure in failures):
            print("FAILED: the figures above are not valid", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
