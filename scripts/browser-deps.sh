#!/usr/bin/env bash
# Installs the headless browser the interop browser tests drive (Debian's chromium,
# chromium-driver and python3-selenium, for the system /usr/bin/python3, not .venv),
# then prints the chromedriver path on stdout.
# Usage: scripts/browser-deps.sh      then /usr/bin/python3 Tests/Interop/browser_consent.py ...
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/install-deps.sh" chromium chromium-driver python3-selenium >&2

driver="$(command -v chromedriver || true)"
[ -n "$driver" ] || [ ! -x /usr/bin/chromedriver ] || driver=/usr/bin/chromedriver
if [ -z "$driver" ]; then
    echo "browser-deps: chromedriver is not on PATH after installing chromium-driver" >&2
    exit 1
fi
echo "$driver"
