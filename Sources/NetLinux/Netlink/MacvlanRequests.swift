import CNetLinux
import VRRPCore

/// A macvlan mode (`MACVLAN_MODE_*`, linux/if_link.h; `ip link add ... type macvlan mode M`).
public struct MacvlanMode: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// `MACVLAN_MODE_PRIVATE` (1): no traffic with the other macvlans of the same parent, not
    /// even reflected back by a VEPA switch. What keepalived uses for a VMAC.
    public static let `private` = MacvlanMode(rawValue: 1)
    /// `MACVLAN_MODE_VEPA` (2): all traffic goes out to the switch.
    public static let vepa = MacvlanMode(rawValue: 2)
    /// `MACVLAN_MODE_BRIDGE` (4): macvlans of one parent talk directly.
    public static let bridge = MacvlanMode(rawValue: 4)
    /// `MACVLAN_MODE_PASSTHRU` (8).
    public static let passthrough = MacvlanMode(rawValue: 8)

    public var description: String {
        switch rawValue {
        case 1: "private"
        case 2: "vepa"
        case 4: "bridge"
        case 8: "passthru"
        default: "mode \(rawValue)"
        }
    }
}

/// How the kernel makes an interface's IPv6 link-local address (`IN6_ADDR_GEN_MODE_*`,
/// linux/if_link.h; `ip link set NAME addrgenmode M`).
public struct IPv6AddressGenerationMode: RawRepresentable, Sendable, Hashable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// `IN6_ADDR_GEN_MODE_EUI64` (0): from the MAC address (the default).
    public static let eui64 = IPv6AddressGenerationMode(rawValue: 0)
    /// `IN6_ADDR_GEN_MODE_NONE` (1): no automatic link-local address.
    public static let none = IPv6AddressGenerationMode(rawValue: 1)
    /// `IN6_ADDR_GEN_MODE_STABLE_PRIVACY` (2).
    public static let stablePrivacy = IPv6AddressGenerationMode(rawValue: 2)
    /// `IN6_ADDR_GEN_MODE_RANDOM` (3).
    public static let random = IPv6AddressGenerationMode(rawValue: 3)
}

extension RouteNetlinkRequest {
    /// `RTM_NEWLINK` with `NLM_F_CREATE | NLM_F_EXCL`: creates a macvlan named `name` on the
    /// link with index `parentIndex`, as `ip link add link PARENT name NAME address MAC
    /// type macvlan mode MODE [up]` does: `IFLA_ADDRESS`, `IFLA_LINK`, `IFLA_IFNAME`, then
    /// `IFLA_LINKINFO` { `IFLA_INFO_KIND` "macvlan", `IFLA_INFO_DATA` { `IFLA_MACVLAN_MODE` } }.
    /// With `up`, `ifi_flags` and `ifi_change` carry `IFF_UP`.
    ///
    /// Nested attributes carry `NLA_F_NESTED` (iproute2 leaves it out; the kernel accepts both).
    public static func newMacvlan(named name: String, parentIndex: UInt32, address: MACAddress,
                                  mode: MacvlanMode = .private, up: Bool = false,
                                  into message: inout NetlinkMessageBuilder) {
        var header = ifinfomsg()
        if up {
            header.ifi_flags = MacvlanAttribute.interfaceUp
            header.ifi_change = MacvlanAttribute.interfaceUp
        }
        message.beginMessage(type: .newLink, flags: [.request, .acknowledge, .create, .exclusive])
        message.appendFamilyHeader(header)
        message.appendAttribute(LinkAttribute.address, bytes: address.bytes)
        message.appendAttribute(LinkAttribute.link, uint32: parentIndex)
        message.appendAttribute(LinkAttribute.name, string: name)
        let info = message.beginNestedAttribute(LinkAttribute.linkInfo)
        // NLA_STRING without the NUL in nla_len (the padding supplies one), as iproute2 sends it.
        message.appendAttribute(LinkAttribute.infoKind, bytes: Array("macvlan".utf8))
        let data = message.beginNestedAttribute(MacvlanAttribute.infoData)
        message.appendAttribute(MacvlanAttribute.mode, uint32: mode.rawValue)
        message.endNestedAttribute(data)
        message.endNestedAttribute(info)
        message.endMessage()
    }

    /// `RTM_DELLINK` for the link with index `index` (`ip link del NAME`).
    public static func deleteLink(index: UInt32, into message: inout NetlinkMessageBuilder) {
        var header = ifinfomsg()
        header.ifi_index = Int32(bitPattern: index)
        message.beginMessage(type: .deleteLink, flags: [.request, .acknowledge])
        message.appendFamilyHeader(header)
        message.endMessage()
    }

    /// `RTM_NEWLINK` changing only `IFF_UP` (`ip link set NAME up|down`).
    public static func setLink(index: UInt32, up: Bool, into message: inout NetlinkMessageBuilder) {
        var header = ifinfomsg()
        header.ifi_index = Int32(bitPattern: index)
        header.ifi_flags = up ? MacvlanAttribute.interfaceUp : 0
        header.ifi_change = MacvlanAttribute.interfaceUp
        message.beginMessage(type: .newLink, flags: [.request, .acknowledge])
        message.appendFamilyHeader(header)
        message.endMessage()
    }

    /// `RTM_NEWLINK` with `IFLA_AF_SPEC` { `AF_INET6` { `IFLA_INET6_ADDR_GEN_MODE` } }
    /// (`ip link set NAME addrgenmode none`). The kernel refuses it in a create request
    /// (`EAFNOSUPPORT`): send it once the link exists, before bringing it up.
    public static func setIPv6AddressGenerationMode(_ mode: IPv6AddressGenerationMode, index: UInt32,
                                                    into message: inout NetlinkMessageBuilder) {
        var header = ifinfomsg()
        header.ifi_index = Int32(bitPattern: index)
        message.beginMessage(type: .newLink, flags: [.request, .acknowledge])
        message.appendFamilyHeader(header)
        let spec = message.beginNestedAttribute(MacvlanAttribute.addressFamilySpecific)
        let inet6 = message.beginNestedAttribute(UInt16(AddressFamilyNumber.inet6))
        message.appendAttribute(MacvlanAttribute.inet6AddressGenerationMode, uint8: mode.rawValue)
        message.endNestedAttribute(inet6)
        message.endNestedAttribute(spec)
        message.endMessage()
    }
}
