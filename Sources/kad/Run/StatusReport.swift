import FoundationEssentials
import Glibc
import VRRPCore

/// What the daemon knows about itself, for status output and dumps.
struct DaemonInfo: Sendable, Hashable {
    /// The daemon's process id.
    var pid: Int32
    /// The configuration file it runs.
    var configFile: String
    /// kad's version.
    var version: String
    /// When the daemon started (wall clock, for display only).
    var startTime: Date

    /// Information about this process.
    init(pid: Int32 = getpid(), configFile: String, version: String = Kad.configuration.version,
         startTime: Date = Date()) {
        self.pid = pid
        self.configFile = configFile
        self.version = version
        self.startTime = startTime
    }
}

/// The daemon's state as `kad status` shows it: one entry per VRRP instance and sync group,
/// built from a ``VRRPRunnerSnapshot``.
///
/// The JSON form (``json()``) is stable: keys are sorted, field names are the Swift property
/// names below (camelCase), durations are seconds as numbers, timers are given as the time
/// left from the snapshot, and a counter map lists only non-zero entries (an absent key is
/// zero). New fields may be added; existing ones keep their name and meaning while
/// ``formatVersion`` stays 1.
///
/// Top level: `formatVersion`, `daemon` (``Daemon``), `instances` ([``Instance``]),
/// `syncGroups` ([``SyncGroup``]), `unroutedDrops` (drops of packets no instance claimed, by
/// ``VRRPDropReason/identifier``), `timers` (``Timers``).
///
/// ```swift
/// let report = StatusReport(await runner.snapshot(), daemon: info)
/// print(report.text())          // kad status
/// print(try report.json())      // kad status --json
/// ```
struct StatusReport: Codable, Sendable, Hashable {
    /// The version of this layout.
    static let currentFormatVersion = 1

    /// The layout version (1).
    var formatVersion: Int
    /// The daemon process.
    var daemon: Daemon
    /// The VRRP instances, in configuration order.
    var instances: [Instance]
    /// The sync groups, in configuration order.
    var syncGroups: [SyncGroup]
    /// Drops of packets that reached no instance (codec errors, unknown VRIDs), by reason identifier.
    var unroutedDrops: [String: UInt64]
    /// How punctually the runner's timers fired.
    var timers: Timers
    /// The IPVS virtual servers (absent when the daemon runs none).
    var virtualServers: [VirtualServer]?

    /// One `virtual_server` as the checkers see it.
    struct VirtualServer: Codable, Sendable, Hashable {
        /// `TCP 192.0.2.10 80`, `FWM 5`, `TCP group web`.
        var name: String
        /// The IPVS services, in ipvsadm's words (`TCP 192.0.2.10:80`).
        var services: [String]
        var hasQuorum: Bool
        /// The sum of the weights of the real servers that are up.
        var liveWeight: Int
        var quorum: Int
        var hysteresis: Int
        var sorryServer: String?
        /// Whether the sorry server is in service (quorum lost).
        var sorryServerActive: Bool
        var realServers: [RealServer]
    }

    /// One `real_server`.
    struct RealServer: Codable, Sendable, Hashable {
        /// `198.51.100.2:80`.
        var address: String
        /// Whether all its checkers are up.
        var up: Bool
        /// Its current weight (configured, or set by a dynamic checker).
        var weight: Int
        var configuredWeight: Int
        /// Its weight in the IPVS table (nil: not in it).
        var ipvsWeight: Int?
        /// The checker keywords.
        var checkers: [String]
        /// What caused the last verdict.
        var lastCause: String?
        var checkAttempts: UInt64
        var checkFailures: UInt64
    }

    /// The daemon process.
    struct Daemon: Codable, Sendable, Hashable {
        var pid: Int32
        var configFile: String
        var version: String
        /// ISO 8601, UTC.
        var startedAt: String
        var uptimeSeconds: Double
    }

    /// One `vrrp_instance`.
    struct Instance: Codable, Sendable, Hashable {
        var name: String
        /// `virtual_router_id`.
        var vrid: Int
        var interface: String
        /// `IPv4` or `IPv6`.
        var family: String
        /// 2 or 3.
        var version: Int
        /// `INIT`, `BACKUP`, `MASTER`, `FAULT` or `STOP` (keepalived's spelling).
        var state: String
        /// The configured priority (255: address owner).
        var basePriority: Int
        /// Base priority plus tracker weights (what the instance advertises).
        var effectivePriority: Int
        /// Whether the instance owns the addresses right now (priority 255, not demoted).
        var owner: Bool
        /// The source address of our adverts.
        var sourceAddress: String
        /// The current master as far as this instance knows (itself when MASTER); absent in
        /// INIT, FAULT and STOP, and for a BACKUP that has not heard a master yet.
        var masterAddress: String?
        /// Multicast (true) or unicast.
        var multicast: Bool
        /// Where adverts go: the multicast group or the unicast peers.
        var destinations: [String]
        /// `virtual_ipaddress`, as `ADDRESS/PREFIX`.
        var addresses: [String]
        /// `virtual_ipaddress_excluded`.
        var excludedAddresses: [String]
        /// Our `advert_int`.
        var advertIntervalSeconds: Double
        /// Master_Adver_Interval (learned from the master in VRRPv3).
        var masterAdvertIntervalSeconds: Double
        /// Master_Down_Interval with the current priority.
        var masterDownIntervalSeconds: Double
        /// Skew_Time with the current priority.
        var skewTimeSeconds: Double
        /// Time left on the master-down timer (BACKUP); absent when not armed.
        var masterDownTimerSeconds: Double?
        /// Time until the next advert (MASTER); absent when not armed.
        var nextAdvertSeconds: Double?
        /// Preempt_Mode (`nopreempt` clears it).
        var preempt: Bool
        /// `preempt_delay`, when set.
        var preemptDelaySeconds: Double?
        /// The sync group this instance belongs to.
        var syncGroup: String?
        /// A BACKUP whose down timer expired and that waits for its sync group.
        var waitingForSyncGroup: Bool
        /// Why the instance is (or would be) in FAULT; empty when healthy.
        var faultReasons: [String]
        /// The tracked objects, in configuration order.
        var trackers: [Tracker]
        /// Everything counted for this instance.
        var counters: Counters
    }

    /// One tracked object of an instance.
    struct Tracker: Codable, Sendable, Hashable {
        /// `interface`, `script`, `file`, `process`, `bfd` or `object`.
        var kind: String
        var name: String
        var weight: Int
        var reverse: Bool
        /// `up`, `down`, `unknown` (not reported yet) or `value` (`track_file`).
        var status: String
        /// The `track_file` value, for status `value`.
        var value: Int?
        /// What this tracker adds to the effective priority now.
        var priorityDelta: Int
        /// Whether this tracker puts the instance in FAULT now.
        var faulting: Bool
    }

    /// Per-instance counters (``VRRPCounters``), keepalived's statistics among them.
    struct Counters: Codable, Sendable, Hashable {
        /// Adverts sent (one per destination).
        var advertsSent: UInt64
        /// Adverts that passed every check.
        var advertsReceived: UInt64
        var priorityZeroSent: UInt64
        var priorityZeroReceived: UInt64
        /// Transitions to MASTER.
        var becameMaster: UInt64
        /// Transitions out of MASTER.
        var releasedMaster: UInt64
        /// Entries into each state, by state name (non-zero only).
        var transitionsTo: [String: UInt64]
        /// Losing adverts heard while MASTER (a split-brain sign).
        var lowerPriorityHeardAsMaster: UInt64
        /// Adverts whose address list differed from ours (a split-brain or misconfiguration sign).
        var addressListMismatches: UInt64
        /// VRRPv3 adverts whose interval differed from ours.
        var intervalMismatches: UInt64
        /// Gratuitous ARP / NA bursts requested.
        var announcementBursts: UInt64
        /// Drops by ``VRRPDropReason/identifier`` (non-zero only).
        var drops: [String: UInt64]
        /// All drops.
        var dropsTotal: UInt64
    }

    /// A `vrrp_sync_group`.
    struct SyncGroup: Codable, Sendable, Hashable {
        var name: String
        /// The group's state (FAULT if any member is, MASTER if all are, ...).
        var state: String
        var members: [String]
    }

    /// The runner's timer statistics (``VRRPRunnerStatistics``).
    struct Timers: Codable, Sendable, Hashable {
        var wakeUps: UInt64
        /// Wake-ups later than the runner's threshold.
        var lateWakeUps: UInt64
        var maximumLatenessSeconds: Double
        /// Wake-ups by lateness: `lt_1ms`, `lt_10ms`, `lt_100ms`, `lt_1s`, `ge_1s` (all keys present).
        var latenessBuckets: [String: UInt64]
    }

    /// The lateness bucket names, in ``VRRPRunnerStatistics/latenessBuckets`` order.
    static let latenessBucketNames = ["lt_1ms", "lt_10ms", "lt_100ms", "lt_1s", "ge_1s"]

    /// A report of `snapshot`.
    /// - Parameters:
    ///   - daemon: the process to describe.
    ///   - date: the wall-clock time of the snapshot (for the uptime).
    init(_ snapshot: VRRPRunnerSnapshot, daemon: DaemonInfo, at date: Date = Date()) {
        self.init(engine: snapshot.engine, statistics: snapshot.statistics, now: snapshot.now, daemon: daemon, at: date)
    }

    /// A report of `engine` at the runner time `now`.
    init(engine: VRRPEngine, statistics: VRRPRunnerStatistics, now: VRRPInstant, daemon: DaemonInfo,
         at date: Date = Date()) {
        formatVersion = Self.currentFormatVersion
        self.daemon = Daemon(pid: daemon.pid, configFile: daemon.configFile, version: daemon.version,
                             startedAt: daemon.startTime.formatted(.iso8601),
                             uptimeSeconds: max(0, date.timeIntervalSince(daemon.startTime)))
        var groupOf: [String: String] = [:]
        for g in engine.syncGroups { for m in g.members { groupOf[m] = g.name } }
        instances = engine.routers.map { Instance($0, syncGroup: groupOf[$0.configuration.name], now: now) }
        syncGroups = engine.syncGroups.map {
            SyncGroup(name: $0.name, state: (engine.groupState($0.name) ?? .initialize).description, members: $0.members)
        }
        unroutedDrops = Self.nonZero(engine.unroutedDrops)
        timers = Timers(
            wakeUps: statistics.timerWakeUps, lateWakeUps: statistics.lateTimers,
            maximumLatenessSeconds: statistics.maximumLateness.seconds,
            latenessBuckets: Dictionary(uniqueKeysWithValues: zip(Self.latenessBucketNames, statistics.latenessBuckets)))
    }

    /// Drop counts by reason identifier, without the zeros.
    static func nonZero(_ drops: [UInt64]) -> [String: UInt64] {
        var out: [String: UInt64] = [:]
        for reason in VRRPDropReason.allCases where Int(reason.rawValue) < drops.count && drops[Int(reason.rawValue)] > 0 {
            out[reason.identifier] = drops[Int(reason.rawValue)]
        }
        return out
    }

    // MARK: - Output

    /// The stable JSON encoding: sorted keys, pretty-printed, ending with a newline.
    func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
    }

    /// The human table of `kad status`: a daemon line, one line per instance, one per sync
    /// group, and the timer statistics.
    ///
    /// An instance line reads
    /// `VI_1  eth0  vrid 51  MASTER  prio 100/100  master 192.0.2.1  adverts tx 12 rx 0`
    /// (`prio EFFECTIVE/BASE`; `master -` when unknown), followed when they apply by
    /// `drops N`, `fault: REASON; REASON` and `waiting for sync group`. Columns are aligned.
    func text() -> String {
        var out = "kad \(daemon.version)  pid \(daemon.pid)  up \(Self.uptime(daemon.uptimeSeconds))  config \(daemon.configFile)\n"
        if instances.isEmpty { out += "no VRRP instances\n" }
        let rows: [[String]] = instances.map { i in
            ["\(i.name)", i.interface, "vrid \(i.vrid)", i.state, "prio \(i.effectivePriority)/\(i.basePriority)",
             "master \(i.masterAddress ?? "-")", "adverts tx \(i.counters.advertsSent) rx \(i.counters.advertsReceived)"]
        }
        var widths = Array(repeating: 0, count: 7)
        for row in rows { for (k, cell) in row.enumerated() { widths[k] = max(widths[k], cell.count) } }
        for (i, row) in zip(instances, rows) {
            var cells: [String] = []
            for (k, cell) in row.enumerated() {
                cells.append(k == row.count - 1 ? cell : cell.rightPadded(to: widths[k]))
            }
            if i.counters.dropsTotal > 0 { cells.append("drops \(i.counters.dropsTotal)") }
            if !i.faultReasons.isEmpty { cells.append("fault: " + i.faultReasons.joined(separator: "; ")) }
            if i.waitingForSyncGroup { cells.append("waiting for sync group") }
            out += cells.joined(separator: "  ").trimmingTrailingSpaces() + "\n"
        }
        for g in syncGroups {
            out += "sync group \(g.name)  \(g.state)  \(g.members.joined(separator: ", "))\n"
        }
        let unrouted = unroutedDrops.values.reduce(0, +)
        if unrouted > 0 {
            out += "unrouted drops \(unrouted): "
                + unroutedDrops.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + "\n"
        }
        for vs in virtualServers ?? [] {
            var line = "virtual server \(vs.name)  \(vs.hasQuorum ? "quorum" : "NO QUORUM")  live weight \(vs.liveWeight)/\(vs.quorum)"
            if vs.hysteresis > 0 { line += " ±\(vs.hysteresis)" }
            if let sorry = vs.sorryServer { line += "  sorry \(sorry)\(vs.sorryServerActive ? " IN SERVICE" : "")" }
            out += line + "\n"
            for rs in vs.realServers {
                out += "  real server \(rs.address)  \(rs.up ? "UP" : "DOWN")  weight \(rs.ipvsWeight.map(String.init) ?? "-")"
                    + (rs.weight != rs.configuredWeight ? " (dynamic \(rs.weight))" : "")
                    + "  checks \(rs.checkAttempts) failed \(rs.checkFailures)"
                    + (rs.checkers.isEmpty ? "" : "  " + rs.checkers.joined(separator: ","))
                    + (rs.up ? "" : rs.lastCause.map { "  (\($0))" } ?? "") + "\n"
            }
        }
        out += "timers: \(timers.wakeUps) wake-ups, \(timers.lateWakeUps) late, worst "
            + (timers.maximumLatenessSeconds * 1000).fixed(3) + " ms" + "\n"
        return out
    }

    /// `1d02h03m04s`, `2h03m04s`, `3m04s` or `4s`.
    static func uptime(_ seconds: Double) -> String {
        let s = Int(seconds.rounded(.down))
        let (d, h, m, r) = (s / 86400, s / 3600 % 24, s / 60 % 60, s % 60)
        if d > 0 { return "\(d)d\(h.zeroPadded(2))h\(m.zeroPadded(2))m\(r.zeroPadded(2))s" }
        if h > 0 { return "\(h)h\(m.zeroPadded(2))m\(r.zeroPadded(2))s" }
        if m > 0 { return "\(m)m\(r.zeroPadded(2))s" }
        return "\(r)s"
    }
}

extension StatusReport.Instance {
    /// The status of `router`, a member of `syncGroup`, at the runner time `now`.
    init(_ router: VirtualRouter, syncGroup: String?, now: VRRPInstant) {
        let c = router.configuration
        name = c.name
        vrid = Int(c.virtualRouterID)
        interface = c.interface
        family = c.family.description
        version = Int(c.version.rawValue)
        state = router.state.description
        basePriority = Int(c.priority)
        effectivePriority = Int(router.effectivePriority)
        owner = router.isOwner
        sourceAddress = c.primaryAddress.description
        switch router.state {
        case .master: masterAddress = (router.masterAddress ?? c.primaryAddress).description
        // A BACKUP that still names itself left MASTER without hearing the winner (its sync
        // group moved it): the master is unknown.
        case .backup: masterAddress = router.masterAddress.flatMap { $0 == c.primaryAddress ? nil : $0.description }
        default: masterAddress = nil
        }
        multicast = c.isMulticast
        destinations = c.isMulticast ? [c.group.description] : c.unicastPeers.map(\.address.description)
        addresses = c.addresses.map(\.description)
        excludedAddresses = c.excludedAddresses.map(\.description)
        advertIntervalSeconds = Double(c.advertisementInterval) / 100
        masterAdvertIntervalSeconds = Double(router.masterAdvertisementInterval) / 100
        masterDownIntervalSeconds = router.masterDownInterval.seconds
        skewTimeSeconds = router.skewTime.seconds
        masterDownTimerSeconds = router.masterDownDeadline.map { max(0, ($0 - now).seconds) }
        nextAdvertSeconds = router.advertisementDeadline.map { max(0, ($0 - now).seconds) }
        preempt = c.preempt
        preemptDelaySeconds = c.preemptDelay?.seconds
        self.syncGroup = syncGroup
        waitingForSyncGroup = router.isWaitingForSyncGroup
        faultReasons = router.faultReasons.map(\.description)
        trackers = c.trackers.map { binding in
            let status = router.status(of: binding.object) ?? .unknown
            let effect = binding.evaluate(status, ignoreWeight: c.ignoreTrackerWeights)
            var value: Int?
            let statusName: String
            switch status {
            case .unknown: statusName = "unknown"
            case .up: statusName = "up"
            case .down: statusName = "down"
            case .value(let v):
                statusName = "value"
                value = v
            }
            return StatusReport.Tracker(kind: binding.object.kind.description, name: binding.object.name,
                                        weight: binding.weight, reverse: binding.reverse, status: statusName,
                                        value: value, priorityDelta: effect.delta, faulting: effect.fault)
        }
        counters = StatusReport.Counters(router)
    }
}

extension StatusReport.Counters {
    /// The counters of `router`.
    init(_ router: VirtualRouter) {
        let k = router.counters
        advertsSent = k.advertisementsSent
        advertsReceived = k.advertisementsReceived
        priorityZeroSent = k.priorityZeroSent
        priorityZeroReceived = k.priorityZeroReceived
        becameMaster = k.transitions(to: .master)
        releasedMaster = router.releasedMasterCount
        var to: [String: UInt64] = [:]
        for s in VRRPState.allCases where k.transitions(to: s) > 0 { to[s.description] = k.transitions(to: s) }
        transitionsTo = to
        lowerPriorityHeardAsMaster = k.lowerPriorityReceivedAsMaster
        addressListMismatches = k.addressListMismatches
        intervalMismatches = k.intervalMismatches
        announcementBursts = k.announcementBursts
        drops = StatusReport.nonZero(k.drops)
        dropsTotal = k.totalDrops
    }
}

extension VirtualRouter {
    /// keepalived's "Released master": how often the instance left MASTER. Every entry into
    /// MASTER is counted, and an instance leaves MASTER once per entry except while it is
    /// still MASTER, so this is the entries minus one when MASTER now.
    var releasedMasterCount: UInt64 {
        let became = counters.transitions(to: .master)
        return state == .master && became > 0 ? became - 1 : became
    }
}

extension Duration {
    /// The duration in seconds, as a floating-point number.
    var seconds: Double {
        let c = components
        return Double(c.seconds) + Double(c.attoseconds) / 1e18
    }
}

extension String {
    /// The string without trailing spaces.
    func trimmingTrailingSpaces() -> String {
        var s = Substring(self)
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
