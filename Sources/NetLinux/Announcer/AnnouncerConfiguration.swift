import VRRPCore

/// The least time between two announcements of one kind on one interface (or one
/// ``AnnouncementGroup``): keepalived's `garp_interval` and `gna_interval`.
///
/// Zero (keepalived's default) sends a whole burst at once.
public struct AnnouncementPacing: Sendable, Hashable, CustomStringConvertible {
    /// Between two gratuitous ARPs (`vrrp_garp_interval` / `garp_interval`).
    public var garpInterval: Duration
    /// Between two unsolicited neighbour advertisements (`vrrp_gna_interval` / `gna_interval`).
    public var gnaInterval: Duration

    public init(garpInterval: Duration = .zero, gnaInterval: Duration = .zero) {
        self.garpInterval = garpInterval
        self.gnaInterval = gnaInterval
    }

    /// No pacing: keepalived's default.
    public static let unpaced = AnnouncementPacing()

    /// The interval for announcements of `kind`.
    public func interval(for kind: AnnouncementKind) -> Duration {
        switch kind {
        case .gratuitousARP: garpInterval
        case .neighborAdvertisement: gnaInterval
        }
    }

    public var description: String { "garp_interval \(garpInterval) gna_interval \(gnaInterval)" }
}

/// keepalived's `garp_group { garp_interval T; gna_interval T; interface IF | interfaces { … } }`:
/// interfaces that share **one** pacing budget, for example the ports towards one switch
/// that throttles gratuitous ARPs. Two GARPs on two interfaces of a group are
/// ``AnnouncementPacing/garpInterval`` apart, as if they left one interface.
public struct AnnouncementGroup: Sendable, Hashable {
    public var pacing: AnnouncementPacing
    public var interfaces: [String]

    public init(pacing: AnnouncementPacing, interfaces: [String]) {
        self.pacing = pacing
        self.interfaces = interfaces
    }
}

/// The source MAC of the announcements on one interface: the Ethernet source, the ARP
/// sender hardware address, and the NA's target link-layer address option.
public enum AnnouncementHardwareAddress: Sendable, Hashable {
    /// The interface's own address, read when a burst starts (`SIOCGIFHWADDR`).
    /// On a `use_vmac` interface that already is the virtual MAC.
    case interface
    /// The VRRP virtual MAC of the announcing router: 00:00:5e:00:01:VRID for IPv4
    /// addresses, 00:00:5e:00:02:VRID for IPv6 (RFC 5798 §7.3; errata 7947/7949).
    case virtualRouter
    /// A given address.
    case fixed(MACAddress)
}

/// The kinds of announcement.
public enum AnnouncementKind: String, Sendable, Hashable, CaseIterable {
    /// A gratuitous ARP, for an IPv4 address.
    case gratuitousARP = "gratuitous ARP"
    /// An unsolicited neighbour advertisement, for an IPv6 address.
    case neighborAdvertisement = "unsolicited neighbour advertisement"

    /// The name with its indefinite article: "a gratuitous ARP", "an unsolicited neighbour advertisement".
    public var withArticle: String { self == .gratuitousARP ? "a \(rawValue)" : "an \(rawValue)" }

    /// The kind that announces `address`.
    public init(for address: IPAddress) {
        self = address.family == .ipv4 ? .gratuitousARP : .neighborAdvertisement
    }

    /// ``EthernetHeader/arp`` or ``EthernetHeader/ipv6``.
    public var etherType: UInt16 { self == .gratuitousARP ? EthernetHeader.arp : EthernetHeader.ipv6 }
    /// Broadcast for ARP, 33:33:00:00:00:01 (ff02::1) for NAs.
    public var destination: MACAddress {
        self == .gratuitousARP ? .broadcast : .multicast(for: UnsolicitedNeighborAdvertisement.allNodes)
    }
}

/// How ``LinuxAnnouncer`` paces and addresses announcements.
///
/// ```swift
/// var configuration = AnnouncerConfiguration()
/// configuration.pacing = AnnouncementPacing(garpInterval: .milliseconds(10))      // vrrp_garp_interval 0.01
/// configuration.groups = [AnnouncementGroup(pacing: AnnouncementPacing(garpInterval: .milliseconds(100)),
///                                           interfaces: ["eth1", "eth2"])]          // garp_group
/// configuration.hardwareAddresses["vrrp.51"] = .virtualRouter                          // use_vmac
/// ```
public struct AnnouncerConfiguration: Sendable, Hashable {
    /// Pacing of the interfaces that no group names (`vrrp_garp_interval`, `vrrp_gna_interval`).
    public var pacing: AnnouncementPacing
    /// Pacing of single interfaces, over ``pacing`` (for a per-instance interval on its interface).
    public var interfacePacing: [String: AnnouncementPacing]
    /// `garp_group` blocks. An interface named by several groups belongs to the first.
    public var groups: [AnnouncementGroup]
    /// Source MACs per interface; unnamed interfaces use ``AnnouncementHardwareAddress/interface``.
    public var hardwareAddresses: [String: AnnouncementHardwareAddress]
    /// How long a reading of an interface's IPv6 `forwarding` sysctl is trusted (keepalived: 5 s).
    public var forwardingRecheckInterval: Duration

    public init(pacing: AnnouncementPacing = .unpaced, interfacePacing: [String: AnnouncementPacing] = [:],
                groups: [AnnouncementGroup] = [], hardwareAddresses: [String: AnnouncementHardwareAddress] = [:],
                forwardingRecheckInterval: Duration = .seconds(5)) {
        self.pacing = pacing
        self.interfacePacing = interfacePacing
        self.groups = groups
        self.hardwareAddresses = hardwareAddresses
        self.forwardingRecheckInterval = forwardingRecheckInterval
    }

    /// What shares one pacing budget: an interface, or a group.
    public enum PacingScope: Sendable, Hashable, CustomStringConvertible {
        case interface(String)
        /// The index in ``AnnouncerConfiguration/groups``.
        case group(Int)

        public var description: String {
            switch self {
            case .interface(let name): name
            case .group(let i): "garp_group #\(i + 1)"
            }
        }
    }

    /// The scope `interface` is paced in and its pacing: its group's, else its own, else ``pacing``.
    public func pacing(for interface: String) -> (scope: PacingScope, pacing: AnnouncementPacing) {
        if let g = groups.firstIndex(where: { $0.interfaces.contains(interface) }) { return (.group(g), groups[g].pacing) }
        return (.interface(interface), interfacePacing[interface] ?? pacing)
    }

    /// The pacing of `scope` now (``pacing`` for a group that no longer exists).
    func pacing(of scope: PacingScope) -> AnnouncementPacing {
        switch scope {
        case .interface(let name): pacing(for: name).scope == scope ? pacing(for: name).pacing : pacing
        case .group(let g): g < groups.count ? groups[g].pacing : pacing
        }
    }

    /// The MAC to announce `address` with on `interface` for router `virtualRouterID`;
    /// `interfaceMAC` is the interface's own.
    public func hardwareAddress(for address: IPAddress, on interface: String, virtualRouterID: UInt8,
                                interfaceMAC: MACAddress) -> MACAddress {
        switch hardwareAddresses[interface] ?? .interface {
        case .interface: interfaceMAC
        case .virtualRouter: .virtualRouterMAC(family: address.family, vrid: virtualRouterID)
        case .fixed(let mac): mac
        }
    }
}
