/// Counters of a service or real server (`IPVS_SVC_ATTR_STATS64` / `IPVS_DEST_ATTR_STATS64`,
/// or the 32-bit `..._STATS` from kernels without the 64-bit nest). Read only.
public struct IPVSStatistics: Sendable, Hashable {
    /// Connections scheduled.
    public var connections: UInt64 = 0
    /// Packets in and out.
    public var incomingPackets: UInt64 = 0
    public var outgoingPackets: UInt64 = 0
    /// Bytes in and out.
    public var incomingBytes: UInt64 = 0
    public var outgoingBytes: UInt64 = 0
    /// The current rates: connections, packets and bytes per second.
    public var connectionRate: UInt64 = 0
    public var incomingPacketRate: UInt64 = 0
    public var outgoingPacketRate: UInt64 = 0
    public var incomingByteRate: UInt64 = 0
    public var outgoingByteRate: UInt64 = 0

    public init() {}
}

/// A service as the kernel lists it: its configuration and its counters.
public struct IPVSServiceEntry: Sendable, Hashable, CustomStringConvertible {
    /// The configuration. Its flags include ``IPVSServiceFlags/hashed``, which the kernel
    /// sets on every service in its table.
    public var service: IPVSService
    /// The counters.
    public var statistics: IPVSStatistics

    public init(service: IPVSService, statistics: IPVSStatistics = IPVSStatistics()) {
        self.service = service
        self.statistics = statistics
    }

    public var description: String { service.description }
}

/// A real server as the kernel lists it: its configuration, connection counts and counters.
public struct IPVSDestinationEntry: Sendable, Hashable, CustomStringConvertible {
    public var destination: IPVSDestination
    /// `IPVS_DEST_ATTR_ACTIVE_CONNS`.
    public var activeConnections: UInt32
    /// `IPVS_DEST_ATTR_INACT_CONNS`.
    public var inactiveConnections: UInt32
    /// `IPVS_DEST_ATTR_PERSIST_CONNS`.
    public var persistentConnections: UInt32
    public var statistics: IPVSStatistics

    public init(destination: IPVSDestination, activeConnections: UInt32 = 0, inactiveConnections: UInt32 = 0,
                persistentConnections: UInt32 = 0, statistics: IPVSStatistics = IPVSStatistics()) {
        self.destination = destination
        self.activeConnections = activeConnections
        self.inactiveConnections = inactiveConnections
        self.persistentConnections = persistentConnections
        self.statistics = statistics
    }

    /// `-> 198.51.100.2:80 Masq 1 0 0`: ipvsadm's columns (forward, weight, active, inactive).
    public var description: String {
        "-> \(destination.endpoint) \(destination.forwarding) \(destination.weight) \(activeConnections) \(inactiveConnections)"
    }
}
