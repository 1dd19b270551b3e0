#if canImport(Glibc)
import Glibc
#endif
import ConfigDSL
import NetLinux
import VRRPCore

/// A configuration file turned into what the daemon runs, or every reason it cannot be.
///
/// Used at start and at each SIGHUP: reading, validating and translating never touch the
/// running daemon, so a bad file on reload leaves the old configuration running.
struct DaemonConfiguration: Sendable {
    /// The parsed file.
    var model: KeepalivedConfig
    /// Routers, sync groups and static items for VRRPCore.
    var vrrp: VRRPTranslation.Result
    /// Warnings to log (the file is still run).
    var warnings: [String]
    /// The notify scripts and FIFOs.
    var notify: NotifyPlan
    /// The `vrrp_script`s in use.
    var scriptTrackers: ScriptTrackerPlan
    /// The `track_file`s in use.
    var fileTrackers: FileTrackerPlan
    /// The virtual servers, real servers and checkers (empty with `-P`).
    var lvs: LVSTranslation.Result
    /// `vrrp_no_swap` (unless `-C`) or `checker_no_swap` (unless `-P`): lock the process's
    /// memory (one process runs both).
    var lockMemory = false
    /// `vrrp_priority`, `vrrp_rt_priority`, `vrrp_cpu_affinity`: how the VRRP threads
    /// (`kad-vrrp`, `kad-vrrp-rx`) are scheduled (default: as the system schedules them).
    var vrrpScheduling = ThreadScheduling()
    /// The file as read, for the next reload to read only what changed.
    var snapshot: ConfigSnapshot?
    /// What this load read: the whole file, or only some `virtual_server` blocks.
    var changes = ReloadResult.Changes.all(reason: "first load")
    /// The virtual servers translated again, when only some were (`lvs` otherwise carries the
    /// previous configuration's plans): a reload then compares only those.
    var lvsEdits: [VirtualServerEdit]?

    /// Why a file cannot be run: each line is a located diagnostic or a refusal naming the keyword.
    struct Refusal: Error, Sendable, CustomStringConvertible {
        /// keepalived's exit statuses: 2 for a configuration problem, 1 for anything else.
        var exitStatus: Int32
        var lines: [String]
        var description: String { lines.joined(separator: "\n") }
    }

    /// What `kad run` was asked to run.
    struct Scope: Sendable {
        var configID: String?
        /// `-P/--vrrp`: VRRP only; LVS blocks are ignored with a warning.
        var vrrpOnly = false
        /// `-C/--check`: the checkers only; VRRP blocks are ignored with a warning.
        var checkersOnly = false
    }

    /// Reads, validates and translates the file at `path`.
    /// - Parameter primaryAddress: an interface's primary IPv4 / link-local IPv6 address.
    /// - Parameter previous: the configuration running (a reload): only the `virtual_server`
    ///   blocks whose text changed are read and translated again, when that gives the same
    ///   result as reading the whole file (see `ConfigLoader.load(path:previous:)`).
    static func load(path: String, scope: Scope, primaryAddress: VRRPTranslation.Resolver,
                     previous: DaemonConfiguration? = nil) -> Result<DaemonConfiguration, Refusal> {
        var options = ConfigLoader.Options()
        if let id = scope.configID { options.preprocessor = PreprocessorOptions(configID: id) }
        // Unknown keywords are errors (ConfigDSL's default: kad refuses what it does not know);
        // interfaces are looked at when the instance starts (a missing one is a FAULT, not a
        // refusal).
        options.host = HostEnvironment(interfaceExists: nil, inspectScriptFiles: false)
        let loaded = ConfigLoader(options: options).load(path: path, previous: previous?.snapshot)
        // Script security is keepalived -t's exit 6, but the daemon runs such a file (scripts
        // as root, with a warning); the script preparation below applies the real policy.
        let security = loaded.errors.filter { $0.code == "script-security" }
        let errors = loaded.errors.filter { $0.code != "script-security" }
        if !errors.isEmpty {
            var lines = errors.map(\.description)
            lines.append("\(path): \(errors.count) error\(errors.count == 1 ? "" : "s") (kad check -f \(path) shows them all with hints)")
            return .failure(Refusal(exitStatus: errors.contains { $0.category == .fatal } ? 1 : 2, lines: lines))
        }
        let model = loaded.config
        var warnings = loaded.warnings.map(\.description) + security.map { "\($0.location.map { "\($0): " } ?? "")\($0.message)" }
        var problems: [String] = []

        let hasLVS = !model.virtualServers.isEmpty || !model.virtualServerGroups.isEmpty
        if hasLVS && scope.vrrpOnly {
            warnings.append("virtual_server blocks are ignored: -P/--vrrp runs only VRRP")
        }
        // -C: the VRRP side (instances, sync groups, static items, vrrp_scripts) is not run.
        var vrrpModel = model
        if scope.checkersOnly {
            if !model.vrrpInstances.isEmpty || !model.syncGroups.isEmpty || !model.staticIPAddresses.isEmpty
                || !model.staticRoutes.isEmpty || !model.staticRules.isEmpty {
                warnings.append("vrrp_instance, vrrp_sync_group and static_* blocks are ignored: -C/--check runs only the checkers")
            }
            vrrpModel.vrrpInstances = []
            vrrpModel.syncGroups = []
            vrrpModel.staticIPAddresses = []
            vrrpModel.staticRoutes = []
            vrrpModel.staticRules = []
            vrrpModel.vrrpScripts = []
            vrrpModel.trackFiles = []
        }

        let vrrp = VRRPTranslation.translate(vrrpModel, primaryAddress: primaryAddress)
        problems += vrrp.problems.map(\.description)
        for r in vrrp.routers {
            for t in r.trackers where t.object.kind == .process {
                problems.append("vrrp_instance \(r.name): track_process \(t.object.name): not supported yet (kad has no process tracker)")
            }
        }
        // Scripts: every command parsed, found and checked now, not when it first runs.
        var scripts = ScriptPreparer(globalDefs: model.globalDefs)
        let notify = NotifyPlan(config: vrrpModel, scripts: &scripts)
        let scriptTrackers = ScriptTrackerPlan(config: vrrpModel, scripts: &scripts)
        let fileTrackers = FileTrackerPlan(config: vrrpModel)
        var lvsEdits: [VirtualServerEdit]? = nil
        var lvs: LVSTranslation.Result
        if scope.vrrpOnly {
            lvs = LVSTranslation.translateSyncDaemon(model)
        } else if case .virtualServers(let edits) = loaded.changes, let previous,
                  // Scripts are prepared against the host (file modes, users): while any virtual
                  // server has one, every block is translated again, as a whole reload would.
                  !previous.lvs.notes.contains(where: { !$0.scripts.isEmpty }),
                  let partial = LVSTranslation.translate(model, edits: edits, previous: previous.lvs,
                                                         previousCount: previous.model.virtualServers.count, scripts: &scripts) {
            lvs = partial
            lvsEdits = edits
        } else {
            lvs = LVSTranslation.translate(model, scripts: &scripts)
        }
        // lvs_sync_daemon belongs to the VRRP side (it follows an instance): not run with -C.
        if scope.checkersOnly, lvs.syncDaemon != nil {
            lvs.syncDaemon = nil
            warnings.append("lvs_sync_daemon is ignored: -C/--check runs only the checkers (the sync daemon follows a VRRP instance)")
        }
        problems += lvs.problems.map(\.description)
        warnings += lvs.allWarnings
        problems += scripts.problems.map(\.description) + fileTrackers.problems.map(\.description)
        warnings += scripts.warnings
        let scheduling = model.globalDefs.scheduling
        let lockMemory = (scheduling["vrrp_no_swap"] != nil && !scope.checkersOnly)
            || (scheduling["checker_no_swap"] != nil && !scope.vrrpOnly)
        var vrrpScheduling = ThreadScheduling()
        if !scope.checkersOnly {
            vrrpScheduling.niceness = scheduling["vrrp_priority"]?.first.flatMap { Int32($0) }
            vrrpScheduling.realtimePriority = scheduling["vrrp_rt_priority"]?.first.flatMap { Int32($0) }
            // ConfigDSL has refused a word that is not a CPU number or range, with its place.
            if let words = scheduling["vrrp_cpu_affinity"] { vrrpScheduling.cpus = GlobalDefs.cpuList(words).cpus }
        }
        if !problems.isEmpty {
            problems.append("\(path): kad cannot run this configuration (\(problems.count) problem\(problems.count == 1 ? "" : "s") above)")
            return .failure(Refusal(exitStatus: 2, lines: problems))
        }
        if vrrp.routers.isEmpty && lvs.virtualServers.isEmpty {
            warnings.append("\(path): no vrrp_instance\(scope.vrrpOnly ? "" : " and no virtual_server"): nothing to run until a reload adds one")
        }
        return .success(DaemonConfiguration(model: model, vrrp: vrrp, warnings: warnings, notify: notify,
                                            scriptTrackers: scriptTrackers, fileTrackers: fileTrackers, lvs: lvs,
                                            lockMemory: lockMemory, vrrpScheduling: vrrpScheduling,
                                            snapshot: loaded.snapshot, changes: loaded.changes, lvsEdits: lvsEdits))
    }

    /// Every script the configuration runs.
    var scripts: [Script] {
        var out: [Script] = scriptTrackers.trackers.map(\.script) + notify.fifos.compactMap(\.reader)
        for t in notify.instances.values { out += t.scripts }
        for t in notify.groups.values { out += t.scripts }
        return out + lvs.scripts
    }

    /// What the daemon must keep once started: CAP_NET_ADMIN and CAP_NET_RAW; CAP_SETUID,
    /// CAP_SETGID and CAP_KILL when a script runs as another user; CAP_CHOWN when a notify FIFO
    /// is given to a user.
    var capabilities: CapabilitySet {
        let me = (getuid(), getgid())
        var set = Capabilities.needed(runningScriptsAsOtherUsers: scripts.contains {
            $0.identity.uid != me.0 || $0.identity.gid != me.1 || !$0.identity.supplementaryGroups.isEmpty
        })
        if notify.fifos.contains(where: { $0.owner != nil }) { set.insert(.chown) }
        // Without CAP_IPC_LOCK, memory locked with MCL_FUTURE counts against RLIMIT_MEMLOCK,
        // and allocations beyond it would fail.
        if lockMemory { set.insert(.ipcLock) }
        // Realtime priority and negative nice values need CAP_SYS_NICE, at start and at reloads.
        if !vrrpScheduling.isDefault { set.insert(.sysNice) }
        return set
    }

    /// The VRRP sockets the routers need.
    var sockets: [VRRPSocketConfiguration] { VRRPSocketConfiguration.sockets(for: vrrp.routers) }
}

/// Looks up an interface's source address the way keepalived picks it: the first primary
/// (non-secondary) IPv4 address, or the first link-local IPv6 address.
struct PrimaryAddressResolver: Sendable {
    let routeNetlink: RouteNetlink

    func resolve(_ interface: String, _ family: VRRPCore.IPAddressFamily) -> VRRPCore.IPAddress? {
        guard let link = try? routeNetlink.link(named: interface),
              let addresses = try? routeNetlink.addresses(family: family, interfaceIndex: link.index) else { return nil }
        let mine = addresses.filter { $0.interfaceIndex == link.index }
        if family == .ipv4 {
            return mine.first { !$0.flags.contains(.secondary) }?.address
        }
        return mine.first { $0.address.isIPv6LinkLocal }?.address
    }
}
