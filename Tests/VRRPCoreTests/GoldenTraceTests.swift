import Testing
import VRRPCore

// Golden traces: the classic VRRP scenarios, run in the simulation on a perfect wire
// (no loss, zero delay), with the expected trace written out line by line. Every time is
// derived from the RFC formulas in the comments; kad's rounding rule keeps Skew_Time
// exact to the nanosecond (VRRPTimers), so these are exact values, not approximations.
//
// v2, A = 1 s (RFC 3768 §6.1):
//   Skew_Time = (256 − P) / 256 s,  Master_Down_Interval = 3 × A + Skew_Time
//   P = 150: skew = 106/256 = 0.4140625 s  → MDI = 3.4140625 s
//   P = 100: skew = 156/256 = 0.609375 s   → MDI = 3.609375 s
// v3, A = 10 cs (RFC 9568 §6.1):
//   Skew_Time = (256 − P) × A / 256,  MDI = 3 × A + Skew_Time
//   P = 150: skew = 106 × 100 ms / 256 = 41.40625 ms → MDI = 341.40625 ms
//   P = 100: skew = 156 × 100 ms / 256 = 60.9375 ms  → MDI = 360.9375 ms
//
// Events at one instant run protocol first (timers, packets, in scheduling order), then
// injected faults; on a zero-delay wire a packet arrives at the instant it is sent.

/// The two-router world of the classic scenarios: r1 192.0.2.1 and r2 192.0.2.2 on one
/// segment, VRID 51, VIP 192.0.2.100/24.
struct ClassicPair {
    var sim = Simulation(seed: 1)
    var r1 = 0
    var r2 = 0

    init(p1: UInt8, p2: UInt8, version: VRRPVersion = .v2, interval: UInt16 = 100,
         start1: VRRPInstant = .zero, start2: VRRPInstant = .zero,
         configure: (inout VirtualRouterConfiguration, inout VirtualRouterConfiguration) -> Void = { _, _ in }) throws {
        let lan = sim.addSegment("lan")
        var a = VirtualRouterConfiguration(name: "VI_1", virtualRouterID: 51, version: version, interface: "eth0",
                                           primaryAddress: IPAddress("192.0.2.1")!,
                                           addresses: [VirtualAddress(IPAddress("192.0.2.100")!, prefixLength: 24)])
        a.priority = p1
        a.advertisementInterval = interval
        var b = a
        b.primaryAddress = IPAddress("192.0.2.2")!
        b.priority = p2
        configure(&a, &b)
        r1 = try sim.addNode("r1", routers: [a], interfaces: ["eth0": lan], startAt: start1)
        r2 = try sim.addNode("r2", routers: [b], interfaces: ["eth0": lan], startAt: start2)
    }
}

fileprivate func ms(_ value: Double) -> VRRPInstant { VRRPInstant(nanoseconds: Int64((value * 1_000_000).rounded())) }

/// Compares the trace between `from` and `through` with `expected` (one line each).
fileprivate func expectTrace(_ sim: Simulation, _ expected: String, from: VRRPInstant = .zero, through: VRRPInstant,
                 omittingQuietInputs: Bool = false, sourceLocation: SourceLocation = #_sourceLocation) {
    let actual = sim.trace.lines(omittingQuietInputs: omittingQuietInputs, in: from...through)
    let wanted = expected.split(separator: "\n").map(String.init)
    if actual != wanted {
        let firstDifference = Array(zip(actual, wanted)).firstIndex { $0.0 != $0.1 } ?? min(actual.count, wanted.count)
        Issue.record("""
            trace differs at line \(firstDifference + 1)
            expected: \(firstDifference < wanted.count ? wanted[firstDifference] : "<end>")
            actual:   \(firstDifference < actual.count ? actual[firstDifference] : "<end>")
            whole actual trace:
            \(actual.joined(separator: "\n"))
            """, sourceLocation: sourceLocation)
    }
    #expect(sim.violations.isEmpty, "\(sim.violations)", sourceLocation: sourceLocation)
}

@Suite struct GoldenTraceTests {
    /// Cold start, v2, A = 1 s, P = 150 and P = 100: the higher priority's down timer
    /// expires first, at its MDI 3 + 106/256 = 3.4140625 s; it then advertises every second.
    @Test func coldStartHigherPriorityBecomesMasterAtItsMasterDownInterval() throws {
        var w = try ClassicPair(p1: 150, p2: 100)
        w.sim.run(until: .seconds(5))
        expectTrace(w.sim, """
            0ms r1 ! start
            0ms r1 < startup
            0ms r1 > VI_1 INIT -> BACKUP (startup)
            0ms r2 ! start
            0ms r2 < startup
            0ms r2 > VI_1 INIT -> BACKUP (startup)
            3414.0625ms r1 < timer
            3414.0625ms r1 > VI_1 send advert prio 150 to 224.0.0.18
            3414.0625ms r1 > VI_1 add addresses 192.0.2.100/24
            3414.0625ms r1 > VI_1 announce 192.0.2.100 x5
            3414.0625ms r1 > VI_1 BACKUP -> MASTER (master down timer expired)
            3414.0625ms r2 < eth0 advert from 192.0.2.1 vrid 51 prio 150
            4414.0625ms r1 < timer
            4414.0625ms r1 > VI_1 send advert prio 150 to 224.0.0.18
            4414.0625ms r2 < eth0 advert from 192.0.2.1 vrid 51 prio 150
            """, through: .seconds(5))
        // r2 re-armed its down timer with the last advert: 4414.0625 + 3609.375 ms.
        #expect(w.sim.engine(w.r2).routers[0].masterDownDeadline == ms(8023.4375))
        #expect(w.sim.installedAddresses(w.r1) == [IPAddress("192.0.2.100")!])
        #expect(w.sim.installedAddresses(w.r2).isEmpty)
    }

    /// The master crashes silently at 10 s. Its last advert left at 9414.0625 ms
    /// (3414.0625 + 6 × 1000), so the backup (P = 100) takes over at
    /// 9414.0625 + 3609.375 = 13023.4375 ms: 3023.4375 ms after the crash, inside
    /// (MDI − A, MDI] = (2609.375, 3609.375] ms. The crashed node keeps its address.
    @Test func masterCrashIsTakenOverAtLastAdvertPlusMasterDownInterval() throws {
        var w = try ClassicPair(p1: 150, p2: 100)
        w.sim.crash(w.r1, at: .seconds(10))
        w.sim.run(until: .seconds(15))
        expectTrace(w.sim, """
            9414.0625ms r1 < timer
            9414.0625ms r1 > VI_1 send advert prio 150 to 224.0.0.18
            10000ms r1 ! crash
            13023.4375ms r2 < timer
            13023.4375ms r2 > VI_1 send advert prio 100 to 224.0.0.18
            13023.4375ms r2 > VI_1 add addresses 192.0.2.100/24
            13023.4375ms r2 > VI_1 announce 192.0.2.100 x5
            13023.4375ms r2 > VI_1 BACKUP -> MASTER (master down timer expired)
            14023.4375ms r2 < timer
            14023.4375ms r2 > VI_1 send advert prio 100 to 224.0.0.18
            """, from: .seconds(9), through: .seconds(15), omittingQuietInputs: true)
        #expect(w.sim.installedAddresses(w.r1) == [IPAddress("192.0.2.100")!], "a crash leaves the address behind")
        let m = try #require(w.sim.measurements.first)
        #expect(m.kind == .crashTakeover && m.elapsed == .nanoseconds(3_023_437_500))
        #expect(m.window == .nanoseconds(2_609_375_000)...(.nanoseconds(3_609_375_000)))
    }

    /// Graceful shutdown at 10 s: the master sends priority 0; the backup sets its down
    /// timer to Skew_Time = 156/256 s and takes over at 10000 + 609.375 = 10609.375 ms.
    @Test func gracefulShutdownHandsOverAfterSkewTime() throws {
        var w = try ClassicPair(p1: 150, p2: 100)
        w.sim.shutdown(w.r1, at: .seconds(10))
        w.sim.run(until: .seconds(12))
        expectTrace(w.sim, """
            9414.0625ms r1 < timer
            9414.0625ms r1 > VI_1 send advert prio 150 to 224.0.0.18
            9414.0625ms r2 < eth0 advert from 192.0.2.1 vrid 51 prio 150
            10000ms r1 ! shutdown
            10000ms r1 < shutdown
            10000ms r1 > VI_1 send advert prio 0 to 224.0.0.18
            10000ms r1 > VI_1 remove addresses 192.0.2.100/24
            10000ms r1 > VI_1 MASTER -> STOP (shutdown)
            10000ms r2 < eth0 advert from 192.0.2.1 vrid 51 prio 0
            10609.375ms r2 < timer
            10609.375ms r2 > VI_1 send advert prio 100 to 224.0.0.18
            10609.375ms r2 > VI_1 add addresses 192.0.2.100/24
            10609.375ms r2 > VI_1 announce 192.0.2.100 x5
            10609.375ms r2 > VI_1 BACKUP -> MASTER (master down timer expired)
            11609.375ms r2 < timer
            11609.375ms r2 > VI_1 send advert prio 100 to 224.0.0.18
            """, from: .seconds(9), through: .seconds(12))
        let m = try #require(w.sim.measurements.first)
        #expect(m.kind == .priorityZeroHandover && m.elapsed == .nanoseconds(609_375_000))
    }

    /// r2 (P = 100) is master since 3609.375 ms; r1 (P = 150, preempt) joins at 10 s.
    /// r1 discards r2's lower adverts (10609.375, 11609.375, 12609.375 ms), so its down
    /// timer runs out at 10000 + 3414.0625 = 13414.0625 ms and it preempts; r2 hears
    /// priority 150 at once (zero delay) and steps down.
    @Test func higherPriorityRouterJoiningPreempts() throws {
        var w = try ClassicPair(p1: 150, p2: 100, start1: .seconds(10))
        w.sim.run(until: .seconds(14))
        expectTrace(w.sim, """
            10000ms r1 ! start
            10000ms r1 < startup
            10000ms r1 > VI_1 INIT -> BACKUP (startup)
            10609.375ms r2 < timer
            10609.375ms r2 > VI_1 send advert prio 100 to 224.0.0.18
            10609.375ms r1 < eth0 advert from 192.0.2.2 vrid 51 prio 100
            10609.375ms r1 > VI_1 received lower priority 100 advert from 192.0.2.2, discarding
            11609.375ms r2 < timer
            11609.375ms r2 > VI_1 send advert prio 100 to 224.0.0.18
            11609.375ms r1 < eth0 advert from 192.0.2.2 vrid 51 prio 100
            11609.375ms r1 > VI_1 received lower priority 100 advert from 192.0.2.2, discarding
            12609.375ms r2 < timer
            12609.375ms r2 > VI_1 send advert prio 100 to 224.0.0.18
            12609.375ms r1 < eth0 advert from 192.0.2.2 vrid 51 prio 100
            12609.375ms r1 > VI_1 received lower priority 100 advert from 192.0.2.2, discarding
            13414.0625ms r1 < timer
            13414.0625ms r1 > VI_1 send advert prio 150 to 224.0.0.18
            13414.0625ms r1 > VI_1 add addresses 192.0.2.100/24
            13414.0625ms r1 > VI_1 announce 192.0.2.100 x5
            13414.0625ms r1 > VI_1 BACKUP -> MASTER (master down timer expired)
            13414.0625ms r2 < eth0 advert from 192.0.2.1 vrid 51 prio 150
            13414.0625ms r2 > VI_1 remove addresses 192.0.2.100/24
            13414.0625ms r2 > VI_1 MASTER -> BACKUP (higher priority 150 advert from 192.0.2.1)
            """, from: .seconds(10), through: .seconds(14), omittingQuietInputs: true)
    }

    /// The same with `nopreempt` on r1: it accepts r2's adverts (each resets its down
    /// timer to arrival + 3414.0625 ms) and stays BACKUP.
    @Test func nopreemptKeepsTheLowerPriorityMaster() throws {
        var w = try ClassicPair(p1: 150, p2: 100, start1: .seconds(10)) { a, _ in a.preempt = false }
        w.sim.run(until: .seconds(16))
        expectTrace(w.sim, """
            10000ms r1 ! start
            10000ms r1 < startup
            10000ms r1 > VI_1 INIT -> BACKUP (startup)
            10609.375ms r2 < timer
            10609.375ms r2 > VI_1 send advert prio 100 to 224.0.0.18
            10609.375ms r1 < eth0 advert from 192.0.2.2 vrid 51 prio 100
            11609.375ms r2 < timer
            11609.375ms r2 > VI_1 send advert prio 100 to 224.0.0.18
            11609.375ms r1 < eth0 advert from 192.0.2.2 vrid 51 prio 100
            12609.375ms r2 < timer
            12609.375ms r2 > VI_1 send advert prio 100 to 224.0.0.18
            12609.375ms r1 < eth0 advert from 192.0.2.2 vrid 51 prio 100
            13609.375ms r2 < timer
            13609.375ms r2 > VI_1 send advert prio 100 to 224.0.0.18
            13609.375ms r1 < eth0 advert from 192.0.2.2 vrid 51 prio 100
            14609.375ms r2 < timer
            14609.375ms r2 > VI_1 send advert prio 100 to 224.0.0.18
            14609.375ms r1 < eth0 advert from 192.0.2.2 vrid 51 prio 100
            15609.375ms r2 < timer
            15609.375ms r2 > VI_1 send advert prio 100 to 224.0.0.18
            15609.375ms r1 < eth0 advert from 192.0.2.2 vrid 51 prio 100
            """, from: .seconds(10), through: .seconds(16))
        #expect(w.sim.engine(w.r1).routers[0].masterDownDeadline == ms(15609.375 + 3414.0625))
        #expect(w.sim.state(w.r1, "VI_1") == .backup && w.sim.state(w.r2, "VI_1") == .master)
    }

    /// Equal priorities (100 and 100): both down timers expire at 3609.375 ms. r1's timer
    /// was scheduled first, so it goes MASTER first; r2's timer fires before r1's advert
    /// arrives, so r2 goes MASTER too. r2 then hears 100 from the lower address 192.0.2.1:
    /// it wins the tie, re-advertises at once (RFC 9568) and re-announces; r1 hears 100
    /// from the higher address 192.0.2.2 and steps down. The higher address wins.
    @Test func equalPrioritiesAreBrokenByTheHigherAddress() throws {
        var w = try ClassicPair(p1: 100, p2: 100)
        w.sim.run(until: .seconds(5))
        expectTrace(w.sim, """
            3609.375ms r1 < timer
            3609.375ms r1 > VI_1 send advert prio 100 to 224.0.0.18
            3609.375ms r1 > VI_1 add addresses 192.0.2.100/24
            3609.375ms r1 > VI_1 announce 192.0.2.100 x5
            3609.375ms r1 > VI_1 BACKUP -> MASTER (master down timer expired)
            3609.375ms r2 < timer
            3609.375ms r2 > VI_1 send advert prio 100 to 224.0.0.18
            3609.375ms r2 > VI_1 add addresses 192.0.2.100/24
            3609.375ms r2 > VI_1 announce 192.0.2.100 x5
            3609.375ms r2 > VI_1 BACKUP -> MASTER (master down timer expired)
            3609.375ms r2 < eth0 advert from 192.0.2.1 vrid 51 prio 100
            3609.375ms r2 > VI_1 received advert with priority 100 from 192.0.2.1, which loses to ours; forcing new election
            3609.375ms r2 > VI_1 send advert prio 100 to 224.0.0.18
            3609.375ms r2 > VI_1 announce 192.0.2.100 x5
            3609.375ms r1 < eth0 advert from 192.0.2.2 vrid 51 prio 100
            3609.375ms r1 > VI_1 remove addresses 192.0.2.100/24
            3609.375ms r1 > VI_1 MASTER -> BACKUP (higher priority 100 advert from 192.0.2.2)
            3609.375ms r1 < eth0 advert from 192.0.2.2 vrid 51 prio 100
            4609.375ms r2 < timer
            4609.375ms r2 > VI_1 send advert prio 100 to 224.0.0.18
            4609.375ms r1 < eth0 advert from 192.0.2.2 vrid 51 prio 100
            """, from: .seconds(1), through: .seconds(5))
        #expect(w.sim.masters(segment: 0, virtualRouterID: 51) == [w.r2])
    }

    /// The owner (priority 255) goes MASTER at startup without waiting. Its first advert
    /// leaves before r2 starts at the same instant (packets before faults), so r2 first
    /// hears it at 1000 ms.
    @Test func ownerGoesMasterAtOnce() throws {
        var w = try ClassicPair(p1: 255, p2: 100)
        w.sim.run(until: .seconds(1))
        expectTrace(w.sim, """
            0ms r1 ! start
            0ms r1 < startup
            0ms r1 > VI_1 send advert prio 255 to 224.0.0.18
            0ms r1 > VI_1 add addresses 192.0.2.100/24
            0ms r1 > VI_1 announce 192.0.2.100 x5
            0ms r1 > VI_1 INIT -> MASTER (address owner)
            0ms r2 ! start
            0ms r2 < startup
            0ms r2 > VI_1 INIT -> BACKUP (startup)
            1000ms r1 < timer
            1000ms r1 > VI_1 send advert prio 255 to 224.0.0.18
            1000ms r2 < eth0 advert from 192.0.2.1 vrid 51 prio 255
            """, through: .seconds(1))
    }

    /// An owner that joins later takes over at once, even with `nopreempt` (the owner
    /// always preempts): r2 (master since 3609.375 ms) hears 255 and steps down.
    @Test func ownerJoiningLaterWinsEvenWithNopreempt() throws {
        var w = try ClassicPair(p1: 255, p2: 100, start1: .seconds(10)) { a, _ in a.preempt = false }
        w.sim.run(until: .seconds(10))
        expectTrace(w.sim, """
            9609.375ms r2 < timer
            9609.375ms r2 > VI_1 send advert prio 100 to 224.0.0.18
            10000ms r1 ! start
            10000ms r1 < startup
            10000ms r1 > VI_1 send advert prio 255 to 224.0.0.18
            10000ms r1 > VI_1 add addresses 192.0.2.100/24
            10000ms r1 > VI_1 announce 192.0.2.100 x5
            10000ms r1 > VI_1 INIT -> MASTER (address owner)
            10000ms r2 < eth0 advert from 192.0.2.1 vrid 51 prio 255
            10000ms r2 > VI_1 remove addresses 192.0.2.100/24
            10000ms r2 > VI_1 MASTER -> BACKUP (higher priority 255 advert from 192.0.2.1)
            """, from: .seconds(9), through: .seconds(10))
    }

    /// VRRPv3 with A = 10 cs: r1 (P = 150) is MASTER at its MDI 341.40625 ms and then
    /// advertises every 100 ms; it crashes at 1000 ms after its advert at 941.40625 ms;
    /// r2 (P = 100, MDI 360.9375 ms) takes over at 941.40625 + 360.9375 = 1302.34375 ms,
    /// 302.34375 ms after the crash, inside (MDI − A, MDI] = (260.9375, 360.9375] ms.
    @Test func v3WithTenCentisecondIntervalFailsOverInUnderHalfASecond() throws {
        var w = try ClassicPair(p1: 150, p2: 100, version: .v3, interval: 10)
        w.sim.crash(w.r1, at: .seconds(1))
        w.sim.run(until: .seconds(1.45))
        expectTrace(w.sim, """
            0ms r1 ! start
            0ms r1 < startup
            0ms r1 > VI_1 INIT -> BACKUP (startup)
            0ms r2 ! start
            0ms r2 < startup
            0ms r2 > VI_1 INIT -> BACKUP (startup)
            341.40625ms r1 < timer
            341.40625ms r1 > VI_1 send advert prio 150 to 224.0.0.18
            341.40625ms r1 > VI_1 add addresses 192.0.2.100/24
            341.40625ms r1 > VI_1 announce 192.0.2.100 x5
            341.40625ms r1 > VI_1 BACKUP -> MASTER (master down timer expired)
            441.40625ms r1 < timer
            441.40625ms r1 > VI_1 send advert prio 150 to 224.0.0.18
            """, through: ms(450), omittingQuietInputs: true)
        expectTrace(w.sim, """
            941.40625ms r1 < timer
            941.40625ms r1 > VI_1 send advert prio 150 to 224.0.0.18
            1000ms r1 ! crash
            1302.34375ms r2 < timer
            1302.34375ms r2 > VI_1 send advert prio 100 to 224.0.0.18
            1302.34375ms r2 > VI_1 add addresses 192.0.2.100/24
            1302.34375ms r2 > VI_1 announce 192.0.2.100 x5
            1302.34375ms r2 > VI_1 BACKUP -> MASTER (master down timer expired)
            1402.34375ms r2 < timer
            1402.34375ms r2 > VI_1 send advert prio 100 to 224.0.0.18
            """, from: ms(900), through: ms(1450), omittingQuietInputs: true)
        #expect(w.sim.measurements.first?.elapsed == .nanoseconds(302_343_750))
    }

    /// A sync group of two instances (VI_1 on lan0, VI_2 on lan1), r1 P = 150, r2 P = 100.
    /// Cold start: both of r1's timers expire at 3414.0625 ms in one timer input; each
    /// waits for the other, then the group goes MASTER together.
    /// At 10 s r1's eth1 goes down: VI_2 faults (its priority-0 advert is lost with the
    /// link) and takes VI_1 into FAULT, which resigns with priority 0 on lan0. r2's VI_1
    /// hears it and its timer expires after Skew_Time (10609.375 ms), but a sync group
    /// goes MASTER only when every member wants to (keepalived 2.x), so it waits for VI_2,
    /// whose last advert came at 9414.0625 ms: 9414.0625 + 3609.375 = 13023.4375 ms.
    @Test func syncGroupMembersFailOverTogether() throws {
        var sim = Simulation(seed: 1)
        let lan0 = sim.addSegment("lan0")
        let lan1 = sim.addSegment("lan1")
        func router(_ name: String, _ vrid: UInt8, _ iface: String, _ ip: String, _ vip: String, _ p: UInt8)
            -> VirtualRouterConfiguration {
            var c = VirtualRouterConfiguration(name: name, virtualRouterID: vrid, interface: iface,
                                               primaryAddress: IPAddress(ip)!,
                                               addresses: [VirtualAddress(IPAddress(vip)!, prefixLength: 24)])
            c.priority = p
            return c
        }
        let group = [SyncGroupConfiguration(name: "G1", members: ["VI_1", "VI_2"])]
        let r1 = try sim.addNode("r1", routers: [router("VI_1", 51, "eth0", "192.0.2.1", "192.0.2.100", 150),
                                                  router("VI_2", 52, "eth1", "10.1.0.1", "10.1.0.100", 150)],
                                 syncGroups: group, interfaces: ["eth0": lan0, "eth1": lan1])
        let r2 = try sim.addNode("r2", routers: [router("VI_1", 51, "eth0", "192.0.2.2", "192.0.2.100", 100),
                                                  router("VI_2", 52, "eth1", "10.1.0.2", "10.1.0.100", 100)],
                                 syncGroups: group, interfaces: ["eth0": lan0, "eth1": lan1])
        sim.setInterface(r1, "eth1", up: false, at: .seconds(10))
        sim.run(until: .seconds(14))
        expectTrace(sim, """
            3414.0625ms r1 < timer
            3414.0625ms r1 > VI_1 waiting for the sync group to become MASTER
            3414.0625ms r1 > VI_2 waiting for the sync group to become MASTER
            3414.0625ms r1 > VI_1 send advert prio 150 to 224.0.0.18
            3414.0625ms r1 > VI_1 add addresses 192.0.2.100/24
            3414.0625ms r1 > VI_1 announce 192.0.2.100 x5
            3414.0625ms r1 > VI_1 BACKUP -> MASTER (sync group member G1)
            3414.0625ms r1 > VI_2 send advert prio 150 to 224.0.0.18
            3414.0625ms r1 > VI_2 add addresses 10.1.0.100/24
            3414.0625ms r1 > VI_2 announce 10.1.0.100 x5
            3414.0625ms r1 > VI_2 BACKUP -> MASTER (sync group member G1)
            3414.0625ms r1 > group G1 BACKUP -> MASTER
            """, from: .seconds(1), through: .seconds(4), omittingQuietInputs: true)
        expectTrace(sim, """
            9414.0625ms r1 < timer
            9414.0625ms r1 > VI_1 send advert prio 150 to 224.0.0.18
            9414.0625ms r1 > VI_2 send advert prio 150 to 224.0.0.18
            10000ms r1 ! link eth1 down
            10000ms r1 < interface eth1 down
            10000ms r1 > VI_2 send advert prio 0 to 224.0.0.18
            10000ms r1 > VI_2 remove addresses 10.1.0.100/24
            10000ms r1 > VI_2 MASTER -> FAULT (fault: interface eth1 down)
            10000ms r1 > VI_1 send advert prio 0 to 224.0.0.18
            10000ms r1 > VI_1 remove addresses 192.0.2.100/24
            10000ms r1 > VI_1 MASTER -> FAULT (fault: sync group member VI_2 in FAULT)
            10000ms r1 > group G1 MASTER -> FAULT
            10609.375ms r2 < timer
            10609.375ms r2 > VI_1 waiting for the sync group to become MASTER
            13023.4375ms r2 < timer
            13023.4375ms r2 > VI_2 waiting for the sync group to become MASTER
            13023.4375ms r2 > VI_1 send advert prio 100 to 224.0.0.18
            13023.4375ms r2 > VI_1 add addresses 192.0.2.100/24
            13023.4375ms r2 > VI_1 announce 192.0.2.100 x5
            13023.4375ms r2 > VI_1 BACKUP -> MASTER (sync group member G1)
            13023.4375ms r2 > VI_2 send advert prio 100 to 224.0.0.18
            13023.4375ms r2 > VI_2 add addresses 10.1.0.100/24
            13023.4375ms r2 > VI_2 announce 10.1.0.100 x5
            13023.4375ms r2 > VI_2 BACKUP -> MASTER (sync group member G1)
            13023.4375ms r2 > group G1 BACKUP -> MASTER
            13023.4375ms r1 < eth0 advert from 192.0.2.2 vrid 51 prio 100
            13023.4375ms r1 > VI_1 drop from 192.0.2.2 (instance is not running)
            """, from: .seconds(9), through: .seconds(13.5), omittingQuietInputs: true)
        #expect(sim.engine(r2).groupState("G1") == .master)
    }

    /// A graceful shutdown of a sync-group master reaches both of r2's members: both
    /// timers expire after Skew_Time (10609.375 ms) in one input and the group moves at once.
    @Test func syncGroupGracefulShutdownHandsOverAfterSkewTime() throws {
        var sim = Simulation(seed: 1)
        let lan0 = sim.addSegment("lan0")
        let lan1 = sim.addSegment("lan1")
        func pair(_ p: UInt8, _ host: UInt32) -> [VirtualRouterConfiguration] {
            var a = VirtualRouterConfiguration(name: "VI_1", virtualRouterID: 51, interface: "eth0",
                                               primaryAddress: IPAddress(ipv4: 0x0A00_0000 | host),
                                               addresses: [VirtualAddress(IPAddress("192.0.2.100")!, prefixLength: 24)])
            a.priority = p
            var b = VirtualRouterConfiguration(name: "VI_2", virtualRouterID: 52, interface: "eth1",
                                               primaryAddress: IPAddress(ipv4: 0x0A01_0000 | host),
                                               addresses: [VirtualAddress(IPAddress("10.1.0.100")!, prefixLength: 24)])
            b.priority = p
            return [a, b]
        }
        let group = [SyncGroupConfiguration(name: "G1", members: ["VI_1", "VI_2"])]
        let r1 = try sim.addNode("r1", routers: pair(150, 1), syncGroups: group, interfaces: ["eth0": lan0, "eth1": lan1])
        try sim.addNode("r2", routers: pair(100, 2), syncGroups: group, interfaces: ["eth0": lan0, "eth1": lan1])
        sim.shutdown(r1, at: .seconds(10))
        sim.run(until: .seconds(11))
        expectTrace(sim, """
            10000ms r1 ! shutdown
            10000ms r1 < shutdown
            10000ms r1 > VI_1 send advert prio 0 to 224.0.0.18
            10000ms r1 > VI_1 remove addresses 192.0.2.100/24
            10000ms r1 > VI_1 MASTER -> STOP (shutdown)
            10000ms r1 > VI_2 send advert prio 0 to 224.0.0.18
            10000ms r1 > VI_2 remove addresses 10.1.0.100/24
            10000ms r1 > VI_2 MASTER -> STOP (shutdown)
            10000ms r1 > group G1 MASTER -> STOP
            10609.375ms r2 < timer
            10609.375ms r2 > VI_1 waiting for the sync group to become MASTER
            10609.375ms r2 > VI_2 waiting for the sync group to become MASTER
            10609.375ms r2 > VI_1 send advert prio 100 to 224.0.0.18
            10609.375ms r2 > VI_1 add addresses 192.0.2.100/24
            10609.375ms r2 > VI_1 announce 192.0.2.100 x5
            10609.375ms r2 > VI_1 BACKUP -> MASTER (sync group member G1)
            10609.375ms r2 > VI_2 send advert prio 100 to 224.0.0.18
            10609.375ms r2 > VI_2 add addresses 10.1.0.100/24
            10609.375ms r2 > VI_2 announce 10.1.0.100 x5
            10609.375ms r2 > VI_2 BACKUP -> MASTER (sync group member G1)
            10609.375ms r2 > group G1 BACKUP -> MASTER
            """, from: .seconds(10), through: .seconds(11), omittingQuietInputs: true)
        #expect(sim.measurements.count == 2 && sim.measurements.allSatisfy { $0.elapsed == .nanoseconds(609_375_000) })
    }
}

@Suite("Simulation: reloads")
struct SimulationReloadTests {
    @Test("reloading both routers every 250 ms, during the election and after it, changes nothing on the wire")
    func reloadStorm() throws {
        var quiet = try ClassicPair(p1: 150, p2: 100)
        var stormy = try ClassicPair(p1: 150, p2: 100)
        var t = VRRPInstant.zero
        while t < .seconds(30) {
            t = t + .milliseconds(250)
            stormy.sim.reload(stormy.r1, at: t)
            stormy.sim.reload(stormy.r2, at: t)
        }
        quiet.sim.run(until: .seconds(30))
        stormy.sim.run(until: .seconds(30))
        // The same transitions at the same instants, and the same number of adverts.
        let transitions: (Simulation) -> [String] = { sim in
            sim.trace.lines().filter { $0.contains(" -> ") }
        }
        #expect(transitions(stormy.sim) == transitions(quiet.sim))
        #expect(transitions(quiet.sim).contains("3414.0625ms r1 > VI_1 BACKUP -> MASTER (master down timer expired)"))
        #expect(stormy.sim.statistics.advertisementsSent == quiet.sim.statistics.advertisementsSent)
        #expect(stormy.sim.violations.isEmpty)
        #expect(stormy.sim.trace.lines().filter { $0.hasSuffix("reload") }.count == 240)
    }
}
