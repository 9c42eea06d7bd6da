#!/usr/bin/env bash
# The unit tests (every test target but EndToEndTests, as `make unit`) under
# AddressSanitizer in .build-asan and ThreadSanitizer in .build-tsan
# (docs/testing.md, "Sanitizers: `make sanitize`").
# Usage: scripts/sanitize.sh
#        SANITIZERS="address thread" scripts/sanitize.sh   (the default; either one alone)
# Fails if a build fails, a test fails, or a sanitizer reports anything: a report
# ends the test process with an error (halt_on_error), and the log is checked for
# reports as well. Logs: .build-asan/sanitize.log, .build-tsan/sanitize.log.
set -euo pipefail
cd "$(dirname "$0")/.."

SWIFT="${SWIFT:-swift}"
SANITIZERS="${SANITIZERS:-address thread}"
here="$(pwd)"

# The unit tests need no PostgreSQL, no binary, no Python and no browser: run them
# without what `make test` would hand them, whatever the caller's environment holds.
unset LINKGATE_TEST_POSTGRES LINKGATE_TEST_POSTGRES_BIN LINKGATE_BINARY LINKGATE_PYTHON LINKGATE_BROWSER

# A report is an error: the first one stops the test process with status 86 (ASan and
# its LeakSanitizer, which looks for leaks when the process exits) or 88 (TSan). Leaks
# are looked for; the suppression file names the few that are not Linkgate's, each with
# its reason (docs/testing.md, "Sanitizers").
export ASAN_OPTIONS="halt_on_error=1:exitcode=86:detect_leaks=1:detect_stack_use_after_return=1:print_summary=1"
export LSAN_OPTIONS="print_suppressions=0"
export TSAN_OPTIONS="halt_on_error=1:exitcode=88:second_deadlock_stack=1:print_summary=1"
if [ -f "$here/scripts/sanitize-lsan.supp" ]; then
    LSAN_OPTIONS="$LSAN_OPTIONS:suppressions=$here/scripts/sanitize-lsan.supp"
fi
if [ -f "$here/scripts/sanitize-tsan.supp" ]; then
    TSAN_OPTIONS="$TSAN_OPTIONS:suppressions=$here/scripts/sanitize-tsan.supp"
fi

failed=()
for sanitizer in $SANITIZERS; do
    case "$sanitizer" in
        address) scratch=.build-asan pattern='ERROR: (AddressSanitizer|LeakSanitizer)' ;;
        thread) scratch=.build-tsan pattern='WARNING: ThreadSanitizer|ERROR: ThreadSanitizer' ;;
        *)
            echo "sanitize: unknown sanitizer '$sanitizer' (address or thread)" >&2
            exit 64
            ;;
    esac
    flags=(--sanitize="$sanitizer" --scratch-path "$scratch")
    echo "sanitize: $sanitizer: building in $scratch"
    start=$SECONDS
    "$SWIFT" build "${flags[@]}" --build-tests
    echo "sanitize: $sanitizer: built in $((SECONDS - start)) s; running the unit tests"
    log="$scratch/sanitize.log"
    start=$SECONDS
    status=0
    "$SWIFT" test "${flags[@]}" --skip-build --skip EndToEndTests 2>&1 | tee "$log" || status=$?
    if [ "$status" -ne 0 ]; then
        echo "sanitize: $sanitizer: the tests failed (status $status); see $log" >&2
        failed+=("$sanitizer")
    elif grep -Eq "$pattern" "$log"; then
        echo "sanitize: $sanitizer: a sanitizer report in $log" >&2
        failed+=("$sanitizer")
    else
        echo "sanitize: $sanitizer: clean in $((SECONDS - start)) s"
    fi
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "sanitize: FAILED under ${failed[*]}" >&2
    exit 1
fi
echo "sanitize: clean under $SANITIZERS"
