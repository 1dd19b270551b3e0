// The LVS (IPVS) half of the keepalived configuration model: `SSL {}`, `virtual_server_group`,
// `virtual_server`, `real_server` and the health checkers.
//
// Defaults that keepalived fixes once the block is read are applied at decode time and stored as
// plain values (`delay_loop` 60, `quorum` 1, `lvs_sched` wlc, ...). Settings that keepalived passes
// down from the virtual server to its real servers and from a real server to its checkers are
// optionals, where `nil` means "inherit"; the `effective...` helpers resolve them.

// MARK: - Enumerations

/// An IPVS scheduler (`lvs_sched` / `lb_algo`).
public enum LVSScheduler: String, ConfigEnum {
    case rr, wrr, lc, wlc, lblc, sh, mh, dh, fo, ovf, lblcr, sed, nq, twos
}

/// A scheduler flag keyword of a virtual server (`ipvsadm -b`).
///
/// `flag-1`, `sh-fallback` and `mh-fallback` all set IPVS's first scheduler flag bit; `flag-2`,
/// `sh-port` and `mh-port` the second; `flag-3` the third. The spelling is kept as written.
public enum LVSSchedulerFlag: String, ConfigEnum {
    case flag1 = "flag-1"
    case flag2 = "flag-2"
    case flag3 = "flag-3"
    case shPort = "sh-port"
    case shFallback = "sh-fallback"
    case mhPort = "mh-port"
    case mhFallback = "mh-fallback"

    /// The IPVS service flag bit (`IP_VS_SVC_F_SCHED1/2/3`).
    public var ipvsFlag: UInt32 {
        switch self {
        case .flag1, .shFallback, .mhFallback: 0x0008
        case .flag2, .shPort, .mhPort: 0x0010
        case .flag3: 0x0020
        }
    }
}

/// The L4 protocol of a virtual service. keepalived compares it case-insensitively.
public enum LVSProtocol: String, ConfigEnum {
    case tcp = "TCP"
    case udp = "UDP"
    case sctp = "SCTP"

    public static var keepalivedIsCaseSensitive: Bool { false }
}

/// The word after `lvs_method` / `lb_kind`.
public enum LVSForwardingKind: String, ConfigEnum {
    case nat = "NAT"
    case dr = "DR"
    case tun = "TUN"
}

/// The encapsulation of a tunnelled real server (`lvs_method TUN type ...`).
public enum LVSTunnelType: String, ConfigEnum {
    case ipip, gue, gre
}

/// The checksum option of a GUE or GRE tunnel.
public enum LVSTunnelChecksum: String, ConfigEnum {
    case nocsum, csum, remcsum
}

/// Tunnel options of `lvs_method TUN [type ipip|gue port N|gre] [nocsum|csum|remcsum]`.
public struct LVSTunnel: Codable, Hashable, Sendable {
    /// `ipip` unless written.
    public var type: LVSTunnelType
    /// The UDP port of a GUE tunnel (required for `gue`, invalid otherwise).
    public var port: Int?
    /// Only for `gue` and `gre` (`remcsum` only for `gue`).
    public var checksum: LVSTunnelChecksum?

    public init(type: LVSTunnelType = .ipip, port: Int? = nil, checksum: LVSTunnelChecksum? = nil) {
        self.type = type
        self.port = port
        self.checksum = checksum
    }
}

/// A forwarding method: `NAT` (masquerading, keepalived's default), `DR` or `TUN` with its options.
public enum LVSForwardingMethod: Codable, Hashable, Sendable {
    case nat
    case dr
    case tun(LVSTunnel)

    public var kind: LVSForwardingKind {
        switch self {
        case .nat: .nat
        case .dr: .dr
        case .tun: .tun
        }
    }

    /// The words after `lvs_method`.
    public var words: [String] {
        switch self {
        case .nat: return ["NAT"]
        case .dr: return ["DR"]
        case .tun(let t):
            if t == LVSTunnel() { return ["TUN"] }
            var w = ["TUN", "type", t.type.rawValue]
            if let p = t.port { w += ["port", String(p)] }
            if let c = t.checksum { w.append(c.rawValue) }
            return w
        }
    }
}

/// An HTTP version for HTTP_GET / SSL_GET (`http_protocol`). `1.0C` is 1.0 plus `Connection: close`.
public enum LVSHTTPVersion: String, ConfigEnum {
    case http10 = "1.0"
    case http10Close = "1.0C"
    case http11 = "1.1"
}

/// A DNS_CHECK query type (`type`).
public enum LVSDNSQueryType: String, ConfigEnum {
    case a = "A"
    case ns = "NS"
    case cname = "CNAME"
    case soa = "SOA"
    case mx = "MX"
    case txt = "TXT"
    case aaaa = "AAAA"
    case rrsig = "RRSIG"
    case dnskey = "DNSKEY"

    /// The RR type number.
    public var code: UInt16 {
        switch self {
        case .a: 1
        case .ns: 2
        case .cname: 5
        case .soa: 6
        case .mx: 15
        case .txt: 16
        case .aaaa: 28
        case .rrsig: 46
        case .dnskey: 48
        }
    }
}

/// A PCRE2 option accepted by `regex_options`.
public enum LVSRegexOption: String, ConfigEnum {
    case allowEmptyClass = "allow_empty_class"
    case altBsux = "alt_bsux"
    case autoCallout = "auto_callout"
    case caseless
    case dollarEndonly = "dollar_endonly"
    case dotall
    case dupnames
    case extended
    case firstline
    case matchUnsetBackref = "match_unset_backref"
    case multiline
    case neverUcp = "never_ucp"
    case neverUtf = "never_utf"
    case noAutoCapture = "no_auto_capture"
    case noAutoPossess = "no_auto_possess"
    case noDotstarAnchor = "no_dotstar_anchor"
    case noStartOptimize = "no_start_optimize"
    case ucp
    case ungreedy
    case utf
    case neverBackslashC = "never_backslash_c"
    case altCircumflex = "alt_circumflex"
    case altVerbnames = "alt_verbnames"
    case useOffsetLimit = "use_offset_limit"
}

// MARK: - SSL

/// `SSL { password ca certificate key }`: the TLS context of SSL_GET checkers.
/// With none of the fields set, keepalived generates a context itself.
public struct SSLConfig: Codable, Hashable, Sendable {
    /// The password of the private key.
    public var password: String?
    /// The CA file (`ca`).
    public var ca: String?
    /// The client certificate file (`certificate`).
    public var certificate: String?
    /// The private key file (`key`).
    public var key: String?

    public init(password: String? = nil, ca: String? = nil, certificate: String? = nil, key: String? = nil) {
        self.password = password
        self.ca = ca
        self.certificate = certificate
        self.key = key
    }
}

// MARK: - Virtual server group

/// `virtual_server_group NAME { ... }`: addresses, ranges and fwmarks that share one virtual server
/// definition (and one set of health checkers).
public struct VirtualServerGroup: Codable, Hashable, Sendable {
    /// One line of the group.
    public enum Entry: Codable, Hashable, Sendable {
        /// `IP [PORT]`.
        case address(IPAddress, port: Int?)
        /// `a.b.c.d-e` or `a.b.c.d-e.f.g.h` (IPv6: `x::1-ff` or `x::1-x::ff`), both ends included.
        case range(IPAddress, IPAddress, port: Int?)
        /// `a.b.c.d/nn [PORT]`: from the written address to the last address of its prefix.
        case prefix(IPAddress, length: Int, port: Int?)
        /// `fwmark N [inet|inet6]`.
        case fwmark(Int, family: AddressFamily?)

        /// The address family, when the entry has one.
        public var family: AddressFamily? {
            switch self {
            case .address(let a, _), .range(let a, _, _), .prefix(let a, _, _): a.family
            case .fwmark(_, let f): f
            }
        }

        /// The port, for address entries (`nil` when omitted, which keepalived reads as 0).
        public var port: Int? {
            switch self {
            case .address(_, let p), .range(_, _, let p), .prefix(_, _, let p): p
            case .fwmark: nil
            }
        }

        /// The first and last address covered, for address entries.
        public var addressRange: ClosedRange<IPAddress>? {
            switch self {
            case .address(let a, _): return a...a
            case .range(let a, let b, _): return a <= b ? a...b : nil
            case .prefix(let a, let n, _): return a...a.lvsSettingHostBits(a.family.maximumPrefix - n)
            case .fwmark: return nil
            }
        }

        /// The words of the line.
        public var words: [String] {
            switch self {
            case .address(let a, let p):
                return [a.description] + (p.map { [String($0)] } ?? [])
            case .range(let a, let b, let p):
                let last: String
                if a.lvsDiffersOnlyInLastPart(from: b) {
                    last = a.family == .inet ? String(b.lvsLastPart) : String(b.lvsLastPart, radix: 16)
                } else {
                    last = b.description
                }
                return ["\(a)-\(last)"] + (p.map { [String($0)] } ?? [])
            case .prefix(let a, let n, let p):
                return ["\(a)/\(n)"] + (p.map { [String($0)] } ?? [])
            case .fwmark(let m, let f):
                return ["fwmark", String(m)] + (f.map { [$0.rawValue] } ?? [])
            }
        }
    }

    public var name: String
    public var entries: [Entry]

    public init(name: String, entries: [Entry] = []) {
        self.name = name
        self.entries = entries
    }
}

// MARK: - Virtual server

/// `virtual_server IP [PORT] | fwmark N | group NAME { ... }`.
public struct VirtualServer: Codable, Hashable, Sendable {
    /// What the virtual server listens on.
    public enum Address: Codable, Hashable, Sendable {
        /// `virtual_server IP [PORT]`; the port may be omitted only for a persistent service.
        case ip(LVSEndpoint)
        /// `virtual_server fwmark N`.
        case fwmark(Int)
        /// `virtual_server group NAME`, naming a `virtual_server_group`.
        case group(String)

        /// The words after `virtual_server`.
        public var words: [String] {
            switch self {
            case .ip(let e): e.words
            case .fwmark(let m): ["fwmark", String(m)]
            case .group(let g): ["group", g]
            }
        }
    }

    public var address: Address
    /// `lvs_sched` / `lb_algo`; `wlc` (with a warning) when absent.
    public var scheduler: LVSScheduler = .wlc
    /// `hashed`.
    public var hashed: Bool = false
    /// `ops`: one-packet scheduling, UDP only.
    public var ops: Bool = false
    /// `flag-1` ... `mh-fallback`, in declaration order of ``LVSSchedulerFlag`` without repeats.
    public var schedulerFlags: [LVSSchedulerFlag] = []
    /// `lvs_method` / `lb_kind`; NAT by default. Real servers inherit it.
    public var forwarding: LVSForwardingMethod = .nat
    /// `protocol`; UDP (with a warning) when omitted on an address or group service. `nil` only for a
    /// fwmark service that does not name one (IPVS ignores the protocol of fwmark services).
    public var serviceProtocol: LVSProtocol?
    /// `persistence_timeout [SECS]` (360 when written without a value); `nil` = not persistent.
    public var persistenceTimeout: Int?
    /// `persistence_granularity`: an IPv4 netmask (`255.255.255.0`) or an IPv6 prefix length, as written.
    public var persistenceGranularity: String?
    /// `persistence_engine` (keepalived knows `sip`).
    public var persistenceEngine: String?
    /// `ha_suspend`: pause the checkers while the virtual address is not on this host.
    public var haSuspend: Bool = false
    /// `smtp_alert [BOOL]`; `nil` follows the global `smtp_alert` settings.
    public var smtpAlert: Bool?
    /// `virtualhost`: the default Host header of HTTP_GET / SSL_GET.
    public var virtualhost: String?
    /// `snmp_name`.
    public var snmpName: String?
    /// `alpha`: start every real server as down until its checkers succeed.
    public var alpha: Bool = false
    /// `omega`: run quorum and real-server down notifications at shutdown.
    public var omega: Bool = false
    /// `quorum`: the minimum total weight of live real servers (default 1).
    public var quorum: Int = 1
    /// `hysteresis`: tolerance around the quorum (default 0).
    public var hysteresis: Int = 0
    /// `quorum_up`.
    public var quorumUp: ScriptCommand?
    /// `quorum_down`.
    public var quorumDown: ScriptCommand?
    /// `ip_family` for fwmark services whose real servers are all tunnelled.
    public var ipFamily: AddressFamily?
    /// `sorry_server IP [PORT]`: put in service while the quorum is lost.
    public var sorryServer: LVSEndpoint?
    /// `sorry_server_inhibit`.
    public var sorryServerInhibit: Bool = false
    /// `sorry_server_lvs_method`; `nil` = the virtual server's ``forwarding``.
    public var sorryServerForwarding: LVSForwardingMethod?
    /// `connect_timeout` (default 5 s), inherited by real servers and checkers.
    public var connectTimeout: Seconds = 5
    /// `retry`; `nil` = the checker's own default (1, DNS_CHECK 3, MISC_CHECK 0).
    public var retry: Int?
    /// `delay_before_retry`; `nil` = the checker's own default (1 s, HTTP/SSL 3 s, DNS = delay_loop).
    public var delayBeforeRetry: Seconds?
    /// `warmup`; `nil` = delay_loop. 0 disables the random start delay.
    public var warmup: Seconds?
    /// `delay_loop` (default 60 s): the check period.
    public var delayLoop: Seconds = 60
    /// `inhibit_on_failure`: a failed real server keeps weight 0 instead of being removed.
    public var inhibitOnFailure: Bool = false
    /// `weight`: the default weight of the real servers; `nil` = 1.
    public var weight: Int?
    /// The `real_server` blocks, in order.
    public var realServers: [RealServer] = []

    public init(address: Address) {
        self.address = address
    }

    /// The IPVS scheduler flag bits (hashed, one-packet and the scheduler flags).
    public var ipvsFlags: UInt32 {
        var f: UInt32 = 0
        if hashed { f |= 0x0002 }
        if ops { f |= 0x0004 }  // IP_VS_SVC_F_ONEPACKET
        for flag in schedulerFlags { f |= flag.ipvsFlag }
        return f
    }
}

// MARK: - Real server

/// `real_server IP [PORT] { ... }`.
public struct RealServer: Codable, Hashable, Sendable {
    public var endpoint: LVSEndpoint
    /// `weight`; `nil` = the virtual server's `weight`, else 1. 0 is allowed.
    public var weight: Int?
    /// `lvs_method`; `nil` = the virtual server's method.
    public var forwarding: LVSForwardingMethod?
    /// `uthreshold`: the maximum number of connections (0 = none).
    public var upperThreshold: Int?
    /// `lthreshold`: the connection count below which the server is used again.
    public var lowerThreshold: Int?
    /// `inhibit_on_failure [BOOL]`; `nil` = the virtual server's setting.
    public var inhibitOnFailure: Bool?
    /// `notify_up`.
    public var notifyUp: ScriptCommand?
    /// `notify_down`.
    public var notifyDown: ScriptCommand?
    /// `alpha [BOOL]`; `nil` = the virtual server's setting.
    public var alpha: Bool?
    /// `retry`; `nil` = inherit.
    public var retry: Int?
    /// `delay_before_retry`; `nil` = inherit.
    public var delayBeforeRetry: Seconds?
    /// `warmup`; `nil` = inherit.
    public var warmup: Seconds?
    /// `connect_timeout`; `nil` = inherit.
    public var connectTimeout: Seconds?
    /// `delay_loop`; `nil` = inherit.
    public var delayLoop: Seconds?
    /// `smtp_alert [BOOL]`; `nil` follows the global settings.
    public var smtpAlert: Bool?
    /// `virtualhost`: the Host header of this server's HTTP checks unless a checker or url sets one.
    public var virtualhost: String?
    /// `snmp_name`.
    public var snmpName: String?
    /// The checker blocks, in order. A real server is up only when all of them are up.
    public var checkers: [HealthChecker] = []

    public init(endpoint: LVSEndpoint) {
        self.endpoint = endpoint
    }

    /// The weight IPVS is given: this server's, else the virtual server's `weight`, else 1.
    public func effectiveWeight(in vs: VirtualServer) -> Int { weight ?? vs.weight ?? 1 }

    /// The forwarding method: this server's, else the virtual server's.
    public func effectiveForwarding(in vs: VirtualServer) -> LVSForwardingMethod { forwarding ?? vs.forwarding }

    public func effectiveInhibitOnFailure(in vs: VirtualServer) -> Bool { inhibitOnFailure ?? vs.inhibitOnFailure }
}

// MARK: - Health checkers

/// One checker block of a real server.
///
/// ``connection`` holds the connection options and ``timing`` the scheduling options shared by
/// most checkers (MISC_CHECK accepts only the timing ones, FILE_CHECK and BFD_CHECK neither).
/// Every timing field is optional: `nil` means "inherit from the real server, then the virtual
/// server, then the checker's default" (see ``effectiveTiming(realServer:virtualServer:)``).
public struct HealthChecker: Codable, Hashable, Sendable {
    /// The connection options (`connect_ip`, `connect_port`, `bindto`, `bind_if`, `bind_port`, `fwmark`).
    public struct Connection: Codable, Hashable, Sendable {
        /// `connect_ip`; `nil` = the real server's address.
        public var connectIP: IPAddress?
        /// `connect_port`; `nil` = the real server's port.
        public var connectPort: Int?
        /// `bindto`: the source address.
        public var bindTo: IPAddress?
        /// `bind_if`: the source interface (needed for an IPv6 link-local `bindto`).
        public var bindInterface: String?
        /// `bind_port`: the source port.
        public var bindPort: Int?
        /// `fwmark`: the mark set on checker packets.
        public var fwmark: Int?

        public init() {}
    }

    /// The scheduling options; `nil` = inherit.
    public struct Timing: Codable, Hashable, Sendable {
        public var alpha: Bool?
        public var connectTimeout: Seconds?
        public var retry: Int?
        public var delayBeforeRetry: Seconds?
        public var warmup: Seconds?
        public var delayLoop: Seconds?
        /// `log_all_failures [BOOL]`; `nil` = the global `checker_log_all_failures`.
        public var logAllFailures: Bool?

        public init() {}
    }

    /// The resolved scheduling of a checker.
    public struct ResolvedTiming: Hashable, Sendable {
        public var alpha: Bool
        public var connectTimeout: Seconds
        public var retry: Int
        public var delayBeforeRetry: Seconds
        public var warmup: Seconds
        public var delayLoop: Seconds
        /// `nil` = the global `checker_log_all_failures` decides.
        public var logAllFailures: Bool?
    }

    /// The checker type and its specific options.
    public enum Kind: Codable, Hashable, Sendable {
        case tcp
        case http(HTTPCheck)
        case ssl(HTTPCheck)
        case smtp(SMTPCheck)
        case dns(DNSCheck)
        case misc(MiscCheck)
        case udp(UDPCheck)
        case ping
        case file(FileCheck)
        case bfd(BFDCheck)

        /// The block keyword (`TCP_CHECK`, `HTTP_GET`, ...).
        public var keyword: String {
            switch self {
            case .tcp: "TCP_CHECK"
            case .http: "HTTP_GET"
            case .ssl: "SSL_GET"
            case .smtp: "SMTP_CHECK"
            case .dns: "DNS_CHECK"
            case .misc: "MISC_CHECK"
            case .udp: "UDP_CHECK"
            case .ping: "PING_CHECK"
            case .file: "FILE_CHECK"
            case .bfd: "BFD_CHECK"
            }
        }
    }

    public var kind: Kind
    public var connection: Connection = Connection()
    public var timing: Timing = Timing()

    public init(kind: Kind) {
        self.kind = kind
    }

    /// keepalived's default `retry` for this checker: 1, DNS_CHECK 3, MISC_CHECK 0.
    public var defaultRetry: Int {
        switch kind {
        case .dns: 3
        case .misc: 0
        default: 1
        }
    }

    /// Resolves each timing option: the checker's, else the real server's, else the virtual
    /// server's, else the checker default (`delay_before_retry`: HTTP/SSL 3 s, DNS the resolved
    /// delay_loop, otherwise 1 s; `warmup`: the resolved delay_loop).
    public func effectiveTiming(realServer rs: RealServer, virtualServer vs: VirtualServer) -> ResolvedTiming {
        let delayLoop = timing.delayLoop ?? rs.delayLoop ?? vs.delayLoop
        let defaultDelayBeforeRetry: Seconds
        switch kind {
        case .http, .ssl: defaultDelayBeforeRetry = 3
        case .dns: defaultDelayBeforeRetry = delayLoop
        default: defaultDelayBeforeRetry = 1
        }
        return ResolvedTiming(
            alpha: timing.alpha ?? rs.alpha ?? vs.alpha,
            connectTimeout: timing.connectTimeout ?? rs.connectTimeout ?? vs.connectTimeout,
            retry: timing.retry ?? rs.retry ?? vs.retry ?? defaultRetry,
            delayBeforeRetry: timing.delayBeforeRetry ?? rs.delayBeforeRetry ?? vs.delayBeforeRetry ?? defaultDelayBeforeRetry,
            warmup: timing.warmup ?? rs.warmup ?? vs.warmup ?? delayLoop,
            delayLoop: delayLoop,
            logAllFailures: timing.logAllFailures)
    }
}

/// HTTP_GET / SSL_GET options.
public struct HTTPCheck: Codable, Hashable, Sendable {
    /// `http_protocol` (default 1.0).
    public var httpVersion: LVSHTTPVersion = .http10
    /// `fast_recovery [BOOL]`: check all urls back to back when recovering.
    public var fastRecovery: Bool = false
    /// `virtualhost`: the Host header unless a url sets one.
    public var virtualhost: String?
    /// The `url` blocks; every one must pass.
    public var urls: [URLCheck] = []
    /// `enable_sni` (SSL_GET only).
    public var enableSNI: Bool = false
    /// `sni_name` (SSL_GET only): the SNI to send instead of the virtual host.
    public var sniName: String?
    /// `tls_compliant` (SSL_GET only): close the connection with a TLS close_notify.
    public var tlsCompliant: Bool = false

    public init() {}
}

/// `url { ... }` of an HTTP_GET / SSL_GET checker.
public struct URLCheck: Codable, Hashable, Sendable {
    /// `regex_stack START MAX` (bytes).
    public struct RegexStack: Codable, Hashable, Sendable {
        public var start: Int
        public var max: Int
        public init(start: Int, max: Int) {
            self.start = start
            self.max = max
        }
    }

    /// `path` (required).
    public var path: String?
    /// `digest`: the MD5 of the body in hex (32 hex digits, as `genhash` prints).
    public var digest: String?
    /// `status_code`: codes and ranges; 200-299 when not written.
    public var statusCodes: [ClosedRange<Int>] = [200...299]
    /// `virtualhost`.
    public var virtualhost: String?
    /// `regex`: a PCRE2 pattern the body must match.
    public var regex: String?
    /// `regex_no_match`: the body must not match.
    public var regexNoMatch: Bool = false
    /// `regex_options`.
    public var regexOptions: [LVSRegexOption] = []
    /// `regex_stack`.
    public var regexStack: RegexStack?
    /// `regex_min_offset`.
    public var regexMinOffset: Int?
    /// `regex_max_offset`.
    public var regexMaxOffset: Int?

    public init(path: String? = nil) {
        self.path = path
    }

    /// Whether `status` is accepted.
    public func accepts(status: Int) -> Bool { statusCodes.contains { $0.contains(status) } }
}

/// SMTP_CHECK options.
public struct SMTPCheck: Codable, Hashable, Sendable {
    /// `helo_name`; keepalived sends its own host name when unset.
    public var heloName: String?
    /// Old-style `host { connect_ip ... }` blocks, each a server to check with the same settings.
    public var hosts: [HealthChecker.Connection] = []

    public init() {}
}

/// DNS_CHECK options.
public struct DNSCheck: Codable, Hashable, Sendable {
    /// `type` (default SOA).
    public var type: LVSDNSQueryType = .soa
    /// `name` (default `.`).
    public var name: String = "."

    public init() {}
}

/// MISC_CHECK options.
public struct MiscCheck: Codable, Hashable, Sendable {
    /// `misc_path`: the command line, parsed shell-style when run (required).
    public var path: String?
    /// `user USERNAME [GROUPNAME]`: who runs the command; `nil` = the default script user.
    public var user: String?
    /// The group of `user`; `nil` = the user's own group.
    public var group: String?
    /// `misc_timeout` in seconds; `nil` = the checker's delay_loop.
    public var timeout: Int?
    /// `misc_dynamic`: exit codes 2..255 set the weight to code - 2.
    public var dynamic: Bool = false

    public init() {}

    /// The command with its user, ready for the script runner.
    public var command: ScriptCommand? { path.map { ScriptCommand(command: $0, user: user, group: group) } }
}

/// UDP_CHECK options.
public struct UDPCheck: Codable, Hashable, Sendable {
    /// `require_reply [HEX]`: the reply bytes with a mask whose zero nibbles came from `x` wildcards.
    public struct ReplyPattern: Codable, Hashable, Sendable {
        public var bytes: [UInt8]
        public var mask: [UInt8]
        public init(bytes: [UInt8] = [], mask: [UInt8] = []) {
            self.bytes = bytes
            self.mask = mask
        }
    }

    /// `payload HEX`; `nil` = a random payload.
    public var payload: [UInt8]?
    /// `require_reply`; `nil` = no reply needed (ICMP errors alone mark the server down).
    public var requireReply: ReplyPattern?
    /// `min_reply_length` (default 0).
    public var minReplyLength: Int = 0
    /// `max_reply_length` (default 255).
    public var maxReplyLength: Int = 255

    public init() {}
}

/// FILE_CHECK options.
public struct FileCheck: Codable, Hashable, Sendable {
    /// `track_file NAME`, naming a root `track_file` block (required).
    public var trackFile: String?
    /// `dynamic`: the file's value adjusts the weight.
    public var dynamic: Bool = false
    /// `weight W [reverse]`; `nil` = the track_file's own weight.
    public var weight: TrackWeight?

    public init() {}
}

/// BFD_CHECK options.
public struct BFDCheck: Codable, Hashable, Sendable {
    /// `name`: the `bfd_instance` whose session state the real server follows (required).
    public var name: String?

    public init() {}
}
