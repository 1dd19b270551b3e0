import VRRPCore

/// What one VRRP socket is for: an interface, an address family, and the multicast groups
/// whose adverts it receives.
///
/// kad opens one socket per (interface, family) and shares it among all the virtual routers
/// on that interface; the engine picks the router by VRID. Use
/// ``sockets(for:receiveBufferSize:)`` to derive the set from the routers' configurations.
///
/// ```swift
/// let eth0 = VRRPSocketConfiguration(interface: "eth0", family: .ipv4)   // joins 224.0.0.18
/// let socket = try VRRPSocket(eth0)
/// ```
public struct VRRPSocketConfiguration: Sendable, Hashable, CustomStringConvertible {
    /// The interface the socket is bound to (`SO_BINDTODEVICE`) and sends on.
    public var interface: String
    /// IPv4 (VRRPv2 or v3) or IPv6 (VRRPv3).
    public var family: IPAddressFamily
    /// The multicast groups to join on ``interface``: 224.0.0.18 / ff02::12 by default, a
    /// `mcast_dst_ip` group, or none when every router on the interface is unicast.
    public var groups: [IPAddress]
    /// The receive buffer to ask for, in bytes (`SO_RCVBUFFORCE`, else `SO_RCVBUF`; the
    /// kernel doubles it for its bookkeeping). See ``defaultReceiveBufferSize``.
    public var receiveBufferSize: Int

    /// 1 MiB, which the kernel doubles to 2 MiB: room for about 2,500 queued adverts on a
    /// veth (each costs the socket 832 bytes of buffer there, measured), fewer where a NIC
    /// driver charges more per frame, so that a burst from many virtual routers is not
    /// dropped while the receive thread is busy. Drops are counted
    /// (``VRRPSocketStatistics/droppedByKernel``).
    public static let defaultReceiveBufferSize = 1 << 20

    /// - Parameters:
    ///   - interface: the interface name (`eth0`).
    ///   - family: the address family.
    ///   - groups: the multicast groups to join; `nil` means the family's VRRP group.
    ///   - receiveBufferSize: the receive buffer to ask for, in bytes.
    public init(interface: String, family: IPAddressFamily, groups: [IPAddress]? = nil,
                receiveBufferSize: Int = VRRPSocketConfiguration.defaultReceiveBufferSize) {
        self.interface = interface
        self.family = family
        self.groups = groups ?? [IPAddress.vrrpMulticastGroup(family)]
        self.receiveBufferSize = receiveBufferSize
    }

    /// "eth0 IPv4 (224.0.0.18)".
    public var description: String {
        "\(interface) \(family) (\(groups.isEmpty ? "unicast only" : groups.map(\.description).joined(separator: ", ")))"
    }

    /// The sockets a set of virtual routers needs: one per (interface, family), joined to
    /// the group of every multicast router on it (none when all of them are unicast), in the
    /// order the routers first name them.
    ///
    /// - Parameters:
    ///   - routers: the virtual routers' configurations.
    ///   - receiveBufferSize: the receive buffer of each socket.
    public static func sockets(for routers: [VirtualRouterConfiguration],
                               receiveBufferSize: Int = defaultReceiveBufferSize) -> [VRRPSocketConfiguration] {
        var out: [VRRPSocketConfiguration] = []
        var index: [VRRPSocketKey: Int] = [:]
        for r in routers {
            let key = VRRPSocketKey(interface: r.interface, family: r.family)
            let i: Int
            if let found = index[key] {
                i = found
            } else {
                i = out.count
                index[key] = i
                out.append(VRRPSocketConfiguration(interface: r.interface, family: r.family, groups: [],
                                                   receiveBufferSize: receiveBufferSize))
            }
            if r.isMulticast, !out[i].groups.contains(r.group) { out[i].groups.append(r.group) }
        }
        return out
    }
}

/// How sockets are found: by interface and family.
struct VRRPSocketKey: Hashable, Sendable {
    var interface: String
    var family: IPAddressFamily
}
