#!/usr/bin/env bash
# Reload time with 2,000 virtual servers × 20 real servers (no checkers) when one real server's
# weight changes: kad beside keepalived, each alone in a fresh IPVS VM (../shared/tools/ipvs-vm),
# checkers only (-C). The daemon programs the table, waits WAIT seconds, the file is replaced
# by the one with the change, SIGHUP; the time runs until the new weight is in the kernel's
# table (polled with ipvsadm every 0.2 s, read from /proc/uptime: 10 ms resolution). kad's own
# log line ("Reload finished in … (file read and translated in …)") is printed too.
#
# The VM runs under TCG (no KVM here), many times slower than the host: compare the two
# daemons, not the absolute numbers.
#
# Usage: Benchmarks/ipvs/reload.sh
# Environment (and lib.sh's: KAD_BIN, KEEPALIVED, IPVS_VM, IMPLS): REPS=1, WAIT=25
set -euo pipefail
. "$(dirname "$0")/lib.sh"
REPS=${REPS:-1}
WAIT=${WAIT:-25}

work=$(mktemp -d /tmp/kad-reload.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp "$KAD_BIN" "$work/kad"
python3 - "$work" <<'EOF'
import sys
def write(path, first_weight):
    out = []
    for i in range(2000):
        out.append(f"virtual_server 192.0.2.10 {1000 + i} {{\n    delay_loop 6\n    lb_algo wrr\n    lb_kind NAT\n    protocol TCP\n")
        for r in range(20):
            w = first_weight if (i, r) == (0, 0) else 1
            out.append(f"    real_server 198.51.100.{r + 1} 80 {{\n        weight {w}\n    }}\n")
        out.append("}\n")
    open(path, "w").write("".join(out))
write(sys.argv[1] + "/a.conf", 1)
write(sys.argv[1] + "/b.conf", 5)
EOF

cat >"$work/inner.sh" <<'EOF'
#!/bin/sh
impl=$1; w=$(dirname "$0")
mkdir -p /run/rl && cd /run/rl && cp "$w/a.conf" k.conf
if [ "$impl" = kad ]; then
    "$w/kad" run -C -l -f /run/rl/k.conf -p /run/rl/k.pid --control-socket /run/rl/k.sock > log 2>&1 &
else
    "$KEEPALIVED" -n -l -C -f /run/rl/k.conf -p /run/rl/k.pid -c /run/rl/c.pid > log 2>&1 &
fi
pid=$!
i=0; while [ "$(ipvsadm -Ln | grep -c '^  -> [0-9]')" -lt 40000 ] && [ $i -lt 1200 ]; do sleep 0.5; i=$((i+1)); done
sleep "$WAIT"
cp "$w/b.conf" k.conf
t0=$(cut -d' ' -f1 /proc/uptime)
kill -HUP $pid
i=0; while ! ipvsadm -Ln -t 192.0.2.10:1000 | grep -qE "198.51.100.1:80 +Masq +5 "; do i=$((i+1)); [ $i -gt 3000 ] && break; sleep 0.2; done
t1=$(cut -d' ' -f1 /proc/uptime)
echo "RESULT $impl $t0 $t1"
grep -E "Reload finished|reload finished|Reload complete" log | tail -2
kill -TERM $pid; wait $pid
EOF
chmod +x "$work/inner.sh"

for rep in $(seq "$REPS"); do
    for impl in $IMPLS; do
        echo "==> $impl rep $rep" >&2
        "$IPVS_VM" -q --timeout 900 --mem 1G --copy "$work" --copy "$KEEPALIVED" --env KEEPALIVED="$KEEPALIVED" \
            --env WAIT="$WAIT" -- "$work/inner.sh" "$impl" 2>&1 |
            awk '/^RESULT/ { printf "%s: SIGHUP to the new weight in the table: %.2f s\n", $2, $4 - $3; next } { print }'
    done
done
