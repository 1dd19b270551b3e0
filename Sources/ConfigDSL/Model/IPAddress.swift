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

/// An IPv4 or IPv6 address, validated and kept in canonical text form (`2001:db8::1`).
public struct IPAddress: Codable, Sendable, Hashable, CustomStringConvertible, Comparable {
    public let family: AddressFamily
    /// Network-order bytes (4 or 16).
    public let bytes: [UInt8]

    public init?(_ text: String) {
        if text.contains(":") {
            var a = in6_addr()
            guard inet_pton(AF_INET6, text, &a) == 1 else { return nil }
            family = .inet6
            bytes = withUnsafeBytes(of: &a) { Array($0) }
        } else {
            // inet_pton accepts only dotted quads, which is what keepalived requires too.
            var a = in_addr()
            guard inet_pton(AF_INET, text, &a) == 1 else { return nil }
            family = .inet
            bytes = withUnsafeBytes(of: &a) { Array($0) }
        }
    }

    public init(family: AddressFamily, bytes: [UInt8]) {
        self.family = family
        self.bytes = bytes
    }

    public var description: String {
        if family == .inet { return bytes.map(String.init).joined(separator: ".") }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        var copy = bytes
        let ok = copy.withUnsafeMutableBytes { raw in
            inet_ntop(AF_INET6, raw.baseAddress, &buffer, socklen_t(buffer.count)) != nil
        }
        guard ok else { return "::" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public var isMulticast: Bool {
        family == .inet ? (bytes[0] & 0xF0) == 0xE0 : bytes[0] == 0xFF
    }

    /// fe80::/10.
    public var isLinkLocal: Bool {
        family == .inet6 ? (bytes[0] == 0xFE && (bytes[1] & 0xC0) == 0x80) : (bytes[0] == 169 && bytes[1] == 254)
    }

    public var isLoopback: Bool {
        family == .inet ? bytes[0] == 127 : (bytes.dropLast().allSatisfy { $0 == 0 } && bytes.last == 1)
    }

    public var isUnspecified: Bool { bytes.allSatisfy { $0 == 0 } }

    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        if lhs.family != rhs.family { return lhs.family == .inet }
        return lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
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
