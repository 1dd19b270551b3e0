import ConfigDSL
import NetLinux
import Synchronization
import VRRPCore

// keepalived's `vrrp_script` trackers (reference §1.5): each script in use runs every
// `interval`, and its results, filtered by rise/fall, are reported to the engine as
// `TrackerStatus.up` / `.down` for `TrackedObjectID(.script, NAME)`. The engine applies the
// weights; this file only says whether the script is OK.
//
//     let plan = ScriptTrackerPlan(config: config, scripts: &scripts)   // shared ScriptPreparer
//     let trackers = ScriptTrackers(plan: plan, log: { logger.info("\($0)") },
//                                   report: { id, status in engine.send(.trackerChanged(id, status)) })
//     trackers.start()          // reports every script's initial status at once
//     ...
//     await trackers.stop()     // no script left running

/// The rise/fall filter of one `vrrp_script`, as keepalived applies it. A value type with no
/// I/O: ``ScriptTrackers`` feeds it one result per run.
///
/// - Before any result the status is ``TrackerStatus/unknown`` (keepalived's "init" state;
///   the engine keeps an instance that depends on it with weight 0 in FAULT). The first
///   result then decides at once, whatever `rise` and `fall` are: a success makes it up, a
///   failure down.
/// - With `init_fail` the script starts down, and needs `rise` consecutive successes.
/// - Once up, it goes down after `fall` consecutive failures; once down, it goes up after
///   `rise` consecutive successes. A result of the other kind restarts the count.
///
/// keepalived keeps one counter from 0 to rise+fall−1 (OK from `rise` up); so does this type.
struct ScriptTrackState: Sendable, Hashable {
    let rise: Int
    let fall: Int
    /// 0...rise+fall−1: successes seen while down (below `rise`), or failures still allowed
    /// while up (above `rise`).
    private(set) var counter: Int
    private(set) var status: TrackerStatus

    init(rise: Int, fall: Int, initFail: Bool) {
        self.rise = max(1, rise)
        self.fall = max(1, fall)
        counter = initFail ? 0 : self.rise - 1
        status = initFail ? .down : .unknown
    }

    /// Records one run's result.
    /// - Returns: the new status when it changed, else nil.
    mutating func record(success: Bool) -> TrackerStatus? {
        let old = status
        if success {
            if counter < rise - 1 {
                counter += 1
            } else {
                counter = rise + fall - 1
                status = .up
            }
        } else {
            if counter > rise {
                counter -= 1
            } else {
                counter = 0
                status = .down
            }
        }
        return status == old ? nil : status
    }
}

/// The `vrrp_script`s that some `vrrp_instance` or `vrrp_sync_group` tracks, prepared to run
/// (unused ones never run, as in keepalived). Problems go to the ``ScriptPreparer``.
struct ScriptTrackerPlan: Sendable {
    /// One script to run periodically.
    struct Tracker: Sendable, Hashable {
        var name: String
        var script: Script
        var interval: Duration
        /// A run that lasts longer is stopped (SIGTERM, then SIGKILL) and counts as a failure.
        var timeout: Duration
        var rise: Int
        var fall: Int
        var initFail: Bool

        var id: TrackedObjectID { TrackedObjectID(.script, name) }
    }

    var trackers: [Tracker] = []

    init(trackers: [Tracker] = []) { self.trackers = trackers }

    init(config: KeepalivedConfig, scripts: inout ScriptPreparer) {
        var used = Set<String>()
        for i in config.vrrpInstances { used.formUnion(i.trackScripts.map(\.name)) }
        for g in config.syncGroups { used.formUnion(g.trackScripts.map(\.name)) }
        for s in config.vrrpScripts where used.contains(s.name) {
            let owner = "vrrp_script \(s.name)"
            guard let command = s.script else {
                scripts.problem(owner, "script", "missing: a vrrp_script needs 'script \"/path/to/check\"'")
                continue
            }
            // vrrp_script's own `user` wins over one written after the command.
            let user = s.user ?? command.user
            let group = s.user != nil ? s.group : command.group
            guard let script = scripts.prepare(command.command, user: user, group: group, name: owner, owner: owner, keyword: "script")
            else { continue }
            trackers.append(Tracker(name: s.name, script: script, interval: Self.duration(s.interval), timeout: Self.duration(s.timeout),
                                    rise: s.rise, fall: s.fall, initFail: s.initFail))
        }
    }

    /// Seconds (decimal) to a duration, to the microsecond; at least 1 µs.
    static func duration(_ seconds: Seconds) -> Duration {
        .microseconds(max(1, Int64((seconds * 1_000_000).rounded())))
    }
}

/// Runs the `vrrp_script` trackers and reports their status changes.
///
/// Each script runs at once when ``start()`` is called, then every `interval` measured from
/// the start of the previous run (`SuspendingClock`). A run still going when the next is due
/// delays it: the next run is the first interval tick after it ends (keepalived skips a run
/// while the previous one is still going). A run fails when the script exits non-zero, is
/// killed by a signal, runs past `timeout` (it is then stopped with SIGTERM, then SIGKILL),
/// or cannot be started. Results go through ``ScriptTrackState``; `report` is called with the
/// initial status of every script at ``start()``, then only on changes.
final class ScriptTrackers: Sendable {
    let plan: ScriptTrackerPlan
    private let runner: ScriptRunner
    private let log: @Sendable (String) -> Void
    private let report: @Sendable (TrackedObjectID, TrackerStatus) -> Void
    private enum Phase {
        case idle
        case starting
        case running([Task<Void, Never>])
        case stopped
    }
    private let phase = Mutex(Phase.idle)

    /// - Parameters:
    ///   - plan: the scripts to run.
    ///   - runner: how scripts are run (TERM→KILL grace period, environment, limits).
    ///   - log: receives keepalived-style messages (`VRRP_Script(chk) succeeded`, timeouts,
    ///     launch errors).
    ///   - report: receives status changes; called from any thread, never concurrently for one
    ///     script.
    init(plan: ScriptTrackerPlan, runner: ScriptRunner.Configuration = ScriptRunner.Configuration(),
         log: @escaping @Sendable (String) -> Void, report: @escaping @Sendable (TrackedObjectID, TrackerStatus) -> Void) {
        self.plan = plan
        self.log = log
        self.report = report
        self.runner = ScriptRunner(configuration: runner) { event in
            if case .timedOut = event.kind { log("\(event)") }
        }
    }

    /// Reports every script's initial status (``TrackerStatus/unknown``, or
    /// ``TrackerStatus/down`` with `init_fail`) before returning, then starts running them.
    /// Calling it again, or after ``stop()``, does nothing.
    func start() {
        let first = phase.withLock { p -> Bool in
            guard case .idle = p else { return false }
            p = .starting
            return true
        }
        guard first else { return }
        let states = plan.trackers.map { ScriptTrackState(rise: $0.rise, fall: $0.fall, initFail: $0.initFail) }
        // Reported outside any lock: `report` may call back into the daemon freely.
        for (tracker, state) in zip(plan.trackers, states) { report(tracker.id, state.status) }
        phase.withLock { p in
            guard case .starting = p else { return }  // stop() came first
            p = .running(zip(plan.trackers, states).map { tracker, state in
                Task { [runner, log, report] in await Self.loop(tracker, state, runner: runner, log: log, report: report) }
            })
        }
    }

    /// Stops every tracker and waits until no script is left running (a running script gets
    /// SIGTERM, then SIGKILL after the runner's grace period). Nothing is reported afterwards.
    func stop() async {
        let tasks = phase.withLock { p -> [Task<Void, Never>] in
            defer { p = .stopped }
            if case .running(let t) = p { return t }
            return []
        }
        for t in tasks { t.cancel() }
        for t in tasks { await t.value }
    }

    private static func loop(_ tracker: ScriptTrackerPlan.Tracker, _ initial: ScriptTrackState, runner: ScriptRunner,
                             log: @Sendable (String) -> Void, report: @Sendable (TrackedObjectID, TrackerStatus) -> Void) async {
        var state = initial
        let clock = SuspendingClock()
        let label = "VRRP_Script(\(tracker.name))"
        while !Task.isCancelled {
            let started = clock.now
            let success: Bool
            var reason = ""
            do {
                let result = try await runner.run(tracker.script, timeout: tracker.timeout)
                if result.ending == .cancelled || Task.isCancelled { return }
                success = result.succeeded
                reason = result.description
            } catch .cancelled {
                return
            } catch {
                log("\(label): \(error)")
                success = false
                reason = "could not start"
            }
            if Task.isCancelled { return }
            if let status = state.record(success: success) {
                log(status == .up ? "\(label) succeeded" : "\(label) failed (\(reason))")
                report(tracker.id, status)
            }
            var next = started + tracker.interval
            let now = clock.now
            if next <= now {
                // The run outlasted the interval: the missed ticks are skipped.
                next += tracker.interval * (Int((now - next) / tracker.interval) + 1)
            }
            do {
                try await Task.sleep(until: next, clock: clock)
            } catch {
                return
            }
        }
    }
}
