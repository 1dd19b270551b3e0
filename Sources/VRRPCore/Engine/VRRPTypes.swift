/// The state of a virtual router: the RFC's three plus keepalived's FAULT and STOP.
public enum VRRPState: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// RFC Initialize: configured, not yet started (or waiting out `vrrp_startup_delay`).
    case initialize
    case backup
    /// RFC 9568's "Active".
    case master
    /// keepalived's FAULT: an interface or a tracker failed; no adverts are sent or processed.
    case fault
    /// Shut down (RFC: back to Initialize); reported to notify scripts as STOP.
    case stop

    /// keepalived's spelling in logs, notify arguments and FIFO lines.
    public var description: String {
        switch self {
        case .initialize: "INIT"
        case .backup: "BACKUP"
        case .master: "MASTER"
        case .fault: "FAULT"
        case .stop: "STOP"
        }
    }
}

/// Why a transition happened.
public enum TransitionReason: Sendable, Hashable, CustomStringConvertible {
    case startup
    /// The owner (priority 255) starts as MASTER at once.
    case ownerStartup
    /// Master_Down_Timer expired (no advert heard, or a lower one discarded under preempt).
    case masterDownTimer
    /// An advert with a higher priority (or an equal one from a higher address).
    case higherPriority(from: IPAddress, priority: UInt8)
    /// The instance faulted: its interface, a tracker, or (for groups) another member.
    case fault(FaultReason)
    /// The fault cleared.
    case faultCleared
    /// A sync-group member moved the whole group.
    case syncGroup(member: String)
    case shutdown

    public var description: String {
        switch self {
        case .startup: "startup"
        case .ownerStartup: "address owner"
        case .masterDownTimer: "master down timer expired"
        case .higherPriority(let a, let p): "higher priority \(p) advert from \(a)"
        case .fault(let r): "fault: \(r)"
        case .faultCleared: "fault cleared"
        case .syncGroup(let m): "sync group member \(m)"
        case .shutdown: "shutdown"
        }
    }
}

/// What keeps an instance in FAULT.
public enum FaultReason: Sendable, Hashable, CustomStringConvertible {
    case interfaceDown(String)
    case tracker(TrackedObjectID)
    case syncGroupMember(String)

    public var description: String {
        switch self {
        case .interfaceDown(let i): "interface \(i) down"
        case .tracker(let t): "\(t) failed"
        case .syncGroupMember(let m): "sync group member \(m) in FAULT"
        }
    }
}

/// Things worth logging or exporting that are not transitions or drops.
public enum VRRPNotice: Sendable, Hashable, CustomStringConvertible {
    /// A MASTER heard a lower priority (or an equal one from a lower address): split-brain
    /// repair (keepalived's `MASTER_RX_LOWER_PRI`).
    case masterReceivedLowerPriority(from: IPAddress, priority: UInt8)
    /// A BACKUP discarded a lower-priority advert (preempt on).
    case backupDiscardedLowerPriority(from: IPAddress, priority: UInt8)
    /// The effective priority changed (trackers, reload, owner conflict).
    case priorityChanged(from: UInt8, to: UInt8)
    /// VRRPv3: the advert's interval differs from ours (logged, not dropped; §7.1).
    case intervalMismatch(from: IPAddress, interval: UInt16)
    /// The address list differs from ours (counted; dropped only with the optional check).
    case addressListMismatch(from: IPAddress)
    /// Another router also claims priority 255.
    case ownerConflict(from: IPAddress)
    /// `preempt_delay` started: lower-priority adverts are accepted until the given time.
    case preemptDelayStarted(until: VRRPInstant)
    /// Sync group: this member wants MASTER but waits for the others.
    case waitingForSyncGroup

    public var description: String {
        switch self {
        case .masterReceivedLowerPriority(let a, let p): "received advert with priority \(p) from \(a), which loses to ours; forcing new election"
        case .backupDiscardedLowerPriority(let a, let p): "received lower priority \(p) advert from \(a), discarding"
        case .priorityChanged(let f, let t): "effective priority changed from \(f) to \(t)"
        case .intervalMismatch(let a, let i): "advert interval \(i) cs from \(a) differs from ours"
        case .addressListMismatch(let a): "address list from \(a) differs from ours"
        case .ownerConflict(let a): "CONFIGURATION ERROR: \(a) also advertises priority 255"
        case .preemptDelayStarted(let u): "preempt delay until \(u)"
        case .waitingForSyncGroup: "waiting for the sync group to become MASTER"
        }
    }
}

/// What the state machine asks its environment to do, in order.
///
/// The runner executes actions through its ports; tests compare them exactly.
public enum VRRPAction: Sendable, Hashable, CustomStringConvertible {
    /// Send one advert to one destination (the group, or one unicast peer).
    case sendAdvertisement(VRRPAdvertisement, destination: IPAddress, checksumForm: VRRPChecksumForm)
    case addAddresses([VirtualAddress])
    case removeAddresses([VirtualAddress])
    case addRoutes([VirtualRoute])
    case removeRoutes([VirtualRoute])
    case addRules([VirtualRule])
    case removeRules([VirtualRule])
    /// Send `rounds` gratuitous ARPs (IPv4) or unsolicited NAs (IPv6) for each address.
    case announce([VirtualAddress], rounds: Int)
    /// Accept_Mode: `false` blocks traffic to the virtual addresses (`no_accept`) while
    /// MASTER; `true` lifts the block. Emitted only for non-accepting, non-owner routers.
    case setAcceptMode(Bool)
    /// A state change, for notify scripts, FIFOs, logs and metrics.
    case transition(from: VRRPState, to: VRRPState, reason: TransitionReason)
    /// A received packet was not processed (also counted).
    case drop(VRRPDropReason, source: IPAddress?)
    case notice(VRRPNotice)

    public var description: String {
        switch self {
        case .sendAdvertisement(let a, let d, _): "send advert prio \(a.priority) to \(d)"
        case .addAddresses(let a): "add addresses \(a)"
        case .removeAddresses(let a): "remove addresses \(a)"
        case .addRoutes(let r): "add routes \(r)"
        case .removeRoutes(let r): "remove routes \(r)"
        case .addRules(let r): "add rules \(r)"
        case .removeRules(let r): "remove rules \(r)"
        case .announce(let a, let n): "announce \(a.map(\.address)) x\(n)"
        case .setAcceptMode(let b): b ? "accept mode on" : "accept mode off (block virtual address traffic)"
        case .transition(let f, let t, let r): "\(f) -> \(t) (\(r))"
        case .drop(let r, let s): "drop \(s.map { "from \($0) " } ?? "")(\(r))"
        case .notice(let n): n.description
        }
    }
}

/// Per-instance counters: every advert sent and received, every drop reason, every transition.
public struct VRRPCounters: Sendable, Hashable {
    /// Adverts handed to the transport (one per destination).
    public var advertisementsSent: UInt64 = 0
    /// Priority-0 adverts sent (resigning).
    public var priorityZeroSent: UInt64 = 0
    /// Adverts that passed every check and reached the state machine.
    public var advertisementsReceived: UInt64 = 0
    /// Priority-0 adverts received.
    public var priorityZeroReceived: UInt64 = 0
    /// Received adverts by the checksum form that verified (index: `VRRPChecksumForm.rawValue`).
    public var receivedByChecksumForm: [UInt64] = Array(repeating: 0, count: VRRPChecksumForm.allCases.count)
    /// Drops by reason (index: `VRRPDropReason.rawValue`).
    public var drops: [UInt64] = Array(repeating: 0, count: VRRPDropReason.allCases.count)
    /// Transitions by target state (index: `VRRPState.rawValue`).
    public var transitionsTo: [UInt64] = Array(repeating: 0, count: VRRPState.allCases.count)
    /// Adverts whose address list differed from ours.
    public var addressListMismatches: UInt64 = 0
    /// VRRPv3 adverts whose interval differed from ours.
    public var intervalMismatches: UInt64 = 0
    /// Losing adverts heard while MASTER (split-brain signs).
    public var lowerPriorityReceivedAsMaster: UInt64 = 0
    /// Gratuitous ARP / NA bursts requested.
    public var announcementBursts: UInt64 = 0

    /// All counters at zero.
    public init() {}

    /// Drops for `reason`.
    public func drops(_ reason: VRRPDropReason) -> UInt64 { drops[Int(reason.rawValue)] }
    /// Transitions into `state`.
    public func transitions(to state: VRRPState) -> UInt64 { transitionsTo[Int(state.rawValue)] }
    /// Accepted adverts that verified in `form`.
    public func received(_ form: VRRPChecksumForm) -> UInt64 { receivedByChecksumForm[Int(form.rawValue)] }
    /// All drops.
    public var totalDrops: UInt64 { drops.reduce(0, +) }
}

/// The RFC timer formulas, in one place.
///
/// Rounding rule: intervals are whole centiseconds (the v3 wire unit; v2 seconds × 100).
/// Skew_Time is computed exactly in nanoseconds and truncated below one nanosecond:
/// v2 `(256 − P) × 1 s / 256`, v3 `(256 − P) × Master_Adver_Interval / 256`. It is NOT
/// truncated to centiseconds (FRR does; its 218.75 ms becomes 210 ms). keepalived keeps
/// microseconds, so kad's deadlines agree with keepalived's to within 1 µs.
public enum VRRPTimers {
    /// Skew_Time for `priority` (the effective priority; 255 for the owner).
    @inlinable
    public static func skewTime(version: VRRPVersion, priority: UInt8, masterAdvertisementInterval: UInt16) -> Duration {
        let p = Int64(256 - Int(priority))
        switch version {
        case .v2: return .nanoseconds(p * 1_000_000_000 / 256)
        case .v3: return .nanoseconds(p * Int64(masterAdvertisementInterval) * 10_000_000 / 256)
        }
    }

    /// Master_Down_Interval = `downTimerAdverts` × interval + Skew_Time.
    @inlinable
    public static func masterDownInterval(version: VRRPVersion, priority: UInt8, masterAdvertisementInterval: UInt16,
                                          downTimerAdverts: UInt8 = 3) -> Duration {
        .nanoseconds(Int64(downTimerAdverts) * Int64(masterAdvertisementInterval) * 10_000_000)
            + skewTime(version: version, priority: priority, masterAdvertisementInterval: masterAdvertisementInterval)
    }
}
