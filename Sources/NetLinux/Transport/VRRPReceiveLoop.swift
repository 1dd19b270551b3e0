#if canImport(Glibc)
import Glibc
#endif
import CNetLinux
import Synchronization
import SystemPackage
import VRRPCore

/// A thread that waits on a set of ``VRRPSocket``s and hands every packet to a handler.
///
/// One dedicated thread blocks in `poll(2)` over all the sockets and an `eventfd(2)` (used
/// to add sockets and to stop), and reads each ready socket with one `recvmsg(2)`: two
/// system calls per advert when adverts arrive one by one, fewer than that per advert in a
/// burst (one `poll` serves every socket that became ready), and no allocation. A thread of
/// its own, rather than a Dispatch read source, because:
/// - the receive path stays at `poll` + `recvmsg` (a Dispatch source adds `epoll_wait`,
///   the queue's wake-ups and a thread hop per event, and its event handler runs on a
///   pool thread that may be busy with other work while adverts wait);
/// - a packet's arrival time then depends only on the kernel's scheduling of one thread,
///   which keeps the master-down timing of the engine honest under load;
/// - the socket's reused buffers need exactly one reader, which one thread gives for free.
///
/// The handler runs on that thread; it must be quick and must not block (``VRRPRunner``'s
/// `submit` only queues the input). Call ``stop()`` when done: the running thread keeps the
/// loop alive.
///
/// ```swift
/// let loop = try VRRPReceiveLoop(sockets: [socket]) { socket, packet in
///     print(socket.interface, packet.source, packet.hopLimit)
/// }
/// ...
/// loop.stop()
/// ```
public final class VRRPReceiveLoop: Sendable {
    /// Called on the loop's thread for each packet; the datagram is valid only during the call.
    public typealias Handler = @Sendable (VRRPSocket, VRRPDatagram) -> Void

    struct State: ~Copyable {
        var sockets: [VRRPSocket]
        var generation = 0
        var stopping = false
        var thread: pthread_t?
    }

    let wake: CInt
    /// The thread's kernel id, recorded when it starts.
    private let tid = ThreadKernelID()

    /// The thread's kernel id (`gettid(2)`), for settings applied by id (scheduling policy,
    /// nice value, CPU affinity); waits up to a second for the thread to have started (0 if
    /// it has not).
    public var threadID: Int32 { tid.value }
    let handler: Handler
    let state: Mutex<State>

    /// Starts the thread.
    ///
    /// - Parameters:
    ///   - sockets: the sockets to read; more can be added with ``add(_:)``.
    ///   - name: the thread's name, as `ps -L` and `top -H` show it (15 bytes at most).
    ///   - handler: called for each packet.
    /// - Throws: ``NetLinuxError`` if the eventfd or the thread cannot be created.
    public init(sockets: [VRRPSocket], name: String = "kad-vrrp-rx", handler: @escaping Handler) throws(NetLinuxError) {
        let fd = SystemCalls.current.eventfd(0, 0)
        if fd < 0 { throw NetLinuxError("creating the eventfd of the VRRP receive loop", Errno(rawValue: errno)) }
        wake = fd
        self.handler = handler
        state = Mutex(State(sockets: sockets))
        let context = Unmanaged.passRetained(ThreadContext(loop: self, name: name)).toOpaque()
        var thread = pthread_t()
        let created = pthread_create(&thread, nil, { raw in
            let context = Unmanaged<ThreadContext>.fromOpaque(raw!).takeRetainedValue()
            _ = context.name.withCString { cnl_set_thread_name($0) }
            context.loop.run()
            return nil
        }, context)
        if created != 0 {
            Unmanaged<ThreadContext>.fromOpaque(context).release()
            _ = SystemCalls.current.close(fd)
            throw NetLinuxError("starting the VRRP receive thread", Errno(rawValue: created))
        }
        state.withLock { $0.thread = thread }
    }

    deinit { _ = SystemCalls.current.close(wake) }

    /// Adds a socket; the thread polls it from its next wake-up (woken at once).
    public func add(_ socket: VRRPSocket) {
        state.withLock {
            $0.sockets.append(socket)
            $0.generation += 1
        }
        poke()
    }

    /// Removes a socket (compared by identity). The thread may read it once more before it
    /// wakes up, so close a removed socket only after ``stop()``.
    public func remove(_ socket: VRRPSocket) {
        state.withLock {
            $0.sockets.removeAll { $0 === socket }
            $0.generation += 1
        }
        poke()
    }

    /// Stops the thread and waits for it to end (unless called from the handler itself).
    /// Idempotent. The sockets stay open.
    public func stop() {
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

    func poke() {
        var one: UInt64 = 1
        _ = withUnsafeBytes(of: &one) { SystemCalls.current.write(wake, $0.baseAddress!, 8) }
    }

    /// The thread's body: poll, read each ready socket once, repeat.
    func run() {
        tid.record()
        var generation = -1
        var sockets: [VRRPSocket] = []
        var fds: [pollfd] = []
        while true {
            let (stopping, changed) = state.withLock { s -> (Bool, Bool) in
                if s.stopping { return (true, false) }
                if s.generation == generation { return (false, false) }
                generation = s.generation
                sockets = s.sockets
                return (false, true)
            }
            if stopping { return }
            if changed {
                fds = [pollfd(fd: wake, events: Int16(POLLIN), revents: 0)]
                for s in sockets { fds.append(pollfd(fd: s.descriptor.rawValue, events: Int16(POLLIN), revents: 0)) }
            }
            let ready = fds.withUnsafeMutableBufferPointer {
                SystemCalls.current.pollMany($0.baseAddress!, nfds_t($0.count), -1)
            }
            if ready < 0 {
                // EINTR, or a resource shortage: try again (after a pause for the latter, so as
                // not to spin).
                if errno != EINTR { usleep(10_000) }
                continue
            }
            if fds[0].revents != 0 {
                var value: UInt64 = 0
                _ = withUnsafeMutableBytes(of: &value) { SystemCalls.current.read(wake, $0.baseAddress!, 8) }
            }
            for i in 1..<fds.count where fds[i].revents != 0 {
                let socket = sockets[i - 1]
                if fds[i].revents & Int16(POLLNVAL) != 0 {
                    // Closed under us: stop watching it rather than spin.
                    fds[i].fd = -1
                    continue
                }
                // Errors are counted by the socket; nothing to do about them here.
                _ = try? socket.receive { handler(socket, $0) }
            }
        }
    }
}

/// What the new thread needs; retained for it until it starts.
final class ThreadContext: Sendable {
    let loop: VRRPReceiveLoop
    let name: String
    init(loop: VRRPReceiveLoop, name: String) {
        self.loop = loop
        self.name = name
    }
}
