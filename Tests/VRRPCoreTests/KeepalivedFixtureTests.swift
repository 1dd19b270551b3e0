import Foundation
import Testing
@testable import VRRPCore

/// The codec and the state machine against packets the real keepalived 2.2.7 sent
/// (Tests/VRRPCoreTests/Fixtures; captured by Scripts/capture-keepalived-fixtures.sh) and
/// against an independent Python reading of the same bytes (Fixtures/derived/summary.json).
@Suite("keepalived 2.2.7 captures")
struct KeepalivedFixtureTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// One captured frame's network-layer packet.
    struct Captured {
        var index: Int
        var ipv4: [UInt8]?
        var ipv6: (nextHeader: UInt8, hopLimit: UInt8, source: IPAddress, destination: IPAddress, payload: [UInt8])?
    }

    /// Reads a little-endian classic pcap with Ethernet frames (the fixtures' format).
    static func frames(_ name: String) throws -> [Captured] {
        let data = [UInt8](try Data(contentsOf: root.appendingPathComponent("keepalived-2.2.7/\(name)")))
        try #require(data.count >= 24 && data[0..<4] == [0xd4, 0xc3, 0xb2, 0xa1])
        func le32(_ o: Int) -> Int { Int(data[o]) | Int(data[o + 1]) << 8 | Int(data[o + 2]) << 16 | Int(data[o + 3]) << 24 }
        var out: [Captured] = []
        var offset = 24
        while offset + 16 <= data.count {
            let length = le32(offset + 8)
            let frame = Array(data[(offset + 16)..<(offset + 16 + length)])
            offset += 16 + length
            var c = Captured(index: out.count)
            var type = Int(frame[12]) << 8 | Int(frame[13])
            var l3 = 14
            if type == 0x8100 { type = Int(frame[16]) << 8 | Int(frame[17]); l3 = 18 }
            if type == 0x0800 { c.ipv4 = Array(frame[l3...]) }
            if type == 0x86DD {
                let h = Array(frame[l3...])
                let payloadLength = Int(h[4]) << 8 | Int(h[5])
                c.ipv6 = (h[6], h[7], IPAddress(bytes: h[8..<24])!, IPAddress(bytes: h[24..<40])!,
                          Array(h[40..<(40 + payloadLength)]))
            }
            out.append(c)
        }
        return out
    }

    static func summary() throws -> [String: [[String: Any]]] {
        let data = try Data(contentsOf: root.appendingPathComponent("derived/summary.json"))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let files = try #require(json["files"] as? [String: [String: Any]])
        return files.mapValues { ($0["packets"] as? [[String: Any]]) ?? [] }
    }

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    static func decode(_ c: Captured) throws(VRRPDropReason) -> VRRPReceivedPacket? {
        if let v4 = c.ipv4 { return try VRRPAdvertisement.decodeIPv4Datagram(v4) }
        if let v6 = c.ipv6, v6.nextHeader == 112 {
            return try VRRPAdvertisement.decode(message: v6.payload, source: v6.source, destination: v6.destination,
                                                hopLimit: v6.hopLimit)
        }
        return nil
    }

    @Test("every VRRP packet keepalived sent decodes to the fields an independent decoder read")
    func decodesLikeThePythonReading() throws {
        let summary = try Self.summary()
        #expect(summary.count == 11)
        var checked = 0
        for (file, packets) in summary.sorted(by: { $0.key < $1.key }) {
            let frames = try Self.frames(file)
            for p in packets where p["kind"] as? String == "vrrp" {
                let index = try #require(p["index"] as? Int)
                let v = try #require(p["vrrp"] as? [String: Any])
                let where_ = "\(file) #\(index)"
                if p["ah"] != nil {
                    #expect(throws: VRRPDropReason.authenticationHeaderUnsupported, "\(where_)") { _ = try Self.decode(frames[index]) }
                    checked += 1
                    continue
                }
                let r = try #require(try Self.decode(frames[index]), "\(where_)")
                let a = r.advertisement
                #expect(Int(a.version.rawValue) == v["version"] as? Int, "\(where_)")
                #expect(Int(a.virtualRouterID) == v["vrid"] as? Int, "\(where_)")
                #expect(Int(a.priority) == v["priority"] as? Int, "\(where_)")
                #expect(a.addresses.count == v["count"] as? Int, "\(where_)")
                let interval = try #require(v["interval"] as? Int)
                #expect(Int(a.advertisementInterval) == (a.version == .v2 ? interval * 100 : interval), "\(where_)")
                #expect(a.addresses.map(\.description) == v["addresses"] as? [String], "\(where_)")
                #expect(r.source.description == p["src"] as? String, "\(where_)")
                #expect(r.destination.description == p["dst"] as? String, "\(where_)")
                #expect(Int(r.hopLimit) == (p["ttl"] as? Int ?? p["hop_limit"] as? Int), "\(where_)")
                let form = v["checksum_form"] as? String
                #expect(r.checksumForm == (form == "message" ? .messageOnly : .pseudoHeader), "\(where_)")
                if a.version == .v2 {
                    #expect(Int(a.authenticationType) == v["auth_type"] as? Int, "\(where_)")
                    #expect(String(a.authenticationData, radix: 16).leftPad(16) == v["auth_data"] as? String, "\(where_)")
                }
                checked += 1
            }
        }
        #expect(checked >= 60, "only \(checked) VRRP packets checked")
    }

    @Test("re-encoding each decoded advert reproduces keepalived's bytes, IPv4 header included")
    func encodesLikeKeepalived() throws {
        for (file, packets) in try Self.summary() {
            let frames = try Self.frames(file)
            for p in packets where p["kind"] as? String == "vrrp" && p["ah"] == nil {
                let index = try #require(p["index"] as? Int)
                let c = frames[index]
                let r = try #require(try Self.decode(c))
                let message = try #require((p["vrrp"] as? [String: Any])?["message_hex"] as? String)
                let again = r.advertisement.encoded(source: r.source, destination: r.destination, checksumForm: r.checksumForm)
                #expect(Self.hex(again) == message, "\(file) #\(index)")
                if let datagram = c.ipv4 {
                    let id = UInt16(datagram[4]) << 8 | UInt16(datagram[5])
                    let rebuilt = r.advertisement.encodedIPv4Datagram(source: r.source, destination: r.destination,
                                                                      checksumForm: r.checksumForm, ttl: r.hopLimit,
                                                                      identification: id)
                    #expect(rebuilt == datagram, "\(file) #\(index): IPv4 header")
                }
            }
        }
    }

    @Test("RFC 9568 message-only vectors derived from the v3 captures decode as message-only and re-encode exactly")
    func rfc9568Vectors() throws {
        let text = try String(contentsOf: Self.root.appendingPathComponent("derived/v3-ipv4-message-only.hex"), encoding: .utf8)
        var n = 0
        for line in text.split(separator: "\n") where !line.hasPrefix("#") && !line.isEmpty {
            var bytes: [UInt8] = []
            var i = line.startIndex
            while i < line.endIndex {
                let j = line.index(i, offsetBy: 2)
                bytes.append(UInt8(line[i..<j], radix: 16)!)
                i = j
            }
            let r = try VRRPAdvertisement.decodeIPv4Datagram(bytes)
            #expect(r.checksumForm == .messageOnly)
            let id = UInt16(bytes[4]) << 8 | UInt16(bytes[5])
            #expect(r.advertisement.encodedIPv4Datagram(source: r.source, destination: r.destination,
                                                        checksumForm: .messageOnly, identification: id) == bytes)
            n += 1
        }
        #expect(n == 23)
    }

    /// Feeds a capture's adverts to a kad router configured like keepalived's peer (r2).
    func feed(_ file: String, into config: VirtualRouterConfiguration) throws -> VirtualRouter {
        var r = try VirtualRouter(configuration: config)
        _ = r.handle(.startup, now: .zero)
        for c in try Self.frames(file) {
            if let p = try? Self.decode(c), p.advertisement.virtualRouterID == config.virtualRouterID {
                _ = r.handle(.advertisement(p), now: .seconds(1))
            }
        }
        return r
    }

    @Test("a kad backup accepts keepalived's adverts: v2, PASS, v3 IPv4, IPv6, unicast; and rejects a wrong password")
    func interoperates() throws {
        var v2 = T.config("VI_51", vrid: 51, primary: "192.0.2.2", vips: ["192.0.2.100", "192.0.2.101"])
        let plain = try feed("v2-multicast.pcap", into: v2)
        #expect(plain.counters.advertisementsReceived == 6 && plain.counters.totalDrops == 0)
        #expect(plain.masterAddress == T.ip("192.0.2.1"))

        v2.password = VRRPPassword("secret12")
        let pass = try feed("v2-pass.pcap", into: v2)
        #expect(pass.counters.advertisementsReceived == 3 && pass.counters.totalDrops == 0)
        v2.password = VRRPPassword("secret13")
        #expect(try feed("v2-pass.pcap", into: v2).counters.drops(.authenticationFailure) == 3)

        let v3 = T.config("VI_52", vrid: 52, version: .v3, primary: "192.0.2.2", vips: ["192.0.2.110", "192.0.2.111"])
        let r3 = try feed("v3-ipv4-multicast.pcap", into: v3)
        #expect(r3.counters.advertisementsReceived == 6 && r3.counters.received(.pseudoHeader) == 6)

        var v6 = T.config("VI_56", vrid: 56, version: .v3, primary: "2001:db8::2", vips: ["fe80::56", "2001:db8::56"])
        v6.unicastPeers = [UnicastPeer(T.ip("2001:db8::1"))]
        let r6 = try feed("v3-ipv6-unicast.pcap", into: v6)
        // keepalived sends IPv6 unicast adverts with hop limit 64; unicast mode accepts any TTL unless a range is set.
        #expect(r6.counters.advertisementsReceived > 0 && r6.counters.totalDrops == 0)
    }
}

private extension String {
    func leftPad(_ n: Int) -> String { String(repeating: "0", count: max(0, n - count)) + self }
}
