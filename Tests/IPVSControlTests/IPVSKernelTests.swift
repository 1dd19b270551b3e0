import Foundation
import IntegrationSupport
import NetLinux
import SystemPackage
import Testing
import VRRPCore
@testable import IPVSControl

// IPVSControl against a real kernel's IPVS, compared with ipvsadm's own listing.
//
// The host and CI kernels have no IPVS, so this suite runs only where /proc/net/ip_vs exists:
// inside the throwaway VM of tools/ipvs-vm, started by IPVSVirtualMachineTests below (which
// runs this test binary there with `--filter IPVSKernelTests`). Elsewhere its tests return at
// once without a message: they are not integration tests that could run here, and
// KAD_REQUIRE_INTEGRATION is enforced by the VM runner instead. Inside the VM (IPVS_VM=1) a
// missing /proc/net/ip_vs is a failure.

enum IPVSKernel {
    static let inVM = ProcessInfo.processInfo.environment["IPVS_VM"] == "1"
    static let present = FileManager.default.fileExists(atPath: "/proc/net/ip_vs")

    /// Whether the kernel tests run here.
    static func available(_ test: String = #function) -> Bool {
        if present { return true }
        if inVM { Issue.record("\(test): IPVS_VM=1 but the kernel has no /proc/net/ip_vs") }
        return false
    }

    /// A client on an emptied table.
    static func freshClient() throws -> IPVSClient {
        let client = try IPVSClient(moduleLoader: .none)
        try client.flush()
        for daemon in try client.syncDaemons() { try client.stopSyncDaemon(daemon.state) }
        return client
    }
}

/// `ipvsadm ARGS`'s output.
private func ipvsadm(_ arguments: String...) throws -> String { try Shell.run(["ipvsadm"] + arguments) }

/// `ipvsadm -Ln [extra]` as service lines (whitespace collapsed) and, per service, the words of
/// its destination lines after the arrow.
private func ipvsadmListing(_ extra: String...) throws -> [(service: String, destinations: [[String]])] {
    var result: [(service: String, destinations: [[String]])] = []
    for line in try Shell.run(["ipvsadm", "-Ln"] + extra).split(separator: "\n") {
        let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard let first = words.first else { continue }
        if ["TCP", "UDP", "SCTP", "FWM"].contains(first) {
            result.append((words.joined(separator: " "), []))
        } else if first == "->", words.count > 1, words[1] != "RemoteAddress:Port", !result.isEmpty {
            result[result.count - 1].destinations.append(Array(words.dropFirst()))
        }
    }
    return result
}

private func collapsed(_ s: String) -> String { s.split(separator: " ").joined(separator: " ") }

/// The ``NetLinuxError`` `body` throws.
private func netLinuxError(sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) -> NetLinuxError? {
    thrown(NetLinuxError.self, sourceLocation: sourceLocation, body)
}

private func ip(_ s: String) -> IPAddress { IPAddress(s)! }

extension HostAccessSuites {
    @Suite("IPVSKernelTests: IPVS in a real kernel (only where /proc/net/ip_vs exists)", .serialized)
    struct IPVSKernelTests {
        @Test("GET_INFO and the timeouts agree with ipvsadm; SET_CONFIG changes them, 0 leaves one alone")
        func infoAndTimeouts() throws {
            guard IPVSKernel.available() else { return }
            let client = try IPVSKernel.freshClient()
            let listing = try ipvsadm("-Ln")
            #expect(listing.hasPrefix(client.info.description), "\(listing)")
            #expect(try client.readInfo() == client.info)
            let original = try client.timeouts()
            #expect(try ipvsadm("-Ln", "--timeout").contains("Timeout (tcp tcpfin udp): \(original.tcp) \(original.tcpFin) \(original.udp)"))
            try client.setTimeouts(IPVSTimeouts(tcp: 1000, tcpFin: 100, udp: 60))
            #expect(try client.timeouts() == IPVSTimeouts(tcp: 1000, tcpFin: 100, udp: 60))
            try client.setTimeouts(IPVSTimeouts(tcp: 0, tcpFin: 0, udp: 45))
            #expect(try client.timeouts() == IPVSTimeouts(tcp: 1000, tcpFin: 100, udp: 45))
            #expect(try ipvsadm("-Ln", "--timeout").contains("Timeout (tcp tcpfin udp): 1000 100 45"))
            try client.setTimeouts(original)
            #expect(try client.timeouts() == original)
        }

        @Test("every scheduler the kernel has can be programmed; twos, absent from 6.1, is refused by name")
        func schedulers() throws {
            guard IPVSKernel.available() else { return }
            let client = try IPVSKernel.freshClient()
            var added: [IPVSService] = []
            for (i, scheduler) in IPVSScheduler.known.enumerated() {
                let s = IPVSService(.address(protocol: .tcp, address: ip("192.0.2.\(100 + i)"), port: 80), scheduler: scheduler)
                do {
                    try client.addService(s)
                    added.append(s)
                } catch {
                    // Only twos may be missing (Linux 6.2+); the error must say what is unknown.
                    #expect(scheduler == .weightedRandomTwosChoice, "\(error)")
                    #expect(error.errno == .noSuchFileOrDirectory)
                    #expect(error.description.contains("adding service TCP 192.0.2.\(100 + i):80: no such file or directory (unknown scheduler \"\(scheduler)\""),
                            "\(error)")
                }
            }
            #expect(added.count >= 13)
            let listed = try client.services().map(\.service)
            #expect(Set(listed.map(\.key)) == Set(added.map(\.key)))
            for s in added {
                let found = listed.first { $0.key == s.key }
                #expect(found?.scheduler == s.scheduler)
                #expect(found?.flags == [.hashed], "the kernel marks every service it holds as hashed")
                #expect(try client.service(s.key).service.scheduler == s.scheduler)
            }
            #expect(Set(try ipvsadmListing().map(\.service)) == Set(added.map { collapsed($0.description) }))
        }

        @Test("NAT, DR, tunnels (ipip, gue, gre), local, thresholds, IPv4 and IPv6, other-family tunnels: as listed by us and by ipvsadm")
        func destinations() throws {
            guard IPVSKernel.available() else { return }
            let client = try IPVSKernel.freshClient()
            let v4 = IPVSService(.address(protocol: .tcp, address: ip("192.0.2.10"), port: 80), scheduler: .weightedRoundRobin)
            let v6 = IPVSService(.address(protocol: .udp, address: ip("2001:db8::1"), port: 53), scheduler: .sourceHashing,
                                 flags: [.shFallback, .shPort, .onePacket])
            try client.addService(v4)
            try client.addService(v6)
            let d4: [IPVSDestination] = [
                IPVSDestination(address: ip("198.51.100.2"), port: 80, forwarding: .masquerade, weight: 3, upperThreshold: 100, lowerThreshold: 10),
                IPVSDestination(address: ip("198.51.100.3"), port: 80, forwarding: .directRouting, weight: 0),
                IPVSDestination(address: ip("198.51.100.4"), port: 80, forwarding: .tunnel, weight: 2),
                IPVSDestination(address: ip("198.51.100.5"), port: 80, forwarding: .tunnel, tunnelType: .gue, tunnelPort: 6080,
                                tunnelFlags: [.checksum]),
                IPVSDestination(address: ip("198.51.100.6"), port: 80, forwarding: .tunnel, tunnelType: .gre, tunnelFlags: [.remoteChecksum]),
                IPVSDestination(address: ip("2001:db8::7"), port: 80, forwarding: .tunnel, weight: 4),
            ]
            let d6: [IPVSDestination] = [
                IPVSDestination(address: ip("2001:db8::2"), port: 53, forwarding: .masquerade, weight: 5),
                IPVSDestination(address: ip("198.51.100.9"), port: 53, forwarding: .tunnel, tunnelType: .gre),
            ]
            for d in d4 { try client.addDestination(d, to: v4.key) }
            for d in d6 { try client.addDestination(d, to: v6.key) }
            let local = IPVSDestination(address: ip("198.51.100.8"), port: 80, forwarding: .local)
            try client.addDestination(local, to: v4.key)

            let got4 = try client.destinations(of: v4.key).map(\.destination)
            let got6 = try client.destinations(of: v6.key).map(\.destination)
            #expect(Set(got4) == Set(d4 + [local]), "\(got4)")
            #expect(Set(got6) == Set(d6), "\(got6)")
            let services = try client.services()
            #expect(services.first { $0.service.key == v6.key }?.service.flags.subtracting(.hashed) == v6.flags)

            // ipvsadm: forward method and weight, thresholds, tunnel information.
            let listing = try ipvsadmListing()
            #expect(Set(listing.map(\.service)) == Set([v4, v6].map { collapsed($0.description) }))
            let all = got4 + got6
            for (_, destinations) in listing {
                for words in destinations {
                    let d = all.first { $0.endpoint == words[0] }
                    #expect(d != nil, "ipvsadm lists \(words) which we did not see")
                    #expect(words[1] == d?.forwarding.description && words[2] == d.map { "\($0.weight)" }, "\(words)")
                }
            }
            #expect(listing.flatMap(\.destinations).count == all.count)
            for words in try ipvsadmListing("--thresholds").flatMap(\.destinations) {
                let d = all.first { $0.endpoint == words[0] }
                #expect([words[1], words[2]] == d.map { ["\($0.upperThreshold)", "\($0.lowerThreshold)"] }, "\(words)")
            }
            for words in try ipvsadmListing("--tun-info").flatMap(\.destinations) {
                let d = all.first { $0.endpoint == words[0] }
                #expect(words[2] == (d?.forwarding == .tunnel ? d?.tunnelDescription : "n/a"), "\(words)")
            }
        }

        @Test("fwmark services (IPv4, IPv6), persistence with netmask and engine, as listed by us and by ipvsadm")
        func fwmarkAndPersistence() throws {
            guard IPVSKernel.available() else { return }
            let client = try IPVSKernel.freshClient()
            var fw4 = IPVSService(.firewallMark(7, family: .ipv4), scheduler: .leastConnection, netmask: .ipv4(prefixLength: 24))
            fw4.persistenceTimeout = 300
            var fw6 = IPVSService(.firewallMark(8, family: .ipv6), scheduler: .maglevHashing, flags: [.mhPort, .mhFallback],
                                  netmask: .ipv6(prefixLength: 64))
            fw6.persistenceTimeout = 60
            var sip = IPVSService(.address(protocol: .udp, address: ip("192.0.2.20"), port: 5060), scheduler: .roundRobin,
                                  persistenceEngine: "sip")
            sip.persistenceTimeout = 10
            var port0 = IPVSService(.address(protocol: .tcp, address: ip("192.0.2.21"), port: 0), scheduler: .roundRobin)
            port0.persistenceTimeout = 360
            let all = [fw4, fw6, sip, port0]
            for s in all { try client.addService(s) }
            try client.addDestination(IPVSDestination(address: ip("198.51.100.2"), port: 0, forwarding: .directRouting), to: fw4.key)
            try client.addDestination(IPVSDestination(address: ip("2001:db8::2"), port: 0, forwarding: .directRouting), to: fw6.key)
            let listed = try client.services().map(\.service)
            for s in all {
                var found = listed.first { $0.key == s.key }
                found?.flags.remove(.hashed)
                #expect(found == s)
            }
            #expect(Set(try ipvsadmListing().map(\.service)) == Set(all.map { collapsed($0.description) }))
            #expect(try client.destinations(of: fw6.key).map(\.destination.address) == [ip("2001:db8::2")])
        }

        @Test("SET changes a service and a destination; DEL removes them; FLUSH empties the table")
        func changeAndDelete() throws {
            guard IPVSKernel.available() else { return }
            let client = try IPVSKernel.freshClient()
            var s = IPVSService(.address(protocol: .sctp, address: ip("192.0.2.30"), port: 9), scheduler: .roundRobin)
            try client.addService(s)
            var d = IPVSDestination(address: ip("198.51.100.30"), port: 9, weight: 1)
            try client.addDestination(d, to: s.key)
            s.scheduler = .weightedLeastConnection
            s.persistenceTimeout = 120
            s.netmask = .ipv4(prefixLength: 16)
            try client.updateService(s)
            var got = try client.service(s.key).service
            got.flags.remove(.hashed)
            #expect(got == s)
            #expect(try ipvsadmListing().map(\.service) == [collapsed(s.description)])
            d.weight = 0
            d.upperThreshold = 50
            d.lowerThreshold = 5
            try client.updateDestination(d, in: s.key)
            #expect(try client.destinations(of: s.key).map(\.destination) == [d])
            #expect(try ipvsadmListing().first?.destinations.first?.prefix(3) == ["198.51.100.30:9", "Masq", "0"])
            s.persistenceTimeout = nil
            try client.updateService(s)
            #expect(try client.service(s.key).service.flags == [.hashed])
            try client.deleteDestination(address: d.address, port: d.port, from: s.key)
            #expect(try client.destinations(of: s.key).isEmpty)
            try client.deleteService(s.key)
            #expect(try client.services().isEmpty)
            try client.addService(s)
            try client.addService(IPVSService(.firewallMark(1, family: .ipv6)))
            #expect(try client.services().count == 2)
            try client.flush()
            #expect(try client.services().isEmpty)
            #expect(try ipvsadmListing().isEmpty)
        }

        @Test("ZERO for one service and for all; counters read as zero")
        func zero() throws {
            guard IPVSKernel.available() else { return }
            let client = try IPVSKernel.freshClient()
            let s = IPVSService(.address(protocol: .tcp, address: ip("192.0.2.40"), port: 80), scheduler: .roundRobin)
            try client.addService(s)
            try client.addDestination(IPVSDestination(address: ip("198.51.100.40"), port: 80), to: s.key)
            try client.zeroCounters(of: s.key)
            try client.zeroCounters()
            #expect(try client.service(s.key).statistics == IPVSStatistics())
            #expect(try client.destinations(of: s.key).first?.statistics == IPVSStatistics())
            let missing = IPVSService.Key.address(protocol: .tcp, address: ip("192.0.2.41"), port: 80)
            let error = netLinuxError { try client.zeroCounters(of: missing) }
            #expect(error?.description == "zeroing the counters of TCP 192.0.2.41:80: no such object (no such service)")
        }

        @Test("sync daemons: start master and backup, list them (and ipvsadm agrees), refuse a second, stop")
        func syncDaemons() throws {
            guard IPVSKernel.available() else { return }
            let client = try IPVSKernel.freshClient()
            let master = IPVSSyncDaemon(state: .master, interface: "dummy0", syncID: 5)
            try client.startSyncDaemon(master)
            let backup = IPVSSyncDaemon(state: .backup, interface: "dummy0", syncID: 6, group: ip("224.0.0.82"), port: 8850, ttl: 3)
            try client.startSyncDaemon(backup)
            let listed = try client.syncDaemons()
            let m = listed.first { $0.state == .master }
            let b = listed.first { $0.state == .backup }
            #expect(m?.interface == "dummy0" && m?.syncID == 5 && m?.port == 8848 && m?.group == ip("224.0.0.81"), "\(listed)")
            #expect(b?.interface == "dummy0" && b?.syncID == 6 && b?.port == 8850 && b?.ttl == 3 && b?.group == ip("224.0.0.82"),
                    "\(listed)")
            let daemonListing = try ipvsadm("-Ln", "--daemon")
            #expect(daemonListing.contains("master sync daemon (mcast=dummy0, syncid=5"), "\(daemonListing)")
            #expect(daemonListing.contains("backup sync daemon (mcast=dummy0, syncid=6"), "\(daemonListing)")
            let again = netLinuxError { try client.startSyncDaemon(master) }
            #expect(again?.errno == .fileExists)
            #expect(again?.description.hasPrefix(
                "starting the IPVS master sync daemon on dummy0 (sync id 5): already exists (a master sync daemon is already running") == true,
                "\(String(describing: again))")
            try client.stopSyncDaemon(.master)
            try client.stopSyncDaemon(.backup)
            #expect(try client.syncDaemons().isEmpty)
            let stopped = netLinuxError { try client.stopSyncDaemon(.master) }
            #expect(stopped?.description.hasPrefix("stopping the IPVS master sync daemon: ") == true, "\(String(describing: stopped))")
            let noDevice = netLinuxError { try client.startSyncDaemon(IPVSSyncDaemon(state: .master, interface: "nosuchif0", syncID: 1)) }
            #expect(noDevice?.errno == .operationNotSupportedByDevice, "\(String(describing: noDevice))")
        }

        @Test("kernel errors name the service or destination and say what they mean")
        func errors() throws {
            guard IPVSKernel.available() else { return }
            let client = try IPVSKernel.freshClient()
            let s = IPVSService(.address(protocol: .tcp, address: ip("192.0.2.10"), port: 80), scheduler: .roundRobin)
            try client.addService(s)
            #expect(netLinuxError { try client.addService(s) }?.description
                == "adding service TCP 192.0.2.10:80: already exists (the service already exists)")
            let d = IPVSDestination(address: ip("198.51.100.2"), port: 80)
            try client.addDestination(d, to: s.key)
            #expect(netLinuxError { try client.addDestination(d, to: s.key) }?.description
                == "adding destination 198.51.100.2:80 to TCP 192.0.2.10:80: already exists (the service already has this destination)")
            let missing = IPVSService.Key.address(protocol: .udp, address: ip("192.0.2.10"), port: 80)
            #expect(netLinuxError { try client.addDestination(d, to: missing) }?.description
                == "adding destination 198.51.100.2:80 to UDP 192.0.2.10:80: no such object (no such service)")
            #expect(netLinuxError { try client.deleteService(missing) }?.description
                == "deleting service UDP 192.0.2.10:80: no such object (no such service)")
            #expect(netLinuxError { _ = try client.service(missing) }?.errno == .noSuchProcess)
            #expect(netLinuxError { _ = try client.destinations(of: missing) }?.description
                == "listing the destinations of UDP 192.0.2.10:80: no such object (no such service)")
            let other = IPVSDestination(address: ip("198.51.100.99"), port: 80)
            #expect(netLinuxError { try client.updateDestination(other, in: s.key) }?.description
                == "changing destination 198.51.100.99:80 of TCP 192.0.2.10:80: no such file or directory (the service has no such destination)")
            #expect(netLinuxError { try client.deleteDestination(address: other.address, port: 80, from: s.key) }?.errno == .noSuchFileOrDirectory)
            let mixed = netLinuxError { try client.addDestination(IPVSDestination(address: ip("2001:db8::5"), port: 80), to: s.key) }
            #expect(mixed?.errno == .invalidArgument)
            #expect(mixed?.description.contains("needs tunnelling") == true, "\(String(describing: mixed))")
            let engine = netLinuxError {
                try client.addService(IPVSService(.address(protocol: .udp, address: ip("192.0.2.11"), port: 1), persistenceEngine: "nosuchpe"))
            }
            #expect(engine?.errno == .noSuchFileOrDirectory, "\(String(describing: engine))")
            // Refused before sending: a netmask of the other family.
            let wrongMask = netLinuxError {
                try client.addService(IPVSService(.firewallMark(3, family: .ipv6), netmask: .ipv4(prefixLength: 24)))
            }
            #expect(wrongMask?.description == "adding service FWM 3 IPv6: invalid argument (the netmask 255.255.255.0 is for IPv4, the service is IPv6)")
            #expect(try client.services().map(\.service.key) == [s.key])
        }
    }
}
