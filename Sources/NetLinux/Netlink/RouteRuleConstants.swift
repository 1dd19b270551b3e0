/// rtnetlink message types for routes and rules (linux/rtnetlink.h).
extension NetlinkMessageType {
    /// `RTM_NEWROUTE` (24): a route; or a request to add one.
    public static let newRoute = NetlinkMessageType(rawValue: 24)
    /// `RTM_DELROUTE` (25): a route went away; or a request to delete one.
    public static let deleteRoute = NetlinkMessageType(rawValue: 25)
    /// `RTM_GETROUTE` (26).
    public static let getRoute = NetlinkMessageType(rawValue: 26)
    /// `RTM_NEWRULE` (32): a policy-routing rule; or a request to add one.
    public static let newRule = NetlinkMessageType(rawValue: 32)
    /// `RTM_DELRULE` (33): a rule went away; or a request to delete one.
    public static let deleteRule = NetlinkMessageType(rawValue: 33)
    /// `RTM_GETRULE` (34).
    public static let getRule = NetlinkMessageType(rawValue: 34)
}

/// Attribute types and constants of `RTM_*ROUTE` messages (linux/rtnetlink.h).
enum RouteAttribute {
    /// `RTA_DST` (1): the destination prefix.
    static let destination: UInt16 = 1
    /// `RTA_OIF` (4): u32 output interface index.
    static let outputInterface: UInt16 = 4
    /// `RTA_GATEWAY` (5).
    static let gateway: UInt16 = 5
    /// `RTA_PRIORITY` (6): u32 metric.
    static let priority: UInt16 = 6
    /// `RTA_PREFSRC` (7): the preferred source address.
    static let preferredSource: UInt16 = 7
    /// `RTA_MULTIPATH` (9): an array of `struct rtnexthop`, each followed by its attributes.
    /// Not a nested attribute list: sent without `NLA_F_NESTED`, as iproute2 does.
    static let multipath: UInt16 = 9
    /// `RTA_TABLE` (15): u32 table id (tables above 255 do not fit `rtm_table`).
    static let table: UInt16 = 15

    /// `RT_TABLE_UNSPEC` (0).
    static let tableUnspecified: UInt8 = 0
    /// `RT_TABLE_MAIN` (254).
    static let tableMain: UInt8 = 254
    /// `RTPROT_BOOT` (3): what `ip route add` uses when no `proto` is given.
    static let protocolBoot: UInt8 = 3
    /// `RT_SCOPE_UNIVERSE` (0).
    static let scopeUniverse: UInt8 = 0
    /// `RT_SCOPE_LINK` (253).
    static let scopeLink: UInt8 = 253
    /// `RT_SCOPE_HOST` (254).
    static let scopeHost: UInt8 = 254
    /// `RT_SCOPE_NOWHERE` (255): in a delete request, matches any scope.
    static let scopeNowhere: UInt8 = 255
    /// `RTNH_F_ONLINK` (4): the gateway is on the link even if no prefix says so.
    static let nexthopOnlink: UInt8 = 4
}

/// Attribute types and constants of `RTM_*RULE` messages (linux/fib_rules.h).
enum RuleAttribute {
    /// `FRA_DST` (1): the `to` prefix.
    static let destination: UInt16 = 1
    /// `FRA_SRC` (2): the `from` prefix.
    static let source: UInt16 = 2
    /// `FRA_IIFNAME` (3): the input interface name.
    static let inputInterfaceName: UInt16 = 3
    /// `FRA_GOTO` (4): u32 target priority of a `goto` rule.
    static let gotoTarget: UInt16 = 4
    /// `FRA_PRIORITY` (6): u32 preference.
    static let priority: UInt16 = 6
    /// `FRA_FWMARK` (10): u32.
    static let firewallMark: UInt16 = 10
    /// `FRA_TABLE` (15): u32 table id.
    static let table: UInt16 = 15
    /// `FRA_FWMASK` (16): u32.
    static let firewallMask: UInt16 = 16
    /// `FRA_OIFNAME` (17): the output interface name.
    static let outputInterfaceName: UInt16 = 17
    /// `FIB_RULE_INVERT` (2): the selector is negated (`ip rule add not ...`).
    static let invert: UInt32 = 2
}

/// Attribute types and constants for macvlan links and per-family link settings
/// (linux/if_link.h).
enum MacvlanAttribute {
    /// `IFLA_AF_SPEC` (26): nested, per address family.
    static let addressFamilySpecific: UInt16 = 26
    /// `IFLA_INFO_DATA` (2), inside `IFLA_LINKINFO`: the driver's own attributes.
    static let infoData: UInt16 = 2
    /// `IFLA_MACVLAN_MODE` (1), inside `IFLA_INFO_DATA`: u32 `MACVLAN_MODE_*`.
    static let mode: UInt16 = 1
    /// `IFLA_INET6_ADDR_GEN_MODE` (8), inside `IFLA_AF_SPEC`/`AF_INET6`: u8 `IN6_ADDR_GEN_MODE_*`.
    static let inet6AddressGenerationMode: UInt16 = 8
    /// `IFF_UP`.
    static let interfaceUp: UInt32 = 1
}
