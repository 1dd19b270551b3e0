import Testing
@testable import VRRPCore

/// One test per [C] item of the conformance checklist (vrrp-protocol.md §1.8), named with
/// the item number. Docs/conformance.md maps every item to its test.
@Suite("Conformance: state machine ([C] items)")
struct ConformanceTests {
    // v2, A = 1 s, P = 100: Skew = 156/256 s = 0.609375 s; MDI = 3 s + Skew = 3.609375 s.
    let mdi100: Int64 = 3_609_375_000
    let skew100: Int64 = 609_375_000

    @Test("checklist 7: the owner advertises 255; a non-owner only 1-254")
    func item7() {
        var owner = T.config(priority: 255)
        owner.trackers = [TrackerBinding(.init(.script, "chk"), weight: -50)]
        var r = T.router(owner)
        let a = r.handle(.startup, now: .zero)
        #expect(T.sends(a).map(\.priority) == [255])
        _ = r.handle(.trackerChanged(.init(.script, "chk"), .down), now: .seconds(0.5))
        #expect(r.effectivePriority == 255, "an owner's priority is never adjusted")

        var high = T.config(priority: 200)
        high.trackers = [TrackerBinding(.init(.script, "up"), weight: 100)]
        var h = T.router(high)
        _ = h.handle(.trackerChanged(.init(.script, "up"), .up), now: .zero)
        #expect(h.effectivePriority == 254, "weights never lift a non-owner to 255")
        var low = T.config(priority: 20)
        low.trackers = [TrackerBinding(.init(.script, "dn"), weight: -100)]
        var l = T.router(low)
        _ = l.handle(.trackerChanged(.init(.script, "dn"), .down), now: .zero)
        #expect(l.effectivePriority == 1, "weights never push a running router to 0")
        let (m, _) = T.master(high)
        #expect(m.advertisement(priority: m.effectivePriority).priority == 200)
    }

    @Test("checklist 19: a VRID not configured on the receiving interface is dropped")
    func item19() throws {
        var e = try VRRPEngine(routers: [T.config(vrid: 51)])
        _ = e.handle(.startup, now: .zero)
        let out = e.handle(.packet(T.advert(priority: 100, vrid: 52), interface: "eth0"), now: .seconds(1))
        #expect(out == [.unrouted(.unknownVirtualRouter, interface: "eth0", source: T.ip("192.0.2.2"))])
        let other = e.handle(.packet(T.advert(priority: 100, vrid: 51), interface: "eth1"), now: .seconds(1))
        #expect(other.count == 1)
        #expect(e.unroutedDrops[Int(VRRPDropReason.unknownVirtualRouter.rawValue)] == 2)
        #expect(e.routers[0].counters.advertisementsReceived == 0)
    }

    @Test("checklist 20: v2 drops an interval mismatch; v3 only logs it")
    func item20() {
        var r2 = T.backup(T.config(version: .v2, interval: 100))
        let d = r2.handle(.advertisement(T.advert(priority: 200, interval: 200)), now: .seconds(1))
        #expect(T.drops(d) == [.intervalMismatch])
        #expect(r2.masterDownDeadline == T.ns(mdi100), "a dropped advert does not re-arm the timer")
        #expect(r2.counters.drops(.intervalMismatch) == 1)

        var r3 = T.backup(T.config(version: .v3, interval: 100))
        let a = r3.handle(.advertisement(T.advert(priority: 200, version: .v3, interval: 200,
                                                   checksumForm: .pseudoHeader)), now: .seconds(1))
        #expect(T.drops(a).isEmpty)
        #expect(a.contains(.notice(.intervalMismatch(from: T.ip("192.0.2.2"), interval: 200))))
        #expect(r3.counters.intervalMismatches == 1)
        #expect(r3.masterAdvertisementInterval == 200)
    }

    @Test("checklist 21: v2 drops an unknown or mismatched Auth Type, and a wrong password")
    func item21() {
        var c = T.config()
        c.password = VRRPPassword("secret12")
        var r = T.backup(c)
        let none = r.handle(.advertisement(T.advert(priority: 200)), now: .seconds(1))
        #expect(T.drops(none) == [.authenticationTypeMismatch])
        let unknown = r.handle(.advertisement(T.advert(priority: 200, authType: 7)), now: .seconds(1))
        #expect(T.drops(unknown) == [.authenticationTypeMismatch])
        let wrong = r.handle(.advertisement(T.advert(priority: 200, authType: 1,
                                                      authData: VRRPPassword("secret13").rawValue)), now: .seconds(1))
        #expect(T.drops(wrong) == [.authenticationFailure])
        let right = r.handle(.advertisement(T.advert(priority: 200, authType: 1,
                                                      authData: VRRPPassword("secret12").rawValue)), now: .seconds(1))
        #expect(T.drops(right).isEmpty)
        #expect(r.counters.advertisementsReceived == 1)
        // Without authentication configured, a PASS advert is a type mismatch.
        var plain = T.backup()
        let pass = plain.handle(.advertisement(T.advert(priority: 200, authType: 1)), now: .seconds(1))
        #expect(T.drops(pass) == [.authenticationTypeMismatch])
    }

    @Test("checklist 25: the optional address-list check drops a mismatch unless the sender is the owner")
    func item25() {
        var c = T.config()
        c.dropAddressListMismatch = true
        var r = T.backup(c)
        let other = r.handle(.advertisement(T.advert(priority: 200, addresses: ["192.0.2.99"])), now: .seconds(1))
        #expect(T.drops(other) == [.addressListMismatch])
        let owner = r.handle(.advertisement(T.advert(priority: 255, addresses: ["192.0.2.99"])), now: .seconds(1))
        #expect(T.drops(owner).isEmpty)
        // Same set in another order is not a mismatch.
        var two = T.config(vips: ["192.0.2.100", "192.0.2.101"])
        two.dropAddressListMismatch = true
        var r2 = T.backup(two)
        let swapped = r2.handle(.advertisement(T.advert(priority: 200, addresses: ["192.0.2.101", "192.0.2.100"])),
                                now: .seconds(1))
        #expect(T.drops(swapped).isEmpty)
        // Default (RFC 9568, keepalived 2.3.3+): counted and reported, not dropped.
        var d = T.backup()
        let counted = d.handle(.advertisement(T.advert(priority: 200, addresses: ["192.0.2.99"])), now: .seconds(1))
        #expect(T.drops(counted).isEmpty)
        #expect(counted.contains(.notice(.addressListMismatch(from: T.ip("192.0.2.2")))))
        #expect(d.counters.addressListMismatches == 1)
    }

    @Test("checklist 26: the owner processes adverts by default (erratum 8298) and drops them with owner_ignore_adverts")
    func item26() {
        var c = T.config(priority: 255)
        var (r, _) = T.master(c)
        let a = r.handle(.advertisement(T.advert(priority: 100)), now: .seconds(0.5))
        #expect(T.drops(a).isEmpty)
        #expect(r.counters.lowerPriorityReceivedAsMaster == 1)
        c.ownerIgnoresAdverts = true
        var (i, _) = T.master(c)
        let b = i.handle(.advertisement(T.advert(priority: 100)), now: .seconds(0.5))
        #expect(T.drops(b) == [.ownerIgnoresAdverts])
        var strict = T.config(priority: 255)
        strict.strict = true
        var (s, _) = T.master(strict)
        #expect(T.drops(s.handle(.advertisement(T.advert(priority: 100)), now: .seconds(0.5))) == [.ownerIgnoresAdverts])
    }

    @Test("checklist 29: the owner starts by advertising, announcing every address, arming Adver_Timer and going Active")
    func item29() {
        var r = T.router(T.config(priority: 255, vips: ["192.0.2.100", "192.0.2.101"]))
        let a = r.handle(.startup, now: T.ms(10))
        let vips = [VirtualAddress(T.ip("192.0.2.100"), prefixLength: 24), VirtualAddress(T.ip("192.0.2.101"), prefixLength: 24)]
        #expect(a == [
            .sendAdvertisement(r.advertisement(priority: 255), destination: T.ip("224.0.0.18"), checksumForm: .messageOnly),
            .addAddresses(vips),
            .announce(vips, rounds: 5),
            .transition(from: .initialize, to: .master, reason: .ownerStartup),
        ])
        #expect(r.advertisementDeadline == T.ms(1010))
        #expect(r.masterDownDeadline == nil)
    }

    @Test("checklist 30: a non-owner starts as Backup with Master_Adver_Interval = its own and the down timer at MDI")
    func item30() {
        var r = T.router(T.config(priority: 100))
        let a = r.handle(.startup, now: .zero)
        #expect(a == [.transition(from: .initialize, to: .backup, reason: .startup)])
        #expect(r.masterDownDeadline == T.ns(mdi100))
        // v3, A = 100 cs, P = 200: Skew = 56 × 1 s / 256 = 218.75 ms; MDI = 3.21875 s (FRR truncates to 3.21 s).
        var v3 = T.router(T.config(priority: 200, version: .v3, interval: 100))
        _ = v3.handle(.startup, now: .zero)
        #expect(v3.masterAdvertisementInterval == 100)
        #expect(v3.masterDownDeadline == T.ns(3_218_750_000))
    }

    @Test("checklist 31: Backup + Shutdown cancels the down timer and leaves Backup")
    func item31() {
        var r = T.backup()
        let a = r.handle(.shutdown, now: .seconds(1))
        #expect(a == [.transition(from: .backup, to: .stop, reason: .shutdown)])
        #expect(r.nextDeadline == nil)
        #expect(T.sends(a).isEmpty)
    }

    @Test("checklist 32: Backup + down timer: advertise, announce, arm Adver_Timer, go Active")
    func item32() {
        var r = T.backup()
        let a = r.handle(.timerFired, now: T.ns(mdi100))
        let vip = [VirtualAddress(T.ip("192.0.2.100"), prefixLength: 24)]
        #expect(a == [
            .sendAdvertisement(r.advertisement(priority: 100), destination: T.ip("224.0.0.18"), checksumForm: .messageOnly),
            .addAddresses(vip),
            .announce(vip, rounds: 5),
            .transition(from: .backup, to: .master, reason: .masterDownTimer),
        ])
        #expect(r.advertisementDeadline == T.ns(mdi100 + 1_000_000_000))
        // Calling early does nothing.
        var early = T.backup()
        #expect(early.handle(.timerFired, now: T.ns(mdi100 - 1)).isEmpty)
        #expect(early.state == .backup)
    }

    @Test("checklist 33: Backup + priority-0 advert sets the down timer to Skew_Time")
    func item33() {
        var r = T.backup()
        _ = r.handle(.advertisement(T.advert(priority: 0)), now: .seconds(2))
        #expect(r.masterDownDeadline == T.ns(2_000_000_000 + skew100))
        #expect(r.counters.priorityZeroReceived == 1)
        // v3 with A = 10 cs, P = 100: Skew = 156 × 100 ms / 256 = 60.9375 ms.
        var v3 = T.backup(T.config(version: .v3, interval: 10))
        _ = v3.handle(.advertisement(T.advert(priority: 0, version: .v3, interval: 10, checksumForm: .pseudoHeader)),
                      now: .seconds(1))
        #expect(v3.masterDownDeadline == T.ns(1_060_937_500))
    }

    @Test("checklist 34: Backup + advert >= own priority (or preempt off) adopts the interval and re-arms MDI")
    func item34() {
        // v3: adopt 50 cs. MDI = 3 × 0.5 s + 156 × 0.5 s / 256 = 1.5 + 0.3046875 = 1.8046875 s.
        var r = T.backup(T.config(version: .v3, interval: 100))
        _ = r.handle(.advertisement(T.advert(priority: 100, version: .v3, interval: 50, checksumForm: .pseudoHeader)),
                     now: .seconds(1))
        #expect(r.masterAdvertisementInterval == 50)
        #expect(r.masterDownDeadline == T.ns(1_000_000_000 + 1_804_687_500))
        #expect(r.masterAddress == T.ip("192.0.2.2"))
        // Preempt off: a lower priority also re-arms.
        var c = T.config(priority: 200)
        c.preempt = false
        var n = T.backup(c)
        _ = n.handle(.advertisement(T.advert(priority: 50)), now: .seconds(1))
        // P = 200: MDI = 3 + 56/256 = 3.21875 s.
        #expect(n.masterDownDeadline == T.ns(1_000_000_000 + 3_218_750_000))
    }

    @Test("checklist 35: Backup + lower priority with preempt on: discarded, timer NOT re-armed")
    func item35() {
        var r = T.backup(T.config(priority: 200))
        let before = r.masterDownDeadline
        let a = r.handle(.advertisement(T.advert(priority: 100)), now: .seconds(1))
        #expect(r.masterDownDeadline == before)
        #expect(a == [.notice(.backupDiscardedLowerPriority(from: T.ip("192.0.2.2"), priority: 100))])
        let b = r.handle(.timerFired, now: before!)
        #expect(T.transitions(b).map(\.1) == [.master])
    }

    @Test("checklist 36: Active + Shutdown: cancel Adver_Timer, send priority 0, leave Active")
    func item36() {
        var (r, t) = T.master()
        let a = r.handle(.shutdown, now: t + .milliseconds(100))
        #expect(a == [
            .sendAdvertisement(r.advertisement(priority: 0), destination: T.ip("224.0.0.18"), checksumForm: .messageOnly),
            .removeAddresses([VirtualAddress(T.ip("192.0.2.100"), prefixLength: 24)]),
            .transition(from: .master, to: .stop, reason: .shutdown),
        ])
        #expect(r.nextDeadline == nil)
        #expect(r.counters.priorityZeroSent == 1)
    }

    @Test("checklist 37: Active + Adver_Timer: send an advert and re-arm")
    func item37() {
        var (r, t) = T.master()
        let due = r.advertisementDeadline!
        #expect(due == t + .seconds(1))
        let a = r.handle(.timerFired, now: due)
        #expect(T.sends(a).map(\.priority) == [100])
        #expect(r.advertisementDeadline == due + .seconds(1))
        // v3 A = 10 cs: adverts every 100 ms.
        var (v3, t3) = T.master(T.config(version: .v3, interval: 10))
        #expect(v3.advertisementDeadline == t3 + .milliseconds(100))
        _ = v3.handle(.timerFired, now: t3 + .milliseconds(100))
        #expect(v3.advertisementDeadline == t3 + .milliseconds(200))
    }

    @Test("checklist 38: Active + priority-0 advert: send an advert at once and re-arm Adver_Timer")
    func item38() {
        var (r, t) = T.master()
        let now = t + .milliseconds(300)
        let a = r.handle(.advertisement(T.advert(priority: 0)), now: now)
        #expect(T.sends(a).map(\.priority) == [100])
        #expect(r.advertisementDeadline == now + .seconds(1))
        #expect(r.state == .master)
    }

    @Test("checklist 39: Active + higher priority, or equal priority from a larger address: go Backup with the learned interval")
    func item39() {
        var (r, t) = T.master(T.config(version: .v3, interval: 100))
        let now = t + .milliseconds(500)
        let a = r.handle(.advertisement(T.advert(priority: 150, version: .v3, interval: 200, checksumForm: .pseudoHeader)),
                         now: now)
        #expect(T.transitions(a).map(\.1) == [.backup])
        #expect(T.sends(a).isEmpty)
        #expect(a.contains(.removeAddresses([VirtualAddress(T.ip("192.0.2.100"), prefixLength: 24)])))
        #expect(r.masterAdvertisementInterval == 200)
        // MDI = 3 × 2 s + 156 × 2 s / 256 = 6 + 1.21875 s.
        #expect(r.masterDownDeadline == now + .nanoseconds(7_218_750_000))

        // Equal priority: the larger address (unsigned, network order) wins.
        var (e, te) = T.master(T.config(primary: "192.0.2.10"))
        let higher = e.handle(.advertisement(T.advert(from: "192.0.2.11", priority: 100)), now: te + .milliseconds(1))
        #expect(T.transitions(higher).map(\.1) == [.backup])
        var (f, tf) = T.master(T.config(primary: "192.0.2.10"))
        let lower = f.handle(.advertisement(T.advert(from: "192.0.2.9", priority: 100)), now: tf + .milliseconds(1))
        #expect(T.transitions(lower).isEmpty)
        #expect(f.state == .master)
        // 192.0.2.200 > 192.0.2.30 as unsigned bytes (not as text).
        var (g, tg) = T.master(T.config(primary: "192.0.2.30"))
        _ = g.handle(.advertisement(T.advert(from: "192.0.2.200", priority: 100)), now: tg + .milliseconds(1))
        #expect(g.state == .backup)
    }

    @Test("checklist 40: Active + losing advert: discard and advertise at once (RFC 9568); silent with lower_prio_no_advert")
    func item40() {
        var (r, t) = T.master(T.config(priority: 150))
        let now = t + .milliseconds(250)
        let a = r.handle(.advertisement(T.advert(priority: 100)), now: now)
        #expect(r.state == .master)
        #expect(T.sends(a).map(\.priority) == [150])
        #expect(a.contains(.notice(.masterReceivedLowerPriority(from: T.ip("192.0.2.2"), priority: 100))))
        #expect(r.advertisementDeadline == now + .seconds(1))
        var c = T.config(priority: 150)
        c.lowerPriorityNoAdvert = true
        var (q, tq) = T.master(c)
        let b = q.handle(.advertisement(T.advert(priority: 100)), now: tq + .milliseconds(250))
        #expect(T.sends(b).isEmpty)
        #expect(q.advertisementDeadline == tq + .seconds(1))
        var strict = T.config(priority: 150)
        strict.strict = true
        var (s, ts) = T.master(strict)
        #expect(T.sends(s.handle(.advertisement(T.advert(priority: 100)), now: ts + .milliseconds(250))).isEmpty)
    }

    @Test("checklist 41: the owner always preempts; Preempt_Mode is never consulted in Active")
    func item41() {
        var c = T.config(priority: 255)
        c.preempt = false
        var r = T.router(c)
        _ = r.handle(.startup, now: .zero)
        #expect(r.state == .master, "the owner ignores nopreempt")
        // A nopreempt MASTER still yields to a higher priority.
        var n = T.config(priority: 100)
        n.preempt = false
        var (m, t) = T.master(n)
        _ = m.handle(.advertisement(T.advert(priority: 200)), now: t + .milliseconds(1))
        #expect(m.state == .backup)
        // An owner in BACKUP (it lost a two-owner tie) discards lower priorities even with nopreempt.
        var (o, to) = T.master(c)
        _ = o.handle(.advertisement(T.advert(from: "192.0.2.9", priority: 255)), now: to + .seconds(1))
        #expect(o.state == .backup)
        let armed = o.masterDownDeadline
        _ = o.handle(.advertisement(T.advert(priority: 100)), now: to + .seconds(2))
        #expect(o.masterDownDeadline == armed, "nopreempt would have re-armed the timer")
    }
}
