import Synchronization

/// Something the runner reports while it runs: state changes first of all.
public enum VRRPRunnerEvent: Sendable, Hashable, CustomStringConvertible {
    /// A virtual router changed state (the notify / FIFO event).
    case transition(instance: String, from: VRRPState, to: VRRPState, reason: TransitionReason, priority: UInt8)
    /// A sync group changed state.
    case groupTransition(group: String, from: VRRPState, to: VRRPState)
    /// A received packet was dropped (`instance` is nil when no router claimed it).
    case drop(instance: String?, reason: VRRPDropReason, source: IPAddress?)
    case notice(instance: String, VRRPNotice)
    /// A timer fired later than the runner's threshold (a scheduling stall; keepalived's
    /// "A thread timer expired N seconds ago", which keepalived users rarely see in time).
    case lateTimer(by: Duration)
    /// A port failed to carry out an action; the loop goes on.
    case portFailure(instance: String, action: String, error: String)

    public var description: String {
        switch self {
        case .transition(let i, let f, let t, let r, let p): "(\(i)) \(f) -> \(t) priority \(p) (\(r))"
        case .groupTransition(let g, let f, let t): "group \(g): \(f) -> \(t)"
        case .drop(let i, let r, let s): "(\(i ?? "-")) drop from \(s.map(\.description) ?? "?"): \(r)"
        case .notice(let i, let n): "(\(i)) \(n)"
        case .lateTimer(let d): "timer fired \(d) late"
        case .portFailure(let i, let a, let e): "(\(i)) \(a) failed: \(e)"
        }
    }
}

/// Timer lateness as measured by the runner.
public struct VRRPRunnerStatistics: Sendable, Hashable {
    /// Timer wake-ups processed.
    public var timerWakeUps: UInt64 = 0
    /// Wake-ups later than the threshold.
    public var lateTimers: UInt64 = 0
    /// The worst lateness seen.
    public var maximumLateness: Duration = .zero
    /// Wake-ups by lateness: < 1 ms, < 10 ms, < 100 ms, < 1 s, ≥ 1 s.
    public var latenessBuckets: [UInt64] = [0, 0, 0, 0, 0]
    /// Statistics at zero.
    public init() {}

    mutating func record(_ late: Duration, threshold: Duration) {
        timerWakeUps += 1
        if late > maximumLateness { maximumLateness = late }
        if late >= threshold { lateTimers += 1 }
        let b = late < .milliseconds(1) ? 0 : late < .milliseconds(10) ? 1 : late < .milliseconds(100) ? 2
            : late < .seconds(1) ? 3 : 4
        latenessBuckets[b] += 1
    }
}

/// Drives a ``VRRPEngine`` in real (or manual) time through ports.
///
/// The runner owns the engine. Inputs come from outside through ``submit(_:)`` (received
/// packets, link and tracker changes), which is safe to call from any thread: the engine
/// handles each one at once, on the caller's thread under a lock, and the timer's sleeper
/// does the same when the next deadline comes. The actions the engine produces are queued
/// in that order, and the loop (``run()``) carries them out through the transport, address
/// plane and announcer, one at a time and in order. An input that produces no action (a
/// backup hearing its master, the common case) therefore never wakes another thread. The
/// runner is generic over its `Clock`: `SuspendingClock` for a daemon (CLOCK_MONOTONIC on
/// Linux), ``ManualClock`` in tests. Events come out through ``events``.
///
/// ```swift
/// let runner = VRRPRunner(engine: engine, clock: SuspendingClock(),
///                         transport: sockets, addressPlane: netlink, announcer: arp)
/// Task { for await e in runner.events { print(e) } }
/// runner.submit(.startup)
/// try await runner.run()          // until stop() or cancellation
/// ```
public final class VRRPRunner<C: Clock, Transport: VRRPTransport, AddressPlane: VRRPAddressPlane,
                              Announcer: VRRPAnnouncer>: Sendable where C.Duration == Duration {
    enum Message: Sendable {
        case execute([Work])
        case snapshot(CheckedContinuation<VRRPRunnerSnapshot, Never>)
        case stop
    }

    /// One thing for the loop to carry out, resolved when the engine produced it.
    enum Work: Sendable {
        case perform(VRRPAction, VirtualRouterConfiguration, priority: UInt8)
        case event(VRRPRunnerEvent)
    }

    /// The engine and its timer, behind ``core``: whoever brings an input (the receive thread, a
    /// tracker, the sleeper) hands it to the engine at once under the lock and queues the actions
    /// it produced, in the same critical section, so actions run in the order the engine made
    /// them. An input that produces no action (a backup hearing its master) costs no thread hop.
    struct Core {
        var engine: VRRPEngine
        var statistics = VRRPRunnerStatistics()
        var actions: [VRRPEngine.Action] = []
        var generation: UInt64 = 0
        var armed: VRRPInstant?
        var sleeper: Task<Void, Never>?
        var running = false
        var stopped = false
    }

    let clock: C
    let origin: C.Instant
    let transport: Transport
    let addressPlane: AddressPlane
    let announcer: Announcer
    let lateThreshold: Duration
    let core: Mutex<Core>
    let messages: AsyncStream<Message>
    let inbox: AsyncStream<Message>.Continuation
    /// Everything the runner reports, in order. Single consumer.
    public let events: AsyncStream<VRRPRunnerEvent>
    let outbox: AsyncStream<VRRPRunnerEvent>.Continuation
    /// The `TaskExecutor` the timer's task prefers (nil: Swift's shared pool). Kept untyped so
    /// that the runner stays available where task executors are not (macOS before 15).
    let executorPreference: (any Sendable)?

    /// - Parameters:
    ///   - engine: the routers and sync groups to run (the runner owns it from now on).
    ///   - clock: the time source: `SuspendingClock` for a daemon, ``ManualClock`` in tests.
    ///   - transport: sends adverts.
    ///   - addressPlane: adds and removes addresses, routes and rules, and sets Accept_Mode.
    ///   - announcer: sends gratuitous ARPs and unsolicited neighbour advertisements.
    ///   - lateTimerThreshold: a wake-up this late or later is reported as ``VRRPRunnerEvent/lateTimer(by:)``.
    public convenience init(engine: VRRPEngine, clock: C, transport: Transport, addressPlane: AddressPlane,
                            announcer: Announcer, lateTimerThreshold: Duration = .milliseconds(50)) {
        self.init(engine: engine, clock: clock, transport: transport, addressPlane: addressPlane, announcer: announcer,
                  lateTimerThreshold: lateTimerThreshold, executorPreference: nil)
    }

    /// The same, with the timer's task on `executor` (run ``run()`` in a task that prefers it
    /// too, `Task(executorPreference: executor) { await runner.run() }`): the runner's work then
    /// happens on that executor's thread, not on Swift's shared pool.
    @available(macOS 15.0, *)
    public convenience init(engine: VRRPEngine, clock: C, transport: Transport, addressPlane: AddressPlane,
                            announcer: Announcer, lateTimerThreshold: Duration = .milliseconds(50),
                            executor: any TaskExecutor) {
        self.init(engine: engine, clock: clock, transport: transport, addressPlane: addressPlane, announcer: announcer,
                  lateTimerThreshold: lateTimerThreshold, executorPreference: executor)
    }

    init(engine: VRRPEngine, clock: C, transport: Transport, addressPlane: AddressPlane,
         announcer: Announcer, lateTimerThreshold: Duration, executorPreference: (any Sendable)?) {
        self.executorPreference = executorPreference
        self.clock = clock
        origin = clock.now
        self.transport = transport
        self.addressPlane = addressPlane
        self.announcer = announcer
        lateThreshold = lateTimerThreshold
        core = Mutex(Core(engine: engine))
        (messages, inbox) = AsyncStream.makeStream(of: Message.self)
        (events, outbox) = AsyncStream.makeStream(of: VRRPRunnerEvent.self, bufferingPolicy: .bufferingNewest(65536))
    }

    /// Hands an input to the engine at once (at the clock's current time) and queues the actions
    /// it produces for the loop. Safe from any thread; never blocks for longer than the engine
    /// takes to handle one input. Inputs submitted before ``run()`` are handled too; their
    /// actions wait for the loop. After the loop has finished, inputs are ignored.
    public func submit(_ input: VRRPEngine.Input) {
        core.withLock { c in
            guard !c.stopped else { return }
            let now = instant(clock.now)
            c.actions.removeAll(keepingCapacity: true)
            c.engine.handle(input, now: now, into: &c.actions)
            settle(&c, events: [])
        }
    }

    /// Asks the loop to finish after the actions already queued.
    public func stop() {
        inbox.yield(.stop)
    }

    /// A copy of the engine (states, priorities, timers, counters) and timer statistics, taken
    /// once the actions queued before the call have been carried out.
    public func snapshot() async -> VRRPRunnerSnapshot {
        await withCheckedContinuation { inbox.yield(.snapshot($0)) }
    }

    /// Replaces the configuration between two inputs, without an election
    /// (``VRRPEngine/reload(routers:syncGroups:now:)``); the timers never stall.
    /// - Throws: the configuration error; the running configuration is then unchanged.
    public func reload(routers: [VirtualRouterConfiguration], syncGroups: [SyncGroupConfiguration]) async throws(VRRPConfigurationError) {
        try core.withLock { (c: inout Core) throws(VRRPConfigurationError) in
            let now = instant(clock.now)
            c.actions = try c.engine.reload(routers: routers, syncGroups: syncGroups, now: now)
            settle(&c, events: [])
        }
    }

    /// Runs until ``stop()`` or cancellation. Call once.
    public func run() async {
        core.withLock { c in
            c.running = true
            c.actions.removeAll()
            settle(&c, events: [])
        }
        defer {
            core.withLock { c in
                c.stopped = true
                c.sleeper?.cancel()
                c.sleeper = nil
            }
            outbox.finish()
        }
        for await message in messages {
            if Task.isCancelled { break }
            switch message {
            case .stop:
                return
            case .snapshot(let reply):
                let now = instant(clock.now)
                let snapshot = core.withLock { VRRPRunnerSnapshot(engine: $0.engine, statistics: $0.statistics, now: now) }
                reply.resume(returning: snapshot)
            case .execute(let work):
                for item in work {
                    switch item {
                    case .event(let e): outbox.yield(e)
                    case .perform(let a, let c, let priority): await perform(a, c, priority: priority)
                    }
                }
            }
        }
    }

    func instant(_ i: C.Instant) -> VRRPInstant { VRRPInstant(nanoseconds: origin.duration(to: i).vrrpNanoseconds) }

    /// The sleeper of `generation` woke: handles the timers that are due.
    func fire(_ generation: UInt64) {
        core.withLock { c in
            guard !c.stopped, generation == c.generation, let due = c.armed else { return }
            c.armed = nil
            let now = instant(clock.now)
            c.actions.removeAll(keepingCapacity: true)
            var events: [VRRPRunnerEvent] = []
            if due <= now {
                let late = now - due
                c.statistics.record(late, threshold: lateThreshold)
                if late >= lateThreshold { events.append(.lateTimer(by: late)) }
                c.engine.handle(.timerFired, now: now, into: &c.actions)
            }
            settle(&c, events: events)
        }
    }

    /// Queues the engine's actions (resolved against the routers as they are now) and re-arms
    /// the sleeper if needed. Called with the lock held.
    func settle(_ c: inout Core, events: [VRRPRunnerEvent]) {
        if !c.actions.isEmpty || !events.isEmpty {
            var work = events.map(Work.event)
            work.reserveCapacity(work.count + c.actions.count)
            for action in c.actions {
                switch action {
                case .unrouted(let reason, _, let source):
                    work.append(.event(.drop(instance: nil, reason: reason, source: source)))
                case .groupTransition(let g, let f, let t):
                    work.append(.event(.groupTransition(group: g, from: f, to: t)))
                case .retired(let configuration, let a):
                    work.append(.perform(a, configuration, priority: 0))
                case .router(let i, let a):
                    let router = c.engine.routers[i]
                    work.append(.perform(a, router.configuration, priority: router.effectivePriority))
                }
            }
            inbox.yield(.execute(work))
        }
        guard c.running, !c.stopped else { return }
        // Re-arm the sleeper when the earliest deadline moved earlier. One that moved later
        // (a backup's master-down timer, pushed back by every advert it hears) leaves the
        // armed sleeper in place: it wakes early once, finds nothing due and re-arms then.
        let next = c.engine.nextDeadline
        let rearm: Bool = switch (next, c.armed) {
        case (nil, nil): false
        case (nil, _?): true
        case (_?, nil): true
        case (let n?, let a?): n < a
        }
        guard rearm else { return }
        c.sleeper?.cancel()
        c.sleeper = nil
        c.generation += 1
        c.armed = next
        guard let deadline = next else { return }
        let g = c.generation
        let wake = origin.advanced(by: .nanoseconds(deadline.nanoseconds))
        let clock = self.clock
        let body: @Sendable () async -> Void = { [weak self] in
            do { try await clock.sleep(until: wake, tolerance: nil) } catch { return }
            self?.fire(g)
        }
        if #available(macOS 15.0, *), let executor = executorPreference as? any TaskExecutor {
            c.sleeper = Task(executorPreference: executor, operation: body)
        } else {
            c.sleeper = Task(operation: body)
        }
    }

    func perform(_ a: VRRPAction, _ c: VirtualRouterConfiguration, priority: UInt8) async {
        do {
            switch a {
            case .sendAdvertisement(let advert, let destination, let form):
                try await transport.send(advert, source: c.primaryAddress, destination: destination,
                                         checksumForm: form, interface: c.interface)
            case .addAddresses(let list): try await addressPlane.add(list, interface: c.interface)
            case .removeAddresses(let list):
                await announcer.cancelAnnouncements(list, interface: c.interface)
                try await addressPlane.remove(list, interface: c.interface)
            case .addRoutes(let list): try await addressPlane.add(list)
            case .removeRoutes(let list): try await addressPlane.remove(list)
            case .addRules(let list): try await addressPlane.add(list)
            case .removeRules(let list): try await addressPlane.remove(list)
            case .setAcceptMode(let accept):
                try await addressPlane.setAcceptMode(accept, addresses: c.addresses + c.excludedAddresses,
                                                     interface: c.interface)
            case .announce(let list, let rounds):
                try await announcer.announce(list, rounds: rounds, interface: c.interface,
                                             virtualRouterID: c.virtualRouterID)
            case .transition(let f, let t, let reason):
                outbox.yield(.transition(instance: c.name, from: f, to: t, reason: reason,
                                         priority: priority))
            case .drop(let reason, let source):
                outbox.yield(.drop(instance: c.name, reason: reason, source: source))
            case .notice(let n):
                outbox.yield(.notice(instance: c.name, n))
            }
        } catch {
            outbox.yield(.portFailure(instance: c.name, action: a.description, error: "\(error)"))
        }
    }
}

/// What ``VRRPRunner/snapshot()`` returns.
public struct VRRPRunnerSnapshot: Sendable {
    /// A copy of the engine: states, priorities, timers, counters.
    public var engine: VRRPEngine
    /// Timer lateness so far.
    public var statistics: VRRPRunnerStatistics
    /// The runner's time when the snapshot was taken.
    public var now: VRRPInstant
}
