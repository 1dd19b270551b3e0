import FoundationEssentials
import Glibc
import VRRPCore

/// keepalived's signal dumps: SIGUSR1 writes the internal state (`keepalived.data`) and
/// SIGUSR2 the statistics (`keepalived.stats`) to the temporary directory.
///
/// The statistics keep keepalived's layout line for line (checked against keepalived 2.2.7's
/// output), so scripts that parse `keepalived.stats` keep working. The data dump's format is not
/// stable in keepalived either; kad's is meant to be read by people: keepalived's
/// `Key = value` style, one block per instance with its state, priorities, addresses, timers
/// and trackers.
///
/// ```swift
/// // on SIGUSR2:
/// let snapshot = await runner.snapshot()
/// let path = try Dumps.write(Dumps.stats(snapshot), to: .stats)
/// ```
enum Dumps {
    /// Which dump file.
    enum File: String, Sendable, CaseIterable {
        /// SIGUSR1, `keepalived.data`.
        case data = "keepalived.data"
        /// SIGUSR2, `keepalived.stats`.
        case stats = "keepalived.stats"
    }

    /// Where the dumps go: `$KA_TMP_DIR`, else `$TMPDIR`, else `/tmp` (keepalived's order).
    static func directory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        for key in ["KA_TMP_DIR", "TMPDIR"] {
            if let dir = environment[key], !dir.isEmpty { return dir }
        }
        return "/tmp"
    }

    /// The full path of `file` in ``directory(environment:)``.
    static func path(of file: File, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let dir = directory(environment: environment)
        return (dir.hasSuffix("/") ? dir : dir + "/") + file.rawValue
    }

    /// A dump file could not be written.
    struct WriteError: Error, CustomStringConvertible {
        var path: String
        var reason: String
        var description: String { "cannot write \(path): \(reason)" }
    }

    /// Writes `text` to `file` in the dump directory, replacing what was there, with mode 0600
    /// as keepalived does. A symbolic link in its place is refused rather than followed (the
    /// directory is usually the world-writable /tmp).
    /// - Returns: the path written.
    @discardableResult
    static func write(_ text: String, to file: File,
                      environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        let path = path(of: file, environment: environment)
        try write(text, toPath: path)
        return path
    }

    /// Writes `text` to `path` (mode 0600, no symbolic link followed).
    static func write(_ text: String, toPath path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw WriteError(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        guard fchmod(fd, 0o600) == 0 else { throw WriteError(path: path, reason: String(cString: strerror(errno))) }
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw WriteError(path: path, reason: String(cString: strerror(errno)))
            }
            bytes = bytes.dropFirst(n)
        }
    }

    // MARK: - SIGUSR2: statistics

    /// keepalived's statistics for `snapshot`.
    static func stats(_ snapshot: VRRPRunnerSnapshot) -> String { stats(snapshot.engine) }

    /// keepalived's statistics, one block per instance:
    ///
    /// ```
    /// VRRP Instance: VI_1
    ///   Advertisements:
    ///     Received: 0
    ///     Sent: 2
    ///   Became master: 1
    ///   Released master: 0
    ///   Packet Errors:
    ///     Length: 0
    ///     TTL: 0
    ///     Invalid Type: 0
    ///     Advertisement Interval: 0
    ///     Address List: 0
    ///   Authentication Errors:
    ///     Invalid Type: 0
    ///     Type Mismatch: 0
    ///     Failure: 0
    ///   Priority Zero:
    ///     Received: 0
    ///     Sent: 0
    /// ```
    ///
    /// Mapping from ``VRRPCounters``: Received is the adverts that passed every check, Sent one
    /// per destination; Length counts `length_mismatch` and `truncated_header`, TTL
    /// `bad_hop_limit`, Invalid Type `bad_type` (these codec errors are normally counted before
    /// any instance claims the packet, as unrouted drops, so they stay 0 here); Advertisement
    /// Interval counts VRRPv2 drops for a different interval plus VRRPv3 adverts with a different
    /// interval (only logged in v3); Address List counts adverts whose list differed from ours
    /// (dropped or not); authentication Invalid Type counts IPsec AH packets (unsupported),
    /// Type Mismatch `auth_type_mismatch`, Failure `auth_failure`.
    static func stats(_ engine: VRRPEngine) -> String {
        var out = ""
        for router in engine.routers {
            let k = router.counters
            let lines: [(Int, String)] = [
                (0, "VRRP Instance: \(router.configuration.name)"),
                (1, "Advertisements:"),
                (2, "Received: \(k.advertisementsReceived)"),
                (2, "Sent: \(k.advertisementsSent)"),
                (1, "Became master: \(k.transitions(to: .master))"),
                (1, "Released master: \(router.releasedMasterCount)"),
                (1, "Packet Errors:"),
                (2, "Length: \(k.drops(.lengthMismatch) + k.drops(.truncatedHeader))"),
                (2, "TTL: \(k.drops(.badHopLimit))"),
                (2, "Invalid Type: \(k.drops(.badType))"),
                (2, "Advertisement Interval: \(k.drops(.intervalMismatch) + k.intervalMismatches)"),
                (2, "Address List: \(k.addressListMismatches)"),
                (1, "Authentication Errors:"),
                (2, "Invalid Type: \(k.drops(.authenticationHeaderUnsupported))"),
                (2, "Type Mismatch: \(k.drops(.authenticationTypeMismatch))"),
                (2, "Failure: \(k.drops(.authenticationFailure))"),
                (1, "Priority Zero:"),
                (2, "Received: \(k.priorityZeroReceived)"),
                (2, "Sent: \(k.priorityZeroSent)"),
            ]
            for (depth, line) in lines { out += String(repeating: "  ", count: depth) + line + "\n" }
        }
        return out
    }

    // MARK: - SIGUSR1: data

    /// The internal state of `snapshot`, for people.
    static func data(_ snapshot: VRRPRunnerSnapshot, daemon: DaemonInfo, at date: Date = Date()) -> String {
        data(engine: snapshot.engine, statistics: snapshot.statistics, now: snapshot.now, daemon: daemon, at: date)
    }

    /// The internal state of `engine` at the runner time `now`: the daemon, every instance
    /// (state, priorities, addresses, timers, trackers, counters), the sync groups and the
    /// runner's timer statistics, in keepalived's `Key = value` style.
    static func data(engine: VRRPEngine, statistics: VRRPRunnerStatistics, now: VRRPInstant,
                     daemon: DaemonInfo, at date: Date = Date()) -> String {
        let report = StatusReport(engine: engine, statistics: statistics, now: now, daemon: daemon, at: date)
        var out = ""
        func line(_ depth: Int, _ text: String) { out += String(repeating: " ", count: depth) + text + "\n" }
        func seconds(_ s: Double) -> String { s.fixed(6) + " sec" }

        line(0, "------< kad >------")
        line(1, "Version = \(report.daemon.version)")
        line(1, "Pid = \(report.daemon.pid)")
        line(1, "Config file = \(report.daemon.configFile)")
        line(1, "Started = \(report.daemon.startedAt)")
        line(1, "Uptime = \(StatusReport.uptime(report.daemon.uptimeSeconds))")
        line(0, "------< VRRP Topology >------")
        for (router, i) in zip(engine.routers, report.instances) {
            let c = router.configuration
            line(1, "VRRP Instance = \(i.name)")
            line(3, "VRRP Version = \(i.version)")
            line(3, "State = \(i.state)")
            if !i.faultReasons.isEmpty { line(3, "Fault reasons = \(i.faultReasons.joined(separator: "; "))") }
            line(3, "Interface = \(i.interface)")
            line(3, "Family = \(i.family)")
            line(3, "Virtual Router ID = \(i.vrid)")
            line(3, "Using src_ip = \(i.sourceAddress)")
            if i.multicast {
                line(3, "Multicast address \(i.destinations.joined(separator: ", "))")
            } else {
                line(3, "Unicast peers (\(i.destinations.count)):")
                for p in c.unicastPeers {
                    var s = p.address.description
                    if let lo = p.minimumTTL { s += " min_ttl \(lo)" }
                    if let hi = p.maximumTTL { s += " max_ttl \(hi)" }
                    line(5, s)
                }
            }
            line(3, "Master = \(i.masterAddress ?? "unknown")")
            line(3, "Priority = \(i.basePriority)")
            line(3, "Effective priority = \(i.effectivePriority)")
            line(3, "Address owner = \(i.owner ? "yes" : "no")")
            line(3, "Advert interval = \(seconds(i.advertIntervalSeconds))")
            line(3, "Master advert interval = \(seconds(i.masterAdvertIntervalSeconds))")
            line(3, "Down timer adverts = \(c.downTimerAdverts)")
            line(3, "Skew time = \(seconds(i.skewTimeSeconds))")
            line(3, "Master down interval = \(seconds(i.masterDownIntervalSeconds))")
            line(3, "Master down timer = \(i.masterDownTimerSeconds.map { "expires in " + seconds($0) } ?? "not armed")")
            line(3, "Next advert = \(i.nextAdvertSeconds.map { "in " + seconds($0) } ?? "not armed")")
            line(3, "Preempt = \(i.preempt ? "enabled" : "disabled")")
            if let d = i.preemptDelaySeconds { line(3, "Preempt delay = \(seconds(d))") }
            line(3, "Accept = \(c.acceptMode || c.isOwner ? "enabled" : "disabled")")
            line(3, "Authentication type = \(c.password == nil ? "none" : "PASS")")
            line(3, "Sync group = \(i.syncGroup ?? "none")\(i.waitingForSyncGroup ? " (waiting for the group)" : "")")
            line(3, "Gratuitous ARP repeat = \(c.garp.masterRepeat), delay = \(seconds(c.garp.masterDelay.seconds))")
            line(3, "Virtual IP (\(c.addresses.count)):")
            for a in c.addresses { line(5, a.description) }
            if !c.excludedAddresses.isEmpty {
                line(3, "Virtual IP excluded (\(c.excludedAddresses.count)):")
                for a in c.excludedAddresses { line(5, a.description) }
            }
            if !c.routes.isEmpty {
                line(3, "Virtual Routes (\(c.routes.count)):")
                for r in c.routes { line(5, r.description) }
            }
            if !c.rules.isEmpty {
                line(3, "Virtual Rules (\(c.rules.count)):")
                for r in c.rules { line(5, r.description) }
            }
            if !i.trackers.isEmpty {
                line(3, "Tracked objects (\(i.trackers.count)):")
                for t in i.trackers {
                    let status = t.value.map { "value \($0)" } ?? t.status
                    line(5, "\(t.kind) \(t.name): \(status), weight \(t.weight)\(t.reverse ? " reverse" : ""), "
                        + "priority delta \(t.priorityDelta)\(t.faulting ? ", FAULT" : "")")
                }
            }
            let k = i.counters
            line(3, "Adverts sent = \(k.advertsSent), received = \(k.advertsReceived)")
            line(3, "Became master = \(k.becameMaster), released master = \(k.releasedMaster)")
            line(3, "Lower priority heard as master = \(k.lowerPriorityHeardAsMaster)")
            line(3, "Address list mismatches = \(k.addressListMismatches)")
            if k.dropsTotal > 0 {
                line(3, "Drops (\(k.dropsTotal)):")
                for (reason, n) in k.drops.sorted(by: { $0.key < $1.key }) { line(5, "\(reason) = \(n)") }
            }
        }
        if !report.syncGroups.isEmpty {
            line(0, "------< VRRP Sync groups >------")
            for g in report.syncGroups {
                line(1, "VRRP Sync Group = \(g.name), \(g.state)")
                line(3, "VRRP member instances (\(g.members.count)):")
                for m in g.members { line(5, m) }
            }
        }
        line(0, "------< Unrouted packets >------")
        if report.unroutedDrops.isEmpty { line(1, "none") }
        for (reason, n) in report.unroutedDrops.sorted(by: { $0.key < $1.key }) { line(1, "\(reason) = \(n)") }
        line(0, "------< Runner timers >------")
        line(1, "Wake-ups = \(report.timers.wakeUps)")
        line(1, "Late wake-ups = \(report.timers.lateWakeUps)")
        line(1, "Worst lateness = \(seconds(report.timers.maximumLatenessSeconds))")
        line(1, "By lateness = " + StatusReport.latenessBucketNames.map { "\($0) \(report.timers.latenessBuckets[$0] ?? 0)" }
            .joined(separator: ", "))
        return out
    }
}
