import Foundation
import Testing
@testable import kad

// MARK: Building packets and captures by hand

/// RFC 1071 checksum, written independently of VRRPCore's, to build test packets.
private func onesComplementChecksum(_ bytes: [UInt8]) -> UInt16 {
    var sum: UInt32 = 0
    var i = 0
    while i + 1 < bytes.count { sum += UInt32(bytes[i]) << 8 | UInt32(bytes[i + 1]); i += 2 }
    if i < bytes.count { sum += UInt32(bytes[i]) << 8 }
    while sum >> 16 != 0 { sum = (sum & 0xFFFF) + (sum >> 16) }
    return ~UInt16(sum)
}

private func be16(_ v: Int) -> [UInt8] { [UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
private func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
private func le32(_ v: UInt32) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24)] }
private func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }

private enum InspectVectors {
    static let hostMAC: [UInt8] = [0x52, 0x54, 0x00, 0x00, 0x00, 0x01]
    static let vrrpGroupMAC: [UInt8] = [0x01, 0x00, 0x5E, 0x00, 0x00, 0x12]   // 224.0.0.18, RFC 1112 §6.4
    static let vrrp6GroupMAC: [UInt8] = [0x33, 0x33, 0x00, 0x00, 0x00, 0x12]  // ff02::12, RFC 2464 §7

    /// VRRPv2 (RFC 3768 §5.1), VRID 51, priority 150, 1 address 192.0.2.100, auth none, interval 1 s.
    /// Checksum over the message only (RFC 3768 §5.3.8):
    ///   2133 + 9601 + 0001 + c000 + 0264 (+ zero auth data) = 0x17999 → 0x799a → ~ = 0x8665.
    static let vrrpV2Message: [UInt8] = [
        0x21, 0x33, 0x96, 0x01, 0x00, 0x01, 0x86, 0x65, 0xC0, 0x00, 0x02, 0x64, 0, 0, 0, 0, 0, 0, 0, 0,
    ]

    /// IPv4 header 192.0.2.1 → 224.0.0.18, TOS 0xc0, total length 40, TTL 255, protocol 112.
    /// Header checksum (RFC 791): 45c0 + 0028 + ff70 + c000 + 0201 + e000 + 0012 = 0x2e76b → 0xe76d → ~ = 0x1892.
    static let vrrpV2Datagram: [UInt8] = [
        0x45, 0xC0, 0x00, 0x28, 0x00, 0x00, 0x00, 0x00, 0xFF, 0x70, 0x18, 0x92,
        0xC0, 0x00, 0x02, 0x01, 0xE0, 0x00, 0x00, 0x12,
    ] + vrrpV2Message

    /// VRRPv3 over IPv4 (RFC 5798 §5.1), VRID 51, priority 150, 1 address, interval 100 cs, with the
    /// pseudo-header checksum keepalived uses:
    ///   pseudo-header c000 + 0201 + e000 + 0012 + 0070 + 000c = 0x1a28f
    ///   message 3133 + 9601 + 0064 + c000 + 0264 = 0x189fc; total 0x32c8b → 0x2c8e → ~ = 0xd371.
    static let vrrpV3Datagram: [UInt8] = ipv4(source: [192, 0, 2, 1], destination: [224, 0, 0, 18], ttl: 255, proto: 112,
                                              payload: [0x31, 0x33, 0x96, 0x01, 0x00, 0x64, 0xD3, 0x71, 0xC0, 0x00, 0x02, 0x64])

    static func ipv4(source: [UInt8], destination: [UInt8], ttl: UInt8, proto: UInt8, payload: [UInt8]) -> [UInt8] {
        var h: [UInt8] = [0x45, 0xC0] + be16(20 + payload.count) + [0, 0, 0, 0, ttl, proto, 0, 0] + source + destination
        let c = onesComplementChecksum(h)
        h[10] = UInt8(c >> 8); h[11] = UInt8(c & 0xFF)
        return h + payload
    }

    /// VRRPv3 over IPv6: fe80::1 → ff02::12, VRID 7, priority 100, addresses fe80::100 and 2001:db8::100.
    static var vrrpV3IPv6Packet: [UInt8] {
        let src: [UInt8] = [0xFE, 0x80] + [UInt8](repeating: 0, count: 13) + [0x01]
        let dst: [UInt8] = [0xFF, 0x02] + [UInt8](repeating: 0, count: 13) + [0x12]
        let a1: [UInt8] = [0xFE, 0x80] + [UInt8](repeating: 0, count: 12) + [0x01, 0x00]
        let a2: [UInt8] = [0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 10) + [0x01, 0x00]
        var message: [UInt8] = [0x31, 0x07, 0x64, 0x02, 0x00, 0x64, 0, 0] + a1 + a2
        // RFC 8200 §8.1 pseudo-header: source, destination, 32-bit length, 3 zero bytes, next header 112.
        let c = onesComplementChecksum(src + dst + be32(UInt32(message.count)) + [0, 0, 0, 112] + message)
        message[6] = UInt8(c >> 8); message[7] = UInt8(c & 0xFF)
        return [0x60, 0, 0, 0] + be16(message.count) + [112, 255] + src + dst + message
    }

    static func ethernet(_ destination: [UInt8], _ type: Int, _ payload: [UInt8], source: [UInt8] = hostMAC) -> [UInt8] {
        destination + source + be16(type) + payload
    }

    /// keepalived's gratuitous ARP for 192.0.2.100 from 52:54:00:00:00:01, padded to 60 bytes.
    static let garp: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF] + hostMAC + [0x08, 0x06,
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01] + hostMAC + [0xC0, 0x00, 0x02, 0x64,
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xC0, 0x00, 0x02, 0x64] + [UInt8](repeating: 0, count: 18)

    /// keepalived's unsolicited NA for 2001:db8::100 with MAC 00:00:5e:00:02:07, checksum 0x9926
    /// (worked out in Tests/NetLinuxTests/AnnouncementTests.swift).
    static let na: [UInt8] = [0x33, 0x33, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x5E, 0x00, 0x02, 0x07, 0x86, 0xDD,
        0x60, 0x00, 0x00, 0x00, 0x00, 0x20, 0x3A, 0xFF,
        0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00,
        0xFF, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
        0x88, 0x00, 0x99, 0x26, 0x20, 0x00, 0x00, 0x00,
        0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00,
        0x02, 0x01, 0x00, 0x00, 0x5E, 0x00, 0x02, 0x07]

    /// A UDP datagram (DNS query header only), to be skipped.
    static let udp: [UInt8] = ipv4(source: [192, 0, 2, 1], destination: [192, 0, 2, 53], ttl: 64, proto: 17,
                                   payload: be16(5353) + be16(53) + be16(8) + [0, 0])

    /// The VRRPv2 datagram with TTL 64 (header checksum fixed) and the VRRP checksum broken (0x8666).
    static var badTTLAndChecksum: [UInt8] {
        var message = vrrpV2Message
        message[7] = 0x66
        return ipv4(source: [192, 0, 2, 1], destination: [224, 0, 0, 18], ttl: 64, proto: 112, payload: message)
    }

    static var ethernetPackets: [[UInt8]] {
        [
            ethernet(vrrpGroupMAC, 0x0800, vrrpV2Datagram + [0, 0, 0, 0, 0, 0]),  // Ethernet padding to 60
            ethernet(vrrpGroupMAC, 0x0800, vrrpV3Datagram),
            ethernet(vrrp6GroupMAC, 0x86DD, vrrpV3IPv6Packet),
            garp,
            na,
            ethernet([0x52, 0x54, 0x00, 0x00, 0x00, 0x35], 0x0800, udp),
        ]
    }
}

/// A classic pcap file: little-endian microseconds by default.
private func pcap(linkType: UInt32 = 1, _ packets: [[UInt8]], nanoseconds: Bool = false, bigEndian: Bool = false,
          snaplen: UInt32 = 262_144, startSeconds: UInt32 = 1_714_564_800) -> [UInt8] {
    let w32 = { (v: UInt32) -> [UInt8] in bigEndian ? be32(v) : le32(v) }
    let w16 = { (v: Int) -> [UInt8] in bigEndian ? be16(v) : le16(v) }
    var out = w32(nanoseconds ? 0xA1B2_3C4D : 0xA1B2_C3D4) + w16(2) + w16(4) + w32(0) + w32(0) + w32(snaplen) + w32(linkType)
    for (i, p) in packets.enumerated() {
        out += w32(startSeconds + UInt32(i)) + w32(nanoseconds ? 123_456_789 : 123_456) + w32(UInt32(p.count)) + w32(UInt32(p.count)) + p
    }
    return out
}

private func scratchBytes(_ bytes: [UInt8], suffix: String = ".pcap") -> String {
    let path = NSTemporaryDirectory() + "kad-inspect-\(UUID().uuidString)\(suffix)"
    _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
    return path
}

/// The `kad` built beside this test executable (see ``KadProcess/binary``).
private let inspectedKadBinary: String = KadProcess.binary

/// Runs `kad` with `stdin` fed to it.
private func runKad(_ arguments: [String], stdin: [UInt8]? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: inspectedKadBinary)
    process.arguments = arguments
    let out = Pipe(), err = Pipe(), input = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = input
    try process.run()
    input.fileHandleForWriting.write(Data(stdin ?? []))
    try input.fileHandleForWriting.close()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
}

private func hexText<S: Sequence<UInt8>>(_ bytes: S) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

// MARK: Tests

@Suite struct InspectCommandTests {
    @Test func testsTheBinaryBuiltBesideThem() {
        #expect(inspectedKadBinary.hasSuffix("/kad"))
    }

    @Test func pcapWithVRRPv2v3GARPAndNA() throws {
        let file = scratchBytes(pcap(InspectVectors.ethernetPackets))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let r = try runKad(["inspect", file])
        #expect(r.status == 0, "\(r.stderr)")
        let out = r.stdout
        #expect(out.contains("#1  2024-05-01T12:00:00.123456Z  60 bytes  @24"))
        #expect(out.contains("VRRPv2 advertisement, VRID 51, priority 150 (backup priority), count 1"))
        #expect(out.contains("interval 1 s (100 cs)"))
        #expect(out.contains("auth type 0 (none), auth data 00 00 00 00 00 00 00 00"))
        #expect(out.contains("checksum 0x8665, verified as message-only"))
        #expect(out.contains("IPv4, header 20 bytes, total length 40 (+6 bytes of link-layer padding)"))
        #expect(out.contains("checksum 0xd371, verified as pseudo-header"))
        #expect(out.contains("VRRPv3 advertisement, VRID 7, priority 100"))
        #expect(out.contains("addresses fe80::100, 2001:db8::100"))
        #expect(out.contains("pass  first_address_link_local  first address fe80::100 is link-local"))
        #expect(out.contains("gratuitous: 192.0.2.100 is-at 52:54:00:00:00:01"))
        #expect(out.contains("gratuitous ARP as keepalived sends it"))
        #expect(out.contains("Neighbor Advertisement, target 2001:db8::100, flags O (R=0 S=0 O=1)"))
        #expect(out.contains("checksum 0x9926, verified (pseudo-header)"))
        #expect(out.contains("target link-layer address 00:00:5e:00:02:07 is the IPv6 virtual router MAC of VRID 7"))
        #expect(out.contains("#6  2024-05-01T12:00:05.123456Z  42 bytes  @"))
        #expect(out.contains("IPv4 protocol 17 (UDP): skipped"))
        #expect(out.contains("6 packets (pcap): 3 vrrp, 1 arp, 1 neighbor-advertisement, 1 skipped"))
        #expect(!out.contains("INVALID"))
        #expect(out.components(separatedBy: "decoder   accepted").count == 4)
    }

    @Test func jsonParsesBack() throws {
        let file = scratchBytes(pcap(InspectVectors.ethernetPackets, nanoseconds: true, bigEndian: true))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let r = try runKad(["inspect", "--json", file])
        #expect(r.status == 0, "\(r.stderr)")
        let packets = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        #expect(packets.count == 6)
        #expect(packets.map { $0["kind"] as? String } == ["vrrp", "vrrp", "vrrp", "arp", "neighbor-advertisement", "skipped"])
        let first = packets[0]
        #expect(first["timestamp"] as? String == "2024-05-01T12:00:00.123456789Z")
        #expect(first["epochNanoseconds"] as? Int == 1_714_564_800_123_456_789)
        let vrrp = try #require(first["vrrp"] as? [String: Any])
        #expect(vrrp["version"] as? Int == 2)
        #expect(vrrp["vrid"] as? Int == 51)
        #expect(vrrp["priority"] as? Int == 150)
        #expect(vrrp["count"] as? Int == 1)
        #expect(vrrp["intervalCentiseconds"] as? Int == 100)
        #expect(vrrp["intervalSeconds"] as? Double == 1)
        #expect(vrrp["authType"] as? Int == 0)
        #expect(vrrp["authData"] as? String == "00 00 00 00 00 00 00 00")
        #expect(vrrp["addresses"] as? [String] == ["192.0.2.100"])
        #expect(vrrp["checksum"] as? String == "0x8665")
        #expect(vrrp["checksumForm"] as? String == "message-only")
        #expect(first["verdict"] as? String == "valid")
        #expect((first["decoder"] as? [String: Any])?["accepted"] as? Bool == true)
        let checks = try #require(first["checks"] as? [[String: Any]])
        #expect(checks.map { $0["id"] as? String } == ["ip_header", "ip_header_checksum", "fragment", "ah", "hop_limit", "version", "type",
                                                       "length", "checksum", "count", "interval", "first_address_link_local", "auth_type"])
        let v3 = try #require(packets[1]["vrrp"] as? [String: Any])
        #expect(v3["checksumForm"] as? String == "pseudo-header")
        #expect((v3["expectedChecksums"] as? [String: String])?["pseudo-header"] == "0xd371")
        let v6 = try #require(packets[2]["vrrp"] as? [String: Any])
        #expect(v6["addresses"] as? [String] == ["fe80::100", "2001:db8::100"])
        #expect((packets[2]["ip"] as? [String: Any])?["version"] as? Int == 6)
        let arp = try #require(packets[3]["arp"] as? [String: Any])
        #expect(arp["operationName"] as? String == "request")
        #expect(arp["senderIP"] as? String == "192.0.2.100")
        #expect(arp["targetIP"] as? String == "192.0.2.100")
        #expect(arp["keepalivedStyle"] as? Bool == true)
        let na = try #require(packets[4]["neighborAdvertisement"] as? [String: Any])
        #expect(na["checksumValid"] as? Bool == true)
        #expect(na["override"] as? Bool == true)
        #expect(na["router"] as? Bool == false)
        #expect(na["targetLinkLayerAddress"] as? String == "00:00:5e:00:02:07")
        #expect(na["keepalivedStyle"] as? Bool == true)
        #expect((packets[4]["ip"] as? [String: Any])?["hopLimit"] as? Int == 255)
        #expect(packets[5]["summary"] as? String == "Ethernet 52:54:00:00:00:01 > 52:54:00:00:00:35, IPv4 192.0.2.1 > 192.0.2.53 ttl 64, IPv4 protocol 17 (UDP): skipped")
        // Keys come out sorted, so the output is stable.
        #expect(r.stdout.range(of: "\"capturedLength\"")!.lowerBound < r.stdout.range(of: "\"checks\"")!.lowerBound)
    }

    @Test func hexOnStdinShowsBadChecksumAndTTL64Together() throws {
        let text = "# VRRPv2 with TTL 64 and a broken checksum\n" + hexText(InspectVectors.badTTLAndChecksum) + "\n"
        let r = try runKad(["inspect", "-"], stdin: Array(text.utf8))
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("#1  line 2  40 bytes"))
        #expect(r.stdout.contains("FAIL  hop_limit                 TTL 64, must be 255 for multicast"))
        #expect(r.stdout.contains("FAIL  checksum                  0x8666 matches no form; expected 0x8665 (message-only)"))
        #expect(r.stdout.contains("decoder   dropped: bad checksum [bad_checksum]"))
        #expect(r.stdout.contains("verdict   INVALID: hop_limit, checksum"))

        let j = try runKad(["inspect", "--json", "-"], stdin: Array(text.utf8))
        let packets = try #require(try JSONSerialization.jsonObject(with: Data(j.stdout.utf8)) as? [[String: Any]])
        #expect(packets.first?["failedChecks"] as? [String] == ["hop_limit", "checksum"])
        #expect(packets.first?["line"] as? Int == 2)
        #expect(packets.first?["timestamp"] == nil)
    }

    @Test func independentChecksAllReport() throws {
        // VRRPv3 over IPv6 with hop limit 1, type 2, count 0, interval 0, no link-local address, wrong checksum:
        // every failure shows, not only the first.
        var p = InspectVectors.vrrpV3IPv6Packet
        p[7] = 1          // hop limit
        p[40] = 0x32      // type 2
        p[43] = 0         // count 0
        p[44] = 0; p[45] = 0
        let r = try runKad(["inspect", "--json", "--hex", "-"], stdin: Array(hexText(p).utf8))
        let packets = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        let failed = try #require(packets.first?["failedChecks"] as? [String])
        #expect(failed == ["hop_limit", "type", "length", "checksum", "count", "interval"])
        #expect((packets.first?["decoder"] as? [String: Any])?["dropReason"] as? String == "bad_type")

        // The same with a global first address: only that check fails.
        var q = InspectVectors.vrrpV3IPv6Packet
        q.replaceSubrange(48..<64, with: q[64..<80])
        let s = try runKad(["inspect", "--json", "-"], stdin: Array(hexText(q).utf8))
        let qp = try #require(try JSONSerialization.jsonObject(with: Data(s.stdout.utf8)) as? [[String: Any]])
        #expect(qp.first?["failedChecks"] as? [String] == ["checksum", "first_address_link_local"])
    }

    @Test func hexFormats() throws {
        let v2 = InspectVectors.vrrpV2Datagram
        // Blank-line separated, spread over lines, with 0x, colons, commas and comments.
        let spread = """
            # first packet: an IPv4 datagram
            \(v2[0..<20].map { String(format: "0x%02x", $0) }.joined(separator: ", "))
            \(v2[20...].map { String(format: "%02X", $0) }.joined(separator: ":"))  # the VRRP message

            # second: an Ethernet frame carrying ARP
            \(hexText(InspectVectors.garp))

            \(hexText(InspectVectors.na[14...]))
            """
        let r = try runKad(["inspect", "-"], stdin: Array(spread.utf8))
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("#1  line 2  40 bytes"))
        #expect(r.stdout.contains("checksum 0x8665, verified as message-only"))
        #expect(r.stdout.contains("#2  line 6  60 bytes"))
        #expect(r.stdout.contains("gratuitous: 192.0.2.100 is-at"))
        #expect(r.stdout.contains("#3  line 8  72 bytes"))
        #expect(r.stdout.contains("Neighbor Advertisement, target 2001:db8::100"))
        #expect(r.stdout.contains("3 packets (hex)"))

        // Without blank lines every line starts a packet, unless the IP length asks for more:
        // here a datagram over two lines, then a whole frame, then the IPv6 packet over three lines.
        let ipv6 = InspectVectors.vrrpV3IPv6Packet
        let lines = [hexText(v2[0..<20]), hexText(v2[20...]), hexText(InspectVectors.garp), hexText(ipv6[0..<10]),
                     hexText(ipv6[10..<40]) + "   # the rest of the header", hexText(ipv6[40...])].joined(separator: "\n")
        let l = try runKad(["inspect", "-"], stdin: Array(lines.utf8))
        #expect(l.stdout.contains("#1  line 1  40 bytes"))
        #expect(l.stdout.contains("#2  line 3  60 bytes"))
        #expect(l.stdout.contains("#3  line 4  80 bytes"))
        #expect(l.stdout.contains("3 packets (hex): 2 vrrp, 1 arp\n"))
        #expect(!l.stdout.contains("INVALID"))

        // tcpdump -xx output pasted as is: summary lines ignored, offsets continue packets.
        var dump = "12:00:00.000000 IP 192.0.2.1 > 224.0.0.18: VRRPv2, Advertisement, vrid 51, prio 150, authtype none, intvl 1s, length 20\n"
        let frame = InspectVectors.ethernetPackets[0]
        for start in stride(from: 0, to: frame.count, by: 16) {
            let chunk = frame[start..<min(start + 16, frame.count)]
            var words: [String] = []
            var i = chunk.startIndex
            while i < chunk.endIndex {
                words.append(chunk[i..<min(i + 2, chunk.endIndex)].map { String(format: "%02x", $0) }.joined())
                i += 2
            }
            dump += "\t0x" + String(format: "%04x", start) + ":  " + words.joined(separator: " ") + "\n"
        }
        dump += "12:00:01.000000 ARP, Request who-has 192.0.2.100 tell 192.0.2.100, length 46\n"
        dump += "\t0x0000:  " + hexText(InspectVectors.garp) + "\n"
        let t = try runKad(["inspect", "-"], stdin: Array(dump.utf8))
        #expect(t.status == 0, "\(t.stderr)")
        #expect(t.stdout.contains("2 packets (hex): 1 vrrp, 1 arp"))
        #expect(t.stdout.contains("Ethernet 52:54:00:00:00:01 > 01:00:5e:00:00:12"))

        // Errors name the offset, line and column.
        let bad = try runKad(["inspect", "-"], stdin: Array("4500\n45zz\n".utf8))
        #expect(bad.status == 1)
        #expect(bad.stderr == "kad inspect: <stdin>: offset 7: line 2, column 3: 'z' is not a hex digit\n")
        let odd = try runKad(["inspect", "-"], stdin: Array("450\n".utf8))
        #expect(odd.status == 1)
        #expect(odd.stderr.contains("offset 0: line 1: the packet has an odd number of hex digits (3)"))
        // Unrecognised bytes are one skipped line.
        let junk = try runKad(["inspect", "-"], stdin: Array("0102030405\n".utf8))
        #expect(junk.status == 0)
        #expect(junk.stdout.contains("#1  line 1  5 bytes  not recognised as an IPv4 datagram, an IPv6 packet, an Ethernet frame or an ARP packet: skipped"))
    }

    @Test func linkTypesAndVLANs() throws {
        let v2 = InspectVectors.vrrpV2Datagram
        // Raw IP (101), IPv4 (228), IPv6 (229).
        for (type, packet) in [(UInt32(101), v2), (228, v2), (229, InspectVectors.vrrpV3IPv6Packet), (101, InspectVectors.vrrpV3IPv6Packet)] {
            let file = scratchBytes(pcap(linkType: type, [packet]))
            defer { try? FileManager.default.removeItem(atPath: file) }
            let r = try runKad(["inspect", file])
            #expect(r.status == 0)
            #expect(r.stdout.contains("verdict   valid"), "link type \(type): \(r.stdout)")
        }
        // Linux cooked v1: packet type 4 (outgoing), ARPHRD_ETHER, address length 6, the MAC, 2 bytes padding, protocol.
        let sll = be16(4) + be16(1) + be16(6) + InspectVectors.hostMAC + [0, 0] + be16(0x0800) + v2
        // Linux cooked v2: protocol, reserved, ifindex 3, ARPHRD_ETHER, packet type 2 (multicast), address length 6, the MAC.
        let sll2 = be16(0x0806) + [0, 0] + be32(3) + be16(1) + [2, 6] + InspectVectors.hostMAC + [0, 0] + Array(InspectVectors.garp[14..<42])
        let file1 = scratchBytes(pcap(linkType: 113, [sll]))
        let file2 = scratchBytes(pcap(linkType: 276, [sll2]))
        defer { for f in [file1, file2] { try? FileManager.default.removeItem(atPath: f) } }
        let r1 = try runKad(["inspect", file1])
        #expect(r1.stdout.contains("link      Linux SLL outgoing 52:54:00:00:00:01, EtherType 0x0800"))
        #expect(r1.stdout.contains("verdict   valid"))
        let r2 = try runKad(["inspect", file2])
        #expect(r2.stdout.contains("link      Linux SLL2 multicast 52:54:00:00:00:01, EtherType 0x0806, ifindex 3"))
        #expect(r2.stdout.contains("gratuitous ARP as keepalived sends it"))

        // 802.1Q (VLAN 10) and QinQ (outer 100, inner 10).
        let tagged = InspectVectors.vrrpGroupMAC + InspectVectors.hostMAC + [0x81, 0x00, 0x00, 0x0A, 0x08, 0x00] + v2
        let qinq = InspectVectors.vrrpGroupMAC + InspectVectors.hostMAC + [0x88, 0xA8, 0x00, 0x64, 0x81, 0x00, 0x00, 0x0A, 0x08, 0x00] + v2
        let file3 = scratchBytes(pcap([tagged, qinq]))
        defer { try? FileManager.default.removeItem(atPath: file3) }
        let r3 = try runKad(["inspect", "--json", file3])
        let packets = try #require(try JSONSerialization.jsonObject(with: Data(r3.stdout.utf8)) as? [[String: Any]])
        #expect((packets[0]["link"] as? [String: Any])?["vlans"] as? [Int] == [10])
        #expect((packets[1]["link"] as? [String: Any])?["vlans"] as? [Int] == [100, 10])
        #expect(packets.allSatisfy { $0["verdict"] as? String == "valid" })
    }

    @Test func malformedCapturesNameTheOffset() throws {
        let good = pcap(InspectVectors.ethernetPackets)
        // Cut inside the third record's data: the first two are printed, then the error.
        let firstTwo = 24 + 16 + 60 + 16 + 46
        let cut = scratchBytes(Array(good[0..<(firstTwo + 16 + 10)]))
        defer { try? FileManager.default.removeItem(atPath: cut) }
        let r = try runKad(["inspect", cut])
        #expect(r.status == 1)
        #expect(r.stdout.contains("#2  "))
        #expect(!r.stdout.contains("#3  "))
        #expect(r.stderr == "kad inspect: \(cut): offset \(firstTwo + 8): packet 3: captured length 94 exceeds the 10 bytes left in the file (truncated record)\n")

        // Cut inside a record header.
        let header = scratchBytes(Array(good[0..<(24 + 16 + 60 + 5)]))
        defer { try? FileManager.default.removeItem(atPath: header) }
        let h = try runKad(["inspect", "--json", header])
        #expect(h.status == 1)
        #expect(h.stderr == "kad inspect: \(header): offset 100: truncated record header of packet 2: 16 bytes needed, 5 available\n")
        // The JSON on standard output still parses: the packets read before the problem.
        #expect((try JSONSerialization.jsonObject(with: Data(h.stdout.utf8)) as? [Any])?.count == 1)

        // Truncated file header, captured length over the snapshot length, unsupported link type, bad version.
        let short = scratchBytes(Array(good[0..<10]))
        var huge = pcap([InspectVectors.garp], snaplen: 65_535)
        huge.replaceSubrange(32..<36, with: le32(300_000))
        let hugeFile = scratchBytes(huge)
        let usb = scratchBytes(pcap(linkType: 189, [InspectVectors.garp]))
        var v1 = good
        v1[4] = 1
        let v1File = scratchBytes(v1)
        defer { for f in [short, hugeFile, usb, v1File] { try? FileManager.default.removeItem(atPath: f) } }
        #expect(try runKad(["inspect", short]).stderr == "kad inspect: \(short): offset 0: truncated pcap file header: 24 bytes needed, 10 available\n")
        #expect(try runKad(["inspect", hugeFile]).stderr == "kad inspect: \(hugeFile): offset 32: packet 1: captured length 300000 exceeds the snapshot length 65535\n")
        let u = try runKad(["inspect", usb])
        #expect(u.status == 1)
        #expect(u.stderr.hasPrefix("kad inspect: \(usb): offset 20: unsupported link type 189 (supported: 1 (Ethernet), 101 (raw IP)"))
        #expect(try runKad(["inspect", v1File]).stderr == "kad inspect: \(v1File): offset 4: unsupported pcap version 1.4 (expected 2.x)\n")

        // Binary that is neither a capture nor text.
        let binary = scratchBytes([0xDE, 0xAD, 0xBE, 0xEF, 0x00, 0x01])
        defer { try? FileManager.default.removeItem(atPath: binary) }
        let b = try runKad(["inspect", binary])
        #expect(b.status == 1)
        #expect(b.stderr.contains("offset 0: not a capture (magic 0xdeadbeef is not pcap"))

        // Missing file.
        let m = try runKad(["inspect", "/nonexistent/kad.pcap"])
        #expect(m.status == 1)
        #expect(m.stderr == "kad inspect: /nonexistent/kad.pcap: cannot read: No such file or directory\n")
    }

    /// A pcapng file: Section Header, Interface Description (Ethernet, if_tsresol 10^-9), two Enhanced Packets.
    static func pcapng(packets: [[UInt8]]) -> [UInt8] {
        func block(_ type: UInt32, _ body: [UInt8]) -> [UInt8] {
            let padded = body + [UInt8](repeating: 0, count: (4 - body.count % 4) % 4)
            let length = UInt32(12 + padded.count)
            return le32(type) + le32(length) + padded + le32(length)
        }
        var out = block(0x0A0D_0D0A, le32(0x1A2B_3C4D) + le16(1) + le16(0) + [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
        out += block(1, le16(1) + le16(0) + le32(0) + le16(9) + le16(1) + [9, 0, 0, 0] + le16(0) + le16(0))
        for (i, p) in packets.enumerated() {
            let ns = UInt64(1_714_564_800 + i) * 1_000_000_000 + 5
            out += block(6, le32(0) + le32(UInt32(ns >> 32)) + le32(UInt32(ns & 0xFFFF_FFFF)) + le32(UInt32(p.count)) + le32(UInt32(p.count)) + p)
        }
        return out
    }

    @Test func pcapngIsRead() throws {
        let bytes = Self.pcapng(packets: [InspectVectors.ethernetPackets[0], InspectVectors.garp])
        let file = scratchBytes(bytes, suffix: ".pcapng")
        defer { try? FileManager.default.removeItem(atPath: file) }
        let r = try runKad(["inspect", file])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("#1  2024-05-01T12:00:00.000000005Z  60 bytes"))
        #expect(r.stdout.contains("checksum 0x8665, verified as message-only"))
        #expect(r.stdout.contains("2 packets (pcapng): 1 vrrp, 1 arp"))

        // Cut in the middle of the second Enhanced Packet Block.
        let cut = scratchBytes(Array(bytes[0..<(bytes.count - 20)]), suffix: ".pcapng")
        defer { try? FileManager.default.removeItem(atPath: cut) }
        let c = try runKad(["inspect", cut])
        #expect(c.status == 1)
        #expect(c.stdout.contains("#1  "))
        let epb2 = bytes.count - (12 + 20 + 60)
        #expect(c.stderr == "kad inspect: \(cut): offset \(epb2 + 4): truncated block: type 0x6 needs 92 bytes, 72 available\n")
    }

    @Test func emptyInput() throws {
        let r = try runKad(["inspect", "-"], stdin: [])
        #expect(r.status == 0)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr == "kad inspect: <stdin>: no packets\n")
        let j = try runKad(["inspect", "--json", "-"], stdin: Array("# only a comment\n\n".utf8))
        #expect(j.status == 0)
        #expect(j.stdout == "[\n\n]\n" || j.stdout == "[]\n")
        // A capture with a file header and no records.
        let file = scratchBytes(pcap([]))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let p = try runKad(["inspect", file])
        #expect(p.status == 0)
        #expect(p.stderr.contains("no packets"))
    }

    @Test func keepalivedCaptures() throws {
        // Real captures of keepalived 2.2.7 (Tests/VRRPCoreTests/Fixtures/keepalived-2.2.7).
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("VRRPCoreTests/Fixtures/keepalived-2.2.7")
        func inspect(_ name: String) throws -> [[String: Any]] {
            let r = try runKad(["inspect", "--json", fixtures.appendingPathComponent(name).path])
            #expect(r.status == 0, "\(name): \(r.stderr)")
            return try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        }
        let v2 = try inspect("v2-multicast.pcap")
        let v2VRRP = v2.filter { $0["kind"] as? String == "vrrp" }
        #expect(!v2VRRP.isEmpty)
        #expect(v2VRRP.allSatisfy { $0["verdict"] as? String == "valid" && ($0["vrrp"] as? [String: Any])?["checksumForm"] as? String == "message-only" })
        let garps = v2.filter { $0["kind"] as? String == "arp" }
        #expect(!garps.isEmpty)
        #expect(garps.allSatisfy { ($0["arp"] as? [String: Any])?["keepalivedStyle"] as? Bool == true })

        let v3 = try inspect("v3-ipv4-unicast.pcap").filter { $0["kind"] as? String == "vrrp" }
        #expect(!v3.isEmpty)
        #expect(v3.allSatisfy { ($0["vrrp"] as? [String: Any])?["checksumForm"] as? String == "pseudo-header" })
        #expect(v3.allSatisfy { ($0["vrrp"] as? [String: Any])?["destinationKind"] as? String == "unicast" })

        let ah = try inspect("v2-ah.pcap").filter { $0["kind"] as? String == "vrrp" }
        #expect(!ah.isEmpty)
        #expect(ah.allSatisfy { $0["failedChecks"] as? [String] == ["ah"] })
        #expect(ah.allSatisfy { ($0["decoder"] as? [String: Any])?["dropReason"] as? String == "ah_unsupported" })

        let v6 = try inspect("v3-ipv6-multicast.pcap")
        let v6VRRP = v6.filter { $0["kind"] as? String == "vrrp" }
        #expect(!v6VRRP.isEmpty)
        #expect(v6VRRP.allSatisfy { $0["verdict"] as? String == "valid" && ($0["vrrp"] as? [String: Any])?["checksumForm"] as? String == "pseudo-header" })
        let nas = v6.compactMap { $0["neighborAdvertisement"] as? [String: Any] }
        #expect(!nas.isEmpty)
        #expect(nas.allSatisfy { $0["keepalivedStyle"] as? Bool == true && $0["checksumValid"] as? Bool == true && $0["router"] as? Bool == false })

        // keepalived sends unicast IPv6 adverts with hop limit 64: not a failure for a unicast destination.
        let v6u = try inspect("v3-ipv6-unicast.pcap").filter { $0["kind"] as? String == "vrrp" }
        #expect(!v6u.isEmpty)
        #expect(v6u.allSatisfy { packet in
            packet["verdict"] as? String == "valid"
                && (packet["checks"] as? [[String: Any]])?.first { $0["id"] as? String == "hop_limit" }?["status"] as? String == "n/a"
        })

        let pass = try inspect("v2-pass.pcap").compactMap { $0["vrrp"] as? [String: Any] }
        #expect(pass.allSatisfy { $0["authTypeName"] as? String == "PASS" })
    }

    /// Every prefix and thousands of mutations of a capture and of hex text go through the
    /// reader and the dissector in-process without trapping.
    @Test func truncationsAndMutationsNeverCrash() {
        let captures = [pcap(InspectVectors.ethernetPackets), Self.pcapng(packets: InspectVectors.ethernetPackets),
                        pcap(linkType: 113, [be16(0) + be16(1) + be16(6) + InspectVectors.hostMAC + [0, 0] + be16(0x86DD) + InspectVectors.vrrpV3IPv6Packet]),
                        pcap(linkType: 276, [be16(0x0800) + [0, 0] + be32(1) + be16(1) + [0, 6] + InspectVectors.hostMAC + [0, 0] + InspectVectors.vrrpV2Datagram])]
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        func next() -> UInt64 {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return state
        }
        var packets = 0
        for capture in captures {
            for n in 0...capture.count {
                let c = Inspect.read(Array(capture[0..<n]), forceHex: false)
                packets += c.packets.map(PacketDissector.dissect).count
            }
            for _ in 0..<3000 {
                var m = capture
                for _ in 0..<(1 + Int(next() % 4)) {
                    m[Int(next() % UInt64(m.count))] = UInt8(truncatingIfNeeded: next())
                }
                let c = Inspect.read(m, forceHex: false)
                for p in c.packets { _ = PacketDissector.dissect(p).text }
            }
        }
        #expect(packets > 0)
        // Every packet body, cut and mutated, classified as hex input would be.
        for packet in InspectVectors.ethernetPackets + [InspectVectors.vrrpV2Datagram, InspectVectors.vrrpV3IPv6Packet, InspectVectors.badTTLAndChecksum] {
            for n in 0...packet.count {
                let bytes = Array(packet[0..<n])
                _ = PacketDissector.dissect(CapturedPacket(number: 1, linkType: HexInput.classify(bytes) ?? .unrecognised, timestamp: nil,
                                                           data: bytes, originalLength: n)).text
                for type in [LinkType.ethernet, .rawIP, .linuxSLL, .linuxSLL2, .ipv4, .ipv6, .arp] {
                    _ = PacketDissector.dissect(CapturedPacket(number: 1, linkType: type, timestamp: nil, data: bytes, originalLength: n, fcsLength: 4))
                }
            }
            for _ in 0..<2000 {
                var m = packet
                for _ in 0..<(1 + Int(next() % 3)) { m[Int(next() % UInt64(m.count))] = UInt8(truncatingIfNeeded: next()) }
                _ = PacketDissector.dissect(CapturedPacket(number: 1, linkType: HexInput.classify(m) ?? .unrecognised, timestamp: nil,
                                                           data: m, originalLength: m.count)).text
            }
        }
        // Hex text: random printable junk.
        let alphabet = Array("0123456789abcdefABCDEFx:, \t\n#0x0000:g".utf8)
        for _ in 0..<2000 {
            let text = (0..<Int(next() % 200)).map { _ in alphabet[Int(next() % UInt64(alphabet.count))] }
            let c = Inspect.read(text, forceHex: true)
            for p in c.packets { _ = PacketDissector.dissect(p).text }
        }
    }
}
