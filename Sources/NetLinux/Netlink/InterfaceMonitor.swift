#if canImport(Glibc)
import Glibc
#endif
import CNetLinux
import Synchronization
import SystemPackage

/// Watches links and addresses through rtnetlink multicast notifications and reports each
/// change as an ``InterfaceEvent``, to a callback or through an `AsyncStream`.
///
/// A dedicated thread blocks in `poll(2)` on the netlink socket and an `eventfd(2)` (used to
/// stop it), reads each datagram with `recvmsg(2)`, and calls the handler on that thread. A
/// thread of its own rather than a Dispatch source or an async task, so that a link going
/// down is reported as soon as the kernel queues the notification — one thread wake-up, no
/// hop through a queue or the cooperative pool, whatever else the process is doing (a few
/// tens of microseconds; the tests require under 10 ms).
///
/// Subscribe first, then list: create the monitor, then read the current state with
/// ``RouteNetlink/links()`` and ``RouteNetlink/addresses(family:interfaceIndex:)``. Events
/// carry whole states, so one that repeats what the listing showed is harmless. After an
/// ``InterfaceEvent/overrun``, list again.
///
/// ```swift
/// let (monitor, events) = try InterfaceMonitor.events()
/// defer { monitor.stop() }
/// for await event in events {
///     if case let .linkChanged(link) = event, !link.isOperational { print("\(link.name) is down") }
/// }
/// ```
///
/// Call ``stop()`` when done: the running thread keeps the monitor alive until then.
public final class InterfaceMonitor: Sendable {
    /// Called on the monitor's thread, in the kernel's order; must be quick and must not block.
    public typealias Handler = @Sendable (InterfaceEvent) -> Void

    /// What to watch.
    public struct Subscriptions: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// Links (`RTNLGRP_LINK`).
        public static let links = Subscriptions(rawValue: 1)
        /// IPv4 addresses (`RTNLGRP_IPV4_IFADDR`).
        public static let ipv4Addresses = Subscriptions(rawValue: 2)
        /// IPv6 addresses (`RTNLGRP_IPV6_IFADDR`).
        public static let ipv6Addresses = Subscriptions(rawValue: 4)
        /// All three.
        public static let all: Subscriptions = [.links, .ipv4Addresses, .ipv6Addresses]
    }

    struct State: ~Copyable {
        var thread: pthread_t?
        var stopping = false
    }

    /// The subscribed socket (for its descriptor; do not send requests on it).
    public let socket: NetlinkSocket
    let wake: CInt
    let handler: Handler
    let onStop: (@Sendable () -> Void)?
    let state = Mutex(State())
    let overrunCount = Atomic<Int>(0)
    let malformedCount = Atomic<Int>(0)

    /// Opens a `NETLINK_ROUTE` socket, subscribes it and starts the thread.
    ///
    /// - Parameters:
    ///   - subscriptions: what to watch.
    ///   - namespace: the path of the network namespace to watch (`nil`: the process's).
    ///   - kernelReceiveBufferSize: the socket's `SO_RCVBUF`: room for bursts of notifications
    ///     (4 MiB holds several thousand) before the kernel drops some and reports an overrun.
    ///   - threadName: the thread's name as `ps -L` shows it (15 bytes at most).
    ///   - handler: receives the events.
    /// - Throws: ``NetLinuxError`` when the socket, the eventfd or the thread cannot be created.
    public convenience init(subscriptions: Subscriptions = .all, inNamespaceAt namespace: String? = nil,
                            kernelReceiveBufferSize: Int = 4 << 20, threadName: String = "kad-netlink-mon",
                            handler: @escaping Handler) throws(NetLinuxError) {
        try self.init(subscriptions: subscriptions, namespace: namespace, kernelReceiveBufferSize: kernelReceiveBufferSize,
                      threadName: threadName, handler: handler, onStop: nil)
    }

    init(subscriptions: Subscriptions, namespace: String?, kernelReceiveBufferSize: Int, threadName: String,
         handler: @escaping Handler, onStop: (@Sendable () -> Void)?) throws(NetLinuxError) {
        let socket = try NetlinkSocket(protocol: .route, kernelReceiveBufferSize: kernelReceiveBufferSize, inNamespaceAt: namespace)
        do throws(NetLinuxError) {
            if subscriptions.contains(.links) { try socket.subscribe(to: RouteNetlinkGroup.link) }
            if subscriptions.contains(.ipv4Addresses) { try socket.subscribe(to: RouteNetlinkGroup.ipv4Address) }
            if subscriptions.contains(.ipv6Addresses) { try socket.subscribe(to: RouteNetlinkGroup.ipv6Address) }
        } catch {
            socket.close()
            throw error
        }
        let fd = SystemCalls.current.eventfd(0, 0)
        if fd < 0 {
            socket.close()
            throw NetLinuxError("creating the eventfd of the interface monitor", Errno(rawValue: errno))
        }
        self.socket = socket
        wake = fd
        self.handler = handler
        self.onStop = onStop
        let context = Unmanaged.passRetained(InterfaceMonitorThreadContext(monitor: self, name: threadName)).toOpaque()
        var thread = pthread_t()
        let created = pthread_create(&thread, nil, { raw in
            let context = Unmanaged<InterfaceMonitorThreadContext>.fromOpaque(raw!).takeRetainedValue()
            _ = context.name.withCString { cnl_set_thread_name($0) }
            context.monitor.run()
            return nil
        }, context)
        if created != 0 {
            Unmanaged<InterfaceMonitorThreadContext>.fromOpaque(context).release()
            // deinit closes the eventfd; the socket closes itself.
            throw NetLinuxError("starting the interface monitor thread", Errno(rawValue: created))
        }
        state.withLock { $0.thread = thread }
    }

    /// A monitor whose events arrive through an `AsyncStream`. The stream finishes when the
    /// monitor stops; dropping or cancelling the stream's consumer stops the monitor.
    ///
    /// - Parameters: as for ``init(subscriptions:inNamespaceAt:kernelReceiveBufferSize:threadName:handler:)``;
    ///   `bufferingPolicy` bounds the events queued for a slow consumer (the default keeps all).
    public static func events(subscriptions: Subscriptions = .all, inNamespaceAt namespace: String? = nil,
                              kernelReceiveBufferSize: Int = 4 << 20,
                              bufferingPolicy: AsyncStream<InterfaceEvent>.Continuation.BufferingPolicy = .unbounded)
        throws(NetLinuxError) -> (monitor: InterfaceMonitor, events: AsyncStream<InterfaceEvent>) {
        let (stream, continuation) = AsyncStream<InterfaceEvent>.makeStream(bufferingPolicy: bufferingPolicy)
        let monitor = try InterfaceMonitor(subscriptions: subscriptions, namespace: namespace,
                                           kernelReceiveBufferSize: kernelReceiveBufferSize, threadName: "kad-netlink-mon",
                                           handler: { continuation.yield($0) }, onStop: { continuation.finish() })
        continuation.onTermination = { [weak monitor] _ in monitor?.stop() }
        return (monitor, stream)
    }

    deinit { _ = SystemCalls.current.close(wake) }

    /// How many overruns (``InterfaceEvent/overrun``) were reported.
    public var overruns: Int { overrunCount.load(ordering: .relaxed) }
    /// How many notifications could not be parsed (counted and skipped).
    public var malformedMessages: Int { malformedCount.load(ordering: .relaxed) }

    /// Stops the thread, waits for it to end (unless called from the handler), closes the
    /// socket and finishes the stream of ``events(subscriptions:inNamespaceAt:kernelReceiveBufferSize:bufferingPolicy:)``.
    /// Idempotent.
    public func stop() {
        let thread: pthread_t? = state.withLock { s in
            s.stopping = true
            defer { s.thread = nil }
            return s.thread
        }
        guard let thread else { return }
        var one: UInt64 = 1
        _ = withUnsafeBytes(of: &one) { SystemCalls.current.write(wake, $0.baseAddress!, 8) }
        if pthread_equal(thread, pthread_self()) != 0 {
            pthread_detach(thread)
        } else {
            pthread_join(thread, nil)
            socket.close()
        }
        onStop?()
    }

    /// The thread's body: wait, drain the socket, repeat.
    func run() {
        var fds = [pollfd(fd: wake, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: socket.descriptor.rawValue, events: Int16(POLLIN), revents: 0)]
        while true {
            if state.withLock({ $0.stopping }) { return }
            let ready = fds.withUnsafeMutableBufferPointer {
                SystemCalls.current.pollMany($0.baseAddress!, nfds_t($0.count), -1)
            }
            if ready < 0 {
                if errno != EINTR { usleep(10_000) }
                continue
            }
            if fds[0].revents != 0 {
                // Woken (to stop: checked at the top). Empty the eventfd so it does not stay readable.
                var value: UInt64 = 0
                _ = withUnsafeMutableBytes(of: &value) { SystemCalls.current.read(wake, $0.baseAddress!, 8) }
                continue
            }
            if fds[1].revents & Int16(POLLNVAL) != 0 { return }
            if fds[1].revents != 0 { drain() }
        }
    }

    /// Reads every queued datagram and delivers its events.
    func drain() {
        while true {
            let result: NetlinkSocket.ReceiveResult
            do {
                result = try socket.receiveNotifications { message in
                    do {
                        if let event = try InterfaceEvent(notification: message) { handler(event) }
                    } catch {
                        malformedCount.add(1, ordering: .relaxed)
                    }
                }
            } catch {
                // Not EAGAIN, not ENOBUFS: unexpected; wait for the next wake-up rather than spin.
                usleep(10_000)
                return
            }
            switch result {
            case .nothingQueued:
                return
            case .overrun:
                overrunCount.add(1, ordering: .relaxed)
                handler(.overrun)
            case .malformed:
                malformedCount.add(1, ordering: .relaxed)
            case .received:
                continue
            }
        }
    }
}

/// What the monitor's thread needs; retained for it until it starts.
final class InterfaceMonitorThreadContext: Sendable {
    let monitor: InterfaceMonitor
    let name: String
    init(monitor: InterfaceMonitor, name: String) {
        self.monitor = monitor
        self.name = name
    }
}
