#!/usr/bin/env python3
"""Prints the benchmark figures and ratios from a `--format jmh` export.

Usage: bench-report.py RESULTS_DIR
Each figure is the median (p50) throughput in operations per second (the
operations one iteration runs over the iteration's median wall-clock time), so
the ratios compare runs made side by side on the same core.
A section whose benchmarks did not run (`--target` picks some) is left out.
"""
import glob
import json
import re
import sys

# JMH throughput counts measured iterations (samples). Every benchmark here runs
# 1,000 operations per sample (scalingFactor .kilo), but the PostgreSQL rows run
# 200 (GrantsBenchmarks' `Database.operationsPerSample`: 1,000 fsynced commits would
# make a sample longer than 2 s, and the export would drop the row). The export
# does not say so, hence these constants; keep them in step.
OPERATIONS_PER_ITERATION = 1_000
OPERATIONS_PER_POSTGRES_ITERATION = 200


def operations_per_iteration(name):
    return OPERATIONS_PER_POSTGRES_ITERATION if "PostgreSQL" in name else OPERATIONS_PER_ITERATION
DECISION_TARGET_NS_AT_1000 = 2_000


def load(directory):
    rows = {}
    for path in glob.glob(f"{directory}/**/*.jmh.json", recursive=True) + glob.glob(f"{directory}/**/*.jmh", recursive=True):
        with open(path) as handle:
            for element in json.load(handle):
                name = element["benchmark"].split(".", 3)[-1].replace("_", " ")
                # The export's throughput is a whole number of iterations per second, too coarse for
                # iterations of a second or so (SQLite): use the median wall-clock time (μs) when it
                # is there (every benchmark here records it), else that throughput.
                wall_clock = element.get("secondaryMetrics", {}).get("Time (wall clock)")
                if wall_clock and wall_clock["scorePercentiles"]["50.0"] > 0:
                    iterations = 1e6 / wall_clock["scorePercentiles"]["50.0"]
                else:
                    iterations = element["primaryMetric"]["scorePercentiles"]["50.0"]  # iterations per second, median
                rows[name] = iterations * operations_per_iteration(name)
    return rows


def find(rows, prefix):
    for name, value in rows.items():
        if prefix in name:
            return name, value
    return None, None


def jwt_section(rows):
    _, connect = find(rows, "Connect JWT verify")
    _, oneshot = find(rows, "HMAC() one-shot")
    _, keyed = find(rows, "keyed context")
    if connect is None:
        return
    print()
    print("JWT")
    # Each verification is of a distinct token (pre-generated, cycled): no cache stands in for it.
    verdict = "met" if connect >= 400_000 else "MISSED"
    print(f"Connect JWT verifications per second (distinct tokens): {connect:,.0f} (target >= 400,000: {verdict})")
    if keyed is not None:
        ratio = keyed / connect
        verdict = "met" if ratio <= 2 else "MISSED"
        print(f"cost ratio to raw keyed EVP_MAC_CTX (dup per call):     {ratio:.2f}x (target <= 2x: {verdict}; "
              f"{keyed:,.0f}/s)")
    if oneshot is not None:
        print(f"cost ratio to raw HMAC() one-shot:                      {oneshot / connect:.2f}x ({oneshot:,.0f}/s)")


def decision_section(rows):
    # "Decision, path parameter, 1000 routes" -> {"path parameter": {1000: ns}}
    pattern = re.compile(r"^Decision, (.+), (\d+) routes$")
    kinds = {}
    for name, value in rows.items():
        match = pattern.match(name)
        if match and value > 0:
            ns = 1e9 / value
            kinds.setdefault(match.group(1), {})[int(match.group(2))] = ns
    if not kinds:
        return
    sizes = sorted({size for by_size in kinds.values() for size in by_size})
    print()
    print("Decision (route + credential + scopes + permission), ns per decision (p50)")
    print(f"{'request':<20}" + "".join(f"{f'{size:,} routes':>16}" for size in sizes) + f"{'growth':>10}")
    for kind, by_size in sorted(kinds.items()):
        cells = "".join(f"{by_size[size]:>16,.0f}" if size in by_size else f"{'-':>16}" for size in sizes)
        smallest, largest = min(by_size), max(by_size)
        growth = f"{by_size[largest] / by_size[smallest]:.2f}x" if largest != smallest else "-"
        print(f"{kind:<20}{cells}{growth:>10}")
    print(f"targets: <= {DECISION_TARGET_NS_AT_1000:,} ns per decision at 1,000 routes; "
          "growth 10,000/100 routes well below linear (100x)")
    for kind, by_size in sorted(kinds.items()):
        if 1000 in by_size:
            verdict = "met" if by_size[1000] <= DECISION_TARGET_NS_AT_1000 else "MISSED"
            print(f"  {kind}: {by_size[1000]:,.0f} ns at 1,000 routes: {verdict}")


# The grant rows of GrantsBenchmarks and the raw write transactions of the same database
# measured beside them in the same run: (database, [(label, reference row)]). The first
# reference of each database is the one the target (each grant at most 2x) is
# judged against; the others are printed for scale.
GRANT_TARGET = 2.0
GRANT_OPERATIONS = ("JWT-bearer exchange", "3LO code exchange", "3LO refresh rotation")
GRANT_REFERENCES = (
    ("SQLite", (
        ("SQLKit", "raw SQLite write transaction (SQLKit)",
         "BEGIN IMMEDIATE; INSERT; COMMIT through sqlite-nio and SQLKit, WAL, synchronous=NORMAL"),
        ("C API", "raw SQLite write transaction (C API)",
         "the same straight through the C API on the calling thread, INSERT prepared once: the floor"),
    )),
    ("PostgreSQL", (
        ("postgres-kit", "raw PostgreSQL write transaction (postgres-kit)",
         "BEGIN; INSERT; COMMIT on a connection of a postgres-kit pool set up as the store's, "
         "scripts/with-postgres.sh's cluster (fsync=on, synchronous_commit=on)"),
    )),
)


def grants_section(rows):
    if not any(f"{operation} ({database})" in rows
               for operation in GRANT_OPERATIONS for database, _ in GRANT_REFERENCES):
        return
    print()
    print("Grants beside a raw write transaction of the same database, measured in the same run")
    print("(one operation at a time: latency, no group commit; p50 of the samples; each grant is")
    print(" one store transaction, or statement, plus an ES256 access token)")
    for database, references in GRANT_REFERENCES:
        measured = [(label, rows.get(name), what) for label, name, what in references]
        operations = [(operation, rows.get(f"{operation} ({database})")) for operation in GRANT_OPERATIONS]
        if all(value is None for _, value in operations) and all(value is None for _, value, _ in measured):
            print()
            print(f"{database}: not measured in this run" + (
                " (no LINKGATE_TEST_POSTGRES: make bench runs these rows under scripts/with-postgres.sh, "
                "which needs PostgreSQL's server binaries)" if database == "PostgreSQL" else ""))
            continue
        print()
        print(f"{database}")
        header = f"  {'operation':<34}{'ops/s':>10}{'us/op':>9}"
        for label, _, _ in measured:
            header += f"{f'x raw ({label})':>22}"
        print(header)
        for operation, value in operations:
            if value is None:
                print(f"  {operation:<34}{'-':>10}")
                continue
            line = f"  {operation:<34}{value:>10,.0f}{1e6 / value:>9,.1f}"
            for index, (label, reference, _) in enumerate(measured):
                if reference is None:
                    line += f"{'-':>22}"
                    continue
                ratio = reference / value
                verdict = (" met" if ratio <= GRANT_TARGET else " MISSED") if index == 0 else ""
                line += f"{f'{ratio:.2f}x{verdict}':>22}"
            print(line)
        for label, reference, what in measured:
            figure = f"{reference:,.0f}/s, {1e6 / reference:,.1f} us" if reference else "not measured"
            print(f"  raw ({label}): {figure}: {what}")
        first = measured[0][0]
        print(f"  target: each grant <= {GRANT_TARGET:g}x a raw write transaction (judged against raw ({first}))")


def oauth1_section(rows):
    _, check = find(rows, "OAuth 1.0a check")
    _, parse = find(rows, "OAuth 1.0a parse and base string")
    _, rsa = find(rows, "RSA-SHA1 verify alone")
    if check is None:
        return
    print()
    print("OAuth 1.0a signed requests (distinct requests, as make bench-proxy sends them), us each (p50)")
    print(f"every check but the nonce (parse, base string, RSA-SHA1, nonce key): {1e6 / check:6.2f} us")
    if parse is not None:
        print(f"  of which the parse and the base string:                           {1e6 / parse:6.2f} us")
    if rsa is not None:
        print(f"  RSA-SHA1 alone (one EVP_DigestVerify, prepared context):          {1e6 / rsa:6.2f} us")
        print(f"  the protocol's work over the cryptography:                        {1e6 / check - 1e6 / rsa:6.2f} us "
              f"({check / rsa:.0%} of the check is RSA)")


def main():
    rows = load(sys.argv[1])
    if not rows:
        sys.exit("bench-report: no JMH results found")
    print(f"{'benchmark':<72} {'ops/s (p50)':>14}")
    for name, value in sorted(rows.items()):
        print(f"{name:<72} {value:>14,.0f}")
    jwt_section(rows)
    decision_section(rows)
    grants_section(rows)
    oauth1_section(rows)


if __name__ == "__main__":
    main()
