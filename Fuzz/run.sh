#!/usr/bin/env bash
# Builds the libFuzzer harnesses and fuzzes one target (or several in turn) for a bounded time.
# Exits non-zero if libFuzzer finds a crash (or a timeout / out-of-memory); the input that did it
# is written to Fuzz/crashes/ (crash-*, timeout-*, oom-*).
#
# Usage: Fuzz/run.sh [TARGET] [SECONDS] [extra libFuzzer flags...]      (default: config, 60 seconds)
#   TARGET          config         FuzzConfig: keepalived.conf text through ConfigDSL
#                   reload         FuzzReload: two versions of a file (NUL between): a reload from the
#                                  first's snapshot must equal a whole read of the second
#                   vrrp-datagram  FuzzVRRPDatagram: IPv4 datagrams through decodeIPv4Datagram
#                   vrrp-message   FuzzVRRPMessage: IPv6 source, destination, hop limit + VRRP message
#                   vrrp           both VRRP targets, SECONDS each, one after the other
#                   all            the three targets, SECONDS each
#   FUZZ_JOBS=N     run N fuzzing processes in parallel (default 1; their logs go to fuzz-N.log in the
#                   target's working directory: include-dir/ for config, Fuzz/ for the VRRP targets)
#   SCRATCH=DIR     SwiftPM build directory (default Fuzz/.build)
#   Reproduce one input:  Fuzz/.build/release/FuzzConfig Fuzz/crashes/crash-...   (run from Fuzz/include-dir)
#                         Fuzz/.build/release/FuzzVRRPDatagram Fuzz/crashes/crash-...
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
target=config
case "${1:-}" in
    config | reload | vrrp-datagram | vrrp-message | vrrp | all) target=$1; shift ;;
esac
seconds=${1:-60}
shift || true
scratch=${SCRATCH:-$here/.build}

build() {
    (cd "$here" && swift build -c release --scratch-path "$scratch" \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library 2>&1 |
        { grep -Ev "^\[|Cannot export local symbol '__asan_extra_spill_area'" || true; })
}
# kad's sources may be edited while this builds ("modified during the build"): try again a few times.
for attempt in 1 2 3; do
    if build && [ -x "$scratch/release/FuzzConfig" ] && [ -x "$scratch/release/FuzzReload" ] && [ -x "$scratch/release/FuzzVRRPDatagram" ] &&
        [ -x "$scratch/release/FuzzVRRPMessage" ]; then break; fi
    [ $attempt = 3 ] && { echo "run.sh: build failed" >&2; exit 2; }
    echo "run.sh: build failed, retrying" >&2
    sleep 5
done

mkdir -p "$here/crashes"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:allocator_may_return_null=1}
# libFuzzer reports a Swift trap (fatalError, precondition) itself; Swift's own backtracer would
# only delay that (and can hang under the sanitizers).
export SWIFT_BACKTRACE=${SWIFT_BACKTRACE:-enable=no}
# FUZZ_JOBS > 1: parallel fuzzing processes, each logging to fuzz-N.log in the working directory.
jobs=()
if [ "${FUZZ_JOBS:-1}" -gt 1 ]; then jobs=(-jobs="$FUZZ_JOBS" -workers="$FUZZ_JOBS"); fi

# fuzz NAME: runs one target for $seconds; returns libFuzzer's exit status.
fuzz() {
    local name=$1 exe workdir corpora flags
    shift
    case $name in
        config)
            # Relative includes in the inputs resolve against include-dir/ (a few small real files).
            exe=FuzzConfig workdir=$here/include-dir
            corpora=("$scratch/corpus" "$here/corpus")
            flags=(-dict="$here/keepalived.dict" -max_len=8192)
            ;;
        reload)
            # Each input is written to a file of the fuzzing process in include-dir/.
            exe=FuzzReload workdir=$here/include-dir
            corpora=("$scratch/corpus-reload" "$here/corpus-reload")
            flags=(-dict="$here/keepalived.dict" -max_len=8192)
            ;;
        vrrp-datagram)
            # The longest VRRP datagram is 60 + 8 + 255 × 4 + 8 = 1096 bytes; room for padding.
            exe=FuzzVRRPDatagram workdir=$here
            corpora=("$scratch/corpus-vrrp-datagram" "$here/corpus-vrrp/ipv4-datagram")
            flags=(-max_len=1400)
            ;;
        vrrp-message)
            # 33 bytes of prefix + the longest IPv6 message, 8 + 255 × 16 = 4088 bytes.
            exe=FuzzVRRPMessage workdir=$here
            corpora=("$scratch/corpus-vrrp-message" "$here/corpus-vrrp/ipv6-message")
            flags=(-max_len=4160)
            ;;
    esac
    mkdir -p "${corpora[0]}"
    echo "==> $exe for $seconds s (new inputs: ${corpora[0]})" >&2
    local status=0
    (cd "$workdir" && "$scratch/release/$exe" "${corpora[@]}" \
        -artifact_prefix="$here/crashes/" \
        -max_total_time="$seconds" \
        -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 "${flags[@]}" ${jobs[@]+"${jobs[@]}"} "$@") || status=$?
    if [ $status -ne 0 ]; then
        echo "run.sh: $exe: libFuzzer exited $status; see $here/crashes/" >&2
    fi
    return $status
}

case $target in
    vrrp) targets=(vrrp-datagram vrrp-message) ;;
    all) targets=(config reload vrrp-datagram vrrp-message) ;;
    *) targets=("$target") ;;
esac
status=0
for t in "${targets[@]}"; do
    fuzz "$t" "$@" || status=$?
done
exit $status
