/// A virtual address a MASTER installs (`virtual_ipaddress`, `virtual_ipaddress_excluded`).
///
/// VRRPCore only decides *when* an address is added or removed; the address plane
/// (NetLinux on Linux) decides *how*. The fields mirror what `ip address add` accepts.
public struct VirtualAddress: Sendable, Hashable, CustomStringConvertible {
    /// The address itself.
    public var address: IPAddress
    /// The prefix length (`/24`); 32 or 128 when the configuration names none.
    public var prefixLength: UInt8
    /// The interface to install on; `nil` means the virtual router's interface.
    public var interface: String?
    /// `brd`: the IPv4 broadcast address.
    public var broadcast: IPAddress?
    /// `peer`: the other end of a point-to-point address.
    public var peer: IPAddress?
    /// `scope` as the kernel number (0 global, 200 site, 253 link, 254 host, 255 nowhere).
    public var scope: UInt8?
    /// `label`: the IPv4 address label (`eth0:vip`).
    public var label: String?
    /// `nodad`, `noprefixroute`, `home`, `mngtmpaddr`, `autojoin`.
    public var flags: Flags
    /// `preferred_lft` in seconds; `nil` means forever.
    public var preferredLifetime: UInt32?

    /// Per-address flags (`ip address` keywords).
    public struct Flags: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// `nodad`: skip IPv6 duplicate address detection.
        public static let noDAD = Flags(rawValue: 1 << 0)
        /// `noprefixroute`: add no route for the prefix.
        public static let noPrefixRoute = Flags(rawValue: 1 << 1)
        /// `home`: a Mobile IPv6 home address.
        public static let home = Flags(rawValue: 1 << 2)
        /// `mngtmpaddr`: manage temporary addresses from this one.
        public static let manageTemporaryAddress = Flags(rawValue: 1 << 3)
        /// `autojoin`: join the multicast group of a multicast address.
        public static let autoJoin = Flags(rawValue: 1 << 4)
    }

    /// An address; the prefix length defaults to the full length of its family.
    public init(_ address: IPAddress, prefixLength: UInt8? = nil, interface: String? = nil,
                broadcast: IPAddress? = nil, peer: IPAddress? = nil, scope: UInt8? = nil,
                label: String? = nil, flags: Flags = [], preferredLifetime: UInt32? = nil) {
        self.address = address
        self.prefixLength = prefixLength ?? (address.family == .ipv4 ? 32 : 128)
        self.interface = interface
        self.broadcast = broadcast
        self.peer = peer
        self.scope = scope
        self.label = label
        self.flags = flags
        self.preferredLifetime = preferredLifetime
    }

    public var description: String {
        "\(address)/\(prefixLength)" + (interface.map { " dev \($0)" } ?? "")
    }
}

/// A route a MASTER installs (`virtual_routes`); the fields mirror `ip route add`.
public struct VirtualRoute: Sendable, Hashable, CustomStringConvertible {
    /// The kernel route type (RTN_*): unicast, blackhole, unreachable, prohibit, throw, ...
    public enum Kind: UInt8, Sendable, Hashable {
        case unicast = 1, local = 2, broadcast = 3, multicast = 5, blackhole = 6
        case unreachable = 7, prohibit = 8, throwRoute = 9, nat = 10
    }

    /// One `nexthop` of a multipath route.
    public struct Nexthop: Sendable, Hashable {
        /// `via`: the next hop's gateway.
        public var gateway: IPAddress?
        /// `dev`: the next hop's interface.
        public var interface: String?
        /// `weight` (1–256 on the wire as weight − 1).
        public var weight: UInt8?
        /// `onlink`: the gateway is on the link even without a matching prefix.
        public var onlink: Bool
        /// A next hop.
        public init(gateway: IPAddress? = nil, interface: String? = nil, weight: UInt8? = nil, onlink: Bool = false) {
            self.gateway = gateway
            self.interface = interface
            self.weight = weight
            self.onlink = onlink
        }
    }

    /// The route's address family.
    public var family: IPAddressFamily
    /// The route type (`blackhole`, `unreachable`, ...).
    public var kind: Kind
    /// `nil` for `default`.
    public var destination: IPAddress?
    /// The destination's prefix length (0 for `default`).
    public var destinationPrefixLength: UInt8
    /// `src`: the preferred source address.
    public var source: IPAddress?
    /// `via`: the gateway.
    public var gateway: IPAddress?
    /// `dev`: the output interface.
    public var interface: String?
    /// `table`, by number (main is 254).
    public var table: UInt32?
    /// `metric`.
    public var metric: UInt32?
    /// `scope` as the kernel number.
    public var scope: UInt8?
    /// `proto` as the kernel number.
    public var routingProtocol: UInt8?
    /// `onlink`.
    public var onlink: Bool
    /// `nexthop` entries of a multipath route.
    public var nexthops: [Nexthop]

    /// A route; every option defaults to what `ip route add` assumes.
    public init(family: IPAddressFamily, kind: Kind = .unicast, destination: IPAddress?, prefixLength: UInt8,
                source: IPAddress? = nil, gateway: IPAddress? = nil, interface: String? = nil,
                table: UInt32? = nil, metric: UInt32? = nil, scope: UInt8? = nil, routingProtocol: UInt8? = nil,
                onlink: Bool = false, nexthops: [Nexthop] = []) {
        self.family = family
        self.kind = kind
        self.destination = destination
        self.destinationPrefixLength = prefixLength
        self.source = source
        self.gateway = gateway
        self.interface = interface
        self.table = table
        self.metric = metric
        self.scope = scope
        self.routingProtocol = routingProtocol
        self.onlink = onlink
        self.nexthops = nexthops
    }

    public var description: String {
        var s = destination.map { "\($0)/\(destinationPrefixLength)" } ?? "default"
        if let g = gateway { s += " via \(g)" }
        if let i = interface { s += " dev \(i)" }
        if let t = table { s += " table \(t)" }
        return s
    }
}

/// A policy-routing rule a MASTER installs (`virtual_rules`); the fields mirror `ip rule add`.
public struct VirtualRule: Sendable, Hashable, CustomStringConvertible {
    /// The rule action (FR_ACT_*).
    public enum Action: UInt8, Sendable, Hashable {
        case lookup = 1, goto = 2, noop = 3, blackhole = 6, unreachable = 7, prohibit = 8
    }

    /// The rule's address family.
    public var family: IPAddressFamily
    /// What a match does.
    public var action: Action
    /// `from`: the source prefix (`nil`: all).
    public var from: IPAddress?
    /// The `from` prefix length.
    public var fromPrefixLength: UInt8
    /// `to`: the destination prefix.
    public var to: IPAddress?
    /// The `to` prefix length.
    public var toPrefixLength: UInt8
    /// `table`, by number.
    public var table: UInt32?
    /// `priority` / `preference`: the rule's position.
    public var priority: UInt32?
    /// `fwmark`.
    public var firewallMark: UInt32?
    /// The `fwmark` mask.
    public var firewallMask: UInt32?
    /// `iif`.
    public var inputInterface: String?
    /// `oif`.
    public var outputInterface: String?
    /// `tos`.
    public var tos: UInt8?
    /// `goto`: the target rule priority.
    public var gotoTarget: UInt32?
    /// `not`: invert the match.
    public var invert: Bool

    /// A rule; every option defaults to what `ip rule add` assumes.
    public init(family: IPAddressFamily, action: Action = .lookup, from: IPAddress? = nil, fromPrefixLength: UInt8 = 0,
                to: IPAddress? = nil, toPrefixLength: UInt8 = 0, table: UInt32? = nil, priority: UInt32? = nil,
                firewallMark: UInt32? = nil, firewallMask: UInt32? = nil, inputInterface: String? = nil,
                outputInterface: String? = nil, tos: UInt8? = nil, gotoTarget: UInt32? = nil, invert: Bool = false) {
        self.family = family
        self.action = action
        self.from = from
        self.fromPrefixLength = fromPrefixLength
        self.to = to
        self.toPrefixLength = toPrefixLength
        self.table = table
        self.priority = priority
        self.firewallMark = firewallMark
        self.firewallMask = firewallMask
        self.inputInterface = inputInterface
        self.outputInterface = outputInterface
        self.tos = tos
        self.gotoTarget = gotoTarget
        self.invert = invert
    }

    public var description: String {
        var s = invert ? "not " : ""
        s += "from " + (from.map { "\($0)/\(fromPrefixLength)" } ?? "all")
        if let t = to { s += " to \(t)/\(toPrefixLength)" }
        if let t = table { s += " table \(t)" }
        return s
    }
}
