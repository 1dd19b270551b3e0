import CNetLinux
import VRRPCore

/// The interface indices a route refers to, resolved by the caller: the route's own
/// `dev` and one entry per `nexthop`.
public struct RouteInterfaceIndices: Sendable, Hashable {
    /// The index of ``VirtualRoute/interface`` (`RTA_OIF`), if it names one.
    public var interface: UInt32?
    /// The index of each nexthop's interface, in order (`nil` for a nexthop without `dev`).
    public var nexthops: [UInt32?]

    public init(interface: UInt32? = nil, nexthops: [UInt32?] = []) {
        self.interface = interface
        self.nexthops = nexthops
    }
}

extension RouteNetlinkRequest {
    /// `RTM_NEWROUTE`: adds `route` as `ip route add` does (`NLM_F_CREATE | NLM_F_EXCL`).
    ///
    /// Defaults are iproute2's:
    /// - table main (254) unless given; a table above 255 goes in `RTA_TABLE` with `rtm_table`
    ///   `RT_TABLE_UNSPEC`, a smaller one in `rtm_table` only;
    /// - protocol `RTPROT_BOOT` (3) unless given;
    /// - scope: the given one; else for IPv4 host for `local`/`nat`, link for
    ///   `broadcast`/`multicast`, link for a unicast route with neither gateway nor nexthops
    ///   (a device route), universe otherwise; IPv6 always universe;
    /// - `onlink` sets `RTNH_F_ONLINK` in `rtm_flags` (and per nexthop in `rtnh_flags`).
    ///
    /// Attributes go in iproute2's order: `RTA_DST`, `RTA_GATEWAY`, `RTA_TABLE`,
    /// `RTA_PRIORITY`, `RTA_PREFSRC`, `RTA_OIF`, `RTA_MULTIPATH`. The caller checks the route
    /// first with ``problem(with:indices:)``.
    public static func newRoute(_ route: VirtualRoute, indices: RouteInterfaceIndices,
                                into message: inout NetlinkMessageBuilder) {
        var header = routeHeader(route)
        header.rtm_protocol = route.routingProtocol ?? RouteAttribute.protocolBoot
        header.rtm_scope = route.scope ?? defaultRouteScope(route)
        message.beginMessage(type: .newRoute, flags: [.request, .acknowledge, .create, .exclusive])
        message.appendFamilyHeader(header)
        appendRouteAttributes(route, indices: indices, into: &message)
        message.endMessage()
    }

    /// `RTM_DELROUTE`: deletes `route` as `ip route del` does. The kernel deletes the first
    /// route that matches every field given, so fields left out act as wildcards:
    /// - scope `RT_SCOPE_NOWHERE` (any) for IPv4 unless given (IPv6 ignores the scope: 0);
    /// - protocol 0 (any) unless given;
    /// - the type is the route's kind (iproute2 sends `RTN_UNSPEC`, any, for a plain unicast
    ///   route; naming the kind keeps a delete from removing, say, a blackhole route to the
    ///   same prefix).
    public static func deleteRoute(_ route: VirtualRoute, indices: RouteInterfaceIndices,
                                   into message: inout NetlinkMessageBuilder) {
        var header = routeHeader(route)
        header.rtm_protocol = route.routingProtocol ?? 0
        header.rtm_scope = route.scope ?? (route.family == .ipv4 ? RouteAttribute.scopeNowhere : RouteAttribute.scopeUniverse)
        message.beginMessage(type: .deleteRoute, flags: [.request, .acknowledge])
        message.appendFamilyHeader(header)
        appendRouteAttributes(route, indices: indices, into: &message)
        message.endMessage()
    }

    /// What is wrong with `route`, or `nil`: addresses of another family, a prefix too long,
    /// a destination with host bits set, a nexthop weight of 0, indices that do not match
    /// the nexthops, or a gateway or nexthops on a route type that cannot have them.
    public static func problem(with route: VirtualRoute, indices: RouteInterfaceIndices? = nil) -> String? {
        let family = route.family
        let bits = family.addressSize * 8
        if Int(route.destinationPrefixLength) > bits {
            return "prefix length \(route.destinationPrefixLength) is too long for an \(family) route"
        }
        if let destination = route.destination {
            if destination.family != family { return "destination \(destination) is not an \(family) address" }
            if hasHostBits(destination, prefixLength: route.destinationPrefixLength) {
                return "destination \(destination)/\(route.destinationPrefixLength) has host bits set"
            }
        } else if route.destinationPrefixLength != 0 {
            return "a default route has prefix length 0"
        }
        for (what, address) in [("source", route.source), ("gateway", route.gateway)] {
            if let address, address.family != family { return "\(what) \(address) is not an \(family) address" }
        }
        if let table = route.table, table == 0 { return "table 0 is not a routing table" }
        let gatewayless: Set<VirtualRoute.Kind> = [.blackhole, .unreachable, .prohibit, .throwRoute]
        if gatewayless.contains(route.kind), route.gateway != nil || !route.nexthops.isEmpty || route.interface != nil {
            return "a \(kindName(route.kind)) route has no gateway, nexthop or device"
        }
        for (i, hop) in route.nexthops.enumerated() {
            if let gateway = hop.gateway, gateway.family != family { return "nexthop \(i + 1): gateway \(gateway) is not an \(family) address" }
            if hop.weight == 0 { return "nexthop \(i + 1): weight must be 1 to 255" }
            if hop.gateway == nil && hop.interface == nil { return "nexthop \(i + 1) has neither gateway nor device" }
        }
        if let indices, indices.nexthops.count != route.nexthops.count {
            return "\(indices.nexthops.count) nexthop interface indices for \(route.nexthops.count) nexthops"
        }
        return nil
    }

    /// `ip route` words for a route type.
    static func kindName(_ kind: VirtualRoute.Kind) -> String {
        switch kind {
        case .unicast: "unicast"
        case .local: "local"
        case .broadcast: "broadcast"
        case .multicast: "multicast"
        case .blackhole: "blackhole"
        case .unreachable: "unreachable"
        case .prohibit: "prohibit"
        case .throwRoute: "throw"
        case .nat: "nat"
        }
    }

    // MARK: Private

    /// The `rtmsg` fields add and delete share: family, prefix length, table, type, flags.
    private static func routeHeader(_ route: VirtualRoute) -> rtmsg {
        var header = rtmsg()
        header.rtm_family = familyNumber(route.family)
        header.rtm_dst_len = route.destination == nil ? 0 : route.destinationPrefixLength
        let table = route.table ?? UInt32(RouteAttribute.tableMain)
        header.rtm_table = table < 256 ? UInt8(table) : RouteAttribute.tableUnspecified
        header.rtm_type = route.kind.rawValue
        header.rtm_flags = route.onlink ? UInt32(RouteAttribute.nexthopOnlink) : 0
        return header
    }

    /// iproute2's default scope (see ``newRoute(_:indices:into:)``).
    static func defaultRouteScope(_ route: VirtualRoute) -> UInt8 {
        guard route.family == .ipv4 else { return RouteAttribute.scopeUniverse }
        switch route.kind {
        case .local, .nat: return RouteAttribute.scopeHost
        case .broadcast, .multicast: return RouteAttribute.scopeLink
        case .unicast: return route.gateway == nil && route.nexthops.isEmpty ? RouteAttribute.scopeLink : RouteAttribute.scopeUniverse
        default: return RouteAttribute.scopeUniverse
        }
    }

    private static func appendRouteAttributes(_ route: VirtualRoute, indices: RouteInterfaceIndices,
                                              into message: inout NetlinkMessageBuilder) {
        if let destination = route.destination { message.appendAttribute(RouteAttribute.destination, address: destination) }
        if let gateway = route.gateway { message.appendAttribute(RouteAttribute.gateway, address: gateway) }
        if let table = route.table, table > 255 { message.appendAttribute(RouteAttribute.table, uint32: table) }
        if let metric = route.metric { message.appendAttribute(RouteAttribute.priority, uint32: metric) }
        if let source = route.source { message.appendAttribute(RouteAttribute.preferredSource, address: source) }
        if let index = indices.interface { message.appendAttribute(RouteAttribute.outputInterface, uint32: index) }
        if !route.nexthops.isEmpty {
            message.appendAttribute(RouteAttribute.multipath, bytes: multipathPayload(route.nexthops, indices: indices.nexthops))
        }
    }

    /// The value of `RTA_MULTIPATH`: per nexthop a `struct rtnexthop` (`rtnh_len` covering its
    /// attributes, `rtnh_flags`, `rtnh_hops` = weight − 1, `rtnh_ifindex`) followed by
    /// `RTA_GATEWAY` when the nexthop has a gateway.
    static func multipathPayload(_ nexthops: [VirtualRoute.Nexthop], indices: [UInt32?]) -> [UInt8] {
        var bytes: [UInt8] = []
        func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value) { bytes.append(contentsOf: $0) } }
        for (i, hop) in nexthops.enumerated() {
            let gatewaySize = hop.gateway.map { 4 + $0.family.addressSize } ?? 0
            append(UInt16(8 + netlinkAligned(gatewaySize)))                         // rtnh_len
            append(hop.onlink ? RouteAttribute.nexthopOnlink : 0)                    // rtnh_flags
            append(UInt8((hop.weight ?? 1) &- 1))                                    // rtnh_hops
            append(Int32(bitPattern: (i < indices.count ? indices[i] : nil) ?? 0))   // rtnh_ifindex
            if let gateway = hop.gateway {
                append(UInt16(gatewaySize))                                          // nla_len
                append(RouteAttribute.gateway)                                       // nla_type
                bytes.append(contentsOf: gateway.bytes)
                while bytes.count % 4 != 0 { bytes.append(0) }
            }
        }
        return bytes
    }

    /// Whether `address` has bits set beyond its first `prefixLength` bits.
    static func hasHostBits(_ address: IPAddress, prefixLength: UInt8) -> Bool {
        let bytes = address.bytes
        var remaining = Int(prefixLength)
        for byte in bytes {
            if remaining >= 8 {
                remaining -= 8
                continue
            }
            let mask: UInt8 = remaining == 0 ? 0 : ~(0xFF >> UInt8(remaining))
            if byte & ~mask != 0 { return true }
            remaining = 0
        }
        return false
    }
}
