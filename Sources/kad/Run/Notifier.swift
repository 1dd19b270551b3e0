#if canImport(Glibc)
import Glibc
#endif
import ConfigDSL
import NetLinux
import Synchronization

// keepalived's notifications (reference §2.9): the notify FIFOs and the notify scripts.
//
// The lead's daemon builds the plan once per configuration, refuses to start on problems,
// then starts a `Notifier` and posts one `NotifyEvent` per transition:
//
//     var scripts = ScriptPreparer(globalDefs: config.globalDefs)
//     let plan = NotifyPlan(config: config, scripts: &scripts)
//     let trackers = ScriptTrackerPlan(config: config, scripts: &scripts)
//     guard scripts.problems.isEmpty else { refuse(scripts.problems) }
//     for w in scripts.warnings { logger.warning("\(w)") }
//     let notifier = try Notifier.start(plan: plan, log: { logger.info("\($0)") })
//     notifier.post(.instance("VI_1", .master, priority: 100))
//     ...
//     await notifier.finish()

// MARK: - Events

/// A state as keepalived names it in notify arguments and FIFO lines.
enum NotifyState: String, Sendable, Hashable, CaseIterable {
    case master = "MASTER"
    case backup = "BACKUP"
    case fault = "FAULT"
    /// kad is stopping (keepalived's STOP, reported on SIGTERM).
    case stop = "STOP"
    /// The instance or group was removed at reload. Reported as such only when the block has
    /// `notify_deleted`; otherwise keepalived reports FAULT, and so does the ``Notifier``.
    case deleted = "DELETED"
}

/// Something to notify, as the daemon reports it.
enum NotifyEvent: Sendable, Hashable {
    /// A `vrrp_instance` entered a state, with its effective priority at that moment.
    case instance(String, NotifyState, priority: UInt8)
    /// A `vrrp_sync_group` entered a state (keepalived always reports priority 0 for groups).
    case group(String, NotifyState)
    /// A MASTER heard a lower-priority advert and forced a new election
    /// (`notify_master_rx_lower_pri`, FIFO event `MASTER_RX_LOWER_PRI`); `priority` is the
    /// instance's own effective priority, as keepalived writes it.
    case masterReceivedLowerPriority(String, priority: UInt8)
    /// The effective priority of a MASTER (`master: true`) or BACKUP changed. Only written to
    /// the FIFO (`MASTER_PRIORITY` / `BACKUP_PRIORITY`), and only when
    /// `notify_priority_changes` applies to the instance. The daemon posts it for MASTER and
    /// BACKUP only, as keepalived does.
    case priorityChanged(String, master: Bool, priority: UInt8)
    /// A virtual server gained (`up`) or lost quorum: FIFO line `VS [192.0.2.10]:tcp:80 UP`,
    /// written to `notify_fifo` and `lvs_notify_fifo`. The name is ``LVSFIFONames/service(_:)``'s.
    case virtualServer(String, up: Bool)
    /// A real server went up or down: FIFO line `RS [198.51.100.2]:tcp:80 [192.0.2.10]:tcp:80 UP`,
    /// written to `notify_fifo` and `lvs_notify_fifo`.
    case realServer(String, virtualServer: String, up: Bool)

    /// An LVS event (written to `notify_fifo` and `lvs_notify_fifo`, not `vrrp_notify_fifo`).
    var isLVS: Bool {
        switch self {
        case .virtualServer, .realServer: true
        default: false
        }
    }
}

// MARK: - Script preparation

/// Turns configured commands (`notify_master "/x.sh arg" user group`, `script ...`) into
/// runnable ``Script``s as keepalived resolves them, and collects every problem and warning
/// on the way.
///
/// One preparer is shared by the ``NotifyPlan`` and the ``ScriptTrackerPlan`` of a
/// configuration, so that the default user is looked up once and its problem or warning is
/// reported once.
///
/// keepalived's rules, as kad applies them:
/// - the command is split by ``ScriptCommandLine`` (keepalived 2.2.7's splitting);
/// - it runs as the user (and group) written after the command or in vrrp_script's `user`,
///   else as `script_user` (global), else as `keepalived_script` when that user exists, else
///   as kad's own user (root), with keepalived's warning that `keepalived_script` is missing;
/// - `set_supplementary_groups` gives the script its user's supplementary groups;
/// - with `enable_script_security` an unsafe path (writable by a user other than root and the
///   script's user) is a problem; without it, it is a warning, and so is the mere fact that
///   scripts run without script security (keepalived's "SECURITY VIOLATION");
/// - a program that cannot be found or executed is a problem (keepalived disables such a
///   script with a log line; kad refuses to start instead, so that nothing silently stops
///   being notified or tracked).
///
/// `use_symlink_paths` is not honoured: kad always executes the resolved path.
struct ScriptPreparer {
    /// Everything that keeps the scripts from running; the daemon refuses to start on any.
    private(set) var problems: [VRRPTranslation.Problem] = []
    /// Worth logging at start; nothing stops.
    private(set) var warnings: [String] = []

    let enforceSecurity: Bool
    let supplementaryGroups: Bool
    let searchPath: String
    private let scriptUser: [String]?
    private let lookUpDefault: () throws(ScriptUserError) -> (identity: ScriptIdentity, isFallback: Bool)
    /// The default identity, once looked up; `.failure` when `script_user` names nobody.
    private var defaultIdentity: Result<ScriptIdentity, ScriptUserError>?
    private var warnedAboutSecurity = false

    /// - Parameters:
    ///   - globalDefs: `script_user`, `enable_script_security`, `set_supplementary_groups`.
    ///   - searchPath: where programs named without `/` are looked for.
    ///   - defaultIdentity: how the user is found when `script_user` is not set (tests
    ///     replace it; the default looks for `keepalived_script`).
    init(globalDefs: GlobalDefs, searchPath: String = Script.defaultSearchPath,
         defaultIdentity: @escaping () throws(ScriptUserError) -> (identity: ScriptIdentity, isFallback: Bool)
            = { () throws(ScriptUserError) in try ScriptIdentity.defaultIdentity() })
    {
        enforceSecurity = globalDefs.enableScriptSecurity
        supplementaryGroups = globalDefs.setSupplementaryGroups
        scriptUser = globalDefs.scriptUser
        self.searchPath = searchPath
        lookUpDefault = defaultIdentity
    }

    /// Records a problem that is not about a script command (the plans use it too).
    mutating func problem(_ owner: String?, _ keyword: String, _ message: String) {
        problems.append(VRRPTranslation.Problem(instance: owner, keyword: keyword, message: message))
    }

    mutating func warning(_ message: String) { warnings.append(message) }

    /// Prepares one configured command.
    ///
    /// - Parameters:
    ///   - command: the command and its optional user/group.
    ///   - name: how logs name the script (`notify_master VI_1`).
    ///   - owner: the block, as ``VRRPTranslation/Problem/instance`` names it: an instance
    ///     name, `vrrp_sync_group VG_1`, `vrrp_script chk`, or nil for `global_defs`.
    ///   - keyword: the keyword the command came from.
    /// - Returns: the script, or nil after recording a problem.
    mutating func prepare(_ command: ScriptCommand, name: String, owner: String?, keyword: String) -> Script? {
        prepare(command.command, user: command.user, group: command.group, name: name, owner: owner, keyword: keyword)
    }

    /// Prepares a command text with an optional user and group (vrrp_script's `user`).
    mutating func prepare(_ text: String, user: String?, group: String?, name: String, owner: String?, keyword: String) -> Script? {
        let line: ScriptCommandLine
        do {
            line = try ScriptCommandLine(parsing: text)
        } catch {
            problem(owner, keyword, "cannot parse the command '\(text)': \(error)")
            return nil
        }
        guard let identity = identity(user: user, group: group, owner: owner, keyword: keyword) else { return nil }
        let script: Script
        do {
            script = try Script.prepare(name: name, commandLine: line, identity: identity, enforceSecurity: enforceSecurity,
                                        searchPath: searchPath)
        } catch {
            var message = error.description
            if case .insecure = error { message += " (enable_script_security refuses it)" }
            problem(owner, keyword, message)
            return nil
        }
        if let finding = script.securityWarning {
            warning("\(Self.describe(owner, keyword)): \(finding)")
        }
        if !enforceSecurity, !warnedAboutSecurity {
            warnedAboutSecurity = true
            warning("SECURITY VIOLATION - scripts are being executed but script_security not enabled")
        }
        return script
    }

    /// The identity for a script: its own user, else the default.
    private mutating func identity(user: String?, group: String?, owner: String?, keyword: String) -> ScriptIdentity? {
        do {
            if let user {
                return try ScriptIdentity.lookup(user: user, group: group, supplementaryGroups: supplementaryGroups)
            }
            guard let base = defaultUser() else { return nil }
            guard let group else { return base }
            return try ScriptIdentity.lookup(user: base.userName, group: group, supplementaryGroups: supplementaryGroups)
        } catch {
            problem(owner, keyword, error.description)
            return nil
        }
    }

    /// `script_user`, else `keepalived_script`, else kad's own user; looked up once. A
    /// failure is recorded once (against `script_user`) and gives nil.
    private mutating func defaultUser() -> ScriptIdentity? {
        if let known = defaultIdentity { return try? known.get() }
        let result = resolveDefaultUser()
        defaultIdentity = result
        return try? result.get()
    }

    private mutating func resolveDefaultUser() -> Result<ScriptIdentity, ScriptUserError> {
        if let words = scriptUser {
            let text = words.joined(separator: " ")
            let spec: ScriptUserSpec
            do {
                spec = try ScriptUserSpec(parsing: text)
            } catch {
                problem(nil, "script_user", "'\(text)': \(error)")
                return .failure(.noSuchUser(text))
            }
            do {
                return .success(try ScriptIdentity.lookup(spec, supplementaryGroups: supplementaryGroups))
            } catch {
                problem(nil, "script_user", error.description)
                return .failure(error)
            }
        }
        do {
            let found = try lookUpDefault()
            if found.isFallback {
                warning("default user '\(ScriptIdentity.keepalivedDefaultUser)' for script execution does not exist - please create "
                    + "(scripts run as \(found.identity.userName))")
                return .success(found.identity)
            }
            if supplementaryGroups {
                return .success(try ScriptIdentity.lookup(user: found.identity.userName, supplementaryGroups: true))
            }
            return .success(found.identity)
        } catch {
            problem(nil, "script_user", "not set, and the default user cannot be looked up: \(error)")
            return .failure(error)
        }
    }

    /// `vrrp_instance VI_1: notify_master`, as problems print the place.
    static func describe(_ owner: String?, _ keyword: String) -> String {
        (owner.map { $0.hasPrefix("vrrp_") || $0.hasPrefix("virtual_server") ? "\($0): " : "vrrp_instance \($0): " } ?? "") + keyword
    }
}

// MARK: - Plan

/// What to run and write for each notification of one configuration: the prepared notify
/// scripts of every `vrrp_instance` and `vrrp_sync_group`, and the notify FIFOs with their
/// reader scripts. Built without starting anything; problems go to the ``ScriptPreparer``.
struct NotifyPlan: Sendable {
    /// The notify settings of one instance or sync group.
    struct Target: Sendable {
        var master: Script?
        var backup: Script?
        var fault: Script?
        var stop: Script?
        /// `notify`: gets `INSTANCE|GROUP NAME STATE PRIORITY` appended.
        var generic: Script?
        /// `notify_deleted CMD`.
        var deleted: Script?
        /// `notify_master_rx_lower_pri` (instances only).
        var masterReceivedLowerPriority: Script?
        /// `notify_deleted` is set: DELETED is reported as DELETED, not as FAULT.
        var reportsDeleted = false
        /// `notify_priority_changes`, resolved (instance, else its sync group, else
        /// `vrrp_notify_priority_changes`).
        var notifyPriorityChanges = false

        /// Every script set, in a fixed order.
        var scripts: [Script] {
            [master, backup, fault, stop, generic, deleted, masterReceivedLowerPriority].compactMap { $0 }
        }

        /// Nothing to run and nothing to report differently: such targets are not stored
        /// (a Target is large, and a config may have a thousand instances without notify).
        var isEmpty: Bool { scripts.isEmpty && !reportsDeleted && !notifyPriorityChanges }

        /// The `notify_<state>` script for `state`.
        func script(for state: NotifyState) -> Script? {
            switch state {
            case .master: master
            case .backup: backup
            case .fault: fault
            case .stop: stop
            case .deleted: deleted
            }
        }
    }

    /// A notify FIFO: `notify_fifo`, `vrrp_notify_fifo` or `lvs_notify_fifo PATH [USER [GROUP]]`.
    struct FIFO: Sendable, Hashable {
        /// `notify_fifo`, `vrrp_notify_fifo` or `lvs_notify_fifo`.
        var keyword: String
        var path: String
        /// It receives the VRRP lines (`notify_fifo`, `vrrp_notify_fifo`).
        var vrrp = true
        /// It receives the LVS lines (`notify_fifo`, `lvs_notify_fifo`).
        var lvs = true
        /// Who owns the FIFO when kad creates it (USER [GROUP]); nil leaves it to kad's user.
        var owner: Owner?
        /// `notify_fifo_script` / `vrrp_notify_fifo_script`: started with the path appended.
        var reader: Script?

        struct Owner: Sendable, Hashable {
            var uid: uid_t
            var gid: gid_t
        }
    }

    /// The instances and groups with any notify setting (the others have none).
    var instances: [String: Target] = [:]
    var groups: [String: Target] = [:]
    var fifos: [FIFO] = []

    init() {}

    /// Prepares every notify script and FIFO setting of `config`.
    init(config: KeepalivedConfig, scripts: inout ScriptPreparer) {
        let g = config.globalDefs
        var groupOf: [String: SyncGroup] = [:]
        for group in config.syncGroups {
            for member in group.group where groupOf[member] == nil { groupOf[member] = group }
        }
        for i in config.vrrpInstances {
            let owner = i.name
            func prep(_ c: ScriptCommand?, _ keyword: String) -> Script? {
                c.flatMap { scripts.prepare($0, name: "\(keyword) \(i.name)", owner: owner, keyword: keyword) }
            }
            var t = Target()
            t.master = prep(i.notifyMaster, "notify_master")
            t.backup = prep(i.notifyBackup, "notify_backup")
            t.fault = prep(i.notifyFault, "notify_fault")
            t.stop = prep(i.notifyStop, "notify_stop")
            t.generic = prep(i.notify, "notify")
            t.deleted = prep(i.notifyDeletedCommand, "notify_deleted")
            t.masterReceivedLowerPriority = prep(i.notifyMasterRxLowerPriority, "notify_master_rx_lower_pri")
            t.reportsDeleted = i.notifyDeleted
            t.notifyPriorityChanges = i.notifyPriorityChanges ?? groupOf[i.name]?.notifyPriorityChanges ?? g.vrrpNotifyPriorityChanges
            if !t.isEmpty { instances[i.name] = t }
        }
        for group in config.syncGroups {
            let owner = "vrrp_sync_group \(group.name)"
            func prep(_ c: ScriptCommand?, _ keyword: String) -> Script? {
                c.flatMap { scripts.prepare($0, name: "\(keyword) \(group.name)", owner: owner, keyword: keyword) }
            }
            var t = Target()
            t.master = prep(group.notifyMaster, "notify_master")
            t.backup = prep(group.notifyBackup, "notify_backup")
            t.fault = prep(group.notifyFault, "notify_fault")
            t.stop = prep(group.notifyStop, "notify_stop")
            t.generic = prep(group.notify, "notify")
            t.deleted = prep(group.notifyDeletedCommand, "notify_deleted")
            t.reportsDeleted = group.notifyDeleted
            t.notifyPriorityChanges = group.notifyPriorityChanges ?? g.vrrpNotifyPriorityChanges
            if !t.isEmpty { groups[group.name] = t }
        }
        for (keyword, words, reader, vrrp, lvs) in [("notify_fifo", g.notifyFIFO, g.notifyFIFOScript, true, true),
                                                    ("vrrp_notify_fifo", g.vrrpNotifyFIFO, g.vrrpNotifyFIFOScript, true, false),
                                                    ("lvs_notify_fifo", g.lvsNotifyFIFO, g.lvsNotifyFIFOScript, false, true)] {
            guard let words, let path = words.first else {
                if reader != nil { scripts.warning("\(keyword)_script is set without \(keyword); it is not started") }
                continue
            }
            guard path.hasPrefix("/") else {
                scripts.problem(nil, keyword, "'\(path)' is not an absolute path")
                continue
            }
            var fifo = FIFO(keyword: keyword, path: path, vrrp: vrrp, lvs: lvs)
            if words.count > 1 {
                do {
                    let id = try ScriptIdentity.lookup(user: words[1], group: words.count > 2 ? words[2] : nil)
                    fifo.owner = FIFO.Owner(uid: id.uid, gid: id.gid)
                } catch {
                    scripts.problem(nil, keyword, error.description)
                }
            }
            fifo.reader = reader.flatMap { scripts.prepare($0, name: "\(keyword)_script", owner: nil, keyword: "\(keyword)_script") }
            if let same = fifos.firstIndex(where: { $0.path == path }) {
                scripts.warning("\(keyword) \(path) is the same FIFO as \(fifos[same].keyword); each event is written to it once")
                if fifos[same].reader == nil { fifos[same].reader = fifo.reader }
                fifos[same].vrrp = fifos[same].vrrp || vrrp
                fifos[same].lvs = fifos[same].lvs || lvs
                continue
            }
            fifos.append(fifo)
        }
    }

    /// What one event makes kad do: the FIFO line (with its newline) and the scripts to launch,
    /// in keepalived's order (`notify_<state>`, then `notify` with its four arguments).
    struct Dispatch: Sendable, Hashable {
        var fifoLine: String?
        var launches: [Launch] = []
    }

    /// A script with the arguments appended to its command line.
    struct Launch: Sendable, Hashable {
        var script: Script
        var arguments: [String] = []
    }

    /// Works out what `event` means for this configuration. Pure: the ``Notifier`` executes it.
    ///
    /// - DELETED becomes FAULT unless the block has `notify_deleted` (keepalived's rule).
    /// - Groups always carry priority 0.
    /// - `MASTER_RX_LOWER_PRI` runs only `notify_master_rx_lower_pri` (no arguments), and
    ///   priority changes only write the FIFO, and only with `notify_priority_changes`.
    /// - An instance or group the plan does not know still gets its FIFO line.
    func dispatch(_ event: NotifyEvent) -> Dispatch {
        switch event {
        case .instance(let name, let state, let priority):
            return transition("INSTANCE", name, state, Int(priority), instances[name])
        case .group(let name, let state):
            return transition("GROUP", name, state, 0, groups[name])
        case .masterReceivedLowerPriority(let name, let priority):
            var d = Dispatch(fifoLine: Self.fifoLine("INSTANCE", name, "MASTER_RX_LOWER_PRI", Int(priority)))
            if let s = instances[name]?.masterReceivedLowerPriority { d.launches.append(Launch(script: s)) }
            return d
        case .priorityChanged(let name, let master, let priority):
            guard instances[name]?.notifyPriorityChanges == true else { return Dispatch() }
            return Dispatch(fifoLine: Self.fifoLine("INSTANCE", name, master ? "MASTER_PRIORITY" : "BACKUP_PRIORITY", Int(priority)))
        case .virtualServer(let vs, let up):
            return Dispatch(fifoLine: "VS \(vs) \(up ? "UP" : "DOWN")\n")
        case .realServer(let rs, let vs, let up):
            return Dispatch(fifoLine: "RS \(rs) \(vs) \(up ? "UP" : "DOWN")\n")
        }
    }

    private func transition(_ type: String, _ name: String, _ requested: NotifyState, _ priority: Int, _ target: Target?) -> Dispatch {
        let state = requested == .deleted && target?.reportsDeleted != true ? .fault : requested
        var d = Dispatch(fifoLine: Self.fifoLine(type, name, state.rawValue, priority))
        if let s = target?.script(for: state) { d.launches.append(Launch(script: s)) }
        if let s = target?.generic { d.launches.append(Launch(script: s, arguments: [type, name, state.rawValue, String(priority)])) }
        return d
    }

    /// keepalived's FIFO line: `INSTANCE "VI_1" MASTER 100\n`.
    static func fifoLine(_ type: String, _ name: String, _ state: String, _ priority: Int) -> String {
        "\(type) \"\(name)\" \(state) \(priority)\n"
    }
}

// MARK: - Notifier

/// Why the notifier could not start.
struct NotifierError: Error, Sendable, Hashable, CustomStringConvertible {
    /// `notify_fifo` or `vrrp_notify_fifo`.
    var keyword: String
    var path: String
    var message: String
    var description: String { "\(keyword) \(path): \(message)" }
}

/// Delivers notifications: FIFO lines, strictly in the order they are posted, and notify
/// scripts, fire-and-forget.
///
/// **FIFOs.** Each FIFO is created with `mkfifo` (mode 0644, then given to the configured
/// owner) when it does not exist, and removed at ``finish()`` only if kad created it, as
/// keepalived does. An existing path that is not a FIFO is refused. kad opens it read-write
/// and non-blocking (keepalived's way), so opening never waits for a reader and a write never
/// blocks. ``post(_:)`` writes the line at once, on the caller's thread, under a lock: lines
/// appear in posting order. Lines are far shorter than `PIPE_BUF`, so a write is all or
/// nothing. When the pipe is full (no reader, or one that fell behind, about 64 KiB of
/// lines) the line is **dropped**, as keepalived drops it; the first drop is logged, and the
/// count when writing resumes, so the log is not flooded. ``droppedLines`` counts them all.
///
/// **Scripts** are started one after another by a single launcher task, each once the one
/// before it has been spawned, so they start in keepalived's order (event order, and within
/// an event `notify_<state>` before `notify`). They then run concurrently and are never
/// awaited by ``post(_:)`` (as in keepalived, two scripts of quick transitions may overlap;
/// the FIFO is the ordered channel). Notify scripts have no timeout.
///
/// **FIFO readers** (`notify_fifo_script`, `vrrp_notify_fifo_script`) start with the FIFO
/// path as their last argument once the FIFO is open, and are stopped (SIGTERM, then
/// SIGKILL) by ``finish()``.
final class Notifier: Sendable {
    /// Tuning knobs; the defaults suit the daemon.
    struct Configuration: Sendable {
        /// How scripts are run (concurrency limit, TERM→KILL grace period, environment).
        var runner = ScriptRunner.Configuration()
        /// How long ``finish()`` lets running notify scripts (the STOP ones, typically)
        /// finish before stopping them.
        var scriptGracePeriod: Duration = .seconds(5)
        /// How long ``finish()`` waits for a FIFO reader script to read what is left in its
        /// FIFO before stopping it.
        var drainTime: Duration = .seconds(1)
        init() {}
    }

    private let planBox: Mutex<NotifyPlan>
    /// The plan in force (``update(plan:)`` replaces it at a reload).
    var plan: NotifyPlan { planBox.withLock { $0 } }
    let configuration: Configuration
    private let log: @Sendable (String) -> Void
    private let runner: ScriptRunner
    private let fifoState: Mutex<FIFOState>
    private let launches: AsyncStream<Launch>.Continuation
    private let launcher: Task<Void, Never>
    private let tasks: ScriptTasks

    private struct OpenFIFO {
        var keyword: String
        var path: String
        var vrrp: Bool
        var lvs: Bool
        var fd: CInt
        var created: Bool
        /// Lines dropped since the last successful write.
        var dropping = 0
    }

    private struct FIFOState {
        var fifos: [OpenFIFO]
        var finished = false
        var dropped = 0
    }

    /// A script to start; readers are kept apart so ``finish()`` stops them last.
    private struct Launch: Sendable {
        var script: Script
        var arguments: [String]
        var isReader: Bool
    }

    /// Opens (creating as needed) the FIFOs, starts their reader scripts, and returns the
    /// notifier.
    ///
    /// - Parameters:
    ///   - plan: the prepared notifications.
    ///   - log: receives every message (FIFO trouble, script starts, exits and output).
    /// - Throws: ``NotifierError`` when a FIFO cannot be created or opened; nothing is left
    ///   open or created then.
    static func start(plan: NotifyPlan, configuration: Configuration = Configuration(),
                      log: @escaping @Sendable (String) -> Void) throws(NotifierError) -> Notifier {
        var opened: [OpenFIFO] = []
        for fifo in plan.fifos {
            do {
                opened.append(try openFIFO(fifo))
            } catch {
                for o in opened { closeFIFO(o) }
                throw error
            }
        }
        let notifier = Notifier(plan: plan, configuration: configuration, fifos: opened, log: log)
        for fifo in plan.fifos {
            if let reader = fifo.reader {
                notifier.launches.yield(Launch(script: reader, arguments: [fifo.path], isReader: true))
            }
        }
        return notifier
    }

    private init(plan: NotifyPlan, configuration: Configuration, fifos: [OpenFIFO], log: @escaping @Sendable (String) -> Void) {
        planBox = Mutex(plan)
        self.configuration = configuration
        self.log = log
        fifoState = Mutex(FIFOState(fifos: fifos))
        let spawned = SpawnSignal()
        let runner = ScriptRunner(configuration: configuration.runner) { event in
            if case .started = event.kind { spawned.fire() }
            log("\(event)")
        }
        self.runner = runner
        let (stream, continuation) = AsyncStream.makeStream(of: Launch.self, bufferingPolicy: .unbounded)
        launches = continuation
        let tasks = ScriptTasks()
        self.tasks = tasks
        launcher = Task {
            defer { tasks.launcherDone.store(true, ordering: .releasing) }
            for await launch in stream {
                // finish() gave up waiting: what is still queued is not started.
                if tasks.abandoned.load(ordering: .acquiring) { continue }
                // Start the next script only once this one has been spawned (or failed to).
                await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                    spawned.arm(c)
                    tasks.add(isReader: launch.isReader) {
                        do {
                            _ = try await runner.run(launch.script, arguments: launch.arguments)
                        } catch {
                            spawned.fire()
                            log("\(launch.script.name): \(error)")
                        }
                    }
                }
            }
        }
    }

    /// Replaces the scripts (a reload). The FIFOs are this notifier's: a plan with other FIFO
    /// settings needs a new notifier.
    /// - Returns: false (and nothing changed) when `plan`'s FIFOs differ from the current ones.
    @discardableResult
    func update(plan: NotifyPlan) -> Bool {
        planBox.withLock { current in
            guard current.fifos == plan.fifos else { return false }
            current = plan
            return true
        }
    }

    /// Lines dropped because a FIFO was full.
    var droppedLines: Int { fifoState.withLock { $0.dropped } }

    /// Notifies `event`: writes its FIFO line and queues its scripts. Never blocks and never
    /// waits for a script. Ignored after ``finish()``.
    func post(_ event: NotifyEvent) {
        let d = planBox.withLock { $0.dispatch(event) }
        var messages: [String] = []
        fifoState.withLock { s in
            guard !s.finished else { return }
            if let line = d.fifoLine {
                let lvs = event.isLVS
                for i in s.fifos.indices where lvs ? s.fifos[i].lvs : s.fifos[i].vrrp {
                    Self.write(line, to: &s.fifos[i], dropped: &s.dropped, messages: &messages)
                }
            }
            // Queued under the same lock, so scripts of concurrent posts keep the FIFO's order.
            for l in d.launches { launches.yield(Launch(script: l.script, arguments: l.arguments, isReader: false)) }
        }
        for m in messages { log(m) }
    }

    /// Stops notifying: nothing is written or started afterwards. Waits up to
    /// ``Configuration/scriptGracePeriod`` for queued notify scripts to start and running ones
    /// to end, then stops the rest; lets each FIFO reader script drain its FIFO (up to
    /// ``Configuration/drainTime``, plus 100 ms to act on the last line), stops it, closes the
    /// FIFOs and removes those kad created.
    func finish() async {
        let already = fifoState.withLock { s in defer { s.finished = true }; return s.finished }
        if already { return }
        launches.finish()

        // Let queued scripts start and running ones end, within the grace period.
        let clock = SuspendingClock()
        let deadline = clock.now + configuration.scriptGracePeriod
        while clock.now < deadline, !(tasks.launcherDone.load(ordering: .acquiring) && tasks.snapshot(readers: false).isEmpty) {
            try? await Task.sleep(for: .milliseconds(10))
        }
        // Then stop what is left: nothing more starts, running scripts get SIGTERM (SIGKILL later).
        tasks.abandoned.store(true, ordering: .releasing)
        for t in tasks.snapshot(readers: false) { t.cancel() }
        await launcher.value
        for t in tasks.snapshot(readers: false) {
            t.cancel()
            await t.value
        }

        let readers = tasks.snapshot(readers: true)
        if !readers.isEmpty {
            let drained = clock.now + configuration.drainTime
            let fds = fifoState.withLock { $0.fifos.map(\.fd) }
            while fds.contains(where: Self.hasUnreadData), clock.now < drained, !tasks.snapshot(readers: true).isEmpty {
                try? await Task.sleep(for: .milliseconds(10))
            }
            // The reader has taken the last line; give it a moment to act on it.
            let settle = min(clock.now + .milliseconds(100), drained)
            if !tasks.snapshot(readers: true).isEmpty, clock.now < settle { try? await Task.sleep(until: settle, clock: clock) }
            for t in readers {
                t.cancel()
                await t.value
            }
        }
        let fifos = fifoState.withLock { s in defer { s.fifos = [] }; return s.fifos }
        for f in fifos {
            if f.dropping > 0 { log("\(f.keyword) \(f.path): \(f.dropping) event(s) dropped before stopping (FIFO full)") }
            Self.closeFIFO(f)
        }
    }

    // MARK: FIFO system calls

    /// Creates (if needed) and opens a FIFO. The corresponding C functions are `mkfifo(3)`,
    /// `chown(2)` and `open(2)` with `O_RDWR | O_NONBLOCK | O_CLOEXEC`.
    private static func openFIFO(_ fifo: NotifyPlan.FIFO) throws(NotifierError) -> OpenFIFO {
        func fail(_ what: String, _ e: CInt) -> NotifierError {
            NotifierError(keyword: fifo.keyword, path: fifo.path, message: "\(what): \(String(cString: strerror(e)))")
        }
        var created = false
        if mkfifo(fifo.path, 0o644) == 0 {
            created = true
            if let o = fifo.owner, chown(fifo.path, o.uid, o.gid) != 0 {
                let e = errno
                unlink(fifo.path)
                throw fail("cannot give the FIFO to uid \(o.uid) gid \(o.gid)", e)
            }
        } else if errno != EEXIST {
            throw fail("cannot create the FIFO", errno)
        }
        var st = stat()
        guard lstat(fifo.path, &st) == 0 else { throw fail("cannot examine it", errno) }
        guard st.st_mode & S_IFMT == S_IFIFO else {
            throw NotifierError(keyword: fifo.keyword, path: fifo.path, message: "exists and is not a FIFO")
        }
        let fd = open(fifo.path, O_RDWR | O_NONBLOCK | O_CLOEXEC)
        if fd < 0 {
            let e = errno
            if created { unlink(fifo.path) }
            throw fail("cannot open it", e)
        }
        return OpenFIFO(keyword: fifo.keyword, path: fifo.path, vrrp: fifo.vrrp, lvs: fifo.lvs, fd: fd, created: created)
    }

    private static func closeFIFO(_ f: OpenFIFO) {
        close(f.fd)
        if f.created { unlink(f.path) }
    }

    /// Writes one line without blocking; a full pipe drops it (see the type's documentation).
    private static func write(_ line: String, to f: inout OpenFIFO, dropped: inout Int, messages: inout [String]) {
        var bytes = Array(line.utf8)
        var n: Int
        repeat {
            n = bytes.withUnsafeMutableBytes { Glibc.write(f.fd, $0.baseAddress!, $0.count) }
        } while n < 0 && errno == EINTR
        if n == bytes.count {
            if f.dropping > 0 {
                messages.append("\(f.keyword) \(f.path): writing again after dropping \(f.dropping) event(s) while the FIFO was full")
                f.dropping = 0
            }
            return
        }
        if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
            dropped += 1
            f.dropping += 1
            if f.dropping == 1 {
                messages.append("\(f.keyword) \(f.path): the FIFO is full (no reader, or it is not keeping up); "
                    + "dropping events until it has room")
            }
            return
        }
        if n < 0 {
            messages.append("\(f.keyword) \(f.path): write failed: \(String(cString: strerror(errno)))")
        } else {
            // Only a line longer than PIPE_BUF can be cut; finish it so the next line stays whole.
            bytes.removeFirst(n)
            messages.append("\(f.keyword) \(f.path): line cut after \(n) bytes; the rest is dropped")
            _ = "\n".withCString { Glibc.write(f.fd, $0, 1) }
        }
        dropped += 1
    }

    /// Whether unread bytes are in the pipe behind `fd` (kad's own read end tells: `poll(2)`).
    private static func hasUnreadData(_ fd: CInt) -> Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, 0) > 0 && p.revents & Int16(POLLIN) != 0
    }
}

/// Lets the launcher wait until the script it started has been spawned: armed before each
/// start, fired by the runner's `.started` event or by the launch error.
private final class SpawnSignal: Sendable {
    private let waiting = Mutex<CheckedContinuation<Void, Never>?>(nil)

    func arm(_ c: CheckedContinuation<Void, Never>) { waiting.withLock { $0 = c } }

    func fire() {
        let c = waiting.withLock { w in defer { w = nil }; return w }
        c?.resume()
    }
}

/// The script tasks still running, so that ``Notifier/finish()`` can wait for or stop them.
private final class ScriptTasks: Sendable {
    private struct Entry {
        var task: Task<Void, Never>
        var isReader: Bool
    }
    private let entries = Mutex<(next: Int, running: [Int: Entry])>((0, [:]))
    /// Set by ``Notifier/finish()`` when its grace period is over: queued scripts are skipped.
    let abandoned = Atomic<Bool>(false)
    /// Set when the launcher has started (or skipped) everything queued before ``Notifier/finish()``.
    let launcherDone = Atomic<Bool>(false)

    /// Starts `body` in a task that removes itself when done.
    func add(isReader: Bool, _ body: @escaping @Sendable () async -> Void) {
        entries.withLock { e in
            let id = e.next
            e.next += 1
            let task = Task { [weak self] in
                await body()
                self?.remove(id)
            }
            e.running[id] = Entry(task: task, isReader: isReader)
        }
    }

    private func remove(_ id: Int) { _ = entries.withLock { $0.running.removeValue(forKey: id) } }

    func snapshot(readers: Bool) -> [Task<Void, Never>] {
        entries.withLock { e in e.running.sorted { $0.key < $1.key }.filter { $0.value.isReader == readers }.map(\.value.task) }
    }
}
