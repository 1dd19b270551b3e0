import Foundation
import IntegrationSupport
import Testing
import VRRPCore
@testable import NetLinux

/// The real keepalived (Debian's 2.2.7) running in a namespace of a TestLAN.
final class KeepalivedPeer: @unchecked Sendable {
    let process = Process()
    let directory: URL

    static var binary: String? {
        ["/usr/sbin/keepalived", "/sbin/keepalived"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    init(namespace: String, config: String) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("kad-interop-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let conf = directory.appendingPathComponent("keepalived.conf")
        try config.write(to: conf, atomically: true, encoding: .utf8)
        func file(_ n: String) -> String { directory.appendingPathComponent(n).path }
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["ip", "netns", "exec", namespace, KeepalivedPeer.binary!, "-n", "-l", "-P", "-f", conf.path,
                             "-p", file("k.pid"), "-r", file("v.pid"), "-c", file("c.pid"), "-b", file("b.pid")]
        // keepalived logs to the console with -l: kept in a file, shown when a test fails.
        _ = FileManager.default.createFile(atPath: file("keepalived.log"), contents: nil)
        let log = try FileHandle(forWritingTo: directory.appendingPathComponent("keepalived.log"))
        process.standardOutput = log
        process.standardError = log
        try process.run()
        try log.close()
    }

    /// What keepalived has logged so far.
    var log: String {
        (try? String(contentsOf: directory.appendingPathComponent("keepalived.log"), encoding: .utf8)) ?? "(no log)"
    }

    /// Waits until keepalived's log contains `text` (its VRRP instance has started, say); false
    /// after `limit`, with the log recorded as the test's issue.
    func waitForLog(_ text: String, within limit: Duration = .seconds(10),
                    sourceLocation: SourceLocation = #_sourceLocation) async -> Bool {
        let clock = ContinuousClock(), start = clock.now
        while clock.now - start < limit {
            if log.contains(text) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("keepalived did not log \"\(text)\" within \(limit); its log:\n\(log)", sourceLocation: sourceLocation)
        return false
    }

    /// SIGTERM (keepalived then resigns with priority 0) and wait.
    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { stop() }
}

extension HostAccessSuites {
    @Suite("Interop: a kad node and a keepalived 2.2.7 node serve one virtual router", .serialized)
    struct KeepalivedInteropTests {
        static func keepalivedConfig(priority: Int) -> String {
            """
            global_defs {
                router_id kadinterop
            }
            vrrp_instance VI_1 {
                state BACKUP
                interface eth0
                virtual_router_id 51
                version 3
                priority \(priority)
                advert_int 0.1
                virtual_ipaddress {
                    192.0.2.100/24
                }
            }
            """
        }

        static func kadConfig(priority: UInt8) -> VirtualRouterConfiguration {
            var c = VirtualRouterConfiguration(
                name: "VI_1", virtualRouterID: 51, version: .v3, interface: "eth0",
                primaryAddress: IPAddress("192.0.2.1")!,
                addresses: [VirtualAddress(IPAddress("192.0.2.100")!, prefixLength: 24)])
            c.priority = priority
            c.advertisementInterval = 10
            return c
        }


        func available() -> Bool {
            guard Integration.available() else { return false }
            if KeepalivedPeer.binary == nil {
                if Integration.required {
                    Issue.record("keepalived is not installed but KAD_REQUIRE_INTEGRATION=1 (Scripts/test.sh installs it)")
                } else {
                    print("skipped: keepalived is not installed (apt-get install keepalived)")
                }
                return false
            }
            return true
        }

        @Test("kad (150) is master over keepalived (100); kad's priority 0 hands the VIP to keepalived within about Skew_Time")
        func kadMaster() async throws {
            guard available() else { return }
            let lan = try TestLAN(nodes: 2)
            defer { lan.remove() }
            let keepalived = try KeepalivedPeer(namespace: lan.nodes[1], config: Self.keepalivedConfig(priority: 100))
            defer { keepalived.stop() }
            // keepalived's start-up takes a while on a loaded machine: it must be running as
            // BACKUP before kad starts, or the handover below is timed from a peer not yet there.
            guard await keepalived.waitForLog("Entering BACKUP STATE") else { return }
            let kad = try LinuxNode(namespace: lan.path(0), router: Self.kadConfig(priority: 150))
            kad.start()
            #expect(await waitUntil("kad taking the VIP", within: .seconds(5)) { lan.holds(0, "192.0.2.100") } != nil)
            try await Task.sleep(for: .seconds(1))
            #expect(lan.holds(0, "192.0.2.100") && !lan.holds(1, "192.0.2.100"), "keepalived accepted kad's adverts and stayed BACKUP")
            let router = await kad.runner.snapshot().engine.routers[0]
            #expect(router.state == .master)
            #expect(router.counters.totalDrops == 0)
            kad.runner.submit(.shutdown)
            let handover = await waitUntil("keepalived taking the VIP", within: .seconds(3)) { lan.holds(1, "192.0.2.100") }
            print("kad -> keepalived priority-0 handover: \(handover.map { "\($0)" } ?? "-") (Skew_Time 60.9 ms)")
            #expect(handover != nil && handover! < .seconds(1), "keepalived's log:\n\(keepalived.log)")
            await kad.stop()
        }

        @Test("keepalived (150) is master over kad (100); kad stays BACKUP, accepts its adverts, and takes over when it stops")
        func keepalivedMaster() async throws {
            guard available() else { return }
            let lan = try TestLAN(nodes: 2)
            defer { lan.remove() }
            let keepalived = try KeepalivedPeer(namespace: lan.nodes[1], config: Self.keepalivedConfig(priority: 150))
            defer { keepalived.stop() }
            #expect(await waitUntil("keepalived taking the VIP", within: .seconds(5)) { lan.holds(1, "192.0.2.100") } != nil)
            let kad = try LinuxNode(namespace: lan.path(0), router: Self.kadConfig(priority: 100))
            kad.start()
            try await Task.sleep(for: .seconds(1))
            let router = await kad.runner.snapshot().engine.routers[0]
            #expect(router.state == .backup)
            #expect(router.masterAddress == IPAddress("192.0.2.2"))
            #expect(router.counters.advertisementsReceived > 5 && router.counters.totalDrops == 0)
            #expect(router.counters.received(.pseudoHeader) == router.counters.advertisementsReceived)
            #expect(!lan.holds(0, "192.0.2.100"))
            keepalived.stop()
            let takeover = await waitUntil("kad taking the VIP", within: .seconds(3)) { lan.holds(0, "192.0.2.100") }
            print("keepalived -> kad handover, measured from keepalived's exit: \(takeover.map { "\($0)" } ?? "-")")
            #expect(takeover != nil && takeover! < .seconds(1))
            await kad.stop()
        }
    }
}
