# Shared by the IPVS benchmarks (sourced): where kad, keepalived and the IPVS VM are, and which
# daemons to run. Environment: KAD_BIN (default .build/release/kad), KEEPALIVED (default
# /usr/sbin/keepalived), IPVS_VM (default ../shared/tools/ipvs-vm), IMPLS="kad keepalived".
here=$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)
root=$(cd "$here/../.." && pwd)
KAD_BIN=${KAD_BIN:-$root/.build/release/kad}
KEEPALIVED=${KEEPALIVED:-/usr/sbin/keepalived}
IPVS_VM=${IPVS_VM:-$root/../shared/tools/ipvs-vm}
IMPLS=${IMPLS:-kad keepalived}
