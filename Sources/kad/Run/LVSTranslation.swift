import ConfigDSL
import IPVSControl
import NetLinux
import VRRPCore

/// Turns the LVS half of a keepalived configuration (`virtual_server`, `virtual_server_group`,
/// `real_server`, the checkers, and the `lvs_*` global settings) into what the daemon runs:
/// IPVS services, real-server policies and checker specifications (keepalived-compat §1.10, §4).
///
/// Pure: nothing is opened or started. Checkers are described by ``CheckSpec`` values, which are
/// `Hashable` so that a reload can tell an unchanged real server (its checker state carries over)
/// from a changed one; ``CheckSpec/make(runner:)`` builds the runnable checker.
///
/// What kad cannot run yet is a ``VRRPTranslation/Problem`` naming the block and the keyword
/// (`virtual_server 192.0.2.10 80: real_server 198.51.100.2 80: BFD_CHECK: not supported yet`);
/// the daemon refuses the file, as it does for the VRRP side.
enum LVSTranslation {
    /// How one checker attempt is made.
    enum CheckSpec: Sendable, Hashable {
        case tcp(CheckerConnection, timeout: Duration)
        case http(CheckerConnection, timeout: Duration, version: HTTPCheckVersion, virtualhost: String?,
                  urls: [HTTPURLCheck], tls: TLSCheckOptions?)
        case smtp(CheckerConnection, timeout: Duration, helo: String?)
        case dns(CheckerConnection, timeout: Duration, type: UInt16, name: String)
        case udp(CheckerConnection, timeout: Duration, payload: [UInt8], reply: IPVSControl.UDPCheck.ReplyPattern?,
                 minimum: Int, maximum: Int)
        case misc(Script, timeout: Duration, dynamic: Bool)
        case file(path: String, weight: Int, reverse: Bool, dynamic: Bool, base: Int)
        case ping(CheckerConnection, timeout: Duration)

        /// The checker itself (`runner` runs MISC_CHECK scripts).
        func make(runner: ScriptRunner) -> any HealthCheck {
            switch self {
            case let .tcp(c, t): return TCPCheck(connection: c, connectTimeout: t)
            case let .http(c, t, v, host, urls, tls):
                return IPVSControl.HTTPCheck(connection: c, connectTimeout: t, version: v, virtualhost: host, urls: urls, tls: tls)
            case let .smtp(c, t, helo): return IPVSControl.SMTPCheck(connection: c, connectTimeout: t, heloName: helo)
            case let .dns(c, t, type, name): return IPVSControl.DNSCheck(connection: c, connectTimeout: t, queryType: type, queryName: name)
            case let .udp(c, t, payload, reply, minimum, maximum):
                return IPVSControl.UDPCheck(connection: c, connectTimeout: t, payload: payload, requireReply: reply,
                                            minReplyLength: minimum, maxReplyLength: maximum)
            case let .misc(script, t, dynamic): return IPVSControl.MiscCheck(script: script, runner: runner, timeout: t, dynamic: dynamic)
            case let .file(path, weight, reverse, dynamic, base):
                return IPVSControl.FileCheck(path: path, weight: weight, reverse: reverse, dynamic: dynamic, baseWeight: base)
            case let .ping(c, t): return IPVSControl.PingCheck(connection: c, connectTimeout: t)
            }
        }
    }

    /// One checker block: what it does and when.
    struct Checker: Sendable, Hashable {
        var spec: CheckSpec
        var timing: CheckerTiming
    }

    /// One `real_server`.
    struct RealServerPlan: Sendable, Hashable {
        /// The destination at its configured weight, method, thresholds and tunnel.
        var destination: IPVSDestination
        var inhibitOnFailure: Bool
        var checkers: [Checker]
        var notifyUp: Script?
        var notifyDown: Script?

        var key: IPVSDestinationKey { destination.key }
        /// Up at start unless a checker has `alpha`.
        var startsUp: Bool { !checkers.contains { $0.timing.alpha } }
    }

    /// One `virtual_server` (with its group expanded).
    struct VirtualServerPlan: Sendable, Hashable {
        /// `TCP 192.0.2.10 80`, `FWM 5`, `TCP group web`: unique in a configuration; a reload
        /// matches virtual servers by it.
        var id: String
        /// The IPVS services (one, or one per address of a group).
        var services: [IPVSService]
        var policy: IPVSVirtualServerPolicy
        var realServers: [RealServerPlan]
        var quorumUp: Script?
        var quorumDown: Script?
        /// `omega`: notify_down / quorum_down at shutdown.
        var omega: Bool
        /// `ha_suspend`: the service addresses; the checkers are suspended while none of them is
        /// a local address (nil: never suspended).
        var haSuspend: Set<VRRPCore.IPAddress>? = nil

        var serviceKeys: [IPVSService.Key] { services.map(\.key) }

        /// The initial verdicts: each real server up (down with `alpha`) at its configured
        /// weight, quorum from that live weight.
        var initialState: IPVSVirtualServerPolicy.State {
            var state = IPVSVirtualServerPolicy.State()
            for rs in realServers {
                state.realServers[rs.key] = .init(up: rs.startsUp, weight: rs.destination.weight)
            }
            let live = policy.liveWeight(state)
            state.hasQuorum = live > 0 && live >= UInt64(policy.quorum)
            return state
        }
    }

    /// What happens to the IPVS table at stop.
    enum StopMode: Sendable, Hashable {
        /// keepalived's default: delete the services kad manages.
        case removeOwned
        /// `lvs_flush_on_stop`: flush the whole table.
        case flush
    }

    /// `lvs_sync_daemon IF [inst] VI [id N] [maxlen N] [port N] [ttl N] [group IP]`: an IPVS
    /// connection-sync daemon that runs as master while the VRRP instance `instance` is MASTER
    /// and as backup otherwise.
    struct SyncDaemonPlan: Sendable, Hashable {
        var interface: String
        var instance: String
        /// `id`, else the instance's VRID.
        var syncID: UInt32
        /// `nil`: the kernel's default (port 8848, TTL 1, group 224.0.0.81).
        var maximumLength: UInt16?
        var port: UInt16?
        var ttl: UInt8?
        var group: VRRPCore.IPAddress?

        func daemon(_ state: IPVSSyncDaemon.State) -> IPVSSyncDaemon {
            IPVSSyncDaemon(state: state, interface: interface, syncID: syncID, maximumLength: maximumLength,
                           group: group, port: port, ttl: ttl)
        }
    }

    struct Result: Sendable {
        var virtualServers: [VirtualServerPlan] = []
        /// `lvs_timeouts`: set at start and when a reload changes them (0 leaves one as it is).
        var timeouts: IPVSTimeouts?
        /// `lvs_sync_daemon`.
        var syncDaemon: SyncDaemonPlan?
        var problems: [VRRPTranslation.Problem] = []
        /// Warnings about the global settings.
        var warnings: [String] = []
        /// What is worth knowing about each virtual server without walking its real servers,
        /// parallel to `virtualServers`, so a reload that translates only some keeps the others'.
        var notes: [VirtualServerNotes] = []
        /// Every warning.
        var allWarnings: [String] { warnings + notes.lazy.map(\.warnings).joined() }
        /// `lvs_flush`: flush the table at start.
        var flushAtStart = false
        var stopMode = StopMode.removeOwned

        /// Whether the daemon needs the IPVS netlink family at all.
        var needsIPVS: Bool { !virtualServers.isEmpty || timeouts != nil || syncDaemon != nil }

        /// Whether a real server has a PING_CHECK (the daemon then widens
        /// `net.ipv4.ping_group_range`).
        var hasPingCheck: Bool { notes.contains { $0.hasPingCheck } }

        /// Every script the LVS side runs (for the capability check).
        var scripts: [Script] { Array(notes.lazy.map(\.scripts).joined()) }
    }

    /// One virtual server's warnings, scripts and PING_CHECKs.
    struct VirtualServerNotes: Sendable {
        var warnings: [String]
        var scripts: [Script] = []
        var hasPingCheck = false

        init(_ plan: VirtualServerPlan, warnings: [String]) {
            self.warnings = warnings
            if let s = plan.quorumUp { scripts.append(s) }
            if let s = plan.quorumDown { scripts.append(s) }
            for rs in plan.realServers {
                if let s = rs.notifyUp { scripts.append(s) }
                if let s = rs.notifyDown { scripts.append(s) }
                for c in rs.checkers {
                    switch c.spec {
                    case .misc(let s, _, _): scripts.append(s)
                    case .ping: hasPingCheck = true
                    default: break
                    }
                }
            }
        }
    }

    /// Translates the LVS blocks of `config`; scripts are prepared (and their problems recorded)
    /// by `scripts`, so the file is refused for a bad `notify_up` as for a bad `notify_master`.
    static func translate(_ config: KeepalivedConfig, scripts: inout ScriptPreparer) -> Result {
        var t = LVSTranslator(config: config)
        t.run(&scripts)
        return t.result
    }

    /// Translates only the virtual servers that `edits` name (`new` ranges of
    /// `config.virtualServers`), taking every other one from `previous`, the translation of the
    /// configuration the edits start from (their `old` ranges). The global settings are
    /// translated again. Nil when the result would need a whole translation to be right (a
    /// virtual server defined twice, or `previous` not one plan per virtual server).
    static func translate(_ config: KeepalivedConfig, edits: [VirtualServerEdit], previous: Result,
                          previousCount: Int, scripts: inout ScriptPreparer) -> Result? {
        guard previous.virtualServers.count == previousCount, previous.notes.count == previousCount,
              edits.allSatisfy({ $0.old.upperBound <= previousCount && $0.new.upperBound <= config.virtualServers.count })
        else { return nil }
        var t = LVSTranslator(config: config)
        t.globals()
        var plans = previous.virtualServers
        var notes = previous.notes
        // Translated in file order (problems are reported so), replaced from the end (the old
        // ranges stay valid).
        var replacements: [(old: Range<Int>, plans: [LVSTranslation.VirtualServerPlan], notes: [VirtualServerNotes])] = []
        for e in edits {
            var added: [LVSTranslation.VirtualServerPlan] = []
            var addedNotes: [VirtualServerNotes] = []
            for i in e.new {
                let (plan, w) = t.one(config.virtualServers[i], &scripts)
                guard let plan else { continue }
                added.append(plan)
                addedNotes.append(VirtualServerNotes(plan, warnings: w))
            }
            replacements.append((e.old, added, addedNotes))
        }
        for r in replacements.reversed() {
            plans.replaceSubrange(r.old, with: r.plans)
            notes.replaceSubrange(r.old, with: r.notes)
        }
        guard t.result.problems.isEmpty else { return t.result }
        var ids = Set<String>()
        ids.reserveCapacity(plans.count)
        // By index: only each plan's id is touched, not a copy of the whole plan.
        for i in plans.indices where !ids.insert(plans[i].id).inserted { return nil }
        t.result.virtualServers = plans
        t.result.notes = notes
        return t.result
    }

    /// The global `lvs_sync_daemon` alone: with `-P` (VRRP only) the virtual servers are not
    /// translated, but the sync daemon belongs to the VRRP side (keepalived's VRRP process runs it).
    static func translateSyncDaemon(_ config: KeepalivedConfig) -> Result {
        var t = LVSTranslator(config: config)
        t.syncDaemon()
        return t.result
    }

    static func address(_ a: ConfigDSL.IPAddress) -> VRRPCore.IPAddress {
        VRRPCore.IPAddress(bytes: a.bytes)!
    }
}

private struct LVSTranslator {
    let config: KeepalivedConfig
    var result = LVSTranslation.Result()

    init(config: KeepalivedConfig) { self.config = config }

    mutating func refuse(_ owner: String?, _ keyword: String, _ message: String = "not supported yet") {
        result.problems.append(VRRPTranslation.Problem(instance: owner, keyword: keyword, message: message))
    }

    mutating func run(_ scripts: inout ScriptPreparer) {
        globals()
        var seen: Set<String> = []
        for vs in config.virtualServers {
            let (plan, warnings) = one(vs, &scripts)
            guard let plan else { continue }
            if !seen.insert(plan.id).inserted {
                refuse("virtual_server \(vs.address.words.joined(separator: " "))", "virtual_server",
                       "defined twice (\(plan.id))")
                continue
            }
            result.virtualServers.append(plan)
            result.notes.append(LVSTranslation.VirtualServerNotes(plan, warnings: warnings))
        }
    }

    /// One virtual server, and the warnings about it (its scripts' stay with `scripts`, which
    /// the caller logs; a partial translation runs only while no virtual server has a script).
    mutating func one(_ vs: VirtualServer, _ scripts: inout ScriptPreparer) -> (LVSTranslation.VirtualServerPlan?, [String]) {
        let warningsBefore = result.warnings.count
        let plan = virtualServer(vs, &scripts)
        let warnings = Array(result.warnings[warningsBefore...])
        result.warnings.removeSubrange(warningsBefore...)
        return (plan, warnings)
    }

    /// The `lvs_*` global settings.
    mutating func globals() {
        let g = config.globalDefs
        syncDaemon()
        if g.nftablesIPVS != nil { refuse(nil, "nftables_ipvs") }
        if let words = g.lvsTimeouts { timeouts(words) }
        if let ns = config.netNamespaceIPVS, !ns.isEmpty { refuse(nil, "net_namespace_ipvs") }
        result.flushAtStart = g.lvsFlush
        if let words = g.lvsFlushOnStop {
            // Without a word: flush everything. `VS`: delete only the virtual servers (what kad
            // does anyway, one DEL_SERVICE each).
            result.stopMode = words.isEmpty ? .flush : .removeOwned
        }
    }

    /// `lvs_timeouts [tcp S] [tcpfin S] [udp S]`, in any order.
    mutating func timeouts(_ words: [String]) {
        var t = IPVSTimeouts()
        var i = 0
        var seen: Set<String> = []
        while i < words.count {
            let word = words[i]
            guard ["tcp", "tcpfin", "udp"].contains(word) else {
                refuse(nil, "lvs_timeouts", "unknown word '\(word)' (expected tcp, tcpfin or udp)")
                return
            }
            guard seen.insert(word).inserted else {
                refuse(nil, "lvs_timeouts", "\(word) given twice")
                return
            }
            // The kernel keeps timeouts in jiffies in an int: up to 2147483 s at HZ 1000.
            guard i + 1 < words.count, let n = UInt32(words[i + 1]), n <= 2_147_483 else {
                refuse(nil, "lvs_timeouts", "\(word) needs a number of seconds from 0 to 2147483")
                return
            }
            switch word {
            case "tcp": t.tcp = n
            case "tcpfin": t.tcpFin = n
            default: t.udp = n
            }
            i += 2
        }
        result.timeouts = t
    }

    /// `lvs_sync_daemon IF [inst] VI [id N] [maxlen N] [port N] [ttl N] [group IP]`.
    mutating func syncDaemon() {
        guard let words = config.globalDefs.lvsSyncDaemon, let interface = words.first else { return }
        let keywords: Set<String> = ["id", "maxlen", "port", "ttl", "group"]
        var i = 1
        var instance: String?
        if i < words.count, words[i] == "inst" { i += 1 }
        if i < words.count, !keywords.contains(words[i]) {
            instance = words[i]
            i += 1
        }
        guard let instance else {
            refuse(nil, "lvs_sync_daemon", "needs a VRRP instance (its state decides whether the sync daemon is master or backup)")
            return
        }
        guard let vi = config.vrrpInstances.first(where: { $0.name == instance }) else {
            refuse(nil, "lvs_sync_daemon", "no vrrp_instance \(instance)")
            return
        }
        guard interface.utf8.count <= 15 else {
            refuse(nil, "lvs_sync_daemon", "'\(interface)' is not an interface name (at most 15 bytes)")
            return
        }
        var plan = LVSTranslation.SyncDaemonPlan(interface: interface, instance: instance,
                                                 syncID: UInt32(clamping: vi.virtualRouterID ?? 0))
        while i < words.count {
            let word = words[i]
            guard keywords.contains(word), i + 1 < words.count else {
                refuse(nil, "lvs_sync_daemon", "unexpected '\(word)' (expected id, maxlen, port, ttl or group and a value)")
                return
            }
            let value = words[i + 1]
            func number(_ range: ClosedRange<Int>) -> Int? {
                guard let n = Int(value), range.contains(n) else { return nil }
                return n
            }
            switch word {
            case "id":
                guard let n = number(0...255) else { return refuse(nil, "lvs_sync_daemon", "id must be 0 to 255") }
                plan.syncID = UInt32(n)
            case "maxlen":
                guard let n = number(1...65507) else { return refuse(nil, "lvs_sync_daemon", "maxlen must be 1 to 65507") }
                plan.maximumLength = UInt16(n)
            case "port":
                guard let n = number(1...65535) else { return refuse(nil, "lvs_sync_daemon", "port must be 1 to 65535") }
                plan.port = UInt16(n)
            case "ttl":
                guard let n = number(1...255) else { return refuse(nil, "lvs_sync_daemon", "ttl must be 1 to 255") }
                plan.ttl = UInt8(n)
            default:
                guard let a = VRRPCore.IPAddress(value), a.isMulticast else {
                    return refuse(nil, "lvs_sync_daemon", "group '\(value)' is not a multicast address")
                }
                plan.group = a
            }
            i += 2
        }
        result.syncDaemon = plan
    }

    func owner(_ vs: VirtualServer) -> String { "virtual_server \(vs.address.words.joined(separator: " "))" }

    mutating func virtualServer(_ vs: VirtualServer, _ scripts: inout ScriptPreparer) -> LVSTranslation.VirtualServerPlan? {
        let owner = owner(vs)
        let problemsBefore = result.problems.count
        if vs.smtpAlert == true { refuse(owner, "smtp_alert") }
        guard let scheduler = IPVSScheduler(vs.scheduler.rawValue) else {
            refuse(owner, "lvs_sched", "unknown scheduler \(vs.scheduler.rawValue)")
            return nil
        }
        let proto: IPVSProtocol = switch vs.serviceProtocol ?? .udp {
        case .tcp: .tcp
        case .udp: .udp
        case .sctp: .sctp
        }
        var flags: IPVSServiceFlags = []
        if vs.ops {
            if proto == .udp || vs.serviceProtocol == nil { flags.insert(.onePacket) } else {
                result.warnings.append("\(owner): ops applies to UDP services only; ignored")
            }
        }
        for f in vs.schedulerFlags { flags.insert(IPVSServiceFlags(rawValue: f.ipvsFlag)) }

        // The family of a fwmark service: ip_family, else the first real server's.
        let firstRS = vs.realServers.first.map { LVSTranslation.address($0.endpoint.address).family }
        let fwmarkFamily: IPAddressFamily = vs.ipFamily.map { $0 == .inet6 ? .ipv6 : .ipv4 } ?? firstRS ?? .ipv4

        var keys: [IPVSService.Key] = []
        var vsPort: UInt16 = 0
        let id: String
        switch vs.address {
        case .ip(let e):
            vsPort = UInt16(clamping: e.port ?? 0)
            keys = [.address(protocol: proto, address: LVSTranslation.address(e.address), port: vsPort)]
            id = "\(proto) \(e.words.joined(separator: " "))"
        case .fwmark(let m):
            keys = [.firewallMark(UInt32(clamping: m), family: fwmarkFamily)]
            id = "FWM \(m)" + (fwmarkFamily == .ipv6 ? " IPv6" : "")
        case .group(let name):
            id = "\(proto) group \(name)"
            guard let group = config.virtualServerGroups.first(where: { $0.name == name }) else {
                refuse(owner, "group", "no virtual_server_group \(name)")
                return nil
            }
            let entries: [IPVSGroupEntry] = group.entries.map { e in
                switch e {
                case .address(let a, let p): .address(LVSTranslation.address(a), port: UInt16(clamping: p ?? 0))
                case .range(let a, let b, let p):
                    .range(first: LVSTranslation.address(a), last: LVSTranslation.address(b), port: UInt16(clamping: p ?? 0))
                case .prefix(let a, let n, let p): .prefix(LVSTranslation.address(a), length: n, port: UInt16(clamping: p ?? 0))
                case .fwmark(let m, let f):
                    .firewallMark(UInt32(clamping: m), family: f.map { $0 == .inet6 ? .ipv6 : .ipv4 } ?? fwmarkFamily)
                }
            }
            do {
                keys = try IPVSGroupEntry.serviceKeys(entries, protocol: proto)
            } catch {
                refuse(owner, "virtual_server_group \(name)", error.description)
                return nil
            }
            if keys.isEmpty {
                refuse(owner, "virtual_server_group \(name)", "the group is empty")
                return nil
            }
            vsPort = group.entries.compactMap(\.port).first.map { UInt16(clamping: $0) } ?? 0
        }

        // ha_suspend: the checkers run only while one of the service addresses is on this box.
        var haSuspend: Set<VRRPCore.IPAddress>?
        if vs.haSuspend {
            let addresses = keys.compactMap { key -> VRRPCore.IPAddress? in
                if case .address(_, let a, _) = key { return a }
                return nil
            }
            if addresses.isEmpty {
                refuse(owner, "ha_suspend", "needs a virtual server with an address (a fwmark has none to look for)")
            } else {
                haSuspend = Set(addresses)
            }
        }

        var services: [IPVSService] = []
        for key in keys {
            var s = IPVSService(key, scheduler: scheduler, flags: flags, persistenceEngine: vs.persistenceEngine)
            if let timeout = vs.persistenceTimeout {
                s.persistenceTimeout = UInt32(clamping: timeout)
                if let granularity = vs.persistenceGranularity {
                    guard let mask = netmask(granularity, family: key.family) else {
                        refuse(owner, "persistence_granularity", "'\(granularity)' is not a netmask of the service's family")
                        return nil
                    }
                    s.netmask = mask
                }
            }
            services.append(s)
        }

        var realServers: [LVSTranslation.RealServerPlan] = []
        var seen: Set<IPVSDestinationKey> = []
        for rs in vs.realServers {
            if let plan = realServer(rs, in: vs, owner: owner, vsPort: vsPort, &scripts) {
                guard seen.insert(plan.key).inserted else {
                    refuse(owner, "real_server \(rs.endpoint)", "defined twice")
                    continue
                }
                realServers.append(plan)
            }
        }
        var sorry: IPVSDestination?
        if let e = vs.sorryServer {
            sorry = IPVSDestination(address: LVSTranslation.address(e.address), port: UInt16(clamping: e.port ?? Int(vsPort)), weight: 1)
            Self.apply(vs.sorryServerForwarding ?? vs.forwarding, to: &sorry!)
        }
        let policy = IPVSVirtualServerPolicy(
            realServers: realServers.map { .init($0.destination, inhibitOnFailure: $0.inhibitOnFailure) },
            quorum: UInt32(clamping: vs.quorum), hysteresis: UInt32(clamping: vs.hysteresis),
            sorryServer: sorry, sorryServerInhibit: vs.sorryServerInhibit)
        let up = vs.quorumUp.flatMap { scripts.prepare($0, name: "quorum_up \(id)", owner: owner, keyword: "quorum_up") }
        let down = vs.quorumDown.flatMap { scripts.prepare($0, name: "quorum_down \(id)", owner: owner, keyword: "quorum_down") }
        guard result.problems.count == problemsBefore else { return nil }
        return LVSTranslation.VirtualServerPlan(id: id, services: services, policy: policy, realServers: realServers,
                                                quorumUp: up, quorumDown: down, omega: vs.omega, haSuspend: haSuspend)
    }

    /// `persistence_granularity`: a dotted IPv4 mask, or a prefix length.
    func netmask(_ text: String, family: IPAddressFamily) -> IPVSNetmask? {
        if let n = Int(text) {
            switch family {
            case .ipv4: return (1...32).contains(n) ? .ipv4(prefixLength: n) : nil
            case .ipv6: return (1...128).contains(n) ? .ipv6(prefixLength: UInt8(n)) : nil
            }
        }
        guard family == .ipv4, let a = VRRPCore.IPAddress(text), a.family == .ipv4 else { return nil }
        return .ipv4(mask: a.ipv4Value)
    }

    static func apply(_ method: LVSForwardingMethod, to d: inout IPVSDestination) {
        switch method {
        case .nat: d.forwarding = .masquerade
        case .dr: d.forwarding = .directRouting
        case .tun(let t):
            d.forwarding = .tunnel
            switch t.type {
            case .ipip: d.tunnelType = .ipip
            case .gue: d.tunnelType = .gue
            case .gre: d.tunnelType = .gre
            }
            d.tunnelPort = UInt16(clamping: t.port ?? 0)
            switch t.checksum {
            case .csum?: d.tunnelFlags = .checksum
            case .remcsum?: d.tunnelFlags = .remoteChecksum
            case .nocsum?, nil: d.tunnelFlags = []
            }
        }
    }

    mutating func realServer(_ rs: RealServer, in vs: VirtualServer, owner vsOwner: String, vsPort: UInt16,
                             _ scripts: inout ScriptPreparer) -> LVSTranslation.RealServerPlan? {
        let owner = "\(vsOwner): real_server \(rs.endpoint)"
        let before = result.problems.count
        if rs.smtpAlert == true { refuse(owner, "smtp_alert") }
        let address = LVSTranslation.address(rs.endpoint.address)
        let port = UInt16(clamping: rs.endpoint.port ?? Int(vsPort))
        let weight = rs.effectiveWeight(in: vs)
        guard weight >= 0 else {
            refuse(owner, "weight", "must not be negative")
            return nil
        }
        var d = IPVSDestination(address: address, port: port, weight: UInt32(clamping: weight),
                                upperThreshold: UInt32(clamping: rs.upperThreshold ?? 0),
                                lowerThreshold: UInt32(clamping: rs.lowerThreshold ?? 0))
        Self.apply(rs.effectiveForwarding(in: vs), to: &d)
        var checkers: [LVSTranslation.Checker] = []
        for (i, c) in rs.checkers.enumerated() {
            let where_ = "\(owner): \(c.kind.keyword)" + (rs.checkers.count > 1 ? " #\(i + 1)" : "")
            if let checker = checker(c, rs: rs, vs: vs, address: address, port: port, owner: where_, &scripts) {
                checkers.append(checker)
            }
        }
        let up = rs.notifyUp.flatMap { scripts.prepare($0, name: "notify_up \(rs.endpoint)", owner: owner, keyword: "notify_up") }
        let down = rs.notifyDown.flatMap { scripts.prepare($0, name: "notify_down \(rs.endpoint)", owner: owner, keyword: "notify_down") }
        guard result.problems.count == before else { return nil }
        return LVSTranslation.RealServerPlan(destination: d, inhibitOnFailure: rs.effectiveInhibitOnFailure(in: vs),
                                             checkers: checkers, notifyUp: up, notifyDown: down)
    }

    mutating func checker(_ c: HealthChecker, rs: RealServer, vs: VirtualServer, address: VRRPCore.IPAddress, port: UInt16,
                          owner: String, _ scripts: inout ScriptPreparer) -> LVSTranslation.Checker? {
        let r = c.effectiveTiming(realServer: rs, virtualServer: vs)
        let timing = CheckerTiming(
            alpha: r.alpha, connectTimeout: CheckerTiming.duration(seconds: r.connectTimeout), retry: r.retry,
            delayBeforeRetry: CheckerTiming.duration(seconds: r.delayBeforeRetry),
            warmup: CheckerTiming.duration(seconds: r.warmup), delayLoop: CheckerTiming.duration(seconds: r.delayLoop),
            logAllFailures: r.logAllFailures ?? config.globalDefs.checkerLogAllFailures)
        var connection = CheckerConnection(address: c.connection.connectIP.map(LVSTranslation.address) ?? address,
                                           port: c.connection.connectPort.map { UInt16(clamping: $0) } ?? port)
        connection.bindAddress = c.connection.bindTo.map(LVSTranslation.address)
        connection.bindInterface = c.connection.bindInterface
        connection.bindPort = c.connection.bindPort.map { UInt16(clamping: $0) }
        connection.fwmark = c.connection.fwmark.map { UInt32(clamping: $0) }
        let timeout = timing.connectTimeout
        let spec: LVSTranslation.CheckSpec
        switch c.kind {
        case .tcp:
            spec = .tcp(connection, timeout: timeout)
        case .http(let h), .ssl(let h):
            var tls: TLSCheckOptions?
            if case .ssl = c.kind {
                if h.tlsCompliant { refuse(owner, "tls_compliant") }
                let ssl = config.ssl ?? SSLConfig()
                tls = TLSCheckOptions(enableSNI: h.enableSNI, sniName: h.sniName, certificateFile: ssl.certificate,
                                      keyFile: ssl.key, keyPassword: ssl.password, caFile: ssl.ca)
            }
            if h.fastRecovery { refuse(owner, "fast_recovery") }
            var urls: [HTTPURLCheck] = []
            for u in h.urls {
                if let pattern = u.regex {
                    if let problem = HTTPURLCheck.regexProblem(pattern) { refuse(owner, "url regex", problem) }
                    if !u.regexOptions.isEmpty { refuse(owner, "regex_options", "not supported (kad uses Swift Regex, not PCRE2)") }
                    if u.regexStack != nil { refuse(owner, "regex_stack", "not supported (kad uses Swift Regex, not PCRE2)") }
                    if u.regexMinOffset != nil { refuse(owner, "regex_min_offset", "not supported yet") }
                    if u.regexMaxOffset != nil { refuse(owner, "regex_max_offset", "not supported yet") }
                } else if u.regexNoMatch {
                    refuse(owner, "regex_no_match", "needs a regex")
                }
                guard let path = u.path else {
                    refuse(owner, "url", "has no path")
                    continue
                }
                urls.append(HTTPURLCheck(path: path, digest: u.digest, statusCodes: u.statusCodes, virtualhost: u.virtualhost,
                                         regex: u.regex, regexNoMatch: u.regexNoMatch))
            }
            if urls.isEmpty { refuse(owner, "url", "\(c.kind.keyword) needs at least one url") }
            let version: HTTPCheckVersion = switch h.httpVersion {
            case .http10: .http10
            case .http10Close: .http10Close
            case .http11: .http11
            }
            spec = .http(connection, timeout: timeout, version: version, virtualhost: h.virtualhost ?? rs.virtualhost ?? vs.virtualhost,
                         urls: urls, tls: tls)
        case .smtp(let s):
            if !s.hosts.isEmpty { refuse(owner, "host", "SMTP_CHECK host {} blocks are not supported yet (use one SMTP_CHECK per server)") }
            spec = .smtp(connection, timeout: timeout, helo: s.heloName)
        case .dns(let d):
            spec = .dns(connection, timeout: timeout, type: d.type.code, name: d.name)
        case .udp(let u):
            let reply = u.requireReply.map { IPVSControl.UDPCheck.ReplyPattern(bytes: $0.bytes, mask: $0.mask) }
            spec = .udp(connection, timeout: timeout, payload: u.payload ?? [], reply: reply,
                        minimum: u.minReplyLength, maximum: u.maxReplyLength)
        case .misc(let m):
            guard let command = m.command else {
                refuse(owner, "misc_path", "missing")
                return nil
            }
            guard let script = scripts.prepare(command, name: "MISC_CHECK \(command.command)", owner: owner, keyword: "misc_path") else {
                return nil
            }
            let t = m.timeout.map { Duration.seconds($0) } ?? timing.delayLoop
            spec = .misc(script, timeout: t, dynamic: m.dynamic)
        case .file(let f):
            guard let name = f.trackFile, let tracked = config.trackFiles.first(where: { $0.name == name }), let path = tracked.file else {
                refuse(owner, "track_file", "names no track_file with a file")
                return nil
            }
            let w = f.weight ?? tracked.weight
            spec = .file(path: path, weight: w.weight, reverse: w.reverse, dynamic: f.dynamic, base: rs.effectiveWeight(in: vs))
        case .ping:
            spec = .ping(connection, timeout: timeout)
        case .bfd:
            refuse(owner, "BFD_CHECK", "not supported yet (kad has no BFD)")
            return nil
        }
        return LVSTranslation.Checker(spec: spec, timing: timing)
    }
}
