import NetLinux
import Testing
import VRRPCore
@testable import IPVSControl

// Every IPVS request, checked byte for byte against messages written out here from
// linux/ip_vs.h: commands IPVS_CMD_NEW_SERVICE = 1 ... IPVS_CMD_FLUSH = 17; top-level
// IPVS_CMD_ATTR_SERVICE = 1, _DEST = 2, _DAEMON = 3, _TIMEOUT_TCP = 4, _TCP_FIN = 5, _UDP = 6;
// IPVS_SVC_ATTR_AF = 1, PROTOCOL 2, ADDR 3, PORT 4, FWMARK 5, SCHED_NAME 6, FLAGS 7,
// TIMEOUT 8, NETMASK 9, PE_NAME 11; IPVS_DEST_ATTR_ADDR = 1, PORT 2, FWD_METHOD 3, WEIGHT 4,
// U_THRESH 5, L_THRESH 6, ADDR_FAMILY 11, TUN_TYPE 13, TUN_PORT 14, TUN_FLAGS 15;
// IPVS_DAEMON_ATTR_STATE = 1, MCAST_IFN 2, SYNC_ID 3, SYNC_MAXLEN 4, MCAST_GROUP 5,
// MCAST_GROUP6 6, MCAST_PORT 7, MCAST_TTL 8. AF_INET = 2, AF_INET6 = 10.

private let vip = IPAddress("192.0.2.10")!
private let vip6 = IPAddress("2001:db8::1")!
private let rs = IPAddress("198.51.100.2")!
private let rs6 = IPAddress("2001:db8::2")!
private let web = IPVSService.Key.address(protocol: .tcp, address: vip, port: 80)
private let family: UInt16 = 0x24

/// The identifying attributes of `web` (TCP 192.0.2.10:80).
private let webKey: [UInt8] = attr(1, le16(2)) + attr(2, le16(6)) + attr(3, [192, 0, 2, 10]) + attr(4, be16(80))
/// 2001:db8::1 in network order.
private let vip6Bytes: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1]
private let rs6Bytes: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [2]

private func expectBytes(_ request: IPVSRequest, _ expected: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
    let actual = request.encode(familyID: family)
    #expect(actual == expected, "\(request.operation)\n got      \(hex(actual))\n expected \(hex(expected))",
            sourceLocation: sourceLocation)
}

@Suite("IPVS requests, byte for byte")
struct IPVSEncodingTests {
    @Test("NEW_SERVICE TCP 192.0.2.10:80 rr, written out byte by byte")
    func newServiceLiteral() {
        let expected: [UInt8] = [
            0x5C, 0x00, 0x00, 0x00,   // nlmsg_len 92
            0x24, 0x00,               // nlmsg_type: the family id
            0x05, 0x00,               // NLM_F_REQUEST | NLM_F_ACK
            0x00, 0x00, 0x00, 0x00,   // nlmsg_seq
            0x00, 0x00, 0x00, 0x00,   // nlmsg_pid
            0x01, 0x01, 0x00, 0x00,   // genlmsghdr: IPVS_CMD_NEW_SERVICE, version 1, reserved
            0x48, 0x00, 0x01, 0x80,   // IPVS_CMD_ATTR_SERVICE | NLA_F_NESTED, 72 bytes
            0x06, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00,               // AF: AF_INET, padded
            0x06, 0x00, 0x02, 0x00, 0x06, 0x00, 0x00, 0x00,               // PROTOCOL: IPPROTO_TCP
            0x08, 0x00, 0x03, 0x00, 0xC0, 0x00, 0x02, 0x0A,               // ADDR: 192.0.2.10
            0x06, 0x00, 0x04, 0x00, 0x00, 0x50, 0x00, 0x00,               // PORT: 80, big-endian
            0x07, 0x00, 0x06, 0x00, 0x72, 0x72, 0x00, 0x00,               // SCHED_NAME: "rr\0"
            0x0C, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, // FLAGS {0, ~0}
            0x08, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00,               // TIMEOUT: 0
            0x08, 0x00, 0x09, 0x00, 0xFF, 0xFF, 0xFF, 0xFF,               // NETMASK: 255.255.255.255
        ]
        expectBytes(.newService(IPVSService(web, scheduler: .roundRobin)), expected)
    }

    @Test("NEW_SERVICE for IPv6 with sh flags, ops, persistence, a /64 netmask and a persistence engine")
    func newServiceIPv6() {
        var s = IPVSService(.address(protocol: .udp, address: vip6, port: 5060), scheduler: .sourceHashing,
                            flags: [.shFallback, .shPort, .onePacket], netmask: .ipv6(prefixLength: 64), persistenceEngine: "sip")
        s.persistenceTimeout = 60
        let service = nest(1,
                           attr(1, le16(10)), attr(2, le16(17)), attr(3, vip6Bytes), attr(4, be16(5060)),
                           attr(6, cstring("sh")), attr(11, cstring("sip")),
                           attr(7, le32(0x1 | 0x4 | 0x8 | 0x10) + le32(0xFFFF_FFFF)),
                           attr(8, le32(60)),
                           attr(9, le32(64)))   // IPv6: the prefix length, host order
        expectBytes(.newService(s), genl(flags: requestAck, command: 1, service))
    }

    @Test("an IPv4 persistence netmask goes out in network order")
    func ipv4Netmask() {
        var s = IPVSService(web, scheduler: .weightedLeastConnection, netmask: .ipv4(prefixLength: 24))
        s.persistenceTimeout = 360
        let service = nest(1, webKey, attr(6, cstring("wlc")), attr(7, le32(1) + le32(0xFFFF_FFFF)), attr(8, le32(360)),
                           attr(9, [255, 255, 255, 0]))
        expectBytes(.newService(s), genl(flags: requestAck, command: 1, service))
        #expect(be32(0xFFFF_FF00) == [255, 255, 255, 0])
    }

    @Test("fwmark services carry AF and FWMARK, no protocol, address or port")
    func firewallMark() {
        let s4 = IPVSService(.firewallMark(7, family: .ipv4), scheduler: .maglevHashing, flags: [.mhPort])
        expectBytes(.newService(s4), genl(flags: requestAck, command: 1,
                                          nest(1, attr(1, le16(2)), attr(5, le32(7)), attr(6, cstring("mh")),
                                               attr(7, le32(0x10) + le32(0xFFFF_FFFF)), attr(8, le32(0)),
                                               attr(9, be32(0xFFFF_FFFF)))))
        expectBytes(.deleteService(.firewallMark(8, family: .ipv6)),
                    genl(flags: requestAck, command: 3, nest(1, attr(1, le16(10)), attr(5, le32(8)))))
    }

    @Test("the kernel's own 'hashed' flag is never sent")
    func hashedNotSent() {
        let s = IPVSService(web, scheduler: .roundRobin, flags: [.hashed, .schedulerFlag3])
        let bytes = IPVSRequest.newService(s).encode(familyID: family)
        let flags = attr(7, le32(0x20) + le32(0xFFFF_FFFF))
        #expect(bytes.count == 92)
        #expect(Array(bytes[64..<76]) == flags, "\(hex(Array(bytes[64..<76])))")
    }

    @Test("SET_SERVICE sends the full entry, DEL_SERVICE and GET_SERVICE only the key; the listing is a dump")
    func serviceCommands() {
        let s = IPVSService(web, scheduler: .weightedRoundRobin)
        let full = nest(1, webKey, attr(6, cstring("wrr")), attr(7, le32(0) + le32(0xFFFF_FFFF)), attr(8, le32(0)),
                        attr(9, be32(0xFFFF_FFFF)))
        expectBytes(.setService(s), genl(flags: requestAck, command: 2, full))
        expectBytes(.deleteService(web), genl(flags: requestAck, command: 3, nest(1, webKey)))
        expectBytes(.getService(web), genl(flags: requestAck, command: 4, nest(1, webKey)))
        expectBytes(.getServices, genl(flags: requestDump, command: 4))
    }

    @Test("NEW_DEST: service key, then the destination with method, weight and thresholds; no tunnel attributes for NAT")
    func newDestination() {
        let d = IPVSDestination(address: rs, port: 8080, forwarding: .masquerade, weight: 3, upperThreshold: 100, lowerThreshold: 10)
        let dest = nest(2, attr(1, [198, 51, 100, 2]), attr(2, be16(8080)), attr(11, le16(2)),
                        attr(3, le32(0)), attr(4, le32(3)), attr(5, le32(100)), attr(6, le32(10)))
        expectBytes(.newDestination(d, service: web), genl(flags: requestAck, command: 5, nest(1, webKey), dest))
        var dr = d
        dr.forwarding = .directRouting
        let route = nest(2, attr(1, [198, 51, 100, 2]), attr(2, be16(8080)), attr(11, le16(2)),
                         attr(3, le32(3)), attr(4, le32(3)), attr(5, le32(100)), attr(6, le32(10)))
        expectBytes(.setDestination(dr, service: web), genl(flags: requestAck, command: 6, nest(1, webKey), route))
    }

    @Test("a GUE tunnel to an IPv6 real server of an IPv4 service: TUN_TYPE u8, TUN_PORT big-endian, TUN_FLAGS u16")
    func tunnelDestination() {
        let d = IPVSDestination(address: rs6, port: 80, forwarding: .tunnel, weight: 1, tunnelType: .gue, tunnelPort: 6080,
                                tunnelFlags: [.remoteChecksum])
        let dest = nest(2, attr(1, rs6Bytes), attr(2, be16(80)), attr(11, le16(10)),
                        attr(3, le32(2)), attr(4, le32(1)), attr(5, le32(0)), attr(6, le32(0)),
                        attr(13, [1]), attr(14, be16(6080)), attr(15, le16(2)))
        expectBytes(.newDestination(d, service: web), genl(flags: requestAck, command: 5, nest(1, webKey), dest))
        // The u8 attribute is 5 bytes long and padded to 8.
        #expect(attr(13, [1]) == [5, 0, 13, 0, 1, 0, 0, 0])
    }

    @Test("DEL_DEST identifies the destination by address, port and family; GET_DEST is a dump for one service")
    func destinationIdentity() {
        expectBytes(.deleteDestination(address: rs, port: 80, service: web),
                    genl(flags: requestAck, command: 7, nest(1, webKey),
                         nest(2, attr(1, [198, 51, 100, 2]), attr(2, be16(80)), attr(11, le16(2)))))
        expectBytes(.getDestinations(service: web), genl(flags: requestDump, command: 8, nest(1, webKey)))
    }

    @Test("FLUSH, ZERO (all, or one service), GET_INFO, GET_CONFIG and SET_CONFIG")
    func tableAndConfig() {
        expectBytes(.flush, genl(flags: requestAck, command: 17))
        expectBytes(.zero(nil), genl(flags: requestAck, command: 16))
        expectBytes(.zero(web), genl(flags: requestAck, command: 16, nest(1, webKey)))
        expectBytes(.getInfo, genl(flags: requestAck, command: 15))
        expectBytes(.getConfig, genl(flags: requestAck, command: 13))
        expectBytes(.setConfig(IPVSTimeouts(tcp: 900, tcpFin: 0, udp: 30)),
                    genl(flags: requestAck, command: 12, attr(4, le32(900)), attr(5, le32(0)), attr(6, le32(30))))
    }

    @Test("NEW_DAEMON with every option, DEL_DAEMON with the state only, GET_DAEMON as a dump")
    func daemons() {
        let d = IPVSSyncDaemon(state: .master, interface: "dummy0", syncID: 5, maximumLength: 1400,
                               group: IPAddress("224.0.0.81")!, port: 8848, ttl: 2)
        let daemon = nest(3, attr(1, le32(1)), attr(2, cstring("dummy0")), attr(3, le32(5)), attr(4, le16(1400)),
                          attr(5, [224, 0, 0, 81]), attr(7, le16(8848)), attr(8, [2]))
        expectBytes(.newDaemon(d), genl(flags: requestAck, command: 9, daemon))
        let v6 = IPVSSyncDaemon(state: .backup, interface: "eth0", syncID: 1, group: IPAddress("ff02::1:2")!)
        let group6: [UInt8] = [0xff, 0x02] + [UInt8](repeating: 0, count: 11) + [1, 0, 2]
        expectBytes(.newDaemon(v6), genl(flags: requestAck, command: 9,
                                         nest(3, attr(1, le32(2)), attr(2, cstring("eth0")), attr(3, le32(1)), attr(6, group6))))
        expectBytes(.deleteDaemon(.backup), genl(flags: requestAck, command: 10, nest(3, attr(1, le32(2)))))
        expectBytes(.getDaemons, genl(flags: requestDump, command: 11))
    }

    @Test("encode puts the sequence number in nlmsg_seq")
    func sequence() {
        let bytes = IPVSRequest.flush.encode(familyID: family, sequence: 0x0102_0304)
        #expect(bytes == genl(flags: requestAck, command: 17, sequence: 0x0102_0304))
    }

    @Test("operations name the service and destination")
    func operations() {
        let d = IPVSDestination(address: rs, port: 80)
        #expect(IPVSRequest.newDestination(d, service: web).operation == "adding destination 198.51.100.2:80 to TCP 192.0.2.10:80")
        #expect(IPVSRequest.deleteDestination(address: rs6, port: 53, service: .address(protocol: .udp, address: vip6, port: 53))
            .operation == "deleting destination [2001:db8::2]:53 from UDP [2001:db8::1]:53")
        #expect(IPVSRequest.newService(IPVSService(.firewallMark(7, family: .ipv6))).operation == "adding service FWM 7 IPv6")
        #expect(IPVSRequest.zero(nil).operation == "zeroing all IPVS counters")
        #expect(IPVSRequest.newDaemon(IPVSSyncDaemon(state: .backup, interface: "eth1", syncID: 9)).operation
            == "starting the IPVS backup sync daemon on eth1 (sync id 9)")
    }
}
