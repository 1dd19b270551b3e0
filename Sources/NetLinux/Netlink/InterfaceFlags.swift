/// Interface flags (`IFF_*`, linux/if.h; `ifi_flags`).
public struct InterfaceFlags: OptionSet, Sendable, Hashable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// `IFF_UP`: administratively up.
    public static let up = InterfaceFlags(rawValue: 0x1)
    /// `IFF_BROADCAST`.
    public static let broadcast = InterfaceFlags(rawValue: 0x2)
    /// `IFF_LOOPBACK`.
    public static let loopback = InterfaceFlags(rawValue: 0x8)
    /// `IFF_POINTOPOINT`.
    public static let pointToPoint = InterfaceFlags(rawValue: 0x10)
    /// `IFF_RUNNING`: operationally up (RFC 2863 up or unknown).
    public static let running = InterfaceFlags(rawValue: 0x40)
    /// `IFF_NOARP`.
    public static let noARP = InterfaceFlags(rawValue: 0x80)
    /// `IFF_PROMISC`.
    public static let promiscuous = InterfaceFlags(rawValue: 0x100)
    /// `IFF_MULTICAST`.
    public static let multicast = InterfaceFlags(rawValue: 0x1000)
    /// `IFF_LOWER_UP`: the driver signals carrier.
    public static let lowerUp = InterfaceFlags(rawValue: 0x10000)
    /// `IFF_DORMANT`.
    public static let dormant = InterfaceFlags(rawValue: 0x20000)
}
