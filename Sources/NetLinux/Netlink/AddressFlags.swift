import VRRPCore

/// Address flags (`IFA_F_*`, linux/if_addr.h).
public struct AddressFlags: OptionSet, Sendable, Hashable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// `IFA_F_SECONDARY` (0x01; `IFA_F_TEMPORARY` for IPv6).
    public static let secondary = AddressFlags(rawValue: 0x01)
    /// `IFA_F_NODAD` (0x02): no duplicate address detection.
    public static let noDAD = AddressFlags(rawValue: 0x02)
    /// `IFA_F_OPTIMISTIC` (0x04).
    public static let optimistic = AddressFlags(rawValue: 0x04)
    /// `IFA_F_DADFAILED` (0x08).
    public static let dadFailed = AddressFlags(rawValue: 0x08)
    /// `IFA_F_HOMEADDRESS` (0x10): a Mobile IPv6 home address.
    public static let homeAddress = AddressFlags(rawValue: 0x10)
    /// `IFA_F_DEPRECATED` (0x20): preferred lifetime over; not chosen as a source.
    public static let deprecated = AddressFlags(rawValue: 0x20)
    /// `IFA_F_TENTATIVE` (0x40): duplicate address detection still running.
    public static let tentative = AddressFlags(rawValue: 0x40)
    /// `IFA_F_PERMANENT` (0x80): configured, not learnt.
    public static let permanent = AddressFlags(rawValue: 0x80)
    /// `IFA_F_MANAGETEMPADDR` (0x100).
    public static let manageTemporaryAddress = AddressFlags(rawValue: 0x100)
    /// `IFA_F_NOPREFIXROUTE` (0x200): add no prefix route.
    public static let noPrefixRoute = AddressFlags(rawValue: 0x200)
    /// `IFA_F_MCAUTOJOIN` (0x400).
    public static let multicastAutoJoin = AddressFlags(rawValue: 0x400)
    /// `IFA_F_STABLE_PRIVACY` (0x800).
    public static let stablePrivacy = AddressFlags(rawValue: 0x800)

    /// The flags `ip address add` takes from a ``VirtualAddress``.
    public init(_ flags: VirtualAddress.Flags) {
        var f: AddressFlags = []
        if flags.contains(.noDAD) { f.insert(.noDAD) }
        if flags.contains(.noPrefixRoute) { f.insert(.noPrefixRoute) }
        if flags.contains(.home) { f.insert(.homeAddress) }
        if flags.contains(.manageTemporaryAddress) { f.insert(.manageTemporaryAddress) }
        if flags.contains(.autoJoin) { f.insert(.multicastAutoJoin) }
        self = f
    }
}
