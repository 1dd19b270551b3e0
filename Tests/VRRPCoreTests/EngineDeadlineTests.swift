import Testing
@testable import VRRPCore

/// The engine keeps its routers' deadlines in a heap instead of scanning every router after
/// each input; whatever the inputs, its earliest must equal the smallest of all routers', and
/// a timer input must reach exactly the routers that are due.
@Suite("Engine earliest deadline")
struct EngineDeadlineTests {
    /// The truth: every router's own next deadline, scanned.
    func scanned(_ e: VRRPEngine) -> VRRPInstant? {
        e.routers.compactMap(\.nextDeadline).min()
    }

    @Test("adverts, timers, interface changes, priority changes and reloads keep it equal to the scanned minimum",
          arguments: [1, 2, 3, 4, 5] as [UInt64])
    func matchesTheScan(seed: UInt64) throws {
        var rng = SimulationRNG(seed: seed)  // seeded, so a failure replays
        let count = 40
        var configs: [VirtualRouterConfiguration] = []
        for i in 0..<count {
            let interval = UInt16(50 + 10 * (i % 7))
            let interface = i % 2 == 0 ? "eth0" : "eth1"
            configs.append(T.config("VI_\(i)", vrid: UInt8(i + 1), priority: UInt8(50 + i), version: .v3,
                                    interval: interval, interface: interface))
        }
        var e = try VRRPEngine(routers: configs)
        var now = VRRPInstant.zero
        _ = e.handle(.startup, now: now)
        #expect(e.nextDeadline == scanned(e))
        for step in 0..<3000 {
            now = now + .milliseconds(Int64.random(in: 0...40, using: &rng))
            let vrid = UInt8.random(in: 1...UInt8(count), using: &rng)
            let input: VRRPEngine.Input
            switch Int.random(in: 0..<100, using: &rng) {
            case 0..<55:
                let priority = UInt8.random(in: 0...255, using: &rng)
                input = .packet(T.advert(from: "192.0.2.\(200 + Int(vrid) % 50)", priority: priority, vrid: vrid,
                                         version: .v3, interval: 50),
                                interface: vrid % 2 == 1 ? "eth0" : "eth1")
            case 55..<85:
                if let d = e.nextDeadline, d > now { now = d }
                input = .timerFired
            case 85..<90:
                input = .interfaceChanged(Bool.random(using: &rng) ? "eth0" : "eth1", up: Bool.random(using: &rng))
            case 90..<97:
                input = .priorityChanged(instance: "VI_\(Int(vrid) - 1)", UInt8.random(in: 1...254, using: &rng))
            default:
                // Reload with one router dropped or restored.
                let keep = configs.filter { _ in Int.random(in: 0..<10, using: &rng) > 0 }
                _ = try e.reload(routers: keep, syncGroups: [], now: now)
                #expect(e.nextDeadline == scanned(e), "after reload at step \(step)")
                continue
            }
            let due = Set(e.routers.indices.filter { (e.routers[$0].nextDeadline ?? .init(nanoseconds: .max)) <= now })
            let out = e.handle(input, now: now)
            #expect(e.nextDeadline == scanned(e), "step \(step): \(input)")
            if case .timerFired = input {
                // Every due router was reached (it has moved its deadline past now), and only those acted.
                #expect(e.routers.allSatisfy { ($0.nextDeadline ?? .init(nanoseconds: .max)) > now }, "step \(step)")
                let acted = Set(out.compactMap { a -> Int? in if case .router(let i, _) = a { i } else { nil } })
                #expect(acted.isSubset(of: due), "step \(step): \(acted.subtracting(due)) acted without being due")
            }
        }
    }
}
