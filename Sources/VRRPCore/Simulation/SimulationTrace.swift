/// One line of a simulation's record.
public struct SimulationTraceEntry: Sendable, Hashable {
    /// Why a packet did not arrive.
    public enum LossReason: String, Sendable, Hashable {
        /// The segment's loss probability.
        case loss
        /// Sender and receiver are on different sides of a partition.
        case partition
    }

    public enum Event: Sendable, Hashable {
        /// An input handed to the node's engine.
        case input(VRRPEngine.Input)
        /// An action the engine returned for the input just before it.
        case action(VRRPEngine.Action)
        /// A scheduled fault took effect.
        case fault(SimulationFault)
        /// A packet for this node was lost on `interface`.
        case lost(VRRPReceivedPacket, interface: String, reason: LossReason)
        /// The codec rejected a packet for this node (only with ``SimulationOptions/throughCodec``).
        case codecDrop(VRRPDropReason, interface: String, source: IPAddress)
        /// An invariant broke.
        case violation(SimulationViolation)
    }

    public var time: VRRPInstant
    /// The node concerned; `nil` for segment-wide events (partitions, network changes, violations).
    public var node: Int?
    public var event: Event

    public init(time: VRRPInstant, node: Int?, event: Event) {
        self.time = time
        self.node = node
        self.event = event
    }
}

/// The record of a run, with the names needed to print it.
///
/// Each line is `TIME WHO MARK TEXT`: `TIME` in milliseconds with up to six decimals
/// (`3414.0625ms`), `WHO` a node name (a segment name for partitions), and `MARK` one of
/// `<` (an input), `>` (an action), `!` (a fault), `~` (a lost packet), `x` (a codec
/// drop) or `*` (a violation). Actions of a router start with its instance name.
///
/// ```
/// 0ms r1 < startup
/// 0ms r1 > VI_1 INIT -> BACKUP (startup)
/// 3414.0625ms r1 < timer
/// 3414.0625ms r1 > VI_1 send advert prio 150 to 224.0.0.18
/// ```
public struct SimulationTrace: Sendable, CustomStringConvertible {
    public internal(set) var entries: [SimulationTraceEntry] = []
    public internal(set) var nodeNames: [String] = []
    /// Instance names per node, in the order of ``VRRPEngine/routers``.
    public internal(set) var routerNames: [[String]] = []
    public internal(set) var segmentNames: [String] = []

    public init() {}

    /// The whole trace, one line per entry.
    public var description: String { lines().joined(separator: "\n") }

    /// The rendered lines.
    /// - Parameters:
    ///   - omittingQuietInputs: leave out inputs that produced no action (a BACKUP
    ///     hearing its MASTER, for instance), which makes golden traces short.
    ///   - range: only entries whose time is in this range.
    public func lines(omittingQuietInputs: Bool = false,
                      in range: ClosedRange<VRRPInstant>? = nil) -> [String] {
        var out: [String] = []
        for (k, e) in entries.enumerated() {
            if let r = range, !r.contains(e.time) { continue }
            if omittingQuietInputs, case .input = e.event {
                let next = k + 1 < entries.count ? entries[k + 1] : nil
                var loud = false
                if let n = next, n.node == e.node, n.time == e.time, case .action = n.event { loud = true }
                if !loud { continue }
            }
            out.append(line(e))
        }
        return out
    }

    /// The last `count` lines up to `time` (for failure reports).
    public func tail(_ count: Int, through time: VRRPInstant? = nil) -> [String] {
        let all = lines(in: time.map { VRRPInstant(nanoseconds: .min)...$0 })
        return Array(all.suffix(count))
    }

    /// One entry as text.
    public func line(_ e: SimulationTraceEntry) -> String {
        let who: String
        switch e.event {
        case .fault(.partition(let s, _)), .fault(.heal(let s)), .fault(.network(let s, _)):
            who = segmentName(s)
        default:
            who = e.node.map(nodeName) ?? "*"
        }
        let t = SimulationTrace.format(e.time)
        switch e.event {
        case .input(let i): return "\(t) \(who) < \(text(i, node: e.node))"
        case .action(let a): return "\(t) \(who) > \(text(a, node: e.node))"
        case .fault(let f): return "\(t) \(who) ! \(text(f))"
        case .lost(let p, let i, let r):
            return "\(t) \(who) ~ lost \(i) \(text(p)) (\(r.rawValue))"
        case .codecDrop(let r, let i, let s): return "\(t) \(who) x codec drop on \(i) from \(s) (\(r))"
        case .violation(let v): return "\(t) * VIOLATION \(v.property.rawValue): \(v.message)"
        }
    }

    func nodeName(_ n: Int) -> String { n >= 0 && n < nodeNames.count ? nodeNames[n] : "node\(n)" }
    func segmentName(_ s: Int) -> String { s >= 0 && s < segmentNames.count ? segmentNames[s] : "segment\(s)" }
    func routerName(_ node: Int?, _ r: Int) -> String {
        guard let n = node, n >= 0, n < routerNames.count, r >= 0, r < routerNames[n].count else { return "[\(r)]" }
        return routerNames[n][r]
    }

    func text(_ p: VRRPReceivedPacket) -> String {
        let a = p.advertisement
        let to = p.destination.isMulticast ? "" : " to \(p.destination)"
        return "advert from \(p.source)\(to) vrid \(a.virtualRouterID) prio \(a.priority)"
    }

    // `if case` chains rather than switches, so that a new engine input or action
    // still prints (through its default description) instead of breaking the build.
    func text(_ i: VRRPEngine.Input, node: Int?) -> String {
        if case .startup = i { return "startup" }
        if case .shutdown = i { return "shutdown" }
        if case .packet(let p, let interface) = i { return "\(interface) \(text(p))" }
        if case .timerFired = i { return "timer" }
        if case .interfaceChanged(let name, let up) = i { return "interface \(name) \(up ? "up" : "down")" }
        if case .trackerChanged(let id, let s) = i { return "tracker \(id) \(s)" }
        if case .priorityChanged(let instance, let p) = i { return "priority \(instance) \(p)" }
        return String(describing: i)
    }

    func text(_ a: VRRPEngine.Action, node: Int?) -> String {
        if case .router(let r, let action) = a { return "\(routerName(node, r)) \(text(action))" }
        if case .groupTransition(let g, let f, let t) = a { return "group \(g) \(f) -> \(t)" }
        return a.description
    }

    func text(_ a: VRRPAction) -> String {
        func list(_ v: [VirtualAddress]) -> String { v.map(\.description).joined(separator: ", ") }
        if case .sendAdvertisement(let adv, let d, _) = a { return "send advert prio \(adv.priority) to \(d)" }
        if case .addAddresses(let v) = a { return "add addresses \(list(v))" }
        if case .removeAddresses(let v) = a { return "remove addresses \(list(v))" }
        if case .announce(let v, let n) = a { return "announce \(v.map(\.address.description).joined(separator: ", ")) x\(n)" }
        if case .transition(let f, let t, let r) = a { return "\(f) -> \(t) (\(r))" }
        return a.description
    }

    func text(_ f: SimulationFault) -> String {
        switch f {
        case .start: return "start"
        case .crash: return "crash"
        case .restart: return "restart"
        case .shutdown: return "shutdown"
        case .partition(_, let groups):
            return "partition " + groups.map { "[" + $0.map(nodeName).joined(separator: ", ") + "]" }.joined(separator: " | ")
        case .heal: return "heal"
        case .interface(_, let name, let up): return "link \(name) \(up ? "up" : "down")"
        case .tracker(_, let id, let s): return "tracker \(id) \(s)"
        case .priority(_, let instance, let p): return "priority \(instance) \(p)"
        case .reload: return "reload"
        case .network(_, let m):
            return "network loss \(m.loss) duplication \(m.duplication) delay \(SimulationTrace.format(m.minimumDelay))"
                + "...\(SimulationTrace.format(m.maximumDelay)) reordering \(m.reordering)"
                + " up to \(SimulationTrace.format(m.reorderDelay))"
        }
    }

    /// `ns` nanoseconds as milliseconds with up to six decimals: `3414.0625ms`, `0ms`.
    public static func format(nanoseconds ns: Int64) -> String {
        let sign = ns < 0 ? "-" : ""
        let a = ns.magnitude
        var s = "\(sign)\(a / 1_000_000)"
        var frac = a % 1_000_000
        if frac != 0 {
            var digits = 6
            while frac % 10 == 0 { frac /= 10; digits -= 1 }
            let f = String(frac)
            s += "." + String(repeating: "0", count: digits - f.count) + f
        }
        return s + "ms"
    }

    /// An instant as milliseconds since the origin (see ``format(nanoseconds:)``).
    public static func format(_ t: VRRPInstant) -> String { format(nanoseconds: t.nanoseconds) }
    /// A duration in milliseconds (see ``format(nanoseconds:)``).
    public static func format(_ d: Duration) -> String { format(nanoseconds: d.vrrpNanoseconds) }
}
