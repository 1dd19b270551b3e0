#if canImport(Glibc)
import Glibc
#endif

/// Host facts that validation may consult. `kad check` often runs on another machine than the
/// one the file is for, so a missing interface is a warning there and an error when running.
public struct HostEnvironment: Sendable {
    /// Whether an interface of this name exists; `nil` skips the check.
    public var interfaceExists: (@Sendable (String) -> Bool)?
    /// How a missing interface is reported.
    public var missingInterfaceSeverity: Severity
    /// Whether script files are looked at on this host (existence and write permissions).
    public var inspectScriptFiles: Bool

    public init(
        interfaceExists: (@Sendable (String) -> Bool)? = nil, missingInterfaceSeverity: Severity = .warning,
        inspectScriptFiles: Bool = true
    ) {
        self.interfaceExists = interfaceExists
        self.missingInterfaceSeverity = missingInterfaceSeverity
        self.inspectScriptFiles = inspectScriptFiles
    }
}

/// keepalived's semantic rules for the VRRP side of a configuration: required keywords,
/// references that must resolve, VRID clashes, address families, unicast, VMAC, preemption,
/// strict mode and script security. Every problem is reported; nothing stops at the first.
struct Validator {
    let config: KeepalivedConfig
    let map: SourceMap
    let host: HostEnvironment
    var diagnostics = Diagnostics()

    init(config: KeepalivedConfig, map: SourceMap, host: HostEnvironment) {
        self.config = config
        self.map = map
        self.host = host
    }

    mutating func run() -> [Diagnostic] {
        checkGlobals()
        for instance in config.vrrpInstances { checkInstance(instance) }
        checkVRIDClashes()
        checkSyncGroups()
        checkTrackers()
        checkStatics()
        checkScripts()
        var lvs = Diagnostics()
        LVSValidation.validate(
            virtualServers: config.virtualServers, groups: config.virtualServerGroups, ssl: config.ssl,
            trackFileNames: Set(config.trackFiles.map(\.name)), bfdNames: Set(config.bfdInstances.map(\.name)),
            sourceMap: map, diagnostics: &lvs)
        diagnostics.append(contentsOf: lvs.all)
        return diagnostics.all
    }

    /// The checks of `virtualServers` read on their own (see ``ConfigLoader/load(path:previous:)``):
    /// each block's own rules, its references into `config` (groups, track files, BFD), and its
    /// scripts under `config`'s script security. What relates them to the rest of `config`
    /// (duplicates, the SSL block) is left to the caller.
    static func validate(virtualServers: [VirtualServer], in config: KeepalivedConfig, map: SourceMap,
                         host: HostEnvironment) -> [Diagnostic] {
        var lvs = Diagnostics()
        LVSValidation.validate(
            virtualServers: virtualServers, groups: config.virtualServerGroups, ssl: nil,
            trackFileNames: Set(config.trackFiles.map(\.name)), bfdNames: Set(config.bfdInstances.map(\.name)),
            sourceMap: map, diagnostics: &lvs, checkingGroups: false)
        var alone = KeepalivedConfig()
        alone.globalDefs.enableScriptSecurity = config.globalDefs.enableScriptSecurity
        alone.virtualServers = virtualServers
        var validator = Validator(config: alone, map: map, host: host)
        validator.checkScripts()
        return lvs.all + validator.diagnostics.all
    }

    // MARK: helpers

    mutating func error(_ code: String, _ message: String, _ path: String, _ keyword: String? = nil, hint: String? = nil) {
        diagnostics.error(code, message, at: map.location(path, keyword), hint: hint)
    }

    mutating func warning(_ code: String, _ message: String, _ path: String, _ keyword: String? = nil, hint: String? = nil) {
        diagnostics.warning(code, message, at: map.location(path, keyword), hint: hint)
    }

    mutating func checkInterface(_ name: String, _ path: String, _ keyword: String?, what: String) {
        guard let exists = host.interfaceExists, !exists(name) else { return }
        diagnostics.append(
            Diagnostic(
                host.missingInterfaceSeverity, "no-such-interface", "\(what) '\(name)' does not exist on this host",
                at: map.location(path, keyword),
                hint: host.missingInterfaceSeverity == .warning ? "fine if the file is for another machine; kad run refuses it" : "check the name with 'ip link'"))
    }

    var strictGlobal: Bool { config.globalDefs.vrrpStrict }

    // MARK: global_defs

    mutating func checkGlobals() {
        let g = config.globalDefs
        if let a = g.vrrpMulticastGroup4, a.family != .inet || !a.isMulticast {
            error("bad-address", "vrrp_mcast_group4 \(a) is not an IPv4 multicast address", "global_defs", "vrrp_mcast_group4")
        }
        if let a = g.vrrpMulticastGroup6, a.family != .inet6 || !a.isMulticast {
            error("bad-address", "vrrp_mcast_group6 \(a) is not an IPv6 multicast address", "global_defs", "vrrp_mcast_group6")
        }
        if g.vrrpStrict, g.vrrpDownTimerAdverts != 3 {
            warning("strict-mode", "vrrp_strict fixes vrrp_down_timer_adverts at 3", "global_defs", "vrrp_down_timer_adverts")
        }
    }

    // MARK: vrrp_instance

    mutating func checkInstance(_ i: VRRPInstance) {
        let path = "vrrp_instance \(i.name)"
        let strict = i.strictMode ?? strictGlobal
        // A virtual_router_id line that failed to decode has already been reported.
        if i.virtualRouterID == nil, !map.contains(path, keyword: "virtual_router_id") {
            error("missing-keyword", "vrrp_instance '\(i.name)' has no virtual_router_id", path,
                  hint: "add 'virtual_router_id N' (1..255), the same on every node of this virtual router")
        }
        if let name = i.interface {
            if name == "lo" {
                error("bad-interface", "vrrp_instance '\(i.name)' cannot run on the loopback interface", path, "interface")
            } else {
                checkInterface(name, path, "interface", what: "interface")
            }
        } else if i.unicastPeers.isEmpty || i.sourceAddress == nil {
            error("missing-keyword", "vrrp_instance '\(i.name)' has no interface", path,
                  hint: "add 'interface IF' (only unicast instances with unicast_src_ip may omit it)")
        }
        // Address families.
        let family = i.family
        for a in i.virtualIPAddresses where a.prefix.address.family != family {
            error("address-family", "virtual address \(a.prefix.address) is not of the instance's family (\(family == .inet ? "IPv4" : "IPv6") from its first address)",
                  path, "virtual_ipaddress/\(a.prefix)", hint: "put addresses of the other family in virtual_ipaddress_excluded or another instance")
        }
        if family == .inet6, i.version == 2 {
            warning("version", "IPv6 instances always use VRRP version 3; 'version 2' is ignored", path, "version")
        }
        let version = family == .inet6 ? 3 : (i.version ?? config.globalDefs.vrrpVersion)
        if version == 2 {
            if i.advertInterval < 1 || i.advertInterval != i.advertInterval.rounded() {
                warning("advert-int", "VRRPv2 advertises whole seconds; advert_int \(DecodeContext.format(i.advertInterval)) is rounded to \(max(1, Int(i.advertInterval.rounded())))",
                        path, "advert_int", hint: "use 'version 3' for sub-second intervals")
            }
        } else {
            if i.advertInterval > 40.95 {
                error("out-of-range", "VRRPv3 advert_int is at most 40.95 seconds, not \(DecodeContext.format(i.advertInterval))", path, "advert_int")
            } else if (i.advertInterval * 100).rounded() != i.advertInterval * 100 {
                warning("advert-int", "VRRPv3 advert_int has centisecond resolution; \(DecodeContext.format(i.advertInterval)) is rounded", path, "advert_int")
            }
        }
        if family == .inet6, let first = i.virtualIPAddresses.first, !first.prefix.address.isLinkLocal {
            if strict {
                error("strict-mode", "strict mode requires the first IPv6 virtual address to be link-local (fe80::/10)", path, "virtual_ipaddress/\(first.prefix)")
            } else {
                warning("ipv6-link-local", "the first IPv6 virtual address should be link-local (RFC 5798)", path, "virtual_ipaddress/\(first.prefix)")
            }
        }
        if i.virtualIPAddresses.isEmpty, !i.noVirtualIPAddress {
            if strict {
                error("strict-mode", "strict mode requires at least one virtual address", path)
            } else {
                warning("no-vip", "vrrp_instance '\(i.name)' has no virtual_ipaddress", path,
                        hint: "add 'no_virtual_ipaddress' if that is intended (cloud setups)")
            }
        }
        if i.virtualIPAddresses.count > 255 {
            warning("too-many-vips", "only 255 addresses fit in an advert; the rest become excluded addresses", path, "virtual_ipaddress")
        }
        var seen = Set<IPAddress>()
        for a in i.virtualIPAddresses + i.excludedIPAddresses where !seen.insert(a.prefix.address).inserted {
            warning("duplicate-address", "address \(a.prefix.address) is listed twice in vrrp_instance '\(i.name)'", path, "virtual_ipaddress/\(a.prefix)")
        }
        for a in i.virtualIPAddresses + i.excludedIPAddresses {
            if let dev = a.device { checkInterface(dev, path, "virtual_ipaddress/\(a.prefix)", what: "interface") }
        }
        // Source and unicast.
        if let src = i.sourceAddress, !i.virtualIPAddresses.isEmpty, src.family != family {
            error("address-family", "unicast_src_ip \(src) is not of the instance's address family", path, "unicast_src_ip")
        }
        for p in i.unicastPeers {
            if p.address.family != (i.sourceAddress?.family ?? family) {
                error("address-family", "unicast peer \(p.address) is not of the instance's address family", path, "unicast_peer/\(p.address)")
            }
            if let lo = p.minTTL, let hi = p.maxTTL, lo > hi {
                error("bad-value", "unicast peer \(p.address): min_ttl \(lo) is above max_ttl \(hi)", path, "unicast_peer/\(p.address)")
            }
            if let src = i.sourceAddress, src == p.address {
                error("bad-value", "unicast peer \(p.address) is this node's own unicast_src_ip", path, "unicast_peer/\(p.address)")
            }
        }
        if !i.unicastPeers.isEmpty, i.useVMAC != nil, !i.vmacTransmitBase {
            error("vmac-unicast", "use_vmac with unicast peers needs vmac_xmit_base", path, "use_vmac",
                  hint: "add 'vmac_xmit_base' so adverts go out on the parent interface")
        }
        if let dst = i.multicastDestination {
            if !dst.isMulticast || dst.family != family {
                error("bad-address", "mcast_dst_ip \(dst) is not a multicast address of the instance's family", path, "mcast_dst_ip")
            } else if dst.family == .inet6, (dst.bytes[1] & 0x0F) != 2 {
                error("bad-address", "an IPv6 mcast_dst_ip must be link-scoped (ffX2::)", path, "mcast_dst_ip")
            }
            if !i.unicastPeers.isEmpty {
                warning("unicast", "mcast_dst_ip has no effect on a unicast instance", path, "mcast_dst_ip")
            }
        }
        // Priority and preemption.
        if i.state == .master, i.priority != 255 {
            if strict {
                warning("strict-mode", "strict mode only allows state MASTER for priority 255; the instance starts as BACKUP", path, "state")
            }
        }
        if i.nopreempt {
            if i.state == .master {
                warning("nopreempt", "nopreempt needs state BACKUP; keepalived clears it with state MASTER", path, "nopreempt",
                        hint: "set 'state BACKUP' on every node that should not preempt")
            } else if i.priority == 255 {
                warning("nopreempt", "nopreempt has no effect on an address owner (priority 255)", path, "nopreempt")
            }
        }
        if let d = i.preemptDelay, d > 0 {
            if i.nopreempt {
                warning("preempt-delay", "preempt_delay has no effect with nopreempt", path, "preempt_delay")
            } else if i.state == .master {
                warning("preempt-delay", "preempt_delay has no effect with state MASTER", path, "preempt_delay")
            }
            if strict {
                error("strict-mode", "strict mode does not allow preempt_delay", path, "preempt_delay")
            }
        }
        // Authentication.
        if let auth = i.authentication {
            if auth.type == nil {
                error("missing-keyword", "authentication block without auth_type", path, "authentication", hint: "add 'auth_type PASS'")
            }
            if auth.type == .pass, auth.password == nil {
                error("missing-keyword", "auth_type PASS needs auth_pass", path, "authentication")
            }
            if let p = auth.password, p.utf8.count > 8 {
                warning("auth-pass", "only the first 8 characters of auth_pass are used ('\(String(decoding: p.utf8.prefix(8), as: UTF8.self))')", path, "authentication")
            }
            if version == 3 {
                warning("auth-v3", "authentication is ignored for VRRP version 3", path, "authentication")
            } else if auth.type == .ah, i.state == .master {
                warning("auth-ah", "keepalived refuses state MASTER with auth_type AH; the instance starts as BACKUP", path, "state")
            }
            if strict {
                error("strict-mode", "strict mode does not allow authentication", path, "authentication")
            }
            if i.authHMAC != nil {
                error("auth-hmac", "auth_hmac and authentication cannot be used together", path, "auth_hmac")
            }
        }
        if strict, i.accept == true, i.priority != 255 {
            warning("strict-mode", "under strict mode only an address owner (priority 255) may use accept", path, "accept")
        }
        if strict, let r = i.garpMasterRepeat, r > 1 {
            warning("strict-mode", "strict mode sends no repeated gratuitous ARPs", path, "garp_master_repeat")
        }
        // Trackers on an owner.
        if i.priority == 255 {
            for (keyword, r) in Self.weightedReferences(i) {
                warning("owner-weight", "the priority of an address owner (255) is never changed; the weight of '\(r.name)' has no effect",
                        path, "\(keyword)/\(r.name)", hint: "give trackers of a priority-255 instance weight 0")
                break
            }
        }
        for r in i.trackInterfaces {
            if r.name == i.interface, !i.dontTrackPrimary {
                warning("track-own-interface", "track_interface \(r.name) is the instance's own interface, which is always tracked; the line has no effect",
                        path, "track_interface/\(r.name)", hint: "remove it (keepalived -t reports it and exits 5)")
            }
            checkInterface(r.name, path, "track_interface/\(r.name)", what: "tracked interface")
        }
    }

    /// Tracking references that carry a non-zero weight, with the keyword of their block.
    static func weightedReferences(_ i: VRRPInstance) -> [(String, TrackReference)] {
        let lists: [(String, [TrackReference])] = [
            ("track_interface", i.trackInterfaces), ("track_script", i.trackScripts), ("track_file", i.trackFiles),
            ("track_process", i.trackProcesses), ("track_bfd", i.trackBFDs),
        ]
        return lists.flatMap { k, refs in refs.filter { ($0.weight ?? 0) != 0 }.map { (k, $0) } }
    }

    mutating func checkVRIDClashes() {
        struct Key: Hashable {
            var interface: String?
            var family: AddressFamily
            var vrid: Int
            /// The multicast group, or the set of unicast peers.
            var multicast: IPAddress?
            var peers: Set<IPAddress>?
        }
        var first: [Key: VRRPInstance] = [:]
        for i in config.vrrpInstances {
            guard let vrid = i.virtualRouterID else { continue }
            let unicast = !i.unicastPeers.isEmpty
            let key = Key(
                interface: i.interface, family: i.family, vrid: vrid, multicast: unicast ? nil : i.multicastDestination,
                peers: unicast ? Set(i.unicastPeers.map(\.address)) : nil)
            if let other = first[key] {
                error("duplicate-vrid",
                      "vrrp_instance '\(i.name)' uses virtual_router_id \(vrid) on \(i.interface ?? "its interface") (\(i.family == .inet ? "IPv4" : "IPv6")), as '\(other.name)' does",
                      "vrrp_instance \(i.name)", "virtual_router_id",
                      hint: "each virtual router on one interface and family needs its own VRID\(map.location("vrrp_instance \(other.name)", "virtual_router_id").map { "; the other is at \($0)" } ?? "")")
            } else {
                first[key] = i
            }
        }
    }

    // MARK: sync groups and trackers

    mutating func checkSyncGroups() {
        let ordered = config.vrrpInstances.map(\.name)
        let names = Set(ordered)
        var member: [String: String] = [:]
        for g in config.syncGroups {
            let path = "vrrp_sync_group \(g.name)"
            if g.group.isEmpty {
                error("missing-keyword", "vrrp_sync_group '\(g.name)' has no group { } of instances", path)
            } else if g.group.count == 1 {
                warning("sync-group", "vrrp_sync_group '\(g.name)' has only one member", path, "group")
            }
            for m in g.group {
                if !names.contains(m) {
                    error("unknown-reference", "vrrp_sync_group '\(g.name)' names vrrp_instance '\(m)', which is not defined", path, "group",
                          hint: Suggest.nearest(to: m, in: ordered).map { "did you mean '\($0)'?" })
                } else if let other = member[m], other != g.name {
                    error("sync-group", "vrrp_instance '\(m)' is in both vrrp_sync_group '\(other)' and '\(g.name)'", path, "group",
                          hint: "an instance may belong to one sync group only")
                } else {
                    member[m] = g.name
                }
            }
            checkReferences(g.trackScripts, g.trackFiles, g.trackProcesses, g.trackBFDs, path: path)
            for r in g.trackInterfaces { checkInterface(r.name, path, "track_interface/\(r.name)", what: "tracked interface") }
        }
        if !config.syncGroups.isEmpty {
            for i in config.vrrpInstances where member[i.name] != nil {
                guard let g = config.syncGroups.first(where: { $0.name == member[i.name] }), !g.syncGroupTrackingWeight else { continue }
                for (keyword, r) in Self.weightedReferences(i) {
                    warning("sync-group-weight", "in vrrp_sync_group '\(g.name)', the weight of '\(r.name)' on '\(i.name)' is ignored (failure means FAULT)",
                            "vrrp_instance \(i.name)", "\(keyword)/\(r.name)", hint: "track it at group level, or set sync_group_tracking_weight")
                    break
                }
            }
        }
        for t in config.trackGroups {
            for m in t.group where !names.contains(m) {
                error("unknown-reference", "track_group '\(t.name)' names vrrp_instance '\(m)', which is not defined", "track_group \(t.name)", "group")
            }
        }
    }

    mutating func checkReferences(
        _ scripts: [TrackReference], _ files: [TrackReference], _ processes: [TrackReference], _ bfds: [TrackReference], path: String
    ) {
        let lists: [(String, [TrackReference], [String], String)] = [
            ("track_script", scripts, config.vrrpScripts.map(\.name), "vrrp_script"),
            ("track_file", files, config.trackFiles.map(\.name), "track_file"),
            ("track_process", processes, config.trackProcesses.map(\.name), "vrrp_track_process"),
            ("track_bfd", bfds, config.bfdInstances.map(\.name), "bfd_instance"),
        ]
        for (keyword, refs, known, kind) in lists {
            for r in refs where !known.contains(r.name) {
                error("unknown-reference", "\(keyword) names \(kind) '\(r.name)', which is not defined", path, "\(keyword)/\(r.name)",
                      hint: Suggest.nearest(to: r.name, in: known).map { "did you mean '\($0)'?" } ?? "define it with '\(kind) \(r.name) { ... }'")
            }
        }
    }

    mutating func checkTrackers() {
        for i in config.vrrpInstances {
            checkReferences(i.trackScripts, i.trackFiles, i.trackProcesses, i.trackBFDs, path: "vrrp_instance \(i.name)")
        }
        var used = Set<String>()
        for i in config.vrrpInstances { used.formUnion(i.trackScripts.map(\.name)) }
        for g in config.syncGroups { used.formUnion(g.trackScripts.map(\.name)) }
        for s in config.vrrpScripts {
            let path = "vrrp_script \(s.name)"
            if s.script == nil {
                error("missing-keyword", "vrrp_script '\(s.name)' has no script", path, hint: "add 'script \"/path/to/check\"'")
            }
            if !used.contains(s.name) {
                warning("unused", "vrrp_script '\(s.name)' is not tracked by any instance or sync group, so it never runs", path)
            }
        }
        for f in config.trackFiles where f.file == nil {
            error("missing-keyword", "track_file '\(f.name)' has no file", "track_file \(f.name)", hint: "add 'file \"/path\"'")
        }
        for p in config.trackProcesses {
            if p.process == nil {
                error("missing-keyword", "vrrp_track_process '\(p.name)' has no process", "vrrp_track_process \(p.name)")
            }
            if let max = p.quorumMax, max < p.quorum {
                error("bad-value", "quorum_max \(max) is below quorum \(p.quorum)", "vrrp_track_process \(p.name)", "quorum_max")
            }
        }
        for b in config.bfdInstances where b.neighborIP == nil {
            error("missing-keyword", "bfd_instance '\(b.name)' has no neighbor_ip", "bfd_instance \(b.name)")
        }
    }

    mutating func checkStatics() {
        let groups = Set(config.trackGroups.map(\.name))
        for a in config.staticIPAddresses {
            if let g = a.trackGroup, !groups.contains(g) {
                error("unknown-reference", "static address \(a.prefix) names track_group '\(g)', which is not defined", "static_ipaddress", "static_ipaddress/\(a.prefix)")
            }
            if let dev = a.device ?? config.globalDefs.defaultInterface {
                checkInterface(dev, "static_ipaddress", "static_ipaddress/\(a.prefix)", what: "interface")
            }
        }
        for (i, r) in config.staticRoutes.enumerated() {
            if let g = r.trackGroup, !groups.contains(g) {
                error("unknown-reference", "static route names track_group '\(g)', which is not defined", "static_routes", "static_routes/#\(i)")
            }
        }
        for (i, r) in config.staticRules.enumerated() {
            if let g = r.trackGroup, !groups.contains(g) {
                error("unknown-reference", "static rule names track_group '\(g)', which is not defined", "static_rules", "static_rules/#\(i)")
            }
        }
    }

    // MARK: script security

    /// Every script command in the configuration, with where it is.
    var scriptCommands: [(ScriptCommand, String, String)] {
        var result: [(ScriptCommand, String, String)] = []
        let g = config.globalDefs
        for (c, k) in [(g.notifyFIFOScript, "notify_fifo_script"), (g.vrrpNotifyFIFOScript, "vrrp_notify_fifo_script"),
                       (g.lvsNotifyFIFOScript, "lvs_notify_fifo_script"), (g.startupScript, "startup_script"), (g.shutdownScript, "shutdown_script")] {
            if let c { result.append((c, "global_defs", k)) }
        }
        for s in config.vrrpScripts { if let c = s.script { result.append((c, "vrrp_script \(s.name)", "script")) } }
        for i in config.vrrpInstances {
            for (c, k) in [(i.notifyMaster, "notify_master"), (i.notifyBackup, "notify_backup"), (i.notifyFault, "notify_fault"),
                           (i.notifyStop, "notify_stop"), (i.notify, "notify"), (i.notifyDeletedCommand, "notify_deleted"),
                           (i.notifyMasterRxLowerPriority, "notify_master_rx_lower_pri")] {
                if let c { result.append((c, "vrrp_instance \(i.name)", k)) }
            }
        }
        for g in config.syncGroups {
            for (c, k) in [(g.notifyMaster, "notify_master"), (g.notifyBackup, "notify_backup"), (g.notifyFault, "notify_fault"),
                           (g.notifyStop, "notify_stop"), (g.notify, "notify"), (g.notifyDeletedCommand, "notify_deleted")] {
                if let c { result.append((c, "vrrp_sync_group \(g.name)", k)) }
            }
        }
        result += LVSValidation.scriptCommands(in: config.virtualServers)
        return result
    }

    mutating func checkScripts() {
        let commands = scriptCommands
        guard !commands.isEmpty else { return }
        let g = config.globalDefs
        if !g.enableScriptSecurity {
            let (_, path, keyword) = commands[0]
            diagnostics.error(
                "script-security", "scripts are configured but enable_script_security is not set in global_defs",
                at: map.location(path, keyword),
                hint: "add 'enable_script_security' to global_defs (keepalived -t exits 6 for this: \"SECURITY VIOLATION\")",
                category: .scriptSecurity)
        }
        guard host.inspectScriptFiles else { return }
        var checked = Set<String>()
        for (command, path, keyword) in commands {
            guard let program = command.arguments?.first, checked.insert(program).inserted else { continue }
            let location = map.location(path, keyword)
            guard program.hasPrefix("/") else {
                if g.enableScriptSecurity {
                    diagnostics.append(Diagnostic(.warning, "script-path", "'\(program)' is not an absolute path; it is looked up in PATH at run time",
                                                  at: location, hint: "use an absolute path so the security check can inspect it"))
                }
                continue
            }
            var st = stat()
            guard stat(program, &st) == 0 else {
                diagnostics.append(Diagnostic(.warning, "script-missing", "script '\(program)' does not exist on this host", at: location))
                continue
            }
            if g.enableScriptSecurity, let unsafe = Self.unsafeComponent(of: program) {
                diagnostics.error(
                    "script-security", "script '\(program)' is unsafe: \(unsafe)", at: location,
                    hint: "keepalived refuses to run a root script that a non-root user could change", category: .scriptSecurity)
            } else if (st.st_mode & S_IXUSR) == 0 {
                diagnostics.append(Diagnostic(.warning, "script-not-executable", "script '\(program)' is not executable", at: location))
            }
        }
    }

    /// The first reason a non-root user could modify `path` (the file or a directory above it).
    static func unsafeComponent(of path: String) -> String? {
        var current = path
        while !current.isEmpty {
            var st = stat()
            if lstat(current, &st) == 0 {
                let isLink = (st.st_mode & S_IFMT) == S_IFLNK
                if !isLink {
                    if st.st_uid != 0 { return "'\(current)' is owned by uid \(st.st_uid), not root" }
                    let sticky = (st.st_mode & S_ISVTX) != 0 && (st.st_mode & S_IFMT) == S_IFDIR
                    if (st.st_mode & S_IWOTH) != 0, !sticky { return "'\(current)' is writable by everyone" }
                    if (st.st_mode & S_IWGRP) != 0, st.st_gid != 0, !sticky { return "'\(current)' is writable by group \(st.st_gid)" }
                }
            }
            if current == "/" { break }
            current = Preprocessor.directory(of: current)
        }
        return nil
    }
}
