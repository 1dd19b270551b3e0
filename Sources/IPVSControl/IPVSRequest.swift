import NetLinux
import VRRPCore

/// One IPVS generic netlink request, encoded without I/O.
///
/// ``appendAttributes(into:)`` writes the attributes after the `genlmsghdr` (what
/// ``GenericNetlink/request(family:command:version:flags:operation:attributes:reply:)`` asks
/// for); ``encode(familyID:version:sequence:)`` writes the whole message, for tests and tools.
/// Service and destination fields go into nested `IPVS_CMD_ATTR_SERVICE` and
/// `IPVS_CMD_ATTR_DEST` attributes, as the kernel's `ip_vs_genl_parse_service` and
/// `ip_vs_genl_parse_dest` expect: the identifying fields always, the rest ("full entry")
/// for NEW and SET.
///
/// ```swift
/// let add = IPVSRequest.newDestination(IPVSDestination(address: IPAddress("198.51.100.2")!, port: 80),
///                                      service: .address(protocol: .tcp, address: IPAddress("192.0.2.10")!, port: 80))
/// add.operation                            // "adding destination 198.51.100.2:80 to TCP 192.0.2.10:80"
/// let bytes = add.encode(familyID: 32)     // nlmsghdr + genlmsghdr + attributes
/// ```
public enum IPVSRequest: Sendable, Hashable {
    /// `IPVS_CMD_GET_INFO`: version and connection table size.
    case getInfo
    /// `IPVS_CMD_GET_CONFIG`: the timeouts.
    case getConfig
    /// `IPVS_CMD_SET_CONFIG`: set the timeouts (0 leaves one as it is).
    case setConfig(IPVSTimeouts)
    /// `IPVS_CMD_NEW_SERVICE`.
    case newService(IPVSService)
    /// `IPVS_CMD_SET_SERVICE`: change the scheduler, flags, timeout, netmask, engine of the
    /// service with the same key.
    case setService(IPVSService)
    /// `IPVS_CMD_DEL_SERVICE`.
    case deleteService(IPVSService.Key)
    /// `IPVS_CMD_GET_SERVICE` for one service.
    case getService(IPVSService.Key)
    /// `IPVS_CMD_GET_SERVICE` as a dump: every service.
    case getServices
    /// `IPVS_CMD_NEW_DEST`.
    case newDestination(IPVSDestination, service: IPVSService.Key)
    /// `IPVS_CMD_SET_DEST`: change the destination with the same address and port.
    case setDestination(IPVSDestination, service: IPVSService.Key)
    /// `IPVS_CMD_DEL_DEST`.
    case deleteDestination(address: IPAddress, port: UInt16, service: IPVSService.Key)
    /// `IPVS_CMD_GET_DEST` (a dump): the destinations of a service.
    case getDestinations(service: IPVSService.Key)
    /// `IPVS_CMD_FLUSH`: delete every service.
    case flush
    /// `IPVS_CMD_ZERO`: zero the counters of one service, or of all with `nil`.
    case zero(IPVSService.Key?)
    /// `IPVS_CMD_NEW_DAEMON`: start a sync daemon.
    case newDaemon(IPVSSyncDaemon)
    /// `IPVS_CMD_DEL_DAEMON`: stop the sync daemon in this state.
    case deleteDaemon(IPVSSyncDaemon.State)
    /// `IPVS_CMD_GET_DAEMON` (a dump): the running sync daemons.
    case getDaemons

    /// The `genlmsghdr.cmd`.
    public var command: UInt8 {
        switch self {
        case .getInfo: IPVSCommand.getInfo
        case .getConfig: IPVSCommand.getConfig
        case .setConfig: IPVSCommand.setConfig
        case .newService: IPVSCommand.newService
        case .setService: IPVSCommand.setService
        case .deleteService: IPVSCommand.deleteService
        case .getService, .getServices: IPVSCommand.getService
        case .newDestination: IPVSCommand.newDestination
        case .setDestination: IPVSCommand.setDestination
        case .deleteDestination: IPVSCommand.deleteDestination
        case .getDestinations: IPVSCommand.getDestination
        case .flush: IPVSCommand.flush
        case .zero: IPVSCommand.zero
        case .newDaemon: IPVSCommand.newDaemon
        case .deleteDaemon: IPVSCommand.deleteDaemon
        case .getDaemons: IPVSCommand.getDaemon
        }
    }

    /// Whether the request is a dump (`NLM_F_DUMP`) rather than a request acknowledged with
    /// `NLM_F_ACK`.
    public var isDump: Bool {
        switch self {
        case .getServices, .getDestinations, .getDaemons: true
        default: false
        }
    }

    /// The `genlmsghdr.cmd` of the kernel's answer to a GET, or `nil` for requests answered
    /// only by an acknowledgement.
    public var replyCommand: UInt8? {
        switch self {
        case .getInfo: IPVSCommand.setInfo
        case .getConfig: IPVSCommand.setConfig
        case .getService, .getServices: IPVSCommand.newService
        case .getDestinations: IPVSCommand.newDestination
        case .getDaemons: IPVSCommand.newDaemon
        default: nil
        }
    }

    /// What the request does, in words, for errors and logs:
    /// `adding destination 198.51.100.2:80 to TCP 192.0.2.10:80`.
    public var operation: String {
        switch self {
        case .getInfo: "reading IPVS information"
        case .getConfig: "reading IPVS timeouts"
        case let .setConfig(t): "setting IPVS timeouts (\(t))"
        case let .newService(s): "adding service \(s.key)"
        case let .setService(s): "changing service \(s.key)"
        case let .deleteService(k): "deleting service \(k)"
        case let .getService(k): "reading service \(k)"
        case .getServices: "listing IPVS services"
        case let .newDestination(d, k): "adding destination \(d.endpoint) to \(k)"
        case let .setDestination(d, k): "changing destination \(d.endpoint) of \(k)"
        case let .deleteDestination(a, p, k): "deleting destination \(IPVSEndpoint(a, p)) from \(k)"
        case let .getDestinations(k): "listing the destinations of \(k)"
        case .flush: "flushing the IPVS table"
        case let .zero(k): k.map { "zeroing the counters of \($0)" } ?? "zeroing all IPVS counters"
        case let .newDaemon(d): "starting the IPVS \(d.state) sync daemon on \(d.interface) (sync id \(d.syncID))"
        case let .deleteDaemon(state): "stopping the IPVS \(state) sync daemon"
        case .getDaemons: "listing IPVS sync daemons"
        }
    }

    /// A complete message: `nlmsghdr` (`NLM_F_REQUEST` with `NLM_F_ACK`, or with
    /// `NLM_F_DUMP` for dumps), `genlmsghdr` and the attributes.
    public func encode(familyID: UInt16, version: UInt8 = 1, sequence: UInt32 = 0) -> [UInt8] {
        var builder = NetlinkMessageBuilder(capacity: 256)
        GenericNetlinkRequest.begin(family: familyID, command: command, version: version,
                                    flags: isDump ? [.request, .dump] : [.request, .acknowledge], into: &builder)
        appendAttributes(into: &builder)
        builder.endMessage()
        var bytes = builder.bytes
        withUnsafeBytes(of: sequence) { s in for i in 0..<4 { bytes[8 + i] = s[i] } }   // nlmsg_seq
        return bytes
    }

    /// Appends the request's attributes (after the `genlmsghdr`).
    public func appendAttributes(into message: inout NetlinkMessageBuilder) {
        switch self {
        case .getInfo, .getConfig, .getServices, .flush, .getDaemons, .zero(nil):
            break
        case let .setConfig(t):
            message.appendAttribute(IPVSCommandAttribute.timeoutTCP, uint32: t.tcp)
            message.appendAttribute(IPVSCommandAttribute.timeoutTCPFin, uint32: t.tcpFin)
            message.appendAttribute(IPVSCommandAttribute.timeoutUDP, uint32: t.udp)
        case let .newService(s), let .setService(s):
            Self.appendService(s.key, full: s, into: &message)
        case let .deleteService(k), let .getService(k), let .getDestinations(k), let .zero(k?):
            Self.appendService(k, full: nil, into: &message)
        case let .newDestination(d, k), let .setDestination(d, k):
            Self.appendService(k, full: nil, into: &message)
            Self.appendDestination(address: d.address, port: d.port, full: d, into: &message)
        case let .deleteDestination(a, p, k):
            Self.appendService(k, full: nil, into: &message)
            Self.appendDestination(address: a, port: p, full: nil, into: &message)
        case let .newDaemon(d):
            let nest = message.beginNestedAttribute(IPVSCommandAttribute.daemon)
            message.appendAttribute(IPVSDaemonAttribute.state, uint32: d.state.rawValue)
            message.appendAttribute(IPVSDaemonAttribute.interface, string: d.interface)
            message.appendAttribute(IPVSDaemonAttribute.syncID, uint32: d.syncID)
            if let v = d.maximumLength { message.appendAttribute(IPVSDaemonAttribute.maximumLength, uint16: v) }
            if let g = d.group {
                message.appendAttribute(g.family == .ipv4 ? IPVSDaemonAttribute.group : IPVSDaemonAttribute.group6, address: g)
            }
            if let v = d.port { message.appendAttribute(IPVSDaemonAttribute.port, uint16: v) }
            if let v = d.ttl { message.appendAttribute(IPVSDaemonAttribute.ttl, uint8: v) }
            message.endNestedAttribute(nest)
        case let .deleteDaemon(state):
            let nest = message.beginNestedAttribute(IPVSCommandAttribute.daemon)
            message.appendAttribute(IPVSDaemonAttribute.state, uint32: state.rawValue)
            message.endNestedAttribute(nest)
        }
    }

    /// `IPVS_CMD_ATTR_SERVICE`: AF, then FWMARK or PROTOCOL/ADDR/PORT; with `full`, SCHED_NAME,
    /// PE_NAME (when set), FLAGS (`struct ip_vs_flags`, mask all ones), TIMEOUT and NETMASK.
    static func appendService(_ key: IPVSService.Key, full service: IPVSService?, into message: inout NetlinkMessageBuilder) {
        let nest = message.beginNestedAttribute(IPVSCommandAttribute.service)
        message.appendAttribute(IPVSServiceAttribute.addressFamily, uint16: key.family == .ipv4 ? IPVSAddressFamily.inet : IPVSAddressFamily.inet6)
        switch key {
        case let .address(proto, address, port):
            message.appendAttribute(IPVSServiceAttribute.protocol, uint16: proto.rawValue)
            message.appendAttribute(IPVSServiceAttribute.address, address: address)
            message.appendAttribute(IPVSServiceAttribute.port, bigEndian16: port)
        case let .firewallMark(mark, _):
            message.appendAttribute(IPVSServiceAttribute.firewallMark, uint32: mark)
        }
        if let service {
            message.appendAttribute(IPVSServiceAttribute.schedulerName, string: service.scheduler.rawValue)
            if let engine = service.persistenceEngine {
                message.appendAttribute(IPVSServiceAttribute.persistenceEngine, string: engine)
            }
            // struct ip_vs_flags { __u32 flags; __u32 mask; }, host order; the kernel's own
            // "hashed" mark is never sent.
            let flags = service.flags.subtracting(.hashed).rawValue
            let pair: (UInt32, UInt32) = (flags, UInt32.max)
            withUnsafeBytes(of: pair) { message.appendAttribute(IPVSServiceAttribute.flags, bytes: $0) }
            message.appendAttribute(IPVSServiceAttribute.timeout, uint32: service.timeout)
            switch service.netmask {
            case let .ipv4(mask): message.appendAttribute(IPVSServiceAttribute.netmask, bigEndian32: mask)
            case let .ipv6(prefixLength): message.appendAttribute(IPVSServiceAttribute.netmask, uint32: UInt32(prefixLength))
            }
        }
        message.endNestedAttribute(nest)
    }

    /// `IPVS_CMD_ATTR_DEST`: ADDR, PORT, ADDR_FAMILY; with `full`, FWD_METHOD, WEIGHT,
    /// U_THRESH, L_THRESH, and TUN_TYPE/TUN_PORT/TUN_FLAGS for a tunnel.
    static func appendDestination(address: IPAddress, port: UInt16, full destination: IPVSDestination?,
                                  into message: inout NetlinkMessageBuilder) {
        let nest = message.beginNestedAttribute(IPVSCommandAttribute.destination)
        message.appendAttribute(IPVSDestinationAttribute.address, address: address)
        message.appendAttribute(IPVSDestinationAttribute.port, bigEndian16: port)
        message.appendAttribute(IPVSDestinationAttribute.addressFamily,
                                uint16: address.family == .ipv4 ? IPVSAddressFamily.inet : IPVSAddressFamily.inet6)
        if let d = destination {
            message.appendAttribute(IPVSDestinationAttribute.forwardingMethod, uint32: d.forwarding.rawValue)
            message.appendAttribute(IPVSDestinationAttribute.weight, uint32: d.weight)
            message.appendAttribute(IPVSDestinationAttribute.upperThreshold, uint32: d.upperThreshold)
            message.appendAttribute(IPVSDestinationAttribute.lowerThreshold, uint32: d.lowerThreshold)
            if d.forwarding == .tunnel {
                message.appendAttribute(IPVSDestinationAttribute.tunnelType, uint8: d.tunnelType.rawValue)
                message.appendAttribute(IPVSDestinationAttribute.tunnelPort, bigEndian16: d.tunnelPort)
                message.appendAttribute(IPVSDestinationAttribute.tunnelFlags, uint16: d.tunnelFlags.rawValue)
            }
        }
        message.endNestedAttribute(nest)
    }
}
