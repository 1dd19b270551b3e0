import Synchronization
import SystemPackage
import VRRPCore

/// VRRPCore's ``VRRPAnnouncer`` on Linux: gratuitous ARPs for IPv4 addresses and
/// unsolicited neighbour advertisements for IPv6 addresses, sent as complete Ethernet
/// frames through one ``PacketSocket`` per interface, paced per interface.
///
/// **What goes on the wire** is what keepalived 2.2.7 sends (see ``GratuitousARP`` and
/// ``UnsolicitedNeighborAdvertisement``): a broadcast ARP request with sender and target
/// both the address; an NA from the address to ff02::1, hop limit 255, Override set, Router
/// set only while the interface's IPv6 `forwarding` sysctl is on (read at most every
/// ``AnnouncerConfiguration/forwardingRecheckInterval``), with the MAC in the target
/// link-layer address option. The MAC is the interface's, or the VRRP virtual MAC, as
/// ``AnnouncerConfiguration/hardwareAddresses`` says.
///
/// **Why a packet socket for NAs too**, not a raw ICMPv6 socket: the frame is then exactly
/// keepalived's, whatever state the address is in (a raw ICMPv6 socket sends only from an
/// address the host owns and has finished DAD for, else `EADDRNOTAVAIL`), its Ethernet source
/// can be the virtual MAC, the kernel does no route or neighbour lookup on the way, and one
/// socket per interface serves both families.
///
/// **Order.** `announce(addrs, rounds: n, …)` sends n rounds over the addresses, in their
/// order (A B A B …), each on its own interface (``VirtualAddress/interface``) or the one given.
///
/// **Pacing** (keepalived's `garp_interval`, `gna_interval`, `garp_group`): two gratuitous
/// ARPs leave one interface (or one ``AnnouncementGroup``) at least
/// ``AnnouncementPacing/garpInterval`` apart, and two NAs at least
/// ``AnnouncementPacing/gnaInterval`` apart; the two kinds are paced independently, and the
/// budget carries over from one call to the next. What may go at once is sent before
/// `announce` returns; the rest waits in a queue that a background task drains, sleeping
/// on the injected clock, so **the caller (the VRRP loop) never waits for pacing**. Errors
/// of queued announcements go to `onDeferredFailure` and ``statistics``. With no pacing
/// (the default) everything is sent before `announce` returns.
///
/// ```swift
/// let announcer = LinuxAnnouncer(clock: SuspendingClock(),
///                                configuration: AnnouncerConfiguration(pacing: .init(garpInterval: .milliseconds(10))),
///                                onDeferredFailure: { log.warning("\($0)") })
/// let runner = VRRPRunner(engine: engine, clock: SuspendingClock(), transport: sockets,
///                         addressPlane: netlink, announcer: announcer)
/// ```
///
/// Opening a packet socket needs CAP_NET_RAW. Call ``close()`` when done.
public final class LinuxAnnouncer<C: Clock>: VRRPAnnouncer, Sendable where C.Duration == Duration {
    /// Receives the errors of announcements sent after `announce` returned.
    public typealias FailureHandler = @Sendable (NetLinuxError) -> Void

    /// What a draining task does next.
    enum DrainStep {
        case send(Pending)
        case sleep(C.Instant)
        case done
    }

    /// One queued announcement.
    struct Pending: Sendable {
        var kind: AnnouncementKind
        var interface: String
        var address: IPAddress
        var frame: [UInt8]
    }

    /// Announcements of one kind that share one pacing budget.
    struct LaneKey: Hashable, Sendable {
        var scope: AnnouncerConfiguration.PacingScope
        var kind: AnnouncementKind
    }

    struct Lane {
        /// Waiting announcements, from `head` on.
        var queue: [Pending] = []
        var head = 0
        /// The earliest instant the next announcement may leave; `nil`: now.
        var nextSend: C.Instant?
        /// The task draining `queue`, while it is not empty.
        var task: Task<Void, Never>?

        var isEmpty: Bool { head == queue.count }
        var count: Int { queue.count - head }

        mutating func popFirst() -> Pending? {
            guard !isEmpty else { return nil }
            let p = queue[head]
            head += 1
            if head == queue.count {
                queue.removeAll(keepingCapacity: true)
                head = 0
            }
            return p
        }

        mutating func removeAll(where drop: (Pending) -> Bool) -> Int {
            let before = count
            queue = queue[head...].filter { !drop($0) }
            head = 0
            return before - count
        }
    }

    struct State {
        var configuration: AnnouncerConfiguration
        var lanes: [LaneKey: Lane] = [:]
        /// The last reading of each interface's IPv6 forwarding sysctl.
        var forwarding: [String: (at: C.Instant, enabled: Bool)] = [:]
        var statistics = AnnouncerStatistics()
        var closed = false
    }

    let clock: C
    let links: any AnnouncementLinks
    let onDeferredFailure: FailureHandler
    let state: Mutex<State>

    /// - Parameters:
    ///   - clock: the clock pacing sleeps on (`SuspendingClock` in the daemon, `ManualClock` in tests).
    ///   - configuration: pacing and source MACs.
    ///   - networkNamespace: a namespace path (`/var/run/netns/NAME`) to open the sockets and read
    ///     the sysctls in; `nil` for the caller's own.
    ///   - onDeferredFailure: called (on a background task) for each queued announcement that fails.
    public convenience init(clock: C, configuration: AnnouncerConfiguration = AnnouncerConfiguration(),
                            networkNamespace: String? = nil, onDeferredFailure: @escaping FailureHandler = { _ in }) {
        self.init(clock: clock, configuration: configuration, links: PacketSocketLinks(namespacePath: networkNamespace),
                  onDeferredFailure: onDeferredFailure)
    }

    init(clock: C, configuration: AnnouncerConfiguration, links: any AnnouncementLinks,
         onDeferredFailure: @escaping FailureHandler) {
        self.clock = clock
        self.links = links
        self.onDeferredFailure = onDeferredFailure
        state = Mutex(State(configuration: configuration))
    }

    /// The configuration in force.
    public var configuration: AnnouncerConfiguration { state.withLock { $0.configuration } }

    /// Replaces the configuration (on reload). Queued announcements keep their frames and
    /// are paced by the new intervals from their next send on.
    public func reconfigure(_ configuration: AnnouncerConfiguration) {
        state.withLock { $0.configuration = configuration }
    }

    /// Counters since creation.
    public var statistics: AnnouncerStatistics {
        state.withLock { s in
            var st = s.statistics
            st.queued = s.lanes.values.reduce(0) { $0 + $1.count }
            return st
        }
    }

    /// Sends `rounds` announcements for each of `addresses`: a gratuitous ARP per IPv4 address,
    /// an unsolicited NA per IPv6 address, on the address's interface or else `interface`.
    ///
    /// Returns once everything that pacing lets go now has been sent; the rest is queued.
    /// - Parameters:
    ///   - virtualRouterID: selects the virtual MAC on interfaces configured with
    ///     ``AnnouncementHardwareAddress/virtualRouter``.
    /// - Throws: a ``NetLinuxError`` naming the interface and address of the first failure
    ///   (an interface that cannot be opened or read, or a send that failed), after trying
    ///   every other address; its detail counts further failures.
    public func announce(_ addresses: [VirtualAddress], rounds: Int, interface: String, virtualRouterID: UInt8) async throws {
        guard rounds > 0, !addresses.isEmpty else { return }
        let (configuration, closed) = state.withLock { ($0.configuration, $0.closed) }
        if closed {
            throw LinkFailure.closed.error(interface: addresses[0].interface ?? interface, address: addresses[0].address)
        }
        var failures: [NetLinuxError] = []

        // 1. Each interface once: open it, read its MAC (and forwarding when it carries IPv6).
        var facts: [String: LinkFacts] = [:]
        var failed: Set<String> = []
        for a in addresses {
            let name = a.interface ?? interface
            guard facts[name] == nil, !failed.contains(name) else { continue }
            let carriesIPv6 = addresses.contains { ($0.interface ?? interface) == name && $0.address.family == .ipv6 }
            let now = clock.now
            let cached: Bool? = state.withLock { s in
                guard let f = s.forwarding[name], f.at.duration(to: now) < configuration.forwardingRecheckInterval else { return nil }
                return f.enabled
            }
            do {
                var f = try links.prepare(name, readForwarding: carriesIPv6 && cached == nil)
                if let read = f.ipv6Forwarding {
                    state.withLock { $0.forwarding[name] = (now, read) }
                } else {
                    f.ipv6Forwarding = cached
                }
                facts[name] = f
            } catch {
                failed.insert(name)
                failures.append(error.error(interface: name, address: a.address))
            }
        }

        // 2. One frame per address, sent `rounds` times.
        var once: [Pending] = []
        for a in addresses {
            let name = a.interface ?? interface
            guard let f = facts[name] else { continue }
            let mac = configuration.hardwareAddress(for: a.address, on: name, virtualRouterID: virtualRouterID,
                                                    interfaceMAC: f.hardwareAddress)
            let kind = AnnouncementKind(for: a.address)
            let frame = kind == .gratuitousARP
                ? GratuitousARP(address: a.address, hardwareAddress: mac).frame()
                : UnsolicitedNeighborAdvertisement(address: a.address, hardwareAddress: mac,
                                                   router: f.ipv6Forwarding ?? false).frame()
            once.append(Pending(kind: kind, interface: name, address: a.address, frame: frame))
        }

        // 3. Send what may go now; queue the rest behind its lane.
        for _ in 0..<rounds {
            for item in once {
                let key = LaneKey(scope: configuration.pacing(for: item.interface).scope, kind: item.kind)
                if admitOrQueue(item, key) {
                    if let e = transmit(item) { failures.append(e) }
                }
            }
        }

        guard var first = failures.first else { return }
        if failures.count > 1 {
            let more = "\(failures.count - 1) more announcement\(failures.count == 2 ? "" : "s") failed"
            first.detail = first.detail.map { "\($0); \(more)" } ?? more
        }
        throw first
    }

    /// Reserves the lane's next slot for `item` when it is free now (`true`: send it), or
    /// queues `item` and makes sure a task drains the lane (`false`).
    func admitOrQueue(_ item: Pending, _ key: LaneKey) -> Bool {
        state.withLock { s in
            var lane = s.lanes[key] ?? Lane()
            defer { s.lanes[key] = lane }
            let now = clock.now
            if lane.isEmpty, lane.task == nil, lane.nextSend.map({ now >= $0 }) ?? true {
                let interval = s.configuration.pacing(of: key.scope).interval(for: key.kind)
                lane.nextSend = interval > .zero ? now.advanced(by: interval) : nil
                return true
            }
            lane.queue.append(item)
            if lane.task == nil {
                s.statistics.deferredBursts += 1
                lane.task = Task { [self] in await drain(key) }
            }
            return false
        }
    }

    /// Sends the lane's queue, each announcement in its slot, until it is empty.
    func drain(_ key: LaneKey) async {
        while true {
            let step: DrainStep = state.withLock { s in
                guard var lane = s.lanes[key] else { return .done }
                defer { s.lanes[key] = lane }
                let now = clock.now
                if Task.isCancelled || s.closed {
                    s.statistics.cancelled += UInt64(lane.removeAll { _ in true })
                    lane.task = nil
                    return .done
                }
                if let next = lane.nextSend, now < next, !lane.isEmpty { return .sleep(next) }
                guard let item = lane.popFirst() else {
                    lane.task = nil
                    return .done
                }
                let interval = s.configuration.pacing(of: key.scope).interval(for: key.kind)
                lane.nextSend = interval > .zero ? now.advanced(by: interval) : nil
                return .send(item)
            }
            switch step {
            case .done:
                return
            case .sleep(let deadline):
                // Cancellation ends the sleep early; the next step empties the lane.
                try? await clock.sleep(until: deadline, tolerance: nil)
            case .send(let item):
                if let e = transmit(item) { onDeferredFailure(e) }
            }
        }
    }

    /// Sends one announcement; counts it; returns the error naming interface and address.
    func transmit(_ item: Pending) -> NetLinuxError? {
        do {
            try links.send(item.frame, kind: item.kind, on: item.interface)
            state.withLock { s in
                switch item.kind {
                case .gratuitousARP: s.statistics.gratuitousARPsSent += 1
                case .neighborAdvertisement: s.statistics.neighborAdvertisementsSent += 1
                }
            }
            return nil
        } catch {
            state.withLock { $0.statistics.failures += 1 }
            return NetLinuxError("sending \(item.kind.withArticle) for \(item.address) on \(item.interface)", error,
                                 detail: error == .networkDown ? "the interface is down" : nil)
        }
    }

    /// The ``VRRPAnnouncer`` hook: drops queued announcements for addresses the router no
    /// longer owns (see ``cancelPending(_:interface:)``).
    public func cancelAnnouncements(_ addresses: [VirtualAddress], interface: String) async {
        cancelPending(addresses, interface: interface)
    }

    /// Drops queued (not yet sent) announcements of `addresses`, for example when the
    /// addresses are removed because the router left MASTER: a late announcement would
    /// pull traffic back from the new master.
    ///
    /// - Parameter interface: the interface of addresses that name none.
    /// - Returns: how many announcements were dropped.
    @discardableResult
    public func cancelPending(_ addresses: [VirtualAddress], interface: String) -> Int {
        let targets = Set(addresses.map { AddressOnInterface(address: $0.address, interface: $0.interface ?? interface) })
        return state.withLock { s in
            var dropped = 0
            for key in Array(s.lanes.keys) {
                dropped += s.lanes[key]!.removeAll { targets.contains(AddressOnInterface(address: $0.address, interface: $0.interface)) }
            }
            s.statistics.cancelled += UInt64(dropped)
            return dropped
        }
    }

    struct AddressOnInterface: Hashable {
        var address: IPAddress
        var interface: String
    }

    /// Waits until every queue is empty (each announcement sent, failed or cancelled).
    /// With a manual clock, advance the clock meanwhile.
    public func waitUntilIdle() async {
        while true {
            let tasks = state.withLock { $0.lanes.values.compactMap(\.task) }
            if tasks.isEmpty { return }
            for t in tasks { await t.value }
        }
    }

    /// Drops everything queued, stops the background tasks and closes the sockets. Later
    /// announcements fail.
    public func close() {
        let tasks: [Task<Void, Never>] = state.withLock { s in
            s.closed = true
            return s.lanes.values.compactMap(\.task)
        }
        for t in tasks { t.cancel() }
        links.close()
    }
}

extension LinuxAnnouncer where C == SuspendingClock {
    /// An announcer pacing on `SuspendingClock` (CLOCK_MONOTONIC), as the daemon runs it.
    public convenience init(configuration: AnnouncerConfiguration = AnnouncerConfiguration(), networkNamespace: String? = nil,
                            onDeferredFailure: @escaping FailureHandler = { _ in }) {
        self.init(clock: SuspendingClock(), configuration: configuration, networkNamespace: networkNamespace,
                  onDeferredFailure: onDeferredFailure)
    }
}

/// What a ``LinuxAnnouncer`` has done.
public struct AnnouncerStatistics: Sendable, Hashable {
    public var gratuitousARPsSent: UInt64 = 0
    public var neighborAdvertisementsSent: UInt64 = 0
    /// Announcements whose send failed (an interface that cannot be opened is reported by `announce` only).
    public var failures: UInt64 = 0
    /// Times a lane had to queue announcements and start draining them in the background.
    public var deferredBursts: UInt64 = 0
    /// Queued announcements dropped by ``LinuxAnnouncer/cancelPending(_:interface:)`` or ``LinuxAnnouncer/close()``.
    public var cancelled: UInt64 = 0
    /// Announcements waiting for their slot now.
    public var queued: Int = 0
    public init() {}
}
