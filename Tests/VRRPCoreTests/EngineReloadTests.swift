import Testing
@testable import VRRPCore

/// Reload (SIGHUP): instances matched as keepalived matches them keep their state.
@Suite("Engine reload")
struct EngineReloadTests {
    func started(_ configs: [VirtualRouterConfiguration]) throws -> VRRPEngine {
        var e = try VRRPEngine(routers: configs)
        _ = e.handle(.startup, now: .zero)
        while e.routers.contains(where: { $0.state == .backup }), let d = e.nextDeadline { _ = e.handle(.timerFired, now: d) }
        return e
    }

    @Test("a matched MASTER keeps its state under a new name, and only the changed addresses are applied")
    func matchedKeepsState() throws {
        var e = try started([T.config("VI_1", vips: ["192.0.2.100", "192.0.2.101"])])
        let deadline = e.nextDeadline
        let renamed = T.config("VI_renamed", vips: ["192.0.2.101", "192.0.2.102"])
        let out = try e.reload(routers: [renamed], syncGroups: [], now: .seconds(4))
        #expect(e.routers[0].state == .master)
        #expect(e.routers[0].configuration.name == "VI_renamed")
        #expect(e.nextDeadline == deadline, "the advert timer is not restarted")
        #expect(!out.contains { if case .router(_, .transition) = $0 { true } else { false } })
        #expect(out.contains(.router(0, .removeAddresses([VirtualAddress(T.ip("192.0.2.100"), prefixLength: 24)]))))
        #expect(out.contains(.router(0, .addAddresses([VirtualAddress(T.ip("192.0.2.102"), prefixLength: 24)]))))
        #expect(e.routers[0].counters.transitions(to: .master) == 1)
    }

    @Test("a removed instance resigns with priority 0, removes its addresses and stops; a new one starts")
    func removedAndAdded() throws {
        var e = try started([T.config("VI_1", vrid: 51)])
        _ = e.handle(.interfaceChanged("eth1", up: false), now: .seconds(4))
        let newcomer = T.config("VI_2", vrid: 52, primary: "198.51.100.1", vips: ["198.51.100.100"], interface: "eth1")
        let out = try e.reload(routers: [newcomer], syncGroups: [], now: .seconds(5))
        let old = T.config("VI_1", vrid: 51)
        let retired = out.compactMap { a -> VRRPAction? in if case .retired(let c, let x) = a, c.name == "VI_1" { return x } else { return nil } }
        #expect(retired.first == .sendAdvertisement(try VirtualRouter(configuration: old).advertisement(priority: 0),
                                                    destination: T.ip("224.0.0.18"), checksumForm: .messageOnly))
        #expect(retired.last == .transition(from: .master, to: .stop, reason: .shutdown))
        #expect(e.routers.count == 1)
        // The newcomer learned that eth1 is down before starting: FAULT, not BACKUP.
        #expect(e.routers[0].state == .fault)
        #expect(e.index(of: "VI_2") == 0 && e.index(of: "VI_1") == nil)
        // Packets for the removed VRID are now unrouted.
        let drop = e.handle(.packet(T.advert(priority: 100, vrid: 51), interface: "eth0"), now: .seconds(6))
        #expect(drop == [.unrouted(.unknownVirtualRouter, interface: "eth0", source: T.ip("192.0.2.2"))])
    }

    @Test("changing what identifies an instance (here the VRID) replaces it rather than matching it")
    func keyChange() throws {
        var e = try started([T.config("VI_1", vrid: 51)])
        let out = try e.reload(routers: [T.config("VI_1", vrid: 61)], syncGroups: [], now: .seconds(5))
        #expect(out.contains { if case .retired(_, .transition(.master, .stop, _)) = $0 { true } else { false } })
        #expect(e.routers[0].state == .backup)
    }

    @Test("an invalid reload is refused and the engine keeps running the old configuration")
    func invalid() throws {
        var e = try started([T.config("VI_1")])
        let before = e.routers[0].state
        #expect(throws: VRRPConfigurationError.self) {
            _ = try e.reload(routers: [T.config("A", vrid: 7), T.config("B", vrid: 7)], syncGroups: [], now: .seconds(5))
        }
        #expect(e.routers.count == 1 && e.routers[0].state == before && e.routers[0].configuration.name == "VI_1")
    }

    @Test("the runner reloads between two inputs and executes the retired router's last actions")
    func runnerReload() async throws {
        let clock = ManualClock()
        let ports = Recorder()
        let runner = VRRPRunner(engine: try VRRPEngine(routers: [T.config(priority: 255)]), clock: clock,
                                transport: ports, addressPlane: ports, announcer: ports)
        let loop = Task { await runner.run() }
        runner.submit(.startup)
        await eventually("MASTER") { ports.entries.count == 3 }
        await #expect(throws: VRRPConfigurationError.self) {
            try await runner.reload(routers: [T.config(priority: 0)], syncGroups: [])
        }
        try await runner.reload(routers: [], syncGroups: [])
        await eventually("the retirement") { ports.entries.count == 6 }
        #expect(ports.entries.suffix(3) == ["send eth0 192.0.2.1->224.0.0.18 vrid 51 prio 0",
                                            "cancel announcements [192.0.2.100] eth0", "remove [192.0.2.100/24] eth0"])
        runner.stop()
        await loop.value
    }
}
