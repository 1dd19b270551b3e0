/// The RFC 2863 operational state (`IF_OPER_*`, linux/if.h; `IFLA_OPERSTATE`).
public struct OperationalState: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// `IF_OPER_UNKNOWN` (0): the driver does not say (loopback, some virtual devices).
    public static let unknown = OperationalState(rawValue: 0)
    /// `IF_OPER_NOTPRESENT` (1).
    public static let notPresent = OperationalState(rawValue: 1)
    /// `IF_OPER_DOWN` (2).
    public static let down = OperationalState(rawValue: 2)
    /// `IF_OPER_LOWERLAYERDOWN` (3): no carrier, or the lower device is down.
    public static let lowerLayerDown = OperationalState(rawValue: 3)
    /// `IF_OPER_TESTING` (4).
    public static let testing = OperationalState(rawValue: 4)
    /// `IF_OPER_DORMANT` (5).
    public static let dormant = OperationalState(rawValue: 5)
    /// `IF_OPER_UP` (6).
    public static let up = OperationalState(rawValue: 6)

    public var description: String {
        switch rawValue {
        case 0: "UNKNOWN"
        case 1: "NOTPRESENT"
        case 2: "DOWN"
        case 3: "LOWERLAYERDOWN"
        case 4: "TESTING"
        case 5: "DORMANT"
        case 6: "UP"
        default: "\(rawValue)"
        }
    }
}
