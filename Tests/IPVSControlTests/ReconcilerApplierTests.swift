import NetLinux
import SystemPackage
import Testing
import VRRPCore
@testable import IPVSControl

private func ip(_ s: String) -> IPAddress { IPAddress(s)! }
private func tcp(_ a: String, _ port: UInt16) -> IPVSService.Key { .address(protocol: .tcp, address: ip(a), port: port) }
private func rs(_ a: String, _ port: UInt16 = 80, weight: UInt32 = 1) -> IPVSDestination {
    IPVSDestination(address: ip(a), port: port, weight: weight)
}

@Suite("Reconciler: applying plans to a fake kernel")
struct ReconcilerApplierTests {
    let web = IPVSService(tcp("192.0.2.10", 80), scheduler: .roundRobin)
    let mail = IPVSService(tcp("192.0.2.11", 25), scheduler: .weightedRoundRobin)

    @Test("a refused change is reported with the kernel's words and the others still happen")
    func failureGoesOn() throws {
        let kernel = FakeIPVSKernel()
        kernel.refuse = { request in
            if case let .newDestination(d, _) = request, d.address == ip("198.51.100.3") { return .outOfRange }
            return nil
        }
        var reconciler = IPVSReconciler(kernel: kernel, desired: IPVSDesiredState([
            IPVSDesiredService(web, destinations: [rs("198.51.100.2"), rs("198.51.100.3"), rs("198.51.100.4")]),
            IPVSDesiredService(mail, destinations: [rs("198.51.100.5", 25)]),
        ]))
        let report = try reconciler.reconcile()
        #expect(report.applied.count == 5)
        #expect(report.failures.map(\.description) == [
            "adding destination 198.51.100.3:80 to TCP 192.0.2.10:80: numerical result out of range "
                + "(a value is out of range (weights and thresholds go up to 2147483647))",
        ])
        #expect(report.failures.first?.change == .addDestination(rs("198.51.100.3"), service: web.key))
        #expect(kernel.entries.map { $0.destinations.map(\.address) } == [[ip("198.51.100.2"), ip("198.51.100.4")], [ip("198.51.100.5")]])
        #expect(reconciler.owned == [web.key, mail.key])
        // The next reconcile retries only what failed.
        kernel.refuse = { _ in nil }
        let retry = try reconciler.reconcile()
        #expect(retry.applied == [.addDestination(rs("198.51.100.3"), service: web.key)])
        #expect(try reconciler.reconcile().applied.isEmpty)
    }

    @Test("when adding a service fails, its destinations are skipped with a reason and the other services go on")
    func serviceFailureSkipsItsDestinations() throws {
        let kernel = FakeIPVSKernel()
        kernel.refuse = { request in
            if case let .newService(s) = request, s.key == tcp("192.0.2.10", 80) { return .noSuchFileOrDirectory }
            return nil
        }
        var reconciler = IPVSReconciler(kernel: kernel, desired: IPVSDesiredState([
            IPVSDesiredService(web, destinations: [rs("198.51.100.2")]),
            IPVSDesiredService(mail, destinations: [rs("198.51.100.5", 25)]),
        ]))
        let report = try reconciler.reconcile()
        #expect(report.failures.map(\.description) == [
            "adding service TCP 192.0.2.10:80: no such file or directory (unknown scheduler \"rr\", or its module is not available)",
            "add destination 198.51.100.2:80 to TCP 192.0.2.10:80: Masq weight 1: skipped (adding service TCP 192.0.2.10:80 failed)",
        ])
        #expect(report.applied == [.addService(mail), .addDestination(rs("198.51.100.5", 25), service: mail.key)])
        #expect(!report.succeeded)
        #expect(kernel.calls.filter { $0.contains("192.0.2.10:80") } == ["adding service TCP 192.0.2.10:80"], "no doomed destination request")
        #expect(reconciler.owned == [mail.key])
    }

    @Test("a failure to read the table throws and changes nothing")
    func readFailure() {
        let kernel = FakeIPVSKernel()
        kernel.refuse = { request in if case .getServices = request { return .notPermitted }; return nil }
        var reconciler = IPVSReconciler(kernel: kernel, desired: IPVSDesiredState([IPVSDesiredService(web)]))
        #expect(throws: NetLinuxError.self) { try reconciler.reconcile() }
        #expect(kernel.calls.isEmpty)
    }

    @Test("external edits of managed services are repaired; unmanaged services are not touched; a second pass changes nothing")
    func repair() throws {
        let kernel = FakeIPVSKernel()
        let admin = IPVSService(tcp("192.0.2.99", 22))
        kernel.entries = [(admin, [rs("198.51.100.50", 22)])]
        var reconciler = IPVSReconciler(kernel: kernel, desired: IPVSDesiredState([
            IPVSDesiredService(web, destinations: [rs("198.51.100.2"), rs("198.51.100.3", weight: 2)]),
        ]))
        try reconciler.reconcile()
        // ipvsadm -d, ipvsadm -e -w 5, ipvsadm -E -s wlc, ipvsadm -a of a stranger
        kernel.entries[1].destinations.removeAll { $0.address == ip("198.51.100.2") }
        kernel.entries[1].destinations[0].weight = 5
        kernel.entries[1].service.scheduler = .weightedLeastConnection
        kernel.entries[1].destinations.append(rs("198.51.100.66"))
        kernel.entries[0].destinations.append(rs("198.51.100.51", 22))
        let before = kernel.entries[0]
        kernel.calls = []
        let repair = try reconciler.reconcile()
        #expect(repair.applied.map(\.description) == [
            "change service TCP 192.0.2.10:80: scheduler wlc → rr",
            "change destination 198.51.100.3:80 of TCP 192.0.2.10:80: weight 5 → 2",
            "add destination 198.51.100.2:80 to TCP 192.0.2.10:80: Masq weight 1",
            "delete destination 198.51.100.66:80 from TCP 192.0.2.10:80",
        ])
        #expect(kernel.entries[0] == before, "the administrator's service keeps its extra destination")
        #expect(try reconciler.reconcile().applied.isEmpty)
        #expect(kernel.calls.count == 4)
    }

    @Test("a service removed from the desired state is deleted once; an owned service already gone is forgotten")
    func removal() throws {
        let kernel = FakeIPVSKernel()
        var reconciler = IPVSReconciler(kernel: kernel, desired: IPVSDesiredState([IPVSDesiredService(web), IPVSDesiredService(mail)]))
        try reconciler.reconcile()
        reconciler.desired.remove(mail.key)
        #expect(try reconciler.plan() == [.deleteService(mail.key)])
        #expect(try reconciler.reconcile().applied == [.deleteService(mail.key)])
        #expect(reconciler.owned == [web.key])
        #expect(kernel.entries.map(\.service.key) == [web.key])
        // Deleted behind our back and dropped from the configuration: nothing to do.
        reconciler.desired.remove(web.key)
        kernel.entries = []
        #expect(try reconciler.reconcile().applied.isEmpty)
        #expect(reconciler.owned.isEmpty)
    }

    @Test("reconcile(keys) reads and changes only those services")
    func targeted() throws {
        let kernel = FakeIPVSKernel()
        var reconciler = IPVSReconciler(kernel: kernel, desired: IPVSDesiredState([
            IPVSDesiredService(web, destinations: [rs("198.51.100.2")]), IPVSDesiredService(mail, destinations: [rs("198.51.100.5", 25)]),
        ]))
        try reconciler.reconcile()
        reconciler.desired.setWeight(0, of: IPVSDestinationKey(address: ip("198.51.100.2"), port: 80), in: web.key)
        reconciler.desired.setWeight(9, of: IPVSDestinationKey(address: ip("198.51.100.5"), port: 25), in: mail.key)
        kernel.calls = []
        let report = try reconciler.reconcile([web.key])
        #expect(report.applied == [.updateDestination(rs("198.51.100.2", weight: 0), old: rs("198.51.100.2"), service: web.key)])
        #expect(kernel.entries[1].destinations[0].weight == 1, "mail was not in the keys")
        #expect(try reconciler.reconcile([mail.key]).applied.count == 1)
        // A key that is neither desired nor owned is ignored.
        #expect(try reconciler.reconcile([tcp("192.0.2.200", 1)]).applied.isEmpty)
    }

    @Test("reconcileKnown: after a reconcile, a verdict's weight change is one SET_DEST and no read")
    func knownNeedsNoRead() throws {
        let kernel = FakeIPVSKernel()
        var reconciler = IPVSReconciler(kernel: kernel, desired: IPVSDesiredState([
            IPVSDesiredService(web, destinations: [rs("198.51.100.2"), rs("198.51.100.3")]),
            IPVSDesiredService(mail, destinations: [rs("198.51.100.5", 25)]),
        ]))
        try reconciler.reconcile()
        let key2 = IPVSDestinationKey(address: ip("198.51.100.2"), port: 80)
        for weight: UInt32 in [0, 4, 1] {
            reconciler.desired.setWeight(weight, of: key2, in: web.key)
            kernel.calls = []
            kernel.reads = 0
            let before = try #require(kernel.entries.first { $0.service.key == web.key }).destinations[0].weight
            let report = try reconciler.reconcileKnown([web.key])
            #expect(report.applied == [.updateDestination(rs("198.51.100.2", weight: weight), old: rs("198.51.100.2", weight: before), service: web.key)])
            #expect(kernel.calls == ["changing destination 198.51.100.2:80 of TCP 192.0.2.10:80"], "one netlink command: \(kernel.calls)")
            #expect(kernel.reads == 0)
            #expect(kernel.entries[0].destinations[0].weight == weight)
        }
        // Removing and adding a destination: known follows, and a fresh read agrees.
        reconciler.desired.setDestinations([rs("198.51.100.3"), rs("198.51.100.9")], of: web.key)
        #expect(try reconciler.reconcileKnown([web.key]).applied.count == 2)
        #expect(kernel.reads == 0)
        #expect(try reconciler.plan().isEmpty, "what the reconciler knew matches the kernel")
    }

    @Test("reconcileKnown: a service not known yet is read once; an outside edit the kernel refuses is read and repaired at once")
    func knownFallsBackToReading() throws {
        let kernel = FakeIPVSKernel()
        var reconciler = IPVSReconciler(kernel: kernel, desired: IPVSDesiredState([
            IPVSDesiredService(web, destinations: [rs("198.51.100.2"), rs("198.51.100.3")]),
        ]))
        // Never reconciled: the first call reads the service (absent), adds it, then knows it.
        #expect(try reconciler.reconcileKnown([web.key]).applied.count == 3)
        #expect(kernel.reads == 1)
        reconciler.desired.setWeight(7, of: IPVSDestinationKey(address: ip("198.51.100.3"), port: 80), in: web.key)
        #expect(try reconciler.reconcileKnown([web.key]).applied.count == 1)
        #expect(kernel.reads == 1)
        // Someone deletes a destination (ipvsadm -d); the next verdict's change for it is
        // refused (ENOENT), so the service is read and the destination added back.
        kernel.entries[0].destinations.removeAll { $0.address == ip("198.51.100.3") }
        reconciler.desired.setWeight(8, of: IPVSDestinationKey(address: ip("198.51.100.3"), port: 80), in: web.key)
        let report = try reconciler.reconcileKnown([web.key])
        #expect(report.failures.isEmpty, "\(report)")
        #expect(report.applied.last == .addDestination(rs("198.51.100.3", weight: 8), service: web.key))
        #expect(kernel.reads > 1)
        #expect(kernel.entries[0].destinations.map(\.weight).sorted() == [1, 8])
        #expect(try reconciler.plan().isEmpty)
    }

    /// (Outside edits are not in this one: one that no planned change runs into waits for the
    /// next full ``IPVSReconciler/reconcile()``, by design.)
    @Test("reconcileKnown over random verdicts leaves the kernel exactly as desired, like reconcile(keys)")
    func knownMatchesReading() throws {
        let kernel = FakeIPVSKernel()
        let services = (0..<6).map { IPVSService(tcp("192.0.2.\(20 + $0)", 80), scheduler: .weightedRoundRobin) }
        let servers = (1...8).map { rs("198.51.100.\($0)") }
        var reconciler = IPVSReconciler(kernel: kernel, desired: IPVSDesiredState(services.map { IPVSDesiredService($0, destinations: servers) }))
        try reconciler.reconcile()
        var generator = SystemRandomNumberGenerator()
        for step in 0..<300 {
            let s = services.randomElement(using: &generator)!
            let d = servers.randomElement(using: &generator)!
            switch Int.random(in: 0..<3, using: &generator) {
            case 0: reconciler.desired.setWeight(UInt32.random(in: 0...5, using: &generator), of: d.key, in: s.key)
            case 1: reconciler.desired.setDestinations(servers.filter { _ in Bool.random(using: &generator) }, of: s.key)
            default: reconciler.desired.setDestinations(servers, of: s.key)
            }
            let report = try reconciler.reconcileKnown([s.key])
            #expect(report.failures.isEmpty, "step \(step): \(report)")
            #expect(try IPVSPlanner.plan(desired: reconciler.desired, current: reconciler.readTable([s.key]), managed: [s.key])
                .filter { $0.serviceKey == s.key }.isEmpty, "step \(step): the kernel differs from the desired state")
        }
    }

    @Test("shutdown: remove deletes owned and desired services only, keep leaves everything, flush empties the table")
    func shutdown() throws {
        let admin = IPVSService(tcp("192.0.2.99", 22))
        for mode in [IPVSReconciler<FakeIPVSKernel>.ShutdownMode.removeOwned, .keep, .flush] {
            let kernel = FakeIPVSKernel()
            kernel.entries = [(admin, [])]
            var reconciler = IPVSReconciler(kernel: kernel, desired: IPVSDesiredState([IPVSDesiredService(web), IPVSDesiredService(mail)]))
            try reconciler.reconcile()
            kernel.entries.removeAll { $0.service.key == mail.key }   // already gone: not a failure
            let report = reconciler.shutdown(mode)
            #expect(report.succeeded, "\(mode): \(report)")
            switch mode {
            case .removeOwned:
                #expect(kernel.entries.map(\.service.key) == [admin.key])
                #expect(report.applied == [.deleteService(web.key), .deleteService(mail.key)])
                #expect(reconciler.owned.isEmpty)
            case .keep:
                #expect(kernel.entries.map(\.service.key) == [admin.key, web.key])
                #expect(!report.changedAnything)
            case .flush:
                #expect(kernel.entries.isEmpty)
                #expect(report.flushed)
            }
        }
        // A deletion the kernel refuses stays owned and is reported.
        let kernel = FakeIPVSKernel()
        var reconciler = IPVSReconciler(kernel: kernel, desired: IPVSDesiredState([IPVSDesiredService(web)]))
        try reconciler.reconcile()
        kernel.refuse = { request in if case .deleteService = request { return .notPermitted }; return nil }
        let report = reconciler.shutdown(keep: false)
        #expect(report.failures.map(\.description) == ["deleting service TCP 192.0.2.10:80: operation not permitted (changing IPVS needs CAP_NET_ADMIN)"])
        #expect(reconciler.owned == [web.key])
    }
}
