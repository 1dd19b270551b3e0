#!/usr/bin/env bash
# Checks that VRRPCore's packet codec allocates nothing per packet: runs `vrrp-bench decode` and
# `vrrp-bench encode` with --iterations 1000 and --iterations 100000 under valgrind's memcheck and
# compares the "total heap usage: N allocs" lines. The program's own allocations (argument parsing,
# the fixtures, the output) are the same whatever the iteration count, so the count must not grow
# with it: 100 times more packets must not make a single allocation more. Exits 1 if it grows.
#
# Usage: Benchmarks/vrrp-allocs.sh
# Environment:
#   VRRP_BENCH=PATH   use this vrrp-bench binary, build nothing
#   SCRATCH=DIR       SwiftPM build directory for the release build (default Benchmarks/.build)
#   RUNS=N            vrrp-bench --runs (default 7; each run is one more pass of --iterations packets)
#   SMALL=N, LARGE=N  the two iteration counts (default 1000 and 100000)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
RUNS=${RUNS:-7}
SMALL=${SMALL:-1000}
LARGE=${LARGE:-100000}
command -v valgrind >/dev/null || { echo "vrrp-allocs.sh: valgrind is missing" >&2; exit 1; }

log() { echo "==> $*" >&2; }

if [ -n "${VRRP_BENCH:-}" ]; then
    bench=$VRRP_BENCH
else
    scratch=${SCRATCH:-$here/.build}
    build() {
        (cd "$here" && swift build -c release --scratch-path "$scratch" --product vrrp-bench 2>&1 |
            { grep -v '^\[' >&2 || true; })
    }
    # kad's sources may be edited while this builds: try again a few times.
    log "building vrrp-bench (release) in $scratch"
    for attempt in 1 2 3; do
        if build && [ -x "$scratch/release/vrrp-bench" ]; then break; fi
        [ $attempt = 3 ] && { echo "vrrp-allocs.sh: build failed" >&2; exit 2; }
        echo "vrrp-allocs.sh: build failed, retrying" >&2
        sleep 5
    done
    bench=$scratch/release/vrrp-bench
fi
[ -x "$bench" ] || { echo "vrrp-allocs.sh: no vrrp-bench at $bench" >&2; exit 1; }

# Swift seeds its hash functions per process, and with a random seed the start-up code (argument
# parsing) makes one allocation more or fewer from run to run. A fixed seed makes the count exact.
export SWIFT_DETERMINISTIC_HASHING=1

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Prints "ALLOCS FREES BYTES ERRORS" for one valgrind run of vrrp-bench.
measure() {
    valgrind --tool=memcheck --log-file="$tmp/vg" "$bench" "$@" >"$tmp/out"
    awk '/total heap usage:/ { gsub(/,/, ""); a = $5; f = $7; b = $9 }
         /ERROR SUMMARY:/ { e = $4 }
         END { print a, f, b, e }' "$tmp/vg"
}

status=0
echo "vrrp-bench: $bench; valgrind: $(valgrind --version); --runs $RUNS (plus one warm-up run), 3 cases"
echo
echo "| operation | --iterations | packets processed | total heap allocs | frees | bytes allocated | memcheck errors |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for op in decode encode; do
    declare -A allocs=()
    for n in "$SMALL" "$LARGE"; do
        log "valgrind vrrp-bench $op --iterations $n --runs $RUNS"
        read -r a f b e < <(measure "$op" --iterations "$n" --runs "$RUNS")
        warmup=$((n < 1000000 ? n : 1000000))
        packets=$(((n * RUNS + warmup) * 3))
        echo "| $op | $n | $packets | $a | $f | $b | $e |"
        allocs[$n]=$a
        [ "$e" = 0 ] || status=1
    done
    growth=$((allocs[$LARGE] - allocs[$SMALL]))
    if [ "$growth" -gt 0 ]; then
        echo "| $op: **FAIL**, $growth more allocations with $LARGE iterations than with $SMALL | | | | | | |"
        status=1
    else
        echo "| $op: allocation-free per packet (difference $growth) | | | | | | |"
    fi
    unset allocs
done
exit $status
