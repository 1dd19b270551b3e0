#!/usr/bin/env bash
# Builds the ConfigDSL libFuzzer harness and fuzzes it for a bounded time.
# Exits non-zero if libFuzzer finds a crash (or a timeout / out-of-memory); the input that did it
# is written to Fuzz/crashes/ (crash-*, timeout-*, oom-*).
#
# Usage: Fuzz/run.sh [SECONDS] [extra libFuzzer flags...]      (default 60 seconds)
#   FUZZ_JOBS=N     run N fuzzing processes in parallel (default 1; their logs go to include-dir/fuzz-N.log)
#   Reproduce one input:  Fuzz/.build/release/FuzzConfig Fuzz/crashes/crash-...   (run from Fuzz/include-dir)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
seconds=${1:-60}
shift || true

build() {
    (cd "$here" && swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library 2>&1 |
        { grep -Ev "^\[|Cannot export local symbol '__asan_extra_spill_area'" || true; })
}
# kad's sources may be edited while this builds ("modified during the build"): try again a few times.
for attempt in 1 2 3; do
    if build && [ -x "$here/.build/release/FuzzConfig" ]; then break; fi
    [ $attempt = 3 ] && { echo "run.sh: build failed" >&2; exit 2; }
    echo "run.sh: build failed, retrying" >&2
    sleep 5
done

mkdir -p "$here/crashes" "$here/.build/corpus"
# Relative includes in the inputs resolve against include-dir/ (a few small real files).
cd "$here/include-dir"
# FUZZ_JOBS > 1: parallel fuzzing processes, each logging to include-dir/fuzz-N.log.
jobs=()
if [ "${FUZZ_JOBS:-1}" -gt 1 ]; then jobs=(-jobs="$FUZZ_JOBS" -workers="$FUZZ_JOBS"); fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:allocator_may_return_null=1}
set +e
"$here/.build/release/FuzzConfig" \
    "$here/.build/corpus" "$here/corpus" \
    -dict="$here/keepalived.dict" \
    -artifact_prefix="$here/crashes/" \
    -max_total_time="$seconds" \
    -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
    -print_final_stats=1 ${jobs[@]+"${jobs[@]}"} "$@"
status=$?
set -e
if [ $status -ne 0 ]; then
    echo "run.sh: libFuzzer exited $status; see $here/crashes/" >&2
fi
exit $status
