import NetLinux
import SystemPackage

/// Keeps the kernel's IPVS table in line with an ``IPVSDesiredState``: reads the table,
/// plans with ``IPVSPlanner``, applies the plan through an ``IPVSKernelTable`` (normally an
/// ``IPVSClient``), and remembers which services it owns so that it can delete them later.
///
/// Call contract:
/// - Change ``desired`` whenever the configuration or a checker's verdict changes, then call
///   ``reconcile(_:)`` for the services that changed (it reads only those), or
///   ``reconcile()`` for everything. Calling ``reconcile()`` on a timer repairs external
///   edits (`ipvsadm -d`, `ipvsadm -e -w 5`) of managed services. For a checker's verdict,
///   ``reconcileKnown(_:)`` plans against the table as last read plus what was applied since,
///   without reading (one netlink command per changed destination, as keepalived does); what
///   the kernel then refuses is read and reconciled again at once. The reconciler starts no
///   thread and no timer; it is a value the daemon keeps in one place (an actor or its loop).
/// - A failed change is recorded in the returned ``IPVSReconcileReport`` with the kernel's
///   error, and the other changes go on. Destination changes of a service that could not be
///   added are skipped (and recorded as skipped). The next reconcile retries what failed.
/// - Only a failure to *read* the table throws; nothing is applied then.
/// - At exit, ``shutdown(_:)`` deletes the owned services (keepalived's behaviour), keeps
///   them (`keepalived -I`), or flushes the whole table (`lvs_flush_on_stop`).
///
/// ```swift
/// var reconciler = IPVSReconciler(kernel: try IPVSClient(), desired: desired)
/// let report = try reconciler.reconcile()
/// for failure in report.failures { log.error("\(failure)") }
/// reconciler.desired.setWeight(0, of: rsKey, in: web.key)     // a checker said RS down, inhibit_on_failure
/// _ = try reconciler.reconcile([web.key])
/// reconciler.shutdown(.removeOwned)
/// ```
public struct IPVSReconciler<Kernel: IPVSKernelTable> {
    /// What ``shutdown(_:)`` does with the kernel's table.
    public enum ShutdownMode: Sendable, Hashable {
        /// Delete every owned and desired service (keepalived's default).
        case removeOwned
        /// Leave the table as it is (`keepalived -I`, `--dont-release-ipvs`).
        case keep
        /// Delete every service, owned or not (`lvs_flush_on_stop`).
        case flush
    }

    /// The kernel's table.
    public let kernel: Kernel
    /// What the kernel should hold.
    public var desired: IPVSDesiredState
    /// The services this reconciler put in the kernel or took over, and not yet deleted.
    /// A service removed from ``desired`` stays here until its deletion succeeds.
    public private(set) var owned: Set<IPVSService.Key>
    /// Managed services as last read from the kernel, with every change applied since: `nil`
    /// inside means known to be absent; no entry means not known (read before planning).
    private var known: [IPVSService.Key: IPVSTable.Entry?] = [:]

    /// - Parameters:
    ///   - kernel: the table to drive (an ``IPVSClient``).
    ///   - desired: the wanted services.
    ///   - owned: services already owned, for instance those a previous run left with `-I`
    ///     that the new configuration may no longer want.
    public init(kernel: Kernel, desired: IPVSDesiredState = IPVSDesiredState(), owned: Set<IPVSService.Key> = []) {
        self.kernel = kernel
        self.desired = desired
        self.owned = owned
    }

    // MARK: Reading and planning

    /// The services the reconciler must look at: the desired ones and the owned ones.
    public var managed: Set<IPVSService.Key> { owned.union(desired.keys) }

    /// Reads the kernel's services, with the destinations of the managed ones (only those
    /// of `keys` when given, read with one GET each instead of a dump).
    public func readTable(_ keys: Set<IPVSService.Key>? = nil) throws(NetLinuxError) -> IPVSTable {
        var table = IPVSTable()
        if let keys {
            // A few services: looked up, not a set of every managed one built for them.
            for key in keys {
                let entry: IPVSServiceEntry
                do {
                    entry = try kernel.service(key)
                } catch where error.errno == .noSuchProcess {
                    continue
                }
                try read(entry, managed: isManaged(entry.service.key), into: &table)
            }
        } else {
            let managed = managed
            for entry in try kernel.services() { try read(entry, managed: managed.contains(entry.service.key), into: &table) }
        }
        return table
    }

    private func read(_ entry: IPVSServiceEntry, managed: Bool, into table: inout IPVSTable) throws(NetLinuxError) {
        let key = entry.service.key
        guard managed else {
            table.set(IPVSTable.Entry(service: entry.service, destinations: nil))
            return
        }
        do {
            let destinations = try kernel.destinations(of: key).map(\.destination)
            table.set(IPVSTable.Entry(service: entry.service, destinations: destinations))
        } catch where error.errno == .noSuchProcess {
            // Deleted between the two reads: absent.
        }
    }

    /// The changes ``reconcile()`` would make now (a dry run: reads, changes nothing).
    public func plan() throws(NetLinuxError) -> [IPVSChange] {
        IPVSPlanner.plan(desired: desired, current: try readTable(), managed: owned)
    }

    // MARK: Reconciling

    /// Reads the whole table, plans, applies.
    /// - Throws: ``NetLinuxError`` when the table cannot be read (nothing is applied).
    @discardableResult
    public mutating func reconcile() throws(NetLinuxError) -> IPVSReconcileReport {
        let table = try readTable()
        forgetAbsent(in: table, among: owned)
        known = [:]
        for key in managed { learn(key, from: table) }
        return apply(IPVSPlanner.plan(desired: desired, current: table, managed: owned), current: table)
    }

    /// Reads, plans and applies only the services with `keys` (desired or owned; others
    /// are ignored): what the daemon calls after changing those services in ``desired``.
    @discardableResult
    public mutating func reconcile(_ keys: some Sequence<IPVSService.Key>) throws(NetLinuxError) -> IPVSReconcileReport {
        let keys = Set(keys.filter(isManaged))
        let table = try readTable(keys)
        forgetAbsent(in: table, among: owned.intersection(keys))
        for key in keys { learn(key, from: table) }
        return apply(IPVSPlanner.plan(desired: desired(keys), current: table, managed: owned.intersection(keys)), current: table)
    }

    /// Plans the services with `keys` against what the reconciler knows of them (the table as
    /// last read, with every change applied since) and applies, reading only the services it
    /// does not know yet. What the kernel refuses (someone else changed that service) is read
    /// and reconciled again at once with ``reconcile(_:)``; other outside edits wait for the
    /// next ``reconcile()``. For checker verdicts: a changed weight is one netlink command.
    /// - Throws: ``NetLinuxError`` when a service that must be read cannot be.
    @discardableResult
    public mutating func reconcileKnown(_ keys: some Sequence<IPVSService.Key>) throws(NetLinuxError) -> IPVSReconcileReport {
        let keys = Set(keys.filter(isManaged))
        let unknown = keys.filter { known[$0] == nil }
        if !unknown.isEmpty {
            let read = try readTable(unknown)
            forgetAbsent(in: read, among: owned.intersection(unknown))
            for key in unknown { learn(key, from: read) }
        }
        var table = IPVSTable()
        for key in keys { if case let entry?? = known[key] { table.set(entry) } }
        var report = apply(IPVSPlanner.plan(desired: desired(keys), current: table, managed: owned.intersection(keys)), current: table)
        let refused = Set(report.failures.map(\.change.serviceKey))
        if !refused.isEmpty {
            let retry = try reconcile(refused)
            report.applied += retry.applied
            report.failures = retry.failures
        }
        return report
    }

    private func isManaged(_ key: IPVSService.Key) -> Bool { desired[key] != nil || owned.contains(key) }

    /// The desired services among `keys`, in the desired order.
    private func desired(_ keys: Set<IPVSService.Key>) -> IPVSDesiredState {
        // Looked up, not found by a pass over every service (a verdict has one or two keys).
        let positions = keys.compactMap { desired.position(of: $0) }.sorted()
        return IPVSDesiredState(positions.map { desired.services[$0] })
    }

    /// Records what `table` (a fresh read) says of `key`.
    private mutating func learn(_ key: IPVSService.Key, from table: IPVSTable) {
        switch table[key] {
        case nil: known[key] = .some(nil)                        // absent
        case let entry? where entry.destinations != nil: known[key] = .some(entry)
        default: known[key] = nil                                // destinations not read
        }
    }

    /// Keeps ``known`` in step with a change the kernel accepted, or forgets the service when
    /// it refused or skipped one (the next plan for it reads the kernel).
    private mutating func remember(_ change: IPVSChange, accepted: Bool) {
        let key = change.serviceKey
        guard accepted else {
            known[key] = nil
            return
        }
        switch change {
        case let .addService(s):
            known[key] = .some(IPVSTable.Entry(service: s, destinations: []))
        case .deleteService:
            known[key] = .some(nil)
        case let .updateService(s, _):
            guard case var e?? = known[key] else { return }
            e.service = s
            known[key] = .some(e)
        case let .addDestination(d, _), let .updateDestination(d, _, _):
            guard case var e?? = known[key] else { return }
            e.destinations = (e.destinations ?? []).filter { $0.key != d.key } + [d]
            known[key] = .some(e)
        case let .deleteDestination(d, _):
            guard case var e?? = known[key] else { return }
            e.destinations = (e.destinations ?? []).filter { $0.key != d }
            known[key] = .some(e)
        }
    }

    /// Owned services that are gone from the kernel and no longer desired need no deletion.
    private mutating func forgetAbsent(in table: IPVSTable, among keys: Set<IPVSService.Key>) {
        for key in keys where table[key] == nil && desired[key] == nil { owned.remove(key) }
    }

    /// Applies `changes` in order, going on after a failure.
    ///
    /// - Parameters:
    ///   - changes: a plan, normally from ``IPVSPlanner/plan(desired:current:managed:)``.
    ///   - current: the table the plan was made from, if known: a desired service found
    ///     there becomes owned (taken over).
    /// - Returns: what was applied and what failed or was skipped.
    @discardableResult
    public mutating func apply(_ changes: [IPVSChange], current: IPVSTable? = nil) -> IPVSReconcileReport {
        var report = IPVSReconcileReport()
        if let current {
            // The services read (a few for a verdict or a reload, all for a repair).
            for entry in current.entries where desired[entry.service.key] != nil { owned.insert(entry.service.key) }
        }
        var notAdded: Set<IPVSService.Key> = []
        for change in changes {
            if !change.isServiceChange && notAdded.contains(change.serviceKey) {
                report.failures.append(IPVSChangeFailure(change, .skipped("adding service \(change.serviceKey) failed")))
                remember(change, accepted: false)
                continue
            }
            do {
                try perform(change)
                report.applied.append(change)
                remember(change, accepted: true)
            } catch {
                switch (change, error.errno) {
                case (.deleteService(let key), .noSuchProcess):
                    owned.remove(key)   // already gone: the deletion's effect holds
                    report.applied.append(change)
                    remember(change, accepted: true)
                case (.deleteDestination, .noSuchFileOrDirectory):
                    report.applied.append(change)
                    remember(change, accepted: true)
                default:
                    if case let .addService(s) = change { notAdded.insert(s.key) }
                    report.failures.append(IPVSChangeFailure(change, .kernel(error)))
                    remember(change, accepted: false)
                }
            }
        }
        return report
    }

    private mutating func perform(_ change: IPVSChange) throws(NetLinuxError) {
        switch change {
        case let .addService(s):
            try kernel.addService(s)
            owned.insert(s.key)
        case let .updateService(s, _):
            try kernel.updateService(s)
            owned.insert(s.key)
        case let .deleteService(key):
            try kernel.deleteService(key)
            owned.remove(key)
        case let .addDestination(d, key):
            try kernel.addDestination(d, to: key)
        case let .updateDestination(d, _, key):
            try kernel.updateDestination(d, in: key)
        case let .deleteDestination(d, key):
            try kernel.deleteDestination(address: d.address, port: d.port, from: key)
        }
    }

    // MARK: Shutdown

    /// Leaves the kernel as `mode` says at daemon exit.
    ///
    /// ``ShutdownMode/removeOwned`` deletes every owned or desired service (one
    /// `IPVS_CMD_DEL_SERVICE` each, which takes the destinations along; a service already
    /// gone counts as deleted) and leaves other services alone. ``ShutdownMode/keep``
    /// changes nothing. ``ShutdownMode/flush`` deletes the whole table.
    /// - Returns: the deletions made and those that failed. ``owned`` then holds only the
    ///   services whose deletion failed (all of them for `keep`).
    @discardableResult
    public mutating func shutdown(_ mode: ShutdownMode) -> IPVSReconcileReport {
        switch mode {
        case .keep:
            return IPVSReconcileReport()
        case .flush:
            var report = IPVSReconcileReport()
            do {
                try kernel.flush()
                owned = []
                known = [:]
                report.flushed = true
            } catch {
                report.flushError = error
            }
            return report
        case .removeOwned:
            // Desired order first (the configuration's), then the rest of the owned ones.
            var keys = desired.keys
            let desiredSet = Set(keys)
            keys += owned.filter { !desiredSet.contains($0) }.sorted { $0.description < $1.description }
            return apply(keys.map { .deleteService($0) })
        }
    }

    /// Leaves the kernel's table as it is (`keep: true`, `keepalived -I`) or deletes every
    /// owned and desired service (`keep: false`). See ``shutdown(_:)``.
    @discardableResult
    public mutating func shutdown(keep: Bool) -> IPVSReconcileReport {
        shutdown(keep ? .keep : .removeOwned)
    }
}

extension IPVSReconciler: Sendable where Kernel: Sendable {}

/// What one reconcile, apply or shutdown did.
public struct IPVSReconcileReport: Sendable, Hashable, CustomStringConvertible {
    /// The changes the kernel accepted, in order.
    public var applied: [IPVSChange] = []
    /// The changes refused by the kernel or skipped, in order.
    public var failures: [IPVSChangeFailure] = []
    /// ``IPVSReconciler/ShutdownMode/flush``: whether the table was flushed.
    public var flushed = false
    /// ``IPVSReconciler/ShutdownMode/flush``: why flushing failed.
    public var flushError: NetLinuxError?

    public init() {}

    /// Whether nothing failed.
    public var succeeded: Bool { failures.isEmpty && flushError == nil }
    /// Whether the kernel was changed at all.
    public var changedAnything: Bool { !applied.isEmpty || flushed }

    /// One line per change: `applied: add service ...`, then `failed: ...`.
    public var description: String {
        var lines = applied.map { "applied: \($0)" } + failures.map { "failed: \($0)" }
        if flushed { lines.append("flushed the IPVS table") }
        if let flushError { lines.append("failed: \(flushError)") }
        return lines.isEmpty ? "no change" : lines.joined(separator: "\n")
    }
}

/// A change the kernel refused, or that was not tried.
public struct IPVSChangeFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// Why the change did not happen.
    public enum Reason: Sendable, Hashable {
        /// The kernel's error (it names the operation, service and destination).
        case kernel(NetLinuxError)
        /// Not tried, for this reason.
        case skipped(String)
    }

    public var change: IPVSChange
    public var reason: Reason

    public init(_ change: IPVSChange, _ reason: Reason) {
        self.change = change
        self.reason = reason
    }

    /// The kernel's error when there is one.
    public var error: NetLinuxError? {
        if case let .kernel(e) = reason { return e }
        return nil
    }

    /// `adding destination 198.51.100.2:80 to TCP 192.0.2.10:80: already exists (...)`, or
    /// `add destination 198.51.100.2:80 to TCP 192.0.2.10:80: Masq weight 1: skipped (adding service TCP 192.0.2.10:80 failed)`.
    public var description: String {
        switch reason {
        case let .kernel(e): e.description
        case let .skipped(why): "\(change): skipped (\(why))"
        }
    }
}
