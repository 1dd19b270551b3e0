import FoundationEssentials
import Prometheus
import Synchronization
import VRRPCore

/// The daemon's Prometheus metrics, in a registry of their own (not the global
/// `MetricsSystem`), so that every test and every embedder gets an isolated set.
///
/// Two sources feed it:
/// - ``update(_:)`` copies what a ``VRRPRunnerSnapshot`` holds: states, priorities,
///   intervals, tracker statuses, and every counter the engine keeps (adverts, drops,
///   split-brain signs, timer statistics). Counters taken from the snapshot are *set* to the
///   engine's value on each update (call it on every scrape), so they can never drift from
///   `kad status` or the SIGUSR2 stats. Series of instances, trackers or groups that are gone
///   (after a reload) are removed.
/// - ``record(_:)`` counts what only the event stream tells: transitions with their
///   origin, sync-group transitions, notices, port failures, and the time of the last
///   transition.
///
/// Metrics (label `instance` is the `vrrp_instance` name; `state` values are keepalived's
/// spellings `INIT`, `BACKUP`, `MASTER`, `FAULT`, `STOP`):
///
/// | name | type | labels | meaning |
/// |---|---|---|---|
/// | `kad_build_info` | gauge | version | 1 |
/// | `kad_start_time_seconds` | gauge | | Unix time the metrics (the daemon) started |
/// | `kad_vrrp_instance_info` | gauge | instance, interface, vrid, family, version | 1 |
/// | `kad_vrrp_state` | gauge | instance, state | 1 for the current state, 0 for the others |
/// | `kad_vrrp_state_code` | gauge | instance | 0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT, 4 STOP |
/// | `kad_vrrp_priority_base` / `_effective` | gauge | instance | configured / advertised priority |
/// | `kad_vrrp_advert_interval_seconds` | gauge | instance | our `advert_int` |
/// | `kad_vrrp_master_advert_interval_seconds` | gauge | instance | Master_Adver_Interval |
/// | `kad_vrrp_master_down_interval_seconds` | gauge | instance | Master_Down_Interval |
/// | `kad_vrrp_fault_reasons` | gauge | instance | number of reasons keeping it in FAULT |
/// | `kad_vrrp_adverts_sent_total` / `_received_total` | counter | instance | |
/// | `kad_vrrp_priority_zero_sent_total` / `_received_total` | counter | instance | |
/// | `kad_vrrp_became_master_total` / `kad_vrrp_released_master_total` | counter | instance | |
/// | `kad_vrrp_drops_total` | counter | instance, reason | by ``VRRPDropReason/identifier``; instance "" for packets no instance claimed; only reasons seen |
/// | `kad_vrrp_master_heard_lower_priority_total` | counter | instance | split-brain sign: a MASTER heard a losing advert |
/// | `kad_vrrp_foreign_address_adverts_total` | counter | instance | split-brain / misconfiguration sign: an advert for our VRID with another address list |
/// | `kad_vrrp_interval_mismatch_adverts_total` | counter | instance | VRRPv3 adverts with another interval |
/// | `kad_vrrp_announcement_bursts_total` | counter | instance | gratuitous ARP / NA bursts |
/// | `kad_vrrp_tracker_status` | gauge | instance, tracker, kind | 1 up, 0 down, -1 not reported yet; `track_file`: 1 unless its value faults the instance |
/// | `kad_vrrp_tracker_value` | gauge | instance, tracker, kind | a `track_file` value |
/// | `kad_vrrp_tracker_priority_delta` | gauge | instance, tracker, kind | the tracker's contribution to the effective priority |
/// | `kad_vrrp_sync_group_state` | gauge | group, state | 1 for the group's current state |
/// | `kad_runner_timer_wakeups_total` | counter | | timer wake-ups |
/// | `kad_runner_late_timers_total` | counter | | wake-ups later than the runner's threshold |
/// | `kad_runner_timer_lateness_max_seconds` | gauge | | the worst lateness seen |
/// | `kad_runner_timer_wakeups_by_lateness_total` | counter | lateness (`lt_1ms`, `lt_10ms`, `lt_100ms`, `lt_1s`, `ge_1s`) | |
/// | `kad_vrrp_transitions_total` | counter | instance, from, to | from events |
/// | `kad_vrrp_last_transition_timestamp_seconds` | gauge | instance | Unix time of the last transition, from events |
/// | `kad_vrrp_sync_group_transitions_total` | counter | group, from, to | from events |
/// | `kad_vrrp_notices_total` | counter | instance, notice | from events (`master_rx_lower_priority`, `backup_discarded_lower_priority`, `priority_changed`, `interval_mismatch`, `address_list_mismatch`, `owner_conflict`, `preempt_delay_started`, `waiting_for_sync_group`) |
/// | `kad_port_failures_total` | counter | instance, action | an action the ports failed to carry out, from events |
///
/// ```swift
/// let metrics = DaemonMetrics()
/// Task { for await e in runner.events { metrics.record(e); ... } }
/// let server = try await MetricsServer.start(host: "127.0.0.1", port: 9650) {
///     metrics.update(await runner.snapshot())
///     return metrics.exposition()
/// }
/// ```
final class DaemonMetrics: Sendable {
    /// The registry every kad metric lives in.
    let registry: PrometheusCollectorRegistry

    /// One time series: a metric name and its label pairs, flattened.
    struct SeriesKey: Hashable, Sendable {
        var name: String
        var labels: [String]
        init(_ name: String, _ labels: [(String, String)]) {
            self.name = name
            self.labels = labels.flatMap { [$0.0, $0.1] }
        }
    }

    /// A counter that mirrors an engine counter, and the value it was last set to.
    struct MirroredCounter: Sendable {
        var counter: Counter
        var value: UInt64
    }

    /// A series fed by events, and the instance it belongs to (nil for group and daemon series).
    struct EventSeries: Sendable {
        enum Metric: Sendable {
            case counter(Counter)
            case gauge(Gauge)
        }
        var metric: Metric
        var instance: String?
    }

    /// Every series this object created, so that updates set them and clean-ups remove them.
    struct State: Sendable {
        var counters: [SeriesKey: MirroredCounter] = [:]
        var gauges: [SeriesKey: Gauge] = [:]
        var events: [SeriesKey: EventSeries] = [:]
    }

    let state = Mutex(State())

    /// A metric family: its name and help text (one help text per name, as the registry requires).
    struct Family: Sendable {
        var name: String
        var help: String
    }

    /// The metric families (see the type's table).
    enum F {
        static let buildInfo = Family(name: "kad_build_info", help: "kad's version (always 1).")
        static let startTime = Family(name: "kad_start_time_seconds", help: "Unix time at which the daemon started.")
        static let info = Family(name: "kad_vrrp_instance_info", help: "A VRRP instance and its wire identity (always 1).")
        static let state = Family(name: "kad_vrrp_state", help: "1 for the instance's current state, 0 for the others.")
        static let stateCode = Family(name: "kad_vrrp_state_code",
                                      help: "The instance's state: 0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT, 4 STOP.")
        static let basePriority = Family(name: "kad_vrrp_priority_base", help: "The configured priority.")
        static let effectivePriority = Family(name: "kad_vrrp_priority_effective",
                                              help: "The advertised priority: base plus tracker weights.")
        static let advertInterval = Family(name: "kad_vrrp_advert_interval_seconds", help: "The configured advert_int.")
        static let masterAdvertInterval = Family(name: "kad_vrrp_master_advert_interval_seconds",
                                                 help: "Master_Adver_Interval (learned from the master in VRRPv3).")
        static let masterDownInterval = Family(name: "kad_vrrp_master_down_interval_seconds",
                                               help: "Master_Down_Interval with the current priority.")
        static let faultReasons = Family(name: "kad_vrrp_fault_reasons",
                                         help: "How many reasons keep the instance in FAULT (0 when healthy).")
        static let advertsSent = Family(name: "kad_vrrp_adverts_sent_total", help: "Adverts sent (one per destination).")
        static let advertsReceived = Family(name: "kad_vrrp_adverts_received_total",
                                            help: "Adverts received that passed every check.")
        static let priorityZeroSent = Family(name: "kad_vrrp_priority_zero_sent_total", help: "Priority-0 adverts sent.")
        static let priorityZeroReceived = Family(name: "kad_vrrp_priority_zero_received_total",
                                                 help: "Priority-0 adverts received.")
        static let becameMaster = Family(name: "kad_vrrp_became_master_total", help: "Transitions to MASTER.")
        static let releasedMaster = Family(name: "kad_vrrp_released_master_total", help: "Transitions out of MASTER.")
        static let drops = Family(name: "kad_vrrp_drops_total",
                                  help: "Received packets dropped, by reason; instance is empty when no instance claimed the packet.")
        static let heardLower = Family(name: "kad_vrrp_master_heard_lower_priority_total",
                                       help: "Losing adverts heard while MASTER (split-brain sign).")
        static let foreignAddresses = Family(name: "kad_vrrp_foreign_address_adverts_total",
                                             help: "Adverts for our VRID whose address list differs from ours.")
        static let intervalMismatches = Family(name: "kad_vrrp_interval_mismatch_adverts_total",
                                               help: "VRRPv3 adverts whose interval differs from ours.")
        static let announcementBursts = Family(name: "kad_vrrp_announcement_bursts_total",
                                               help: "Gratuitous ARP / unsolicited NA bursts requested.")
        static let trackerStatus = Family(name: "kad_vrrp_tracker_status",
                                          help: "Tracked object status: 1 up, 0 down, -1 not reported yet (track_file: 1 unless it faults).")
        static let trackerValue = Family(name: "kad_vrrp_tracker_value", help: "The value of a track_file.")
        static let trackerDelta = Family(name: "kad_vrrp_tracker_priority_delta",
                                         help: "What the tracked object adds to the effective priority.")
        static let groupState = Family(name: "kad_vrrp_sync_group_state", help: "1 for the sync group's current state, 0 for the others.")
        static let wakeUps = Family(name: "kad_runner_timer_wakeups_total", help: "Timer wake-ups of the VRRP runner.")
        static let lateTimers = Family(name: "kad_runner_late_timers_total",
                                       help: "Timer wake-ups later than the runner's threshold (scheduling stalls).")
        static let latenessMax = Family(name: "kad_runner_timer_lateness_max_seconds", help: "The worst timer lateness seen.")
        static let wakeUpsByLateness = Family(name: "kad_runner_timer_wakeups_by_lateness_total",
                                              help: "Timer wake-ups by lateness range.")
        static let transitions = Family(name: "kad_vrrp_transitions_total", help: "State transitions, by origin and target.")
        static let lastTransition = Family(name: "kad_vrrp_last_transition_timestamp_seconds",
                                           help: "Unix time of the instance's last state transition.")
        static let groupTransitions = Family(name: "kad_vrrp_sync_group_transitions_total",
                                             help: "Sync group state transitions, by origin and target.")
        static let notices = Family(name: "kad_vrrp_notices_total", help: "Notable events that are not transitions, by kind.")
        static let portFailures = Family(name: "kad_port_failures_total",
                                         help: "Actions the system failed to carry out (send, addresses, routes, ...).")
    }

    /// An empty set of kad metrics.
    /// - Parameters:
    ///   - version: kad's version, for `kad_build_info`.
    ///   - startTime: when the daemon started, for `kad_start_time_seconds`.
    init(version: String = Kad.configuration.version, startTime: Date = Date()) {
        registry = PrometheusCollectorRegistry()
        registry.makeGauge(descriptor: Self.descriptor(F.buildInfo), labels: [("version", version)]).set(1.0)
        registry.makeGauge(descriptor: Self.descriptor(F.startTime)).set(startTime.timeIntervalSince1970)
    }

    static func descriptor(_ f: Family) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: f.name, unitName: "", helpText: f.help)
    }

    /// The text exposition format (version 0.0.4) of every metric.
    func exposition() -> String {
        registry.emitToString()
    }

    // MARK: - Events

    /// Counts what only the event stream tells (see the type's table). Drops and late timers
    /// are not counted here: they come from the snapshot (``update(_:)``).
    func record(_ event: VRRPRunnerEvent) {
        switch event {
        case .transition(let instance, let from, let to, _, _):
            bumpEvent(F.transitions, [("instance", instance), ("from", from.description), ("to", to.description)],
                      instance: instance)
            setEvent(F.lastTransition, [("instance", instance)], Date().timeIntervalSince1970, instance: instance)
        case .groupTransition(let group, let from, let to):
            bumpEvent(F.groupTransitions, [("group", group), ("from", from.description), ("to", to.description)],
                      instance: nil)
        case .notice(let instance, let notice):
            bumpEvent(F.notices, [("instance", instance), ("notice", notice.identifier)], instance: instance)
        case .portFailure(let instance, let action, _):
            bumpEvent(F.portFailures, [("instance", instance), ("action", Self.actionKind(action))], instance: instance)
        case .drop, .lateTimer:
            break
        }
    }

    /// The kind of a failed action, from ``VRRPAction``'s description (`send advert prio 100 to
    /// 224.0.0.18` is `send_advert`), so that the label has few values.
    static func actionKind(_ description: String) -> String {
        let kinds: [(String, String)] = [
            ("send advert", "send_advert"), ("add addresses", "add_addresses"),
            ("remove addresses", "remove_addresses"), ("add routes", "add_routes"), ("remove routes", "remove_routes"),
            ("add rules", "add_rules"), ("remove rules", "remove_rules"), ("announce", "announce"),
            ("accept mode", "accept_mode"),
        ]
        return kinds.first { description.hasPrefix($0.0) }?.1 ?? "other"
    }

    func bumpEvent(_ f: Family, _ labels: [(String, String)], instance: String?) {
        let key = SeriesKey(f.name, labels)
        state.withLock { s in
            if let series = s.events[key], case .counter(let c) = series.metric {
                c.increment()
                return
            }
            let c = registry.makeCounter(descriptor: Self.descriptor(f), labels: labels)
            c.increment()
            s.events[key] = EventSeries(metric: .counter(c), instance: instance)
        }
    }

    func setEvent(_ f: Family, _ labels: [(String, String)], _ value: Double, instance: String?) {
        let key = SeriesKey(f.name, labels)
        state.withLock { s in
            if let series = s.events[key], case .gauge(let g) = series.metric {
                g.set(value)
                return
            }
            let g = registry.makeGauge(descriptor: Self.descriptor(f), labels: labels)
            g.set(value)
            s.events[key] = EventSeries(metric: .gauge(g), instance: instance)
        }
    }

    // MARK: - Snapshot

    /// Sets every snapshot-held metric from `snapshot` (call before each ``exposition()``).
    func update(_ snapshot: VRRPRunnerSnapshot) {
        update(engine: snapshot.engine, statistics: snapshot.statistics)
    }

    /// Sets every snapshot-held metric from `engine` and `statistics`, and removes the series
    /// of instances, trackers and groups that are gone.
    func update(engine: VRRPEngine, statistics: VRRPRunnerStatistics) {
        state.withLock { s in
            var update = Update(registry: registry, state: s)
            update.apply(engine: engine, statistics: statistics)
            s = update.finish()
        }
    }

    /// One update pass: sets what it sees, then removes what it did not see.
    struct Update {
        let registry: PrometheusCollectorRegistry
        var state: State
        var seenCounters = Set<SeriesKey>()
        var seenGauges = Set<SeriesKey>()

        init(registry: PrometheusCollectorRegistry, state: State) {
            self.registry = registry
            self.state = state
        }

        mutating func gauge(_ f: Family, _ labels: [(String, String)], _ value: Double) {
            let key = SeriesKey(f.name, labels)
            seenGauges.insert(key)
            if let g = state.gauges[key] {
                g.set(value)
            } else {
                let g = registry.makeGauge(descriptor: DaemonMetrics.descriptor(f), labels: labels)
                g.set(value)
                state.gauges[key] = g
            }
        }

        /// Sets a counter to `value`: it moves by the difference, so it only ever goes up
        /// unless the engine's counter itself went down (it then restarts from the new value).
        mutating func counter(_ f: Family, _ labels: [(String, String)], _ value: UInt64) {
            let key = SeriesKey(f.name, labels)
            seenCounters.insert(key)
            if var m = state.counters[key] {
                if value >= m.value {
                    if value > m.value { m.counter.increment(by: Int64(clamping: value - m.value)) }
                } else {
                    m.counter.reset()
                    m.counter.increment(by: Int64(clamping: value))
                }
                m.value = value
                state.counters[key] = m
            } else {
                let c = registry.makeCounter(descriptor: DaemonMetrics.descriptor(f), labels: labels)
                c.increment(by: Int64(clamping: value))
                state.counters[key] = MirroredCounter(counter: c, value: value)
            }
        }

        /// Drop counters appear once a reason has been seen, then stay.
        mutating func drops(_ instance: String, _ drops: [UInt64]) {
            for reason in VRRPDropReason.allCases where Int(reason.rawValue) < drops.count {
                let n = drops[Int(reason.rawValue)]
                let labels = [("instance", instance), ("reason", reason.identifier)]
                if n > 0 || state.counters[SeriesKey(F.drops.name, labels)] != nil { counter(F.drops, labels, n) }
            }
        }

        mutating func apply(engine: VRRPEngine, statistics: VRRPRunnerStatistics) {
            for r in engine.routers {
                let c = r.configuration
                let i = [("instance", c.name)]
                gauge(F.info, i + [("interface", c.interface), ("vrid", "\(c.virtualRouterID)"),
                                   ("family", c.family.description), ("version", "\(c.version.rawValue)")], 1)
                for s in VRRPState.allCases { gauge(F.state, i + [("state", s.description)], r.state == s ? 1 : 0) }
                gauge(F.stateCode, i, Double(r.state.rawValue))
                gauge(F.basePriority, i, Double(c.priority))
                gauge(F.effectivePriority, i, Double(r.effectivePriority))
                gauge(F.advertInterval, i, Double(c.advertisementInterval) / 100)
                gauge(F.masterAdvertInterval, i, Double(r.masterAdvertisementInterval) / 100)
                gauge(F.masterDownInterval, i, r.masterDownInterval.seconds)
                gauge(F.faultReasons, i, Double(r.faultReasons.count))
                let k = r.counters
                counter(F.advertsSent, i, k.advertisementsSent)
                counter(F.advertsReceived, i, k.advertisementsReceived)
                counter(F.priorityZeroSent, i, k.priorityZeroSent)
                counter(F.priorityZeroReceived, i, k.priorityZeroReceived)
                counter(F.becameMaster, i, k.transitions(to: .master))
                counter(F.releasedMaster, i, r.releasedMasterCount)
                counter(F.heardLower, i, k.lowerPriorityReceivedAsMaster)
                counter(F.foreignAddresses, i, k.addressListMismatches)
                counter(F.intervalMismatches, i, k.intervalMismatches)
                counter(F.announcementBursts, i, k.announcementBursts)
                drops(c.name, k.drops)
                for t in c.trackers {
                    let labels = i + [("tracker", t.object.name), ("kind", t.object.kind.description)]
                    let status = r.status(of: t.object) ?? .unknown
                    let effect = t.evaluate(status, ignoreWeight: c.ignoreTrackerWeights)
                    let code: Double
                    switch status {
                    case .unknown: code = -1
                    case .up: code = 1
                    case .down: code = 0
                    case .value(let v):
                        code = effect.fault ? 0 : 1
                        gauge(F.trackerValue, labels, Double(v))
                    }
                    gauge(F.trackerStatus, labels, code)
                    gauge(F.trackerDelta, labels, Double(effect.delta))
                }
            }
            drops("", engine.unroutedDrops)
            for g in engine.syncGroups {
                let current = engine.groupState(g.name) ?? .initialize
                for s in VRRPState.allCases { gauge(F.groupState, [("group", g.name), ("state", s.description)], current == s ? 1 : 0) }
            }
            counter(F.wakeUps, [], statistics.timerWakeUps)
            counter(F.lateTimers, [], statistics.lateTimers)
            gauge(F.latenessMax, [], statistics.maximumLateness.seconds)
            for (name, n) in zip(StatusReport.latenessBucketNames, statistics.latenessBuckets) {
                counter(F.wakeUpsByLateness, [("lateness", name)], n)
            }
            // Event series of instances that are gone.
            let names = Set(engine.routers.map(\.configuration.name))
            for (key, series) in state.events {
                guard let instance = series.instance, !names.contains(instance) else { continue }
                switch series.metric {
                case .counter(let c): registry.unregisterCounter(c)
                case .gauge(let g): registry.unregisterGauge(g)
                }
                state.events[key] = nil
            }
        }

        /// The state with the series this pass did not see unregistered.
        mutating func finish() -> State {
            for (key, m) in state.counters where !seenCounters.contains(key) {
                registry.unregisterCounter(m.counter)
                state.counters[key] = nil
            }
            for (key, g) in state.gauges where !seenGauges.contains(key) {
                registry.unregisterGauge(g)
                state.gauges[key] = nil
            }
            return state
        }
    }
}

extension VRRPNotice {
    /// A stable snake_case name for metrics labels.
    var identifier: String {
        switch self {
        case .masterReceivedLowerPriority: "master_rx_lower_priority"
        case .backupDiscardedLowerPriority: "backup_discarded_lower_priority"
        case .priorityChanged: "priority_changed"
        case .intervalMismatch: "interval_mismatch"
        case .addressListMismatch: "address_list_mismatch"
        case .ownerConflict: "owner_conflict"
        case .preemptDelayStarted: "preempt_delay_started"
        case .waitingForSyncGroup: "waiting_for_sync_group"
        }
    }
}
