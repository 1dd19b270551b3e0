/// `global_defs { }`: settings for the whole daemon. Every keyword is optional; non-optional fields
/// hold keepalived's defaults.
public struct GlobalDefs: Codable, Sendable, Hashable {
    public var routerID: String?
    public var notificationEmail: [String] = []
    public var notificationEmailFrom: String?
    /// `smtp_server HOST [PORT]`.
    public var smtpServer: [String]?
    public var smtpHeloName: String?
    public var smtpConnectTimeout: Seconds = 30
    public var smtpAlert: Bool?
    public var smtpAlertVRRP: Bool?
    public var smtpAlertChecker: Bool?
    public var noEmailFaults: Bool = false
    public var noCheckerEmails: Bool = false
    public var checkerLogAllFailures: Bool = false
    public var defaultInterface: String?
    public var vrrpMulticastGroup4: IPAddress?
    public var vrrpMulticastGroup6: IPAddress?
    public var vrrpVersion: Int = 2
    public var vrrpGarpMasterDelay: Seconds = 5
    public var vrrpGarpMasterRepeat: Int = 5
    public var vrrpGarpLowerPriorityDelay: Seconds?
    public var vrrpGarpLowerPriorityRepeat: Int?
    public var vrrpGarpMasterRefresh: Seconds = 0
    public var vrrpGarpMasterRefreshRepeat: Int = 1
    public var vrrpGarpInterval: Seconds = 0
    public var vrrpGnaInterval: Seconds = 0
    public var vrrpMinGarp: Bool = false
    public var vrrpGarpExtraInterface: GarpExtraInterface?
    public var vrrpDownTimerAdverts: Int = 3
    public var vrrpLowerPriorityNoAdvert: Bool?
    public var vrrpHigherPrioritySendAdvert: Bool = false
    public var vrrpOwnerIgnoreAdverts: Bool?
    public var v3ChecksumAsV2: Bool = false
    public var vrrpCheckUnicastSource: Bool = false
    public var vrrpSkipCheckAdvertAddresses: Bool = false
    public var vrrpStrict: Bool = false
    public var vrrpIPTables: [String]?
    public var vrrpIPSets: [String]?
    public var nftables: [String]?
    public var nftablesPriority: Int?
    public var nftablesCounters: Bool = false
    public var nftablesInterfaceIndex: Bool = false
    public var nftablesIPVS: [String]?
    public var nftablesIPVSPriority: Int?
    public var nftablesIPVSStartFwmark: Int?
    public var disableLocalIGMP: Bool = false
    public var vrrpNotifyPriorityChanges: Bool = false
    public var notifyFIFO: [String]?
    public var vrrpNotifyFIFO: [String]?
    public var lvsNotifyFIFO: [String]?
    public var notifyFIFOScript: ScriptCommand?
    public var vrrpNotifyFIFOScript: ScriptCommand?
    public var lvsNotifyFIFOScript: ScriptCommand?
    public var fifoWriteVRRPStatesOnReload: Bool = false
    /// `script_user USER [GROUP]`.
    public var scriptUser: [String]?
    public var enableScriptSecurity: Bool = false
    public var setSupplementaryGroups: Bool = false
    public var useSymlinkPaths: Bool = false
    public var startupScript: ScriptCommand?
    public var startupScriptTimeout: Int = 10
    public var shutdownScript: ScriptCommand?
    public var shutdownScriptTimeout: Int = 10
    public var maxAutoPriority: Int?
    public var minAutoPriorityDelay: Int?
    public var vrrpStartupDelay: Seconds = 0
    public var vrrpDelayAfterBoot: Seconds = 0
    /// `dynamic_interfaces [allow_if_changes]`.
    public var dynamicInterfaces: [String]?
    public var vmacPrefix: String?
    public var vmacAddressPrefix: String?
    public var logUnknownVRIDs: Bool = false
    public var lvsSyncDaemon: [String]?
    public var lvsTimeouts: [String]?
    public var lvsFlush: Bool = false
    /// `lvs_flush_on_stop [VS]`.
    public var lvsFlushOnStop: [String]?
    public var rsInitNotifies: Bool = false
    public var snmpSocket: String?
    public var enableSNMPVRRP: Bool = false
    public var enableSNMPChecker: Bool = false
    public var enableSNMPRFC: Bool = false
    public var enableSNMPRFCv2: Bool = false
    public var enableSNMPRFCv3: Bool = false
    public var enableTraps: Bool = false
    public var snmpVSStatsUpdateInterval: Seconds?
    public var snmpRSStatsUpdateInterval: Seconds?
    public var enableDBus: Bool = false
    public var dbusServiceName: String?
    public var dbusNoInterfaceName: Bool = false
    public var umask: String?
    public var tmpConfigDirectory: String?
    public var configSaveDirectory: String?
    public var processNames: Bool = false
    public var processName: String?
    public var vrrpProcessName: String?
    public var checkerProcessName: String?
    public var bfdProcessName: String?
    public var reloadCheckConfig: [String]?
    public var reloadTimeFile: String?
    public var reloadRepeat: Bool = false
    public var reloadFile: [String]?
    public var dataUseInstance: Bool = false
    public var stateDumpFile: String?
    public var statsDumpFile: String?
    public var jsonDumpFile: String?
    public var jsonVersion: Int?
    public var randomSeed: Int?
    public var iprouteUsrDirectory: String?
    public var iprouteEtcDirectory: String?
    /// Scheduling of the VRRP, checker and BFD processes, kept as written (`vrrp_priority -10`, ...).
    public var scheduling: [String: [String]] = [:]
    /// Netlink and socket buffer settings, kept as written (`vrrp_netlink_cmd_rcv_bufs 1048576`, ...).
    public var buffers: [String: [String]] = [:]

    public init() {}

    /// CPU numbers and ranges (`0 2-3`, `0,1`) as keepalived's `*_cpu_affinity` takes them
    /// (CPUs below 4096), and the first word that is neither (the list is then incomplete).
    public static func cpuList(_ words: [String]) -> (cpus: [Int], bad: Substring?) {
        var cpus: [Int] = []
        for word in words.flatMap({ $0.split(separator: ",") }) {
            let ends = word.split(separator: "-", omittingEmptySubsequences: false)
            if ends.count == 1, let n = Int(ends[0]), (0..<4096).contains(n) {
                cpus.append(n)
            } else if ends.count == 2, let a = Int(ends[0]), let b = Int(ends[1]), 0 <= a, a <= b, b < 4096 {
                cpus += Array(a...b)
            } else {
                return (cpus, word)
            }
        }
        return (cpus, nil)
    }

    static let schedulingKeywords: [String] = ["vrrp", "checker", "bfd"].flatMap { p in
        ["\(p)_priority", "\(p)_no_swap", "\(p)_rt_priority", "\(p)_cpu_affinity", "\(p)_rlimit_rttime", "\(p)_rlimit_rtime"]
    }

    static let bufferKeywords: [String] = {
        var k: [String] = []
        for p in ["vrrp", "lvs"] {
            for s in ["netlink_cmd_rcv_bufs", "netlink_monitor_rcv_bufs"] {
                k += ["\(p)_\(s)", "\(p)_\(s)_force"]
            }
        }
        k += ["process_monitor_rcv_bufs", "process_monitor_rcv_bufs_force", "vrrp_rx_bufs_policy", "vrrp_rx_bufs_multiplier"]
        return k
    }()

    static let schema: BlockSchema<GlobalDefs> = {
        var rules: [KeywordRule<GlobalDefs>] = [
            .string("router_id", \.routerID, help: "name of this node in emails and SNMP (default: host name)"),
            KeywordRule("lvs_id", help: "keepalived 1.x name of router_id",
                        decode: { m, n, c in
                            guard c.expectArguments(n, 1...1, usage: "lvs_id NAME") else { return }
                            c.warning("deprecated-keyword", "'lvs_id' is the keepalived 1.x name of 'router_id'; keepalived 2.x rejects it",
                                      at: n.location, hint: "write 'router_id \(n.arguments[0].text)'")
                            m.routerID = n.arguments[0].text
                        },
                        encode: { _, _ in }),
            .list("notification_email", \.notificationEmail, help: "To: addresses for smtp_alert"),
            .string("notification_email_from", \.notificationEmailFrom, help: "From: address"),
            .words("smtp_server", \.smtpServer, help: "HOST [PORT]: mail relay", arity: 1...2, usage: "smtp_server HOST [PORT]"),
            .string("smtp_helo_name", \.smtpHeloName, help: "HELO name"),
            .seconds("smtp_connect_timeout", 0...3600, \.smtpConnectTimeout, help: "SMTP connect timeout (default 30)"),
            .bool("smtp_alert", \.smtpAlert, help: "email on transitions by default"),
            .bool("smtp_alert_vrrp", \.smtpAlertVRRP, help: "email on VRRP transitions by default"),
            .bool("smtp_alert_checker", \.smtpAlertChecker, help: "email on checker events by default"),
            .flag("no_email_faults", \.noEmailFaults, help: "no email for FAULT transitions"),
            .flag("no_checker_emails", \.noCheckerEmails, help: "no email from checkers"),
            .bool("checker_log_all_failures", \.checkerLogAllFailures, help: "log every checker failure"),
            .string("default_interface", \.defaultInterface, help: "interface for static addresses without dev (default eth0)"),
            KeywordRule("vrrp_mcast_group4", help: "IPv4 VRRP group (default 224.0.0.18)",
                        decode: { m, n, c in
                            guard c.expectArguments(n, 1...1, usage: "vrrp_mcast_group4 IP"), let a = c.ipAddress(n.arguments[0]) else { return }
                            m.vrrpMulticastGroup4 = a
                        },
                        encode: { m, w in if let a = m.vrrpMulticastGroup4 { w.line("vrrp_mcast_group4", a.description) } }),
            KeywordRule("vrrp_mcast_group6", help: "IPv6 VRRP group (default ff02::12)",
                        decode: { m, n, c in
                            guard c.expectArguments(n, 1...1, usage: "vrrp_mcast_group6 IP"), let a = c.ipAddress(n.arguments[0]) else { return }
                            m.vrrpMulticastGroup6 = a
                        },
                        encode: { m, w in if let a = m.vrrpMulticastGroup6 { w.line("vrrp_mcast_group6", a.description) } }),
            .int("vrrp_version", 2...3, \.vrrpVersion, help: "default VRRP version (2)"),
            .seconds("vrrp_garp_master_delay", 0...86400, \.vrrpGarpMasterDelay, help: "delay before the second GARP/NA burst (5)"),
            .int("vrrp_garp_master_repeat", 0...255, \.vrrpGarpMasterRepeat, help: "GARP/NA per burst (5)"),
            .seconds("vrrp_garp_lower_prio_delay", 0...86400, \.vrrpGarpLowerPriorityDelay, help: "second burst after a lower-priority advert"),
            .int("vrrp_garp_lower_prio_repeat", 0...255, \.vrrpGarpLowerPriorityRepeat, help: "burst after a lower-priority advert"),
            .seconds("vrrp_garp_master_refresh", 0...86400, \.vrrpGarpMasterRefresh, help: "periodic GARP/NA while MASTER (0 = off)"),
            .int("vrrp_garp_master_refresh_repeat", 0...255, \.vrrpGarpMasterRefreshRepeat, help: "messages per refresh (1)"),
            .seconds("vrrp_garp_interval", 0...86400, \.vrrpGarpInterval, help: "pacing between GARPs on one interface"),
            .seconds("vrrp_gna_interval", 0...86400, \.vrrpGnaInterval, help: "pacing between NAs on one interface"),
            .bool("vrrp_min_garp", \.vrrpMinGarp, help: "repeat 1, delay 0, no refresh"),
            KeywordRule("vrrp_garp_extra_if", help: "[all] SECONDS: periodic GARP/NA on VMAC (or all) interfaces",
                        decode: { m, n, c in
                            guard c.expectArguments(n, 1...2, usage: "vrrp_garp_extra_if [all] SECONDS") else { return }
                            let all = n.arguments.count == 2
                            if all, n.arguments[0].text != "all" {
                                c.error("bad-value", "expected 'all', not '\(n.arguments[0].text)'", at: n.arguments[0].location)
                                return
                            }
                            guard let s = c.seconds(n.arguments[n.arguments.count - 1], 0...86400) else { return }
                            m.vrrpGarpExtraInterface = GarpExtraInterface(all: all, interval: s)
                        },
                        encode: { m, w in
                            if let g = m.vrrpGarpExtraInterface { w.line(["vrrp_garp_extra_if"] + (g.all ? ["all"] : []) + [DecodeContext.format(g.interval)]) }
                        }),
            .int("vrrp_down_timer_adverts", 1...100, \.vrrpDownTimerAdverts, help: "adverts in the master-down interval (3)"),
            .bool("vrrp_lower_prio_no_advert", \.vrrpLowerPriorityNoAdvert, help: "a MASTER does not answer a lower priority"),
            .bool("vrrp_higher_prio_send_advert", \.vrrpHigherPrioritySendAdvert, help: "advert before yielding"),
            .bool("vrrp_owner_ignore_adverts", aliases: ["owner_ignore_adverts"], \.vrrpOwnerIgnoreAdverts, help: "a priority-255 owner ignores adverts"),
            .bool("v3_checksum_as_v2", \.v3ChecksumAsV2, help: "VRRPv3 IPv4 checksum without the pseudo-header (RFC 9568)"),
            .flag("vrrp_check_unicast_src", \.vrrpCheckUnicastSource, help: "drop unicast adverts from non-peers"),
            .flag("vrrp_skip_check_adv_addr", \.vrrpSkipCheckAdvertAddresses, help: "don't re-check addresses from the same master"),
            .bool("vrrp_strict", \.vrrpStrict, help: "strict RFC mode"),
            .words("vrrp_iptables", \.vrrpIPTables, help: "[IN [OUT]] chains for no_accept", arity: 0...2),
            .words("vrrp_ipsets", \.vrrpIPSets, help: "ipset names", arity: 0...5),
            .words("nftables", \.nftables, help: "[TABLE]: use nftables", arity: 0...1),
            .int("nftables_priority", Int(Int32.min)...Int(Int32.max), \.nftablesPriority, help: "nftables chain priority"),
            .flag("nftables_counters", \.nftablesCounters, help: "add counters to nftables rules"),
            .flag("nftables_ifindex", \.nftablesInterfaceIndex, help: "match interfaces by index"),
            .words("nftables_ipvs", \.nftablesIPVS, help: "[TABLE]: fwmark-based virtual_server_group expansion", arity: 0...1),
            .int("nftables_ipvs_priority", Int(Int32.min)...Int(Int32.max), \.nftablesIPVSPriority, help: "chain priority"),
            .int("nftables_ipvs_start_fwmark", 1...Int(UInt32.max), \.nftablesIPVSStartFwmark, help: "first fwmark (1000)"),
            .flag("disable_local_igmp", \.disableLocalIGMP, help: "set igmp_link_local_mcast_reports=0"),
            .bool("vrrp_notify_priority_changes", \.vrrpNotifyPriorityChanges, help: "write priority changes to the FIFO"),
            .words("notify_fifo", \.notifyFIFO, help: "PATH [USER [GROUP]]: event FIFO", arity: 1...3),
            .words("vrrp_notify_fifo", \.vrrpNotifyFIFO, help: "PATH [USER [GROUP]]: VRRP event FIFO", arity: 1...3),
            .words("lvs_notify_fifo", \.lvsNotifyFIFO, help: "PATH [USER [GROUP]]: LVS event FIFO", arity: 1...3),
            .command("notify_fifo_script", \.notifyFIFOScript, help: "reader of the FIFO"),
            .command("vrrp_notify_fifo_script", \.vrrpNotifyFIFOScript, help: "reader of the VRRP FIFO"),
            .command("lvs_notify_fifo_script", \.lvsNotifyFIFOScript, help: "reader of the LVS FIFO"),
            .flag("fifo_write_vrrp_states_on_reload", \.fifoWriteVRRPStatesOnReload, help: "re-send states at reload"),
            .words("script_user", \.scriptUser, help: "USER [GROUP]: default user for scripts", arity: 1...2),
            .flag("enable_script_security", \.enableScriptSecurity, help: "refuse scripts that non-root users could modify"),
            .flag("set_supplementary_groups", \.setSupplementaryGroups, help: "set the script user's supplementary groups"),
            .flag("use_symlink_paths", \.useSymlinkPaths, help: "don't resolve symlinks in script paths"),
            .command("startup_script", \.startupScript, help: "run once at start"),
            .int("startup_script_timeout", 1...1000, \.startupScriptTimeout, help: "seconds (10)"),
            .command("shutdown_script", \.shutdownScript, help: "run once at exit"),
            .int("shutdown_script_timeout", 1...1000, \.shutdownScriptTimeout, help: "seconds (10)"),
            .int("max_auto_priority", -1...99, \.maxAutoPriority, help: "raise to realtime priority when timers run late"),
            .int("min_auto_priority_delay", 1...Int(Int32.max), \.minAutoPriorityDelay, help: "microseconds of lateness that trigger it"),
            .seconds("vrrp_startup_delay", 0...3600, \.vrrpStartupDelay, help: "hold VRRP at start"),
            .seconds("vrrp_delay_after_boot", 0...3600, \.vrrpDelayAfterBoot, help: "hold VRRP until this long after boot"),
            .words("dynamic_interfaces", \.dynamicInterfaces, help: "[allow_if_changes]: allow interfaces that appear later", arity: 0...1),
            .string("vmac_prefix", \.vmacPrefix, help: "prefix of VMAC interface names"),
            .string("vmac_addr_prefix", \.vmacAddressPrefix, help: "prefix of VMAC address interface names"),
            .flag("log_unknown_vrids", \.logUnknownVRIDs, help: "log adverts for unconfigured VRIDs"),
            .words("lvs_sync_daemon", \.lvsSyncDaemon, help: "IF [[inst] VI] [id N] [maxlen N] [port N] [ttl N] [group IP]", arity: 1...14),
            .words("lvs_timeouts", \.lvsTimeouts, help: "[tcp S] [tcpfin S] [udp S]", arity: 2...6),
            .flag("lvs_flush", \.lvsFlush, help: "flush IPVS at start"),
            .words("lvs_flush_on_stop", aliases: ["lvs_flush_onstop"], \.lvsFlushOnStop, help: "[VS]: flush IPVS at stop", arity: 0...1),
            .flag("rs_init_notifies", \.rsInitNotifies, help: "notify real servers at start"),
            .string("snmp_socket", \.snmpSocket, help: "AgentX socket"),
            .flag("enable_snmp_vrrp", aliases: ["enable_snmp_keepalived"], \.enableSNMPVRRP, help: "SNMP for VRRP"),
            .flag("enable_snmp_checker", \.enableSNMPChecker, help: "SNMP for checkers"),
            .flag("enable_snmp_rfc", \.enableSNMPRFC, help: "RFC VRRP MIBs"),
            .flag("enable_snmp_rfcv2", \.enableSNMPRFCv2, help: "RFC 2787 MIB"),
            .flag("enable_snmp_rfcv3", \.enableSNMPRFCv3, help: "RFC 6527 MIB"),
            .flag("enable_traps", \.enableTraps, help: "SNMP traps"),
            .seconds("snmp_vs_stats_update_interval", 0...3600, \.snmpVSStatsUpdateInterval, help: "seconds (5)"),
            .seconds("snmp_rs_stats_update_interval", 0...3600, \.snmpRSStatsUpdateInterval, help: "seconds (5)"),
            .flag("enable_dbus", \.enableDBus, help: "DBus interface"),
            .string("dbus_service_name", \.dbusServiceName, help: "DBus service name"),
            .flag("dbus_no_interface_name", \.dbusNoInterfaceName, help: "omit the interface from DBus paths"),
            .string("umask", \.umask, help: "file creation mask"),
            .string("tmp_config_directory", \.tmpConfigDirectory, help: "where the config copy is written"),
            .string("config_save_dir", \.configSaveDirectory, help: "where configs are saved"),
            .flag("process_names", \.processNames, help: "set process names"),
            .string("process_name", \.processName, help: "parent process name"),
            .string("vrrp_process_name", \.vrrpProcessName, help: "VRRP process name"),
            .string("checker_process_name", aliases: ["lvs_process_name"], \.checkerProcessName, help: "checker process name"),
            .string("bfd_process_name", \.bfdProcessName, help: "BFD process name"),
            .words("reload_check_config", \.reloadCheckConfig, help: "[LOG_FILE]: test the config before reloading", arity: 0...1),
            .string("reload_time_file", \.reloadTimeFile, help: "file holding a scheduled reload time"),
            .flag("reload_repeat", \.reloadRepeat, help: "keep the reload time file"),
            .words("reload_file", \.reloadFile, help: "[PATH]: reload handshake file", arity: 0...1),
            .flag("data_use_instance", \.dataUseInstance, help: "add the instance name to dump files"),
            .string("state_dump_file", \.stateDumpFile, help: "SIGUSR1 dump file"),
            .string("stats_dump_file", \.statsDumpFile, help: "SIGUSR2 dump file"),
            .string("json_dump_file", \.jsonDumpFile, help: "JSON dump file"),
            .int("json_version", 1...2, \.jsonVersion, help: "JSON dump format"),
            .int("random_seed", 0...Int(UInt32.max), \.randomSeed, help: "seed for ${_RANDOM}"),
            .string("iproute_usr_dir", \.iprouteUsrDirectory, help: "iproute2 data directory"),
            .string("iproute_etc_dir", \.iprouteEtcDirectory, help: "iproute2 config directory"),
        ]
        for name in schedulingKeywords {
            rules.append(KeywordRule(name, help: "process scheduling setting",
                                     decode: { m, n, c in
                                         if name.hasSuffix("_no_swap") {
                                             if c.expectArguments(n, 0...0, usage: name) { m.scheduling[name] = [] }
                                         } else if c.expectArguments(n, 1...64, usage: "\(name) VALUE") {
                                             if name.hasSuffix("_priority"), !name.hasSuffix("rt_priority") {
                                                 guard c.integer(n.arguments[0], -20...19, what: name) != nil else { return }
                                             } else if name.hasSuffix("_rt_priority") {
                                                 guard c.integer(n.arguments[0], 1...99, what: name) != nil else { return }
                                             } else if name.hasSuffix("_cpu_affinity") {
                                                 let (_, bad) = GlobalDefs.cpuList(n.words)
                                                 if let bad {
                                                     let at = n.arguments.first { $0.text.split(separator: ",").contains(bad) }?.location ?? n.location
                                                     c.error("bad-value", "\(name): '\(bad)' is not a CPU number or range", at: at,
                                                             hint: "write CPU numbers and ranges: 0 2-3, or 0,1")
                                                     return
                                                 }
                                             }
                                             m.scheduling[name] = n.words
                                         }
                                     },
                                     encode: { m, w in if let v = m.scheduling[name] { w.line([name] + v) } }))
        }
        for name in bufferKeywords {
            rules.append(KeywordRule(name, help: "socket buffer setting",
                                     decode: { m, n, c in
                                         if name.hasSuffix("_force") {
                                             if let b = c.optionalBoolean(n) { m.buffers[name] = [b ? "true" : "false"] }
                                         } else if c.expectArguments(n, 1...1, usage: "\(name) VALUE") {
                                             m.buffers[name] = n.words
                                         }
                                     },
                                     encode: { m, w in if let v = m.buffers[name] { w.line([name] + v) } }))
        }
        return BlockSchema("global_defs", rules)
    }()
}
