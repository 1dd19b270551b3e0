/// The transport protocol of an address-based IPVS service (`IPVS_SVC_ATTR_PROTOCOL`: an
/// IP protocol number). The kernel accepts TCP, UDP and SCTP.
public struct IPVSProtocol: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    /// The IP protocol number.
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// TCP (`IPPROTO_TCP`, 6).
    public static let tcp = IPVSProtocol(rawValue: 6)
    /// UDP (`IPPROTO_UDP`, 17).
    public static let udp = IPVSProtocol(rawValue: 17)
    /// SCTP (`IPPROTO_SCTP`, 132).
    public static let sctp = IPVSProtocol(rawValue: 132)

    /// `TCP`, `UDP`, `SCTP`, or `protocol N`, as ipvsadm prints them.
    public var description: String {
        switch self {
        case .tcp: "TCP"
        case .udp: "UDP"
        case .sctp: "SCTP"
        default: "protocol \(rawValue)"
        }
    }
}
