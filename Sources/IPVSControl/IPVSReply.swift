import NetLinux
import VRRPCore

// Decoders for the replies of the kernel's IPVS family. Each takes a GenericNetlinkMessage
// (a view of received bytes) and checks the command, the attribute framing, the sizes of the
// values it reads, and the attributes it needs.

/// Reads the attributes of one level into a table by type (the last one of a type wins, as
/// the kernel's nla_parse does), checking the framing.
struct IPVSAttributeTable {
    private var table: [UInt16: NetlinkAttribute] = [:]
    let container: String

    init(_ reader: NetlinkAttributeReader, container: String) throws(IPVSDecodingError) {
        self.container = container
        var reader = reader
        do throws(NetlinkParseError) {
            while let a = try reader.next() { table[a.type] = a }
        } catch {
            throw .malformed(error, in: container)
        }
    }

    subscript(_ type: UInt16) -> NetlinkAttribute? { table[type] }

    func required(_ type: UInt16, _ name: String) throws(IPVSDecodingError) -> NetlinkAttribute {
        guard let a = table[type] else { throw .missingAttribute(name, in: container) }
        return a
    }

    func integer<T: FixedWidthInteger>(_ a: NetlinkAttribute, _ name: String, as _: T.Type) throws(IPVSDecodingError) -> T {
        guard a.value.count == MemoryLayout<T>.size else {
            throw .badAttributeSize(name, length: a.value.count, expected: "\(MemoryLayout<T>.size)", in: container)
        }
        var v: T = 0
        withUnsafeMutableBytes(of: &v) { $0.copyMemory(from: a.value) }
        return v
    }

    func required<T: FixedWidthInteger>(_ type: UInt16, _ name: String, as t: T.Type) throws(IPVSDecodingError) -> T {
        try integer(try required(type, name), name, as: t)
    }

    func optional<T: FixedWidthInteger>(_ type: UInt16, _ name: String, as t: T.Type) throws(IPVSDecodingError) -> T? {
        guard let a = table[type] else { return nil }
        return try integer(a, name, as: t)
    }

    /// An address of `family`: 4 or 16 bytes for IPv4 (the kernel sends its 16-byte
    /// `union nf_inet_addr`, the address in the first 4), 16 for IPv6.
    func address(_ a: NetlinkAttribute, _ name: String, family: IPAddressFamily) throws(IPVSDecodingError) -> IPAddress {
        let ok = family == .ipv4 ? (a.value.count == 4 || a.value.count == 16) : a.value.count == 16
        guard ok else {
            throw .badAttributeSize(name, length: a.value.count, expected: family == .ipv4 ? "4 or 16" : "16", in: container)
        }
        return IPAddress(family: family, from: a.value, at: 0)
    }

    /// A NUL-terminated string of at most `maximum` bytes before the NUL.
    func string(_ a: NetlinkAttribute, _ name: String, maximum: Int) throws(IPVSDecodingError) -> String {
        let end = a.value.firstIndex(of: 0) ?? a.value.count
        guard end <= maximum else {
            throw .badAttributeSize(name, length: a.value.count, expected: "at most \(maximum + 1) (a string)", in: container)
        }
        return a.string()
    }

    func family(_ type: UInt16, _ name: String) throws(IPVSDecodingError) -> IPAddressFamily {
        let raw = try required(type, name, as: UInt16.self)
        return try Self.family(raw, in: container)
    }

    static func family(_ raw: UInt16, in container: String) throws(IPVSDecodingError) -> IPAddressFamily {
        switch raw {
        case IPVSAddressFamily.inet: return .ipv4
        case IPVSAddressFamily.inet6: return .ipv6
        default: throw .unknownAddressFamily(raw, in: container)
        }
    }
}

/// Checks the command of a reply and opens its top-level attributes.
func ipvsTopLevel(_ message: GenericNetlinkMessage, expecting command: UInt8,
                  container: String) throws(IPVSDecodingError) -> IPVSAttributeTable {
    guard message.command == command else { throw .unexpectedCommand(message.command, expected: command, in: container) }
    return try IPVSAttributeTable(message.attributes, container: container)
}

extension IPVSInfo {
    /// Reads the reply to `IPVS_CMD_GET_INFO` (command `IPVS_CMD_SET_INFO`).
    /// - Throws: ``IPVSDecodingError``.
    public init(parsing message: GenericNetlinkMessage) throws(IPVSDecodingError) {
        let t = try ipvsTopLevel(message, expecting: IPVSCommand.setInfo, container: "IPVS info reply")
        version = try t.required(IPVSInfoAttribute.version, "IPVS_INFO_ATTR_VERSION", as: UInt32.self)
        connectionTableSize = try t.required(IPVSInfoAttribute.connectionTableSize, "IPVS_INFO_ATTR_CONN_TAB_SIZE", as: UInt32.self)
    }
}

extension IPVSTimeouts {
    /// Reads the reply to `IPVS_CMD_GET_CONFIG` (command `IPVS_CMD_SET_CONFIG`).
    /// - Throws: ``IPVSDecodingError``.
    public init(parsing message: GenericNetlinkMessage) throws(IPVSDecodingError) {
        let t = try ipvsTopLevel(message, expecting: IPVSCommand.setConfig, container: "IPVS config reply")
        tcp = try t.required(IPVSCommandAttribute.timeoutTCP, "IPVS_CMD_ATTR_TIMEOUT_TCP", as: UInt32.self)
        tcpFin = try t.required(IPVSCommandAttribute.timeoutTCPFin, "IPVS_CMD_ATTR_TIMEOUT_TCP_FIN", as: UInt32.self)
        udp = try t.required(IPVSCommandAttribute.timeoutUDP, "IPVS_CMD_ATTR_TIMEOUT_UDP", as: UInt32.self)
    }
}

extension IPVSStatistics {
    /// Reads a STATS or STATS64 nest: every counter may be 4 or 8 bytes (STATS has 32-bit
    /// counters and rates with 64-bit byte counts; STATS64 has 64-bit everything and
    /// `IPVS_STATS_ATTR_PAD`). Absent counters stay 0.
    init(parsing nest: NetlinkAttribute, container: String) throws(IPVSDecodingError) {
        self.init()
        var reader = nest.nested
        while true {
            let next: NetlinkAttribute?
            do { next = try reader.next() } catch { throw .malformed(error, in: container) }
            guard let a = next else { break }
            guard a.type >= 1, a.type <= 10 else { continue }   // IPVS_STATS_ATTR_PAD and newer ones
            let value: UInt64
            switch a.value.count {
            case 4: value = UInt64(a.value.loadUnaligned(as: UInt32.self))
            case 8: value = a.value.loadUnaligned(as: UInt64.self)
            default: throw .badAttributeSize("IPVS_STATS_ATTR \(a.type)", length: a.value.count, expected: "4 or 8", in: container)
            }
            switch a.type {
            case IPVSStatisticsAttribute.connections: connections = value
            case IPVSStatisticsAttribute.incomingPackets: incomingPackets = value
            case IPVSStatisticsAttribute.outgoingPackets: outgoingPackets = value
            case IPVSStatisticsAttribute.incomingBytes: incomingBytes = value
            case IPVSStatisticsAttribute.outgoingBytes: outgoingBytes = value
            case IPVSStatisticsAttribute.connectionRate: connectionRate = value
            case IPVSStatisticsAttribute.incomingPacketRate: incomingPacketRate = value
            case IPVSStatisticsAttribute.outgoingPacketRate: outgoingPacketRate = value
            case IPVSStatisticsAttribute.incomingByteRate: incomingByteRate = value
            default: outgoingByteRate = value
            }
        }
    }

    /// STATS64 when present, else STATS, else zeros.
    init(preferring stats64: NetlinkAttribute?, or stats: NetlinkAttribute?, container: String) throws(IPVSDecodingError) {
        if let nest = stats64 ?? stats {
            try self.init(parsing: nest, container: container)
        } else {
            self.init()
        }
    }
}

extension IPVSService {
    /// Reads the service attributes nested in `IPVS_CMD_ATTR_SERVICE` (AF, and FWMARK or
    /// PROTOCOL, ADDR, PORT are required; the rest take their defaults when absent).
    init(parsingNest nest: NetlinkAttribute, statistics: inout IPVSStatistics) throws(IPVSDecodingError) {
        let t = try IPVSAttributeTable(nest.nested, container: "IPVS service")
        let family = try t.family(IPVSServiceAttribute.addressFamily, "IPVS_SVC_ATTR_AF")
        let key: Key
        if let mark = try t.optional(IPVSServiceAttribute.firewallMark, "IPVS_SVC_ATTR_FWMARK", as: UInt32.self), mark != 0 {
            key = .firewallMark(mark, family: family)
        } else {
            let proto = try t.required(IPVSServiceAttribute.protocol, "IPVS_SVC_ATTR_PROTOCOL", as: UInt16.self)
            let address = try t.address(try t.required(IPVSServiceAttribute.address, "IPVS_SVC_ATTR_ADDR"), "IPVS_SVC_ATTR_ADDR",
                                        family: family)
            let port = UInt16(bigEndian: try t.required(IPVSServiceAttribute.port, "IPVS_SVC_ATTR_PORT", as: UInt16.self))
            key = .address(protocol: IPVSProtocol(rawValue: proto), address: address, port: port)
        }
        self.init(key)
        if let a = t[IPVSServiceAttribute.schedulerName] {
            scheduler = IPVSScheduler(rawValue: try t.string(a, "IPVS_SVC_ATTR_SCHED_NAME", maximum: 15))
        }
        if let a = t[IPVSServiceAttribute.persistenceEngine] {
            persistenceEngine = try t.string(a, "IPVS_SVC_ATTR_PE_NAME", maximum: 15)
        }
        if let a = t[IPVSServiceAttribute.flags] {
            // struct ip_vs_flags { __u32 flags; __u32 mask; }
            guard a.value.count == 8 else {
                throw .badAttributeSize("IPVS_SVC_ATTR_FLAGS", length: a.value.count, expected: "8 (struct ip_vs_flags)",
                                        in: t.container)
            }
            let raw = a.value.loadUnaligned(as: UInt32.self)
            let mask = a.value.loadUnaligned(fromByteOffset: 4, as: UInt32.self)
            flags = IPVSServiceFlags(rawValue: raw & mask)
        }
        timeout = try t.optional(IPVSServiceAttribute.timeout, "IPVS_SVC_ATTR_TIMEOUT", as: UInt32.self) ?? 0
        if let raw = try t.optional(IPVSServiceAttribute.netmask, "IPVS_SVC_ATTR_NETMASK", as: UInt32.self) {
            netmask = family == .ipv4 ? .ipv4(mask: UInt32(bigEndian: raw)) : .ipv6(prefixLength: UInt8(clamping: raw))
        }
        statistics = try IPVSStatistics(preferring: t[IPVSServiceAttribute.statistics64], or: t[IPVSServiceAttribute.statistics],
                                        container: "IPVS service statistics")
    }
}

extension IPVSServiceEntry {
    /// Reads one service from the reply to `IPVS_CMD_GET_SERVICE` (command
    /// `IPVS_CMD_NEW_SERVICE`, attribute `IPVS_CMD_ATTR_SERVICE`).
    /// - Throws: ``IPVSDecodingError``.
    public init(parsing message: GenericNetlinkMessage) throws(IPVSDecodingError) {
        let t = try ipvsTopLevel(message, expecting: IPVSCommand.newService, container: "IPVS service reply")
        let nest = try t.required(IPVSCommandAttribute.service, "IPVS_CMD_ATTR_SERVICE")
        var statistics = IPVSStatistics()
        service = try IPVSService(parsingNest: nest, statistics: &statistics)
        self.statistics = statistics
    }
}

extension IPVSDestinationEntry {
    /// Reads one destination from the reply to `IPVS_CMD_GET_DEST` (command
    /// `IPVS_CMD_NEW_DEST`, attribute `IPVS_CMD_ATTR_DEST`).
    ///
    /// - Parameters:
    ///   - serviceFamily: the family of the service listed, for kernels older than 3.18
    ///     that send no `IPVS_DEST_ATTR_ADDR_FAMILY`.
    /// - Throws: ``IPVSDecodingError``.
    public init(parsing message: GenericNetlinkMessage, serviceFamily: IPAddressFamily) throws(IPVSDecodingError) {
        let top = try ipvsTopLevel(message, expecting: IPVSCommand.newDestination, container: "IPVS destination reply")
        let nest = try top.required(IPVSCommandAttribute.destination, "IPVS_CMD_ATTR_DEST")
        let t = try IPVSAttributeTable(nest.nested, container: "IPVS destination")
        let family: IPAddressFamily
        if let raw = try t.optional(IPVSDestinationAttribute.addressFamily, "IPVS_DEST_ATTR_ADDR_FAMILY", as: UInt16.self) {
            family = try IPVSAttributeTable.family(raw, in: t.container)
        } else {
            family = serviceFamily
        }
        let address = try t.address(try t.required(IPVSDestinationAttribute.address, "IPVS_DEST_ATTR_ADDR"), "IPVS_DEST_ATTR_ADDR",
                                    family: family)
        let port = UInt16(bigEndian: try t.required(IPVSDestinationAttribute.port, "IPVS_DEST_ATTR_PORT", as: UInt16.self))
        var d = IPVSDestination(address: address, port: port)
        let method = try t.required(IPVSDestinationAttribute.forwardingMethod, "IPVS_DEST_ATTR_FWD_METHOD", as: UInt32.self)
        d.forwarding = IPVSForwardingMethod(rawValue: method & 0x7)   // IP_VS_CONN_F_FWD_MASK
        d.weight = try t.required(IPVSDestinationAttribute.weight, "IPVS_DEST_ATTR_WEIGHT", as: UInt32.self)
        d.upperThreshold = try t.optional(IPVSDestinationAttribute.upperThreshold, "IPVS_DEST_ATTR_U_THRESH", as: UInt32.self) ?? 0
        d.lowerThreshold = try t.optional(IPVSDestinationAttribute.lowerThreshold, "IPVS_DEST_ATTR_L_THRESH", as: UInt32.self) ?? 0
        if let v = try t.optional(IPVSDestinationAttribute.tunnelType, "IPVS_DEST_ATTR_TUN_TYPE", as: UInt8.self) {
            d.tunnelType = IPVSTunnelType(rawValue: v)
        }
        if let v = try t.optional(IPVSDestinationAttribute.tunnelPort, "IPVS_DEST_ATTR_TUN_PORT", as: UInt16.self) {
            d.tunnelPort = UInt16(bigEndian: v)
        }
        if let v = try t.optional(IPVSDestinationAttribute.tunnelFlags, "IPVS_DEST_ATTR_TUN_FLAGS", as: UInt16.self) {
            d.tunnelFlags = IPVSTunnelFlags(rawValue: v)
        }
        destination = d
        activeConnections = try t.optional(IPVSDestinationAttribute.activeConnections, "IPVS_DEST_ATTR_ACTIVE_CONNS", as: UInt32.self) ?? 0
        inactiveConnections = try t.optional(IPVSDestinationAttribute.inactiveConnections, "IPVS_DEST_ATTR_INACT_CONNS", as: UInt32.self) ?? 0
        persistentConnections = try t.optional(IPVSDestinationAttribute.persistentConnections, "IPVS_DEST_ATTR_PERSIST_CONNS",
                                               as: UInt32.self) ?? 0
        statistics = try IPVSStatistics(preferring: t[IPVSDestinationAttribute.statistics64],
                                        or: t[IPVSDestinationAttribute.statistics], container: "IPVS destination statistics")
    }
}

extension IPVSSyncDaemon {
    /// Reads one daemon from the reply to `IPVS_CMD_GET_DAEMON` (command
    /// `IPVS_CMD_NEW_DAEMON`, attribute `IPVS_CMD_ATTR_DAEMON`).
    /// - Throws: ``IPVSDecodingError``.
    public init(parsing message: GenericNetlinkMessage) throws(IPVSDecodingError) {
        let top = try ipvsTopLevel(message, expecting: IPVSCommand.newDaemon, container: "IPVS sync daemon reply")
        let nest = try top.required(IPVSCommandAttribute.daemon, "IPVS_CMD_ATTR_DAEMON")
        let t = try IPVSAttributeTable(nest.nested, container: "IPVS sync daemon")
        state = State(rawValue: try t.required(IPVSDaemonAttribute.state, "IPVS_DAEMON_ATTR_STATE", as: UInt32.self))
        interface = try t.string(try t.required(IPVSDaemonAttribute.interface, "IPVS_DAEMON_ATTR_MCAST_IFN"),
                                 "IPVS_DAEMON_ATTR_MCAST_IFN", maximum: 15)
        syncID = try t.required(IPVSDaemonAttribute.syncID, "IPVS_DAEMON_ATTR_SYNC_ID", as: UInt32.self)
        maximumLength = try t.optional(IPVSDaemonAttribute.maximumLength, "IPVS_DAEMON_ATTR_SYNC_MAXLEN", as: UInt16.self)
        port = try t.optional(IPVSDaemonAttribute.port, "IPVS_DAEMON_ATTR_MCAST_PORT", as: UInt16.self)
        ttl = try t.optional(IPVSDaemonAttribute.ttl, "IPVS_DAEMON_ATTR_MCAST_TTL", as: UInt8.self)
        if let a = t[IPVSDaemonAttribute.group6] {
            guard a.value.count == 16 else {
                throw .badAttributeSize("IPVS_DAEMON_ATTR_MCAST_GROUP6", length: a.value.count, expected: "16", in: t.container)
            }
            group = IPAddress(family: .ipv6, from: a.value, at: 0)
        } else if let a = t[IPVSDaemonAttribute.group] {
            guard a.value.count == 4 else {
                throw .badAttributeSize("IPVS_DAEMON_ATTR_MCAST_GROUP", length: a.value.count, expected: "4", in: t.container)
            }
            group = IPAddress(family: .ipv4, from: a.value, at: 0)
        } else {
            group = nil
        }
    }
}
