import Testing
@testable import VRRPCore

/// Every state × every input, against a table written out by hand.
@Suite("State × input table")
struct StateTableTests {
    enum In: String, CaseIterable {
        case startup, shutdown, advertHigher, advertLower, advertZero, timerDue
        case interfaceDown, interfaceUp, trackerFail, trackerOK, priorityUp, reload
    }

    static let chk = TrackedObjectID(.script, "chk")

    static func config() -> VirtualRouterConfiguration {
        var c = T.config(priority: 100)
        c.trackers = [TrackerBinding(chk)]
        return c
    }

    /// A router put into `state` at t = 10 s.
    static func router(in state: VRRPState) -> VirtualRouter {
        var r = T.router(config())
        let t0 = VRRPInstant.seconds(1)
        _ = r.handle(.trackerChanged(chk, .up), now: t0)
        switch state {
        case .initialize: break
        case .backup: _ = r.handle(.startup, now: t0)
        case .master:
            _ = r.handle(.startup, now: t0)
            _ = r.handle(.timerFired, now: r.nextDeadline!)
        case .fault:
            _ = r.handle(.startup, now: t0)
            _ = r.handle(.trackerChanged(chk, .down), now: .seconds(2))
        case .stop:
            _ = r.handle(.startup, now: t0)
            _ = r.handle(.shutdown, now: .seconds(2))
        }
        precondition(r.state == state)
        return r
    }

    static func input(_ i: In) -> VirtualRouter.Input {
        switch i {
        case .startup: .startup
        case .shutdown: .shutdown
        case .advertHigher: .advertisement(T.advert(priority: 200))
        case .advertLower: .advertisement(T.advert(priority: 50))
        case .advertZero: .advertisement(T.advert(priority: 0))
        case .timerDue: .timerFired
        case .interfaceDown: .interfaceChanged(up: false)
        case .interfaceUp: .interfaceChanged(up: true)
        case .trackerFail: .trackerChanged(chk, .down)
        case .trackerOK: .trackerChanged(chk, .up)
        case .priorityUp: .priorityChanged(150)
        case .reload: .reload(config())
        }
    }

    // Rows: INIT, BACKUP, MASTER, FAULT, STOP. Columns: In.allCases in order.
    static let table: [VRRPState: [VRRPState]] = [
        //              start    shut   higher   lower    zero    timer    ifdown  ifup     tfail   tok      prio     reload
        .initialize: [.backup, .stop, .initialize, .initialize, .initialize, .initialize, .initialize, .initialize, .initialize, .initialize, .initialize, .initialize],
        .backup:     [.backup, .stop, .backup, .backup, .backup, .master, .fault, .backup, .fault, .backup, .backup, .backup],
        .master:     [.master, .stop, .backup, .master, .master, .master, .fault, .master, .fault, .master, .master, .master],
        .fault:      [.fault, .stop, .fault, .fault, .fault, .fault, .fault, .fault, .fault, .backup, .fault, .fault],
        .stop:       [.backup, .stop, .stop, .stop, .stop, .stop, .stop, .stop, .stop, .stop, .stop, .stop],
    ]

    @Test("every state × input lands in the expected state, with the timers that state needs", arguments: VRRPState.allCases)
    func row(_ state: VRRPState) throws {
        let expected = try #require(Self.table[state])
        for (column, i) in In.allCases.enumerated() {
            var r = Self.router(in: state)
            let now = i == .timerDue ? (r.nextDeadline ?? .seconds(10)) : .seconds(10)
            let actions = r.handle(Self.input(i), now: now)
            #expect(r.state == expected[column], "\(state) + \(i.rawValue)")
            // Each transition action names the state actually reached, and only real changes are reported.
            if let last = T.transitions(actions).last { #expect(last.1 == r.state, "\(state) + \(i.rawValue)") }
            if r.state != state { #expect(!T.transitions(actions).isEmpty, "\(state) + \(i.rawValue) changed silently") }
            // Timers: BACKUP waits for the master, MASTER advertises, the others wait for nothing.
            switch r.state {
            case .backup: #expect(r.masterDownDeadline != nil && r.advertisementDeadline == nil, "\(state) + \(i.rawValue)")
            case .master: #expect(r.advertisementDeadline != nil && r.masterDownDeadline == nil, "\(state) + \(i.rawValue)")
            default: #expect(r.nextDeadline == nil, "\(state) + \(i.rawValue)")
            }
            // Only a MASTER leaving (or staying) sends; nothing else ever does.
            if state != .master && r.state != .master { #expect(T.sends(actions).isEmpty, "\(state) + \(i.rawValue)") }
        }
    }
}

/// Sync groups through the engine (keepalived-compat §2.10).
@Suite("Sync groups")
struct SyncGroupTests {
    func engine() throws -> VRRPEngine {
        let a = T.config("VI_1", vrid: 51, interface: "eth0")
        let b = T.config("VI_2", vrid: 52, primary: "198.51.100.1", vips: ["198.51.100.100"], interface: "eth1")
        return try VRRPEngine(routers: [a, b], syncGroups: [SyncGroupConfiguration(name: "G", members: ["VI_1", "VI_2"])])
    }

    func advert(vrid: UInt8, priority: UInt8) -> VRRPReceivedPacket {
        vrid == 51 ? T.advert(priority: priority, vrid: 51)
            : T.advert(from: "198.51.100.2", priority: priority, vrid: 52, addresses: ["198.51.100.100"])
    }

    @Test("members become MASTER together only when every member's down timer has expired")
    func together() throws {
        var e = try engine()
        let start = e.handle(.startup, now: .zero)
        #expect(start.contains(.groupTransition(group: "G", from: .initialize, to: .backup)))
        // VI_1 keeps hearing its master; VI_2 does not.
        var t = VRRPInstant.zero
        for s in 1...6 {
            t = .seconds(Double(s))
            _ = e.handle(.packet(advert(vrid: 51, priority: 200), interface: "eth0"), now: t)
            if let d = e.nextDeadline, d <= t { _ = e.handle(.timerFired, now: d) }
        }
        #expect(e.routers[1].isWaitingForSyncGroup)
        #expect(e.routers.allSatisfy { $0.state == .backup }, "VI_2 must wait for VI_1")
        // VI_1's master goes silent: at VI_1's expiry both go MASTER at the same instant.
        let d1 = try #require(e.routers[0].masterDownDeadline)
        var out: [VRRPEngine.Action] = []
        while let d = e.nextDeadline, d <= d1 { out += e.handle(.timerFired, now: d) }
        #expect(e.routers.allSatisfy { $0.state == .master })
        #expect(out.contains(.groupTransition(group: "G", from: .backup, to: .master)))
        #expect(out.filter { if case .router(_, .transition(.backup, .master, _)) = $0 { true } else { false } }.count == 2)
    }

    @Test("one member hearing a higher priority takes the whole group to BACKUP")
    func backTogether() throws {
        var e = try engine()
        _ = e.handle(.startup, now: .zero)
        while e.routers.contains(where: { $0.state != .master }), let d = e.nextDeadline { _ = e.handle(.timerFired, now: d) }
        let out = e.handle(.packet(advert(vrid: 52, priority: 200), interface: "eth1"), now: .seconds(5))
        #expect(e.routers.allSatisfy { $0.state == .backup })
        #expect(out.contains(.router(0, .transition(from: .master, to: .backup, reason: .syncGroup(member: "G")))))
        #expect(out.contains(.groupTransition(group: "G", from: .master, to: .backup)))
    }

    @Test("a member's FAULT faults the group; recovery brings every member back to BACKUP")
    func faultTogether() throws {
        var e = try engine()
        _ = e.handle(.startup, now: .zero)
        while e.routers.contains(where: { $0.state != .master }), let d = e.nextDeadline { _ = e.handle(.timerFired, now: d) }
        let down = e.handle(.interfaceChanged("eth0", up: false), now: .seconds(5))
        #expect(e.routers.allSatisfy { $0.state == .fault })
        #expect(e.routers[1].faultReasons == [.syncGroupMember("VI_1")])
        // Both masters resign with priority 0.
        #expect(down.filter { if case .router(_, .sendAdvertisement(let a, _, _)) = $0 { a.priority == 0 } else { false } }.count == 2)
        _ = e.handle(.interfaceChanged("eth0", up: true), now: .seconds(6))
        #expect(e.routers.allSatisfy { $0.state == .backup })
        #expect(e.groupState("G") == .backup)
    }

    @Test("a MASTER hearing a lower priority re-announces every member's addresses")
    func lowerPriorityAnnouncesAll() throws {
        var e = try engine()
        _ = e.handle(.startup, now: .zero)
        while e.routers.contains(where: { $0.state != .master }), let d = e.nextDeadline { _ = e.handle(.timerFired, now: d) }
        let out = e.handle(.packet(advert(vrid: 51, priority: 50), interface: "eth0"), now: .seconds(5))
        let announced = out.compactMap { a -> Int? in if case .router(let i, .announce) = a { return i } else { return nil } }
        #expect(Set(announced) == [0, 1])
    }

    @Test("a sync-group member ignores its trackers' weights unless told otherwise")
    func weightsIgnored() throws {
        var a = T.config("VI_1", vrid: 51)
        a.trackers = [TrackerBinding(.init(.script, "w"), weight: 20)]
        a.ignoreTrackerWeights = true
        var r = T.router(a)
        _ = r.handle(.trackerChanged(.init(.script, "w"), .up), now: .zero)
        #expect(r.effectivePriority == 100)
    }
}
