import FoundationEssentials
import SystemPackage
import Glibc
import NIOCore
import NIOPosix
import VRRPCore

/// Errors of the control socket, server and client side. Each names the socket path.
enum ControlSocketError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The client could not reach a daemon.
    case noDaemon(path: String, reason: String)
    /// The server found another live daemon on its socket.
    case alreadyServed(path: String)
    /// Something other than a socket is in the way.
    case notASocket(path: String)
    /// The server could not set its socket up.
    case setup(path: String, reason: String)
    /// The daemon accepted the connection but did not answer in time.
    case timeout(path: String, seconds: Double)
    /// The answer was cut off or larger than ``ControlClient/maximumReply``.
    case badReply(path: String, reason: String)

    var description: String {
        switch self {
        case .noDaemon(let p, let r): "no kad daemon answers on \(p): \(r)"
        case .alreadyServed(let p):
            "another kad daemon already answers on \(p); stop it first, or give this one another --control-socket"
        case .notASocket(let p): "\(p) exists and is not a socket; refusing to replace it"
        case .setup(let p, let r): "cannot set up the control socket \(p): \(r)"
        case .timeout(let p, let s): "the kad daemon on \(p) did not answer within \(s) s"
        case .badReply(let p, let r): "bad answer from the kad daemon on \(p): \(r)"
        }
    }
}

/// The control socket's line protocol and its default location.
///
/// A client connects to the Unix stream socket, writes one command line (`status`,
/// `status json`, `data`, `stats`, `ping`), and reads the answer until the daemon closes
/// the connection. An answer that starts with `error:` reports a bad command. The socket is
/// mode 0600: only root (the daemon's user) may talk to it.
enum ControlSocket {
    /// `/run/kad/kad.sock`.
    static let defaultPath = "/run/kad/kad.sock"
    /// The longest command line the server reads.
    static let maximumCommand = 4096
    /// How long a connection may stay open on the server (reading the command and answering).
    static let connectionLifetime = TimeAmount.seconds(10)

    /// What lies at a socket path.
    enum Probe: Sendable, Hashable {
        case absent
        case notASocket
        /// A socket file nobody listens on (a daemon that died without removing it).
        case stale
        /// Something accepts connections.
        case live
        case error(String)
    }

    /// Calls `body` with `path` as a `sockaddr_un`; `nil` when the path does not fit.
    static func withAddress<R>(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R? {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard !bytes.isEmpty, bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return nil }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }

    /// Looks at `path` and, when it is a socket, tries to connect (for at most a second).
    static func probe(_ path: String) -> Probe {
        var st = stat()
        if lstat(path, &st) != 0 {
            return errno == ENOENT ? .absent : .error(String(cString: strerror(errno)))
        }
        guard st.st_mode & S_IFMT == S_IFSOCK else { return .notASocket }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .error(String(cString: strerror(errno))) }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard let result = withAddress(path, { connect(fd, $0, $1) }) else { return .error("path too long") }
        if result == 0 { return .live }
        switch errno {
        case ECONNREFUSED: return .stale
        case ENOENT: return .absent
        case EAGAIN, EINPROGRESS: return .live  // a full backlog: someone listens
        default: return .error(String(cString: strerror(errno)))
        }
    }

    /// A Unix stream socket bound to `path` and listening, mode 0600 from the start: Linux
    /// creates the socket file with the mode of the socket's inode, which `fchmod` sets
    /// before `bind`.
    static func bindSocket(_ path: String) throws(ControlSocketError) -> CInt {
        func fail(_ what: String) -> ControlSocketError {
            .setup(path: path, reason: "\(what): \(String(cString: strerror(errno)))")
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw fail("socket") }
        guard fchmod(fd, 0o600) == 0 else {
            let e = fail("fchmod")
            close(fd)
            throw e
        }
        guard let result = withAddress(path, { bind(fd, $0, $1) }) else {
            close(fd)
            throw .setup(path: path, reason: "the path is longer than a Unix socket path may be")
        }
        guard result == 0 else {
            let e = fail("bind")
            close(fd)
            throw e
        }
        // Listen at once, so that a probe never mistakes the fresh socket for a stale one.
        guard chmod(path, 0o600) == 0, listen(fd, 16) == 0 else {
            let e = fail("chmod 0600 / listen")
            close(fd)
            unlink(path)
            throw e
        }
        return fd
    }

    /// Answers the control commands from the runner's snapshots.
    ///
    /// `ping` → `pong`; `status` → ``StatusReport/text()``; `status json` →
    /// ``StatusReport/json()``; `data` → the SIGUSR1 dump; `stats` → the SIGUSR2 statistics;
    /// `help` → the list. Anything else gets an `error:` line.
    /// - Parameters:
    ///   - daemon: the process the status describes.
    ///   - snapshot: usually `{ await runner.snapshot() }`.
    static func handler(daemon: DaemonInfo,
                        snapshot: @escaping @Sendable () async -> VRRPRunnerSnapshot,
                        virtualServers: @escaping @Sendable () async -> [StatusReport.VirtualServer]? = { nil })
        -> @Sendable (String) async -> String {
        { line in
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map { $0.lowercased() }
            switch words {
            case ["ping"]:
                return "pong\n"
            case ["help"]:
                return "commands: ping, status, status json, data, stats, help\n"
            case ["status"]:
                var report = StatusReport(await snapshot(), daemon: daemon)
                report.virtualServers = await virtualServers()
                return report.text()
            case ["status", "json"]:
                do {
                    var report = StatusReport(await snapshot(), daemon: daemon)
                    report.virtualServers = await virtualServers()
                    return try report.json()
                } catch {
                    return "error: cannot encode the status: \(error)\n"
                }
            case ["data"]:
                return Dumps.data(await snapshot(), daemon: daemon)
            case ["stats"]:
                return Dumps.stats(await snapshot())
            default:
                return "error: unknown command '\(line)'; commands: ping, status, status json, data, stats, help\n"
            }
        }
    }
}

/// The daemon's control socket: a Unix stream socket that answers one command per connection.
///
/// At start it creates the socket's directory if missing, refuses to start when another live
/// daemon answers on the path (or when the path is not a socket), replaces a stale socket
/// file, and sets the socket to mode 0600. ``stop()`` closes it and removes the file (unless
/// another daemon has put its own live socket there since).
///
/// ```swift
/// let control = try await ControlServer.start(
///     path: ControlSocket.defaultPath,
///     handler: ControlSocket.handler(daemon: info) { await runner.snapshot() })
/// ...
/// await control.stop()
/// ```
final class ControlServer: Sendable {
    typealias Handler = @Sendable (String) async -> String

    /// The socket's path.
    let path: String
    let channel: any Channel
    let serving: Task<Void, Never>
    /// The socket file's device and inode, so that ``stop()`` removes only its own file (not the
    /// socket of a daemon started after someone removed ours).
    let identity: (dev: UInt64, ino: UInt64)?

    init(path: String, channel: any Channel, serving: Task<Void, Never>, identity: (dev: UInt64, ino: UInt64)?) {
        self.path = path
        self.channel = channel
        self.serving = serving
        self.identity = identity
    }

    /// Starts answering on `path`.
    /// - Throws: ``ControlSocketError`` when another daemon answers there, the path is not a
    ///   socket, or the socket cannot be created.
    static func start(path: String = ControlSocket.defaultPath, handler: @escaping Handler,
                      group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> ControlServer {
        let directory = FilePath(path).removingLastComponent().string
        if !directory.isEmpty && !FileManager.default.fileExists(atPath: directory) {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o755])
            } catch {
                throw ControlSocketError.setup(path: path, reason: "cannot create \(directory): \(error)")
            }
        }
        switch ControlSocket.probe(path) {
        case .absent: break
        case .live: throw ControlSocketError.alreadyServed(path: path)
        case .notASocket: throw ControlSocketError.notASocket(path: path)
        case .stale:
            guard unlink(path) == 0 || errno == ENOENT else {
                throw ControlSocketError.setup(path: path, reason: "cannot remove the stale socket: \(String(cString: strerror(errno)))")
            }
        case .error(let reason): throw ControlSocketError.setup(path: path, reason: reason)
        }
        // Bound here rather than by NIO: NIO removes a Unix socket's path when it closes a
        // socket it bound itself, even if another daemon's socket has replaced ours by then.
        let fd = try ControlSocket.bindSocket(path)
        var st = stat()
        let identity = lstat(path, &st) == 0 ? (dev: UInt64(st.st_dev), ino: UInt64(st.st_ino)) : nil
        let server: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>
        do {
            server = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 16)
                .childChannelOption(.allowRemoteHalfClosure, value: true)
                .bind(fd) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        // Every connection lives at most `connectionLifetime`.
                        channel.eventLoop.scheduleTask(in: ControlSocket.connectionLifetime) { channel.close(promise: nil) }
                        return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            unlink(path)
            throw ControlSocketError.setup(path: path, reason: "\(error)")
        }
        let serving = Task<Void, Never> {
            _ = try? await server.executeThenClose { connections in
                try await withThrowingDiscardingTaskGroup { group in
                    for try await connection in connections {
                        group.addTask { await serve(connection, handler: handler) }
                    }
                }
            }
        }
        return ControlServer(path: path, channel: server.channel, serving: serving, identity: identity)
    }

    /// Stops answering, closes open connections and removes the socket file.
    func stop() async {
        try? await channel.close()
        serving.cancel()
        await serving.value
        // Remove the file only if it is still ours: same inode, and (as inode numbers are
        // reused) nobody answers on it now that our side is closed.
        var st = stat()
        if let identity, lstat(path, &st) == 0, UInt64(st.st_dev) == identity.dev, UInt64(st.st_ino) == identity.ino,
           ControlSocket.probe(path) != .live {
            unlink(path)
        }
    }

    /// Reads one command line (up to a newline or the client's end of input), answers, closes.
    static func serve(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>, handler: Handler) async {
        try? await connection.executeThenClose { inbound, outbound in
            var command = ByteBuffer()
            var complete = false
            for try await var chunk in inbound {
                command.writeBuffer(&chunk)
                if command.readableBytesView.contains(UInt8(ascii: "\n")) {
                    complete = true
                    break
                }
                if command.readableBytes > ControlSocket.maximumCommand { break }
            }
            let text = String(buffer: command)
            let line = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            let reply: String
            if !complete && command.readableBytes > ControlSocket.maximumCommand {
                reply = "error: command longer than \(ControlSocket.maximumCommand) bytes\n"
            } else {
                reply = await handler(line.trimmed)
            }
            try await outbound.write(ByteBuffer(string: reply))
        }
    }
}

/// The client side of the control socket, used by `kad status`.
enum ControlClient {
    /// The largest answer accepted.
    static let maximumReply = 64 << 20

    /// Sends `command` and returns the whole answer.
    /// - Parameter timeout: for connecting and for the whole answer.
    /// - Throws: ``ControlSocketError``: ``ControlSocketError/noDaemon(path:reason:)`` when
    ///   nothing listens, ``ControlSocketError/timeout(path:seconds:)`` when the daemon is silent.
    static func request(_ command: String, path: String = ControlSocket.defaultPath,
                        timeout: TimeAmount = .seconds(5)) async throws -> String {
        try await requestFuture(command, path: path, timeout: timeout).get()
    }

    /// ``request(_:path:timeout:)`` for synchronous callers (never call it on an event loop).
    static func requestSynchronously(_ command: String, path: String = ControlSocket.defaultPath,
                                     timeout: TimeAmount = .seconds(5)) throws -> String {
        try requestFuture(command, path: path, timeout: timeout).wait()
    }

    /// The future of the answer to `command`.
    static func requestFuture(_ command: String, path: String, timeout: TimeAmount,
                              group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) -> EventLoopFuture<String> {
        let loop = group.next()
        let promise = loop.makePromise(of: String.self)
        let seconds = Double(timeout.nanoseconds) / 1e9
        guard Array(path.utf8).count < 108 else {
            promise.fail(ControlSocketError.noDaemon(path: path, reason: "the path is longer than a Unix socket path may be"))
            return promise.futureResult
        }
        let timer = loop.scheduleTask(in: timeout) {
            promise.fail(ControlSocketError.timeout(path: path, seconds: seconds))
        }
        promise.futureResult.whenComplete { _ in timer.cancel() }
        ClientBootstrap(group: loop)
            .connectTimeout(timeout)
            .channelOption(.allowRemoteHalfClosure, value: false)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ReplyCollector(path: path, promise: promise))
                }
            }
            .connect(unixDomainSocketPath: path)
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
                    channel.writeAndFlush(ByteBuffer(string: command + "\n"), promise: nil)
                case .failure(let error):
                    promise.fail(ControlSocketError.noDaemon(path: path, reason: describe(error)))
                }
            }
        return promise.futureResult
    }

    /// A connection error in words.
    static func describe(_ error: any Error) -> String {
        if let io = error as? IOError {
            switch io.errnoCode {
            case ENOENT: return "no such socket (is kad running?)"
            case ECONNREFUSED: return "connection refused (a stale socket file: the daemon is gone)"
            case EACCES, EPERM: return "permission denied (the control socket is for root)"
            case ENOTSOCK: return "not a socket"
            default: return String(cString: strerror(io.errnoCode))
            }
        }
        if let channel = error as? ChannelError, case .connectTimeout = channel { return "connection timed out" }
        return "\(error)"
    }

    /// Collects the answer until the daemon closes the connection.
    final class ReplyCollector: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let path: String
        let promise: EventLoopPromise<String>
        var reply = ByteBuffer()

        init(path: String, promise: EventLoopPromise<String>) {
            self.path = path
            self.promise = promise
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var chunk = unwrapInboundIn(data)
            reply.writeBuffer(&chunk)
            if reply.readableBytes > ControlClient.maximumReply {
                promise.fail(ControlSocketError.badReply(path: path, reason: "larger than \(ControlClient.maximumReply) bytes"))
                context.close(promise: nil)
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            if reply.readableBytes == 0 {
                // Every command has an answer: an empty one means the daemon dropped the connection.
                promise.fail(ControlSocketError.badReply(path: path, reason: "the connection closed without an answer"))
            } else {
                promise.succeed(String(buffer: reply))
            }
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            promise.fail(ControlSocketError.badReply(path: path, reason: "\(error)"))
            context.close(promise: nil)
        }
    }
}
