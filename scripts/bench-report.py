#!/usr/bin/env python3
"""Prints the JWT benchmark figures and ratios from a `--format jmh` export.

Usage: bench-report.py RESULTS_DIR
Each figure is the median (p50) throughput. Every benchmark runs 1,000
operations per sample (scalingFactor .kilo), so operations per second are
samples per second times 1,000. The ratios compare runs made side by side in
the same process on the same core.
"""
import glob
import json
import sys

OPERATIONS_PER_SAMPLE = 1000


def load(directory):
    rows = {}
    for path in glob.glob(f"{directory}/**/*.jmh.json", recursive=True) + glob.glob(f"{directory}/**/*.jmh", recursive=True):
        with open(path) as handle:
            for element in json.load(handle):
                name = element["benchmark"].split(".", 3)[-1].replace("_", " ")
                metric = element["primaryMetric"]
                rows[name] = metric["scorePercentiles"]["50.0"] * OPERATIONS_PER_SAMPLE
    return rows


def find(rows, prefix):
    for name, value in rows.items():
        if prefix in name:
            return name, value
    sys.exit(f"bench-report: no benchmark named like '{prefix}' in the results")


def main():
    rows = load(sys.argv[1])
    if not rows:
        sys.exit("bench-report: no JMH results found")
    print(f"{'benchmark':<72} {'ops/s (p50)':>14}")
    for name, value in sorted(rows.items()):
        print(f"{name:<72} {value:>14,.0f}")
    _, connect = find(rows, "Connect JWT verify")
    _, oneshot = find(rows, "HMAC() one-shot")
    _, keyed = find(rows, "keyed context")
    print()
    print(f"Connect JWT verifications per second: {connect:,.0f} (target >= 400,000)")
    print(f"cost ratio to raw HMAC() one-shot:           {oneshot / connect:.2f}x (target <= 3x)")
    print(f"cost ratio to raw keyed context per call:     {keyed / connect:.2f}x")


if __name__ == "__main__":
    main()
