#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization
import SystemPackage
import IntegrationSupport
import Testing
import VRRPCore
@testable import NetLinux

/// Lines a component logged.
private final class LineLog: Sendable {
    private let lines = Mutex<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
}

/// The `interfaceChanged` inputs a reporter gave, in order.
private final class InputLog: Sendable {
    private let entries = Mutex<[(String, Bool)]>([])

    func append(_ input: VRRPEngine.Input) {
        guard case let .interfaceChanged(name, up) = input else {
            Issue.record("unexpected input \(input)")
            return
        }
        entries.withLock { $0.append((name, up)) }
    }

    var count: Int { entries.withLock { $0.count } }
    func snapshot() -> [(String, Bool)] { entries.withLock { $0 } }

    /// Waits up to `timeout` for an entry after the first `skip` that reports `name` as `up`.
    func wait(after skip: Int, _ name: String, up: Bool, timeout: Duration = .seconds(3)) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if entries.withLock({ $0.dropFirst(skip).contains { $0.0 == name && $0.1 == up } }) { return true }
            usleep(500)
        }
        return false
    }
}

/// A flag shared with a system-call override.
private final class Flag: Sendable {
    private let state = Atomic<Bool>(false)
    var value: Bool {
        get { state.load(ordering: .acquiring) }
        set { state.store(newValue, ordering: .releasing) }
    }
}

private func ip(_ text: String) -> IPAddress { IPAddress(text)! }

/// The content of `path` read inside namespace `ns`, trimmed.
private func sysctl(_ lan: TestLAN, _ i: Int, _ key: String) throws -> String {
    try Shell.run(["ip", "netns", "exec", lan.nodes[i], "cat", "/proc/sys/" + key]).trimmingCharacters(in: .whitespacesAndNewlines)
}

private func setSysctl(_ lan: TestLAN, _ i: Int, _ key: String, _ value: String) throws {
    try Shell.run(["ip", "netns", "exec", lan.nodes[i], "sh", "-c", "echo \(value) > /proc/sys/\(key)"])
}

extension HostAccessSuites {
@Suite("Address plane, VMAC and link state against the kernel (namespaces)", .serialized)
struct AddressPlaneIntegrationTests {
    @Test("routes added through LinuxAddressPlane appear in ip route and disappear after removal; repeats are harmless")
    func routes() async throws {
        guard Integration.available() else { return }
        let lan = try TestLAN(nodes: 1)
        defer { lan.remove() }
        let log = LineLog()
        let plane = try LinuxAddressPlane(inNamespaceAt: lan.path(0)) { log.append($0) }
        let routes = [
            VirtualRoute(family: .ipv4, destination: ip("198.51.100.0"), prefixLength: 24, gateway: ip("192.0.2.254"), interface: "eth0"),
            VirtualRoute(family: .ipv4, destination: ip("198.51.101.0"), prefixLength: 24, source: ip("192.0.2.1"), interface: "eth0",
                         table: 1000, metric: 7),
            VirtualRoute(family: .ipv4, kind: .blackhole, destination: ip("203.0.113.0"), prefixLength: 24, table: 100),
            VirtualRoute(family: .ipv4, destination: ip("198.51.104.0"), prefixLength: 24, nexthops: [
                .init(gateway: ip("192.0.2.253"), interface: "eth0", weight: 2), .init(gateway: ip("192.0.2.254"), interface: "eth0"),
            ]),
            VirtualRoute(family: .ipv6, destination: ip("2001:db8:1::"), prefixLength: 64, gateway: ip("2001:db8::fe"), interface: "eth0"),
        ]
        try await plane.add(routes)
        let v4 = try lan.ip(0, "route", "show", "table", "all")
        let v6 = try lan.ip(0, "-6", "route", "show", "table", "all")
        #expect(v4.contains("198.51.100.0/24 via 192.0.2.254 dev eth0"))
        #expect(v4.contains("198.51.101.0/24 dev eth0 table 1000 scope link src 192.0.2.1 metric 7"))
        #expect(v4.contains("blackhole 203.0.113.0/24 table 100"))
        #expect(v4.contains("nexthop via 192.0.2.253 dev eth0 weight 2"))
        #expect(v6.contains("2001:db8:1::/64 via 2001:db8::fe dev eth0"))

        try await plane.add(routes)   // already there: fine, logged
        #expect(log.all.filter { $0.contains("already in the table") }.count == routes.count)

        try await plane.remove(routes)
        let after4 = try lan.ip(0, "route", "show", "table", "all")
        let after6 = try lan.ip(0, "-6", "route", "show", "table", "all")
        for gone in ["198.51.100.0", "198.51.101.0", "203.0.113.0", "198.51.104.0"] { #expect(!after4.contains(gone)) }
        #expect(!after6.contains("2001:db8:1::"))
        try await plane.remove(routes)   // already gone: fine, logged
        #expect(log.all.filter { $0.hasSuffix("already gone") }.count == routes.count)

        // A real failure names the operation and the object.
        let error = #expect(throws: NetLinuxError.self) {
            try plane.addRoutes([VirtualRoute(family: .ipv4, destination: ip("198.51.100.0"), prefixLength: 24, interface: "nosuch0")])
        }
        #expect(error.map { "\($0)" }?.hasPrefix("adding route 198.51.100.0/24 dev nosuch0: no such device") == true)
    }

    @Test("rules added through LinuxAddressPlane appear in ip rule and disappear after removal; repeats are harmless")
    func rules() async throws {
        guard Integration.available() else { return }
        let lan = try TestLAN(nodes: 1)
        defer { lan.remove() }
        let log = LineLog()
        let plane = try LinuxAddressPlane(inNamespaceAt: lan.path(0)) { log.append($0) }
        let rules = [
            VirtualRule(family: .ipv4, from: ip("192.0.2.0"), fromPrefixLength: 24, table: 100, priority: 100),
            VirtualRule(family: .ipv4, to: ip("198.51.100.0"), toPrefixLength: 24, table: 1000, priority: 200, firewallMark: 0x10,
                        firewallMask: 0xFF, inputInterface: "eth0", invert: true),
            VirtualRule(family: .ipv4, action: .goto, priority: 300, gotoTarget: 400),
            VirtualRule(family: .ipv4, action: .blackhole, priority: 400, outputInterface: "eth0"),
            VirtualRule(family: .ipv6, from: ip("2001:db8::"), fromPrefixLength: 64, table: 100, priority: 100),
        ]
        try await plane.add(rules)
        let v4 = try lan.ip(0, "rule")
        let v6 = try lan.ip(0, "-6", "rule")
        #expect(v4.contains("100:\tfrom 192.0.2.0/24 lookup 100"))
        #expect(v4.contains("200:\tnot from all to 198.51.100.0/24 fwmark 0x10/0xff iif eth0 lookup 1000"))
        #expect(v4.contains("300:\tfrom all goto 400"))
        #expect(v4.contains("400:\tfrom all oif eth0 blackhole"))
        #expect(v6.contains("100:\tfrom 2001:db8::/64 lookup 100"))

        try await plane.add(rules)
        #expect(log.all.filter { $0.hasSuffix("already present, kept") }.count == rules.count)

        try await plane.remove(rules)
        let after4 = try lan.ip(0, "rule")
        for pref in ["100:", "200:", "300:", "400:"] { #expect(!after4.contains(pref)) }
        #expect(!(try lan.ip(0, "-6", "rule")).contains("2001:db8::"))
        try await plane.remove(rules)
        #expect(log.all.filter { $0.hasSuffix("already gone") }.count == rules.count)
    }

    @Test("addresses: an existing VIP is fine, a missing one or a missing interface is already gone")
    func addresses() async throws {
        guard Integration.available() else { return }
        let lan = try TestLAN(nodes: 1)
        defer { lan.remove() }
        let log = LineLog()
        let plane = try LinuxAddressPlane(inNamespaceAt: lan.path(0)) { log.append($0) }
        let vips = [VirtualAddress(ip("192.0.2.100"), prefixLength: 24), VirtualAddress(ip("2001:db8::100"), prefixLength: 64, flags: [.noDAD]),
                    VirtualAddress(ip("192.0.2.101"), interface: "lo")]
        try await plane.add(vips, interface: "eth0")
        try await plane.add(vips, interface: "eth0")
        #expect(try lan.ip(0, "addr", "show", "dev", "eth0").contains("192.0.2.100/24"))
        #expect(try lan.ip(0, "addr", "show", "dev", "lo").contains("192.0.2.101/32"))
        #expect(log.all.filter { $0.hasSuffix("already present, kept") }.count == 3)
        try await plane.remove(vips, interface: "eth0")
        try await plane.remove(vips, interface: "eth0")
        try await plane.remove([VirtualAddress(ip("192.0.2.100"), interface: "nosuch0")], interface: "eth0")
        #expect(!(try lan.ip(0, "addr", "show")).contains("192.0.2.10"))
        #expect(log.all.filter { $0.hasSuffix("already gone") }.count == 4)
    }

    @Test("a VMAC is a private-mode macvlan with the virtual MAC; sysctls are set, then restored on removal")
    func vmac() throws {
        guard Integration.available() else { return }
        let lan = try TestLAN(nodes: 1)
        defer { lan.remove() }
        let conf = SysctlSettings.ipv4Conf
        // all.rp_filter strict, eth0's own loose and lo's off: the VMAC must lower all and raise the others.
        try setSysctl(lan, 0, conf("all", "rp_filter"), "1")
        try setSysctl(lan, 0, conf("default", "rp_filter"), "2")
        try setSysctl(lan, 0, conf("eth0", "rp_filter"), "0")
        try setSysctl(lan, 0, conf("lo", "rp_filter"), "0")
        let before = try ["arp_ignore", "arp_filter", "rp_filter"].map { try sysctl(lan, 0, conf("eth0", $0)) }
        #expect(before == ["0", "0", "0"])

        let rtnl = try RouteNetlink(inNamespaceAt: lan.path(0))
        let sysctls = SysctlSettings(inNamespaceAt: lan.path(0))
        let v4 = try VirtualMAC.create(VirtualMACConfiguration(parent: "eth0", virtualRouterID: 51), routeNetlink: rtnl, sysctls: sysctls)
        let v6 = try VirtualMAC.create(VirtualMACConfiguration(parent: "eth0", virtualRouterID: 52, family: .ipv6),
                                       routeNetlink: rtnl, sysctls: sysctls)
        let details = try lan.ip(0, "-d", "link", "show", "vrrp.51")
        #expect(details.contains("vrrp.51@eth0"))
        #expect(details.contains("link/ether 00:00:5e:00:01:33"))
        #expect(details.contains("macvlan mode private"))
        #expect(details.contains("addrgenmode none"))
        #expect(details.contains("state UP") || details.contains(",UP,"))
        #expect(v4.link.macAddress?.description == "00:00:5e:00:01:33" && v4.link.kind == "macvlan")
        #expect(v4.linkLocalAddress == nil)
        #expect(!(try lan.ip(0, "-6", "addr", "show", "dev", "vrrp.51")).contains("fe80"))
        // IPv6: the parent's link-local address, copied.
        #expect(try lan.ip(0, "link", "show", "vrrp.52").contains("link/ether 00:00:5e:00:02:34"))
        let parentLinkLocal = try #require(v6.linkLocalAddress)
        #expect(parentLinkLocal.isIPv6LinkLocal)
        #expect(try lan.ip(0, "-6", "addr", "show", "dev", "eth0").contains("\(parentLinkLocal)/64"))
        #expect(try lan.ip(0, "-6", "addr", "show", "dev", "vrrp.52").contains("\(parentLinkLocal)/64"))

        for vmac in ["vrrp.51", "vrrp.52"] {
            #expect(try sysctl(lan, 0, conf(vmac, "arp_ignore")) == "1")
            #expect(try sysctl(lan, 0, conf(vmac, "accept_local")) == "1")
            #expect(try sysctl(lan, 0, conf(vmac, "rp_filter")) == "0")
        }
        #expect(try sysctl(lan, 0, conf("eth0", "arp_ignore")) == "1")
        #expect(try sysctl(lan, 0, conf("eth0", "arp_filter")) == "1")
        #expect(try sysctl(lan, 0, conf("all", "rp_filter")) == "0")
        #expect(try sysctl(lan, 0, conf("default", "rp_filter")) == "0")
        #expect(try sysctl(lan, 0, conf("eth0", "rp_filter")) == "1")   // raised: its effective value is unchanged
        #expect(try sysctl(lan, 0, conf("lo", "rp_filter")) == "1")

        // Removed out of order: the parent keeps its settings while the other VMAC needs them.
        try v4.remove()
        #expect(throws: (any Error).self) { try lan.ip(0, "link", "show", "vrrp.51") }
        #expect(try sysctl(lan, 0, conf("eth0", "arp_ignore")) == "1")
        #expect(try sysctl(lan, 0, conf("all", "rp_filter")) == "0")
        try v6.remove()
        try v6.remove()   // idempotent
        #expect(throws: (any Error).self) { try lan.ip(0, "link", "show", "vrrp.52") }
        #expect(try ["arp_ignore", "arp_filter", "rp_filter"].map { try sysctl(lan, 0, conf("eth0", $0)) } == before)
        #expect(try sysctl(lan, 0, conf("all", "rp_filter")) == "1")
        #expect(try sysctl(lan, 0, conf("default", "rp_filter")) == "2")
        #expect(try sysctl(lan, 0, conf("lo", "rp_filter")) == "0")
        #expect(sysctls.pending.isEmpty)
    }

    @Test("a leftover VMAC is replaced; another interface of the same name is refused with a clear message")
    func vmacLeftovers() throws {
        guard Integration.available() else { return }
        let lan = try TestLAN(nodes: 1)
        defer { lan.remove() }
        try lan.ip(0, "link", "add", "link", "eth0", "name", "vrrp.7", "type", "macvlan", "mode", "bridge")
        try lan.ip(0, "link", "add", "vrrp.8", "type", "veth", "peer", "name", "vrrp.8p")
        let rtnl = try RouteNetlink(inNamespaceAt: lan.path(0))
        let sysctls = SysctlSettings(inNamespaceAt: lan.path(0))
        let log = LineLog()
        let vmac = try VirtualMAC.create(VirtualMACConfiguration(parent: "eth0", virtualRouterID: 7), routeNetlink: rtnl,
                                         sysctls: sysctls) { log.append($0) }
        #expect(log.all.contains { $0.contains("deleting the leftover macvlan vrrp.7") })
        #expect(try lan.ip(0, "-d", "link", "show", "vrrp.7").contains("macvlan mode private"))
        let error = #expect(throws: NetLinuxError.self) {
            try VirtualMAC.create(VirtualMACConfiguration(parent: "eth0", virtualRouterID: 8), routeNetlink: rtnl, sysctls: sysctls)
        }
        #expect(error.map { "\($0)" } == "creating VMAC vrrp.8 on eth0: already exists (interface vrrp.8 exists and is not a macvlan on eth0)")
        let missing = #expect(throws: NetLinuxError.self) {
            try VirtualMAC.create(VirtualMACConfiguration(parent: "nosuch0", virtualRouterID: 9), routeNetlink: rtnl, sysctls: sysctls)
        }
        #expect(missing.map { "\($0)" }?.hasPrefix("creating VMAC vrrp.9 on nosuch0: no such device") == true)
        try vmac.remove()
        #expect(sysctls.pending.isEmpty)
    }

    @Test("sysctls: set, read back, restored in reverse order; a key whose file is gone needs no restoring")
    func sysctlSettings() throws {
        guard Integration.available() else { return }
        let lan = try TestLAN(nodes: 1)
        defer { lan.remove() }
        let sysctls = SysctlSettings(inNamespaceAt: lan.path(0))
        let key = SysctlSettings.ipv4Conf("eth0", "arp_ignore")
        #expect(try sysctls.value(of: key) == "0")
        try sysctls.set(key, to: "2")
        try sysctls.set(key, to: "1")   // the original stays the first one seen
        #expect(try sysctl(lan, 0, key) == "1")
        try lan.ip(0, "link", "add", "dummy9", "type", "veth", "peer", "name", "dummy9p")
        try sysctls.set(SysctlSettings.ipv4Conf("dummy9", "arp_filter"), to: "1")
        try lan.ip(0, "link", "del", "dummy9")
        #expect(sysctls.pending.map(\.key) == [key, SysctlSettings.ipv4Conf("dummy9", "arp_filter")])
        #expect(sysctls.restoreAll().isEmpty)
        #expect(try sysctl(lan, 0, key) == "0")
        let error = #expect(throws: NetLinuxError.self) { try sysctls.set(SysctlSettings.ipv4Conf("nosuch0", "arp_filter"), to: "1") }
        #expect(error.map { "\($0)" } == "setting /proc/sys/net/ipv4/conf/nosuch0/arp_filter to 1: no such file or directory")
    }

    @Test("the link-state reporter reports ip link set eth0 down/up, and resyncs after an overrun")
    func linkStateReporter() throws {
        guard Integration.available() else { return }
        let lan = try TestLAN(nodes: 1)
        defer { lan.remove() }
        let inputs = InputLog()
        let log = LineLog()
        let reporter = try LinkStateReporter(inNamespaceAt: lan.path(0), log: { log.append($0) }, report: { inputs.append($0) })
        defer { reporter.stop() }
        // The first listing reports every interface.
        let first = inputs.snapshot()
        #expect(first.contains { $0 == ("eth0", true) } && first.contains { $0 == ("lo", true) })
        #expect(reporter.isUp("eth0") == true)

        var skip = inputs.count
        try lan.ip(0, "link", "set", "eth0", "down")
        #expect(inputs.wait(after: skip, "eth0", up: false))
        skip = inputs.count
        try lan.ip(0, "link", "set", "eth0", "up")
        #expect(inputs.wait(after: skip, "eth0", up: true))
        // Only real changes: an MTU change reports nothing.
        usleep(50_000)
        skip = inputs.count
        try lan.ip(0, "link", "set", "eth0", "mtu", "1400")
        usleep(100_000)
        #expect(inputs.count == skip)

        // Overrun: the monitor's next read loses the datagram it reads (the kernel's ENOBUFS,
        // simulated on the monitor's own descriptor only; every other call passes through).
        let target = reporter.monitor.socket.descriptor.rawValue
        let dropping = Flag()
        var calls = SystemCalls.current
        let recvmsg = calls.recvmsg
        calls.recvmsg = { fd, message, flags in
            guard fd == target, dropping.value else { return recvmsg(fd, message, flags) }
            let n = recvmsg(fd, message, flags)
            guard n >= 0 else { return n }
            dropping.value = false
            errno = ENOBUFS
            return -1
        }
        let resyncsBefore = reporter.resyncCount
        try SystemCalls.withOverride(calls) {
            skip = inputs.count
            dropping.value = true
            try lan.ip(0, "link", "set", "eth0", "down")
            // The notification was lost: only the resync can tell that eth0 went down.
            #expect(inputs.wait(after: skip, "eth0", up: false))
            let deadline = ContinuousClock.now + .seconds(2)
            while dropping.value && ContinuousClock.now < deadline { usleep(500) }
        }
        #expect(!dropping.value)
        #expect(reporter.resyncCount > resyncsBefore)
        #expect(reporter.monitor.overruns >= 1)
        #expect(log.all.contains { $0.contains("overrun") })
        let resynced = inputs.snapshot().dropFirst(skip)
        #expect(resynced.contains { $0 == ("lo", true) })   // a resync reports every interface
        skip = inputs.count
        try lan.ip(0, "link", "set", "eth0", "up")
        #expect(inputs.wait(after: skip, "eth0", up: true))
    }
}
}
