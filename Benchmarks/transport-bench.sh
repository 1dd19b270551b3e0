#!/usr/bin/env bash
# Measures NetLinux's VRRP transport between two network namespaces joined by a veth pair
# (eth0 in each; 192.0.2.1/24 + 2001:db8::1/64 and 192.0.2.2/24 + 2001:db8::2/64, and for unicast
# 192.0.2.10-12 on the receiver):
#
#   1. system calls per advert, with `strace -c -f`: runs with COUNT_SMALL and COUNT_LARGE adverts and
#      prints the difference per advert for each system call (set-up costs cancel out);
#   2. heap allocations, with valgrind: the "total heap usage" count of ALLOC_SMALL and ALLOC_LARGE
#      runs must not grow with the number of adverts (nothing allocated per advert). valgrind 3.19
#      cannot read Swift 6.3's DWARF 5, so it runs a copy without debug information;
#   3. adverts per second and CPU time per advert (transport-bench's own table, RUNS runs each).
#
# Needs root, iproute2, strace and valgrind. Removes its namespaces on exit. Exits 1 when the
# allocation count grows with the number of adverts.
#
# Usage: Benchmarks/transport-bench.sh [syscalls|allocs|rate|all]   (default: all)
# Environment:
#   TRANSPORT_BENCH=PATH      use this binary, build nothing
#   SCRATCH=DIR               SwiftPM build directory for the release build (default Benchmarks/.build)
#   COUNT_SMALL, COUNT_LARGE  advert counts compared by strace (default 1000 and 10000)
#   ALLOC_SMALL, ALLOC_LARGE  advert counts compared by valgrind (default 2000 and 32000)
#   COUNT, RUNS               adverts per run and runs for the rate measurement (default 200000 and 7)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
what=${1:-all}
COUNT_SMALL=${COUNT_SMALL:-1000}
COUNT_LARGE=${COUNT_LARGE:-10000}
ALLOC_SMALL=${ALLOC_SMALL:-2000}
ALLOC_LARGE=${ALLOC_LARGE:-32000}
COUNT=${COUNT:-200000}
RUNS=${RUNS:-7}
log() { echo "==> $*" >&2; }

if [ -n "${TRANSPORT_BENCH:-}" ]; then
    bench=$TRANSPORT_BENCH
else
    scratch=${SCRATCH:-$here/.build}
    log "building transport-bench (release) in $scratch"
    for attempt in 1 2 3; do
        if (cd "$here" && swift build -c release --scratch-path "$scratch" --product transport-bench 2>&1 |
                { grep -v '^\[' >&2 || true; }) && [ -x "$scratch/release/transport-bench" ]; then break; fi
        [ $attempt = 3 ] && { echo "transport-bench.sh: build failed" >&2; exit 2; }
        sleep 5
    done
    bench=$scratch/release/transport-bench
fi

tag=kadtb-$$
a=$tag-a
b=$tag-b
cleanup() { ip netns del "$a" 2>/dev/null || true; ip netns del "$b" 2>/dev/null || true; }
trap cleanup EXIT
ip netns add "$a"
ip netns add "$b"
for ns in "$a" "$b"; do
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
done
ip -n "$a" link add eth0 type veth peer name eth0 netns "$b"
ip -n "$a" link set lo up
ip -n "$b" link set lo up
ip -n "$a" link set eth0 address 02:00:00:00:00:01 up
ip -n "$b" link set eth0 address 02:00:00:00:00:02 up
ip -n "$a" addr add 192.0.2.1/24 dev eth0
ip -n "$b" addr add 192.0.2.2/24 dev eth0
for k in 10 11 12; do ip -n "$b" addr add 192.0.2.$k/24 dev eth0; done
ip -n "$a" addr add 2001:db8::1/64 dev eth0 nodad
ip -n "$b" addr add 2001:db8::2/64 dev eth0 nodad
for _ in $(seq 100); do
    ll=$(ip -n "$a" -6 -o addr show dev eth0 scope link | awk '{print $4}' | cut -d/ -f1)
    [ -n "$ll" ] && ip -n "$b" -6 -o addr show dev eth0 scope link | grep -q fe80 && break
    sleep 0.05
done
[ -n "$ll" ] || { echo "no link-local address" >&2; exit 1; }

A=/var/run/netns/$a
B=/var/run/netns/$b
v4=(--family ipv4 --source 192.0.2.1)
v6=(--family ipv6 --source "$ll")
uni=(--destination 192.0.2.10 --destination 192.0.2.11 --destination 192.0.2.12)
export SWIFT_DETERMINISTIC_HASHING=1
tmp=$(mktemp -d)
trap 'cleanup; rm -rf "$tmp"' EXIT

# The case list: name, then transport-bench arguments.
cases=(
    "ipv4-multicast-raw|${v4[*]} --deliver raw"
    "ipv4-multicast-input|${v4[*]} --deliver input"
    "ipv6-multicast-raw|${v6[*]} --deliver raw"
    "ipv6-multicast-input|${v6[*]} --deliver input"
    "ipv4-unicast-3-peers-raw|${v4[*]} ${uni[*]} --deliver raw"
)

syscalls() {
    echo "### System calls per advert (strace -c -f; counts at $COUNT_LARGE adverts minus counts at $COUNT_SMALL)"
    echo
    echo "sendmsg is divided by the adverts sent, recvmsg and poll by the adverts received; the unicast case sends"
    echo "each advert to 3 peers, so there 3 sendmsg per advert is one per peer."
    echo
    echo "| case | sendmsg per advert | recvmsg per advert received | poll per advert received | other calls per advert | received of sent (large run) |"
    echo "|---|---:|---:|---:|---|---:|"
    for c in "${cases[@]}"; do
        name=${c%%|*}
        args=${c#*|}
        for n in "$COUNT_SMALL" "$COUNT_LARGE"; do
            # --pace keeps the receiver ahead so that every advert is read (strace slows both sides).
            # shellcheck disable=SC2086
            strace -c -f -o "$tmp/strace-$n" "$bench" --from "$A" --to "$B" $args --count "$n" --runs 1 --pace 5 \
                >"$tmp/out-$n"
        done
        python3 - "$tmp" "$COUNT_SMALL" "$COUNT_LARGE" "$name" <<'EOF'
import sys
tmp, small_n, large_n, name = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
def load(path):
    calls = {}
    for line in open(path):
        parts = line.split()
        if len(parts) >= 5 and parts[0][0].isdigit() and parts[-1] != "total":
            calls[parts[-1]] = int(parts[3])
    return calls
def run(n):
    for line in open(f"{tmp}/out-{n}"):
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 4 and cells[1] == "1":
            return int(cells[2]), int(cells[3])
small, large = load(f"{tmp}/strace-{small_n}"), load(f"{tmp}/strace-{large_n}")
(s_sent, s_recv), (l_sent, l_recv) = run(small_n), run(large_n)
adverts = large_n - small_n
diff = {k: large.get(k, 0) - small.get(k, 0) for k in set(small) | set(large)}
received = l_recv - s_recv
other = ", ".join(f"{k} {v / adverts:.3f}" for k, v in sorted(diff.items())
                  if k not in ("sendmsg", "recvmsg", "poll") and abs(v) / adverts >= 0.001)
print(f"| {name} | {diff.get('sendmsg', 0) / adverts:.3f} | {diff.get('recvmsg', 0) / received:.3f} | "
      f"{diff.get('poll', 0) / received:.3f} | {other or 'none'} | {l_recv} of {l_sent} |")
EOF
    done
    echo
}

allocs() {
    echo "### Heap allocations (valgrind memcheck, whole process)"
    echo
    echo "| case | adverts | received | total heap allocs | frees | bytes allocated | memcheck errors |"
    echo "|---|---:|---:|---:|---:|---:|---:|"
    objcopy --strip-debug "$bench" "$tmp/transport-bench"
    for c in "${cases[@]}"; do
        name=${c%%|*}
        args=${c#*|}
        declare -A got=()
        for n in "$ALLOC_SMALL" "$ALLOC_LARGE"; do
            # shellcheck disable=SC2086
            valgrind --tool=memcheck --log-file="$tmp/vg" "$tmp/transport-bench" --from "$A" --to "$B" $args \
                --count "$n" --runs 1 --pace 5 >"$tmp/out"
            received=$(awk -F'|' '/^\| 1 \|/ { gsub(/ /, ""); print $4 }' "$tmp/out")
            read -r al fr by er < <(awk '/total heap usage:/ { gsub(/,/, ""); a = $5; f = $7; b = $9 }
                                         /ERROR SUMMARY:/ { e = $4 } END { print a, f, b, e }' "$tmp/vg")
            echo "| $name | $n | $received | $al | $fr | $by | $er |"
            got[$n]=$al
            [ "$er" = 0 ] || status=1
        done
        growth=$((got[$ALLOC_LARGE] - got[$ALLOC_SMALL]))
        echo "| $name: $((ALLOC_LARGE - ALLOC_SMALL)) more adverts, allocations | | | $growth more | | | |"
        [ "$growth" -le 0 ] || status=1
        unset got
    done
    echo
}

rate() {
    echo "### Adverts per second ($COUNT adverts per run, $RUNS runs)"
    echo
    for c in "${cases[@]}"; do
        args=${c#*|}
        echo "#### ${c%%|*}"
        echo
        # shellcheck disable=SC2086
        "$bench" --from "$A" --to "$B" $args --count "$COUNT" --runs "$RUNS"
        echo
    done
}

status=0
case $what in
    syscalls) syscalls ;;
    allocs) allocs ;;
    rate) rate ;;
    all) syscalls; allocs; rate ;;
    *) echo "usage: $0 [syscalls|allocs|rate|all]" >&2; exit 2 ;;
esac
exit $status
