import Foundation
import Synchronization
import SystemPackage
import IntegrationSupport
import Testing
import VRRPCore
@testable import NetLinux

// MARK: - Test doubles and helpers

/// ``AnnouncementLinks`` in memory: records what would be sent, at which manual-clock time.
final class RecordingLinks: AnnouncementLinks {
    struct Sent: Sendable, Hashable {
        var interface: String
        var kind: AnnouncementKind
        var frame: [UInt8]
        var at: Duration
    }

    struct State {
        var sent: [Sent] = []
        var prepared: [(interface: String, readForwarding: Bool)] = []
        var macs: [String: MACAddress] = [:]
        var forwarding: [String: Bool] = [:]
        var prepareFailures: [String: LinkFailure] = [:]
        var sendFailures: [String: Errno] = [:]
        var closed = false
    }

    let clock: ManualClock
    let state = Mutex(State())

    init(clock: ManualClock) { self.clock = clock }

    var sent: [Sent] { state.withLock { $0.sent } }
    func configure(_ body: (inout State) -> Void) { state.withLock { body(&$0) } }

    func prepare(_ interface: String, readForwarding: Bool) throws(LinkFailure) -> LinkFacts {
        try state.withLock { (s) throws(LinkFailure) -> LinkFacts in
            s.prepared.append((interface, readForwarding))
            if let f = s.prepareFailures[interface] { throw f }
            let mac = s.macs[interface] ?? MACAddress(0x02, 0, 0, 0, 0, 0x01)
            return LinkFacts(hardwareAddress: mac, ipv6Forwarding: readForwarding ? (s.forwarding[interface] ?? false) : nil)
        }
    }

    func send(_ frame: [UInt8], kind: AnnouncementKind, on interface: String) throws(Errno) {
        let now = clock.now.offset
        try state.withLock { (s) throws(Errno) in
            if let e = s.sendFailures[interface] { throw e }
            s.sent.append(Sent(interface: interface, kind: kind, frame: frame, at: now))
        }
    }

    func close() { state.withLock { $0.closed = true } }
}

/// Shared helpers of the announcer suites (members, so they never clash with other test files).
protocol AnnouncerTesting {}

extension AnnouncerTesting {
    var vipA: IPAddress { IPAddress("192.0.2.100")! }
    var vipB: IPAddress { IPAddress("192.0.2.101")! }
    var vip6: IPAddress { IPAddress("2001:db8::100")! }
    var node0MAC: MACAddress { MACAddress(0x02, 0, 0, 0, 0, 0x01) }

    func garp(_ address: IPAddress, _ mac: MACAddress? = nil) -> [UInt8] {
        GratuitousARP(address: address, hardwareAddress: mac ?? node0MAC).frame()
    }

    func na(_ address: IPAddress, _ mac: MACAddress? = nil, router: Bool = false) -> [UInt8] {
        UnsolicitedNeighborAdvertisement(address: address, hardwareAddress: mac ?? node0MAC, router: router).frame()
    }

    /// Waits (in real time, at most `seconds`) until `condition` holds.
    func eventually(_ seconds: Double = 5, _ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while !condition() {
            if ContinuousClock.now >= deadline { return false }
            await Task.yield()
            try? await Task.sleep(for: .microseconds(200))
        }
        return true
    }

    /// Advances `clock` to `offset` once a sleeper waits for exactly that instant.
    func advance(_ clock: ManualClock, to offset: Duration, sourceLocation: SourceLocation = #_sourceLocation) async {
        let waiting = await eventually { clock.nextWakeUp == ManualClock.Instant(offset: offset) }
        #expect(waiting, "a sleeper for \(offset) (next wake-up: \(String(describing: clock.nextWakeUp)))", sourceLocation: sourceLocation)
        clock.advance(to: ManualClock.Instant(offset: offset))
    }

    func make(_ configuration: AnnouncerConfiguration = AnnouncerConfiguration(),
              onDeferredFailure: @escaping LinuxAnnouncer<ManualClock>.FailureHandler = { _ in })
        -> (ManualClock, RecordingLinks, LinuxAnnouncer<ManualClock>) {
        let clock = ManualClock()
        let links = RecordingLinks(clock: clock)
        return (clock, links, LinuxAnnouncer(clock: clock, configuration: configuration, links: links,
                                             onDeferredFailure: onDeferredFailure))
    }
}

// MARK: - Pure tests: pacing, order, frames, errors (no sockets)

@Suite("LinuxAnnouncer: pacing and order")
struct AnnouncerPacingTests: AnnouncerTesting {
    @Test("unpaced (keepalived's default): every round leaves before announce returns, A B A B …")
    func unpaced() async throws {
        let (clock, links, announcer) = make()
        try await announcer.announce([VirtualAddress(vipA, prefixLength: 24), VirtualAddress(vipB, prefixLength: 24)],
                                     rounds: 5, interface: "eth0", virtualRouterID: 51)
        let sent = links.sent
        #expect(sent.map(\.frame) == Array(repeating: [garp(vipA), garp(vipB)], count: 5).flatMap { $0 })
        #expect(sent.allSatisfy { $0.at == .zero && $0.interface == "eth0" && $0.kind == .gratuitousARP })
        #expect(clock.sleeperCount == 0)
        let stats = announcer.statistics
        #expect(stats.gratuitousARPsSent == 10 && stats.queued == 0 && stats.deferredBursts == 0)
    }

    @Test("garp_interval: one GARP per interval on the interface; announce returns at once")
    func garpInterval() async throws {
        let (clock, links, announcer) = make(AnnouncerConfiguration(pacing: AnnouncementPacing(garpInterval: .seconds(1))))
        try await announcer.announce([VirtualAddress(vipA), VirtualAddress(vipB)], rounds: 3, interface: "eth0", virtualRouterID: 51)
        // The call did not wait for pacing: the clock has not moved and only the first GARP left.
        #expect(clock.now.offset == .zero)
        #expect(links.sent.count == 1)
        #expect(announcer.statistics.queued == 5)
        for i in 1...5 {
            await advance(clock, to: .seconds(i))
            #expect(await eventually { links.sent.count == i + 1 })
        }
        let sent = links.sent
        #expect(sent.map(\.frame) == [garp(vipA), garp(vipB), garp(vipA), garp(vipB), garp(vipA), garp(vipB)])
        #expect(sent.map(\.at) == (0...5).map { Duration.seconds($0) })
        #expect(await eventually { announcer.statistics.queued == 0 && clock.sleeperCount == 0 })
        await announcer.waitUntilIdle()
        #expect(announcer.statistics.deferredBursts == 1)
    }

    @Test("garp_interval and gna_interval pace GARPs and NAs independently")
    func kindsIndependent() async throws {
        let pacing = AnnouncementPacing(garpInterval: .milliseconds(500), gnaInterval: .zero)
        let (clock, links, announcer) = make(AnnouncerConfiguration(pacing: pacing))
        try await announcer.announce([VirtualAddress(vipA), VirtualAddress(vip6)], rounds: 3, interface: "eth0", virtualRouterID: 7)
        // All three NAs went at once, next to the first GARP.
        #expect(links.sent.filter { $0.kind == .neighborAdvertisement }.count == 3)
        #expect(links.sent.filter { $0.kind == .gratuitousARP }.count == 1)
        await advance(clock, to: .milliseconds(500))
        await advance(clock, to: .milliseconds(1000))
        #expect(await eventually { links.sent.count == 6 })
        #expect(links.sent.filter { $0.kind == .gratuitousARP }.map(\.at) == [.zero, .milliseconds(500), .milliseconds(1000)])
        #expect(links.sent.filter { $0.kind == .neighborAdvertisement }.allSatisfy { $0.at == .zero && $0.frame == na(vip6) })
    }

    @Test("gna_interval paces NAs")
    func gnaInterval() async throws {
        let (clock, links, announcer) = make(AnnouncerConfiguration(pacing: AnnouncementPacing(gnaInterval: .milliseconds(20))))
        try await announcer.announce([VirtualAddress(vip6)], rounds: 3, interface: "eth0", virtualRouterID: 7)
        #expect(links.sent.count == 1)
        await advance(clock, to: .milliseconds(20))
        await advance(clock, to: .milliseconds(40))
        #expect(await eventually { links.sent.count == 3 })
        #expect(links.sent.map(\.at) == [.zero, .milliseconds(20), .milliseconds(40)])
    }

    @Test("the pacing budget carries over from one call to the next")
    func budgetAcrossCalls() async throws {
        let (clock, links, announcer) = make(AnnouncerConfiguration(pacing: AnnouncementPacing(garpInterval: .seconds(1))))
        try await announcer.announce([VirtualAddress(vipA)], rounds: 1, interface: "eth0", virtualRouterID: 1)
        clock.advance(by: .milliseconds(400))
        try await announcer.announce([VirtualAddress(vipB)], rounds: 1, interface: "eth0", virtualRouterID: 2)
        #expect(links.sent.count == 1, "the second GARP waits for the first one's interval")
        await advance(clock, to: .seconds(1))
        #expect(await eventually { links.sent.count == 2 })
        #expect(links.sent.map(\.at) == [.zero, .seconds(1)])
        // Long after, a GARP goes at once again.
        clock.advance(to: ManualClock.Instant(offset: .seconds(10)))
        try await announcer.announce([VirtualAddress(vipA)], rounds: 1, interface: "eth0", virtualRouterID: 1)
        #expect(links.sent.last?.at == .seconds(10))
    }

    @Test("another interface is not held back by a paced one")
    func interfacesIndependent() async throws {
        let (clock, links, announcer) = make(AnnouncerConfiguration(interfacePacing: ["eth1": AnnouncementPacing(garpInterval: .seconds(1))]))
        try await announcer.announce([VirtualAddress(vipA, interface: "eth1"), VirtualAddress(vipB)], rounds: 2,
                                     interface: "eth0", virtualRouterID: 51)
        #expect(links.sent.map(\.interface) == ["eth1", "eth0", "eth0"])
        await advance(clock, to: .seconds(1))
        #expect(await eventually { links.sent.count == 4 })
        #expect(links.sent.last?.interface == "eth1")
    }

    @Test("garp_group: the group's interfaces share one budget")
    func garpGroup() async throws {
        let group = AnnouncementGroup(pacing: AnnouncementPacing(garpInterval: .seconds(2)), interfaces: ["eth1", "eth2"])
        let (clock, links, announcer) = make(AnnouncerConfiguration(groups: [group]))
        try await announcer.announce([VirtualAddress(vipA, interface: "eth1"), VirtualAddress(vipB, interface: "eth2"),
                                      VirtualAddress(IPAddress("192.0.2.102")!, interface: "eth3")],
                                     rounds: 1, interface: "eth0", virtualRouterID: 51)
        #expect(links.sent.map(\.interface) == ["eth1", "eth3"])
        await advance(clock, to: .seconds(2))
        #expect(await eventually { links.sent.count == 3 })
        #expect(links.sent.last?.interface == "eth2")
        #expect(links.sent.last?.at == .seconds(2))
        #expect(announcer.configuration.pacing(for: "eth2").scope == .group(0))
        #expect(announcer.configuration.pacing(for: "eth3").scope == .interface("eth3"))
    }

    @Test("cancelPending drops queued announcements of removed addresses; close stops the rest")
    func cancelAndClose() async throws {
        let (clock, links, announcer) = make(AnnouncerConfiguration(pacing: AnnouncementPacing(garpInterval: .seconds(1))))
        try await announcer.announce([VirtualAddress(vipA), VirtualAddress(vipB)], rounds: 5, interface: "eth0", virtualRouterID: 51)
        #expect(announcer.statistics.queued == 9)
        #expect(announcer.cancelPending([VirtualAddress(vipB)], interface: "eth0") == 5)
        #expect(announcer.statistics.queued == 4)
        await advance(clock, to: .seconds(1))
        #expect(await eventually { links.sent.count == 2 })
        #expect(links.sent.map(\.frame) == [garp(vipA), garp(vipA)])
        announcer.close()
        await announcer.waitUntilIdle()
        #expect(announcer.statistics.queued == 0)
        #expect(announcer.statistics.cancelled == 8)
        #expect(links.state.withLock { $0.closed })
        await #expect(throws: NetLinuxError.self) {
            try await announcer.announce([VirtualAddress(vipA)], rounds: 1, interface: "eth0", virtualRouterID: 51)
        }
    }

    @Test("zero rounds or no addresses: nothing happens")
    func nothing() async throws {
        let (_, links, announcer) = make()
        try await announcer.announce([VirtualAddress(vipA)], rounds: 0, interface: "eth0", virtualRouterID: 1)
        try await announcer.announce([], rounds: 5, interface: "eth0", virtualRouterID: 1)
        #expect(links.sent.isEmpty && links.state.withLock { $0.prepared.isEmpty })
    }
}

@Suite("LinuxAnnouncer: frames, MACs and errors")
struct AnnouncerFrameTests: AnnouncerTesting {
    @Test("the codec's frames, from the interface MAC, the virtual MAC or a given one")
    func hardwareAddresses() async throws {
        let custom = MACAddress(0x02, 0xAA, 0, 0, 0, 0x07)
        let configuration = AnnouncerConfiguration(hardwareAddresses: ["vrrp.51": .virtualRouter, "eth2": .fixed(custom)])
        let (_, links, announcer) = make(configuration)
        links.configure { $0.macs = ["eth0": node0MAC, "vrrp.51": MACAddress(0x02, 0, 0, 0, 0, 0x33)] }
        try await announcer.announce([VirtualAddress(vipA), VirtualAddress(vipB, interface: "vrrp.51"),
                                      VirtualAddress(vip6, interface: "vrrp.51"), VirtualAddress(vip6, interface: "eth2")],
                                     rounds: 1, interface: "eth0", virtualRouterID: 51)
        let sent = links.sent
        #expect(sent.map(\.interface) == ["eth0", "vrrp.51", "vrrp.51", "eth2"])
        #expect(sent[0].frame == garp(vipA))
        // RFC 5798 §7.3: 00:00:5e:00:01:VRID for IPv4, 00:00:5e:00:02:VRID for IPv6.
        #expect(sent[1].frame == garp(vipB, MACAddress("00:00:5e:00:01:33")!))
        #expect(sent[2].frame == na(vip6, MACAddress("00:00:5e:00:02:33")!))
        #expect(sent[3].frame == na(vip6, custom))
        let parsed = try GratuitousARP.parse(frame: sent[1].frame)
        #expect(parsed.isKeepalivedStyleGratuitousARP && parsed.arp.senderIP == vipB && parsed.arp.targetIP == vipB)
    }

    @Test("Router flag only when IPv6 forwarding is on; the sysctl is read only for IPv6, at most every 5 s")
    func routerFlag() async throws {
        let (clock, links, announcer) = make()
        links.configure { $0.forwarding = ["eth0": true] }
        try await announcer.announce([VirtualAddress(vipA)], rounds: 1, interface: "eth0", virtualRouterID: 1)
        try await announcer.announce([VirtualAddress(vip6)], rounds: 1, interface: "eth0", virtualRouterID: 1)
        links.configure { $0.forwarding = ["eth0": false] }
        clock.advance(by: .seconds(4))
        try await announcer.announce([VirtualAddress(vip6)], rounds: 1, interface: "eth0", virtualRouterID: 1)
        clock.advance(by: .seconds(1))
        try await announcer.announce([VirtualAddress(vip6)], rounds: 1, interface: "eth0", virtualRouterID: 1)
        #expect(links.state.withLock { $0.prepared.map(\.readForwarding) } == [false, true, false, true])
        let flags = try links.sent.dropFirst().map { try UnsolicitedNeighborAdvertisement.parse(frame: $0.frame).advertisement.flags }
        #expect(flags == [[.router, .override], [.router, .override], [.override]])
        for s in links.sent.dropFirst() {
            let frame = try UnsolicitedNeighborAdvertisement.parse(frame: s.frame)
            try frame.advertisement.validate()
            #expect(frame.advertisement.isUnsolicited && frame.advertisement.hopLimit == 255)
            #expect(frame.advertisement.source == vip6 && frame.advertisement.target == vip6)
            #expect(frame.ethernet.destination == MACAddress("33:33:00:00:00:01"))
        }
    }

    @Test("an interface that cannot be opened is named with the address; the others are still announced")
    func prepareFailure() async throws {
        let (_, links, announcer) = make()
        links.configure { $0.prepareFailures["eth1"] = .open(PacketSocketOpenError(step: .socket, errno: .notPermitted)) }
        let error = await #expect(throws: NetLinuxError.self) {
            try await announcer.announce([VirtualAddress(vipA, interface: "eth1"), VirtualAddress(vipB)], rounds: 2,
                                         interface: "eth0", virtualRouterID: 1)
        }
        #expect(error?.description.hasPrefix("opening a packet socket on eth1 to announce 192.0.2.100: operation not permitted") == true)
        #expect(error?.description.contains("CAP_NET_RAW") == true)
        #expect(links.sent.map(\.frame) == [garp(vipB), garp(vipB)])
    }

    @Test("failed sends: the first is thrown naming interface and address, the count of the others in the detail")
    func sendFailure() async throws {
        let (_, links, announcer) = make()
        links.configure { $0.sendFailures["eth0"] = .networkDown }
        let error = await #expect(throws: NetLinuxError.self) {
            try await announcer.announce([VirtualAddress(vipA), VirtualAddress(vip6)], rounds: 2, interface: "eth0", virtualRouterID: 1)
        }
        #expect(error?.operation == "sending a gratuitous ARP for 192.0.2.100 on eth0")
        #expect(error?.errno == .networkDown)
        #expect(error?.detail == "the interface is down; 3 more announcements failed")
        #expect(announcer.statistics.failures == 4)
    }

    @Test("a queued announcement that fails is reported to onDeferredFailure")
    func deferredFailure() async throws {
        let reported = Mutex<[String]>([])
        let (clock, links, announcer) = make(AnnouncerConfiguration(pacing: AnnouncementPacing(garpInterval: .seconds(1))),
                                             onDeferredFailure: { e in reported.withLock { $0.append(e.description) } })
        try await announcer.announce([VirtualAddress(vipA), VirtualAddress(vipB)], rounds: 1, interface: "eth0", virtualRouterID: 1)
        links.configure { $0.sendFailures["eth0"] = .noSuchAddressOrDevice }
        await advance(clock, to: .seconds(1))
        #expect(await eventually { !reported.withLock { $0.isEmpty } })
        #expect(reported.withLock { $0 } == ["sending a gratuitous ARP for 192.0.2.101 on eth0: no such device"])
    }

    @Test("LinkFailure messages name the step, the interface and the address")
    func linkFailureMessages() {
        let cases: [(LinkFailure, String)] = [
            (.open(PacketSocketOpenError(step: .lookUp, errno: .operationNotSupportedByDevice)),
             "looking up interface eth9 to announce 192.0.2.100: no such device (no interface of that name)"),
            (.open(PacketSocketOpenError(step: .lookUp, errno: .invalidArgument)),
             "looking up interface eth9 to announce 192.0.2.100: invalid argument (an interface name has 1 to 15 bytes and no '/' or space)"),
            (.hardwareAddress(.notEthernet(hardwareType: 772)),
             "reading the hardware address of eth9 to announce 192.0.2.100: operation not supported (not an Ethernet interface (ARP hardware type 772))"),
            (.forwarding(.permissionDenied),
             "reading /proc/sys/net/ipv6/conf/eth9/forwarding to announce 192.0.2.100: permission denied"),
        ]
        for (failure, text) in cases {
            #expect(failure.error(interface: "eth9", address: vipA).description.lowercased() == text.lowercased())
        }
    }

    @Test("interface names and sysctl values")
    func smallPieces() {
        #expect(InterfaceRequest.isValidName("eth0") && InterfaceRequest.isValidName("vrrp.51") && InterfaceRequest.isValidName("abcdefghijklmno"))
        #expect(!InterfaceRequest.isValidName("") && !InterfaceRequest.isValidName("abcdefghijklmnop")
                && !InterfaceRequest.isValidName("a/b") && !InterfaceRequest.isValidName("a b") && !InterfaceRequest.isValidName(".."))
        #expect(IPv6Forwarding.parse(Array("1\n".utf8)) && !IPv6Forwarding.parse(Array("0\n".utf8)) && !IPv6Forwarding.parse([]))
        #expect(IPv6Forwarding.path(interface: "vrrp.51") == "/proc/sys/net/ipv6/conf/vrrp.51/forwarding")
        #expect(AnnouncementKind(for: vipA) == .gratuitousARP && AnnouncementKind(for: vip6) == .neighborAdvertisement)
        #expect(AnnouncementKind.neighborAdvertisement.destination == MACAddress("33:33:00:00:00:01"))
    }
}

// MARK: - The real socket path through a mocked system-call table (no root needed)

/// A `struct sockaddr_ll` (packet(7)) read from or written as its 20 bytes: the C type is
/// not visible to the tests (CNetLinux is NetLinux's private shim).
struct LinkLayerAddress: Hashable {
    static let size = 20
    var family: UInt16 = UInt16(AF_PACKET)
    /// Host order (the wire field is big-endian).
    var etherType: UInt16 = 0
    var interfaceIndex: Int32 = 0
    var addressLength: UInt8 = 0
    var address: MACAddress = .zero

    init(family: UInt16 = UInt16(AF_PACKET), etherType: UInt16 = 0, interfaceIndex: Int32 = 0) {
        self.family = family
        self.etherType = etherType
        self.interfaceIndex = interfaceIndex
    }

    init(_ raw: UnsafeRawPointer) {
        let b = UnsafeRawBufferPointer(start: raw, count: Self.size)
        family = b.loadUnaligned(fromByteOffset: 0, as: UInt16.self)
        etherType = UInt16(b[2]) << 8 | UInt16(b[3])
        interfaceIndex = b.loadUnaligned(fromByteOffset: 4, as: Int32.self)
        addressLength = b[11]
        address = MACAddress(from: b, at: 12)
    }

    var bytes: [UInt8] {
        var b = [UInt8](repeating: 0, count: Self.size)
        withUnsafeBytes(of: family) { b.replaceSubrange(0..<2, with: $0) }
        b[2] = UInt8(etherType >> 8)
        b[3] = UInt8(etherType & 0xFF)
        withUnsafeBytes(of: interfaceIndex) { b.replaceSubrange(4..<8, with: $0) }
        return b
    }
}

/// ARP hardware types (linux/if_arp.h).
let arpHardwareEthernet: UInt16 = 1, arpHardwareLoopback: UInt16 = 772

/// A fake kernel for the packet-socket path: answers only for its own descriptors, the
/// AF_PACKET/protocol-0 socket call and its own /proc path, and passes everything else
/// to the real table (other suites may run concurrently).
final class FakePacketKernel: Sendable {
    static let socketFD: CInt = 900_001
    static let sysctlFD: CInt = 900_002
    static let interface = "kadfake0"

    struct State {
        var socketErrno: Errno?
        var indexErrno: Errno?
        var hardwareType: UInt16 = arpHardwareEthernet
        var sendErrno: Errno?
        var forwarding = "1\n"
        var bound: [LinkLayerAddress] = []
        var sent: [(address: LinkLayerAddress, frame: [UInt8])] = []
        var closed = 0
        var readOffset = 0
    }

    let state = Mutex(State())

    var calls: SystemCalls {
        let live = SystemCalls.live
        var calls = live
        calls.socket = { [self] domain, type, proto in
            guard domain == AF_PACKET, proto == 0 else { return live.socket(domain, type, proto) }
            if let e = state.withLock({ $0.socketErrno }) { errno = e.rawValue; return -1 }
            return Self.socketFD
        }
        calls.ioctl = { [self] fd, request, argument in
            guard fd == Self.socketFD else { return live.ioctl(fd, request, argument) }
            let request0 = argument!.assumingMemoryBound(to: ifreq.self)
            let s = state.withLock { $0 }
            if request == InterfaceRequest.getIndex {
                if let e = s.indexErrno { errno = e.rawValue; return -1 }
                request0.pointee.ifr_ifru.ifru_ivalue = 7
                return 0
            }
            if request == InterfaceRequest.getHardwareAddress {
                request0.pointee.ifr_ifru.ifru_hwaddr.sa_family = s.hardwareType
                withUnsafeMutableBytes(of: &request0.pointee.ifr_ifru.ifru_hwaddr.sa_data) { raw in
                    for (i, b) in [0x02, 0x00, 0x00, 0x00, 0x00, 0xAA].enumerated() { raw[i] = UInt8(b) }
                }
                return 0
            }
            errno = EINVAL
            return -1
        }
        calls.bind = { [self] fd, address, length in
            guard fd == Self.socketFD else { return live.bind(fd, address, length) }
            let ll = LinkLayerAddress(UnsafeRawPointer(address))
            state.withLock { $0.bound.append(ll) }
            return 0
        }
        calls.sendmsg = { [self] fd, message, flags in
            guard fd == Self.socketFD else { return live.sendmsg(fd, message, flags) }
            if let e = state.withLock({ $0.sendErrno }) { errno = e.rawValue; return -1 }
            let ll = LinkLayerAddress(message.pointee.msg_name!)
            let iov = message.pointee.msg_iov!.pointee
            let frame = [UInt8](UnsafeRawBufferPointer(start: iov.iov_base, count: iov.iov_len))
            state.withLock { $0.sent.append((ll, frame)) }
            return frame.count
        }
        calls.close = { [self] fd in
            guard fd == Self.socketFD || fd == Self.sysctlFD else { return live.close(fd) }
            state.withLock { $0.closed += 1 }
            return 0
        }
        calls.open = { [self] path, flags in
            guard String(cString: path) == IPv6Forwarding.path(interface: Self.interface) else { return live.open(path, flags) }
            state.withLock { $0.readOffset = 0 }
            return Self.sysctlFD
        }
        calls.read = { [self] fd, buffer, count in
            guard fd == Self.sysctlFD else { return live.read(fd, buffer, count) }
            return state.withLock { s in
                let bytes = Array(s.forwarding.utf8.dropFirst(s.readOffset).prefix(count))
                buffer.copyMemory(from: bytes, byteCount: bytes.count)
                s.readOffset += bytes.count
                return bytes.count
            }
        }
        return calls
    }
}

extension HostAccessSuites {
@Suite("LinuxAnnouncer: packet sockets through SystemCalls", .serialized)
struct AnnouncerSystemCallTests: AnnouncerTesting {
    @Test("EPERM from socket(AF_PACKET) becomes an error that names CAP_NET_RAW, the interface and the address")
    func notPermitted() async throws {
        let kernel = FakePacketKernel()
        kernel.state.withLock { $0.socketErrno = .notPermitted }
        let announcer = LinuxAnnouncer(clock: ManualClock())
        defer { announcer.close() }
        let error = await SystemCalls.withOverride(kernel.calls) {
            await #expect(throws: NetLinuxError.self) {
                try await announcer.announce([VirtualAddress(vipA)], rounds: 5, interface: FakePacketKernel.interface, virtualRouterID: 51)
            }
        }
        #expect(error?.errno == .notPermitted)
        #expect(error?.description.contains("CAP_NET_RAW") == true)
        #expect(error?.description.hasPrefix("opening a packet socket on kadfake0 to announce 192.0.2.100") == true)
    }

    @Test("the frames, sockaddr_ll and Router flag that reach sendmsg")
    func sendPath() async throws {
        let kernel = FakePacketKernel()
        let announcer = LinuxAnnouncer(clock: ManualClock())
        let mac = MACAddress(0x02, 0, 0, 0, 0, 0xAA)
        try await SystemCalls.withOverride(kernel.calls) {
            try await announcer.announce([VirtualAddress(vipA), VirtualAddress(vip6)], rounds: 2,
                                         interface: FakePacketKernel.interface, virtualRouterID: 51)
            announcer.close()
        }
        let s = kernel.state.withLock { $0 }
        #expect(s.bound.count == 1)
        #expect(s.bound.first == LinkLayerAddress(family: UInt16(AF_PACKET), etherType: 0, interfaceIndex: 7))
        #expect(s.sent.map(\.frame) == [garp(vipA, mac), na(vip6, mac, router: true), garp(vipA, mac), na(vip6, mac, router: true)])
        for (address, frame) in s.sent {
            let isARP = frame[12] == 0x08
            #expect(address.family == UInt16(AF_PACKET) && address.interfaceIndex == 7 && address.addressLength == 6)
            #expect(address.etherType == (isARP ? EthernetHeader.arp : EthernetHeader.ipv6))
            #expect(address.address == (isARP ? .broadcast : MACAddress("33:33:00:00:00:01")!))
        }
        #expect(s.closed == 2, "the sysctl file and the socket")
    }

    @Test("send errors and non-Ethernet interfaces through the real socket path")
    func socketErrors() async throws {
        let kernel = FakePacketKernel()
        kernel.state.withLock { $0.sendErrno = .networkDown }
        let announcer = LinuxAnnouncer(clock: ManualClock())
        let down = await SystemCalls.withOverride(kernel.calls) {
            await #expect(throws: NetLinuxError.self) {
                try await announcer.announce([VirtualAddress(vipA)], rounds: 1, interface: FakePacketKernel.interface, virtualRouterID: 51)
            }
        }
        #expect(down?.description == "sending a gratuitous ARP for 192.0.2.100 on kadfake0: network is down (the interface is down)")
        kernel.state.withLock { $0.sendErrno = nil; $0.hardwareType = arpHardwareLoopback }
        let loopback = await SystemCalls.withOverride(kernel.calls) {
            await #expect(throws: NetLinuxError.self) {
                try await announcer.announce([VirtualAddress(vipA)], rounds: 1, interface: FakePacketKernel.interface, virtualRouterID: 51)
            }
        }
        #expect(loopback?.description.contains("not an Ethernet interface (ARP hardware type 772)") == true)
        kernel.state.withLock { $0.hardwareType = arpHardwareEthernet; $0.indexErrno = .operationNotSupportedByDevice }
        let gone = await SystemCalls.withOverride(kernel.calls) {
            await #expect(throws: NetLinuxError.self) {
                try await announcer.announce([VirtualAddress(vipA)], rounds: 1, interface: FakePacketKernel.interface, virtualRouterID: 51)
            }
        }
        #expect(gone?.description == "looking up interface kadfake0 to announce 192.0.2.100: no such device (no interface of that name)")
        SystemCalls.withOverride(kernel.calls) { announcer.close() }
    }
}
}

// MARK: - Integration: real frames between network namespaces

extension AnnouncerTesting {
    /// Frames of a libpcap file (little-endian, as the fixtures are).
    func pcapFrames(_ name: String) throws -> [[UInt8]] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../VRRPCoreTests/Fixtures/keepalived-2.2.7/\(name)").standardizedFileURL
        let data = [UInt8](try Data(contentsOf: url))
        func le32(_ at: Int) -> Int { Int(data[at]) | Int(data[at + 1]) << 8 | Int(data[at + 2]) << 16 | Int(data[at + 3]) << 24 }
        #expect(le32(0) == 0xA1B2_C3D4 && le32(20) == 1, "little-endian libpcap, Ethernet")
        var frames: [[UInt8]] = []
        var at = 24
        while at + 16 <= data.count {
            let length = le32(at + 8)
            frames.append(Array(data[(at + 16)..<(at + 16 + length)]))
            at += 16 + length
        }
        return frames
    }
}

/// A packet socket that sees every frame arriving on `eth0` of a namespace.
final class FrameCapture: Sendable {
    let descriptor: SocketDescriptor

    init(namespace: String) throws {
        descriptor = try NetworkNamespace.perform(inNamespaceAt: namespace) {
            let all: UInt16 = 0x0003  // ETH_P_ALL
            let fd = try SocketDescriptor.open(domain: AF_PACKET, type: CInt(SOCK_RAW.rawValue), protocol: CInt(all.bigEndian))
            let address = LinkLayerAddress(etherType: all, interfaceIndex: Int32(NetworkInterface.index(named: "eth0") ?? 0))
            try address.bytes.withUnsafeBytes { try fd.bind($0) }
            return fd
        }
    }

    /// Incoming frames until `count` match `filter` or `timeout` passes.
    func frames(count: Int, timeout: Duration = .seconds(3), where filter: ([UInt8]) -> Bool) async throws -> [[UInt8]] {
        try await timedFrames(count: count, timeout: timeout, where: filter).map(\.frame)
    }

    /// ``frames(count:timeout:where:)`` with the kernel's receive time of each (`SIOCGSTAMP`),
    /// which does not depend on when the test gets to read the frame.
    ///
    /// It polls without blocking and sleeps in between: a blocked thread of the small
    /// cooperative pool would starve the announcer's own pacing task.
    func timedFrames(count: Int, timeout: Duration = .seconds(3),
                     where filter: ([UInt8]) -> Bool) async throws -> [(frame: [UInt8], received: Duration)] {
        var result: [(frame: [UInt8], received: Duration)] = []
        let deadline = ContinuousClock.now + timeout
        var buffer = [UInt8](repeating: 0, count: 2048)
        while result.count < count, ContinuousClock.now < deadline {
            let n = buffer.withUnsafeMutableBytes { recv(descriptor.rawValue, $0.baseAddress, $0.count, CInt(MSG_DONTWAIT)) }
            guard n > 0 else {
                try await Task.sleep(for: .milliseconds(1))
                continue
            }
            guard filter(Array(buffer[0..<n])) else { continue }
            var stamp = timeval()
            let siocgstamp: UInt = 0x8906  // SIOCGSTAMP (x86-64, 64-bit timeval)
            let r = withUnsafeMutableBytes(of: &stamp) { SystemCalls.live.ioctl(descriptor.rawValue, siocgstamp, $0.baseAddress) }
            let received: Duration = r == 0 ? .seconds(stamp.tv_sec) + .microseconds(stamp.tv_usec) : .zero
            result.append((Array(buffer[0..<n]), received))
        }
        return result
    }

    func close() { try? descriptor.close() }
}

extension HostAccessSuites {
@Suite("LinuxAnnouncer: between network namespaces", .serialized)
struct AnnouncerIntegrationTests: AnnouncerTesting {
    func announcer(_ lan: TestLAN, node: Int = 0, _ configuration: AnnouncerConfiguration = AnnouncerConfiguration())
        -> LinuxAnnouncer<SuspendingClock> {
        LinuxAnnouncer(configuration: configuration, networkNamespace: lan.path(node))
    }

    func sysctl(_ lan: TestLAN, _ node: Int, _ setting: String) throws {
        try Shell.run(["ip", "netns", "exec", lan.nodes[node], "sysctl", "-qw", setting])
    }

    @Test("a gratuitous ARP creates the peer's neighbour entry (receiver has arp_accept=1)")
    func garpCreatesNeighbour() async throws {
        guard Integration.available() else { return }
        let lan = try TestLAN(nodes: 2)
        defer { lan.remove() }
        // Linux creates entries from gratuitous ARP only with arp_accept; without it, it only updates them.
        try sysctl(lan, 1, "net.ipv4.conf.eth0.arp_accept=1")
        #expect(try !lan.ip(1, "neigh", "show", "192.0.2.100").contains("lladdr"))
        let a = announcer(lan)
        defer { a.close() }
        try await a.announce([VirtualAddress(vipA, prefixLength: 24)], rounds: 1, interface: "eth0", virtualRouterID: 51)
        #expect(await eventually { (try? lan.ip(1, "neigh", "show", "192.0.2.100"))?.contains("lladdr 02:00:00:00:00:01") == true },
                "\((try? lan.ip(1, "neigh")) ?? "")")
    }

    @Test("a gratuitous ARP moves an existing neighbour entry to our MAC (default arp_accept=0)")
    func garpUpdatesNeighbour() async throws {
        guard Integration.available() else { return }
        let lan = try TestLAN(nodes: 2)
        defer { lan.remove() }
        try lan.ip(1, "neigh", "add", "192.0.2.101", "lladdr", "02:00:00:00:00:99", "nud", "stale", "dev", "eth0")
        let a = announcer(lan)
        defer { a.close() }
        try await a.announce([VirtualAddress(vipB)], rounds: 1, interface: "eth0", virtualRouterID: 51)
        #expect(await eventually { (try? lan.ip(1, "neigh", "show", "192.0.2.101"))?.contains("lladdr 02:00:00:00:00:01") == true },
                "\((try? lan.ip(1, "neigh")) ?? "")")
    }

    @Test("an unsolicited NA overrides the peer's existing IPv6 neighbour entry")
    func naUpdatesNeighbour() async throws {
        guard Integration.available() else { return }
        let lan = try TestLAN(nodes: 2)
        defer { lan.remove() }
        // A host (forwarding off) never creates entries from untracked NAs, whatever
        // accept_untracked_na says: it updates the entries it has (Override flag).
        try lan.ip(1, "-6", "neigh", "add", "2001:db8::100", "lladdr", "02:00:00:00:00:99", "nud", "stale", "dev", "eth0")
        let a = announcer(lan)
        defer { a.close() }
        try await a.announce([VirtualAddress(vip6, prefixLength: 64)], rounds: 1, interface: "eth0", virtualRouterID: 51)
        #expect(await eventually { (try? lan.ip(1, "-6", "neigh", "show", "2001:db8::100"))?.contains("lladdr 02:00:00:00:00:01") == true },
                "\((try? lan.ip(1, "-6", "neigh")) ?? "")")
        #expect(try !lan.ip(1, "-6", "neigh", "show", "2001:db8::100").contains("router"))
    }

    @Test("an unsolicited NA creates the entry on a router with accept_untracked_na=1; with forwarding on the sender sets R")
    func naCreatesNeighbourOnRouter() async throws {
        guard Integration.available() else { return }
        let lan = try TestLAN(nodes: 2)
        defer { lan.remove() }
        #expect(FileManager.default.fileExists(atPath: "/proc/sys/net/ipv6/conf/all/accept_untracked_na"), "kernel 5.18+")
        // RFC 9131: only a node that forwards creates entries from untracked NAs.
        try sysctl(lan, 1, "net.ipv6.conf.eth0.forwarding=1")
        try sysctl(lan, 1, "net.ipv6.conf.eth0.accept_untracked_na=1")
        // The sender forwards too: read from node 0's namespace, so R is set.
        try sysctl(lan, 0, "net.ipv6.conf.eth0.forwarding=1")
        let a = announcer(lan)
        defer { a.close() }
        try await a.announce([VirtualAddress(vip6, prefixLength: 64)], rounds: 1, interface: "eth0", virtualRouterID: 51)
        #expect(await eventually {
            let line = (try? lan.ip(1, "-6", "neigh", "show", "2001:db8::100")) ?? ""
            return line.contains("lladdr 02:00:00:00:00:01") && line.contains("router")
        }, "\((try? lan.ip(1, "-6", "neigh")) ?? "")")
    }

    @Test("the wire: byte for byte the GARPs keepalived 2.2.7 sent (v2-multicast.pcap #1-10)")
    func garpWireMatchesKeepalived() async throws {
        guard Integration.available() else { return }
        let fixture = try pcapFrames("v2-multicast.pcap")
        let keepalived = Array(fixture[1...10])
        #expect(keepalived.allSatisfy { $0[12] == 0x08 && $0[13] == 0x06 })
        let lan = try TestLAN(nodes: 2)
        defer { lan.remove() }
        let capture = try FrameCapture(namespace: lan.path(1))
        defer { capture.close() }
        let a = announcer(lan)
        defer { a.close() }
        // The fixture's setup: node 0 is 02:00:00:00:00:01 on eth0; VIPs 192.0.2.100/24, .101/24; 5 rounds.
        try await a.announce([VirtualAddress(vipA, prefixLength: 24), VirtualAddress(vipB, prefixLength: 24)],
                             rounds: 5, interface: "eth0", virtualRouterID: 51)
        let frames = try await capture.frames(count: 10) { $0.count >= 14 && $0[12] == 0x08 && $0[13] == 0x06 && Array($0[6..<12]) == node0MAC.bytes }
        #expect(frames == keepalived)
        #expect(frames == Array(repeating: [garp(vipA), garp(vipB)], count: 5).flatMap { $0 })
    }

    @Test("the wire: byte for byte the NAs keepalived 2.2.7 sent (v3-ipv6-multicast.pcap #1-10), and from a VMAC")
    func naWireMatchesKeepalived() async throws {
        guard Integration.available() else { return }
        let fixture = try pcapFrames("v3-ipv6-multicast.pcap")
        let keepalived = Array(fixture[1...10])
        let lan = try TestLAN(nodes: 2)
        defer { lan.remove() }
        let capture = try FrameCapture(namespace: lan.path(1))
        defer { capture.close() }
        let a = announcer(lan)
        defer { a.close() }
        let linkLocal = IPAddress("fe80::53")!, global = IPAddress("2001:db8::53")!
        try await a.announce([VirtualAddress(linkLocal), VirtualAddress(global, prefixLength: 64)],
                             rounds: 5, interface: "eth0", virtualRouterID: 53)
        let isOurNA: ([UInt8]) -> Bool = { $0.count >= 55 && $0[12] == 0x86 && $0[13] == 0xDD && $0[20] == 58 && $0[54] == 136 }
        let frames = try await capture.frames(count: 10) { isOurNA($0) && Array($0[6..<12]) == node0MAC.bytes }
        #expect(frames == keepalived)
        #expect(frames.first.map { try? UnsolicitedNeighborAdvertisement.parse(frame: $0).advertisement.flags } == [.override])

        // With a VMAC, the same frames come from 00:00:5e:00:02:VRID (errata 7947/7949).
        a.reconfigure(AnnouncerConfiguration(hardwareAddresses: ["eth0": .virtualRouter]))
        try await a.announce([VirtualAddress(global)], rounds: 1, interface: "eth0", virtualRouterID: 53)
        let vmac = MACAddress.virtualRouterMAC(family: .ipv6, vrid: 53)
        let fromVMAC = try await capture.frames(count: 1) { isOurNA($0) && Array($0[6..<12]) == vmac.bytes }
        #expect(fromVMAC == [na(global, vmac)])
    }

    @Test("paced on a real clock: GARPs at least garp_interval apart, announce returns at once")
    func pacedOnRealClock() async throws {
        guard Integration.available() else { return }
        let lan = try TestLAN(nodes: 2)
        defer { lan.remove() }
        let capture = try FrameCapture(namespace: lan.path(1))
        defer { capture.close() }
        let failures = Mutex<[String]>([])
        let a = LinuxAnnouncer(configuration: AnnouncerConfiguration(pacing: AnnouncementPacing(garpInterval: .milliseconds(100))),
                               networkNamespace: lan.path(0),
                               onDeferredFailure: { e in failures.withLock { $0.append("\(e)") } })
        defer { a.close() }
        let start = ContinuousClock.now
        try await a.announce([VirtualAddress(vipA), VirtualAddress(vipB)], rounds: 2, interface: "eth0", virtualRouterID: 51)
        #expect(ContinuousClock.now - start < .milliseconds(50), "announce does not wait for pacing")
        let frames = try await capture.timedFrames(count: 4) { $0.count >= 14 && $0[12] == 0x08 && $0[13] == 0x06 }
        #expect(frames.map(\.frame) == [garp(vipA), garp(vipB), garp(vipA), garp(vipB)])
        #expect(ContinuousClock.now - start >= .milliseconds(300))
        await a.waitUntilIdle()
        #expect(failures.withLock { $0 }.isEmpty)
        let gaps = zip(frames.dropFirst(), frames).map { $0.received - $1.received }
        #expect(gaps.count == 3 && gaps.allSatisfy { $0 >= .milliseconds(95) }, "\(gaps)")
    }

    @Test("real kernel errors: a missing interface and an interface that is down")
    func kernelErrors() async throws {
        guard Integration.available() else { return }
        let lan = try TestLAN(nodes: 1)
        defer { lan.remove() }
        let a = announcer(lan)
        defer { a.close() }
        let missing = await #expect(throws: NetLinuxError.self) {
            try await a.announce([VirtualAddress(vipA, interface: "nosuch0")], rounds: 1, interface: "eth0", virtualRouterID: 51)
        }
        #expect(missing?.description == "looking up interface nosuch0 to announce 192.0.2.100: no such device (no interface of that name)")
        try lan.ip(0, "link", "set", "eth0", "down")
        let down = await #expect(throws: NetLinuxError.self) {
            try await a.announce([VirtualAddress(vipA)], rounds: 1, interface: "eth0", virtualRouterID: 51)
        }
        #expect(down?.description == "sending a gratuitous ARP for 192.0.2.100 on eth0: network is down (the interface is down)")
        // The interface comes back as a new one with the same name: the socket follows it.
        try lan.ip(0, "link", "del", "eth0")
        try lan.ip(0, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0peer")
        try lan.ip(0, "link", "set", "eth0peer", "up")
        try lan.ip(0, "link", "set", "eth0", "up")
        try await a.announce([VirtualAddress(vipA)], rounds: 1, interface: "eth0", virtualRouterID: 51)
    }
}
}
