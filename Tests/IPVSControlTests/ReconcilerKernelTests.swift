import Foundation
import IntegrationSupport
import NetLinux
import Testing
import VRRPCore
@testable import IPVSControl

// The reconciler against a real kernel's IPVS, compared with ipvsadm's listing. Like
// IPVSKernelTests these run only where /proc/net/ip_vs exists: inside the IPVS VM, where
// IPVSVirtualMachineTests runs the test binary with `--filter IPVSKernelTests` (this suite's
// name contains that word so the same run picks it up).

private func ip(_ s: String) -> IPAddress { IPAddress(s)! }
private func tcp(_ a: String, _ port: UInt16) -> IPVSService.Key { .address(protocol: .tcp, address: ip(a), port: port) }

/// `ipvsadm -Ln` as lines: each service line (whitespace collapsed), followed by its
/// destinations as `-> ENDPOINT METHOD WEIGHT`, destinations sorted (ipvsadm's own order
/// follows the kernel's lists).
private func listing() throws -> [String] {
    var services: [(String, [String])] = []
    for line in try Shell.run(["ipvsadm", "-Ln"]).split(separator: "\n") {
        let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard let first = words.first else { continue }
        if ["TCP", "UDP", "SCTP", "FWM"].contains(first) {
            services.append((words.joined(separator: " "), []))
        } else if first == "->", words.count >= 4, words[1] != "RemoteAddress:Port", !services.isEmpty {
            services[services.count - 1].1.append("-> \(words[1]) \(words[2]) \(words[3])")
        }
    }
    return services.sorted { $0.0 < $1.0 }.flatMap { [$0.0] + $0.1.sorted() }
}

/// What `ipvsadm -Ln` should print for `desired` (plus `others`), in `listing()`'s form.
private func expectedListing(_ desired: IPVSDesiredState, others: [IPVSDesiredService] = []) -> [String] {
    (desired.services + others).map { s in
        (s.service.description.split(separator: " ").joined(separator: " "),
         IPVSPlanner.normalizedDestinations(s).map { "-> \($0.endpoint) \($0.forwarding) \($0.weight)" })
    }.sorted { $0.0 < $1.0 }.flatMap { [$0.0] + $0.1.sorted() }
}

extension HostAccessSuites {
    @Suite("ReconcilerIPVSKernelTests: the reconciler in a real kernel (only where /proc/net/ip_vs exists)", .serialized)
    struct ReconcilerIPVSKernelTests {
        static func desired() -> IPVSDesiredState {
            var persistent = IPVSService(tcp("192.0.2.20", 443), scheduler: .weightedRoundRobin)
            persistent.persistenceTimeout = 300
            persistent.netmask = .ipv4(prefixLength: 24)
            var gue = IPVSDestination(address: ip("198.51.100.6"), port: 53, forwarding: .tunnel, weight: 2)
            gue.tunnelType = .gue
            gue.tunnelPort = 6080
            return IPVSDesiredState([
                IPVSDesiredService(IPVSService(tcp("192.0.2.10", 80), scheduler: .roundRobin), destinations: [
                    IPVSDestination(address: ip("198.51.100.2"), port: 8080, forwarding: .masquerade, weight: 1),
                    IPVSDestination(address: ip("198.51.100.3"), port: 8080, forwarding: .directRouting, weight: 3),   // listed :80
                    IPVSDestination(address: ip("198.51.100.4"), port: 80, forwarding: .masquerade, weight: 0,
                                    upperThreshold: 100, lowerThreshold: 10),
                ]),
                IPVSDesiredService(persistent, destinations: [IPVSDestination(address: ip("198.51.100.5"), port: 443, weight: 4)]),
                IPVSDesiredService(IPVSService(.address(protocol: .udp, address: ip("2001:db8::53"), port: 53), scheduler: .sourceHashing,
                                               flags: [.shPort, .onePacket]),
                                   destinations: [IPVSDestination(address: ip("2001:db8::2"), port: 53, weight: 5), gue]),
                IPVSDesiredService(IPVSService(.firewallMark(7, family: .ipv4), scheduler: .leastConnection),
                                   destinations: [IPVSDestination(address: ip("198.51.100.7"), port: 0, forwarding: .directRouting)]),
            ])
        }

        @Test("a desired state appears in ipvsadm -Ln exactly, and a second reconcile changes nothing")
        func applyAndRepeat() throws {
            guard IPVSKernel.available() else { return }
            let client = try IPVSKernel.freshClient()
            let desired = Self.desired()
            var reconciler = IPVSReconciler(kernel: client, desired: desired)
            let first = try reconciler.reconcile()
            #expect(first.succeeded, "\(first)")
            #expect(first.applied.count == 4 + 7)
            let shown = try Shell.run(["ipvsadm", "-Ln"])
            #expect(try listing() == expectedListing(desired), "\(shown)")
            let thresholds = try Shell.run(["ipvsadm", "-Ln", "--thresholds"])
            #expect(thresholds.split(separator: "\n").contains {
                $0.split(separator: " ").prefix(4) == ["->", "198.51.100.4:80", "100", "10"]
            }, "\(thresholds)")
            #expect(try Shell.run(["ipvsadm", "-Ln", "--tun-info"]).contains("gue:6080"))
            let second = try reconciler.reconcile()
            #expect(second.applied.isEmpty && second.failures.isEmpty, "\(second)")
            #expect(try reconciler.plan().isEmpty)
        }

        @Test("ipvsadm -d, -e -w 5 and -E are repaired by reconcile(); an administrator's service is left alone")
        func repairExternalEdits() throws {
            guard IPVSKernel.available() else { return }
            let client = try IPVSKernel.freshClient()
            let desired = Self.desired()
            var reconciler = IPVSReconciler(kernel: client, desired: desired)
            try reconciler.reconcile()
            try Shell.run(["ipvsadm", "-d", "-t", "192.0.2.10:80", "-r", "198.51.100.2:8080"])
            try Shell.run(["ipvsadm", "-e", "-t", "192.0.2.10:80", "-r", "198.51.100.3:80", "-g", "-w", "5"])
            try Shell.run(["ipvsadm", "-E", "-t", "192.0.2.20:443", "-s", "lc", "-p", "60"])
            try Shell.run(["ipvsadm", "-a", "-f", "7", "-r", "198.51.100.66:0", "-g"])
            try Shell.run(["ipvsadm", "-A", "-t", "203.0.113.1:22", "-s", "rr"])
            try Shell.run(["ipvsadm", "-a", "-t", "203.0.113.1:22", "-r", "198.51.100.50:22", "-m"])
            #expect(try listing() != expectedListing(desired))
            let repair = try reconciler.reconcile()
            #expect(repair.succeeded, "\(repair)")
            #expect(repair.applied.map(\.description).sorted() == [
                "add destination 198.51.100.2:8080 to TCP 192.0.2.10:80: Masq weight 1",
                "change destination 198.51.100.3:80 of TCP 192.0.2.10:80: weight 5 → 3",
                "change service TCP 192.0.2.20:443: scheduler lc → wrr, timeout 60 → 300, netmask 255.255.255.255 → 255.255.255.0",
                "delete destination 198.51.100.66:0 from FWM 7",
            ], "\(repair)")
            let admin = IPVSDesiredService(IPVSService(tcp("203.0.113.1", 22), scheduler: .roundRobin),
                                           destinations: [IPVSDestination(address: ip("198.51.100.50"), port: 22)])
            #expect(try listing() == expectedListing(desired, others: [admin]))
            let again = try reconciler.reconcile()
            #expect(again.applied.isEmpty && again.failures.isEmpty, "\(again)")
        }

        @Test("forwarding method, thresholds and tunnel change in place with SET; NAT on 8080 to DR is a delete and an add")
        func methodChanges() throws {
            guard IPVSKernel.available() else { return }
            let client = try IPVSKernel.freshClient()
            let web = IPVSService(tcp("192.0.2.10", 80), scheduler: .roundRobin)
            let a = IPVSDestination(address: ip("198.51.100.2"), port: 80, forwarding: .masquerade)
            let b = IPVSDestination(address: ip("198.51.100.3"), port: 8080, forwarding: .masquerade)
            var reconciler = IPVSReconciler(kernel: client, desired: IPVSDesiredState([IPVSDesiredService(web, destinations: [a, b])]))
            try reconciler.reconcile()
            var a2 = a
            a2.forwarding = .tunnel
            a2.tunnelType = .gre
            a2.tunnelFlags = [.checksum]
            a2.upperThreshold = 50
            var b2 = b
            b2.forwarding = .directRouting
            reconciler.desired.setDestinations([a2, b2], of: web.key)
            let report = try reconciler.reconcile()
            #expect(report.succeeded, "\(report)")
            #expect(report.applied == [
                .updateDestination(a2, old: a, service: web.key),
                .addDestination(b2.normalized(in: web.key), service: web.key),
                .deleteDestination(b.key, service: web.key),
            ])
            #expect(Set(try client.destinations(of: web.key).map(\.destination)) == [a2, b2.normalized(in: web.key)])
            var a3 = a2
            a3.forwarding = .directRouting
            reconciler.desired.setDestination(a3, in: web.key)
            #expect(try reconciler.reconcile().applied == [.updateDestination(a3.normalized(in: web.key), old: a2, service: web.key)])
            #expect(try reconciler.reconcile().applied.isEmpty)
            #expect(try listing() == ["TCP 192.0.2.10:80 rr", "-> 198.51.100.2:80 Route 1", "-> 198.51.100.3:80 Route 1"])
        }

        @Test("shutdown removes only the managed services; keep leaves them; flush empties the table")
        func shutdown() throws {
            guard IPVSKernel.available() else { return }
            for mode in [IPVSReconciler<IPVSClient>.ShutdownMode.removeOwned, .keep, .flush] {
                let client = try IPVSKernel.freshClient()
                try Shell.run(["ipvsadm", "-A", "-t", "203.0.113.1:22", "-s", "rr"])
                let desired = Self.desired()
                var reconciler = IPVSReconciler(kernel: client, desired: desired)
                try reconciler.reconcile()
                let before = try listing()
                let report = reconciler.shutdown(mode)
                #expect(report.succeeded, "\(mode): \(report)")
                switch mode {
                case .removeOwned:
                    #expect(try listing() == ["TCP 203.0.113.1:22 rr"])
                    #expect(report.applied.count == desired.services.count)
                case .keep:
                    #expect(try listing() == before)
                case .flush:
                    #expect(try listing() == [])
                }
            }
            _ = try IPVSKernel.freshClient()
        }
    }
}
