/// A sync group: virtual routers that fail over together (`vrrp_sync_group`).
public struct SyncGroupConfiguration: Sendable, Hashable {
    /// `vrrp_sync_group NAME`.
    public var name: String
    /// Member instance names.
    public var members: [String]
    /// A group of the named instances.
    public init(name: String, members: [String]) {
        self.name = name
        self.members = members
    }
}

/// Everything one VRRP node runs: its virtual routers and sync groups, with packet
/// demultiplexing and tracker routing. Pure, like ``VirtualRouter``.
///
/// ## Call contract
/// Same as ``VirtualRouter``: inputs with `now` in, actions out, ``nextDeadline`` tells
/// when to deliver `.timerFired`. Received packets are routed by (interface, family,
/// VRID, multicast or unicast) to exactly one router; a packet no router claims is
/// counted in ``unroutedDrops`` and reported.
///
/// Sync-group rules (keepalived's): a member whose master-down timer expires waits until
/// every member wants MASTER, then they all become MASTER together; a member that steps
/// down to BACKUP takes the others with it; a member in FAULT puts all the others in
/// FAULT until it recovers; a MASTER that hears a lower priority re-announces the
/// addresses of every member.
public struct VRRPEngine: Sendable {
    /// One input to the node.
    public enum Input: Sendable, Hashable {
        case startup
        case shutdown
        /// A decoded, codec-checked packet received on `interface`.
        case packet(VRRPReceivedPacket, interface: String)
        /// A raw IPv4 datagram (IP header included, as a raw socket delivers it); decoded here.
        case ipv4Datagram([UInt8], interface: String)
        /// A VRRP message from a raw IPv6 socket (no IP header; the hop limit from `IPV6_HOPLIMIT`).
        case ipv6Message([UInt8], source: IPAddress, destination: IPAddress, hopLimit: UInt8, interface: String)
        case timerFired
        case interfaceChanged(String, up: Bool)
        case trackerChanged(TrackedObjectID, TrackerStatus)
        /// A new base priority for the named instance.
        case priorityChanged(instance: String, UInt8)
    }

    /// One output of the node.
    public enum Action: Sendable, Hashable, CustomStringConvertible {
        /// An action of router `index` (see ``routers``).
        case router(Int, VRRPAction)
        /// A sync group changed state (for GROUP notifications).
        case groupTransition(group: String, from: VRRPState, to: VRRPState)
        /// A packet no router claims.
        case unrouted(VRRPDropReason, interface: String, source: IPAddress?)
        /// An action of a router that a reload removed (its last actions: priority 0,
        /// address removal, STOP), with the configuration it ran.
        case retired(VirtualRouterConfiguration, VRRPAction)

        public var description: String {
            switch self {
            case .router(let i, let a): "[\(i)] \(a)"
            case .groupTransition(let g, let f, let t): "group \(g): \(f) -> \(t)"
            case .unrouted(let r, let i, let s): "drop on \(i) from \(s.map(\.description) ?? "?") (\(r))"
            case .retired(let c, let a): "[\(c.name), removed] \(a)"
            }
        }
    }

    struct Key: Hashable {
        var interface: String
        var family: IPAddressFamily
        var vrid: UInt8
        var multicast: Bool
    }

    /// The routers, in configuration order (their index is the one in ``Action/router(_:_:)``).
    public private(set) var routers: [VirtualRouter]
    /// The sync groups.
    public private(set) var syncGroups: [SyncGroupConfiguration]
    /// Drops of packets that reached no router, by reason (index: `VRRPDropReason.rawValue`).
    public private(set) var unroutedDrops: [UInt64] = Array(repeating: 0, count: VRRPDropReason.allCases.count)
    var demux: [Key: Int] = [:]
    var byName: [String: Int] = [:]
    var groupMembers: [[Int]] = []
    var groupOf: [Int?]
    var groupState: [VRRPState] = []
    var trackerUsers: [TrackedObjectID: [Int]] = [:]
    var scratch: [VRRPAction] = []
    /// Each router's next deadline in nanoseconds (`.max`: none), refreshed after every call
    /// into that router, with the earliest one at hand.
    var deadlines: DeadlineQueue
    /// The last reported state of every interface and tracked object, replayed to routers
    /// a reload adds.
    var interfaceStates: [String: Bool] = [:]
    var trackerStates: [TrackedObjectID: TrackerStatus] = [:]
    /// Whether `.startup` has been handled (and `.shutdown` not since).
    public private(set) var isStarted = false

    /// A node running `routers` and `syncGroups`.
    /// - Throws: ``VRRPConfigurationError`` for an invalid router, a duplicate name, two
    ///   routers with the same (interface, family, VRID, mode), or a bad group.
    public init(routers configurations: [VirtualRouterConfiguration],
                syncGroups: [SyncGroupConfiguration] = []) throws(VRRPConfigurationError) {
        var rs: [VirtualRouter] = []
        for c in configurations {
            let key = Key(interface: c.interface, family: c.family, vrid: c.virtualRouterID, multicast: c.isMulticast)
            if byName[c.name] != nil {
                throw VRRPConfigurationError(instance: c.name, field: "vrrp_instance", message: "duplicate name")
            }
            if let other = demux[key] {
                throw VRRPConfigurationError(
                    instance: c.name, field: "virtual_router_id",
                    message: "VRID \(c.virtualRouterID) is already used by \(configurations[other].name) on \(c.interface) (\(c.family))")
            }
            demux[key] = rs.count
            byName[c.name] = rs.count
            rs.append(try VirtualRouter(configuration: c))
        }
        groupOf = Array(repeating: nil, count: rs.count)
        for (g, group) in syncGroups.enumerated() {
            var members: [Int] = []
            for m in group.members {
                guard let i = byName[m] else {
                    throw VRRPConfigurationError(instance: m, field: "vrrp_sync_group \(group.name)", message: "no such instance")
                }
                if let other = groupOf[i] {
                    throw VRRPConfigurationError(
                        instance: m, field: "vrrp_sync_group \(group.name)",
                        message: "already a member of \(syncGroups[other].name)")
                }
                groupOf[i] = g
                rs[i].syncGroup = group.name
                members.append(i)
            }
            groupMembers.append(members)
        }
        groupState = Array(repeating: .initialize, count: syncGroups.count)
        for (i, r) in rs.enumerated() {
            for t in r.configuration.trackers { trackerUsers[t.object, default: []].append(i) }
        }
        self.routers = rs
        self.syncGroups = syncGroups
        deadlines = DeadlineQueue(count: rs.count)
    }

    /// The index of the router named `name`.
    public func index(of name: String) -> Int? { byName[name] }

    /// The earliest deadline of any router.
    public var nextDeadline: VRRPInstant? {
        let m = deadlines.earliest
        return m == .max ? nil : VRRPInstant(nanoseconds: m)
    }

    /// The state of a sync group (FAULT if any member is, MASTER if all are, ...).
    public func groupState(_ name: String) -> VRRPState? {
        syncGroups.firstIndex { $0.name == name }.map { groupState[$0] }
    }

    /// Processes one input; returns the actions in order.
    public mutating func handle(_ input: Input, now: VRRPInstant) -> [Action] {
        var out: [Action] = []
        handle(input, now: now, into: &out)
        return out
    }

    /// Like ``handle(_:now:)``, appending to `out`.
    public mutating func handle(_ input: Input, now: VRRPInstant, into out: inout [Action]) {
        let start = out.count
        switch input {
        case .startup:
            isStarted = true
            for i in routers.indices { deliver(.startup, to: i, now, &out) }
        case .shutdown:
            isStarted = false
            for i in routers.indices { deliver(.shutdown, to: i, now, &out) }
        case .ipv4Datagram(let bytes, let interface):
            do throws(VRRPDropReason) {
                let p = try VRRPAdvertisement.decodeIPv4Datagram(bytes)
                handle(.packet(p, interface: interface), now: now, into: &out)
                return
            } catch {
                let source = bytes.count >= 20 ? IPAddress(bytes: bytes[12..<16]) : nil
                unroutedDrops[Int(error.rawValue)] += 1
                out.append(.unrouted(error, interface: interface, source: source))
            }
        case .ipv6Message(let bytes, let source, let destination, let hopLimit, let interface):
            do throws(VRRPDropReason) {
                let p = try VRRPAdvertisement.decode(message: bytes, source: source, destination: destination,
                                                     hopLimit: hopLimit)
                handle(.packet(p, interface: interface), now: now, into: &out)
                return
            } catch {
                unroutedDrops[Int(error.rawValue)] += 1
                out.append(.unrouted(error, interface: interface, source: source))
            }
        case .packet(let p, let interface):
            let a = p.advertisement
            let key = Key(interface: interface, family: a.family, vrid: a.virtualRouterID,
                          multicast: p.destination.isMulticast)
            if let i = demux[key] ?? demux[Key(interface: interface, family: a.family, vrid: a.virtualRouterID,
                                                 multicast: !p.destination.isMulticast)] {
                deliver(.advertisement(p), to: i, now, &out)
            } else {
                unroutedDrops[Int(VRRPDropReason.unknownVirtualRouter.rawValue)] += 1
                out.append(.unrouted(.unknownVirtualRouter, interface: interface, source: p.source))
            }
        case .timerFired:
            for i in deadlines.due(now.nanoseconds) { deliver(.timerFired, to: i, now, &out) }
        case .interfaceChanged(let name, let up):
            interfaceStates[name] = up
            for i in routers.indices where routers[i].configuration.interface == name {
                deliver(.interfaceChanged(up: up), to: i, now, &out)
            }
            let id = TrackedObjectID(.interface, name)
            for i in trackerUsers[id] ?? [] { deliver(.trackerChanged(id, up ? .up : .down), to: i, now, &out) }
        case .trackerChanged(let id, let status):
            trackerStates[id] = status
            for i in trackerUsers[id] ?? [] { deliver(.trackerChanged(id, status), to: i, now, &out) }
        case .priorityChanged(let name, let p):
            if let i = byName[name] { deliver(.priorityChanged(p), to: i, now, &out) }
        }
        if !syncGroups.isEmpty { settleGroups(now, from: start, &out) }
    }

    /// Records that a packet failed the codec before any router could claim it.
    public mutating func countUnrouted(_ reason: VRRPDropReason) {
        unroutedDrops[Int(reason.rawValue)] += 1
    }

    mutating func deliver(_ input: VirtualRouter.Input, to i: Int, _ now: VRRPInstant, _ out: inout [Action]) {
        scratch.removeAll(keepingCapacity: true)
        routers[i].handle(input, now: now, into: &scratch)
        deadlines.set(i, routers[i].nextDeadline?.nanoseconds ?? .max)
        for a in scratch { out.append(.router(i, a)) }
    }

    mutating func control(_ i: Int, _ now: VRRPInstant, _ out: inout [Action],
                          _ body: (inout VirtualRouter, inout [VRRPAction]) -> Void) {
        scratch.removeAll(keepingCapacity: true)
        body(&routers[i], &scratch)
        deadlines.set(i, routers[i].nextDeadline?.nanoseconds ?? .max)
        for a in scratch { out.append(.router(i, a)) }
    }

    /// Applies the sync-group rules to the actions produced since `start`, until nothing changes.
    mutating func settleGroups(_ now: VRRPInstant, from start: Int, _ out: inout [Action]) {
        var cursor = start
        var rounds = 0
        while rounds < 16 {
            rounds += 1
            let end = out.count
            // 1. React to what members did.
            for k in cursor..<end {
                guard case .router(let i, let action) = out[k], let g = groupOf[i] else { continue }
                let name = syncGroups[g].name
                switch action {
                case .transition(let from, .backup, _) where from == .master:
                    for m in groupMembers[g] where m != i { control(m, now, &out) { $0.forceBackup(now, group: name, &$1) } }
                case .transition(_, .master, _):
                    for m in groupMembers[g] where m != i { control(m, now, &out) { $0.forceMaster(now, group: name, &$1) } }
                case .notice(.masterReceivedLowerPriority):
                    for m in groupMembers[g] where m != i { control(m, now, &out) { $0.announceLowerPriority(now, &$1) } }
                default:
                    break
                }
            }
            // 2. Faults and MASTER consensus.
            for (g, members) in groupMembers.enumerated() {
                let name = syncGroups[g].name
                let faulty = members.first { !routers[$0].ownFaultReasons.isEmpty && routers[$0].state != .stop }
                for m in members {
                    let reason: FaultReason? = faulty.flatMap { $0 == m ? nil : .syncGroupMember(routers[$0].configuration.name) }
                    if routers[m].groupFault != reason { control(m, now, &out) { $0.setGroupFault(reason, now, &$1) } }
                }
                let wanting = members.contains { routers[$0].wantsMaster }
                let ready = members.allSatisfy {
                    routers[$0].state == .master || (routers[$0].state == .backup && routers[$0].wantsMaster)
                }
                if wanting && ready {
                    for m in members { control(m, now, &out) { $0.forceMaster(now, group: name, &$1) } }
                }
            }
            cursor = end
            if out.count == end { break }
        }
        // 3. Group state changes.
        for (g, members) in groupMembers.enumerated() {
            let states = members.map { routers[$0].state }
            let s: VRRPState
            if states.contains(.fault) { s = .fault }
            else if states.allSatisfy({ $0 == .master }) { s = .master }
            else if states.allSatisfy({ $0 == .stop }) { s = .stop }
            else if states.allSatisfy({ $0 == .initialize }) { s = .initialize }
            else { s = .backup }
            if s != groupState[g] {
                out.append(.groupTransition(group: syncGroups[g].name, from: groupState[g], to: s))
                groupState[g] = s
            }
        }
    }

    // MARK: - Reload

    /// How keepalived matches an instance across a reload: not by name, but by what makes
    /// it the same virtual router on the wire.
    struct ReloadKey: Hashable {
        var interface: String
        var family: IPAddressFamily
        var vrid: UInt8
        var multicast: Bool
        var unicastSource: IPAddress?

        init(_ c: VirtualRouterConfiguration) {
            interface = c.interface
            family = c.family
            vrid = c.virtualRouterID
            multicast = c.isMulticast
            unicastSource = c.isMulticast ? nil : c.primaryAddress
        }
    }

    /// Replaces the configuration (SIGHUP) without an election.
    ///
    /// Routers are matched as keepalived matches them: by interface, family, VRID,
    /// multicast or unicast, and unicast source. A matched router keeps its state, timers
    /// and counters and applies only the differences (``VirtualRouter/Input/reload(_:)``);
    /// a new one starts (when the engine is running) after being told the last known state
    /// of its interfaces and trackers; a removed one shuts down with priority 0, its
    /// actions reported as ``Action/retired(_:_:)``.
    /// - Throws: ``VRRPConfigurationError`` when the new configuration is invalid; the
    ///   engine is then unchanged.
    public mutating func reload(routers configurations: [VirtualRouterConfiguration],
                                syncGroups groups: [SyncGroupConfiguration],
                                now: VRRPInstant) throws(VRRPConfigurationError) -> [Action] {
        var fresh = try VRRPEngine(routers: configurations, syncGroups: groups)
        var out: [Action] = []
        var oldByKey: [ReloadKey: Int] = [:]
        for (i, r) in routers.enumerated() { oldByKey[ReloadKey(r.configuration)] = i }
        var matched = Set<Int>()
        var added: [Int] = []
        for (i, c) in configurations.enumerated() {
            guard let old = oldByKey[ReloadKey(c)], !matched.contains(old) else {
                added.append(i)
                continue
            }
            matched.insert(old)
            var r = routers[old]
            let group = fresh.routers[i].syncGroup
            if r.syncGroup != group {
                r.syncGroup = group
                r.groupFault = nil
                r.wantsMaster = false
            }
            scratch.removeAll(keepingCapacity: true)
            r.handle(.reload(c), now: now, into: &scratch)
            for a in scratch { out.append(.router(i, a)) }
            fresh.routers[i] = r
            fresh.deadlines.set(i, r.nextDeadline?.nanoseconds ?? .max)
        }
        // Removed routers resign and stop.
        for (i, r) in routers.enumerated() where !matched.contains(i) {
            var gone = r
            scratch.removeAll(keepingCapacity: true)
            gone.handle(.shutdown, now: now, into: &scratch)
            for a in scratch { out.append(.retired(gone.configuration, a)) }
        }
        fresh.unroutedDrops = unroutedDrops
        fresh.interfaceStates = interfaceStates
        fresh.trackerStates = trackerStates
        fresh.isStarted = isStarted
        for (g, group) in fresh.syncGroups.enumerated() {
            if let old = syncGroups.firstIndex(where: { $0.name == group.name }) { fresh.groupState[g] = groupState[old] }
        }
        // New routers learn what is known about their interfaces and trackers, then start.
        for i in added {
            let c = configurations[i]
            if let up = interfaceStates[c.interface] { fresh.deliver(.interfaceChanged(up: up), to: i, now, &out) }
            for t in c.trackers {
                if t.object.kind == .interface, let up = interfaceStates[t.object.name] {
                    fresh.deliver(.trackerChanged(t.object, up ? .up : .down), to: i, now, &out)
                } else if let status = trackerStates[t.object] {
                    fresh.deliver(.trackerChanged(t.object, status), to: i, now, &out)
                }
            }
            if isStarted { fresh.deliver(.startup, to: i, now, &out) }
        }
        if !fresh.syncGroups.isEmpty { fresh.settleGroups(now, from: 0, &out) }
        self = fresh
        return out
    }
}
