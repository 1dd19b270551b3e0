import CNetLinux
import Synchronization
import SystemPackage
import IntegrationSupport
import Testing
import VRRPCore
@testable import NetLinux

// Byte tests for the route, rule and macvlan requests, and pure tests of the address plane
// and of the link-state tracker.
//
// Each request is checked against bytes written out field by field from the kernel headers
// (linux/netlink.h, rtnetlink.h, fib_rules.h, if_link.h; host order = little-endian) for the
// main cases, and against what iproute2 6.1 sent for the same operation for every case
// (Support/RouteRuleCaptures.swift; eth0 had index 2, vrrp.51 index 3). Differences are named
// in the test that allows them.

// MARK: - Helpers

/// The bytes of one message built by `body` into a fresh builder.
private func built(_ body: (inout NetlinkMessageBuilder) -> Void) -> [UInt8] {
    var builder = NetlinkMessageBuilder()
    body(&builder)
    return builder.bytes
}

private func ip(_ text: String) -> IPAddress { IPAddress(text)! }

/// `bytes` with `NLA_F_NESTED` cleared in every attribute after a family header of
/// `familyHeaderSize` bytes, nested ones included (iproute2 does not set the flag).
private func withoutNestedFlags(_ bytes: [UInt8], familyHeaderSize: Int) -> [UInt8] {
    var out = bytes
    func walk(_ start: Int, _ end: Int) {
        var offset = start
        while offset + 4 <= end {
            let length = Int(out[offset]) | Int(out[offset + 1]) << 8
            guard length >= 4, offset + length <= end else { return }
            if out[offset + 3] & 0x80 != 0 {
                out[offset + 3] &= 0x7F
                walk(offset + 4, offset + length)
            }
            offset += (length + 3) & ~3
        }
    }
    walk(16 + ((familyHeaderSize + 3) & ~3), out.count)
    return out
}

/// `bytes` with the byte at `offset` replaced (to name a known difference from iproute2).
private func patched(_ bytes: [UInt8], _ offset: Int, _ value: UInt8) -> [UInt8] {
    var out = bytes
    out[offset] = value
    return out
}

// MARK: - Routes

@Suite("Route requests (RTM_NEWROUTE / RTM_DELROUTE)")
struct RouteRequestTests {
    private let eth0 = RouteInterfaceIndices(interface: 2)

    @Test("message types and header sizes agree with the kernel headers")
    func constants() {
        #expect(NetlinkMessageType.newRoute.rawValue == UInt16(RTM_NEWROUTE))
        #expect(NetlinkMessageType.deleteRoute.rawValue == UInt16(RTM_DELROUTE))
        #expect(NetlinkMessageType.newRule.rawValue == UInt16(RTM_NEWRULE))
        #expect(NetlinkMessageType.deleteRule.rawValue == UInt16(RTM_DELRULE))
        #expect(MemoryLayout<rtmsg>.size == 12)
        #expect(MemoryLayout<fib_rule_hdr>.size == 12)
        #expect(MemoryLayout<rtnexthop>.size == 8)
        #expect(RouteAttribute.multipath == UInt16(RTA_MULTIPATH.rawValue))
        #expect(RouteAttribute.table == UInt16(RTA_TABLE.rawValue))
        #expect(RouteAttribute.preferredSource == UInt16(RTA_PREFSRC.rawValue))
        #expect(RuleAttribute.outputInterfaceName == UInt16(FRA_OIFNAME))
        #expect(RuleAttribute.firewallMask == UInt16(FRA_FWMASK))
        #expect(RuleAttribute.invert == UInt32(FIB_RULE_INVERT))
        #expect(MacvlanAttribute.addressFamilySpecific == UInt16(IFLA_AF_SPEC))
        #expect(MacvlanAttribute.inet6AddressGenerationMode == UInt16(IFLA_INET6_ADDR_GEN_MODE))
        #expect(MacvlanMode.private.rawValue == MACVLAN_MODE_PRIVATE.rawValue)
    }

    @Test("ip route add 198.51.100.0/24 via 192.0.2.254 dev eth0")
    func viaGateway() {
        let route = VirtualRoute(family: .ipv4, destination: ip("198.51.100.0"), prefixLength: 24, gateway: ip("192.0.2.254"),
                                 interface: "eth0")
        let ours = built { RouteNetlinkRequest.newRoute(route, indices: eth0, into: &$0) }
        #expect(ours == [
            0x34, 0x00, 0x00, 0x00,   // nlmsg_len = 52
            0x18, 0x00,               // nlmsg_type = RTM_NEWROUTE (24)
            0x05, 0x06,               // NLM_F_REQUEST|NLM_F_ACK | NLM_F_EXCL|NLM_F_CREATE
            0, 0, 0, 0, 0, 0, 0, 0,   // nlmsg_seq, nlmsg_pid
            0x02,                     // rtm_family = AF_INET
            0x18,                     // rtm_dst_len = 24
            0x00,                     // rtm_src_len
            0x00,                     // rtm_tos
            0xFE,                     // rtm_table = RT_TABLE_MAIN (254)
            0x03,                     // rtm_protocol = RTPROT_BOOT
            0x00,                     // rtm_scope = RT_SCOPE_UNIVERSE (there is a gateway)
            0x01,                     // rtm_type = RTN_UNICAST
            0x00, 0x00, 0x00, 0x00,   // rtm_flags
            0x08, 0x00, 0x01, 0x00,   // RTA_DST (1)
            0xC6, 0x33, 0x64, 0x00,   //   198.51.100.0
            0x08, 0x00, 0x05, 0x00,   // RTA_GATEWAY (5)
            0xC0, 0x00, 0x02, 0xFE,   //   192.0.2.254
            0x08, 0x00, 0x04, 0x00,   // RTA_OIF (4)
            0x02, 0x00, 0x00, 0x00,   //   2
        ])
        #expect(ours == CapturedRouteRule.routeViaGateway)   // iproute2: identical
    }

    @Test("ip route add 198.51.101.0/24 dev eth0: a device route has scope link")
    func deviceRoute() {
        let route = VirtualRoute(family: .ipv4, destination: ip("198.51.101.0"), prefixLength: 24, interface: "eth0")
        let ours = built { RouteNetlinkRequest.newRoute(route, indices: eth0, into: &$0) }
        #expect(ours[22] == 0xFD)     // rtm_scope = RT_SCOPE_LINK (253)
        #expect(ours == CapturedRouteRule.routeDevice)
    }

    @Test("table 1000 (RTA_TABLE), metric (RTA_PRIORITY), src (RTA_PREFSRC), proto static")
    func tableMetricSource() {
        let route = VirtualRoute(family: .ipv4, destination: ip("198.51.102.0"), prefixLength: 24, source: ip("192.0.2.1"),
                                 gateway: ip("192.0.2.254"), interface: "eth0", table: 1000, metric: 10, routingProtocol: 4)
        let ours = built { RouteNetlinkRequest.newRoute(route, indices: eth0, into: &$0) }
        #expect(ours == [
            0x4C, 0x00, 0x00, 0x00, 0x18, 0x00, 0x05, 0x06, 0, 0, 0, 0, 0, 0, 0, 0,  // nlmsghdr: len 76, RTM_NEWROUTE
            0x02, 0x18, 0x00, 0x00,   // AF_INET, /24
            0x00,                     // rtm_table = RT_TABLE_UNSPEC: 1000 does not fit, RTA_TABLE carries it
            0x04,                     // rtm_protocol = RTPROT_STATIC
            0x00, 0x01,               // scope universe, RTN_UNICAST
            0x00, 0x00, 0x00, 0x00,   // rtm_flags
            0x08, 0x00, 0x01, 0x00, 0xC6, 0x33, 0x66, 0x00,   // RTA_DST 198.51.102.0
            0x08, 0x00, 0x05, 0x00, 0xC0, 0x00, 0x02, 0xFE,   // RTA_GATEWAY 192.0.2.254
            0x08, 0x00, 0x0F, 0x00, 0xE8, 0x03, 0x00, 0x00,   // RTA_TABLE (15) 1000
            0x08, 0x00, 0x06, 0x00, 0x0A, 0x00, 0x00, 0x00,   // RTA_PRIORITY (6) 10
            0x08, 0x00, 0x07, 0x00, 0xC0, 0x00, 0x02, 0x01,   // RTA_PREFSRC (7) 192.0.2.1
            0x08, 0x00, 0x04, 0x00, 0x02, 0x00, 0x00, 0x00,   // RTA_OIF 2
        ])
        #expect(ours == CapturedRouteRule.routeTableMetricSourceProto)
    }

    @Test("blackhole, unreachable, prohibit and throw routes: type, no device, scope universe")
    func specialTypes() {
        func route(_ kind: VirtualRoute.Kind, _ third: UInt32, table: UInt32? = nil, metric: UInt32? = nil) -> [UInt8] {
            let r = VirtualRoute(family: .ipv4, kind: kind, destination: IPAddress(ipv4: 0xCB00_0000 | third << 8), prefixLength: 24,
                                 table: table, metric: metric)
            return built { RouteNetlinkRequest.newRoute(r, indices: RouteInterfaceIndices(), into: &$0) }
        }
        let blackhole = route(.blackhole, 113)
        #expect(blackhole == [
            0x24, 0x00, 0x00, 0x00, 0x18, 0x00, 0x05, 0x06, 0, 0, 0, 0, 0, 0, 0, 0,  // len 36, RTM_NEWROUTE
            0x02, 0x18, 0x00, 0x00, 0xFE, 0x03, 0x00,  // AF_INET /24, main, boot, universe
            0x06,                                      // rtm_type = RTN_BLACKHOLE
            0x00, 0x00, 0x00, 0x00,
            0x08, 0x00, 0x01, 0x00, 0xCB, 0x00, 0x71, 0x00,   // RTA_DST 203.0.113.0
        ])
        #expect(blackhole == CapturedRouteRule.routeBlackhole)
        #expect(route(.unreachable, 114, table: 100) == CapturedRouteRule.routeUnreachableTable100)
        #expect(route(.prohibit, 115, metric: 5) == CapturedRouteRule.routeProhibitMetric)
        #expect(route(.throwRoute, 116, table: 100) == CapturedRouteRule.routeThrowTable100)
    }

    @Test("ip route add default via 192.0.2.254: no RTA_DST, prefix 0")
    func defaultRoute() {
        let route = VirtualRoute(family: .ipv4, destination: nil, prefixLength: 0, gateway: ip("192.0.2.254"))
        #expect(built { RouteNetlinkRequest.newRoute(route, indices: RouteInterfaceIndices(), into: &$0) } == CapturedRouteRule.routeDefault)
    }

    @Test("onlink sets RTNH_F_ONLINK in rtm_flags")
    func onlink() {
        let route = VirtualRoute(family: .ipv4, destination: ip("198.51.103.0"), prefixLength: 24, gateway: ip("10.9.9.9"),
                                 interface: "eth0", onlink: true)
        let ours = built { RouteNetlinkRequest.newRoute(route, indices: eth0, into: &$0) }
        #expect(ours[24] == 0x04)
        #expect(ours == CapturedRouteRule.routeOnlink)
    }

    @Test("multipath: RTA_MULTIPATH holds rtnexthop + RTA_GATEWAY per nexthop, hops = weight - 1")
    func multipath() {
        let route = VirtualRoute(family: .ipv4, destination: ip("198.51.104.0"), prefixLength: 24, nexthops: [
            .init(gateway: ip("192.0.2.253"), interface: "eth0", weight: 2),
            .init(gateway: ip("192.0.2.254"), interface: "eth0"),
        ])
        let ours = built { RouteNetlinkRequest.newRoute(route, indices: RouteInterfaceIndices(nexthops: [2, 2]), into: &$0) }
        #expect(ours == [
            0x48, 0x00, 0x00, 0x00, 0x18, 0x00, 0x05, 0x06, 0, 0, 0, 0, 0, 0, 0, 0,  // len 72, RTM_NEWROUTE
            0x02, 0x18, 0x00, 0x00, 0xFE, 0x03,
            0x00,                     // scope universe: nexthops have gateways
            0x01, 0x00, 0x00, 0x00, 0x00,
            0x08, 0x00, 0x01, 0x00, 0xC6, 0x33, 0x68, 0x00,   // RTA_DST 198.51.104.0
            0x24, 0x00, 0x09, 0x00,   // RTA_MULTIPATH (9), 36 bytes, no NLA_F_NESTED (an array, not attributes)
            0x10, 0x00,               //   rtnh_len = 16 (8 + RTA_GATEWAY)
            0x00,                     //   rtnh_flags
            0x01,                     //   rtnh_hops = weight 2 - 1
            0x02, 0x00, 0x00, 0x00,   //   rtnh_ifindex = 2
            0x08, 0x00, 0x05, 0x00, 0xC0, 0x00, 0x02, 0xFD,   //   RTA_GATEWAY 192.0.2.253
            0x10, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00,   //   second: weight 1
            0x08, 0x00, 0x05, 0x00, 0xC0, 0x00, 0x02, 0xFE,   //   RTA_GATEWAY 192.0.2.254
        ])
        #expect(ours == CapturedRouteRule.routeMultipath)
    }

    @Test("local route: scope host by default; explicit scope host on a device route")
    func localAndScope() {
        let local = VirtualRoute(family: .ipv4, kind: .local, destination: ip("192.0.2.200"), prefixLength: 32, interface: "eth0",
                                 table: 100)
        #expect(built { RouteNetlinkRequest.newRoute(local, indices: eth0, into: &$0) } == CapturedRouteRule.routeLocalTable100)
        let host = VirtualRoute(family: .ipv4, destination: ip("198.51.105.0"), prefixLength: 24, interface: "eth0", scope: 254)
        #expect(built { RouteNetlinkRequest.newRoute(host, indices: eth0, into: &$0) } == CapturedRouteRule.routeScopeHost)
    }

    @Test("IPv6 routes: scope universe even without a gateway")
    func ipv6() {
        let via = VirtualRoute(family: .ipv6, destination: ip("2001:db8:1::"), prefixLength: 64, gateway: ip("2001:db8::fe"),
                               interface: "eth0")
        #expect(built { RouteNetlinkRequest.newRoute(via, indices: eth0, into: &$0) } == CapturedRouteRule.route6ViaGateway)
        let device = VirtualRoute(family: .ipv6, destination: ip("2001:db8:2::"), prefixLength: 64, interface: "eth0", metric: 100)
        #expect(built { RouteNetlinkRequest.newRoute(device, indices: eth0, into: &$0) } == CapturedRouteRule.route6DeviceMetric)
    }

    @Test("RTM_DELROUTE: no create flags, protocol 0, scope nowhere (IPv4) — and our type where iproute2 sends 0")
    func delete() {
        let route = VirtualRoute(family: .ipv4, destination: ip("198.51.100.0"), prefixLength: 24, gateway: ip("192.0.2.254"),
                                 interface: "eth0")
        let ours = built { RouteNetlinkRequest.deleteRoute(route, indices: eth0, into: &$0) }
        #expect(Array(ours[4..<8]) == [0x19, 0x00, 0x05, 0x00])          // RTM_DELROUTE, NLM_F_REQUEST|NLM_F_ACK
        #expect(Array(ours[16..<24]) == [0x02, 0x18, 0x00, 0x00, 0xFE, 0x00, 0xFF, 0x01])
        // iproute2 leaves rtm_type RTN_UNSPEC (any type) for a route typed without a keyword;
        // we name RTN_UNICAST so that a delete cannot remove another type of route.
        #expect(ours == patched(CapturedRouteRule.routeDeleteViaGateway, 23, 0x01))

        let tabled = VirtualRoute(family: .ipv4, destination: ip("198.51.102.0"), prefixLength: 24, gateway: ip("192.0.2.254"),
                                  interface: "eth0", table: 1000, metric: 10)
        #expect(built { RouteNetlinkRequest.deleteRoute(tabled, indices: eth0, into: &$0) }
                    == patched(CapturedRouteRule.routeDeleteTableMetric, 23, 0x01))
        let blackhole = VirtualRoute(family: .ipv4, kind: .blackhole, destination: ip("203.0.113.0"), prefixLength: 24)
        #expect(built { RouteNetlinkRequest.deleteRoute(blackhole, indices: RouteInterfaceIndices(), into: &$0) }
                    == CapturedRouteRule.routeDeleteBlackhole)
        let v6 = VirtualRoute(family: .ipv6, destination: ip("2001:db8:1::"), prefixLength: 64, gateway: ip("2001:db8::fe"),
                              interface: "eth0")
        #expect(built { RouteNetlinkRequest.deleteRoute(v6, indices: eth0, into: &$0) }
                    == patched(CapturedRouteRule.route6DeleteViaGateway, 23, 0x01))
    }

    @Test("problems are found before anything is sent")
    func problems() {
        func problem(_ r: VirtualRoute) -> String? { RouteNetlinkRequest.problem(with: r) }
        #expect(problem(VirtualRoute(family: .ipv4, destination: ip("198.51.100.0"), prefixLength: 24)) == nil)
        #expect(problem(VirtualRoute(family: .ipv4, destination: ip("198.51.100.0"), prefixLength: 33)) != nil)
        #expect(problem(VirtualRoute(family: .ipv4, destination: ip("198.51.100.1"), prefixLength: 24))?.contains("host bits") == true)
        #expect(problem(VirtualRoute(family: .ipv4, destination: ip("2001:db8::"), prefixLength: 64)) != nil)
        #expect(problem(VirtualRoute(family: .ipv4, destination: ip("198.51.100.0"), prefixLength: 24, gateway: ip("2001:db8::1"))) != nil)
        #expect(problem(VirtualRoute(family: .ipv4, kind: .blackhole, destination: ip("198.51.100.0"), prefixLength: 24,
                                     interface: "eth0")) != nil)
        #expect(problem(VirtualRoute(family: .ipv4, destination: ip("198.51.100.0"), prefixLength: 24,
                                     nexthops: [.init(gateway: ip("192.0.2.1"), weight: 0)])) != nil)
        #expect(problem(VirtualRoute(family: .ipv4, destination: nil, prefixLength: 8)) != nil)
        #expect(problem(VirtualRoute(family: .ipv6, destination: ip("2001:db8::"), prefixLength: 64, table: 0)) != nil)
    }

    @Test("descriptions read like ip route")
    func describe() {
        let route = VirtualRoute(family: .ipv4, kind: .blackhole, destination: ip("203.0.113.0"), prefixLength: 24, table: 100, metric: 5)
        #expect(RouteNetlink.describe(route) == "blackhole 203.0.113.0/24 table 100 metric 5")
        let mp = VirtualRoute(family: .ipv4, destination: nil, prefixLength: 0,
                              nexthops: [.init(gateway: ip("192.0.2.253"), interface: "eth0", weight: 2)])
        #expect(RouteNetlink.describe(mp) == "default nexthop via 192.0.2.253 dev eth0 weight 2")
    }
}

// MARK: - Rules

@Suite("Rule requests (RTM_NEWRULE / RTM_DELRULE)")
struct RuleRequestTests {
    @Test("ip rule add from 192.0.2.0/24 table 100 priority 100")
    func fromTable() {
        let rule = VirtualRule(family: .ipv4, from: ip("192.0.2.0"), fromPrefixLength: 24, table: 100, priority: 100)
        let ours = built { RouteNetlinkRequest.newRule(rule, into: &$0) }
        #expect(ours == [
            0x2C, 0x00, 0x00, 0x00,   // nlmsg_len = 44
            0x20, 0x00,               // RTM_NEWRULE (32)
            0x05, 0x06,               // NLM_F_REQUEST|NLM_F_ACK | NLM_F_EXCL|NLM_F_CREATE
            0, 0, 0, 0, 0, 0, 0, 0,
            0x02,                     // family = AF_INET
            0x00,                     // dst_len
            0x18,                     // src_len = 24
            0x00,                     // tos
            0x64,                     // table = 100
            0x00, 0x00,               // res1, res2
            0x01,                     // action = FR_ACT_TO_TBL
            0x00, 0x00, 0x00, 0x00,   // flags
            0x08, 0x00, 0x02, 0x00, 0xC0, 0x00, 0x02, 0x00,   // FRA_SRC (2) 192.0.2.0
            0x08, 0x00, 0x06, 0x00, 0x64, 0x00, 0x00, 0x00,   // FRA_PRIORITY (6) 100
        ])
        #expect(ours == CapturedRouteRule.ruleFromTable)
    }

    @Test("not, to, fwmark/mask, iif, tos and table 1000 (FRA_TABLE)")
    func everySelector() {
        let rule = VirtualRule(family: .ipv4, to: ip("198.51.100.0"), toPrefixLength: 24, table: 1000, priority: 200,
                               firewallMark: 0x10, firewallMask: 0xFF, inputInterface: "eth0", tos: 0x10, invert: true)
        let ours = built { RouteNetlinkRequest.newRule(rule, into: &$0) }
        #expect(ours == [
            0x50, 0x00, 0x00, 0x00, 0x20, 0x00, 0x05, 0x06, 0, 0, 0, 0, 0, 0, 0, 0,  // len 80, RTM_NEWRULE
            0x02, 0x18, 0x00, 0x10,   // AF_INET, dst_len 24, src_len 0, tos 0x10
            0x00, 0x00, 0x00,         // table 0 (FRA_TABLE carries 1000), res1, res2
            0x01,                     // FR_ACT_TO_TBL
            0x02, 0x00, 0x00, 0x00,   // flags = FIB_RULE_INVERT
            0x08, 0x00, 0x01, 0x00, 0xC6, 0x33, 0x64, 0x00,   // FRA_DST (1) 198.51.100.0
            0x08, 0x00, 0x0A, 0x00, 0x10, 0x00, 0x00, 0x00,   // FRA_FWMARK (10) 0x10
            0x08, 0x00, 0x10, 0x00, 0xFF, 0x00, 0x00, 0x00,   // FRA_FWMASK (16) 0xff
            0x09, 0x00, 0x03, 0x00, 0x65, 0x74, 0x68, 0x30, 0x00, 0x00, 0x00, 0x00,  // FRA_IIFNAME (3) "eth0"
            0x08, 0x00, 0x0F, 0x00, 0xE8, 0x03, 0x00, 0x00,   // FRA_TABLE (15) 1000
            0x08, 0x00, 0x06, 0x00, 0xC8, 0x00, 0x00, 0x00,   // FRA_PRIORITY 200
        ])
        #expect(ours == CapturedRouteRule.ruleNotToFwmarkIifTosTable1000)
    }

    @Test("goto, blackhole, prohibit with oif, unreachable, nop; lookup main; IPv6")
    func actions() {
        func rule(_ r: VirtualRule) -> [UInt8] { built { RouteNetlinkRequest.newRule(r, into: &$0) } }
        #expect(rule(VirtualRule(family: .ipv4, action: .goto, priority: 300, gotoTarget: 400)) == CapturedRouteRule.ruleGoto)
        #expect(rule(VirtualRule(family: .ipv4, action: .blackhole, priority: 400)) == CapturedRouteRule.ruleBlackhole)
        #expect(rule(VirtualRule(family: .ipv4, action: .prohibit, priority: 500, outputInterface: "eth0"))
                    == CapturedRouteRule.ruleOifProhibit)
        #expect(rule(VirtualRule(family: .ipv4, action: .unreachable, priority: 600)) == CapturedRouteRule.ruleUnreachable)
        #expect(rule(VirtualRule(family: .ipv4, action: .noop, priority: 700)) == CapturedRouteRule.ruleNop)
        // A lookup rule without a table looks up main, as iproute2 makes it.
        #expect(rule(VirtualRule(family: .ipv4, from: ip("192.0.2.7"), fromPrefixLength: 32, priority: 800))
                    == CapturedRouteRule.ruleFromHostLookupMain)
        #expect(rule(VirtualRule(family: .ipv6, from: ip("2001:db8::"), fromPrefixLength: 64, table: 100, priority: 100))
                    == CapturedRouteRule.rule6FromTable)
    }

    @Test("RTM_DELRULE: no create flags; the action is named where iproute2 sends 0 for an implied lookup")
    func delete() {
        let rule = VirtualRule(family: .ipv4, from: ip("192.0.2.0"), fromPrefixLength: 24, table: 100, priority: 100)
        let ours = built { RouteNetlinkRequest.deleteRule(rule, into: &$0) }
        #expect(Array(ours[4..<8]) == [0x21, 0x00, 0x05, 0x00])   // RTM_DELRULE (33), NLM_F_REQUEST|NLM_F_ACK
        #expect(ours == patched(CapturedRouteRule.ruleDeleteFromTable, 23, 0x01))
        #expect(built { RouteNetlinkRequest.deleteRule(VirtualRule(family: .ipv4, action: .blackhole, priority: 400), into: &$0) }
                    == CapturedRouteRule.ruleDeleteBlackhole)
        let v6 = VirtualRule(family: .ipv6, from: ip("2001:db8::"), fromPrefixLength: 64, table: 100, priority: 100)
        #expect(built { RouteNetlinkRequest.deleteRule(v6, into: &$0) } == patched(CapturedRouteRule.rule6DeleteFromTable, 23, 0x01))
    }

    @Test("problems are found before anything is sent; descriptions read like ip rule")
    func problems() {
        #expect(RouteNetlinkRequest.problem(with: VirtualRule(family: .ipv4, from: ip("2001:db8::"), fromPrefixLength: 64)) != nil)
        #expect(RouteNetlinkRequest.problem(with: VirtualRule(family: .ipv4, action: .goto, priority: 1)) != nil)
        #expect(RouteNetlinkRequest.problem(with: VirtualRule(family: .ipv4, action: .blackhole, table: 5)) != nil)
        #expect(RouteNetlinkRequest.problem(with: VirtualRule(family: .ipv4, firewallMask: 0xFF)) != nil)
        #expect(RouteNetlinkRequest.problem(with: VirtualRule(family: .ipv4, inputInterface: "a-name-that-is-too-long")) != nil)
        #expect(RouteNetlinkRequest.problem(with: VirtualRule(family: .ipv4, from: ip("192.0.2.0"), fromPrefixLength: 24, table: 100)) == nil)
        let rule = VirtualRule(family: .ipv4, from: ip("192.0.2.0"), fromPrefixLength: 24, table: 100, priority: 100,
                               firewallMark: 0x10, firewallMask: 0xFF, invert: true)
        #expect(RouteNetlink.describe(rule) == "not from 192.0.2.0/24 fwmark 0x10/0xff lookup 100 pref 100")
    }
}

// MARK: - Macvlan

@Suite("Macvlan and link requests (RTM_NEWLINK / RTM_DELLINK)")
struct MacvlanRequestTests {
    let mac = MACAddress.virtualRouterMAC(family: .ipv4, vrid: 51)

    @Test("ip link add link eth0 name vrrp.51 address 00:00:5e:00:01:33 type macvlan mode private")
    func newMacvlan() {
        #expect(mac.description == "00:00:5e:00:01:33")
        let ours = built { RouteNetlinkRequest.newMacvlan(named: "vrrp.51", parentIndex: 2, address: mac, into: &$0) }
        #expect(ours == [
            0x5C, 0x00, 0x00, 0x00,   // nlmsg_len = 92
            0x10, 0x00,               // RTM_NEWLINK (16)
            0x05, 0x06,               // NLM_F_REQUEST|NLM_F_ACK | NLM_F_EXCL|NLM_F_CREATE
            0, 0, 0, 0, 0, 0, 0, 0,
            0x00, 0x00,               // ifi_family = AF_UNSPEC, pad
            0x00, 0x00,               // ifi_type
            0x00, 0x00, 0x00, 0x00,   // ifi_index = 0 (the kernel chooses)
            0x00, 0x00, 0x00, 0x00,   // ifi_flags (down)
            0x00, 0x00, 0x00, 0x00,   // ifi_change
            0x0A, 0x00, 0x01, 0x00,   // IFLA_ADDRESS (1), 6 bytes
            0x00, 0x00, 0x5E, 0x00, 0x01, 0x33, 0x00, 0x00,   //   00:00:5e:00:01:33 + 2 pad
            0x08, 0x00, 0x05, 0x00, 0x02, 0x00, 0x00, 0x00,   // IFLA_LINK (5) = 2 (eth0)
            0x0C, 0x00, 0x03, 0x00,   // IFLA_IFNAME (3)
            0x76, 0x72, 0x72, 0x70, 0x2E, 0x35, 0x31, 0x00,   //   "vrrp.51\0"
            0x1C, 0x00, 0x12, 0x80,   // IFLA_LINKINFO (18) | NLA_F_NESTED, 28 bytes
            0x0B, 0x00, 0x01, 0x00,   //   IFLA_INFO_KIND (1), 11 bytes: NLA_STRING without its NUL
            0x6D, 0x61, 0x63, 0x76, 0x6C, 0x61, 0x6E, 0x00,   //     "macvlan" + 1 pad
            0x0C, 0x00, 0x02, 0x80,   //   IFLA_INFO_DATA (2) | NLA_F_NESTED
            0x08, 0x00, 0x01, 0x00,   //     IFLA_MACVLAN_MODE (1)
            0x01, 0x00, 0x00, 0x00,   //       MACVLAN_MODE_PRIVATE
        ])
        // iproute2: the same without NLA_F_NESTED on IFLA_LINKINFO and IFLA_INFO_DATA.
        #expect(withoutNestedFlags(ours, familyHeaderSize: 16) == CapturedRouteRule.macvlanNew)
        let up = built {
            RouteNetlinkRequest.newMacvlan(named: "vrrp.53", parentIndex: 2, address: .virtualRouterMAC(family: .ipv6, vrid: 53),
                                           up: true, into: &$0)
        }
        #expect(withoutNestedFlags(up, familyHeaderSize: 16) == CapturedRouteRule.macvlanNewUp)
    }

    @Test("addrgenmode none, set up, delete")
    func linkRequests() {
        let mode = built { RouteNetlinkRequest.setIPv6AddressGenerationMode(.none, index: 3, into: &$0) }
        #expect(mode == [
            0x30, 0x00, 0x00, 0x00, 0x10, 0x00, 0x05, 0x00, 0, 0, 0, 0, 0, 0, 0, 0,  // len 48, RTM_NEWLINK, REQUEST|ACK
            0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00,   // ifinfomsg: index 3
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,   //   flags, change
            0x10, 0x00, 0x1A, 0x80,   // IFLA_AF_SPEC (26) | NLA_F_NESTED
            0x0C, 0x00, 0x0A, 0x80,   //   AF_INET6 (10) | NLA_F_NESTED
            0x05, 0x00, 0x08, 0x00,   //     IFLA_INET6_ADDR_GEN_MODE (8)
            0x01, 0x00, 0x00, 0x00,   //       IN6_ADDR_GEN_MODE_NONE + pad
        ])
        #expect(withoutNestedFlags(mode, familyHeaderSize: 16) == CapturedRouteRule.linkAddressGenerationModeNone)
        #expect(built { RouteNetlinkRequest.setLink(index: 3, up: true, into: &$0) } == CapturedRouteRule.linkUp)
        #expect(built { RouteNetlinkRequest.deleteLink(index: 3, into: &$0) } == CapturedRouteRule.linkDelete)
    }

    @Test("VMAC configuration defaults: vrrp.VRID, 00:00:5e:00:01/02:VRID, link-local copied for IPv6")
    func configuration() {
        let v4 = VirtualMACConfiguration(parent: "eth0", virtualRouterID: 51)
        #expect(v4.name == "vrrp.51" && v4.address.description == "00:00:5e:00:01:33" && v4.linkLocal == .none)
        let v6 = VirtualMACConfiguration(parent: "eth0", virtualRouterID: 200, family: .ipv6)
        #expect(v6.name == "vrrp.200" && v6.address.description == "00:00:5e:00:02:c8" && v6.linkLocal == .copyFromParent)
    }
}

// MARK: - Link state tracking

@Suite("Interface state tracking")
struct InterfaceStateTrackerTests {
    private func link(_ index: UInt32, _ name: String, up: Bool, running: Bool? = nil) -> LinkInfo {
        var flags: InterfaceFlags = up ? [.up] : []
        if running ?? up { flags.insert(.running) }
        return LinkInfo(index: index, name: name, flags: flags)
    }

    @Test("only real changes of up-and-operational are reported")
    func changes() {
        var t = InterfaceStateTracker()
        #expect(t.resync([link(1, "lo", up: true), link(2, "eth0", up: true)])
                    == [.init("lo", up: true), .init("eth0", up: true)])
        #expect(t.apply(.linkChanged(link(2, "eth0", up: true))) == [])                      // MTU change, say
        #expect(t.apply(.linkChanged(link(2, "eth0", up: true, running: false))) == [.init("eth0", up: false)])   // carrier lost
        #expect(t.apply(.linkChanged(link(2, "eth0", up: false))) == [])                    // admin down too: still down
        #expect(t.apply(.linkChanged(link(2, "eth0", up: true))) == [.init("eth0", up: true)])
        #expect(t.apply(.overrun) == [])
        #expect(t.apply(.addressAdded(AddressInfo(interfaceIndex: 2, address: ip("192.0.2.9"), prefixLength: 24))) == [])
        #expect(t.isUp("eth0") == true)
    }

    @Test("new links, renames and removals")
    func lifecycle() {
        var t = InterfaceStateTracker()
        _ = t.resync([link(2, "eth0", up: true)])
        #expect(t.apply(.linkChanged(link(3, "vrrp.51", up: false))) == [.init("vrrp.51", up: false)])
        #expect(t.apply(.linkChanged(link(2, "wan0", up: true))) == [.init("eth0", up: false), .init("wan0", up: true)])
        #expect(t.apply(.linkRemoved(link(2, "wan0", up: true))) == [.init("wan0", up: false)])
        #expect(t.apply(.linkRemoved(link(3, "vrrp.51", up: false))) == [])
        #expect(t.apply(.linkRemoved(link(9, "ghost", up: true))) == [])
        #expect(t.isUp("eth0") == nil)
    }

    @Test("a resync reports every interface, and those that vanished as down")
    func resync() {
        var t = InterfaceStateTracker()
        _ = t.resync([link(2, "eth0", up: true), link(3, "eth1", up: true)])
        #expect(t.resync([link(2, "eth0", up: false), link(4, "eth2", up: true)])
                    == [.init("eth1", up: false), .init("eth0", up: false), .init("eth2", up: true)])
    }
}

// MARK: - Address plane (no kernel)

extension HostAccessSuites {
@Suite("Linux address plane without the kernel")
struct LinuxAddressPlaneUnitTests {
    @Test("no_accept: allowing is a no-op, blocking says it is not supported yet")
    func acceptMode() async throws {
        let plane = try LinuxAddressPlane()
        try await plane.setAcceptMode(true, addresses: [VirtualAddress(ip("192.0.2.100"))], interface: "eth0")
        do {
            try await plane.setAcceptMode(false, addresses: [VirtualAddress(ip("192.0.2.100"))], interface: "eth0")
            Issue.record("blocking should throw")
        } catch let error as NetLinuxError {
            #expect(error.errno == .notSupported)
            #expect("\(error)".contains("no_accept is not supported yet"))
            #expect("\(error)".contains("192.0.2.100 on eth0"))
        }
    }

    @Test("an invalid route or rule is refused with the operation named, before any I/O")
    func invalid() throws {
        let plane = try LinuxAddressPlane()
        let route = VirtualRoute(family: .ipv4, destination: ip("198.51.100.1"), prefixLength: 24)
        let error = #expect(throws: NetLinuxError.self) { try plane.addRoutes([route]) }
        #expect(error?.errno == .invalidArgument)
        #expect(error?.operation == "adding route 198.51.100.1/24")
        let rule = VirtualRule(family: .ipv4, action: .goto, priority: 5)
        let ruleError = #expect(throws: NetLinuxError.self) { try plane.removeRules([rule, rule]) }
        #expect(ruleError?.detail?.contains("1 more of 2 failed too") == true)
    }
}
}
