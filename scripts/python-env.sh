#!/usr/bin/env bash
# Creates .venv in the repo root (if missing) and installs Tests/Interop/requirements.txt into it.
# Does nothing when the requirements are unchanged since the last successful install.
# Usage: scripts/python-env.sh        then use .venv/bin/python
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
requirements="$root/Tests/Interop/requirements.txt"
stamp="$venv/.linkgate-requirements.sha256"

if ! command -v python3 >/dev/null 2>&1; then
    echo "python-env: python3 is not on PATH" >&2
    exit 1
fi

if [ ! -x "$venv/bin/python" ]; then
    rm -f "$stamp"
    if ! python3 -m venv "$venv" >/dev/null 2>&1; then
        # Debian's python3 lacks ensurepip until python3-venv is installed.
        "$root/scripts/install-deps.sh" python3-venv >/dev/null
        rm -rf "$venv"
        python3 -m venv "$venv"
    fi
fi

wanted="$(sha256sum "$requirements" | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
    exit 0
fi

"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$requirements" >/dev/null
echo "$wanted" > "$stamp"
