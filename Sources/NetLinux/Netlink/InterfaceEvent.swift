import CNetLinux

/// A change to the interfaces of a network namespace, from an rtnetlink notification.
public enum InterfaceEvent: Sendable, Hashable, CustomStringConvertible {
    /// `RTM_NEWLINK`: a link appeared or changed — went up or down (``LinkInfo/isUp``),
    /// gained or lost carrier (``LinkInfo/hasCarrier``), was renamed, changed MTU or MAC.
    /// The notification carries the whole new state, not a difference.
    case linkChanged(LinkInfo)
    /// `RTM_DELLINK`: a link was deleted.
    case linkRemoved(LinkInfo)
    /// `RTM_NEWADDR`: an address was added (or changed, for example when IPv6 duplicate address
    /// detection finished).
    case addressAdded(AddressInfo)
    /// `RTM_DELADDR`: an address was removed.
    case addressRemoved(AddressInfo)
    /// The kernel dropped notifications (its queue for this socket overflowed: `ENOBUFS`).
    /// Some changes were not seen: resynchronise by listing links and addresses again.
    case overrun

    public var description: String {
        switch self {
        case let .linkChanged(l): "link changed: \(l)"
        case let .linkRemoved(l): "link removed: \(l)"
        case let .addressAdded(a): "address added: \(a)"
        case let .addressRemoved(a): "address removed: \(a)"
        case .overrun: "overrun — resync needed"
        }
    }

    /// The event an rtnetlink notification stands for, or `nil` for messages of no interest
    /// (other types; bridge-port link messages of family `AF_BRIDGE`; address families other
    /// than IPv4 and IPv6).
    /// - Throws: ``NetlinkParseError`` for a malformed message.
    public init?(notification message: NetlinkMessage) throws(NetlinkParseError) {
        switch message.type {
        case .newLink, .deleteLink:
            let header = try message.familyHeader(as: ifinfomsg.self)
            guard header.ifi_family == AddressFamilyNumber.unspecified else { return nil }
            let link = try LinkInfo(parsing: message)
            self = message.type == .newLink ? .linkChanged(link) : .linkRemoved(link)
        case .newAddress, .deleteAddress:
            guard let address = try AddressInfo.parse(message) else { return nil }
            self = message.type == .newAddress ? .addressAdded(address) : .addressRemoved(address)
        default:
            return nil
        }
    }
}
