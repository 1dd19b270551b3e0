import NetLinux
import Testing
import VRRPCore
@testable import IPVSControl

// Replies laid out as the kernel's ip_vs_genl_fill_* functions send them (linux/ip_vs.h
// numbers; addresses as the 16-byte union nf_inet_addr, ports big-endian, STATS with u32
// counters and u64 bytes, STATS64 all u64 with IPVS_STATS_ATTR_PAD), decoded; then round
// trips through the encoder; then malformed replies, each with its specific error.

private let addr16v4: [UInt8] = [192, 0, 2, 10] + [UInt8](repeating: 0, count: 12)
private let rs6Bytes: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [2]

/// STATS (u32 counters, u64 bytes) with distinct values, and STATS64 with other ones.
private let stats32 = nest(10, attr(1, le32(1)), attr(2, le32(2)), attr(3, le32(3)), attr(4, le64(4)), attr(5, le64(5)),
                           attr(6, le32(6)), attr(7, le32(7)), attr(8, le32(8)), attr(9, le32(9)), attr(10, le32(10)))
private let stats64 = nest(12, attr(11, []), attr(1, le64(101)), attr(2, le64(102)), attr(3, le64(103)),
                           attr(4, le64(0x1_0000_0004)), attr(5, le64(105)), attr(6, le64(106)), attr(7, le64(107)),
                           attr(8, le64(108)), attr(9, le64(109)), attr(10, le64(110)))

/// A GET_SERVICE reply for TCP 192.0.2.10:80 rr persistent 360 mask 255.255.255.0.
private func serviceReply(_ extra: [UInt8] = [], af: UInt16 = 2, port: [UInt8] = be16(80), address: [UInt8] = addr16v4,
                          flags: [UInt8] = le32(0x1 | 0x2) + le32(0xFFFF_FFFF)) -> [UInt8] {
    genl(flags: 0x2, command: 1, nest(1, attr(1, le16(af)), attr(2, le16(6)), attr(3, address), attr(4, port),
                                      attr(6, cstring("rr")), attr(7, flags), attr(8, le32(360)),
                                      attr(9, [255, 255, 255, 0]), stats32, stats64, extra))
}

@Suite("IPVS replies: decoding, round trips, malformed input")
struct IPVSDecodingTests {
    @Test("GET_INFO reply (IPVS_CMD_SET_INFO): version and connection table size")
    func info() throws {
        let info = try withMessage(genl(flags: 0, command: 14, attr(1, le32(0x010201)), attr(2, le32(4096)))) {
            try IPVSInfo(parsing: $0)
        }
        #expect(info == IPVSInfo(version: 0x010201, connectionTableSize: 4096))
        #expect(info.description == "IP Virtual Server version 1.2.1 (size=4096)")
    }

    @Test("GET_CONFIG reply (IPVS_CMD_SET_CONFIG): the three timeouts")
    func config() throws {
        let t = try withMessage(genl(flags: 0, command: 12, attr(4, le32(900)), attr(5, le32(120)), attr(6, le32(300)))) {
            try IPVSTimeouts(parsing: $0)
        }
        #expect(t == IPVSTimeouts(tcp: 900, tcpFin: 120, udp: 300))
    }

    @Test("a service as the kernel lists it: 16-byte address, hashed flag, be32 netmask, STATS64 preferred over STATS")
    func service() throws {
        let entry = try withMessage(serviceReply()) { try IPVSServiceEntry(parsing: $0) }
        let expected = IPVSService(.address(protocol: .tcp, address: IPAddress("192.0.2.10")!, port: 80), scheduler: .roundRobin,
                                   flags: [.persistent, .hashed], timeout: 360, netmask: .ipv4(mask: 0xFFFF_FF00))
        #expect(entry.service == expected)
        #expect(entry.service.persistenceTimeout == 360)
        #expect(entry.statistics.connections == 101)
        #expect(entry.statistics.incomingBytes == 0x1_0000_0004)
        #expect(entry.statistics.outgoingByteRate == 110)
        #expect(entry.description == "TCP  192.0.2.10:80 rr persistent 360 mask 255.255.255.0")
    }

    @Test("without STATS64, the 32-bit STATS are read")
    func statistics32() throws {
        let bytes = genl(flags: 0x2, command: 1, nest(1, attr(1, le16(2)), attr(5, le32(3)), attr(6, cstring("wlc")), stats32))
        let entry = try withMessage(bytes) { try IPVSServiceEntry(parsing: $0) }
        #expect(entry.service.key == .firewallMark(3, family: .ipv4))
        #expect(entry.statistics.connections == 1 && entry.statistics.outgoingBytes == 5 && entry.statistics.outgoingByteRate == 10)
    }

    @Test("an IPv6 fwmark service with a prefix-length netmask and a persistence engine")
    func fwmarkIPv6() throws {
        let bytes = genl(flags: 0x2, command: 1, nest(1, attr(1, le16(10)), attr(5, le32(7)), attr(6, cstring("mh")),
                                                      attr(11, cstring("sip")), attr(7, le32(0x1 | 0x2 | 0x10) + le32(0xFFFF_FFFF)),
                                                      attr(8, le32(60)), attr(9, le32(64))))
        let s = try withMessage(bytes) { try IPVSServiceEntry(parsing: $0) }.service
        #expect(s.key == .firewallMark(7, family: .ipv6))
        #expect(s.netmask == .ipv6(prefixLength: 64))
        #expect(s.persistenceEngine == "sip")
        #expect(s.description == "FWM  7 IPv6 mh (mh-port) persistent 60 mask 64 pe sip")
    }

    @Test("a destination of the other family with a GUE tunnel and connection counts")
    func destination() throws {
        let bytes = genl(flags: 0x2, command: 5, nest(2, attr(1, rs6Bytes), attr(2, be16(80)), attr(3, le32(2)), attr(4, le32(5)),
                                                      attr(5, le32(100)), attr(6, le32(10)), attr(7, le32(11)), attr(8, le32(12)),
                                                      attr(9, le32(13)), attr(11, le16(10)), attr(13, [1]), attr(14, be16(6080)),
                                                      attr(15, le16(1)), stats64))
        let e = try withMessage(bytes) { try IPVSDestinationEntry(parsing: $0, serviceFamily: .ipv4) }
        #expect(e.destination == IPVSDestination(address: IPAddress("2001:db8::2")!, port: 80, forwarding: .tunnel, weight: 5,
                                                 upperThreshold: 100, lowerThreshold: 10, tunnelType: .gue, tunnelPort: 6080,
                                                 tunnelFlags: [.checksum]))
        #expect(e.activeConnections == 11 && e.inactiveConnections == 12 && e.persistentConnections == 13)
        #expect(e.statistics.connections == 101)
        #expect(e.destination.tunnelDescription == "gue:6080:+c")
    }

    @Test("a destination without IPVS_DEST_ATTR_ADDR_FAMILY (kernels before 3.18) takes the service's family")
    func destinationOldKernel() throws {
        let bytes = genl(flags: 0x2, command: 5, nest(2, attr(1, addr16v4), attr(2, be16(80)), attr(3, le32(0x3 | 0x100)),
                                                      attr(4, le32(1))))
        let d = try withMessage(bytes) { try IPVSDestinationEntry(parsing: $0, serviceFamily: .ipv4) }.destination
        #expect(d.address == IPAddress("192.0.2.10")!)
        #expect(d.forwarding == .directRouting)   // only the IP_VS_CONN_F_FWD_MASK bits
    }

    @Test("sync daemons as listed, IPv4 and IPv6 groups")
    func daemons() throws {
        let v4 = genl(flags: 0x2, command: 9, nest(3, attr(1, le32(1)), attr(2, cstring("dummy0")), attr(3, le32(5)),
                                                   attr(4, le16(1472)), attr(7, le16(8848)), attr(8, [1]), attr(5, [224, 0, 0, 81])))
        let d = try withMessage(v4) { try IPVSSyncDaemon(parsing: $0) }
        #expect(d == IPVSSyncDaemon(state: .master, interface: "dummy0", syncID: 5, maximumLength: 1472,
                                    group: IPAddress("224.0.0.81")!, port: 8848, ttl: 1))
        let group6: [UInt8] = [0xff, 0x02] + [UInt8](repeating: 0, count: 13) + [0x51]
        let v6 = genl(flags: 0x2, command: 9, nest(3, attr(1, le32(2)), attr(2, cstring("eth0")), attr(3, le32(1)), attr(6, group6)))
        #expect(try withMessage(v6) { try IPVSSyncDaemon(parsing: $0) }.group == IPAddress("ff02::51")!)
    }

    // MARK: Round trips: NEW_SERVICE, NEW_DEST and NEW_DAEMON share their command with the replies.

    @Test("services round-trip through the encoder and the decoder", arguments: [
        IPVSService(.address(protocol: .tcp, address: IPAddress("192.0.2.10")!, port: 80), scheduler: .roundRobin),
        IPVSService(.address(protocol: .sctp, address: IPAddress("2001:db8::1")!, port: 9), scheduler: .leastConnection,
                    flags: [.persistent], timeout: 10, netmask: .ipv6(prefixLength: 48), persistenceEngine: "sip"),
        IPVSService(.firewallMark(1, family: .ipv4), scheduler: .sourceHashing, flags: [.shFallback, .schedulerFlag3, .persistent],
                    timeout: 300, netmask: .ipv4(prefixLength: 16)),
        IPVSService(.address(protocol: .udp, address: IPAddress("203.0.113.5")!, port: 0), scheduler: IPVSScheduler(rawValue: "custom"),
                    flags: [.onePacket]),
    ])
    func serviceRoundTrip(service: IPVSService) throws {
        let decoded = try withMessage(IPVSRequest.newService(service).encode(familyID: 0x24)) { try IPVSServiceEntry(parsing: $0) }
        #expect(decoded.service == service)
    }

    @Test("destinations round-trip", arguments: [
        IPVSDestination(address: IPAddress("198.51.100.2")!, port: 80, forwarding: .masquerade, weight: 0),
        IPVSDestination(address: IPAddress("198.51.100.3")!, port: 443, forwarding: .directRouting, weight: 65535,
                        upperThreshold: 1000, lowerThreshold: 1),
        IPVSDestination(address: IPAddress("2001:db8::9")!, port: 53, forwarding: .tunnel, weight: 2, tunnelType: .gre,
                        tunnelFlags: [.checksum]),
        IPVSDestination(address: IPAddress("198.51.100.4")!, port: 80, forwarding: .local),
    ])
    func destinationRoundTrip(destination: IPVSDestination) throws {
        let service = IPVSService.Key.address(protocol: .tcp, address: IPAddress("192.0.2.10")!, port: 80)
        let bytes = IPVSRequest.newDestination(destination, service: service).encode(familyID: 0x24)
        let decoded = try withMessage(bytes) { try IPVSDestinationEntry(parsing: $0, serviceFamily: .ipv4) }
        #expect(decoded.destination == destination)
    }

    @Test("sync daemons round-trip")
    func daemonRoundTrip() throws {
        let d = IPVSSyncDaemon(state: .backup, interface: "veth0", syncID: 200, maximumLength: 1000,
                               group: IPAddress("ff05::81")!, port: 9000, ttl: 4)
        #expect(try withMessage(IPVSRequest.newDaemon(d).encode(familyID: 0x24)) { try IPVSSyncDaemon(parsing: $0) } == d)
    }

    // MARK: Malformed replies

    @Test("an attribute whose length runs past the end")
    func truncated() {
        var bytes = serviceReply()
        bytes.removeLast(8)                                               // cut into the last nest
        bytes.replaceSubrange(0..<4, with: le32(UInt32(bytes.count)))     // the message itself stays consistent
        let error = thrown(IPVSDecodingError.self) { _ = try withMessage(bytes) { try IPVSServiceEntry(parsing: $0) } }
        guard case let .malformed(inner, container)? = error else {
            Issue.record("expected .malformed, got \(String(describing: error))")
            return
        }
        #expect(container == "IPVS service reply")
        guard case .badAttributeLength = inner else {
            Issue.record("expected badAttributeLength, got \(inner)")
            return
        }
    }

    @Test("a nest cut inside an attribute header")
    func truncatedInsideNest() {
        let broken = le16(4 + 6) + le16(1 | 0x8000) + [8, 0, 1, 0, 2, 0]   // a nest holding 6 bytes of an 8-byte AF
        let error = thrown(IPVSDecodingError.self) {
            _ = try withMessage(genl(flags: 0, command: 1, broken + [0, 0])) { try IPVSServiceEntry(parsing: $0) }
        }
        #expect(error == .malformed(.badAttributeLength(offset: 0, length: 8, available: 6), in: "IPVS service"))
    }

    @Test("missing required attributes are named")
    func missing() {
        let noAF = genl(flags: 0, command: 1, nest(1, attr(2, le16(6)), attr(3, addr16v4), attr(4, be16(80))))
        #expect(thrown(IPVSDecodingError.self) { _ = try withMessage(noAF) { try IPVSServiceEntry(parsing: $0) } }
            == .missingAttribute("IPVS_SVC_ATTR_AF", in: "IPVS service"))
        let noPort = genl(flags: 0, command: 1, nest(1, attr(1, le16(2)), attr(2, le16(6)), attr(3, addr16v4)))
        #expect(thrown(IPVSDecodingError.self) { _ = try withMessage(noPort) { try IPVSServiceEntry(parsing: $0) } }
            == .missingAttribute("IPVS_SVC_ATTR_PORT", in: "IPVS service"))
        let noNest = genl(flags: 0, command: 1)
        #expect(thrown(IPVSDecodingError.self) { _ = try withMessage(noNest) { try IPVSServiceEntry(parsing: $0) } }
            == .missingAttribute("IPVS_CMD_ATTR_SERVICE", in: "IPVS service reply"))
        let noWeight = genl(flags: 0, command: 5, nest(2, attr(1, addr16v4), attr(2, be16(80)), attr(3, le32(0)), attr(11, le16(2))))
        #expect(thrown(IPVSDecodingError.self) { _ = try withMessage(noWeight) { try IPVSDestinationEntry(parsing: $0, serviceFamily: .ipv4) } }
            == .missingAttribute("IPVS_DEST_ATTR_WEIGHT", in: "IPVS destination"))
        let noVersion = genl(flags: 0, command: 14, attr(2, le32(4096)))
        #expect(thrown(IPVSDecodingError.self) { _ = try withMessage(noVersion) { try IPVSInfo(parsing: $0) } }
            == .missingAttribute("IPVS_INFO_ATTR_VERSION", in: "IPVS info reply"))
        let noInterface = genl(flags: 0, command: 9, nest(3, attr(1, le32(1)), attr(3, le32(1))))
        #expect(thrown(IPVSDecodingError.self) { _ = try withMessage(noInterface) { try IPVSSyncDaemon(parsing: $0) } }
            == .missingAttribute("IPVS_DAEMON_ATTR_MCAST_IFN", in: "IPVS sync daemon"))
    }

    @Test("values of the wrong size")
    func wrongSizes() {
        #expect(thrown(IPVSDecodingError.self) { _ = try withMessage(serviceReply(port: le32(80))) { try IPVSServiceEntry(parsing: $0) } }
            == .badAttributeSize("IPVS_SVC_ATTR_PORT", length: 4, expected: "2", in: "IPVS service"))
        #expect(thrown(IPVSDecodingError.self) { _ = try withMessage(serviceReply(flags: le32(1))) { try IPVSServiceEntry(parsing: $0) } }
            == .badAttributeSize("IPVS_SVC_ATTR_FLAGS", length: 4, expected: "8 (struct ip_vs_flags)", in: "IPVS service"))
        // An IPv6 service whose address has only 4 bytes.
        #expect(thrown(IPVSDecodingError.self) {
            _ = try withMessage(serviceReply(af: 10, address: [192, 0, 2, 10])) { try IPVSServiceEntry(parsing: $0) }
        } == .badAttributeSize("IPVS_SVC_ATTR_ADDR", length: 4, expected: "16", in: "IPVS service"))
        let badStats = genl(flags: 0, command: 1, nest(1, attr(1, le16(2)), attr(5, le32(1)), nest(12, attr(1, [1, 2, 3]))))
        #expect(thrown(IPVSDecodingError.self) { _ = try withMessage(badStats) { try IPVSServiceEntry(parsing: $0) } }
            == .badAttributeSize("IPVS_STATS_ATTR 1", length: 3, expected: "4 or 8", in: "IPVS service statistics"))
        let longName = genl(flags: 0, command: 9, nest(3, attr(1, le32(1)), attr(2, cstring("an-interface-name-too-long")),
                                                       attr(3, le32(1))))
        #expect(thrown(IPVSDecodingError.self) { _ = try withMessage(longName) { try IPVSSyncDaemon(parsing: $0) } }
            == .badAttributeSize("IPVS_DAEMON_ATTR_MCAST_IFN", length: 27, expected: "at most 16 (a string)", in: "IPVS sync daemon"))
        let shortTimeout = genl(flags: 0, command: 12, attr(4, le16(900)), attr(5, le32(1)), attr(6, le32(1)))
        #expect(thrown(IPVSDecodingError.self) { _ = try withMessage(shortTimeout) { try IPVSTimeouts(parsing: $0) } }
            == .badAttributeSize("IPVS_CMD_ATTR_TIMEOUT_TCP", length: 2, expected: "4", in: "IPVS config reply"))
    }

    @Test("unknown address families and unexpected commands")
    func familiesAndCommands() {
        #expect(thrown(IPVSDecodingError.self) { _ = try withMessage(serviceReply(af: 7)) { try IPVSServiceEntry(parsing: $0) } }
            == .unknownAddressFamily(7, in: "IPVS service"))
        let dest = genl(flags: 0, command: 5, nest(2, attr(1, addr16v4), attr(2, be16(80)), attr(3, le32(0)), attr(4, le32(1)),
                                                   attr(11, le16(3))))
        #expect(thrown(IPVSDecodingError.self) { _ = try withMessage(dest) { try IPVSDestinationEntry(parsing: $0, serviceFamily: .ipv4) } }
            == .unknownAddressFamily(3, in: "IPVS destination"))
        let info = genl(flags: 0, command: 15, attr(1, le32(1)), attr(2, le32(1)))
        let error = thrown(IPVSDecodingError.self) { _ = try withMessage(info) { try IPVSInfo(parsing: $0) } }
        #expect(error == .unexpectedCommand(15, expected: 14, in: "IPVS info reply"))
        #expect(error?.description == "IPVS info reply has command 15, expected 14")
    }

    @Test("error descriptions say what is wrong where")
    func descriptions() {
        #expect(IPVSDecodingError.missingAttribute("IPVS_SVC_ATTR_AF", in: "IPVS service").description == "IPVS service lacks IPVS_SVC_ATTR_AF")
        #expect(IPVSDecodingError.unknownAddressFamily(7, in: "IPVS service").description
            == "IPVS service has address family 7, neither AF_INET (2) nor AF_INET6 (10)")
        #expect(IPVSDecodingError.badAttributeSize("IPVS_SVC_ATTR_PORT", length: 4, expected: "2", in: "IPVS service").description
            == "IPVS_SVC_ATTR_PORT in IPVS service has 4 bytes, expected 2")
    }
}
