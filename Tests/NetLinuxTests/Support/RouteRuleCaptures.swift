/// Requests iproute2 6.1 sent for route, rule and macvlan operations (Linux 6.18), used as
/// fixtures by RouteRuleVMACTests.
///
/// How they were captured: a throwaway namespace `kadcapR` with `lo` up and one veth `eth0`
/// (index 2; its peer in a second namespace), MAC 02:00:00:00:00:01, addresses
/// 192.0.2.1/24 and 2001:db8::1/64 (nodad); then, for each operation, in order,
///
///     strace -f -e trace=sendmsg,sendto -e write=all -s 4096 ip -n kadcapR ...
///
/// The request that performs the operation (the last message `ip` sent; before it, `ip`
/// resolves names with RTM_GETLINK) is pasted here with its sequence number set to 0. The
/// macvlan vrrp.51 got index 3. `ip link add ... addrgenmode none type macvlan` was refused
/// by the kernel (EAFNOSUPPORT: IFLA_AF_SPEC is not accepted when creating a link), which is
/// why NetLinux sets addrgenmode in a second request.
enum CapturedRouteRule {
    /// `ip route add 198.51.100.0/24 via 192.0.2.254 dev eth0`
    static let routeViaGateway = netlinkHex("""
        34 00 00 00 18 00 05 06 00 00 00 00 00 00 00 00 02 18 00 00 fe 03 00 01
        00 00 00 00 08 00 01 00 c6 33 64 00 08 00 05 00 c0 00 02 fe 08 00 04 00
        02 00 00 00
        """)
    /// `ip route add 198.51.101.0/24 dev eth0`
    static let routeDevice = netlinkHex("""
        2c 00 00 00 18 00 05 06 00 00 00 00 00 00 00 00 02 18 00 00 fe 03 fd 01
        00 00 00 00 08 00 01 00 c6 33 65 00 08 00 04 00 02 00 00 00
        """)
    /// `ip route add 198.51.102.0/24 via 192.0.2.254 dev eth0 table 1000 metric 10 src 192.0.2.1 proto static`
    static let routeTableMetricSourceProto = netlinkHex("""
        4c 00 00 00 18 00 05 06 00 00 00 00 00 00 00 00 02 18 00 00 00 04 00 01
        00 00 00 00 08 00 01 00 c6 33 66 00 08 00 05 00 c0 00 02 fe 08 00 0f 00
        e8 03 00 00 08 00 06 00 0a 00 00 00 08 00 07 00 c0 00 02 01 08 00 04 00
        02 00 00 00
        """)
    /// `ip route add blackhole 203.0.113.0/24`
    static let routeBlackhole = netlinkHex("""
        24 00 00 00 18 00 05 06 00 00 00 00 00 00 00 00 02 18 00 00 fe 03 00 06
        00 00 00 00 08 00 01 00 cb 00 71 00
        """)
    /// `ip route add unreachable 203.0.114.0/24 table 100`
    static let routeUnreachableTable100 = netlinkHex("""
        24 00 00 00 18 00 05 06 00 00 00 00 00 00 00 00 02 18 00 00 64 03 00 07
        00 00 00 00 08 00 01 00 cb 00 72 00
        """)
    /// `ip route add prohibit 203.0.115.0/24 metric 5`
    static let routeProhibitMetric = netlinkHex("""
        2c 00 00 00 18 00 05 06 00 00 00 00 00 00 00 00 02 18 00 00 fe 03 00 08
        00 00 00 00 08 00 01 00 cb 00 73 00 08 00 06 00 05 00 00 00
        """)
    /// `ip route add throw 203.0.116.0/24 table 100`
    static let routeThrowTable100 = netlinkHex("""
        24 00 00 00 18 00 05 06 00 00 00 00 00 00 00 00 02 18 00 00 64 03 00 09
        00 00 00 00 08 00 01 00 cb 00 74 00
        """)
    /// `ip route add default via 192.0.2.254`
    static let routeDefault = netlinkHex("""
        24 00 00 00 18 00 05 06 00 00 00 00 00 00 00 00 02 00 00 00 fe 03 00 01
        00 00 00 00 08 00 05 00 c0 00 02 fe
        """)
    /// `ip route add 198.51.103.0/24 via 10.9.9.9 dev eth0 onlink`
    static let routeOnlink = netlinkHex("""
        34 00 00 00 18 00 05 06 00 00 00 00 00 00 00 00 02 18 00 00 fe 03 00 01
        04 00 00 00 08 00 01 00 c6 33 67 00 08 00 05 00 0a 09 09 09 08 00 04 00
        02 00 00 00
        """)
    /// `ip route add 198.51.104.0/24 nexthop via 192.0.2.253 dev eth0 weight 2 nexthop via 192.0.2.254 dev eth0`
    static let routeMultipath = netlinkHex("""
        48 00 00 00 18 00 05 06 00 00 00 00 00 00 00 00 02 18 00 00 fe 03 00 01
        00 00 00 00 08 00 01 00 c6 33 68 00 24 00 09 00 10 00 00 01 02 00 00 00
        08 00 05 00 c0 00 02 fd 10 00 00 00 02 00 00 00 08 00 05 00 c0 00 02 fe
        """)
    /// `ip route add local 192.0.2.200 dev eth0 table 100`
    static let routeLocalTable100 = netlinkHex("""
        2c 00 00 00 18 00 05 06 00 00 00 00 00 00 00 00 02 20 00 00 64 03 fe 02
        00 00 00 00 08 00 01 00 c0 00 02 c8 08 00 04 00 02 00 00 00
        """)
    /// `ip -6 route add 2001:db8:1::/64 via 2001:db8::fe dev eth0`
    static let route6ViaGateway = netlinkHex("""
        4c 00 00 00 18 00 05 06 00 00 00 00 00 00 00 00 0a 40 00 00 fe 03 00 01
        00 00 00 00 14 00 01 00 20 01 0d b8 00 01 00 00 00 00 00 00 00 00 00 00
        14 00 05 00 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 fe 08 00 04 00
        02 00 00 00
        """)
    /// `ip -6 route add 2001:db8:2::/64 dev eth0 metric 100`
    static let route6DeviceMetric = netlinkHex("""
        40 00 00 00 18 00 05 06 00 00 00 00 00 00 00 00 0a 40 00 00 fe 03 00 01
        00 00 00 00 14 00 01 00 20 01 0d b8 00 02 00 00 00 00 00 00 00 00 00 00
        08 00 06 00 64 00 00 00 08 00 04 00 02 00 00 00
        """)
    /// `ip route add 198.51.105.0/24 dev eth0 scope host`
    static let routeScopeHost = netlinkHex("""
        2c 00 00 00 18 00 05 06 00 00 00 00 00 00 00 00 02 18 00 00 fe 03 fe 01
        00 00 00 00 08 00 01 00 c6 33 69 00 08 00 04 00 02 00 00 00
        """)
    /// `ip route del 198.51.100.0/24 via 192.0.2.254 dev eth0`
    static let routeDeleteViaGateway = netlinkHex("""
        34 00 00 00 19 00 05 00 00 00 00 00 00 00 00 00 02 18 00 00 fe 00 ff 00
        00 00 00 00 08 00 01 00 c6 33 64 00 08 00 05 00 c0 00 02 fe 08 00 04 00
        02 00 00 00
        """)
    /// `ip route del 198.51.102.0/24 via 192.0.2.254 dev eth0 table 1000 metric 10`
    static let routeDeleteTableMetric = netlinkHex("""
        44 00 00 00 19 00 05 00 00 00 00 00 00 00 00 00 02 18 00 00 00 00 ff 00
        00 00 00 00 08 00 01 00 c6 33 66 00 08 00 05 00 c0 00 02 fe 08 00 0f 00
        e8 03 00 00 08 00 06 00 0a 00 00 00 08 00 04 00 02 00 00 00
        """)
    /// `ip route del blackhole 203.0.113.0/24`
    static let routeDeleteBlackhole = netlinkHex("""
        24 00 00 00 19 00 05 00 00 00 00 00 00 00 00 00 02 18 00 00 fe 00 ff 06
        00 00 00 00 08 00 01 00 cb 00 71 00
        """)
    /// `ip -6 route del 2001:db8:1::/64 via 2001:db8::fe dev eth0`
    static let route6DeleteViaGateway = netlinkHex("""
        4c 00 00 00 19 00 05 00 00 00 00 00 00 00 00 00 0a 40 00 00 fe 00 00 00
        00 00 00 00 14 00 01 00 20 01 0d b8 00 01 00 00 00 00 00 00 00 00 00 00
        14 00 05 00 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 fe 08 00 04 00
        02 00 00 00
        """)
    /// `ip rule add from 192.0.2.0/24 table 100 priority 100`
    static let ruleFromTable = netlinkHex("""
        2c 00 00 00 20 00 05 06 00 00 00 00 00 00 00 00 02 00 18 00 64 00 00 01
        00 00 00 00 08 00 02 00 c0 00 02 00 08 00 06 00 64 00 00 00
        """)
    /// `ip rule add not to 198.51.100.0/24 fwmark 0x10/0xff iif eth0 tos 0x10 lookup 1000 pref 200`
    static let ruleNotToFwmarkIifTosTable1000 = netlinkHex("""
        50 00 00 00 20 00 05 06 00 00 00 00 00 00 00 00 02 18 00 10 00 00 00 01
        02 00 00 00 08 00 01 00 c6 33 64 00 08 00 0a 00 10 00 00 00 08 00 10 00
        ff 00 00 00 09 00 03 00 65 74 68 30 00 00 00 00 08 00 0f 00 e8 03 00 00
        08 00 06 00 c8 00 00 00
        """)
    /// `ip rule add pref 300 goto 400`
    static let ruleGoto = netlinkHex("""
        2c 00 00 00 20 00 05 06 00 00 00 00 00 00 00 00 02 00 00 00 00 00 00 02
        00 00 00 00 08 00 06 00 2c 01 00 00 08 00 04 00 90 01 00 00
        """)
    /// `ip rule add pref 400 blackhole`
    static let ruleBlackhole = netlinkHex("""
        24 00 00 00 20 00 05 06 00 00 00 00 00 00 00 00 02 00 00 00 00 00 00 06
        00 00 00 00 08 00 06 00 90 01 00 00
        """)
    /// `ip rule add oif eth0 prohibit pref 500`
    static let ruleOifProhibit = netlinkHex("""
        30 00 00 00 20 00 05 06 00 00 00 00 00 00 00 00 02 00 00 00 00 00 00 08
        00 00 00 00 09 00 11 00 65 74 68 30 00 00 00 00 08 00 06 00 f4 01 00 00
        """)
    /// `ip rule add pref 600 unreachable`
    static let ruleUnreachable = netlinkHex("""
        24 00 00 00 20 00 05 06 00 00 00 00 00 00 00 00 02 00 00 00 00 00 00 07
        00 00 00 00 08 00 06 00 58 02 00 00
        """)
    /// `ip rule add pref 700 nop`
    static let ruleNop = netlinkHex("""
        24 00 00 00 20 00 05 06 00 00 00 00 00 00 00 00 02 00 00 00 00 00 00 03
        00 00 00 00 08 00 06 00 bc 02 00 00
        """)
    /// `ip rule add from 192.0.2.7 pref 800 lookup main`
    static let ruleFromHostLookupMain = netlinkHex("""
        2c 00 00 00 20 00 05 06 00 00 00 00 00 00 00 00 02 00 20 00 fe 00 00 01
        00 00 00 00 08 00 02 00 c0 00 02 07 08 00 06 00 20 03 00 00
        """)
    /// `ip -6 rule add from 2001:db8::/64 table 100 pref 100`
    static let rule6FromTable = netlinkHex("""
        38 00 00 00 20 00 05 06 00 00 00 00 00 00 00 00 0a 00 40 00 64 00 00 01
        00 00 00 00 14 00 02 00 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 00
        08 00 06 00 64 00 00 00
        """)
    /// `ip rule del from 192.0.2.0/24 table 100 priority 100`
    static let ruleDeleteFromTable = netlinkHex("""
        2c 00 00 00 21 00 05 00 00 00 00 00 00 00 00 00 02 00 18 00 64 00 00 00
        00 00 00 00 08 00 02 00 c0 00 02 00 08 00 06 00 64 00 00 00
        """)
    /// `ip rule del pref 400 blackhole`
    static let ruleDeleteBlackhole = netlinkHex("""
        24 00 00 00 21 00 05 00 00 00 00 00 00 00 00 00 02 00 00 00 00 00 00 06
        00 00 00 00 08 00 06 00 90 01 00 00
        """)
    /// `ip -6 rule del from 2001:db8::/64 table 100 pref 100`
    static let rule6DeleteFromTable = netlinkHex("""
        38 00 00 00 21 00 05 00 00 00 00 00 00 00 00 00 0a 00 40 00 64 00 00 00
        00 00 00 00 14 00 02 00 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 00
        08 00 06 00 64 00 00 00
        """)
    /// `ip link add link eth0 name vrrp.51 address 00:00:5e:00:01:33 type macvlan mode private`
    static let macvlanNew = netlinkHex("""
        5c 00 00 00 10 00 05 06 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
        00 00 00 00 00 00 00 00 0a 00 01 00 00 00 5e 00 01 33 00 00 08 00 05 00
        02 00 00 00 0c 00 03 00 76 72 72 70 2e 35 31 00 1c 00 12 00 0b 00 01 00
        6d 61 63 76 6c 61 6e 00 0c 00 02 00 08 00 01 00 01 00 00 00
        """)
    /// `ip link set vrrp.51 addrgenmode none`
    static let linkAddressGenerationModeNone = netlinkHex("""
        30 00 00 00 10 00 05 00 00 00 00 00 00 00 00 00 00 00 00 00 03 00 00 00
        00 00 00 00 00 00 00 00 10 00 1a 00 0c 00 0a 00 05 00 08 00 01 00 00 00
        """)
    /// `ip link set vrrp.51 up`
    static let linkUp = netlinkHex("""
        20 00 00 00 10 00 05 00 00 00 00 00 00 00 00 00 00 00 00 00 03 00 00 00
        01 00 00 00 01 00 00 00
        """)
    /// `ip link del vrrp.51`
    static let linkDelete = netlinkHex("""
        20 00 00 00 11 00 05 00 00 00 00 00 00 00 00 00 00 00 00 00 03 00 00 00
        00 00 00 00 00 00 00 00
        """)
    /// `ip link add link eth0 name vrrp.52 address 00:00:5e:00:02:34 up addrgenmode none type macvlan mode private` (refused: "RTNETLINK answers: Address family not supported by protocol")
    static let macvlanNewUpAddrgenmode = netlinkHex("""
        6c 00 00 00 10 00 05 06 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
        01 00 00 00 01 00 00 00 0a 00 01 00 00 00 5e 00 02 34 00 00 10 00 1a 00
        0c 00 0a 00 05 00 08 00 01 00 00 00 08 00 05 00 02 00 00 00 0c 00 03 00
        76 72 72 70 2e 35 32 00 1c 00 12 00 0b 00 01 00 6d 61 63 76 6c 61 6e 00
        0c 00 02 00 08 00 01 00 01 00 00 00
        """)
    /// `ip link add link eth0 name vrrp.53 address 00:00:5e:00:02:35 up type macvlan mode private`
    static let macvlanNewUp = netlinkHex("""
        5c 00 00 00 10 00 05 06 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
        01 00 00 00 01 00 00 00 0a 00 01 00 00 00 5e 00 02 35 00 00 08 00 05 00
        02 00 00 00 0c 00 03 00 76 72 72 70 2e 35 33 00 1c 00 12 00 0b 00 01 00
        6d 61 63 76 6c 61 6e 00 0c 00 02 00 08 00 01 00 01 00 00 00
        """)
}
