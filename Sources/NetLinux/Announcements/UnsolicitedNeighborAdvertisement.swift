import VRRPCore

/// The R, S and O flags of a Neighbor Advertisement (RFC 4861 §4.4), as the high bits of
/// the 32-bit word that follows the ICMPv6 checksum.
public struct NeighborAdvertisementFlags: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// R: the sender is a router.
    public static let router = NeighborAdvertisementFlags(rawValue: 0x8000_0000)
    /// S: sent in response to a Neighbor Solicitation.
    public static let solicited = NeighborAdvertisementFlags(rawValue: 0x4000_0000)
    /// O: the advertisement should override a cached link-layer address.
    public static let override = NeighborAdvertisementFlags(rawValue: 0x2000_0000)

    /// The set flags as letters, `R`, `S`, `O` in that order, or `none`.
    public var description: String {
        var s = ""
        if contains(.router) { s += "R" }
        if contains(.solicited) { s += "S" }
        if contains(.override) { s += "O" }
        return s.isEmpty ? "none" : s
    }
}

/// A Neighbor Discovery option (RFC 4861 §4.6): type, length in units of 8 bytes, data.
public enum NeighborDiscoveryOption: Sendable, Hashable, CustomStringConvertible {
    /// Type 1 with an Ethernet address (length 1).
    case sourceLinkLayerAddress(MACAddress)
    /// Type 2 with an Ethernet address (length 1).
    case targetLinkLayerAddress(MACAddress)
    /// Any other option, or a link-layer address option of another length; `data` excludes the type and length bytes.
    case other(type: UInt8, length: UInt8, data: [UInt8])

    /// The option type.
    public var type: UInt8 {
        switch self {
        case .sourceLinkLayerAddress: 1
        case .targetLinkLayerAddress: 2
        case let .other(type, _, _): type
        }
    }

    public var description: String {
        switch self {
        case let .sourceLinkLayerAddress(mac): "source link-layer address \(mac)"
        case let .targetLinkLayerAddress(mac): "target link-layer address \(mac)"
        case let .other(type, length, _): "option type \(type), length \(length) (\(Int(length) * 8) bytes)"
        }
    }
}

/// A Neighbor Advertisement as read from an IPv6 packet (RFC 4861 §4.4), with what the
/// IPv6 header said and the checksum verdict.
///
/// ICMPv6 layout after the IPv6 header: type (1) = 136, code (1) = 0, checksum (2),
/// R|S|O and 29 reserved bits (4), target address (16), options.
public struct NeighborAdvertisement: Sendable, Hashable {
    public var source: IPAddress
    public var destination: IPAddress
    public var hopLimit: UInt8
    public var trafficClass: UInt8
    public var flowLabel: UInt32
    public var code: UInt8
    public var flags: NeighborAdvertisementFlags
    /// The 29 reserved bits as received (RFC 4861: sent as 0, ignored by receivers).
    public var reserved: UInt32
    public var target: IPAddress
    public var options: [NeighborDiscoveryOption]
    /// The checksum field as received.
    public var checksum: UInt16
    /// The checksum computed over the pseudo-header and the message (RFC 4443 §2.3).
    public var expectedChecksum: UInt16
    /// The ICMPv6 message length (the IPv6 payload length).
    public var messageLength: Int

    /// Whether the received checksum verifies (the one's-complement sum of the pseudo-header
    /// and the whole message is 0xFFFF; a field of 0xFFFF for a computed 0x0000 is the same number).
    public var checksumIsValid: Bool {
        checksum == expectedChecksum || (checksum ^ expectedChecksum == 0xFFFF && (checksum == 0 || checksum == 0xFFFF))
    }

    /// The link-layer address of the first target link-layer address option.
    public var targetLinkLayerAddress: MACAddress? {
        for case let .targetLinkLayerAddress(mac) in options { return mac }
        return nil
    }

    /// Unsolicited as keepalived sends it: to ff02::1 with the Solicited flag clear.
    public var isUnsolicited: Bool {
        destination == UnsolicitedNeighborAdvertisement.allNodes && !flags.contains(.solicited)
    }

    /// The receiver's validity checks of RFC 4861 §7.1.2 that concern an advertisement on its own,
    /// first failure thrown: checksum, hop limit 255, code 0, target not multicast, Solicited
    /// clear when sent to a multicast address. (Lengths and option lengths are checked while parsing.)
    public func validate() throws(AnnouncementParseError) {
        guard checksumIsValid else { throw .badChecksum(found: checksum, expected: expectedChecksum) }
        guard hopLimit == 255 else { throw .badHopLimit(hopLimit) }
        guard code == 0 else { throw .badCode(code) }
        guard !target.isMulticast else { throw .multicastTarget }
        guard !(destination.isMulticast && flags.contains(.solicited)) else { throw .solicitedToMulticast }
    }

    /// The ICMPv6 type of a Neighbor Advertisement.
    public static let icmpType: UInt8 = 136
    /// The IPv6 next-header value of ICMPv6.
    public static let icmpv6NextHeader: UInt8 = 58
    /// The message size without options: 24 bytes.
    public static let minimumLength = 24

    /// Reads a Neighbor Advertisement from an IPv6 packet (header first). Bytes after the
    /// payload length (link-layer padding) are ignored. Extension headers are not skipped:
    /// RFC 4861 messages carry none in practice, and the next header must be 58.
    ///
    /// The checksum is not checked here: ``checksumIsValid`` and ``validate()`` say whether it verifies.
    ///
    /// - Throws: truncations (header, payload, message, options), ``AnnouncementParseError/notIPv6(version:)``,
    ///   ``AnnouncementParseError/notICMPv6(nextHeader:)``, ``AnnouncementParseError/notNeighborAdvertisement(type:code:)``,
    ///   ``AnnouncementParseError/badOptionLength(offset:length:)``.
    public static func parse(ipv6Packet bytes: UnsafeRawBufferPointer) throws(AnnouncementParseError) -> NeighborAdvertisement {
        guard bytes.count >= 1 else { throw .truncated(.ipv6Header, offset: 0, needed: 40, available: 0) }
        guard bytes[0] >> 4 == 6 else { throw .notIPv6(version: bytes[0] >> 4) }
        guard bytes.count >= 40 else { throw .truncated(.ipv6Header, offset: 0, needed: 40, available: bytes.count) }
        let word0 = read32(bytes, 0)
        let payloadLength = Int(read16(bytes, 4))
        let nextHeader = bytes[6]
        guard nextHeader == icmpv6NextHeader else { throw .notICMPv6(nextHeader: nextHeader) }
        guard bytes.count - 40 >= payloadLength else {
            throw .truncated(.ipv6Payload, offset: 40, needed: payloadLength, available: bytes.count - 40)
        }
        let message = UnsafeRawBufferPointer(rebasing: bytes[40..<(40 + payloadLength)])
        guard message.count >= 2 else { throw .truncated(.icmpv6, offset: 40, needed: 4, available: message.count) }
        guard message[0] == icmpType else { throw .notNeighborAdvertisement(type: message[0], code: message[1]) }
        guard message.count >= minimumLength else {
            throw .truncated(.neighborAdvertisement, offset: 40, needed: minimumLength, available: message.count)
        }
        var options: [NeighborDiscoveryOption] = []
        var at = minimumLength
        while at < message.count {
            guard message.count - at >= 2 else { throw .truncated(.option, offset: 40 + at, needed: 2, available: message.count - at) }
            let type = message[at]
            let units = message[at + 1]
            let size = Int(units) * 8
            guard units > 0, size <= message.count - at else { throw .badOptionLength(offset: 40 + at, length: units) }
            if (type == 1 || type == 2) && units == 1 {
                let mac = MACAddress(from: message, at: at + 2)
                options.append(type == 1 ? .sourceLinkLayerAddress(mac) : .targetLinkLayerAddress(mac))
            } else {
                options.append(.other(type: type, length: units, data: Array(message[(at + 2)..<(at + size)])))
            }
            at += size
        }
        let source = IPAddress(family: .ipv6, from: bytes, at: 8)
        let destination = IPAddress(family: .ipv6, from: bytes, at: 24)
        let flagWord = read32(message, 4)
        var sum = InternetChecksum()
        sum.addPseudoHeader(source: source, destination: destination, protocol: icmpv6NextHeader, length: message.count)
        sum.add(UnsafeRawBufferPointer(rebasing: message[0..<2]))
        sum.add(UnsafeRawBufferPointer(rebasing: message[4...]))
        return NeighborAdvertisement(
            source: source, destination: destination, hopLimit: bytes[7],
            trafficClass: UInt8(truncatingIfNeeded: word0 >> 20), flowLabel: word0 & 0xF_FFFF,
            code: message[1], flags: NeighborAdvertisementFlags(rawValue: flagWord & 0xE000_0000),
            reserved: flagWord & 0x1FFF_FFFF, target: IPAddress(family: .ipv6, from: message, at: 8),
            options: options, checksum: read16(message, 2), expectedChecksum: sum.checksum, messageLength: message.count)
    }

    /// ``parse(ipv6Packet:)`` over an array.
    public static func parse(ipv6Packet bytes: [UInt8]) throws(AnnouncementParseError) -> NeighborAdvertisement {
        try parsing(bytes) { raw throws(AnnouncementParseError) in try parse(ipv6Packet: raw) }
    }

    public init(source: IPAddress, destination: IPAddress, hopLimit: UInt8, trafficClass: UInt8 = 0, flowLabel: UInt32 = 0,
                code: UInt8 = 0, flags: NeighborAdvertisementFlags, reserved: UInt32 = 0, target: IPAddress,
                options: [NeighborDiscoveryOption], checksum: UInt16, expectedChecksum: UInt16, messageLength: Int) {
        self.source = source
        self.destination = destination
        self.hopLimit = hopLimit
        self.trafficClass = trafficClass
        self.flowLabel = flowLabel
        self.code = code
        self.flags = flags
        self.reserved = reserved
        self.target = target
        self.options = options
        self.checksum = checksum
        self.expectedChecksum = expectedChecksum
        self.messageLength = messageLength
    }
}

/// A Neighbor Advertisement together with the Ethernet header that carried it.
public struct NeighborAdvertisementFrame: Sendable, Hashable {
    public var ethernet: EthernetHeader
    public var advertisement: NeighborAdvertisement
    /// Bytes after the IPv6 packet (Ethernet padding).
    public var trailingBytes: Int

    public init(ethernet: EthernetHeader, advertisement: NeighborAdvertisement, trailingBytes: Int = 0) {
        self.ethernet = ethernet
        self.advertisement = advertisement
        self.trailingBytes = trailingBytes
    }
}

/// The unsolicited Neighbor Advertisement a VRRP master sends for each IPv6 virtual
/// address (RFC 5798 §6.4.2, RFC 4861 §7.2.6).
///
/// keepalived (`vrrp_ndisc.c`, `ndisc_send_unsolicited_na`) sends an 86-byte frame:
/// - Ethernet: destination 33:33:00:00:00:01 (ff02::1 mapped per RFC 2464 §7), source =
///   the interface's MAC (the virtual MAC on a `use_vmac` interface), EtherType 0x86DD;
/// - IPv6: traffic class and flow label 0, payload length 32, next header 58, hop limit
///   255, source = the virtual address, destination ff02::1;
/// - ICMPv6 type 136, code 0, checksum over the RFC 4443 §2.3 pseudo-header, flags O
///   (and R when IPv6 forwarding is on for the interface), S clear, target = the virtual
///   address, one target link-layer address option (type 2, length 1) with the MAC.
///
/// ```swift
/// let na = UnsolicitedNeighborAdvertisement(address: IPAddress("2001:db8::100")!,
///                                           hardwareAddress: .virtualRouterMAC(family: .ipv6, vrid: 7))
/// let frame = na.frame()        // 86 bytes for an AF_PACKET socket
/// ```
public struct UnsolicitedNeighborAdvertisement: Sendable, Hashable {
    /// The announced IPv6 address (the VIP): the IPv6 source and the target.
    public var address: IPAddress
    /// The MAC address announced for it and used as the frame's source.
    public var hardwareAddress: MACAddress
    /// Whether to set the Router flag (keepalived does when forwarding is enabled on the interface).
    public var router: Bool

    /// The all-nodes multicast address ff02::1.
    public static let allNodes = IPAddress(ipv6High: 0xFF02_0000_0000_0000, low: 1)
    /// The ICMPv6 message size: 24 + 8 (one link-layer address option) = 32 bytes.
    public static let messageLength = 32
    /// The IPv6 packet size: 40 + 32 = 72 bytes.
    public static let ipv6PacketLength = 72
    /// The frame size: 14 + 72 = 86 bytes.
    public static let frameLength = 86

    public init(address: IPAddress, hardwareAddress: MACAddress, router: Bool = false) {
        precondition(address.family == .ipv6, "a Neighbor Advertisement announces an IPv6 address")
        self.address = address
        self.hardwareAddress = hardwareAddress
        self.router = router
    }

    /// The flags sent: O, plus R when ``router`` is set.
    public var flags: NeighborAdvertisementFlags { router ? [.router, .override] : [.override] }

    /// The Ethernet header: destination 33:33:00:00:00:01, source ``hardwareAddress``, EtherType IPv6.
    public var ethernetHeader: EthernetHeader {
        EthernetHeader(destination: .multicast(for: Self.allNodes), source: hardwareAddress, etherType: EthernetHeader.ipv6)
    }

    /// Writes the 72-byte IPv6 packet at the start of `buffer`; returns ``ipv6PacketLength``.
    @discardableResult
    public func writeIPv6Packet(to buffer: UnsafeMutableRawBufferPointer) -> Int {
        precondition(buffer.count >= Self.ipv6PacketLength, "buffer too small for a Neighbor Advertisement")
        let ip = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<Self.ipv6PacketLength])
        ip.storeBytes(of: UInt32(0x6000_0000).bigEndian, toByteOffset: 0, as: UInt32.self)
        ip.storeBytes(of: UInt16(Self.messageLength).bigEndian, toByteOffset: 4, as: UInt16.self)
        ip[6] = NeighborAdvertisement.icmpv6NextHeader
        ip[7] = 255
        address.write(to: ip, at: 8)
        Self.allNodes.write(to: ip, at: 24)
        ip[40] = NeighborAdvertisement.icmpType
        ip[41] = 0
        ip.storeBytes(of: UInt16(0), toByteOffset: 42, as: UInt16.self)
        ip.storeBytes(of: flags.rawValue.bigEndian, toByteOffset: 44, as: UInt32.self)
        address.write(to: ip, at: 48)
        ip[64] = 2
        ip[65] = 1
        hardwareAddress.write(to: ip, at: 66)
        var sum = InternetChecksum()
        sum.addPseudoHeader(source: address, destination: Self.allNodes, protocol: NeighborAdvertisement.icmpv6NextHeader, length: Self.messageLength)
        sum.add(UnsafeRawBufferPointer(rebasing: ip[40...]))
        ip.storeBytes(of: sum.checksum.bigEndian, toByteOffset: 42, as: UInt16.self)
        return Self.ipv6PacketLength
    }

    /// The 72-byte IPv6 packet (for an IPv6 raw socket, or inside ``frame()``).
    public func ipv6Packet() -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: Self.ipv6PacketLength) { storage, initialized in
            initialized = writeIPv6Packet(to: UnsafeMutableRawBufferPointer(storage))
        }
    }

    /// Writes the 86-byte frame at the start of `buffer`; returns ``frameLength``.
    @discardableResult
    public func write(to buffer: UnsafeMutableRawBufferPointer) -> Int {
        precondition(buffer.count >= Self.frameLength, "buffer too small for a Neighbor Advertisement frame")
        let header = ethernetHeader.write(to: buffer)
        return header + writeIPv6Packet(to: UnsafeMutableRawBufferPointer(rebasing: buffer[header...]))
    }

    /// The 86-byte frame.
    public func frame() -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: Self.frameLength) { storage, initialized in
            initialized = write(to: UnsafeMutableRawBufferPointer(storage))
        }
    }

    /// Reads a Neighbor Advertisement from an Ethernet frame (optionally VLAN-tagged).
    ///
    /// - Throws: as ``NeighborAdvertisement/parse(ipv6Packet:)`` (offsets counted from the
    ///   frame's first byte), or ``AnnouncementParseError/unexpectedEtherType(_:expected:)``.
    public static func parse(frame: UnsafeRawBufferPointer) throws(AnnouncementParseError) -> NeighborAdvertisementFrame {
        let ethernet = try EthernetHeader.parse(frame)
        guard ethernet.etherType == EthernetHeader.ipv6 else {
            throw .unexpectedEtherType(ethernet.etherType, expected: EthernetHeader.ipv6)
        }
        let packet = UnsafeRawBufferPointer(rebasing: frame[ethernet.length...])
        do throws(AnnouncementParseError) {
            let na = try NeighborAdvertisement.parse(ipv6Packet: packet)
            return NeighborAdvertisementFrame(ethernet: ethernet, advertisement: na,
                                              trailingBytes: packet.count - 40 - na.messageLength)
        } catch {
            throw error.shifted(by: ethernet.length)
        }
    }

    /// ``parse(frame:)`` over an array.
    public static func parse(frame: [UInt8]) throws(AnnouncementParseError) -> NeighborAdvertisementFrame {
        try parsing(frame) { raw throws(AnnouncementParseError) in try parse(frame: raw) }
    }

    /// ``NeighborAdvertisement/parse(ipv6Packet:)``, here for symmetry with ``parse(frame:)``.
    public static func parse(ipv6Packet bytes: [UInt8]) throws(AnnouncementParseError) -> NeighborAdvertisement {
        try NeighborAdvertisement.parse(ipv6Packet: bytes)
    }
}
