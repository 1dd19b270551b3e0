import ConfigDSL
import Foundation
import IPVSControl
import NetLinux
import Testing
import VRRPCore

@testable import kad

/// Translation of virtual_server blocks into IPVS services, policies and checker specs (pure:
/// no socket, no script run; scripts are only looked up).
@Suite("LVS translation")
struct LVSTranslationTests {
    static func translate(_ text: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) -> LVSTranslation.Result {
        var options = ConfigLoader.Options()
        options.preprocessor = PreprocessorOptions(configID: "node1")
        options.host = HostEnvironment(interfaceExists: nil, inspectScriptFiles: false)
        let loaded = ConfigLoader(options: options).load(text: text, name: "t.conf")
        #expect(loaded.errors.isEmpty, "\(loaded.errors)", sourceLocation: sourceLocation)
        var scripts = ScriptPreparer(globalDefs: loaded.config.globalDefs)
        var result = LVSTranslation.translate(loaded.config, scripts: &scripts)
        result.problems += scripts.problems
        return result
    }

    static func addr(_ s: String) -> VRRPCore.IPAddress { VRRPCore.IPAddress(s)! }

    @Test func serviceFieldsAndDefaults() throws {
        let r = Self.translate("""
            virtual_server 192.0.2.10 80 {
                lb_algo sh
                sh-port
                lb_kind DR
                protocol TCP
                persistence_timeout 600
                persistence_granularity 255.255.255.0
                real_server 198.51.100.2 8080 {
                    weight 3
                    uthreshold 100
                }
                real_server 198.51.100.3 {
                    lvs_method NAT
                }
            }
            """)
        #expect(r.problems.isEmpty, "\(r.problems)")
        let vs = try #require(r.virtualServers.first)
        #expect(vs.id == "TCP 192.0.2.10 80")
        let s = try #require(vs.services.first)
        #expect(s.key == .address(protocol: .tcp, address: Self.addr("192.0.2.10"), port: 80))
        #expect(s.scheduler == .sourceHashing)
        #expect(s.flags == [.shPort, .persistent])
        #expect(s.timeout == 600)
        #expect(s.netmask == .ipv4(prefixLength: 24))
        #expect(vs.realServers.map(\.destination) == [
            IPVSDestination(address: Self.addr("198.51.100.2"), port: 8080, forwarding: .directRouting, weight: 3, upperThreshold: 100),
            // No port: the virtual server's; its own lvs_method wins.
            IPVSDestination(address: Self.addr("198.51.100.3"), port: 80, forwarding: .masquerade, weight: 1),
        ])
        // No checkers: always up; quorum 1 held.
        #expect(vs.realServers.allSatisfy { $0.checkers.isEmpty && $0.startsUp })
        #expect(vs.initialState.hasQuorum)
    }

    @Test func protocolDefaultsToUDPAndSchedulerToWLC() throws {
        let r = Self.translate("virtual_server 192.0.2.10 53 {\n real_server 198.51.100.2 53 {\n }\n}\n")
        let s = try #require(r.virtualServers.first?.services.first)
        #expect(s.key == .address(protocol: .udp, address: Self.addr("192.0.2.10"), port: 53))
        #expect(s.scheduler == .weightedLeastConnection)
    }

    @Test func groupsExpandAndFwmarkFamilies() throws {
        let r = Self.translate("""
            virtual_server_group web {
                192.0.2.10-12 80
                192.0.2.20 443
                fwmark 7
            }
            virtual_server group web {
                protocol TCP
                real_server 198.51.100.2 80 {
                }
            }
            virtual_server fwmark 9 {
                ip_family inet6
                lb_kind TUN
                real_server 198.51.100.5 0 {
                }
            }
            """)
        #expect(r.problems.isEmpty, "\(r.problems)")
        #expect(r.virtualServers.map(\.id) == ["TCP group web", "FWM 9 IPv6"])
        #expect(r.virtualServers[0].serviceKeys == [
            .address(protocol: .tcp, address: Self.addr("192.0.2.10"), port: 80),
            .address(protocol: .tcp, address: Self.addr("192.0.2.11"), port: 80),
            .address(protocol: .tcp, address: Self.addr("192.0.2.12"), port: 80),
            .address(protocol: .tcp, address: Self.addr("192.0.2.20"), port: 443),
            .firewallMark(7, family: .ipv4),
        ])
        #expect(r.virtualServers[1].serviceKeys == [.firewallMark(9, family: .ipv6)])
        #expect(r.virtualServers[1].realServers[0].destination.forwarding == .tunnel)
    }

    @Test func checkersGetResolvedTimingAndConnection() throws {
        let r = Self.translate("""
            global_defs {
                checker_log_all_failures
            }
            virtual_server 192.0.2.10 80 {
                protocol TCP
                delay_loop 2
                retry 4
                virtualhost vs.example
                real_server 198.51.100.2 80 {
                    connect_timeout 3
                    alpha
                    TCP_CHECK {
                        connect_port 8080
                        bindto 192.0.2.1
                    }
                    HTTP_GET {
                        url {
                            path /health
                            status_code 200 204
                        }
                        delay_before_retry 5
                    }
                }
            }
            """)
        #expect(r.problems.isEmpty, "\(r.problems)")
        let rs = try #require(r.virtualServers.first?.realServers.first)
        #expect(rs.checkers.count == 2)
        #expect(!rs.startsUp)   // alpha
        var tcpConnection = CheckerConnection(address: Self.addr("198.51.100.2"), port: 8080)
        tcpConnection.bindAddress = Self.addr("192.0.2.1")
        #expect(rs.checkers[0].spec == .tcp(tcpConnection, timeout: .seconds(3)))
        #expect(rs.checkers[0].timing == CheckerTiming(alpha: true, connectTimeout: .seconds(3), retry: 4, delayBeforeRetry: .seconds(1),
                                                       warmup: .seconds(2), delayLoop: .seconds(2), logAllFailures: true))
        #expect(rs.checkers[1].spec == .http(CheckerConnection(address: Self.addr("198.51.100.2"), port: 80), timeout: .seconds(3),
                                             version: .http10, virtualhost: "vs.example",
                                             urls: [HTTPURLCheck(path: "/health", statusCodes: [200...200, 204...204])], tls: nil))
        #expect(rs.checkers[1].timing.delayBeforeRetry == .seconds(5))
        #expect(rs.checkers[1].spec.keyword == "HTTP_GET")
    }

    @Test func policyInputs() throws {
        let r = Self.translate("""
            virtual_server 192.0.2.10 80 {
                protocol TCP
                quorum 3
                hysteresis 1
                inhibit_on_failure
                sorry_server 203.0.113.9 8080
                sorry_server_inhibit
                sorry_server_lvs_method DR
                real_server 198.51.100.2 80 {
                    weight 2
                }
                real_server 198.51.100.3 80 {
                    inhibit_on_failure false
                }
            }
            """)
        #expect(r.problems.isEmpty, "\(r.problems)")
        let vs = try #require(r.virtualServers.first)
        #expect(vs.policy.quorum == 3 && vs.policy.hysteresis == 1)
        #expect(vs.policy.sorryServer == IPVSDestination(address: Self.addr("203.0.113.9"), port: 8080, forwarding: .directRouting, weight: 1))
        #expect(vs.policy.sorryServerInhibit)
        #expect(vs.policy.realServers.map(\.inhibitOnFailure) == [true, false])
        // Live weight 3 ≥ quorum 3: held at start; the inhibited sorry server is at weight 0.
        let state = vs.initialState
        #expect(state.hasQuorum)
        #expect(vs.policy.destinations(state).map(\.weight) == [2, 1, 0])
    }

    @Test func unsupportedKeywordsAreRefusedByName() {
        let r = Self.translate("""
            global_defs {
                nftables_ipvs
            }
            bfd_instance b {
                neighbor_ip 198.51.100.2
            }
            virtual_server 192.0.2.10 80 {
                protocol TCP
                ha_suspend
                real_server 198.51.100.2 80 {
                    HTTP_GET {
                        fast_recovery
                        url {
                            path /
                            regex "ok"
                            regex_options caseless
                            regex_min_offset 4
                        }
                        url {
                            path /a
                            regex "(unclosed"
                        }
                        url {
                            path /b
                            regex_no_match
                        }
                    }
                    BFD_CHECK {
                        name b
                    }
                }
            }
            """)
        let lines = r.problems.map(\.description)
        #expect(lines.contains("nftables_ipvs: not supported yet"), "\(lines)")
        #expect(!lines.contains { $0.contains("ha_suspend") }, "\(lines)")
        let http = "virtual_server 192.0.2.10 80: real_server 198.51.100.2 80: HTTP_GET #1: "
        #expect(lines.contains { $0.hasPrefix(http + "fast_recovery:") })
        #expect(lines.contains(http + "regex_options: not supported (kad uses Swift Regex, not PCRE2)"), "\(lines)")
        #expect(lines.contains(http + "regex_min_offset: not supported yet"), "\(lines)")
        #expect(lines.contains(http + "regex_no_match: needs a regex"), "\(lines)")
        // A pattern Swift cannot compile: the compiler's message, which says where.
        #expect(lines.contains(http + "url regex: Swift Regex cannot compile /(unclosed/: expected ')' at offset 9"), "\(lines)")
        #expect(!lines.contains { $0.contains("/ok/") }, "\(lines)")
        #expect(lines.contains { $0.contains("BFD_CHECK #2: BFD_CHECK: not supported yet") })
        #expect(r.virtualServers.isEmpty)
    }

    @Test func pingCheckAndRegexURLs() throws {
        let r = Self.translate("""
            virtual_server 192.0.2.10 80 {
                protocol TCP
                real_server 198.51.100.2 80 {
                    PING_CHECK {
                        connect_timeout 2
                        connect_ip 198.51.100.7
                    }
                    HTTP_GET {
                        url {
                            path /health
                            regex "status: (ok|degraded)"
                        }
                        url {
                            path /errors
                            regex "ERROR [0-9]+"
                            regex_no_match
                        }
                    }
                }
            }
            """)
        #expect(r.problems.isEmpty, "\(r.problems)")
        #expect(r.hasPingCheck)
        let checkers = try #require(r.virtualServers.first?.realServers.first?.checkers)
        #expect(checkers.count == 2)
        guard case .ping(let c, let timeout) = checkers[0].spec else { Issue.record("\(checkers[0].spec)"); return }
        #expect(c.address == Self.addr("198.51.100.7"))
        #expect(timeout == .seconds(2))
        guard case .http(_, _, _, _, let urls, _) = checkers[1].spec else { Issue.record("\(checkers[1].spec)"); return }
        #expect(urls.map(\.regex) == ["status: (ok|degraded)", "ERROR [0-9]+"])
        #expect(urls.map(\.regexNoMatch) == [false, true])
        #expect(!Self.translate("virtual_server 192.0.2.10 80 {\n protocol TCP\n real_server 198.51.100.2 80 {\n TCP_CHECK {\n }\n }\n}\n").hasPingCheck)
    }

    @Test("ha_suspend: the service addresses to look for; refused on a fwmark; the suspension rule")
    func haSuspend() throws {
        let r = Self.translate("""
            virtual_server_group g {
                192.0.2.20 80
                192.0.2.21 80
            }
            virtual_server 192.0.2.10 80 {
                protocol TCP
                ha_suspend
                real_server 198.51.100.2 80 {
                }
            }
            virtual_server group g {
                protocol TCP
                ha_suspend
                real_server 198.51.100.3 80 {
                }
            }
            virtual_server 192.0.2.11 80 {
                protocol TCP
                real_server 198.51.100.4 80 {
                }
            }
            """)
        #expect(r.problems.isEmpty, "\(r.problems)")
        #expect(r.virtualServers.map(\.haSuspend) == [[Self.addr("192.0.2.10")], [Self.addr("192.0.2.20"), Self.addr("192.0.2.21")], nil])
        let fwm = Self.translate("""
            virtual_server fwmark 5 {
                ha_suspend
                real_server 198.51.100.2 80 {
                }
            }
            """)
        #expect(fwm.problems.map(\.description).contains {
            $0.hasPrefix("virtual_server fwmark 5: ha_suspend: needs a virtual server with an address") }, "\(fwm.problems)")
        // Suspended while none of the addresses is local.
        let group: Set<VRRPCore.IPAddress> = [Self.addr("192.0.2.20"), Self.addr("192.0.2.21")]
        #expect(LVSController.suspended(group, local: [Self.addr("192.0.2.1")]))
        #expect(!LVSController.suspended(group, local: [Self.addr("192.0.2.1"), Self.addr("192.0.2.21")]))
        #expect(!LVSController.suspended(nil, local: []))
    }

    @Test("The periodic repair waits longer when reading the table is slow (at most 0.5 % of a core)")
    func repairDelay() {
        #expect(LVSController.repairDelay(after: .milliseconds(3)) == .seconds(5))
        #expect(LVSController.repairDelay(after: .milliseconds(25)) == .seconds(5))
        #expect(LVSController.repairDelay(after: .milliseconds(50)) == .seconds(10))
        #expect(LVSController.repairDelay(after: .seconds(2)) == .seconds(400))
    }

    @Test("LVS FIFO lines: keepalived's VS/RS format")
    func lvsFIFOLines() {
        let vs = IPVSService.Key.address(protocol: .tcp, address: Self.addr("192.0.2.15"), port: 80)
        let rs = IPVSDestinationKey(address: Self.addr("198.51.100.4"), port: 8080)
        #expect(LVSFIFONames.service(vs) == "[192.0.2.15]:tcp:80")
        #expect(LVSFIFONames.realServer(rs, of: vs) == "[198.51.100.4]:tcp:8080")
        let v6 = IPVSService.Key.address(protocol: .udp, address: Self.addr("2001:db8::1"), port: 53)
        #expect(LVSFIFONames.service(v6) == "[2001:db8::1]:udp:53")
        let fwm = IPVSService.Key.firewallMark(5, family: .ipv4)
        #expect(LVSFIFONames.service(fwm) == "FWM:5")
        #expect(LVSFIFONames.realServer(rs, of: fwm) == "[198.51.100.4]:8080")
        let plan = NotifyPlan()
        #expect(plan.dispatch(.virtualServer(LVSFIFONames.service(vs), up: true)).fifoLine == "VS [192.0.2.15]:tcp:80 UP\n")
        #expect(plan.dispatch(.realServer(LVSFIFONames.realServer(rs, of: vs), virtualServer: LVSFIFONames.service(vs), up: false)).fifoLine
            == "RS [198.51.100.4]:tcp:8080 [192.0.2.15]:tcp:80 DOWN\n")
    }

    @Test func lvsTimeouts() {
        #expect(Self.translate("global_defs {\n lvs_timeouts tcp 7200 tcpfin 30 udp 60\n}\n").timeouts
                == IPVSTimeouts(tcp: 7200, tcpFin: 30, udp: 60))
        // Any order; what is not given stays 0 (left as it is).
        let partial = Self.translate("global_defs {\n lvs_timeouts udp 5 tcp 100\n}\n")
        #expect(partial.timeouts == IPVSTimeouts(tcp: 100, udp: 5))
        #expect(partial.needsIPVS)
        #expect(Self.translate("").timeouts == nil)
        #expect(!Self.translate("").needsIPVS)
        for (words, message) in [("tcp x", "tcp needs a number of seconds from 0 to 2147483"),
                                 ("tcp 2147484", "tcp needs a number of seconds from 0 to 2147483"),
                                 ("sctp 5", "unknown word 'sctp' (expected tcp, tcpfin or udp)"),
                                 ("udp 5 udp 6", "udp given twice")] {
            let r = Self.translate("global_defs {\n lvs_timeouts \(words)\n}\n")
            #expect(r.problems.map(\.description) == ["lvs_timeouts: \(message)"], "\(words)")
            #expect(r.timeouts == nil)
        }
    }

    @Test func pingGroupRangeIsWidenedJustEnough() {
        // The kernel's default (nobody) and unreadable values: just the group.
        #expect(Daemon.widenedPingGroupRange("1\t0\n", gid: 0) == "0 0")
        #expect(Daemon.widenedPingGroupRange("garbage", gid: 5) == "5 5")
        // A range that holds the group already: left alone.
        #expect(Daemon.widenedPingGroupRange("0\t2147483647", gid: 0) == nil)
        #expect(Daemon.widenedPingGroupRange("100 200", gid: 150) == nil)
        // Otherwise stretched to it.
        #expect(Daemon.widenedPingGroupRange("100 200", gid: 0) == "0 200")
        #expect(Daemon.widenedPingGroupRange("100 200", gid: 300) == "100 300")
    }

    static let instance = """
        vrrp_instance VI_1 {
            interface dummy0
            virtual_router_id 51
            priority 100
            virtual_ipaddress {
                192.0.2.50
            }
        }

        """

    @Test func syncDaemon() throws {
        let plain = try #require(Self.translate("global_defs {\n lvs_sync_daemon dummy0 VI_1\n}\n" + Self.instance).syncDaemon)
        // The sync id is the instance's VRID; the rest is the kernel's default.
        #expect(plain == LVSTranslation.SyncDaemonPlan(interface: "dummy0", instance: "VI_1", syncID: 51))
        #expect(plain.daemon(.master) == IPVSSyncDaemon(state: .master, interface: "dummy0", syncID: 51))
        let full = try #require(Self.translate(
            "global_defs {\n lvs_sync_daemon veth0 inst VI_1 id 7 maxlen 1400 port 8849 ttl 2 group 239.1.2.3\n}\n" + Self.instance).syncDaemon)
        #expect(full.daemon(.backup) == IPVSSyncDaemon(state: .backup, interface: "veth0", syncID: 7, maximumLength: 1400,
                                                       group: Self.addr("239.1.2.3"), port: 8849, ttl: 2))
        for (words, message) in [("dummy0", "needs a VRRP instance (its state decides whether the sync daemon is master or backup)"),
                                 ("dummy0 VI_9", "no vrrp_instance VI_9"),
                                 ("dummy0 VI_1 id 256", "id must be 0 to 255"),
                                 ("dummy0 VI_1 group 192.0.2.7", "group '192.0.2.7' is not a multicast address"),
                                 ("dummy0 VI_1 ttl", "unexpected 'ttl' (expected id, maxlen, port, ttl or group and a value)")] {
            let r = Self.translate("global_defs {\n lvs_sync_daemon \(words)\n}\n" + Self.instance)
            #expect(r.problems.map(\.description) == ["lvs_sync_daemon: \(message)"], "\(words)")
            #expect(r.syncDaemon == nil)
        }
    }

    @Test func flushSettings() {
        #expect(Self.translate("global_defs {\n lvs_flush\n lvs_flush_on_stop\n}\n").stopMode == .flush)
        #expect(Self.translate("global_defs {\n lvs_flush\n lvs_flush_on_stop\n}\n").flushAtStart)
        #expect(Self.translate("global_defs {\n lvs_flush_on_stop VS\n}\n").stopMode == .removeOwned)
        #expect(!Self.translate("").flushAtStart)
    }

    @Test func statusTextAndMetrics() {
        let rs = StatusReport.RealServer(address: "198.51.100.2:80", up: false, weight: 1, configuredWeight: 1, ipvsWeight: 0,
                                         checkers: ["TCP_CHECK"], lastCause: "TCP_CHECK 198.51.100.2:80: connection refused",
                                         checkAttempts: 7, checkFailures: 3)
        let vs = StatusReport.VirtualServer(name: "TCP 192.0.2.10 80", services: ["TCP 192.0.2.10:80"], hasQuorum: false,
                                            liveWeight: 0, quorum: 1, hysteresis: 0, sorryServer: "203.0.113.9:80",
                                            sorryServerActive: true, realServers: [rs])
        let text = LVSMetrics.exposition([vs])
        #expect(text.contains("kad_lvs_real_server_up{virtual_server=\"TCP 192.0.2.10 80\",real_server=\"198.51.100.2:80\"} 0\n"))
        #expect(text.contains("kad_lvs_checker_failures_total{virtual_server=\"TCP 192.0.2.10 80\",real_server=\"198.51.100.2:80\"} 3\n"))
        #expect(text.contains("kad_lvs_quorum{virtual_server=\"TCP 192.0.2.10 80\"} 0\n"))
        #expect(text.contains("# TYPE kad_lvs_checker_attempts_total counter"))
    }
}
