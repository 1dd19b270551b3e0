import VRRPCore

/// An IPVS virtual service: what it matches (its ``Key``), how it schedules, and its
/// persistence.
///
/// ```swift
/// var web = IPVSService(.address(protocol: .tcp, address: IPAddress("192.0.2.10")!, port: 80),
///                       scheduler: .roundRobin)
/// web.persistenceTimeout = 360          // sets IP_VS_SVC_F_PERSISTENT too
/// web.netmask = .ipv4(prefixLength: 24) // persistence granularity
/// print(web)                            // TCP  192.0.2.10:80 rr persistent 360 mask 255.255.255.0
/// ```
public struct IPVSService: Sendable, Hashable, CustomStringConvertible {
    /// What identifies a service in the kernel's table.
    public enum Key: Sendable, Hashable, CustomStringConvertible {
        /// Protocol, virtual address and port (`IPVS_SVC_ATTR_PROTOCOL`, `_ADDR`, `_PORT`).
        /// Port 0 is accepted by the kernel only for a persistent service.
        case address(protocol: IPVSProtocol, address: IPAddress, port: UInt16)
        /// A firewall mark and the address family it serves (`IPVS_SVC_ATTR_FWMARK`, `_AF`).
        case firewallMark(UInt32, family: IPAddressFamily)

        /// The service's address family (`IPVS_SVC_ATTR_AF`).
        public var family: IPAddressFamily {
            switch self {
            case let .address(_, address, _): address.family
            case let .firewallMark(_, family): family
            }
        }

        /// `TCP 192.0.2.10:80`, `UDP [2001:db8::1]:53`, `FWM 7`, `FWM 7 IPv6`: the words errors use.
        public var description: String {
            switch self {
            case let .address(proto, address, port): "\(proto) \(IPVSEndpoint(address, port))"
            case let .firewallMark(mark, family): family == .ipv6 ? "FWM \(mark) IPv6" : "FWM \(mark)"
            }
        }
    }

    /// What the service matches.
    public var key: Key
    /// The scheduler (`IPVS_SVC_ATTR_SCHED_NAME`).
    public var scheduler: IPVSScheduler
    /// Service flags (`IPVS_SVC_ATTR_FLAGS`). ``IPVSServiceFlags/hashed`` is never sent.
    public var flags: IPVSServiceFlags
    /// The persistence timeout in seconds (`IPVS_SVC_ATTR_TIMEOUT`); meaningful with
    /// ``IPVSServiceFlags/persistent``.
    public var timeout: UInt32
    /// The persistence granularity (`IPVS_SVC_ATTR_NETMASK`): clients within it stick to
    /// the same real server. Defaults to a single host.
    public var netmask: IPVSNetmask
    /// The persistence engine (`IPVS_SVC_ATTR_PE_NAME`), such as `sip`, or `nil`.
    public var persistenceEngine: String?

    /// A service with `scheduler` (keepalived's default: `wlc`), not persistent, with the
    /// host netmask of its family.
    public init(_ key: Key, scheduler: IPVSScheduler = .weightedLeastConnection, flags: IPVSServiceFlags = [],
                timeout: UInt32 = 0, netmask: IPVSNetmask? = nil, persistenceEngine: String? = nil) {
        self.key = key
        self.scheduler = scheduler
        self.flags = flags
        self.timeout = timeout
        self.netmask = netmask ?? .host(key.family)
        self.persistenceEngine = persistenceEngine
    }

    /// The service's address family.
    public var family: IPAddressFamily { key.family }

    /// The persistence timeout in seconds when the service is persistent, else `nil`.
    /// Setting a value sets ``IPVSServiceFlags/persistent`` and ``timeout``; `nil` clears both.
    public var persistenceTimeout: UInt32? {
        get { flags.contains(.persistent) ? timeout : nil }
        set {
            if let newValue {
                flags.insert(.persistent)
                timeout = newValue
            } else {
                flags.remove(.persistent)
                timeout = 0
            }
        }
    }

    /// The service as `ipvsadm -Ln` prints its line:
    /// `TCP  192.0.2.10:80 rr persistent 360`, `UDP  [2001:db8::1]:53 sh (sh-fallback,sh-port) ops`,
    /// `FWM  7 IPv6 mh (mh-port) persistent 60 mask 64`, `SCTP 192.0.2.11:9 lc persistent 10 pe sip`.
    public var description: String {
        var s: String
        switch key {
        case let .address(proto, address, port):
            let name = proto.description
            s = name + String(repeating: " ", count: max(1, 5 - name.count)) + IPVSEndpoint(address, port).description
        case let .firewallMark(mark, family):
            s = "FWM  \(mark)" + (family == .ipv6 ? " IPv6" : "")
        }
        s += " \(scheduler)"
        if let names = flags.schedulerFlagNames(for: scheduler) { s += " (\(names))" }
        if flags.contains(.onePacket) { s += " ops" }
        if flags.contains(.persistent) {
            s += " persistent \(timeout)"
            if netmask != .host(family) { s += " mask \(netmask)" }
            if let persistenceEngine { s += " pe \(persistenceEngine)" }
        }
        return s
    }
}

/// The persistence granularity of a service (`IPVS_SVC_ATTR_NETMASK`). The kernel reads the
/// attribute as a big-endian mask for an IPv4 service and as a prefix length (1 to 128, host
/// order) for an IPv6 one.
public enum IPVSNetmask: Sendable, Hashable, CustomStringConvertible {
    /// An IPv4 mask, such as `0xFFFFFF00` for 255.255.255.0 (the attribute holds its bytes in
    /// network order).
    case ipv4(mask: UInt32)
    /// An IPv6 prefix length, 1 to 128.
    case ipv6(prefixLength: UInt8)

    /// An IPv4 mask of `prefixLength` leading ones (0 to 32).
    public static func ipv4(prefixLength: Int) -> IPVSNetmask {
        let bits = min(max(prefixLength, 0), 32)
        return .ipv4(mask: bits == 0 ? 0 : UInt32.max << (32 - bits))
    }

    /// One host: 255.255.255.255 for IPv4, 128 for IPv6 (ipvsadm's defaults).
    public static func host(_ family: IPAddressFamily) -> IPVSNetmask {
        family == .ipv4 ? .ipv4(mask: .max) : .ipv6(prefixLength: 128)
    }

    /// The family the netmask is for.
    public var family: IPAddressFamily {
        switch self {
        case .ipv4: .ipv4
        case .ipv6: .ipv6
        }
    }

    /// `255.255.255.0` or `64`, as ipvsadm prints it.
    public var description: String {
        switch self {
        case let .ipv4(mask): IPAddress(ipv4: mask).description
        case let .ipv6(prefixLength): "\(prefixLength)"
        }
    }
}

/// An address and port in ipvsadm's notation: `192.0.2.10:80`, `[2001:db8::1]:53`.
struct IPVSEndpoint: CustomStringConvertible {
    var address: IPAddress
    var port: UInt16
    init(_ address: IPAddress, _ port: UInt16) {
        self.address = address
        self.port = port
    }
    var description: String { address.family == .ipv6 ? "[\(address)]:\(port)" : "\(address):\(port)" }
}
