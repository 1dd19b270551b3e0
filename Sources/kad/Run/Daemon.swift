import ConfigDSL
import Dispatch
import IPVSControl
import FoundationEssentials
import Logging
import NIOPosix
import NetLinux
import Synchronization
import VRRPCore
#if canImport(Glibc)
import Glibc
#endif

/// What `kad run` was told on its command line.
struct DaemonOptions: Sendable {
    var configFile = "/etc/keepalived/keepalived.conf"
    var scope = DaemonConfiguration.Scope()
    var pidFile = "/run/kad.pid"
    var controlSocket = "/run/kad/kad.sock"
    /// `--metrics HOST:PORT`.
    var metrics: String?
    /// `-V/--dont-release-vrrp`.
    var keepOnStop = false
    /// `-I/--dont-release-ipvs`.
    var keepIPVSOnStop = false
    /// `--checker-threads`: the event-loop threads of TCP_CHECK and HTTP_GET/SSL_GET.
    var checkerThreads = 1
}

/// The running daemon: VRRPCore's runner over NetLinux's adapters, fed by the link monitor and
/// the trackers, observed by the log, the notify scripts and FIFO, the metrics and the control
/// socket; driven by signals.
///
/// Everything that changes the daemon (start, reload, stop) happens on the one task that reads
/// signals, in order; the runner's own loop carries out the protocol and never waits for that
/// task, so a reload or a slow script never holds an advert back.
final class Daemon: @unchecked Sendable {
    typealias Runner = VRRPRunner<SuspendingClock, LinuxVRRPTransport, DaemonAddressPlane, LinuxAnnouncer<SuspendingClock>>

    let options: DaemonOptions
    let logger: Logger
    let startedAt = Date()
    let routeNetlink: RouteNetlink
    let linuxPlane: LinuxAddressPlane
    let addressPlane: DaemonAddressPlane
    let transport = LinuxVRRPTransport()
    let announcer: LinuxAnnouncer<SuspendingClock>
    let runner: Runner
    /// The thread VRRP's runner loop and timer run on (`kad-vrrp`).
    let vrrpExecutor: PollThreadExecutor
    /// The configuration in force. Read and written only by the signal task.
    private(set) var configuration: DaemonConfiguration
    var reporter: LinkStateReporter?
    var runnerTask: Task<Void, Never>?
    var eventTask: Task<Void, Never>?
    let pidFile: PidFile
    let info: DaemonInfo
    let metrics = DaemonMetrics()
    var control: ControlServer?
    /// The IPVS side, when the configuration has virtual servers (see DaemonLVS.swift).
    let lvsBox = Mutex<LVSController?>(nil)
    var metricsServer: MetricsServer?
    /// The notifier in force (replaced by a reload that changes the FIFOs).
    let notifierBox = Mutex<Notifier?>(nil)
    /// The event loops of the TCP_CHECK and HTTP_GET/SSL_GET checkers (`--checker-threads`),
    /// made when the first virtual server needs them and kept for the process's life: apart
    /// from the NIO threads of the control socket and metrics, so checker load is bounded to
    /// those threads (one by default, as keepalived's one checker process).
    private let checkerLoops = Mutex<(group: MultiThreadedEventLoopGroup, admission: CheckerAdmission)?>(nil)
    /// One tracker object per `vrrp_script` / `track_file`, so a reload restarts only the
    /// ones whose definition changed (the others keep their status). Signal task only.
    var scriptTrackers: [String: (plan: ScriptTrackerPlan.Tracker, trackers: ScriptTrackers)] = [:]
    var fileTrackers: [String: (plan: FileTrackerPlan.Tracker, trackers: FileTrackers)] = [:]
    /// The VMACs (`use_vmac`) by name, and the sysctls they changed. Signal task only.
    var virtualMACs: [String: VirtualMAC] = [:]
    let sysctls = SysctlSettings()
    var holdsIGMPSetting = false
    /// Whether kad widened `net.ipv4.ping_group_range` for PING_CHECK (restored at stop).
    var holdsPingGroupRange = false
    /// Set when the daemon stops: STOP transitions are then STOP, not a reload's DELETED.
    let stopping = Atomic<Bool>(false)
    /// The last state and priority of each instance, for notifications. Event task only.
    var lastState: [String: VRRPState] = [:]
    var lastPriority: [String: UInt8] = [:]

    /// Builds the daemon and everything it owns; nothing is sent before ``start()``.
    private init(options: DaemonOptions, logger: Logger, configuration: DaemonConfiguration,
                 routeNetlink: RouteNetlink, pidFile: PidFile) throws {
        self.options = options
        self.logger = logger
        self.configuration = configuration
        self.routeNetlink = routeNetlink
        self.pidFile = pidFile
        info = DaemonInfo(configFile: options.configFile)
        let log = logger
        linuxPlane = LinuxAddressPlane(routeNetlink: routeNetlink) { log.debug("\($0)") }
        addressPlane = DaemonAddressPlane(plane: linuxPlane, keepOnStop: options.keepOnStop) { log.info("\($0)") }
        announcer = LinuxAnnouncer(clock: SuspendingClock()) { failure in log.warning("gratuitous ARP/NA failed: \(failure)") }
        let engine = try VRRPEngine(routers: configuration.vrrp.routers, syncGroups: configuration.vrrp.syncGroups)
        // VRRP's runner loop and timer on a thread of their own, not Swift's shared pool.
        vrrpExecutor = try PollThreadExecutor(name: "kad-vrrp")
        runner = VRRPRunner(engine: engine, clock: SuspendingClock(), transport: transport,
                            addressPlane: addressPlane, announcer: announcer, executor: vrrpExecutor)
    }

    // MARK: - Entry point

    /// Runs the daemon until SIGTERM/SIGINT. Returns the process exit status (keepalived's:
    /// 0 clean stop, 1 fatal, 2 configuration, 4 missing permission).
    static func main(options: DaemonOptions, logger: Logger) async -> Int32 {
        let routeNetlink: RouteNetlink
        do {
            routeNetlink = try RouteNetlink()
        } catch {
            logger.critical("cannot open an rtnetlink socket: \(error)")
            return 1
        }
        let resolver = PrimaryAddressResolver(routeNetlink: routeNetlink)
        let configuration: DaemonConfiguration
        switch DaemonConfiguration.load(path: options.configFile, scope: options.scope, primaryAddress: resolver.resolve) {
        case .failure(let refusal):
            for line in refusal.lines { logger.critical("\(line)") }
            return refusal.exitStatus
        case .success(let c):
            configuration = c
        }
        for w in configuration.warnings { logger.warning("\(w)") }

        // The file first (its problems are worth seeing whoever runs kad), then permissions.
        do {
            try Capabilities.check()
        } catch {
            logger.critical("\(error)")
            return 4
        }
        let pidFile: PidFile
        do {
            pidFile = try PidFile.acquire(options.pidFile)
        } catch {
            logger.critical("\(error)")
            return 1
        }
        defer { pidFile.remove() }

        let daemon: Daemon
        do {
            daemon = try Daemon(options: options, logger: logger, configuration: configuration,
                                routeNetlink: routeNetlink, pidFile: pidFile)
        } catch {
            logger.critical("\(error)")
            return 2
        }
        let signals = SignalStream([SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2])
        do {
            try await daemon.start()
        } catch {
            logger.critical("\(error)")
            await daemon.stop()
            return 1
        }
        daemon.dropCapabilities()
        for await signal in signals.stream {
            switch signal {
            case SIGHUP:
                await daemon.reload()
            case SIGUSR1, SIGUSR2:
                await daemon.dump(stats: signal == SIGUSR2)
            default:
                logger.info("Stopping (signal \(signal))")
                signals.cancel()
            }
        }
        await daemon.stop()
        logger.info("Stopped")
        return 0
    }

    // MARK: - Start

    /// The capabilities kept after start (nil: not restricted).
    var keptCapabilities: CapabilitySet?

    /// Once everything is open, keep only the capabilities the configuration needs (on every
    /// thread; verified): keepalived keeps everything root has. The bounding set is left alone,
    /// so scripts run as root keep root's powers.
    func dropCapabilities() {
        let keep = configuration.capabilities
        do {
            let report = try Capabilities.restrict(to: keep, limitBoundingSet: false)
            keptCapabilities = keep
            logger.info("Capabilities: kept \(report.kept), dropped \(report.dropped.rawValue == 0 ? "nothing" : "\(report.dropped)") on \(report.threads) threads")
        } catch {
            logger.warning("could not drop capabilities (kad keeps running with all of them): \(error)")
        }
    }

    /// Locks the process's memory when the configuration asks (`vrrp_no_swap`,
    /// `checker_no_swap`) and it is not locked yet; a failure is logged and kad runs on.
    func lockMemoryIfWanted(_ configuration: DaemonConfiguration) {
        guard configuration.lockMemory, !memoryLocked else { return }
        do {
            try MemoryLock.lockAll()
            memoryLocked = true
            logger.info("Memory locked (vrrp_no_swap/checker_no_swap): no page of kad will be swapped out")
        } catch {
            logger.error("vrrp_no_swap/checker_no_swap: cannot lock kad's memory: \(error)")
        }
    }

    private var memoryLocked = false

    /// The scheduling applied to the VRRP threads (nil: never changed).
    private var appliedScheduling: ThreadScheduling?

    /// Applies `vrrp_priority`, `vrrp_rt_priority` and `vrrp_cpu_affinity` to the VRRP threads
    /// (`kad-vrrp`, `kad-vrrp-rx`) when they differ from what was applied; failures are logged.
    func applyVRRPScheduling(_ configuration: DaemonConfiguration) {
        let wanted = configuration.vrrpScheduling
        guard wanted != (appliedScheduling ?? ThreadScheduling()) else { return }
        var threads = [("kad-vrrp", vrrpExecutor.threadID)]
        if let rx = transport.receiveThreadID { threads.append(("kad-vrrp-rx", rx)) }
        var failed = false
        for (name, tid) in threads where tid != 0 {
            for problem in wanted.apply(toThread: tid) {
                logger.error("vrrp_priority/vrrp_rt_priority/vrrp_cpu_affinity on \(name): \(problem)")
                failed = true
            }
        }
        appliedScheduling = wanted
        if !failed {
            var parts: [String] = []
            parts.append(wanted.realtimePriority.map { "SCHED_RR priority \($0)" } ?? "normal policy")
            if let n = wanted.niceness { parts.append("nice \(n)") }
            if !wanted.cpus.isEmpty { parts.append("CPUs \(wanted.cpus.map(String.init).joined(separator: ","))") }
            logger.info("VRRP threads scheduled: \(parts.joined(separator: ", "))")
        }
    }

    func start() async throws {
        logger.info("Starting kad \(Kad.configuration.version) with \(options.configFile): \(configuration.vrrp.routers.count) VRRP instance(s), \(configuration.lvs.virtualServers.count) virtual server(s)")
        lockMemoryIfWanted(configuration)
        // The listening sockets first: a daemon that cannot have them must not touch the network
        // (another daemon may be running this very configuration).
        let runner = self.runner
        do {
            control = try await ControlServer.start(path: options.controlSocket,
                                                    handler: ControlSocket.handler(daemon: info, snapshot: { await runner.snapshot() },
                                                                                   virtualServers: { [weak self] in
                                                                                       // Absent without virtual servers (IPVS may be open
                                                                                       // for lvs_timeouts / lvs_sync_daemon alone).
                                                                                       let s = await self?.lvsBox.withLock { $0 }?.status()
                                                                                       return s?.isEmpty == true ? nil : s
                                                                                   }))
        } catch {
            throw DaemonError("control socket \(options.controlSocket): \(error)")
        }
        if let text = options.metrics {
            let endpoint = try MetricsEndpoint(parsing: text)
            let metrics = self.metrics
            do {
                metricsServer = try await MetricsServer.start(endpoint) { [weak self] in
                    metrics.update(await runner.snapshot())
                    return metrics.exposition() + (await self?.lvsBox.withLock { $0 }?.metricsText() ?? "")
                }
            } catch {
                throw DaemonError("--metrics \(text): cannot listen: \(error)")
            }
            logger.info("Prometheus metrics on http://\(endpoint)/metrics")
        }
        do {
            let notifier = try Notifier.start(plan: configuration.notify, configuration: Self.notifierConfiguration,
                                              log: { [logger] in logger.info("\($0)") })
            notifierBox.withLock { $0 = notifier }
        } catch {
            throw DaemonError("\(error)")
        }
        // IPVS before anything changes: a kernel without ip_vs must not leave a half-started daemon.
        if configuration.lvs.needsIPVS {
            lvsBox.withLock { $0 = nil }
            let controller = try openLVS(logger: logger)
            lvsBox.withLock { $0 = controller }
        }
        networkTouched = true
        try updateVirtualMACs(configuration.vrrp.virtualMACs, strict: true)
        removeLeftovers(configuration.vrrp)
        installStatic(added: configuration.vrrp, removed: nil)
        wantedSockets.withLock { $0 = configuration.sockets }
        for socket in configuration.sockets {
            if (try? routeNetlink.link(named: socket.interface)) == nil {
                // keepalived's dynamic_interfaces behaviour: FAULT until the interface appears.
                logger.error("interface \(socket.interface) does not exist: its instances stay in FAULT until it appears")
                runner.submit(.interfaceChanged(socket.interface, up: false))
                continue
            }
            do {
                try transport.open(socket)
            } catch {
                throw DaemonError("cannot open the VRRP socket on \(socket.interface) (\(socket.family)): \(error)")
            }
        }
        try transport.startReceiving { runner.submit($0) }
        applyVRRPScheduling(configuration)
        let log = logger
        reporter = try LinkStateReporter(log: { log.warning("\($0)") }, report: { [weak self] input in
            runner.submit(input)
            if case .interfaceChanged(let name, true) = input { self?.interfaceCameUp(name) }
        })
        eventTask = Task { [self] in
            for await event in runner.events {
                self.handle(event)
                // lvs_sync_daemon follows its instance (the controller ignores the others).
                if case .transition(let instance, _, let to, _, _) = event, to == .master || to == .backup || to == .fault,
                   let lvs = lvsBox.withLock({ $0 }) {
                    await lvs.vrrpState(instance, master: to == .master)
                }
            }
        }
        try updateTrackers(configuration)
        runner.submit(.startup)
        runnerTask = Task(executorPreference: vrrpExecutor) { await runner.run() }
        updatePingGroupRange(configuration.lvs.hasPingCheck)
        if let lvs = lvsBox.withLock({ $0 }) { await lvs.start(configuration.lvs) }
    }

    static let pingGroupRange = "net/ipv4/ping_group_range"

    /// PING_CHECK sends through unprivileged ICMP sockets, which the kernel allows only to the
    /// groups in `net.ipv4.ping_group_range` (per network namespace; `1 0`, nobody, by
    /// default). While a PING_CHECK exists the range is widened just enough to hold kad's
    /// group; the value found is written back when none is left (a reload) and at stop.
    func updatePingGroupRange(_ needed: Bool) {
        let key = Self.pingGroupRange
        guard needed else {
            if holdsPingGroupRange {
                holdsPingGroupRange = false
                do { try sysctls.release(key) } catch { logger.error("restoring net.ipv4.ping_group_range: \(error)") }
            }
            return
        }
        guard !holdsPingGroupRange else { return }
        do {
            let current = try sysctls.value(of: key)
            guard let wider = Self.widenedPingGroupRange(current, gid: UInt32(getegid())) else { return }
            try sysctls.set(key, to: wider)
            holdsPingGroupRange = true
            logger.info("net.ipv4.ping_group_range set to \(wider) (was \(current.split(whereSeparator: \.isWhitespace).joined(separator: " "))) for PING_CHECK")
        } catch {
            logger.error("cannot widen net.ipv4.ping_group_range (\(error)): PING_CHECK will fail with \"ICMP sockets not permitted\"")
        }
    }

    /// The `ping_group_range` value that holds `gid`: nil when `current` holds it already, the
    /// current range stretched to `gid`, or `gid gid` when the range is empty (low > high) or
    /// unreadable.
    static func widenedPingGroupRange(_ current: String, gid: UInt32) -> String? {
        let words = current.split(whereSeparator: \.isWhitespace).compactMap { UInt32($0) }
        guard words.count == 2, words[0] <= words[1] else { return "\(gid) \(gid)" }
        if (words[0]...words[1]).contains(gid) { return nil }
        return "\(min(words[0], gid)) \(max(words[1], gid))"
    }

    /// Opens the IPVS generic netlink family (loading ip_vs if needed) for the LVS controller.
    func openLVS(logger: Logger) throws -> LVSController {
        do {
            // LVS FIFO lines go to the notifier in force (a reload may replace it).
            let client = try IPVSClient()
            let threads = options.checkerThreads
            let loops = checkerLoops.withLock { loops in
                if let loops { return loops }
                let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
                let made = (group: group, admission: CheckerAdmission(group: group, limit: LVSController.checksInFlightPerThread))
                loops = made
                return made
            }
            return LVSController(client: client, logger: logger, checkerLoops: loops.group, admission: loops.admission,
                                 notify: { [weak self] event in
                self?.notifierBox.withLock { $0 }?.post(event)
            })
        } catch {
            throw DaemonError("virtual_server needs IPVS, which kad cannot use (is the ip_vs kernel module available?): \(error)")
        }
    }

    /// Creates the VMACs `wanted` names that do not exist yet (a leftover of an earlier run is
    /// deleted and made again) and deletes the ones no longer wanted, restoring their sysctls.
    /// - Parameter strict: throw on a VMAC that cannot be created (at start); at a reload the
    ///   failure is logged, and its instance's addresses fail to install (logged as port failures).
    func updateVirtualMACs(_ wanted: [VirtualMACConfiguration], strict: Bool) throws {
        for (name, vmac) in virtualMACs where !wanted.contains(vmac.configuration) {
            do { try vmac.remove() } catch { logger.error("removing VMAC \(name): \(error)") }
            virtualMACs[name] = nil
            logger.info("VMAC \(name) removed")
        }
        // A backup joins the VRRP group on its VMAC, and the kernel would report that with IGMP
        // from the shared MAC, teaching the switches the wrong port. Reports for 224.0.0.x are
        // switched off while VMACs exist (switches flood that range anyway, RFC 4541).
        let igmp = "net/ipv4/igmp_link_local_mcast_reports"
        if wanted.isEmpty {
            if holdsIGMPSetting {
                try? sysctls.release(igmp)
                holdsIGMPSetting = false
            }
        } else if !holdsIGMPSetting {
            do {
                try sysctls.set(igmp, to: "0")
                holdsIGMPSetting = true
            } catch {
                logger.warning("cannot switch off IGMP reports for 224.0.0.x (\(error)): a backup's VMAC will report its group membership from the shared MAC")
            }
        }
        for w in wanted where virtualMACs[w.name] == nil {
            do {
                let vmac = try VirtualMAC.create(w, routeNetlink: routeNetlink, sysctls: sysctls) { [logger] in logger.info("\($0)") }
                virtualMACs[w.name] = vmac
                logger.info("VMAC \(w.name) created on \(w.parent) with MAC \(w.address) (index \(vmac.link.index))")
            } catch {
                if strict { throw DaemonError("\(error)") }
                logger.error("\(error)")
            }
        }
    }

    /// Notify scripts get a short grace period at stop: the daemon exits within a second, and
    /// keepalived's own scripts die with it (their parent-death signal).
    static let notifierConfiguration: Notifier.Configuration = {
        var c = Notifier.Configuration()
        c.scriptGracePeriod = .milliseconds(400)
        c.drainTime = .milliseconds(200)
        return c
    }()

    /// Starts the trackers `next` uses and that are not running with the same definition;
    /// stops the ones it no longer uses. Unchanged trackers keep running and keep their status.
    func updateTrackers(_ next: DaemonConfiguration) throws {
        let runner = self.runner
        let log = logger
        let report: @Sendable (TrackedObjectID, TrackerStatus) -> Void = { runner.submit(.trackerChanged($0, $1)) }
        var keepScripts: [String: (plan: ScriptTrackerPlan.Tracker, trackers: ScriptTrackers)] = [:]
        var stale: [ScriptTrackers] = []
        for t in next.scriptTrackers.trackers {
            if let running = scriptTrackers[t.name], running.plan == t {
                keepScripts[t.name] = running
                continue
            }
            if let old = scriptTrackers[t.name] { stale.append(old.trackers) }
            let trackers = ScriptTrackers(plan: ScriptTrackerPlan(trackers: [t]), log: { log.info("\($0)") }, report: report)
            keepScripts[t.name] = (t, trackers)
        }
        for (name, old) in scriptTrackers where keepScripts[name] == nil || keepScripts[name]!.trackers !== old.trackers {
            if !stale.contains(where: { $0 === old.trackers }) { stale.append(old.trackers) }
        }
        var keepFiles: [String: (plan: FileTrackerPlan.Tracker, trackers: FileTrackers)] = [:]
        var staleFiles: [FileTrackers] = []
        for t in next.fileTrackers.trackers {
            if let running = fileTrackers[t.name], running.plan == t {
                keepFiles[t.name] = running
                continue
            }
            keepFiles[t.name] = (t, FileTrackers(plan: FileTrackerPlan(trackers: [t]), log: { log.info("\($0)") }, report: report))
        }
        for (name, old) in fileTrackers where keepFiles[name]?.trackers !== old.trackers { staleFiles.append(old.trackers) }

        for old in stale { Task { await old.stop() } }
        for old in staleFiles { Task { await old.stop() } }
        scriptTrackers = keepScripts
        fileTrackers = keepFiles
        for (_, t) in keepScripts { t.trackers.start() }   // no-op for the running ones
        for (name, t) in keepFiles {
            do { try t.trackers.start() } catch { throw DaemonError("track_file \(name): \(error)") }
        }
    }

    /// Whether start went as far as changing addresses (stop undoes only what start did).
    var networkTouched = false

    /// The sockets the configuration in force needs (read by the link monitor's thread).
    let wantedSockets = Mutex<[VRRPSocketConfiguration]>([])

    /// An interface came up: open its socket if it was missing at start, or open it again if
    /// the interface was deleted and created (the old socket is bound to the old index).
    func interfaceCameUp(_ name: String) {
        let wanted = wantedSockets.withLock { $0.filter { $0.interface == name } }
        guard !wanted.isEmpty, let link = try? routeNetlink.link(named: name) else { return }
        for w in wanted {
            if let open = transport.socket(interface: name, family: w.family), open.interfaceIndex == link.index { continue }
            do {
                transport.replace(with: try VRRPSocket(w))
                logger.info("\(name) (index \(link.index)) is back: its \(w.family) VRRP socket was opened again")
            } catch {
                logger.error("cannot open the VRRP socket on \(name) (\(w.family)): \(error)")
            }
        }
    }

    /// keepalived removes the addresses, routes and rules of its configuration that a previous
    /// run left behind (a crash, a SIGKILL) before it starts.
    func removeLeftovers(_ vrrp: VRRPTranslation.Result) {
        let present = (try? routeNetlink.addresses()) ?? []
        let links = Dictionary(((try? routeNetlink.links()) ?? []).map { ($0.index, $0.name) }, uniquingKeysWith: { a, _ in a })
        for r in vrrp.routers {
            for a in r.addresses + r.excludedAddresses {
                let device = a.interface ?? r.interface
                guard present.contains(where: { $0.address == a.address && links[$0.interfaceIndex] == device }) else { continue }
                logger.info("(\(r.name)) removing \(a.address)/\(a.prefixLength) from \(device), left behind by an earlier run")
                do { try linuxPlane.removeAddresses([a], interface: r.interface) } catch {
                    logger.warning("(\(r.name)) could not remove the stale \(a.address) from \(device): \(error)")
                }
            }
            // Routes and rules: removing one that is not there is harmless and quiet.
            try? linuxPlane.removeRules(r.rules)
            try? linuxPlane.removeRoutes(r.routes)
        }
    }

    /// `static_ipaddress`, `static_routes`, `static_rules`: installed at start whatever the
    /// VRRP state, updated by reloads, removed at stop.
    func installStatic(added: VRRPTranslation.Result?, removed: VRRPTranslation.Result?) {
        let newAddresses = added?.staticAddresses ?? [], oldAddresses = removed?.staticAddresses ?? []
        let newRoutes = added?.staticRoutes ?? [], oldRoutes = removed?.staticRoutes ?? []
        let newRules = added?.staticRules ?? [], oldRules = removed?.staticRules ?? []
        let goneRules = oldRules.filter { !newRules.contains($0) }
        let goneRoutes = oldRoutes.filter { !newRoutes.contains($0) }
        let goneAddresses = oldAddresses.filter { !newAddresses.contains($0) }
        do { try linuxPlane.removeRules(goneRules) } catch { logger.error("static_rules: \(error)") }
        do { try linuxPlane.removeRoutes(goneRoutes) } catch { logger.error("static_routes: \(error)") }
        for a in goneAddresses {
            do { try linuxPlane.removeAddresses([a], interface: a.interface ?? "") } catch { logger.error("static_ipaddress: \(error)") }
        }
        for a in newAddresses where !oldAddresses.contains(a) {
            do { try linuxPlane.addAddresses([a], interface: a.interface ?? "") } catch { logger.error("static_ipaddress: \(error)") }
        }
        do { try linuxPlane.addRoutes(newRoutes.filter { !oldRoutes.contains($0) }) } catch { logger.error("static_routes: \(error)") }
        do { try linuxPlane.addRules(newRules.filter { !oldRules.contains($0) }) } catch { logger.error("static_rules: \(error)") }
    }

    // MARK: - Events

    /// Every runner event, in order: the log (keepalived's wording), then the notifications
    /// and the metrics.
    func handle(_ event: VRRPRunnerEvent) {
        // Event series cost memory per instance: kept only when they can be scraped.
        if options.metrics != nil { metrics.record(event) }
        notify(event)
        switch event {
        case .transition(let instance, let from, let to, let reason, let priority):
            switch to {
            case .master, .backup, .fault:
                logger.info("(\(instance)) Entering \(to.keepalivedName) STATE (\(reason); was \(from.keepalivedName), priority \(priority))")
            case .stop:
                logger.info("(\(instance)) Stopped (was \(from.keepalivedName))")
            default:
                logger.info("(\(instance)) \(from.keepalivedName) -> \(to.keepalivedName) (\(reason))")
            }
        case .groupTransition(let group, let from, let to):
            logger.info("VRRP_Group(\(group)) Syncing instances to \(to.keepalivedName) state (was \(from.keepalivedName))")
        case .drop(let instance, let reason, let source):
            packetLog.note(instance: instance, kind: "drop " + reason.identifier, level: .info, logger: logger) {
                "dropped a packet from \(source.map(\.description) ?? "?"): \(reason)"
            }
        case .notice(let instance, let notice):
            switch notice {
            case .ownerConflict:
                logger.warning("(\(instance)) \(notice)")
            case .masterReceivedLowerPriority:
                packetLog.note(instance: instance, kind: "lower", level: .warning, logger: logger) { "\(notice)" }
            case .addressListMismatch, .intervalMismatch:
                packetLog.note(instance: instance, kind: "mismatch", level: .info, logger: logger) { "\(notice)" }
            case .preemptDelayStarted, .waitingForSyncGroup, .backupDiscardedLowerPriority:
                logger.debug("(\(instance)) \(notice)")
            default:
                logger.info("(\(instance)) \(notice)")
            }
        case .lateTimer(let by):
            logger.warning("A timer expired \(by) late: kad itself was not scheduled in time")
        case .portFailure(let instance, let action, let error):
            logger.error("(\(instance)) \(action) failed: \(error)")
        }
    }

    let packetLog = RateLimitedLog()

    /// The notify scripts and FIFO lines of an event, in event order.
    func notify(_ event: VRRPRunnerEvent) {
        guard let notifier = notifierBox.withLock({ $0 }) else { return }
        switch event {
        case .transition(let instance, _, let to, _, let priority):
            lastState[instance] = to
            lastPriority[instance] = priority
            let state: NotifyState
            switch to {
            case .master: state = .master
            case .backup: state = .backup
            case .fault: state = .fault
            // A STOP outside a shutdown is an instance a reload removed: keepalived's DELETED.
            case .stop: state = stopping.load(ordering: .relaxed) ? .stop : .deleted
            case .initialize: return
            }
            notifier.post(.instance(instance, state, priority: priority))
        case .groupTransition(let group, _, let to):
            switch to {
            case .master: notifier.post(.group(group, .master))
            case .backup: notifier.post(.group(group, .backup))
            case .fault: notifier.post(.group(group, .fault))
            case .stop: notifier.post(.group(group, stopping.load(ordering: .relaxed) ? .stop : .deleted))
            case .initialize: break
            }
        case .notice(let instance, .masterReceivedLowerPriority):
            notifier.post(.masterReceivedLowerPriority(instance, priority: lastPriority[instance] ?? 0))
        case .notice(let instance, .priorityChanged(_, let to)):
            lastPriority[instance] = to
            if let s = lastState[instance], s == .master || s == .backup {
                notifier.post(.priorityChanged(instance, master: s == .master, priority: to))
            }
        default:
            break
        }
    }

    // MARK: - Reload

    /// SIGHUP: re-read the file; run it if it is valid, else keep the running configuration.
    func reload() async {
        logger.info("Reloading \(options.configFile)")
        let clock = ContinuousClock()
        let began = clock.now
        let resolver = PrimaryAddressResolver(routeNetlink: routeNetlink)
        let next: DaemonConfiguration
        switch DaemonConfiguration.load(path: options.configFile, scope: options.scope, primaryAddress: resolver.resolve,
                                        previous: configuration) {
        case .failure(let refusal):
            for line in refusal.lines { logger.error("\(line)") }
            logger.error("Reload refused: the running configuration stays in force")
            return
        case .success(let c):
            next = c
        }
        let loaded = clock.now
        for w in next.warnings { logger.warning("\(w)") }
        if let kept = keptCapabilities, !next.capabilities.isSubset(of: kept) {
            logger.error("Reload refused: the new file needs \(next.capabilities.subtracting(kept)) (scripts run as another user, a FIFO given to a user, or vrrp_no_swap), which kad dropped at start; restart kad to run it")
            return
        }
        lockMemoryIfWanted(next)
        // New VMACs must exist before their sockets and addresses.
        let keptVMACs = next.vrrp.virtualMACs + configuration.vrrp.virtualMACs.filter { old in
            !next.vrrp.virtualMACs.contains { $0.name == old.name }
        }
        try? updateVirtualMACs(keptVMACs, strict: false)
        // Sockets: new (interface, family) pairs get a socket; a changed multicast group set on
        // an open socket would need the socket reopened, which a reload does not do.
        var opened: [VRRPSocket] = []
        for wanted in next.sockets {
            if (try? routeNetlink.link(named: wanted.interface)) == nil {
                logger.error("interface \(wanted.interface) does not exist: its instances stay in FAULT until it appears")
                runner.submit(.interfaceChanged(wanted.interface, up: false))
                continue
            }
            if let open = transport.socket(interface: wanted.interface, family: wanted.family) {
                let missing = wanted.groups.filter { !open.configuration.groups.contains($0) }
                if !missing.isEmpty {
                    logger.error("Reload refused: joining \(missing.map(\.description).joined(separator: ", ")) on \(wanted.interface) needs a restart; the running configuration stays in force")
                    for s in opened { s.close() }
                    try? updateVirtualMACs(configuration.vrrp.virtualMACs, strict: false)
                    return
                }
                continue
            }
            do {
                opened.append(try VRRPSocket(wanted))
            } catch {
                logger.error("Reload refused: cannot open the VRRP socket on \(wanted.interface) (\(wanted.family)): \(error)")
                for s in opened { s.close() }
                try? updateVirtualMACs(configuration.vrrp.virtualMACs, strict: false)
                return
            }
        }
        do {
            try await runner.reload(routers: next.vrrp.routers, syncGroups: next.vrrp.syncGroups)
        } catch {
            logger.error("Reload refused: \(error); the running configuration stays in force")
            try? updateVirtualMACs(configuration.vrrp.virtualMACs, strict: false)
            for s in opened { s.close() }
            return
        }
        for s in opened {
            do { try transport.add(s) } catch { logger.error("\(error)") }
        }
        wantedSockets.withLock { $0 = next.sockets }
        installStatic(added: next.vrrp, removed: configuration.vrrp)
        // VMACs of removed instances go once those instances have resigned.
        try? updateVirtualMACs(next.vrrp.virtualMACs, strict: false)
        do {
            try updateTrackers(next)
        } catch {
            logger.error("\(error)")
        }
        if let current = notifierBox.withLock({ $0 }), !current.update(plan: next.notify) {
            // Other FIFO settings: the old FIFO (and its reader script) is closed, the new opened.
            notifierBox.withLock { $0 = nil }
            await current.finish()
            do {
                let fresh = try Notifier.start(plan: next.notify, configuration: Self.notifierConfiguration,
                                               log: { [logger] in logger.info("\($0)") })
                notifierBox.withLock { $0 = fresh }
            } catch {
                logger.error("notify FIFO: \(error); notifications are off until the next successful reload")
            }
        }
        let vrrpDone = clock.now
        updatePingGroupRange(next.lvs.hasPingCheck)
        if let lvs = lvsBox.withLock({ $0 }) {
            await lvs.reload(next.lvs, edits: next.lvsEdits)
        } else if next.lvs.needsIPVS {
            do {
                let lvs = try openLVS(logger: logger)
                lvsBox.withLock { $0 = lvs }
                await lvs.start(next.lvs)
            } catch {
                logger.error("\(error); the virtual servers are not run")
            }
        }
        let lvsDone = clock.now
        let before = configuration
        configuration = next
        applyVRRPScheduling(next)
        let finished = clock.now
        let read = switch next.changes {
        case .all(let reason): "the whole file read: \(reason)"
        case .virtualServers(let edits): "\(edits.reduce(0) { $0 + $1.new.count }) virtual_server block(s) read again"
        }
        logger.info("Reload finished in \((finished - began).millisecondsText) (file read and translated in \((loaded - began).millisecondsText), \(read); VRRP \((vrrpDone - loaded).millisecondsText), IPVS \((lvsDone - vrrpDone).millisecondsText)): \(next.vrrp.routers.count) VRRP instance(s) (was \(before.vrrp.routers.count))")
    }

    // MARK: - Dumps

    /// SIGUSR1 (data) and SIGUSR2 (stats), written where keepalived writes them
    /// (`$KA_TMP_DIR`, else `$TMPDIR`, else /tmp: keepalived.data, keepalived.stats).
    func dump(stats: Bool) async {
        let snapshot = await runner.snapshot()
        do {
            let path = stats ? try Dumps.write(Dumps.stats(snapshot), to: .stats)
                             : try Dumps.write(Dumps.data(snapshot, daemon: info), to: .data)
            logger.info("\(stats ? "Statistics" : "Data") written to \(path)")
        } catch {
            logger.error("\(stats ? "SIGUSR2 statistics" : "SIGUSR1 data") dump failed: \(error)")
        }
    }

    // MARK: - Stop

    /// SIGTERM: MASTERs send priority 0 and release their addresses (unless `-V`), STOP is
    /// reported, static items are removed, everything is closed.
    func stop() async {
        stopping.store(true, ordering: .relaxed)
        addressPlane.stopping()
        if let runnerTask {
            runner.submit(.shutdown)
            runner.stop()
            await runnerTask.value
        }
        await eventTask?.value
        if let lvs = lvsBox.withLock({ $0 }) { await lvs.stop(keep: options.keepIPVSOnStop) }
        updatePingGroupRange(false)
        for (_, t) in scriptTrackers { await t.trackers.stop() }
        for (_, t) in fileTrackers { await t.trackers.stop() }
        if let notifier = notifierBox.withLock({ $0 }) { await notifier.finish() }
        await control?.stop()
        await metricsServer?.stop()
        reporter?.stop()
        transport.close()
        announcer.close()
        if networkTouched && !options.keepOnStop {
            try? updateVirtualMACs([], strict: false)
            installStatic(added: nil, removed: configuration.vrrp)
        }
    }
}

/// A fatal start-up problem, said plainly.
struct DaemonError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension VRRPState {
    /// keepalived's spelling: MASTER, BACKUP, FAULT, INIT, STOP.
    var keepalivedName: String { "\(self)".uppercased() }
}

/// Messages that can come once per packet (drops, "forcing new election", mismatches) are
/// logged at most once every 10 s per (instance, kind), with the count of the ones not logged:
/// a flood of packets (a flapping peer at 10 ms sends hundreds a second) must not flood the log
/// or slow the daemon down.
final class RateLimitedLog: Sendable {
    struct Key: Hashable { var instance: String?; var kind: String }
    let state = Mutex<[Key: (last: ContinuousClock.Instant, suppressed: Int)]>([:])
    let interval: Duration

    init(interval: Duration = .seconds(10)) { self.interval = interval }

    /// Logs `message()` unless the same (instance, kind) was logged less than `interval` ago.
    func note(instance: String?, kind: String, level: Logger.Level, logger: Logger, _ message: () -> String) {
        let key = Key(instance: instance, kind: kind)
        let now = ContinuousClock.now
        let suppressed: Int? = state.withLock { s in
            if let e = s[key], now - e.last < interval {
                s[key] = (e.last, e.suppressed + 1)
                return nil
            }
            let n = s[key]?.suppressed ?? 0
            s[key] = (now, 0)
            return n
        }
        guard let suppressed else { return }
        let more = suppressed > 0 ? " (and \(suppressed) more since the last report)" : ""
        logger.log(level: level, "(\(instance ?? "-")) \(message())\(more)")
    }
}
