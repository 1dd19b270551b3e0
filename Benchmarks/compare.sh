#!/usr/bin/env bash
# Compares `kad check -f FILE` with `keepalived -t -f FILE`, whole process, on the same two large
# generated configurations (10,000 vrrp_instances; 2,000 virtual_servers x 20 real_servers):
# wall time with hyperfine (median and ratio) and peak RSS with GNU time (median of several runs).
#
# Both tools run inside a network namespace created here (unique name, removed on exit, also on
# failure), holding the veth interfaces the configurations name: keepalived refuses a config whose
# interfaces do not exist. Needs root, iproute2, hyperfine, GNU time, keepalived and Swift.
#
# Usage: Benchmarks/compare.sh [OUTPUT.md]
# Environment:
#   KAD_REF=REV     build kad from this git revision (git archive; read-only) instead of the working tree
#   KAD_BIN=PATH    use this kad binary, build nothing
#   RUNS=N          hyperfine runs (default 10, after 2 warm-up runs); RSS_RUNS=N GNU time runs (default 5)
#   PAIRS=N         interleaved kad/keepalived pairs for the steadier ratio (default 20)
#   WORK=DIR        where the configurations are written (default Benchmarks/.build/bench-configs)
#   INSTANCES, PER_INTERFACE, VIRTUAL_SERVERS, REAL_SERVERS   generator sizes (10000, 250, 2000, 20)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
out=${1:-}
RUNS=${RUNS:-10}
RSS_RUNS=${RSS_RUNS:-5}
PAIRS=${PAIRS:-20}
WORK=${WORK:-$here/.build/bench-configs}
KEEPALIVED=${KEEPALIVED:-$(command -v keepalived || echo /usr/sbin/keepalived)}

for tool in hyperfine ip "$KEEPALIVED" /usr/bin/time swift python3; do
    command -v "$tool" >/dev/null || { echo "compare.sh: $tool is missing" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "compare.sh: needs root (network namespaces)" >&2; exit 1; }

ns=kadbench-$$
tmp=$(mktemp -d)
cleanup() {
    ip netns del "$ns" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "==> $*" >&2; }

# 1. kad, release mode. The main package is built from a snapshot of its sources (working tree,
#    or KAD_REF) in Benchmarks/.build/kad-snapshot, so that edits made during the build cannot
#    break it and the main package's own .build is never touched.
if [ -n "${KAD_BIN:-}" ]; then
    kad=$KAD_BIN
    kad_desc="$KAD_BIN (given)"
else
    snap=$here/.build/kad-snapshot
    mkdir -p "$snap"
    rm -rf "$snap/Sources" "$snap/Tests" "$snap/Package.swift"
    if [ -n "${KAD_REF:-}" ]; then
        git -C "$root" archive "$KAD_REF" Package.swift Sources Tests | tar -x -C "$snap"
        kad_desc="$(git -C "$root" rev-parse --short "$KAD_REF")"
    else
        (cd "$root" && tar -c Package.swift Sources Tests) | tar -x -C "$snap"
        kad_desc="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
        if [ -n "$(git -C "$root" status --porcelain -- Package.swift Sources 2>/dev/null)" ]; then
            kad_desc="$kad_desc + uncommitted changes"
        fi
    fi
    [ -f "$root/Package.resolved" ] && cp "$root/Package.resolved" "$snap/"
    log "building kad ($kad_desc) in release mode"
    (cd "$snap" && swift build -c release --product kad 2>&1 | { grep -Ev '^\[|^warning: .*Invalid Exclude' >&2 || true; })
    kad=$snap/.build/release/kad
fi
[ -x "$kad" ] || { echo "compare.sh: no kad binary at $kad" >&2; exit 1; }

# 2. The configurations.
log "generating the configurations in $WORK"
(cd "$here" && swift build -c release --product kad-bench-gen 2>&1 | { grep -v '^\[' >&2 || true; })
"$here/.build/release/kad-bench-gen" generate --out "$WORK" \
    --instances "${INSTANCES:-10000}" --per-interface "${PER_INTERFACE:-250}" \
    --virtual-servers "${VIRTUAL_SERVERS:-2000}" --real-servers "${REAL_SERVERS:-20}" >&2
files=("$WORK/vrrp.conf" "$WORK/lvs.conf")
labels=("vrrp: ${INSTANCES:-10000} vrrp_instances" "lvs: ${VIRTUAL_SERVERS:-2000} virtual_servers x ${REAL_SERVERS:-20} real_servers")

# 3. The namespace and its interfaces (veth pairs: no dummy interfaces on every kernel).
log "creating network namespace $ns"
ip netns add "$ns"
mapfile -t ifaces < "$WORK/interfaces.txt"
for ((k = 0; k < ${#ifaces[@]}; k += 2)); do
    ip -n "$ns" link add "${ifaces[k]}" type veth peer name "${ifaces[k + 1]}"
    ip -n "$ns" link set "${ifaces[k]}" up
    ip -n "$ns" link set "${ifaces[k + 1]}" up
done
inns() { ip netns exec "$ns" "$@"; }

kad_cmd() { echo "$kad check -f $1"; }
ka_cmd() { echo "$KEEPALIVED -t -f $1"; }

# 4. Both tools must accept both files, or the comparison means nothing.
ok=1
for f in "${files[@]}"; do
    for tool in kad keepalived; do
        if [ $tool = kad ]; then cmd=$(kad_cmd "$f"); else cmd=$(ka_cmd "$f"); fi
        set +e
        inns $cmd >"$tmp/out" 2>&1
        rc=$?
        set -e
        if [ $rc -ne 0 ]; then
            ok=0
            echo "compare.sh: '$cmd' exited $rc; its diagnostics (most frequent first):" >&2
            sed -E 's/[0-9]+/N/g' "$tmp/out" | sort | uniq -c | sort -rn | head -20 >&2
            echo "--- first lines:" >&2
            head -20 "$tmp/out" >&2
        else
            log "$cmd: exit 0 ($(wc -l <"$tmp/out") lines of output)"
        fi
    done
done
[ $ok = 1 ] || { echo "compare.sh: not timing configurations a tool rejects" >&2; exit 1; }

# 5. Wall time (hyperfine) and peak RSS (GNU time).
median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
peak_rss() {  # prints the median of RSS_RUNS peak resident set sizes in KiB
    for ((r = 0; r < RSS_RUNS; r++)); do
        inns /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}'
    done | median
}
rows=()
for i in "${!files[@]}"; do
    f=${files[i]}
    log "timing ${labels[i]}"
    # hyperfine itself runs in the namespace, so it times the tools and not `ip netns exec`.
    inns hyperfine --style basic --warmup 2 --runs "$RUNS" --shell=none \
        --export-json "$tmp/h$i.json" \
        -n "kad check" "$(kad_cmd "$f")" \
        -n "keepalived -t" "$(ka_cmd "$f")" >&2
    read -r kad_t ka_t kad_sd ka_sd < <(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["results"]
print(r[0]["median"], r[1]["median"], r[0]["stddev"], r[1]["stddev"])' "$tmp/h$i.json")
    # Interleaved pairs: the machine is shared and noisy, and hyperfine runs all of one command
    # before the other, so a burst of load can favour either. Alternating kad and keepalived and
    # taking the median of the per-pair ratios is steadier.
    pair_ratio=$(inns python3 - "$PAIRS" "$(kad_cmd "$f")" "$(ka_cmd "$f")" <<'PY'
import statistics, subprocess, sys, time
pairs, kad, ka = int(sys.argv[1]), sys.argv[2].split(), sys.argv[3].split()
def run(cmd):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t
ratios = []
for i in range(pairs):
    a, b = (run(kad), run(ka)) if i % 2 == 0 else tuple(reversed((run(ka), run(kad))))
    ratios.append(a / b)
print(f"{statistics.median(ratios):.2f}")
PY
)
    kad_rss=$(peak_rss $(kad_cmd "$f"))
    ka_rss=$(peak_rss $(ka_cmd "$f"))
    rows+=("$(python3 -c '
import sys
label, kt, at, ksd, asd, kr, ar, pr = sys.argv[1], *map(float, sys.argv[2:])
print(f"| {label} | {kt*1000:.0f} ms ± {ksd*1000:.0f} | {at*1000:.0f} ms ± {asd*1000:.0f} | {kt/at:.2f} | {pr:.2f} "
      f"| {kr/1024:.1f} MiB | {ar/1024:.1f} MiB | {kr/ar:.2f} |")' \
        "${labels[i]} ($(wc -l <"$f") lines, $(($(stat -c %s "$f") / 1024 / 1024)) MiB)" \
        "$kad_t" "$ka_t" "$kad_sd" "$ka_sd" "$kad_rss" "$ka_rss" "$pair_ratio")")
done

{
    echo "kad: $kad_desc ($kad); keepalived: $("$KEEPALIVED" --version 2>&1 | head -1)"
    echo "machine: $(nproc) CPUs, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo); $(date -u +%Y-%m-%dT%H:%MZ)"
    echo "hyperfine: --warmup 2 --runs $RUNS (median ± stddev); interleaved: median kad/keepalived ratio of $PAIRS alternating pairs; peak RSS: median of $RSS_RUNS runs of /usr/bin/time -v"
    echo
    echo "| configuration | kad check (median) | keepalived -t (median) | time ratio kad/keepalived | interleaved ratio | kad peak RSS | keepalived peak RSS | RSS ratio |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|"
    printf '%s\n' "${rows[@]}"
} | tee ${out:+"$out"}
