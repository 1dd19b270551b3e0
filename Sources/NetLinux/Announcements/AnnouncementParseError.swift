/// Why bytes could not be read as an Ethernet frame, an ARP packet or a Neighbor Advertisement.
///
/// Offsets count from the first byte handed to the parser.
public enum AnnouncementParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The part of the packet being read.
    public enum Part: String, Sendable, Hashable {
        case ethernetHeader = "Ethernet header"
        case vlanTag = "802.1Q tag"
        case arp = "ARP packet"
        case ipv6Header = "IPv6 header"
        case ipv6Payload = "IPv6 payload"
        case icmpv6 = "ICMPv6 message"
        case neighborAdvertisement = "Neighbor Advertisement"
        case option = "Neighbor Discovery option"
    }

    /// `part`, starting at `offset`, needs `needed` bytes but only `available` remain.
    case truncated(Part, offset: Int, needed: Int, available: Int)
    /// The EtherType is not the one the parser reads (ARP 0x0806, IPv6 0x86DD).
    case unexpectedEtherType(UInt16, expected: UInt16)
    /// An ARP packet for another hardware or protocol than Ethernet (1, or IEEE 802: 6) and IPv4 (0x0800),
    /// or with address lengths other than 6 and 4.
    case unsupportedARPFormat(hardwareType: UInt16, protocolType: UInt16, hardwareLength: UInt8, protocolLength: UInt8)
    /// The IP version nibble is not 6.
    case notIPv6(version: UInt8)
    /// The IPv6 next header is not ICMPv6 (58).
    case notICMPv6(nextHeader: UInt8)
    /// The ICMPv6 type is not 136 (Neighbor Advertisement).
    case notNeighborAdvertisement(type: UInt8, code: UInt8)
    /// A Neighbor Discovery option at `offset` has length 0 or runs past the message (RFC 4861 §4.6).
    case badOptionLength(offset: Int, length: UInt8)
    /// The ICMPv6 checksum field holds `found` where `expected` was computed (RFC 4443 §2.3).
    case badChecksum(found: UInt16, expected: UInt16)
    /// The hop limit is not 255, so the message may come from off-link (RFC 4861 §7.1.2).
    case badHopLimit(UInt8)
    /// The ICMPv6 code is not 0 (RFC 4861 §7.1.2).
    case badCode(UInt8)
    /// The target address is multicast (RFC 4861 §7.1.2).
    case multicastTarget
    /// The Solicited flag is set on an advertisement sent to a multicast address (RFC 4861 §7.1.2).
    case solicitedToMulticast

    public var description: String {
        switch self {
        case let .truncated(part, offset, needed, available):
            "truncated \(part.rawValue) at offset \(offset): needs \(needed) bytes, \(available) available"
        case let .unexpectedEtherType(type, expected):
            "EtherType \(hex16(type)) is not \(hex16(expected))"
        case let .unsupportedARPFormat(htype, ptype, hlen, plen):
            "unsupported ARP format: hardware type \(htype), protocol type \(hex16(ptype)), address lengths \(hlen)/\(plen) (expected Ethernet/IPv4, 6/4)"
        case let .notIPv6(version):
            "IP version \(version) is not 6"
        case let .notICMPv6(nextHeader):
            "next header \(nextHeader) is not ICMPv6 (58)"
        case let .notNeighborAdvertisement(type, code):
            "ICMPv6 type \(type) code \(code) is not a Neighbor Advertisement (136)"
        case let .badOptionLength(offset, length):
            "Neighbor Discovery option at offset \(offset) has invalid length \(length)"
        case let .badChecksum(found, expected):
            "bad ICMPv6 checksum \(hex16(found)), expected \(hex16(expected))"
        case let .badHopLimit(h):
            "hop limit \(h) is not 255"
        case let .badCode(c):
            "ICMPv6 code \(c) is not 0"
        case .multicastTarget:
            "target address is multicast"
        case .solicitedToMulticast:
            "Solicited flag set on an advertisement to a multicast address"
        }
    }
}

extension AnnouncementParseError {
    /// The same error with its offsets moved by `delta` (for a parser called on a later part of the bytes).
    func shifted(by delta: Int) -> AnnouncementParseError {
        switch self {
        case let .truncated(part, offset, needed, available):
            .truncated(part, offset: offset + delta, needed: needed, available: available)
        case let .badOptionLength(offset, length):
            .badOptionLength(offset: offset + delta, length: length)
        default:
            self
        }
    }
}

/// `0x0806`-style text for a 16-bit field.
func hex16(_ v: UInt16) -> String {
    let s = String(v, radix: 16)
    return "0x" + String(repeating: "0", count: 4 - s.count) + s
}

/// Calls `body` with the bytes of `array`, keeping the typed error (`Array.withUnsafeBytes` only rethrows `any Error`).
@inlinable
func parsing<R>(_ array: [UInt8], _ body: (UnsafeRawBufferPointer) throws(AnnouncementParseError) -> R) throws(AnnouncementParseError) -> R {
    try array.withUnsafeBytes { raw in Result { () throws(AnnouncementParseError) -> R in try body(raw) } }.get()
}
