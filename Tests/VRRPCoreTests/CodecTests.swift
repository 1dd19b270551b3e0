import Testing
import VRRPCore

// Codec tests. The byte vectors below were computed outside the project by a short Python
// script (byte-by-byte RFC 1071 arithmetic, addresses from `socket.inet_pton`), reproduced at
// the end of this file, so that a bug shared by the encoder and the decoder cannot hide
// (vrrp-protocol.md §4.1, the FRR lesson).

// MARK: - Helpers

/// Bytes from a hex string ("c0a80001").
private func hex(_ text: String) -> [UInt8] {
    var out: [UInt8] = []
    var index = text.startIndex
    while index < text.endIndex {
        let next = text.index(index, offsetBy: 2)
        out.append(UInt8(text[index..<next], radix: 16)!)
        index = next
    }
    return out
}

private func ip(_ text: String) -> IPAddress { IPAddress(text)! }

private func list(_ texts: String...) -> VRRPAddressList {
    let addresses = texts.map(ip)
    return VRRPAddressList(family: addresses.first?.family ?? .ipv4, addresses)
}

/// The drop reason `body` throws, or `nil` when it decodes.
private func dropReason(_ body: () throws(VRRPDropReason) -> VRRPReceivedPacket) -> VRRPDropReason? {
    do {
        _ = try body()
        return nil
    } catch {
        return error
    }
}

/// The reference RFC 1071 sum, one big-endian word at a time (deliberately naive).
private func referenceSum(_ data: [UInt8]) -> UInt16 {
    var sum: UInt32 = 0
    var i = 0
    while i < data.count {
        let word = UInt32(data[i]) << 8 | (i + 1 < data.count ? UInt32(data[i + 1]) : 0)
        sum += word
        sum = (sum & 0xFFFF) + (sum >> 16)
        i += 2
    }
    return UInt16(sum)
}

private func sum(_ parts: [UInt8]...) -> UInt16 {
    var checksum = InternetChecksum()
    for part in parts { part.withUnsafeBytes { checksum.add($0) } }
    return checksum.sum
}

/// Recomputes the checksum field of the VRRP message `message[offset...]` in `form`.
private func refreshChecksum(_ message: inout [UInt8], offset: Int = 0, length: Int? = nil, form: VRRPChecksumForm,
                             version: VRRPVersion, source: IPAddress, destination: IPAddress) {
    let end = offset + (length ?? (message.count - offset))
    let value = message.withUnsafeBytes {
        VRRPChecksum.compute(message: UnsafeRawBufferPointer(rebasing: $0[offset..<end]), form: form,
                             version: version, source: source, destination: destination)
    }
    message[offset + 6] = UInt8(value >> 8)
    message[offset + 7] = UInt8(value & 0xFF)
}

/// Recomputes the IPv4 header checksum of `datagram` (IHL from its first byte).
private func refreshHeaderChecksum(_ datagram: inout [UInt8]) {
    let length = min(Int(datagram[0] & 0x0F) * 4, datagram.count)
    datagram[10] = 0
    datagram[11] = 0
    let value = ~sum(Array(datagram[0..<length]))
    datagram[10] = UInt8(value >> 8)
    datagram[11] = UInt8(value & 0xFF)
}

/// SplitMix64: a small seeded generator, so that every failure replays exactly.
private struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

// MARK: - Vectors (computed by the Python script at the end of this file)

private enum Vector {
    /// v2, VRID 51, priority 150, 1 s, PASS "1111", 192.168.200.16 and .17.
    static let v2 = hex("213396020101d3f2c0a8c810c0a8c8113131313100000000")
    /// The same in an IPv4 datagram from 192.168.1.10 to 224.0.0.18, TOS 0xC0, TTL 255, id 0.
    static let v2Datagram = hex("45c0002c00000000ff7018ddc0a8010ae0000012213396020101d3f2c0a8c810c0a8c8113131313100000000")
    /// v3 IPv4, VRID 1, priority 100, 100 cs, 10.0.0.100, from 10.0.0.1 to 224.0.0.18 (pseudo-header).
    static let v3IPv4PseudoHeader = hex("31016401006475a50a000064")
    /// The same with the message-only checksum (RFC 9568).
    static let v3IPv4MessageOnly = hex("31016401006460350a000064")
    /// The same sent unicast to 10.0.0.2, pseudo-header with the actual destination.
    static let v3IPv4UnicastActual = hex("3101640100644bb60a000064")
    /// The same sent unicast to 10.0.0.2, pseudo-header with 224.0.0.18 (keepalived < 1.3.6).
    static let v3IPv4UnicastGroup = hex("31016401006475a50a000064")
    /// v3 IPv6, VRID 7, priority 200, 50 cs, fe80::7 and 2001:db8::7, from fe80::1 to ff02::12.
    static let v3IPv6 = hex("3107c8020032dc4cfe80000000000000000000000000000720010db8000000000000000000000007")
    /// The same sent unicast to fe80::2 (actual destination in the pseudo-header).
    static let v3IPv6UnicastActual = hex("3107c8020032dcdefe80000000000000000000000000000720010db8000000000000000000000007")
    /// The IPv6 vector checksummed with the upper-layer length in host (little-endian) order.
    static let v3IPv6HostOrderLength = hex("3107c8020032b474fe80000000000000000000000000000720010db8000000000000000000000007")

    static let v2Advertisement = VRRPAdvertisement(
        version: .v2, virtualRouterID: 51, priority: 150, advertisementInterval: 100,
        addresses: list("192.168.200.16", "192.168.200.17"), authenticationType: 1,
        authenticationData: 0x3131_3131_0000_0000)
    static let v3IPv4Advertisement = VRRPAdvertisement(
        version: .v3, virtualRouterID: 1, priority: 100, advertisementInterval: 100, addresses: list("10.0.0.100"))
    static let v3IPv6Advertisement = VRRPAdvertisement(
        version: .v3, virtualRouterID: 7, priority: 200, advertisementInterval: 50,
        addresses: list("fe80::7", "2001:db8::7"))
}

// MARK: - Checksum arithmetic

@Suite("RFC 1071 checksum arithmetic")
struct InternetChecksumTests {
    @Test("checklist 12: RFC 1071 §3 example sums 00 01 f2 03 f4 f5 f6 f7 to 0xddf2")
    func rfc1071Example() {
        let data: [UInt8] = [0x00, 0x01, 0xF2, 0x03, 0xF4, 0xF5, 0xF6, 0xF7]
        #expect(sum(data) == 0xDDF2)
        var checksum = InternetChecksum()
        data.withUnsafeBytes { checksum.add($0) }
        #expect(checksum.checksum == 0x220D)
        // RFC 1071 §2(B): the sum of the byte-swapped data is the byte-swapped sum.
        #expect(sum([0x01, 0x00, 0x03, 0xF2, 0xF5, 0xF4, 0xF7, 0xF6]) == 0xF2DD)
    }

    @Test("checklist 12: the empty sum, odd lengths and all-ones data")
    func edges() {
        #expect(sum([]) == 0)
        #expect(InternetChecksum().checksum == 0xFFFF)
        #expect(sum([0xAB]) == 0xAB00)
        #expect(sum([0x12, 0x34, 0x56]) == 0x6834)
        #expect(sum([UInt8](repeating: 0xFF, count: 64)) == 0xFFFF)
        #expect(sum([UInt8](repeating: 0xFF, count: 9)) == 0xFF00)   // 0xFFFF is the zero of the sum
        var words = InternetChecksum()
        words.add(UInt16(0x0001))
        words.add(UInt32(0xF203_F4F5))
        words.add(UInt16(0xF6F7))
        #expect(words.sum == 0xDDF2)
        var address = InternetChecksum()
        address.add(ip("192.168.1.10"))
        #expect(address.sum == 0xC0A8 &+ 0x010A)
    }

    @Test("checklist 12: the word-at-a-time sum equals the naive sum for every length and split")
    func incrementalMatchesReference() {
        var rng = SplitMix64(seed: 1071)
        for length in 0...200 {
            let data = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let reference = referenceSum(data)
            #expect(sum(data) == reference, "length \(length)")
            // Every split into two pieces, so odd and even boundaries both occur.
            for cut in 0...length {
                #expect(sum(Array(data[..<cut]), Array(data[cut...])) == reference, "length \(length) cut \(cut)")
            }
            // Random three- and four-way splits.
            for _ in 0..<8 {
                var cuts = (0..<3).map { _ in Int.random(in: 0...length, using: &rng) }.sorted()
                cuts.insert(0, at: 0)
                cuts.append(length)
                var checksum = InternetChecksum()
                for i in 0..<(cuts.count - 1) {
                    Array(data[cuts[i]..<cuts[i + 1]]).withUnsafeBytes { checksum.add($0) }
                }
                #expect(checksum.sum == reference, "length \(length) cuts \(cuts)")
            }
        }
        // Large, carry-heavy buffers.
        for length in [1500, 1501, 4088, 65_535] {
            let data = (0..<length).map { _ in UInt8.random(in: 0xF0...0xFF, using: &rng) }
            #expect(sum(data) == referenceSum(data))
        }
    }

    @Test("checklist 12: v2 vector from outside the project (message only)")
    func v2Vector() {
        let computed = Vector.v2.withUnsafeBytes {
            VRRPChecksum.compute(message: $0, form: .messageOnly, version: .v2, source: ip("192.168.1.10"),
                                 destination: ip("224.0.0.18"))
        }
        #expect(computed == 0xD3F2)
        // v2 is message-only whatever form is asked for.
        let asPseudo = Vector.v2.withUnsafeBytes {
            VRRPChecksum.compute(message: $0, form: .pseudoHeader, version: .v2, source: ip("192.168.1.10"),
                                 destination: ip("224.0.0.18"))
        }
        #expect(asPseudo == 0xD3F2)
    }

    @Test("checklist 12: v3 vectors from outside the project, every form")
    func v3Vectors() {
        func compute(_ message: [UInt8], _ form: VRRPChecksumForm, _ source: String, _ destination: String) -> UInt16 {
            message.withUnsafeBytes {
                VRRPChecksum.compute(message: $0, form: form, version: .v3, source: ip(source), destination: ip(destination))
            }
        }
        #expect(compute(Vector.v3IPv4PseudoHeader, .pseudoHeader, "10.0.0.1", "224.0.0.18") == 0x75A5)
        #expect(compute(Vector.v3IPv4PseudoHeader, .messageOnly, "10.0.0.1", "224.0.0.18") == 0x6035)
        #expect(compute(Vector.v3IPv4PseudoHeader, .pseudoHeader, "10.0.0.1", "10.0.0.2") == 0x4BB6)
        #expect(compute(Vector.v3IPv4PseudoHeader, .pseudoHeaderMulticastGroup, "10.0.0.1", "10.0.0.2") == 0x75A5)
        #expect(compute(Vector.v3IPv6, .pseudoHeader, "fe80::1", "ff02::12") == 0xDC4C)
        #expect(compute(Vector.v3IPv6, .pseudoHeader, "fe80::1", "fe80::2") == 0xDCDE)
        #expect(compute(Vector.v3IPv6, .pseudoHeaderMulticastGroup, "fe80::1", "fe80::2") == 0xDC4C)
    }

    /// The IPv6 pseudo-header's upper-layer length is a 32-bit big-endian number (RFC 8200 §8.1).
    ///
    /// FRR commit 4c249b858e replaced an `htons()` of that length. Written that way the
    /// bytes are `hi lo 00 00` instead of `00 00 hi lo`: the same 16-bit words in another
    /// order, so the one's-complement sum, and thus the checksum, is *identical* (the Python
    /// script shows it; this test pins it). What does change the checksum is a length in the
    /// wrong byte order (`lo hi` or `00 00 lo hi`, i.e. no conversion at all on a
    /// little-endian host): that packet must be rejected, and our checksum must match the
    /// outside vector built with the 32-bit big-endian length.
    @Test("checklist 12: IPv6 pseudo-header length is 32-bit big-endian; FRR's htons() layout is checksum-neutral")
    func ipv6PseudoHeaderLength() {
        let message = Vector.v3IPv6
        let length = UInt16(message.count)
        let addresses = ip("fe80::1").bytes + ip("ff02::12").bytes
        // RFC 8200 §8.1 layout, built by hand.
        let rfc = addresses + [0, 0, UInt8(length >> 8), UInt8(length & 0xFF), 0, 0, 0, 112]
        // htons() stored into a 32-bit field on a little-endian host.
        let frr = addresses + [UInt8(length >> 8), UInt8(length & 0xFF), 0, 0, 0, 0, 0, 112]
        // No byte-order conversion at all on a little-endian host.
        let hostOrder = addresses + [UInt8(length & 0xFF), UInt8(length >> 8), 0, 0, 0, 0, 0, 112]
        #expect(sum(rfc, message) == 0xFFFF)
        #expect(sum(frr, message) == 0xFFFF)
        #expect(sum(hostOrder, message) != 0xFFFF)

        let source = ip("fe80::1"), destination = ip("ff02::12")
        let accepted = dropReason { () throws(VRRPDropReason) in
            try VRRPAdvertisement.decode(message: Vector.v3IPv6, source: source, destination: destination, hopLimit: 255)
        }
        #expect(accepted == nil)
        let rejected = dropReason { () throws(VRRPDropReason) in
            try VRRPAdvertisement.decode(message: Vector.v3IPv6HostOrderLength, source: source,
                                         destination: destination, hopLimit: 255)
        }
        #expect(rejected == .badChecksum)
    }

    @Test("checklist 18: a checksum field of 0xFFFF is accepted where 0x0000 was computed")
    func negativeZero() throws {
        // Choose the last Auth Data word so that the message sums to 0xFFFF: the computed
        // checksum is then 0x0000, and 0xFFFF is the same number in one's complement.
        var message = Vector.v2
        message[6] = 0
        message[7] = 0
        message[22] = 0
        message[23] = 0
        let fill = ~sum(message)
        message[22] = UInt8(fill >> 8)
        message[23] = UInt8(fill & 0xFF)
        let computed = message.withUnsafeBytes {
            VRRPChecksum.compute(message: $0, form: .messageOnly, version: .v2, source: ip("10.0.0.1"),
                                 destination: ip("224.0.0.18"))
        }
        #expect(computed == 0)
        message[6] = 0xFF
        message[7] = 0xFF
        let form = message.withUnsafeBytes {
            VRRPChecksum.verify(message: $0, version: .v2, source: ip("10.0.0.1"), destination: ip("224.0.0.18"))
        }
        #expect(form == .messageOnly)
    }
}

// MARK: - Encoding

@Suite("VRRP encoding")
struct VRRPEncodeTests {
    @Test("checklist 6, 12, 13: v2 encodes to the outside vector (version 2, type 1, PASS data)")
    func v2Encode() {
        let bytes = Vector.v2Advertisement.encoded(source: ip("192.168.1.10"), destination: ip("224.0.0.18"),
                                                   checksumForm: .messageOnly)
        #expect(bytes == Vector.v2)
        #expect(Vector.v2Advertisement.encodedLength == 24)
        #expect(bytes[0] == 0x21)
    }

    @Test("checklist 1: the IPv4 datagram has TTL 255, TOS 0xC0, DF clear, protocol 112, valid header checksum")
    func v2Datagram() {
        let datagram = Vector.v2Advertisement.encodedIPv4Datagram(source: ip("192.168.1.10"), destination: ip("224.0.0.18"),
                                                                  checksumForm: .messageOnly)
        #expect(datagram == Vector.v2Datagram)
        #expect(datagram[0] == 0x45)
        #expect(datagram[1] == 0xC0)
        #expect(datagram[6] & 0x40 == 0)     // DF clear
        #expect(datagram[8] == 255)
        #expect(datagram[9] == 112)
        #expect(sum(Array(datagram[0..<20])) == 0xFFFF)
        let other = Vector.v2Advertisement.encodedIPv4Datagram(source: ip("192.168.1.10"), destination: ip("224.0.0.18"),
                                                               checksumForm: .messageOnly, ttl: 64, identification: 0x1234)
        #expect(other[8] == 64)
        #expect(other[4] == 0x12 && other[5] == 0x34)
        #expect(sum(Array(other[0..<20])) == 0xFFFF)
    }

    @Test("checklist 8, 9, 12: v3 IPv4 encodes to the outside vectors in every checksum form")
    func v3IPv4Encode() {
        let advert = Vector.v3IPv4Advertisement
        #expect(advert.encodedLength == 12)
        #expect(advert.encoded(source: ip("10.0.0.1"), destination: ip("224.0.0.18"), checksumForm: .pseudoHeader)
                == Vector.v3IPv4PseudoHeader)
        #expect(advert.encoded(source: ip("10.0.0.1"), destination: ip("224.0.0.18"), checksumForm: .messageOnly)
                == Vector.v3IPv4MessageOnly)
        #expect(advert.encoded(source: ip("10.0.0.1"), destination: ip("10.0.0.2"), checksumForm: .pseudoHeader)
                == Vector.v3IPv4UnicastActual)
        #expect(advert.encoded(source: ip("10.0.0.1"), destination: ip("10.0.0.2"),
                               checksumForm: .pseudoHeaderMulticastGroup) == Vector.v3IPv4UnicastGroup)
    }

    @Test("checklist 8, 9, 10, 12: v3 IPv6 encodes to the outside vectors")
    func v3IPv6Encode() {
        let advert = Vector.v3IPv6Advertisement
        #expect(advert.encodedLength == 40)
        #expect(advert.encoded(source: ip("fe80::1"), destination: ip("ff02::12"), checksumForm: .pseudoHeader)
                == Vector.v3IPv6)
        #expect(advert.encoded(source: ip("fe80::1"), destination: ip("fe80::2"), checksumForm: .pseudoHeader)
                == Vector.v3IPv6UnicastActual)
    }

    @Test("checklist 8, 9: v3 writes Rsvd 0 and the 12-bit interval in centiseconds")
    func v3IntervalField() {
        for interval: UInt16 in [1, 100, 255, 256, 0x0ABC, 4095] {
            var advert = Vector.v3IPv4Advertisement
            advert.advertisementInterval = interval
            let bytes = advert.encoded(source: ip("10.0.0.1"), destination: ip("224.0.0.18"), checksumForm: .pseudoHeader)
            #expect(bytes[4] >> 4 == 0)
            #expect(UInt16(bytes[4]) << 8 | UInt16(bytes[5]) == interval)
        }
    }

    @Test("checklist 13: v2 writes whole seconds, the Auth Type and 8 Auth Data bytes")
    func v2Fields() {
        var advert = Vector.v2Advertisement
        advert.advertisementInterval = 300
        advert.authenticationType = 1
        advert.authenticationData = VRRPPassword("secret").rawValue
        var bytes = advert.encoded(source: ip("10.0.0.1"), destination: ip("224.0.0.18"), checksumForm: .messageOnly)
        #expect(bytes[4] == 1)
        #expect(bytes[5] == 3)
        #expect(Array(bytes[16..<24]) == Array("secret".utf8) + [0, 0])
        advert.advertisementInterval = 25_500
        advert.authenticationType = 0
        advert.authenticationData = 0
        bytes = advert.encoded(source: ip("10.0.0.1"), destination: ip("224.0.0.18"), checksumForm: .messageOnly)
        #expect(bytes[4] == 0)
        #expect(bytes[5] == 255)
        #expect(Array(bytes[16..<24]) == [0, 0, 0, 0, 0, 0, 0, 0])
        // No address at all is fine for v2: 8 + 8 bytes.
        advert.addresses = VRRPAddressList(family: .ipv4, [])
        #expect(advert.encodedLength == 16)
        #expect(advert.encoded(source: ip("10.0.0.1"), destination: ip("224.0.0.18"), checksumForm: .messageOnly).count == 16)
    }

    @Test("encode(into:) writes into a larger buffer and returns the length")
    func encodeIntoBuffer() {
        var buffer = [UInt8](repeating: 0xEE, count: 64)
        let written = buffer.withUnsafeMutableBytes {
            Vector.v3IPv6Advertisement.encode(into: $0, source: ip("fe80::1"), destination: ip("ff02::12"),
                                               checksumForm: .pseudoHeader)
        }
        #expect(written == 40)
        #expect(Array(buffer[0..<40]) == Vector.v3IPv6)
        #expect(buffer[40...].allSatisfy { $0 == 0xEE })
    }

    @Test("checklist 9, 11, 13: invalid advertisements are programming errors")
    func encodePreconditions() async {
        await #expect(processExitsWith: .failure) {
            let a = VRRPAdvertisement(version: .v2, virtualRouterID: 1, priority: 100, advertisementInterval: 150,
                                      addresses: VRRPAddressList(family: .ipv4, [IPAddress(ipv4: 1)]))
            _ = a.encoded(source: IPAddress(ipv4: 2), destination: IPAddress(ipv4: 3), checksumForm: .messageOnly)
        }
        await #expect(processExitsWith: .failure) {
            let a = VRRPAdvertisement(version: .v3, virtualRouterID: 1, priority: 100, advertisementInterval: 0,
                                      addresses: VRRPAddressList(family: .ipv4, [IPAddress(ipv4: 1)]))
            _ = a.encoded(source: IPAddress(ipv4: 2), destination: IPAddress(ipv4: 3), checksumForm: .messageOnly)
        }
        await #expect(processExitsWith: .failure) {
            let a = VRRPAdvertisement(version: .v3, virtualRouterID: 1, priority: 100, advertisementInterval: 4096,
                                      addresses: VRRPAddressList(family: .ipv4, [IPAddress(ipv4: 1)]))
            _ = a.encoded(source: IPAddress(ipv4: 2), destination: IPAddress(ipv4: 3), checksumForm: .messageOnly)
        }
        await #expect(processExitsWith: .failure) {
            let a = VRRPAdvertisement(version: .v3, virtualRouterID: 1, priority: 100, advertisementInterval: 100,
                                      addresses: VRRPAddressList(family: .ipv4, [IPAddress(ipv4: 1)]))
            _ = a.encoded(source: IPAddress(ipv6High: 0xFE80 << 48, low: 1), destination: IPAddress(ipv4: 3),
                          checksumForm: .pseudoHeader)
        }
        await #expect(processExitsWith: .failure) {
            let a = VRRPAdvertisement(version: .v3, virtualRouterID: 1, priority: 100, advertisementInterval: 100,
                                      addresses: VRRPAddressList(family: .ipv4, [IPAddress(ipv4: 1)]))
            var small = [UInt8](repeating: 0, count: 11)
            small.withUnsafeMutableBytes {
                _ = a.encode(into: $0, source: IPAddress(ipv4: 2), destination: IPAddress(ipv4: 3), checksumForm: .pseudoHeader)
            }
        }
    }
}

// MARK: - Decoding

@Suite("VRRP decoding")
struct VRRPDecodeTests {
    static let v4Source = ip("10.0.0.1")
    static let v4Group = ip("224.0.0.18")
    static let v6Source = ip("fe80::1")
    static let v6Group = ip("ff02::12")

    static func decode4(_ message: [UInt8], destination: IPAddress = v4Group,
                        hopLimit: UInt8 = 255) throws(VRRPDropReason) -> VRRPReceivedPacket {
        try VRRPAdvertisement.decode(message: message, source: v4Source, destination: destination, hopLimit: hopLimit)
    }

    static func decode6(_ message: [UInt8], destination: IPAddress = v6Group) throws(VRRPDropReason) -> VRRPReceivedPacket {
        try VRRPAdvertisement.decode(message: message, source: v6Source, destination: destination, hopLimit: 255)
    }

    static func reason4(_ message: [UInt8], destination: IPAddress = v4Group) -> VRRPDropReason? {
        dropReason { () throws(VRRPDropReason) in try decode4(message, destination: destination) }
    }

    static func reason6(_ message: [UInt8], destination: IPAddress = v6Group) -> VRRPDropReason? {
        dropReason { () throws(VRRPDropReason) in try decode6(message, destination: destination) }
    }

    static func reasonDatagram(_ datagram: [UInt8]) -> VRRPDropReason? {
        dropReason { () throws(VRRPDropReason) in try VRRPAdvertisement.decodeIPv4Datagram(datagram) }
    }

    /// A v3 IPv4 message with the pseudo-header checksum from v4Source to v4Group, after `edit`.
    static func v3IPv4(_ edit: (inout [UInt8]) -> Void = { _ in }) -> [UInt8] {
        var message = Vector.v3IPv4PseudoHeader
        edit(&message)
        refreshChecksum(&message, form: .pseudoHeader, version: .v3, source: v4Source, destination: v4Group)
        return message
    }

    static func v3IPv6(_ edit: (inout [UInt8]) -> Void = { _ in }) -> [UInt8] {
        var message = Vector.v3IPv6
        edit(&message)
        refreshChecksum(&message, form: .pseudoHeader, version: .v3, source: v6Source, destination: v6Group)
        return message
    }

    static func v2(_ edit: (inout [UInt8]) -> Void = { _ in }) -> [UInt8] {
        var message = Vector.v2
        edit(&message)
        refreshChecksum(&message, form: .messageOnly, version: .v2, source: v4Source, destination: v4Group)
        return message
    }

    // MARK: Vectors

    @Test("checklist 12, 13: the v2 vector decodes with its Auth fields")
    func v2Vector() throws {
        let packet = try Self.decode4(Vector.v2)
        #expect(packet.advertisement == Vector.v2Advertisement)
        #expect(packet.advertisement.authenticationType == 1)
        #expect(VRRPPassword(rawValue: packet.advertisement.authenticationData) == VRRPPassword("1111"))
        #expect(packet.advertisement.addresses.map(\.description) == ["192.168.200.16", "192.168.200.17"])
        #expect(packet.checksumForm == .messageOnly)
        #expect(packet.source == Self.v4Source)
        #expect(packet.destination == Self.v4Group)
    }

    @Test("checklist 1, 12: the v2 datagram vector decodes with its IP header")
    func v2DatagramVector() throws {
        let packet = try VRRPAdvertisement.decodeIPv4Datagram(Vector.v2Datagram)
        #expect(packet.advertisement == Vector.v2Advertisement)
        #expect(packet.source == ip("192.168.1.10"))
        #expect(packet.destination == ip("224.0.0.18"))
        #expect(packet.hopLimit == 255)
        #expect(packet.checksumForm == .messageOnly)
    }

    @Test("checklist 18: each accepted checksum form verifies and is reported")
    func checksumForms() throws {
        #expect(try Self.decode4(Vector.v3IPv4PseudoHeader).checksumForm == .pseudoHeader)
        #expect(try Self.decode4(Vector.v3IPv4MessageOnly).checksumForm == .messageOnly)
        let peer = ip("10.0.0.2")
        #expect(try Self.decode4(Vector.v3IPv4UnicastActual, destination: peer).checksumForm == .pseudoHeader)
        #expect(try Self.decode4(Vector.v3IPv4UnicastGroup, destination: peer).checksumForm == .pseudoHeaderMulticastGroup)
        #expect(try Self.decode4(Vector.v3IPv4MessageOnly, destination: peer).checksumForm == .messageOnly)
        #expect(try Self.decode6(Vector.v3IPv6).checksumForm == .pseudoHeader)
        #expect(try Self.decode6(Vector.v3IPv6UnicastActual, destination: ip("fe80::2")).checksumForm == .pseudoHeader)
        #expect(try Self.decode6(Vector.v3IPv6, destination: ip("fe80::2")).checksumForm == .pseudoHeaderMulticastGroup)
        #expect(try Self.decode4(Vector.v3IPv4PseudoHeader).advertisement == Vector.v3IPv4Advertisement)
        #expect(try Self.decode6(Vector.v3IPv6).advertisement == Vector.v3IPv6Advertisement)
    }

    /// Addresses whose IPv4 pseudo-header sums to one's-complement zero make one message verify
    /// in several forms (checked with the Python script): the first form in the documented order wins.
    @Test("checklist 18: when several forms verify, pseudo-header wins, then message-only, then the group form")
    func checksumFormOrder() throws {
        // 10.0.0.1 → 192.168.52.218, length 12: the pseudo-header sums to 0xFFFF.
        let both = try VRRPAdvertisement.decode(message: Vector.v3IPv4MessageOnly, source: ip("10.0.0.1"),
                                                destination: ip("192.168.52.218"), hopLimit: 255)
        #expect(both.checksumForm == .pseudoHeader)
        // 31.113.0.0 → (224.0.0.18), length 12: the group pseudo-header sums to 0xFFFF.
        let groupToo = try VRRPAdvertisement.decode(message: Vector.v3IPv4MessageOnly, source: ip("31.113.0.0"),
                                                    destination: ip("10.0.0.2"), hopLimit: 255)
        #expect(groupToo.checksumForm == .messageOnly)
    }

    @Test("checklist 18: forms that do not apply are refused")
    func checksumFormsRefused() {
        // IPv6 never accepts the message-only form.
        var messageOnly6 = Vector.v3IPv6
        refreshChecksum(&messageOnly6, form: .messageOnly, version: .v3, source: Self.v6Source, destination: Self.v6Group)
        #expect(Self.reason6(messageOnly6) == .badChecksum)
        // The group form is accepted only for a unicast destination: multicast to another group fails.
        #expect(Self.reason4(Vector.v3IPv4UnicastActual) == .badChecksum)
        #expect(Self.reason4(Vector.v3IPv4PseudoHeader, destination: ip("224.0.0.19")) == .badChecksum)
        // VRRPv2 is message-only: a v2 packet checksummed with the pseudo-header is refused.
        var pseudo2 = Vector.v2
        pseudo2.withUnsafeMutableBytes { raw in
            raw[6] = 0
            raw[7] = 0
            var checksum = InternetChecksum()
            checksum.add(Self.v4Source)
            checksum.add(Self.v4Group)
            checksum.add(UInt16(112))
            checksum.add(UInt16(24))
            checksum.add(UnsafeRawBufferPointer(raw))
            raw[6] = UInt8(checksum.checksum >> 8)
            raw[7] = UInt8(checksum.checksum & 0xFF)
        }
        #expect(Self.reason4(pseudo2) == .badChecksum)
        // The wrong source breaks a pseudo-header checksum but not a message-only one.
        #expect(dropReason { () throws(VRRPDropReason) in
            try VRRPAdvertisement.decode(message: Vector.v3IPv4PseudoHeader, source: ip("10.0.0.9"),
                                         destination: Self.v4Group, hopLimit: 255)
        } == .badChecksum)
        #expect(dropReason { () throws(VRRPDropReason) in
            try VRRPAdvertisement.decode(message: Vector.v3IPv4MessageOnly, source: ip("10.0.0.9"),
                                         destination: Self.v4Group, hopLimit: 255)
        } == nil)
    }

    // MARK: Each drop reason

    @Test("checklist 17: shorter than 8 bytes is truncatedHeader")
    func truncatedHeader() {
        for length in 0..<8 {
            #expect(Self.reason4(Array(Vector.v3IPv4PseudoHeader.prefix(length))) == .truncatedHeader)
            #expect(Self.reason6(Array(Vector.v3IPv6.prefix(length))) == .truncatedHeader)
        }
    }

    @Test("checklist 15: version other than 2 or 3, or VRRPv2 over IPv6, is unsupportedVersion")
    func unsupportedVersion() {
        for version: UInt8 in [0, 1, 4, 5, 15] {
            #expect(Self.reason4(Self.v3IPv4 { $0[0] = version << 4 | 1 }) == .unsupportedVersion)
            #expect(Self.reason6(Self.v3IPv6 { $0[0] = version << 4 | 1 }) == .unsupportedVersion)
        }
        // A VRRPv2 header over IPv6.
        #expect(Self.reason6(Self.v3IPv6 { $0[0] = 0x21 }) == .unsupportedVersion)
        // Checked before the type.
        #expect(Self.reason4(Self.v3IPv4 { $0[0] = 0x42 }) == .unsupportedVersion)
    }

    @Test("checklist 16: type other than 1 is badType")
    func badType() {
        for type: UInt8 in [0, 2, 3, 15] {
            #expect(Self.reason4(Self.v3IPv4 { $0[0] = 0x30 | type }) == .badType)
            #expect(Self.reason4(Self.v2 { $0[0] = 0x20 | type }) == .badType)
            #expect(Self.reason6(Self.v3IPv6 { $0[0] = 0x30 | type }) == .badType)
        }
        // Checked before the length and the checksum.
        var broken = Vector.v3IPv4PseudoHeader
        broken[0] = 0x32
        broken[3] = 9
        #expect(Self.reason4(broken) == .badType)
    }

    @Test("checklist 17: length not matching the count exactly is lengthMismatch")
    func lengthMismatch() {
        // One byte more or less than the count says.
        #expect(Self.reason4(Self.v3IPv4 { $0.append(0) }) == .lengthMismatch)
        #expect(Self.reason4(Self.v3IPv4 { $0.removeLast() }) == .lengthMismatch)
        #expect(Self.reason4(Self.v3IPv4 { $0.append(contentsOf: [0, 0, 0, 0]) }) == .lengthMismatch)
        #expect(Self.reason6(Self.v3IPv6 { $0.append(contentsOf: [UInt8](repeating: 0, count: 4)) }) == .lengthMismatch)
        #expect(Self.reason6(Self.v3IPv6 { $0.removeLast(16) }) == .lengthMismatch)
        // A count that does not match the addresses.
        #expect(Self.reason4(Self.v3IPv4 { $0[3] = 2 }) == .lengthMismatch)
        #expect(Self.reason6(Self.v3IPv6 { $0[3] = 1 }) == .lengthMismatch)
        #expect(Self.reason4(Self.v2 { $0[3] = 3 }) == .lengthMismatch)
        // A v2 message without its 8-byte Auth Data trailer.
        #expect(Self.reason4(Array(Vector.v2.prefix(16))) == .lengthMismatch)
        // An IPv4-sized v3 message over IPv6.
        #expect(Self.reason6(Vector.v3IPv4PseudoHeader) == .lengthMismatch)
        // Checked before the checksum.
        var broken = Vector.v3IPv4PseudoHeader
        broken.append(0)
        broken[6] ^= 0xFF
        #expect(Self.reason4(broken) == .lengthMismatch)
    }

    @Test("checklist 18: any flipped bit is badChecksum")
    func badChecksum() {
        for (message, family) in [(Vector.v2, IPAddressFamily.ipv4), (Vector.v3IPv4PseudoHeader, .ipv4), (Vector.v3IPv6, .ipv6)] {
            // Every bit outside the version/type byte and the count byte (those are checked earlier).
            for byte in 1..<message.count where byte != 3 {
                for bit in 0..<8 {
                    var mutated = message
                    mutated[byte] ^= 1 << UInt8(bit)
                    let reason = family == .ipv4 ? Self.reason4(mutated) : Self.reason6(mutated)
                    #expect(reason == .badChecksum, "byte \(byte) bit \(bit)")
                }
            }
        }
    }

    @Test("checklist 22: VRRPv3 with count 0 is zeroAddressCount; VRRPv2 with count 0 is fine")
    func zeroAddressCount() throws {
        #expect(Self.reason4(Self.v3IPv4 { $0[3] = 0; $0.removeLast(4) }) == .zeroAddressCount)
        #expect(Self.reason6(Self.v3IPv6 { $0[3] = 0; $0.removeLast(32) }) == .zeroAddressCount)
        // After the checksum: a bad checksum wins.
        var broken = Self.v3IPv4 { $0[3] = 0; $0.removeLast(4) }
        broken[7] ^= 1
        #expect(Self.reason4(broken) == .badChecksum)
        // v2 with no address decodes.
        let v2 = Self.v2 { $0[3] = 0; $0.removeSubrange(8..<16) }
        let packet = try Self.decode4(v2)
        #expect(packet.advertisement.addresses.isEmpty)
        #expect(packet.advertisement.authenticationData == 0x3131_3131_0000_0000)
    }

    @Test("checklist 23: interval 0 is zeroInterval (v3 centiseconds and v2 seconds)")
    func zeroInterval() {
        #expect(Self.reason4(Self.v3IPv4 { $0[4] = 0; $0[5] = 0 }) == .zeroInterval)
        #expect(Self.reason6(Self.v3IPv6 { $0[4] = 0; $0[5] = 0 }) == .zeroInterval)
        #expect(Self.reason4(Self.v2 { $0[5] = 0 }) == .zeroInterval)
        // Only the reserved bits set: still zero.
        #expect(Self.reason4(Self.v3IPv4 { $0[4] = 0xF0; $0[5] = 0 }) == .zeroInterval)
        // Count 0 is checked first.
        #expect(Self.reason4(Self.v3IPv4 { $0[3] = 0; $0.removeLast(4); $0[5] = 0 }) == .zeroAddressCount)
    }

    @Test("checklist 24: VRRPv3 IPv6 whose first address is not link-local is firstAddressNotLinkLocal")
    func firstAddressNotLinkLocal() throws {
        // Swap the two addresses: 2001:db8::7 first.
        let swapped = Self.v3IPv6 { m in
            let first = Array(m[8..<24])
            m.replaceSubrange(8..<24, with: m[24..<40])
            m.replaceSubrange(24..<40, with: first)
        }
        #expect(Self.reason6(swapped) == .firstAddressNotLinkLocal)
        // fec0:: (site-local) is not link-local; febf:: is.
        #expect(Self.reason6(Self.v3IPv6 { $0[8] = 0xFE; $0[9] = 0xC0 }) == .firstAddressNotLinkLocal)
        #expect(Self.reason6(Self.v3IPv6 { $0[8] = 0xFE; $0[9] = 0xBF }) == nil)
        // Only the first address matters.
        #expect(Self.reason6(Vector.v3IPv6) == nil)
        // The interval is checked first.
        #expect(Self.reason6(Self.v3IPv6 { m in m[8] = 0x20; m[4] = 0; m[5] = 0 }) == .zeroInterval)
        // IPv4 has no such rule.
        #expect(try Self.decode4(Vector.v3IPv4PseudoHeader).advertisement.addresses.count == 1)
    }

    @Test("checklist 27: the reserved bits are ignored, never rejected")
    func reservedBitsIgnored() throws {
        for reserved: UInt8 in [0x10, 0x80, 0xF0] {
            let v4 = try Self.decode4(Self.v3IPv4 { $0[4] |= reserved })
            #expect(v4.advertisement == Vector.v3IPv4Advertisement)
            let v6 = try Self.decode6(Self.v3IPv6 { $0[4] |= reserved })
            #expect(v6.advertisement.advertisementInterval == 50)
        }
        let maxInterval = try Self.decode4(Self.v3IPv4 { $0[4] = 0xFF; $0[5] = 0xFF })
        #expect(maxInterval.advertisement.advertisementInterval == 4095)
    }

    @Test("checklist 14: the hop limit is reported, not checked, by the codec")
    func hopLimitReported() throws {
        let packet = try Self.decode4(Vector.v3IPv4PseudoHeader, hopLimit: 1)
        #expect(packet.hopLimit == 1)
        let datagram = Vector.v3IPv4Advertisement.encodedIPv4Datagram(source: Self.v4Source, destination: Self.v4Group,
                                                                      checksumForm: .pseudoHeader, ttl: 64)
        #expect(try VRRPAdvertisement.decodeIPv4Datagram(datagram).hopLimit == 64)
    }

    @Test("checklist 13, 20, 21: v2 interval in seconds and Auth fields are reported as sent")
    func v2FieldsReported() throws {
        #expect(try Self.decode4(Self.v2 { $0[5] = 7 }).advertisement.advertisementInterval == 700)
        #expect(try Self.decode4(Self.v2 { $0[5] = 255 }).advertisement.advertisementInterval == 25_500)
        for type: UInt8 in [0, 1, 2, 3, 255] {
            #expect(try Self.decode4(Self.v2 { $0[4] = type }).advertisement.authenticationType == type)
        }
        let data = try Self.decode4(Self.v2 { $0.replaceSubrange(16..<24, with: [1, 2, 3, 4, 5, 6, 7, 8]) })
        #expect(data.advertisement.authenticationData == 0x0102_0304_0506_0708)
        // v3 never reports authentication.
        let v3 = try Self.decode4(Vector.v3IPv4PseudoHeader).advertisement
        #expect(v3.authenticationType == 0 && v3.authenticationData == 0)
    }

    @Test("Priority 0 and 255 and every VRID decode as sent")
    func priorityAndVRID() throws {
        for value: UInt8 in [0, 1, 254, 255] {
            let packet = try Self.decode4(Self.v3IPv4 { $0[1] = value; $0[2] = value })
            #expect(packet.advertisement.virtualRouterID == value)
            #expect(packet.advertisement.priority == value)
        }
    }

    @Test("decode(message:offset:length:) reads in place inside a larger array")
    func decodeAtOffset() throws {
        let storage = [UInt8](repeating: 0x99, count: 5) + Vector.v3IPv6 + [0x42, 0x42]
        let packet = try VRRPAdvertisement.decode(message: storage, offset: 5, length: 40, source: Self.v6Source,
                                                  destination: Self.v6Group, hopLimit: 255)
        #expect(packet.advertisement == Vector.v3IPv6Advertisement)
        #expect(packet.advertisement.addresses[1] == ip("2001:db8::7"))
        let reason = dropReason { () throws(VRRPDropReason) in
            try VRRPAdvertisement.decode(message: storage, offset: 5, length: 41, source: Self.v6Source,
                                         destination: Self.v6Group, hopLimit: 255)
        }
        #expect(reason == .lengthMismatch)
    }

    // MARK: IPv4 datagrams

    static func datagram(_ edit: (inout [UInt8]) -> Void = { _ in }) -> [UInt8] {
        var datagram = Vector.v3IPv4Advertisement.encodedIPv4Datagram(source: v4Source, destination: v4Group,
                                                                      checksumForm: .pseudoHeader)
        edit(&datagram)
        refreshHeaderChecksum(&datagram)
        return datagram
    }

    @Test("checklist 17: Ethernet padding after the IPv4 total length is ignored")
    func ethernetPadding() throws {
        let plain = Self.datagram()
        #expect(plain.count == 32)
        // A 60-byte minimum frame carries 46 bytes of IP: 14 bytes of padding here.
        for padding in [[UInt8](repeating: 0, count: 14), [UInt8](repeating: 0xA5, count: 14), [0x31, 0x01], [0]] {
            let packet = try VRRPAdvertisement.decodeIPv4Datagram(plain + padding)
            #expect(packet.advertisement == Vector.v3IPv4Advertisement)
            #expect(packet.checksumForm == .pseudoHeader)
        }
        // The v2 vector padded as well.
        let v2 = try VRRPAdvertisement.decodeIPv4Datagram(Vector.v2Datagram + [UInt8](repeating: 0, count: 2))
        #expect(v2.advertisement == Vector.v2Advertisement)
        // A total length that cuts into the message is a VRRP length error, not an IP one.
        let short = Self.datagram { $0[3] -= 1 }
        #expect(Self.reasonDatagram(short) == .lengthMismatch)
    }

    @Test("IPv4 options are skipped")
    func ipv4Options() throws {
        let withOptions = Self.datagram { d in
            d[0] = 0x46
            d[3] += 4
            d.insert(contentsOf: [0x94, 0x04, 0x00, 0x00], at: 20)    // Router Alert
        }
        let packet = try VRRPAdvertisement.decodeIPv4Datagram(withOptions)
        #expect(packet.advertisement == Vector.v3IPv4Advertisement)
    }

    @Test("Malformed IPv4 headers are malformedIPHeader")
    func malformedIPHeader() {
        let good = Self.datagram()
        for length in 0..<20 {
            #expect(Self.reasonDatagram(Array(good.prefix(length))) == .malformedIPHeader)
        }
        #expect(Self.reasonDatagram(Self.datagram { $0[0] = 0x65 }) == .malformedIPHeader)      // version 6
        #expect(Self.reasonDatagram(Self.datagram { $0[0] = 0x44 }) == .malformedIPHeader)      // IHL 4
        #expect(Self.reasonDatagram(Self.datagram { $0[0] = 0x49 }) == .malformedIPHeader)      // 36-byte header > 32
        #expect(Self.reasonDatagram(Self.datagram { $0[0] = 0x4F }) == .malformedIPHeader)      // 60-byte header
        #expect(Self.reasonDatagram(Self.datagram { $0[3] = 33 }) == .malformedIPHeader)        // longer than the buffer
        #expect(Self.reasonDatagram(Self.datagram { $0[2] = 1 }) == .malformedIPHeader)
        #expect(Self.reasonDatagram(Self.datagram { $0[3] = 19 }) == .malformedIPHeader)        // shorter than the header
        var badSum = good
        badSum[11] ^= 1
        #expect(Self.reasonDatagram(badSum) == .malformedIPHeader)
        // Exactly a header and no payload: a VRRP truncation.
        #expect(Self.reasonDatagram(Self.datagram { $0[3] = 20 }) == .truncatedHeader)
    }

    @Test("Protocol 51 is authenticationHeaderUnsupported; anything but 112 is notVRRP")
    func protocols() {
        #expect(Self.reasonDatagram(Self.datagram { $0[9] = 51 }) == .authenticationHeaderUnsupported)
        for proto: UInt8 in [0, 1, 6, 17, 50, 111, 113, 255] {
            #expect(Self.reasonDatagram(Self.datagram { $0[9] = proto }) == .notVRRP)
        }
    }

    @Test("Fragments are fragmented; DF and the reserved flag are ignored")
    func fragments() throws {
        #expect(Self.reasonDatagram(Self.datagram { $0[6] = 0x20 }) == .fragmented)              // MF
        #expect(Self.reasonDatagram(Self.datagram { $0[7] = 0x01 }) == .fragmented)              // offset 8
        #expect(Self.reasonDatagram(Self.datagram { $0[6] = 0x1F; $0[7] = 0xFF }) == .fragmented)
        #expect(Self.reasonDatagram(Self.datagram { $0[6] = 0x40 }) == nil)                      // DF
        #expect(Self.reasonDatagram(Self.datagram { $0[6] = 0x80 }) == nil)                      // reserved flag
        // The protocol is checked first.
        #expect(Self.reasonDatagram(Self.datagram { $0[6] = 0x20; $0[9] = 17 }) == .notVRRP)
    }

    @Test("Every codec drop reason has a test above")
    func allCodecReasonsCovered() {
        let codecReasons: [VRRPDropReason] = [
            .malformedIPHeader, .notVRRP, .authenticationHeaderUnsupported, .fragmented, .truncatedHeader,
            .unsupportedVersion, .badType, .lengthMismatch, .badChecksum, .zeroAddressCount, .zeroInterval,
            .firstAddressNotLinkLocal,
        ]
        let examples: [VRRPDropReason?] = [
            Self.reasonDatagram([0x45]), Self.reasonDatagram(Self.datagram { $0[9] = 17 }),
            Self.reasonDatagram(Self.datagram { $0[9] = 51 }), Self.reasonDatagram(Self.datagram { $0[6] = 0x20 }),
            Self.reason4([0x31]), Self.reason4(Self.v3IPv4 { $0[0] = 0x11 }), Self.reason4(Self.v3IPv4 { $0[0] = 0x32 }),
            Self.reason4(Self.v3IPv4 { $0[3] = 2 }), Self.reason4(Vector.v3IPv4UnicastActual),
            Self.reason4(Self.v3IPv4 { $0[3] = 0; $0.removeLast(4) }), Self.reason4(Self.v3IPv4 { $0[5] = 0; $0[4] = 0 }),
            Self.reason6(Self.v3IPv6 { $0[8] = 0x20 }),
        ]
        #expect(examples == codecReasons.map(Optional.some))
    }
}

// MARK: - Properties

@Suite("VRRP codec properties")
struct VRRPCodecPropertyTests {
    struct Case {
        var advertisement: VRRPAdvertisement
        var source: IPAddress
        var destination: IPAddress
        var form: VRRPChecksumForm
    }

    fileprivate static func randomAddress(_ family: IPAddressFamily, unicast: Bool = true,
                              using rng: inout SplitMix64) -> IPAddress {
        while true {
            let address = family == .ipv4 ? IPAddress(ipv4: UInt32.random(in: 0...UInt32.max, using: &rng))
                                           : IPAddress(ipv6High: rng.next(), low: rng.next())
            if !unicast || !address.isMulticast { return address }
        }
    }

    fileprivate static func randomCase(using rng: inout SplitMix64) -> Case {
        let version: VRRPVersion = Bool.random(using: &rng) ? .v2 : .v3
        let family: IPAddressFamily = version == .v2 || Bool.random(using: &rng) ? .ipv4 : .ipv6
        var count = Int.random(in: (version == .v2 ? 0 : 1)...12, using: &rng)
        if Int.random(in: 0..<50, using: &rng) == 0 { count = 255 }
        var addresses = (0..<count).map { _ in randomAddress(family, unicast: false, using: &rng) }
        if version == .v3, family == .ipv6 {
            addresses[0] = IPAddress(ipv6High: 0xFE80 << 48 | rng.next() & 0x003F_FFFF_FFFF_FFFF, low: rng.next())
        }
        let interval = version == .v2 ? UInt16.random(in: 1...255, using: &rng) * 100
                                      : UInt16.random(in: 1...4095, using: &rng)
        let advertisement = VRRPAdvertisement(
            version: version, virtualRouterID: UInt8.random(in: 0...255, using: &rng),
            priority: UInt8.random(in: 0...255, using: &rng), advertisementInterval: interval,
            addresses: VRRPAddressList(family: family, addresses),
            authenticationType: version == .v2 ? UInt8.random(in: 0...255, using: &rng) : 0,
            authenticationData: version == .v2 ? rng.next() : 0)
        let source = randomAddress(family, using: &rng)
        let multicast = Bool.random(using: &rng)
        let destination = multicast ? IPAddress.vrrpMulticastGroup(family) : randomAddress(family, using: &rng)
        var forms: [VRRPChecksumForm] = [.pseudoHeader]
        if family == .ipv4 { forms.append(.messageOnly) }
        if !multicast { forms.append(.pseudoHeaderMulticastGroup) }
        let form: VRRPChecksumForm = version == .v2 ? .messageOnly : forms[Int.random(in: 0..<forms.count, using: &rng)]
        return Case(advertisement: advertisement, source: source, destination: destination, form: form)
    }

    static func checksum(_ message: [UInt8], _ c: Case, _ form: VRRPChecksumForm) -> UInt16 {
        message.withUnsafeBytes {
            VRRPChecksum.compute(message: $0, form: form, version: c.advertisement.version,
                                 source: c.source, destination: c.destination)
        }
    }

    @Test("checklist 6–13, 17, 18, 22–24, 27: encode → decode round trip over 5000 random advertisements")
    func roundTrip() throws {
        var rng = SplitMix64(seed: 0x5EED_0001)
        for i in 0..<5000 {
            let c = Self.randomCase(using: &rng)
            let bytes = c.advertisement.encoded(source: c.source, destination: c.destination, checksumForm: c.form)
            #expect(bytes.count == c.advertisement.encodedLength)
            let hopLimit = UInt8.random(in: 0...255, using: &rng)
            let packet = try VRRPAdvertisement.decode(message: bytes, source: c.source, destination: c.destination,
                                                      hopLimit: hopLimit)
            #expect(packet.advertisement == c.advertisement, "case \(i)")
            #expect(packet.source == c.source && packet.destination == c.destination && packet.hopLimit == hopLimit)
            // A form tried earlier may verify by coincidence (its pseudo-header summing to zero):
            // then both forms give the same checksum.
            #expect(packet.checksumForm == c.form
                    || Self.checksum(bytes, c, packet.checksumForm) == Self.checksum(bytes, c, c.form), "case \(i)")
            // Re-encoding the decoded advertisement gives the same bytes.
            #expect(packet.advertisement.encoded(source: c.source, destination: c.destination, checksumForm: c.form) == bytes)

            if c.advertisement.family == .ipv4 {
                let ttl = UInt8.random(in: 0...255, using: &rng)
                let padding = (0..<Int.random(in: 0...20, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                let datagram = c.advertisement.encodedIPv4Datagram(
                    source: c.source, destination: c.destination, checksumForm: c.form, ttl: ttl,
                    identification: UInt16.random(in: 0...UInt16.max, using: &rng))
                let decoded = try VRRPAdvertisement.decodeIPv4Datagram(datagram + padding)
                #expect(decoded.advertisement == c.advertisement, "case \(i)")
                #expect(decoded.source == c.source && decoded.destination == c.destination && decoded.hopLimit == ttl)
            }
        }
    }

    /// Decodes `bytes` both ways; the only requirement is not to crash, and a success must be self-consistent.
    static func decodeAnything(_ bytes: [UInt8], source: IPAddress, destination: IPAddress) {
        if let packet = try? VRRPAdvertisement.decode(message: bytes, source: source, destination: destination, hopLimit: 255) {
            let advert = packet.advertisement
            #expect(advert.encodedLength == bytes.count)
            #expect(advert.family == source.family)
            #expect(advert.advertisementInterval > 0)
            #expect(advert.addresses.count == Int(bytes[3]))
            _ = advert.addresses.map(\.description)
        }
        if let packet = try? VRRPAdvertisement.decodeIPv4Datagram(bytes) {
            #expect(packet.source.family == .ipv4)
            #expect(packet.advertisement.encodedLength <= bytes.count - 20)
        }
    }

    @Test("Decoding never crashes on random, truncated or mutated bytes")
    func neverCrashes() {
        var rng = SplitMix64(seed: 0xF022)
        // Pure noise, with plausible first bytes half of the time.
        for _ in 0..<20_000 {
            let length = Int.random(in: 0...120, using: &rng)
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if length > 0, Bool.random(using: &rng) { bytes[0] = [0x21, 0x31, 0x45, 0x46, 0x4F][Int.random(in: 0..<5, using: &rng)] }
            let family: IPAddressFamily = Bool.random(using: &rng) ? .ipv4 : .ipv6
            Self.decodeAnything(bytes, source: Self.randomAddress(family, using: &rng),
                                destination: Self.randomAddress(family, unicast: false, using: &rng))
        }
        // Valid packets and datagrams, truncated at every length, extended, and mutated.
        for _ in 0..<400 {
            let c = Self.randomCase(using: &rng)
            var valid = [c.advertisement.encoded(source: c.source, destination: c.destination, checksumForm: c.form)]
            if c.advertisement.family == .ipv4 {
                valid.append(c.advertisement.encodedIPv4Datagram(source: c.source, destination: c.destination,
                                                                  checksumForm: c.form))
            }
            for bytes in valid {
                for length in 0...min(bytes.count, 80) {
                    Self.decodeAnything(Array(bytes.prefix(length)), source: c.source, destination: c.destination)
                }
                for _ in 0..<40 {
                    var mutated = bytes
                    for _ in 0..<Int.random(in: 1...4, using: &rng) {
                        let index = Int.random(in: 0..<mutated.count, using: &rng)
                        switch Int.random(in: 0..<4, using: &rng) {
                        case 0: mutated[index] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
                        case 1: mutated[index] = UInt8.random(in: 0...255, using: &rng)
                        case 2: mutated.append(UInt8.random(in: 0...255, using: &rng))
                        default: if mutated.count > 1 { mutated.remove(at: index) }
                        }
                    }
                    Self.decodeAnything(mutated, source: c.source, destination: c.destination)
                }
            }
        }
    }
}

// The script that produced the vectors (Python 3, standard library only):
//
//   import socket, struct
//   def csum(data):
//       if len(data) % 2: data += b"\0"
//       s = sum((data[i] << 8) | data[i + 1] for i in range(0, len(data), 2))
//       while s >> 16: s = (s & 0xFFFF) + (s >> 16)
//       return ~s & 0xFFFF
//   a4 = lambda t: socket.inet_pton(socket.AF_INET, t)
//   a6 = lambda t: socket.inet_pton(socket.AF_INET6, t)
//   def v2(vrid, prio, secs, auth_type, auth, addrs):
//       body = bytes([0x21, vrid, prio, len(addrs), auth_type, secs, 0, 0]) \
//              + b"".join(map(a4, addrs)) + auth.ljust(8, b"\0")
//       return body[:6] + struct.pack(">H", csum(body)) + body[8:]
//   def v3(vrid, prio, cs, addrs, pick, ph):
//       body = bytes([0x31, vrid, prio, len(addrs)]) + struct.pack(">H", cs) + b"\0\0" \
//              + b"".join(map(pick, addrs))
//       return body[:6] + struct.pack(">H", csum(ph(len(body)) + body)) + body[8:]
//   ph4 = lambda s, d: lambda n: a4(s) + a4(d) + bytes([0, 112]) + struct.pack(">H", n)
//   ph6 = lambda s, d: lambda n: a6(s) + a6(d) + struct.pack(">I", n) + b"\0\0\0" + bytes([112])
//   none = lambda n: b""
//   m = v2(51, 150, 1, 1, b"1111", ["192.168.200.16", "192.168.200.17"])
//   hdr = bytes([0x45, 0xC0]) + struct.pack(">H", 20 + len(m)) + b"\0\0\0\0" + bytes([255, 112, 0, 0]) \
//         + a4("192.168.1.10") + a4("224.0.0.18")
//   hdr = hdr[:10] + struct.pack(">H", csum(hdr)) + hdr[12:]          # v2Datagram = hdr + m
//   v3(1, 100, 100, ["10.0.0.100"], a4, ph4("10.0.0.1", "224.0.0.18"))   # v3IPv4PseudoHeader
//   v3(1, 100, 100, ["10.0.0.100"], a4, none)                           # v3IPv4MessageOnly
//   v3(1, 100, 100, ["10.0.0.100"], a4, ph4("10.0.0.1", "10.0.0.2"))     # v3IPv4UnicastActual
//   v3(7, 200, 50, ["fe80::7", "2001:db8::7"], a6, ph6("fe80::1", "ff02::12"))   # v3IPv6
//   v3(7, 200, 50, ["fe80::7", "2001:db8::7"], a6, ph6("fe80::1", "fe80::2"))    # v3IPv6UnicastActual
//   host = lambda n: a6("fe80::1") + a6("ff02::12") + struct.pack("<I", n) + b"\0\0\0" + bytes([112])
//   v3(7, 200, 50, ["fe80::7", "2001:db8::7"], a6, host)                # v3IPv6HostOrderLength
//   frr = lambda n: a6("fe80::1") + a6("ff02::12") + struct.pack("<I", socket.htons(n)) + b"\0\0\0" + bytes([112])
//   v3(7, 200, 50, ["fe80::7", "2001:db8::7"], a6, frr) == v3(..., ph6("fe80::1", "ff02::12"))   # True
