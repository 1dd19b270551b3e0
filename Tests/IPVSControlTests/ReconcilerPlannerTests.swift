import NetLinux
import Testing
import VRRPCore
@testable import IPVSControl

private func ip(_ s: String) -> IPAddress { IPAddress(s)! }
private func tcp(_ a: String, _ port: UInt16) -> IPVSService.Key { .address(protocol: .tcp, address: ip(a), port: port) }
private func rs(_ a: String, _ port: UInt16 = 80, _ forwarding: IPVSForwardingMethod = .masquerade, weight: UInt32 = 1) -> IPVSDestination {
    IPVSDestination(address: ip(a), port: port, forwarding: forwarding, weight: weight)
}
private func dkey(_ a: String, _ port: UInt16 = 80) -> IPVSDestinationKey { IPVSDestinationKey(address: ip(a), port: port) }

/// The planner's result applied to the fake kernel, then planned again: must be empty.
private func assertIdempotent(_ desired: IPVSDesiredState, _ kernel: FakeIPVSKernel, managed: Set<IPVSService.Key>,
                              sourceLocation: SourceLocation = #_sourceLocation) {
    var reconciler = IPVSReconciler(kernel: kernel, desired: desired, owned: managed)
    let plan = IPVSPlanner.plan(desired: desired, current: kernel.table, managed: managed)
    let report = reconciler.apply(plan, current: kernel.table)
    #expect(report.failures.isEmpty, "\(report)", sourceLocation: sourceLocation)
    let again = IPVSPlanner.plan(desired: desired, current: kernel.table, managed: managed)
    #expect(again.isEmpty, "re-planning after applying gives \(again)", sourceLocation: sourceLocation)
}

@Suite("Reconciler: planner")
struct ReconcilerPlannerTests {
    let web = IPVSService(tcp("192.0.2.10", 80), scheduler: .roundRobin)
    let dns = IPVSService(.address(protocol: .udp, address: ip("2001:db8::53"), port: 53), scheduler: .sourceHashing, flags: [.shPort])

    @Test("an empty table gets every service, each followed by its destinations, in the desired order")
    func addEverything() {
        let desired = IPVSDesiredState([
            IPVSDesiredService(web, destinations: [rs("198.51.100.2"), rs("198.51.100.3", weight: 2)]),
            IPVSDesiredService(dns, destinations: [rs("2001:db8::2", 53)]),
        ])
        let plan = IPVSPlanner.plan(desired: desired, current: IPVSTable(), managed: [])
        #expect(plan == [
            .addService(web), .addDestination(rs("198.51.100.2"), service: web.key),
            .addDestination(rs("198.51.100.3", weight: 2), service: web.key),
            .addService(dns), .addDestination(rs("2001:db8::2", 53), service: dns.key),
        ])
        #expect(plan.map(\.description)[0] == "add service TCP  192.0.2.10:80 rr")
        #expect(plan.map(\.description)[2] == "add destination 198.51.100.3:80 to TCP 192.0.2.10:80: Masq weight 2")
        assertIdempotent(desired, FakeIPVSKernel(), managed: [])
    }

    @Test("a table that matches gives an empty plan, though the kernel lists every service as hashed")
    func matchingTable() {
        let desired = IPVSDesiredState([IPVSDesiredService(web, destinations: [rs("198.51.100.2")])])
        var listed = web
        listed.flags.insert(.hashed)
        let table = IPVSTable([IPVSTable.Entry(service: listed, destinations: [rs("198.51.100.2")])])
        #expect(IPVSPlanner.plan(desired: desired, current: table, managed: [web.key]).isEmpty)
    }

    @Test("each service field that differs gives one SET naming it", arguments: [
        ("scheduler", "scheduler rr → wlc"),
        ("flags", "flags [] → [flag-3]"),
        ("persistence", "flags [] → [persistent], timeout 0 → 300"),
        ("netmask", "netmask 255.255.255.255 → 255.255.255.0"),
        ("engine", "persistence engine none → sip"),
    ])
    func serviceFields(_ field: String, _ words: String) {
        var wanted = web
        switch field {
        case "scheduler": wanted.scheduler = .weightedLeastConnection
        case "flags": wanted.flags = [.schedulerFlag3]
        case "persistence": wanted.persistenceTimeout = 300
        case "netmask": wanted.netmask = .ipv4(prefixLength: 24)
        default: wanted.persistenceEngine = "sip"
        }
        let desired = IPVSDesiredState([IPVSDesiredService(wanted, destinations: [rs("198.51.100.2")])])
        let kernel = FakeIPVSKernel()
        kernel.entries = [(web, [rs("198.51.100.2")])]
        let plan = IPVSPlanner.plan(desired: desired, current: kernel.table, managed: [])
        #expect(plan == [.updateService(wanted, old: web)], "\(field)")
        #expect(plan.first?.description == "change service TCP 192.0.2.10:80: \(words)")
        assertIdempotent(desired, kernel, managed: [])
    }

    @Test("each destination field that differs gives one SET naming it", arguments: [
        ("weight", "weight 1 → 5"),
        ("method", "forwarding Masq → Route"),
        ("uthreshold", "uthreshold 0 → 100"),
        ("lthreshold", "lthreshold 0 → 10"),
        ("tunnel", "forwarding Masq → Tunnel, tunnel ipip → gue:6080:-c"),
    ])
    func destinationFields(_ field: String, _ words: String) {
        var wanted = rs("198.51.100.2")
        switch field {
        case "weight": wanted.weight = 5
        case "method": wanted.forwarding = .directRouting
        case "uthreshold": wanted.upperThreshold = 100
        case "lthreshold": wanted.lowerThreshold = 10
        default:
            wanted.forwarding = .tunnel
            wanted.tunnelType = .gue
            wanted.tunnelPort = 6080
        }
        let desired = IPVSDesiredState([IPVSDesiredService(web, destinations: [wanted, rs("198.51.100.3")])])
        let kernel = FakeIPVSKernel()
        kernel.entries = [(web, [rs("198.51.100.2"), rs("198.51.100.3")])]
        let plan = IPVSPlanner.plan(desired: desired, current: kernel.table, managed: [web.key])
        #expect(plan == [.updateDestination(wanted, old: rs("198.51.100.2"), service: web.key)], "\(field)")
        #expect(plan.first?.description == "change destination 198.51.100.2:80 of TCP 192.0.2.10:80: \(words)")
        assertIdempotent(desired, kernel, managed: [web.key])
    }

    @Test("tunnel type, port and checksum flags of a tunnelled destination are compared; of others they are not")
    func tunnelFields() {
        var gre = rs("198.51.100.2", 80, .tunnel)
        gre.tunnelType = .gre
        var greChecksum = gre
        greChecksum.tunnelFlags = [.checksum]
        let kernel = FakeIPVSKernel()
        kernel.entries = [(web, [gre])]
        let desired = IPVSDesiredState([IPVSDesiredService(web, destinations: [greChecksum])])
        #expect(IPVSPlanner.plan(desired: desired, current: kernel.table, managed: []) == [
            .updateDestination(greChecksum, old: gre, service: web.key),
        ])
        // A NAT destination with stray tunnel settings matches the kernel's zeros.
        var stray = rs("198.51.100.3")
        stray.tunnelType = .gue
        stray.tunnelPort = 9
        kernel.entries = [(web, [rs("198.51.100.3")])]
        #expect(IPVSPlanner.plan(desired: IPVSDesiredState([IPVSDesiredService(web, destinations: [stray])]),
                                 current: kernel.table, managed: []).isEmpty)
    }

    @Test("a destination that is not desired is deleted from a managed service (keepalived PR #596)")
    func extraDestination() {
        let desired = IPVSDesiredState([IPVSDesiredService(web, destinations: [rs("198.51.100.2")])])
        let kernel = FakeIPVSKernel()
        kernel.entries = [(web, [rs("198.51.100.2"), rs("198.51.100.9", 8080)])]
        let plan = IPVSPlanner.plan(desired: desired, current: kernel.table, managed: [web.key])
        #expect(plan == [.deleteDestination(dkey("198.51.100.9", 8080), service: web.key)])
        #expect(plan.first?.description == "delete destination 198.51.100.9:8080 from TCP 192.0.2.10:80")
        assertIdempotent(desired, kernel, managed: [web.key])
    }

    @Test("within a service: changes, then additions, then deletions (make before break)")
    func destinationOrder() {
        let desired = IPVSDesiredState([IPVSDesiredService(web, destinations: [rs("198.51.100.4"), rs("198.51.100.2", weight: 3)])])
        let kernel = FakeIPVSKernel()
        kernel.entries = [(web, [rs("198.51.100.2"), rs("198.51.100.3")])]
        let plan = IPVSPlanner.plan(desired: desired, current: kernel.table, managed: [web.key])
        #expect(plan == [
            .updateDestination(rs("198.51.100.2", weight: 3), old: rs("198.51.100.2"), service: web.key),
            .addDestination(rs("198.51.100.4"), service: web.key),
            .deleteDestination(dkey("198.51.100.3"), service: web.key),
        ])
    }

    @Test("direct routing takes the service's port: NAT on 8080 becoming DR is a delete and an add, and DR on 8080 matches :80")
    func directRoutingPort() {
        let kernel = FakeIPVSKernel()
        kernel.entries = [(web, [rs("198.51.100.2", 8080)])]
        let desired = IPVSDesiredState([IPVSDesiredService(web, destinations: [rs("198.51.100.2", 8080, .directRouting)])])
        let plan = IPVSPlanner.plan(desired: desired, current: kernel.table, managed: [])
        #expect(plan == [
            .addDestination(rs("198.51.100.2", 80, .directRouting), service: web.key),
            .deleteDestination(dkey("198.51.100.2", 8080), service: web.key),
        ])
        assertIdempotent(desired, kernel, managed: [])
        // A fwmark service has no port to force.
        let mark = IPVSService(.firewallMark(7, family: .ipv4))
        let byMark = IPVSDesiredState([IPVSDesiredService(mark, destinations: [rs("198.51.100.2", 8080, .directRouting)])])
        #expect(IPVSPlanner.plan(desired: byMark, current: IPVSTable(), managed: [])
            == [.addService(mark), .addDestination(rs("198.51.100.2", 8080, .directRouting), service: mark.key)])
    }

    @Test("services that are neither desired nor managed are left alone; managed ones no longer desired are deleted, last")
    func managedOnly() {
        let admin = IPVSService(tcp("192.0.2.99", 22))
        let old = IPVSService(tcp("192.0.2.11", 443))
        let kernel = FakeIPVSKernel()
        kernel.entries = [(admin, [rs("198.51.100.50", 22)]), (old, [rs("198.51.100.2", 443)])]
        let desired = IPVSDesiredState([IPVSDesiredService(web, destinations: [rs("198.51.100.2")])])
        var table = kernel.table
        table[admin.key] = IPVSTable.Entry(service: admin, destinations: nil)   // not read: unmanaged
        let plan = IPVSPlanner.plan(desired: desired, current: table, managed: [old.key])
        #expect(plan == [.addService(web), .addDestination(rs("198.51.100.2"), service: web.key), .deleteService(old.key)])
        #expect(!plan.contains { $0.serviceKey == admin.key })
        assertIdempotent(desired, kernel, managed: [old.key])
        #expect(kernel.entries.map(\.service.key) == [admin.key, web.key])
        #expect(kernel.entries[0].destinations == [rs("198.51.100.50", 22)])
    }

    @Test("a managed service missing from the table needs no deletion; a desired one already there is taken over")
    func missingAndTakenOver() {
        let gone = tcp("192.0.2.12", 80)
        let kernel = FakeIPVSKernel()
        kernel.entries = [(web, [rs("198.51.100.7")])]   // created by someone else
        let desired = IPVSDesiredState([IPVSDesiredService(web, destinations: [rs("198.51.100.2")])])
        let plan = IPVSPlanner.plan(desired: desired, current: kernel.table, managed: [gone])
        #expect(plan == [.addDestination(rs("198.51.100.2"), service: web.key), .deleteDestination(dkey("198.51.100.7"), service: web.key)])
    }

    @Test("duplicate destinations after normalization: the later one wins")
    func duplicates() {
        let desired = IPVSDesiredState([IPVSDesiredService(web, destinations: [
            rs("198.51.100.2", 8080, .directRouting, weight: 1), rs("198.51.100.2", 80, .directRouting, weight: 4),
        ])])
        #expect(IPVSPlanner.plan(desired: desired, current: IPVSTable(), managed: [])
            == [.addService(web), .addDestination(rs("198.51.100.2", 80, .directRouting, weight: 4), service: web.key)])
        var s = IPVSDesiredService(web, destinations: [rs("198.51.100.2", weight: 1), rs("198.51.100.2", weight: 2)])
        #expect(s.destinations == [rs("198.51.100.2", weight: 2)])
        let known = s.setWeight(7, of: dkey("198.51.100.2"))
        let unknown = s.setWeight(7, of: dkey("198.51.100.3"))
        #expect(known && !unknown)
        let removed = s.removeDestination(dkey("198.51.100.2"))
        #expect(removed?.weight == 7 && s.destinations.isEmpty)
    }

    @Test("random desired states against random tables: applying the plan always converges in one pass", arguments: 0..<40)
    func randomIdempotence(seed: UInt64) {
        var rng = SplitMix(seed: seed)
        let services = (0..<4).map { i in
            IPVSService(tcp("192.0.2.\(10 + i)", 80), scheduler: [.roundRobin, .weightedRoundRobin, .sourceHashing][Int(rng.next() % 3)])
        }
        func destinations() -> [IPVSDestination] {
            (0..<Int(rng.next() % 4)).map { _ in
                let methods: [IPVSForwardingMethod] = [.masquerade, .directRouting, .tunnel]
                return rs("198.51.100.\(2 + rng.next() % 5)", [80, 8080][Int(rng.next() % 2)], methods[Int(rng.next() % 3)],
                          weight: UInt32(rng.next() % 3))
            }
        }
        let kernel = FakeIPVSKernel()
        for s in services where rng.next() % 2 == 0 {
            var listed = s
            if rng.next() % 2 == 0 { listed.scheduler = .leastConnection }
            let fake = IPVSDesiredService(listed, destinations: destinations())
            kernel.entries.append((listed, IPVSPlanner.normalizedDestinations(fake)))
        }
        var desired = IPVSDesiredState()
        for s in services where rng.next() % 3 != 0 { desired.set(IPVSDesiredService(s, destinations: destinations())) }
        let managed = Set(services.filter { _ in rng.next() % 2 == 0 }.map(\.key))
        let unmanaged = kernel.entries.filter { !managed.contains($0.service.key) && desired[$0.service.key] == nil }
        assertIdempotent(desired, kernel, managed: managed)
        // The table now holds exactly the desired services plus the untouched unmanaged ones.
        #expect(Set(kernel.entries.map(\.service.key)) == Set(desired.keys).union(unmanaged.map(\.service.key)))
        for u in unmanaged {
            #expect(kernel.entries.first { $0.service.key == u.service.key }?.destinations == u.destinations)
        }
    }
}

/// A small deterministic generator for the property test.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 &+ 1 }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
