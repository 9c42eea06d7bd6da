#!/usr/bin/env bash
# `make fuzz` (docs/testing.md, "Fuzzing"): builds each libFuzzer harness of Fuzz/
# in .build-fuzz (LINKGATE_FUZZ=1, -sanitize=fuzzer,address), runs it for
# FUZZ_SECONDS from a working copy of its seed corpus, prints the executions per
# harness, and fails on any crash, leak, timeout or out-of-memory, naming the
# input that caused it.
#
# FUZZ_SECONDS   seconds per harness (default 60)
# FUZZ_HARNESSES the harnesses to run, space-separated (default: all)
# FUZZ_TIMEOUT   seconds one input may take before it counts as a hang (default 10)
# FUZZ_RSS_MB    memory limit of a harness process in MB (default 2048)
# FUZZ_ARGS      more libFuzzer flags, e.g. "-seed=1 -max_len=8192"
set -euo pipefail
cd "$(dirname "$0")/.."

ALL_HARNESSES="FuzzJWS FuzzJSON FuzzConnectQSH FuzzPercentDecoding FuzzRouteMatcher FuzzPolicyLoader FuzzOAuth1 FuzzTokenRequest FuzzHTTPHeads"
SECONDS_EACH=${FUZZ_SECONDS:-60}
TIMEOUT=${FUZZ_TIMEOUT:-10}
RSS_MB=${FUZZ_RSS_MB:-2048}
read -r -a harnesses <<<"${FUZZ_HARNESSES:-$ALL_HARNESSES}"
read -r -a extra <<<"${FUZZ_ARGS:-}"
SWIFT=${SWIFT:-swift}
SCRATCH=.build-fuzz
# Working corpora, crash artifacts and logs: in the scratch folder, never in Fuzz/Corpus.
WORK=$SCRATCH/fuzz

for harness in "${harnesses[@]}"; do
    case " $ALL_HARNESSES " in
    *" $harness "*) ;;
    *) echo "fuzz: unknown harness $harness (known: $ALL_HARNESSES)" >&2; exit 2 ;;
    esac
done

# gold cannot link the instrumented objects; the toolchain's lld can.
build=(env LINKGATE_FUZZ=1 "$SWIFT" build --scratch-path "$SCRATCH" -c release
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -enable-testing -Xswiftc -use-ld=lld)
mkdir -p "$WORK"
for harness in "${harnesses[@]}"; do
    echo "fuzz: building $harness (log: $WORK/build-$harness.log)"
    if ! "${build[@]}" --product "$harness" >"$WORK/build-$harness.log" 2>&1; then
        grep -E "error|warning: .*Fuzz/" "$WORK/build-$harness.log" >&2 || tail -20 "$WORK/build-$harness.log" >&2
        echo "fuzz: the build of $harness failed" >&2
        exit 1
    fi
done
bin=$("${build[@]}" --show-bin-path)

failed=0
summary=()
for harness in "${harnesses[@]}"; do
    dir=$WORK/$harness
    mkdir -p "$dir/corpus" "$dir/artifacts"
    # The policy loader's harness writes a folder per input: in memory when it can.
    tmp=$PWD/$dir/tmp
    [ -d /dev/shm ] && [ -w /dev/shm ] && tmp=/dev/shm/linkgate-fuzz-$(id -u)-$harness
    mkdir -p "$tmp"
    for seed in Fuzz/Corpus/"$harness"/*; do
        [ -e "$dir/corpus/${seed##*/}" ] || cp "$seed" "$dir/corpus/"
    done
    # Longest input: past the 8 KiB token and JSON limits where a harness has them,
    # a whole policy folder for the loader, 4 KiB elsewhere.
    case $harness in
    FuzzJWS | FuzzJSON) max_len=9000 ;;
    FuzzPolicyLoader) max_len=16384 ;;
    *) max_len=4096 ;;
    esac
    log=$dir/fuzz.log
    echo "fuzz: running $harness for ${SECONDS_EACH}s (log: $log)"
    status=0
    # Swift's own crash backtracer would race ASan and libFuzzer for a failed precondition.
    SWIFT_BACKTRACE=enable=no TMPDIR=$tmp "$bin/$harness" -max_total_time="$SECONDS_EACH" -timeout="$TIMEOUT" \
        -rss_limit_mb="$RSS_MB" -max_len="$max_len" -detect_leaks=1 -print_final_stats=1 \
        -artifact_prefix="$dir/artifacts/" "${extra[@]}" "$dir/corpus" >"$log" 2>&1 || status=$?
    rm -rf "$tmp"
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    line=$(printf "%-20s %12s executions %8s exec/s" "$harness" "${runs:-?}" "${rate:-?}")
    if [ "$status" -ne 0 ]; then
        failed=1
        artifact=$(sed -n 's/.*Test unit written to //p' "$log" | tail -1)
        # libFuzzer and the sanitizers begin every report so: a crash, a failed check (its
        # stack names the harness line), a leak, a timeout or running out of memory.
        finding=$(grep -m1 -E "==[0-9]+== ?ERROR" "$log" || true)
        grep -A40 -m1 -E "==[0-9]+== ?ERROR" "$log" | head -50 >&2 || true
        line="$line  FAILED (exit $status): ${finding:-see $log}; input: ${artifact:-none written}"
        echo "fuzz: $harness failed; reproduce with: SWIFT_BACKTRACE=enable=no $bin/$harness ${artifact:-<input>}" >&2
    fi
    echo "fuzz: $line"
    summary+=("$line")
done

echo
echo "fuzz: ${SECONDS_EACH}s per harness"
printf '  %s\n' "${summary[@]}"
exit $failed
