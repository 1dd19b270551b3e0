import CNetLinux
import VRRPCore

/// The rtnetlink requests NetLinux sends, written into a ``NetlinkMessageBuilder`` without any
/// I/O, so that tests can compare them byte for byte with the kernel headers and with what
/// iproute2 sends.
///
/// Each function writes one complete message with sequence number 0; ``NetlinkSocket`` fills
/// in the sequence number when it sends it.
public enum RouteNetlinkRequest {
    /// `RTM_GETLINK` with `NLM_F_DUMP`: every link, without statistics
    /// (`IFLA_EXT_MASK` = `RTEXT_FILTER_SKIP_STATS`).
    public static func linkDump(into message: inout NetlinkMessageBuilder) {
        message.beginMessage(type: .getLink, flags: [.request, .dump])
        message.appendFamilyHeader(ifinfomsg())                     // all zero: any family, any index
        message.appendAttribute(LinkAttribute.extendedMask, uint32: LinkAttribute.skipStatistics)
        message.endMessage()
    }

    /// `RTM_GETLINK` for the link named `name` (`IFLA_IFNAME`), without statistics.
    public static func link(named name: String, into message: inout NetlinkMessageBuilder) {
        message.beginMessage(type: .getLink, flags: .request)
        message.appendFamilyHeader(ifinfomsg())
        message.appendAttribute(LinkAttribute.name, string: name)
        message.appendAttribute(LinkAttribute.extendedMask, uint32: LinkAttribute.skipStatistics)
        message.endMessage()
    }

    /// `RTM_GETLINK` for the link with index `index`, without statistics.
    public static func link(index: UInt32, into message: inout NetlinkMessageBuilder) {
        var header = ifinfomsg()
        header.ifi_index = Int32(bitPattern: index)
        message.beginMessage(type: .getLink, flags: .request)
        message.appendFamilyHeader(header)
        message.appendAttribute(LinkAttribute.extendedMask, uint32: LinkAttribute.skipStatistics)
        message.endMessage()
    }

    /// `RTM_GETADDR` with `NLM_F_DUMP`: the addresses of `family` (both when `nil`).
    public static func addressDump(family: IPAddressFamily?, into message: inout NetlinkMessageBuilder) {
        var header = ifaddrmsg()
        header.ifa_family = family.map(familyNumber) ?? AddressFamilyNumber.unspecified
        message.beginMessage(type: .getAddress, flags: [.request, .dump])
        message.appendFamilyHeader(header)
        message.endMessage()
    }

    /// `RTM_NEWADDR`: adds `address` to the interface with index `interfaceIndex`, as
    /// `ip address add` does.
    ///
    /// - `IFA_LOCAL` is the address and `IFA_ADDRESS` the peer (the address itself without one).
    /// - Flags that fit in 8 bits go in `ifa_flags`; others (`noprefixroute`, `mngtmpaddr`,
    ///   `autojoin`) make the whole set go in `IFA_FLAGS`.
    /// - `broadcast` and `label` are IPv4 only (the kernel ignores them for IPv6) and so are
    ///   sent for IPv4 only.
    /// - A preferred lifetime goes in `IFA_CACHEINFO` with a valid lifetime of forever.
    /// - The scope is the given one, else host (254) for 127.0.0.0/8 and global (0) otherwise.
    ///
    /// - Parameters:
    ///   - replace: `NLM_F_REPLACE` (update an existing address) instead of `NLM_F_EXCL`
    ///     (fail with `EEXIST`).
    /// The caller checks the address first with ``problem(with:)``.
    public static func newAddress(_ address: VirtualAddress, interfaceIndex: UInt32, replace: Bool = false,
                                  into message: inout NetlinkMessageBuilder) {
        let family = address.address.family
        let flags = AddressFlags(address.flags)
        var header = ifaddrmsg()
        header.ifa_family = familyNumber(family)
        header.ifa_prefixlen = address.prefixLength
        header.ifa_flags = flags.rawValue <= 0xFF ? UInt8(flags.rawValue) : 0
        header.ifa_scope = address.scope ?? defaultScope(address.address)
        header.ifa_index = interfaceIndex
        message.beginMessage(type: .newAddress, flags: [.request, .acknowledge, .create, replace ? .replace : .exclusive])
        message.appendFamilyHeader(header)
        message.appendAttribute(AddressAttribute.local, address: address.address)
        message.appendAttribute(AddressAttribute.address, address: address.peer ?? address.address)
        if flags.rawValue > 0xFF {
            message.appendAttribute(AddressAttribute.flags, uint32: flags.rawValue)
        }
        if family == .ipv4 {
            if let broadcast = address.broadcast { message.appendAttribute(AddressAttribute.broadcast, address: broadcast) }
            if let label = address.label { message.appendAttribute(AddressAttribute.label, string: label) }
        }
        if let preferred = address.preferredLifetime {
            let cache = ifa_cacheinfo(ifa_prefered: preferred, ifa_valid: UInt32.max, cstamp: 0, tstamp: 0)
            message.appendAttribute(AddressAttribute.cacheInfo, structure: cache)
        }
        message.endMessage()
    }

    /// `RTM_DELADDR`: removes `address` (matched by local address, prefix length and peer)
    /// from the interface with index `interfaceIndex`, as `ip address del` does.
    public static func deleteAddress(_ address: VirtualAddress, interfaceIndex: UInt32,
                                     into message: inout NetlinkMessageBuilder) {
        var header = ifaddrmsg()
        header.ifa_family = familyNumber(address.address.family)
        header.ifa_prefixlen = address.prefixLength
        header.ifa_index = interfaceIndex
        message.beginMessage(type: .deleteAddress, flags: [.request, .acknowledge])
        message.appendFamilyHeader(header)
        message.appendAttribute(AddressAttribute.local, address: address.address)
        message.appendAttribute(AddressAttribute.address, address: address.peer ?? address.address)
        message.endMessage()
    }

    /// What is wrong with `address` for ``newAddress(_:interfaceIndex:replace:into:)``, or `nil`.
    public static func problem(with address: VirtualAddress) -> String? {
        let family = address.address.family
        if Int(address.prefixLength) > family.addressSize * 8 {
            return "prefix length \(address.prefixLength) is too long for an \(family) address"
        }
        if let peer = address.peer, peer.family != family { return "peer \(peer) is not an \(family) address" }
        if let broadcast = address.broadcast, broadcast.family != family {
            return "broadcast \(broadcast) is not an \(family) address"
        }
        if let label = address.label, label.utf8.count >= 16 { return "label \"\(label)\" is longer than 15 bytes" }
        return nil
    }

    static func familyNumber(_ family: IPAddressFamily) -> UInt8 {
        family == .ipv4 ? AddressFamilyNumber.inet : AddressFamilyNumber.inet6
    }

    /// Host scope for IPv4 loopback addresses, global otherwise (what `ip address add` assumes).
    static func defaultScope(_ address: IPAddress) -> UInt8 {
        address.family == .ipv4 && address.ipv4Value >> 24 == 127 ? 254 : 0
    }
}
