import VRRPCore

/// A real server of an IPVS service (a "destination"): its address, how packets reach it,
/// its weight and connection thresholds, and for tunnelling the encapsulation.
///
/// The address family may differ from the service's only with ``IPVSForwardingMethod/tunnel``
/// (and while no sync daemon runs): the kernel refuses other mixes with `EINVAL`.
///
/// ```swift
/// let rs = IPVSDestination(address: IPAddress("198.51.100.2")!, port: 80, forwarding: .masquerade, weight: 1)
/// print(rs)    // -> 198.51.100.2:80 Masq 1
/// var gue = IPVSDestination(address: IPAddress("198.51.100.3")!, port: 80, forwarding: .tunnel)
/// gue.tunnelType = .gue
/// gue.tunnelPort = 6080
/// ```
public struct IPVSDestination: Sendable, Hashable, CustomStringConvertible {
    /// The real server's address (`IPVS_DEST_ATTR_ADDR`, with `IPVS_DEST_ATTR_ADDR_FAMILY`).
    public var address: IPAddress
    /// The real server's port (`IPVS_DEST_ATTR_PORT`). The kernel forces it to the service's
    /// port for direct routing and tunnelling of non-fwmark services.
    public var port: UInt16
    /// How packets reach it (`IPVS_DEST_ATTR_FWD_METHOD`).
    public var forwarding: IPVSForwardingMethod
    /// The weight (`IPVS_DEST_ATTR_WEIGHT`); 0 takes the server out of scheduling while
    /// existing connections drain. At most `Int32.max`.
    public var weight: UInt32
    /// Stop sending new connections above this many (`IPVS_DEST_ATTR_U_THRESH`; 0: no limit).
    public var upperThreshold: UInt32
    /// Resume below this many (`IPVS_DEST_ATTR_L_THRESH`; 0: the kernel's default of 3/4 of
    /// the upper threshold).
    public var lowerThreshold: UInt32
    /// The tunnel encapsulation (`IPVS_DEST_ATTR_TUN_TYPE`), for ``IPVSForwardingMethod/tunnel``.
    public var tunnelType: IPVSTunnelType
    /// The GUE destination port (`IPVS_DEST_ATTR_TUN_PORT`, network order on the wire);
    /// required by the kernel for ``IPVSTunnelType/gue``.
    public var tunnelPort: UInt16
    /// Checksum options for GUE and GRE (`IPVS_DEST_ATTR_TUN_FLAGS`); empty means `nocsum`.
    public var tunnelFlags: IPVSTunnelFlags

    public init(address: IPAddress, port: UInt16, forwarding: IPVSForwardingMethod = .masquerade, weight: UInt32 = 1,
                upperThreshold: UInt32 = 0, lowerThreshold: UInt32 = 0, tunnelType: IPVSTunnelType = .ipip,
                tunnelPort: UInt16 = 0, tunnelFlags: IPVSTunnelFlags = []) {
        self.address = address
        self.port = port
        self.forwarding = forwarding
        self.weight = weight
        self.upperThreshold = upperThreshold
        self.lowerThreshold = lowerThreshold
        self.tunnelType = tunnelType
        self.tunnelPort = tunnelPort
        self.tunnelFlags = tunnelFlags
    }

    /// The address family of ``address``.
    public var family: IPAddressFamily { address.family }

    /// `198.51.100.2:80` or `[2001:db8::2]:80`.
    public var endpoint: String { IPVSEndpoint(address, port).description }

    /// The destination as ipvsadm lists it, without the counters:
    /// `-> 198.51.100.2:80 Masq 1`, with `uthreshold 100 lthreshold 10` when set and the
    /// tunnel as `ipvsadm --tun-info` shows it (`gue:6080:-c`, `gre:+c`, `gre:r+c`, `ipip`).
    public var description: String {
        var s = "-> \(endpoint) \(forwarding) \(weight)"
        if upperThreshold != 0 || lowerThreshold != 0 { s += " uthreshold \(upperThreshold) lthreshold \(lowerThreshold)" }
        if forwarding == .tunnel { s += " \(tunnelDescription)" }
        return s
    }

    /// The tunnel as `ipvsadm --tun-info` (1.31) shows it: `ipip`, `gue:6080:-c` (nocsum),
    /// `gre:+c` (csum), `gre:r+c` (remcsum).
    public var tunnelDescription: String {
        var s = tunnelType.description
        if tunnelType == .gue { s += ":\(tunnelPort)" }
        if tunnelType == .gue || tunnelType == .gre {
            if tunnelFlags.contains(.remoteChecksum) { s += ":r+c" }
            else if tunnelFlags.contains(.checksum) { s += ":+c" }
            else { s += ":-c" }
        }
        return s
    }
}

/// How IPVS forwards to a real server (`IP_VS_CONN_F_FWD_MASK` bits of the connection flags).
public struct IPVSForwardingMethod: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// `IP_VS_CONN_F_MASQ` (0): NAT (keepalived `NAT`, ipvsadm `-m`, listed `Masq`).
    public static let masquerade = IPVSForwardingMethod(rawValue: 0)
    /// `IP_VS_CONN_F_LOCALNODE` (1): the service is local (listed `Local`).
    public static let local = IPVSForwardingMethod(rawValue: 1)
    /// `IP_VS_CONN_F_TUNNEL` (2): IP tunnelling (keepalived `TUN`, `-i`, listed `Tunnel`).
    public static let tunnel = IPVSForwardingMethod(rawValue: 2)
    /// `IP_VS_CONN_F_DROUTE` (3): direct routing (keepalived `DR`, `-g`, listed `Route`).
    public static let directRouting = IPVSForwardingMethod(rawValue: 3)
    /// `IP_VS_CONN_F_BYPASS` (4): cache bypass (listed `Bypass`).
    public static let bypass = IPVSForwardingMethod(rawValue: 4)

    /// ipvsadm's word: `Masq`, `Local`, `Tunnel`, `Route`, `Bypass`.
    public var description: String {
        switch rawValue {
        case 0: "Masq"
        case 1: "Local"
        case 2: "Tunnel"
        case 3: "Route"
        case 4: "Bypass"
        default: "Unknown(\(rawValue))"
        }
    }
}

/// The encapsulation of a tunnelled real server (`IP_VS_CONN_F_TUNNEL_TYPE_*`).
public struct IPVSTunnelType: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// `IP_VS_CONN_F_TUNNEL_TYPE_IPIP` (0): IP in IP, the default.
    public static let ipip = IPVSTunnelType(rawValue: 0)
    /// `IP_VS_CONN_F_TUNNEL_TYPE_GUE` (1): generic UDP encapsulation (Linux 5.2+; needs a port).
    public static let gue = IPVSTunnelType(rawValue: 1)
    /// `IP_VS_CONN_F_TUNNEL_TYPE_GRE` (2): GRE (Linux 5.3+).
    public static let gre = IPVSTunnelType(rawValue: 2)

    /// `ipip`, `gue`, `gre`.
    public var description: String {
        switch rawValue {
        case 0: "ipip"
        case 1: "gue"
        case 2: "gre"
        default: "tunnel type \(rawValue)"
        }
    }
}

/// Checksum options of a GUE or GRE tunnel (`IP_VS_TUNNEL_ENCAP_FLAG_*`). The empty set is
/// `IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM` (keepalived `nocsum`).
public struct IPVSTunnelFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// `IP_VS_TUNNEL_ENCAP_FLAG_CSUM` (1): checksum the encapsulation (`csum`).
    public static let checksum = IPVSTunnelFlags(rawValue: 1 << 0)
    /// `IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM` (2): remote checksum offload (`remcsum`).
    public static let remoteChecksum = IPVSTunnelFlags(rawValue: 1 << 1)
}
