#!/usr/bin/env bash
# Runs kad's whole test suite on a fresh Debian 12 machine with the Swift toolchain.
# Installs the Debian packages the build and the tests need when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
dpkg -s libcap-dev >/dev/null 2>&1 || need+=(libcap-dev)
dpkg -s iproute2 >/dev/null 2>&1 || need+=(iproute2)
# capsh: the capability tests compare kad's own reading with it.
dpkg -s libcap2-bin >/dev/null 2>&1 || need+=(libcap2-bin)
# The interop tests run the real keepalived as a peer; its service must never start.
dpkg -s keepalived >/dev/null 2>&1 || need+=(keepalived)
# The daemon tests time failovers from captures on the test LAN's bridge.
dpkg -s tcpdump >/dev/null 2>&1 || need+=(tcpdump)
if [ ${#need[@]} -gt 0 ]; then
    echo "installing: ${need[*]}"
    created_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        created_policy=1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need[@]}" >/dev/null
    if [ "$created_policy" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
fi

# Build once, and refuse warnings in the project's own code.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
swift build --build-tests 2>&1 | tee "$log"
if grep -E '^/.*/(Sources|Tests)/.*: warning:' "$log" | grep -v '/.build/' ; then
    echo "error: the build has warnings (see above); kad builds with none" >&2
    exit 1
fi

swift test --skip-build 2>&1
