import Synchronization
import VRRPCore

/// What VRRP knows of each interface: whether it is up and operational
/// (``LinkInfo/isOperational``), by index, so that renames are followed. Pure: it turns link
/// events and link listings into the changes to report, without I/O.
public struct InterfaceStateTracker: Sendable, Hashable {
    /// One change to report: `interface` is now up (or not).
    public struct Change: Sendable, Hashable, CustomStringConvertible {
        public var interface: String
        public var up: Bool
        public init(_ interface: String, up: Bool) {
            self.interface = interface
            self.up = up
        }
        public var description: String { "\(interface) \(up ? "up" : "down")" }
    }

    /// An interface's name and state.
    public struct LinkState: Sendable, Hashable {
        public var name: String
        public var up: Bool
    }

    /// Name and state per interface index.
    public private(set) var links: [UInt32: LinkState] = [:]

    public init() {}

    /// Whether the interface named `name` is up, or `nil` when unknown.
    public func isUp(_ name: String) -> Bool? { links.values.first { $0.name == name }?.up }

    /// The changes `event` makes: a link that appears is reported (up or down); a link whose
    /// state changes is reported; a rename reports the old name down and the new name's
    /// state; a removed link is reported down. Events that change nothing VRRP cares about
    /// (MTU, a flag other than up/running, addresses) report nothing. An overrun reports
    /// nothing here: the caller lists the links again and calls ``resync(_:)``.
    public mutating func apply(_ event: InterfaceEvent) -> [Change] {
        switch event {
        case let .linkChanged(link):
            return update(index: link.index, name: link.name, up: link.isOperational)
        case let .linkRemoved(link):
            guard let old = links.removeValue(forKey: link.index) else { return [] }
            return old.up ? [Change(old.name, up: false)] : []
        case .addressAdded, .addressRemoved, .overrun:
            return []
        }
    }

    /// Replaces what is known with `listing` (a fresh link dump) and reports **every**
    /// interface's state — notifications were lost, so the consumer's picture may be wrong
    /// anywhere — and, down, every interface that no longer exists.
    public mutating func resync(_ listing: [LinkInfo]) -> [Change] {
        var fresh: [UInt32: LinkState] = [:]
        for link in listing { fresh[link.index] = LinkState(name: link.name, up: link.isOperational) }
        let names = Set(fresh.values.map(\.name))
        var changes: [Change] = []
        for (_, old) in links.sorted(by: { $0.key < $1.key }) where !names.contains(old.name) {
            changes.append(Change(old.name, up: false))
        }
        for (_, link) in fresh.sorted(by: { $0.key < $1.key }) {
            changes.append(Change(link.name, up: link.up))
        }
        links = fresh
        return changes
    }

    private mutating func update(index: UInt32, name: String, up: Bool) -> [Change] {
        let old = links[index]
        links[index] = LinkState(name: name, up: up)
        guard let old else { return [Change(name, up: up)] }
        if old.name != name {
            var changes: [Change] = []
            if old.up { changes.append(Change(old.name, up: false)) }
            changes.append(Change(name, up: up))
            return changes
        }
        return old.up == up ? [] : [Change(name, up: up)]
    }
}

/// Turns link notifications into ``VRRPEngine/Input/interfaceChanged(_:up:)`` inputs, given to
/// a callback (typically the runner's `submit`).
///
/// It watches links with an ``InterfaceMonitor``, then lists them once and reports every
/// interface's state. After that it reports only real changes of "up and operational"
/// (``LinkInfo/isOperational``: `IFF_UP` and `IFF_RUNNING`, so carrier loss counts). After an
/// ``InterfaceEvent/overrun`` (the kernel dropped notifications) it lists the links again and
/// reports every interface's state; if that listing fails it is retried before the next event.
///
/// `report` runs on the monitor's thread (and, for the first listing, on the thread that
/// creates the reporter), under a lock that keeps reports in order: it must be quick, must not
/// block and must not call back into the reporter. `VRRPRunner.submit` qualifies.
///
/// ```swift
/// let reporter = try LinkStateReporter(report: runner.submit)
/// defer { reporter.stop() }
/// ```
public final class LinkStateReporter: Sendable {
    public typealias Report = @Sendable (VRRPEngine.Input) -> Void

    final class Core: Sendable {
        struct State {
            var tracker = InterfaceStateTracker()
            var needsResync = true
            var resyncs = 0
        }
        let state = Mutex(State())
        let routeNetlink: RouteNetlink
        let report: Report
        let log: @Sendable (String) -> Void

        init(routeNetlink: RouteNetlink, report: @escaping Report, log: @escaping @Sendable (String) -> Void) {
            self.routeNetlink = routeNetlink
            self.report = report
            self.log = log
        }

        func handle(_ event: InterfaceEvent) {
            state.withLock { s in
                if case .overrun = event {
                    log("link monitor overrun: notifications were lost, listing the links again")
                    s.needsResync = true
                }
                if s.needsResync {
                    resync(&s)
                    if case .overrun = event { return }
                }
                deliver(s.tracker.apply(event))
            }
        }

        func resync() {
            state.withLock { resync(&$0) }
        }

        private func resync(_ s: inout State) {
            do {
                let links = try routeNetlink.links()
                s.needsResync = false
                s.resyncs += 1
                deliver(s.tracker.resync(links))
            } catch {
                s.needsResync = true
                log("listing links to resynchronise interface states failed (will retry at the next event): \(error)")
            }
        }

        private func deliver(_ changes: [InterfaceStateTracker.Change]) {
            for change in changes { report(.interfaceChanged(change.interface, up: change.up)) }
        }
    }

    let core: Core
    /// The monitor underneath (its socket, its overrun count).
    public let monitor: InterfaceMonitor

    /// Starts watching the links of the namespace at `namespace` (`nil`: the process's) and
    /// reports every interface's current state before returning.
    ///
    /// - Parameters:
    ///   - kernelReceiveBufferSize: the monitor socket's `SO_RCVBUF`.
    ///   - log: told about overruns and failed listings.
    ///   - report: receives the inputs (see the type's description for its constraints).
    /// - Throws: ``NetLinuxError`` when the sockets or the monitor thread cannot be created.
    public init(inNamespaceAt namespace: String? = nil, kernelReceiveBufferSize: Int = 4 << 20,
                log: @escaping @Sendable (String) -> Void = { _ in },
                report: @escaping Report) throws(NetLinuxError) {
        let core = Core(routeNetlink: try RouteNetlink(inNamespaceAt: namespace), report: report, log: log)
        self.core = core
        // Subscribe first, then list: nothing falls between the two.
        monitor = try InterfaceMonitor(subscriptions: .links, inNamespaceAt: namespace,
                                       kernelReceiveBufferSize: kernelReceiveBufferSize,
                                       threadName: "kad-link-state") { event in core.handle(event) }
        core.resync()
    }

    /// Lists the links again and reports every interface's state.
    public func resync() { core.resync() }

    /// How many times the links were listed (1 after a start without overrun).
    public var resyncCount: Int { core.state.withLock { $0.resyncs } }

    /// Whether the interface named `name` is up and operational, as last reported (`nil`: unknown).
    public func isUp(_ name: String) -> Bool? { core.state.withLock { $0.tracker.isUp(name) } }

    /// Stops watching. Idempotent.
    public func stop() {
        monitor.stop()
        core.routeNetlink.socket.close()
    }
}
