#if canImport(Glibc)
import Glibc
#endif
import CLibcap

/// One Linux capability (`capabilities(7)`), by its number: ``netRaw`` is `CAP_NET_RAW`.
///
/// ```swift
/// let raw = Capability.netRaw
/// print(raw)                          // CAP_NET_RAW
/// Capability(name: "cap_net_admin")   // .netAdmin
/// ```
public struct Capability: RawRepresentable, Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The kernel's number for the capability (`CAP_NET_RAW` is 13).
    public let rawValue: CInt
    public init(rawValue: CInt) { self.rawValue = rawValue }

    /// Looks a capability up by name, with or without the `cap_` prefix, in any case
    /// (`"CAP_NET_RAW"`, `"net_raw"`). The corresponding C function is `cap_from_name(3)`.
    public init?(name: String) {
        var text = name.lowercased()
        if !text.hasPrefix("cap_") { text = "cap_" + text }
        var value: cap_value_t = 0
        guard cap_from_name(text, &value) == 0 else { return nil }
        self.init(rawValue: CInt(value))
    }

    public static let chown = Capability(rawValue: CInt(CAP_CHOWN))
    public static let dacOverride = Capability(rawValue: CInt(CAP_DAC_OVERRIDE))
    public static let dacReadSearch = Capability(rawValue: CInt(CAP_DAC_READ_SEARCH))
    public static let fileOwner = Capability(rawValue: CInt(CAP_FOWNER))
    public static let kill = Capability(rawValue: CInt(CAP_KILL))
    public static let setGID = Capability(rawValue: CInt(CAP_SETGID))
    public static let setUID = Capability(rawValue: CInt(CAP_SETUID))
    public static let setPCap = Capability(rawValue: CInt(CAP_SETPCAP))
    public static let netBindService = Capability(rawValue: CInt(CAP_NET_BIND_SERVICE))
    public static let netBroadcast = Capability(rawValue: CInt(CAP_NET_BROADCAST))
    public static let netAdmin = Capability(rawValue: CInt(CAP_NET_ADMIN))
    public static let netRaw = Capability(rawValue: CInt(CAP_NET_RAW))
    public static let sysModule = Capability(rawValue: CInt(CAP_SYS_MODULE))
    public static let sysAdmin = Capability(rawValue: CInt(CAP_SYS_ADMIN))
    public static let sysNice = Capability(rawValue: CInt(CAP_SYS_NICE))
    public static let ipcLock = Capability(rawValue: CInt(CAP_IPC_LOCK))

    /// The highest capability number the running kernel knows. The corresponding C function
    /// is `cap_max_bits(3)`.
    public static var last: Capability { Capability(rawValue: CInt(cap_max_bits()) - 1) }

    /// The lower-case name setcap(8) uses: `cap_net_raw`. The corresponding C function is
    /// `cap_to_name(3)`.
    public var name: String {
        guard let text = cap_to_name(cap_value_t(rawValue)) else { return "cap_\(rawValue)" }
        defer { cap_free(text) }
        return String(cString: text)
    }

    /// `CAP_NET_RAW`.
    public var description: String { name.uppercased() }

    public static func < (a: Capability, b: Capability) -> Bool { a.rawValue < b.rawValue }
}

/// A set of capabilities as the kernel stores it: one bit per capability number.
///
/// ```swift
/// let keep: CapabilitySet = [.netAdmin, .netRaw]
/// keep.contains(.netRaw)   // true
/// print(keep)              // CAP_NET_ADMIN,CAP_NET_RAW
/// ```
public struct CapabilitySet: RawRepresentable, Hashable, Sendable, Sequence, ExpressibleByArrayLiteral,
    CustomStringConvertible
{
    /// Bit `n` set means capability `n` is in the set (the format of `/proc/PID/status`).
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public init(arrayLiteral elements: Capability...) { self.init(elements) }
    public init<S: Sequence>(_ capabilities: S) where S.Element == Capability {
        rawValue = 0
        for c in capabilities { insert(c) }
    }

    /// Every capability the running kernel knows.
    public static var all: CapabilitySet {
        let last = Capability.last.rawValue
        return CapabilitySet(rawValue: last >= 63 ? .max : (UInt64(1) << UInt64(last + 1)) - 1)
    }

    public var isEmpty: Bool { rawValue == 0 }
    public func contains(_ c: Capability) -> Bool {
        c.rawValue >= 0 && c.rawValue < 64 && rawValue & (UInt64(1) << UInt64(c.rawValue)) != 0
    }
    public mutating func insert(_ c: Capability) {
        if c.rawValue >= 0 && c.rawValue < 64 { rawValue |= UInt64(1) << UInt64(c.rawValue) }
    }
    public mutating func remove(_ c: Capability) {
        if c.rawValue >= 0 && c.rawValue < 64 { rawValue &= ~(UInt64(1) << UInt64(c.rawValue)) }
    }
    public func union(_ other: CapabilitySet) -> CapabilitySet { CapabilitySet(rawValue: rawValue | other.rawValue) }
    public func intersection(_ other: CapabilitySet) -> CapabilitySet { CapabilitySet(rawValue: rawValue & other.rawValue) }
    public func subtracting(_ other: CapabilitySet) -> CapabilitySet { CapabilitySet(rawValue: rawValue & ~other.rawValue) }
    public func isSubset(of other: CapabilitySet) -> Bool { rawValue & ~other.rawValue == 0 }

    public func makeIterator() -> some IteratorProtocol<Capability> {
        (CInt(0)..<64).lazy.map(Capability.init(rawValue:)).filter(self.contains).makeIterator()
    }

    /// `CAP_NET_ADMIN,CAP_NET_RAW`, or `none`.
    public var description: String { isEmpty ? "none" : map(\.description).joined(separator: ",") }
}
