import CNetLinux
import Foundation
import SystemPackage
import IntegrationSupport
import Testing
import VRRPCore
@testable import NetLinux

/// Events a monitor delivered, with the instant each arrived (taken on the monitor's thread).
private final class InterfaceEventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [(event: InterfaceEvent, at: ContinuousClock.Instant)] = []

    func append(_ event: InterfaceEvent) {
        let now = ContinuousClock.now
        lock.withLock { entries.append((event, now)) }
    }

    var count: Int { lock.withLock { entries.count } }
    var events: [InterfaceEvent] { lock.withLock { entries.map(\.event) } }

    /// The first entry after `skip` that matches, waiting up to `timeout` for it.
    func wait(after skip: Int = 0, timeout: Duration = .seconds(3),
              _ matches: (InterfaceEvent) -> Bool) -> (event: InterfaceEvent, at: ContinuousClock.Instant)? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let found = lock.withLock { entries.dropFirst(skip).first { matches($0.event) } }
            if let found { return found }
            usleep(200)
        }
        return nil
    }
}

/// The ``NetLinuxError`` `body` throws, if any (another error is recorded as an issue).
private func netLinuxError(_ body: () throws -> Void) -> NetLinuxError? {
    do {
        try body()
        return nil
    } catch let error as NetLinuxError {
        return error
    } catch {
        Issue.record("expected a NetLinuxError, got \(error)")
        return nil
    }
}

/// Sets a link up or down with RTM_NEWLINK (`ifi_change` = IFF_UP), the way `ip link set` does.
private func setLink(_ socket: NetlinkSocket, index: UInt32, up: Bool) throws {
    try socket.request(operation: "setting link \(index) \(up ? "up" : "down")") { message in
        var header = ifinfomsg()
        header.ifi_index = Int32(index)
        header.ifi_flags = up ? 0x1 : 0     // IFF_UP
        header.ifi_change = 0x1             // only IFF_UP changes
        message.beginMessage(type: .newLink, flags: [.request, .acknowledge])
        message.appendFamilyHeader(header)
        message.endMessage()
    }
}

private func isLink(_ name: String, up: Bool? = nil, carrier: Bool? = nil) -> (InterfaceEvent) -> Bool {
    { event in
        guard case let .linkChanged(link) = event, link.name == name else { return false }
        if let up, link.isUp != up { return false }
        if let carrier, link.hasCarrier != carrier { return false }
        return true
    }
}

extension HostAccessSuites {
@Suite("Netlink against the kernel (namespaces)", .serialized)
struct NetlinkIntegrationTests {
    @Test("an IPv4 address added through NetLinux appears in ip addr, and disappears after delete")
    func ipv4Address() throws {
        guard Integration.available() else { return }
        let lan = try TestLAN(nodes: 1)
        defer { lan.remove() }
        let rtnl = try RouteNetlink(inNamespaceAt: lan.path(0))
        let vip = VirtualAddress(IPAddress("192.0.2.100")!, prefixLength: 24, broadcast: IPAddress("192.0.2.255")!,
                                 label: "eth0:vip")
        try rtnl.addAddress(vip, interface: "eth0")
        let shown = try lan.ip(0, "-4", "addr", "show", "dev", "eth0")
        #expect(shown.contains("inet 192.0.2.100/24 brd 192.0.2.255 scope global secondary eth0:vip"), "\(shown)")

        let eth0 = try rtnl.link(named: "eth0")
        let listed = try rtnl.addresses(family: .ipv4, interfaceIndex: eth0.index)
        let mine = try #require(listed.first { $0.address == vip.address })
        #expect(mine.prefixLength == 24 && mine.label == "eth0:vip" && mine.broadcast == IPAddress("192.0.2.255"))
        #expect(mine.flags.contains(.secondary) && mine.flags.contains(.permanent))

        try rtnl.deleteAddress(vip, interface: "eth0")
        #expect(!(try lan.ip(0, "-4", "addr", "show", "dev", "eth0")).contains("192.0.2.100"))
        #expect(try rtnl.addresses(family: .ipv4).contains { $0.address == vip.address } == false)
    }

    @Test("an IPv6 address with nodad, noprefixroute and preferred_lft 0 appears, then disappears")
    func ipv6Address() throws {
        guard Integration.available() else { return }
        let lan = try TestLAN(nodes: 1)
        defer { lan.remove() }
        let rtnl = try RouteNetlink(inNamespaceAt: lan.path(0))
        let vip = VirtualAddress(IPAddress("2001:db8::100")!, prefixLength: 64, interface: "eth0",
                                 flags: [.noDAD, .noPrefixRoute], preferredLifetime: 0)
        try rtnl.addAddress(vip)
        let shown = try lan.ip(0, "-6", "addr", "show", "dev", "eth0")
        let line = try #require(shown.split(separator: "\n").first { $0.contains("inet6 2001:db8::100/64 scope global") })
        #expect(line.contains(" nodad") && line.contains(" noprefixroute") && line.contains(" deprecated"), "\(shown)")
        #expect(shown.contains("valid_lft forever preferred_lft 0sec"), "\(shown)")
        let listed = try rtnl.addresses(family: .ipv6)
        let mine = try #require(listed.first { $0.address == vip.address })
        #expect(mine.flags.isSuperset(of: [.noDAD, .noPrefixRoute, .deprecated]) && mine.preferredLifetime == 0)

        try rtnl.deleteAddress(vip)
        #expect(!(try lan.ip(0, "-6", "addr", "show", "dev", "eth0")).contains("2001:db8::100"))
    }

    @Test("adding an existing address, deleting a missing one, or using a missing interface: clear messages")
    func errors() throws {
        guard Integration.available() else { return }
        let lan = try TestLAN(nodes: 1)
        defer { lan.remove() }
        let rtnl = try RouteNetlink(inNamespaceAt: lan.path(0))
        let vip = VirtualAddress(IPAddress("192.0.2.100")!, prefixLength: 24)
        try rtnl.addAddress(vip, interface: "eth0")

        let exists = try #require(netLinuxError { try rtnl.addAddress(vip, interface: "eth0") })
        print("adding twice: \(exists)")
        #expect(exists.operation == "adding 192.0.2.100/24 to eth0" && exists.errno == .fileExists)
        #expect(NetLinuxError(exists.operation, exists.errno).description == "adding 192.0.2.100/24 to eth0: already exists")
        // The kernel adds its own words (extended ack) after that.
        #expect(exists.description.hasPrefix("adding 192.0.2.100/24 to eth0: already exists"))

        try rtnl.deleteAddress(vip, interface: "eth0")
        let missing = try #require(netLinuxError { try rtnl.deleteAddress(vip, interface: "eth0") })
        print("deleting twice: \(missing)")
        #expect(missing.operation == "removing 192.0.2.100/24 from eth0" && missing.errno == .addressNotAvailable)

        let noDevice = try #require(netLinuxError { try rtnl.addAddress(vip, interface: "eth9") })
        print("no such interface: \(noDevice)")
        #expect(noDevice.description.hasPrefix("adding 192.0.2.100/24 to eth9: no such device"))
        let noName = try #require(netLinuxError { try rtnl.addAddress(vip) })
        #expect(noName.description == "adding 192.0.2.100/24: invalid argument (no interface given)")
        let badPrefix = try #require(netLinuxError {
            try rtnl.addAddress(VirtualAddress(IPAddress("192.0.2.9")!, prefixLength: 40), interface: "eth0")
        })
        #expect(badPrefix.errno == .invalidArgument && badPrefix.detail?.contains("prefix length 40") == true)
    }

    @Test("a link dump lists eth0 with its MAC; a lookup by name agrees with ip; a missing name is clear")
    func links() throws {
        guard Integration.available() else { return }
        let lan = try TestLAN(nodes: 1)
        defer { lan.remove() }
        let rtnl = try RouteNetlink(inNamespaceAt: lan.path(0))
        let links = try rtnl.links()
        print("links: \(links.map(\.description))")
        let eth0 = try #require(links.first { $0.name == "eth0" })
        #expect(eth0.macAddress == MACAddress("02:00:00:00:00:01"))
        #expect(eth0.isUp && eth0.hasCarrier && eth0.isOperational && eth0.operationalState == .up)
        #expect(eth0.kind == "veth" && eth0.mtu == 1500)
        #expect(links.contains { $0.name == "lo" && $0.flags.contains(.loopback) })
        // The index the namespace's own `ip` reports.
        let shown = try lan.ip(0, "-o", "link", "show", "dev", "eth0")
        #expect(shown.hasPrefix("\(eth0.index): eth0@"), "\(shown)")
        #expect(try rtnl.link(named: "eth0") == eth0)
        #expect(try rtnl.link(index: eth0.index).name == "eth0")
        let missing = try #require(netLinuxError { _ = try rtnl.link(named: "nosuch") })
        #expect(missing.description == "looking up interface nosuch: no such device")
    }

    @Test("the link monitor reports ip link set eth0 down within 10 ms")
    func linkDownLatency() throws {
        guard Integration.available() else { return }
        let lan = try TestLAN(nodes: 1)
        defer { lan.remove() }
        let log = InterfaceEventLog()
        let monitor = try InterfaceMonitor(inNamespaceAt: lan.path(0)) { log.append($0) }
        defer { monitor.stop() }

        // 1. `ip link set eth0 down`, timed from just before the command starts: this includes
        //    starting the `ip` process, so it is an upper bound.
        var skip = log.count
        let launched = ContinuousClock.now
        try lan.ip(0, "link", "set", "eth0", "down")
        let down = try #require(log.wait(after: skip, isLink("eth0", up: false)))
        let viaIP = down.at - launched
        print("link down reported \(viaIP) after launching `ip link set eth0 down`")
        #expect(viaIP < .milliseconds(250))
        guard case let .linkChanged(link) = down.event else { return }
        #expect(!link.isUp && !link.isOperational)

        // 2. The same change made from here, timed from just before the request is sent to the
        //    event on the monitor's thread: the kernel plus the monitor only.
        let socket = try NetlinkSocket(protocol: .route, inNamespaceAt: lan.path(0))
        defer { socket.close() }
        var latencies: [Duration] = []
        for _ in 0..<5 {
            for up in [true, false] {
                skip = log.count
                let sent = ContinuousClock.now
                try setLink(socket, index: link.index, up: up)
                let seen = try #require(log.wait(after: skip, isLink("eth0", up: up)))
                if !up { latencies.append(seen.at - sent) }
            }
        }
        latencies.sort()
        print("link down reported after (kernel + monitor): \(latencies), median \(latencies[2])")
        #expect(latencies[2] < .milliseconds(10))
        #expect(monitor.overruns == 0 && monitor.malformedMessages == 0)
    }

    @Test("the monitor reports carrier loss and return (the peer end of the veth goes down)")
    func carrier() throws {
        guard Integration.available() else { return }
        let lan = try TestLAN(nodes: 1)
        defer { lan.remove() }
        let log = InterfaceEventLog()
        let monitor = try InterfaceMonitor(subscriptions: .links, inNamespaceAt: lan.path(0)) { log.append($0) }
        defer { monitor.stop() }
        var skip = log.count
        try Shell.run(["ip", "-n", lan.hub, "link", "set", "p0", "down"])
        let lost = try #require(log.wait(after: skip, isLink("eth0", carrier: false)))
        guard case let .linkChanged(link) = lost.event else { return }
        print("carrier lost: \(link)")
        #expect(link.isUp && !link.hasCarrier)
        // The operational state follows (the kernel's link watch may send it in a second
        // message); a veth whose peer is down reports DOWN.
        #expect(log.wait(after: skip) { event in
            if case let .linkChanged(l) = event { return l.name == "eth0" && !l.isOperational && l.operationalState != .up }
            return false
        } != nil)
        skip = log.count
        try Shell.run(["ip", "-n", lan.hub, "link", "set", "p0", "up"])
        #expect(log.wait(after: skip, isLink("eth0", up: true, carrier: true)) != nil)
    }

    @Test("address events arrive through the AsyncStream; stopping finishes it")
    func addressStream() async throws {
        guard Integration.available() else { return }
        let lan = try TestLAN(nodes: 1)
        defer { lan.remove() }
        let (monitor, events) = try InterfaceMonitor.events(subscriptions: [.ipv4Addresses, .ipv6Addresses],
                                                            inNamespaceAt: lan.path(0))
        let rtnl = try RouteNetlink(inNamespaceAt: lan.path(0))
        let v4 = VirtualAddress(IPAddress("192.0.2.50")!, prefixLength: 24, interface: "eth0")
        let v6 = VirtualAddress(IPAddress("2001:db8::50")!, prefixLength: 64, interface: "eth0", flags: [.noDAD])
        try rtnl.addAddress(v4)
        try rtnl.addAddress(v6)
        try rtnl.deleteAddress(v4)
        let watchdog = Task {
            try await Task.sleep(for: .seconds(5))
            monitor.stop()
        }
        defer { watchdog.cancel() }
        var seen: [String] = []
        for await event in events {
            switch event {
            case let .addressAdded(a) where a.address == v4.address || a.address == v6.address:
                seen.append("+\(a.address)/\(a.prefixLength)")
            case let .addressRemoved(a) where a.address == v4.address:
                seen.append("-\(a.address)/\(a.prefixLength)")
            default:
                break
            }
            if seen.count == 3 { monitor.stop() }
        }
        // The stream ended because the monitor stopped. IPv4 and IPv6 are separate groups, with
        // no order between them (here IPv6 often comes last); within a family the order holds.
        #expect(seen.filter { $0.contains(".") } == ["+192.0.2.50/24", "-192.0.2.50/24"])
        #expect(seen.filter { $0.contains(":") } == ["+2001:db8::50/64"])
    }

    @Test("a kernel overrun (ENOBUFS) is reported as an overrun event, and monitoring goes on")
    func overrun() throws {
        guard Integration.available() else { return }
        let lan = try TestLAN(nodes: 1)
        defer { lan.remove() }
        let log = InterfaceEventLog()
        let gate = DispatchSemaphore(value: 0)
        // The smallest queue the kernel allows, and a handler that blocks on the first event
        // until the burst is over: the kernel must drop notifications.
        let monitor = try InterfaceMonitor(subscriptions: .ipv4Addresses, inNamespaceAt: lan.path(0),
                                           kernelReceiveBufferSize: 1) { event in
            if log.count == 0 { gate.wait() }
            log.append(event)
        }
        defer { monitor.stop() }
        defer { gate.signal() }   // runs first: never leave the handler blocked
        let rtnl = try RouteNetlink(inNamespaceAt: lan.path(0))
        let eth0 = try rtnl.link(named: "eth0").index
        for i in 0..<100 {
            try rtnl.addAddress(VirtualAddress(IPAddress(ipv4: 0x0A00_0000 + UInt32(i)), prefixLength: 32),
                                interfaceIndex: eth0, interfaceName: "eth0")
        }
        gate.signal()
        #expect(log.wait { $0 == .overrun } != nil)
        #expect(monitor.overruns >= 1)
        // Still monitoring afterwards.
        let skip = log.count
        try rtnl.addAddress(VirtualAddress(IPAddress("192.0.2.77")!, prefixLength: 24), interfaceIndex: eth0, interfaceName: "eth0")
        #expect(log.wait(after: skip) {
            if case let .addressAdded(a) = $0 { return a.address == IPAddress("192.0.2.77") }
            return false
        } != nil)
        print("overrun test: \(log.count) events delivered of 101 changes, \(monitor.overruns) overrun(s)")
    }

    @Test("generic netlink resolves nlctrl, lists families, and says clearly that IPVS is absent")
    func genericNetlink() throws {
        guard Integration.available() else { return }
        let lan = try TestLAN(nodes: 1)
        defer { lan.remove() }
        let genl = try GenericNetlink(inNamespaceAt: lan.path(0))
        let nlctrl = try genl.family(named: "nlctrl")
        print("nlctrl: \(nlctrl), groups \(nlctrl.multicastGroups)")
        #expect(nlctrl.id == 16 && nlctrl.name == "nlctrl" && nlctrl.version >= 1)
        #expect(nlctrl.multicastGroups["notify"] == 16)

        // The dump helper: CTRL_CMD_GETFAMILY with NLM_F_DUMP lists every family.
        let families = try genl.dump(family: nlctrl, command: 3, operation: "listing generic netlink families",
                                     attributes: { _ in }) { message in
            try GenericNetlinkFamily(parsing: message.message)
        }
        print("families: \(families.map(\.name).sorted())")
        #expect(families.contains { $0.name == "nlctrl" && $0.id == 16 })

        if FileManager.default.fileExists(atPath: "/proc/net/ip_vs") {
            let ipvs = try genl.family(named: "IPVS")
            print("IPVS is present here: \(ipvs)")
        } else {
            let absent = try #require(netLinuxError { _ = try genl.family(named: "IPVS") })
            print("IPVS: \(absent)")
            #expect(absent.errno == .noSuchFileOrDirectory)
            #expect(absent.description.hasPrefix("looking up generic netlink family \"IPVS\": no such file or directory ("))
            #expect(absent.description.contains("the kernel has no generic netlink family of that name; is its module loaded?"))
        }
    }
}
}
