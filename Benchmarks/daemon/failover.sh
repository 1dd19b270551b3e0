#!/usr/bin/env bash
# Crash failover and priority-0 handover, kad beside keepalived in the same run, timed on the wire.
#
# Two nodes on one bridge: A (192.0.2.251, master, priority 150, state MASTER) and B
# (192.0.2.252, backup, priority 100, state BACKUP), one instance, VRID 1, VIP 192.0.2.1/32.
# tcpdump captures the bridge in the hub namespace with nanosecond timestamps. Each run:
#   crash:    SIGKILL to the master's whole process group (keepalived's parent and VRRP child at
#             once, so no goodbye and no restart); timed from the master's last advert to the
#             backup's first advert and first gratuitous ARP for the VIP. Expected: the backup's
#             Master_Down_Interval, 3 × interval + (256 − 100) × interval / 256.
#   handover: SIGTERM to the master (keepalived's parent forwards it); timed from the master's
#             priority-0 advert to the backup's first advert and first GARP. Expected: the
#             backup's Skew_Time, (256 − 100) × interval / 256.
# Pairs are MASTER_IMPL:BACKUP_IMPL; runs are interleaved (repetition, then VRRP version, then
# pair, then mode), so slow phases of a shared machine hit every pair alike.
#
# Usage: Benchmarks/daemon/failover.sh [OUTPUT.md]
# Environment (and lib.sh's: KAD_BIN, KAD_REF, KEEPALIVED, KEEP):
#   REPS=N          repetitions of each case (default 5)
#   VERSIONS="3:0.1 2:1"   VRRP version:advert_int cases (default both)
#   PAIRS="kad:kad keepalived:keepalived keepalived:kad kad:keepalived"   master:backup (default all four)
#   MODES="crash handover" (default both)
#   QUICK=1         smoke run: REPS=1, VERSIONS=3:0.1, PAIRS="kad:kad keepalived:keepalived"
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=${1:-}
if [ "${QUICK:-0}" = 1 ]; then
    REPS=${REPS:-1}; VERSIONS=${VERSIONS:-3:0.1}; PAIRS=${PAIRS:-kad:kad keepalived:keepalived}
fi
REPS=${REPS:-5}
VERSIONS=${VERSIONS:-3:0.1 2:1}
PAIRS=${PAIRS:-kad:kad keepalived:keepalived keepalived:kad kad:keepalived}
MODES=${MODES:-crash handover}

find_kad
log "LAN: namespaces $bench_tag-hub, -a, -b"
make_lan 1 a b
master_ip=$(node_addr 1 0)
backup_ip=$(node_addr 2 0)
vip=192.0.2.1
results=$bench_tmp/failover.jsonl
: >"$results"
fails=0

# run_one MODE VERSION INTERVAL MASTER_IMPL BACKUP_IMPL REP
run_one() {
    local mode=$1 version=$2 interval=$3 mimpl=$4 bimpl=$5 rep=$6
    local tag=$mode-v$version-$mimpl-$bimpl-$rep d=$bench_tmp
    local expected
    if [ "$mode" = crash ]; then
        expected=$(python3 -c "i=$interval; print(1000 * (3 * i + (256 - 100) * i / 256))")
    else
        expected=$(python3 -c "i=$interval; print(1000 * (256 - 100) * i / 256)")
    fi
    python3 "$PY" conf --instances 1 --state MASTER --priority 150 --version "$version" --interval "$interval" >"$d/$tag-m.conf"
    python3 "$PY" conf --instances 1 --state BACKUP --priority 100 --version "$version" --interval "$interval" >"$d/$tag-b.conf"
    flush_vips a 1
    flush_vips b 1
    local load1; load1=$(cut -d' ' -f1 /proc/loadavg)
    start_capture br0 "$d/$tag.pcap" "vrrp or arp"; local cap=$started_pid
    start_daemon "$mimpl" a "$d/$tag-m.conf" "$tag-m"; local mpid=$started_pid
    local error=""
    wait_log "$d/$tag-m.log" "Entering MASTER STATE" 1 15 || error="the master did not become MASTER"
    start_daemon "$bimpl" b "$d/$tag-b.conf" "$tag-b"; local bpid=$started_pid
    [ -n "$error" ] || wait_log "$d/$tag-b.log" "Entering BACKUP STATE" 1 15 || error="the backup did not enter BACKUP"
    # Settle: the backup has seen a few adverts; the event then falls at a random phase of the interval.
    sleep "$(python3 -c "import random; i=$interval; print(2 + 2 * i + random.random() * i)")"
    local takeovers
    takeovers=$(python3 "$PY" countlog "$d/$tag-b.log" "Entering MASTER STATE")
    [ "$takeovers" = 0 ] || error="${error:-the backup became MASTER before the event}"
    local event_ns; event_ns=$(date +%s%N)
    if [ "$mode" = crash ]; then crash_daemon "$mpid"; else kill -TERM "$mpid"; fi
    local limit; limit=$(python3 -c "print(int(5 * $expected / 1000 + 5))")
    [ -n "$error" ] || wait_log "$d/$tag-b.log" "Entering MASTER STATE" 1 "$limit" || error="the backup did not become MASTER within ${limit}s"
    sleep 0.3   # the first gratuitous ARPs follow the first advert
    stop_capture "$cap"
    stop_daemon "$bpid"
    [ "$mode" = crash ] || stop_daemon "$mpid"
    local meta
    meta=$(printf '{"mode":"%s","version":%s,"interval":"%s","master_impl":"%s","backup_impl":"%s","rep":%s,"expected_ms":%s,"load1":%s}' \
        "$mode" "$version" "$interval" "$mimpl" "$bimpl" "$rep" "$expected" "$load1")
    local r
    r=$(python3 "$PY" failover "$d/$tag.pcap" --mode "$mode" --master "$master_ip" --backup "$backup_ip" \
        --vip "$vip" --event-ns "$event_ns" --meta "$meta")
    if [ -n "$error" ]; then
        r=$(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); r["ok"]=False; r["error"]=sys.argv[2]; print(json.dumps(r))' "$r" "$error")
    fi
    echo "$r" >>"$results"
    python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print("    %s: %s" % (sys.argv[2], ("first advert %.1f ms, first GARP %s ms" % (r["advert_ms"], "%.1f" % r["garp_ms"] if r.get("garp_ms") is not None else "-")) if r["ok"] else "FAILED: " + r.get("error", "?")), file=sys.stderr)' "$r" "$tag"
    if ! python3 -c 'import json,sys; sys.exit(0 if json.loads(sys.argv[1])["ok"] else 1)' "$r"; then
        fails=$((fails + 1))
        mkdir -p "$daemon_here/.build/failed-runs" && cp "$d/$tag"* "$daemon_here/.build/failed-runs/" 2>/dev/null || true
        log "kept the failed run's logs and capture in $daemon_here/.build/failed-runs/$tag.*"
        echo "--- master log ($mimpl):" >&2; tail -5 "$d/$tag-m.log" >&2
        echo "--- backup log ($bimpl):" >&2; tail -5 "$d/$tag-b.log" >&2
    fi
}

started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
load_start=$(loadavg)
for ((rep = 1; rep <= REPS; rep++)); do
    for v in $VERSIONS; do
        for pair in $PAIRS; do
            for mode in $MODES; do
                log "rep $rep/$REPS: VRRPv${v%%:*} advert_int ${v#*:}, ${pair%%:*} master → ${pair#*:} backup, $mode (load $(loadavg))"
                run_one "$mode" "${v%%:*}" "${v#*:}" "${pair%%:*}" "${pair#*:}" "$rep"
            done
        done
    done
done

{
    echo "### Failover timing ($(basename "$0"))"
    echo
    machine_notes
    echo "- from $started to $(date -u +%Y-%m-%dT%H:%M:%SZ); load average (1, 5, 15 min) $load_start at the start, $(loadavg) at the end"
    echo "- REPS=$REPS VERSIONS=\"$VERSIONS\" PAIRS=\"$PAIRS\" MODES=\"$MODES\""
    python3 "$PY" report-failover "$results"
} | tee ${out:+"$out"}
exit $((fails > 0 ? 3 : 0))
