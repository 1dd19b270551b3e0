/// A random fault schedule, drawn from the simulation's seed.
///
/// ``Simulation/addChaos(_:)`` draws ``episodes`` episodes at uniform times in
/// `start..<end`. Each picks a kind from ``kinds`` (list a kind twice to make it twice as
/// likely), a node or segment, and a length from ``shortestEpisode``…``longestEpisode``;
/// the recovery (restart, heal, link up, ...) comes at the end of the episode, at the
/// latest at `end`, so the world is whole again after `end` and can settle.
public struct SimulationChaos: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// Silent crash, then a restart.
        case crash
        /// A process restart (graceful shutdown, fresh engine).
        case restart
        /// Graceful shutdown, then startup.
        case shutdown
        /// A random two-way split of a segment, then heal.
        case partition
        /// A link goes down, then up.
        case linkFlap
        /// A tracked object the node uses goes down, then up.
        case tracker
        /// An instance (with its sync-group mates) gets a random priority, then its own back.
        case priority
        /// A segment gets ``SimulationChaos/degradedNetwork``, then its own model back.
        case network
        /// The node reloads its (unchanged) configuration: nothing may change on the wire.
        case reload
    }

    public var start: VRRPInstant
    public var end: VRRPInstant
    public var episodes: Int
    public var kinds: [Kind]
    public var shortestEpisode: Duration
    public var longestEpisode: Duration
    /// The fault model of a ``Kind/network`` episode.
    public var degradedNetwork: SimulationFaultModel

    public init(from start: VRRPInstant, until end: VRRPInstant, episodes: Int, kinds: [Kind] = Kind.allCases,
                shortestEpisode: Duration = .zero, longestEpisode: Duration = .seconds(10),
                degradedNetwork: SimulationFaultModel = SimulationFaultModel(loss: 0.5)) {
        self.start = start
        self.end = end
        self.episodes = episodes
        self.kinds = kinds
        self.shortestEpisode = shortestEpisode
        self.longestEpisode = max(longestEpisode, shortestEpisode)
        self.degradedNetwork = degradedNetwork
    }
}

extension Simulation {
    /// Schedules a random fault schedule drawn from the seed (see ``SimulationChaos``).
    public mutating func addChaos(_ chaos: SimulationChaos) {
        guard !nodes.isEmpty, !chaos.kinds.isEmpty, chaos.end > chaos.start else { return }
        let span = chaos.end - chaos.start
        for _ in 0..<chaos.episodes {
            let t = chaos.start + chaosRNG.duration(in: .zero...(span - .nanoseconds(1)))
            let length = chaosRNG.duration(in: chaos.shortestEpisode...chaos.longestEpisode)
            let back = min(t + length, chaos.end)
            let n = chaosRNG.int(in: 0...(nodes.count - 1))
            switch chaosRNG.pick(chaos.kinds) {
            case .crash:
                crash(n, at: t)
                restart(n, at: back)
            case .restart:
                restart(n, at: t)
            case .shutdown:
                shutdown(n, at: t)
                start(n, at: back)
            case .partition:
                guard !segments.isEmpty else { continue }
                let s = chaosRNG.int(in: 0...(segments.count - 1))
                var members = nodes.indices.filter { m in nodes[m].ports.contains { ports[$0].segment == s } }
                guard members.count >= 2 else { continue }
                for i in stride(from: members.count - 1, to: 0, by: -1) {
                    members.swapAt(i, chaosRNG.int(in: 0...i))
                }
                let cut = chaosRNG.int(in: 1...(members.count - 1))
                partition(s, [Array(members[..<cut]), Array(members[cut...])], from: t, until: back)
            case .linkFlap:
                guard !nodes[n].ports.isEmpty else { continue }
                let name = ports[chaosRNG.pick(nodes[n].ports)].name
                setInterface(n, name, up: false, at: t)
                setInterface(n, name, up: true, at: back)
            case .tracker:
                var ids: [TrackedObjectID] = []
                for c in nodes[n].configurations {
                    for b in c.trackers where !ids.contains(b.object) { ids.append(b.object) }
                }
                guard !ids.isEmpty else { continue }
                let id = chaosRNG.pick(ids)
                setTracker(n, id, .down, at: t)
                setTracker(n, id, .up, at: back)
            case .priority:
                let candidates = nodes[n].configurations.filter { !$0.isOwner }
                guard !candidates.isEmpty else { continue }
                let c = chaosRNG.pick(candidates)
                var names = [c.name]
                if let sg = nodes[n].syncGroups.first(where: { $0.members.contains(c.name) }) { names = sg.members }
                let p = UInt8(chaosRNG.int(in: 1...254))
                for name in names {
                    guard let original = nodes[n].configurations.first(where: { $0.name == name }),
                          !original.isOwner else { continue }
                    setPriority(n, instance: name, p, at: t)
                    setPriority(n, instance: name, original.priority, at: back)
                }
            case .reload:
                reload(n, at: t)
            case .network:
                guard !segments.isEmpty else { continue }
                let s = chaosRNG.int(in: 0...(segments.count - 1))
                setNetwork(s, chaos.degradedNetwork, at: t)
                setNetwork(s, segmentFaults[s], at: back)
            }
        }
    }
}
