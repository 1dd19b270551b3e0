import Foundation
import IntegrationSupport
import Testing
import VRRPCore
@testable import NetLinux

/// One kad VRRP node: VRRPCore's runner over NetLinux's transport, address plane and
/// announcer, all opened inside a network namespace.
final class LinuxNode: @unchecked Sendable {
    let runner: VRRPRunner<SuspendingClock, LinuxVRRPTransport, LinuxAddressPlane, LinuxAnnouncer<SuspendingClock>>
    let transport: LinuxVRRPTransport
    let announcer: LinuxAnnouncer<SuspendingClock>
    var loop: Task<Void, Never>?

    init(namespace path: String, router: VirtualRouterConfiguration) throws {
        transport = LinuxVRRPTransport()
        let socket = try NetworkNamespace.perform(inNamespaceAt: path) {
            try VRRPSocket(VRRPSocketConfiguration(interface: router.interface, family: router.family))
        }
        try transport.add(socket)
        announcer = LinuxAnnouncer(networkNamespace: path)
        runner = VRRPRunner(engine: try VRRPEngine(routers: [router]), clock: SuspendingClock(), transport: transport,
                            addressPlane: try LinuxAddressPlane(inNamespaceAt: path), announcer: announcer)
        let runner = self.runner
        try transport.startReceiving { runner.submit($0) }
    }

    func start() {
        runner.submit(.startup)
        let runner = self.runner
        loop = Task { await runner.run() }
    }

    func stop() async {
        runner.stop()
        await loop?.value
        transport.close()
        announcer.close()
    }
}

extension HostAccessSuites {
    @Suite("End to end: VRRPCore over NetLinux in namespaces", .serialized)
    struct EndToEndTests {

        @Test("two nodes elect a master that installs the VIP; a graceful stop hands it over within Skew_Time plus scheduling")
        func electionAndHandover() async throws {
            guard Integration.available() else { return }
            let lan = try TestLAN(nodes: 2)
            defer { lan.remove() }
            // VRRPv3 over IPv4, 10 cs interval. P=150: MDI = 300 ms + 106 × 100 ms / 256 = 341.4 ms;
            // the P=100 backup's Skew_Time = 156 × 100 ms / 256 = 60.9 ms.
            func config(_ i: Int, priority: UInt8) -> VirtualRouterConfiguration {
                var c = VirtualRouterConfiguration(
                    name: "VI_1", virtualRouterID: 51, version: .v3, interface: "eth0",
                    primaryAddress: IPAddress("192.0.2.\(i + 1)")!,
                    addresses: [VirtualAddress(IPAddress("192.0.2.100")!, prefixLength: 24)])
                c.priority = priority
                c.advertisementInterval = 10
                c.garp.masterRepeat = 1
                c.garp.masterDelay = .zero
                return c
            }
            let high = try LinuxNode(namespace: lan.path(0), router: config(0, priority: 150))
            let low = try LinuxNode(namespace: lan.path(1), router: config(1, priority: 100))
            low.start()
            high.start()
            let elected = await waitUntil("the P=150 node taking the VIP", within: .seconds(5)) { lan.holds(0, "192.0.2.100") }
            #expect(elected != nil)
            // Let a few adverts flow, then check there is exactly one holder.
            try await Task.sleep(for: .milliseconds(300))
            #expect(lan.holds(0, "192.0.2.100") && !lan.holds(1, "192.0.2.100"))
            let lowState = await low.runner.snapshot().engine.routers[0]
            #expect(lowState.state == .backup)
            #expect(lowState.masterAddress == IPAddress("192.0.2.1"))
            #expect(lowState.counters.advertisementsReceived > 0 && lowState.counters.totalDrops == 0)

            // Graceful stop of the master: priority 0, VIP removed, the backup takes over after Skew_Time.
            high.runner.submit(.shutdown)
            let handover = await waitUntil("the backup taking the VIP", within: .seconds(2)) { lan.holds(1, "192.0.2.100") }
            print("priority-0 handover observed after \(handover.map { "\($0)" } ?? "-") (Skew_Time 60.9 ms)")
            #expect(handover != nil && handover! < .milliseconds(600))
            _ = await waitUntil("the old master dropping the VIP", within: .seconds(1)) { !lan.holds(0, "192.0.2.100") }
            let taken = await low.runner.snapshot().engine.routers[0]
            #expect(taken.state == .master)
            #expect(taken.counters.priorityZeroReceived == 1)
            await high.stop()
            await low.stop()
        }
    }
}
