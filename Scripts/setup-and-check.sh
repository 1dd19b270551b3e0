#!/usr/bin/env bash
# Installs what kad needs on a fresh Debian 12 machine with the Swift toolchain, builds it,
# and checks the seed's first example configuration (kad's main job for now).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! dpkg -s libcap-dev >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq libcap-dev >/dev/null
fi
swift build -c release --product kad
.build/release/kad check -f Examples/seed-1-basic.conf "$@"
