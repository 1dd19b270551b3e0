import CNetLinux
import VRRPCore

/// An IP address on an interface as rtnetlink describes it (`RTM_NEWADDR`/`RTM_DELADDR`: an
/// `ifaddrmsg` and `IFA_*` attributes).
///
/// `IFA_LOCAL` and `IFA_ADDRESS` mean different things per family and per kind of link: the
/// local address is `IFA_LOCAL` when present (always for IPv4), else `IFA_ADDRESS` (IPv6);
/// when both are present and differ, `IFA_ADDRESS` is the point-to-point peer.
public struct AddressInfo: Sendable, Hashable, CustomStringConvertible {
    /// `ifa_index`.
    public var interfaceIndex: UInt32
    /// The local address.
    public var address: IPAddress
    /// `ifa_prefixlen`.
    public var prefixLength: UInt8
    /// The point-to-point peer, if any.
    public var peer: IPAddress?
    /// `IFA_BROADCAST` (IPv4).
    public var broadcast: IPAddress?
    /// `IFA_LABEL` (IPv4; "eth0" or "eth0:vip").
    public var label: String?
    /// `ifa_scope` (0 global, 200 site, 253 link, 254 host).
    public var scope: UInt8
    /// `IFA_FLAGS` when present, else `ifa_flags`.
    public var flags: AddressFlags
    /// `IFA_CACHEINFO`: preferred and valid lifetimes in seconds (`UInt32.max`: forever).
    public var preferredLifetime: UInt32?
    public var validLifetime: UInt32?

    public init(interfaceIndex: UInt32, address: IPAddress, prefixLength: UInt8, peer: IPAddress? = nil,
                broadcast: IPAddress? = nil, label: String? = nil, scope: UInt8 = 0, flags: AddressFlags = [],
                preferredLifetime: UInt32? = nil, validLifetime: UInt32? = nil) {
        self.interfaceIndex = interfaceIndex
        self.address = address
        self.prefixLength = prefixLength
        self.peer = peer
        self.broadcast = broadcast
        self.label = label
        self.scope = scope
        self.flags = flags
        self.preferredLifetime = preferredLifetime
        self.validLifetime = validLifetime
    }

    /// The family of the address.
    public var family: IPAddressFamily { address.family }

    public var description: String {
        var s = "\(address)"
        if let peer { s += " peer \(peer)" }
        s += "/\(prefixLength) on \(interfaceIndex)"
        if let label { s += " label \(label)" }
        return s
    }

    /// Parses an `RTM_NEWADDR` or `RTM_DELADDR` message; `nil` for a family other than IPv4
    /// and IPv6 (none is sent to an `AF_INET`/`AF_INET6` listener, but a dump of all families
    /// could in principle carry one).
    /// - Throws: ``NetlinkParseError`` when the message is malformed or has no address.
    public static func parse(_ message: NetlinkMessage) throws(NetlinkParseError) -> AddressInfo? {
        let header = try message.familyHeader(as: ifaddrmsg.self)
        let family: IPAddressFamily
        switch header.ifa_family {
        case AddressFamilyNumber.inet: family = .ipv4
        case AddressFamilyNumber.inet6: family = .ipv6
        default: return nil
        }
        guard Int(header.ifa_prefixlen) <= family.addressSize * 8 else {
            throw .invalidValue("\(family) address with prefix length \(header.ifa_prefixlen)")
        }
        var local: IPAddress?
        var prefixAddress: IPAddress?
        var info = AddressInfo(interfaceIndex: header.ifa_index, address: IPAddress(ipv4: 0),
                               prefixLength: header.ifa_prefixlen, scope: header.ifa_scope,
                               flags: AddressFlags(rawValue: UInt32(header.ifa_flags)))
        var attributes = try message.attributes(afterFamilyHeaderOfSize: MemoryLayout<ifaddrmsg>.size)
        while let a = try attributes.next() {
            switch a.type {
            case AddressAttribute.local: local = try a.ipAddress(family: family)
            case AddressAttribute.address: prefixAddress = try a.ipAddress(family: family)
            case AddressAttribute.broadcast: info.broadcast = try a.ipAddress(family: family)
            case AddressAttribute.label: info.label = a.string()
            case AddressAttribute.flags: info.flags = AddressFlags(rawValue: try a.uint32())
            case AddressAttribute.cacheInfo:
                let cache = try a.structure(as: ifa_cacheinfo.self)
                info.preferredLifetime = cache.ifa_prefered
                info.validLifetime = cache.ifa_valid
            default: break
            }
        }
        guard let address = local ?? prefixAddress else {
            throw .missingAttribute(type: AddressAttribute.address, in: "address message for interface \(header.ifa_index)")
        }
        info.address = address
        if let local, let prefixAddress, prefixAddress != local { info.peer = prefixAddress }
        return info
    }
}
