#!/usr/bin/env bash
# Many fast instances held for minutes: does anything change state when nothing happens?
#
# For each daemon (kad, keepalived) in turn, a master/backup pair of that daemon on one bridge:
# A (master: state MASTER, priority 150) and B (backup: state BACKUP, priority 100), INSTANCES
# instances (default 255, VRIDs 1..255 on eth0), VRRPv3, advert_int ADVERT_INT (default 0.01, the
# smallest VRRPv3 allows: 25,500 adverts a second for 255 instances; the backup's
# Master_Down_Interval is then 36 ms). Once every instance is MASTER on A and BACKUP on B and
# SETTLE seconds more have passed, the pair is held for DURATION seconds. Counted in that window:
#   - "Entering MASTER|BACKUP|FAULT STATE" lines in each daemon's log (both log keepalived's words);
#   - the backup's adverts and gratuitous ARPs on the bridge (tcpdump in the hub namespace, filtered
#     in the kernel to the backup's packets only), which must be 0, grouped into bursts;
#   - the master's adverts for VRID 1 (filtered likewise): its longest silence, and how many of its
#     gaps exceeded the backup's Master_Down_Interval (a master that paused, not a backup that
#     missed adverts);
#   - CPU time (utime + stime, all processes) of master and backup, and their peak RSS.
# Transitions during start-up (before the window) are reported separately.
#
# Usage: Benchmarks/daemon/stability.sh [OUTPUT.md]
# Environment (and lib.sh's: KAD_BIN, KAD_REF, KEEPALIVED, KEEP):
#   DURATION=S (default 300)   INSTANCES=N (default 255, at most 255)   ADVERT_INT=S (default 0.01)
#   IMPLS="kad keepalived"     SETTLE=S (default 10)
#   QUICK=1                    smoke run: DURATION=15
#   GLOBAL_DEFS="a;b"          lines for global_defs in both nodes' files (e.g. "vrrp_rt_priority 50")
#   HOG=N                      N busy loops (sh) run during the window, competing for the CPUs
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=${1:-}
[ "${QUICK:-0}" = 1 ] && DURATION=${DURATION:-15}
DURATION=${DURATION:-300}
INSTANCES=${INSTANCES:-255}
ADVERT_INT=${ADVERT_INT:-0.01}
IMPLS=${IMPLS:-kad keepalived}
SETTLE=${SETTLE:-10}
HOG=${HOG:-0}
globals=()
IFS=';' read -ra global_lines <<<"${GLOBAL_DEFS:-}"
for g in "${global_lines[@]}"; do [ -n "$g" ] && globals+=(--global "$g"); done
[ "$INSTANCES" -le 255 ] || die "INSTANCES: at most 255 (one interface)"

find_kad
log "LAN: namespaces $bench_tag-hub, -a, -b"
make_lan 1 a b
master_ip=$(node_addr 1 0)
backup_ip=$(node_addr 2 0)
backup_mac=$(ip -n "$(node_ns b)" -o link show eth0 | sed -E 's/.*link\/ether ([0-9a-f:]+).*/\1/')
results=$bench_tmp/stability.jsonl
: >"$results"
fails=0

sample() { python3 "$PY" sample "$1"; }

run_one() {
    local impl=$1 d=$bench_tmp tag=stab-$1 error=""
    local limit=$((30 + INSTANCES / 5))
    flush_vips a 1
    flush_vips b 1
    python3 "$PY" conf --instances "$INSTANCES" --per-interface 255 --state MASTER --priority 150 --version 3 --interval "$ADVERT_INT" ${globals[@]+"${globals[@]}"} >"$d/$tag-m.conf"
    python3 "$PY" conf --instances "$INSTANCES" --per-interface 255 --state BACKUP --priority 100 --version 3 --interval "$ADVERT_INT" ${globals[@]+"${globals[@]}"} >"$d/$tag-b.conf"
    local load_start; load_start=$(loadavg)
    start_daemon "$impl" a "$d/$tag-m.conf" "$tag-m"; local mpid=$started_pid
    wait_log "$d/$tag-m.log" "Entering MASTER STATE" "$INSTANCES" "$limit" || error="the master did not reach MASTER on all instances"
    start_daemon "$impl" b "$d/$tag-b.conf" "$tag-b"; local bpid=$started_pid
    [ -n "$error" ] || wait_log "$d/$tag-b.log" "Entering BACKUP STATE" "$INSTANCES" "$limit" || error="the backup did not reach BACKUP on all instances"
    sleep "$SETTLE"
    local startup_b_master; startup_b_master=$(python3 "$PY" countlog "$d/$tag-b.log" "Entering MASTER STATE")
    local startup_m_backup; startup_m_backup=$(python3 "$PY" countlog "$d/$tag-m.log" "Entering BACKUP STATE")
    local moff boff; moff=$(stat -c %s "$d/$tag-m.log"); boff=$(stat -c %s "$d/$tag-b.log")
    # The backup's packets, and the master's adverts for VRID 1 only (byte 21 of an IPv4 header
    # without options): 100 a second instead of 25,500, enough to see whether the master paused.
    start_capture br0 "$d/$tag.pcap" "(vrrp and src host $backup_ip) or (arp and ether src $backup_mac) or (vrrp and src host $master_ip and ip[21] = 1)"; local cap=$started_pid
    local m0 b0; m0=$(sample "$mpid"); b0=$(sample "$bpid")
    log "$impl: holding $INSTANCES instances at advert_int $ADVERT_INT for ${DURATION}s (load $(loadavg))"
    local hogs=() h
    for ((h = 0; h < HOG; h++)); do sh -c 'while :; do :; done' & hogs+=($!); done
    local waited=0
    while [ "$waited" -lt "$DURATION" ]; do
        sleep 1
        waited=$((waited + 1))
        if ! kill -0 "$mpid" 2>/dev/null || ! kill -0 "$bpid" 2>/dev/null; then
            error="a daemon exited during the window"
            break
        fi
    done
    local m1 b1; m1=$(sample "$mpid"); b1=$(sample "$bpid")
    for h in ${hogs[@]+"${hogs[@]}"}; do kill "$h" 2>/dev/null || true; done
    stop_capture "$cap"
    local load_end; load_end=$(loadavg)
    stop_daemon "$bpid" 30
    stop_daemon "$mpid" 30
    local r
    r=$(python3 - "$impl" "$INSTANCES" "$ADVERT_INT" "$m0" "$m1" "$b0" "$b1" "$d/$tag-m.log" "$moff" "$d/$tag-b.log" "$boff" \
        "$d/$tag.pcap" "$master_ip,$backup_ip" "$startup_b_master" "$startup_m_backup" "$load_start" "$load_end" "$error" "$PY" <<'PY'
import json, sys, importlib.util
(impl, n, interval, m0, m1, b0, b1, mlog, moff, blog, boff, pcap, ips, sbm, smb,
 load_start, load_end, error, py) = sys.argv[1:]
spec = importlib.util.spec_from_file_location("bench", py)
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)
m0, m1, b0, b1 = map(json.loads, (m0, m1, b0, b1))
def transitions(path, offset):
    return {s: bench.count_log(path, f"Entering {s} STATE", int(offset)) for s in ("MASTER", "BACKUP", "FAULT")}
master_ip, backup_ip = ips.split(",")
held = m1["t"] - m0["t"]
r = {"impl": impl, "instances": int(n), "interval": interval, "held_s": held,
     "master_transitions": transitions(mlog, moff), "backup_transitions": transitions(blog, boff),
     **bench.stability_wire(pcap, master_ip, backup_ip, float(interval)),
     "startup_backup_master_lines": int(sbm), "startup_master_backup_lines": int(smb),
     "master_cpu_pct": 100 * (m1["ticks"] - m0["ticks"]) / m1["hz"] / held,
     "backup_cpu_pct": 100 * (b1["ticks"] - b0["ticks"]) / b1["hz"] / held,
     "master_hwm_kb": m1["hwm_kb"], "backup_hwm_kb": b1["hwm_kb"],
     "load_start": load_start, "load_end": load_end, "ok": not error}
if error:
    r["error"] = error
print(json.dumps(r))
PY
)
    echo "$r" >>"$results"
    echo "    $r" >&2
    if [ -n "$error" ] || ! python3 -c 'import json,sys; r=json.loads(sys.argv[1]); sys.exit(0 if not any(r["master_transitions"].values()) and not any(r["backup_transitions"].values()) and r["backup_adverts"] == 0 else 1)' "$r"; then
        fails=$((fails + 1))
        mkdir -p "$daemon_here/.build/failed-runs" && cp "$d/$tag"* "$daemon_here/.build/failed-runs/" 2>/dev/null || true
        log "$impl: ${error:-transitions in the window}; logs and capture kept in $daemon_here/.build/failed-runs/$tag.*"
    fi
}

started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
for impl in $IMPLS; do
    run_one "$impl"
done

{
    echo "### Stability under fast adverts ($(basename "$0"))"
    echo
    machine_notes
    echo "- from $started to $(date -u +%Y-%m-%dT%H:%M:%SZ); DURATION=$DURATION INSTANCES=$INSTANCES ADVERT_INT=$ADVERT_INT SETTLE=$SETTLE HOG=$HOG GLOBAL_DEFS=\"${GLOBAL_DEFS:-}\""
    echo
    python3 "$PY" report-stability "$results"
    python3 - "$results" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    extra = []
    if r["startup_backup_master_lines"]:
        extra.append(f'{r["startup_backup_master_lines"]} "Entering MASTER STATE" on the backup during start-up')
    # Both daemons log one "Entering BACKUP STATE" per instance at start, before MASTER.
    if r["startup_master_backup_lines"] > r["instances"]:
        extra.append(f'{r["startup_master_backup_lines"]} "Entering BACKUP STATE" on the master during start-up')
    import time
    for b in r.get("bursts", []):
        at = time.strftime("%H:%M:%S", time.gmtime(b["at_ns"] / 1e9))
        silent = "–" if b["master_silent_ms"] is None else f'{b["master_silent_ms"]:.1f} ms'
        gap = "–" if b["master_longest_gap_near_ms"] is None else f'{b["master_longest_gap_near_ms"]:.1f} ms'
        extra.append(f'burst at {at}Z: {b["adverts"]} backup adverts; the master\'s last VRID-1 advert was {silent} '
                     f'before it, its longest VRID-1 gap within 1 s of it {gap}')
    if not r["ok"]:
        extra.append("run failed: " + r["error"])
    if extra:
        print(f'\n- {r["impl"]}: ' + "; ".join(extra))
PY
} | tee ${out:+"$out"}
exit $((fails > 0 ? 3 : 0))
