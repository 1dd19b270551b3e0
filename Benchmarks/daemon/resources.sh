#!/usr/bin/env bash
# CPU time and memory of kad and keepalived running N VRRP instances, in the same run.
#
# Nodes A and B, each with eth0..eth3, ethK on bridge brK of the hub (four separate LANs, so a
# VRID can be used once on each). Instance i runs on eth(i / 250) with VRID (i mod 250) + 1 and
# one VIP (.VRID of the interface's range, /32), VRRPv3, advert_int 1 (ADVERT_INT).
#   master: the daemon alone on A, every instance state MASTER, priority 150.
#   backup: the daemon on B, every instance state BACKUP, priority 100, facing a master with
#           priority 150 on A run by keepalived for both daemons (PEER=keepalived, the default: the
#           same adverts arrive whichever daemon is measured), or by the same daemon (PEER=same).
# After every instance has reached its state and SETTLE seconds more (start-up, the gratuitous
# ARPs sent 5 s after becoming master), CPU ticks (utime + stime from /proc/PID/stat) are read from
# every process of the daemon (kad: one; keepalived: the parent and its VRRP child), then again
# DURATION seconds later. Peak RSS is VmHWM summed over the daemon's processes at the end (it
# includes the start-up); RSS at end is VmRSS. A run where an instance changed state during the
# window is reported as failed.
#
# Usage: Benchmarks/daemon/resources.sh [OUTPUT.md]
# Environment (and lib.sh's: KAD_BIN, KAD_REF, KEEPALIVED, KEEP):
#   REPS=N            repetitions (default 3); DURATION=S measurement window (default 30)
#   COUNTS="1 50 250 1000"   instance counts (at most 1000: 4 interfaces × 250)
#   ROLES="master backup"; IMPLS="kad keepalived"; PEER=keepalived|same; SETTLE=S (default 8)
#   ADVERT_INT=S (default 1); VERSION=2|3 (default 3)
#   QUICK=1           smoke run: REPS=1, DURATION=5, COUNTS="1 50"
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=${1:-}
if [ "${QUICK:-0}" = 1 ]; then
    REPS=${REPS:-1}; DURATION=${DURATION:-5}; COUNTS=${COUNTS:-1 50}
fi
REPS=${REPS:-3}
DURATION=${DURATION:-30}
COUNTS=${COUNTS:-1 50 250 1000}
ROLES=${ROLES:-master backup}
IMPLS=${IMPLS:-kad keepalived}
PEER=${PEER:-keepalived}
SETTLE=${SETTLE:-8}
ADVERT_INT=${ADVERT_INT:-1}
VERSION=${VERSION:-3}

max=0
for n in $COUNTS; do
    [ "$n" -le 1000 ] || die "at most 1000 instances (4 interfaces × 250 VRIDs)"
    if [ "$n" -gt "$max" ]; then max=$n; fi
done
ifaces=$(((max + 249) / 250))

find_kad
log "LAN: namespaces $bench_tag-hub, -a, -b; $ifaces interface(s) per node"
make_lan "$ifaces" a b
results=$bench_tmp/resources.jsonl
: >"$results"
fails=0

# measure PID: prints "TICKS HZ WALL" now.
snap() { python3 -c 'import json,sys; s=json.loads(sys.argv[1]); print(s["ticks"], s["hz"], s["t"], s["hwm_kb"], s["rss_kb"], len(s["pids"]), s["threads"], s["sched_ns"], s["pss_kb"])' "$(python3 "$PY" sample "$1")"; }

# run_one IMPL ROLE N REP
run_one() {
    local impl=$1 role=$2 n=$3 rep=$4 d=$bench_tmp
    local tag=res-$role-$impl-$n-$rep error="" node=a state=MASTER prio=150 ppid=""
    local start_limit=$((30 + n / 10))
    flush_vips a "$ifaces"
    flush_vips b "$ifaces"
    if [ "$role" = backup ]; then
        local peer=$PEER
        [ "$peer" = same ] && peer=$impl
        python3 "$PY" conf --instances "$n" --state MASTER --priority 150 --version "$VERSION" --interval "$ADVERT_INT" >"$d/$tag-peer.conf"
        start_daemon "$peer" a "$d/$tag-peer.conf" "$tag-peer"; ppid=$started_pid
        wait_log "$d/$tag-peer.log" "Entering MASTER STATE" "$n" "$start_limit" || error="the peer master did not reach MASTER on all $n instances"
        node=b state=BACKUP prio=100
    fi
    python3 "$PY" conf --instances "$n" --state "$state" --priority "$prio" --version "$VERSION" --interval "$ADVERT_INT" >"$d/$tag.conf"
    local load1; load1=$(cut -d' ' -f1 /proc/loadavg)
    start_daemon "$impl" "$node" "$d/$tag.conf" "$tag"; local pid=$started_pid
    [ -n "$error" ] || wait_log "$d/$tag.log" "Entering $state STATE" "$n" "$start_limit" || error="not all $n instances reached $state within ${start_limit}s"
    sleep "$SETTLE"
    local before_log; before_log=$(stat -c %s "$d/$tag.log")
    local t0 hz w0 t1 w1 hwm rss procs threads s0 s1 pss
    read -r t0 hz w0 _ _ _ _ s0 _ < <(snap "$pid")
    sleep "$DURATION"
    read -r t1 hz w1 hwm rss procs threads s1 pss < <(snap "$pid")
    local changes; changes=$(python3 "$PY" countlog "$d/$tag.log" "Entering [A-Z]+ STATE" "$before_log")
    [ -n "$error" ] || [ "$changes" = 0 ] || error="$changes state changes during the window"
    if [ "$role" = master ]; then
        [ -n "$error" ] || [ "$(python3 "$PY" countlog "$d/$tag.log" "Entering MASTER STATE")" -ge "$n" ] || error="not all instances MASTER"
    else
        [ -n "$error" ] || [ "$(python3 "$PY" countlog "$d/$tag.log" "Entering MASTER STATE")" = 0 ] || error="the backup took over"
    fi
    kill -0 "$pid" 2>/dev/null || error="${error:-the daemon exited}"
    stop_daemon "$pid" 30
    [ -z "$ppid" ] || stop_daemon "$ppid" 30
    local r
    r=$(python3 - "$impl" "$role" "$n" "$rep" "$t0" "$t1" "$hz" "$w0" "$w1" "$hwm" "$rss" "$procs" "$threads" "$load1" "$error" "${ppid:+$PEER}" "$s0" "$s1" "$pss" <<'PY'
import json, sys
impl, role, n, rep, t0, t1, hz, w0, w1, hwm, rss, procs, threads, load1, error, peer, s0, s1, pss = sys.argv[1:]
r = {"impl": impl, "role": role, "instances": int(n), "rep": int(rep), "cpu_s": (int(t1) - int(t0)) / int(hz),
     "window_s": float(w1) - float(w0), "hwm_kb": int(hwm), "rss_kb": int(rss), "processes": int(procs),
     "threads": int(threads), "load1": float(load1), "ok": not error, "peer": peer or None,
     "sched_cpu_s": (int(s1) - int(s0)) / 1e9, "pss_kb": int(pss)}
if error:
    r["error"] = error
print(json.dumps(r))
PY
)
    echo "$r" >>"$results"
    python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print("    %s: %s" % (sys.argv[2], ("CPU %.2f s (schedstat %.3f s) in %.1f s (%.2f %%), VmHWM %.1f MiB, VmRSS %.1f MiB, %d process(es), %d threads" % (r["cpu_s"], r["sched_cpu_s"], r["window_s"], 100*r["cpu_s"]/r["window_s"], r["hwm_kb"]/1024, r["rss_kb"]/1024, r["processes"], r["threads"])) + ("" if r["ok"] else " FAILED: " + r["error"])), file=sys.stderr)' "$r" "$tag"
    if [ -n "$error" ]; then
        fails=$((fails + 1))
        mkdir -p "$daemon_here/.build/failed-runs" && cp "$d/$tag"* "$daemon_here/.build/failed-runs/" 2>/dev/null || true
        log "kept the failed run's logs in $daemon_here/.build/failed-runs/$tag.*"
    fi
}

started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
load_start=$(loadavg)
for ((rep = 1; rep <= REPS; rep++)); do
    # Alternate which daemon goes first from one repetition to the next.
    order=$IMPLS
    [ $((rep % 2)) = 0 ] && order=$(echo "$IMPLS" | tr ' ' '\n' | tac | tr '\n' ' ')
    for n in $COUNTS; do
        for role in $ROLES; do
            for impl in $order; do
                log "rep $rep/$REPS: $n instance(s), $impl as $role (load $(loadavg))"
                run_one "$impl" "$role" "$n" "$rep"
            done
        done
    done
done

{
    echo "### Resource use ($(basename "$0"))"
    echo
    machine_notes
    echo "- from $started to $(date -u +%Y-%m-%dT%H:%M:%SZ); load average (1, 5, 15 min) $load_start at the start, $(loadavg) at the end"
    echo "- REPS=$REPS DURATION=$DURATION SETTLE=$SETTLE COUNTS=\"$COUNTS\" VRRPv$VERSION advert_int $ADVERT_INT; backups face a master run by ${PEER/same/the same daemon}"
    echo
    python3 "$PY" report-resources "$results"
} | tee ${out:+"$out"}
exit $((fails > 0 ? 3 : 0))
