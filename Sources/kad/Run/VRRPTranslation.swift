import ConfigDSL
import NetLinux
import VRRPCore

/// The pure translation of a loaded keepalived configuration (the ConfigDSL model) into what
/// VRRPCore runs: one ``VirtualRouterConfiguration`` per `vrrp_instance` and one
/// ``SyncGroupConfiguration`` per `vrrp_sync_group`.
///
/// Nothing here touches the host: the interface's primary address is asked of the injected
/// resolver. Every setting the model holds that kad cannot run yet becomes a ``Problem`` naming
/// the keyword, so that `kad run` refuses the configuration instead of silently ignoring it.
///
/// Translated: `state`, `interface`, `virtual_router_id`, `priority`, `advert_int` (seconds to
/// centiseconds; whole seconds for VRRPv2), `version` (instance, else `vrrp_version`; IPv6 always
/// 3), `nopreempt` (cleared, as keepalived does, for `state MASTER` or priority 255),
/// `preempt_delay`, `virtual_ipaddress`, `virtual_ipaddress_excluded`, `virtual_routes`,
/// `virtual_rules`, `unicast_src_ip`/`mcast_src_ip`, `unicast_peer` (a TTL range implies
/// `check_unicast_src`), `mcast_dst_ip` (else `vrrp_mcast_group4/6`), `check_unicast_src`
/// (else `vrrp_check_unicast_src`), `authentication` PASS (dropped for VRRPv3, as keepalived
/// does), `v3_checksum_as_v2`, `old_unicast_checksum`, `accept`/`no_accept`,
/// `down_timer_adverts`, `lower_prio_no_advert`, `higher_prio_send_advert`,
/// `owner_ignore_adverts`, `strict_mode`/`vrrp_strict`, `dont_track_primary`, the `garp_*`
/// settings (instance, else `vrrp_garp_*`, with `vrrp_min_garp`), `vrrp_startup_delay`,
/// `track_interface`/`track_script`/`track_file`/`track_process` (instance and sync-group level),
/// `vrrp_sync_group` (members ignore tracker weights unless `sync_group_tracking_weight`), and
/// `static_ipaddress`/`static_routes`/`static_rules` (into ``Result/staticAddresses`` etc.).
///
/// Ignored on purpose: `notify*` scripts and `notify_priority_changes` (the daemon runs them),
/// `skip_check_adv_addr` (kad counts address-list mismatches and never drops for them),
/// `no_virtual_ipaddress`, `unicast_fault_no_peer` with peers, and the LVS blocks
/// (`virtual_server`, `virtual_server_group`: the checker side, not VRRP).
///
/// `use_vmac` (IPv4) becomes a ``Result/virtualMACs`` entry and the instance's interface.
///
/// Refused (a ``Problem``): `auth_type AH`, `auth_hmac`, `no_accept` (also implied by strict mode)
/// on a non-owner, `use_vmac` for IPv6, `use_vmac_addr`, `vmac_xmit_base`, `use_ipvlan`, the address option
/// `use_vmac`, `vrf`, a missing `interface`, `track_src_ip`, `track_bfd`, `unicast_ttl` other than
/// 255, `unicast_fault_no_peer` without peers, `timer_expired_backup`, `promote_secondaries`,
/// `kernel_rx_buf_size`, `garp_extra_if`/`vrrp_garp_extra_if`, non-zero
/// `vrrp_garp_interval`/`vrrp_gna_interval`, `garp_group`, `vrrp_delay_after_boot`, `smtp_alert`
/// (instance, group or global), `net_namespace`, `interface_up_down_delays`,
/// `linkbeat_interfaces`, `track_group` on static lines, route options kad does not install
/// (`or`, `tos`, `realms`, `vrf`, `pref`, metrics such as `mtu`, `congctl`, `features`, `quickack`,
/// `fastopen_no_cookie`, `ttl-propagate`, `expires`, `append`), named routing tables other than
/// main/local/default, unknown `proto`/`scope` names, rule options kad does not install
/// (`realms`, `suppress_prefixlength`, `suppress_ifgroup`, `uidrange`, `l3mdev`, `ipproto`,
/// `sport`, `dport`, `protocol`), references to undefined trackers or sync-group members, and
/// anything ``VirtualRouterConfiguration/validate()`` rejects.
struct VRRPTranslation {
    struct Result: Sendable {
        var routers: [VirtualRouterConfiguration] = []
        var syncGroups: [SyncGroupConfiguration] = []
        /// `static_ipaddress`: installed at start whatever the VRRP state.
        var staticAddresses: [VirtualAddress] = []
        var staticRoutes: [VirtualRoute] = []
        var staticRules: [VirtualRule] = []
        /// `use_vmac`: the macvlans to create, one per instance that asks (in instance order).
        var virtualMACs: [VirtualMACConfiguration] = []
        var problems: [Problem] = []
    }

    /// A setting kad cannot run (yet): `vrrp_instance VI_1: no_accept: not supported yet`.
    struct Problem: Error, Sendable, Hashable, CustomStringConvertible {
        /// The `vrrp_instance` (or `vrrp_sync_group NAME`) concerned; `nil` for global settings.
        var instance: String?
        var keyword: String
        var message: String

        var description: String {
            (instance.map { $0.hasPrefix("vrrp_") || $0.hasPrefix("virtual_server") ? "\($0): " : "vrrp_instance \($0): " } ?? "") + "\(keyword): \(message)"
        }
    }

    typealias Resolver = (String, VRRPCore.IPAddressFamily) -> VRRPCore.IPAddress?

    /// Translates `config`.
    /// - Parameter primaryAddress: the interface's primary IPv4 or link-local IPv6 address,
    ///   asked only for instances without `unicast_src_ip` / `mcast_src_ip`.
    static func translate(_ config: KeepalivedConfig, primaryAddress: Resolver) -> Result {
        var t = Translator(config: config)
        t.run(primaryAddress)
        return t.result
    }
}

private struct Translator {
    let config: KeepalivedConfig
    var result = VRRPTranslation.Result()
    var g: GlobalDefs { config.globalDefs }

    init(config: KeepalivedConfig) { self.config = config }

    mutating func problem(_ instance: String?, _ keyword: String, _ message: String = "not supported yet") {
        result.problems.append(VRRPTranslation.Problem(instance: instance, keyword: keyword, message: message))
    }

    mutating func run(_ resolve: VRRPTranslation.Resolver) {
        globals()
        var routers: [VirtualRouterConfiguration?] = []
        for instance in config.vrrpInstances { routers.append(router(instance, resolve)) }
        var byName: [String: Int] = [:]
        for (i, r) in routers.enumerated() where r != nil { byName[config.vrrpInstances[i].name] = i }

        for group in config.syncGroups {
            let who = "vrrp_sync_group \(group.name)"
            var members: [String] = []
            // Group-level trackers apply to every member.
            var extra: [TrackerBinding] = []
            trackers(group.trackInterfaces, group.trackScripts, group.trackFiles, group.trackProcesses, who, into: &extra)
            for m in group.group {
                guard let i = byName[m] else {
                    if !config.vrrpInstances.contains(where: { $0.name == m }) { problem(who, "group", "no vrrp_instance \(m)") }
                    continue
                }
                members.append(m)
                for b in extra where !(routers[i]!.trackers.contains { $0.object == b.object }) { routers[i]!.trackers.append(b) }
                routers[i]!.ignoreTrackerWeights = !group.syncGroupTrackingWeight
            }
            if !group.trackBFDs.isEmpty { problem(who, "track_bfd") }
            if group.smtpAlert == true { problem(who, "smtp_alert", "e-mail alerts are not supported") }
            result.syncGroups.append(SyncGroupConfiguration(name: group.name, members: members))
        }

        for case let r? in routers {
            do throws(VRRPConfigurationError) {
                try r.validate()
                result.routers.append(r)
            } catch {
                problem(r.name, error.field, error.message)
            }
        }

        for a in config.staticIPAddresses {
            if a.trackGroup != nil { problem(nil, "static_ipaddress", "track_group is not supported yet") }
            guard let dev = a.device ?? g.defaultInterface else {
                problem(nil, "static_ipaddress", "\(a.prefix) needs dev (or default_interface)")
                continue
            }
            if let v = address(a, instance: nil, keyword: "static_ipaddress", defaultInterface: dev) { result.staticAddresses.append(v) }
        }
        for r in config.staticRoutes {
            if r.trackGroup != nil { problem(nil, "static_routes", "track_group is not supported yet") }
            if let v = route(r, instance: nil, keyword: "static_routes") { result.staticRoutes.append(v) }
        }
        for r in config.staticRules {
            if r.trackGroup != nil { problem(nil, "static_rules", "track_group is not supported yet") }
            if let v = rule(r, instance: nil, keyword: "static_rules") { result.staticRules.append(v) }
        }
    }

    mutating func globals() {
        if g.smtpAlert == true || g.smtpAlertVRRP == true { problem(nil, "smtp_alert", "e-mail alerts are not supported") }
        if g.vrrpGarpInterval > 0 { problem(nil, "vrrp_garp_interval") }
        if g.vrrpGnaInterval > 0 { problem(nil, "vrrp_gna_interval") }
        if g.vrrpGarpExtraInterface != nil { problem(nil, "vrrp_garp_extra_if") }
        if g.vrrpDelayAfterBoot > 0 { problem(nil, "vrrp_delay_after_boot") }
        if !config.garpGroups.isEmpty { problem(nil, "garp_group") }
        if config.netNamespace != nil { problem(nil, "net_namespace") }
        if !config.interfaceUpDownDelays.isEmpty { problem(nil, "interface_up_down_delays") }
        if !config.linkbeatInterfaces.isEmpty { problem(nil, "linkbeat_interfaces") }
        // Process tuning: kad runs VRRP and the checkers as threads of one process, so of
        // keepalived's per-process settings it applies the memory lock and the VRRP threads'
        // scheduling (DaemonConfiguration); the others are refused.
        let applied: Set<String> = ["vrrp_no_swap", "checker_no_swap", "vrrp_priority", "vrrp_rt_priority", "vrrp_cpu_affinity"]
        for name in g.scheduling.keys.sorted() where !applied.contains(name) {
            problem(nil, name, "not supported yet (kad runs VRRP and the checkers in one process; of the scheduling settings it applies vrrp_no_swap, checker_no_swap, and vrrp_priority, vrrp_rt_priority and vrrp_cpu_affinity to its VRRP threads)")
        }
        if let p = g.maxAutoPriority, p > 0 { problem(nil, "max_auto_priority", "not supported yet (kad does not raise itself to realtime scheduling)") }
        for name in g.buffers.keys.sorted() {
            problem(nil, name, "not supported yet (kad sizes its netlink receive buffers itself)")
        }
    }

    // MARK: - Instances

    mutating func router(_ i: VRRPInstance, _ resolve: VRRPTranslation.Resolver) -> VirtualRouterConfiguration? {
        let name = i.name
        func refuse(_ kw: String, _ cond: Bool, _ message: String = "not supported yet") {
            if cond { problem(name, kw, message) }
        }
        refuse("use_vmac_addr", i.useVMACAddress, "not supported yet (VMACs for the interfaces of excluded addresses)")
        refuse("vmac_xmit_base", i.vmacTransmitBase, "not supported yet (adverts go out on the VMAC, as keepalived's default)")
        refuse("use_ipvlan", i.useIPVLAN != nil, "not supported yet (VMAC/ipvlan is not wired into the daemon)")
        refuse("auth_hmac", i.authHMAC != nil, "not supported")
        refuse("auth_type", i.authentication?.type == .ah, "auth_type AH is not supported")
        refuse("vrf", i.vrf != nil)
        refuse("track_src_ip", i.trackSourceIP)
        refuse("track_bfd", !i.trackBFDs.isEmpty)
        refuse("unicast_ttl", i.unicastTTL.map { $0 != 255 } ?? false, "only 255 is supported yet")
        refuse("unicast_fault_no_peer", i.unicastFaultNoPeer && i.unicastPeers.isEmpty)
        refuse("timer_expired_backup", i.timerExpiredBackup != nil)
        refuse("promote_secondaries", i.promoteSecondaries)
        refuse("kernel_rx_buf_size", i.kernelRxBufferSize != nil)
        refuse("garp_extra_if", i.garpExtraInterface != nil)
        refuse("smtp_alert", i.smtpAlert == true, "e-mail alerts are not supported")

        guard let vrid = i.virtualRouterID, (1...255).contains(vrid) else {
            problem(name, "virtual_router_id", "missing")
            return nil
        }
        guard let interface = i.interface else {
            problem(name, "interface", "missing (an instance without an interface is not supported yet)")
            return nil
        }
        let family: VRRPCore.IPAddressFamily =
            i.virtualIPAddresses.first.map { fam($0.prefix.address.family) }
            ?? i.sourceAddress.map { fam($0.family) }
            ?? i.unicastPeers.first.map { fam($0.address.family) } ?? .ipv4
        let version: VRRPVersion = family == .ipv6 ? .v3 : ((i.version ?? g.vrrpVersion) == 3 ? .v3 : .v2)

        let primary: VRRPCore.IPAddress
        if let s = i.sourceAddress {
            primary = ip(s)
        } else if let p = resolve(interface, family) {
            primary = p
        } else {
            let what = family == .ipv4 ? "primary IPv4" : "link-local IPv6"
            problem(name, "interface", "no \(what) address found on \(interface); set unicast_src_ip")
            return nil
        }

        var c = VirtualRouterConfiguration(name: name, virtualRouterID: UInt8(vrid), family: family, version: version,
                                           interface: interface, primaryAddress: primary)
        c.priority = UInt8(clamping: i.priority)
        let seconds = max(i.advertInterval, 0)
        let cs = version == .v2 ? max(seconds.rounded(), 1) * 100 : max((seconds * 100).rounded(), 1)
        c.advertisementInterval = UInt16(clamping: Int(min(cs, 65535)))
        c.initialStateMaster = i.state == .master
        // keepalived clears nopreempt for state MASTER or an owner.
        c.preempt = !(i.nopreempt && i.state == .backup && i.priority < 255)
        if let d = i.preemptDelay, d > 0, c.preempt { c.preemptDelay = duration(d) }

        for a in i.virtualIPAddresses {
            if let v = address(a, instance: name, keyword: "virtual_ipaddress", defaultInterface: nil) { c.addresses.append(v) }
        }
        for a in i.excludedIPAddresses {
            if let v = address(a, instance: name, keyword: "virtual_ipaddress_excluded", defaultInterface: nil) {
                c.excludedAddresses.append(v)
            }
        }
        for r in i.virtualRoutes { if let v = route(r, instance: name, keyword: "virtual_routes") { c.routes.append(v) } }
        for r in i.virtualRules { if let v = rule(r, instance: name, keyword: "virtual_rules") { c.rules.append(v) } }

        c.unicastPeers = i.unicastPeers.map {
            VRRPCore.UnicastPeer(ip($0.address), minimumTTL: $0.minTTL.map { UInt8(clamping: $0) },
                                 maximumTTL: $0.maxTTL.map { UInt8(clamping: $0) })
        }
        c.checkUnicastSource = (i.checkUnicastSource ?? g.vrrpCheckUnicastSource)
            || i.unicastPeers.contains { $0.minTTL != nil || $0.maxTTL != nil }
        c.multicastGroup = (i.multicastDestination ?? (family == .ipv4 ? g.vrrpMulticastGroup4 : g.vrrpMulticastGroup6)).map(ip)

        if let auth = i.authentication, auth.type == .pass, version == .v2 {
            c.password = VRRPPassword(auth.password ?? "")
        }
        if i.v3ChecksumAsV2 ?? g.v3ChecksumAsV2 {
            c.checksumForm = .messageOnly
        } else if let old = i.oldUnicastChecksum, old != "never" {
            c.checksumForm = .pseudoHeaderMulticastGroup
        }

        c.strict = i.strictMode ?? g.vrrpStrict
        c.acceptMode = i.accept ?? (c.strict ? c.isOwner : true)
        if !c.acceptMode && !c.isOwner {
            let kw = i.accept == false ? "no_accept" : "vrrp_strict"
            problem(name, kw, "not supported yet (kad cannot block traffic to the virtual addresses of a non-owner; use accept)")
        }
        c.downTimerAdverts = UInt8(clamping: i.downTimerAdverts ?? g.vrrpDownTimerAdverts)
        c.lowerPriorityNoAdvert = i.lowerPriorityNoAdvert ?? g.vrrpLowerPriorityNoAdvert ?? false
        c.higherPrioritySendAdvert = i.higherPrioritySendAdvert ?? g.vrrpHigherPrioritySendAdvert
        c.ownerIgnoresAdverts = i.ownerIgnoreAdverts ?? g.vrrpOwnerIgnoreAdverts ?? false
        c.dontTrackPrimary = i.dontTrackPrimary

        var garp = AnnouncementSchedule()
        let minGarp = g.vrrpMinGarp
        garp.masterRepeat = i.garpMasterRepeat ?? (minGarp ? 1 : g.vrrpGarpMasterRepeat)
        garp.masterDelay = duration(i.garpMasterDelay ?? (minGarp ? 0 : g.vrrpGarpMasterDelay))
        let refresh = i.garpMasterRefresh ?? (minGarp ? 0 : g.vrrpGarpMasterRefresh)
        garp.masterRefresh = refresh > 0 ? duration(refresh) : nil
        garp.masterRefreshRepeat = i.garpMasterRefreshRepeat ?? g.vrrpGarpMasterRefreshRepeat
        garp.lowerPriorityRepeat = i.garpLowerPriorityRepeat ?? g.vrrpGarpLowerPriorityRepeat
        garp.lowerPriorityDelay = (i.garpLowerPriorityDelay ?? g.vrrpGarpLowerPriorityDelay).map(duration)
        c.garp = garp
        c.startupDelay = duration(g.vrrpStartupDelay)

        trackers(i.trackInterfaces, i.trackScripts, i.trackFiles, i.trackProcesses, name, into: &c.trackers)
        if let vmac = i.useVMAC { virtualMAC(vmac, for: &c) }
        return c
    }

    /// `use_vmac [NAME] [MAC]`: a macvlan `vrrp.VRID` (the prefix is `vmac_prefix`) with the
    /// virtual router MAC becomes the instance's interface, as in keepalived: adverts, the
    /// addresses and their gratuitous ARPs use it (the source address stays the parent's).
    /// A frame from the virtual MAC reaches only the macvlan, never its parent, so a backup must
    /// listen on the macvlan to hear a master that sends from it (keepalived does).
    /// IPv6 VMACs are refused: their MLD reports would carry the shared MAC, and keepalived stops
    /// them with nftables rules kad does not manage yet (IPv4's IGMP reports are switched off
    /// with `igmp_link_local_mcast_reports` instead, see the daemon).
    mutating func virtualMAC(_ options: VMACOptions, for c: inout VirtualRouterConfiguration) {
        guard c.family == .ipv4 else {
            problem(c.name, "use_vmac", "not supported yet for IPv6 (the VMAC's MLD reports would carry the shared MAC; kad does not manage the firewall rules keepalived uses against them)")
            return
        }
        let prefix = g.vmacPrefix ?? "vrrp"
        let name = options.name ?? "\(prefix).\(c.virtualRouterID)"
        var mac: MACAddress?
        if let text = options.words.first(where: { $0.contains(":") }) {
            guard let parsed = MACAddress(text) else {
                problem(c.name, "use_vmac", "\(text) is not a MAC address")
                return
            }
            mac = parsed
        }
        guard name.utf8.count < 16 else {
            problem(c.name, "use_vmac", "interface name \(name) is longer than 15 bytes")
            return
        }
        if let other = result.virtualMACs.first(where: { $0.name == name }) {
            problem(c.name, "use_vmac", "the VMAC \(name) is already used by the instance with VRID \(other.virtualRouterID) on \(other.parent)")
            return
        }
        result.virtualMACs.append(VirtualMACConfiguration(parent: c.interface, virtualRouterID: c.virtualRouterID,
                                                          family: c.family, name: name, address: mac))
        c.interface = name
    }

    mutating func trackers(_ interfaces: [TrackReference], _ scripts: [TrackReference], _ files: [TrackReference],
                           _ processes: [TrackReference], _ who: String, into out: inout [TrackerBinding]) {
        for r in interfaces {
            out.append(TrackerBinding(TrackedObjectID(.interface, r.name), weight: r.weight ?? 0, reverse: r.reverse ?? false))
        }
        for r in scripts {
            guard let s = config.vrrpScripts.first(where: { $0.name == r.name }) else {
                problem(who, "track_script", "no vrrp_script \(r.name)")
                continue
            }
            out.append(TrackerBinding(TrackedObjectID(.script, r.name), weight: r.weight ?? s.weight.weight,
                                      reverse: r.reverse ?? s.weight.reverse))
        }
        for r in files {
            guard let f = config.trackFiles.first(where: { $0.name == r.name }) else {
                problem(who, "track_file", "no track_file \(r.name)")
                continue
            }
            out.append(TrackerBinding(TrackedObjectID(.file, r.name), weight: r.weight ?? f.weight.weight,
                                      reverse: r.reverse ?? f.weight.reverse))
        }
        for r in processes {
            guard let p = config.trackProcesses.first(where: { $0.name == r.name }) else {
                problem(who, "track_process", "no vrrp_track_process \(r.name)")
                continue
            }
            out.append(TrackerBinding(TrackedObjectID(.process, r.name), weight: r.weight ?? p.weight.weight,
                                      reverse: r.reverse ?? p.weight.reverse))
        }
    }

    // MARK: - Addresses, routes, rules

    mutating func address(_ a: AddressLine, instance: String?, keyword: String, defaultInterface: String?) -> VirtualAddress? {
        if a.useVMAC {
            problem(instance, keyword, "use_vmac on \(a.prefix): not supported yet (VMAC is not wired into the daemon)")
            return nil
        }
        let addr = ip(a.prefix.address)
        var brd: VRRPCore.IPAddress?
        switch a.broadcast {
        case nil, "-": brd = nil
        case "+":
            if addr.family == .ipv4 {
                let len = min(max(a.prefix.length, 0), 32)
                let host: UInt32 = len == 32 ? 0 : (UInt32.max >> UInt32(len))
                brd = VRRPCore.IPAddress(ipv4: addr.ipv4Value | host)
            }
        case let text?: brd = VRRPCore.IPAddress(text)
        }
        var flags: VirtualAddress.Flags = []
        if a.noDAD { flags.insert(.noDAD) }
        if a.noPrefixRoute { flags.insert(.noPrefixRoute) }
        if a.home { flags.insert(.home) }
        if a.manageTemporaryAddress { flags.insert(.manageTemporaryAddress) }
        if a.autoJoin { flags.insert(.autoJoin) }
        var lifetime: UInt32?
        switch a.preferredLifetime {
        case .seconds(let s)?: lifetime = UInt32(clamping: s)
        case .forever?: lifetime = nil
        case nil:
            // keepalived deprecates an IPv6 /128 VIP (preferred_lft 0) so it is never chosen as a source.
            lifetime = addr.family == .ipv6 && a.prefix.length == 128 ? 0 : nil
        }
        return VirtualAddress(
            addr, prefixLength: UInt8(clamping: a.prefix.length), interface: a.device ?? defaultInterface,
            broadcast: brd, peer: a.peer.map { ip($0.address) }, scope: a.scope.map(scopeNumber), label: a.label,
            flags: flags, preferredLifetime: lifetime)
    }

    func scopeNumber(_ s: AddressScope) -> UInt8 {
        switch s {
        case .global: 0
        case .site: 200
        case .link: 253
        case .host: 254
        case .nowhere: 255
        }
    }

    static let scopeNames: [String: UInt8] = ["global": 0, "universe": 0, "site": 200, "link": 253, "host": 254, "nowhere": 255]
    static let protoNames: [String: UInt8] = ["redirect": 1, "kernel": 2, "boot": 3, "static": 4]
    static let tableNames: [String: UInt32] = ["default": 253, "main": 254, "local": 255]

    mutating func table(_ text: String?, _ instance: String?, _ keyword: String) -> (UInt32?, ok: Bool) {
        guard let text else { return (nil, true) }
        if let n = UInt32(text) { return (n, true) }
        if let n = Self.tableNames[text] { return (n, true) }
        problem(instance, keyword, "table \(text): only numeric tables and main/local/default are supported yet")
        return (nil, false)
    }

    mutating func route(_ r: RouteLine, instance: String?, keyword: String) -> VirtualRoute? {
        var unsupported: [String] = []
        if r.append { unsupported.append("append") }
        if r.alternateVia != nil { unsupported.append("or") }
        if r.tos != nil { unsupported.append("tos") }
        if r.realms != nil { unsupported.append("realms") }
        if r.vrf != nil { unsupported.append("vrf") }
        if r.preference != nil { unsupported.append("pref") }
        unsupported += r.metrics.keys.sorted()
        if r.congestionControl != nil { unsupported.append("congctl") }
        if r.features != nil { unsupported.append("features") }
        if r.quickAck != nil { unsupported.append("quickack") }
        if r.fastOpenNoCookie != nil { unsupported.append("fastopen_no_cookie") }
        if r.ttlPropagate != nil { unsupported.append("ttl-propagate") }
        if r.expires != nil { unsupported.append("expires") }
        let text = r.destination?.description ?? "default"
        for u in unsupported { problem(instance, keyword, "\(text): \(u): not supported yet") }

        let (tbl, tableOK) = table(r.table, instance, keyword)
        var scope: UInt8?
        if let s = r.scope {
            scope = UInt8(s) ?? Self.scopeNames[s]
            if scope == nil { problem(instance, keyword, "\(text): scope \(s): unknown scope") }
        }
        var proto: UInt8?
        if let p = r.protocolName {
            proto = UInt8(p) ?? Self.protoNames[p]
            if proto == nil { problem(instance, keyword, "\(text): proto \(p): only numbers and redirect/kernel/boot/static are supported yet") }
        }
        var nexthops: [VirtualRoute.Nexthop] = []
        for n in r.nexthops {
            var weight: UInt8?
            if let w = n.weight {
                guard let v = UInt8(exactly: w) else {
                    problem(instance, keyword, "\(text): nexthop weight \(w): at most 255 is supported yet")
                    continue
                }
                weight = v
            }
            nexthops.append(VirtualRoute.Nexthop(gateway: n.via.map(ip), interface: n.device, weight: weight, onlink: n.onlink))
        }
        guard unsupported.isEmpty, tableOK, r.scope == nil || scope != nil, r.protocolName == nil || proto != nil else { return nil }
        let family = r.destination.map { fam($0.address.family) } ?? fam(r.family)
        let kind: VirtualRoute.Kind =
            switch r.type ?? .unicast {
            case .unicast: .unicast
            case .local: .local
            case .broadcast: .broadcast
            case .multicast: .multicast
            case .throwRoute: .throwRoute
            case .unreachable: .unreachable
            case .prohibit: .prohibit
            case .blackhole: .blackhole
            case .nat: .nat
            }
        return VirtualRoute(
            family: family, kind: kind, destination: r.destination.map { ip($0.address) },
            prefixLength: UInt8(clamping: r.destination?.length ?? 0), source: r.source.map(ip), gateway: r.via.map(ip),
            interface: r.device, table: tbl, metric: r.metric.map { UInt32(clamping: $0) }, scope: scope,
            routingProtocol: proto, onlink: r.onlink, nexthops: nexthops)
    }

    mutating func rule(_ r: RuleLine, instance: String?, keyword: String) -> VirtualRule? {
        var unsupported: [String] = []
        if r.realms != nil { unsupported.append("realms") }
        if r.suppressPrefixLength != nil { unsupported.append("suppress_prefixlength") }
        if r.suppressInterfaceGroup != nil { unsupported.append("suppress_ifgroup") }
        if r.uidRange != nil { unsupported.append("uidrange") }
        if r.l3mdev { unsupported.append("l3mdev") }
        if r.ipProtocol != nil { unsupported.append("ipproto") }
        if r.sourcePort != nil { unsupported.append("sport") }
        if r.destinationPort != nil { unsupported.append("dport") }
        if r.protocolName != nil { unsupported.append("protocol") }
        let text = "from " + (r.from?.description ?? "all")
        for u in unsupported { problem(instance, keyword, "\(text): \(u): not supported yet") }
        let (tbl, tableOK) = table(r.table, instance, keyword)

        var mark: UInt32?
        var mask: UInt32?
        if let fw = r.fwmark {
            let parts = fw.split(separator: "/", maxSplits: 1).map(String.init)
            mark = Self.number(parts[0])
            if parts.count == 2 { mask = Self.number(parts[1]) }
            if mark == nil || (parts.count == 2 && mask == nil) {
                problem(instance, keyword, "\(text): fwmark \(fw): expected MARK[/MASK]")
                return nil
            }
        }
        guard unsupported.isEmpty, tableOK else { return nil }

        var action: VirtualRule.Action = .lookup
        switch r.action {
        case "blackhole": action = .blackhole
        case "unreachable": action = .unreachable
        case "prohibit": action = .prohibit
        case "nop": action = .noop
        default: if r.goto != nil { action = .goto }
        }
        let family = (r.from ?? r.to).map { fam($0.address.family) } ?? fam(r.family)
        return VirtualRule(
            family: family, action: action, from: r.from.map { ip($0.address) }, fromPrefixLength: UInt8(clamping: r.from?.length ?? 0),
            to: r.to.map { ip($0.address) }, toPrefixLength: UInt8(clamping: r.to?.length ?? 0), table: tbl,
            priority: r.preference.map { UInt32(clamping: $0) }, firewallMark: mark, firewallMask: mask,
            inputInterface: r.inputInterface, outputInterface: r.outputInterface, tos: r.tos.map { UInt8(clamping: $0) },
            gotoTarget: r.goto.map { UInt32(clamping: $0) }, invert: r.not)
    }

    /// A decimal or 0x-prefixed hexadecimal 32-bit number.
    static func number(_ s: String) -> UInt32? {
        let lower = s.lowercased()
        if lower.hasPrefix("0x") { return UInt32(lower.dropFirst(2), radix: 16) }
        return UInt32(lower)
    }

    // MARK: - Conversions

    func fam(_ f: AddressFamily) -> VRRPCore.IPAddressFamily { f == .inet ? .ipv4 : .ipv6 }

    func ip(_ a: ConfigDSL.IPAddress) -> VRRPCore.IPAddress {
        // Both types hold valid addresses of 4 or 16 bytes, so the conversion cannot fail.
        VRRPCore.IPAddress(bytes: a.bytes)!
    }

    func duration(_ s: Seconds) -> Duration { .milliseconds(Int64((s * 1000).rounded())) }
}
