#if canImport(Glibc)
import Glibc
#endif
import CNetLinux
import Synchronization
import SystemPackage

/// An `AF_NETLINK` socket: requests to the kernel with sequence numbers, acknowledgements and
/// errors in words, multipart dumps, and multicast notifications.
///
/// The socket is opened with extended acknowledgements on (`NETLINK_EXT_ACK`: the kernel
/// explains an error, "ipv4: Address already assigned") and capped acknowledgements
/// (`NETLINK_CAP_ACK`: an error echoes only the request's header). Every exchange numbers its
/// request; replies with another sequence number or port (late answers to an earlier request
/// that timed out) are skipped.
///
/// One exchange runs at a time: ``request(operation:timeout:_:)``, ``get(operation:timeout:_:parse:)``,
/// ``dump(operation:timeout:_:parse:)`` and ``receiveNotifications(_:)`` hold the socket's
/// lock while they run, so threads may share a socket; the closures they take run under that
/// lock and must not use the same socket. A socket subscribed to multicast groups should be
/// used for notifications only — requests on it would have to wade through notifications.
///
/// ```swift
/// let socket = try NetlinkSocket(protocol: .route)
/// try socket.request(operation: "adding 192.0.2.100/24 to eth0") { message in
///     RouteNetlinkRequest.newAddress(VirtualAddress(IPAddress("192.0.2.100")!, prefixLength: 24),
///                                    interfaceIndex: 2, into: &message)
/// }
/// ```
///
/// The corresponding C functions are `socket(2)`, `bind(2)`, `sendmsg(2)` and `recvmsg(2)`;
/// see `netlink(7)`.
public final class NetlinkSocket: Sendable {
    /// A netlink protocol (the third argument of `socket(AF_NETLINK, SOCK_RAW, ...)`).
    public struct NetlinkProtocol: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public let rawValue: CInt
        public init(rawValue: CInt) { self.rawValue = rawValue }
        /// `NETLINK_ROUTE` (0): links, addresses, routes, rules, neighbours (`rtnetlink(7)`).
        public static let route = NetlinkProtocol(rawValue: 0)
        /// `NETLINK_GENERIC` (16): generic netlink families such as IPVS.
        public static let generic = NetlinkProtocol(rawValue: 16)

        public var description: String {
            switch rawValue {
            case 0: "NETLINK_ROUTE"
            case 16: "NETLINK_GENERIC"
            default: "netlink protocol \(rawValue)"
            }
        }
    }

    /// The default size of the buffer replies are received into: 64 KiB. The kernel caps one
    /// dump datagram at 32 KiB (however big the reader's buffer), and single notifications
    /// are far smaller, so nothing is cut.
    public static let defaultReceiveBufferSize = 64 * 1024
    /// How long an exchange waits for the kernel by default: 5 seconds.
    public static let defaultTimeout: Duration = .seconds(5)

    /// The socket.
    public let descriptor: SocketDescriptor
    /// The port ID the kernel gave the socket (`nl_pid` from `getsockname(2)`).
    public let portID: UInt32
    /// The protocol the socket speaks.
    public let netlinkProtocol: NetlinkProtocol

    struct State: ~Copyable {
        var sequence: UInt32 = 0
        var builder = NetlinkMessageBuilder()
        var buffer: UnsafeMutableRawBufferPointer
        var closed = false

        init(bufferSize: Int) {
            buffer = .allocate(byteCount: max(bufferSize, 4096), alignment: 8)
        }

        deinit { buffer.deallocate() }

        mutating func nextSequence() -> UInt32 {
            sequence &+= 1
            if sequence == 0 { sequence = 1 }
            return sequence
        }

        /// Replaces the buffer with one of at least `size` bytes (after a datagram did not fit).
        mutating func grow(to size: Int) {
            var capacity = buffer.count
            while capacity < size && capacity < 1 << 24 { capacity *= 2 }
            guard capacity > buffer.count else { return }
            buffer.deallocate()
            buffer = .allocate(byteCount: capacity, alignment: 8)
        }
    }

    let state: Mutex<State>

    /// Opens a netlink socket, bound to a port the kernel chooses.
    ///
    /// - Parameters:
    ///   - netlinkProtocol: the protocol, ``NetlinkProtocol/route`` or ``NetlinkProtocol/generic``.
    ///   - receiveBufferSize: the size of the buffer replies are read into (it grows if a
    ///     datagram ever does not fit).
    ///   - kernelReceiveBufferSize: `SO_RCVBUF` for the kernel's queue of unread messages; set
    ///     it large for a monitor so that bursts of notifications do not overrun it. Set with
    ///     `SO_RCVBUFFORCE` when privileged (beyond `net.core.rmem_max`), else `SO_RCVBUF`.
    ///   - namespace: the path of a network namespace (`/var/run/netns/NAME`) to open the
    ///     socket in; it then talks to that namespace from whichever thread uses it.
    /// - Throws: ``NetLinuxError`` naming what failed.
    public init(protocol netlinkProtocol: NetlinkProtocol, receiveBufferSize: Int = NetlinkSocket.defaultReceiveBufferSize,
                kernelReceiveBufferSize: Int? = nil, inNamespaceAt namespace: String? = nil) throws(NetLinuxError) {
        let what = "opening a \(netlinkProtocol) socket" + (namespace.map { " in network namespace \($0)" } ?? "")
        let open = { @Sendable () throws(Errno) -> SocketDescriptor in
            try SocketDescriptor.open(domain: AF_NETLINK, type: CInt(SOCK_RAW.rawValue), protocol: netlinkProtocol.rawValue)
        }
        let fd: SocketDescriptor
        do {
            if let namespace {
                fd = try NetworkNamespace.perform(inNamespaceAt: namespace) { try open() }
            } else {
                fd = try open()
            }
        } catch let error as NetLinuxError {
            throw error
        } catch let error as Errno {
            throw NetLinuxError(what, error)
        } catch {
            throw NetLinuxError(what, .ioError, detail: "\(error)")
        }
        do throws(Errno) {
            // Optional on old kernels (ENOPROTOOPT): errors then come without explanations.
            try? fd.setOption(level: SOL_NETLINK, name: NETLINK_EXT_ACK, value: CInt(1))
            try? fd.setOption(level: SOL_NETLINK, name: NETLINK_CAP_ACK, value: CInt(1))
            if let size = kernelReceiveBufferSize {
                let value = CInt(clamping: size)
                do throws(Errno) {
                    try fd.setOption(level: SOL_SOCKET, name: SO_RCVBUFFORCE, value: value)
                } catch {
                    try fd.setOption(level: SOL_SOCKET, name: SO_RCVBUF, value: value)
                }
            }
            var address = sockaddr_nl()
            address.nl_family = sa_family_t(AF_NETLINK)
            try withUnsafeBytes(of: &address) { (raw) throws(Errno) in try fd.bind(raw) }
            var bound = sockaddr_nl()
            var length = socklen_t(MemoryLayout<sockaddr_nl>.size)
            let r = withUnsafeMutablePointer(to: &bound) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { SystemCalls.current.getsockname(fd.rawValue, $0, &length) }
            }
            if r < 0 { throw Errno(rawValue: errno) }
            portID = bound.nl_pid
        } catch {
            try? fd.close()
            throw NetLinuxError(what, error)
        }
        descriptor = fd
        self.netlinkProtocol = netlinkProtocol
        state = Mutex(State(bufferSize: receiveBufferSize))
    }

    deinit {
        let open = state.withLock { s -> Bool in
            defer { s.closed = true }
            return !s.closed
        }
        if open { try? descriptor.close() }
    }

    /// Closes the socket. Later calls fail with `EBADF`. Idempotent.
    public func close() {
        let open = state.withLock { s -> Bool in
            defer { s.closed = true }
            return !s.closed
        }
        if open { try? descriptor.close() }
    }

    // MARK: Multicast

    /// Joins a multicast group (`NETLINK_ADD_MEMBERSHIP`): an rtnetlink group such as
    /// ``RouteNetlinkGroup/link``, or a generic netlink family's group id.
    public func subscribe(to group: UInt32) throws(NetLinuxError) {
        do throws(Errno) {
            try descriptor.setOption(level: SOL_NETLINK, name: NETLINK_ADD_MEMBERSHIP, value: CInt(bitPattern: group))
        } catch {
            throw NetLinuxError("subscribing to \(netlinkProtocol) multicast group \(group)", error)
        }
    }

    /// Leaves a multicast group (`NETLINK_DROP_MEMBERSHIP`).
    public func unsubscribe(from group: UInt32) throws(NetLinuxError) {
        do throws(Errno) {
            try descriptor.setOption(level: SOL_NETLINK, name: NETLINK_DROP_MEMBERSHIP, value: CInt(bitPattern: group))
        } catch {
            throw NetLinuxError("unsubscribing from \(netlinkProtocol) multicast group \(group)", error)
        }
    }

    // MARK: Exchanges

    /// What ends an exchange.
    enum Expectation {
        /// An acknowledgement (`NLM_F_ACK` is added); replies before it go to the handler.
        case acknowledgement
        /// The first reply message.
        case reply
        /// `NLMSG_DONE` after a multipart reply.
        case dump
    }

    /// Sends a request that changes something and waits for the kernel's acknowledgement.
    ///
    /// `build` writes one message into the socket's reusable builder (its sequence number,
    /// port ID and flags are filled in: `NLM_F_REQUEST | NLM_F_ACK` are added).
    ///
    /// - Parameters:
    ///   - operation: what is being done, in words, for errors ("adding 192.0.2.100/24 to eth0").
    ///   - timeout: how long to wait for the answer.
    ///   - build: writes the request.
    /// - Throws: ``NetLinuxError`` with the kernel's errno and extended-ack text, or
    ///   `ETIMEDOUT`, or `EBADMSG` for a reply that cannot be parsed.
    public func request(operation: String, timeout: Duration = NetlinkSocket.defaultTimeout,
                        _ build: (inout NetlinkMessageBuilder) -> Void) throws(NetLinuxError) {
        _ = try exchange(operation: operation, expecting: .acknowledgement, timeout: timeout, build: build) { _ in }
    }

    /// Sends a request that changes something with `NLM_F_ACK`, handing any reply messages
    /// that come before the acknowledgement (for example with `NLM_F_ECHO`) to `reply`.
    public func request(operation: String, timeout: Duration = NetlinkSocket.defaultTimeout,
                        _ build: (inout NetlinkMessageBuilder) -> Void,
                        reply: (NetlinkMessage) throws -> Void) throws(NetLinuxError) {
        _ = try exchange(operation: operation, expecting: .acknowledgement, timeout: timeout, build: build, each: reply)
    }

    /// Sends a GET request for one object and parses the single reply.
    ///
    /// - Parameters:
    ///   - parse: turns the reply into a value; runs while the reply's bytes are valid.
    /// - Throws: ``NetLinuxError`` (the kernel's error, a timeout, or a reply `parse` rejected).
    public func get<T>(operation: String, timeout: Duration = NetlinkSocket.defaultTimeout,
                       _ build: (inout NetlinkMessageBuilder) -> Void,
                       parse: (NetlinkMessage) throws -> T) throws(NetLinuxError) -> T {
        var result: T?
        _ = try exchange(operation: operation, expecting: .reply, timeout: timeout, build: build) { result = try parse($0) }
        guard let result else { throw NetLinuxError(operation, .badMessage, detail: "the kernel sent no reply") }
        return result
    }

    /// Sends a dump request (`NLM_F_DUMP` is the builder's to set) and collects the multipart
    /// reply up to `NLMSG_DONE`, keeping what `parse` returns (`nil` skips a message).
    ///
    /// A dump that the kernel marks inconsistent (`NLM_F_DUMP_INTR`: the table changed while
    /// it was read) is repeated, up to 5 times.
    ///
    /// - Throws: ``NetLinuxError`` (the kernel's error, a timeout, a message `parse` rejected,
    ///   or `EINTR` when every attempt was interrupted).
    public func dump<T>(operation: String, timeout: Duration = NetlinkSocket.defaultTimeout,
                        _ build: (inout NetlinkMessageBuilder) -> Void,
                        parse: (NetlinkMessage) throws -> T?) throws(NetLinuxError) -> [T] {
        var results: [T] = []
        for _ in 0..<5 {
            results.removeAll(keepingCapacity: true)
            let interrupted = try exchange(operation: operation, expecting: .dump, timeout: timeout, build: build) {
                if let value = try parse($0) { results.append(value) }
            }
            if !interrupted { return results }
        }
        throw NetLinuxError(operation, .interrupted, detail: "the dump kept changing while it was read (NLM_F_DUMP_INTR)")
    }

    /// Sends what `build` wrote and reads replies until `expecting` is met.
    /// - Returns: whether a dump reply carried `NLM_F_DUMP_INTR`.
    func exchange(operation: String, expecting: Expectation, timeout: Duration,
                  build: (inout NetlinkMessageBuilder) -> Void,
                  each: (NetlinkMessage) throws -> Void) throws(NetLinuxError) -> Bool {
        try state.withLock { (s: inout State) throws(NetLinuxError) -> Bool in
            guard !s.closed else { throw NetLinuxError(operation, .badFileDescriptor, detail: "the netlink socket is closed") }
            s.builder.reset()
            build(&s.builder)
            if s.builder.hasOpenMessage { s.builder.endMessage() }
            guard s.builder.messageCount == 1, let start = s.builder.lastMessageOffset else {
                throw NetLinuxError(operation, .invalidArgument, detail: "\(s.builder.messageCount) messages built, 1 expected")
            }
            let sequence = s.nextSequence()
            s.builder.patchMessage(at: start, sequence: sequence, portID: 0,
                                   addingFlags: expecting == .acknowledgement ? [.request, .acknowledge] : .request)
            do throws(Errno) {
                try send(s.builder)
            } catch {
                throw NetLinuxError(operation, error)
            }
            return try awaitReplies(&s, sequence: sequence, operation: operation, expecting: expecting, timeout: timeout, each: each)
        }
    }

    private func awaitReplies(_ s: inout State, sequence: UInt32, operation: String, expecting: Expectation,
                              timeout: Duration, each: (NetlinkMessage) throws -> Void) throws(NetLinuxError) -> Bool {
        let clock = SuspendingClock()
        let deadline = clock.now.advanced(by: timeout)
        var interrupted = false
        while true {
            // Checked here too, so that a stream of unrelated messages cannot hold us forever.
            if clock.now >= deadline {
                throw NetLinuxError(operation, .timedOut, detail: "no answer from the kernel within \(timeout)")
            }
            var received: Datagram?
            do throws(Errno) {
                received = try receiveDatagram(&s)
            } catch {
                // ENOBUFS here means the socket's queue overflowed and the answer may be lost.
                throw NetLinuxError(operation, error)
            }
            guard let datagram = received else {
                let left = clock.now.duration(to: deadline)
                var ready = false
                if left > .zero {
                    do throws(Errno) {
                        ready = try descriptor.waitReadable(timeout: Self.roundedUp(left))
                    } catch {
                        throw NetLinuxError(operation, error)
                    }
                }
                if !ready { throw NetLinuxError(operation, .timedOut, detail: "no answer from the kernel within \(timeout)") }
                continue
            }
            if datagram.truncated {
                s.grow(to: datagram.length)
                throw NetLinuxError(operation, .messageTooLong,
                                    detail: "a reply of \(datagram.length) bytes did not fit the receive buffer")
            }
            guard datagram.fromKernel else { continue }
            var reader = NetlinkMessageReader(UnsafeRawBufferPointer(rebasing: s.buffer[..<datagram.length]))
            do {
                while let message = try reader.next() {
                    guard message.header.sequence == sequence, message.header.portID == portID else { continue }
                    switch message.header.type {
                    case .noop:
                        continue
                    case .error:
                        let reply = try message.errorReply()
                        if let code = reply.errno {
                            throw NetLinuxError(operation, Errno(rawValue: code), detail: reply.message)
                        }
                        return interrupted
                    case .done:
                        guard expecting == .dump else { continue }
                        let status = try message.doneStatus()
                        if let code = status.errno {
                            throw NetLinuxError(operation, Errno(rawValue: code), detail: status.message)
                        }
                        return interrupted || message.header.flags.contains(.dumpInterrupted)
                    case .overrun:
                        throw NetLinuxError(operation, .noBufferSpace, detail: "the kernel reported NLMSG_OVERRUN")
                    default:
                        if message.header.flags.contains(.dumpInterrupted) { interrupted = true }
                        try each(message)
                        if expecting == .reply { return false }
                    }
                }
            } catch let error as NetLinuxError {
                throw error
            } catch let error as NetlinkParseError {
                throw NetLinuxError(operation, .badMessage, detail: "malformed reply: \(error)")
            } catch {
                throw NetLinuxError(operation, .badMessage, detail: "\(error)")
            }
        }
    }

    // MARK: Notifications

    /// What one read of a notification socket gave.
    public enum ReceiveResult: Sendable, Hashable {
        /// A datagram of `messages` messages, each handed to the callback.
        case received(messages: Int)
        /// Nothing was queued (or the wait timed out).
        case nothingQueued
        /// The kernel dropped notifications because the socket's queue was full (`ENOBUFS`),
        /// or one did not fit the receive buffer: what the reader knows may be stale —
        /// resynchronise (dump the tables again).
        case overrun
        /// A datagram that could not be parsed; the messages before the fault were delivered.
        case malformed(NetlinkParseError)
    }

    /// Reads one queued datagram of notifications without waiting and hands each message to
    /// `body`. Only messages from the kernel are read (`nl_pid` 0); the sequence number is not
    /// checked (notifications carry the originator's).
    ///
    /// - Throws: ``NetLinuxError`` for a failure other than `EAGAIN` and `ENOBUFS`.
    public func receiveNotifications(_ body: (NetlinkMessage) -> Void) throws(NetLinuxError) -> ReceiveResult {
        try state.withLock { (s: inout State) throws(NetLinuxError) -> ReceiveResult in
            guard !s.closed else { throw NetLinuxError("receiving netlink notifications", .badFileDescriptor) }
            let datagram: Datagram
            do throws(Errno) {
                guard let d = try receiveDatagram(&s) else { return .nothingQueued }
                datagram = d
            } catch {
                if error == .noBufferSpace { return .overrun }
                throw NetLinuxError("receiving netlink notifications", error)
            }
            if datagram.truncated {
                s.grow(to: datagram.length)
                return .overrun
            }
            guard datagram.fromKernel else { return .received(messages: 0) }
            var reader = NetlinkMessageReader(UnsafeRawBufferPointer(rebasing: s.buffer[..<datagram.length]))
            var count = 0
            do throws(NetlinkParseError) {
                while let message = try reader.next() {
                    if message.header.type == .overrun {
                        return .overrun
                    }
                    count += 1
                    body(message)
                }
            } catch {
                return .malformed(error)
            }
            return .received(messages: count)
        }
    }

    /// Waits up to `timeout` (`nil`: forever) for a datagram, then reads it as
    /// ``receiveNotifications(_:)`` does.
    public func receiveNotifications(timeout: Duration?, _ body: (NetlinkMessage) -> Void) throws(NetLinuxError) -> ReceiveResult {
        let result = try receiveNotifications(body)
        guard result == .nothingQueued else { return result }
        do throws(Errno) {
            guard try descriptor.waitReadable(timeout: timeout.map(Self.roundedUp)) else { return .nothingQueued }
        } catch {
            throw NetLinuxError("waiting for netlink notifications", error)
        }
        return try receiveNotifications(body)
    }

    // MARK: I/O

    struct Datagram {
        /// The datagram's real length (more than the buffer when truncated).
        var length: Int
        var truncated: Bool
        var fromKernel: Bool
    }

    private func send(_ builder: borrowing NetlinkMessageBuilder) throws(Errno) {
        var kernel = sockaddr_nl()
        kernel.nl_family = sa_family_t(AF_NETLINK)
        let outcome = builder.withUnsafeBytes { (bytes) -> Result<Int, Errno> in
            var iov = iovec(iov_base: UnsafeMutableRawPointer(mutating: bytes.baseAddress), iov_len: bytes.count)
            return withUnsafeMutablePointer(to: &kernel) { address in
                withUnsafeMutablePointer(to: &iov) { vector in
                    var message = msghdr()
                    message.msg_name = UnsafeMutableRawPointer(address)
                    message.msg_namelen = socklen_t(MemoryLayout<sockaddr_nl>.size)
                    message.msg_iov = vector
                    message.msg_iovlen = 1
                    return Result { () throws(Errno) -> Int in try descriptor.send(message: &message) }
                }
            }
        }
        let sent = try outcome.get()
        if sent != builder.bytes.count { throw .messageTooLong }
    }

    /// Reads one datagram into the state's buffer; `nil` when nothing is queued.
    private func receiveDatagram(_ s: inout State) throws(Errno) -> Datagram? {
        var sender = sockaddr_nl()
        var iov = iovec(iov_base: s.buffer.baseAddress, iov_len: s.buffer.count)
        var flags: CInt = 0
        let length: Int
        do throws(Errno) {
            length = try withUnsafeMutablePointer(to: &sender) { (address) throws(Errno) -> Int in
                try withUnsafeMutablePointer(to: &iov) { (vector) throws(Errno) -> Int in
                    var message = msghdr()
                    message.msg_name = UnsafeMutableRawPointer(address)
                    message.msg_namelen = socklen_t(MemoryLayout<sockaddr_nl>.size)
                    message.msg_iov = vector
                    message.msg_iovlen = 1
                    // MSG_TRUNC: return the datagram's real length even when it did not fit.
                    let n = try descriptor.receive(message: &message, flags: CInt(MSG_TRUNC))
                    flags = message.msg_flags
                    return n
                }
            }
        } catch {
            if error == .wouldBlock { return nil }
            throw error
        }
        let truncated = length > s.buffer.count || flags & CInt(MSG_TRUNC) != 0
        return Datagram(length: length, truncated: truncated, fromKernel: sender.nl_pid == 0)
    }

    /// A duration rounded up to whole milliseconds (poll's unit), so that a wait never ends early.
    static func roundedUp(_ d: Duration) -> Duration {
        let ms = d / .milliseconds(1)
        return .milliseconds(Int64(ms.rounded(.up)))
    }
}

