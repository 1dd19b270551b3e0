import NIOCore
import Synchronization

/// The checkers of one real server, and the weight it has when no checker sets one.
///
/// ```swift
/// let rs = RealServerChecks(id: "192.0.2.10:80", weight: 1, checkers: [
///     .init(TCPCheck(connection: c), timing: CheckerTiming(delayLoop: .seconds(6))),
/// ])
/// ```
public struct RealServerChecks: Sendable {
    /// One checker with its scheduling.
    public struct Checker: Sendable {
        public var check: any HealthCheck
        public var timing: CheckerTiming
        public init(_ check: any HealthCheck, timing: CheckerTiming) {
            self.check = check
            self.timing = timing
        }
    }

    /// How verdicts name the real server (the caller's key, e.g. `192.0.2.10:80` or a VS/RS pair).
    public var id: String
    /// `weight`: the IPVS weight while no dynamic checker has set one.
    public var weight: Int
    public var checkers: [Checker]

    public init(id: String, weight: Int = 1, checkers: [Checker]) {
        self.id = id
        self.weight = weight
        self.checkers = checkers
    }
}

/// A real server's state as its checkers see it: up only when every checker is up.
public struct RealServerVerdict: Sendable, Hashable, CustomStringConvertible {
    public var id: String
    public var isUp: Bool
    /// The weight to give IPVS: the last dynamic weight a checker reported, else the configured one.
    public var weight: Int
    /// What caused this verdict: the checker and its result ("TCP_CHECK 192.0.2.10:80: connection
    /// refused"), or "initial state".
    public var cause: String

    public var description: String { "realServer \(id) \(isUp ? "up" : "down"), weight \(weight) (\(cause))" }
}

/// Something a checker did, for the log.
public struct CheckerLogEvent: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// A failed attempt that did not change the state (logged with `log_all_failures`).
        case attemptFailed(reason: String, retriesLeft: Int)
        /// The checker went up.
        case up
        /// The checker went down.
        case down(reason: String)
        /// A dynamic checker set a new weight.
        case weight(Int)
    }

    public var realServer: String
    public var checker: String
    public var kind: Kind

    public var description: String {
        switch kind {
        case .attemptFailed(let reason, let left):
            return "\(checker) of \(realServer) failed: \(reason)" + (left > 0 ? ", \(left) retries left" : "")
        case .up: return "\(checker) of \(realServer) succeeded, checker up"
        case .down(let reason): return "\(checker) of \(realServer) failed: \(reason), checker down"
        case .weight(let w): return "\(checker) of \(realServer) sets weight \(w)"
        }
    }
}

/// Runs health checkers on their schedules and reports real-server verdicts.
///
/// Every checker runs in its own task (attempts do their I/O on NIO's event loops, never on the
/// VRRP loop), so a slow or hanging checker delays no other. Time comes from `clock`, and the
/// warmup jitter from `random`, so tests drive the schedule with a manual clock.
///
/// Given `eventLoops`, a checker whose attempts can run on an event loop
/// (``HealthCheck/runsOnEventLoop``: TCP_CHECK, HTTP_GET, SSL_GET) is instead pinned to one loop
/// of the group and driven by that loop's timers: its wait, its connect and its result all
/// happen on one thread, with no task and no thread hop per attempt (`clock` is not used for
/// it). This is what keeps ten thousand checks a second cheap.
///
/// ``verdicts`` starts with the initial verdict of every real server (up, or down when one of
/// its checkers has `alpha`), then yields one whenever a real server's up/down state or weight
/// changes.
///
/// ```swift
/// let scheduler = HealthCheckScheduler(realServers: [rs], clock: ContinuousClock())
/// scheduler.start()
/// for await v in scheduler.verdicts { print(v) }   // realServer 192.0.2.10:80 down, weight 1 (...)
/// ```
public final class HealthCheckScheduler<C: Clock>: Sendable where C.Duration == Duration {
    /// Every real server's initial verdict, then every change.
    public let verdicts: AsyncStream<RealServerVerdict>

    private struct Server {
        var spec: RealServerChecks
        var machines: [CheckerStateMachine]
        var dynamicWeight: Int?
        var verdict: RealServerVerdict
    }

    private struct State {
        var servers: [Server]
        var tasks: [Task<Void, Never>] = []
        /// The next attempt of each event-loop checker, by its index in `servers` order.
        var timers: [Int: Scheduled<Void>] = [:]
        var started = false
        var stopped = false
        var suspended = false
    }

    private let state: Mutex<State>
    private let continuation: AsyncStream<RealServerVerdict>.Continuation
    private let clock: C
    private let random: @Sendable () -> Double
    private let log: @Sendable (CheckerLogEvent) -> Void
    private let eventLoops: (any EventLoopGroup)?
    private let admission: CheckerAdmission?

    /// - Parameters:
    ///   - realServers: the real servers and their checkers.
    ///   - clock: the time source (`ContinuousClock()` in the daemon).
    ///   - random: a number in 0...1 for each checker's warmup jitter.
    ///   - log: checker events; failed attempts that change nothing only with `log_all_failures`.
    ///   - eventLoops: where checkers that can run on an event loop are pinned (nil: every
    ///     checker runs in a task on `clock`).
    ///   - admission: how many such checks may be under way at once per loop, shared by the
    ///     schedulers of one daemon (nil: no limit).
    public init(realServers: [RealServerChecks], clock: C,
                random: @escaping @Sendable () -> Double = { Double.random(in: 0...1) },
                log: @escaping @Sendable (CheckerLogEvent) -> Void = { _ in },
                eventLoops: (any EventLoopGroup)? = nil, admission: CheckerAdmission? = nil) {
        let servers = realServers.map { spec in
            let machines = spec.checkers.map { CheckerStateMachine(timing: $0.timing) }
            let up = machines.allSatisfy(\.isUp)
            return Server(spec: spec, machines: machines, dynamicWeight: nil,
                          verdict: RealServerVerdict(id: spec.id, isUp: up, weight: spec.weight, cause: "initial state"))
        }
        state = Mutex(State(servers: servers))
        let (stream, continuation) = AsyncStream.makeStream(of: RealServerVerdict.self)
        verdicts = stream
        self.continuation = continuation
        self.clock = clock
        self.random = random
        self.log = log
        self.eventLoops = eventLoops
        self.admission = admission
    }

    deinit { stop() }

    /// The current verdict of every real server, in configuration order.
    public var currentVerdicts: [RealServerVerdict] { state.withLock { $0.servers.map(\.verdict) } }

    /// Yields the initial verdicts and starts one task per checker. Calling it again does nothing.
    public func start() {
        let initial: [RealServerVerdict]? = state.withLock { s in
            if s.started { return nil }
            s.started = true
            return s.servers.map(\.verdict)
        }
        guard let initial else { return }
        for v in initial { continuation.yield(v) }
        var tasks: [Task<Void, Never>] = []
        let checks = state.withLock { $0.servers.map { $0.spec.checkers.map(\.check) } }
        var index = 0
        for (s, list) in checks.enumerated() {
            for (c, check) in list.enumerated() {
                if let group = eventLoops, check.runsOnEventLoop {
                    let first = state.withLock { $0.servers[s].machines[c].firstDelay(random: random()) }
                    schedule(server: s, checker: c, index: index, check: check, on: group.next(), after: first)
                } else {
                    tasks.append(Task { [self] in await self.loop(server: s, checker: c) })
                }
                index += 1
            }
        }
        state.withLock { $0.tasks = tasks }
    }

    /// Whether the checkers are suspended (``setSuspended(_:)``).
    public var isSuspended: Bool { state.withLock { $0.suspended } }

    /// Suspends or resumes every checker (keepalived's `ha_suspend`). While suspended, an
    /// attempt that falls due is skipped (the checker waits another `delay_loop`) and the
    /// state, retry count and verdicts stay as they were; after resuming, the next due attempt
    /// runs. An attempt already under way when suspending still counts.
    public func setSuspended(_ suspended: Bool) {
        state.withLock { $0.suspended = suspended }
    }

    /// Cancels every checker task and timer and ends ``verdicts``.
    public func stop() {
        let (tasks, timers) = state.withLock { s in
            let t = (s.tasks, s.timers)
            s.tasks = []
            s.timers = [:]
            s.stopped = true
            return t
        }
        for t in tasks { t.cancel() }
        for (_, t) in timers { t.cancel() }
        continuation.finish()
    }

    // MARK: - Checkers on an event loop

    /// Arms the next attempt of an event-loop checker on `loop`, `delay` from now.
    private func schedule(server s: Int, checker c: Int, index: Int, check: any HealthCheck, on loop: any EventLoop,
                          after delay: Duration) {
        let timer = loop.scheduleTask(in: TimeAmount(delay)) { [self] in
            attempt(server: s, checker: c, index: index, check: check, on: loop)
        }
        let armed = state.withLock { st -> Bool in
            guard !st.stopped else { return false }
            st.timers[index] = timer
            return true
        }
        if !armed { timer.cancel() }
    }

    /// One due attempt of an event-loop checker (skipped while suspended), then the next one
    /// armed for the delay its state machine gives.
    private func attempt(server s: Int, checker c: Int, index: Int, check: any HealthCheck, on loop: any EventLoop) {
        let due: AttemptDue = state.withLock { st in
            if st.stopped { return .stopped }
            return st.suspended ? .suspended(wait: st.servers[s].machines[c].timing.delayLoop) : .run
        }
        switch due {
        case .stopped: return
        case .suspended(let wait): schedule(server: s, checker: c, index: index, check: check, on: loop, after: wait)
        case .run:
            let run: @Sendable (_ done: @escaping @Sendable () -> Void) -> Void = { [self] done in
                // It may have waited for admission: stopped meanwhile, it does not start.
                if state.withLock({ $0.stopped }) { return done() }
                check.check(on: loop).whenComplete { [self] outcome in
                    done()
                    if state.withLock({ $0.stopped }) { return }
                    let result = (try? outcome.get()) ?? .failure(reason: "cancelled")
                    let next = apply(result, server: s, checker: c, check: check)
                    schedule(server: s, checker: c, index: index, check: check, on: loop, after: next)
                }
            }
            if let admission { admission.enter(on: loop, run) } else { run({}) }
        }
    }

    private func loop(server s: Int, checker c: Int) async {
        let (check, delay): (any HealthCheck, Duration) = state.withLock { st in
            (st.servers[s].spec.checkers[c].check, st.servers[s].machines[c].firstDelay(random: random()))
        }
        var next = delay
        while !Task.isCancelled {
            do { try await clock.sleep(for: next) } catch { return }
            let skip: Duration? = state.withLock { st in
                st.suspended ? st.servers[s].machines[c].timing.delayLoop : nil
            }
            if let skip {
                next = skip
                continue
            }
            let result = await check.check()
            if Task.isCancelled { return }
            next = apply(result, server: s, checker: c, check: check)
        }
    }

    /// Records one result; emits the log event and, if the real server changed, a verdict.
    /// The checker's name and the cause text are built only when something is reported: an
    /// attempt that changes nothing (the common case, thousands a second) formats no string.
    private func apply(_ result: CheckResult, server s: Int, checker c: Int, check: any HealthCheck) -> Duration {
        let (step, events, verdict) = state.withLock { st -> (CheckerStateMachine.Step, [CheckerLogEvent], RealServerVerdict?) in
            // In place: a copy of the server would copy its arrays on every attempt.
            let step = st.servers[s].machines[c].record(result)
            let machine = st.servers[s].machines[c]
            let id = st.servers[s].spec.id
            var events: [CheckerLogEvent] = []
            func event(_ k: CheckerLogEvent.Kind) { events.append(CheckerLogEvent(realServer: id, checker: check.name, kind: k)) }
            if case .failure(let reason) = result {
                if step.stateChanged {
                    event(.down(reason: reason))
                } else if machine.timing.logAllFailures {
                    event(.attemptFailed(reason: reason, retriesLeft: step.isFinalFailure ? 0 : max(machine.timing.retry, 0) - machine.consecutiveFailures + 1))
                }
            } else {
                if step.stateChanged { event(.up) }
                if step.weightChanged, let w = machine.dynamicWeight {
                    event(.weight(w))
                    st.servers[s].dynamicWeight = w
                }
            }
            let up = st.servers[s].machines.allSatisfy(\.isUp)
            let weight = st.servers[s].dynamicWeight ?? st.servers[s].spec.weight
            var verdict: RealServerVerdict?
            if up != st.servers[s].verdict.isUp || weight != st.servers[s].verdict.weight {
                let cause: String
                if case .failure(let reason) = result { cause = "\(check.name): \(reason)" } else { cause = "\(check.name): \(result)" }
                verdict = RealServerVerdict(id: id, isUp: up, weight: weight, cause: cause)
                st.servers[s].verdict = verdict!
            }
            return (step, events, verdict)
        }
        for e in events { log(e) }
        if let verdict { continuation.yield(verdict) }
        return step.nextDelay
    }
}

/// What an event-loop checker's due attempt does: nothing (stopped), wait (suspended), or run.
private enum AttemptDue {
    case stopped
    case suspended(wait: Duration)
    case run
}
