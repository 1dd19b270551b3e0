/// The VRRP protocol version: 2 (RFC 3768, IPv4 only) or 3 (RFC 5798 / RFC 9568).
public enum VRRPVersion: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case v2 = 2
    case v3 = 3

    public var description: String { "VRRPv\(rawValue)" }
}

/// VRRPv2's authentication type field (RFC 3768 §5.3.6; RFC 2338 for types 1 and 2).
public enum VRRPAuthenticationType: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// No authentication (type 0).
    case none = 0
    /// keepalived's `auth_type PASS`: an 8-byte cleartext password (type 1).
    case password = 1
    /// keepalived's `auth_type AH`: IPsec AH (type 2). kad recognises it and refuses it.
    case authenticationHeader = 2

    public var description: String {
        switch self {
        case .none: "none"
        case .password: "PASS"
        case .authenticationHeader: "AH"
        }
    }
}

/// An 8-byte VRRPv2 password, NUL-padded as keepalived sends it.
///
/// Longer text is truncated to 8 bytes, as keepalived does. Compare received
/// passwords with ``constantTimeEquals(_:)``.
public struct VRRPPassword: Sendable, Hashable, CustomStringConvertible {
    /// The 8 bytes as a big-endian number (the first byte is the most significant).
    public var rawValue: UInt64

    @inlinable public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// The first 8 UTF-8 bytes of `text`, NUL-padded.
    public init(_ text: String) {
        var v: UInt64 = 0
        var n = 0
        for b in text.utf8.prefix(8) {
            v = v << 8 | UInt64(b)
            n += 1
        }
        rawValue = n == 0 ? 0 : v << (8 * UInt64(8 - n))
    }

    /// Compares in time independent of where the passwords differ.
    @inlinable public func constantTimeEquals(_ other: VRRPPassword) -> Bool {
        (rawValue ^ other.rawValue) == 0
    }

    /// The printable part (up to the first NUL), for logs. Not the secret's bytes on the wire.
    public var description: String {
        var bytes: [UInt8] = []
        for i in 0..<8 {
            let b = UInt8(truncatingIfNeeded: rawValue >> (56 - 8 * UInt64(i)))
            if b == 0 { break }
            bytes.append(b)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// The addresses carried in an advertisement, all of one family.
///
/// A decoded packet's list refers to the received bytes (no copy, no allocation);
/// a list built from addresses owns its own bytes.
public struct VRRPAddressList: Sendable, Hashable, RandomAccessCollection, CustomStringConvertible {
    /// The family of every address in the list.
    public let family: IPAddressFamily
    /// How many addresses the list holds.
    @usableFromInline let storage: [UInt8]
    @usableFromInline let offset: Int
    public let count: Int

    /// A list over `count` addresses stored at `offset` in `storage` (network order).
    @inlinable
    public init(family: IPAddressFamily, storage: [UInt8], offset: Int, count: Int) {
        precondition(offset >= 0 && count >= 0 && offset + count * family.addressSize <= storage.count,
                     "address list outside its storage")
        self.family = family
        self.storage = storage
        self.offset = offset
        self.count = count
    }

    /// A list holding `addresses`, which must all be of `family`.
    public init(family: IPAddressFamily, _ addresses: [IPAddress]) {
        precondition(addresses.allSatisfy { $0.family == family }, "an advertisement never mixes address families")
        var bytes: [UInt8] = []
        bytes.reserveCapacity(addresses.count * family.addressSize)
        for a in addresses { a.withBytes { bytes.append(contentsOf: $0) } }
        self.init(family: family, storage: bytes, offset: 0, count: addresses.count)
    }

    /// Always 0.
    @inlinable public var startIndex: Int { 0 }
    /// The number of addresses.
    @inlinable public var endIndex: Int { count }

    @inlinable public subscript(position: Int) -> IPAddress {
        precondition(position >= 0 && position < count, "address index out of range")
        return storage.withUnsafeBytes {
            IPAddress(family: family, from: $0, at: offset + position * family.addressSize)
        }
    }

    /// The list's bytes, network order, `count × family.addressSize` long.
    @inlinable
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try storage.withUnsafeBytes { all in
            try body(UnsafeRawBufferPointer(rebasing: all[offset..<(offset + count * family.addressSize)]))
        }
    }

    public static func == (a: VRRPAddressList, b: VRRPAddressList) -> Bool {
        a.family == b.family && a.count == b.count && a.withUnsafeBytes { x in b.withUnsafeBytes { y in x.elementsEqual(y) } }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(family)
        withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    public var description: String { "[" + map(\.description).joined(separator: ", ") + "]" }
}

/// One VRRP advertisement (the VRRP message, without its IP header).
///
/// The same value describes v2 and v3: ``advertisementInterval`` is always in
/// centiseconds (a v2 packet's whole seconds × 100), and the v2-only authentication
/// fields are `.none`/0 for v3.
public struct VRRPAdvertisement: Sendable, Hashable {
    /// VRRPv2 or VRRPv3.
    public var version: VRRPVersion
    /// The VRID, 1–255.
    public var virtualRouterID: UInt8
    /// 255 = address owner, 1–254 = backup priority, 0 = the master is resigning.
    public var priority: UInt8
    /// Centiseconds: v3's 12-bit Max Adver Int, or v2's seconds × 100.
    public var advertisementInterval: UInt16
    /// The virtual addresses advertised.
    public var addresses: VRRPAddressList
    /// v2 only (0 for v3): the raw Auth Type byte, kept as sent so that an unknown type
    /// can be reported rather than misread.
    public var authenticationType: UInt8
    /// v2 only: the 8 Auth Data bytes (a NUL-padded password for type 1; SHOULD be 0 otherwise).
    public var authenticationData: UInt64

    /// An advertisement; the authentication fields apply to VRRPv2 only.
    public init(version: VRRPVersion, virtualRouterID: UInt8, priority: UInt8, advertisementInterval: UInt16,
                addresses: VRRPAddressList, authenticationType: UInt8 = 0, authenticationData: UInt64 = 0) {
        self.version = version
        self.virtualRouterID = virtualRouterID
        self.priority = priority
        self.advertisementInterval = advertisementInterval
        self.addresses = addresses
        self.authenticationType = authenticationType
        self.authenticationData = authenticationData
    }

    /// The address family of the addresses (and of the IP header that carried them).
    @inlinable public var family: IPAddressFamily { addresses.family }
}

/// How a VRRP checksum was computed (RFC 5798/9568 §5.2.8; see vrrp-protocol.md §1.4).
public enum VRRPChecksumForm: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Over the VRRP message only: VRRPv2, and VRRPv3 over IPv4 per RFC 9568
    /// (keepalived's `v3_checksum_as_v2`; Cisco, Juniper, Arista EOS).
    case messageOnly
    /// With the pseudo-header of the carrying IP header (source, actual destination,
    /// protocol 112, length): VRRPv3 over IPv6 always; VRRPv3 over IPv4 as keepalived,
    /// FRR, tcpdump and Wireshark compute it (keepalived's default).
    case pseudoHeader
    /// With a pseudo-header naming the multicast group although the packet was sent
    /// unicast: keepalived before 1.3.6 (`old_unicast_checksum`).
    case pseudoHeaderMulticastGroup

    public var description: String {
        switch self {
        case .messageOnly: "message-only"
        case .pseudoHeader: "pseudo-header"
        case .pseudoHeaderMulticastGroup: "pseudo-header with the multicast group (pre-1.3.6 unicast)"
        }
    }
}
