import Testing
import VRRPCore

// MARK: - Random scenarios

/// A random world drawn from a seed: a few routers on one or two segments, random
/// versions, intervals, priorities, preempt, unicast, trackers, sync groups and a lossy,
/// duplicating, delaying (sometimes reordering) network, plus a chaos schedule.
/// `ChaosScenario(seed: N).simulation()` replays seed N exactly.
struct ChaosScenario {
    let seed: UInt64
    /// Misconfigures the routers on lan0 (VRRPv2 with two different passwords, so they
    /// drop each other's adverts): a deliberately broken world, to prove failures surface.
    var sabotage = false
    /// When the chaos stops; the run goes on until ``end`` so that everything settles.
    private(set) var chaosEnd = VRRPInstant.zero
    private(set) var end = VRRPInstant.zero
    private(set) var description = ""

    init(seed: UInt64, sabotage: Bool = false) {
        self.seed = seed
        self.sabotage = sabotage
    }

    func simulation(trace: SimulationTraceLevel = .off, throughCodec: Bool? = nil) -> Simulation {
        var copy = self
        return copy.build(trace: trace, throughCodec: throughCodec)
    }

    /// Runs the scenario; returns the simulation (check `violations`).
    mutating func run(trace: SimulationTraceLevel = .off) -> Simulation {
        var sim = build(trace: trace, throughCodec: nil)
        sim.run(until: end)
        return sim
    }

    mutating func build(trace: SimulationTraceLevel, throughCodec: Bool?) -> Simulation {
        var g = SimulationRNG(seed: seed ^ 0xA5A5_5A5A_C3C3_3C3C)
        let twoSegments = g.chance(0.3)
        let sync = twoSegments && g.chance(0.5)
        let codec = throughCodec ?? g.chance(0.1)
        var sim = Simulation(seed: seed, options: SimulationOptions(trace: trace, throughCodec: codec))
        let nodeCount = g.int(in: 2...4)
        let segmentCount = twoSegments ? 2 : 1
        var longest: UInt16 = 0

        // Per segment: protocol flavour, interval, network.
        struct Flavour {
            var version: VRRPVersion
            var family: IPAddressFamily
            var interval: UInt16
            var vrid: UInt8
            var unicast: Bool
            var checksumForm = VRRPChecksumForm.pseudoHeader
        }
        var flavours: [Flavour] = []
        var text: [String] = []
        for s in 0..<segmentCount {
            let kind = sabotage && s == 0 ? 0 : g.int(in: 0...2)
            let f: Flavour
            switch kind {
            case 0: f = Flavour(version: .v2, family: .ipv4, interval: 100, vrid: UInt8(g.int(in: 1...255)), unicast: false)
            case 1: f = Flavour(version: .v3, family: .ipv4, interval: g.pick([10, 25, 100]), vrid: UInt8(g.int(in: 1...255)), unicast: false)
            default: f = Flavour(version: .v3, family: .ipv6, interval: g.pick([10, 100]), vrid: UInt8(g.int(in: 1...255)), unicast: false)
            }
            var flavour = f
            flavour.unicast = !sync && g.chance(0.2)
            flavour.checksumForm = f.version == .v3 && f.family == .ipv4 && g.chance(0.3) ? .messageOnly : .pseudoHeader
            flavours.append(flavour)
            longest = max(longest, flavour.interval)
            let a = Duration.centiseconds(Int(flavour.interval))
            var faults = SimulationFaultModel()
            faults.loss = g.pick([0, 0, 0.01, 0.05])
            faults.duplication = g.pick([0, 0, 0.02])
            switch g.int(in: 0...2) {
            case 0: break
            case 1: faults.minimumDelay = a / 100; faults.maximumDelay = a / 100
            default: faults.minimumDelay = .zero; faults.maximumDelay = a / 20
            }
            if g.chance(0.1) {
                faults.reordering = 0.05
                faults.reorderDelay = a / 2
            }
            sim.addSegment("lan\(s)", faults: faults)
            text.append("lan\(s): \(flavour.version) \(flavour.family) \(flavour.interval)cs vrid \(flavour.vrid)"
                        + (flavour.unicast ? " unicast" : "") + " loss \(faults.loss) dup \(faults.duplication)"
                        + " delay \(SimulationTrace.format(faults.minimumDelay))...\(SimulationTrace.format(faults.maximumDelay))"
                        + " reorder \(faults.reordering)")
        }

        func primary(_ s: Int, _ n: Int) -> IPAddress {
            flavours[s].family == .ipv4 ? IPAddress(ipv4: 0x0A00_0000 | UInt32(s) << 16 | UInt32(n + 1))
                : IPAddress(ipv6High: 0xFE80_0000_0000_0000, low: UInt64(s) << 16 | UInt64(n + 1))
        }
        func vips(_ s: Int) -> [VirtualAddress] {
            flavours[s].family == .ipv4 ? [VirtualAddress(IPAddress(ipv4: 0x0A00_0064 | UInt32(s) << 16), prefixLength: 24)]
                : [VirtualAddress(IPAddress(ipv6High: 0xFE80_0000_0000_0000, low: 0x100 + UInt64(s))),
                   VirtualAddress(IPAddress(ipv6High: 0x2001_0DB8_0000_0000 | UInt64(s) << 16, low: 0x100), prefixLength: 64)]
        }

        var ownerTaken = Array(repeating: sync, count: segmentCount)  // no owners with sync groups
        for n in 0..<nodeCount {
            let priority = UInt8(g.int(in: 1...254))
            let preempt = g.chance(0.8)
            let tracked = g.chance(0.3)
            let weight = sync ? 0 : g.pick([0, -20, 20])
            var routers: [VirtualRouterConfiguration] = []
            var interfaces: [String: Int] = [:]
            for s in 0..<segmentCount {
                let f = flavours[s]
                var c = VirtualRouterConfiguration(name: "VI_\(s + 1)", virtualRouterID: f.vrid, family: f.family,
                                                   version: f.version, interface: "eth\(s)",
                                                   primaryAddress: primary(s, n), addresses: vips(s))
                c.advertisementInterval = f.interval
                c.priority = priority
                if !ownerTaken[s] && g.chance(0.1) {
                    c.priority = 255
                    ownerTaken[s] = true
                }
                c.preempt = preempt
                if f.unicast {
                    c.unicastPeers = (0..<nodeCount).filter { $0 != n }.map { UnicastPeer(primary(s, $0)) }
                }
                if g.chance(0.1) { c.preemptDelay = .centiseconds(Int(f.interval) * g.int(in: 1...3)) }
                if g.chance(0.1) { c.startupDelay = .centiseconds(Int(f.interval) * g.int(in: 1...3)) }
                if g.chance(0.1) { c.lowerPriorityNoAdvert = true }
                c.checksumForm = f.checksumForm
                if sabotage && s == 0 { c.password = VRRPPassword(n == 0 ? "secret" : "other") }
                if tracked { c.trackers = [TrackerBinding(TrackedObjectID(.script, "chk"), weight: weight)] }
                c.ignoreTrackerWeights = sync
                routers.append(c)
                interfaces["eth\(s)"] = s
            }
            let groups = sync ? [SyncGroupConfiguration(name: "G", members: routers.map(\.name))] : []
            let trackers: [TrackedObjectID: TrackerStatus] = tracked ? [TrackedObjectID(.script, "chk"): .up] : [:]
            do {
                try sim.addNode("r\(n + 1)", routers: routers, syncGroups: groups, interfaces: interfaces, trackers: trackers)
            } catch {
                Issue.record("seed \(seed): bad generated configuration: \(error)")
            }
            text.append("r\(n + 1): " + routers.map {
                "\($0.name) prio \($0.priority)\($0.preempt ? "" : " nopreempt")"
                    + ($0.preemptDelay.map { " preempt_delay \(SimulationTrace.format($0))" } ?? "")
                    + ($0.startupDelay > .zero ? " startup_delay \(SimulationTrace.format($0.startupDelay))" : "")
                    + ($0.lowerPriorityNoAdvert ? " lower_prio_no_advert" : "")
            }
                .joined(separator: ", ") + (tracked ? " tracker weight \(weight)" : ""))
        }
        let a = Duration.centiseconds(Int(longest))
        chaosEnd = VRRPInstant.zero + a * g.int(in: 10...25)
        sim.addChaos(SimulationChaos(from: VRRPInstant.zero + a * 5, until: chaosEnd, episodes: g.int(in: 1...5),
                                     longestEpisode: a * 8))
        var settle = Duration.zero
        for s in 0..<segmentCount { settle = max(settle, sim.settleTime(segment: s)) }
        end = chaosEnd + settle + a * 2
        description = text.joined(separator: "; ") + (sync ? "; sync group" : "") + (codec ? "; through the codec" : "")
        return sim
    }
}

/// Runs seeds; on a violation, prints the seed, the violation, the scenario and the trace
/// tail, and how to replay it. Returns the simulations' measurements and check counts.
func runSeeds(_ seeds: some Sequence<UInt64>, sabotage: Bool = false)
    -> (measurements: [SimulationMeasurement], checks: Int, failures: Int) {
    var measurements: [SimulationMeasurement] = []
    var checks = 0
    var failures = 0
    for seed in seeds {
        var scenario = ChaosScenario(seed: seed, sabotage: sabotage)
        let sim = scenario.run()
        measurements += sim.measurements
        checks += sim.statistics.invariantChecks
        if let v = sim.violations.first {
            failures += 1
            var replay = ChaosScenario(seed: seed, sabotage: sabotage)
            let full = replay.run(trace: .full)
            Issue.record("""
                seed \(seed) failed: \(v); replay with Simulation(seed: \(seed), ...) as built by \
                ChaosScenario(seed: \(seed)\(sabotage ? ", sabotage: true" : "")).simulation(trace: .full), run until \(scenario.end)
                scenario: \(scenario.description)
                faults: \(full.scheduledFaults.map { "\(SimulationTrace.format($0.time)) \($0.fault)" }.joined(separator: ", "))
                trace tail:
                \(full.trace.tail(60, through: v.time).joined(separator: "\n"))
                """)
            if failures >= 3 { break }
        }
    }
    return (measurements, checks, failures)
}

// MARK: - Property tests

@Suite struct SimulationTests {
    /// 10,000 random seeds (8 shards run concurrently), every invariant checked: at most
    /// one master, a master exists, highest priority / owner wins, only the master holds
    /// the addresses, sync-group members agree, crash takeover in (MDI − A, MDI],
    /// priority-0 handover within Skew_Time.
    @Test func invariantsHoldForTenThousandRandomSeeds() async {
        let shards = 8
        let results = await withTaskGroup(of: (measurements: [SimulationMeasurement], checks: Int, failures: Int).self) { group in
            for shard in 0..<shards {
                group.addTask { runSeeds(stride(from: UInt64(shard), to: 10_000, by: shards)) }
            }
            var all: [(measurements: [SimulationMeasurement], checks: Int, failures: Int)] = []
            for await r in group { all.append(r) }
            return all
        }
        let measurements = results.flatMap(\.measurements)
        let crashes = measurements.filter { $0.kind == .crashTakeover }.count
        let handovers = measurements.filter { $0.kind == .priorityZeroHandover }.count
        let checks = results.map(\.checks).reduce(0, +)
        print("10,000 seeds: \(checks) settled-state checks, \(crashes) crash takeovers and \(handovers) priority-0 handovers measured")
        #expect(results.map(\.failures).reduce(0, +) == 0)
        #expect(checks > 10_000, "the settled-state checks must actually run")
        #expect(crashes > 30, "crash takeovers measured: \(crashes)")
        #expect(handovers > 30, "priority-0 handovers measured: \(handovers)")
    }

    /// The harness can fail: a deliberately broken world (two routers with different
    /// VRRPv2 passwords drop each other's adverts and both stay MASTER) is reported with
    /// its seed and the way to replay it.
    @Test func aFailingSeedIsReportedWithItsReplay() {
        withKnownIssue {
            let result = runSeeds([5], sabotage: true)
            #expect(result.failures == 1)
        } matching: { issue in
            issue.comments.contains { $0.rawValue.contains("seed 5 failed") && $0.rawValue.contains("replay with Simulation(seed: 5") }
        }
    }
}

// MARK: - Failover times measured from the trace

/// A single segment with 2–4 routers of distinct priorities, one protocol flavour and a
/// fixed delivery delay, for exact timing measurements.
struct TimingWorld {
    var sim: Simulation
    var priorities: [UInt8]
    var version: VRRPVersion
    var interval: Duration
    var delay: Duration
    var top = 0
    var second = 0

    init(seed: UInt64) throws {
        var g = SimulationRNG(seed: seed &* 0x9E37_79B9)
        version = g.chance(0.5) ? .v2 : .v3
        let cs: UInt16 = version == .v2 ? 100 * UInt16(g.int(in: 1...2)) : g.pick([1, 10, 25, 100, 300])
        interval = .centiseconds(Int(cs))
        delay = g.pick([.zero, .microseconds(100), interval / 50])
        sim = Simulation(seed: seed, options: SimulationOptions(trace: .full))
        let lan = sim.addSegment("lan", faults: SimulationFaultModel(minimumDelay: delay, maximumDelay: delay))
        var ps: [UInt8] = []
        while ps.count < g.int(in: 2...4) {
            let p = UInt8(g.int(in: 1...254))
            if !ps.contains(p) { ps.append(p) }
        }
        priorities = ps
        for (n, p) in ps.enumerated() {
            var c = VirtualRouterConfiguration(name: "VI_1", virtualRouterID: 7, version: version, interface: "eth0",
                                               primaryAddress: IPAddress(ipv4: 0xC000_0201 + UInt32(n)),
                                               addresses: [VirtualAddress(IPAddress("192.0.2.100")!)])
            c.priority = p
            c.advertisementInterval = cs
            try sim.addNode("r\(n + 1)", routers: [c], interfaces: ["eth0": lan])
        }
        let order = ps.indices.sorted { ps[$0] > ps[$1] }
        top = order[0]
        second = order[1]
    }

    func masterDownInterval(_ p: UInt8) -> Duration {
        VRRPTimers.masterDownInterval(version: version, priority: p,
                                      masterAdvertisementInterval: UInt16(interval.vrrpNanoseconds / 10_000_000))
    }

    func skewTime(_ p: UInt8) -> Duration {
        VRRPTimers.skewTime(version: version, priority: p,
                            masterAdvertisementInterval: UInt16(interval.vrrpNanoseconds / 10_000_000))
    }

    /// The last advert `node` sent at or before `t`, from the trace.
    func lastAdvert(of node: Int, before t: VRRPInstant) -> VRRPInstant? {
        sim.trace.entries.last { e in
            guard e.node == node, e.time <= t, case .action(.router(_, .sendAdvertisement(let a, _, _))) = e.event else {
                return false
            }
            return a.priority > 0
        }?.time
    }

    /// The first transition to MASTER after `t`, from the trace.
    func firstTakeover(after t: VRRPInstant) -> (node: Int, time: VRRPInstant)? {
        for e in sim.trace.entries where e.time >= t {
            if case .action(.router(_, .transition(_, .master, _))) = e.event, let n = e.node { return (n, e.time) }
        }
        return nil
    }
}

@Suite struct SimulationFailoverTimingTests {
    /// A silent crash of a settled master: the next MASTER transition in the trace comes
    /// exactly at (last advert sent + delay + MDI of the second-highest priority), which
    /// lies in (MDI − A, MDI] after the crash (shifted by the fixed delay).
    @Test func crashTakeoverLiesInMasterDownIntervalMinusAdvertIntervalToMasterDownInterval() throws {
        for seed in UInt64(0)..<300 {
            var w = try TimingWorld(seed: seed)
            var g = SimulationRNG(seed: seed)
            let crash = VRRPInstant.zero + w.sim.settleTime(segment: 0) + g.duration(in: .zero...(w.interval * 3))
            w.sim.crash(w.top, at: crash)
            w.sim.run(until: crash + w.masterDownInterval(1) + w.interval * 2)
            let last = try #require(w.lastAdvert(of: w.top, before: crash), "seed \(seed)")
            let taker = try #require(w.firstTakeover(after: crash), "seed \(seed)")
            let mdi = w.masterDownInterval(w.priorities[w.second])
            #expect(taker.node == w.second, "seed \(seed)")
            #expect(taker.time == last + w.delay + mdi, "seed \(seed)")
            let elapsed = taker.time - crash
            #expect(elapsed > mdi - w.interval + w.delay && elapsed <= mdi + w.delay,
                    "seed \(seed): \(elapsed) not in (\(mdi - w.interval), \(mdi)] + \(w.delay)")
            #expect(w.sim.measurements.map(\.elapsed) == [elapsed], "seed \(seed): the checker measured the same")
            #expect(w.sim.violations.isEmpty, "seed \(seed): \(w.sim.violations)")
        }
    }

    /// A graceful shutdown of a settled master: the highest backup takes over exactly
    /// Skew_Time (+ the delay) after the priority-0 advert, below one interval.
    @Test func priorityZeroHandoverCompletesWithinSkewTime() throws {
        for seed in UInt64(0)..<300 {
            var w = try TimingWorld(seed: seed)
            var g = SimulationRNG(seed: seed)
            let stop = VRRPInstant.zero + w.sim.settleTime(segment: 0) + g.duration(in: .zero...(w.interval * 3))
            w.sim.shutdown(w.top, at: stop)
            w.sim.run(until: stop + w.interval * 3)
            let taker = try #require(w.firstTakeover(after: stop), "seed \(seed)")
            let skew = w.skewTime(w.priorities[w.second])
            #expect(taker.node == w.second, "seed \(seed)")
            #expect(taker.time - stop == skew + w.delay, "seed \(seed)")
            #expect(taker.time - stop <= skew + w.delay && skew < w.interval, "seed \(seed)")
            #expect(w.sim.measurements.map(\.elapsed) == [taker.time - stop], "seed \(seed)")
            #expect(w.sim.violations.isEmpty, "seed \(seed): \(w.sim.violations)")
        }
    }
}

// MARK: - The checker itself

@Suite struct SimulationInvariantsTests {
    typealias Member = SimulationInvariants.Member
    let group = "segment lan VRID 51 IPv4"
    let t = VRRPInstant.seconds(12)

    @Test func atMostOneMasterDetectsTwoMasters() throws {
        let members = [
            Member(name: "r1/VI_1", state: .master, effectivePriority: 150, hasAddresses: true, holdsAddresses: true),
            Member(name: "r2/VI_1", state: .master, effectivePriority: 100, hasAddresses: true, holdsAddresses: true),
        ]
        let v = try #require(SimulationInvariants.atMostOneMaster(group, members, at: t))
        #expect(v.property == .multipleMasters && v.time == t)
        #expect(v.message == "segment lan VRID 51 IPv4: 2 masters: r1/VI_1 (MASTER, prio 150), r2/VI_1 (MASTER, prio 100)")
        #expect(SimulationInvariants.settled(group, members, at: t).map(\.property) == [.multipleMasters])
        // A crashed node's frozen MASTER does not count.
        var crashed = members
        crashed[0].alive = false
        #expect(SimulationInvariants.atMostOneMaster(group, crashed, at: t) == nil)
    }

    @Test func masterExistsDetectsNoMaster() {
        let members = [Member(name: "r1/VI_1", state: .backup, effectivePriority: 150),
                       Member(name: "r2/VI_1", state: .fault, effectivePriority: 100)]
        #expect(SimulationInvariants.masterExists(group, members, at: t)?.property == .noMaster)
        // Nobody eligible (FAULT, link down): nothing is required.
        let none = [Member(name: "r1/VI_1", state: .fault, effectivePriority: 150),
                    Member(name: "r2/VI_1", state: .backup, effectivePriority: 100, linkUp: false)]
        #expect(SimulationInvariants.masterExists(group, none, at: t) == nil)
    }

    @Test func highestPriorityWinsAndTheOwnerWins() {
        let lowerMaster = [Member(name: "r1/VI_1", state: .backup, effectivePriority: 150),
                           Member(name: "r2/VI_1", state: .master, effectivePriority: 100)]
        #expect(SimulationInvariants.highestPriorityWins(group, lowerMaster, at: t)?.property == .highestPriorityWins)
        var nopreempt = lowerMaster
        nopreempt[0].preempt = false
        #expect(SimulationInvariants.highestPriorityWins(group, nopreempt, at: t) == nil)
        var equal = lowerMaster
        equal[0].effectivePriority = 100
        #expect(SimulationInvariants.highestPriorityWins(group, equal, at: t) == nil, "equal priorities do not preempt")
        var owner = nopreempt
        owner[0].isOwner = true
        owner[0].effectivePriority = 255
        #expect(SimulationInvariants.highestPriorityWins(group, owner, at: t)?.property == .ownerWins)
    }

    @Test func onlyTheMasterHoldsTheAddresses() {
        let stale = [Member(name: "r1/VI_1", state: .backup, effectivePriority: 150, hasAddresses: true, holdsAddresses: true)]
        #expect(SimulationInvariants.onlyMasterHoldsAddresses(group, stale, at: t)?.message
                == "segment lan VRID 51 IPv4: r1/VI_1 (BACKUP, prio 150) holds the addresses but is not master")
        let bare = [Member(name: "r1/VI_1", state: .master, effectivePriority: 150, hasAddresses: true)]
        #expect(SimulationInvariants.onlyMasterHoldsAddresses(group, bare, at: t)?.property == .onlyMasterHoldsAddresses)
        var crashed = stale
        crashed[0].alive = false
        #expect(SimulationInvariants.onlyMasterHoldsAddresses(group, crashed, at: t) == nil, "a crash leaves addresses")
    }

    @Test func syncGroupMembersMustAgree() {
        let members = [Member(name: "r1/VI_1", state: .master, effectivePriority: 150),
                       Member(name: "r1/VI_2", state: .backup, effectivePriority: 150)]
        #expect(SimulationInvariants.syncGroupAgrees("G1 on r1", members, at: t)?.property == .syncGroupAgrees)
        #expect(SimulationInvariants.syncGroupAgrees("G1 on r1", [members[0], members[0]], at: t) == nil)
    }

    /// (MDI − A, MDI]: exactly MDI − A is outside, MDI is inside, MDI + 1 ns is outside.
    @Test func crashTakeoverWindowBoundsAreExact() {
        let mdi = VRRPTimers.masterDownInterval(version: .v2, priority: 100, masterAdvertisementInterval: 100)
        #expect(mdi == .nanoseconds(3_609_375_000))
        let window = SimulationInvariants.crashTakeoverWindow(masterDownInterval: mdi, advertisementInterval: .seconds(1))
        func measured(_ elapsed: Duration) -> SimulationMeasurement {
            SimulationMeasurement(kind: .crashTakeover, group: group, start: .zero, end: .zero + elapsed,
                                  taker: "r2/VI_1", window: window)
        }
        #expect(SimulationInvariants.check(measured(mdi - .seconds(1)), at: t)?.property == .crashTakeoverWindow)
        #expect(SimulationInvariants.check(measured(mdi - .seconds(1) + .nanoseconds(1)), at: t) == nil)
        #expect(SimulationInvariants.check(measured(mdi), at: t) == nil)
        #expect(SimulationInvariants.check(measured(mdi + .nanoseconds(1)), at: t)?.property == .crashTakeoverWindow)
        let nobody = SimulationMeasurement(kind: .priorityZeroHandover, group: group, start: .zero, end: nil,
                                           taker: nil, window: .zero...(.milliseconds(609)))
        #expect(SimulationInvariants.check(nobody, at: t)?.property == .priorityZeroHandover)
    }

    /// End to end: two routers that drop each other's adverts (different VRRPv2
    /// passwords) both stay MASTER; once settled, the simulation reports it and stops.
    @Test func simulationDetectsTwoMastersFromMismatchedPasswords() throws {
        var w = try ClassicPair(p1: 150, p2: 100) { a, b in
            a.password = VRRPPassword("secret")
            b.password = VRRPPassword("other")
        }
        w.sim.run(until: .seconds(30))
        let v = try #require(w.sim.violations.first)
        #expect(v.property == .multipleMasters)
        // Settled at MDI(priority 1) + A = 3 + 255/256 + 1 s after the starts at 0.
        #expect(v.time == .zero + .nanoseconds(4_996_093_750))
        #expect(v.message.contains("r1/VI_1 (MASTER, prio 150)") && v.message.contains("r2/VI_1 (MASTER, prio 100)"))
        #expect(w.sim.isHalted && w.sim.now == v.time)
        #expect(w.sim.trace.lines().last?.contains("VIOLATION at most one master") == true)
    }

    /// During a partition both sides elect a MASTER (a disturbance, not a violation);
    /// after healing, the lower one steps down.
    @Test func partitionGivesTwoMastersUntilHealed() throws {
        var w = try ClassicPair(p1: 150, p2: 100)
        w.sim.partition(0, [[w.r1], [w.r2]], from: .seconds(10), until: .seconds(20))
        w.sim.run(until: .seconds(19))
        #expect(w.sim.masters(segment: 0, virtualRouterID: 51).count == 2)
        w.sim.run(until: .seconds(40))
        #expect(w.sim.masters(segment: 0, virtualRouterID: 51) == [w.r1])
        #expect(w.sim.violations.isEmpty, "\(w.sim.violations)")
        #expect(w.sim.statistics.lost > 0 && w.sim.statistics.invariantChecks > 0)
    }
}

// MARK: - Determinism and wire fidelity

@Suite struct SimulationReplayTests {
    /// The same seed gives the same trace, entry for entry; another seed another trace.
    @Test func sameSeedReplaysExactlyAndAnotherSeedDiffers() {
        for seed: UInt64 in [1, 7, 42, 1234, 99_999] {
            var a = ChaosScenario(seed: seed), b = ChaosScenario(seed: seed)
            let x = a.run(trace: .full), y = b.run(trace: .full)
            #expect(x.trace.entries == y.trace.entries, "seed \(seed)")
            #expect(x.trace.lines() == y.trace.lines() && x.statistics == y.statistics, "seed \(seed)")
            var c = ChaosScenario(seed: seed + 1)
            #expect(c.run(trace: .full).trace.lines() != x.trace.lines(), "seed \(seed) vs \(seed + 1)")
        }
    }

    /// One fixed world, only the seed changes: the lossy, jittery network and the chaos
    /// schedule (both drawn from the seed) make the traces differ.
    @Test func theSeedDrivesNetworkAndChaos() throws {
        func run(_ seed: UInt64) throws -> [String] {
            var sim = Simulation(seed: seed)
            let lan = sim.addSegment("lan", faults: SimulationFaultModel(loss: 0.05, duplication: 0.05,
                                                                         maximumDelay: .milliseconds(5)))
            for (n, p) in [150, 100].enumerated() {
                var c = VirtualRouterConfiguration(name: "VI_1", virtualRouterID: 51, interface: "eth0",
                                                   primaryAddress: IPAddress(ipv4: 0xC000_0201 + UInt32(n)),
                                                   addresses: [VirtualAddress(IPAddress("192.0.2.100")!)])
                c.priority = UInt8(p)
                try sim.addNode("r\(n + 1)", routers: [c], interfaces: ["eth0": lan])
            }
            sim.addChaos(SimulationChaos(from: .seconds(5), until: .seconds(40), episodes: 4))
            sim.run(until: .seconds(60))
            #expect(sim.violations.isEmpty, "seed \(seed): \(sim.violations)")
            return sim.trace.lines()
        }
        #expect(try run(3) == run(3))
        #expect(try run(3) != run(4))
    }

    /// Going through the byte codec (encode at the sender, decode and verify at each
    /// receiver) gives exactly the same run as handing over the decoded values.
    @Test func codecPathMatchesValuePath() {
        var decodedAdverts = 0
        for seed in UInt64(0)..<60 {
            var scenario = ChaosScenario(seed: seed)
            var values = scenario.build(trace: .full, throughCodec: false)
            var wire = scenario.build(trace: .full, throughCodec: true)
            values.run(until: scenario.end)
            wire.run(until: scenario.end)
            #expect(values.trace.lines() == wire.trace.lines(), "seed \(seed)")
            #expect(wire.statistics.codecDrops == 0, "seed \(seed)")
            decodedAdverts += wire.statistics.deliveries
        }
        #expect(decodedAdverts > 1000)
    }
}

// Simulation speed is measured by `vrrp-bench simulate` in the Benchmarks package
// (Docs/benchmarks.md), never by a timed test.
