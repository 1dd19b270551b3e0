import VRRPCore

/// One line of a keepalived `virtual_server_group`, and its expansion into IPVS service keys
/// (one service per address, as keepalived programs a group without `nftables_ipvs`).
///
/// ```swift
/// let entry = try IPVSGroupEntry(parsing: "192.0.2.1-3", port: 80)
/// try entry.serviceKeys(protocol: .tcp)   // TCP 192.0.2.1:80, TCP 192.0.2.2:80, TCP 192.0.2.3:80
/// try IPVSGroupEntry(parsing: "2001:db8::a-c", port: 53).addresses()   // 2001:db8::a, ::b, ::c
/// ```
public enum IPVSGroupEntry: Sendable, Hashable, CustomStringConvertible {
    /// `IP [PORT]`.
    case address(IPAddress, port: UInt16)
    /// `a.b.c.d-e`, `a.b.c.d-e.f.g.h`, `2001:db8::1-5`, `2001:db8::1-2001:db8::5`: both ends
    /// included, the same family, the first not after the last.
    case range(first: IPAddress, last: IPAddress, port: UInt16)
    /// `a.b.c.d/nn [PORT]`: from the written address to the last address of its prefix.
    case prefix(IPAddress, length: Int, port: UInt16)
    /// `fwmark N [inet|inet6]`.
    case firewallMark(UInt32, family: IPAddressFamily)

    /// The largest expansion ``addresses(limit:)`` accepts by default.
    public static let defaultLimit = 65_536

    /// Reads an address word of a group line: `192.0.2.1`, `192.0.2.1-5`, `192.0.2.1-192.0.3.4`,
    /// `192.0.2.0/28`, `2001:db8::1-5` (the last group, in hex), `2001:db8::1-2001:db8::5`,
    /// `2001:db8::/120`, with the line's port (0 when the line has none).
    /// - Throws: ``IPVSGroupEntryError`` naming the word and what is wrong with it.
    public init(parsing word: String, port: UInt16 = 0) throws(IPVSGroupEntryError) {
        if let slash = word.firstIndex(of: "/") {
            let addressText = word[..<slash]
            let lengthText = word[word.index(after: slash)...]
            guard let address = IPAddress(addressText) else { throw IPVSGroupEntryError(word, "is not an address") }
            let maximum = address.family.addressSize * 8
            guard let length = Int(lengthText), (0...maximum).contains(length) else {
                throw IPVSGroupEntryError(word, "has a prefix length that is not 0 to \(maximum)")
            }
            self = .prefix(address, length: length, port: port)
            return
        }
        guard let dash = word.firstIndex(of: "-") else {
            guard let address = IPAddress(word) else { throw IPVSGroupEntryError(word, "is not an address") }
            self = .address(address, port: port)
            return
        }
        let firstText = word[..<dash]
        let lastText = word[word.index(after: dash)...]
        guard let first = IPAddress(firstText) else { throw IPVSGroupEntryError(word, "does not start with an address") }
        let last: IPAddress
        if lastText.contains(first.family == .ipv4 ? "." : ":"), let full = IPAddress(lastText), full.family == first.family {
            last = full
        } else if first.family == .ipv4, let octet = UInt8(lastText) {
            last = IPAddress(ipv4: (first.ipv4Value & 0xFFFF_FF00) | UInt32(octet))
        } else if first.family == .ipv6, lastText.utf8.count <= 4, let group = UInt16(lastText, radix: 16) {
            last = IPAddress(ipv6High: first.high, low: (first.low & ~0xFFFF) | UInt64(group))
        } else {
            throw IPVSGroupEntryError(word, first.family == .ipv4
                ? "does not end with a last octet (0 to 255) or an IPv4 address"
                : "does not end with a last group (hex, 0 to ffff) or an IPv6 address")
        }
        guard !(last < first) else { throw IPVSGroupEntryError(word, "ends before it starts") }
        self = .range(first: first, last: last, port: port)
    }

    /// The address family.
    public var family: IPAddressFamily {
        switch self {
        case let .address(a, _), let .range(a, _, _), let .prefix(a, _, _): a.family
        case let .firewallMark(_, family): family
        }
    }

    /// The first and last address covered (`nil` for a firewall mark).
    public var bounds: (first: IPAddress, last: IPAddress)? {
        switch self {
        case let .address(a, _): return (a, a)
        case let .range(first, last, _): return (first, last)
        case let .prefix(a, length, _):
            let bits = a.family.addressSize * 8
            let hostBits = bits - min(max(length, 0), bits)
            if a.family == .ipv4 {
                let mask: UInt32 = hostBits >= 32 ? .max : (UInt32(1) << UInt32(hostBits)) - 1
                return (a, IPAddress(ipv4: a.ipv4Value | mask))
            }
            let lowMask: UInt64 = hostBits >= 64 ? .max : (UInt64(1) << UInt64(hostBits)) - 1
            let highMask: UInt64 = hostBits <= 64 ? 0 : hostBits >= 128 ? .max : (UInt64(1) << UInt64(hostBits - 64)) - 1
            return (a, IPAddress(ipv6High: a.high | highMask, low: a.low | lowMask))
        case .firewallMark: return nil
        }
    }

    /// How many addresses the entry covers (1 for a firewall mark), saturating at `Int.max`.
    public var count: Int {
        guard let (first, last) = bounds else { return 1 }
        guard first.family == last.family, !(last < first) else { return 0 }
        if first.family == .ipv4 { return Int(last.ipv4Value - first.ipv4Value) + 1 }
        let (span, borrow) = last.low.subtractingReportingOverflow(first.low)
        guard last.high &- first.high &- (borrow ? 1 : 0) == 0 else { return .max }
        return span >= UInt64(Int.max) ? .max : Int(span) + 1
    }

    /// Every address covered, in order (empty for a firewall mark).
    /// - Throws: ``IPVSGroupEntryError`` when there are more than `limit`.
    public func addresses(limit: Int = IPVSGroupEntry.defaultLimit) throws(IPVSGroupEntryError) -> [IPAddress] {
        guard let (first, last) = bounds else { return [] }
        guard first.family == last.family else { throw IPVSGroupEntryError(description, "mixes IPv4 and IPv6") }
        guard !(last < first) else { throw IPVSGroupEntryError(description, "ends before it starts") }
        let n = count
        guard n <= limit else { throw IPVSGroupEntryError(description, "covers \(n == .max ? "too many" : "\(n)") addresses, more than \(limit)") }
        var result: [IPAddress] = []
        result.reserveCapacity(n)
        var a = first
        for i in 0..<n {
            result.append(a)
            if i + 1 < n { a = Self.successor(a) }
        }
        return result
    }

    /// The service keys the entry stands for, with `protocol` (ignored for a firewall mark).
    public func serviceKeys(protocol proto: IPVSProtocol, limit: Int = IPVSGroupEntry.defaultLimit) throws(IPVSGroupEntryError) -> [IPVSService.Key] {
        switch self {
        case let .firewallMark(mark, family):
            return [.firewallMark(mark, family: family)]
        case let .address(_, port), let .range(_, _, port), let .prefix(_, _, port):
            return try addresses(limit: limit).map { .address(protocol: proto, address: $0, port: port) }
        }
    }

    /// Expands several entries (a whole group) into service keys, in order, without duplicates.
    public static func serviceKeys(_ entries: [IPVSGroupEntry], protocol proto: IPVSProtocol,
                                   limit: Int = IPVSGroupEntry.defaultLimit) throws(IPVSGroupEntryError) -> [IPVSService.Key] {
        var seen: Set<IPVSService.Key> = []
        var result: [IPVSService.Key] = []
        for entry in entries {
            for key in try entry.serviceKeys(protocol: proto, limit: limit) where seen.insert(key).inserted {
                result.append(key)
                if result.count > limit {
                    throw IPVSGroupEntryError("the group", "expands to more than \(limit) services")
                }
            }
        }
        return result
    }

    private static func successor(_ a: IPAddress) -> IPAddress {
        if a.family == .ipv4 { return IPAddress(ipv4: a.ipv4Value &+ 1) }
        let (low, carry) = a.low.addingReportingOverflow(1)
        return IPAddress(ipv6High: carry ? a.high &+ 1 : a.high, low: low)
    }

    /// `192.0.2.1-192.0.2.5 port 80`, `192.0.2.0/28 port 80`, `fwmark 7 IPv6`.
    public var description: String {
        switch self {
        case let .address(a, port): "\(a) port \(port)"
        case let .range(first, last, port): "\(first)-\(last) port \(port)"
        case let .prefix(a, length, port): "\(a)/\(length) port \(port)"
        case let .firewallMark(mark, family): "fwmark \(mark)" + (family == .ipv6 ? " IPv6" : "")
        }
    }
}

/// A group entry that cannot be read or expanded.
public struct IPVSGroupEntryError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The text or entry concerned.
    public var subject: String
    /// What is wrong.
    public var problem: String

    public init(_ subject: some StringProtocol, _ problem: String) {
        self.subject = String(subject)
        self.problem = problem
    }

    /// `virtual_server_group entry '192.0.2.9-3' ends before it starts`.
    public var description: String { "virtual_server_group entry '\(subject)' \(problem)" }
}
