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
/// The runner owns the engine. It waits for the next input or the next deadline,
/// whichever comes first, calls the engine, and carries out the actions through its
/// transport, address plane and announcer, one action at a time and in order. It is
/// generic over its `Clock`: `SuspendingClock` for a daemon (CLOCK_MONOTONIC on
/// Linux), ``ManualClock`` in tests.
///
/// Inputs come from outside through ``submit(_:)`` (received packets, link and tracker
/// changes), which is safe to call from any thread. Events come out through ``events``.
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
        case input(VRRPEngine.Input)
        case tick(UInt64)
        case snapshot(CheckedContinuation<VRRPRunnerSnapshot, Never>)
        case reload([VirtualRouterConfiguration], [SyncGroupConfiguration],
                    CheckedContinuation<Result<Void, VRRPConfigurationError>, Never>)
        case stop
    }

    let initial: VRRPEngine
    let clock: C
    let transport: Transport
    let addressPlane: AddressPlane
    let announcer: Announcer
    let lateThreshold: Duration
    let messages: AsyncStream<Message>
    let inbox: AsyncStream<Message>.Continuation
    /// Everything the runner reports, in order. Single consumer.
    public let events: AsyncStream<VRRPRunnerEvent>
    let outbox: AsyncStream<VRRPRunnerEvent>.Continuation

    /// - Parameters:
    ///   - engine: the routers and sync groups to run (the runner owns it from now on).
    ///   - clock: the time source: `SuspendingClock` for a daemon, ``ManualClock`` in tests.
    ///   - transport: sends adverts.
    ///   - addressPlane: adds and removes addresses, routes and rules, and sets Accept_Mode.
    ///   - announcer: sends gratuitous ARPs and unsolicited neighbour advertisements.
    ///   - lateTimerThreshold: a wake-up this late or later is reported as ``VRRPRunnerEvent/lateTimer(by:)``.
    public init(engine: VRRPEngine, clock: C, transport: Transport, addressPlane: AddressPlane,
                announcer: Announcer, lateTimerThreshold: Duration = .milliseconds(50)) {
        initial = engine
        self.clock = clock
        self.transport = transport
        self.addressPlane = addressPlane
        self.announcer = announcer
        lateThreshold = lateTimerThreshold
        (messages, inbox) = AsyncStream.makeStream(of: Message.self)
        (events, outbox) = AsyncStream.makeStream(of: VRRPRunnerEvent.self, bufferingPolicy: .bufferingNewest(65536))
    }

    /// Queues an input for the engine. Safe from any thread; never blocks.
    public func submit(_ input: VRRPEngine.Input) {
        inbox.yield(.input(input))
    }

    /// Asks the loop to finish after the inputs already queued.
    public func stop() {
        inbox.yield(.stop)
    }

    /// A copy of the engine (states, priorities, timers, counters) and timer statistics,
    /// taken between two inputs. Returns once the loop has answered.
    public func snapshot() async -> VRRPRunnerSnapshot {
        await withCheckedContinuation { inbox.yield(.snapshot($0)) }
    }

    /// Replaces the configuration between two inputs, without an election
    /// (``VRRPEngine/reload(routers:syncGroups:now:)``); the timers never stall.
    /// - Throws: the configuration error; the running configuration is then unchanged.
    public func reload(routers: [VirtualRouterConfiguration], syncGroups: [SyncGroupConfiguration]) async throws(VRRPConfigurationError) {
        let result = await withCheckedContinuation { inbox.yield(.reload(routers, syncGroups, $0)) }
        try result.get()
    }

    /// Runs until ``stop()`` or cancellation. Call once.
    public func run() async {
        var engine = initial
        var statistics = VRRPRunnerStatistics()
        let origin = clock.now
        var generation: UInt64 = 0
        var armed: VRRPInstant?
        var sleeper: Task<Void, Never>?
        var actions: [VRRPEngine.Action] = []
        defer {
            sleeper?.cancel()
            outbox.finish()
        }
        func instant(_ i: C.Instant) -> VRRPInstant { VRRPInstant(nanoseconds: origin.duration(to: i).vrrpNanoseconds) }

        for await message in messages {
            if Task.isCancelled { break }
            let now = instant(clock.now)
            actions.removeAll(keepingCapacity: true)
            switch message {
            case .stop:
                return
            case .snapshot(let c):
                c.resume(returning: VRRPRunnerSnapshot(engine: engine, statistics: statistics, now: now))
                continue
            case .input(let input):
                engine.handle(input, now: now, into: &actions)
            case .reload(let routers, let groups, let c):
                do throws(VRRPConfigurationError) {
                    actions = try engine.reload(routers: routers, syncGroups: groups, now: now)
                    c.resume(returning: .success(()))
                } catch {
                    c.resume(returning: .failure(error))
                }
            case .tick(let g):
                guard g == generation, let due = armed else { continue }
                armed = nil
                guard due <= now else { break }
                let late = now - due
                statistics.record(late, threshold: lateThreshold)
                if late >= lateThreshold { outbox.yield(.lateTimer(by: late)) }
                engine.handle(.timerFired, now: now, into: &actions)
            }
            await execute(actions, engine: engine)
            // Re-arm the sleeper when the earliest deadline moved earlier. One that moved later
            // (a backup's master-down timer, pushed back by every advert it hears) leaves the
            // armed sleeper in place: it wakes early once, finds nothing due and re-arms then.
            // Re-arming on every advert would cost a task per advert received.
            let next = engine.nextDeadline
            let rearm: Bool = switch (next, armed) {
            case (nil, nil): false
            case (nil, _?): true
            case (_?, nil): true
            case (let n?, let a?): n < a
            }
            if rearm {
                sleeper?.cancel()
                generation += 1
                armed = next
                if let deadline = next {
                    let g = generation
                    let wake = origin.advanced(by: .nanoseconds(deadline.nanoseconds))
                    let clock = self.clock
                    let inbox = self.inbox
                    sleeper = Task {
                        do { try await clock.sleep(until: wake, tolerance: nil) } catch { return }
                        inbox.yield(.tick(g))
                    }
                }
            }
        }
    }

    func execute(_ actions: [VRRPEngine.Action], engine: VRRPEngine) async {
        for action in actions {
            switch action {
            case .unrouted(let reason, _, let source):
                outbox.yield(.drop(instance: nil, reason: reason, source: source))
            case .groupTransition(let g, let f, let t):
                outbox.yield(.groupTransition(group: g, from: f, to: t))
            case .retired(let c, let a):
                await perform(a, c, priority: 0)
            case .router(let i, let a):
                await perform(a, engine.routers[i].configuration, priority: engine.routers[i].effectivePriority)
            }
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
