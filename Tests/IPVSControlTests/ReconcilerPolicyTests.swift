import Testing
import VRRPCore
@testable import IPVSControl

private func ip(_ s: String) -> IPAddress { IPAddress(s)! }
private func rs(_ a: String, weight: UInt32 = 1) -> IPVSDestination {
    IPVSDestination(address: ip(a), port: 80, forwarding: .directRouting, weight: weight)
}
private func key(_ a: String) -> IPVSDestinationKey { IPVSDestinationKey(address: ip(a), port: 80) }

@Suite("Reconciler: virtual_server_group entries")
struct ReconcilerGroupEntryTests {
    @Test("single addresses, IPv4 ranges by last octet or full address, prefixes and IPv6 ranges by last group expand in order")
    func expansions() throws {
        #expect(try IPVSGroupEntry(parsing: "192.0.2.7", port: 80).addresses() == [ip("192.0.2.7")])
        #expect(try IPVSGroupEntry(parsing: "192.0.2.1-3").addresses() == [ip("192.0.2.1"), ip("192.0.2.2"), ip("192.0.2.3")])
        #expect(try IPVSGroupEntry(parsing: "192.0.2.254-198.51.100.0").count == Int(0xC633_6400 - 0xC000_02FE) + 1)
        #expect(try IPVSGroupEntry(parsing: "192.0.2.254-192.0.3.1").addresses()
            == ["192.0.2.254", "192.0.2.255", "192.0.3.0", "192.0.3.1"].map(ip))
        #expect(try IPVSGroupEntry(parsing: "203.0.113.4/30").addresses() == ["203.0.113.4", "203.0.113.5", "203.0.113.6", "203.0.113.7"].map(ip))
        #expect(try IPVSGroupEntry(parsing: "203.0.113.6/30").addresses() == ["203.0.113.6", "203.0.113.7"].map(ip))
        #expect(try IPVSGroupEntry(parsing: "203.0.113.9/32").addresses() == [ip("203.0.113.9")])
        #expect(try IPVSGroupEntry(parsing: "2001:db8::fe-101").addresses()
            == ["2001:db8::fe", "2001:db8::ff", "2001:db8::100", "2001:db8::101"].map(ip))
        #expect(try IPVSGroupEntry(parsing: "2001:db8::ffff:fffe-2001:db8::1:0:1").addresses()
            == ["2001:db8::ffff:fffe", "2001:db8::ffff:ffff", "2001:db8::1:0:0", "2001:db8::1:0:1"].map(ip))
        #expect(try IPVSGroupEntry(parsing: "2001:db8::ffff:ffff:ffff:fffe-2001:db8:0:1::").addresses()
            == ["2001:db8::ffff:ffff:ffff:fffe", "2001:db8::ffff:ffff:ffff:ffff", "2001:db8:0:1::"].map(ip), "carry into the high half")
        #expect(try IPVSGroupEntry(parsing: "2001:db8::/126").addresses() == ["2001:db8::", "2001:db8::1", "2001:db8::2", "2001:db8::3"].map(ip))
        #expect(try IPVSGroupEntry(parsing: "2001:db8::/64").count == Int.max, "2^64 saturates")
    }

    @Test("service keys carry the protocol and port; a group drops duplicates; fwmarks stay one key")
    func keys() throws {
        let entries = [try IPVSGroupEntry(parsing: "192.0.2.1-2", port: 80), try IPVSGroupEntry(parsing: "192.0.2.2", port: 80),
                       try IPVSGroupEntry(parsing: "192.0.2.2", port: 443), .firewallMark(9, family: .ipv6)]
        #expect(try IPVSGroupEntry.serviceKeys(entries, protocol: .tcp) == [
            .address(protocol: .tcp, address: ip("192.0.2.1"), port: 80), .address(protocol: .tcp, address: ip("192.0.2.2"), port: 80),
            .address(protocol: .tcp, address: ip("192.0.2.2"), port: 443), .firewallMark(9, family: .ipv6),
        ])
        #expect(entries[0].description == "192.0.2.1-192.0.2.2 port 80")
    }

    @Test("bad words and oversized expansions are refused with the word and the reason", arguments: [
        ("192.0.2.9-3", "virtual_server_group entry '192.0.2.9-3' ends before it starts"),
        ("192.0.2.1-256", "virtual_server_group entry '192.0.2.1-256' does not end with a last octet (0 to 255) or an IPv4 address"),
        ("192.0.2.1-2001:db8::1", "virtual_server_group entry '192.0.2.1-2001:db8::1' does not end with a last octet (0 to 255) or an IPv4 address"),
        ("2001:db8::1-fffff", "virtual_server_group entry '2001:db8::1-fffff' does not end with a last group (hex, 0 to ffff) or an IPv6 address"),
        ("192.0.2.0/33", "virtual_server_group entry '192.0.2.0/33' has a prefix length that is not 0 to 32"),
        ("192.0.2.x", "virtual_server_group entry '192.0.2.x' is not an address"),
        ("x-3", "virtual_server_group entry 'x-3' does not start with an address"),
    ])
    func badWords(_ word: String, _ message: String) {
        #expect(throws: IPVSGroupEntryError.self) { try IPVSGroupEntry(parsing: word) }
        do {
            _ = try IPVSGroupEntry(parsing: word)
        } catch {
            #expect(error.description == message)
        }
    }

    @Test("an expansion above the limit, or a hand-built backwards range, throws instead of allocating or crashing")
    func limits() throws {
        let big = try IPVSGroupEntry(parsing: "198.51.0.0/16")
        #expect(big.count == 65_536)
        #expect(try IPVSGroupEntry(parsing: "198.51.100.0/16").count == 39_936, "from the written address to the end of the prefix")
        #expect(throws: IPVSGroupEntryError("198.51.0.0/16 port 0", "covers 65536 addresses, more than 1000")) {
            try big.addresses(limit: 1000)
        }
        let backwards = IPVSGroupEntry.range(first: ip("192.0.2.9"), last: ip("192.0.2.1"), port: 80)
        #expect(backwards.count == 0)
        #expect(throws: IPVSGroupEntryError("192.0.2.9-192.0.2.1 port 80", "ends before it starts")) { try backwards.addresses() }
        #expect(throws: IPVSGroupEntryError.self) { try IPVSGroupEntry(parsing: "2001:db8::/64").addresses() }
    }
}

@Suite("Reconciler: real server, quorum and sorry server rules (keepalived-compat §4)")
struct ReconcilerPolicyTests {
    let a = rs("198.51.100.2", weight: 2)
    let b = rs("198.51.100.3", weight: 3)
    let sorry = rs("198.51.100.9", weight: 1)

    @Test("a real server that goes down is removed, or kept at weight 0 with inhibit_on_failure; back up, it returns at its weight")
    func downAndInhibit() {
        let policy = IPVSVirtualServerPolicy(realServers: [.init(a), .init(b, inhibitOnFailure: true)])
        var state = policy.initialState()
        #expect(policy.destinations(state) == [a, b])
        policy.update(&state, key("198.51.100.2"), up: false)
        policy.update(&state, key("198.51.100.3"), up: false)
        var b0 = b
        b0.weight = 0
        #expect(policy.destinations(state) == [b0], "a removed, b inhibited (keepalived #187/#362: they must come back)")
        policy.update(&state, key("198.51.100.2"), up: true)
        policy.update(&state, key("198.51.100.3"), up: true)
        #expect(policy.destinations(state) == [a, b])
    }

    @Test("a dynamic weight (misc_dynamic) is used while up and counts in the live weight")
    func dynamicWeight() {
        let policy = IPVSVirtualServerPolicy(realServers: [.init(a), .init(b)], quorum: 4)
        var state = policy.initialState()
        #expect(policy.liveWeight(state) == 5)
        #expect(policy.update(&state, key("198.51.100.3"), up: true, weight: 1) == .lost, "2 + 1 < 4")
        #expect(policy.liveWeight(state) == 3)
        #expect(policy.destinations(state).map(\.weight) == [2, 1], "no sorry server: the real servers stay")
    }

    @Test("quorum is lost below quorum − hysteresis or at 0, regained at quorum + hysteresis, and holds in between",
          arguments: [
              // quorum, hysteresis, live weights in sequence, expected quorum after each
              (UInt32(5), UInt32(1), [5, 4, 3, 4, 5, 6, 4, 3], [true, true, false, false, false, true, true, false]),
              (1, 0, [1, 0, 1, 2], [true, false, true, true]),
              (1, 1, [1, 0, 1, 2, 1, 0], [true, false, false, true, true, false]),   // 1−1 = 0: only a live weight of 0 loses it
              (3, 5, [9, 2, 0, 7, 8], [true, true, false, false, true]),            // 3−5 < 0: only 0 loses it; regained at 8
          ] as [(UInt32, UInt32, [UInt64], [Bool])])
    func hysteresis(_ quorum: UInt32, _ hysteresis: UInt32, _ weights: [UInt64], _ expected: [Bool]) {
        let policy = IPVSVirtualServerPolicy(realServers: [], quorum: quorum, hysteresis: hysteresis)
        var has = true
        var got: [Bool] = []
        for w in weights {
            has = policy.quorum(previously: has, liveWeight: w)
            got.append(has)
        }
        #expect(got == expected)
    }

    @Test("losing quorum with a sorry server pulls every real server and adds the sorry server; regaining reverses it")
    func sorryServer() {
        let policy = IPVSVirtualServerPolicy(realServers: [.init(a), .init(b, inhibitOnFailure: true)], quorum: 4, hysteresis: 1,
                                             sorryServer: sorry)
        var state = policy.initialState()
        #expect(state.hasQuorum)
        #expect(policy.destinations(state) == [a, b])
        #expect(policy.update(&state, key("198.51.100.3"), up: false) == .lost, "live 2 < 4 − 1")
        var b0 = b
        b0.weight = 0
        #expect(policy.destinations(state) == [b0, sorry], "a pulled, b inhibited at 0, sorry server in")
        #expect(policy.update(&state, key("198.51.100.3"), up: true, weight: 2) == nil, "live 4 < 4 + 1: still lost")
        #expect(policy.destinations(state) == [b0, sorry], "while quorum is lost even the live real servers stay out")
        #expect(policy.update(&state, key("198.51.100.3"), up: true, weight: 3) == .regained, "live 5 ≥ 5")
        #expect(policy.destinations(state) == [a, b])
    }

    @Test("sorry_server_inhibit keeps the sorry server at weight 0 while quorum holds")
    func sorryInhibit() {
        let policy = IPVSVirtualServerPolicy(realServers: [.init(a)], sorryServer: sorry, sorryServerInhibit: true)
        var state = policy.initialState()
        var sorry0 = sorry
        sorry0.weight = 0
        #expect(policy.destinations(state) == [a, sorry0])
        #expect(policy.update(&state, key("198.51.100.2"), up: false) == .lost)
        #expect(policy.destinations(state) == [sorry])
    }

    @Test("alpha starts every real server down: no quorum, the sorry server serves until a check succeeds")
    func alpha() {
        let policy = IPVSVirtualServerPolicy(realServers: [.init(a), .init(b)], sorryServer: sorry)
        var state = policy.initialState(alpha: true)
        #expect(!state.hasQuorum)
        #expect(policy.destinations(state) == [sorry])
        #expect(policy.update(&state, key("198.51.100.2"), up: true) == .regained)
        #expect(policy.destinations(state) == [a])
    }

    @Test("a real server configured with weight 0 is present but does not count, so alone it never has quorum")
    func zeroWeight() {
        let policy = IPVSVirtualServerPolicy(realServers: [.init(rs("198.51.100.2", weight: 0))], sorryServer: sorry)
        let state = policy.initialState()
        #expect(policy.liveWeight(state) == 0)
        #expect(!state.hasQuorum)
        #expect(policy.destinations(state) == [sorry])
    }

    @Test("the policy's destinations drop into the desired state, and the plan moves only what changed")
    func intoDesiredState() {
        let web = IPVSService(.address(protocol: .tcp, address: ip("192.0.2.10"), port: 80))
        let policy = IPVSVirtualServerPolicy(realServers: [.init(a), .init(b)], sorryServer: sorry)
        var state = policy.initialState()
        var desired = IPVSDesiredState([IPVSDesiredService(web, destinations: policy.destinations(state))])
        let kernel = FakeIPVSKernel()
        kernel.entries = [(web, [a, b])]
        #expect(IPVSPlanner.plan(desired: desired, current: kernel.table, managed: []).isEmpty)
        policy.update(&state, key("198.51.100.2"), up: false)
        policy.update(&state, key("198.51.100.3"), up: false)
        desired.setDestinations(policy.destinations(state), of: web.key)
        #expect(IPVSPlanner.plan(desired: desired, current: kernel.table, managed: []) == [
            .addDestination(sorry, service: web.key),
            .deleteDestination(key("198.51.100.2"), service: web.key), .deleteDestination(key("198.51.100.3"), service: web.key),
        ])
    }
}
