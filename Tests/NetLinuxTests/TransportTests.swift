import Foundation
import Synchronization
import SystemPackage
import IntegrationSupport
import Testing
import VRRPCore
@testable import NetLinux

// MARK: - Helpers

/// A received packet, copied out of the socket's buffer.
struct CapturedDatagram: Sendable {
    var bytes: [UInt8]
    var source: IPAddress
    var destination: IPAddress
    var hopLimit: UInt8
    var interfaceIndex: UInt32
}

extension VRRPSocket {
    /// Waits up to `timeout` for one packet.
    func receiveOne(timeout: Duration = .seconds(2)) throws -> CapturedDatagram? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            guard try descriptor.waitReadable(timeout: deadline - ContinuousClock.now) else { return nil }
            var captured: CapturedDatagram?
            _ = try receive { p in
                captured = CapturedDatagram(bytes: p.array, source: p.source, destination: p.destination,
                                            hopLimit: p.hopLimit, interfaceIndex: p.interfaceIndex)
            }
            if let captured { return captured }
        }
        return nil
    }
}

enum Fixtures {
    static let v4Group = IPAddress.vrrpMulticastGroup(.ipv4)
    static let v6Group = IPAddress.vrrpMulticastGroup(.ipv6)

    static func v2(vrid: UInt8 = 51, priority: UInt8 = 150) -> VRRPAdvertisement {
        VRRPAdvertisement(version: .v2, virtualRouterID: vrid, priority: priority, advertisementInterval: 100,
                          addresses: VRRPAddressList(family: .ipv4, [IPAddress("192.0.2.100")!]))
    }

    static func v3ipv4(vrid: UInt8 = 52, priority: UInt8 = 150) -> VRRPAdvertisement {
        VRRPAdvertisement(version: .v3, virtualRouterID: vrid, priority: priority, advertisementInterval: 100,
                          addresses: VRRPAddressList(family: .ipv4, [IPAddress("192.0.2.101")!]))
    }

    static func v3ipv6(vrid: UInt8 = 53, priority: UInt8 = 150) -> VRRPAdvertisement {
        VRRPAdvertisement(version: .v3, virtualRouterID: vrid, priority: priority, advertisementInterval: 100,
                          addresses: VRRPAddressList(family: .ipv6, [IPAddress("fe80::100")!, IPAddress("2001:db8::100")!]))
    }
}

extension TestLAN {
    /// Opens a VRRP socket inside node `i`.
    func socket(_ i: Int, _ family: IPAddressFamily, groups: [IPAddress]? = nil) throws -> VRRPSocket {
        try NetworkNamespace.perform(inNamespaceAt: path(i)) {
            try VRRPSocket(VRRPSocketConfiguration(interface: "eth0", family: family, groups: groups))
        }
    }

    /// The index of eth0 in node `i` (0 when it cannot be found, which no comparison accepts).
    func eth0Index(_ i: Int) -> UInt32 {
        ((try? NetworkNamespace.perform(inNamespaceAt: path(i)) { NetworkInterface.index(named: "eth0") }) ?? nil) ?? 0
    }

    /// The IPv6 link-local address of eth0 in node `i` (waits for it to appear).
    func linkLocal(_ i: Int) throws -> IPAddress {
        for _ in 0..<200 {
            let out = try ip(i, "-6", "-o", "addr", "show", "dev", "eth0", "scope", "link")
            let words = out.split(whereSeparator: \.isWhitespace)
            if let k = words.firstIndex(of: "inet6"), k + 1 < words.count,
               let a = IPAddress(words[k + 1].split(separator: "/")[0]), !out.contains("tentative") {
                return a
            }
            usleep(10_000)
        }
        throw Shell.Failure(command: ["ip", "-6", "addr"], status: 1, output: "no link-local address on eth0 of node \(i)")
    }
}

/// Sends one VRRP message with a plain raw socket (the kernel writes the IP header) from
/// inside node `i`, with the given TTL / hop limit: what a foreign or misconfigured sender does.
func sendPlain(_ lan: TestLAN, from i: Int, message: [UInt8], to destination: IPAddress, ttl: CInt) throws {
    try NetworkNamespace.perform(inNamespaceAt: lan.path(i)) {
        let index = CInt(NetworkInterface.index(named: "eth0")!)
        let v4 = destination.family == .ipv4
        let fd = socket(v4 ? AF_INET : AF_INET6, CInt(SOCK_RAW.rawValue), 112)
        guard fd >= 0 else { throw Errno(rawValue: errno) }
        defer { close(fd) }
        var hops = ttl
        var sent = -1
        if v4 {
            var mreq = ip_mreqn(imr_multiaddr: in_addr(s_addr: 0), imr_address: in_addr(s_addr: 0), imr_ifindex: index)
            setsockopt(fd, CInt(IPPROTO_IP), IP_MULTICAST_IF, &mreq, socklen_t(MemoryLayout<ip_mreqn>.size))
            setsockopt(fd, CInt(IPPROTO_IP), IP_MULTICAST_TTL, &hops, 4)
            setsockopt(fd, CInt(IPPROTO_IP), IP_TTL, &hops, 4)
            var to = sockaddr_in()
            to.sin_family = sa_family_t(AF_INET)
            to.sin_addr.s_addr = destination.ipv4Value.bigEndian
            sent = withUnsafePointer(to: &to) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, message, message.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        } else {
            var index6 = index
            var offset: CInt = 6  // the kernel computes the VRRP checksum: an independent check of ours
            setsockopt(fd, CInt(IPPROTO_IPV6), IPV6_CHECKSUM, &offset, 4)
            setsockopt(fd, CInt(IPPROTO_IPV6), IPV6_MULTICAST_IF, &index6, 4)
            setsockopt(fd, CInt(IPPROTO_IPV6), IPV6_MULTICAST_HOPS, &hops, 4)
            setsockopt(fd, CInt(IPPROTO_IPV6), IPV6_UNICAST_HOPS, &hops, 4)
            var to = sockaddr_in6()
            to.sin6_family = sa_family_t(AF_INET6)
            _ = withUnsafeMutableBytes(of: &to.sin6_addr) { destination.write(to: $0, at: 0) }
            to.sin6_scope_id = UInt32(index)
            sent = withUnsafePointer(to: &to) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, message, message.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        }
        if sent < 0 { throw Errno(rawValue: errno) }
    }
}

/// Inputs handed over by a receive thread.
final class InputCollector: Sendable {
    let inputs = Mutex<[VRRPEngine.Input]>([])
    func append(_ input: VRRPEngine.Input) { inputs.withLock { $0.append(input) } }
    var all: [VRRPEngine.Input] { inputs.withLock { $0 } }

    /// Waits until `count` inputs arrived (or `timeout` passed); returns them.
    func wait(for count: Int, timeout: Duration = .seconds(3)) -> [VRRPEngine.Input] {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let got = all
            if got.count >= count { return got }
            usleep(2_000)
        }
        return all
    }
}

/// Records what VRRP sockets ask of a fake kernel: a `SystemCalls` table in which socket(2)
/// for protocol 112 hands out an ordinary UDP socket, options are recorded and accepted,
/// SIOCGIFINDEX answers 7, and sendmsg(2) is captured. Everything else goes to the kernel.
final class FakeKernel: Sendable {
    struct Sent: Sendable {
        var bytes: [UInt8]
        var name: [UInt8]
        var control: [UInt8]
    }

    struct Log {
        var fds: Set<CInt> = []
        var options: [(level: CInt, name: CInt, value: [UInt8])] = []
        var sent: [Sent] = []
    }

    let log = Mutex(Log())

    func owns(_ fd: CInt) -> Bool { log.withLock { $0.fds.contains(fd) } }
    var options: [(level: CInt, name: CInt, value: [UInt8])] { log.withLock { $0.options } }
    var sent: [Sent] { log.withLock { $0.sent } }

    func option(_ level: CInt, _ name: CInt) -> [UInt8]? {
        options.last { $0.level == level && $0.name == name }?.value
    }

    var calls: SystemCalls {
        var c = SystemCalls.live
        c.socket = { [self] domain, type, proto in
            guard proto == 112 else { return SystemCalls.live.socket(domain, type, proto) }
            let fd = Glibc.socket(AF_INET, CInt(SOCK_DGRAM.rawValue) | CInt(SOCK_CLOEXEC.rawValue), 0)
            log.withLock { _ = $0.fds.insert(fd) }
            return fd
        }
        c.setsockopt = { [self] fd, level, name, value, length in
            guard owns(fd) else { return SystemCalls.live.setsockopt(fd, level, name, value, length) }
            let bytes = value.map { Array(UnsafeRawBufferPointer(start: $0, count: Int(length))) } ?? []
            log.withLock { $0.options.append((level, name, bytes)) }
            return 0
        }
        c.ioctl = { [self] fd, request, argument in
            guard owns(fd), request == UInt(SIOCGIFINDEX) else { return SystemCalls.live.ioctl(fd, request, argument) }
            argument!.storeBytes(of: Int32(7), toByteOffset: 16, as: Int32.self)
            return 0
        }
        c.sendmsg = { [self] fd, message, flags in
            guard owns(fd) else { return SystemCalls.live.sendmsg(fd, message, flags) }
            let m = message.pointee
            let v = m.msg_iov!.pointee
            let bytes = Array(UnsafeRawBufferPointer(start: v.iov_base, count: v.iov_len))
            let name = Array(UnsafeRawBufferPointer(start: m.msg_name, count: Int(m.msg_namelen)))
            let control = m.msg_controllen == 0 ? [] : Array(UnsafeRawBufferPointer(start: m.msg_control, count: m.msg_controllen))
            log.withLock { $0.sent.append(Sent(bytes: bytes, name: name, control: control)) }
            return bytes.count
        }
        return c
    }
}

func intOption(_ bytes: [UInt8]?) -> CInt? {
    guard let bytes, bytes.count == 4 else { return nil }
    return bytes.withUnsafeBytes { $0.loadUnaligned(as: CInt.self) }
}

// MARK: - Tests without privileges

/// Both suites run one test at a time, one suite after the other: the unit tests install
/// process-wide system-call overrides that would otherwise hit the integration tests' sockets.
extension HostAccessSuites {
    @Suite("Transport", .serialized)
    struct TransportTests {}
}

extension HostAccessSuites.TransportTests {
    @Suite("VRRP sockets against a fake kernel")
    struct Unit {
        @Test("the routers' configurations give one socket per (interface, family), joined to the multicast groups")
        func socketsForRouters() {
            func router(_ name: String, _ vrid: UInt8, _ interface: String, _ primary: String) -> VirtualRouterConfiguration {
                VirtualRouterConfiguration(name: name, virtualRouterID: vrid, interface: interface,
                                           primaryAddress: IPAddress(primary)!)
            }
            var unicast = router("U", 3, "eth1", "192.0.2.1")
            unicast.unicastPeers = [UnicastPeer(IPAddress("192.0.2.9")!)]
            var custom = router("C", 4, "eth0", "192.0.2.1")
            custom.multicastGroup = IPAddress("224.0.0.19")
            let sockets = VRRPSocketConfiguration.sockets(
                for: [router("A", 1, "eth0", "192.0.2.1"), router("B", 2, "eth0", "fe80::1"), unicast,
                      router("D", 5, "eth0", "192.0.2.1"), custom],
                receiveBufferSize: 4096)
            #expect(sockets.map(\.description) == [
                "eth0 IPv4 (224.0.0.18, 224.0.0.19)", "eth0 IPv6 (ff02::12)", "eth1 IPv4 (unicast only)",
            ])
            #expect(sockets.allSatisfy { $0.receiveBufferSize == 4096 })
        }

        @Test("a group of the wrong family or not multicast, or a bad interface name, is refused before any system call")
        func badConfiguration() {
            #expect {
                _ = try VRRPSocket(VRRPSocketConfiguration(interface: "eth0", family: .ipv4, groups: [IPAddress("192.0.2.1")!]))
            } throws: { e in
                "\(e)" == "opening a VRRP socket (IPv4) on eth0: invalid argument (192.0.2.1 is not an IPv4 multicast group)"
            }
            #expect {
                _ = try VRRPSocket(VRRPSocketConfiguration(interface: "eth0", family: .ipv6, groups: [IPAddress("224.0.0.18")!]))
            } throws: { e in "\(e)".contains("224.0.0.18 is not an IPv6 multicast group") }
            #expect {
                _ = try VRRPSocket(VRRPSocketConfiguration(interface: "an-interface-name-too-long", family: .ipv4))
            } throws: { e in "\(e)".contains("an interface name has 1 to 15 bytes") }
        }

        @Test("no permission to open a raw socket is an error that names CAP_NET_RAW")
        func notPermitted() {
            var calls = SystemCalls.live
            calls.socket = { domain, type, proto in
                guard proto == 112 else { return SystemCalls.live.socket(domain, type, proto) }
                errno = EPERM
                return -1
            }
            for family in IPAddressFamily.allCases {
                SystemCalls.withOverride(calls) {
                    #expect {
                        _ = try VRRPSocket(VRRPSocketConfiguration(interface: "eth0", family: family))
                    } throws: { e in
                        guard let e = e as? NetLinuxError else { return false }
                        return e.errno == .notPermitted && e.description.contains("CAP_NET_RAW")
                            && e.description.hasPrefix("opening a raw VRRP socket (\(family)) on eth0: operation not permitted")
                    }
                }
            }
        }

        @Test("IPv4: the socket options are set, and the datagram has TOS 0xC0, TTL 255, DF clear, a valid header")
        func ipv4Wire() throws {
            let kernel = FakeKernel()
            try SystemCalls.withOverride(kernel.calls) {
                let socket = try VRRPSocket(VRRPSocketConfiguration(interface: "eth0", family: .ipv4,
                                                                    groups: [Fixtures.v4Group, IPAddress("224.0.0.19")!]))
                defer { socket.close() }
                #expect(socket.interfaceIndex == 7)
                let ip = CInt(IPPROTO_IP)
                #expect(intOption(kernel.option(ip, IP_HDRINCL)) == 1)
                #expect(intOption(kernel.option(ip, IP_PKTINFO)) == 1)
                #expect(intOption(kernel.option(ip, IP_MULTICAST_ALL)) == 0)
                #expect(intOption(kernel.option(ip, IP_MULTICAST_LOOP)) == 0)
                #expect(intOption(kernel.option(SOL_SOCKET, SO_RXQ_OVFL)) == 1)
                #expect(intOption(kernel.option(SOL_SOCKET, SO_RCVBUFFORCE)) == CInt(VRRPSocketConfiguration.defaultReceiveBufferSize))
                #expect(kernel.option(SOL_SOCKET, SO_BINDTODEVICE) == Array("eth0".utf8))
                #expect(kernel.option(ip, IP_MULTICAST_IF) == [0, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0])
                let joins = kernel.options.filter { $0.level == ip && $0.name == IP_ADD_MEMBERSHIP }.map(\.value)
                #expect(joins == [[224, 0, 0, 18, 0, 0, 0, 0, 7, 0, 0, 0], [224, 0, 0, 19, 0, 0, 0, 0, 7, 0, 0, 0]])
                #expect(kernel.option(CInt(IPPROTO_IPV6), IPV6_CHECKSUM) == nil)

                let source = IPAddress("192.0.2.1")!
                try socket.send(Fixtures.v2(), source: source, destination: Fixtures.v4Group, checksumForm: .messageOnly)
                try socket.send(Fixtures.v3ipv4(), source: source, destination: IPAddress("192.0.2.2")!, checksumForm: .pseudoHeader)
                let sent = kernel.sent
                try #require(sent.count == 2)
                let d = sent[0].bytes
                #expect(d.count == 20 + 8 + 4 + 8)
                #expect(d[0] == 0x45 && d[1] == 0xC0 && d[8] == 255 && d[9] == 112)
                #expect(d[6] & 0x40 == 0, "DF clear")
                #expect(Int(d[2]) << 8 | Int(d[3]) == d.count)
                #expect(d == Fixtures.v2().encodedIPv4Datagram(source: source, destination: Fixtures.v4Group,
                                                               checksumForm: .messageOnly),
                        "the same bytes as the codec's datagram")
                let p = try VRRPAdvertisement.decodeIPv4Datagram(d)
                #expect(p.advertisement == Fixtures.v2() && p.source == source && p.hopLimit == 255)
                // sockaddr_in: AF_INET, port 0, 224.0.0.18.
                #expect(sent[0].name.count == MemoryLayout<sockaddr_in>.size)
                #expect(Array(sent[0].name[2..<8]) == [0, 0, 224, 0, 0, 18])
                #expect(sent[0].control.isEmpty)
                // Unicast: the checksum covers the real destination.
                let u = try VRRPAdvertisement.decodeIPv4Datagram(sent[1].bytes)
                #expect(u.destination == IPAddress("192.0.2.2")! && u.checksumForm == .pseudoHeader)
                #expect(Array(sent[1].name[4..<8]) == [192, 0, 2, 2])
                #expect(socket.statistics.sent == 2)

                // Wrong family: refused, nothing sent, no crash.
                #expect {
                    try socket.send(Fixtures.v3ipv6(), source: IPAddress("fe80::1")!, destination: Fixtures.v6Group,
                                    checksumForm: .pseudoHeader)
                } throws: { e in "\(e)".contains("must be IPv4 on this socket") }
                #expect(kernel.sent.count == 2)
            }
        }

        @Test("IPv6: hop limits 255, hop limit and packet info received, no IPV6_CHECKSUM; the source travels in IPV6_PKTINFO")
        func ipv6Wire() throws {
            let kernel = FakeKernel()
            try SystemCalls.withOverride(kernel.calls) {
                let socket = try VRRPSocket(VRRPSocketConfiguration(interface: "eth0", family: .ipv6))
                defer { socket.close() }
                let v6 = CInt(IPPROTO_IPV6)
                #expect(intOption(kernel.option(v6, IPV6_MULTICAST_HOPS)) == 255)
                #expect(intOption(kernel.option(v6, IPV6_UNICAST_HOPS)) == 255)
                #expect(intOption(kernel.option(v6, IPV6_RECVHOPLIMIT)) == 1)
                #expect(intOption(kernel.option(v6, IPV6_RECVPKTINFO)) == 1)
                #expect(intOption(kernel.option(v6, IPV6_MULTICAST_LOOP)) == 0)
                #expect(intOption(kernel.option(v6, IPV6_MULTICAST_ALL)) == 0)
                #expect(intOption(kernel.option(v6, IPV6_MULTICAST_IF)) == 7)
                #expect(kernel.option(v6, IPV6_CHECKSUM) == nil, "kad computes the checksum itself")
                let join = try #require(kernel.option(v6, IPV6_JOIN_GROUP))
                #expect(join == [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12, 7, 0, 0, 0])

                let source = IPAddress("fe80::1")!
                try socket.send(Fixtures.v3ipv6(), source: source, destination: Fixtures.v6Group, checksumForm: .pseudoHeader)
                let sent = try #require(kernel.sent.first)
                let p = try VRRPAdvertisement.decode(message: sent.bytes, source: source, destination: Fixtures.v6Group,
                                                     hopLimit: 255)
                #expect(p.advertisement == Fixtures.v3ipv6() && p.checksumForm == .pseudoHeader)
                // sockaddr_in6 to ff02::12, scope = the interface.
                #expect(sent.name.count == MemoryLayout<sockaddr_in6>.size)
                #expect(Array(sent.name[8..<24]) == Fixtures.v6Group.bytes)
                #expect(sent.name.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 24, as: UInt32.self) } == 7)
                // One control message: IPPROTO_IPV6 / IPV6_PKTINFO with fe80::1 and interface 7.
                #expect(sent.control.count == 40)
                let header = sent.control.withUnsafeBytes {
                    ($0.loadUnaligned(fromByteOffset: 0, as: Int.self), $0.loadUnaligned(fromByteOffset: 8, as: CInt.self),
                     $0.loadUnaligned(fromByteOffset: 12, as: CInt.self))
                }
                #expect(header.0 == 16 + 20 && header.1 == v6 && header.2 == IPV6_PKTINFO)
                #expect(Array(sent.control[16..<32]) == source.bytes)
                #expect(sent.control.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 32, as: UInt32.self) } == 7)

                #expect {
                    try socket.send(Fixtures.v3ipv6(), source: IPAddress("::")!, destination: Fixtures.v6Group,
                                    checksumForm: .pseudoHeader)
                } throws: { e in "\(e)".contains("needs its source address") }
            }
        }

        @Test("a transport without a socket for the interface says so")
        func noSocket() async {
            let transport = LinuxVRRPTransport()
            await #expect {
                try await transport.send(Fixtures.v2(), source: IPAddress("192.0.2.1")!, destination: Fixtures.v4Group,
                                         checksumForm: .messageOnly, interface: "eth3")
            } throws: { e in
                "\(e)" == "sending a VRRP advert (VRID 51) to 224.0.0.18 on eth3: no such device (no IPv4 VRRP socket is open on eth3)"
            }
            transport.close()
        }

        @Test("a second socket for the same interface and family is refused")
        func duplicateSocket() throws {
            let kernel = FakeKernel()
            try SystemCalls.withOverride(kernel.calls) {
                let transport = LinuxVRRPTransport()
                defer { transport.close() }
                try transport.open(VRRPSocketConfiguration(interface: "eth0", family: .ipv4))
                try transport.open(VRRPSocketConfiguration(interface: "eth0", family: .ipv6))
                #expect(throws: NetLinuxError.self) {
                    try transport.open(VRRPSocketConfiguration(interface: "eth0", family: .ipv4))
                }
                #expect(transport.sockets.count == 2)
                #expect(transport.socket(interface: "eth0", family: .ipv6)?.family == .ipv6)
            }
        }
    }
}

// MARK: - Integration tests (root, network namespaces)

extension HostAccessSuites.TransportTests {
    @Suite("VRRP adverts between network namespaces")
    struct Namespaces {
        @Test("IPv4 multicast: TTL 255, source, group and interface index reported; our own multicast does not loop back")
        func ipv4Multicast() throws {
            guard Integration.available() else { return }
            let lan = try TestLAN(nodes: 2)
            defer { lan.remove() }
            let sender = try lan.socket(0, .ipv4)
            let receiver = try lan.socket(1, .ipv4)
            defer { sender.close(); receiver.close() }
            let transport = LinuxVRRPTransport()
            defer { transport.close() }
            try transport.add(sender)

            let source = IPAddress("192.0.2.1")!
            try transport.transmit(Fixtures.v2(), source: source, destination: Fixtures.v4Group, checksumForm: .messageOnly,
                                   interface: "eth0")
            let got = try #require(try receiver.receiveOne())
            #expect(got.hopLimit == 255 && got.source == source && got.destination == Fixtures.v4Group)
            #expect(got.interfaceIndex == lan.eth0Index(1))
            #expect(got.bytes[1] == 0xC0 && got.bytes[6] & 0x40 == 0, "TOS 0xC0, DF clear on the wire")
            let p = try VRRPAdvertisement.decodeIPv4Datagram(got.bytes)
            #expect(p.advertisement == Fixtures.v2() && p.hopLimit == 255)
            #expect(try sender.receiveOne(timeout: .milliseconds(300)) == nil, "IP_MULTICAST_LOOP is off")
            #expect(receiver.statistics.received == 1 && sender.statistics.sent == 1)
        }

        @Test("IPv6 multicast: hop limit 255, link-local source, ff02::12 and interface index reported; no loopback")
        func ipv6Multicast() throws {
            guard Integration.available() else { return }
            let lan = try TestLAN(nodes: 2)
            defer { lan.remove() }
            let source = try lan.linkLocal(0)
            let sender = try lan.socket(0, .ipv6)
            let receiver = try lan.socket(1, .ipv6)
            defer { sender.close(); receiver.close() }
            try sender.send(Fixtures.v3ipv6(), source: source, destination: Fixtures.v6Group, checksumForm: .pseudoHeader)
            let got = try #require(try receiver.receiveOne())
            #expect(got.hopLimit == 255 && got.source == source && got.destination == Fixtures.v6Group)
            #expect(got.interfaceIndex == lan.eth0Index(1))
            let p = try VRRPAdvertisement.decode(message: got.bytes, source: got.source, destination: got.destination,
                                                 hopLimit: got.hopLimit)
            #expect(p.advertisement == Fixtures.v3ipv6() && p.checksumForm == .pseudoHeader)
            #expect(try sender.receiveOne(timeout: .milliseconds(300)) == nil, "IPV6_MULTICAST_LOOP is off")
        }

        @Test("IPv4 unicast: one sendmsg per peer, each with its own destination and checksum, TTL 255")
        func ipv4Unicast() throws {
            guard Integration.available() else { return }
            let lan = try TestLAN(nodes: 3)
            defer { lan.remove() }
            let sender = try lan.socket(0, .ipv4, groups: [])
            let peers = [try lan.socket(1, .ipv4, groups: []), try lan.socket(2, .ipv4, groups: [])]
            defer { sender.close(); peers.forEach { $0.close() } }
            let source = IPAddress("192.0.2.1")!
            for i in 1...2 {
                try sender.send(Fixtures.v3ipv4(), source: source, destination: IPAddress("192.0.2.\(i + 1)")!,
                                checksumForm: .pseudoHeader)
            }
            for (k, peer) in peers.enumerated() {
                let got = try #require(try peer.receiveOne())
                let own = IPAddress("192.0.2.\(k + 2)")!
                #expect(got.hopLimit == 255 && got.source == source && got.destination == own)
                #expect(got.interfaceIndex == lan.eth0Index(k + 1))
                let p = try VRRPAdvertisement.decodeIPv4Datagram(got.bytes)
                #expect(p.checksumForm == .pseudoHeader && p.destination == own)
                #expect(try peer.receiveOne(timeout: .milliseconds(100)) == nil, "exactly one copy per peer")
            }
            #expect(sender.statistics.sent == 2)
        }

        @Test("IPv6 unicast: hop limit 255 (not keepalived's 64), to a global and a link-local peer")
        func ipv6Unicast() throws {
            guard Integration.available() else { return }
            let lan = try TestLAN(nodes: 3)
            defer { lan.remove() }
            let source = try lan.linkLocal(0)
            let peer2LinkLocal = try lan.linkLocal(2)
            let sender = try lan.socket(0, .ipv6, groups: [])
            let peers = [try lan.socket(1, .ipv6, groups: []), try lan.socket(2, .ipv6, groups: [])]
            defer { sender.close(); peers.forEach { $0.close() } }
            let destinations = [IPAddress("2001:db8::2")!, peer2LinkLocal]
            for d in destinations {
                try sender.send(Fixtures.v3ipv6(), source: source, destination: d, checksumForm: .pseudoHeader)
            }
            for (k, peer) in peers.enumerated() {
                let got = try #require(try peer.receiveOne())
                #expect(got.hopLimit == 255 && got.source == source && got.destination == destinations[k])
                #expect(got.interfaceIndex == lan.eth0Index(k + 1))
                let p = try VRRPAdvertisement.decode(message: got.bytes, source: got.source, destination: got.destination,
                                                     hopLimit: got.hopLimit)
                #expect(p.advertisement == Fixtures.v3ipv6())
            }
        }

        @Test("a socket receives only the groups it joined (IP_MULTICAST_ALL off), and a unicast-only socket none")
        func onlyJoinedGroups() throws {
            guard Integration.available() else { return }
            let lan = try TestLAN(nodes: 2)
            defer { lan.remove() }
            let other = IPAddress("224.0.0.19")!
            let sender = try lan.socket(0, .ipv4, groups: [])
            let vrrpGroup = try lan.socket(1, .ipv4)
            let otherGroup = try lan.socket(1, .ipv4, groups: [other])
            let unicastOnly = try lan.socket(1, .ipv4, groups: [])
            defer { [sender, vrrpGroup, otherGroup, unicastOnly].forEach { $0.close() } }
            let source = IPAddress("192.0.2.1")!
            try sender.send(Fixtures.v2(), source: source, destination: other, checksumForm: .messageOnly)
            let got = try #require(try otherGroup.receiveOne())
            #expect(got.destination == other)
            #expect(try vrrpGroup.receiveOne(timeout: .milliseconds(200)) == nil)
            #expect(try unicastOnly.receiveOne(timeout: .milliseconds(100)) == nil)
        }

        @Test("an advert sent with TTL / hop limit 64 from a third namespace is reported with 64, and the engine drops it")
        func hopLimit64() throws {
            guard Integration.available() else { return }
            let lan = try TestLAN(nodes: 3)
            defer { lan.remove() }
            let v4 = try lan.socket(1, .ipv4)
            let v6 = try lan.socket(1, .ipv6)
            defer { v4.close(); v6.close() }

            let source4 = IPAddress("192.0.2.3")!
            try sendPlain(lan, from: 2, message: Fixtures.v2().encoded(source: source4, destination: Fixtures.v4Group,
                                                                         checksumForm: .messageOnly),
                          to: Fixtures.v4Group, ttl: 64)
            let got4 = try #require(try v4.receiveOne())
            #expect(got4.hopLimit == 64 && got4.source == source4 && got4.interfaceIndex == lan.eth0Index(1))

            let source6 = try lan.linkLocal(2)
            // The checksum field is recomputed by the sender's kernel (IPV6_CHECKSUM).
            try sendPlain(lan, from: 2, message: Fixtures.v3ipv6().encoded(source: source6, destination: Fixtures.v6Group,
                                                                             checksumForm: .pseudoHeader),
                          to: Fixtures.v6Group, ttl: 64)
            let got6 = try #require(try v6.receiveOne())
            #expect(got6.hopLimit == 64 && got6.source == source6 && got6.destination == Fixtures.v6Group)
            let p6 = try VRRPAdvertisement.decode(message: got6.bytes, source: got6.source, destination: got6.destination,
                                                  hopLimit: got6.hopLimit)
            #expect(p6.checksumForm == .pseudoHeader, "the kernel's checksum verifies with kad's codec")

            // The transport only reports; a multicast router drops TTL 64 (RFC 5798 §7.1).
            var r4 = VirtualRouterConfiguration(name: "v4", virtualRouterID: 51, interface: "eth0",
                                                primaryAddress: IPAddress("192.0.2.2")!,
                                                addresses: [VirtualAddress(IPAddress("192.0.2.100")!, prefixLength: 24)])
            r4.priority = 100
            let r6 = VirtualRouterConfiguration(name: "v6", virtualRouterID: 53, interface: "eth0",
                                                primaryAddress: try lan.linkLocal(1),
                                                addresses: [VirtualAddress(IPAddress("fe80::100")!, prefixLength: 64),
                                                            VirtualAddress(IPAddress("2001:db8::100")!, prefixLength: 64)])
            var engine = try VRRPEngine(routers: [r4, r6])
            _ = engine.handle(.startup, now: .zero)
            let a4 = engine.handle(.ipv4Datagram(got4.bytes, interface: "eth0"), now: .seconds(0.1))
            let a6 = engine.handle(.ipv6Message(got6.bytes, source: got6.source, destination: got6.destination,
                                                hopLimit: got6.hopLimit, interface: "eth0"), now: .seconds(0.2))
            #expect(a4.contains { if case .router(0, .drop(.badHopLimit, _)) = $0 { true } else { false } }, "\(a4)")
            #expect(a6.contains { if case .router(1, .drop(.badHopLimit, _)) = $0 { true } else { false } }, "\(a6)")
        }

        @Test("the transport's receive thread hands the engine one input per advert, IPv4 and IPv6, with intact bytes")
        func receiveLoop() throws {
            guard Integration.available() else { return }
            let lan = try TestLAN(nodes: 2)
            defer { lan.remove() }
            let source6 = try lan.linkLocal(0)
            let tx = LinuxVRRPTransport()
            let rx = LinuxVRRPTransport()
            defer { tx.close(); rx.close() }
            try tx.add(try lan.socket(0, .ipv4))
            try tx.add(try lan.socket(0, .ipv6))
            try rx.add(try lan.socket(1, .ipv4))
            let collector = InputCollector()
            try rx.startReceiving { collector.append($0) }
            try rx.add(try lan.socket(1, .ipv6))  // added while the thread runs
            #expect(throws: NetLinuxError.self) { try rx.startReceiving { _ in } }

            // More adverts than the ring of reused arrays holds, all kept by the test: the ring must
            // not overwrite an array the engine (here: the test) still holds.
            let count = 200
            let source4 = IPAddress("192.0.2.1")!
            for i in 0..<count {
                let priority = UInt8(1 + i % 254)
                try tx.transmit(Fixtures.v2(priority: priority), source: source4, destination: Fixtures.v4Group,
                                checksumForm: .messageOnly, interface: "eth0")
                try tx.transmit(Fixtures.v3ipv6(priority: priority), source: source6, destination: Fixtures.v6Group,
                                checksumForm: .pseudoHeader, interface: "eth0")
                if i % 50 == 49 { usleep(5_000) }  // stay well inside the receive buffers
            }
            let inputs = collector.wait(for: 2 * count)
            #expect(inputs.count == 2 * count)
            var v4: [UInt8] = []
            var v6: [UInt8] = []
            for input in inputs {
                switch input {
                case .ipv4Datagram(let bytes, let interface):
                    #expect(interface == "eth0")
                    v4.append(try VRRPAdvertisement.decodeIPv4Datagram(bytes).advertisement.priority)
                case .ipv6Message(let bytes, let source, let destination, let hopLimit, let interface):
                    #expect(interface == "eth0" && source == source6 && destination == Fixtures.v6Group && hopLimit == 255)
                    v6.append(try VRRPAdvertisement.decode(message: bytes, source: source, destination: destination,
                                                           hopLimit: hopLimit).advertisement.priority)
                default:
                    Issue.record("unexpected input \(input)")
                }
            }
            let expected = (0..<count).map { UInt8(1 + $0 % 254) }
            #expect(v4 == expected)
            #expect(v6 == expected)
            rx.close()
            #expect(rx.sockets.isEmpty)
        }

        @Test("ENOBUFS on send is reported with the advert and interface, counted, and the next send works")
        func sendFailure() throws {
            guard Integration.available() else { return }
            let lan = try TestLAN(nodes: 2)
            defer { lan.remove() }
            let sender = try lan.socket(0, .ipv4)
            let receiver = try lan.socket(1, .ipv4)
            defer { sender.close(); receiver.close() }
            let fd = sender.descriptor.rawValue
            var calls = SystemCalls.live
            calls.sendmsg = { f, m, flags in
                if f == fd { errno = ENOBUFS; return -1 }
                return SystemCalls.live.sendmsg(f, m, flags)
            }
            let source = IPAddress("192.0.2.1")!
            SystemCalls.withOverride(calls) {
                #expect {
                    try sender.send(Fixtures.v2(), source: source, destination: Fixtures.v4Group, checksumForm: .messageOnly)
                } throws: { e in
                    guard let e = e as? NetLinuxError else { return false }
                    return e.errno == .noBufferSpace
                        && e.description.hasPrefix("sending a VRRP advert (VRID 51) to 224.0.0.18 on eth0: no buffer space")
                }
            }
            #expect(sender.statistics.sendFailures == 1 && sender.statistics.sent == 0)
            try sender.send(Fixtures.v2(), source: source, destination: Fixtures.v4Group, checksumForm: .messageOnly)
            #expect(try receiver.receiveOne() != nil)
        }

        @Test("a full send buffer (EAGAIN) is waited out once; a failing recvmsg is reported and counted")
        func wouldBlockAndReceiveFailure() throws {
            guard Integration.available() else { return }
            let lan = try TestLAN(nodes: 2)
            defer { lan.remove() }
            let sender = try lan.socket(0, .ipv4)
            let receiver = try lan.socket(1, .ipv4)
            defer { sender.close(); receiver.close() }
            let fd = sender.descriptor.rawValue
            let attempts = Atomic<Int>(0)
            var calls = SystemCalls.live
            calls.sendmsg = { f, m, flags in
                if f == fd, attempts.add(1, ordering: .relaxed).newValue == 1 { errno = EAGAIN; return -1 }
                return SystemCalls.live.sendmsg(f, m, flags)
            }
            let rfd = receiver.descriptor.rawValue
            calls.recvmsg = { f, m, flags in
                if f == rfd { errno = ENOMEM; return -1 }
                return SystemCalls.live.recvmsg(f, m, flags)
            }
            try SystemCalls.withOverride(calls) {
                try sender.send(Fixtures.v2(), source: IPAddress("192.0.2.1")!, destination: Fixtures.v4Group,
                                checksumForm: .messageOnly)
                #expect(attempts.load(ordering: .relaxed) == 2)
                #expect(try receiver.descriptor.waitReadable(timeout: .seconds(2)))
                #expect(throws: NetLinuxError.self) { _ = try receiver.receive { _ in } }
            }
            #expect(receiver.statistics.receiveFailures == 1)
            #expect(try receiver.receiveOne() != nil, "the packet is still queued")
        }

        @Test("a missing interface is a clear error")
        func missingInterface() throws {
            guard Integration.available() else { return }
            let lan = try TestLAN(nodes: 1)
            defer { lan.remove() }
            #expect {
                _ = try NetworkNamespace.perform(inNamespaceAt: lan.path(0)) {
                    try VRRPSocket(VRRPSocketConfiguration(interface: "eth9", family: .ipv4))
                }
            } throws: { e in "\(e)" == "opening a VRRP socket (IPv4) on eth9: no such device" }
        }

        @Test("the receive buffer is granted as asked, beyond net.core.rmem_max")
        func receiveBuffer() throws {
            guard Integration.available() else { return }
            let lan = try TestLAN(nodes: 1)
            defer { lan.remove() }
            let socket = try NetworkNamespace.perform(inNamespaceAt: lan.path(0)) {
                try VRRPSocket(VRRPSocketConfiguration(interface: "eth0", family: .ipv4, receiveBufferSize: 3 << 20))
            }
            defer { socket.close() }
            #expect(socket.receiveBufferSize == 6 << 20, "the kernel doubles the request for its bookkeeping")
        }
    }
}
