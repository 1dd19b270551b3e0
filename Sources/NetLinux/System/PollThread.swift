#if canImport(Glibc)
import Glibc
#endif
import CNetLinux
import Synchronization
import SystemPackage

/// A thread that waits in `poll(2)` on registered descriptors and timers, and runs their
/// handlers, one at a time, on that thread: a small serial event loop without Dispatch.
///
/// NetLinux's host code (the script runner's pipes and pidfds, the track-file watcher's
/// inotify descriptor) uses one ``shared()`` thread instead of Dispatch read and timer
/// sources: on Linux, swift-corelibs-libdispatch's manager thread crashed (SIGSEGV in
/// `_dispatch_event_loop_drain`) when sources on short-lived descriptors were cancelled and
/// their descriptors closed: 8 runs in 120 of the host tests on a busy two-core machine.
///
/// The rules that make closing safe:
/// - every change (``watch(_:handler:)``, ``unwatch(_:then:)``, ``schedule(after:repeating:_:)``,
///   ``cancel(_:)``, ``execute(_:)``) is queued, the thread is woken through an `eventfd(2)`,
///   and the thread applies the changes in order before it polls again;
/// - ``unwatch(_:then:)`` runs `then` on the thread once the descriptor is out of the poll set,
///   so that is where its owner closes it; a handler may also return ``Disposition/remove``
///   after closing its descriptor itself, since the thread does not poll in between;
/// - a handler may be called once more after ``unwatch(_:then:)`` was requested (but never
///   after `then` ran), and a timer's body may run once more after ``cancel(_:)`` when it was
///   already due: owners check their own state.
///
/// Handlers and timer bodies must be quick and must not block: they share the thread.
/// Deadlines are kept on `SuspendingClock` (`CLOCK_MONOTONIC`), to the millisecond.
///
/// A descriptor that `poll(2)` reports invalid (`POLLNVAL`: closed behind the thread's back)
/// is left out until the set changes, and its handler is not called.
///
/// ```swift
/// let thread = try PollThread.shared()
/// // Reads until end-of-file, then closes the pipe itself.
/// thread.watch(pipe) { _ in
///     guard drain(pipe) else { return .keep }
///     close(pipe)
///     return .remove
/// }
/// // Or stops from elsewhere, and closes once the thread lets go of it.
/// let watch = thread.watch(socket) { _ in receive(socket); return .keep }
/// thread.unwatch(watch) { close(socket) }
///
/// let timer = thread.schedule(after: .seconds(2)) { print("two seconds") }
/// thread.cancel(timer)
/// ```
final class PollThread: Sendable {
    /// What a descriptor's handler wants next.
    enum Disposition: Sendable {
        /// Keep watching the descriptor.
        case keep
        /// Stop watching it now; the handler may have closed it already.
        case remove
    }

    /// Called on the thread when `poll(2)` reports the descriptor ready (`POLLIN`, `POLLHUP`
    /// or `POLLERR`; level-triggered: again at the next round while it stays ready), with
    /// the `revents`.
    typealias Handler = @Sendable (_ events: Int16) -> Disposition

    /// A registered descriptor.
    struct Watch: Hashable, Sendable {
        let id: UInt64
    }

    /// A scheduled timer.
    struct Timer: Hashable, Sendable {
        let id: UInt64
    }

    enum Command: Sendable {
        case watch(Watch, CInt, Handler)
        case unwatch(Watch, (@Sendable () -> Void)?)
        case schedule(Timer, SuspendingClock.Instant, Duration?, @Sendable () -> Void)
        case cancel(Timer)
        case execute(@Sendable () -> Void)
    }

    struct State: ~Copyable {
        var commands: [Command] = []
        var stopping = false
        var thread: pthread_t?
    }

    /// A descriptor in the poll set.
    struct Entry {
        var watch: Watch
        var fd: CInt
        var handler: Handler
    }

    /// A timer as the thread keeps it.
    struct Pending {
        var deadline: SuspendingClock.Instant
        var interval: Duration?
        var body: @Sendable () -> Void
    }

    let wake: CInt
    /// The thread's kernel id, recorded when it starts.
    private let tid = ThreadKernelID()

    /// The thread's kernel id (`gettid(2)`), for settings applied by id (scheduling policy,
    /// nice value, CPU affinity); waits up to a second for the thread to have started (0 if
    /// it has not).
    var threadID: Int32 { tid.value }
    let state = Mutex(State())
    let nextID = Atomic<UInt64>(1)

    static let sharedThread = Mutex<PollThread?>(nil)

    /// The process's shared thread (`kad-host-poll`), started on first use and never stopped.
    /// - Throws: ``NetLinuxError`` when it cannot be started (a later call tries again).
    static func shared() throws(NetLinuxError) -> PollThread {
        try sharedThread.withLock { (shared: inout PollThread?) throws(NetLinuxError) -> PollThread in
            if let shared { return shared }
            let thread = try PollThread(name: "kad-host-poll")
            shared = thread
            return thread
        }
    }

    /// Starts a thread of its own; ``stop()`` ends it.
    /// - Parameter name: the thread's name as `ps -L` shows it (15 bytes at most).
    /// - Throws: ``NetLinuxError`` when the eventfd or the thread cannot be created.
    init(name: String) throws(NetLinuxError) {
        let fd = SystemCalls.current.eventfd(0, 0)
        if fd < 0 { throw NetLinuxError("creating the eventfd of the \(name) thread", Errno(rawValue: errno)) }
        wake = fd
        let context = Unmanaged.passRetained(PollThreadContext(thread: self, name: name)).toOpaque()
        var thread = pthread_t()
        let created = pthread_create(&thread, nil, { raw in
            let context = Unmanaged<PollThreadContext>.fromOpaque(raw!).takeRetainedValue()
            _ = context.name.withCString { cnl_set_thread_name($0) }
            context.thread.run()
            return nil
        }, context)
        if created != 0 {
            Unmanaged<PollThreadContext>.fromOpaque(context).release()
            // deinit closes the eventfd.
            throw NetLinuxError("starting the \(name) thread", Errno(rawValue: created))
        }
        state.withLock { $0.thread = thread }
    }

    deinit { _ = SystemCalls.current.close(wake) }

    /// Watches `fd` for input (or hang-up, or an error) until the handler returns
    /// ``Disposition/remove`` or ``unwatch(_:then:)`` is applied. The descriptor stays its
    /// caller's; it must stay open until then.
    /// - Returns: the registration, for ``unwatch(_:then:)``.
    @discardableResult
    func watch(_ fd: CInt, handler: @escaping Handler) -> Watch {
        let watch = Watch(id: nextID.wrappingAdd(1, ordering: .relaxed).oldValue)
        submit(.watch(watch, fd, handler))
        return watch
    }

    /// Stops watching; `then` runs on the thread once `poll(2)` no longer uses the descriptor
    /// (also when the handler had already removed it), which is where to close it.
    func unwatch(_ watch: Watch, then: (@Sendable () -> Void)? = nil) {
        submit(.unwatch(watch, then))
    }

    /// Runs `body` on the thread after `delay`, and then every `interval` if one is given.
    /// - Returns: the timer, for ``cancel(_:)``.
    @discardableResult
    func schedule(after delay: Duration, repeating interval: Duration? = nil,
                  _ body: @escaping @Sendable () -> Void) -> Timer {
        let timer = Timer(id: nextID.wrappingAdd(1, ordering: .relaxed).oldValue)
        let interval = interval.map { max($0, .milliseconds(1)) }
        submit(.schedule(timer, SuspendingClock.now + max(delay, .zero), interval, body))
        return timer
    }

    /// Cancels a timer; nothing happens if it has already run (and does not repeat).
    func cancel(_ timer: Timer) {
        submit(.cancel(timer))
    }

    /// Runs `body` on the thread, after every change queued before it.
    func execute(_ body: @escaping @Sendable () -> Void) {
        submit(.execute(body))
    }

    /// Ends the thread once it has applied the changes queued so far (so `then` of every
    /// ``unwatch(_:then:)`` requested before runs), and waits for it unless called on it.
    /// Descriptors still watched are left to their owners. Idempotent.
    func stop() {
        let thread: pthread_t? = state.withLock { s in
            s.stopping = true
            defer { s.thread = nil }
            return s.thread
        }
        guard let thread else { return }
        poke()
        if pthread_equal(thread, pthread_self()) != 0 {
            pthread_detach(thread)
        } else {
            pthread_join(thread, nil)
        }
    }

    func submit(_ command: Command) {
        let wasEmpty = state.withLock { s -> Bool in
            defer { s.commands.append(command) }
            return s.commands.isEmpty
        }
        // The thread takes the whole queue before each poll; one wake-up per batch is enough.
        if wasEmpty { poke() }
    }

    func poke() {
        var one: UInt64 = 1
        _ = withUnsafeBytes(of: &one) { SystemCalls.current.write(wake, $0.baseAddress!, 8) }
    }

    /// The thread's body: apply the queued changes, run due timers, poll, run the handlers of
    /// ready descriptors, repeat.
    func run() {
        tid.record()
        var entries: [Entry] = []
        var fds: [pollfd] = []
        var changed = true
        var timers: [Timer: Pending] = [:]
        var commands: [Command] = []
        let clock = SuspendingClock()
        while true {
            let stopping = state.withLock { s -> Bool in
                swap(&commands, &s.commands)
                return s.stopping
            }
            for command in commands {
                switch command {
                case .watch(let watch, let fd, let handler):
                    entries.append(Entry(watch: watch, fd: fd, handler: handler))
                    changed = true
                case .unwatch(let watch, let then):
                    if let i = entries.firstIndex(where: { $0.watch == watch }) {
                        entries.remove(at: i)
                        changed = true
                    }
                    then?()
                case .schedule(let timer, let deadline, let interval, let body):
                    timers[timer] = Pending(deadline: deadline, interval: interval, body: body)
                case .cancel(let timer):
                    timers[timer] = nil
                case .execute(let body):
                    body()
                }
            }
            commands.removeAll(keepingCapacity: true)
            if stopping { return }

            var timeout: CInt = -1
            if !timers.isEmpty {
                var now = clock.now
                let due = timers.filter { $0.value.deadline <= now }
                    .sorted { ($0.value.deadline, $0.key.id) < ($1.value.deadline, $1.key.id) }
                for (timer, pending) in due {
                    if let interval = pending.interval {
                        timers[timer]?.deadline = now + interval
                    } else {
                        timers[timer] = nil
                    }
                    pending.body()
                }
                if !due.isEmpty { now = clock.now }
                if let next = timers.values.lazy.map(\.deadline).min() {
                    timeout = PollThread.milliseconds(from: now, to: next)
                }
            }

            if changed {
                fds.removeAll(keepingCapacity: true)
                fds.append(pollfd(fd: wake, events: Int16(POLLIN), revents: 0))
                for e in entries { fds.append(pollfd(fd: e.fd, events: Int16(POLLIN), revents: 0)) }
                changed = false
            }
            let ready = fds.withUnsafeMutableBufferPointer {
                SystemCalls.current.pollMany($0.baseAddress!, nfds_t($0.count), timeout)
            }
            if ready < 0 {
                // EINTR, or a resource shortage: try again (after a pause for the latter, so as
                // not to spin).
                if errno != EINTR { usleep(10_000) }
                continue
            }
            if ready == 0 { continue }
            if fds[0].revents != 0 {
                var value: UInt64 = 0
                _ = withUnsafeMutableBytes(of: &value) { SystemCalls.current.read(wake, $0.baseAddress!, 8) }
            }
            var removed: [Watch] = []
            for i in 1..<fds.count where fds[i].revents != 0 {
                if fds[i].revents & Int16(POLLNVAL) != 0 {
                    // Closed under us (its owner broke the rules): stop polling it until the set
                    // changes, and do not call the handler, which could act on a reused number.
                    fds[i].fd = -1
                    continue
                }
                if entries[i - 1].handler(fds[i].revents) == .remove { removed.append(entries[i - 1].watch) }
            }
            if !removed.isEmpty {
                entries.removeAll { removed.contains($0.watch) }
                changed = true
            }
        }
    }

    /// The `poll(2)` timeout from `now` until `deadline`: rounded up to the millisecond, so the
    /// thread never wakes just before a deadline and spins.
    static func milliseconds(from now: SuspendingClock.Instant, to deadline: SuspendingClock.Instant) -> CInt {
        let left = now.duration(to: deadline)
        if left <= .zero { return 0 }
        let (seconds, attoseconds) = left.components
        let ms = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return CInt(clamping: ms)
    }
}

/// What the poll thread needs; retained for it until it starts.
final class PollThreadContext: Sendable {
    let thread: PollThread
    let name: String
    init(thread: PollThread, name: String) {
        self.thread = thread
        self.name = name
    }
}
