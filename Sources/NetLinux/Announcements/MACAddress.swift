import VRRPCore

/// A 48-bit IEEE 802 MAC address, stored inline (no allocation).
///
/// ```swift
/// let vmac = MACAddress.virtualRouterMAC(family: .ipv4, vrid: 51)
/// print(vmac)                                  // 00:00:5e:00:01:33
/// MACAddress("00:00:5e:00:01:33") == vmac      // true
/// ```
public struct MACAddress: Sendable, Hashable, Comparable, CustomStringConvertible, LosslessStringConvertible {
    /// The six bytes as a big-endian number in the low 48 bits (the first byte is the most significant).
    public let rawValue: UInt64

    /// The address whose six bytes, first byte most significant, are the low 48 bits of `rawValue`;
    /// `nil` when a higher bit is set.
    @inlinable public init?(rawValue: UInt64) {
        guard rawValue >> 48 == 0 else { return nil }
        self.rawValue = rawValue
    }

    /// The address with these six bytes, in wire order.
    @inlinable public init(_ b0: UInt8, _ b1: UInt8, _ b2: UInt8, _ b3: UInt8, _ b4: UInt8, _ b5: UInt8) {
        rawValue = UInt64(b0) << 40 | UInt64(b1) << 32 | UInt64(b2) << 24 | UInt64(b3) << 16 | UInt64(b4) << 8 | UInt64(b5)
    }

    /// The address from exactly six bytes in wire order, else `nil`.
    public init?<C: Collection>(bytes: C) where C.Element == UInt8 {
        guard bytes.count == 6 else { return nil }
        var v: UInt64 = 0
        for b in bytes { v = v << 8 | UInt64(b) }
        rawValue = v
    }

    /// Reads six bytes at `offset` in `buffer`; the caller checks bounds.
    @inlinable public init(from buffer: UnsafeRawBufferPointer, at offset: Int) {
        var v: UInt64 = 0
        for i in 0..<6 { v = v << 8 | UInt64(buffer[offset + i]) }
        rawValue = v
    }

    /// Parses six groups of one or two hex digits separated by `:` (`00:00:5e:00:01:33`)
    /// or by `-` (`00-00-5E-00-01-33`), as `ip link` and Windows print them.
    public init?(_ description: String) {
        let separator: Character = description.contains("-") ? "-" : ":"
        let groups = description.split(separator: separator, omittingEmptySubsequences: false)
        guard groups.count == 6 else { return nil }
        var v: UInt64 = 0
        for g in groups {
            guard (1...2).contains(g.count), g.allSatisfy(\.isHexDigit), let b = UInt8(g, radix: 16) else { return nil }
            v = v << 8 | UInt64(b)
        }
        rawValue = v
    }

    /// The six bytes in wire order.
    public var bytes: [UInt8] {
        (0..<6).map { UInt8(truncatingIfNeeded: rawValue >> (40 - 8 * UInt64($0))) }
    }

    /// Writes the six bytes at `offset`; returns the offset after them.
    @inlinable @discardableResult
    public func write(to buffer: UnsafeMutableRawBufferPointer, at offset: Int) -> Int {
        for i in 0..<6 { buffer[offset + i] = UInt8(truncatingIfNeeded: rawValue >> (40 - 8 * UInt64(i))) }
        return offset + 6
    }

    /// Lowercase, colon-separated, two digits per byte: `00:00:5e:00:01:33`.
    public var description: String {
        bytes.map { b in
            let s = String(b, radix: 16)
            return b < 16 ? "0" + s : s
        }.joined(separator: ":")
    }

    public static func < (a: MACAddress, b: MACAddress) -> Bool { a.rawValue < b.rawValue }

    // MARK: Well-known addresses

    /// `ff:ff:ff:ff:ff:ff`.
    public static let broadcast = MACAddress(rawValue: 0xFFFF_FFFF_FFFF)!
    /// `00:00:00:00:00:00`.
    public static let zero = MACAddress(rawValue: 0)!

    /// Whether this is the broadcast address.
    @inlinable public var isBroadcast: Bool { rawValue == 0xFFFF_FFFF_FFFF }
    /// Whether the group bit (least significant bit of the first byte) is set: multicast or broadcast.
    @inlinable public var isMulticast: Bool { rawValue & 0x0100_0000_0000 != 0 }
    /// Whether the locally-administered bit (second bit of the first byte) is set.
    @inlinable public var isLocallyAdministered: Bool { rawValue & 0x0200_0000_0000 != 0 }

    /// The VRRP virtual router MAC address (RFC 5798 §7.3, RFC 3768 §7.3):
    /// `00:00:5e:00:01:VRID` for IPv4 and `00:00:5e:00:02:VRID` for IPv6 — the address
    /// keepalived gives a `use_vmac` interface.
    ///
    /// - Parameters:
    ///   - family: the virtual router's address family.
    ///   - vrid: the virtual router identifier (1–255).
    public static func virtualRouterMAC(family: IPAddressFamily, vrid: UInt8) -> MACAddress {
        MACAddress(rawValue: 0x0000_5E00_0000 | (family == .ipv4 ? 0x100 : 0x200) | UInt64(vrid))!
    }

    /// The family and VRID when this is a VRRP virtual router MAC (`00:00:5e:00:01:xx` or
    /// `00:00:5e:00:02:xx`), else `nil`.
    public var virtualRouter: (family: IPAddressFamily, vrid: UInt8)? {
        switch rawValue >> 8 {
        case 0x0000_5E00_01: (.ipv4, UInt8(truncatingIfNeeded: rawValue))
        case 0x0000_5E00_02: (.ipv6, UInt8(truncatingIfNeeded: rawValue))
        default: nil
        }
    }

    /// The Ethernet multicast address of an IP multicast group: `01:00:5e` and the low
    /// 23 bits for IPv4 (RFC 1112 §6.4), `33:33` and the low 32 bits for IPv6 (RFC 2464 §7).
    /// The VRRP groups map to `01:00:5e:00:00:12` and `33:33:00:00:00:12`; ff02::1 to `33:33:00:00:00:01`.
    ///
    /// - Parameter group: a multicast address (other addresses are mapped the same way).
    public static func multicast(for group: IPAddress) -> MACAddress {
        if group.family == .ipv4 {
            return MACAddress(rawValue: 0x0100_5E00_0000 | UInt64(group.ipv4Value & 0x7F_FFFF))!
        }
        return MACAddress(rawValue: 0x3333_0000_0000 | (group.low & 0xFFFF_FFFF))!
    }
}
