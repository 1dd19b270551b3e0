/// The start state hint of an instance.
public enum InstanceState: String, ConfigEnum {
    case master = "MASTER"
    case backup = "BACKUP"
}

/// `authentication { auth_type PASS|AH; auth_pass SECRET }` (VRRPv2 only).
public struct Authentication: Codable, Sendable, Hashable {
    public enum AuthType: String, ConfigEnum {
        case pass = "PASS"
        case ah = "AH"
    }

    public var type: AuthType?
    /// Only the first 8 characters are used on the wire.
    public var password: String?

    public init() {}

    static let schema = BlockSchema<Authentication>("authentication", [
        .choice("auth_type", \.type, help: "PASS (clear text) or AH (IPsec AH)"),
        .string("auth_pass", \.password, help: "the password; only the first 8 characters are used"),
    ])
}

/// `auth_hmac { }` (keepalived 2.4 HMAC-SHA256 trailer). Kept as written.
public struct AuthHMAC: Codable, Sendable, Hashable {
    public var keys: [[String]] = []
    public var activeKey: String?
    public var antiReplay: String?
    public var timeWindow: Int?
    public var mode: String?

    public init() {}

    static let schema = BlockSchema<AuthHMAC>("auth_hmac", [
        KeywordRule("key", help: "ID hex:...|file:...|ASCII: a key", repeatable: true,
                    decode: { m, n, c in if c.expectArguments(n, 2...2, usage: "key ID SECRET") { m.keys.append(n.words) } },
                    encode: { m, w in for k in m.keys { w.line(["key"] + k) } }),
        .string("active_key", \.activeKey, help: "the key id used for sending"),
        .string("anti_replay", \.antiReplay, help: "time|monotonic"),
        .int("time_window", 1...300, \.timeWindow, help: "seconds of clock skew accepted"),
        .string("mode", \.mode, help: "enforce|permissive|receive-only"),
    ])
}

/// `use_vmac [[name] IF] [MAC] [netlink_notify_msg] [group G]` — kept as its words plus the parsed name.
public struct VMACOptions: Codable, Sendable, Hashable {
    public var words: [String]
    public init(words: [String]) { self.words = words }
    /// The macvlan's name, when one is given.
    public var name: String? { words.first { !$0.contains(":") && $0 != "netlink_notify_msg" && $0 != "group" } }
}

/// `unicast_peer { IP [min_ttl N] [max_ttl N] }` entry.
public struct UnicastPeer: Codable, Sendable, Hashable {
    public var address: IPAddress
    public var minTTL: Int?
    public var maxTTL: Int?

    public init(address: IPAddress, minTTL: Int? = nil, maxTTL: Int? = nil) {
        self.address = address
        self.minTTL = minTTL
        self.maxTTL = maxTTL
    }
}

/// `garp_extra_if [all] SECONDS`.
public struct GarpExtraInterface: Codable, Sendable, Hashable {
    public var all: Bool
    public var interval: Seconds
}

/// `vrrp_instance NAME { }`: one virtual router on one interface.
///
/// Optional fields are "not set": they inherit from `global_defs` (or have a default that
/// depends on other settings, resolved by the runtime). Non-optional fields hold keepalived's
/// defaults when the keyword is absent.
public struct VRRPInstance: Codable, Sendable, Hashable {
    public var name: String
    /// Derived when absent: MASTER for priority 255, else BACKUP.
    public var state: InstanceState = .backup
    public var interface: String?
    /// Required (1..255); `nil` only in a configuration that failed validation.
    public var virtualRouterID: Int?
    /// 100 by default; 255 when `state MASTER` is given without a priority.
    public var priority: Int = 100
    public var advertInterval: Seconds = 1
    /// 2 or 3; `nil` inherits `vrrp_version` (IPv6 instances always use 3).
    public var version: Int?
    public var virtualIPAddresses: [AddressLine] = []
    public var excludedIPAddresses: [AddressLine] = []
    public var noVirtualIPAddress: Bool = false
    public var virtualRoutes: [RouteLine] = []
    public var virtualRules: [RuleLine] = []
    /// `unicast_src_ip` / `mcast_src_ip`: the advert source and tie-break address.
    public var sourceAddress: IPAddress?
    public var unicastPeers: [UnicastPeer] = []
    public var unicastTTL: Int?
    public var unicastFaultNoPeer: Bool = false
    public var checkUnicastSource: Bool?
    public var multicastDestination: IPAddress?
    public var vrf: String?
    public var trackSourceIP: Bool = false
    public var trackInterfaces: [TrackReference] = []
    public var trackScripts: [TrackReference] = []
    public var trackFiles: [TrackReference] = []
    public var trackProcesses: [TrackReference] = []
    public var trackBFDs: [TrackReference] = []
    public var dontTrackPrimary: Bool = false
    public var nopreempt: Bool = false
    public var preemptDelay: Seconds?
    public var authentication: Authentication?
    public var authHMAC: AuthHMAC?
    /// `accept` (true) / `no_accept` (false); `nil` = accept, except under strict mode.
    public var accept: Bool?
    public var garpMasterDelay: Seconds?
    public var garpMasterRepeat: Int?
    public var garpMasterRefresh: Seconds?
    public var garpMasterRefreshRepeat: Int?
    public var garpLowerPriorityDelay: Seconds?
    public var garpLowerPriorityRepeat: Int?
    public var garpExtraInterface: GarpExtraInterface?
    public var downTimerAdverts: Int?
    public var lowerPriorityNoAdvert: Bool?
    public var higherPrioritySendAdvert: Bool?
    public var ownerIgnoreAdverts: Bool?
    /// `timer_expired_backup [PRIO]`: priority 1..254 (254 when given without a value).
    public var timerExpiredBackup: Int?
    public var useVMAC: VMACOptions?
    public var useVMACAddress: Bool = false
    public var vmacTransmitBase: Bool = false
    public var useIPVLAN: [String]?
    public var promoteSecondaries: Bool = false
    public var strictMode: Bool?
    public var skipCheckAdvertAddresses: Bool?
    public var v3ChecksumAsV2: Bool?
    /// `old_unicast_checksum [never]`.
    public var oldUnicastChecksum: String?
    public var notifyMaster: ScriptCommand?
    public var notifyBackup: ScriptCommand?
    public var notifyFault: ScriptCommand?
    public var notifyStop: ScriptCommand?
    public var notify: ScriptCommand?
    /// `notify_deleted [cmd]`: `true` alone reports DELETED instead of FAULT.
    public var notifyDeleted: Bool = false
    public var notifyDeletedCommand: ScriptCommand?
    public var notifyMasterRxLowerPriority: ScriptCommand?
    public var smtpAlert: Bool?
    public var notifyPriorityChanges: Bool?
    public var kernelRxBufferSize: Int?

    public init(name: String) { self.name = name }

    /// The address family of the instance: that of its first virtual address (IPv4 without any).
    public var family: AddressFamily { virtualIPAddresses.first?.prefix.address.family ?? .inet }

    static let schema = BlockSchema<VRRPInstance>("vrrp_instance", [
        .choice("state", \.state, help: "MASTER|BACKUP: the start state hint"),
        .string("interface", \.interface, help: "the interface the instance runs on"),
        .int("virtual_router_id", 1...255, \.virtualRouterID, help: "the VRID, 1..255 (required)"),
        .int("priority", 1...255, \.priority, help: "1..255; 255 means address owner"),
        KeywordRule("advert_int", help: "seconds between adverts (v2: whole seconds 1..255; v3: 0.01..40.95)",
                    decode: { m, n, c in
                        guard c.expectArguments(n, 1...1, usage: "advert_int SECONDS"), let v = c.seconds(n.arguments[0], 0.01...255) else { return }
                        m.advertInterval = v
                    },
                    encode: { m, w in w.line("advert_int", DecodeContext.format(m.advertInterval)) }),
        .int("version", 2...3, \.version, help: "VRRP version 2 or 3"),
        KeywordRule("virtual_ipaddress", help: "the virtual addresses, one per line", shape: .block, repeatable: true,
                    decode: { m, n, c in m.virtualIPAddresses += c.addressLines(n, allowTrackGroup: false) },
                    encode: { m, w in
                        if !m.virtualIPAddresses.isEmpty { w.block(["virtual_ipaddress"]) { w in for a in m.virtualIPAddresses { w.line(a.words) } } }
                    }),
        KeywordRule("virtual_ipaddress_excluded", help: "addresses managed like VIPs but not advertised", shape: .block, repeatable: true,
                    decode: { m, n, c in m.excludedIPAddresses += c.addressLines(n, allowTrackGroup: false) },
                    encode: { m, w in
                        if !m.excludedIPAddresses.isEmpty {
                            w.block(["virtual_ipaddress_excluded"]) { w in for a in m.excludedIPAddresses { w.line(a.words) } }
                        }
                    }),
        .flag("no_virtual_ipaddress", \.noVirtualIPAddress, help: "allow an instance with no virtual address"),
        KeywordRule("virtual_routes", help: "routes installed while MASTER (ip route syntax)", shape: .block, repeatable: true,
                    decode: { m, n, c in m.virtualRoutes += c.routeLines(n, allowTrackGroup: false) },
                    encode: { m, w in if !m.virtualRoutes.isEmpty { w.block(["virtual_routes"]) { w in for r in m.virtualRoutes { w.line(r.words) } } } }),
        KeywordRule("virtual_rules", help: "rules installed while MASTER (ip rule syntax)", shape: .block, repeatable: true,
                    decode: { m, n, c in m.virtualRules += c.ruleLines(n, allowTrackGroup: false) },
                    encode: { m, w in if !m.virtualRules.isEmpty { w.block(["virtual_rules"]) { w in for r in m.virtualRules { w.line(r.words) } } } }),
        KeywordRule("unicast_src_ip", aliases: ["mcast_src_ip"], help: "source address of adverts (default: the interface's primary address)",
                    decode: { m, n, c in
                        guard c.expectArguments(n, 1...1, usage: "\(n.keyword.text) IP"), let a = c.ipAddress(n.arguments[0]) else { return }
                        m.sourceAddress = a
                    },
                    encode: { m, w in if let a = m.sourceAddress { w.line("unicast_src_ip", a.description) } }),
        KeywordRule("unicast_peer", help: "peers to send adverts to: IP [min_ttl N] [max_ttl N]", shape: .block, repeatable: true,
                    decode: { m, n, c in m.unicastPeers += c.unicastPeers(n) },
                    encode: { m, w in
                        if !m.unicastPeers.isEmpty {
                            w.block(["unicast_peer"]) { w in
                                for p in m.unicastPeers {
                                    w.line([p.address.description] + (p.minTTL.map { ["min_ttl", String($0)] } ?? [])
                                        + (p.maxTTL.map { ["max_ttl", String($0)] } ?? []))
                                }
                            }
                        }
                    }),
        .int("unicast_ttl", 0...255, \.unicastTTL, help: "TTL of unicast adverts"),
        .flag("unicast_fault_no_peer", \.unicastFaultNoPeer, help: "FAULT instead of multicast when the peer list is empty"),
        .bool("check_unicast_src", \.checkUnicastSource, help: "drop unicast adverts from addresses that are not peers"),
        KeywordRule("mcast_dst_ip", help: "multicast group for this instance",
                    decode: { m, n, c in
                        guard c.expectArguments(n, 1...1, usage: "mcast_dst_ip IP"), let a = c.ipAddress(n.arguments[0]) else { return }
                        m.multicastDestination = a
                    },
                    encode: { m, w in if let a = m.multicastDestination { w.line("mcast_dst_ip", a.description) } }),
        .string("vrf", \.vrf, help: "VRF interface (unicast with no interface)"),
        .flag("track_src_ip", \.trackSourceIP, help: "FAULT when the source address disappears"),
        .tracking("track_interface", \.trackInterfaces, weights: -253...253, help: "interfaces whose state affects the instance"),
        .tracking("track_script", \.trackScripts, weights: -253...253, help: "vrrp_scripts whose results affect the instance"),
        .tracking("track_file", \.trackFiles, weights: -254...254, help: "track_files whose values affect the instance"),
        .tracking("track_process", \.trackProcesses, weights: -254...254, help: "vrrp_track_processes that affect the instance"),
        .tracking("track_bfd", \.trackBFDs, weights: -253...253, help: "bfd_instances that affect the instance"),
        .flag("dont_track_primary", \.dontTrackPrimary, help: "ignore faults on the instance's own interface"),
        .flag("nopreempt", \.nopreempt, help: "a backup never takes over from a live master"),
        KeywordRule("preempt", help: "preempt (the default)",
                    decode: { m, n, c in if c.expectArguments(n, 0...0, usage: "preempt") { m.nopreempt = false } },
                    encode: { _, _ in }),
        .seconds("preempt_delay", 0...1000, \.preemptDelay, help: "seconds to wait before preempting a lower-priority master"),
        .block("authentication", schema: { Authentication.schema }, \.authentication, initial: { Authentication() },
               help: "VRRPv2 authentication"),
        .block("auth_hmac", schema: { AuthHMAC.schema }, \.authHMAC, initial: { AuthHMAC() }, help: "keepalived 2.4 HMAC trailer"),
        KeywordRule("accept", help: "accept packets for the virtual addresses",
                    decode: { m, n, c in if c.expectArguments(n, 0...0, usage: "accept") { m.accept = true } },
                    encode: { m, w in if let a = m.accept { w.line(a ? "accept" : "no_accept") } }),
        KeywordRule("no_accept", help: "drop packets for the virtual addresses",
                    decode: { m, n, c in if c.expectArguments(n, 0...0, usage: "no_accept") { m.accept = false } },
                    encode: { _, _ in }),
        .seconds("garp_master_delay", 0...86400, \.garpMasterDelay, help: "delay before the second GARP/NA burst"),
        .int("garp_master_repeat", 0...255, \.garpMasterRepeat, help: "GARP/NA messages per burst"),
        .seconds("garp_master_refresh", 0...86400, \.garpMasterRefresh, help: "periodic GARP/NA while MASTER"),
        .int("garp_master_refresh_repeat", 0...255, \.garpMasterRefreshRepeat, help: "messages per refresh"),
        .seconds("garp_lower_prio_delay", 0...86400, \.garpLowerPriorityDelay, help: "second burst after a lower-priority advert"),
        .int("garp_lower_prio_repeat", 0...255, \.garpLowerPriorityRepeat, help: "burst size after a lower-priority advert"),
        KeywordRule("garp_extra_if", aliases: ["vmac_garp_intvl"], help: "[all] SECONDS: periodic GARP/NA on VMAC (or all) interfaces",
                    decode: { m, n, c in
                        guard c.expectArguments(n, 1...2, usage: "garp_extra_if [all] SECONDS") else { return }
                        let all = n.arguments.count == 2
                        if all, n.arguments[0].text != "all" {
                            c.error("bad-value", "expected 'all', not '\(n.arguments[0].text)'", at: n.arguments[0].location)
                            return
                        }
                        guard let s = c.seconds(n.arguments[n.arguments.count - 1], 0...86400) else { return }
                        m.garpExtraInterface = GarpExtraInterface(all: all, interval: s)
                    },
                    encode: { m, w in
                        if let g = m.garpExtraInterface { w.line(["garp_extra_if"] + (g.all ? ["all"] : []) + [DecodeContext.format(g.interval)]) }
                    }),
        .int("down_timer_adverts", 1...100, \.downTimerAdverts, help: "adverts in the master-down interval (RFC: 3)"),
        .bool("lower_prio_no_advert", \.lowerPriorityNoAdvert, help: "a MASTER does not answer a lower-priority advert"),
        .bool("higher_prio_send_advert", \.higherPrioritySendAdvert, help: "send one advert before yielding to a higher priority"),
        .bool("owner_ignore_adverts", \.ownerIgnoreAdverts, help: "a priority-255 owner ignores all adverts"),
        KeywordRule("timer_expired_backup", aliases: ["thread_timer_expired"], help: "[PRIO]: with nopreempt, go to backup after a scheduling stall",
                    decode: { m, n, c in
                        guard c.expectArguments(n, 0...1, usage: "timer_expired_backup [1..254]") else { return }
                        if let a = n.arguments.first { if let v = c.integer(a, 1...254) { m.timerExpiredBackup = v } }
                        else { m.timerExpiredBackup = 254 }
                    },
                    encode: { m, w in if let v = m.timerExpiredBackup { w.line("timer_expired_backup", String(v)) } }),
        KeywordRule("use_vmac", help: "[[name] IF] [MAC] [netlink_notify_msg] [group G]: run on a macvlan with the virtual MAC",
                    decode: { m, n, c in if c.expectArguments(n, 0...6, usage: "use_vmac [NAME] [MAC] [netlink_notify_msg] [group G]") { m.useVMAC = VMACOptions(words: n.words) } },
                    encode: { m, w in if let v = m.useVMAC { w.line(["use_vmac"] + v.words) } }),
        .flag("use_vmac_addr", \.useVMACAddress, help: "VMACs for eVIP interfaces too"),
        .flag("vmac_xmit_base", \.vmacTransmitBase, help: "send and receive adverts on the parent interface"),
        .words("use_ipvlan", \.useIPVLAN, help: "[[name] IF] [IP] [bridge|private|vepa] [group G]: ipvlan instead of macvlan", arity: 0...7),
        .flag("promote_secondaries", \.promoteSecondaries, help: "set promote_secondaries on the interface"),
        .bool("strict_mode", \.strictMode, help: "strict RFC mode for this instance"),
        .bool("skip_check_adv_addr", \.skipCheckAdvertAddresses, help: "don't re-check the address list of adverts from the same master"),
        .bool("v3_checksum_as_v2", \.v3ChecksumAsV2, help: "VRRPv3 IPv4 checksum without the pseudo-header (RFC 9568)"),
        KeywordRule("old_unicast_checksum", help: "[never]: use the pre-1.3.6 unicast checksum",
                    decode: { m, n, c in
                        guard c.expectArguments(n, 0...1, usage: "old_unicast_checksum [never]") else { return }
                        if let a = n.arguments.first, a.text != "never" {
                            c.error("bad-value", "expected 'never', not '\(a.text)'", at: a.location)
                            return
                        }
                        m.oldUnicastChecksum = n.arguments.first?.text ?? "always"
                    },
                    encode: { m, w in if let v = m.oldUnicastChecksum { w.line(["old_unicast_checksum"] + (v == "never" ? ["never"] : [])) } }),
        .command("notify_master", \.notifyMaster, help: "run on becoming MASTER"),
        .command("notify_backup", \.notifyBackup, help: "run on becoming BACKUP"),
        .command("notify_fault", \.notifyFault, help: "run on entering FAULT"),
        .command("notify_stop", \.notifyStop, help: "run when the instance stops"),
        .command("notify", \.notify, help: "run on every transition with INSTANCE NAME STATE PRIORITY appended"),
        .notifyDeleted(\.notifyDeleted, \.notifyDeletedCommand),
        .command("notify_master_rx_lower_pri", \.notifyMasterRxLowerPriority, help: "run when a MASTER hears a lower priority"),
        .bool("smtp_alert", \.smtpAlert, help: "send email on transitions"),
        .bool("notify_priority_changes", \.notifyPriorityChanges, help: "write priority changes to the notify FIFO"),
        .int("kernel_rx_buf_size", 0...Int(Int32.max), \.kernelRxBufferSize, help: "receive buffer of the VRRP socket"),
        .ignored("linkbeat_use_polling", help: "deprecated in keepalived; use the global linkbeat_use_polling"),
        .ignored("native_ipv6", help: "deprecated in keepalived (IPv6 is detected from the addresses)"),
        .ignored("debug", help: "a no-op in keepalived"),
        .ignored("lvs_sync_daemon_interface", help: "deprecated in keepalived; use lvs_sync_daemon in global_defs"),
    ])
}

extension DecodeContext {
    func unicastPeers(_ node: ConfigNode) -> [UnicastPeer] {
        var peers: [UnicastPeer] = []
        for line in plainLines(node) {
            guard let address = ipAddress(line.keyword, what: "unicast peer address") else { continue }
            var peer = UnicastPeer(address: address)
            var i = 0
            var ok = true
            while i < line.arguments.count, ok {
                let a = line.arguments[i]
                guard a.text == "min_ttl" || a.text == "max_ttl" else {
                    error("unknown-option", "unexpected '\(a.text)' after a unicast peer", at: a.location, hint: "usage: IP [min_ttl N] [max_ttl N]")
                    ok = false
                    break
                }
                guard i + 1 < line.arguments.count, let v = integer(line.arguments[i + 1], 0...255, what: a.text) else {
                    if i + 1 >= line.arguments.count { error("missing-value", "'\(a.text)' needs a number", at: a.location) }
                    ok = false
                    break
                }
                if a.text == "min_ttl" { peer.minTTL = v } else { peer.maxTTL = v }
                i += 2
            }
            if ok {
                recordKeyword("unicast_peer/\(address)", at: line.location)
                peers.append(peer)
            }
        }
        return peers
    }
}
