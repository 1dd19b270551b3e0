import Foundation
import Testing
@testable import ConfigDSL

/// Wraps instance lines in a vrrp_instance with the required keywords.
func instance(_ body: String, name: String = "VI_1", vrid: Int = 51, vip: String = "192.0.2.10/24") -> String {
    "vrrp_instance \(name) {\n interface eth0\n virtual_router_id \(vrid)\n virtual_ipaddress { \(vip) }\n\(body)\n}\n"
}

@Suite struct DecodeDiagnosticsTests {
    @Test func unknownKeywordSuggestsTheNearestAndIsAWarningWhenRunning() {
        let r = load(instance("prioirty 100"))
        let d = r.first("unknown-keyword")
        #expect(d?.severity == .error)
        #expect(d?.hint == "did you mean 'priority'?")
        #expect(d?.location == SourceLocation(file: "t.conf", line: 5, column: 1))
        #expect(r.exitStatus == 5)
        let running = load(instance("prioirty 100"), unknown: .warning)
        #expect(running.first("unknown-keyword")?.severity == .warning)
        #expect(running.exitStatus == 0)
    }

    @Test func farOffKeywordGetsNoSuggestion() {
        #expect(load(instance("completely_unrelated 1")).first("unknown-keyword")?.hint == nil)
    }

    @Test func caseDifferencesAreAcceptedWithPortabilityWarnings() {
        let r = load("VRRP_INSTANCE VI_1 {\n Interface eth0\n virtual_router_id 5\n STATE backup\n virtual_ipaddress { 192.0.2.1 }\n}")
        #expect(r.errors.isEmpty)
        #expect(r.codes(.warning) == ["keyword-case", "keyword-case", "keyword-case", "value-case"])
        #expect(r.config.vrrpInstances[0].state == .backup)
        #expect(r.config.vrrpInstances[0].interface == "eth0")
    }

    @Test func protocolIsCaseInsensitiveInKeepalivedToo() {
        let r = load("virtual_server 192.0.2.1 80 {\n protocol tcp\n real_server 192.0.2.2 80 { weight 1 }\n}")
        #expect(!r.codes().contains("value-case"))
    }

    @Test func valueErrorsPointAtTheValue() {
        let cases: [(String, String, Int)] = [
            ("priority 0", "out-of-range", 10),
            ("priority abc", "not-a-number", 10),
            ("priority", "missing-value", 1),
            ("priority 1 2", "unexpected-value", 12),
            ("advert_int x", "not-a-time", 12),
            ("advert_int 300", "out-of-range", 12),
            ("nopreempt yes", "unexpected-value", 11),
            ("smtp_alert maybe", "not-a-bool", 12),
            ("state PRIMARY", "bad-value", 7),
            ("unicast_src_ip 300.1.1.1", "bad-address", 16),
            ("authentication", "missing-block", 1),
            ("priority 1 { }", "unexpected-block", 12),
        ]
        for (line, code, column) in cases {
            let r = load(instance(line))
            let d = r.first(code)
            #expect(d != nil, "\(line): \(r.diagnostics)")
            #expect(d?.location?.line == 5, "\(line)")
            #expect(d?.location?.column == column, "\(line): \(String(describing: d))")
        }
    }

    @Test func badEnumeratedValueSuggestsTheNearest() {
        let d = load(instance("state MASTR")).first("bad-value")
        #expect(d?.hint?.hasPrefix("did you mean 'MASTER'?") == true)
    }

    @Test func addressLineErrors() {
        #expect(load(instance("", vip: "192.0.2.1/33")).first("bad-prefix") != nil)
        #expect(load(instance("", vip: "192.0.2.1 dve eth0")).first("unknown-option")?.hint == "did you mean 'dev'?")
        #expect(load(instance("", vip: "192.0.2.1 scope planet")).first("bad-value") != nil)
        #expect(load(instance("", vip: "192.0.2.1 label")).first("missing-value") != nil)
        #expect(load(instance("", vip: "192.0.2.1 track_group G")).first("misplaced-option") != nil)
        #expect(load(instance("", vip: "192.0.2.1 peer 2001:db8::1")).first("address-family") != nil)
    }

    @Test func routeAndRuleErrors() {
        #expect(load(instance("virtual_routes { via 192.0.2.1 }")).first("missing-value") != nil)
        #expect(load(instance("virtual_routes { 198.51.100.0/24 via 2001:db8::1 }")).first("address-family") != nil)
        #expect(load(instance("virtual_routes { 198.51.100.0/24 vai 192.0.2.1 }")).first("unknown-option")?.hint == "did you mean 'via'?")
        #expect(load(instance("virtual_routes { 198.51.100.0/24 metric x }")).first("not-a-number") != nil)
        #expect(load(instance("virtual_rules { from 192.0.2.0/24 tabel 5 }")).first("unknown-option")?.hint == "did you mean 'table'?")
        #expect(load(instance("virtual_rules { from 192.0.2.0/24 to 2001:db8::/32 }")).first("address-family") != nil)
    }

    @Test func trackingLineErrors() {
        #expect(load(instance("track_script { s weight 300 }\n") + "vrrp_script s { script /bin/true }").first("out-of-range") != nil)
        #expect(load(instance("track_script { s weight }")).first("missing-value") != nil)
        #expect(load(instance("track_script { s wieght 3 }")).first("unknown-option") != nil)
        #expect(load(instance("unicast_peer { 192.0.2.9 min_ttl 300 }")).first("out-of-range") != nil)
        #expect(load(instance("unicast_peer { 192.0.2.9 ttl 3 }")).first("unknown-option") != nil)
    }

    @Test func scriptCommandErrors() {
        let unquoted = load(instance("notify_master /bin/notify.sh master now"))
        #expect(unquoted.first("unexpected-value") != nil)
        #expect(unquoted.first("unquoted-command")?.hint == "quote the whole command: notify_master \"/bin/notify.sh master now\"")
        #expect(load(instance("notify_master \"/bin/x 'unterminated\"")).first("script-syntax") != nil)
        #expect(load(instance("notify_master /bin/x :")).first("bad-value") != nil)
    }

    @Test func duplicateKeywordAndDuplicateName() {
        let r = load(instance("priority 10\npriority 20"))
        #expect(r.first("duplicate-keyword")?.location?.line == 6)
        #expect(r.config.vrrpInstances[0].priority == 20)
        let dup = load(instance("", name: "A", vrid: 1) + instance("", name: "A", vrid: 2))
        #expect(dup.first("duplicate-name")?.hint?.contains("t.conf:1:1") == true)
        #expect(dup.config.vrrpInstances.count == 1)
    }

    @Test func namedBlockNeedsOneName() {
        #expect(load("vrrp_instance { interface eth0 }").first("missing-value") != nil)
        #expect(load("vrrp_script a b { script x }").first("unexpected-value") != nil)
    }

    @Test func ignoredKeywordsWarn() {
        let r = load(instance("debug 2"))
        #expect(r.first("ignored-keyword")?.severity == .warning)
    }
}

@Suite struct ValidationDiagnosticsTests {
    @Test func requiredKeywords() {
        let r = load("vrrp_instance V { virtual_ipaddress { 192.0.2.1 } }")
        #expect(r.diagnostics.filter { $0.code == "missing-keyword" }.count == 2)
        #expect(r.exitStatus == 5)
        #expect(load("vrrp_script s { interval 1 }\n" + instance("track_script { s }")).first("missing-keyword") != nil)
        #expect(load("track_file f { weight 1 }").first("missing-keyword") != nil)
        #expect(load("vrrp_track_process p { quorum 1 }").first("missing-keyword") != nil)
        #expect(load("bfd_instance b { min_rx 5 }").first("missing-keyword") != nil)
        #expect(load(instance("authentication { auth_pass x }")).first("missing-keyword") != nil)
        #expect(load(instance("authentication { auth_type PASS }")).first("missing-keyword") != nil)
        #expect(load("vrrp_sync_group G { notify /x }").first("missing-keyword") != nil)
    }

    @Test func unicastInstanceMayOmitTheInterface() {
        let r = load("vrrp_instance V { virtual_router_id 1\n unicast_src_ip 192.0.2.1\n unicast_peer { 192.0.2.2 }\n virtual_ipaddress { 192.0.2.9 } }")
        #expect(r.errors.isEmpty, "\(r.errors)")
    }

    @Test func loopbackIsRejected() {
        #expect(load(instance("").replacingOccurrences(of: "eth0", with: "lo")).first("bad-interface") != nil)
    }

    @Test func missingInterfaceIsAWarningForCheckAndAnErrorForRun() {
        func run(_ severity: Severity) -> LoadResult {
            var options = ConfigLoader.Options()
            options.preprocessor = PreprocessorOptions(configID: "x")
            options.host = HostEnvironment(interfaceExists: { $0 == "eth0" }, missingInterfaceSeverity: severity, inspectScriptFiles: false)
            return ConfigLoader(options: options).load(text: instance("track_interface { eth7 }"), name: "t.conf")
        }
        #expect(run(.warning).first("no-such-interface")?.severity == .warning)
        #expect(run(.warning).exitStatus == 0)
        #expect(run(.error).first("no-such-interface")?.severity == .error)
        #expect(run(.error).first("no-such-interface")?.location?.line == 5)
    }

    @Test func duplicateVRIDOnTheSameInterfaceAndFamily() {
        let r = load(instance("", name: "A", vrid: 7) + instance("", name: "B", vrid: 7, vip: "192.0.2.11"))
        let d = r.first("duplicate-vrid")
        #expect(d?.location?.line == 9)
        #expect(d?.hint?.contains("t.conf:3:") == true)
        // Another family, another interface, or disjoint unicast peers may reuse the VRID.
        #expect(load(instance("", name: "A", vrid: 7) + instance("", name: "B", vrid: 7, vip: "fe80::1")).first("duplicate-vrid") == nil)
        #expect(load(instance("", name: "A", vrid: 7) + instance("", name: "B", vrid: 7).replacingOccurrences(of: "eth0", with: "eth1")).first("duplicate-vrid") == nil)
        let unicast = load(instance("unicast_peer { 192.0.2.50 }", name: "A", vrid: 7) + instance("unicast_peer { 192.0.2.51 }", name: "B", vrid: 7))
        #expect(unicast.first("duplicate-vrid") == nil)
    }

    @Test func addressFamilies() {
        let r = load(instance("", vip: "192.0.2.1\n 2001:db8::1"))
        #expect(r.first("address-family")?.location?.line == 5)
        #expect(load(instance("unicast_src_ip 2001:db8::5")).first("address-family") != nil)
        #expect(load(instance("unicast_peer { 2001:db8::5 }")).first("address-family") != nil)
        #expect(load(instance("version 2", vip: "fe80::1")).first("version")?.severity == .warning)
    }

    @Test func advertIntervalRules() {
        #expect(load(instance("advert_int 0.5")).first("advert-int")?.severity == .warning)
        #expect(load(instance("advert_int 0.5\nversion 3")).diagnostics.isEmpty)
        #expect(load(instance("advert_int 50\nversion 3")).first("out-of-range") != nil)
        #expect(load(instance("advert_int 0.015\nversion 3")).first("advert-int") != nil)
    }

    @Test func ipv6FirstAddressShouldBeLinkLocal() {
        #expect(load(instance("", vip: "2001:db8::1")).first("ipv6-link-local")?.severity == .warning)
        #expect(load(instance("", vip: "fe80::1\n 2001:db8::1")).first("ipv6-link-local") == nil)
        #expect(load(instance("strict_mode", vip: "2001:db8::1")).first("strict-mode")?.severity == .error)
    }

    @Test func strictModeRules() {
        let strict = "global_defs { vrrp_strict }\n"
        #expect(load(strict + "vrrp_instance V { interface eth0\n virtual_router_id 1 }").first("strict-mode") != nil)
        #expect(load(strict + instance("authentication { auth_type PASS\n auth_pass x }")).errors.contains { $0.code == "strict-mode" })
        #expect(load(strict + instance("preempt_delay 3")).errors.contains { $0.code == "strict-mode" })
        #expect(load(strict + instance("state MASTER\n priority 100")).first("strict-mode")?.severity == .warning)
        #expect(load(strict + instance("accept")).first("strict-mode")?.severity == .warning)
        #expect(load(strict + instance("")).diagnostics.isEmpty)
    }

    @Test func noVirtualAddress() {
        #expect(load("vrrp_instance V { interface eth0\n virtual_router_id 1 }").first("no-vip")?.severity == .warning)
        #expect(load("vrrp_instance V { interface eth0\n virtual_router_id 1\n no_virtual_ipaddress }").diagnostics.isEmpty)
    }

    @Test func duplicateAddressesInOneInstance() {
        #expect(load(instance("virtual_ipaddress_excluded { 192.0.2.10/32 }")).first("duplicate-address") != nil)
    }

    @Test func unicastAndVMACRules() {
        #expect(load(instance("unicast_peer { 192.0.2.7 }\n use_vmac")).first("vmac-unicast") != nil)
        #expect(load(instance("unicast_peer { 192.0.2.7 }\n use_vmac\n vmac_xmit_base")).first("vmac-unicast") == nil)
        #expect(load(instance("unicast_peer { 192.0.2.7 min_ttl 200 max_ttl 100 }")).first("bad-value") != nil)
        #expect(load(instance("unicast_src_ip 192.0.2.7\n unicast_peer { 192.0.2.7 }")).first("bad-value") != nil)
        #expect(load(instance("mcast_dst_ip 192.0.2.7")).first("bad-address") != nil)
        #expect(load(instance("mcast_dst_ip ff05::12", vip: "fe80::1")).first("bad-address") != nil)
        #expect(load(instance("mcast_dst_ip 224.0.0.19")).diagnostics.isEmpty)
    }

    @Test func preemptionRules() {
        #expect(load(instance("state MASTER\n priority 100\n nopreempt")).first("nopreempt") != nil)
        #expect(load(instance("priority 255\n state BACKUP\n nopreempt")).first("nopreempt") != nil)
        #expect(load(instance("nopreempt\n preempt_delay 5")).first("preempt-delay") != nil)
        #expect(load(instance("nopreempt")).diagnostics.isEmpty)
    }

    @Test func authenticationRules() {
        #expect(load(instance("authentication { auth_type PASS\n auth_pass 123456789 }")).first("auth-pass")?.message.contains("'12345678'") == true)
        #expect(load(instance("version 3\n authentication { auth_type PASS\n auth_pass x }")).first("auth-v3") != nil)
        #expect(load(instance("state MASTER\n authentication { auth_type AH\n auth_pass x }")).first("auth-ah") != nil)
    }

    @Test func globalMulticastGroups() {
        #expect(load("global_defs { vrrp_mcast_group4 192.0.2.1 }").first("bad-address") != nil)
        #expect(load("global_defs { vrrp_mcast_group6 224.0.0.18 }").first("bad-address") != nil)
    }

    @Test func syncGroupRules() {
        let two = instance("", name: "A", vrid: 1) + instance("", name: "B", vrid: 2, vip: "192.0.2.11")
        #expect(load(two + "vrrp_sync_group G { group { A } }").first("sync-group")?.severity == .warning)
        #expect(load(two + "vrrp_sync_group G { group { A B } }\nvrrp_sync_group H { group { B A } }").first("sync-group")?.severity == .error)
        #expect(load(two + "vrrp_sync_group G { group { A C } }").first("unknown-reference")?.hint == "did you mean 'A'?")
        #expect(load(two + "track_group T { group { Z } }").first("unknown-reference") != nil)
        let weighted = load("global_defs { enable_script_security }\nvrrp_script s { script /bin/true }\n"
            + instance("track_script { s weight 10 }", name: "A", vrid: 1) + instance("", name: "B", vrid: 2, vip: "192.0.2.11")
            + "vrrp_sync_group G { group { A B } }")
        #expect(weighted.first("sync-group-weight") != nil)
    }

    @Test func trackerReferencesResolve() {
        let r = load(instance("track_script { chk_nginx }\n track_file { f }\n track_process { p }\n track_bfd { b }")
            + "vrrp_script chk_nginix { script /bin/true }")
        let refs = r.diagnostics.filter { $0.code == "unknown-reference" }
        #expect(refs.count == 4)
        #expect(refs[0].hint == "did you mean 'chk_nginix'?")
        #expect(refs[0].location?.line == 5)
    }

    @Test func trackingTheOwnInterfaceWarns() {
        #expect(load(instance("track_interface { eth0 }")).first("track-own-interface")?.location?.line == 5)
        #expect(load(instance("track_interface { eth1 }")).first("track-own-interface") == nil)
    }

    @Test func unusedScriptWarns() {
        #expect(load("global_defs { enable_script_security }\nvrrp_script s { script /bin/true }").first("unused")?.severity == .warning)
    }

    @Test func quorumMaxBelowQuorum() {
        #expect(load("vrrp_track_process p { process x\n quorum 3\n quorum_max 2 }").first("bad-value") != nil)
    }

    @Test func ownerWeightsHaveNoEffect() {
        let r = load("global_defs { enable_script_security }\nvrrp_script s { script /bin/true }\n" + instance("priority 255\n track_script { s weight 5 }"))
        #expect(r.first("owner-weight")?.location?.line == 8)
    }
}

@Suite struct ScriptSecurityTests {
    func check(_ text: String) -> LoadResult {
        var options = ConfigLoader.Options()
        options.preprocessor = PreprocessorOptions(configID: "x")
        options.host = HostEnvironment(interfaceExists: nil, inspectScriptFiles: true)
        return ConfigLoader(options: options).load(text: text, name: "t.conf")
    }

    @Test func scriptsWithoutScriptSecurityExitWith6() {
        let r = check(instance("notify_master /bin/true"))
        #expect(r.first("script-security")?.category == .scriptSecurity)
        #expect(r.exitStatus == 6)
        #expect(check("global_defs { enable_script_security }\n" + instance("notify_master /bin/true")).exitStatus == 0)
    }

    @Test func configurationErrorsOutrankScriptSecurity() {
        #expect(check(instance("notify_master /bin/true\n priority 0")).exitStatus == 5)
    }

    @Test func writableScriptsAreRefused() throws {
        let dir = TemporaryDirectory()
        let script = dir.write("notify.sh", "#!/bin/sh\n")
        chmod(script, 0o777)
        let r = check("global_defs { enable_script_security }\n" + instance("notify_master \(script)"))
        let d = r.first("script-security")
        #expect(d?.message.contains("writable by everyone") == true)
        #expect(r.exitStatus == 6)
        chmod(script, 0o755)
        #expect(check("global_defs { enable_script_security }\n" + instance("notify_master \(script)")).exitStatus == 0)
    }

    @Test func missingAndRelativeScriptsWarn() {
        let r = check("global_defs { enable_script_security }\n" + instance("notify_master /nonexistent/kad.sh\n notify_backup relative.sh"))
        #expect(r.codes(.warning) == ["script-missing", "script-path"])
        #expect(r.exitStatus == 0)
    }
}

@Suite struct ExitStatusTests {
    @Test func validIsZeroEvenWithWarnings() {
        #expect(load(instance("debug 1")).exitStatus == 0)
    }

    @Test func fatalIsFour() {
        let r = ConfigLoader().load(path: "/nonexistent/kad.conf")
        #expect(r.exitStatus == 4)
        let dir = TemporaryDirectory()
        let main = dir.write("k.conf", "includea missing.conf\n" + instance(""))
        #expect(ConfigLoader().load(path: main).exitStatus == 4)
        #expect(ConfigLoader().load(path: dir.path).exitStatus == 4)
    }
}

@Suite struct StaticTrackGroupTests {
    @Test func unknownTrackGroupsOnStaticRoutesAndRulesAreLocated() {
        let r = load("static_routes {\n 198.51.100.0/24 via 192.0.2.1 track_group NOPE\n}\nstatic_rules {\n from 192.0.2.5 table 5 track_group NOPE\n}")
        let refs = r.diagnostics.filter { $0.code == "unknown-reference" }
        #expect(refs.map(\.location?.line) == [2, 5])
    }
}
