#!/usr/bin/env bash
# Runs the three daemon benchmarks one after the other (never at the same time: they would load
# each other), with one kad build, and writes their Markdown into OUTPUT.md.
#
# Usage: Benchmarks/daemon/all.sh [OUTPUT.md]
#   QUICK=1 Benchmarks/daemon/all.sh          smoke run of all three (about 6 minutes)
# Every knob of failover.sh, resources.sh and stability.sh passes through (REPS and DURATION mean
# different things in each: set FAILOVER_REPS, RESOURCES_REPS, RESOURCES_DURATION and
# STABILITY_DURATION instead).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

mkdir -p "$here/.build"
out=${1:-$here/.build/daemon-bench-$(date -u +%Y%m%dT%H%M%SZ).md}
find_kad
export KAD_BIN=$kad
status=0
: >"$out"
run() {
    local name=$1; shift
    log "$name"
    if env "$@" "$here/$name" "$bench_tmp/$name.md"; then :; else
        local rc=$?
        echo "all.sh: $name exited $rc" >&2
        status=1
    fi
    cat "$bench_tmp/$name.md" >>"$out" 2>/dev/null || true
    echo >>"$out"
}
run failover.sh ${FAILOVER_REPS:+REPS=$FAILOVER_REPS}
run resources.sh ${RESOURCES_REPS:+REPS=$RESOURCES_REPS} ${RESOURCES_DURATION:+DURATION=$RESOURCES_DURATION}
run stability.sh ${STABILITY_DURATION:+DURATION=$STABILITY_DURATION}
echo "all.sh: results in $out" >&2
exit $status
