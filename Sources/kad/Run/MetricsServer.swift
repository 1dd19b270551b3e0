import NIOCore
import NIOHTTP1
import NIOPosix
import VRRPCore

/// Where `--metrics` listens: `HOST:PORT`.
///
/// Accepted forms: `127.0.0.1:9650` (an IPv4 address), `[::1]:9650` (an IPv6 address in
/// brackets) and `:9650` (every address, IPv6 and IPv4). Host names are refused: a metrics
/// endpoint should not depend on name resolution at startup.
struct MetricsEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// The address to bind; `nil` means every address.
    var host: String?
    /// The TCP port, 1–65535.
    var port: Int

    /// A `HOST:PORT` that cannot be used.
    struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        var text: String
        var reason: String
        var description: String { "invalid metrics address '\(text)': \(reason)" }
    }

    /// Parses `HOST:PORT`, `[IPV6]:PORT` or `:PORT`.
    init(parsing text: String) throws(ParseError) {
        func fail(_ reason: String) -> ParseError { ParseError(text: text, reason: reason) }
        let hostPart: Substring
        let portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw fail("missing ']' after the IPv6 address") }
            hostPart = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw fail("expected ':PORT' after ']'") }
            portPart = rest.dropFirst()
            guard let a = IPAddress(hostPart), a.family == .ipv6 else {
                throw fail("'\(hostPart)' is not an IPv6 address")
            }
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                throw fail("expected HOST:PORT, [IPV6]:PORT or :PORT (for example 127.0.0.1:9650)")
            }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
            if hostPart.contains(":") {
                throw fail("put an IPv6 address in brackets, as in [::1]:9650")
            }
            if !hostPart.isEmpty {
                guard let a = IPAddress(hostPart), a.family == .ipv4 else {
                    throw fail("'\(hostPart)' is not an IPv4 address (use an address, [IPV6], or nothing for all addresses)")
                }
            }
        }
        guard !portPart.isEmpty else { throw fail("missing port") }
        guard portPart.allSatisfy(\.isASCII), let port = Int(portPart), (1...65535).contains(port) else {
            throw fail("port '\(portPart)' is not a number from 1 to 65535")
        }
        host = hostPart.isEmpty ? nil : String(hostPart)
        self.port = port
    }

    /// An endpoint on `host` (nil: every address) and `port`.
    init(host: String?, port: Int) {
        self.host = host
        self.port = port
    }

    var description: String {
        guard let host else { return ":\(port)" }
        return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

/// A minimal HTTP/1.1 server for Prometheus: `GET /metrics` (and `HEAD`) answers with the
/// text exposition format (`text/plain; version=0.0.4`), every other path with 404, every
/// other method on `/metrics` with 405. Keep-alive is honoured.
///
/// ```swift
/// let server = try await MetricsServer.start(host: "127.0.0.1", port: 9650) {
///     metrics.update(await runner.snapshot())
///     return metrics.exposition()
/// }
/// ...
/// await server.stop()
/// ```
final class MetricsServer: Sendable {
    typealias Provider = @Sendable () async -> String

    /// Where the server listens (with the real port when started on port 0).
    let localAddress: SocketAddress
    let channel: any Channel
    let serving: Task<Void, Never>

    init(localAddress: SocketAddress, channel: any Channel, serving: Task<Void, Never>) {
        self.localAddress = localAddress
        self.channel = channel
        self.serving = serving
    }

    /// The content type of the Prometheus text format.
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// Starts serving on `endpoint` (every address: `::`, falling back to `0.0.0.0` on a
    /// host without IPv6).
    static func start(_ endpoint: MetricsEndpoint, provider: @escaping Provider) async throws -> MetricsServer {
        if let host = endpoint.host { return try await start(host: host, port: endpoint.port, provider: provider) }
        do {
            return try await start(host: "::", port: endpoint.port, provider: provider)
        } catch let error as IOError where error.errnoCode == EAFNOSUPPORT || error.errnoCode == EADDRNOTAVAIL {
            return try await start(host: "0.0.0.0", port: endpoint.port, provider: provider)
        }
    }

    /// Starts serving on `host` (an address literal) and `port` (0: any free port; see
    /// ``localAddress``).
    /// - Parameter provider: called for each scrape; returns the exposition text.
    static func start(host: String, port: Int, provider: @escaping Provider,
                      group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> MetricsServer {
        var bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 64)
        if host == "::" {
            // Every address means IPv4 too, whatever net.ipv6.bindv6only says.
            bootstrap = bootstrap.serverChannelOption(ChannelOptions.Types.SocketOption(level: .ipv6, name: .ipv6_v6only),
                                                      value: 0)
        }
        let server = try await bootstrap
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(
                        wrappingChannelSynchronously: channel)
                }
            }
        let channel = server.channel
        guard let address = channel.localAddress else {
            try? await channel.close()
            throw IOError(errnoCode: EINVAL, reason: "the metrics socket has no local address")
        }
        let serving = Task<Void, Never> {
            _ = try? await server.executeThenClose { connections in
                try await withThrowingDiscardingTaskGroup { group in
                    for try await connection in connections {
                        group.addTask { await serve(connection, provider: provider) }
                    }
                }
            }
        }
        return MetricsServer(localAddress: address, channel: channel, serving: serving)
    }

    /// Stops listening and closes open connections.
    func stop() async {
        try? await channel.close()
        serving.cancel()
        await serving.value
    }

    static func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>,
                      provider: Provider) async {
        try? await connection.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            for try await part in inbound {
                switch part {
                case .head(let h):
                    head = h
                case .body:
                    continue
                case .end:
                    guard let h = head else { continue }
                    head = nil
                    let response = await respond(to: h, provider: provider)
                    var headers = HTTPHeaders()
                    headers.add(name: "Content-Type", value: response.contentType)
                    headers.add(name: "Content-Length", value: "\(response.body.utf8.count)")
                    for (name, value) in response.extraHeaders { headers.add(name: name, value: value) }
                    if !h.isKeepAlive { headers.add(name: "Connection", value: "close") }
                    try await outbound.write(.head(HTTPResponseHead(version: h.version, status: response.status,
                                                                    headers: headers)))
                    if h.method != .HEAD { try await outbound.write(.body(.byteBuffer(ByteBuffer(string: response.body)))) }
                    try await outbound.write(.end(nil))
                    if !h.isKeepAlive { return }
                }
            }
        }
    }

    /// What the server answers to one request.
    struct Response {
        var status: HTTPResponseStatus
        var contentType: String
        var body: String
        var extraHeaders: [(String, String)] = []
    }

    /// The routing: `/metrics` (query strings ignored) for GET and HEAD.
    static func respond(to head: HTTPRequestHead, provider: Provider) async -> Response {
        let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        guard path == "/metrics" else {
            return Response(status: .notFound, contentType: "text/plain; charset=utf-8", body: "not found; try /metrics\n")
        }
        guard head.method == .GET || head.method == .HEAD else {
            return Response(status: .methodNotAllowed, contentType: "text/plain; charset=utf-8",
                            body: "method not allowed\n", extraHeaders: [("Allow", "GET, HEAD")])
        }
        return Response(status: .ok, contentType: contentType, body: await provider())
    }
}
