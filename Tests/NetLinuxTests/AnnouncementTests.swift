import Testing
import VRRPCore
@testable import NetLinux

/// Expected bytes below are worked out by hand from RFC 826 (ARP), RFC 2464 §7 (IPv6
/// multicast MAC), RFC 4861 §4.4/§4.6 (Neighbor Advertisement and its options), RFC 8200
/// §8.1 and RFC 4443 §2.3 (ICMPv6 checksum), and checked against what keepalived's
/// vrrp_arp.c / vrrp_ndisc.c write.
@Suite struct MACAddressTests {
    @Test func parsesAndPrints() throws {
        let mac = try #require(MACAddress("00:00:5e:00:01:33"))
        #expect(mac.rawValue == 0x0000_5E00_0133)
        #expect(mac.description == "00:00:5e:00:01:33")
        #expect(mac.bytes == [0x00, 0x00, 0x5E, 0x00, 0x01, 0x33])
        #expect(MACAddress("00-00-5E-00-01-33") == mac)
        #expect(MACAddress("0:0:5e:0:1:33") == mac)
        #expect(MACAddress(bytes: [0x00, 0x00, 0x5E, 0x00, 0x01, 0x33]) == mac)
        #expect(MACAddress(0x00, 0x00, 0x5E, 0x00, 0x01, 0x33) == mac)
        #expect(MACAddress("AA:BB:CC:DD:EE:FF")?.description == "aa:bb:cc:dd:ee:ff")
    }

    @Test func rejectsMalformedText() {
        for text in ["", "00:00:5e:00:01", "00:00:5e:00:01:33:44", "00:00:5e:00:01:333", "00:00:5e:00:01:", "00:00:5e:00:01:3g",
                     "00:00-5e:00:01:33", "0000.5e00.0133", " 00:00:5e:00:01:33", "+0:00:5e:00:01:33"] {
            #expect(MACAddress(text) == nil, "\(text)")
        }
        #expect(MACAddress(bytes: [1, 2, 3, 4, 5]) == nil)
        #expect(MACAddress(rawValue: 1 << 48) == nil)
    }

    @Test func virtualRouterMACs() {
        // RFC 5798 §7.3: 00-00-5E-00-01-{VRID} for IPv4, 00-00-5E-00-02-{VRID} for IPv6.
        #expect(MACAddress.virtualRouterMAC(family: .ipv4, vrid: 51).description == "00:00:5e:00:01:33")
        #expect(MACAddress.virtualRouterMAC(family: .ipv6, vrid: 255).description == "00:00:5e:00:02:ff")
        #expect(MACAddress("00:00:5e:00:01:33")?.virtualRouter?.vrid == 51)
        #expect(MACAddress("00:00:5e:00:02:07")?.virtualRouter?.family == .ipv6)
        #expect(MACAddress("00:00:5e:00:03:07")?.virtualRouter == nil)
    }

    @Test func multicastMapping() throws {
        // RFC 1112 §6.4: 01:00:5e + low 23 bits of 224.0.0.18 (0x000012).
        #expect(MACAddress.multicast(for: IPAddress.vrrpMulticastGroup(.ipv4)).description == "01:00:5e:00:00:12")
        // 239.129.1.1: the high bit of the second octet (0x81) is dropped: 01:00:5e:01:01:01.
        #expect(MACAddress.multicast(for: try #require(IPAddress("239.129.1.1"))).description == "01:00:5e:01:01:01")
        // RFC 2464 §7: 33:33 + low 32 bits.
        #expect(MACAddress.multicast(for: try #require(IPAddress("ff02::1"))).description == "33:33:00:00:00:01")
        #expect(MACAddress.multicast(for: IPAddress.vrrpMulticastGroup(.ipv6)).description == "33:33:00:00:00:12")
        #expect(MACAddress.broadcast.isBroadcast && MACAddress.broadcast.isMulticast)
        #expect(!MACAddress.virtualRouterMAC(family: .ipv4, vrid: 1).isMulticast)
        #expect(MACAddress("02:00:00:00:00:01")?.isLocallyAdministered == true)
    }
}

@Suite struct GratuitousARPTests {
    let vip = IPAddress("192.168.1.100")!           // c0 a8 01 64
    let vmac = MACAddress.virtualRouterMAC(family: .ipv4, vrid: 51)

    /// RFC 826 packet on Ethernet, as keepalived's send_gratuitous_arp_immediate fills it.
    let expected: [UInt8] = [
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,  // Ethernet destination: broadcast
        0x00, 0x00, 0x5E, 0x00, 0x01, 0x33,  // Ethernet source: the (virtual) MAC
        0x08, 0x06,                          // EtherType ARP
        0x00, 0x01,                          // ar$hrd: Ethernet (1)
        0x08, 0x00,                          // ar$pro: IPv4 (0x0800)
        0x06,                                // ar$hln: 6
        0x04,                                // ar$pln: 4
        0x00, 0x01,                          // ar$op: REQUEST (1)
        0x00, 0x00, 0x5E, 0x00, 0x01, 0x33,  // ar$sha: the MAC
        0xC0, 0xA8, 0x01, 0x64,              // ar$spa: the VIP 192.168.1.100
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,  // ar$tha: broadcast (keepalived memsets 0xFF)
        0xC0, 0xA8, 0x01, 0x64,              // ar$tpa: the VIP again
    ]

    @Test func buildsKeepalivedFrame() {
        let frame = GratuitousARP(address: vip, hardwareAddress: vmac).frame()
        #expect(frame.count == 42)
        #expect(frame == expected)
    }

    @Test func interfaceMACAndZeroTarget() throws {
        let mac = try #require(MACAddress("52:54:00:12:34:56"))
        let frame = GratuitousARP(address: vip, hardwareAddress: mac, targetHardwareAddress: .zero).frame()
        #expect(Array(frame[6..<12]) == [0x52, 0x54, 0x00, 0x12, 0x34, 0x56])
        #expect(Array(frame[22..<28]) == [0x52, 0x54, 0x00, 0x12, 0x34, 0x56])
        #expect(Array(frame[32..<38]) == [0, 0, 0, 0, 0, 0])
    }

    @Test func parsesFields() throws {
        // Padded to the 60-byte Ethernet minimum, as a capture shows it.
        let padded = expected + [UInt8](repeating: 0, count: 18)
        let parsed = try GratuitousARP.parse(frame: padded)
        #expect(parsed.ethernet.destination == .broadcast)
        #expect(parsed.ethernet.source == vmac)
        #expect(parsed.ethernet.etherType == 0x0806)
        #expect(parsed.arp.operation == .request)
        #expect(parsed.arp.senderMAC == vmac)
        #expect(parsed.arp.senderIP == vip)
        #expect(parsed.arp.targetMAC == .broadcast)
        #expect(parsed.arp.targetIP == vip)
        #expect(parsed.arp.isGratuitous)
        #expect(parsed.isKeepalivedStyleGratuitousARP)
        #expect(parsed.trailingBytes == 18)
    }

    @Test func parsesAReplyInAVLAN() throws {
        // An ARP reply 10.0.0.2 is-at 52:54:00:00:00:02 to 10.0.0.1, tagged VLAN 100 (TCI 0x0064).
        let frame: [UInt8] = [
            0x52, 0x54, 0x00, 0x00, 0x00, 0x01, 0x52, 0x54, 0x00, 0x00, 0x00, 0x02,
            0x81, 0x00, 0x00, 0x64,              // 802.1Q tag, VLAN 100
            0x08, 0x06,
            0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02,
            0x52, 0x54, 0x00, 0x00, 0x00, 0x02, 0x0A, 0x00, 0x00, 0x02,
            0x52, 0x54, 0x00, 0x00, 0x00, 0x01, 0x0A, 0x00, 0x00, 0x01,
        ]
        let parsed = try GratuitousARP.parse(frame: frame)
        #expect(parsed.ethernet.vlanTags.map(\.vlanID) == [100])
        #expect(parsed.ethernet.length == 18)
        #expect(parsed.arp.operation == .reply)
        #expect(parsed.arp.senderIP == IPAddress("10.0.0.2"))
        #expect(parsed.arp.targetIP == IPAddress("10.0.0.1"))
        #expect(!parsed.arp.isGratuitous)
        #expect(!parsed.isKeepalivedStyleGratuitousARP)
        // The bare ARP packet round-trips.
        #expect(parsed.arp.encoded == Array(frame[18...]))
    }

    @Test func typedErrors() {
        #expect(throws: AnnouncementParseError.truncated(.ethernetHeader, offset: 0, needed: 14, available: 13)) {
            try GratuitousARP.parse(frame: Array(expected[0..<13]))
        }
        #expect(throws: AnnouncementParseError.truncated(.arp, offset: 14, needed: 28, available: 27)) {
            try GratuitousARP.parse(frame: Array(expected[0..<41]))
        }
        var ipv4 = expected
        ipv4[13] = 0x00
        #expect(throws: AnnouncementParseError.unexpectedEtherType(0x0800, expected: 0x0806)) {
            try GratuitousARP.parse(frame: ipv4)
        }
        var ipv6ARP = expected
        ipv6ARP[16] = 0x86; ipv6ARP[17] = 0xDD
        #expect(throws: AnnouncementParseError.unsupportedARPFormat(hardwareType: 1, protocolType: 0x86DD, hardwareLength: 6, protocolLength: 4)) {
            try GratuitousARP.parse(frame: ipv6ARP)
        }
        #expect(throws: AnnouncementParseError.truncated(.vlanTag, offset: 12, needed: 6, available: 4)) {
            try GratuitousARP.parse(frame: Array(expected[0..<12]) + [0x81, 0x00, 0x00, 0x01])
        }
    }
}

@Suite struct NeighborAdvertisementTests {
    let vip = IPAddress("2001:db8::100")!
    let vmac = MACAddress.virtualRouterMAC(family: .ipv6, vrid: 7)

    /// The unsolicited NA of RFC 4861 §4.4 / §7.2.6 as keepalived's ndisc_send_unsolicited_na builds it.
    ///
    /// ICMPv6 checksum (RFC 4443 §2.3), one's-complement sum of 16-bit words:
    ///   pseudo-header (RFC 8200 §8.1)
    ///     source 2001:0db8::0100        2001 + 0db8 + 0100        = 2eb9
    ///     destination ff02::1           ff02 + 0001               = ff03
    ///     upper-layer length 32         0000 + 0020               = 0020
    ///     zero, next header 58          0000 + 003a               = 003a
    ///   message
    ///     type 136, code 0              8800
    ///     checksum (as zero)            0000
    ///     flags O (0x20000000)          2000 + 0000
    ///     target 2001:db8::100          2eb9
    ///     option type 2, length 1       0201
    ///     MAC 00:00:5e:00:02:07         0000 + 5e00 + 0207
    ///   total 2eb9+ff03+0020+003a+8800+2000+2eb9+0201+5e00+0207 = 0x266d7
    ///   fold: 0x66d7 + 0x2 = 0x66d9;  complement: ~0x66d9 = 0x9926.
    /// With R as well (0xa0000000) the sum grows by 0x8000: 0x2e6d7 → 0xe6d9 → 0x1926.
    var expected: [UInt8] {
        [
            0x33, 0x33, 0x00, 0x00, 0x00, 0x01,  // Ethernet destination: ff02::1 → 33:33:00:00:00:01 (RFC 2464 §7)
            0x00, 0x00, 0x5E, 0x00, 0x02, 0x07,  // Ethernet source: the MAC
            0x86, 0xDD,                          // EtherType IPv6
            0x60, 0x00, 0x00, 0x00,              // version 6, traffic class 0, flow label 0
            0x00, 0x20,                          // payload length 32
            0x3A,                                // next header ICMPv6 (58)
            0xFF,                                // hop limit 255 (RFC 4861 §7.1.2)
            0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00,  // source: the VIP
            0xFF, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,          // destination ff02::1
            0x88,                                // type 136, Neighbor Advertisement
            0x00,                                // code 0
            0x99, 0x26,                          // checksum (worked out above)
            0x20, 0x00, 0x00, 0x00,              // R=0 S=0 O=1, reserved 0
            0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00,  // target: the VIP
            0x02,                                // option: target link-layer address (RFC 4861 §4.6.1)
            0x01,                                // length 1 (8 bytes)
            0x00, 0x00, 0x5E, 0x00, 0x02, 0x07,  // the MAC
        ]
    }

    @Test func buildsKeepalivedFrame() {
        let na = UnsolicitedNeighborAdvertisement(address: vip, hardwareAddress: vmac)
        #expect(na.frame().count == 86)
        #expect(na.frame() == expected)
        #expect(na.ipv6Packet() == Array(expected[14...]))
    }

    @Test func routerFlagWhenForwarding() {
        var routerExpected = expected
        routerExpected[58] = 0xA0       // R and O
        routerExpected[56] = 0x19       // checksum 0x1926 (see above)
        routerExpected[57] = 0x26
        #expect(UnsolicitedNeighborAdvertisement(address: vip, hardwareAddress: vmac, router: true).frame() == routerExpected)
    }

    @Test func parsesFieldsFlagsOptionsAndChecksum() throws {
        let parsed = try UnsolicitedNeighborAdvertisement.parse(frame: expected + [0, 0, 0, 0])
        #expect(parsed.ethernet.destination == MACAddress("33:33:00:00:00:01"))
        #expect(parsed.trailingBytes == 4)
        let na = parsed.advertisement
        #expect(na.source == vip)
        #expect(na.destination == IPAddress("ff02::1"))
        #expect(na.hopLimit == 255)
        #expect(na.code == 0)
        #expect(na.flags == [.override])
        #expect(na.flags.description == "O")
        #expect(na.reserved == 0)
        #expect(na.target == vip)
        #expect(na.options == [.targetLinkLayerAddress(vmac)])
        #expect(na.targetLinkLayerAddress == vmac)
        #expect(na.checksum == 0x9926)
        #expect(na.expectedChecksum == 0x9926)
        #expect(na.checksumIsValid)
        #expect(na.isUnsolicited)
        #expect(na.messageLength == 32)
        try na.validate()
    }

    @Test func checksumVerdictAndValidation() throws {
        var corrupt = Array(expected[14...])
        corrupt[43] ^= 0x01       // checksum 0x9927
        let bad = try NeighborAdvertisement.parse(ipv6Packet: corrupt)
        #expect(!bad.checksumIsValid)
        #expect(throws: AnnouncementParseError.badChecksum(found: 0x9927, expected: 0x9926)) { try bad.validate() }

        // Hop limit 64 is not part of the checksum: the checksum still verifies, validation fails.
        var offLink = Array(expected[14...])
        offLink[7] = 64
        let hop = try NeighborAdvertisement.parse(ipv6Packet: offLink)
        #expect(hop.checksumIsValid)
        #expect(throws: AnnouncementParseError.badHopLimit(64)) { try hop.validate() }

        // S set on a multicast destination: the flags word is summed, so fix the checksum by hand:
        // 0x266d7 + 0x4000 = 0x2a6d7 → 0xa6d9 → ~ = 0x5926.
        var solicited = Array(expected[14...])
        solicited[44] = 0x60
        solicited[42] = 0x59
        solicited[43] = 0x26
        let s = try NeighborAdvertisement.parse(ipv6Packet: solicited)
        #expect(s.checksumIsValid)
        #expect(s.flags == [.solicited, .override])
        #expect(throws: AnnouncementParseError.solicitedToMulticast) { try s.validate() }
    }

    @Test func typedErrors() {
        let ip = Array(expected[14...])
        #expect(throws: AnnouncementParseError.notIPv6(version: 4)) { try NeighborAdvertisement.parse(ipv6Packet: [0x45] + ip.dropFirst()) }
        #expect(throws: AnnouncementParseError.truncated(.ipv6Header, offset: 0, needed: 40, available: 39)) {
            try NeighborAdvertisement.parse(ipv6Packet: Array(ip[0..<39]))
        }
        #expect(throws: AnnouncementParseError.truncated(.ipv6Payload, offset: 40, needed: 32, available: 31)) {
            try NeighborAdvertisement.parse(ipv6Packet: Array(ip[0..<71]))
        }
        var udp = ip
        udp[6] = 17
        #expect(throws: AnnouncementParseError.notICMPv6(nextHeader: 17)) { try NeighborAdvertisement.parse(ipv6Packet: udp) }
        var ns = ip
        ns[40] = 135
        #expect(throws: AnnouncementParseError.notNeighborAdvertisement(type: 135, code: 0)) { try NeighborAdvertisement.parse(ipv6Packet: ns) }
        var zeroOption = ip
        zeroOption[65] = 0
        #expect(throws: AnnouncementParseError.badOptionLength(offset: 64, length: 0)) { try NeighborAdvertisement.parse(ipv6Packet: zeroOption) }
        var longOption = ip
        longOption[65] = 2
        #expect(throws: AnnouncementParseError.badOptionLength(offset: 64, length: 2)) { try NeighborAdvertisement.parse(ipv6Packet: longOption) }
        // A payload length of 20 cuts the 24-byte message.
        var short = ip
        short[5] = 20
        #expect(throws: AnnouncementParseError.truncated(.neighborAdvertisement, offset: 40, needed: 24, available: 20)) {
            try NeighborAdvertisement.parse(ipv6Packet: short)
        }
        // Offsets count from the frame's first byte when parsing a frame.
        var frame = expected
        frame[14 + 65] = 0
        #expect(throws: AnnouncementParseError.badOptionLength(offset: 78, length: 0)) { try UnsolicitedNeighborAdvertisement.parse(frame: frame) }
        #expect(throws: AnnouncementParseError.unexpectedEtherType(0x0800, expected: 0x86DD)) {
            try UnsolicitedNeighborAdvertisement.parse(frame: Array(expected[0..<12]) + [0x08, 0x00] + ip)
        }
    }

    @Test func unknownAndSourceOptions() throws {
        // Replace the option with a source link-layer address (type 1) and append a nonce option
        // (type 14, length 1): payload 40, checksum recomputed by the parser's expectation.
        var ip = Array(expected[14...])
        ip[64] = 1
        ip += [14, 1, 1, 2, 3, 4, 5, 6]
        ip[5] = 40
        let na = try NeighborAdvertisement.parse(ipv6Packet: ip)
        #expect(na.options == [.sourceLinkLayerAddress(vmac), .other(type: 14, length: 1, data: [1, 2, 3, 4, 5, 6])])
        #expect(na.targetLinkLayerAddress == nil)
        #expect(!na.checksumIsValid)
    }

    @Test func neverCrashesOnPrefixesAndMutations() {
        let frame = expected
        for n in 0...frame.count {
            _ = try? UnsolicitedNeighborAdvertisement.parse(frame: Array(frame[0..<n]))
            _ = try? GratuitousARP.parse(frame: Array(frame[0..<n]))
            _ = try? NeighborAdvertisement.parse(ipv6Packet: Array(frame[min(14, n)..<n]))
        }
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<2000 {
            var m = frame
            for _ in 0..<3 {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                m[Int(state >> 33) % m.count] = UInt8(truncatingIfNeeded: state >> 17)
            }
            _ = try? UnsolicitedNeighborAdvertisement.parse(frame: m)
            _ = try? GratuitousARP.parse(frame: m)
        }
    }
}
