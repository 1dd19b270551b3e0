import CNetLinux

/// A network interface as rtnetlink describes it (`RTM_NEWLINK`/`RTM_DELLINK`: an `ifinfomsg`
/// and `IFLA_*` attributes).
///
/// ```swift
/// let eth0 = try RouteNetlink().link(named: "eth0")
/// print(eth0.index, eth0.macAddress!, eth0.isUp, eth0.hasCarrier)   // 2 02:00:00:00:00:01 true true
/// ```
public struct LinkInfo: Sendable, Hashable, CustomStringConvertible {
    /// `ifi_index`.
    public var index: UInt32
    /// `IFLA_IFNAME`.
    public var name: String
    /// `IFLA_ADDRESS`: the hardware address as bytes (6 for Ethernet, other sizes for tunnels;
    /// empty when absent).
    public var hardwareAddress: [UInt8]
    /// `IFLA_MTU` (0 when absent).
    public var mtu: UInt32
    /// `ifi_flags`: `IFF_UP`, `IFF_RUNNING`, `IFF_LOWER_UP`, ...
    public var flags: InterfaceFlags
    /// `ifi_change`: which flags changed (in notifications; often all ones in dumps).
    public var changedFlags: InterfaceFlags
    /// `IFLA_OPERSTATE`: the RFC 2863 operational state.
    public var operationalState: OperationalState
    /// `IFLA_CARRIER` when present, else `IFF_LOWER_UP`.
    public var hasCarrier: Bool
    /// `IFLA_LINKINFO`/`IFLA_INFO_KIND`: the driver kind ("veth", "macvlan", "bridge", ...);
    /// `nil` for physical devices and loopback.
    public var kind: String?
    /// `ifi_type`: the `ARPHRD_*` hardware type (1 Ethernet, 772 loopback).
    public var hardwareType: UInt16
    /// `IFLA_LINK`: the index of the device this one sits on (a macvlan's parent, a veth's
    /// peer), if any. It may be an index in another namespace (`IFLA_LINK_NETNSID`).
    public var lowerIndex: UInt32?
    /// `IFLA_MASTER`: the bridge or bond this device is enslaved to, if any.
    public var masterIndex: UInt32?

    public init(index: UInt32, name: String, hardwareAddress: [UInt8] = [], mtu: UInt32 = 0, flags: InterfaceFlags = [],
                changedFlags: InterfaceFlags = [], operationalState: OperationalState = .unknown, hasCarrier: Bool = false,
                kind: String? = nil, hardwareType: UInt16 = 1, lowerIndex: UInt32? = nil, masterIndex: UInt32? = nil) {
        self.index = index
        self.name = name
        self.hardwareAddress = hardwareAddress
        self.mtu = mtu
        self.flags = flags
        self.changedFlags = changedFlags
        self.operationalState = operationalState
        self.hasCarrier = hasCarrier
        self.kind = kind
        self.hardwareType = hardwareType
        self.lowerIndex = lowerIndex
        self.masterIndex = masterIndex
    }

    /// The MAC address when the hardware address has 6 bytes.
    public var macAddress: MACAddress? { MACAddress(bytes: hardwareAddress) }

    /// Administratively up (`IFF_UP`, `ip link set NAME up`).
    public var isUp: Bool { flags.contains(.up) }

    /// Up and able to pass traffic: `IFF_UP` and `IFF_RUNNING` (operational state up or
    /// unknown). This is what VRRP treats as "the interface is up".
    public var isOperational: Bool { flags.contains(.up) && flags.contains(.running) }

    public var description: String {
        var s = "\(index): \(name)"
        if let kind { s += " (\(kind))" }
        if let mac = macAddress { s += " \(mac)" }
        s += " mtu \(mtu) \(isUp ? "up" : "down") carrier \(hasCarrier ? "on" : "off") state \(operationalState)"
        return s
    }

    /// Parses an `RTM_NEWLINK` or `RTM_DELLINK` message.
    /// - Throws: ``NetlinkParseError`` when the message is malformed or has no name.
    public init(parsing message: NetlinkMessage) throws(NetlinkParseError) {
        let header = try message.familyHeader(as: ifinfomsg.self)
        index = UInt32(bitPattern: header.ifi_index)
        hardwareType = header.ifi_type
        flags = InterfaceFlags(rawValue: header.ifi_flags)
        changedFlags = InterfaceFlags(rawValue: header.ifi_change)
        name = ""
        hardwareAddress = []
        mtu = 0
        operationalState = .unknown
        var carrier: Bool?
        var foundName = false
        var attributes = try message.attributes(afterFamilyHeaderOfSize: MemoryLayout<ifinfomsg>.size)
        while let a = try attributes.next() {
            switch a.type {
            case LinkAttribute.name:
                name = a.string()
                foundName = true
            case LinkAttribute.address:
                hardwareAddress = a.bytes
            case LinkAttribute.mtu:
                mtu = try a.uint32()
            case LinkAttribute.operationalState:
                operationalState = OperationalState(rawValue: try a.uint8())
            case LinkAttribute.carrier:
                carrier = try a.uint8() != 0
            case LinkAttribute.link:
                let lower = try a.uint32()
                if lower != 0 { lowerIndex = lower }
            case LinkAttribute.master:
                let master = try a.uint32()
                if master != 0 { masterIndex = master }
            case LinkAttribute.linkInfo:
                var info = a.nested
                while kind == nil, let i = try info.next() {
                    if i.type == LinkAttribute.infoKind { kind = i.string() }
                }
            default:
                break
            }
        }
        guard foundName else { throw .missingAttribute(type: LinkAttribute.name, in: "link message for index \(index)") }
        hasCarrier = carrier ?? flags.contains(.lowerUp)
    }
}
