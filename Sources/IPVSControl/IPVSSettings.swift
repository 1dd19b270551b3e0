import VRRPCore

/// The connection timeouts IPVS applies (`IPVS_CMD_GET_CONFIG` / `IPVS_CMD_SET_CONFIG`), in
/// seconds. When setting, 0 leaves a timeout as it is.
public struct IPVSTimeouts: Sendable, Hashable, CustomStringConvertible {
    /// Established TCP connections (`IPVS_CMD_ATTR_TIMEOUT_TCP`; kernel default 900).
    public var tcp: UInt32
    /// TCP after a FIN (`IPVS_CMD_ATTR_TIMEOUT_TCP_FIN`; default 120).
    public var tcpFin: UInt32
    /// UDP (`IPVS_CMD_ATTR_TIMEOUT_UDP`; default 300).
    public var udp: UInt32

    public init(tcp: UInt32 = 0, tcpFin: UInt32 = 0, udp: UInt32 = 0) {
        self.tcp = tcp
        self.tcpFin = tcpFin
        self.udp = udp
    }

    /// `tcp 900 tcpfin 120 udp 300`.
    public var description: String { "tcp \(tcp) tcpfin \(tcpFin) udp \(udp)" }
}

/// What `IPVS_CMD_GET_INFO` says about the kernel's IPVS.
public struct IPVSInfo: Sendable, Hashable, CustomStringConvertible {
    /// `IPVS_INFO_ATTR_VERSION`: `0x010201` for 1.2.1.
    public var version: UInt32
    /// `IPVS_INFO_ATTR_CONN_TAB_SIZE`: the size of the connection hash table.
    public var connectionTableSize: UInt32

    public init(version: UInt32, connectionTableSize: UInt32) {
        self.version = version
        self.connectionTableSize = connectionTableSize
    }

    /// `1.2.1`.
    public var versionString: String { "\(version >> 16 & 0xFF).\(version >> 8 & 0xFF).\(version & 0xFF)" }

    /// `IP Virtual Server version 1.2.1 (size=4096)`, as ipvsadm's first line.
    public var description: String { "IP Virtual Server version \(versionString) (size=\(connectionTableSize))" }
}

/// An IPVS connection-synchronisation daemon (`IPVS_CMD_NEW_DAEMON`, `_DEL_DAEMON`,
/// `_GET_DAEMON`; keepalived's `lvs_sync_daemon`).
///
/// Optional fields are left to the kernel when `nil`; the kernel's listing fills them all in
/// (for example port 8848, TTL 1, group 224.0.0.81).
public struct IPVSSyncDaemon: Sendable, Hashable, CustomStringConvertible {
    /// Which side the daemon runs (`IP_VS_STATE_*`).
    public struct State: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// `IP_VS_STATE_MASTER` (1): sends connection updates.
        public static let master = State(rawValue: 1)
        /// `IP_VS_STATE_BACKUP` (2): receives them.
        public static let backup = State(rawValue: 2)
        /// `master`, `backup`.
        public var description: String {
            switch rawValue {
            case 1: "master"
            case 2: "backup"
            default: "state \(rawValue)"
            }
        }
    }

    /// `IPVS_DAEMON_ATTR_STATE`.
    public var state: State
    /// `IPVS_DAEMON_ATTR_MCAST_IFN`: the interface it sends or listens on (at most 15 bytes).
    public var interface: String
    /// `IPVS_DAEMON_ATTR_SYNC_ID`.
    public var syncID: UInt32
    /// `IPVS_DAEMON_ATTR_SYNC_MAXLEN`: the largest sync message payload.
    public var maximumLength: UInt16?
    /// `IPVS_DAEMON_ATTR_MCAST_GROUP` or `_GROUP6`: the multicast group (must be multicast).
    public var group: IPAddress?
    /// `IPVS_DAEMON_ATTR_MCAST_PORT`: the UDP port.
    public var port: UInt16?
    /// `IPVS_DAEMON_ATTR_MCAST_TTL`.
    public var ttl: UInt8?

    public init(state: State, interface: String, syncID: UInt32, maximumLength: UInt16? = nil, group: IPAddress? = nil,
                port: UInt16? = nil, ttl: UInt8? = nil) {
        self.state = state
        self.interface = interface
        self.syncID = syncID
        self.maximumLength = maximumLength
        self.group = group
        self.port = port
        self.ttl = ttl
    }

    /// `master sync daemon on dummy0 (sync id 5)`, with group, port, TTL and maximum length
    /// when known.
    public var description: String {
        var s = "\(state) sync daemon on \(interface) (sync id \(syncID)"
        if let group { s += ", group \(group)" }
        if let port { s += ", port \(port)" }
        if let ttl { s += ", ttl \(ttl)" }
        if let maximumLength { s += ", maxlen \(maximumLength)" }
        return s + ")"
    }
}
