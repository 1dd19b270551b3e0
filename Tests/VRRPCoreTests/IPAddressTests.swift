import Testing
import VRRPCore

/// Bytes from a hex string ("c0a80001").
private func bytes(_ hex: String) -> [UInt8] {
    var out: [UInt8] = []
    var index = hex.startIndex
    while index < hex.endIndex {
        let next = hex.index(index, offsetBy: 2)
        out.append(UInt8(hex[index..<next], radix: 16)!)
        index = next
    }
    return out
}

@Suite("IPAddress text, bytes and order")
struct IPAddressTests {
    // MARK: IPv4

    @Test("IPv4 dotted quads parse and print back", arguments: [
        ("0.0.0.0", UInt32(0)),
        ("255.255.255.255", 0xFFFF_FFFF),
        ("192.0.2.1", 0xC000_0201),
        ("224.0.0.18", 0xE000_0012),
        ("10.0.0.100", 0x0A00_0064),
        ("128.0.0.0", 0x8000_0000),
    ])
    func ipv4RoundTrip(text: String, value: UInt32) throws {
        let address = try #require(IPAddress(text))
        #expect(address.family == .ipv4)
        #expect(address.ipv4Value == value)
        #expect(address == IPAddress(ipv4: value))
        #expect(address.description == text)
        #expect(address.bytes == [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)])
    }

    /// Each of these is rejected by glibc's `inet_pton(AF_INET, ...)` too (checked with Python's
    /// `socket.inet_pton`); octets with a leading zero would be octal to `inet_aton`.
    @Test("IPv4 invalid text is rejected as inet_pton rejects it", arguments: [
        "", "1", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.256", "1.2.3.-1", "01.2.3.4", "1.2.3.04", "1.2.3.000",
        " 1.2.3.4", "1.2.3.4 ", "1..3.4", ".1.2.3", "1.2.3.", "1.2.3.4/24", "a.b.c.d", "1.2.3.0x4", "+1.2.3.4",
        "١.٢.٣.٤", "1.2.3.4\n", "1234.1.1.1",
    ])
    func ipv4Invalid(text: String) {
        #expect(IPAddress(text) == nil)
    }

    // MARK: IPv6

    /// Vectors printed by glibc's `inet_ntop(AF_INET6)` through Python's `socket.inet_ntop`:
    /// forty random addresses with many zero and 0xffff groups (seed 5952) and special cases.
    static let ntopVectors: [(String, String)] = [
        ("0000000000000008000084dc0000ffff", "::8:0:84dc:0:ffff"),
        ("0000000babd90000ffff000000000000", "0:b:abd9:0:ffff::"),
        ("000cffff000000026bdc0008ffff91f0", "c:ffff:0:2:6bdc:8:ffff:91f0"),
        ("00000000ffff000300008146cedfffff", "::ffff:3:0:8146:cedf:ffff"),
        ("2201ffffffff0000ffff000500000000", "2201:ffff:ffff:0:ffff:5::"),
        ("00000000ffff000000000009ffffffff", "::ffff:0:0:9:ffff:ffff"),
        ("000300000441ffff000e000000030000", "3:0:441:ffff:e:0:3:0"),
        ("106900000000000dffff7e59ffffffff", "1069::d:ffff:7e59:ffff:ffff"),
        ("00000000ffff00000000000a00000000", "::ffff:0:0:a:0:0"),
        ("000a0000000d000075ee0008ffff0000", "a:0:d:0:75ee:8:ffff:0"),
        ("b3fd00000000000000000000000cffff", "b3fd::c:ffff"),
        ("000effff0000000000008a4f000b0000", "e:ffff::8a4f:b:0"),
        ("ffff000cffff00000000ffff00030000", "ffff:c:ffff::ffff:3:0"),
        ("000f451000000003000000004da1ee4f", "f:4510:0:3::4da1:ee4f"),
        ("00000000affb2c4b00000000ffff0006", "::affb:2c4b:0:0:ffff:6"),
        ("000e117f000000000000000b0000ffff", "e:117f::b:0:ffff"),
        ("ffff0000000d000000000000ffff0000", "ffff:0:d::ffff:0"),
        ("0000000000000000000075a40000ffff", "::75a4:0:ffff"),
        ("ffff722f0000000a0000000f00000000", "ffff:722f:0:a:0:f::"),
        ("3f970000caa50000ffffffffa6690000", "3f97:0:caa5:0:ffff:ffff:a669:0"),
        ("755d1cf8ffff000000000000ffff205d", "755d:1cf8:ffff::ffff:205d"),
        ("e65300000000000600000005ffff0001", "e653::6:0:5:ffff:1"),
        ("0000000aabbf0dd9ddcb000000000000", "0:a:abbf:dd9:ddcb::"),
        ("ffff8f90ffffffff000300000000ffff", "ffff:8f90:ffff:ffff:3::ffff"),
        ("00000002000000000000000000000005", "0:2::5"),
        ("0000000000000000aa36ffff000e0000", "::aa36:ffff:e:0"),
        ("0000ffff00001c280000000000000000", "0:ffff:0:1c28::"),
        ("ffff0003000300000000000000000008", "ffff:3:3::8"),
        ("00000000000000006e5d0000ffff0000", "::6e5d:0:ffff:0"),
        ("0000000000000000fffff5b40003ffff", "::ffff:f5b4:3:ffff"),
        ("0000000000000000ffff0000ffff0000", "::ffff:0:ffff:0"),
        ("00000004ffff0000ffff00002bd7ffff", "0:4:ffff:0:ffff:0:2bd7:ffff"),
        ("a525000000000000000000000003000e", "a525::3:e"),
        ("ffff000dffff0000ffff000000000000", "ffff:d:ffff:0:ffff::"),
        ("000d000c0000ffff000000000000da46", "d:c:0:ffff::da46"),
        ("ffff00000000ffff000f0000000f0000", "ffff::ffff:f:0:f:0"),
        ("27bc0000000022da0000000000000000", "27bc:0:0:22da::"),
        ("0000ffff00000000000000000000fa39", "0:ffff::fa39"),
        ("000700000000859b0000000400003dae", "7::859b:0:4:0:3dae"),
        ("0000000e0000000100080000ffff0000", "0:e:0:1:8:0:ffff:0"),
        ("00000000000000000000ffffc0000201", "::ffff:192.0.2.1"),
        ("000000000000000000000000c0000201", "::192.0.2.1"),
        ("00000000000000000000000000000001", "::1"),
        ("00000000000000000000000000000000", "::"),
        ("00000000000000000000ffff00000000", "::ffff:0.0.0.0"),
        ("00000000000000000000000100000000", "::1:0:0"),
        ("0064ff9b0000000000000000c0000201", "64:ff9b::c000:201"),
        ("0000000000000000ffff0000c0000201", "::ffff:0:c000:201"),
        ("fe800000000000000000000000000000", "fe80::"),
        ("00010000000000010000000000000001", "1:0:0:1::1"),
        ("00010002000300040005000600070000", "1:2:3:4:5:6:7:0"),
        ("00000002000300040005000600070008", "0:2:3:4:5:6:7:8"),
    ]

    @Test("RFC 5952: IPv6 prints as inet_ntop prints it, and parses back")
    func ipv6MatchesInetNtop() throws {
        for (hex, text) in Self.ntopVectors {
            let address = try #require(IPAddress(bytes: bytes(hex)))
            #expect(address.family == .ipv6)
            #expect(address.description == text, "\(hex)")
            #expect(IPAddress(text) == address, "\(text)")
            #expect(address.bytes == bytes(hex))
        }
    }

    @Test("RFC 5952 §4: lowercase, no leading zeros, longest zero run compressed, first on a tie, never one group")
    func rfc5952Rules() throws {
        func canonical(_ text: String) throws -> String { try #require(IPAddress(text)).description }
        #expect(try canonical("2001:0DB8:0000:0000:0000:0000:0000:0001") == "2001:db8::1")   // §4.1, §4.3, §4.2.1
        #expect(try canonical("2001:db8:0:0:1:0:0:1") == "2001:db8::1:0:0:1")               // §4.2.3: the first on a tie
        #expect(try canonical("2001:0:0:1:0:0:0:1") == "2001:0:0:1::1")                     // §4.2.3: the longest run
        #expect(try canonical("2001:db8:0:1:1:1:1:1") == "2001:db8:0:1:1:1:1:1")            // §4.2.2: never one group
        #expect(try canonical("ABCD:EF01::") == "abcd:ef01::")                              // §4.3
        #expect(try canonical("0:0:0:0:0:0:0:0") == "::")
        #expect(try canonical("FF02::12") == "ff02::12")
        #expect(try canonical("::ffff:192.0.2.1") == "::ffff:192.0.2.1")                    // §5
        #expect(try canonical("::ffff:c000:0201") == "::ffff:192.0.2.1")                    // §5
    }

    @Test("IPv6 text forms parse to the expected bytes", arguments: [
        ("::", "00000000000000000000000000000000"),
        ("::1", "00000000000000000000000000000001"),
        ("1::", "00010000000000000000000000000000"),
        ("1:2:3:4:5:6:7:8", "00010002000300040005000600070008"),
        ("1:2:3:4:5:6:7::", "00010002000300040005000600070000"),
        ("::2:3:4:5:6:7:8", "00000002000300040005000600070008"),
        ("1:2:3:4:5:6::8", "00010002000300040005000600000008"),
        ("0001::0001", "00010000000000000000000000000001"),
        ("FE80::A:b:C", "fe800000000000000000000a000b000c"),
        ("::ffff:1.2.3.4", "00000000000000000000ffff01020304"),
        ("::1.2.3.4", "00000000000000000000000001020304"),
        ("1:2:3:4:5:6:1.2.3.4", "00010002000300040005000601020304"),
        ("64:ff9b::192.0.2.33", "0064ff9b0000000000000000c0000221"),
    ])
    func ipv6Forms(text: String, hex: String) throws {
        let expected = bytes(hex)
        let address = try #require(IPAddress(text))
        #expect(address.bytes == expected)
    }

    /// Each of these is rejected by glibc's `inet_pton(AF_INET6, ...)` too.
    @Test("IPv6 invalid text is rejected as inet_pton rejects it", arguments: [
        ":", ":::", "1:::2", "1::2::3", ":1::", "1::2:", ":1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:",
        "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7::8", "00000::1", "12345::", "g::", "::g",
        "fe80::1%eth0", "2001:db8::/32", "::ffff:01.2.3.4", "::1.2.3", "::1.2.3.4:5", "1.2.3.4::",
        "1:2:3:4:5:6:7:1.2.3.4", "::256.0.0.0", " ::1", "::1 ", "[::1]", "ｆｅ８０::1", "::-1", "::+1", "1:2:3:4:5:6:7:8:1.2.3.4",
    ])
    func ipv6Invalid(text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test("Random IPv6 addresses survive print and parse")
    func ipv6RandomRoundTrip() throws {
        var state: UInt64 = 0x5952
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        for _ in 0..<3000 {
            // Zero out random groups so that "::" appears in every position.
            let mask = next()
            var high = next(), low = next()
            for g in 0..<4 where mask >> UInt64(g) & 1 == 1 { high &= ~(0xFFFF << (16 * UInt64(g))) }
            for g in 0..<4 where mask >> UInt64(g + 4) & 1 == 1 { low &= ~(0xFFFF << (16 * UInt64(g))) }
            if mask >> 8 & 7 == 0 { high = 0; low &= 0xFFFF_FFFF }                       // ::/96
            if mask >> 8 & 7 == 1 { high = 0; low = 0xFFFF_0000_0000 | (low & 0xFFFF_FFFF) }  // ::ffff:0:0/96
            let address = IPAddress(ipv6High: high, low: low)
            let text = address.description
            #expect(IPAddress(text) == address, "\(text)")
            #expect(text == text.lowercased())
            #expect(!text.contains(":::"))
        }
    }

    // MARK: Bytes, predicates, order

    @Test("Bytes: 4 or 16 in network order; other lengths are rejected")
    func fromBytes() throws {
        #expect(IPAddress(bytes: [192, 0, 2, 1]) == IPAddress("192.0.2.1"))
        #expect(IPAddress(bytes: bytes("20010db8000000000000000000000001")) == IPAddress("2001:db8::1"))
        #expect(IPAddress(bytes: [UInt8]()) == nil)
        #expect(IPAddress(bytes: [1, 2, 3]) == nil)
        #expect(IPAddress(bytes: [UInt8](repeating: 0, count: 5)) == nil)
        #expect(IPAddress(bytes: [UInt8](repeating: 0, count: 15)) == nil)
        #expect(IPAddress(bytes: [UInt8](repeating: 0, count: 17)) == nil)
        let v6 = try #require(IPAddress("2001:db8::1"))
        var buffer = [UInt8](repeating: 0xAA, count: 20)
        let end = buffer.withUnsafeMutableBytes { v6.write(to: $0, at: 2) }
        #expect(end == 18)
        #expect(Array(buffer[2..<18]) == v6.bytes)
        #expect(buffer[0] == 0xAA && buffer[18] == 0xAA)
        let read = buffer.withUnsafeBytes { IPAddress(family: .ipv6, from: $0, at: 2) }
        #expect(read == v6)
    }

    @Test("checklist 24: link-local is exactly fe80::/10")
    func linkLocal() {
        #expect(IPAddress("fe80::1")!.isIPv6LinkLocal)
        #expect(IPAddress("febf:ffff::1")!.isIPv6LinkLocal)
        #expect(!IPAddress("fec0::1")!.isIPv6LinkLocal)
        #expect(!IPAddress("fe7f::1")!.isIPv6LinkLocal)
        #expect(!IPAddress("2001:db8::1")!.isIPv6LinkLocal)
        #expect(!IPAddress("169.254.0.1")!.isIPv6LinkLocal)
    }

    @Test("Multicast: 224.0.0.0/4 and ff00::/8; the VRRP groups")
    func multicast() {
        #expect(IPAddress("224.0.0.18")!.isMulticast)
        #expect(IPAddress("239.255.255.255")!.isMulticast)
        #expect(!IPAddress("223.255.255.255")!.isMulticast)
        #expect(!IPAddress("240.0.0.0")!.isMulticast)
        #expect(IPAddress("ff02::12")!.isMulticast)
        #expect(!IPAddress("fe80::1")!.isMulticast)
        #expect(IPAddress.vrrpMulticastGroup(.ipv4).description == "224.0.0.18")
        #expect(IPAddress.vrrpMulticastGroup(.ipv6).description == "ff02::12")
    }

    @Test("checklist 39: order is unsigned network-byte order; IPv4 before IPv6")
    func ordering() {
        func a(_ text: String) -> IPAddress { IPAddress(text)! }
        #expect(a("10.0.0.1") < a("10.0.0.2"))
        #expect(a("9.255.255.255") < a("10.0.0.0"))            // not string order
        #expect(a("127.255.255.255") < a("128.0.0.0"))         // unsigned: no sign bit
        #expect(a("192.168.1.2") < a("192.168.1.10"))
        #expect(!(a("10.0.0.1") < a("10.0.0.1")))
        #expect(a("255.255.255.255") < a("::"))                 // families never compare by value
        #expect(a("::ffff") < a("::1:0"))
        #expect(a("7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff") < a("8000::"))
        #expect(a("fe80:0:0:1::") > a("fe80::ffff:ffff:ffff:ffff"))   // the high half decides first
        #expect(a("fe80::1:0:0:0") > a("fe80::ffff:ffff:ffff"))
        #expect(a("fe80::1") < a("fe80::2"))
        let sorted = ["10.0.0.10", "fe80::1", "10.0.0.9", "::", "1.0.0.0"].map(a).sorted()
        #expect(sorted.map(\.description) == ["1.0.0.0", "10.0.0.9", "10.0.0.10", "::", "fe80::1"])
    }

    @Test("Equality and hashing follow family and value")
    func equality() {
        #expect(IPAddress(ipv4: 1) != IPAddress(ipv6High: 0, low: 1))
        #expect(Set([IPAddress("::1")!, IPAddress("0::0:1")!, IPAddress("0.0.0.1")!]).count == 2)
    }
}
