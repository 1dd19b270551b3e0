import ConfigDSL
import Foundation
import Testing
import VRRPCore

@testable import kad

/// Loads configuration text (or a file) as `kad check --no-host-checks` does.
private func loadConfig(_ text: String) -> LoadResult {
    ConfigLoader(options: translationLoaderOptions()).load(text: text, name: "t.conf")
}

private func loadExample(_ name: String) -> LoadResult {
    ConfigLoader(options: translationLoaderOptions()).load(path: KadProcess.repositoryRoot + "/Examples/" + name)
}

private func translationLoaderOptions() -> ConfigLoader.Options {
    var options = ConfigLoader.Options()
    options.preprocessor = PreprocessorOptions(configID: "node1")
    options.decode = DecodeOptions(unknownKeywordSeverity: .error)
    options.host = HostEnvironment(interfaceExists: nil, inspectScriptFiles: false)
    return options
}

/// eth0 has 192.0.2.1 and fe80::1; every other interface has nothing.
private func resolver(_ interface: String, _ family: VRRPCore.IPAddressFamily) -> VRRPCore.IPAddress? {
    guard interface == "eth0" else { return nil }
    return VRRPCore.IPAddress(family == .ipv4 ? "192.0.2.1" : "fe80::1")
}

private func translate(_ text: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) -> VRRPTranslation.Result {
    let loaded = loadConfig(text)
    #expect(loaded.errors.isEmpty, "\(loaded.errors)", sourceLocation: sourceLocation)
    return VRRPTranslation.translate(loaded.config, primaryAddress: resolver)
}

private func addr(_ s: String) -> VRRPCore.IPAddress { VRRPCore.IPAddress(s)! }

/// An instance with the given extra lines.
private func instance(_ extra: String, name: String = "VI_1", vrid: Int = 51, vip: String = "192.0.2.100/24") -> String {
    """
    vrrp_instance \(name) {
        interface eth0
        virtual_router_id \(vrid)
        virtual_ipaddress {
            \(vip)
        }
    \(extra)
    }

    """
}

@Suite("VRRPTranslation")
struct VRRPTranslationTests {
    // MARK: - Seed examples

    @Test func seedBasic() throws {
        for file in ["seed-1-basic.conf", "seed-2-global-defs.conf"] {
            let loaded = loadExample(file)
            #expect(loaded.isValid, "\(file): \(loaded.errors)")
            let r = VRRPTranslation.translate(loaded.config, primaryAddress: resolver)
            #expect(r.problems.isEmpty, "\(file): \(r.problems)")
            try #require(r.routers.count == 1)
            let c = r.routers[0]
            #expect(c.name == "VI_1")
            #expect(c.virtualRouterID == 51)
            #expect(c.interface == "eth0")
            #expect(c.priority == 100)
            #expect(c.advertisementInterval == 100)
            #expect(c.version == .v2)
            #expect(c.family == .ipv4)
            #expect(c.initialStateMaster)
            #expect(c.preempt)
            #expect(c.primaryAddress == addr("192.0.2.1"))
            #expect(c.password == VRRPPassword("1111"))
            #expect(c.addresses == [VirtualAddress(addr("192.168.33.111"), prefixLength: 24)])
            #expect(c.trackers.isEmpty)
            #expect(c.acceptMode)
            #expect(c.garp == AnnouncementSchedule())
            _ = try VRRPEngine(routers: r.routers, syncGroups: r.syncGroups)
        }
    }

    @Test func seedTrackAndLVS() throws {
        let loaded = loadExample("seed-3-track-and-lvs.conf")
        #expect(loaded.isValid, "\(loaded.errors)")
        let r = VRRPTranslation.translate(loaded.config, primaryAddress: resolver)
        #expect(r.problems.isEmpty, "\(r.problems)")
        try #require(r.routers.count == 1)
        let c = r.routers[0]
        #expect(c.virtualRouterID == 51)
        #expect(c.priority == 50)
        #expect(!c.initialStateMaster)
        #expect(c.advertisementInterval == 100)
        #expect(c.password == VRRPPassword("1111"))
        #expect(c.addresses.map(\.description) == ["192.168.33.111/24"])
        #expect(c.trackers == [TrackerBinding(TrackedObjectID(.interface, "eth1"), weight: 0, reverse: false)])
        #expect(!c.ignoreTrackerWeights)
        _ = try VRRPEngine(routers: r.routers, syncGroups: r.syncGroups)
    }

    // MARK: - Timers and versions

    @Test func advertIntervalConversion() throws {
        var r = translate(instance("advert_int 3"))
        #expect(r.routers.first?.advertisementInterval == 300)
        r = translate(instance("version 3\nadvert_int 0.05"))
        #expect(r.routers.first?.advertisementInterval == 5)
        #expect(r.routers.first?.version == .v3)
        // VRRPv2 uses whole seconds.
        r = translate(instance("advert_int 1.4"))
        #expect(r.routers.first?.advertisementInterval == 100)
        #expect(r.problems.isEmpty, "\(r.problems)")
        r = translate("global_defs {\n vrrp_startup_delay 2.5\n}\n" + instance("preempt_delay 10"))
        #expect(r.routers.first?.startupDelay == .milliseconds(2500))
        #expect(r.routers.first?.preemptDelay == .seconds(10))
    }

    @Test func versionDefaulting() throws {
        var r = translate(instance(""))
        #expect(r.routers.first?.version == .v2)
        r = translate("global_defs {\n vrrp_version 3\n}\n" + instance(""))
        #expect(r.routers.first?.version == .v3)
        r = translate("global_defs {\n vrrp_version 3\n}\n" + instance("version 2"))
        #expect(r.routers.first?.version == .v2)
        r = translate(instance("", vip: "fe80::100/64"))
        let c = try #require(r.routers.first)
        #expect(c.version == .v3)
        #expect(c.family == .ipv6)
        #expect(c.primaryAddress == addr("fe80::1"))
        #expect(r.problems.isEmpty, "\(r.problems)")
    }

    @Test func preemptAndState() throws {
        var r = translate(instance("state BACKUP\npriority 90\nnopreempt"))
        #expect(r.routers.first?.preempt == false)
        // keepalived clears nopreempt for an owner.
        r = translate(instance("priority 255\nnopreempt"))
        #expect(r.routers.first?.preempt == true)
        #expect(r.routers.first?.initialStateMaster == true)
    }

    // MARK: - Addresses, unicast, authentication

    @Test func addressOptions() throws {
        let r = translate(instance("""
            virtual_ipaddress_excluded {
                2001:db8::5
                192.0.2.200/24 brd + dev eth1 scope link label eth1:vip
            }
            """, vip: "192.0.2.100/24 brd 192.0.2.255 dev eth0 scope site label eth0:1 noprefixroute preferred_lft 30"))
        #expect(r.problems.isEmpty, "\(r.problems)")
        let c = try #require(r.routers.first)
        let a = try #require(c.addresses.first)
        #expect(a.address == addr("192.0.2.100"))
        #expect(a.prefixLength == 24)
        #expect(a.broadcast == addr("192.0.2.255"))
        #expect(a.interface == "eth0")
        #expect(a.scope == 200)
        #expect(a.label == "eth0:1")
        #expect(a.flags == [.noPrefixRoute])
        #expect(a.preferredLifetime == 30)
        #expect(c.excludedAddresses.count == 2)
        #expect(c.excludedAddresses[0].prefixLength == 128)
        #expect(c.excludedAddresses[0].preferredLifetime == 0)
        #expect(c.excludedAddresses[1].broadcast == addr("192.0.2.255"))
        #expect(c.excludedAddresses[1].scope == 253)
        #expect(c.excludedAddresses[1].interface == "eth1")
    }

    @Test func unicast() throws {
        let r = translate(instance("""
            unicast_src_ip 192.0.2.7
            unicast_peer {
                192.0.2.8
                192.0.2.9 min_ttl 250 max_ttl 255
            }
            """))
        #expect(r.problems.isEmpty, "\(r.problems)")
        let c = try #require(r.routers.first)
        #expect(c.primaryAddress == addr("192.0.2.7"))
        #expect(c.unicastPeers == [
            VRRPCore.UnicastPeer(addr("192.0.2.8")),
            VRRPCore.UnicastPeer(addr("192.0.2.9"), minimumTTL: 250, maximumTTL: 255),
        ])
        #expect(c.checkUnicastSource)
        #expect(!c.isMulticast)
    }

    @Test func multicastGroupAndChecksum() throws {
        var r = translate(instance("mcast_dst_ip 224.0.0.19\nversion 3\nv3_checksum_as_v2"))
        #expect(r.routers.first?.multicastGroup == addr("224.0.0.19"))
        #expect(r.routers.first?.checksumForm == .messageOnly)
        r = translate(instance("version 3"))
        #expect(r.routers.first?.multicastGroup == nil)
        #expect(r.routers.first?.checksumForm == .pseudoHeader)
    }

    @Test func passAuthentication() throws {
        let r = translate(instance("authentication {\n auth_type PASS\n auth_pass secret123\n}"))
        #expect(r.problems.isEmpty)
        #expect(r.routers.first?.password == VRRPPassword("secret12"))
    }

    @Test func ahRefused() throws {
        let r = translate(instance("authentication {\n auth_type AH\n auth_pass secret\n}"))
        #expect(r.problems.contains { $0.keyword == "auth_type" && $0.message.contains("AH is not supported") })
        #expect(r.problems.first?.description == "vrrp_instance VI_1: auth_type: auth_type AH is not supported")
    }

    @Test func acceptModes() throws {
        var r = translate(instance("no_accept"))
        #expect(r.problems.map(\.keyword) == ["no_accept"])
        #expect(r.problems.first?.description.hasPrefix("vrrp_instance VI_1: no_accept: not supported yet") == true)
        // An owner always accepts: no_accept does not matter there.
        r = translate(instance("priority 255\nno_accept"))
        #expect(r.problems.isEmpty, "\(r.problems)")
        #expect(r.routers.first?.acceptMode == false)
        // Strict mode implies no_accept for non-owners unless accept is given.
        r = translate("global_defs {\n vrrp_strict\n}\n" + instance(""))
        #expect(r.problems.map(\.keyword) == ["vrrp_strict"])
        r = translate("global_defs {\n vrrp_strict\n}\n" + instance("accept"))
        #expect(r.problems.isEmpty, "\(r.problems)")
        #expect(r.routers.first?.strict == true)
        #expect(r.routers.first?.acceptMode == true)
    }

    @Test func refusedKeywords() throws {
        let r = translate(instance("use_vmac_addr\ntrack_src_ip\nsmtp_alert true"))
        let keywords = Set(r.problems.map(\.keyword))
        #expect(keywords.isSuperset(of: ["use_vmac_addr", "track_src_ip", "smtp_alert"]), "\(r.problems)")
        #expect(r.problems.first { $0.keyword == "use_vmac_addr" }?.message.contains("not supported yet") == true)
        // lvs_sync_daemon is the LVS translation's (LVSTranslationTests.syncDaemon).
        let g = translate("global_defs {\n lvs_sync_daemon eth0 VI_1\n}\n" + instance(""))
        #expect(!g.problems.contains { $0.keyword == "lvs_sync_daemon" }, "\(g.problems)")
    }

    @Test func notifyScriptsAreNotProblems() throws {
        let r = translate("global_defs {\n enable_script_security\n}\n" + instance("notify_master /bin/true\nnotify /bin/true"))
        #expect(r.problems.isEmpty, "\(r.problems)")
    }

    @Test func resolverFailure() throws {
        let r = translate("""
            vrrp_instance VI_9 {
                interface eth9
                virtual_router_id 9
                virtual_ipaddress {
                    192.0.2.100
                }
            }
            """)
        #expect(r.routers.isEmpty)
        let p = try #require(r.problems.first)
        #expect(p.instance == "VI_9")
        #expect(p.keyword == "interface")
        #expect(p.message.contains("eth9"))
    }

    // MARK: - Routes and rules

    @Test func routes() throws {
        let r = translate(instance("""
            virtual_routes {
                198.51.100.0/24 via 192.0.2.254 dev eth0 table 100 metric 5 proto static scope link onlink
                default via 192.0.2.254 table main src 192.0.2.100
                blackhole 203.0.113.0/24 proto 99
                2001:db8:1::/48 nexthop via 2001:db8::1 dev eth0 weight 2 nexthop via 2001:db8::2 dev eth1
            }
            """))
        #expect(r.problems.isEmpty, "\(r.problems)")
        let routes = try #require(r.routers.first?.routes)
        try #require(routes.count == 4)
        #expect(routes[0] == VirtualRoute(
            family: .ipv4, destination: addr("198.51.100.0"), prefixLength: 24, gateway: addr("192.0.2.254"),
            interface: "eth0", table: 100, metric: 5, scope: 253, routingProtocol: 4, onlink: true))
        #expect(routes[1].destination == nil)
        #expect(routes[1].destinationPrefixLength == 0)
        #expect(routes[1].table == 254)
        #expect(routes[1].source == addr("192.0.2.100"))
        #expect(routes[2].kind == .blackhole)
        #expect(routes[2].routingProtocol == 99)
        #expect(routes[3].family == .ipv6)
        #expect(routes[3].nexthops == [
            VirtualRoute.Nexthop(gateway: addr("2001:db8::1"), interface: "eth0", weight: 2),
            VirtualRoute.Nexthop(gateway: addr("2001:db8::2"), interface: "eth1"),
        ])
    }

    @Test func routeRefusals() throws {
        let r = translate(instance("""
            virtual_routes {
                198.51.100.0/24 via 192.0.2.254 table custom
                198.51.101.0/24 via 192.0.2.254 mtu 1400
            }
            """))
        #expect(r.routers.first?.routes.isEmpty == true)
        #expect(r.problems.count == 2, "\(r.problems)")
        #expect(r.problems.allSatisfy { $0.keyword == "virtual_routes" })
        #expect(r.problems[0].message.contains("table custom"))
        #expect(r.problems[1].message.contains("mtu"))
    }

    @Test func rules() throws {
        let r = translate(instance("""
            virtual_rules {
                from 192.0.2.0/24 table 100 priority 1000
                to 198.51.100.0/24 fwmark 0x10/0xff iif eth0 oif eth1 tos 4 lookup local pref 1001
                not from 192.0.2.5 goto 2000 preference 1002
                from all prohibit priority 1003
            }
            """))
        #expect(r.problems.isEmpty, "\(r.problems)")
        let rules = try #require(r.routers.first?.rules)
        try #require(rules.count == 4)
        #expect(rules[0] == VirtualRule(family: .ipv4, from: addr("192.0.2.0"), fromPrefixLength: 24, table: 100, priority: 1000))
        #expect(rules[1] == VirtualRule(
            family: .ipv4, to: addr("198.51.100.0"), toPrefixLength: 24, table: 255, priority: 1001, firewallMark: 16,
            firewallMask: 255, inputInterface: "eth0", outputInterface: "eth1", tos: 4))
        #expect(rules[2].invert)
        #expect(rules[2].action == .goto)
        #expect(rules[2].gotoTarget == 2000)
        #expect(rules[2].fromPrefixLength == 32)
        #expect(rules[3].action == .prohibit)
    }

    // MARK: - GARP

    @Test func garpGlobalsAndInstance() throws {
        var r = translate("""
            global_defs {
                vrrp_garp_master_delay 10
                vrrp_garp_master_repeat 3
                vrrp_garp_master_refresh 60
                vrrp_garp_lower_prio_repeat 2
            }
            """ + instance("garp_master_repeat 7\ngarp_lower_prio_delay 1"))
        #expect(r.problems.isEmpty, "\(r.problems)")
        var garp = try #require(r.routers.first?.garp)
        #expect(garp.masterDelay == .seconds(10))
        #expect(garp.masterRepeat == 7)
        #expect(garp.masterRefresh == .seconds(60))
        #expect(garp.masterRefreshRepeat == 1)
        #expect(garp.lowerPriorityRepeat == 2)
        #expect(garp.lowerPriorityDelay == .seconds(1))
        r = translate(instance(""))
        garp = try #require(r.routers.first?.garp)
        #expect(garp == AnnouncementSchedule())
    }

    // MARK: - Trackers and sync groups

    private static let trackerDefinitions = """
        global_defs {
            enable_script_security
        }
        vrrp_script chk_a {
            script "/bin/true"
            weight -20
        }
        vrrp_script chk_b {
            script "/bin/true"
        }
        track_file tf {
            file "/tmp/kad-tf"
        }
        vrrp_track_process tp {
            process nginx
            weight 5 reverse
        }

        """

    @Test func trackers() throws {
        let r = translate(Self.trackerDefinitions + instance("""
            track_interface {
                eth1 weight 10
                eth2
            }
            track_script {
                chk_a
                chk_b weight 30 reverse
            }
            track_file {
                tf
            }
            track_process {
                tp noreverse
            }
            """))
        #expect(r.problems.isEmpty, "\(r.problems)")
        #expect(r.routers.first?.trackers == [
            TrackerBinding(TrackedObjectID(.interface, "eth1"), weight: 10),
            TrackerBinding(TrackedObjectID(.interface, "eth2"), weight: 0),
            TrackerBinding(TrackedObjectID(.script, "chk_a"), weight: -20),
            TrackerBinding(TrackedObjectID(.script, "chk_b"), weight: 30, reverse: true),
            TrackerBinding(TrackedObjectID(.file, "tf"), weight: 1),
            TrackerBinding(TrackedObjectID(.process, "tp"), weight: 5, reverse: false),
        ])
    }

    @Test func syncGroups() throws {
        let text = Self.trackerDefinitions + """
            vrrp_sync_group G1 {
                group {
                    VI_1
                    VI_2
                }
                track_script {
                    chk_b
                }
            }

            """ + instance("track_script {\n chk_a\n}") + instance("", name: "VI_2", vrid: 52)
        let r = translate(text)
        #expect(r.problems.isEmpty, "\(r.problems)")
        #expect(r.syncGroups == [SyncGroupConfiguration(name: "G1", members: ["VI_1", "VI_2"])])
        try #require(r.routers.count == 2)
        #expect(r.routers.allSatisfy { $0.ignoreTrackerWeights })
        #expect(r.routers[0].trackers.map(\.object.name) == ["chk_a", "chk_b"])
        #expect(r.routers[1].trackers.map(\.object.name) == ["chk_b"])
        _ = try VRRPEngine(routers: r.routers, syncGroups: r.syncGroups)

        let weighted = translate(text.replacingOccurrences(of: "    track_script {\n        chk_b", with: "    sync_group_tracking_weight\n    track_script {\n        chk_b"))
        #expect(weighted.routers.count == 2)
        #expect(weighted.routers.allSatisfy { !$0.ignoreTrackerWeights })
    }

    @Test func validationFailuresBecomeProblems() throws {
        // VRRPv3 accepts 0.01–40.95 s only (ConfigDSL rejects it too; bypass it in the model).
        var config = loadConfig(instance("version 3")).config
        config.vrrpInstances[0].advertInterval = 50
        let r = VRRPTranslation.translate(config, primaryAddress: resolver)
        #expect(r.routers.isEmpty)
        #expect(r.problems.map(\.keyword) == ["advert_int"])
    }

    @Test("use_vmac: a macvlan per instance (vrrp.VRID, a given name or MAC) becomes its interface; IPv6 is refused")
    func virtualMACs() throws {
        var r = translate(instance("use_vmac") + instance("use_vmac vmac7 00:00:5e:00:01:99", name: "VI_2", vrid: 7))
        #expect(r.problems.isEmpty, "\(r.problems)")
        #expect(r.virtualMACs.map(\.name) == ["vrrp.51", "vmac7"])
        #expect(r.virtualMACs[0].parent == "eth0" && r.virtualMACs[0].address.description == "00:00:5e:00:01:33")
        #expect(r.virtualMACs[1].address.description == "00:00:5e:00:01:99")
        #expect(r.routers.map(\.interface) == ["vrrp.51", "vmac7"])
        #expect(r.routers[0].primaryAddress == addr("192.0.2.1"), "the source address is the parent's")

        r = translate("global_defs {\n vmac_prefix vm\n}\n" + instance("use_vmac"))
        #expect(r.virtualMACs.map(\.name) == ["vm.51"])

        r = translate(instance("use_vmac", vip: "2001:db8::100/64"))
        #expect(r.problems.contains { $0.keyword == "use_vmac" && $0.message.contains("IPv6") }, "\(r.problems)")

        r = translate(instance("use_vmac vrrp.51") + instance("use_vmac vrrp.51", name: "VI_2", vrid: 52))
        #expect(r.problems.contains { $0.instance == "VI_2" && $0.keyword == "use_vmac" && $0.message.contains("already used") }, "\(r.problems)")
    }
}
