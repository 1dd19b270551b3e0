/// An address with an optional port: `192.168.1.10 80`, or a bare address.
public struct LVSEndpoint: Codable, Hashable, Sendable, CustomStringConvertible {
    public var address: IPAddress
    /// The port as written; `nil` when omitted (keepalived then uses port 0).
    public var port: Int?

    public init(address: IPAddress, port: Int? = nil) {
        self.address = address
        self.port = port
    }

    /// The words that follow a keyword such as `real_server`.
    public var words: [String] { [address.description] + (port.map { [String($0)] } ?? []) }

    public var description: String { words.joined(separator: " ") }
}

/// Address arithmetic for virtual_server_group ranges.
extension IPAddress {
    /// This address with its lowest `hostBits` bits set: the last address of its prefix.
    func lvsSettingHostBits(_ hostBits: Int) -> IPAddress {
        var b = bytes
        var remaining = max(0, min(hostBits, b.count * 8))
        var i = b.count - 1
        while remaining > 0, i >= 0 {
            let n = min(8, remaining)
            b[i] |= n == 8 ? 0xff : UInt8((1 << n) - 1)
            remaining -= n
            i -= 1
        }
        return IPAddress(family: family, bytes: b)
    }

    /// The last 8 (IPv4) or 16 (IPv6) bits: the part a short range `a.b.c.d-e` gives.
    var lvsLastPart: Int {
        guard let last = bytes.last else { return 0 }
        if family == .inet || bytes.count < 2 { return Int(last) }
        return Int(bytes[bytes.count - 2]) << 8 | Int(last)
    }

    func lvsReplacingLastPart(_ part: Int) -> IPAddress {
        var b = bytes
        guard !b.isEmpty else { return self }
        if family == .inet || b.count < 2 {
            b[b.count - 1] = UInt8(truncatingIfNeeded: part)
        } else {
            b[b.count - 2] = UInt8(truncatingIfNeeded: part >> 8)
            b[b.count - 1] = UInt8(truncatingIfNeeded: part)
        }
        return IPAddress(family: family, bytes: b)
    }

    /// Whether `other` differs from this address only in the last part (so a range prints short).
    func lvsDiffersOnlyInLastPart(from other: IPAddress) -> Bool {
        other.family == family && other.lvsReplacingLastPart(lvsLastPart) == self
    }
}

extension AddressFamily {
    /// Reads `inet` / `inet6` (case-sensitive in keepalived) with a located error.
    static func lvsParse(_ token: Token, context: DecodeContext) -> AddressFamily? {
        switch token.text {
        case "inet": return .inet
        case "inet6": return .inet6
        default:
            if let loose = AddressFamily(rawValue: token.text.lowercased()) {
                context.warning(
                    "value-case", "keepalived only accepts '\(loose.rawValue)' spelled exactly so, not '\(token.text)'",
                    at: token.location, hint: "write '\(loose.rawValue)' to keep the file portable to keepalived")
                return loose
            }
            context.error("bad-value", "'\(token.text)' is not an address family", at: token.location, hint: "use inet or inet6")
            return nil
        }
    }
}
