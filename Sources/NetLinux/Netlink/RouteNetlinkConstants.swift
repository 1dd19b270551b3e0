/// rtnetlink message types (linux/rtnetlink.h).
extension NetlinkMessageType {
    /// `RTM_NEWLINK` (16): a link, in a dump, a reply or a notification; or a request to create one.
    public static let newLink = NetlinkMessageType(rawValue: 16)
    /// `RTM_DELLINK` (17): a link went away; or a request to delete one.
    public static let deleteLink = NetlinkMessageType(rawValue: 17)
    /// `RTM_GETLINK` (18): a request for one link or (with `NLM_F_DUMP`) all of them.
    public static let getLink = NetlinkMessageType(rawValue: 18)
    /// `RTM_SETLINK` (19).
    public static let setLink = NetlinkMessageType(rawValue: 19)
    /// `RTM_NEWADDR` (20): an address; or a request to add one.
    public static let newAddress = NetlinkMessageType(rawValue: 20)
    /// `RTM_DELADDR` (21): an address went away; or a request to delete one.
    public static let deleteAddress = NetlinkMessageType(rawValue: 21)
    /// `RTM_GETADDR` (22): a request for addresses (dump only).
    public static let getAddress = NetlinkMessageType(rawValue: 22)
}

/// rtnetlink multicast groups (`enum rtnetlink_groups`, linux/rtnetlink.h), for
/// ``NetlinkSocket/subscribe(to:)``.
public enum RouteNetlinkGroup {
    /// `RTNLGRP_LINK` (1): links appearing, changing (up, down, carrier) and disappearing.
    public static let link: UInt32 = 1
    /// `RTNLGRP_NEIGH` (3): neighbour (ARP/NDP) entries.
    public static let neighbour: UInt32 = 3
    /// `RTNLGRP_IPV4_IFADDR` (5): IPv4 addresses added and removed.
    public static let ipv4Address: UInt32 = 5
    /// `RTNLGRP_IPV4_ROUTE` (7).
    public static let ipv4Route: UInt32 = 7
    /// `RTNLGRP_IPV4_RULE` (8).
    public static let ipv4Rule: UInt32 = 8
    /// `RTNLGRP_IPV6_IFADDR` (9): IPv6 addresses added, removed and changed (DAD, lifetimes).
    public static let ipv6Address: UInt32 = 9
    /// `RTNLGRP_IPV6_ROUTE` (11).
    public static let ipv6Route: UInt32 = 11
    /// `RTNLGRP_IPV6_RULE` (19).
    public static let ipv6Rule: UInt32 = 19
}

/// Attribute types and constants of `RTM_*LINK` messages (linux/if_link.h, linux/rtnetlink.h).
enum LinkAttribute {
    /// `IFLA_ADDRESS` (1): the hardware address.
    static let address: UInt16 = 1
    /// `IFLA_BROADCAST` (2).
    static let broadcast: UInt16 = 2
    /// `IFLA_IFNAME` (3): the name, NUL-terminated.
    static let name: UInt16 = 3
    /// `IFLA_MTU` (4): u32.
    static let mtu: UInt16 = 4
    /// `IFLA_LINK` (5): u32 index of the lower device (a macvlan's parent).
    static let link: UInt16 = 5
    /// `IFLA_MASTER` (10): u32 index of the bridge or bond.
    static let master: UInt16 = 10
    /// `IFLA_OPERSTATE` (16): u8 RFC 2863 state.
    static let operationalState: UInt16 = 16
    /// `IFLA_LINKINFO` (18): nested, with `IFLA_INFO_KIND` (1) the driver kind.
    static let linkInfo: UInt16 = 18
    static let infoKind: UInt16 = 1
    /// `IFLA_EXT_MASK` (29): u32 `RTEXT_FILTER_*` bits.
    static let extendedMask: UInt16 = 29
    /// `IFLA_CARRIER` (33): u8.
    static let carrier: UInt16 = 33
    /// `RTEXT_FILTER_SKIP_STATS` (1 << 3): leave the statistics out of replies.
    static let skipStatistics: UInt32 = 1 << 3
}

/// Attribute types of `RTM_*ADDR` messages (linux/if_addr.h).
enum AddressAttribute {
    /// `IFA_ADDRESS` (1): the prefix address — the peer for point-to-point, else the local address.
    static let address: UInt16 = 1
    /// `IFA_LOCAL` (2): the local address.
    static let local: UInt16 = 2
    /// `IFA_LABEL` (3): the IPv4 label, NUL-terminated.
    static let label: UInt16 = 3
    /// `IFA_BROADCAST` (4).
    static let broadcast: UInt16 = 4
    /// `IFA_CACHEINFO` (6): `struct ifa_cacheinfo`.
    static let cacheInfo: UInt16 = 6
    /// `IFA_FLAGS` (8): u32 flags, superseding the 8-bit `ifa_flags`.
    static let flags: UInt16 = 8
    /// `IFA_PROTO` (11): u8, who added the address.
    static let proto: UInt16 = 11
}

/// Linux address families (linux/socket.h).
enum AddressFamilyNumber {
    static let unspecified: UInt8 = 0
    static let inet: UInt8 = 2
    static let inet6: UInt8 = 10
    static let bridge: UInt8 = 7
}
