// What the VRRP fuzz targets assert about every packet the decoder accepts, and the seed writer.
//
// A decoded advertisement must describe the bytes it came from, and re-encoding it with the
// checksum form that verified must give those bytes back: exactly, except the VRRPv3 reserved
// bits (the top 4 bits of byte 4, which the encoder writes as 0) and the checksum field, which then
// differs by exactly the change in those bits (RFC 1624 incremental update). Checksum fields are
// compared as one's-complement numbers, so 0x0000 and 0xFFFF are the same value (RFC 1071 §1).
// Any violation stops the process (precondition), which libFuzzer reports as a crash.

import VRRPCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Stops with `message` unless `condition` holds; libFuzzer saves the input as a crash.
@inline(__always)
func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() { fatalError("VRRP fuzz property violated: \(message())") }
}

/// One's-complement addition of 16-bit values with end-around carry.
func onesAdd(_ a: UInt16, _ b: UInt16) -> UInt16 {
    let s = UInt32(a) + UInt32(b)
    return UInt16(truncatingIfNeeded: (s & 0xFFFF) + (s >> 16))
}

/// Whether two checksum fields are the same one's-complement number (0x0000 == 0xFFFF).
func sameChecksum(_ a: UInt16, _ b: UInt16) -> Bool {
    a == b || (a == 0 || a == 0xFFFF) && (b == 0 || b == 0xFFFF)
}

/// RFC 1624 eqn. 3: the checksum after the 16-bit word `old` became `new`: ~(~HC + ~m + m').
func updatedChecksum(_ checksum: UInt16, old: UInt16, new: UInt16) -> UInt16 {
    ~onesAdd(onesAdd(~checksum, ~old), new)
}

func word(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> UInt16 {
    UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
}

/// Checks `packet`, which was decoded from `message` (the VRRP message only, without IP header).
///
/// - Parameters:
///   - packet: what the decoder returned.
///   - message: the VRRP message bytes the decoder accepted.
///   - source: the IP source the decoder was given (or read from the IPv4 header).
///   - destination: the IP destination likewise.
///   - hopLimit: the TTL or hop limit likewise.
public func checkDecoded(_ packet: VRRPReceivedPacket, message: UnsafeRawBufferPointer, source: IPAddress,
                         destination: IPAddress, hopLimit: UInt8) {
    let a = packet.advertisement
    let family = source.family
    // What the IP layer said is reported unchanged.
    require(packet.source == source && packet.destination == destination && packet.hopLimit == hopLimit,
            "IP fields not reported as given")
    // Family and count.
    require(a.family == family && a.addresses.family == family, "address family \(a.family) for a \(family) packet")
    require(a.addresses.count == Int(message[3]), "count \(a.addresses.count), field \(message[3])")
    require(a.encodedLength == message.count, "encodedLength \(a.encodedLength), message \(message.count) bytes")
    require(Int(message[0] >> 4) == Int(a.version.rawValue) && message[0] & 0x0F == 1, "version/type byte")
    require(a.virtualRouterID == message[1] && a.priority == message[2], "VRID or priority")
    switch a.version {
    case .v2:
        require(family == .ipv4, "VRRPv2 accepted over IPv6")
        require(packet.checksumForm == .messageOnly, "VRRPv2 with checksum form \(packet.checksumForm)")
        require(a.advertisementInterval == UInt16(message[5]) * 100 && a.advertisementInterval != 0, "v2 interval")
        require(a.authenticationType == message[4], "v2 auth type")
        var data: UInt64 = 0
        for i in (message.count - 8)..<message.count { data = data << 8 | UInt64(message[i]) }
        require(a.authenticationData == data, "v2 auth data")
    case .v3:
        require(a.addresses.count > 0, "VRRPv3 with no address accepted")
        require(a.advertisementInterval == word(message, 4) & 0x0FFF && a.advertisementInterval != 0, "v3 interval")
        require(a.authenticationType == 0 && a.authenticationData == 0, "v3 with authentication fields")
        if family == .ipv6 { require(a.addresses[0].isIPv6LinkLocal, "v3 IPv6 first address not link-local") }
        if family == .ipv6 { require(packet.checksumForm != .messageOnly, "IPv6 message-only checksum") }
    }
    if packet.checksumForm == .pseudoHeaderMulticastGroup {
        require(!destination.isMulticast, "group-form checksum accepted for a multicast destination")
    }
    // The address list is the message's address bytes, and each address reads back the same.
    let size = family.addressSize
    a.addresses.withUnsafeBytes { list in
        require(list.elementsEqual(UnsafeRawBufferPointer(rebasing: message[8..<(8 + a.addresses.count * size)])),
                "address bytes differ from the message")
    }
    for (i, address) in a.addresses.enumerated() {
        require(address.family == family, "address \(i) of family \(address.family)")
        address.withBytes { bytes in
            require(bytes.elementsEqual(UnsafeRawBufferPointer(rebasing: message[(8 + i * size)..<(8 + (i + 1) * size)])),
                    "address \(i) differs from its bytes")
        }
    }

    // Re-encoding gives the message back.
    let out = UnsafeMutableRawBufferPointer.allocate(byteCount: max(message.count, 8), alignment: 8)
    defer { out.deallocate() }
    let written = a.encode(into: out, source: source, destination: destination, checksumForm: packet.checksumForm)
    require(written == message.count, "re-encoded \(written) bytes of \(message.count)")
    let reservedMask: UInt8 = a.version == .v3 ? 0x0F : 0xFF
    for i in 0..<message.count where i != 6 && i != 7 {
        let expected = i == 4 ? message[4] & reservedMask : message[i]
        require(out[i] == expected, "re-encoded byte \(i) is \(out[i]), was \(message[i])")
    }
    // Clearing the reserved bits changes the checksum by exactly that change (RFC 1624).
    let expectedChecksum = updatedChecksum(word(message, 6), old: word(message, 4),
                                           new: word(message, 4) & (a.version == .v3 ? 0x0FFF : 0xFFFF))
    let checksum = word(UnsafeRawBufferPointer(out), 6)
    require(sameChecksum(checksum, expectedChecksum),
            "re-encoded checksum \(checksum), expected \(expectedChecksum) (received \(word(message, 6)))")
    require(checksum != 0xFFFF, "the encoder wrote the negative-zero checksum 0xFFFF")

    // The re-encoded message decodes to the same packet, with the same checksum form.
    let copy = [UInt8](UnsafeRawBufferPointer(rebasing: out[0..<written]))
    do throws(VRRPDropReason) {
        let again = try VRRPAdvertisement.decode(message: copy, source: source, destination: destination,
                                                 hopLimit: hopLimit)
        require(again == packet, "the re-encoded message decodes differently: \(again) vs \(packet)")
    } catch {
        require(false, "the re-encoded message does not decode: \(error)")
    }
}

/// Checks a datagram that `decodeIPv4Datagram` accepted: the VRRP part with ``checkDecoded``, and,
/// when the IP header is the one kad writes (IHL 5, TOS 0xC0, no flags, no padding), the whole
/// datagram against `encodedIPv4Datagram`.
public func checkDecodedDatagram(_ packet: VRRPReceivedPacket, datagram: [UInt8]) {
    let headerLength = Int(datagram[0] & 0x0F) * 4
    let totalLength = Int(datagram[2]) << 8 | Int(datagram[3])
    require(datagram[0] >> 4 == 4 && headerLength >= 20 && totalLength >= headerLength && totalLength <= datagram.count,
            "an inconsistent IPv4 header was accepted")
    require(datagram[9] == 112, "protocol \(datagram[9]) accepted")
    require((UInt16(datagram[6]) << 8 | UInt16(datagram[7])) & 0x3FFF == 0, "a fragment was accepted")
    let source = IPAddress(bytes: datagram[12..<16])!
    let destination = IPAddress(bytes: datagram[16..<20])!
    datagram.withUnsafeBytes { all in
        checkDecoded(packet, message: UnsafeRawBufferPointer(rebasing: all[headerLength..<totalLength]),
                     source: source, destination: destination, hopLimit: datagram[8])
    }
    // The same message, copied out of the datagram, decodes to the same packet.
    let payload = Array(datagram[headerLength..<totalLength])
    do throws(VRRPDropReason) {
        let direct = try VRRPAdvertisement.decode(message: payload, source: source, destination: destination,
                                                  hopLimit: datagram[8])
        require(direct == packet, "decode(message:) of the payload differs from decodeIPv4Datagram")
    } catch {
        require(false, "decode(message:) of the payload fails with \(error)")
    }

    let canonical = headerLength == 20 && datagram[1] == 0xC0 && datagram[6] == 0 && datagram[7] == 0
        && totalLength == datagram.count
    guard canonical else { return }
    let identification = UInt16(datagram[4]) << 8 | UInt16(datagram[5])
    let again = packet.advertisement.encodedIPv4Datagram(
        source: source, destination: destination, checksumForm: packet.checksumForm, ttl: datagram[8],
        identification: identification)
    require(again.count == datagram.count, "re-encoded datagram is \(again.count) bytes, was \(datagram.count)")
    for i in 0..<20 where i != 10 && i != 11 {
        require(again[i] == datagram[i], "re-encoded IPv4 header byte \(i) is \(again[i]), was \(datagram[i])")
    }
    let received = UInt16(datagram[10]) << 8 | UInt16(datagram[11])
    let written = UInt16(again[10]) << 8 | UInt16(again[11])
    require(sameChecksum(received, written), "re-encoded IPv4 header checksum \(written), was \(received)")
    let reservedMask: UInt8 = packet.advertisement.version == .v3 ? 0x0F : 0xFF
    for i in 20..<datagram.count where i != 26 && i != 27 {
        require(again[i] == (i == 24 ? datagram[i] & reservedMask : datagram[i]), "re-encoded datagram byte \(i)")
    }
}

// MARK: - Repair

// Random mutations almost never keep a checksum valid, so most mutated inputs would stop at the
// checksum check. The targets therefore decode each input twice: as given, and "repaired", with its
// checksums recomputed, so that mutations also reach the checks after the checksum and the
// round trip. The VRRP checksum form of the repaired copy is picked from input bits (below).

/// The form a repaired message gets, from two input bits: 0 and 3 pseudo-header, 1 message-only,
/// 2 pseudo-header with the group. VRRPv2 (and any other version nibble but 3) is message-only.
func repairForm(versionNibble: UInt8, selector: UInt8) -> (VRRPVersion, VRRPChecksumForm) {
    guard versionNibble == 3 else { return (.v2, .messageOnly) }
    switch selector & 3 {
    case 1: return (.v3, .messageOnly)
    case 2: return (.v3, .pseudoHeaderMulticastGroup)
    default: return (.v3, .pseudoHeader)
    }
}

/// Writes the checksum of `form` into the VRRP message at `range` of `bytes`.
func refreshVRRPChecksum(_ bytes: inout [UInt8], _ range: Range<Int>, version: VRRPVersion, form: VRRPChecksumForm,
                         source: IPAddress, destination: IPAddress) {
    let c = bytes.withUnsafeBytes {
        VRRPChecksum.compute(message: UnsafeRawBufferPointer(rebasing: $0[range]), form: form, version: version,
                             source: source, destination: destination)
    }
    bytes[range.lowerBound + 6] = UInt8(c >> 8)
    bytes[range.lowerBound + 7] = UInt8(c & 0xFF)
}

/// `datagram` with a correct IPv4 header checksum and, when the header's lengths frame at least
/// 8 bytes, a correct VRRP checksum (form from the identification's high byte); `nil` when the
/// header is too broken to repair or nothing changed.
public func repairedDatagram(_ datagram: [UInt8]) -> [UInt8]? {
    guard datagram.count >= 20, datagram[0] >> 4 == 4 else { return nil }
    let headerLength = Int(datagram[0] & 0x0F) * 4
    guard headerLength >= 20, headerLength <= datagram.count else { return nil }
    var out = datagram
    let totalLength = Int(datagram[2]) << 8 | Int(datagram[3])
    if totalLength >= headerLength + 8, totalLength <= datagram.count {
        let source = IPAddress(bytes: datagram[12..<16])!
        let destination = IPAddress(bytes: datagram[16..<20])!
        let (version, form) = repairForm(versionNibble: datagram[headerLength] >> 4, selector: datagram[4])
        refreshVRRPChecksum(&out, headerLength..<totalLength, version: version, form: form,
                            source: source, destination: destination)
    }
    refreshHeaderChecksum(&out)
    return out == datagram ? nil : out
}

/// `message` with a correct VRRP checksum (form from the hop limit's low bits), or `nil` when it
/// is shorter than a header or nothing changed.
public func repairedMessage(_ message: [UInt8], source: IPAddress, destination: IPAddress,
                            hopLimit: UInt8) -> [UInt8]? {
    guard message.count >= 8 else { return nil }
    var out = message
    let (version, form) = repairForm(versionNibble: message[0] >> 4, selector: hopLimit)
    refreshVRRPChecksum(&out, 0..<message.count, version: version, form: form, source: source,
                        destination: destination)
    return out == message ? nil : out
}

// MARK: - Seeds

/// Writes `bytes` to `path`; stops on failure.
public func writeFile(_ path: String, _ bytes: [UInt8]) {
    guard let file = fopen(path, "wb") else { fatalError("cannot write \(path)") }
    let n = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
    fclose(file)
    if n != bytes.count { fatalError("short write to \(path)") }
}

func ip(_ text: String) -> IPAddress { IPAddress(text)! }

func advertisement(_ version: VRRPVersion, vrid: UInt8 = 51, priority: UInt8 = 100, interval: UInt16 = 100,
                   _ addresses: [String], authenticationType: UInt8 = 0, password: String? = nil) -> VRRPAdvertisement {
    let list = addresses.map(ip)
    return VRRPAdvertisement(
        version: version, virtualRouterID: vrid, priority: priority, advertisementInterval: interval,
        addresses: VRRPAddressList(family: list.first?.family ?? .ipv4, list),
        authenticationType: authenticationType, authenticationData: password.map { VRRPPassword($0).rawValue } ?? 0)
}

/// Recomputes the IPv4 header checksum after an edit.
func refreshHeaderChecksum(_ datagram: inout [UInt8]) {
    let length = Int(datagram[0] & 0x0F) * 4
    datagram[10] = 0
    datagram[11] = 0
    var sum = InternetChecksum()
    datagram.withUnsafeBytes { sum.add(UnsafeRawBufferPointer(rebasing: $0[0..<length])) }
    datagram[10] = UInt8(sum.checksum >> 8)
    datagram[11] = UInt8(sum.checksum & 0xFF)
}

/// Seeds for the IPv4-datagram target: whole datagrams made by the encoder, named `NAME.bin`.
public func ipv4DatagramSeeds() -> [(String, [UInt8])] {
    let src = ip("192.168.1.10"), group = ip("224.0.0.18"), peer = ip("192.168.1.11")
    let vips = ["192.168.1.100", "192.168.1.101"]
    var seeds: [(String, [UInt8])] = []
    func add(_ name: String, _ a: VRRPAdvertisement, _ destination: IPAddress = group,
             _ form: VRRPChecksumForm = .pseudoHeader, ttl: UInt8 = 255, id: UInt16 = 0) {
        seeds.append((name, a.encodedIPv4Datagram(source: src, destination: destination, checksumForm: form,
                                                  ttl: ttl, identification: id)))
    }
    add("v2-none-2vip", advertisement(.v2, vips), group, .messageOnly)
    add("v2-pass-2vip", advertisement(.v2, vips, authenticationType: 1, password: "1111"), group, .messageOnly, id: 7)
    add("v2-pass-1vip-unicast", advertisement(.v2, vrid: 1, priority: 255, ["10.0.0.1"], authenticationType: 1,
                                              password: "secret12"), peer, .messageOnly)
    add("v2-ah-type", advertisement(.v2, vips, authenticationType: 2), group, .messageOnly)
    add("v2-count0", advertisement(.v2, priority: 0, interval: 25_500, []), group, .messageOnly)
    add("v2-20vip", advertisement(.v2, (1...20).map { "10.1.0.\($0)" }), group, .messageOnly)
    add("v3-pseudo-2vip", advertisement(.v3, vips))
    add("v3-msgonly-2vip", advertisement(.v3, interval: 4095, vips), group, .messageOnly)
    add("v3-unicast-pseudo", advertisement(.v3, vrid: 255, priority: 254, interval: 1, vips), peer)
    add("v3-unicast-groupform", advertisement(.v3, vrid: 2, vips), peer, .pseudoHeaderMulticastGroup)
    add("v3-ttl64", advertisement(.v3, ["10.0.0.1"]), peer, ttl: 64)
    add("v3-255vip", advertisement(.v3, (0..<255).map { "10.2.\($0 / 200).\($0 % 200 + 1)" }))
    // A header with options (IHL 6, one NOP word) and a frame with Ethernet padding.
    var options = advertisement(.v3, vips).encodedIPv4Datagram(source: src, destination: group, checksumForm: .pseudoHeader)
    options.insert(contentsOf: [1, 1, 1, 0], at: 20)
    options[0] = 0x46
    options[3] += 4
    refreshHeaderChecksum(&options)
    seeds.append(("v3-ip-options", options))
    seeds.append(("v2-ethernet-padding", advertisement(.v2, vips).encodedIPv4Datagram(
        source: src, destination: group, checksumForm: .messageOnly) + [UInt8](repeating: 0, count: 2)))
    // Reserved bits set (the checksum covers them) and DF set.
    var reserved = advertisement(.v3, vips).encodedIPv4Datagram(source: src, destination: group, checksumForm: .pseudoHeader)
    reserved[24] |= 0xF0
    let c = updatedChecksum(UInt16(reserved[26]) << 8 | UInt16(reserved[27]), old: UInt16(reserved[24] & 0x0F) << 8
        | UInt16(reserved[25]), new: UInt16(reserved[24]) << 8 | UInt16(reserved[25]))
    reserved[26] = UInt8(c >> 8)
    reserved[27] = UInt8(c & 0xFF)
    seeds.append(("v3-reserved-bits", reserved))
    var df = advertisement(.v2, vips).encodedIPv4Datagram(source: src, destination: group, checksumForm: .messageOnly)
    df[6] = 0x40
    refreshHeaderChecksum(&df)
    seeds.append(("v2-dont-fragment", df))
    return seeds
}

/// Seeds for the IPv6-message target: source (16) + destination (16) + hop limit (1) + message.
public func ipv6MessageSeeds() -> [(String, [UInt8])] {
    let src = ip("fe80::5054:ff:fe12:3456"), group = ip("ff02::12"), peer = ip("fe80::5054:ff:fe12:3457")
    var seeds: [(String, [UInt8])] = []
    func add(_ name: String, _ a: VRRPAdvertisement, _ destination: IPAddress = group,
             _ form: VRRPChecksumForm = .pseudoHeader, hopLimit: UInt8 = 255) {
        seeds.append((name, messageInput(source: src, destination: destination, hopLimit: hopLimit,
                                         a.encoded(source: src, destination: destination, checksumForm: form))))
    }
    add("v3-ipv6-2addr", advertisement(.v3, ["fe80::1", "2001:db8::100"]))
    add("v3-ipv6-1addr", advertisement(.v3, vrid: 1, priority: 255, interval: 4095, ["fe80::1"]))
    add("v3-ipv6-10addr", advertisement(.v3, ["fe80::1"] + (1...9).map { "2001:db8::\($0)" }))
    add("v3-ipv6-unicast", advertisement(.v3, priority: 0, ["fe80::12", "2001:db8::7"]), peer, hopLimit: 64)
    add("v3-ipv6-unicast-groupform", advertisement(.v3, ["fe80::12", "2001:db8::7"]), peer, .pseudoHeaderMulticastGroup)
    return seeds
}

/// The IPv6-message target's input: source, destination, hop limit, then the VRRP message.
public func messageInput(source: IPAddress, destination: IPAddress, hopLimit: UInt8, _ message: [UInt8]) -> [UInt8] {
    source.bytes + destination.bytes + [hopLimit] + message
}

/// Handles `--write-seeds DIR` (writes `seeds` as DIR/NAME.bin); returns whether it did. Every seed
/// must decode (`decodes`), so that the corpus starts past the decoder's checks.
public func writeSeedsIfAsked(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                              _ seeds: () -> [(String, [UInt8])], decodes: ([UInt8]) -> Bool) -> Bool {
    guard argc == 3, let argv, let flag = argv[1], String(cString: flag) == "--write-seeds", let dir = argv[2] else {
        return false
    }
    let directory = String(cString: dir)
    for (name, bytes) in seeds() {
        require(decodes(bytes), "the seed \(name) does not decode")
        writeFile("\(directory)/\(name).bin", bytes)
    }
    return true
}
