#!/usr/bin/env bash
# CPU per health check: kad's checkers beside keepalived's checker process, in the same run,
# both inside the IPVS VM (../shared/tools/ipvs-vm: the host kernel has no IPVS, and both
# daemons need it to start their checkers).
#
# N real servers (100 per virtual server [2001:db8:ffff::1]:1000+i) at 2001:db8::1.., each
# with one TCP_CHECK or HTTP_GET (path /, status 200), delay_loop 1. The real servers are one
# epoll process (checkserver.c) on [::]:80 answering every address of 2001:db8::/64, made local
# with `ip -6 route add local 2001:db8::/64 dev lo`; it counts the connections it answered.
# Each daemon runs alone in a fresh VM (`-C`, checkers only). After WARMUP seconds, CPU ticks
# (utime + stime of every process of the daemon: kad one, keepalived its parent and checker
# child) and the server's count are read, then again DURATION seconds later.
# CPU per check = CPU seconds / connections answered in the window.
#
# The VM runs under TCG (no KVM here), several times slower than the host: the ratio between
# the two daemons is the result, not the absolute numbers.
#
# Usage: Benchmarks/ipvs/checkers.sh [OUTPUT.md]
# Environment (and lib.sh's: KAD_BIN, KEEPALIVED, IPVS_VM, IMPLS): N="10000", CHECKS="tcp http",
#   REPS=1, WARMUP=20, DURATION=30, SMP=2, MEM=1G,
#   KAD_ARGS (extra arguments for kad run, e.g. "--checker-threads 2")
set -euo pipefail
. "$(dirname "$0")/lib.sh"
N=${N:-10000}
CHECKS=${CHECKS:-tcp http}
KAD_ARGS=${KAD_ARGS:-}
REPS=${REPS:-1}
WARMUP=${WARMUP:-20}
DURATION=${DURATION:-30}
SMP=${SMP:-2}
MEM=${MEM:-1G}
out=${1:-}

for f in "$KAD_BIN" "$KEEPALIVED" "$IPVS_VM"; do [ -x "$f" ] || { echo "missing: $f" >&2; exit 1; }; done
work=$(mktemp -d /tmp/kad-checkers.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp "$KAD_BIN" "$work/kad"
gcc -O2 -Wall -o "$work/checkserver" "$here/checkserver.c"

# config CHECK: N real servers, 100 per virtual server.
config() {
    python3 - "$1" "$N" <<'EOF'
import sys
check, n = sys.argv[1], int(sys.argv[2])
body = ("TCP_CHECK {\n            connect_timeout 3\n        }" if check == "tcp" else
        "HTTP_GET {\n            url {\n                path /\n                status_code 200\n            }\n            connect_timeout 3\n        }")
out = ["global_defs {\n    router_id checker_bench\n}\n"]
for v in range((n + 99) // 100):
    out.append(f"virtual_server 2001:db8:ffff::1 {1000 + v} {{\n    delay_loop 1\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n")
    for r in range(v * 100, min(n, v * 100 + 100)):
        out.append(f"    real_server 2001:db8::{r + 1:x} 80 {{\n        weight 1\n        {body}\n    }}\n")
    out.append("}\n")
sys.stdout.write("".join(out))
EOF
}
for c in $CHECKS; do config "$c" >"$work/$c.conf"; done

cat >"$work/inner.sh" <<'EOF'
#!/bin/sh
# In the VM: IMPL CHECK
impl=$1; check=$2; w=$(dirname "$0")
ulimit -n 65536
mkdir -p /run/b && cd /run/b
ip -6 route add local 2001:db8::/64 dev lo
"$w/checkserver" "$check" 80 > srv.out 2>&1 &
srv=$!
sleep 1
if [ "$impl" = kad ]; then
    "$w/kad" run -C -l -f "$w/$check.conf" -p /run/b/k.pid --control-socket /run/b/k.sock $KAD_ARGS > d.log 2>&1 &
else
    "$KEEPALIVED" -n -l -C -f "$w/$check.conf" -p /run/b/k.pid -c /run/b/c.pid > d.log 2>&1 &
fi
dpid=$!
pids() { if [ "$impl" = kad ]; then echo $dpid; else pidof keepalived; fi; }
ticks() { t=0; for p in $(pids); do t=$((t + $(awk '{print $14 + $15}' /proc/$p/stat))); done; echo $t; }
answered() { kill -USR1 $srv; sleep 0.3; tail -n 1 srv.out; }
sleep "$WARMUP"
c0=$(answered); k0=$(ticks); u0=$(cut -d' ' -f1 /proc/uptime)
sleep "$DURATION"
c1=$(answered); k1=$(ticks); u1=$(cut -d' ' -f1 /proc/uptime)
dests=$(ipvsadm -Ln | grep -c '^  -> \[')
hz=$(getconf CLK_TCK 2>/dev/null || echo 100)
echo "RESULT $impl $check $((k1 - k0)) $hz $((c1 - c0)) $u0 $u1 $dests $(pids | wc -w)"
kill -TERM $dpid; wait $dpid
kill -TERM $srv; wait $srv
grep -ciE "error|fail" d.log | sed 's/^/log lines with error or fail: /'
EOF
chmod +x "$work/inner.sh"

results=$work/results.txt
: >"$results"
for rep in $(seq "$REPS"); do
    for check in $CHECKS; do
        for impl in $IMPLS; do
            echo "==> $impl $check N=$N rep $rep" >&2
            "$IPVS_VM" -q --timeout $((WARMUP + DURATION + 300)) --smp "$SMP" --mem "$MEM" \
                --copy "$work" --copy "$KEEPALIVED" --env KEEPALIVED="$KEEPALIVED" --env KAD_ARGS="$KAD_ARGS" \
                --env WARMUP="$WARMUP" --env DURATION="$DURATION" \
                -- "$work/inner.sh" "$impl" "$check" 2>&1 | tee -a "$work/vm.log" | grep -E "^RESULT|^log lines" | tee -a "$results" >&2 || true
        done
    done
done

report=$(python3 - "$results" "$N" <<'EOF'
import sys, statistics
rows = {}
for line in open(sys.argv[1]):
    p = line.split()
    if p[0] != "RESULT": continue
    impl, check, ticks, hz, answered, u0, u1, dests = p[1], p[2], int(p[3]), int(p[4]), int(p[5]), float(p[6]), float(p[7]), int(p[8])
    wall = u1 - u0
    cpu = ticks / hz
    rows.setdefault((check, impl), []).append((cpu / wall * 100, answered / wall, cpu / answered * 1e6 if answered else float("nan"), dests))
n = sys.argv[2]
print(f"| check | daemon | % of a core (median) | checks/s answered | CPU µs per check | destinations in table at end | runs |")
print("|---|---|---|---|---|---|---|")
for check in ("tcp", "http"):
    for impl in ("kad", "keepalived"):
        r = rows.get((check, impl))
        if not r: continue
        med = lambda i: statistics.median(x[i] for x in r)
        print(f"| {check} | {impl} | {med(0):.1f} | {med(1):.0f} | {med(2):.1f} | {min(x[3] for x in r)}–{max(x[3] for x in r)} of {n} | {len(r)} |")
    k, a = rows.get((check, "kad")), rows.get((check, "keepalived"))
    if k and a:
        print(f"| {check} | kad / keepalived | {statistics.median(x[0] for x in k) / statistics.median(x[0] for x in a):.2f}× | | {statistics.median(x[2] for x in k) / statistics.median(x[2] for x in a):.2f}× | | |")
EOF
)
echo "$report"
[ -n "$out" ] && echo "$report" >"$out"
