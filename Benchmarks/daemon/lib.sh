# Shared by the daemon benchmarks (failover.sh, resources.sh, stability.sh): finding or building
# kad, a LAN of network namespaces, starting and stopping kad and keepalived in it, and cleanup.
# Source it; it sets `set -euo pipefail` and an EXIT trap that removes everything it made.
#
# The LAN: a hub namespace holding bridges br0..br(K-1), and node namespaces A, B, ... each with
# interfaces eth0..eth(K-1), ethK plugged into brK through a veth pair. Addresses (documentation
# ranges only): ethK of node n (1 = A, 2 = B) is RANGE[K mod 3].(250 + n) / 24, and .(252 + n) on
# eth3 (whose range, 192.0.2.0/24, is eth0's again); RANGE = 192.0.2, 198.51.100, 203.0.113.
# Virtual addresses are .1-.250 of the interface's range (see confgen.py).
#
# Environment (all scripts):
#   KAD_BIN=PATH       use this kad binary, build nothing
#   KAD_REF=REV        build kad from this git revision (git archive) instead of the working tree
#   KEEPALIVED=PATH    keepalived binary (default: the one on PATH, else /usr/sbin/keepalived)
#   KEEP=1             keep the scratch directory (logs, configurations, captures) and say where
set -euo pipefail

daemon_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
daemon_root=$(cd "$daemon_here/../.." && pwd)
KEEPALIVED=${KEEPALIVED:-$(command -v keepalived || echo /usr/sbin/keepalived)}
PY=$daemon_here/bench.py

log() { echo "==> $*" >&2; }
die() { echo "$(basename "$0"): $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (network namespaces)"
for tool in ip python3 tcpdump setsid "$KEEPALIVED"; do
    command -v "$tool" >/dev/null || die "$tool is missing"
done

# Every namespace, process and file made here is recorded and removed on exit, also after a
# failure or Ctrl-C. Only processes started here are signalled, by pid.
bench_tag=kdb$$
bench_tmp=$(mktemp -d /tmp/kad-daemon-bench.XXXXXX)
bench_namespaces=()
bench_pids=()
bench_cleanup() {
    local status=$?
    set +e
    for pid in "${bench_pids[@]}"; do
        # Each daemon leads its own process group (setsid): signal the group (keepalived's children).
        kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
    done
    for pid in "${bench_pids[@]}"; do wait "$pid" 2>/dev/null; done
    for ns in "${bench_namespaces[@]}"; do ip netns del "$ns" 2>/dev/null; done
    if [ "${KEEP:-0}" = 1 ]; then
        echo "kept $bench_tmp" >&2
    else
        rm -rf "$bench_tmp"
    fi
    exit $status
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------------------------
# kad

# Sets $kad and $kad_desc. Builds kad (release) from a snapshot of the sources, as compare.sh
# does, so that edits made by others during the build cannot break it.
find_kad() {
    if [ -n "${KAD_BIN:-}" ]; then
        kad=$KAD_BIN
        # A binary built by find_kad says what it was built from.
        kad_desc="$(cat "$kad.desc" 2>/dev/null || echo "version $("$kad" --version 2>/dev/null | sed -n 1p)")"
    else
        local snap=$daemon_here/.build/kad-snapshot
        mkdir -p "$snap"
        rm -rf "$snap/Sources" "$snap/Tests" "$snap/Package.swift"
        if [ -n "${KAD_REF:-}" ]; then
            git -C "$daemon_root" archive "$KAD_REF" Package.swift Sources Tests | tar -x -C "$snap"
            kad_desc="commit $(git -C "$daemon_root" rev-parse --short "$KAD_REF")"
        else
            (cd "$daemon_root" && tar -c Package.swift Sources Tests) | tar -x -C "$snap"
            kad_desc="commit $(git -C "$daemon_root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
            if [ -n "$(git -C "$daemon_root" status --porcelain -- Package.swift Sources 2>/dev/null)" ]; then
                kad_desc="$kad_desc + uncommitted changes"
            fi
        fi
        [ -f "$daemon_root/Package.resolved" ] && cp "$daemon_root/Package.resolved" "$snap/"
        log "building kad ($kad_desc) in release mode in $snap"
        (cd "$snap" && swift build -c release --product kad 2>&1 | { grep -Ev '^\[|^warning: .*Invalid Exclude' >&2 || true; })
        kad=$snap/.build/release/kad
        echo "$kad_desc" >"$kad.desc"
    fi
    [ -x "$kad" ] || die "no kad binary at $kad"
    ka_desc=$("$KEEPALIVED" --version 2>&1 | sed -n 1p)
}

# ---------------------------------------------------------------------------------------------
# The LAN

RANGES=(192.0.2 198.51.100 203.0.113)
node_ns() { echo "$bench_tag-$1"; }          # node_ns a
hub_ns() { echo "$bench_tag-hub"; }
# node_addr NODE_INDEX IFACE_INDEX: the node's own address on ethK (without prefix length).
node_addr() { echo "${RANGES[$(($2 % 3))]}.$((250 + $1 + ($2 == 3 ? 2 : 0)))"; }

# make_lan K NODE... (node names are single letters; node i (1-based) gets node_addr i).
make_lan() {
    local k=$1; shift
    local hub; hub=$(hub_ns)
    ip netns add "$hub"; bench_namespaces+=("$hub")
    ip -n "$hub" link set lo up
    local i
    for ((i = 0; i < k; i++)); do
        ip -n "$hub" link add "br$i" type bridge
        # No STP, no multicast snooping: a plain hub, multicast flooded to every port at once.
        ip -n "$hub" link set "br$i" type bridge stp_state 0 mcast_snooping 0
        ip -n "$hub" link set "br$i" up
    done
    local n=0 node ns
    for node in "$@"; do
        n=$((n + 1))
        ns=$(node_ns "$node")
        ip netns add "$ns"; bench_namespaces+=("$ns")
        ip -n "$ns" link set lo up
        for ((i = 0; i < k; i++)); do
            ip -n "$hub" link add "$node$i" type veth peer name "eth$i" netns "$ns"
            ip -n "$hub" link set "$node$i" master "br$i" up
            ip -n "$ns" link set "eth$i" up
            ip -n "$ns" addr add "$(node_addr $n $i)/24" dev "eth$i"
        done
    done
}

# flush_vips NODE K: removes every /32 (virtual) address from the node's eth0..eth(K-1), left by a SIGKILL.
flush_vips() {
    local ns i; ns=$(node_ns "$1")
    for ((i = 0; i < $2; i++)); do
        ip -n "$ns" -4 addr show dev "eth$i" | awk '/inet .*\/32/ {print $2}' | while read -r a; do
            ip -n "$ns" addr del "$a" dev "eth$i" 2>/dev/null || true
        done
    done
}

# ---------------------------------------------------------------------------------------------
# Daemons

# start_daemon IMPL NODE CONF TAG: starts kad or keepalived in the node's namespace, in the
# foreground, logging to $bench_tmp/TAG.log, as the leader of its own process group. Sets
# $started_pid (the group id). IMPL is kad or keepalived. (Not to be called in $(...): the pid
# must be recorded in this shell for the cleanup.)
start_daemon() {
    local impl=$1 node=$2 conf=$3 tag=$4 ns
    ns=$(node_ns "$node")
    local d=$bench_tmp/$tag
    rm -f "$d".*pid "$d.sock"
    if [ "$impl" = kad ]; then
        ip netns exec "$ns" setsid "$kad" run -l -f "$conf" -p "$d.pid" --control-socket "$d.sock" \
            >"$d.log" 2>&1 </dev/null &
    else
        ip netns exec "$ns" setsid "$KEEPALIVED" -n -l -P -f "$conf" -p "$d.pid" -r "$d-vrrp.pid" \
            -c "$d-c.pid" -b "$d-b.pid" >"$d.log" 2>&1 </dev/null &
    fi
    started_pid=$!
    bench_pids+=("$started_pid")
}

# The pids of a daemon: the group leader and its descendants (keepalived's VRRP child).
daemon_pids() { python3 "$PY" tree "$1"; }

# wait_log FILE PATTERN COUNT TIMEOUT_S: waits until PATTERN (grep -E) occurs COUNT times in FILE.
# Returns 1 on time-out.
wait_log() {
    local file=$1 pattern=$2 count=$3 timeout=$4
    python3 "$PY" waitlog "$file" "$pattern" "$count" "$timeout"
}

# stop_daemon PID [TIMEOUT_S]: SIGTERM to the leader (keepalived's parent forwards it to its
# child), wait for the exit, SIGKILL the group after the time-out.
stop_daemon() {
    local pid=$1 timeout=${2:-20} t=0
    kill -TERM "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null && [ "$(ps -o stat= -p "$pid" | cut -c1)" != Z ]; do
        sleep 0.1
        t=$((t + 1))
        if [ $t -ge $((timeout * 10)) ]; then
            echo "warning: pid $pid did not stop within ${timeout}s after SIGTERM; SIGKILL" >&2
            kill -KILL -- "-$pid" 2>/dev/null || true
            break
        fi
    done
    wait "$pid" 2>/dev/null || true
    forget_pid "$pid"
}

# crash_daemon PID: SIGKILL to the whole process group at once (one kill(2) on -PGID), so that
# keepalived's parent cannot restart its child and the child sends no goodbye.
crash_daemon() {
    kill -KILL -- "-$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    forget_pid "$1"
}

forget_pid() {
    local keep=() p
    for p in "${bench_pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    bench_pids=("${keep[@]}")
}

# tcpdump on a hub bridge, nanosecond timestamps. start_capture BRIDGE FILE FILTER; sets $started_pid.
start_capture() {
    local bridge=$1 file=$2 filter=$3
    ip netns exec "$(hub_ns)" setsid tcpdump -i "$bridge" -U --immediate-mode -n -B 8192 --time-stamp-precision=nano -w "$file" "$filter" \
        >"$file.log" 2>&1 </dev/null &
    started_pid=$!
    bench_pids+=("$started_pid")
    wait_log "$file.log" "listening on" 1 10 || die "tcpdump did not start: $(cat "$file.log")"
}

stop_capture() {
    sleep 0.5   # let the last packets reach the file (immediate mode, but be generous)
    kill -INT "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    forget_pid "$1"
}

# ---------------------------------------------------------------------------------------------
# Notes for the results

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
machine_notes() {
    echo "- machine: $(nproc) CPUs, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), Linux $(uname -r); $(date -u +%Y-%m-%dT%H:%MZ)"
    echo "- kad: $kad_desc ($kad), release build; keepalived: $ka_desc"
}
