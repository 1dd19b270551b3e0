import NIOCore
import Synchronization

/// How many event-loop checks (TCP_CHECK, HTTP_GET, SSL_GET) may be under way at once on each
/// loop of a group; the others wait their turn, in the order they fell due.
///
/// Without a limit, a loop that falls behind (more checks due than it can do) starts every due
/// attempt in one go before it handles the connections already opened, and those time out: the
/// real servers go down because the checker is slow, not because they are. With a limit, checks
/// come late instead (as with keepalived's one checker thread), and a connection's answer is
/// handled soon after it arrives. Shared by every ``HealthCheckScheduler`` of a daemon.
///
/// ```swift
/// let loops = MultiThreadedEventLoopGroup(numberOfThreads: 1)
/// let admission = CheckerAdmission(group: loops, limit: 256)
/// let scheduler = HealthCheckScheduler(realServers: rs, clock: ContinuousClock(),
///                                      eventLoops: loops, admission: admission)
/// ```
public final class CheckerAdmission: Sendable {
    /// The most checks under way at once on one loop.
    public let limit: Int
    private let gates: [ObjectIdentifier: Gate]

    /// - Parameters:
    ///   - group: the loops the schedulers pin their checkers to (the same group).
    ///   - limit: the most checks under way at once per loop (at least 1).
    public init(group: any EventLoopGroup, limit: Int = 256) {
        self.limit = max(1, limit)
        var gates: [ObjectIdentifier: Gate] = [:]
        for loop in group.makeIterator() { gates[ObjectIdentifier(loop)] = Gate(limit: self.limit, loop: loop) }
        self.gates = gates
    }

    /// Runs `start` on `loop` now if fewer than ``limit`` checks are under way there, else when
    /// one of them has called `done`. `start` gets the `done` to call once its check is over.
    /// A loop not of the group has no limit.
    func enter(on loop: any EventLoop, _ start: @escaping @Sendable (_ done: @escaping @Sendable () -> Void) -> Void) {
        guard let gate = gates[ObjectIdentifier(loop)] else {
            start({})
            return
        }
        gate.enter(start)
    }

    /// The checks under way and waiting on each loop (for tests and status).
    public var load: [(running: Int, waiting: Int)] { gates.values.map { $0.load } }

    private final class Gate: Sendable {
        private struct State {
            var running = 0
            var waiting: [(@Sendable (_ done: @escaping @Sendable () -> Void) -> Void)?] = []
            var head = 0
        }
        private let limit: Int
        private let loop: any EventLoop
        private let state = Mutex(State())

        init(limit: Int, loop: any EventLoop) {
            self.limit = limit
            self.loop = loop
        }

        var load: (running: Int, waiting: Int) { state.withLock { ($0.running, $0.waiting.count - $0.head) } }

        func enter(_ start: @escaping @Sendable (_ done: @escaping @Sendable () -> Void) -> Void) {
            let now: Bool = state.withLock { s in
                if s.running < limit {
                    s.running += 1
                    return true
                }
                s.waiting.append(start)
                return false
            }
            if now { start(done) }
        }

        /// One check is over: the next waiting one starts in its place.
        private func leave() {
            let next: (@Sendable (_ done: @escaping @Sendable () -> Void) -> Void)? = state.withLock { s in
                guard s.head < s.waiting.count else {
                    s.running -= 1
                    return nil
                }
                let n = s.waiting[s.head]
                s.waiting[s.head] = nil
                s.head += 1
                if s.head > 1024 && s.head * 2 > s.waiting.count {
                    s.waiting.removeFirst(s.head)
                    s.head = 0
                }
                return n
            }
            // Started from the loop's queue, not from here: a check that ends at once (a
            // refused bind) would otherwise start the next one inside this call, and so on down
            // the whole queue.
            if let next { loop.execute { [self] in next(done) } }
        }

        /// Ends one check; a second call does nothing.
        private var done: @Sendable () -> Void {
            let once = Once()
            return { [self] in if once.first() { leave() } }
        }

        private final class Once: Sendable {
            private let used = Atomic<Bool>(false)
            func first() -> Bool { !used.exchange(true, ordering: .relaxed) }
        }
    }
}
