/// An IPVS scheduler, by the name the kernel knows it by (`IPVS_SVC_ATTR_SCHED_NAME`; the
/// module is `ip_vs_NAME`).
///
/// ``init(_:)`` accepts only the names keepalived accepts (``known``); ``init(rawValue:)``
/// takes any name, as replies from the kernel carry them (`none` for a service without one).
///
/// ```swift
/// let s = IPVSScheduler("wrr")     // .weightedRoundRobin
/// IPVSScheduler("fastest")         // nil
/// ```
public struct IPVSScheduler: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    /// The scheduler's name, as sent to the kernel (at most 15 bytes).
    public let rawValue: String
    /// Any name; see ``init(_:)`` for the checked form.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// A known scheduler by name, or `nil`.
    public init?(_ name: String) {
        guard Self.known.contains(where: { $0.rawValue == name }) else { return nil }
        rawValue = name
    }

    /// `rr`: round robin.
    public static let roundRobin = IPVSScheduler(rawValue: "rr")
    /// `wrr`: weighted round robin.
    public static let weightedRoundRobin = IPVSScheduler(rawValue: "wrr")
    /// `lc`: least connection.
    public static let leastConnection = IPVSScheduler(rawValue: "lc")
    /// `wlc`: weighted least connection (keepalived's default).
    public static let weightedLeastConnection = IPVSScheduler(rawValue: "wlc")
    /// `lblc`: locality-based least connection.
    public static let localityBasedLeastConnection = IPVSScheduler(rawValue: "lblc")
    /// `lblcr`: locality-based least connection with replication.
    public static let localityBasedLeastConnectionWithReplication = IPVSScheduler(rawValue: "lblcr")
    /// `dh`: destination hashing.
    public static let destinationHashing = IPVSScheduler(rawValue: "dh")
    /// `sh`: source hashing (flags ``IPVSServiceFlags/shFallback``, ``IPVSServiceFlags/shPort``).
    public static let sourceHashing = IPVSScheduler(rawValue: "sh")
    /// `sed`: shortest expected delay.
    public static let shortestExpectedDelay = IPVSScheduler(rawValue: "sed")
    /// `nq`: never queue.
    public static let neverQueue = IPVSScheduler(rawValue: "nq")
    /// `fo`: weighted failover.
    public static let weightedFailover = IPVSScheduler(rawValue: "fo")
    /// `ovf`: weighted overflow.
    public static let weightedOverflow = IPVSScheduler(rawValue: "ovf")
    /// `mh`: Maglev hashing (flags ``IPVSServiceFlags/mhFallback``, ``IPVSServiceFlags/mhPort``).
    public static let maglevHashing = IPVSScheduler(rawValue: "mh")
    /// `twos`: weighted random twos choice (Linux 6.2 and later).
    public static let weightedRandomTwosChoice = IPVSScheduler(rawValue: "twos")

    /// The schedulers keepalived accepts, in ipvsadm's order.
    public static let known: [IPVSScheduler] = [
        .roundRobin, .weightedRoundRobin, .leastConnection, .weightedLeastConnection, .localityBasedLeastConnection,
        .localityBasedLeastConnectionWithReplication, .destinationHashing, .sourceHashing, .shortestExpectedDelay,
        .neverQueue, .weightedFailover, .weightedOverflow, .maglevHashing, .weightedRandomTwosChoice,
    ]

    /// Whether the name is one of ``known``.
    public var isKnown: Bool { Self.known.contains(self) }

    public var description: String { rawValue }
}
