/// What kind of object a tracker watches; the name space of ``TrackedObjectID``.
public enum TrackedObjectKind: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case interface, script, file, process, bfd, other
    public var description: String {
        switch self {
        case .interface: "interface"
        case .script: "script"
        case .file: "file"
        case .process: "process"
        case .bfd: "bfd"
        case .other: "object"
        }
    }
}

/// Names one tracked object (`track_script chk_nginx` is `.init(.script, "chk_nginx")`).
public struct TrackedObjectID: Sendable, Hashable, CustomStringConvertible {
    /// What kind of object it is.
    public var kind: TrackedObjectKind
    /// Its name in the configuration (or the interface name).
    public var name: String
    /// Names an object.
    public init(_ kind: TrackedObjectKind, _ name: String) {
        self.kind = kind
        self.name = name
    }
    public var description: String { "\(kind) \(name)" }
}

/// The latest result of a tracked object.
public enum TrackerStatus: Sendable, Hashable, CustomStringConvertible {
    /// Not reported yet (a script that has not run, an interface not yet seen).
    case unknown
    /// OK (interface up, script exit 0, process running).
    case up
    /// Failed.
    case down
    /// A `track_file` value.
    case value(Int)

    public var description: String {
        switch self {
        case .unknown: "unknown"
        case .up: "up"
        case .down: "down"
        case .value(let v): "value \(v)"
        }
    }
}

/// How one virtual router uses one tracked object (`weight`, `reverse`).
///
/// Effective priority = base + Σ contributions, clamped to 1…254 (an owner's 255 is
/// never adjusted). For an up/down object with weight W:
/// W > 0 adds W while up (`reverse`: subtracts W while up); W < 0 subtracts |W| while
/// down (`reverse`: adds |W| while down); W = 0 puts the router in FAULT while down
/// (`reverse`: while up). A file value v contributes v × W (negated by `reverse`); with
/// W = 0 any non-zero value faults, and a total contribution below −253 faults.
/// An object that has not reported yet (``TrackerStatus/unknown``) contributes nothing,
/// and faults a weight-0 binding (keepalived starts such an instance in FAULT).
public struct TrackerBinding: Sendable, Hashable {
    /// The object tracked.
    public var object: TrackedObjectID
    /// The weight (0: failure means FAULT).
    public var weight: Int
    /// `reverse`: flip the sign of the effect.
    public var reverse: Bool
    /// A binding; weight 0 and no `reverse` by default, as keepalived.
    public init(_ object: TrackedObjectID, weight: Int = 0, reverse: Bool = false) {
        self.object = object
        self.weight = weight
        self.reverse = reverse
    }

    /// The priority contribution and whether the status faults the router.
    /// - Parameters:
    ///   - status: the object's latest status.
    ///   - ignoreWeight: true for sync-group members (only fault semantics apply).
    public func evaluate(_ status: TrackerStatus, ignoreWeight: Bool) -> (delta: Int, fault: Bool) {
        switch status {
        case .unknown:
            return (0, weight == 0)
        case .up, .down:
            let up = status == .up
            if weight == 0 { return (0, reverse ? up : !up) }
            if ignoreWeight { return (0, false) }
            if weight > 0 {
                return up ? (reverse ? -weight : weight, false) : (0, false)
            }
            return up ? (0, false) : (reverse ? -weight : weight, false)
        case .value(let v):
            if weight == 0 { return (0, v != 0) }
            if ignoreWeight { return (0, false) }
            let (product, overflow) = v.multipliedReportingOverflow(by: weight)
            let c = overflow ? (v.signum() * weight.signum() < 0 ? Int.min / 2 : Int.max / 2) : product
            let delta = reverse ? -c : c
            return (delta, delta < -253)
        }
    }
}
