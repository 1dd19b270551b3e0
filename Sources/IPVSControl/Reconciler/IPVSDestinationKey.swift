import VRRPCore

/// What identifies a real server within its service: its address and port (the kernel's
/// lookup key for `IPVS_CMD_SET_DEST` and `IPVS_CMD_DEL_DEST`).
public struct IPVSDestinationKey: Sendable, Hashable, CustomStringConvertible {
    public var address: IPAddress
    public var port: UInt16

    public init(address: IPAddress, port: UInt16) {
        self.address = address
        self.port = port
    }

    /// `198.51.100.2:80`, `[2001:db8::2]:80`.
    public var description: String { IPVSEndpoint(address, port).description }
}

extension IPVSDestination {
    /// The destination's address and port.
    public var key: IPVSDestinationKey { IPVSDestinationKey(address: address, port: port) }

    /// The destination as the kernel will hold it in `service`: for direct routing and
    /// tunnelling behind an address/port service the port is the service's (the kernel
    /// forces it), and the tunnel fields of a destination that is not tunnelled are the
    /// kernel's zeros. Comparing normalized destinations is what keeps a plan idempotent.
    public func normalized(in service: IPVSService.Key) -> IPVSDestination {
        var d = self
        if case let .address(_, _, servicePort) = service,
           forwarding == .directRouting || forwarding == .tunnel {
            d.port = servicePort
        }
        if forwarding != .tunnel {
            d.tunnelType = .ipip
            d.tunnelPort = 0
            d.tunnelFlags = []
        } else if tunnelType != .gue {
            d.tunnelPort = 0
        }
        return d
    }
}

extension IPVSService {
    /// The service as the kernel lists it, for comparison: without ``IPVSServiceFlags/hashed``
    /// (set by the kernel on every service it holds).
    public var normalized: IPVSService {
        var s = self
        s.flags.remove(.hashed)
        return s
    }
}
