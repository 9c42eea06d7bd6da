#!/usr/bin/env bash
# The structural rules `make lint` holds the code to (docs/architecture.md):
# folders inside each module depend one way, the command line stays in the
# executable, credential dispatch has no escape hatch, and comments cite the
# repository's own docs.
set -euo pipefail
cd "$(dirname "$0")/.."

failed=0
fail() { echo "check-structure: $*" >&2; failed=1; }

python3 scripts/folder-graph.py Sources/JWT Sources/Scopes Sources/Policy Sources/Grants Sources/Gateway >/dev/null \
    || { python3 scripts/folder-graph.py Sources/JWT Sources/Scopes Sources/Policy Sources/Grants Sources/Gateway | grep -B20 CYCLE >&2; fail "a folder cycle"; }

if grep -rln "^import ArgumentParser" Sources --include=*.swift | grep -v -e '^Sources/linkgate/' -e '^Sources/EchoUpstream/'; then
    fail "ArgumentParser is imported outside the executables"
fi
if grep -rn "preconditionFailure\|fatalError" Sources/Gateway/Authentication; then
    fail "credential dispatch must be an exhaustive switch, with no preconditionFailure"
fi
if grep -rnE "[a-z]+: inout AccessRecord" Sources; then
    fail "the access record is noted through the request context, not threaded inout"
fi
if grep -rn "CONTRACT §\|PROTOCOLS §" Sources Tests Benchmarks scripts --include=*.swift --include=*.sh --include=*.py \
    --exclude=check-structure.sh; then
    fail "cite the repository's docs/ (docs/gateway.md §N, docs/protocols.md §N), not documents outside it"
fi
exit $failed
