import ConfigDSL
import Foundation
import IntegrationSupport
import IPVSControl
import NetLinux
import Testing
import VRRPCore
@testable import kad

extension HostAccessSuites {
    @Suite("kad run: what a configuration becomes, or why it is refused")
    struct DaemonConfigurationTests {
        static func load(_ text: String, vrrpOnly: Bool = false) throws -> Result<DaemonConfiguration, DaemonConfiguration.Refusal> {
            let dir = NSTemporaryDirectory() + "kad-dc-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let path = dir + "/keepalived.conf"
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return DaemonConfiguration.load(path: path, scope: .init(configID: "node1", vrrpOnly: vrrpOnly)) { _, family in
                family == .ipv4 ? VRRPCore.IPAddress("192.0.2.1") : VRRPCore.IPAddress("fe80::1")
            }
        }

        static let instance = """
            vrrp_instance VI_1 {
                interface eth0
                virtual_router_id 51
                priority 100
                virtual_ipaddress {
                    192.0.2.100/24
                }
            }

            """
        static let lvs = """
            virtual_server 192.0.2.100 80 {
                delay_loop 6
                lb_algo rr
                lb_kind NAT
                protocol TCP
                real_server 198.51.100.1 80 {
                    TCP_CHECK {
                        connect_timeout 3
                    }
                }
            }

            """

        /// A reload that changes one virtual_server block translates only that one, unless a
        /// virtual server runs a script (scripts are prepared against the host again each time).
        @Test func reloadTranslatesOnlyChangedBlocksWithoutScripts() throws {
            let dir = NSTemporaryDirectory() + "kad-dc-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let path = dir + "/keepalived.conf"
            func vs(_ port: Int, weight: Int = 1, script: Bool = false) -> String {
                "virtual_server 192.0.2.100 \(port) {\n    lb_kind NAT\n    protocol TCP\n"
                    + (script ? "    quorum_up /bin/true\n" : "")
                    + "    real_server 198.51.100.1 80 {\n        weight \(weight)\n    }\n}\n"
            }
            let head = "global_defs {\n    enable_script_security\n    script_user root\n}\n"
            func load(_ text: String, after previous: DaemonConfiguration?) throws -> DaemonConfiguration? {
                try text.write(toFile: path, atomically: true, encoding: .utf8)
                let r = DaemonConfiguration.load(path: path, scope: .init(configID: "node1"), primaryAddress: { _, _ in nil },
                                                 previous: previous)
                guard case .success(let c) = r else { Issue.record("refused: \(r)"); return nil }
                return c
            }
            for withScript in [false, true] {
                let first = try load(head + vs(80) + vs(81, script: withScript) + vs(82), after: nil)
                let second = try load(head + vs(80) + vs(81, script: withScript) + vs(82, weight: 4), after: first)
                #expect(second?.changes == .virtualServers([VirtualServerEdit(old: 2..<3, new: 2..<3)]))
                #expect(second?.lvsEdits == (withScript ? nil : [VirtualServerEdit(old: 2..<3, new: 2..<3)]))
                #expect(second?.lvs.virtualServers.map { $0.realServers.map(\.destination.weight) } == [[1], [1], [4]])
                #expect(second?.lvs.scripts.count == (withScript ? 1 : 0))
            }
        }

        @Test func aPlainInstanceRuns() throws {
            guard case .success(let c) = try Self.load(Self.instance) else { Issue.record("refused"); return }
            #expect(c.vrrp.routers.map(\.name) == ["VI_1"])
            #expect(c.vrrp.routers[0].primaryAddress == VRRPCore.IPAddress("192.0.2.1"))
            #expect(c.sockets.map(\.interface) == ["eth0"])
            #expect(c.warnings.isEmpty)
        }

        @Test func virtualServersRunAndAreIgnoredWithVRRPOnly() throws {
            guard case .success(let c) = try Self.load(Self.instance + Self.lvs) else { Issue.record("refused LVS"); return }
            #expect(c.lvs.virtualServers.map(\.id) == ["TCP 192.0.2.100 80"])
            #expect(c.lvs.virtualServers.first?.realServers.first?.checkers.count == 1)
            guard case .success(let p) = try Self.load(Self.instance + Self.lvs, vrrpOnly: true) else { Issue.record("refused with -P"); return }
            #expect(p.warnings.contains { $0.contains("virtual_server blocks are ignored") })
            #expect(p.lvs.virtualServers.isEmpty)
        }

        @Test func checkersOnlyIgnoresVRRP() throws {
            let dir = NSTemporaryDirectory() + "kad-dc-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            try (Self.instance + Self.lvs).write(toFile: dir + "/k.conf", atomically: true, encoding: .utf8)
            let result = DaemonConfiguration.load(path: dir + "/k.conf", scope: .init(configID: "node1", checkersOnly: true)) { _, _ in nil }
            guard case .success(let c) = result else { Issue.record("refused with -C"); return }
            #expect(c.vrrp.routers.isEmpty)
            #expect(c.lvs.virtualServers.count == 1)
            #expect(c.warnings.contains { $0.contains("-C/--check") })
        }

        @Test func unsupportedLVSKeywordsAreNamed() throws {
            let text = Self.lvs.replacingOccurrences(of: "TCP_CHECK {", with: "BFD_CHECK {\n name b\n }\n TCP_CHECK {")
            let bfd = "bfd_instance b {\n neighbor_ip 198.51.100.1\n}\n"
            guard case .failure(let r) = try Self.load(Self.instance + bfd + text) else { Issue.record("ran"); return }
            #expect(r.exitStatus == 2)
            #expect(r.lines.contains { $0.hasPrefix("virtual_server 192.0.2.100 80: real_server 198.51.100.1 80: BFD_CHECK #1: BFD_CHECK:") },
                    "\(r.lines)")
        }

        @Test("PING_CHECK, lvs_timeouts and lvs_sync_daemon run (they used to be refused)")
        func pingTimeoutsAndSyncDaemonRun() throws {
            let text = "global_defs {\n lvs_timeouts tcp 7200 udp 60\n lvs_sync_daemon eth0 VI_1\n}\n" + Self.instance
                + Self.lvs.replacingOccurrences(of: "TCP_CHECK {", with: "PING_CHECK {\n }\n TCP_CHECK {")
            guard case .success(let c) = try Self.load(text) else { Issue.record("refused"); return }
            #expect(c.lvs.hasPingCheck)
            #expect(c.lvs.virtualServers.first?.realServers.first?.checkers.map(\.spec.keyword) == ["PING_CHECK", "TCP_CHECK"])
            #expect(c.lvs.timeouts == IPVSTimeouts(tcp: 7200, udp: 60))
            #expect(c.lvs.syncDaemon?.instance == "VI_1")
            // -P: the virtual servers (and lvs_timeouts, a checker setting) go; the sync daemon, which
            // follows a VRRP instance, stays.
            guard case .success(let p) = try Self.load(text, vrrpOnly: true) else { Issue.record("refused with -P"); return }
            #expect(p.lvs.virtualServers.isEmpty && !p.lvs.hasPingCheck && p.lvs.timeouts == nil)
            #expect(p.lvs.syncDaemon?.interface == "eth0")
            #expect(p.lvs.needsIPVS)
            // -C: no VRRP, so no sync daemon (with a warning).
            let dir = NSTemporaryDirectory() + "kad-dc-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            try text.write(toFile: dir + "/k.conf", atomically: true, encoding: .utf8)
            guard case .success(let k) = DaemonConfiguration.load(path: dir + "/k.conf", scope: .init(configID: "node1", checkersOnly: true),
                                                                   primaryAddress: { _, _ in nil }) else {
                Issue.record("refused with -C"); return
            }
            #expect(k.lvs.syncDaemon == nil && k.lvs.timeouts != nil)
            #expect(k.warnings.contains { $0.hasPrefix("lvs_sync_daemon is ignored") }, "\(k.warnings)")
        }

        @Test func unsupportedKeywordsAreNamed() throws {
            let text = Self.instance.replacingOccurrences(of: "priority 100", with: "priority 100\n    use_vmac_addr\n    track_process {\n        tp\n    }")
                + "vrrp_track_process tp {\n    process nginx\n}\n"
            guard case .failure(let r) = try Self.load(text) else { Issue.record("ran"); return }
            #expect(r.exitStatus == 2)
            #expect(r.lines.contains { $0.contains("vrrp_instance VI_1: use_vmac_addr") })
            #expect(r.lines.contains { $0.contains("track_process tp: not supported yet") })
            #expect(r.lines.last?.contains("kad cannot run this configuration (2 problems above)") == true)
        }

        @Test("vrrp_no_swap and checker_no_swap lock memory (CAP_IPC_LOCK kept); vrrp_priority, vrrp_rt_priority and vrrp_cpu_affinity schedule the VRRP threads (CAP_SYS_NICE kept); the other scheduling and buffer settings are refused by name")
        func processTuning() throws {
            let locked = "global_defs {\n    vrrp_no_swap\n}\n" + Self.instance
            guard case .success(let c) = try Self.load(locked) else { Issue.record("refused vrrp_no_swap"); return }
            #expect(c.lockMemory)
            #expect(c.capabilities.contains(.ipcLock))
            guard case .success(let plain) = try Self.load(Self.instance) else { Issue.record("refused"); return }
            #expect(!plain.lockMemory && !plain.capabilities.contains(.ipcLock))
            // checker_no_swap with -P: the checkers do not run, so nothing is locked.
            guard case .success(let p) = try Self.load("global_defs {\n    checker_no_swap\n}\n" + Self.instance, vrrpOnly: true)
            else { Issue.record("refused checker_no_swap"); return }
            #expect(!p.lockMemory)
            // The VRRP threads' scheduling is applied (and CAP_SYS_NICE kept for it).
            let scheduled = "global_defs {\n    vrrp_rt_priority 50\n    vrrp_priority -5\n    vrrp_cpu_affinity 0 2-3\n}\n" + Self.instance
            guard case .success(let v) = try Self.load(scheduled) else { Issue.record("refused vrrp_rt_priority"); return }
            #expect(v.vrrpScheduling == ThreadScheduling(niceness: -5, realtimePriority: 50, cpus: [0, 2, 3]))
            #expect(v.capabilities.contains(.sysNice) && !plain.capabilities.contains(.sysNice))
            guard case .failure(let badCPU) = try Self.load("global_defs {\n    vrrp_cpu_affinity 1-x\n}\n" + Self.instance) else {
                Issue.record("ran with vrrp_cpu_affinity 1-x"); return
            }
            // Located at the word, like every other bad value.
            #expect(badCPU.lines.first?.contains("keepalived.conf:2:23: error: vrrp_cpu_affinity: '1-x' is not a CPU number or range") == true,
                    "\(badCPU.lines)")
            let tuned = "global_defs {\n    vrrp_rlimit_rttime 10000\n    checker_priority -5\n    max_auto_priority 20\n"
                + "    vrrp_netlink_monitor_rcv_bufs 1048576\n    vrrp_no_swap\n}\n" + Self.instance
            guard case .failure(let r) = try Self.load(tuned) else { Issue.record("ran"); return }
            for keyword in ["vrrp_rlimit_rttime", "checker_priority", "max_auto_priority", "vrrp_netlink_monitor_rcv_bufs"] {
                #expect(r.lines.contains { $0.contains(keyword) && $0.contains("not supported yet") }, "\(keyword): \(r.lines)")
            }
            #expect(!r.lines.contains { $0.contains("vrrp_no_swap: not supported") }, "\(r.lines)")
            // max_auto_priority 0 is keepalived's "off": nothing to refuse.
            guard case .success = try Self.load("global_defs {\n    max_auto_priority 0\n}\n" + Self.instance) else {
                Issue.record("refused max_auto_priority 0"); return
            }
        }

        @Test func syntaxErrorsAreLocated() throws {
            guard case .failure(let r) = try Self.load("vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 300\n}\n") else {
                Issue.record("ran"); return
            }
            #expect(r.exitStatus == 2)
            #expect(r.lines.contains { $0.contains("keepalived.conf:3:") && $0.contains("300") })
        }

        @Test func noInstanceIsAWarningNotARefusal() throws {
            guard case .success(let c) = try Self.load("global_defs {\n    router_id x\n}\n") else { Issue.record("refused"); return }
            #expect(c.vrrp.routers.isEmpty)
            #expect(c.warnings.contains { $0.contains("no vrrp_instance") })
        }

        @Test("kad run refuses an unsupported file with exit status 2 and the keyword named, before touching the network")
        func refusalExitStatus() throws {
            // Whatever happens, the daemon runs in a network namespace of its own (unshare -n: only
            // lo, gone when it exits) and is killed after 20 s: a test must never let a daemon
            // loose on the host's network, even if the keyword it relies on becomes supported.
            guard Integration.available() else { return }
            let dir = NSTemporaryDirectory() + "kad-dc-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let conf = dir + "/k.conf"
            try Self.instance.replacingOccurrences(of: "priority 100", with: "priority 100\n    unicast_src_ip 192.0.2.1\n    use_vmac_addr")
                .write(toFile: conf, atomically: true, encoding: .utf8)
            let r = try Self.isolated(["run", "-l", "-f", conf, "-p", dir + "/pid", "--control-socket", dir + "/sock"])
            #expect(r.status == 2)
            #expect(r.output.contains("vrrp_instance VI_1: use_vmac_addr"), "\(r.output)")
            #expect(!FileManager.default.fileExists(atPath: dir + "/pid"))
            let bad = try Self.isolated(["run", "-l", "-S", "local9", "-f", conf])
            #expect(bad.status == 64 && bad.output.contains("-S/--log-facility local9"), "\(bad.output)")
        }

        /// `kad ARGS` in a fresh, unnamed network namespace, killed after 20 s.
        static func isolated(_ arguments: [String]) throws -> (status: Int32, output: String) {
            try Shell.capture(["timeout", "-s", "KILL", "20", "unshare", "--net", "--", KadProcess.binary] + arguments)
        }
    }
}
