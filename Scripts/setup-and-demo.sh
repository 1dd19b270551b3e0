#!/usr/bin/env bash
# Installs what kad needs on a fresh Debian 12 machine with the Swift toolchain, builds it,
# checks the seed's first example configuration, and (as root) runs `kad demo`: two kad
# daemons on a throwaway LAN of network namespaces, an election, a crash, a failover.
# Extra arguments go to `kad demo` (--fast, --verbose).
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
dpkg -s libcap-dev >/dev/null 2>&1 || need+=(libcap-dev)
dpkg -s iproute2 >/dev/null 2>&1 || need+=(iproute2)
if [ ${#need[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need[@]}" >/dev/null
fi
swift build -c release --product kad
.build/release/kad check -f Examples/seed-1-basic.conf
if [ "$(id -u)" = 0 ]; then
    .build/release/kad demo "$@"
else
    echo "kad demo needs root (network namespaces): sudo .build/release/kad demo"
fi
