import FoundationEssentials
import ConfigDSL
import IPVSControl
import Logging
import NIOCore
import NetLinux
import Synchronization
import VRRPCore

/// The IPVS side of the daemon (keepalived's checker process): the real-server checkers, the
/// quorum / sorry-server policy of each virtual server, and the reconciler that keeps the
/// kernel's table in line with them.
///
/// - At ``start()``: `lvs_flush` if asked, every virtual server put in the table as its initial
///   verdicts say (all real servers up, those with `alpha` down), then one checker scheduler per
///   real server. Checkers run on NIO's event loops and their own tasks, never the VRRP runner's.
/// - A verdict that changes a real server's up/down or weight updates its virtual server's
///   policy state, reconciles only that virtual server's services, runs `notify_up` /
///   `notify_down`, and `quorum_up` / `quorum_down` when quorum changes.
/// - Every ``repairInterval`` the whole managed table is reconciled: edits made from outside
///   (`ipvsadm -d`, `-e`) are undone. A table so large that reading it takes longer than
///   ``repairShare`` of the interval is repaired less often (see ``repairDelay(after:)``), so the
///   repair never costs more than that share of a core.
/// - ``reload(_:)`` keeps the checker state of the real servers that stay with the same checkers
///   and weight, starts the new ones, stops the removed ones, and applies the minimal plan.
/// - ``stop(keep:)``: checkers stopped, `omega` notifies, then the managed services removed
///   (kept with `-I`, the whole table flushed with `lvs_flush_on_stop`), and the sync daemon
///   stopped.
/// - `lvs_timeouts` are set at start and again by a reload that changes them (never restored:
///   keepalived leaves them too).
/// - `lvs_notify_fifo` (and `notify_fifo`): `RS … UP|DOWN` when a real server changes and
///   `VS … UP|DOWN` when a virtual server gains or loses quorum, posted through `notify` (the
///   daemon's ``Notifier``: ordered, never blocking), in the order the actor makes the changes.
/// - `ha_suspend`: the checkers of such a virtual server are suspended while none of its
///   addresses is local (looked up at start, after each VRRP transition, a second later, and at
///   every repair), and resumed when one is; the real servers keep their state meanwhile.
/// - `lvs_sync_daemon`: the sync daemon runs as backup from start, and as master while its VRRP
///   instance is MASTER (``vrrpState(_:master:)``, fed by the daemon's event task); a reload
///   that changes its parameters restarts it.
actor LVSController {
    /// How often outside edits of the table are repaired.
    static let repairInterval: Duration = .seconds(5)
    /// The most of a core the periodic repair may take: 0.5 %.
    static let repairShare = 0.005

    /// The wait before the next repair when the last one took `spent`: ``repairInterval``, or
    /// longer when `spent` is more than ``repairShare`` of it (40,000 real servers read in
    /// 50 ms: every 10 s).
    static func repairDelay(after spent: Duration) -> Duration {
        max(repairInterval, spent / repairShare)
    }

    /// A real server's running checkers.
    final class Checkers: Sendable {
        let checkers: [LVSTranslation.Checker]
        let weight: UInt32
        let scheduler: HealthCheckScheduler<ContinuousClock>
        let counters: [CheckerCounters]
        let task = Mutex<Task<Void, Never>?>(nil)
        init(checkers: [LVSTranslation.Checker], weight: UInt32, scheduler: HealthCheckScheduler<ContinuousClock>,
             counters: [CheckerCounters]) {
            self.checkers = checkers
            self.weight = weight
            self.scheduler = scheduler
            self.counters = counters
        }
        func stop() {
            scheduler.stop()
            task.withLock { $0?.cancel() }
        }
    }

    struct Server {
        var plan: LVSTranslation.VirtualServerPlan
        var state: IPVSVirtualServerPolicy.State
        var checkers: [IPVSDestinationKey: Checkers]
        /// The last cause reported for each real server.
        var causes: [IPVSDestinationKey: String] = [:]
    }

    let logger: Logger
    private var reconciler: IPVSReconciler<IPVSClient>
    /// The virtual servers; set only through `replaceServers(_:)`, which keeps `serverIndex`.
    private var servers: [Server] = []
    /// Where each virtual server id is in `servers` (a checker's verdict names its server by id).
    private var serverIndex: [String: Int] = [:]
    /// How many virtual servers have `ha_suspend` (kept with `serverIndex`).
    private var suspendable = 0
    /// How many virtual servers want each IPVS service.
    private var serviceOwners: [IPVSService.Key: Int] = [:]
    private var stopMode: LVSTranslation.StopMode
    private let scripts: ScriptRunner
    private var repairTask: Task<Void, Never>?
    private var scriptTasks: [UInt64: Task<Void, Never>] = [:]
    private var nextScriptID: UInt64 = 0
    private var stopped = false
    /// The timeouts last set (`lvs_timeouts`).
    private var timeouts: IPVSTimeouts?
    /// `lvs_sync_daemon`, and the daemon kad runs for it now.
    private var syncPlan: LVSTranslation.SyncDaemonPlan?
    private var syncRunning: IPVSSyncDaemon?
    /// Whether each VRRP instance is MASTER (from the daemon's transitions).
    private var masters: [String: Bool] = [:]
    /// Posts the LVS FIFO lines (the daemon's notifier in force).
    private let notify: @Sendable (NotifyEvent) -> Void
    private let checkerLoops: any EventLoopGroup
    private let admission: CheckerAdmission?
    /// TCP_CHECK and HTTP_GET/SSL_GET checks under way at once per checker thread: enough for
    /// 10,000 checks a second at 100 ms round trips, few enough that an overloaded loop handles
    /// the answers to the connections it opened before it opens thousands more.
    static let checksInFlightPerThread = 1024
    /// The local addresses, for `ha_suspend` (nil: cannot tell; nothing changes then).
    private let localAddresses: @Sendable () -> Set<VRRPCore.IPAddress>?
    private var suspendRecheck: Task<Void, Never>?

    /// - Parameter checkerLoops: where TCP_CHECK and HTTP_GET/SSL_GET run (each checker pinned
    ///   to one of its loops).
    /// - Parameter admission: how many of those checks may be under way at once per loop.
    init(client: IPVSClient, logger: Logger, checkerLoops: any EventLoopGroup = CheckerEventLoops.shared,
         admission: CheckerAdmission? = nil, notify: @escaping @Sendable (NotifyEvent) -> Void = { _ in },
         localAddresses: @escaping @Sendable () -> Set<VRRPCore.IPAddress>? = LVSController.systemAddresses) {
        self.logger = logger
        self.checkerLoops = checkerLoops
        self.admission = admission
        self.notify = notify
        self.localAddresses = localAddresses
        reconciler = IPVSReconciler(kernel: client)
        stopMode = .removeOwned
        scripts = ScriptRunner { [logger] event in
            if case .timedOut = event.kind { logger.warning("\(event)") }
        }
    }

    // MARK: - Start

    func start(_ plan: LVSTranslation.Result) {
        stopMode = plan.stopMode
        applyTimeouts(plan.timeouts)
        syncPlan = plan.syncDaemon
        applySyncDaemon()
        if plan.flushAtStart {
            do {
                try reconciler.kernel.flush()
                logger.info("IPVS: table flushed (lvs_flush)")
            } catch {
                logger.error("IPVS: lvs_flush: \(error)")
            }
        }
        replaceServers(plan.virtualServers.map { Server(plan: $0, state: $0.initialState, checkers: [:]) })
        for s in servers where !s.state.hasQuorum {
            logger.warning("IPVS: \(s.plan.id): no quorum at start (live weight \(s.plan.policy.liveWeight(s.state)), quorum \(s.plan.policy.quorum))")
        }
        rebuildDesired()
        reconcileAll(reason: "start")
        for i in servers.indices { startCheckers(server: i) }
        applySuspension()
        repairTask = Task { [weak self] in
            var delay = Self.repairInterval
            while !Task.isCancelled {
                try? await Task.sleep(for: delay)
                if Task.isCancelled { return }
                guard let spent = await self?.repair() else { return }
                delay = Self.repairDelay(after: spent)
            }
        }
    }

    private func replaceServers(_ next: [Server]) {
        servers = next
        rebuildIndex()
        countServiceOwners()
    }

    private func rebuildIndex() {
        serverIndex = [:]
        serverIndex.reserveCapacity(servers.count)
        suspendable = 0
        for (i, s) in servers.enumerated() {
            if serverIndex[s.plan.id] == nil { serverIndex[s.plan.id] = i }
            if s.plan.haSuspend != nil { suspendable += 1 }
        }
    }

    /// How many virtual servers want each service (kept by the whole path, and by the partial
    /// one for what it changes).
    private func countServiceOwners() {
        serviceOwners = [:]
        for s in servers { for key in s.plan.serviceKeys { serviceOwners[key, default: 0] += 1 } }
    }

    /// Starts a scheduler for each real server of `servers[i]` that has checkers and none
    /// running (a real server without checkers is simply up at its weight).
    private func startCheckers(server i: Int) {
        let id = servers[i].plan.id
        for rs in servers[i].plan.realServers where !rs.checkers.isEmpty && servers[i].checkers[rs.key] == nil {
            let c = makeCheckers(rs, vs: id)
            if servers[i].plan.haSuspend != nil, let local = localAddresses(),
               Self.suspended(servers[i].plan.haSuspend, local: local) {
                c.scheduler.setSuspended(true)
            }
            servers[i].checkers[rs.key] = c
            let key = rs.key
            c.task.withLock { t in
                t = Task { [weak self] in
                    for await v in c.scheduler.verdicts { await self?.verdict(v, vs: id, rs: key, from: c) }
                }
            }
            c.scheduler.start()
        }
    }

    private func makeCheckers(_ rs: LVSTranslation.RealServerPlan, vs: String) -> Checkers {
        let counters = rs.checkers.map { _ in CheckerCounters() }
        let specs = zip(rs.checkers, counters).map { c, counter in
            RealServerChecks.Checker(CountingCheck(inner: c.spec.make(runner: scripts), counters: counter), timing: c.timing)
        }
        let log = logger
        let scheduler = HealthCheckScheduler(
            realServers: [RealServerChecks(id: "\(rs.key)", weight: Int(rs.destination.weight), checkers: specs)],
            clock: ContinuousClock(), log: { event in
                switch event.kind {
                case .attemptFailed: log.info("IPVS: \(vs): \(event)")
                default: log.info("IPVS: \(vs): \(event)")
                }
            }, eventLoops: checkerLoops, admission: admission)
        return Checkers(checkers: rs.checkers, weight: rs.destination.weight, scheduler: scheduler, counters: counters)
    }

    // MARK: - Timeouts and the sync daemon

    private func applyTimeouts(_ wanted: IPVSTimeouts?) {
        guard let wanted, wanted != timeouts else { return }
        do {
            try reconciler.kernel.setTimeouts(wanted)
            timeouts = wanted
            logger.info("IPVS: connection timeouts set (lvs_timeouts \(wanted); 0 left as it was)")
        } catch {
            logger.error("IPVS: lvs_timeouts \(wanted): \(error)")
        }
    }

    /// A VRRP instance entered MASTER (`master`) or BACKUP/FAULT: the sync daemon follows it.
    func vrrpState(_ instance: String, master: Bool) {
        guard !stopped else { return }
        masters[instance] = master
        if syncPlan?.instance == instance { applySyncDaemon() }
        applySuspension()
        // The VIPs may be added or removed just after the transition is reported: look again.
        if servers.contains(where: { $0.plan.haSuspend != nil }) {
            suspendRecheck?.cancel()
            suspendRecheck = Task { [weak self] in
                try? await Task.sleep(for: .seconds(1))
                if Task.isCancelled { return }
                await self?.applySuspension()
            }
        }
    }

    // MARK: - ha_suspend

    /// The addresses of this network namespace (`ip address show`), nil when they cannot be read.
    static let systemAddresses: @Sendable () -> Set<VRRPCore.IPAddress>? = {
        guard let rt = try? RouteNetlink(), let list = try? rt.addresses() else { return nil }
        return Set(list.map(\.address))
    }

    /// Whether the checkers of a virtual server with `ha_suspend` `addresses` are suspended when
    /// `local` are this box's addresses: when none of its addresses is local.
    static func suspended(_ addresses: Set<VRRPCore.IPAddress>?, local: Set<VRRPCore.IPAddress>) -> Bool {
        guard let addresses else { return false }
        return addresses.isDisjoint(with: local)
    }

    /// Suspends or resumes the checkers of every `ha_suspend` virtual server as its addresses
    /// are local or not.
    func applySuspension() {
        guard !stopped, suspendable > 0 else { return }
        guard let local = localAddresses() else {
            logger.warning("IPVS: ha_suspend: cannot read the local addresses; checkers left as they are")
            return
        }
        for s in servers where s.plan.haSuspend != nil {
            let suspend = Self.suspended(s.plan.haSuspend, local: local)
            var changed = false
            for (_, c) in s.checkers where c.scheduler.isSuspended != suspend {
                c.scheduler.setSuspended(suspend)
                changed = true
            }
            if changed {
                logger.info("IPVS: \(s.plan.id): checkers \(suspend ? "suspended (ha_suspend: the address is not on this box)" : "resumed (the address is on this box)")")
            }
        }
    }

    /// Runs the sync daemon `syncPlan` asks for in the role its instance's state gives (stopping
    /// the one running when it differs).
    private func applySyncDaemon() {
        let wanted = syncPlan.map { $0.daemon(masters[$0.instance] == true ? .master : .backup) }
        guard wanted != syncRunning else { return }
        stopSyncDaemon()
        guard let wanted, let plan = syncPlan else { return }
        do {
            do throws(NetLinuxError) {
                try reconciler.kernel.startSyncDaemon(wanted)
            } catch where error.errno == .fileExists {
                // Left by an earlier run or another tool: ours replaces it.
                try reconciler.kernel.stopSyncDaemon(wanted.state)
                try reconciler.kernel.startSyncDaemon(wanted)
            }
            syncRunning = wanted
            logger.info("IPVS: \(wanted) started (lvs_sync_daemon; \(plan.instance) is \(wanted.state == .master ? "MASTER" : "not MASTER"))")
        } catch {
            logger.error("IPVS: lvs_sync_daemon: cannot start the \(wanted): \(error)")
        }
    }

    private func stopSyncDaemon() {
        guard let running = syncRunning else { return }
        syncRunning = nil
        do {
            try reconciler.kernel.stopSyncDaemon(running.state)
            logger.info("IPVS: \(running.state) sync daemon stopped")
        } catch {
            logger.error("IPVS: stopping the \(running): \(error)")
        }
    }

    // MARK: - Verdicts

    func verdict(_ v: RealServerVerdict, vs id: String, rs key: IPVSDestinationKey, from source: Checkers) {
        guard !stopped, let i = serverIndex[id],
              servers[i].checkers[key] === source,
              let rs = servers[i].plan.realServers.first(where: { $0.key == key }) else { return }
        servers[i].causes[key] = v.cause
        let policy = servers[i].plan.policy
        let before = policy.status(of: .init(rs.destination), in: servers[i].state)
        let weight = UInt32(clamping: max(0, v.weight))
        guard before.up != v.isUp || before.weight != weight else { return }
        let transition = policy.update(&servers[i].state, key, up: v.isUp, weight: weight)
        if before.up != v.isUp {
            logger.info("IPVS: \(id): real server \(key) is \(v.isUp ? "up" : "down") (\(v.cause))")
            postRealServer(rs, of: servers[i].plan, up: v.isUp)
            if let s = v.isUp ? rs.notifyUp : rs.notifyDown { run(s) }
        } else {
            logger.info("IPVS: \(id): real server \(key) weight \(before.weight) → \(weight)")
        }
        quorumChanged(transition, plan: servers[i].plan, state: servers[i].state)
        for key in servers[i].plan.serviceKeys {
            reconciler.desired.setDestinations(policy.destinations(servers[i].state), of: key)
        }
        // Planned against the table as the reconciler knows it: no read, one command per
        // changed destination (what the kernel refuses is read and reconciled again).
        report(try? reconciler.reconcileKnown(servers[i].plan.serviceKeys), reading: servers[i].plan.serviceKeys)
    }

    private func quorumChanged(_ transition: IPVSVirtualServerPolicy.QuorumTransition?, plan: LVSTranslation.VirtualServerPlan,
                               state: IPVSVirtualServerPolicy.State) {
        guard let transition else { return }
        let live = plan.policy.liveWeight(state)
        switch transition {
        case .lost:
            let sorry = plan.policy.sorryServer.map { ", sorry server \($0.key) in service" } ?? ""
            logger.warning("IPVS: \(plan.id): quorum lost (live weight \(live), quorum \(plan.policy.quorum), hysteresis \(plan.policy.hysteresis))\(sorry)")
            postVirtualServer(plan, up: false)
            if let s = plan.quorumDown { run(s) }
        case .regained:
            logger.info("IPVS: \(plan.id): quorum regained (live weight \(live))")
            postVirtualServer(plan, up: true)
            if let s = plan.quorumUp { run(s) }
        }
    }

    /// `RS [198.51.100.2]:tcp:80 [192.0.2.10]:tcp:80 UP`, once per service of the virtual server.
    private func postRealServer(_ rs: LVSTranslation.RealServerPlan, of plan: LVSTranslation.VirtualServerPlan, up: Bool) {
        for key in plan.serviceKeys {
            notify(.realServer(LVSFIFONames.realServer(rs.key, of: key), virtualServer: LVSFIFONames.service(key), up: up))
        }
    }

    /// `VS [192.0.2.10]:tcp:80 UP`, once per service of the virtual server.
    private func postVirtualServer(_ plan: LVSTranslation.VirtualServerPlan, up: Bool) {
        for key in plan.serviceKeys { notify(.virtualServer(LVSFIFONames.service(key), up: up)) }
    }

    private func run(_ script: Script) {
        let runner = scripts, log = logger
        nextScriptID += 1
        let id = nextScriptID
        scriptTasks[id] = Task { [weak self] in
            do {
                let result = try await runner.run(script, timeout: .seconds(30))
                if !result.succeeded { log.warning("\(script.name): \(result)") }
            } catch {
                log.error("\(script.name): \(error)")
            }
            await self?.scriptFinished(id)
        }
    }

    /// A finished script's task is forgotten (otherwise every notify would be kept for good).
    private func scriptFinished(_ id: UInt64) {
        scriptTasks[id] = nil
    }

    // MARK: - Table

    private func rebuildDesired() {
        var desired = IPVSDesiredState()
        for s in servers {
            let destinations = s.plan.policy.destinations(s.state)
            for service in s.plan.services { desired.set(IPVSDesiredService(service, destinations: destinations)) }
        }
        reconciler.desired = desired
    }

    private func reconcileAll(reason: String) {
        do {
            let r = try reconciler.reconcile()
            report(r, reading: nil)
        } catch {
            logger.error("IPVS (\(reason)): cannot read the table: \(error)")
        }
    }

    private func report(_ r: IPVSReconcileReport?, reading keys: [IPVSService.Key]?) {
        guard let r else {
            logger.error("IPVS: cannot read the table\(keys.map { " for \($0.map(\.description).joined(separator: ", "))" } ?? "")")
            return
        }
        for change in r.applied { logger.info("IPVS: \(change)") }
        for failure in r.failures { logger.error("IPVS: \(failure)") }
    }

    /// Reconciles the whole managed table (the periodic repair), and looks at the local
    /// addresses again for `ha_suspend`.
    /// - Returns: how long it took.
    @discardableResult
    func repair() -> Duration {
        guard !stopped else { return .zero }
        let clock = ContinuousClock()
        let began = clock.now
        applySuspension()
        do {
            let r = try reconciler.reconcile()
            if r.changedAnything || !r.failures.isEmpty {
                logger.warning("IPVS: the table differed from the configuration (changed from outside?); \(r.applied.count) change(s) applied")
            }
            report(r, reading: nil)
        } catch {
            logger.error("IPVS: cannot read the table: \(error)")
        }
        return clock.now - began
    }

    // MARK: - Reload

    /// Runs `plan` in place of the running one. With `edits` (the virtual servers that differ
    /// from the running plan: `old` ranges of the running list, `new` ranges of `plan`'s), only
    /// those are compared and applied, so the cost follows the size of the change.
    func reload(_ plan: LVSTranslation.Result, edits: [VirtualServerEdit]? = nil) {
        guard !stopped else { return }
        let clock = ContinuousClock()
        let began = clock.now
        stopMode = plan.stopMode
        applyTimeouts(plan.timeouts)
        syncPlan = plan.syncDaemon
        applySyncDaemon()
        let before = servers.count
        if let edits, Self.applies(edits, from: servers.count, to: plan.virtualServers.count),
           let kept = reload(plan, edits: edits) {
            logger.info("IPVS: reload finished in \((clock.now - began).millisecondsText): \(servers.count) virtual server(s) (was \(before)), \(edits.reduce(0) { $0 + $1.new.count }) read again, \(kept) of their real server(s) kept their checker state")
            return
        }
        var next: [Server] = []
        var kept: Set<ObjectIdentifier> = []
        var oldByID: [String: Server] = [:]
        for s in servers where oldByID[s.plan.id] == nil { oldByID[s.plan.id] = s }
        for p in plan.virtualServers { next.append(carryOver(to: p, from: oldByID[p.id], kept: &kept)) }
        for s in servers {
            for (_, c) in s.checkers where !kept.contains(ObjectIdentifier(c)) { c.stop() }
        }
        replaceServers(next)
        // Only the services whose wanted state changed are read and reconciled, so a reload's
        // cost follows the number of changes, not the size of the table (the periodic repair
        // still looks at everything).
        let previous = reconciler.desired
        rebuildDesired()
        var changed: [IPVSService.Key] = []
        var seen: Set<IPVSService.Key> = []
        for key in previous.keys + reconciler.desired.keys where seen.insert(key).inserted {
            if previous[key] != reconciler.desired[key] { changed.append(key) }
        }
        if !changed.isEmpty { report(try? reconciler.reconcile(changed), reading: changed) }
        for i in servers.indices { startCheckers(server: i) }
        applySuspension()
        logger.info("IPVS: reload finished in \((clock.now - began).millisecondsText): \(servers.count) virtual server(s) (was \(before)), \(kept.count) real server(s) kept their checker state")
    }

    /// Whether `edits` turn a list of `from` virtual servers into one of `to`.
    static func applies(_ edits: [VirtualServerEdit], from: Int, to: Int) -> Bool {
        var previousEnd = 0
        var delta = 0
        for e in edits {
            guard e.old.lowerBound >= previousEnd, e.old.upperBound <= from, e.new.lowerBound == e.old.lowerBound + delta
            else { return false }
            previousEnd = e.old.upperBound
            delta += e.new.count - e.old.count
        }
        return from + delta == to
    }

    /// A virtual server of the new plan, with the state of the running one of the same id
    /// (`old`): a real server whose checkers and weight are unchanged keeps its checkers, state
    /// and last cause (recorded in `kept`); the quorum carries over.
    private func carryOver(to p: LVSTranslation.VirtualServerPlan, from old: Server?, kept: inout Set<ObjectIdentifier>) -> Server {
        var state = IPVSVirtualServerPolicy.State(hasQuorum: old?.state.hasQuorum ?? p.initialState.hasQuorum)
        var checkers: [IPVSDestinationKey: Checkers] = [:]
        var causes: [IPVSDestinationKey: String] = [:]
        for rs in p.realServers {
            if let o = old, let c = o.checkers[rs.key], c.checkers == rs.checkers, c.weight == rs.destination.weight,
               let status = o.state.realServers[rs.key] {
                checkers[rs.key] = c
                kept.insert(ObjectIdentifier(c))
                state.realServers[rs.key] = status
                causes[rs.key] = o.causes[rs.key]
            } else {
                state.realServers[rs.key] = .init(up: rs.startsUp, weight: rs.destination.weight)
            }
        }
        let transition = p.policy.reevaluate(&state)
        if old != nil { quorumChanged(transition, plan: p, state: state) }
        return Server(plan: p, state: state, checkers: checkers, causes: causes)
    }

    /// The partial reload: only the virtual servers in `edits` are replaced, their services
    /// alone changed in the wanted table and reconciled. Returns how many real servers kept
    /// their checker state; nil (nothing done) when a service of the edited virtual servers is
    /// also another's (a group and a plain virtual server can both name one): only the whole
    /// path knows which one wins.
    private func reload(_ plan: LVSTranslation.Result, edits: [VirtualServerEdit]) -> Int? {
        // The removed servers (by id: one that moved, removed in one edit and added in
        // another, keeps its state) and their services; how many servers want each service.
        var oldByID: [String: Server] = [:]
        var removedKeys: [IPVSService.Key] = []
        var owners: [IPVSService.Key: Int] = [:]
        for e in edits {
            for s in servers[e.old] {
                if oldByID[s.plan.id] == nil { oldByID[s.plan.id] = s }
                removedKeys += s.plan.serviceKeys
                for key in s.plan.serviceKeys { owners[key, default: 0] -= 1 }
            }
            for p in plan.virtualServers[e.new] { for key in p.serviceKeys { owners[key, default: 0] += 1 } }
        }
        for (key, change) in owners {
            let before = serviceOwners[key] ?? 0
            if before > 1 || before + change > 1 { return nil }
        }
        for (key, change) in owners where change != 0 {
            let after = (serviceOwners[key] ?? 0) + change
            serviceOwners[key] = after == 0 ? nil : after
        }
        var kept: Set<ObjectIdentifier> = []
        var added: [(range: Range<Int>, servers: [Server])] = []
        for e in edits {
            added.append((e.old, plan.virtualServers[e.new].map { carryOver(to: $0, from: oldByID[$0.id], kept: &kept) }))
        }
        for s in oldByID.values {
            for (_, c) in s.checkers where !kept.contains(ObjectIdentifier(c)) { c.stop() }
        }
        // The wanted table: the removed services out, the added in; only the services whose
        // wanted state differs are read and reconciled.
        var previous: [IPVSService.Key: IPVSDesiredService] = [:]
        for key in removedKeys where previous[key] == nil {
            previous[key] = reconciler.desired.remove(key)
        }
        // In place (no copy of the list); the index is rebuilt only when positions move.
        var moved = false
        for a in added.reversed() {
            if a.range.count != a.servers.count { moved = true }
            for s in servers[a.range] {
                serverIndex[s.plan.id] = nil
                if s.plan.haSuspend != nil { suspendable -= 1 }
            }
            for s in a.servers where s.plan.haSuspend != nil { suspendable += 1 }
            servers.replaceSubrange(a.range, with: a.servers)
        }
        if moved {
            rebuildIndex()
        } else {
            for a in added { for i in a.range where serverIndex[servers[i].plan.id] == nil { serverIndex[servers[i].plan.id] = i } }
        }
        var changed: [IPVSService.Key] = []
        var seen: Set<IPVSService.Key> = []
        for e in edits {
            for i in e.new {
                let s = servers[i]
                let destinations = s.plan.policy.destinations(s.state)
                for service in s.plan.services {
                    let wanted = IPVSDesiredService(service, destinations: destinations)
                    reconciler.desired.set(wanted)
                    if seen.insert(service.key).inserted, previous[service.key] != wanted { changed.append(service.key) }
                }
            }
        }
        for key in removedKeys where seen.insert(key).inserted { changed.append(key) }
        if !changed.isEmpty { report(try? reconciler.reconcile(changed), reading: changed) }
        for e in edits { for i in e.new { startCheckers(server: i) } }
        applySuspension()
        return kept.count
    }

    // MARK: - Stop

    /// Stops the checkers, runs the `omega` notifies, and removes the managed services
    /// (`keep`: `-I`, leaves the table as it is).
    func stop(keep: Bool) async {
        stopped = true
        repairTask?.cancel()
        suspendRecheck?.cancel()
        for s in servers { for (_, c) in s.checkers { c.stop() } }
        for s in servers where s.plan.omega {
            for rs in s.plan.realServers where s.plan.policy.status(of: .init(rs.destination), in: s.state).up {
                postRealServer(rs, of: s.plan, up: false)
                if let n = rs.notifyDown { run(n) }
            }
            if s.state.hasQuorum {
                postVirtualServer(s.plan, up: false)
                if let q = s.plan.quorumDown { run(q) }
            }
        }
        let r: IPVSReconcileReport
        if keep {
            r = reconciler.shutdown(.keep)
            logger.info("IPVS: services left in place (-I/--dont-release-ipvs)")
        } else if stopMode == .flush {
            r = reconciler.shutdown(.flush)
            logger.info("IPVS: table flushed (lvs_flush_on_stop)")
        } else {
            r = reconciler.shutdown(.removeOwned)
        }
        report(r, reading: nil)
        if let e = r.flushError { logger.error("IPVS: flush: \(e)") }
        stopSyncDaemon()
        // Scripts get a short grace period (omega's notify_down must be able to run).
        let tasks = Array(scriptTasks.values)
        let done = Atomic<Bool>(false)
        let waiter = Task {
            for t in tasks { await t.value }
            done.store(true, ordering: .relaxed)
        }
        let deadline = ContinuousClock.now + .seconds(2)
        while !done.load(ordering: .relaxed), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        waiter.cancel()
    }

    // MARK: - Status

    func status() -> [StatusReport.VirtualServer] {
        servers.map { s in
            let p = s.plan
            let live = p.policy.liveWeight(s.state)
            let sorryActive = !s.state.hasQuorum && p.policy.sorryServer != nil
            let rss = p.realServers.map { rs -> StatusReport.RealServer in
                let st = p.policy.status(of: .init(rs.destination, inhibitOnFailure: rs.inhibitOnFailure), in: s.state)
                let inTable = p.policy.destinations(s.state).first { $0.key == rs.key }
                let counters = s.checkers[rs.key]?.counters ?? []
                return StatusReport.RealServer(
                    address: "\(rs.key)", up: st.up, weight: Int(st.weight), configuredWeight: Int(rs.destination.weight),
                    ipvsWeight: inTable.map { Int($0.weight) }, checkers: rs.checkers.map { $0.spec.keyword },
                    lastCause: s.causes[rs.key], checkAttempts: counters.reduce(0) { $0 + $1.attempts },
                    checkFailures: counters.reduce(0) { $0 + $1.failures })
            }
            return StatusReport.VirtualServer(
                name: p.id, services: p.services.map { "\($0.key)" }, hasQuorum: s.state.hasQuorum, liveWeight: Int(live),
                quorum: Int(p.policy.quorum), hysteresis: Int(p.policy.hysteresis),
                sorryServer: p.policy.sorryServer.map { "\($0.key)" }, sorryServerActive: sorryActive, realServers: rss)
        }
    }

    /// The LVS metric families, in Prometheus text format.
    func metricsText() -> String {
        LVSMetrics.exposition(status())
    }
}

/// How the LVS FIFO lines name services and real servers (reference §2.9:
/// `VS [192.168.201.15]:tcp:80 UP`, `RS [1.2.3.4]:tcp:80 [192.168.201.15]:tcp:80 UP`).
enum LVSFIFONames {
    /// `[192.0.2.10]:tcp:80`, `[2001:db8::1]:udp:53`; a fwmark service (not in the reference)
    /// `FWM:5` (`FWM:5:inet6` for IPv6), one word like the others.
    static func service(_ key: IPVSService.Key) -> String {
        switch key {
        case let .address(proto, address, port): "[\(address)]:\(protocolName(proto)):\(port)"
        case let .firewallMark(mark, family): family == .ipv6 ? "FWM:\(mark):inet6" : "FWM:\(mark)"
        }
    }

    /// The real server with its virtual server's protocol: `[198.51.100.2]:tcp:80`; under a
    /// fwmark service (no protocol) `[198.51.100.2]:80`.
    static func realServer(_ rs: IPVSDestinationKey, of key: IPVSService.Key) -> String {
        switch key {
        case let .address(proto, _, _): "[\(rs.address)]:\(protocolName(proto)):\(rs.port)"
        case .firewallMark: "[\(rs.address)]:\(rs.port)"
        }
    }

    static func protocolName(_ p: IPVSProtocol) -> String {
        switch p {
        case .tcp: "tcp"
        case .udp: "udp"
        case .sctp: "sctp"
        default: "\(p.rawValue)"
        }
    }
}

/// Attempts and failures of one checker.
final class CheckerCounters: Sendable {
    private let value = Mutex<(attempts: UInt64, failures: UInt64)>((0, 0))
    var attempts: UInt64 { value.withLock { $0.attempts } }
    var failures: UInt64 { value.withLock { $0.failures } }
    func record(success: Bool) { value.withLock { $0.attempts += 1; if !success { $0.failures += 1 } } }
}

/// A checker that counts its attempts.
struct CountingCheck: HealthCheck {
    let inner: any HealthCheck
    let counters: CheckerCounters
    var name: String { inner.name }
    var runsOnEventLoop: Bool { inner.runsOnEventLoop }
    func check() async -> IPVSControl.CheckResult {
        let r = await inner.check()
        counters.record(success: r.isSuccess)
        return r
    }
    func check(on loop: any EventLoop) -> EventLoopFuture<IPVSControl.CheckResult> {
        inner.check(on: loop).map { [counters] r in
            counters.record(success: r.isSuccess)
            return r
        }
    }
}

extension LVSTranslation.CheckSpec {
    /// The block keyword.
    var keyword: String {
        switch self {
        case .tcp: "TCP_CHECK"
        case .http(_, _, _, _, _, let tls): tls == nil ? "HTTP_GET" : "SSL_GET"
        case .smtp: "SMTP_CHECK"
        case .dns: "DNS_CHECK"
        case .udp: "UDP_CHECK"
        case .misc: "MISC_CHECK"
        case .file: "FILE_CHECK"
        case .ping: "PING_CHECK"
        }
    }
}

/// The LVS metrics, written as Prometheus text (they change with reloads and are few, so they
/// are rendered from the status at each scrape instead of living in the registry).
enum LVSMetrics {
    static func exposition(_ servers: [StatusReport.VirtualServer]) -> String {
        var out = ""
        func family(_ name: String, _ type: String, _ help: String, _ samples: [(String, String)]) {
            guard !samples.isEmpty else { return }
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for (labels, value) in samples { out += "\(name){\(labels)} \(value)\n" }
        }
        func esc(_ s: String) -> String {
            s.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"")
        }
        var up: [(String, String)] = [], weight: [(String, String)] = [], attempts: [(String, String)] = []
        var failures: [(String, String)] = [], quorum: [(String, String)] = [], live: [(String, String)] = []
        for vs in servers {
            let v = "virtual_server=\"\(esc(vs.name))\""
            quorum.append((v, vs.hasQuorum ? "1" : "0"))
            live.append((v, "\(vs.liveWeight)"))
            for rs in vs.realServers {
                let l = "\(v),real_server=\"\(esc(rs.address))\""
                up.append((l, rs.up ? "1" : "0"))
                weight.append((l, "\(rs.ipvsWeight ?? -1)"))
                attempts.append((l, "\(rs.checkAttempts)"))
                failures.append((l, "\(rs.checkFailures)"))
            }
        }
        family("kad_lvs_real_server_up", "gauge", "1 when every checker of the real server is up.", up)
        family("kad_lvs_real_server_weight", "gauge", "The real server's weight in IPVS (-1: not in the table).", weight)
        family("kad_lvs_checker_attempts_total", "counter", "Checker attempts of the real server's checkers.", attempts)
        family("kad_lvs_checker_failures_total", "counter", "Failed checker attempts of the real server's checkers.", failures)
        family("kad_lvs_quorum", "gauge", "1 while the virtual server has quorum.", quorum)
        family("kad_lvs_live_weight", "gauge", "The sum of the weights of the real servers that are up.", live)
        return out
    }
}
