import Foundation
import IntegrationSupport
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization
import VRRPCore
@testable import IPVSControl

// Loopback servers for the checker tests: a scripted TCP server (optionally TLS) and a scripted
// UDP responder. Each binds port 0 on 127.0.0.1 or ::1 and is closed by `stop()`.

/// What a scripted TCP server does once it has read some bytes.
enum ServerAction: Sendable {
    /// Send these bytes, then close (or keep the connection open).
    case send([UInt8], close: Bool)
    /// Send the pieces one by one, `gap` apart, then close.
    case trickle([[UInt8]], gap: Duration)
    /// Never answer.
    case hang

    static func send(_ text: String, close: Bool = true) -> ServerAction { .send(Array(text.utf8), close: close) }
}

final class ScriptedTCPServer: @unchecked Sendable {
    let channel: Channel
    let port: UInt16
    let requests = RequestLog()

    /// - Parameters:
    ///   - greeting: sent as soon as a client connects (SMTP banner).
    ///   - respond: called with everything read since the last action; nil = read more.
    init(host: String = "127.0.0.1", tls: NIOSSLContext? = nil, greeting: String? = nil,
         respond: @escaping @Sendable (String) -> ServerAction?) async throws {
        let requests = self.requests
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    if let tls { try child.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    try child.pipeline.syncOperations.addHandler(ScriptedHandler(greeting: greeting, respond: respond, requests: requests))
                }
            }
            .bind(host: host, port: 0).get()
        port = UInt16(channel.localAddress!.port!)
    }

    func stop() async { try? await channel.close() }
}

private final class ScriptedHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let greeting: String?
    let respond: @Sendable (String) -> ServerAction?
    let requests: RequestLog
    var pending = ""

    init(greeting: String?, respond: @escaping @Sendable (String) -> ServerAction?, requests: RequestLog) {
        self.greeting = greeting
        self.respond = respond
        self.requests = requests
    }

    func channelActive(context: ChannelHandlerContext) {
        if let greeting { context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: greeting)), promise: nil) }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        pending += buffer.readString(length: buffer.readableBytes) ?? ""
        guard let action = respond(pending) else { return }
        requests.withLock { $0.append(pending) }
        pending = ""
        perform(action, context: context)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }

    private func perform(_ action: ServerAction, context: ChannelHandlerContext) {
        switch action {
        case .send(let bytes, let close):
            let done = context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: bytes)))
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            if close { done.whenComplete { _ in bound.value.close(promise: nil) } }
        case .trickle(let pieces, let gap):
            let loop = context.eventLoop
            let box = NIOLoopBound(context, eventLoop: loop)
            for (i, piece) in pieces.enumerated() {
                loop.scheduleTask(in: .nanoseconds(Int64(i) * gap.nanos)) {
                    box.value.writeAndFlush(NIOAny(ByteBuffer(bytes: piece)), promise: nil)
                    if i == pieces.count - 1 { box.value.close(promise: nil) }
                }
            }
        case .hang:
            break
        }
    }
}

/// What a scripted server has received, one entry per action.
final class RequestLog: Sendable {
    private let items = Mutex<[String]>([])
    func withLock<R: Sendable>(_ body: (inout [String]) -> R) -> R { items.withLock { body(&$0) } }
}

extension Duration {
    var nanos: Int64 { components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000 }
}

/// Accepts connections, reads once, and resets each (SO_LINGER 0, then close): a plain thread,
/// since NIO has no SO_LINGER option.
final class ResetServer: @unchecked Sendable {
    let fd: Int32
    let port: UInt16

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        listen(fd, 8)
        port = UInt16(bigEndian: addr.sin_port)
        let listener = fd
        Thread.detachNewThread {
            while true {
                let c = accept(listener, nil, nil)
                if c < 0 { return }
                var buffer = [UInt8](repeating: 0, count: 4096)
                _ = recv(c, &buffer, buffer.count, 0)
                var l = linger(l_onoff: 1, l_linger: 0)
                setsockopt(c, SOL_SOCKET, SO_LINGER, &l, socklen_t(MemoryLayout<linger>.size))
                close(c)
            }
        }
    }

    func stop() {
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }
}

/// Replies to each datagram with what `respond` returns (nil: no reply).
final class ScriptedUDPServer: @unchecked Sendable {
    let channel: Channel
    let port: UInt16

    init(host: String = "127.0.0.1", respond: @escaping @Sendable ([UInt8]) -> [UInt8]?) async throws {
        channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { ch in
                ch.eventLoop.makeCompletedFuture { try ch.pipeline.syncOperations.addHandler(UDPResponder(respond: respond)) }
            }
            .bind(host: host, port: 0).get()
        port = UInt16(channel.localAddress!.port!)
    }

    func stop() async { try? await channel.close() }
}

private final class UDPResponder: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>
    let respond: @Sendable ([UInt8]) -> [UInt8]?
    init(respond: @escaping @Sendable ([UInt8]) -> [UInt8]?) { self.respond = respond }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard let reply = respond(Array(envelope.data.readableBytesView)) else { return }
        context.writeAndFlush(wrapOutboundOut(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: ByteBuffer(bytes: reply))), promise: nil)
    }
}

/// A loopback port with nothing listening (bound, then closed), for "connection refused".
func closedPort(udp: Bool = false) throws -> UInt16 {
    let fd = socket(AF_INET, udp ? Int32(SOCK_DGRAM.rawValue) : Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
    return UInt16(bigEndian: addr.sin_port)
}

/// A self-signed certificate and key made by openssl for this test run (nil without openssl).
func selfSignedTLSContext() throws -> NIOSSLContext? {
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") else { return nil }
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kad-checker-tls-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let key = dir.appendingPathComponent("key.pem").path
    let cert = dir.appendingPathComponent("cert.pem").path
    try Shell.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                   "-days", "1", "-subj", "/CN=checker.test"])
    let config = TLSConfiguration.makeServerConfiguration(
        certificateChain: try NIOSSLCertificate.fromPEMFile(cert).map { .certificate($0) },
        privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)))
    return try NIOSSLContext(configuration: config)
}

func loopback(_ port: UInt16, _ host: String = "127.0.0.1") -> CheckerConnection {
    CheckerConnection(address: IPAddress(host)!, port: port)
}

/// An HTTP response with a Content-Length.
func httpResponse(_ status: String = "200 OK", body: String, extra: String = "") -> ServerAction {
    .send("HTTP/1.0 \(status)\r\nContent-Length: \(body.utf8.count)\r\n\(extra)\r\n\(body)")
}

/// The request is complete once the blank line arrived.
func whenRequestComplete(_ then: @escaping @Sendable (String) -> ServerAction) -> @Sendable (String) -> ServerAction? {
    { $0.contains("\r\n\r\n") ? then($0) : nil }
}
