/// The properties a VRRP deployment must keep, as pure checks over snapshots.
///
/// ``Simulation`` calls these while it runs; they are public so that other harnesses
/// (and tests of the checker itself) can use them. Each check returns `nil` when the
/// property holds, or a ``SimulationViolation`` naming the time, the group and the routers.
///
/// "Settled" means no disturbance (fault, loss, partition, configuration change) has
/// touched the group for ``Simulation/settleTime(segment:)``; the steady-state properties
/// (one MASTER, a MASTER exists, the highest priority wins, sync groups agree) only apply then.
public enum SimulationInvariants {
    /// One router of a (segment, VRID, family) group, as the checks see it.
    public struct Member: Sendable, Hashable {
        /// `node/instance`, for messages.
        public var name: String
        public var state: VRRPState
        public var effectivePriority: UInt8
        public var preempt: Bool
        /// Priority 255 and not demoted.
        public var isOwner: Bool
        /// Its node runs (started, not crashed).
        public var alive: Bool
        /// The link of its interface is up.
        public var linkUp: Bool
        /// It has virtual addresses configured.
        public var hasAddresses: Bool
        /// Its addresses are installed.
        public var holdsAddresses: Bool

        public init(name: String, state: VRRPState, effectivePriority: UInt8, preempt: Bool = true,
                    isOwner: Bool = false, alive: Bool = true, linkUp: Bool = true,
                    hasAddresses: Bool = false, holdsAddresses: Bool = false) {
            self.name = name
            self.state = state
            self.effectivePriority = effectivePriority
            self.preempt = preempt
            self.isOwner = isOwner
            self.alive = alive
            self.linkUp = linkUp
            self.hasAddresses = hasAddresses
            self.holdsAddresses = holdsAddresses
        }

        /// Could be MASTER: alive, link up, and running (BACKUP or MASTER, not INIT, FAULT or STOP).
        public var isEligible: Bool { alive && linkUp && (state == .backup || state == .master) }

        var label: String { "\(name) (\(state), prio \(effectivePriority))" }
    }

    /// At most one eligible MASTER in the group.
    public static func atMostOneMaster(_ group: String, _ members: [Member], at t: VRRPInstant) -> SimulationViolation? {
        let masters = members.filter { $0.isEligible && $0.state == .master }
        guard masters.count > 1 else { return nil }
        return SimulationViolation(.multipleMasters, at: t,
                                   "\(group): \(masters.count) masters: " + masters.map(\.label).joined(separator: ", "))
    }

    /// While any router of the group is eligible, one of them is MASTER.
    public static func masterExists(_ group: String, _ members: [Member], at t: VRRPInstant) -> SimulationViolation? {
        let eligible = members.filter(\.isEligible)
        guard !eligible.isEmpty, !eligible.contains(where: { $0.state == .master }) else { return nil }
        return SimulationViolation(.noMaster, at: t,
                                   "\(group): no master among " + eligible.map(\.label).joined(separator: ", "))
    }

    /// The owner is MASTER whenever it is eligible; otherwise no eligible BACKUP with
    /// preempt has a higher effective priority than the MASTER. (Equal priorities do not
    /// preempt; the address breaks ties only between two MASTERs.)
    public static func highestPriorityWins(_ group: String, _ members: [Member], at t: VRRPInstant) -> SimulationViolation? {
        let masters = members.filter { $0.isEligible && $0.state == .master }
        guard masters.count == 1, let m = masters.first else { return nil }
        for r in members where r.isEligible && r.state == .backup {
            if r.isOwner && !m.isOwner {
                return SimulationViolation(.ownerWins, at: t, "\(group): the owner \(r.label) is not master; \(m.label) is")
            }
            if r.preempt && r.effectivePriority > m.effectivePriority && !m.isOwner {
                return SimulationViolation(.highestPriorityWins, at: t,
                                           "\(group): \(r.label) has preempt and a higher priority than the master \(m.label)")
            }
        }
        return nil
    }

    /// On every running node, a router holds its addresses exactly when it is MASTER.
    public static func onlyMasterHoldsAddresses(_ group: String, _ members: [Member], at t: VRRPInstant) -> SimulationViolation? {
        for r in members where r.alive && r.hasAddresses && r.holdsAddresses != (r.state == .master) {
            let what = r.holdsAddresses ? "holds the addresses but is not master" : "is master without its addresses"
            return SimulationViolation(.onlyMasterHoldsAddresses, at: t, "\(group): \(r.label) \(what)")
        }
        return nil
    }

    /// All the steady-state properties of one group, in order.
    public static func settled(_ group: String, _ members: [Member], at t: VRRPInstant) -> [SimulationViolation] {
        [atMostOneMaster(group, members, at: t), masterExists(group, members, at: t),
         highestPriorityWins(group, members, at: t), onlyMasterHoldsAddresses(group, members, at: t)]
            .compactMap { $0 }
    }

    /// The members of one sync group on one running node are all in the same state.
    public static func syncGroupAgrees(_ group: String, _ members: [Member], at t: VRRPInstant) -> SimulationViolation? {
        let live = members.filter(\.alive)
        guard let first = live.first, live.contains(where: { $0.state != first.state }) else { return nil }
        return SimulationViolation(.syncGroupAgrees, at: t,
                                   "sync group \(group): members disagree: " + live.map(\.label).joined(separator: ", "))
    }

    /// The window for a takeover after a silent crash: the new master's down timer was last
    /// reset by the crashed master's last advert, sent between 0 and A before the crash, so
    /// the takeover comes (MDI − A, MDI] after it, plus the delivery delay of that advert.
    /// The lower bound is exclusive (see ``SimulationMeasurement/isWithinWindow``).
    ///
    /// A sync group goes MASTER only when all its members' timers have expired (keepalived
    /// 2.x): pass the slowest member's MDI as `syncGroupMasterDownInterval`, and the longest
    /// latency of all the group's segments as `maximumLatency`.
    public static func crashTakeoverWindow(masterDownInterval mdi: Duration, advertisementInterval a: Duration,
                                           minimumDelay: Duration = .zero, maximumLatency: Duration = .zero,
                                           syncGroupMasterDownInterval: Duration? = nil) -> ClosedRange<Duration> {
        (mdi - a + minimumDelay)...(max(mdi, syncGroupMasterDownInterval ?? mdi) + maximumLatency)
    }

    /// The window for a takeover after a priority-0 advert: the BACKUP arms Skew_Time when
    /// the advert arrives. For a sync group, pass the slowest member's Skew_Time.
    public static func priorityZeroHandoverWindow(skewTime: Duration, minimumDelay: Duration = .zero,
                                                  maximumLatency: Duration = .zero,
                                                  syncGroupSkewTime: Duration? = nil) -> ClosedRange<Duration> {
        (skewTime + minimumDelay)...(max(skewTime, syncGroupSkewTime ?? skewTime) + maximumLatency)
    }

    /// A finished measurement against its window.
    public static func check(_ m: SimulationMeasurement, at t: VRRPInstant) -> SimulationViolation? {
        guard !m.isWithinWindow else { return nil }
        let property: SimulationViolation.Property = m.kind == .crashTakeover ? .crashTakeoverWindow : .priorityZeroHandover
        return SimulationViolation(property, at: t, m.description)
    }
}
