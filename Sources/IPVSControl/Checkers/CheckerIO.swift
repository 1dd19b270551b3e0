#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import VRRPCore

/// A failure with a reason already worded for the log.
struct CheckFailure: Error, CustomStringConvertible {
    var reason: String
    init(_ reason: String) { self.reason = reason }
    var description: String { reason }
}

/// The event loops checkers use: NIO's process-wide group, never the VRRP loop's thread.
public enum CheckerEventLoops {
    /// `MultiThreadedEventLoopGroup.singleton`.
    public static var shared: any EventLoopGroup { MultiThreadedEventLoopGroup.singleton }
}

enum CheckerIO {
    /// Runs `body`, and gives up after `timeout`: the body's task is cancelled and the result is
    /// "timed out after N s". Thrown errors become failures with ``reason(for:)``.
    static func withTimeout(_ timeout: Duration, onTimeout: CheckResult? = nil,
                            _ body: @escaping @Sendable () async throws -> CheckResult) async -> CheckResult {
        await withTaskGroup(of: CheckResult?.self) { group in
            group.addTask {
                do { return try await body() } catch { return .failure(reason: reason(for: error)) }
            }
            group.addTask {
                do { try await Task.sleep(for: timeout) } catch { return nil }
                return onTimeout ?? .failure(reason: "timed out after \(timeout.checkerText)")
            }
            var result: CheckResult = .failure(reason: "cancelled")
            while let next = await group.next() {
                if let next {
                    result = next
                    break
                }
            }
            group.cancelAll()
            return result
        }
    }

    /// The socket address of `address`:`port`, built from the address's bytes (no text round
    /// trip: this runs for every attempt).
    static func socketAddress(_ address: IPAddress, _ port: UInt16) -> SocketAddress {
        switch address.family {
        case .ipv4:
            var sa = sockaddr_in()
            sa.sin_family = sa_family_t(AF_INET)
            sa.sin_port = port.bigEndian
            sa.sin_addr.s_addr = address.ipv4Value.bigEndian
            return SocketAddress(sa, host: "")
        case .ipv6:
            var sa = sockaddr_in6()
            sa.sin6_family = sa_family_t(AF_INET6)
            sa.sin6_port = port.bigEndian
            address.withBytes { src in
                withUnsafeMutableBytes(of: &sa.sin6_addr) { $0.copyMemory(from: src) }
            }
            return SocketAddress(sa, host: "")
        }
    }

    /// The local address to bind to for `bindto` / `bind_port`, if either is set.
    static func localAddress(_ c: CheckerConnection) throws -> SocketAddress? {
        guard c.bindAddress != nil || c.bindPort != nil else { return nil }
        let any: IPAddress = c.address.family == .ipv4 ? IPAddress(ipv4: 0) : IPAddress(ipv6High: 0, low: 0)
        return socketAddress(c.bindAddress ?? any, c.bindPort ?? 0)
    }

    /// Opens a connected UDP socket to `c` (so ICMP errors come back as read errors).
    static func connectUDP(_ c: CheckerConnection, group: any EventLoopGroup,
                           protocolSubtype: NIOBSDSocket.ProtocolSubtype = .default)
        async throws -> NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>> {
        let remote = socketAddress(c.address, c.port)
        var bootstrap = DatagramBootstrap(group: group).protocolSubtype(protocolSubtype)
        if let mark = c.fwmark {
            bootstrap = bootstrap.channelOption(.socketOption(.init(rawValue: SO_MARK)), value: SocketOptionValue(Int32(bitPattern: mark)))
        }
        let initializer: @Sendable (Channel) -> EventLoopFuture<NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>> = { channel in
            channel.eventLoop.makeCompletedFuture {
                try NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>(wrappingChannelSynchronously: channel)
            }
        }
        if let local = try localAddress(c) {
            // Bind first, then connect the bound socket.
            let channel = try await bootstrap.bind(to: local, channelInitializer: initializer)
            try await channel.channel.connect(to: remote).get()
            return channel
        }
        return try await bootstrap.connect(to: remote, channelInitializer: initializer)
    }

    /// A TCP client bootstrap for `c` on `loop`: connect bounded by `timeout`, `fwmark`
    /// (SO_MARK) and `bindto`/`bind_port` applied (with SO_REUSEADDR, so a `bind_port` can be
    /// used again at once; without a bind it would only cost a system call per attempt).
    static func tcpBootstrap(_ c: CheckerConnection, timeout: Duration, on loop: any EventLoopGroup) throws -> ClientBootstrap {
        var bootstrap = ClientBootstrap(group: loop).connectTimeout(TimeAmount(max(timeout, .nanoseconds(1))))
        if let mark = c.fwmark {
            bootstrap = bootstrap.channelOption(.socketOption(.init(rawValue: SO_MARK)), value: SocketOptionValue(Int32(bitPattern: mark)))
        }
        if let local = try localAddress(c) {
            bootstrap = bootstrap.channelOption(.socketOption(.so_reuseaddr), value: 1).bind(to: local)
        }
        return bootstrap
    }

    /// Opens a TCP connection to `c` on `loop`, with `setup` adding the channel's handlers
    /// before it connects. A plain future, with no task or async wrapper around the channel: the
    /// cheap path the checkers that run most (TCP_CHECK, HTTP_GET) take.
    static func connect(_ c: CheckerConnection, timeout: Duration, on loop: any EventLoop,
                        setup: @escaping @Sendable (Channel) throws -> Void = { _ in }) -> EventLoopFuture<Channel> {
        do {
            return try tcpBootstrap(c, timeout: timeout, on: loop)
                .channelInitializer { channel in channel.eventLoop.makeCompletedFuture { try setup(channel) } }
                .connect(to: socketAddress(c.address, c.port))
        } catch {
            return loop.makeFailedFuture(error)
        }
    }

    /// Opens a TCP connection to `c` and wraps it for async use; `setup` adds handlers first.
    /// The connect itself is bounded by `timeout` too.
    static func connectTCP<Inbound: Sendable, Outbound: Sendable>(
        _ c: CheckerConnection, timeout: Duration, group: any EventLoopGroup,
        inbound: Inbound.Type = Inbound.self, outbound: Outbound.Type = ByteBuffer.self,
        setup: @escaping @Sendable (Channel) throws -> Void = { _ in }
    ) async throws -> NIOAsyncChannel<Inbound, Outbound> {
        let remote = socketAddress(c.address, c.port)
        return try await tcpBootstrap(c, timeout: timeout, on: group).connect(to: remote) { channel in
            channel.eventLoop.makeCompletedFuture {
                try setup(channel)
                return try NIOAsyncChannel<Inbound, Outbound>(wrappingChannelSynchronously: channel)
            }
        }
    }

    /// A log-friendly reason for an error thrown by NIO, NIOSSL or a checker.
    static func reason(for error: any Error) -> String {
        switch error {
        case let e as CheckFailure:
            return e.reason
        case let e as IOError:
            return errnoReason(e.errnoCode, during: e.description)
        case let e as ChannelError:
            switch e {
            case .connectTimeout(let t): return "connect timed out after \(Duration.nanoseconds(t.nanoseconds).checkerText)"
            case .eof, .ioOnClosedChannel, .alreadyClosed, .outputClosed, .inputClosed:
                return "connection closed by the server"
            default: return "channel error: \(e)"
            }
        case let e as NIOSSLError:
            if case .uncleanShutdown = e { return "TLS connection closed without close_notify" }
            return "TLS error: \(e)"
        case let e as BoringSSLError:
            return "TLS handshake failed: \(e)"
        case let e as HTTPParserError:
            if case .invalidEOFState = e { return "connection closed before the response ended" }
            return "invalid HTTP response (\(e))"
        case is CancellationError:
            return "cancelled"
        default:
            return "\(error)"
        }
    }

    /// "connection refused" and the like for an errno.
    static func errnoReason(_ code: Int32, during what: String = "") -> String {
        switch code {
        case ECONNREFUSED: return "connection refused"
        case ECONNRESET: return "connection reset by peer"
        case EHOSTUNREACH: return "host unreachable"
        case ENETUNREACH: return "network unreachable"
        case ETIMEDOUT: return "timed out"
        case EPIPE: return "connection closed by the server (broken pipe)"
        case EADDRINUSE: return "source address in use"
        case EADDRNOTAVAIL: return "source address not available"
        case EACCES, EPERM: return "not permitted (\(String(cString: strerror(code))))"
        default:
            let text = String(cString: strerror(code)).lowercased()
            return what.isEmpty ? text : "\(text) (\(what))"
        }
    }

    /// At most `limit` characters of `bytes` as printable text, for quoting garbage in a reason.
    static func quoted(_ bytes: some Sequence<UInt8>, limit: Int = 40) -> String {
        var s = ""
        var n = 0
        for b in bytes {
            if n == limit { s += "…"; break }
            switch b {
            case 0x20..<0x7F: s.append(Character(UnicodeScalar(b)))
            case 0x0D: s += "\\r"
            case 0x0A: s += "\\n"
            default: s += "\\x" + String(b, radix: 16, uppercase: false).leftPadded(2)
            }
            n += 1
        }
        return "\"\(s)\""
    }
}

extension String {
    func leftPadded(_ width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}

/// Passes everything on, but swallows NIOSSL's "unclean shutdown" (a TCP close without a TLS
/// close_notify), which many servers do and keepalived tolerates: the close itself still arrives.
final class TolerateUncleanTLSShutdown: ChannelInboundHandler, Sendable {
    typealias InboundIn = NIOAny
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let e = error as? NIOSSLError, case .uncleanShutdown = e { return }
        context.fireErrorCaught(error)
    }
}
