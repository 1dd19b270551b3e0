/// The address family of a virtual router: IPv4 (VRRPv2 or v3) or IPv6 (VRRPv3 only).
public enum IPAddressFamily: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// IPv4 (RFC 791): 4-byte addresses.
    case ipv4 = 4
    /// IPv6 (RFC 8200): 16-byte addresses.
    case ipv6 = 6

    /// Bytes per address: 4 or 16.
    @inlinable public var addressSize: Int { self == .ipv4 ? 4 : 16 }

    /// "IPv4" or "IPv6".
    public var description: String { self == .ipv4 ? "IPv4" : "IPv6" }
}

/// An IPv4 or IPv6 address stored inline (two 64-bit words, no allocation).
///
/// Ordering is the unsigned comparison of the network-order bytes, which is the
/// order RFC 5798 §6.4.3 uses to break a priority tie ("the larger primary address
/// wins"). An IPv4 address sorts before every IPv6 address.
///
/// ```swift
/// let a = IPAddress("192.0.2.1")!
/// let b = IPAddress("2001:db8::1")!
/// print(a.family, b)          // IPv4 2001:db8::1
/// ```
public struct IPAddress: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// IPv4 or IPv6.
    public let family: IPAddressFamily
    /// The high 64 bits of the address as a 128-bit big-endian number (0 for IPv4).
    public let high: UInt64
    /// The low 64 bits of the address as a 128-bit big-endian number; IPv4 lives in its low 32 bits.
    public let low: UInt64

    /// An IPv4 address from its 32-bit value in host order (`0xC0000201` is 192.0.2.1).
    @inlinable public init(ipv4 value: UInt32) {
        family = .ipv4
        high = 0
        low = UInt64(value)
    }

    /// An IPv6 address from its two 64-bit halves in host order.
    @inlinable public init(ipv6High high: UInt64, low: UInt64) {
        family = .ipv6
        self.high = high
        self.low = low
    }

    /// An address from network-order bytes: exactly 4 (IPv4) or 16 (IPv6), else `nil`.
    public init?<C: Collection>(bytes: C) where C.Element == UInt8 {
        switch bytes.count {
        case 4:
            var v: UInt32 = 0
            for b in bytes { v = v << 8 | UInt32(b) }
            self.init(ipv4: v)
        case 16:
            var h: UInt64 = 0
            var l: UInt64 = 0
            for (i, b) in bytes.enumerated() {
                if i < 8 { h = h << 8 | UInt64(b) } else { l = l << 8 | UInt64(b) }
            }
            self.init(ipv6High: h, low: l)
        default:
            return nil
        }
    }

    /// Reads an address of `family` from `buffer` at `offset` (network order); the caller checks bounds.
    @inlinable
    public init(family: IPAddressFamily, from buffer: UnsafeRawBufferPointer, at offset: Int) {
        if family == .ipv4 {
            self.init(ipv4: UInt32(bigEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
        } else {
            self.init(
                ipv6High: UInt64(bigEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt64.self)),
                low: UInt64(bigEndian: buffer.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self)))
        }
    }

    /// The IPv4 value in host order (0 for IPv6).
    @inlinable public var ipv4Value: UInt32 { UInt32(truncatingIfNeeded: low) }

    /// Network-order bytes: 4 for IPv4, 16 for IPv6.
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(family.addressSize)
        withBytes { out.append(contentsOf: $0) }
        return out
    }

    /// Calls `body` with the network-order bytes, without allocating.
    @inlinable
    public func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        if family == .ipv4 {
            var v = UInt32(truncatingIfNeeded: low).bigEndian
            return try withUnsafeBytes(of: &v, body)
        }
        var pair = (high.bigEndian, low.bigEndian)
        return try withUnsafeBytes(of: &pair, body)
    }

    /// Writes the network-order bytes at `offset`; returns the offset after them.
    @inlinable @discardableResult
    public func write(to buffer: UnsafeMutableRawBufferPointer, at offset: Int) -> Int {
        if family == .ipv4 {
            buffer.storeBytes(of: UInt32(truncatingIfNeeded: low).bigEndian, toByteOffset: offset, as: UInt32.self)
            return offset + 4
        }
        buffer.storeBytes(of: high.bigEndian, toByteOffset: offset, as: UInt64.self)
        buffer.storeBytes(of: low.bigEndian, toByteOffset: offset + 8, as: UInt64.self)
        return offset + 16
    }

    /// IPv6 link-local unicast (fe80::/10); always false for IPv4.
    @inlinable public var isIPv6LinkLocal: Bool { family == .ipv6 && (high >> 54) == 0x3FA }

    /// Multicast: 224.0.0.0/4 or ff00::/8.
    @inlinable public var isMulticast: Bool {
        family == .ipv4 ? (UInt32(truncatingIfNeeded: low) >> 28) == 0xE : (high >> 56) == 0xFF
    }

    /// The VRRP multicast group of the family: 224.0.0.18 or ff02::12.
    public static func vrrpMulticastGroup(_ family: IPAddressFamily) -> IPAddress {
        family == .ipv4 ? IPAddress(ipv4: 0xE000_0012) : IPAddress(ipv6High: 0xFF02_0000_0000_0000, low: 0x12)
    }

    /// Unsigned comparison of the network-order bytes; IPv4 sorts before IPv6 (RFC 5798 §6.4.3).
    public static func < (a: IPAddress, b: IPAddress) -> Bool {
        if a.family != b.family { return a.family == .ipv4 }
        return (a.high, a.low) < (b.high, b.low)
    }

    // MARK: Text

    /// Parses a dotted-quad IPv4 address or an IPv6 address (RFC 4291 §2.2 text forms,
    /// including `::` and an embedded dotted quad); `nil` when `text` is neither.
    ///
    /// Accepts what `inet_pton(3)` accepts: exactly four decimal octets without leading
    /// zeros (`010` would be octal to `inet_aton`), hex groups of one to four digits,
    /// no zone index (`%eth0`), no prefix length and no surrounding spaces.
    ///
    /// - Parameter text: the address text.
    public init?(_ text: some StringProtocol) {
        if text.contains(":") {
            guard let (h, l) = IPAddress.parseIPv6(Substring(text)) else { return nil }
            self.init(ipv6High: h, low: l)
        } else {
            guard let v = IPAddress.parseIPv4(Substring(text)) else { return nil }
            self.init(ipv4: v)
        }
    }

    static func parseIPv4(_ text: Substring) -> UInt32? {
        var value: UInt32 = 0
        var parts = 0
        for part in text.split(separator: ".", omittingEmptySubsequences: false) {
            guard (1...3).contains(part.count), part.allSatisfy({ $0.isASCII && $0.isNumber }),
                  part.count == 1 || part.first != "0",
                  let n = UInt32(part), n <= 255 else { return nil }
            value = value << 8 | n
            parts += 1
        }
        return parts == 4 ? value : nil
    }

    static func parseIPv6(_ text: Substring) -> (UInt64, UInt64)? {
        // Splits a colon-separated run into groups; the last piece may be a dotted quad.
        func groups(_ part: Substring, allowQuad: Bool) -> [UInt16]? {
            if part.isEmpty { return [] }
            var out: [UInt16] = []
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            for (i, piece) in pieces.enumerated() {
                if allowQuad, i == pieces.count - 1, piece.contains(".") {
                    guard let v4 = parseIPv4(piece) else { return nil }
                    out.append(UInt16(v4 >> 16))
                    out.append(UInt16(v4 & 0xFFFF))
                    continue
                }
                guard (1...4).contains(piece.count), piece.allSatisfy(\.isHexDigit),
                      let g = UInt16(piece, radix: 16) else { return nil }
                out.append(g)
            }
            return out
        }
        var all: [UInt16]
        if let gap = text.firstRange(of: "::") {
            let head = text[..<gap.lowerBound]
            let tail = text[gap.upperBound...]
            guard !tail.contains("::"), let h = groups(head, allowQuad: false),
                  let t = groups(tail, allowQuad: true), h.count + t.count <= 7 else { return nil }
            all = h + Array(repeating: 0, count: 8 - h.count - t.count) + t
        } else {
            guard let g = groups(text, allowQuad: true) else { return nil }
            all = g
        }
        guard all.count == 8 else { return nil }
        var h: UInt64 = 0
        var l: UInt64 = 0
        for i in 0..<4 { h = h << 16 | UInt64(all[i]) }
        for i in 4..<8 { l = l << 16 | UInt64(all[i]) }
        return (h, l)
    }

    /// Dotted quad, or RFC 5952 canonical IPv6 text (`2001:db8::1`), as `inet_ntop(3)` prints it.
    ///
    /// Hex digits are lowercase without leading zeros; the longest run of two or more
    /// zero groups (the first on a tie) becomes `::` (RFC 5952 §4). IPv4-mapped addresses
    /// (`::ffff:0:0/96`) and IPv4-compatible ones (`::/96` with a non-zero seventh group)
    /// end in a dotted quad (RFC 5952 §5), as glibc prints them: `::ffff:192.0.2.1`.
    public var description: String {
        if family == .ipv4 {
            let v = ipv4Value
            return "\(v >> 24).\(v >> 16 & 0xFF).\(v >> 8 & 0xFF).\(v & 0xFF)"
        }
        var groups: [UInt16] = []
        for i in 0..<4 { groups.append(UInt16(truncatingIfNeeded: high >> (48 - 16 * UInt64(i)))) }
        for i in 0..<4 { groups.append(UInt16(truncatingIfNeeded: low >> (48 - 16 * UInt64(i)))) }
        // The longest run of two or more zero groups becomes "::" (the first one on a tie).
        var bestStart = -1, bestLength = 0, i = 0
        while i < 8 {
            if groups[i] == 0 {
                var j = i
                while j < 8 && groups[j] == 0 { j += 1 }
                if j - i > bestLength && j - i >= 2 { bestStart = i; bestLength = j - i }
                i = j
            } else {
                i += 1
            }
        }
        func hex(_ range: Range<Int>) -> String {
            groups[range].map { String($0, radix: 16) }.joined(separator: ":")
        }
        if bestStart == 0 && (bestLength == 6 || (bestLength == 5 && groups[5] == 0xFFFF)) {
            let v = UInt32(truncatingIfNeeded: low)
            let quad = "\(v >> 24).\(v >> 16 & 0xFF).\(v >> 8 & 0xFF).\(v & 0xFF)"
            return (bestLength == 5 ? "::ffff:" : "::") + quad
        }
        if bestStart < 0 { return hex(0..<8) }
        return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<8)
    }
}
