import Testing
@testable import ConfigDSL

// MARK: - Helpers

private func lvsNodes(_ text: String) -> [ConfigNode] {
    var pp = Preprocessor(options: PreprocessorOptions(configID: "test"))
    pp.run(text: text, name: "t.conf")
    var parser = Parser(lines: pp.lines)
    return parser.parse()
}

/// Decodes the first node of `text` as a virtual server (index 0).
private func lvsVS(_ text: String) -> (VirtualServer?, DecodeContext) {
    let context = DecodeContext()
    guard let node = lvsNodes(text).first else { return (nil, context) }
    let vs = LVSDecoder.virtualServer(node, index: 0, context: context)
    // Most tests here leave lb_kind out for brevity; the notice for that has its own test
    // (lvsMissingMethodIsReported).
    var kept = Diagnostics()
    kept.append(contentsOf: context.diagnostics.all.filter { $0.code != "default-method" })
    context.diagnostics = kept
    return (vs, context)
}

private func lvsGroup(_ text: String) -> (VirtualServerGroup?, DecodeContext) {
    let context = DecodeContext()
    guard let node = lvsNodes(text).first else { return (nil, context) }
    return (LVSDecoder.virtualServerGroup(node, context: context), context)
}

private func ip(_ s: String) -> IPAddress {
    guard let a = IPAddress(s) else { fatalError("bad test address \(s)") }
    return a
}

private func errors(_ c: DecodeContext) -> [Diagnostic] { c.diagnostics.all.filter { $0.severity == .error } }
private func warnings(_ c: DecodeContext) -> [Diagnostic] { c.diagnostics.all.filter { $0.severity == .warning } }

private func at(_ d: Diagnostic?) -> (Int, Int)? { d.map { ($0.location?.line ?? -1, $0.location?.column ?? -1) } }

/// decode → encode → parse → decode, expecting an equal model and no new diagnostics.
private func roundTrip(_ vs: VirtualServer) -> (VirtualServer?, String, [Diagnostic]) {
    var w = ConfigWriter()
    LVSDecoder.encode(vs, into: &w)
    let (again, context) = lvsVS(w.text)
    return (again, w.text, context.diagnostics.all)
}

/// A checker decoded inside a minimal virtual server.
private func lvsChecker(_ body: String) -> (HealthChecker?, DecodeContext) {
    let text = """
        virtual_server 10.0.0.1 80 {
            lvs_sched rr
            protocol TCP
            real_server 10.0.0.2 80 {
        \(body)
            }
        }
        """
    let (vs, c) = lvsVS(text)
    return (vs?.realServers.first?.checkers.first, c)
}

/// Runs validation on decoded text (virtual servers, groups and SSL at the top level).
private func lvsValidate(
    _ text: String, trackFiles: Set<String> = [], bfds: Set<String> = []
) -> (diagnostics: [Diagnostic], decode: [Diagnostic]) {
    let context = DecodeContext()
    var servers: [VirtualServer] = []
    var groups: [VirtualServerGroup] = []
    var ssl: SSLConfig? = nil
    for node in lvsNodes(text) {
        switch node.keyword.text {
        case "virtual_server":
            if let vs = LVSDecoder.virtualServer(node, index: servers.count, context: context) { servers.append(vs) }
        case "virtual_server_group":
            if let g = LVSDecoder.virtualServerGroup(node, context: context) { groups.append(g) }
        case "SSL":
            ssl = LVSDecoder.ssl(node, context: context)
        default:
            break
        }
    }
    var d = Diagnostics()
    LVSValidation.validate(
        virtualServers: servers, groups: groups, ssl: ssl, trackFileNames: trackFiles, bfdNames: bfds,
        sourceMap: context.sourceMap, diagnostics: &d)
    // The "no lb_kind" notice is tested on its own (lvsMissingMethodIsReported); these tests
    // write virtual servers without lb_kind for brevity.
    return (d.all, context.diagnostics.all.filter { $0.code != "default-method" })
}

@Test func lvsMissingMethodIsReported() {
    let r = load("virtual_server 192.0.2.1 80 {\n lb_algo rr\n protocol TCP\n real_server 192.0.2.2 80 { weight 1 }\n}")
    #expect(r.first("default-method")?.severity == .warning)
    let explicit = load("virtual_server 192.0.2.1 80 {\n lb_algo rr\n lb_kind NAT\n protocol TCP\n real_server 192.0.2.2 80 { weight 1 }\n}")
    #expect(explicit.first("default-method") == nil)
    let fwmark = load("virtual_server fwmark 3 {\n lb_algo rr\n lb_kind DR\n protocol TCP\n real_server 192.0.2.2 { weight 1 }\n}")
    #expect(fwmark.first("fwmark-protocol")?.location?.line == 4)
}

// MARK: - The seed's example

@Test func lvsSeedExample() throws {
    let text = """
        virtual_server 192.168.200.100 443 {
            delay_loop 6
            lb_algo rr
            lb_kind DR
            persistence_timeout 50
            protocol TCP

            real_server 192.168.201.100 443 {
                weight 4
                TCP_CHECK {
                    connect_timeout 3
                }
            }
            real_server 192.168.201.101 443 {
                weight 6
                TCP_CHECK {
                    connect_timeout 3
                }
            }
        }
        """
    let (vs, c) = lvsVS(text)
    let v = try #require(vs)
    #expect(c.diagnostics.all.isEmpty)
    #expect(v.address == .ip(LVSEndpoint(address: ip("192.168.200.100"), port: 443)))
    #expect(v.delayLoop == 6)
    #expect(v.scheduler == .rr)
    #expect(v.forwarding == .dr)
    #expect(v.persistenceTimeout == 50)
    #expect(v.serviceProtocol == .tcp)
    #expect(v.realServers.count == 2)
    #expect(v.realServers.map(\.weight) == [4, 6])
    #expect(v.realServers[1].endpoint == LVSEndpoint(address: ip("192.168.201.101"), port: 443))
    #expect(v.realServers[0].checkers == [{
        var h = HealthChecker(kind: .tcp)
        h.timing.connectTimeout = 3
        return h
    }()])
    // Inherited values resolve through the real server and the virtual server.
    let timing = v.realServers[0].checkers[0].effectiveTiming(realServer: v.realServers[0], virtualServer: v)
    #expect(timing.delayLoop == 6)
    #expect(timing.connectTimeout == 3)
    #expect(timing.retry == 1)
    #expect(timing.delayBeforeRetry == 1)
    #expect(timing.warmup == 6)
    #expect(v.realServers[0].effectiveForwarding(in: v) == .dr)
    // Source map paths.
    #expect(c.sourceMap.location("virtual_server #0", "lvs_sched")?.line == 3)
    #expect(c.sourceMap.location("virtual_server #0/real_server #2", "weight")?.line == 15)
    #expect(c.sourceMap.location("virtual_server #0/real_server #2/TCP_CHECK #1", "connect_timeout")?.line == 17)

    let (again, printed, diagnostics) = roundTrip(v)
    #expect(again == v, "printed:\n\(printed)")
    #expect(diagnostics.isEmpty)
    #expect(printed.contains("lvs_sched rr"))
    #expect(printed.contains("lvs_method DR"))
}

// MARK: - Virtual server keywords and defaults

@Test func lvsVirtualServerDefaults() throws {
    let (vs, c) = lvsVS("virtual_server 10.1.1.1 80 {\n}")
    let v = try #require(vs)
    #expect(v.scheduler == .wlc)
    #expect(v.forwarding == .nat)
    #expect(v.serviceProtocol == .udp)
    #expect(v.delayLoop == 60)
    #expect(v.connectTimeout == 5)
    #expect(v.quorum == 1)
    #expect(v.hysteresis == 0)
    #expect(v.retry == nil)
    #expect(v.delayBeforeRetry == nil)
    #expect(v.warmup == nil)
    #expect(v.persistenceTimeout == nil)
    #expect(v.alpha == false && v.omega == false && v.haSuspend == false && v.inhibitOnFailure == false)
    #expect(v.weight == nil)
    #expect(v.realServers.isEmpty)
    // Two warnings: the scheduler and the protocol were defaulted, both at the virtual_server keyword.
    let w = warnings(c)
    #expect(w.map(\.code) == ["default-value", "default-value"])
    #expect(w[0].message.contains("wlc"))
    #expect(w[1].message.contains("UDP"))
    #expect(at(w[1]) ?? (0, 0) == (1, 1))
    #expect(errors(c).isEmpty)
}

@Test func lvsFwmarkHasNoProtocolDefault() throws {
    let (vs, c) = lvsVS("virtual_server fwmark 7 {\n lvs_sched sh\n}")
    let v = try #require(vs)
    #expect(v.address == .fwmark(7))
    #expect(v.serviceProtocol == nil)
    #expect(c.diagnostics.all.isEmpty)
}

@Test func lvsEveryVirtualServerKeyword() throws {
    let text = """
        virtual_server group WEB {
            lvs_sched sh
            hashed
            ops
            flag-1
            flag-2
            flag-3
            sh-port
            sh-fallback
            mh-port
            mh-fallback
            lvs_method TUN type gue port 6080 remcsum
            protocol udp
            persistence_timeout
            persistence_granularity 255.255.255.0
            persistence_engine sip
            ha_suspend
            smtp_alert off
            virtualhost www.example.com
            snmp_name web-vs
            alpha
            omega
            quorum 3
            hysteresis 1
            quorum_up "/usr/bin/up.sh arg" nobody:nogroup
            quorum_down /usr/bin/down.sh
            ip_family inet6
            sorry_server 10.9.9.9 8080
            sorry_server_inhibit
            sorry_server_lvs_method TUN type gre csum
            connect_timeout 2.5
            retry 4
            delay_before_retry 0.5
            warmup 0
            delay_loop 12
            inhibit_on_failure
            weight 7
        }
        """
    let (vs, c) = lvsVS(text)
    let v = try #require(vs)
    #expect(errors(c).isEmpty, "\(c.diagnostics.all)")
    #expect(warnings(c).isEmpty, "\(c.diagnostics.all)")
    #expect(v.address == .group("WEB"))
    #expect(v.scheduler == .sh)
    #expect(v.hashed && v.ops)
    #expect(v.schedulerFlags == LVSSchedulerFlag.allCases)
    #expect(v.ipvsFlags == 0x0002 | 0x0004 | 0x0008 | 0x0010 | 0x0020)
    #expect(v.forwarding == .tun(LVSTunnel(type: .gue, port: 6080, checksum: .remcsum)))
    #expect(v.serviceProtocol == .udp)
    #expect(v.persistenceTimeout == 360)
    #expect(v.persistenceGranularity == "255.255.255.0")
    #expect(v.persistenceEngine == "sip")
    #expect(v.haSuspend)
    #expect(v.smtpAlert == false)
    #expect(v.virtualhost == "www.example.com")
    #expect(v.snmpName == "web-vs")
    #expect(v.alpha && v.omega)
    #expect(v.quorum == 3 && v.hysteresis == 1)
    #expect(v.quorumUp == ScriptCommand(command: "/usr/bin/up.sh arg", user: "nobody", group: "nogroup"))
    #expect(v.quorumDown == ScriptCommand(command: "/usr/bin/down.sh"))
    #expect(v.ipFamily == .inet6)
    #expect(v.sorryServer == LVSEndpoint(address: ip("10.9.9.9"), port: 8080))
    #expect(v.sorryServerInhibit)
    #expect(v.sorryServerForwarding == .tun(LVSTunnel(type: .gre, checksum: .csum)))
    #expect(v.connectTimeout == 2.5)
    #expect(v.retry == 4)
    #expect(v.delayBeforeRetry == 0.5)
    #expect(v.warmup == 0)
    #expect(v.delayLoop == 12)
    #expect(v.inhibitOnFailure)
    #expect(v.weight == 7)

    let (again, printed, diagnostics) = roundTrip(v)
    #expect(again == v, "printed:\n\(printed)")
    #expect(diagnostics.isEmpty, "\(diagnostics)")
}

@Test func lvsPersistenceGranularityImpliesPersistence() throws {
    let (vs, _) = lvsVS("virtual_server 10.0.0.1 0 {\n lvs_sched rr\n protocol TCP\n persistence_granularity 64\n}")
    let v = try #require(vs)
    #expect(v.persistenceGranularity == "64")
    #expect(v.persistenceTimeout == 360)
}

@Test func lvsForwardingMethods() throws {
    func method(_ words: String) -> (LVSForwardingMethod?, DecodeContext) {
        let (vs, c) = lvsVS("virtual_server 10.0.0.1 80 {\n lvs_sched rr\n protocol TCP\n lvs_method \(words)\n}")
        return (errors(c).isEmpty ? vs?.forwarding : nil, c)
    }
    #expect(method("NAT").0 == .nat)
    #expect(method("DR").0 == .dr)
    #expect(method("TUN").0 == .tun(LVSTunnel()))
    #expect(method("TUN type ipip").0 == .tun(LVSTunnel()))
    #expect(method("TUN type gre nocsum").0 == .tun(LVSTunnel(type: .gre, checksum: .nocsum)))
    #expect(method("TUN type gue port 5555").0 == .tun(LVSTunnel(type: .gue, port: 5555)))
    // Errors, each at the offending word (line 4).
    let (_, c1) = method("TUN type gue")
    #expect(errors(c1).first?.message.contains("port") == true)
    #expect(at(errors(c1).first) ?? (0, 0) == (4, 22))
    let (_, c2) = method("TUN type gre remcsum")
    #expect(at(errors(c2).first) ?? (0, 0) == (4, 26))
    let (_, c3) = method("TUN type ipip csum")
    #expect(at(errors(c3).first) ?? (0, 0) == (4, 27))
    let (_, c4) = method("DR extra")
    #expect(at(errors(c4).first) ?? (0, 0) == (4, 16))
    let (_, c5) = method("MASQ")
    #expect(errors(c5).first?.code == "bad-value")
    #expect(at(errors(c5).first) ?? (0, 0) == (4, 13))
    // keepalived compares the method case-sensitively: a portability warning, but it is read.
    let (m6, c6) = method("dr")
    #expect(m6 == .dr)
    #expect(warnings(c6).first?.code == "value-case")
    // lb_kind is an alias, recorded under lvs_method.
    let (vs, c7) = lvsVS("virtual_server 10.0.0.1 80 {\n lvs_sched rr\n protocol TCP\n lb_kind DR\n}")
    #expect(vs?.forwarding == .dr)
    #expect(c7.sourceMap.location("virtual_server #0", "lvs_method")?.line == 4)
}

@Test func lvsProtocolIsCaseInsensitive() throws {
    let (vs, c) = lvsVS("virtual_server 10.0.0.1 80 {\n lvs_sched rr\n protocol sctp\n}")
    #expect(vs?.serviceProtocol == .sctp)
    #expect(c.diagnostics.all.isEmpty)
}

@Test func lvsEverySchedulerIsAccepted() {
    for s in ["rr", "wrr", "lc", "wlc", "lblc", "sh", "mh", "dh", "fo", "ovf", "lblcr", "sed", "nq", "twos"] {
        let (vs, c) = lvsVS("virtual_server 10.0.0.1 80 {\n lvs_sched \(s)\n protocol TCP\n}")
        #expect(vs?.scheduler.rawValue == s)
        #expect(c.diagnostics.all.isEmpty)
    }
}

@Test func lvsBadValuesAreLocated() throws {
    let text = """
        virtual_server 10.0.0.1 80 {
            lvs_sched rrr
            protocol TCP
            delay_loop -1
            quorum 0
            persistence_timeout 0
            persistence_granularity 255.0.255.0
            weight 70000
            retry x
            sorry_server 10.0.0.300
        }
        """
    let (vs, c) = lvsVS(text)
    #expect(vs != nil)
    let e = errors(c)
    #expect(e.count == 8, "\(e)")
    guard e.count == 8 else { return }
    #expect(e[0].code == "bad-value")
    #expect(at(e[0]) ?? (0, 0) == (2, 15))
    #expect(e[0].hint?.contains("did you mean 'rr'") == true)
    #expect(e[1].code == "not-a-time")
    #expect(at(e[1]) ?? (0, 0) == (4, 16))
    #expect(e[2].code == "out-of-range")
    #expect(at(e[2]) ?? (0, 0) == (5, 12))
    #expect(at(e[3]) ?? (0, 0) == (6, 25))
    #expect(e[4].message.contains("not contiguous"))
    #expect(at(e[4]) ?? (0, 0) == (7, 29))
    #expect(at(e[5]) ?? (0, 0) == (8, 12))
    #expect(e[6].code == "not-a-number")
    #expect(at(e[6]) ?? (0, 0) == (9, 11))
    #expect(e[7].code == "bad-address")
    #expect(at(e[7]) ?? (0, 0) == (10, 18))
}

@Test func lvsBadHeaders() {
    let cases: [(String, String, (Int, Int))] = [
        ("virtual_server 10.0.0.999 80 {\n}", "bad-address", (1, 16)),
        ("virtual_server 10.0.0.1 70000 {\n}", "out-of-range", (1, 25)),
        ("virtual_server fwmark 0 {\n}", "out-of-range", (1, 23)),
        ("virtual_server fwmark {\n}", "missing-value", (1, 1)),
        ("virtual_server group {\n}", "missing-value", (1, 1)),
        ("virtual_server {\n}", "missing-value", (1, 1)),
        ("virtual_server 10.0.0.1 80 90 {\n}", "unexpected-value", (1, 28)),
    ]
    for (text, code, location) in cases {
        let (vs, c) = lvsVS(text)
        #expect(vs == nil, "\(text)")
        #expect(errors(c).first?.code == code, "\(text): \(c.diagnostics.all)")
        #expect(at(errors(c).first) ?? (0, 0) == location, "\(text)")
    }
    // Without a block.
    let (vs, c) = lvsVS("virtual_server 10.0.0.1 80")
    #expect(vs == nil)
    #expect(errors(c).first?.code == "missing-block")
}

@Test func lvsUnknownKeywordsSuggest() {
    let text = """
        virtual_server 10.0.0.1 80 {
            lvs_sched rr
            protocol TCP
            dealy_loop 5
            real_server 10.0.0.2 80 {
                wieght 3
                HTTP_GET {
                    url {
                        pth /
                    }
                    conect_timeout 3
                }
            }
        }
        """
    let (_, c) = lvsVS(text)
    let unknown = c.diagnostics.all.filter { $0.code == "unknown-keyword" }
    #expect(unknown.count == 4)
    guard unknown.count == 4 else { return }
    #expect(unknown[0].hint == "did you mean 'delay_loop'?")
    #expect(at(unknown[0]) ?? (0, 0) == (4, 5))
    #expect(unknown[1].hint == "did you mean 'weight'?")
    #expect(at(unknown[1]) ?? (0, 0) == (6, 9))
    #expect(unknown[2].hint == "did you mean 'path'?")
    #expect(at(unknown[2]) ?? (0, 0) == (9, 17))
    #expect(unknown[3].hint == "did you mean 'connect_timeout'?")
    #expect(at(unknown[3]) ?? (0, 0) == (11, 13))
    #expect(unknown[0].severity == .error)
}

// MARK: - Real servers

@Test func lvsEveryRealServerKeyword() throws {
    let text = """
        virtual_server fwmark 3 {
            lvs_sched wrr
            real_server 2001:db8::10 {
                weight 0
                lvs_method TUN
                uthreshold 100
                lthreshold 10
                inhibit_on_failure
                notify_up "/bin/up rs" root
                notify_down /bin/down
                alpha no
                retry 2
                delay_before_retry 4
                warmup 1.5
                connect_timeout 7
                delay_loop 9
                smtp_alert yes
                virtualhost rs.example.com
                snmp_name rs-one
            }
        }
        """
    let (vs, c) = lvsVS(text)
    let v = try #require(vs)
    #expect(c.diagnostics.all.isEmpty, "\(c.diagnostics.all)")
    let rs = try #require(v.realServers.first)
    #expect(rs.endpoint == LVSEndpoint(address: ip("2001:db8::10")))
    #expect(rs.weight == 0)
    #expect(rs.forwarding == .tun(LVSTunnel()))
    #expect(rs.upperThreshold == 100 && rs.lowerThreshold == 10)
    #expect(rs.inhibitOnFailure == true)
    #expect(rs.notifyUp == ScriptCommand(command: "/bin/up rs", user: "root"))
    #expect(rs.notifyDown == ScriptCommand(command: "/bin/down"))
    #expect(rs.alpha == false)
    #expect(rs.retry == 2)
    #expect(rs.delayBeforeRetry == 4)
    #expect(rs.warmup == 1.5)
    #expect(rs.connectTimeout == 7)
    #expect(rs.delayLoop == 9)
    #expect(rs.smtpAlert == true)
    #expect(rs.virtualhost == "rs.example.com")
    #expect(rs.snmpName == "rs-one")
    #expect(rs.effectiveWeight(in: v) == 0)
    let (again, printed, diagnostics) = roundTrip(v)
    #expect(again == v, "printed:\n\(printed)")
    #expect(diagnostics.isEmpty)
}

@Test func lvsRealServerInheritance() throws {
    let (vs, _) = lvsVS("""
        virtual_server 10.0.0.1 80 {
            lvs_sched rr
            protocol TCP
            weight 5
            lvs_method DR
            inhibit_on_failure
            alpha
            retry 6
            real_server 10.0.0.2 80 {
                DNS_CHECK {
                }
            }
            real_server 10.0.0.3 80 {
                weight 2
                lvs_method NAT
                inhibit_on_failure off
                MISC_CHECK {
                    misc_path /bin/true
                    retry 0
                }
            }
        }
        """)
    let v = try #require(vs)
    let a = v.realServers[0]
    let b = v.realServers[1]
    #expect(a.weight == nil)
    #expect(a.effectiveWeight(in: v) == 5)
    #expect(b.effectiveWeight(in: v) == 2)
    #expect(a.effectiveForwarding(in: v) == .dr)
    #expect(b.effectiveForwarding(in: v) == .nat)
    #expect(a.effectiveInhibitOnFailure(in: v) == true)
    #expect(b.effectiveInhibitOnFailure(in: v) == false)
    let dns = a.checkers[0].effectiveTiming(realServer: a, virtualServer: v)
    #expect(dns.retry == 6)
    #expect(dns.alpha == true)
    #expect(dns.delayBeforeRetry == 60)
    let misc = b.checkers[0].effectiveTiming(realServer: b, virtualServer: v)
    #expect(misc.retry == 0)
}

@Test func lvsCheckerDefaults() {
    let vs = VirtualServer(address: .fwmark(1))
    let rs = RealServer(endpoint: LVSEndpoint(address: ip("10.0.0.2"), port: 80))
    func t(_ k: HealthChecker.Kind) -> HealthChecker.ResolvedTiming {
        HealthChecker(kind: k).effectiveTiming(realServer: rs, virtualServer: vs)
    }
    #expect(t(.tcp).retry == 1)
    #expect(t(.dns(DNSCheck())).retry == 3)
    #expect(t(.misc(MiscCheck())).retry == 0)
    #expect(t(.tcp).delayBeforeRetry == 1)
    #expect(t(.http(HTTPCheck())).delayBeforeRetry == 3)
    #expect(t(.ssl(HTTPCheck())).delayBeforeRetry == 3)
    #expect(t(.dns(DNSCheck())).delayBeforeRetry == 60)
    #expect(t(.tcp).connectTimeout == 5)
    #expect(t(.tcp).delayLoop == 60)
    #expect(t(.tcp).warmup == 60)
    #expect(t(.tcp).alpha == false)
    #expect(t(.tcp).logAllFailures == nil)
}

@Test func lvsInvalidRealServerKeepsNumbering() throws {
    let (vs, c) = lvsVS("""
        virtual_server 10.0.0.1 80 {
            lvs_sched rr
            protocol TCP
            real_server 10.0.0.x 80 {
                weight 1
            }
            real_server 10.0.0.3 80 {
                weight 2
            }
        }
        """)
    let v = try #require(vs)
    #expect(v.realServers.count == 1)
    #expect(at(errors(c).first) ?? (0, 0) == (4, 17))
    #expect(c.sourceMap.location("virtual_server #0/real_server #1", "weight")?.line == 8)
}

// MARK: - Checkers

@Test func lvsCommonCheckerOptions() throws {
    let (checker, c) = lvsChecker("""
                TCP_CHECK {
                    connect_ip 10.0.0.20
                    connect_port 8080
                    bindto 10.0.0.1
                    bind_if eth1
                    bind_port 5000
                    fwmark 12
                    alpha yes
                    connect_timeout 2
                    nb_get_retry 3
                    delay_before_retry 1.25
                    warmup 4
                    delay_loop 8
                    log_all_failures
                }
        """)
    #expect(c.diagnostics.all.isEmpty, "\(c.diagnostics.all)")
    let h = try #require(checker)
    #expect(h.kind == .tcp)
    #expect(h.connection.connectIP == ip("10.0.0.20"))
    #expect(h.connection.connectPort == 8080)
    #expect(h.connection.bindTo == ip("10.0.0.1"))
    #expect(h.connection.bindInterface == "eth1")
    #expect(h.connection.bindPort == 5000)
    #expect(h.connection.fwmark == 12)
    #expect(h.timing.alpha == true)
    #expect(h.timing.connectTimeout == 2)
    #expect(h.timing.retry == 3)
    #expect(h.timing.delayBeforeRetry == 1.25)
    #expect(h.timing.warmup == 4)
    #expect(h.timing.delayLoop == 8)
    #expect(h.timing.logAllFailures == true)
}

@Test func lvsHTTPAndSSLCheckers() throws {
    let text = """
        virtual_server 10.0.0.1 443 {
            lvs_sched rr
            protocol TCP
            real_server 10.0.0.2 443 {
                HTTP_GET {
                    http_protocol 1.1
                    fast_recovery
                    virtualhost checker.example.com
                    url {
                        path /health
                        digest 9b3a0c85a887a256d6939da88aabd8cd
                        status_code 200 400-499 503
                        virtualhost url.example.com
                        regex "OK|ready"
                        regex_no_match
                        regex_options caseless multiline
                        regex_stack 32768 65536
                        regex_min_offset 4
                        regex_max_offset 400
                    }
                    url {
                        path /
                    }
                }
                SSL_GET {
                    enable_sni
                    sni_name sni.example.com
                    tls_compliant
                    http_protocol 1.0C
                    url {
                        path /tls
                    }
                }
            }
        }
        """
    let (vs, c) = lvsVS(text)
    #expect(c.diagnostics.all.isEmpty, "\(c.diagnostics.all)")
    let v = try #require(vs)
    let checkers = try #require(v.realServers.first?.checkers)
    #expect(checkers.count == 2)
    guard case .http(let h) = checkers[0].kind, case .ssl(let s) = checkers[1].kind else {
        Issue.record("wrong kinds \(checkers.map(\.kind.keyword))")
        return
    }
    #expect(h.httpVersion == .http11)
    #expect(h.fastRecovery)
    #expect(h.virtualhost == "checker.example.com")
    #expect(h.urls.count == 2)
    let u = h.urls[0]
    #expect(u.path == "/health")
    #expect(u.digest == "9b3a0c85a887a256d6939da88aabd8cd")
    #expect(u.statusCodes == [200...200, 400...499, 503...503])
    #expect(u.accepts(status: 404) && !u.accepts(status: 201))
    #expect(u.virtualhost == "url.example.com")
    #expect(u.regex == "OK|ready")
    #expect(u.regexNoMatch)
    #expect(u.regexOptions == [.caseless, .multiline])
    #expect(u.regexStack == URLCheck.RegexStack(start: 32768, max: 65536))
    #expect(u.regexMinOffset == 4 && u.regexMaxOffset == 400)
    // The default status codes.
    #expect(h.urls[1].statusCodes == [200...299])
    #expect(s.enableSNI && s.tlsCompliant)
    #expect(s.sniName == "sni.example.com")
    #expect(s.httpVersion == .http10Close)
    #expect(s.urls.map(\.path) == ["/tls"])
    #expect(c.sourceMap.location("virtual_server #0/real_server #1/HTTP_GET #1/url #2", "path")?.line == 22)
    #expect(c.sourceMap.location("virtual_server #0/real_server #1/SSL_GET #2", "sni_name")?.line == 27)

    let (again, printed, diagnostics) = roundTrip(v)
    #expect(again == v, "printed:\n\(printed)")
    #expect(diagnostics.isEmpty)
}

@Test func lvsStatusCodeErrors() {
    let (_, c) = lvsChecker("""
                HTTP_GET {
                    url {
                        path /
                        status_code 200 299-200 700 2x0
                    }
                }
        """)
    let e = errors(c)
    #expect(e.map(\.code) == ["bad-range", "out-of-range", "not-a-number"])
    #expect(at(e[safe: 0]) ?? (0, 0) == (8, 33))
    #expect(at(e[safe: 1]) ?? (0, 0) == (8, 41))
    #expect(at(e[safe: 2]) ?? (0, 0) == (8, 45))
}

@Test func lvsSMTPCheck() throws {
    let (checker, c) = lvsChecker("""
                SMTP_CHECK {
                    helo_name "mail.example.com"
                    connect_timeout 10
                    host {
                        connect_ip 10.0.0.30
                        connect_port 2525
                        bindto 10.0.0.1
                    }
                }
        """)
    #expect(c.diagnostics.all.isEmpty, "\(c.diagnostics.all)")
    let h = try #require(checker)
    var expected = SMTPCheck()
    expected.heloName = "mail.example.com"
    var host = HealthChecker.Connection()
    host.connectIP = ip("10.0.0.30")
    host.connectPort = 2525
    host.bindTo = ip("10.0.0.1")
    expected.hosts = [host]
    #expect(h.kind == .smtp(expected))
    #expect(h.timing.connectTimeout == 10)
}

@Test func lvsDNSCheck() throws {
    let (checker, c) = lvsChecker("""
                DNS_CHECK {
                    type AAAA
                    name example.com
                }
                DNS_CHECK {
                }
        """)
    #expect(c.diagnostics.all.isEmpty)
    let h = try #require(checker)
    var d = DNSCheck()
    d.type = .aaaa
    d.name = "example.com"
    #expect(h.kind == .dns(d))
    #expect(LVSDNSQueryType.aaaa.code == 28)
    // Defaults: SOA and ".".
    let (vs, _) = lvsVS("virtual_server 10.0.0.1 53 {\n lvs_sched rr\n protocol UDP\n real_server 10.0.0.2 53 {\n DNS_CHECK {\n }\n }\n}")
    #expect(vs?.realServers.first?.checkers.first?.kind == .dns(DNSCheck()))
    #expect(DNSCheck().type == .soa && DNSCheck().name == ".")
    // A bad type.
    let (_, c2) = lvsChecker("        DNS_CHECK {\n            type AXFR\n        }")
    #expect(errors(c2).first?.code == "bad-value")
    #expect(at(errors(c2).first) ?? (0, 0) == (6, 18))
}

@Test func lvsMiscCheck() throws {
    let (checker, c) = lvsChecker("""
                MISC_CHECK {
                    misc_path "/usr/local/bin/check.sh --port 80"
                    misc_timeout 5
                    misc_dynamic
                    user nobody nogroup
                    delay_loop 3
                    alpha
                }
        """)
    #expect(c.diagnostics.all.isEmpty, "\(c.diagnostics.all)")
    let h = try #require(checker)
    guard case .misc(let m) = h.kind else {
        Issue.record("not MISC_CHECK")
        return
    }
    #expect(m.path == "/usr/local/bin/check.sh --port 80")
    #expect(m.timeout == 5)
    #expect(m.dynamic)
    #expect(m.user == "nobody" && m.group == "nogroup")
    #expect(m.command?.arguments == ["/usr/local/bin/check.sh", "--port", "80"])
    #expect(h.timing.delayLoop == 3 && h.timing.alpha == true)
    // MISC_CHECK has no connection options.
    let (_, c2) = lvsChecker("        MISC_CHECK {\n            misc_path /bin/true\n            connect_port 80\n        }")
    #expect(c2.diagnostics.all.first?.code == "unknown-keyword")
    #expect(at(c2.diagnostics.all.first) ?? (0, 0) == (7, 13))
    // A broken quote in the command.
    let (_, c3) = lvsChecker("        MISC_CHECK {\n            misc_path \"/bin/check 'x\"\n        }")
    #expect(errors(c3).first?.code == "script-syntax")
}

@Test func lvsUDPCheck() throws {
    let (checker, c) = lvsChecker("""
                UDP_CHECK {
                    payload Ab12f 3 456 546443123
                    require_reply 01x2 F
                    min_reply_length 2
                    max_reply_length 100
                }
        """)
    #expect(c.diagnostics.all.isEmpty, "\(c.diagnostics.all)")
    let h = try #require(checker)
    guard case .udp(let u) = h.kind else {
        Issue.record("not UDP_CHECK")
        return
    }
    // The man page's example: AB 12 0F 03 45 06 54 64 43 12 03.
    #expect(u.payload == [0xAB, 0x12, 0x0F, 0x03, 0x45, 0x06, 0x54, 0x64, 0x43, 0x12, 0x03])
    #expect(u.requireReply == UDPCheck.ReplyPattern(bytes: [0x01, 0x02, 0x0F], mask: [0xFF, 0x0F, 0xFF]))
    #expect(u.minReplyLength == 2 && u.maxReplyLength == 100)
    #expect(UDPCheck().minReplyLength == 0 && UDPCheck().maxReplyLength == 255)
    // require_reply alone.
    let (c2, _) = lvsChecker("        UDP_CHECK {\n            require_reply\n        }")
    if case .udp(let u2)? = c2?.kind {
        #expect(u2.requireReply == UDPCheck.ReplyPattern())
        #expect(u2.payload == nil)
    } else {
        Issue.record("not UDP_CHECK")
    }
    // Bad hex is located at the bad digit.
    let (_, c3) = lvsChecker("        UDP_CHECK {\n            payload 12g4\n        }")
    #expect(at(errors(c3).first) ?? (0, 0) == (6, 23))
}

@Test func lvsPingFileBFDCheckers() throws {
    let text = """
        virtual_server 10.0.0.1 80 {
            lvs_sched rr
            protocol TCP
            real_server 10.0.0.2 80 {
                PING_CHECK {
                    retry 2
                }
                FILE_CHECK {
                    track_file STATE
                    dynamic
                    weight -10 reverse
                }
                BFD_CHECK {
                    name bfd1
                }
            }
        }
        """
    let (vs, c) = lvsVS(text)
    #expect(c.diagnostics.all.isEmpty, "\(c.diagnostics.all)")
    let v = try #require(vs)
    let checkers = v.realServers[0].checkers
    #expect(checkers.map(\.kind.keyword) == ["PING_CHECK", "FILE_CHECK", "BFD_CHECK"])
    #expect(checkers[0].timing.retry == 2)
    var f = FileCheck()
    f.trackFile = "STATE"
    f.dynamic = true
    f.weight = TrackWeight(weight: -10, reverse: true)
    #expect(checkers[1].kind == .file(f))
    var b = BFDCheck()
    b.name = "bfd1"
    #expect(checkers[2].kind == .bfd(b))
    let (again, printed, diagnostics) = roundTrip(v)
    #expect(again == v, "printed:\n\(printed)")
    #expect(diagnostics.isEmpty)
    // FILE_CHECK and BFD_CHECK take none of the common options.
    let (_, c2) = lvsChecker("        FILE_CHECK {\n            track_file X\n            delay_loop 3\n        }")
    #expect(c2.diagnostics.all.first?.code == "unknown-keyword")
    let (_, c3) = lvsChecker("        FILE_CHECK {\n            weight 5 forward\n        }")
    #expect(at(errors(c3).first) ?? (0, 0) == (6, 22))
}

// MARK: - Groups and SSL

@Test func lvsVirtualServerGroup() throws {
    let text = """
        virtual_server_group WEB {
            192.168.200.1 80
            192.168.200.1-10 80
            192.168.200.250-192.168.201.10 443
            192.168.202.8/29 8080
            2001:db8::1-ff 80
            2001:db8::1
            fwmark 5
            fwmark 6 inet6
        }
        """
    let (group, c) = lvsGroup(text)
    #expect(c.diagnostics.all.isEmpty, "\(c.diagnostics.all)")
    let g = try #require(group)
    #expect(g.name == "WEB")
    #expect(g.entries == [
        .address(ip("192.168.200.1"), port: 80),
        .range(ip("192.168.200.1"), ip("192.168.200.10"), port: 80),
        .range(ip("192.168.200.250"), ip("192.168.201.10"), port: 443),
        .prefix(ip("192.168.202.8"), length: 29, port: 8080),
        .range(ip("2001:db8::1"), ip("2001:db8::ff"), port: 80),
        .address(ip("2001:db8::1"), port: nil),
        .fwmark(5, family: nil),
        .fwmark(6, family: .inet6),
    ])
    #expect(g.entries[3].addressRange == ip("192.168.202.8")...ip("192.168.202.15"))
    #expect(g.entries[1].words == ["192.168.200.1-10", "80"])
    #expect(g.entries[4].words == ["2001:db8::1-ff", "80"])
    #expect(c.sourceMap.location("virtual_server_group WEB", "#4")?.line == 5)
    // Round trip.
    var w = ConfigWriter()
    LVSDecoder.encode(g, into: &w)
    let (again, c2) = lvsGroup(w.text)
    #expect(again == g, "printed:\n\(w.text)")
    #expect(c2.diagnostics.all.isEmpty)
}

@Test func lvsVirtualServerGroupErrors() {
    let text = """
        virtual_server_group BAD {
            192.168.200.10-1 80
            192.168.200.1-300
            10.0.0.1/33
            fwmark 0
            fwmark 4 ipx
            10.0.0.1 http
            www.example.com 80
        }
        """
    let (group, c) = lvsGroup(text)
    #expect(group?.entries.isEmpty == true)
    let e = errors(c)
    #expect(e.map(\.code) == ["bad-range", "bad-address", "out-of-range", "out-of-range", "bad-value", "not-a-number", "bad-address"])
    #expect(at(e[safe: 0]) ?? (0, 0) == (2, 5))
    #expect(at(e[safe: 1]) ?? (0, 0) == (3, 19))
    #expect(at(e[safe: 2]) ?? (0, 0) == (4, 14))
    #expect(at(e[safe: 3]) ?? (0, 0) == (5, 12))
    #expect(at(e[safe: 4]) ?? (0, 0) == (6, 14))
    #expect(at(e[safe: 5]) ?? (0, 0) == (7, 14))
    #expect(at(e[safe: 6]) ?? (0, 0) == (8, 5))
    #expect(warnings(c).map(\.code) == ["empty-group"])
}

@Test func lvsSSL() throws {
    let text = """
        SSL {
            password secret
            ca /etc/ssl/ca.pem
            certificate /etc/ssl/cert.pem
            key /etc/ssl/key.pem
        }
        """
    let context = DecodeContext()
    let node = try #require(lvsNodes(text).first)
    let ssl = try #require(LVSDecoder.ssl(node, context: context))
    #expect(ssl == SSLConfig(password: "secret", ca: "/etc/ssl/ca.pem", certificate: "/etc/ssl/cert.pem", key: "/etc/ssl/key.pem"))
    #expect(context.diagnostics.all.isEmpty)
    #expect(context.sourceMap.location("SSL", "key")?.line == 5)
    var w = ConfigWriter()
    LVSDecoder.encode(ssl, into: &w)
    let c2 = DecodeContext()
    let again = lvsNodes(w.text).first.flatMap { LVSDecoder.ssl($0, context: c2) }
    #expect(again == ssl)
    // Unknown keyword with a suggestion.
    let c3 = DecodeContext()
    _ = lvsNodes("SSL {\n  certficate x\n}").first.flatMap { LVSDecoder.ssl($0, context: c3) }
    #expect(c3.diagnostics.all.first?.hint == "did you mean 'certificate'?")
    #expect(at(c3.diagnostics.all.first) ?? (0, 0) == (2, 3))
}

@Test func lvsSchemasListEveryBlock() {
    let blocks = Dictionary(LVSDecoder.schemas.map { ($0.block, $0.keywords.flatMap { [$0.name] + $0.aliases }) }, uniquingKeysWith: { a, _ in a })
    for name in ["SSL", "virtual_server_group", "virtual_server", "real_server", "TCP_CHECK", "HTTP_GET", "SSL_GET", "SMTP_CHECK",
                 "DNS_CHECK", "MISC_CHECK", "UDP_CHECK", "PING_CHECK", "FILE_CHECK", "BFD_CHECK", "url", "host"] {
        #expect(blocks[name] != nil, "\(name)")
    }
    #expect(blocks["virtual_server"]?.contains("lb_algo") == true)
    #expect(blocks["virtual_server"]?.contains("sorry_server_lvs_method") == true)
    #expect(blocks["real_server"]?.contains("MISC_CHECK") == true)
    #expect(blocks["HTTP_GET"]?.contains("nb_get_retry") == true)
    #expect(blocks["MISC_CHECK"]?.contains("connect_ip") == false)
}

// MARK: - Addresses

@Test func lvsAddressPrinting() {
    #expect(ip("2001:0db8:0000:0000:0000:0000:0000:0001").description == "2001:db8::1")
    #expect(ip("10.0.0.1").lvsReplacingLastPart(9) == ip("10.0.0.9"))
    #expect(ip("2001:db8::1").lvsReplacingLastPart(0xabc) == ip("2001:db8::abc"))
    #expect(ip("10.1.2.3").lvsSettingHostBits(12) == ip("10.1.15.255"))
    #expect(ip("2001:db8::").lvsSettingHostBits(72) == ip("2001:db8:0:ff:ffff:ffff:ffff:ffff"))
    let range = VirtualServerGroup.Entry.range(ip("10.0.0.250"), ip("10.0.1.5"), port: nil)
    #expect(range.words == ["10.0.0.250-10.0.1.5"])
}

// MARK: - Validation

@Test func lvsValidationGroupReference() {
    let text = """
        virtual_server_group WEB {
            10.0.0.1 80
        }
        virtual_server group WEBB {
            lvs_sched rr
            protocol TCP
        }
        virtual_server group WEB {
            lvs_sched rr
            protocol TCP
        }
        """
    let (d, decode) = lvsValidate(text)
    #expect(decode.isEmpty)
    #expect(d.map(\.code) == ["unknown-group"])
    #expect(d.first?.hint == "did you mean 'WEB'?")
    #expect(at(d.first) ?? (0, 0) == (4, 1))
}

@Test func lvsValidationPortZeroAndOps() {
    let text = """
        virtual_server 10.0.0.1 0 {
            lvs_sched rr
            protocol TCP
            ops
        }
        virtual_server 10.0.0.2 {
            lvs_sched rr
            protocol UDP
            persistence_timeout 600
            ops
        }
        """
    let (d, _) = lvsValidate(text)
    #expect(d.map(\.code) == ["port-zero", "ops-not-udp"])
    #expect(at(d[safe: 0]) ?? (0, 0) == (1, 1))
    #expect(at(d[safe: 1]) ?? (0, 0) == (4, 5))
}

@Test func lvsValidationFamiliesAndDuplicates() {
    let text = """
        virtual_server 10.0.0.1 80 {
            lvs_sched rr
            protocol TCP
            real_server 2001:db8::2 80 {
            }
            real_server 2001:db8::3 80 {
                lvs_method TUN
            }
            real_server 10.0.0.4 80 {
            }
            real_server 10.0.0.4 80 {
            }
        }
        virtual_server 10.0.0.1 80 {
            lvs_sched rr
            protocol TCP
        }
        virtual_server 10.0.0.1 80 {
            lvs_sched rr
            protocol UDP
        }
        """
    let (d, _) = lvsValidate(text)
    // Validation reports duplicates in a pass of its own; the loader sorts everything by place.
    let e = d.filter { $0.severity == .error }.sorted { at($0) ?? (0, 0) < at($1) ?? (0, 0) }
    #expect(e.map(\.code) == ["family-mismatch", "duplicate-real-server", "duplicate-virtual-server"])
    #expect(at(e[safe: 0]) ?? (0, 0) == (4, 5))
    #expect(at(e[safe: 1]) ?? (0, 0) == (11, 5))
    #expect(at(e[safe: 2]) ?? (0, 0) == (14, 1))
    #expect(e[safe: 2]?.hint?.contains("t.conf:1:1") == true)
}

@Test func lvsValidationCheckerReferences() {
    let text = """
        virtual_server 10.0.0.1 80 {
            lvs_sched rr
            protocol TCP
            real_server 10.0.0.2 80 {
                FILE_CHECK {
                    track_file STATUS
                }
                FILE_CHECK {
                    track_file state
                }
                BFD_CHECK {
                    name bfd2
                }
                BFD_CHECK {
                }
                MISC_CHECK {
                }
                HTTP_GET {
                    url {
                        digest 12345
                    }
                }
                UDP_CHECK {
                    min_reply_length 10
                    max_reply_length 5
                }
            }
        }
        """
    let (d, decode) = lvsValidate(text, trackFiles: ["state"], bfds: ["bfd1"])
    #expect(decode.isEmpty, "\(decode)")
    let e = d.filter { $0.severity == .error }
    #expect(e.map(\.code) == ["unknown-track-file", "unknown-bfd", "missing-keyword", "missing-keyword", "missing-keyword", "bad-digest", "bad-range"])
    #expect(at(e[safe: 0]) ?? (0, 0) == (6, 13))
    #expect(e[safe: 0]?.hint == "did you mean 'state'?")
    #expect(at(e[safe: 1]) ?? (0, 0) == (12, 13))
    #expect(e[safe: 1]?.hint == "did you mean 'bfd1'?")
    #expect(at(e[safe: 2]) ?? (0, 0) == (14, 9))
    #expect(at(e[safe: 3]) ?? (0, 0) == (16, 9))
    #expect(at(e[safe: 4]) ?? (0, 0) == (19, 13))
    #expect(at(e[safe: 5]) ?? (0, 0) == (20, 17))
    #expect(at(e[safe: 6]) ?? (0, 0) == (24, 13))
}

@Test func lvsValidationQuorumAndSorryServer() {
    let text = """
        virtual_server 10.0.0.1 80 {
            lvs_sched rr
            protocol TCP
            quorum 5
            hysteresis 5
            sorry_server_inhibit
            real_server 10.0.0.2 80 {
                weight 2
            }
        }
        virtual_server 10.0.0.9 80 {
            lvs_sched rr
            protocol TCP
            lvs_method DR
            sorry_server 10.0.0.3 8080
            real_server 10.0.0.3 8080 {
            }
        }
        """
    let (d, _) = lvsValidate(text)
    let w = d.filter { $0.severity == .warning }
    #expect(d.filter { $0.severity == .error }.isEmpty, "\(d)")
    #expect(w.map(\.code) == ["no-sorry-server", "quorum-hysteresis", "quorum-unreachable", "port-ignored", "sorry-is-real", "port-ignored"])
    #expect(at(w[safe: 0]) ?? (0, 0) == (6, 5))
    #expect(at(w[safe: 1]) ?? (0, 0) == (5, 5))
    #expect(at(w[safe: 2]) ?? (0, 0) == (4, 5))
    #expect(at(w[safe: 3]) ?? (0, 0) == (16, 5))
    #expect(at(w[safe: 4]) ?? (0, 0) == (15, 5))
}

@Test func lvsValidationGroupPortsAndFamilies() {
    let text = """
        virtual_server_group MIXED {
            10.0.0.1
            2001:db8::1 80
        }
        virtual_server group MIXED {
            lvs_sched rr
            protocol TCP
            real_server 10.0.0.5 80 {
            }
        }
        """
    let (d, _) = lvsValidate(text)
    let e = d.filter { $0.severity == .error }
    #expect(e.map(\.code) == ["port-zero", "family-mismatch"])
    #expect(at(e[safe: 0]) ?? (0, 0) == (5, 1))
}

@Test func lvsValidationHTTPExtras() {
    let text = """
        virtual_server 10.0.0.1 80 {
            lvs_sched rr
            protocol TCP
            real_server 10.0.0.2 80 {
                HTTP_GET {
                    enable_sni
                    url {
                        path /
                        regex_no_match
                        regex_min_offset 10
                        regex_max_offset 5
                    }
                }
                HTTP_GET {
                }
            }
        }
        """
    let (d, _) = lvsValidate(text)
    #expect(d.map(\.code) == ["ssl-only", "no-regex", "no-regex", "no-regex", "bad-range", "missing-keyword"])
    #expect(at(d[safe: 0]) ?? (0, 0) == (6, 13))
    #expect(at(d[safe: 4]) ?? (0, 0) == (10, 17))
    #expect(at(d[safe: 5]) ?? (0, 0) == (14, 9))
}

@Test func lvsScriptCommands() {
    let (vs, _) = lvsVS("""
        virtual_server 10.0.0.1 80 {
            lvs_sched rr
            protocol TCP
            quorum_up /bin/up
            real_server 10.0.0.2 80 {
                notify_down /bin/down
                MISC_CHECK {
                    misc_path "/bin/check x"
                    user nobody
                }
            }
        }
        """)
    let commands = LVSValidation.scriptCommands(in: vs.map { [$0] } ?? [])
    #expect(commands.map(\.0.command) == ["/bin/up", "/bin/down", "/bin/check x"])
    #expect(commands.map(\.1) == ["virtual_server #0", "virtual_server #0/real_server #1", "virtual_server #0/real_server #1/MISC_CHECK #1"])
    #expect(commands.map(\.2) == ["quorum_up", "notify_down", "misc_path"])
    #expect(commands.last?.0.user == "nobody")
}

@Test func lvsValidConfigHasNoDiagnostics() {
    let text = """
        SSL {
            ca /etc/ca.pem
        }
        virtual_server_group G {
            10.0.0.1-3 443
        }
        virtual_server group G {
            lvs_sched wlc
            protocol TCP
            real_server 10.0.1.1 443 {
                weight 3
                SSL_GET {
                    url {
                        path /
                        digest 9B3A0C85A887A256D6939DA88AABD8CD
                    }
                }
            }
        }
        virtual_server fwmark 9 {
            lvs_sched rr
            lvs_method TUN
            real_server 2001:db8::9 {
                PING_CHECK {
                }
            }
        }
        """
    let (d, decode) = lvsValidate(text)
    #expect(decode.isEmpty, "\(decode)")
    #expect(d.isEmpty, "\(d)")
}

private extension Array {
    subscript(safe i: Int) -> Element? { indices.contains(i) ? self[i] : nil }
}

// MARK: - Through the whole loader

@Test func lvsScriptSecurityErrorIsLocatedThroughTheLoader() {
    let result = load("""
        virtual_server 10.0.0.1 80 {
            lvs_sched rr
            protocol TCP
            real_server 10.0.0.2 80 {
                MISC_CHECK {
                    misc_path "/bin/true x"
                }
            }
        }
        """)
    let security = result.diagnostics.filter { $0.category == .scriptSecurity }
    #expect(security.count == 1, "\(result.diagnostics)")
    #expect(at(security.first) ?? (0, 0) == (6, 13), "\(result.diagnostics)")
}
