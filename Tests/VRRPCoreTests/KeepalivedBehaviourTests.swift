import Testing
@testable import VRRPCore

/// keepalived's behaviour where the RFC is silent (keepalived-compat.md §2).
@Suite("keepalived behaviour")
struct KeepalivedBehaviourTests {
    @Test("preempt_delay: lower adverts are accepted for D after the first one, then the backup takes over one MDI later")
    func preemptDelay() {
        var c = T.config(priority: 150)
        c.preemptDelay = .seconds(5)
        var r = T.backup(c)
        // P = 150: MDI = 3 + 106/256 = 3.4140625 s.
        var t = VRRPInstant.seconds(0.5)
        let first = r.handle(.advertisement(T.advert(priority: 100)), now: t)
        #expect(first == [.notice(.preemptDelayStarted(until: .seconds(5.5)))])
        var lastAccepted = t
        while t < .seconds(12) {
            t = t + .seconds(1)
            if let d = r.masterDownDeadline, d <= t { break }
            let before = r.masterDownDeadline
            _ = r.handle(.advertisement(T.advert(priority: 100)), now: t)
            if r.masterDownDeadline != before { lastAccepted = t }
        }
        // The window is open while now < 5.5 s: the advert at 4.5 s is the last one accepted.
        #expect(lastAccepted == .seconds(4.5))
        #expect(r.masterDownDeadline == .seconds(4.5) + .nanoseconds(3_414_062_500))
        // A higher advert closes the window; the next lower one opens a new one.
        var q = T.backup(c)
        _ = q.handle(.advertisement(T.advert(priority: 100)), now: .seconds(1))
        _ = q.handle(.advertisement(T.advert(priority: 200)), now: .seconds(2))
        let again = q.handle(.advertisement(T.advert(priority: 100)), now: .seconds(3))
        #expect(again == [.notice(.preemptDelayStarted(until: .seconds(8)))])
    }

    @Test("nopreempt: a higher-priority backup never takes over from a live master")
    func nopreempt() {
        var c = T.config(priority: 200)
        c.preempt = false
        var r = T.backup(c)
        for s in 1...20 {
            _ = r.handle(.advertisement(T.advert(priority: 100)), now: .seconds(Double(s)))
            _ = r.handle(.timerFired, now: .seconds(Double(s)))
        }
        #expect(r.state == .backup)
        #expect(r.counters.transitions(to: .master) == 0)
    }

    @Test("a tracker changing a BACKUP's priority shifts the running down timer by the change in MDI")
    func priorityShiftsDownTimer() {
        var c = T.config(priority: 100)
        c.trackers = [TrackerBinding(.init(.script, "chk"), weight: 50)]
        var r = T.router(c)
        _ = r.handle(.trackerChanged(.init(.script, "chk"), .down), now: .zero)
        _ = r.handle(.startup, now: .zero)
        #expect(r.masterDownDeadline == T.ns(3_609_375_000))
        let a = r.handle(.trackerChanged(.init(.script, "chk"), .up), now: .seconds(1))
        #expect(a == [.notice(.priorityChanged(from: 100, to: 150))])
        // MDI(150) - MDI(100) = (106 - 156)/256 s = -0.1953125 s.
        #expect(r.masterDownDeadline == T.ns(3_609_375_000 - 195_312_500))
    }

    @Test("interface down: a MASTER sends priority 0, removes its addresses and enters FAULT; up again gives BACKUP")
    func interfaceFault() {
        var (r, t) = T.master()
        let down = r.handle(.interfaceChanged(up: false), now: t + .seconds(1))
        #expect(T.sends(down).map(\.priority) == [0])
        #expect(down.contains(.removeAddresses([VirtualAddress(T.ip("192.0.2.100"), prefixLength: 24)])))
        #expect(down.last == .transition(from: .master, to: .fault, reason: .fault(.interfaceDown("eth0"))))
        #expect(r.nextDeadline == nil)
        #expect(T.drops(r.handle(.advertisement(T.advert(priority: 100)), now: t + .seconds(2))) == [.notRunning])
        let up = r.handle(.interfaceChanged(up: true), now: t + .seconds(3))
        #expect(up == [.transition(from: .fault, to: .backup, reason: .faultCleared)])
        #expect(r.masterDownDeadline == t + .seconds(3) + .nanoseconds(3_609_375_000))
        // dont_track_primary ignores the own interface.
        var c = T.config()
        c.dontTrackPrimary = true
        var d = T.backup(c)
        _ = d.handle(.interfaceChanged(up: false), now: .seconds(1))
        #expect(d.state == .backup)
        // The owner leaves FAULT straight to MASTER.
        var (o, to) = T.master(T.config(priority: 255))
        _ = o.handle(.interfaceChanged(up: false), now: to + .seconds(1))
        _ = o.handle(.interfaceChanged(up: true), now: to + .seconds(2))
        #expect(o.state == .master)
    }

    @Test("trackers: weight 0 faults, reverse flips, weights add or subtract, an unreported weight-0 tracker starts in FAULT")
    func trackers() {
        let s = TrackedObjectID(.script, "chk")
        var c = T.config()
        c.trackers = [TrackerBinding(s)]
        var r = T.router(c)
        _ = r.handle(.startup, now: .zero)
        #expect(r.state == .fault, "not reported yet")
        _ = r.handle(.trackerChanged(s, .up), now: .seconds(1))
        #expect(r.state == .backup)
        _ = r.handle(.trackerChanged(s, .down), now: .seconds(2))
        #expect(r.state == .fault)
        #expect(r.faultReasons == [.tracker(s)])

        // Table of (weight, reverse, status) -> (delta, fault), keepalived-compat §2.2b.
        let cases: [(Int, Bool, TrackerStatus, Int, Bool)] = [
            (10, false, .up, 10, false), (10, false, .down, 0, false),
            (10, true, .up, -10, false), (10, true, .down, 0, false),
            (-10, false, .up, 0, false), (-10, false, .down, -10, false),
            (-10, true, .up, 0, false), (-10, true, .down, 10, false),
            (0, false, .up, 0, false), (0, false, .down, 0, true),
            (0, true, .up, 0, true), (0, true, .down, 0, false),
            (0, false, .unknown, 0, true), (10, false, .unknown, 0, false),
            (5, false, .value(3), 15, false), (5, true, .value(3), -15, false),
            (0, false, .value(0), 0, false), (0, false, .value(2), 0, true),
            (1, false, .value(-254), -254, true), (1, false, .value(-253), -253, false),
        ]
        for (w, rev, st, delta, fault) in cases {
            let got = TrackerBinding(s, weight: w, reverse: rev).evaluate(st, ignoreWeight: false)
            #expect(got.delta == delta && got.fault == fault, "weight \(w) reverse \(rev) \(st)")
        }
        // Sync-group members ignore weights; weight 0 still faults.
        #expect(TrackerBinding(s, weight: 10).evaluate(.up, ignoreWeight: true) == (0, false))
        #expect(TrackerBinding(s, weight: 0).evaluate(.down, ignoreWeight: true) == (0, true))
    }

    @Test("track_interface by name: down subtracts its weight, or faults without one")
    func trackedInterfaceThroughEngine() throws {
        var c = T.config(priority: 100)
        c.trackers = [TrackerBinding(.init(.interface, "eth1"), weight: -30), TrackerBinding(.init(.interface, "eth2"))]
        var e = try VRRPEngine(routers: [c])
        _ = e.handle(.interfaceChanged("eth1", up: true), now: .zero)
        _ = e.handle(.interfaceChanged("eth2", up: true), now: .zero)
        _ = e.handle(.startup, now: .zero)
        #expect(e.routers[0].state == .backup)
        _ = e.handle(.interfaceChanged("eth1", up: false), now: .seconds(1))
        #expect(e.routers[0].effectivePriority == 70)
        _ = e.handle(.interfaceChanged("eth2", up: false), now: .seconds(1))
        #expect(e.routers[0].state == .fault)
    }

    @Test("GARP schedule: 5 at once, 5 more after garp_master_delay, refreshes, and bursts on a lower priority")
    func announcementSchedule() {
        var c = T.config()
        c.garp.masterRefresh = .seconds(60)
        c.garp.masterRefreshRepeat = 2
        var (r, t) = T.master(c)
        var bursts: [(Duration, Int)] = []
        var now = t
        while now < t + .seconds(125) {
            guard let d = r.nextDeadline else { break }
            now = d
            for case .announce(_, let n) in r.handle(.timerFired, now: d) { bursts.append((d - t, n)) }
        }
        #expect(bursts.map(\.0) == [.seconds(5), .seconds(60), .seconds(120)])
        #expect(bursts.map(\.1) == [5, 2, 2])
        // garp_lower_prio_repeat / _delay default to the master values.
        var (m, tm) = T.master(T.config(priority: 150))
        let a = m.handle(.advertisement(T.advert(priority: 100)), now: tm + .seconds(10))
        #expect(a.contains(.announce([VirtualAddress(T.ip("192.0.2.100"), prefixLength: 24)], rounds: 5)))
        let second = m.handle(.timerFired, now: tm + .seconds(15))
        #expect(second.contains { if case .announce(_, 5) = $0 { return true } else { return false } })
        // garp_master_repeat 0 disables the bursts.
        var quiet = T.config()
        quiet.garp.masterRepeat = 0
        let (q, _) = T.master(quiet)
        #expect(q.counters.announcementBursts == 0)
    }

    @Test("higher_prio_send_advert: a MASTER sends one advert before stepping down")
    func higherPrioritySendAdvert() {
        var c = T.config()
        c.higherPrioritySendAdvert = true
        var (r, t) = T.master(c)
        let a = r.handle(.advertisement(T.advert(priority: 200)), now: t + .seconds(1))
        #expect(T.sends(a).map(\.priority) == [100])
        #expect(r.state == .backup)
        var plain = T.master().0
        #expect(T.sends(plain.handle(.advertisement(T.advert(priority: 200)), now: t + .seconds(1))).isEmpty)
    }

    @Test("unicast: one send per peer, check_unicast_src, TTL ranges, and a multicast TTL must be 255")
    func unicast() {
        var c = T.config(priority: 150)
        c.unicastPeers = [UnicastPeer(T.ip("192.0.2.2"), minimumTTL: 250, maximumTTL: 255), UnicastPeer(T.ip("192.0.2.3"))]
        c.checkUnicastSource = true
        var (r, t) = T.master(c)
        let a = r.handle(.timerFired, now: r.advertisementDeadline!)
        #expect(T.sends(a).map(\.destination) == [T.ip("192.0.2.2"), T.ip("192.0.2.3")])
        #expect(r.counters.advertisementsSent == 4)
        let uni = "192.0.2.1"
        let stranger = r.handle(.advertisement(T.advert(from: "192.0.2.9", priority: 100, destination: uni)), now: t + .seconds(1))
        #expect(T.drops(stranger) == [.unicastSourceNotPeer])
        let lowTTL = r.handle(.advertisement(T.advert(from: "192.0.2.2", priority: 100, hopLimit: 249, destination: uni)),
                              now: t + .seconds(1))
        #expect(T.drops(lowTTL) == [.badHopLimit])
        let anyTTL = r.handle(.advertisement(T.advert(from: "192.0.2.3", priority: 100, hopLimit: 3, destination: uni)),
                              now: t + .seconds(1))
        #expect(T.drops(anyTTL).isEmpty, "no range configured: any TTL")
        let multicast = r.handle(.advertisement(T.advert(from: "192.0.2.3", priority: 100)), now: t + .seconds(1))
        #expect(T.drops(multicast) == [.destinationMismatch])
        var m = T.backup()
        #expect(T.drops(m.handle(.advertisement(T.advert(priority: 100, hopLimit: 254)), now: .seconds(1))) == [.badHopLimit])
        #expect(T.drops(m.handle(.advertisement(T.advert(priority: 100, destination: "192.0.2.1")), now: .seconds(1)))
                == [.destinationMismatch])
        #expect(T.drops(m.handle(.advertisement(T.advert(from: "192.0.2.1", priority: 100)), now: .seconds(1)))
                == [.ownAdvertisement])
        #expect(T.drops(m.handle(.advertisement(T.advert(priority: 100, version: .v3)), now: .seconds(1)))
                == [.versionMismatch])
    }

    @Test("vrrp_startup_delay holds the instance in INIT")
    func startupDelay() {
        var c = T.config()
        c.startupDelay = .seconds(10)
        var r = T.router(c)
        #expect(r.handle(.startup, now: .zero).isEmpty)
        #expect(r.state == .initialize)
        #expect(r.nextDeadline == .seconds(10))
        let a = r.handle(.timerFired, now: .seconds(10))
        #expect(a == [.transition(from: .initialize, to: .backup, reason: .startup)])
        #expect(r.masterDownDeadline == .seconds(10) + .nanoseconds(3_609_375_000))
    }

    @Test("two owners: the lower address steps down; a rogue that keeps advertising demotes the other to 254")
    func twoOwners() {
        var (hi, t) = T.master(T.config(priority: 255, primary: "192.0.2.10"))
        let a = hi.handle(.advertisement(T.advert(from: "192.0.2.5", priority: 255)), now: t + .milliseconds(100))
        #expect(a.contains(.notice(.ownerConflict(from: T.ip("192.0.2.5")))))
        #expect(hi.state == .master)
        // Patience: 2 × 1 s + 1.2 × 1 s = 3.2 s after the first conflicting advert.
        _ = hi.handle(.advertisement(T.advert(from: "192.0.2.5", priority: 255)), now: t + .milliseconds(3200))
        #expect(hi.effectivePriority == 255)
        let d = hi.handle(.advertisement(T.advert(from: "192.0.2.5", priority: 255)), now: t + .milliseconds(3300))
        #expect(d.contains(.notice(.priorityChanged(from: 255, to: 254))))
        _ = hi.handle(.advertisement(T.advert(from: "192.0.2.5", priority: 255)), now: t + .milliseconds(4300))
        #expect(hi.state == .backup)
        // The rogue goes quiet: it takes over again and gets 255 back.
        let back = hi.handle(.timerFired, now: hi.masterDownDeadline!)
        #expect(back.contains(.notice(.priorityChanged(from: 254, to: 255))))
        #expect(hi.state == .master && hi.effectivePriority == 255)
        var (lo, tl) = T.master(T.config(priority: 255, primary: "192.0.2.5"))
        _ = lo.handle(.advertisement(T.advert(from: "192.0.2.10", priority: 255)), now: tl + .milliseconds(100))
        #expect(lo.state == .backup)
    }

    @Test("reload: a MASTER keeps its state and applies only the address, route and rule differences")
    func reload() {
        var c = T.config(vips: ["192.0.2.100", "192.0.2.101"])
        c.routes = [VirtualRoute(family: .ipv4, destination: T.ip("198.51.100.0"), prefixLength: 24, gateway: T.ip("192.0.2.254"))]
        var (r, t) = T.master(c)
        let deadline = r.advertisementDeadline
        var n = c
        n.addresses = [VirtualAddress(T.ip("192.0.2.101"), prefixLength: 24), VirtualAddress(T.ip("192.0.2.102"), prefixLength: 24)]
        n.priority = 120
        let a = r.handle(.reload(n), now: t + .milliseconds(300))
        #expect(a == [
            .removeAddresses([VirtualAddress(T.ip("192.0.2.100"), prefixLength: 24)]),
            .addAddresses([VirtualAddress(T.ip("192.0.2.102"), prefixLength: 24)]),
            .announce([VirtualAddress(T.ip("192.0.2.102"), prefixLength: 24)], rounds: 5),
            .notice(.priorityChanged(from: 100, to: 120)),
        ])
        #expect(r.state == .master)
        #expect(r.advertisementDeadline == deadline, "a reload never stalls or restarts the advert timer")
        #expect(r.advertisement(priority: r.effectivePriority).addresses.map(\.description) == ["192.0.2.101", "192.0.2.102"])
        // A BACKUP keeps its down timer.
        var b = T.backup()
        let before = b.masterDownDeadline
        var nb = T.config()
        nb.garp.masterRepeat = 3
        #expect(b.handle(.reload(nb), now: .seconds(1)).isEmpty)
        #expect(b.masterDownDeadline == before)
    }

    @Test("down_timer_adverts changes the multiplier; vrrp_strict forces it back to 3")
    func downTimerAdverts() {
        var c = T.config()
        c.downTimerAdverts = 5
        #expect(T.backup(c).masterDownDeadline == T.ns(5_609_375_000))
        c.strict = true
        #expect(T.backup(c).masterDownDeadline == T.ns(3_609_375_000))
        #expect(c.effective.lowerPriorityNoAdvert && !c.effective.higherPrioritySendAdvert)
    }

    @Test("checksum form on send: v2 message-only; v3 IPv4 pseudo-header unless v3_checksum_as_v2; IPv6 pseudo-header")
    func sendChecksumForm() {
        func form(_ c: VirtualRouterConfiguration) -> VRRPChecksumForm? {
            var r = T.router(c)
            var out = r.handle(.startup, now: .zero)
            if r.state != .master { out = r.handle(.timerFired, now: r.nextDeadline!) }
            for case .sendAdvertisement(_, _, let f) in out { return f }
            return nil
        }
        #expect(form(T.config()) == .messageOnly)
        #expect(form(T.config(version: .v3)) == .pseudoHeader)
        var rfc = T.config(version: .v3)
        rfc.checksumForm = .messageOnly
        #expect(form(rfc) == .messageOnly)
        var v6 = T.config(version: .v3, primary: "fe80::1", vips: ["fe80::53", "2001:db8::53"])
        v6.checksumForm = .messageOnly
        #expect(form(v6) == .pseudoHeader, "IPv6 always uses the pseudo-header")
        #expect(T.router(v6).advertisement(priority: 100).addresses.first == T.ip("fe80::53"))
    }

    @Test("configuration errors are thrown with the field named")
    func configurationErrors() {
        func error(_ edit: (inout VirtualRouterConfiguration) -> Void) -> String? {
            var c = T.config()
            edit(&c)
            do { _ = try VirtualRouter(configuration: c); return nil } catch { return error.field }
        }
        #expect(error { $0.virtualRouterID = 0 } == "virtual_router_id")
        #expect(error { $0.priority = 0 } == "priority")
        #expect(error { $0.advertisementInterval = 150 } == "advert_int")
        #expect(error { $0.version = .v3; $0.advertisementInterval = 4096 } == "advert_int")
        #expect(error { $0.version = .v3; $0.advertisementInterval = 0 } == "advert_int")
        #expect(error { $0.addresses.append(VirtualAddress(T.ip("2001:db8::1"))) } == "virtual_ipaddress")
        #expect(error { $0.version = .v3; $0.password = VRRPPassword("x") } == "authentication")
        #expect(error { $0.strict = true; $0.unicastPeers = [UnicastPeer(T.ip("192.0.2.2"))] } == "unicast_peer")
        #expect(error { $0.downTimerAdverts = 0 } == "down_timer_adverts")
        #expect(error { _ in } == nil)
        #expect(throws: VRRPConfigurationError.self) { try VRRPEngine(routers: [T.config("A"), T.config("B")]) }
        #expect(throws: VRRPConfigurationError.self) {
            try VRRPEngine(routers: [T.config("A")], syncGroups: [SyncGroupConfiguration(name: "G", members: ["A", "Z"])])
        }
    }

    @Test("counters: adverts sent and received, drops by reason, transitions by state")
    func counters() {
        var (r, t) = T.master(T.config(priority: 150))
        for i in 1...3 { _ = r.handle(.timerFired, now: t + .seconds(Double(i))) }
        _ = r.handle(.advertisement(T.advert(priority: 100)), now: t + .seconds(3.5))
        _ = r.handle(.advertisement(T.advert(priority: 100, hopLimit: 1)), now: t + .seconds(3.6))
        _ = r.handle(.advertisement(T.advert(priority: 0)), now: t + .seconds(3.7))
        #expect(r.counters.advertisementsSent == 1 + 3 + 1 + 1)
        #expect(r.counters.advertisementsReceived == 2)
        #expect(r.counters.priorityZeroReceived == 1)
        #expect(r.counters.drops(.badHopLimit) == 1)
        #expect(r.counters.totalDrops == 1)
        #expect(r.counters.transitions(to: .backup) == 1 && r.counters.transitions(to: .master) == 1)
        #expect(r.counters.received(.messageOnly) == 2)
    }

    @Test("no_accept: a non-owner MASTER blocks traffic to its addresses and lifts the block when it leaves; the owner always accepts")
    func acceptMode() {
        var c = T.config()
        c.acceptMode = false
        var r = T.backup(c)
        let up = r.handle(.timerFired, now: r.masterDownDeadline!)
        let vip = [VirtualAddress(T.ip("192.0.2.100"), prefixLength: 24)]
        #expect(Array(up.dropFirst().prefix(2)) == [.setAcceptMode(false), .addAddresses(vip)])
        let down = r.handle(.advertisement(T.advert(priority: 200)), now: .seconds(5))
        #expect(Array(down.prefix(2)) == [.removeAddresses(vip), .setAcceptMode(true)])
        var o = T.config(priority: 255)
        o.acceptMode = false
        var (m, _) = T.master(o)
        let all = m.handle(.shutdown, now: .seconds(1))
        #expect(!all.contains(.setAcceptMode(true)) && !all.contains(.setAcceptMode(false)))
    }
}
