/// A deterministic simulation of VRRP nodes on LAN segments: test your own failover logic.
///
/// Build a world of segments (broadcast domains, each with a ``SimulationFaultModel``) and
/// nodes (each a ``VRRPEngine`` with its interfaces attached to segments), schedule faults
/// (crashes, restarts, shutdowns, partitions, link, tracker and priority changes, or a
/// random ``SimulationChaos`` schedule), and run it in virtual time. Everything random
/// comes from the seed, so a seed replays the same run exactly, event for event.
///
/// While it runs, the simulation records a ``trace`` and checks the invariants of
/// ``SimulationInvariants``: once a segment has been free of disturbances for
/// ``settleTime(segment:)``, each (segment, VRID, family) has exactly one MASTER among
/// its eligible routers, the highest effective priority (with preempt) or the owner is
/// that MASTER, only MASTERs hold their addresses, and sync-group members agree. A silent
/// crash of a settled MASTER must be taken over within (MDI − A, MDI] and a priority-0
/// resignation within Skew_Time (both plus the segment's delay); those are recorded in
/// ``measurements``.
///
/// ```swift
/// var sim = Simulation(seed: 7)
/// let lan = sim.addSegment("lan")
/// var a = VirtualRouterConfiguration(name: "VI_1", virtualRouterID: 51, interface: "eth0",
///                                    primaryAddress: IPAddress("192.0.2.1")!,
///                                    addresses: [VirtualAddress(IPAddress("192.0.2.100")!)])
/// a.priority = 150
/// var b = a
/// b.primaryAddress = IPAddress("192.0.2.2")!
/// b.priority = 100
/// let r1 = try sim.addNode("r1", routers: [a], interfaces: ["eth0": lan])
/// try sim.addNode("r2", routers: [b], interfaces: ["eth0": lan])
/// sim.crash(r1, at: .seconds(10))
/// sim.run(until: .seconds(30))
/// assert(sim.violations.isEmpty, "\(sim.violations)")
/// ```
///
/// Time: events at one instant run protocol first (timers, packet arrivals), then
/// injected faults, then invariant checks; within each, in the order they were scheduled.
/// A fault scheduled at the instant a MASTER's advert is due therefore happens just after
/// that advert is sent.
public struct Simulation: Sendable {
    public let seed: UInt64
    public let options: SimulationOptions
    /// The current virtual time.
    public private(set) var now: VRRPInstant = .zero
    public private(set) var trace = SimulationTrace()
    public internal(set) var violations: [SimulationViolation] = []
    public internal(set) var measurements: [SimulationMeasurement] = []
    public internal(set) var statistics = SimulationStatistics()
    /// Every fault scheduled so far (by hand or by ``addChaos(_:)``), in scheduling order.
    public private(set) var scheduledFaults: [(time: VRRPInstant, fault: SimulationFault)] = []


    var networkRNG: SimulationRNG
    var chaosRNG: SimulationRNG
    var queue = SimulationEventQueue()
    var prepared = false
    var halted = false
    var actionBuffer: [VRRPEngine.Action] = []
    var touchedGroups: [Int] = []
    /// Set while a fault is processed: the settledness of each component just before it.
    var faultSnapshot: [Bool]? = nil

    // The world is kept as parallel arrays ("struct of arrays"), so that the hot paths
    // read a flag or a number without copying a whole node (which debug builds would do).

    // Segments.
    var segments: [Segment] = []
    var segmentFaults: [SimulationFaultModel] = []
    /// Ports attached to each segment ("members"), by member index.
    var segmentPorts: [[Int]] = []
    /// Per segment, per (sender member, receiver member): the latest in-order delivery time.
    var horizons: [[Int64]] = []
    /// Per segment, the partition group of each member; empty when not partitioned.
    var partitions: [[Int]] = []

    // Ports: one per (node, interface attached to a segment).
    var ports: [Port] = []
    var portUp: [Bool] = []

    // Nodes.
    var nodes: [Node] = []
    var engines: [VRRPEngine] = []
    var life: [Life] = []
    var timerEpoch: [UInt32] = []
    var timerAt: [Int64] = []

    // Routers, by global number (``Node/firstRouter`` + index in the engine).
    var routerPort: [Int] = []
    var routerGroup: [Int] = []
    var routerSource: [IPAddress] = []
    var installed: [[VirtualAddress]] = []

    var groups: [Group] = []
    var components: [Component] = []
    var frames: [Frame?] = []
    var freeFrames: [UInt32] = []
    var pending: [PendingCheck] = []
    var activePending = 0

    struct Segment {
        var name: String
        /// Unicast addresses of the members (router primary addresses) → member indices.
        var unicast: [IPAddress: [Int]] = [:]
        var component = 0
    }

    struct Port {
        var node: Int
        var name: String
        var segment: Int
        /// Index in the segment's member list.
        var member = 0
    }

    enum Life { case off, running, stopped, crashed }

    struct Node {
        var name: String
        var configurations: [VirtualRouterConfiguration]
        var syncGroups: [SyncGroupConfiguration]
        /// Attached ports, sorted by interface name.
        var ports: [Int]
        /// Interface states for names not attached to a segment (fed to the engine only).
        var otherInterfaces: [(name: String, up: Bool)] = []
        var trackers: [(id: TrackedObjectID, status: TrackerStatus)]
        var firstRouter: Int
        var components: [Int] = []
    }

    struct Group {
        var segment: Int
        var virtualRouterID: UInt8
        var family: IPAddressFamily
        var members: [(node: Int, router: Int)] = []
        var component = 0
        var label: String
    }

    struct Component {
        var segments: [Int] = []
        var groups: [Int] = []
        var syncGroups: [(node: Int, group: Int)] = []
        var baseSettle: Duration = .zero
        var lastDisturbance = Int64.min
        var disturbances = 0
        var checkPending = false
    }

    struct Frame {
        var packet: VRRPReceivedPacket
        var bytes: [UInt8]
        var references: Int
    }

    struct PendingCheck {
        struct Candidate {
            var node: Int
            var router: Int
            /// Its own master-down interval (crash) or skew time (priority 0).
            var own: Duration
            /// The longest of its sync group's members (`own` without a sync group).
            var longest: Duration
        }
        var kind: SimulationMeasurement.Kind
        var group: Int
        var disturbances: Int
        var start: VRRPInstant
        var candidates: [Candidate]
        var advertisementInterval: Duration
        var minimumDelay: Duration
        var maximumLatency: Duration
        var active = true
    }

    /// An empty world. `seed` determines every random choice of the run.
    public init(seed: UInt64, options: SimulationOptions = SimulationOptions()) {
        self.seed = seed
        self.options = options
        networkRNG = SimulationRNG(seed: seed)
        chaosRNG = SimulationRNG(seed: seed ^ 0x5DEE_CE66_D1CE_5EED)
    }

    /// Adds a LAN segment and returns its number.
    @discardableResult
    public mutating func addSegment(_ name: String, faults: SimulationFaultModel = .perfect) -> Int {
        precondition(!prepared, "add segments before the first run")
        segments.append(Segment(name: name))
        segmentFaults.append(faults)
        segmentPorts.append([])
        horizons.append([])
        partitions.append([])
        trace.segmentNames.append(name)
        return segments.count - 1
    }

    /// Adds a node and returns its number.
    ///
    /// - Parameters:
    ///   - name: the node's name in the trace.
    ///   - routers: its virtual routers; each one's `interface` must be in `interfaces`,
    ///     and its `primaryAddress` is the source of its adverts (and the address unicast
    ///     peers send to).
    ///   - syncGroups: its sync groups.
    ///   - interfaces: interface name → segment number.
    ///   - trackers: the initial status of tracked objects (fed before every startup;
    ///     objects not listed start ``TrackerStatus/unknown``).
    ///   - startAt: when the node starts; `nil` leaves it off until a ``SimulationFault/start(node:)``.
    /// - Throws: ``VRRPConfigurationError`` for a configuration the engine rejects, or a
    ///   router on an interface that is not attached.
    @discardableResult
    public mutating func addNode(_ name: String, routers: [VirtualRouterConfiguration],
                                 syncGroups: [SyncGroupConfiguration] = [],
                                 interfaces: [String: Int],
                                 trackers: [TrackedObjectID: TrackerStatus] = [:],
                                 startAt: VRRPInstant? = .zero) throws(VRRPConfigurationError) -> Int {
        precondition(!prepared, "add nodes before the first run")
        let engine = try VRRPEngine(routers: routers, syncGroups: syncGroups)
        let names = interfaces.keys.sorted()
        var routerPorts: [Int] = []
        for c in routers {
            guard let i = names.firstIndex(of: c.interface) else {
                throw VRRPConfigurationError(instance: c.name, field: "interface",
                                             message: "\(c.interface) is not attached to a simulated segment")
            }
            routerPorts.append(ports.count + i)
        }
        let n = nodes.count
        var nodePorts: [Int] = []
        for name in names {
            let s = interfaces[name]!
            precondition(s >= 0 && s < segments.count, "no segment \(s)")
            nodePorts.append(ports.count)
            ports.append(Port(node: n, name: name, segment: s))
            portUp.append(true)
        }
        let sortedTrackers = trackers.keys
            .sorted { ($0.kind.rawValue, $0.name) < ($1.kind.rawValue, $1.name) }
            .map { (id: $0, status: trackers[$0]!) }
        nodes.append(Node(name: name, configurations: routers, syncGroups: syncGroups, ports: nodePorts,
                          trackers: sortedTrackers, firstRouter: routerPort.count))
        engines.append(engine)
        life.append(.off)
        timerEpoch.append(0)
        timerAt.append(.max)
        for (k, c) in routers.enumerated() {
            routerPort.append(routerPorts[k])
            routerGroup.append(-1)
            routerSource.append(c.primaryAddress)
            installed.append([])
        }
        trace.nodeNames.append(name)
        trace.routerNames.append(routers.map(\.name))
        if let t = startAt { inject(.start(node: n), at: t) }
        return n
    }

    // MARK: - Faults

    /// Schedules `fault` at `time` (not before ``now``).
    public mutating func inject(_ fault: SimulationFault, at time: VRRPInstant) {
        precondition(time >= now, "cannot schedule a fault in the past (\(time) < \(now))")
        scheduledFaults.append((time, fault))
        queue.push(time: time.nanoseconds, .fault, .fault, b: UInt32(scheduledFaults.count - 1))
    }

    /// Starts a node that is off or was shut down.
    public mutating func start(_ node: Int, at time: VRRPInstant) { inject(.start(node: node), at: time) }
    /// Silent stop: no priority 0; the node's addresses stay installed.
    public mutating func crash(_ node: Int, at time: VRRPInstant) { inject(.crash(node: node), at: time) }
    /// Graceful shutdown if running, then a fresh engine and startup.
    public mutating func restart(_ node: Int, at time: VRRPInstant) { inject(.restart(node: node), at: time) }
    /// Graceful shutdown: a MASTER resigns with priority 0.
    public mutating func shutdown(_ node: Int, at time: VRRPInstant) { inject(.shutdown(node: node), at: time) }
    /// Splits `segment` into `groups` of nodes from `from` until `until`.
    public mutating func partition(_ segment: Int, _ groups: [[Int]], from: VRRPInstant, until: VRRPInstant) {
        inject(.partition(segment: segment, groups: groups), at: from)
        inject(.heal(segment: segment), at: until)
    }
    /// A link goes down or up.
    public mutating func setInterface(_ node: Int, _ name: String, up: Bool, at time: VRRPInstant) {
        inject(.interface(node: node, name: name, up: up), at: time)
    }
    /// A tracked object reports a new status.
    public mutating func setTracker(_ node: Int, _ id: TrackedObjectID, _ status: TrackerStatus, at time: VRRPInstant) {
        inject(.tracker(node: node, id, status), at: time)
    }
    /// A new base priority for an instance.
    public mutating func setPriority(_ node: Int, instance: String, _ priority: UInt8, at time: VRRPInstant) {
        inject(.priority(node: node, instance: instance, priority), at: time)
    }
    /// A new fault model for a segment.
    /// Reloads the node's configuration at `time` (see ``SimulationFault/reload(node:)``).
    public mutating func reload(_ node: Int, at time: VRRPInstant) { inject(.reload(node: node), at: time) }

    public mutating func setNetwork(_ segment: Int, _ faults: SimulationFaultModel, at time: VRRPInstant) {
        inject(.network(segment: segment, faults), at: time)
    }

    // MARK: - Queries

    public var nodeCount: Int { nodes.count }
    public var segmentCount: Int { segments.count }
    public func nodeName(_ node: Int) -> String { nodes[node].name }
    public func node(named name: String) -> Int? { nodes.firstIndex { $0.name == name } }
    public func segment(named name: String) -> Int? { segments.firstIndex { $0.name == name } }
    /// The node's engine (frozen as it was if the node crashed).
    public func engine(_ node: Int) -> VRRPEngine { engines[node] }
    /// Whether the node runs (started, not shut down, not crashed).
    public func isRunning(_ node: Int) -> Bool { life[node] == .running }
    /// The state of one instance of a node.
    public func state(_ node: Int, _ instance: String) -> VRRPState? {
        engines[node].index(of: instance).map { engines[node].routers[$0].state }
    }
    /// The addresses installed on a node (they stay after a crash), sorted.
    public func installedAddresses(_ node: Int) -> [IPAddress] {
        let first = nodes[node].firstRouter
        let all = installed[first..<(first + nodes[node].configurations.count)].joined().map(\.address)
        return Set(all).sorted()
    }
    /// Running nodes whose router for (segment, VRID, family) is MASTER with its link up.
    public func masters(segment: Int, virtualRouterID: UInt8, family: IPAddressFamily = .ipv4) -> [Int] {
        var out: [Int] = []
        for n in nodes.indices where life[n] == .running {
            for (r, router) in engines[n].routers.enumerated() {
                let p = routerPort[nodes[n].firstRouter + r]
                if ports[p].segment == segment, portUp[p], router.state == .master,
                   router.configuration.virtualRouterID == virtualRouterID, router.configuration.family == family {
                    out.append(n)
                }
            }
        }
        return out
    }

    /// How long a segment must be free of disturbances before the steady-state invariants
    /// apply: ``SimulationOptions/settleTime`` if set, else, over the routers of the
    /// segment and of every segment tied to it by a sync group: MDI at priority 1 (the
    /// slowest master-down) + the longest interval + the longest startup and preempt
    /// delays + twice the longest delivery latency, plus one more MDI if any router has a
    /// preempt delay (its window opens only when the first lower advert arrives) and one
    /// more if sync groups are involved (members wait for each other).
    public func settleTime(segment: Int) -> Duration {
        if let s = options.settleTime { return s }
        if !prepared {
            var copy = self
            copy.prepare()
            return copy.settle(copy.segments[segment].component)
        }
        return settle(segments[segment].component)
    }

    // MARK: - Running

    /// Runs every event up to and including `end`, then sets ``now`` to `end` (unless a
    /// violation stopped the run first, with ``SimulationOptions/stopAtFirstViolation``).
    public mutating func run(until end: VRRPInstant) {
        prepare()
        while !halted, let e = queue.first, e.time <= end.nanoseconds {
            _ = queue.pop()
            statistics.events += 1
            now = VRRPInstant(nanoseconds: e.time)
            dispatch(e)
        }
        if !halted && end > now { now = end }
    }

    /// Runs for `duration` of virtual time from ``now``.
    public mutating func run(for duration: Duration) { run(until: now + duration) }

    /// Whether a violation stopped the run.
    public var isHalted: Bool { halted }

    mutating func dispatch(_ e: SimulationEvent) {
        switch e.kind {
        case .timer:
            let n = Int(e.node)
            guard life[n] == .running, timerEpoch[n] == e.b else { return }
            timerAt[n] = .max
            if let d = engines[n].nextDeadline, d <= now {
                feed(n, .timerFired)
            } else {
                scheduleTimer(n)
            }
        case .deliver:
            deliver(Int(e.node), port: Int(e.a), slot: e.b)
        case .fault:
            apply(scheduledFaults[Int(e.b)].fault)
        case .settleCheck:
            settleCheck(Int(e.a))
        case .pendingDeadline:
            pendingDeadline(Int(e.b))
        }
    }

    // MARK: - Engines

    /// Hands one input to a running node's engine and carries out the actions.
    mutating func feed(_ n: Int, _ input: VRRPEngine.Input) {
        statistics.inputs += 1
        if options.trace == .full { record(n, .input(input)) }
        var buffer = actionBuffer
        actionBuffer = []
        buffer.removeAll(keepingCapacity: true)
        engines[n].handle(input, now: now, into: &buffer)
        touchedGroups.removeAll(keepingCapacity: true)
        for a in buffer { perform(n, a) }
        actionBuffer = buffer
        scheduleTimer(n)
        if options.checkInvariants && !touchedGroups.isEmpty { checkTouchedGroups() }
    }

    /// Keeps one timer event per node at (or before) its engine's next deadline. A later
    /// deadline does not move the event: when it fires early, it is simply re-queued.
    mutating func scheduleTimer(_ n: Int) {
        guard life[n] == .running, let d = engines[n].nextDeadline else { return }
        let t = max(d.nanoseconds, now.nanoseconds)
        if t < timerAt[n] {
            timerEpoch[n] &+= 1
            timerAt[n] = t
            queue.push(time: t, .protocolEvent, .timer, node: n, b: timerEpoch[n])
        }
    }

    mutating func stopTimer(_ n: Int) {
        timerEpoch[n] &+= 1
        timerAt[n] = .max
    }

    mutating func perform(_ n: Int, _ action: VRRPEngine.Action) {
        guard case .router(let r, let a) = action else {
            if options.trace == .full { record(n, .action(action)) }
            else if options.trace == .transitions, case .groupTransition = action { record(n, .action(action)) }
            return
        }
        let global = nodes[n].firstRouter + r
        switch a {
        case .sendAdvertisement(let advert, let destination, let form):
            if options.trace == .full { record(n, .action(action)) }
            if advert.priority == 0, faultSnapshot != nil { registerHandover(n, r) }
            send(global, advert, destination, form)
        case .addAddresses(let list):
            if options.trace == .full { record(n, .action(action)) }
            for v in list where !installed[global].contains(v) { installed[global].append(v) }
        case .removeAddresses(let list):
            if options.trace == .full { record(n, .action(action)) }
            installed[global].removeAll { list.contains($0) }
        case .transition(_, let to, _):
            if options.trace != .off { record(n, .action(action)) }
            let g = routerGroup[global]
            if !touchedGroups.contains(g) { touchedGroups.append(g) }
            if to == .master && options.checkInvariants { resolvePending(group: g, node: n, router: r) }
        default:
            if options.trace == .full { record(n, .action(action)) }
        }
    }

    mutating func record(_ node: Int?, _ event: SimulationTraceEntry.Event) {
        trace.entries.append(SimulationTraceEntry(time: now, node: node, event: event))
    }

    // MARK: - Network

    /// Router `global` sends `advert`: to every other member of its segment (multicast) or
    /// to the members owning `destination` (unicast).
    mutating func send(_ global: Int, _ advert: VRRPAdvertisement, _ destination: IPAddress, _ form: VRRPChecksumForm) {
        statistics.advertisementsSent += 1
        let p = routerPort[global]
        guard portUp[p] else { return }
        let s = ports[p].segment
        let from = ports[p].member
        let sender = ports[p].node
        let packet = VRRPReceivedPacket(advertisement: advert, source: routerSource[global], destination: destination,
                                        hopLimit: 255, checksumForm: form)
        var slot = UInt32.max
        if destination.isMulticast {
            for m in segmentPorts[s].indices where ports[segmentPorts[s][m]].node != sender {
                if slot == .max { slot = allocateFrame(packet) }
                transmit(segment: s, from: from, to: m, slot: slot)
            }
        } else if let ms = segments[s].unicast[destination] {
            for m in ms where ports[segmentPorts[s][m]].node != sender {
                if slot == .max { slot = allocateFrame(packet) }
                transmit(segment: s, from: from, to: m, slot: slot)
            }
        }
        if slot != .max { releaseFrame(slot) }
    }

    mutating func allocateFrame(_ packet: VRRPReceivedPacket) -> UInt32 {
        var bytes: [UInt8] = []
        if options.throughCodec {
            bytes = packet.advertisement.encoded(source: packet.source, destination: packet.destination,
                                                 checksumForm: packet.checksumForm)
        }
        // One reference for the sender while it fans out; released by `send`.
        let frame = Frame(packet: packet, bytes: bytes, references: 1)
        if let slot = freeFrames.popLast() {
            frames[Int(slot)] = frame
            return slot
        }
        frames.append(frame)
        return UInt32(frames.count - 1)
    }

    mutating func releaseFrame(_ slot: UInt32) {
        let i = Int(slot)
        frames[i]!.references -= 1
        if frames[i]!.references == 0 {
            frames[i] = nil
            freeFrames.append(slot)
        }
    }

    /// One packet from member `from` to member `to` of segment `s`, through the fault model.
    mutating func transmit(segment s: Int, from: Int, to: Int, slot: UInt32) {
        if !partitions[s].isEmpty && partitions[s][from] != partitions[s][to] {
            lose(segment: s, member: to, slot: slot, reason: .partition)
            return
        }
        let f = segmentFaults[s]
        if networkRNG.chance(f.loss) {
            lose(segment: s, member: to, slot: slot, reason: .loss)
            return
        }
        schedule(segment: s, from: from, to: to, slot: slot, faults: f)
        if networkRNG.chance(f.duplication) {
            statistics.duplicated += 1
            schedule(segment: s, from: from, to: to, slot: slot, faults: f)
        }
    }

    mutating func schedule(segment s: Int, from: Int, to: Int, slot: UInt32, faults f: SimulationFaultModel) {
        var t = now.nanoseconds
        if f.maximumDelay > .zero {
            t += f.maximumDelay == f.minimumDelay ? f.minimumDelay.vrrpNanoseconds
                : networkRNG.duration(in: f.minimumDelay...f.maximumDelay).vrrpNanoseconds
        }
        if f.reordering > 0, networkRNG.chance(f.reordering) {
            // Held back, outside the flow's order: later packets may overtake it.
            statistics.reordered += 1
            t += networkRNG.duration(in: .zero...f.reorderDelay).vrrpNanoseconds
        } else {
            let h = from * segmentPorts[s].count + to
            t = max(t, horizons[s][h])
            horizons[s][h] = t
        }
        frames[Int(slot)]!.references += 1
        let p = segmentPorts[s][to]
        queue.push(time: t, .protocolEvent, .deliver, node: ports[p].node, a: p, b: slot)
    }

    mutating func lose(segment s: Int, member: Int, slot: UInt32, reason: SimulationTraceEntry.LossReason) {
        statistics.lost += 1
        if options.trace == .full {
            let p = segmentPorts[s][member]
            record(ports[p].node, .lost(frames[Int(slot)]!.packet, interface: ports[p].name, reason: reason))
        }
        disturb(segments[s].component)
    }

    mutating func deliver(_ n: Int, port p: Int, slot: UInt32) {
        defer { releaseFrame(slot) }
        guard life[n] == .running, portUp[p] else { return }
        statistics.deliveries += 1
        let frame = frames[Int(slot)]!
        if options.throughCodec {
            let packet = frame.packet
            do {
                let decoded = try VRRPAdvertisement.decode(message: frame.bytes, source: packet.source,
                                                           destination: packet.destination, hopLimit: packet.hopLimit)
                feed(n, .packet(decoded, interface: ports[p].name))
            } catch {
                statistics.codecDrops += 1
                engines[n].countUnrouted(error)
                if options.trace == .full { record(n, .codecDrop(error, interface: ports[p].name, source: packet.source)) }
            }
        } else {
            feed(n, .packet(frame.packet, interface: ports[p].name))
        }
    }

    // MARK: - Applying faults

    mutating func apply(_ fault: SimulationFault) {
        // Which components this fault disturbs.
        let affected: [Int]
        switch fault {
        case .reload(let n):
            // A reload must not disturb anything: no component is marked as disturbed.
            if options.trace != .off { record(n, .fault(fault)) }
            affected = []
        case .partition(let s, _), .heal(let s), .network(let s, _):
            if options.trace != .off { record(nil, .fault(fault)) }
            affected = [segments[s].component]
        case .start(let n), .crash(let n), .restart(let n), .shutdown(let n),
             .interface(let n, _, _), .tracker(let n, _, _), .priority(let n, _, _):
            if options.trace != .off { record(n, .fault(fault)) }
            affected = nodes[n].components
        }
        // Remember whether they were settled (for the timing checks), then disturb them.
        if options.checkInvariants {
            var snapshot = Array(repeating: false, count: components.count)
            for c in affected { snapshot[c] = isSettled(c) }
            faultSnapshot = snapshot
            for c in affected { disturb(c) }
        }
        defer { faultSnapshot = nil }

        switch fault {
        case .start(let n):
            switch life[n] {
            case .off: boot(n)
            case .stopped:
                life[n] = .running
                feed(n, .startup)
            case .running, .crashed: break
            }
        case .crash(let n):
            guard life[n] == .running else { return }
            if options.checkInvariants { registerCrash(n) }
            life[n] = .crashed
            stopTimer(n)
        case .restart(let n):
            if life[n] == .running { feed(n, .shutdown) }
            // A fresh process on the same machine: the runner cleans up stale addresses.
            if let fresh = try? VRRPEngine(routers: nodes[n].configurations, syncGroups: nodes[n].syncGroups) {
                engines[n] = fresh
            }
            let first = nodes[n].firstRouter
            for r in first..<(first + nodes[n].configurations.count) { installed[r] = [] }
            stopTimer(n)
            boot(n)
        case .shutdown(let n):
            guard life[n] == .running else { return }
            feed(n, .shutdown)
            life[n] = .stopped
            stopTimer(n)
        case .partition(let s, let gs):
            partitions[s] = segmentPorts[s].map { p in gs.firstIndex { $0.contains(ports[p].node) } ?? -1 }
        case .heal(let s):
            partitions[s] = []
        case .network(let s, let model):
            segmentFaults[s] = model
        case .interface(let n, let name, let up):
            if let p = nodes[n].ports.first(where: { ports[$0].name == name }) {
                guard portUp[p] != up else { return }
                portUp[p] = up
            } else if let k = nodes[n].otherInterfaces.firstIndex(where: { $0.name == name }) {
                guard nodes[n].otherInterfaces[k].up != up else { return }
                nodes[n].otherInterfaces[k].up = up
            } else {
                nodes[n].otherInterfaces.append((name, up))
            }
            if life[n] == .running { feed(n, .interfaceChanged(name, up: up)) }
        case .tracker(let n, let id, let status):
            if let k = nodes[n].trackers.firstIndex(where: { $0.id == id }) {
                nodes[n].trackers[k].status = status
            } else {
                nodes[n].trackers.append((id, status))
            }
            if life[n] == .running { feed(n, .trackerChanged(id, status)) }
        case .reload(let n):
            guard life[n] == .running else { return }
            statistics.inputs += 1
            var buffer: [VRRPEngine.Action] = []
            do {
                buffer = try engines[n].reload(routers: nodes[n].configurations, syncGroups: nodes[n].syncGroups, now: now)
            } catch {
                return
            }
            touchedGroups.removeAll(keepingCapacity: true)
            for a in buffer { perform(n, a) }
            scheduleTimer(n)
            if options.checkInvariants && !touchedGroups.isEmpty { checkTouchedGroups() }
        case .priority(let n, let instance, let p):
            if let k = nodes[n].configurations.firstIndex(where: { $0.name == instance }), p != 0 {
                nodes[n].configurations[k].priority = p
            }
            if life[n] == .running { feed(n, .priorityChanged(instance: instance, p)) }
        }
    }

    /// Starts a node whose engine has never run: current link and tracker states, then startup.
    mutating func boot(_ n: Int) {
        life[n] = .running
        for p in nodes[n].ports where !portUp[p] { feed(n, .interfaceChanged(ports[p].name, up: false)) }
        for o in nodes[n].otherInterfaces where !o.up { feed(n, .interfaceChanged(o.name, up: false)) }
        for t in nodes[n].trackers { feed(n, .trackerChanged(t.id, t.status)) }
        feed(n, .startup)
    }

    // MARK: - Topology

    mutating func prepare() {
        guard !prepared else { return }
        prepared = true
        // Segment membership and unicast addresses.
        for p in ports.indices {
            let s = ports[p].segment
            ports[p].member = segmentPorts[s].count
            segmentPorts[s].append(p)
        }
        for r in routerPort.indices {
            let p = routerPort[r]
            let s = ports[p].segment
            if !(segments[s].unicast[routerSource[r]]?.contains(ports[p].member) ?? false) {
                segments[s].unicast[routerSource[r], default: []].append(ports[p].member)
            }
        }
        for s in segments.indices {
            let k = segmentPorts[s].count
            horizons[s] = Array(repeating: .min, count: k * k)
        }
        // Groups: (segment, VRID, family).
        var groupIndex: [GroupKey: Int] = [:]
        for n in nodes.indices {
            for (r, c) in nodes[n].configurations.enumerated() {
                let global = nodes[n].firstRouter + r
                let s = ports[routerPort[global]].segment
                let key = GroupKey(segment: s, vrid: c.virtualRouterID, family: c.family)
                let g: Int
                if let existing = groupIndex[key] {
                    g = existing
                } else {
                    g = groups.count
                    groupIndex[key] = g
                    groups.append(Group(segment: s, virtualRouterID: c.virtualRouterID, family: c.family,
                                        label: "segment \(segments[s].name) VRID \(c.virtualRouterID) \(c.family)"))
                }
                groups[g].members.append((n, r))
                routerGroup[global] = g
            }
        }
        // Components: segments tied together by sync groups (a member's move moves the others).
        var parent = Array(segments.indices)
        func find(_ x: Int) -> Int {
            var x = x
            while parent[x] != x { parent[x] = parent[parent[x]]; x = parent[x] }
            return x
        }
        for node in nodes {
            for sg in node.syncGroups {
                let segs = sg.members.compactMap { m in
                    node.configurations.firstIndex { $0.name == m }.map { ports[routerPort[node.firstRouter + $0]].segment }
                }
                for s in segs.dropFirst() {
                    let a = find(segs[0]), b = find(s)
                    if a != b { parent[max(a, b)] = min(a, b) }
                }
            }
        }
        var componentOfRoot: [Int: Int] = [:]
        for s in segments.indices {
            let root = find(s)
            let c: Int
            if let existing = componentOfRoot[root] {
                c = existing
            } else {
                c = components.count
                componentOfRoot[root] = c
                components.append(Component())
            }
            segments[s].component = c
            components[c].segments.append(s)
        }
        for g in groups.indices {
            let c = segments[groups[g].segment].component
            groups[g].component = c
            components[c].groups.append(g)
        }
        for n in nodes.indices {
            var cs: [Int] = []
            for p in nodes[n].ports {
                let c = segments[ports[p].segment].component
                if !cs.contains(c) { cs.append(c) }
            }
            nodes[n].components = cs
            for (k, sg) in nodes[n].syncGroups.enumerated() {
                guard let first = sg.members.first,
                      let r = nodes[n].configurations.firstIndex(where: { $0.name == first }) else { continue }
                let c = segments[ports[routerPort[nodes[n].firstRouter + r]].segment].component
                components[c].syncGroups.append((n, k))
            }
        }
        // Settle times: one MDI (at priority 1, the slowest) to elect, one interval and the
        // latency for the others to hear it; one more MDI for each chained wait: a preempt
        // delay starts only when the first (lower) advert arrives, and sync-group members
        // wait for each other; plus the startup and preempt delays themselves.
        for c in components.indices {
            var mdi = Duration.zero, interval = Duration.zero, delays = Duration.zero
            var preemptDelay = false
            for g in components[c].groups {
                for (n, r) in groups[g].members {
                    let cfg = nodes[n].configurations[r]
                    mdi = max(mdi, VRRPTimers.masterDownInterval(
                        version: cfg.version, priority: 1, masterAdvertisementInterval: cfg.advertisementInterval,
                        downTimerAdverts: cfg.downTimerAdverts))
                    interval = max(interval, .centiseconds(Int(cfg.advertisementInterval)))
                    delays = max(delays, cfg.startupDelay + (cfg.preemptDelay ?? .zero))
                    if cfg.preemptDelay != nil { preemptDelay = true }
                }
            }
            let terms = 1 + (preemptDelay ? 1 : 0) + (components[c].syncGroups.isEmpty ? 0 : 1)
            components[c].baseSettle = mdi * terms + interval + delays
        }
    }

    struct GroupKey: Hashable {
        var segment: Int
        var vrid: UInt8
        var family: IPAddressFamily
    }
}
