#if canImport(Glibc)
import Glibc
#endif

/// The address family of an address or an instance.
public enum AddressFamily: String, Codable, Sendable, Hashable {
    case inet
    case inet6

    /// The longest prefix of the family (32 or 128).
    public var maximumPrefix: Int { self == .inet ? 32 : 128 }
}

/// An IPv4 or IPv6 address, validated; printed in canonical form (`2001:db8::1`).
///
/// Stored inline (two 64-bit words), so an address costs no allocation.
public struct IPAddress: Codable, Sendable, Hashable, CustomStringConvertible, Comparable {
    public let family: AddressFamily
    /// The address as a 128-bit big-endian number (IPv4 in the low 32 bits).
    let high: UInt64
    let low: UInt64

    /// Parses a dotted-quad IPv4 or an IPv6 address; `nil` when `text` is neither.
    public init?(_ text: String) {
        if text.contains(":") {
            var a = in6_addr()
            guard inet_pton(AF_INET6, text, &a) == 1 else { return nil }
            self.init(family: .inet6, bytes: withUnsafeBytes(of: &a) { Array($0) })
        } else {
            // inet_pton accepts only dotted quads, which is what keepalived requires too.
            var a = in_addr()
            guard inet_pton(AF_INET, text, &a) == 1 else { return nil }
            self.init(family: .inet, bytes: withUnsafeBytes(of: &a) { Array($0) })
        }
    }

    /// An address from network-order bytes (4 for IPv4, 16 for IPv6).
    public init(family: AddressFamily, bytes: [UInt8]) {
        self.family = family
        var h: UInt64 = 0
        var l: UInt64 = 0
        let count = family == .inet ? 4 : 16
        for i in 0..<count {
            let b = i < bytes.count ? UInt64(bytes[i]) : 0
            if count - i > 8 { h = h << 8 | b } else { l = l << 8 | b }
        }
        high = h
        low = l
    }

    /// Network-order bytes (4 or 16).
    public var bytes: [UInt8] {
        if family == .inet { return (0..<4).map { UInt8(truncatingIfNeeded: low >> (24 - 8 * UInt64($0))) } }
        return (0..<16).map { i in
            i < 8 ? UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64(i))) : UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64(i - 8)))
        }
    }

    private func byte(_ i: Int) -> UInt8 {
        if family == .inet { return UInt8(truncatingIfNeeded: low >> (24 - 8 * UInt64(i))) }
        return i < 8 ? UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64(i))) : UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64(i - 8)))
    }

    public var description: String {
        if family == .inet {
            return "\(byte(0)).\(byte(1)).\(byte(2)).\(byte(3))"
        }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        var copy = bytes
        let ok = copy.withUnsafeMutableBytes { raw in
            inet_ntop(AF_INET6, raw.baseAddress, &buffer, socklen_t(buffer.count)) != nil
        }
        guard ok else { return "::" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public var isMulticast: Bool {
        family == .inet ? (byte(0) & 0xF0) == 0xE0 : byte(0) == 0xFF
    }

    /// fe80::/10 (IPv6) or 169.254/16 (IPv4).
    public var isLinkLocal: Bool {
        family == .inet6 ? (byte(0) == 0xFE && (byte(1) & 0xC0) == 0x80) : (byte(0) == 169 && byte(1) == 254)
    }

    public var isLoopback: Bool {
        family == .inet ? byte(0) == 127 : (high == 0 && low == 1)
    }

    public var isUnspecified: Bool { high == 0 && low == 0 }

    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        if lhs.family != rhs.family { return lhs.family == .inet }
        return (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = IPAddress(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "'\(text)' is not an IP address"))
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// An address with a prefix length, `192.0.2.0/24`.
public struct IPPrefix: Codable, Sendable, Hashable, CustomStringConvertible {
    public var address: IPAddress
    public var length: Int

    public init(address: IPAddress, length: Int) {
        self.address = address
        self.length = length
    }

    /// Parses `IP` or `IP/LEN`; a missing length is the full host length.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(String(parts[0])) else { return nil }
        var length = address.family.maximumPrefix
        if parts.count == 2 {
            guard let l = Int(parts[1]), l >= 0, l <= address.family.maximumPrefix else { return nil }
            length = l
        }
        self.address = address
        self.length = length
    }

    public var description: String { "\(address)/\(length)" }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = IPPrefix(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "'\(text)' is not a prefix"))
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

extension DecodeContext {
    /// An IP address token, with a located error when it is not one.
    public func ipAddress(_ token: Token, what: String = "IP address") -> IPAddress? {
        if let a = IPAddress(token.text) { return a }
        error("bad-address", "'\(token.text)' is not a valid \(what)", at: token.location,
              hint: "write an IPv4 address such as 192.0.2.1 or an IPv6 address such as 2001:db8::1")
        return nil
    }

    /// `IP[/LEN]`.
    public func ipPrefix(_ token: Token, what: String = "address") -> IPPrefix? {
        if let p = IPPrefix(token.text) { return p }
        let parts = token.text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        if let a = IPAddress(String(parts[0])), parts.count == 2 {
            error("bad-prefix", "'\(parts[1])' is not a valid prefix length for \(a.family == .inet ? "IPv4" : "IPv6") (0 to \(a.family.maximumPrefix))",
                  at: token.location)
        } else {
            error("bad-address", "'\(token.text)' is not a valid \(what)", at: token.location,
                  hint: "write ADDRESS or ADDRESS/PREFIX, such as 192.0.2.1/24 or 2001:db8::1/64")
        }
        return nil
    }
}
