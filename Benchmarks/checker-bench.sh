#!/usr/bin/env bash
# CPU per health check natively (no IPVS needed): checker-bench in a fresh network namespace,
# with Benchmarks/ipvs/checkserver.c answering every address of 2001:db8::/64 on lo.
# Usage: CHECK=tcp|http Benchmarks/checker-bench.sh [more checker-bench options: --servers 10000 ...]
# PROFILE_CMD="perf record -g -o /tmp/cb.data" or "strace -c -f" wraps the benchmark.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
CHECK=${CHECK:-tcp}
(cd "$here" && swift build -c release --product checker-bench 2>&1 | grep -Ev '^\[|^Building|^Build of' >&2 || true)
bin=$here/.build/release/checker-bench
work=$(mktemp -d /tmp/kad-checker-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
gcc -O2 -o "$work/checkserver" "$here/ipvs/checkserver.c"
export PROFILE_CMD=${PROFILE_CMD:-}
unshare --net bash -c '
    set -e
    ip link set lo up
    ip -6 route add local 2001:db8::/64 dev lo
    ulimit -n "$(ulimit -Hn)"
    "$1/checkserver" "$2" 80 >/dev/null &
    srv=$!
    sleep 0.3
    $PROFILE_CMD "$3" --check "$2" "${@:4}"
    kill $srv
' bench "$work" "$CHECK" "$bin" "$@"
