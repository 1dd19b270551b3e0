#!/usr/bin/env bash
# Captures real VRRP traffic sent by keepalived (the Debian 12 package, 2.2.7) in network
# namespaces and writes one pcap per scenario, plus the keepalived.conf that produced it, to
# Tests/VRRPCoreTests/Fixtures/keepalived-2.2.7/ (or the directory given as $1).
#
# Needs root, iproute2, keepalived and tcpdump:
#   apt-get install -y keepalived tcpdump
# Optional environment:
#   KADFX_NOFILTER=1   capture everything on the bridge (MLD, IGMP, ...) instead of only the
#                      VRRP/AH/ARP/ND traffic the fixtures keep; for looking, not for committing.
#   KADFX_ONLY="a b"   run only the named scenarios (e.g. "v2-multicast shutdown-priority0").
#
# Topology (all addresses are documentation ranges; nothing leaves the namespaces made here):
#
#   kadfx-PID-r1 eth0 02:00:00:00:00:01 192.0.2.1/24 2001:db8::1/64 fe80::ff:fe00:1 ─┐
#                                                                                 vr1│
#   kadfx-PID-obs  br0 (no addresses, IPv6 off, snooping off; tcpdump runs here) ─────┤
#                                                                                 vr2│
#   kadfx-PID-r2 eth0 02:00:00:00:00:02 192.0.2.2/24 2001:db8::2/64 fe80::ff:fe00:2 ─┘
#
# 192.0.2.3 / 2001:db8::3 are unicast peers that do not exist: r1 and r2 hold permanent
# neighbour entries for them (MAC 02:00:00:00:00:03), so adverts to them go out on the wire,
# are flooded by the bridge and reach nobody.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$repo/Tests/VRRPCoreTests/Fixtures/keepalived-2.2.7}

[ "$(id -u)" -eq 0 ] || { echo "error: run as root" >&2; exit 1; }
for t in ip keepalived tcpdump; do
    command -v "$t" >/dev/null || { echo "error: $t is missing (apt-get install -y keepalived tcpdump)" >&2; exit 1; }
done
kaver=$(keepalived -v 2>&1 | sed -n 1p)
[[ $kaver == *"v2.2.7 "* ]] || echo "warning: this is not keepalived 2.2.7: $kaver" >&2

pfx="kadfx-$$"
R1="$pfx-r1"; R2="$pfx-r2"; OBS="$pfx-obs"
work=$(mktemp -d /tmp/kadfx.XXXXXX)
tcpdump_pid=""

cleanup() {
    set +e
    # Every process inside our own namespaces (tcpdump, keepalived and its children) is ours.
    local ns p sig
    for sig in TERM KILL; do
        for ns in "$R1" "$R2" "$OBS"; do
            for p in $(ip netns pids "$ns" 2>/dev/null); do kill -"$sig" "$p" 2>/dev/null; done
        done
        [ $sig = TERM ] && sleep 1
    done
    for ns in "$R1" "$R2" "$OBS"; do ip netns del "$ns" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# ---------------------------------------------------------------------------------- the LAN
build_lan() {
    local ns
    for ns in "$R1" "$R2" "$OBS"; do ip netns add "$ns"; done
    # Quiet IPv6: no DAD, no router solicitations. Set on "default" before the interfaces
    # appear in the namespace so they inherit it.
    for ns in "$R1" "$R2"; do
        nsx "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
            net.ipv6.conf.all.dad_transmits=0 net.ipv6.conf.default.dad_transmits=0 \
            net.ipv6.conf.all.router_solicitations=0 net.ipv6.conf.default.router_solicitations=0
    done
    nsx "$OBS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip -n "$OBS" link add br0 type bridge stp_state 0 mcast_snooping 0
    ip link add eth0 netns "$R1" address 02:00:00:00:00:01 type veth peer name vr1 netns "$OBS"
    ip link add eth0 netns "$R2" address 02:00:00:00:00:02 type veth peer name vr2 netns "$OBS"
    ip -n "$OBS" link set vr1 master br0
    ip -n "$OBS" link set vr2 master br0
    ip -n "$OBS" link set vr1 up
    ip -n "$OBS" link set vr2 up
    ip -n "$OBS" link set br0 up
    local i
    for i in 1 2; do
        ns=$([ $i = 1 ] && echo "$R1" || echo "$R2")
        ip -n "$ns" link set lo up
        ip -n "$ns" addr add 192.0.2.$i/24 dev eth0
        ip -n "$ns" addr add 2001:db8::$i/64 dev eth0 nodad
        ip -n "$ns" link set eth0 up
        ip -n "$ns" neigh replace 192.0.2.3 lladdr 02:00:00:00:00:03 nud permanent dev eth0
        ip -n "$ns" neigh replace 2001:db8::3 lladdr 02:00:00:00:00:03 nud permanent dev eth0
    done
    # Let link-local addresses and the initial MLD/IGMP chatter settle before any capture.
    sleep 2
    ip -n "$R1" -6 addr show dev eth0 | grep -q 'fe80::ff:fe00:1/64' ||
        { echo "error: r1 has no link-local fe80::ff:fe00:1" >&2; exit 1; }
}

# ---------------------------------------------------------------------------------- helpers
# start_ka NS NAME CONFFILE: starts keepalived in NS with its own pid files and log.
start_ka() {
    local ns=$1 name=$2 conf=$3
    # Not through nsx: a backgrounded shell function would make $! a subshell's pid.
    ip netns exec "$ns" keepalived -n -l -D -P -f "$conf" \
        -p "$work/$name.pid" -r "$work/$name.vrrp.pid" -c "$work/$name.chk.pid" -b "$work/$name.bfd.pid" \
        >"$work/$name.log" 2>&1 &
    echo "$!" >"$work/$name.parent"
}

# stop_ka NAME: SIGTERM to the parent, wait until the parent and its VRRP child are gone.
stop_ka() {
    local name=$1 p c i
    p=$(cat "$work/$name.parent")
    c=$(cat "$work/$name.vrrp.pid" 2>/dev/null || true)
    kill -TERM "$p" 2>/dev/null || true
    for i in $(seq 100); do
        if ! kill -0 "$p" 2>/dev/null && { [ -z "$c" ] || ! kill -0 "$c" 2>/dev/null; }; then
            wait "$p" 2>/dev/null || true
            return 0
        fi
        sleep 0.1
    done
    echo "error: keepalived $name did not stop" >&2
    exit 1
}

# start_capture FILE FILTER
start_capture() {
    local file=$1 filter=$2 i
    [ -n "${KADFX_NOFILTER:-}" ] && filter=""
    # -Z root: Debian's tcpdump otherwise drops to user tcpdump and cannot write in $work.
    # --immediate-mode: without it libpcap hands packets over in TPACKET_V3 blocks, and the
    # last block (up to a second of packets) is lost when tcpdump is stopped.
    # shellcheck disable=SC2086
    ip netns exec "$OBS" tcpdump -i br0 --immediate-mode -U -s 0 -Z root -w "$file" $filter >"$work/tcpdump.log" 2>&1 &
    tcpdump_pid=$!
    for i in $(seq 100); do
        grep -q 'listening on' "$work/tcpdump.log" 2>/dev/null && return 0
        sleep 0.05
    done
    echo "error: tcpdump did not start: $(cat "$work/tcpdump.log")" >&2
    exit 1
}

stop_capture() {
    # SIGTERM: background jobs of a non-interactive shell start with SIGINT ignored.
    sleep 0.1
    kill -TERM "$tcpdump_pid"
    wait "$tcpdump_pid" 2>/dev/null || true
    tcpdump_pid=""
}

# wait_vip NS ADDR: waits (up to 15 s) until keepalived has added ADDR in NS, i.e. is MASTER.
wait_vip() {
    local ns=$1 addr=$2 i
    for i in $(seq 300); do
        ip -n "$ns" addr show dev eth0 | grep -q "inet6\? $addr/" && return 0
        sleep 0.05
    done
    echo "error: $addr never appeared in $ns; keepalived log:" >&2
    cat "$work"/*.log >&2
    exit 1
}

# Between scenarios: forget learnt neighbours (the permanent ones for the absent peer stay),
# so every scenario starts from the same state.
reset_lan() {
    local ns
    for ns in "$R1" "$R2"; do
        ip -n "$ns" neigh flush dev eth0 nud reachable nud stale nud delay nud probe nud failed nud incomplete 2>/dev/null || true
    done
    sleep 0.3
}

V4_FILTER="ip proto 112 or ip proto 51 or arp"
# VRRP over IPv6, and neighbour discovery (RS/RA/NS/NA/redirect) but not MLD.
V6_FILTER="ip6 proto 112 or (icmp6 and ip6[40] >= 133 and ip6[40] <= 137)"

global_defs() {
    cat <<EOF
global_defs {
    router_id $1
}

EOF
}

# ---------------------------------------------------------------------------------- scenarios
# scenario NAME FILTER VIP_TO_WAIT_FOR SECONDS_AFTER_MASTER [r2]
# Expects $work/NAME.r1.conf (and, with "r2", $work/NAME.r2.conf).
scenario() {
    local name=$1 filter=$2 vip=$3 after=$4 with_r2=${5:-}
    if [ -n "${KADFX_ONLY:-}" ] && [[ " $KADFX_ONLY " != *" $name "* ]]; then return 0; fi
    echo "== $name"
    reset_lan
    start_capture "$work/$name.pcap" "$filter"
    start_ka "$R1" "$name-r1" "$work/$name.r1.conf"
    [ -n "$with_r2" ] && start_ka "$R2" "$name-r2" "$work/$name.r2.conf"
    wait_vip "$R1" "$vip"
    sleep "$after"
    if [ "$name" = shutdown-priority0 ]; then
        stop_ka "$name-r1"          # priority-0 advert, then r2 takes over after Skew_Time
        wait_vip "$R2" "$vip"
        sleep 0.5
    fi
    stop_capture
    [ "$name" = shutdown-priority0 ] || stop_ka "$name-r1"
    [ -n "$with_r2" ] && stop_ka "$name-r2"
    mkdir -p "$out"
    cp "$work/$name.pcap" "$out/$name.pcap"
    cp "$work/$name.r1.conf" "$out/$name.conf"
    [ -n "$with_r2" ] && cp "$work/$name.r2.conf" "$out/$name.r2.conf"
    echo "   $(tcpdump -r "$out/$name.pcap" 2>/dev/null | wc -l) packets, $(stat -c %s "$out/$name.pcap") bytes"
}

# v2 instance body. inst NAME VRID PRIO INTERVAL VERSION EXTRA_LINES VIP...
inst() {
    local name=$1 vrid=$2 prio=$3 int=$4 ver=$5 extra=$6; shift 6
    cat <<EOF
vrrp_instance $name {
    state BACKUP
    interface eth0
    virtual_router_id $vrid
    priority $prio
    advert_int $int
EOF
    [ -n "$ver" ] && echo "    version $ver"
    [ -n "$extra" ] && printf '%s\n' "$extra"
    echo "    virtual_ipaddress {"
    local v
    for v in "$@"; do echo "        $v"; done
    echo "    }"
    echo "}"
}

write_configs() {
    local c=$work
    { global_defs kadfx-r1; inst VI_51 51 150 1 2 "" 192.0.2.100/24 192.0.2.101/24; } >"$c/v2-multicast.r1.conf"

    { global_defs kadfx-r1; inst VI_51 51 150 1 2 "    authentication {
        auth_type PASS
        auth_pass secret12
    }" 192.0.2.100/24 192.0.2.101/24; } >"$c/v2-pass.r1.conf"

    # Two instances in one daemon: a short password (NUL-padded on the wire) and a long one
    # (keepalived warns "Truncating auth_pass to 8 characters").
    { global_defs kadfx-r1
      inst VI_61 61 150 1 2 "    authentication {
        auth_type PASS
        auth_pass kad
    }" 192.0.2.160/24
      echo
      inst VI_62 62 150 1 2 "    authentication {
        auth_type PASS
        auth_pass secret12345
    }" 192.0.2.162/24; } >"$c/v2-pass-lengths.r1.conf"

    { global_defs kadfx-r1; inst VI_51 51 150 1 2 "    authentication {
        auth_type AH
        auth_pass secret12
    }" 192.0.2.100/24 192.0.2.101/24; } >"$c/v2-ah.r1.conf"

    { global_defs kadfx-r1; inst VI_52 52 200 1 3 "" 192.0.2.110/24 192.0.2.111/24; } >"$c/v3-ipv4-multicast.r1.conf"

    local uc1="    unicast_src_ip 192.0.2.1
    unicast_peer {
        192.0.2.2
        192.0.2.3
    }"
    local uc2="    unicast_src_ip 192.0.2.2
    unicast_peer {
        192.0.2.1
        192.0.2.3
    }"
    { global_defs kadfx-r1; inst VI_54 54 200 1 3 "$uc1" 192.0.2.120/24 192.0.2.121/24; } >"$c/v3-ipv4-unicast.r1.conf"
    { global_defs kadfx-r2; inst VI_54 54 100 1 3 "$uc2" 192.0.2.120/24 192.0.2.121/24; } >"$c/v3-ipv4-unicast.r2.conf"
    { global_defs kadfx-r1; inst VI_55 55 150 1 2 "$uc1" 192.0.2.130/24 192.0.2.131/24; } >"$c/v2-unicast.r1.conf"
    { global_defs kadfx-r2; inst VI_55 55 100 1 2 "$uc2" 192.0.2.130/24 192.0.2.131/24; } >"$c/v2-unicast.r2.conf"

    { global_defs kadfx-r1; inst VI_53 53 200 1 "" "" fe80::53 2001:db8::53/64; } >"$c/v3-ipv6-multicast.r1.conf"

    local uc6_1="    unicast_src_ip 2001:db8::1
    unicast_peer {
        2001:db8::2
        2001:db8::3
    }"
    local uc6_2="    unicast_src_ip 2001:db8::2
    unicast_peer {
        2001:db8::1
        2001:db8::3
    }"
    { global_defs kadfx-r1; inst VI_56 56 200 1 "" "$uc6_1" fe80::56 2001:db8::56/64; } >"$c/v3-ipv6-unicast.r1.conf"
    { global_defs kadfx-r2; inst VI_56 56 100 1 "" "$uc6_2" fe80::56 2001:db8::56/64; } >"$c/v3-ipv6-unicast.r2.conf"

    { global_defs kadfx-r1; inst VI_51 51 150 1 2 "" 192.0.2.100/24 192.0.2.101/24; } >"$c/shutdown-priority0.r1.conf"
    { global_defs kadfx-r2; inst VI_51 51 100 1 2 "" 192.0.2.100/24 192.0.2.101/24; } >"$c/shutdown-priority0.r2.conf"

    { global_defs kadfx-r1; inst VI_57 57 200 0.1 3 "" 192.0.2.170/24; } >"$c/v3-ipv4-fast.r1.conf"

    # Check them where eth0 exists (keepalived -t reports unknown interfaces).
    local f
    for f in "$c"/*.conf; do
        # The only warning expected is v2-pass-lengths' "Truncating auth_pass to 8 characters".
        if ! nsx "$R1" keepalived -t -l -f "$f" >"$work/check.log" 2>&1 &&
            grep -qv 'Truncating auth_pass to 8 characters' "$work/check.log"; then
            { echo "error: keepalived -t rejects $f:"; cat "$work/check.log"; exit 1; } >&2
        fi
    done
}

build_lan
write_configs

# Seconds of capture after r1 has become MASTER: 5.6 s catches the second GARP/NA burst
# (garp_master_delay defaults to 5 s) and 5-6 more adverts.
scenario v2-multicast        "$V4_FILTER" 192.0.2.100 5.6
scenario v2-pass             "$V4_FILTER" 192.0.2.100 2.6
scenario v2-pass-lengths     "$V4_FILTER" 192.0.2.162 1.6
scenario v2-ah               "$V4_FILTER" 192.0.2.100 2.6
scenario v3-ipv4-multicast   "$V4_FILTER" 192.0.2.110 5.6
scenario v3-ipv4-unicast     "$V4_FILTER" 192.0.2.120 2.6 r2
scenario v2-unicast          "$V4_FILTER" 192.0.2.130 2.6 r2
scenario v3-ipv6-multicast   "$V6_FILTER" 2001:db8::53 5.6
scenario v3-ipv6-unicast     "$V6_FILTER" 2001:db8::56 2.6 r2
scenario shutdown-priority0  "$V4_FILTER" 192.0.2.100 1.6 r2
scenario v3-ipv4-fast        "$V4_FILTER" 192.0.2.170 0.95

echo "pcaps and configs written to $out"
