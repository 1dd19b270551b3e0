/// How one simulated LAN segment mistreats the packets it carries.
///
/// Every delivery (one packet to one receiver) is decided on its own: lost with
/// probability ``loss``; otherwise delayed by a uniform draw from
/// ``minimumDelay``…``maximumDelay`` and, with probability ``duplication``, delivered a
/// second time with its own delay. Deliveries between one sender and one receiver stay
/// in order (a LAN does not reorder a flow), except the ones picked for reordering
/// (probability ``reordering``): those are held back by up to ``reorderDelay`` more and
/// may be overtaken.
public struct SimulationFaultModel: Sendable, Hashable {
    /// Probability that a delivery is lost (0…1).
    public var loss: Double
    /// Probability that a delivery is duplicated (0…1).
    public var duplication: Double
    public var minimumDelay: Duration
    public var maximumDelay: Duration
    /// Probability that a delivery is held back and may be overtaken (0…1).
    public var reordering: Double
    /// The longest extra hold of a reordered delivery.
    public var reorderDelay: Duration

    public init(loss: Double = 0, duplication: Double = 0, minimumDelay: Duration = .zero,
                maximumDelay: Duration? = nil, reordering: Double = 0, reorderDelay: Duration = .zero) {
        self.loss = loss
        self.duplication = duplication
        self.minimumDelay = minimumDelay
        self.maximumDelay = max(maximumDelay ?? minimumDelay, minimumDelay)
        self.reordering = reordering
        self.reorderDelay = reorderDelay
    }

    /// A perfect wire: nothing lost, duplicated or reordered, zero delay.
    public static let perfect = SimulationFaultModel()

    /// The longest time a delivery can take.
    public var maximumLatency: Duration { maximumDelay + (reordering > 0 ? reorderDelay : .zero) }

    /// Whether every delivery from one sender to one receiver arrives in sending order.
    public var preservesOrder: Bool { reordering <= 0 || reorderDelay <= .zero }
}

/// Something that happens to the simulated world at a chosen instant.
///
/// Node and segment numbers are the indices returned by ``Simulation/addNode(_:routers:syncGroups:interfaces:trackers:startAt:)``
/// and ``Simulation/addSegment(_:faults:)``.
public enum SimulationFault: Sendable, Hashable {
    /// Startup of a node that is off or was shut down (also how
    /// ``Simulation/addNode(_:routers:syncGroups:interfaces:trackers:startAt:)`` starts nodes).
    case start(node: Int)
    /// Silent stop: the engine freezes, no priority-0 advert, the installed addresses stay.
    case crash(node: Int)
    /// A process restart: a graceful shutdown if the node is running, then a fresh engine
    /// from the node's configurations, with the current interface and tracker states, and startup.
    case restart(node: Int)
    /// Graceful shutdown (the engine's `.shutdown`: a MASTER resigns with priority 0).
    case shutdown(node: Int)
    /// Nodes in different groups stop hearing each other on `segment`; nodes in no group
    /// form one more group together. Replaces any earlier partition of the segment.
    case partition(segment: Int, groups: [[Int]])
    /// Ends the partition of `segment`.
    case heal(segment: Int)
    /// A link goes down or up: packets stop or resume, and the engine hears `.interfaceChanged`.
    case interface(node: Int, name: String, up: Bool)
    case tracker(node: Int, TrackedObjectID, TrackerStatus)
    /// A new base priority for an instance (kept across restarts, like a configuration change).
    case priority(node: Int, instance: String, UInt8)
    /// A new fault model for a segment.
    case network(segment: Int, SimulationFaultModel)
    /// The node re-reads its configuration (SIGHUP): ``VRRPEngine/reload(routers:syncGroups:now:)``
    /// with the node's current configurations. Matched instances keep their state, so a reload
    /// is not a disturbance: the invariants are checked straight through it.
    case reload(node: Int)
}

/// How much of the run ``Simulation/trace`` records.
public enum SimulationTraceLevel: Int, Sendable, Hashable, Comparable {
    /// Nothing (fastest; invariants are still checked).
    case off
    /// Faults, state transitions, group transitions and violations.
    case transitions
    /// Every input, every action, every lost packet.
    case full

    public static func < (a: SimulationTraceLevel, b: SimulationTraceLevel) -> Bool { a.rawValue < b.rawValue }
}

/// Knobs of a ``Simulation``.
public struct SimulationOptions: Sendable, Hashable {
    public var trace: SimulationTraceLevel
    /// Encode every advert with the byte codec and decode it at each receiver (wire
    /// fidelity: checksums, lengths), instead of handing over the decoded value.
    public var throughCodec: Bool
    /// Check the invariants while running (``Simulation/violations``).
    public var checkInvariants: Bool
    /// Stop the run at the first violation.
    public var stopAtFirstViolation: Bool
    /// How long a segment must be free of disturbances before the steady-state invariants
    /// apply; `nil` computes it (see ``Simulation/settleTime(segment:)``).
    public var settleTime: Duration?

    public init(trace: SimulationTraceLevel = .full, throughCodec: Bool = false, checkInvariants: Bool = true,
                stopAtFirstViolation: Bool = true, settleTime: Duration? = nil) {
        self.trace = trace
        self.throughCodec = throughCodec
        self.checkInvariants = checkInvariants
        self.stopAtFirstViolation = stopAtFirstViolation
        self.settleTime = settleTime
    }
}

/// One broken invariant, with when and where.
public struct SimulationViolation: Error, Sendable, Hashable, CustomStringConvertible {
    /// The property that failed.
    public enum Property: String, Sendable, Hashable, CaseIterable {
        /// Two or more MASTERs for one (segment, VRID, family) once settled.
        case multipleMasters = "at most one master"
        /// Eligible routers are up but none is MASTER once settled.
        case noMaster = "a master exists"
        /// With preempt, a router with a higher effective priority stays BACKUP.
        case highestPriorityWins = "highest priority wins"
        /// The address owner (priority 255) is up but not MASTER.
        case ownerWins = "the owner wins"
        /// A router holds its virtual addresses without being MASTER, or the reverse.
        case onlyMasterHoldsAddresses = "only the master holds the addresses"
        /// Sync-group members of one node are in different states once settled.
        case syncGroupAgrees = "sync-group members agree"
        /// A silent crash was taken over outside (MDI − A, MDI] (plus the segment's latency).
        case crashTakeoverWindow = "crash takeover within (MDI - A, MDI]"
        /// A priority-0 resignation was taken over later than Skew_Time (plus latency).
        case priorityZeroHandover = "priority-0 handover within Skew_Time"
    }

    public var property: Property
    public var time: VRRPInstant
    public var message: String

    public init(_ property: Property, at time: VRRPInstant, _ message: String) {
        self.property = property
        self.time = time
        self.message = message
    }

    public var description: String { "\(SimulationTrace.format(time)) \(property.rawValue) violated: \(message)" }
}

/// A failover time the simulation measured and checked.
public struct SimulationMeasurement: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        case crashTakeover = "crash takeover"
        case priorityZeroHandover = "priority-0 handover"
    }

    public var kind: Kind
    /// The (segment, VRID, family) group, as text.
    public var group: String
    /// When the master crashed or resigned.
    public var start: VRRPInstant
    /// When the new master took over (`nil` if nobody did by the deadline).
    public var end: VRRPInstant?
    /// `node/instance` of the new master.
    public var taker: String?
    /// The window the elapsed time must fall in: lower bound exclusive for a crash
    /// ((MDI − A + min delay, MDI + max latency]), inclusive for a handover
    /// ([Skew + min delay, Skew + max latency]).
    public var window: ClosedRange<Duration>

    public init(kind: Kind, group: String, start: VRRPInstant, end: VRRPInstant?, taker: String?,
                window: ClosedRange<Duration>) {
        self.kind = kind
        self.group = group
        self.start = start
        self.end = end
        self.taker = taker
        self.window = window
    }

    /// `end − start`.
    public var elapsed: Duration? { end.map { $0 - start } }

    /// Whether the elapsed time is inside the window.
    public var isWithinWindow: Bool {
        guard let e = elapsed else { return false }
        switch kind {
        case .crashTakeover: return e > window.lowerBound && e <= window.upperBound
        case .priorityZeroHandover: return window.contains(e)
        }
    }

    public var description: String {
        let open = kind == .crashTakeover ? "(" : "["
        let e = elapsed.map { SimulationTrace.format($0) } ?? "none"
        return "\(kind.rawValue) on \(group) at \(SimulationTrace.format(start)) by \(taker ?? "nobody"): \(e) "
            + "in \(open)\(SimulationTrace.format(window.lowerBound)), \(SimulationTrace.format(window.upperBound))]"
    }
}

/// Counters of one run.
public struct SimulationStatistics: Sendable, Hashable {
    /// Events taken off the queue (including stale timers).
    public var events: Int = 0
    /// Inputs handed to engines.
    public var inputs: Int = 0
    public var advertisementsSent: Int = 0
    public var deliveries: Int = 0
    public var lost: Int = 0
    public var duplicated: Int = 0
    public var reordered: Int = 0
    /// Dropped by the codec (only with ``SimulationOptions/throughCodec``).
    public var codecDrops: Int = 0
    /// Settled-state invariant checks made (one per group per check).
    public var invariantChecks: Int = 0
    public init() {}
}
