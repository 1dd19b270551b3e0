import Synchronization
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import VRRPCore

/// `http_protocol`: the request line's version. `1.0C` is 1.0 with `Connection: close`.
public enum HTTPCheckVersion: String, Sendable, Hashable, CaseIterable {
    case http10 = "1.0"
    case http10Close = "1.0C"
    case http11 = "1.1"
}

/// One `url { }` block of HTTP_GET / SSL_GET.
public struct HTTPURLCheck: Sendable, Hashable {
    /// `path`: what follows `GET`.
    public var path: String
    /// `digest`: the expected MD5 of the body, hex (any case); `nil` = no digest check.
    public var digest: String?
    /// `status_code`: the accepted codes and ranges (default 200-299).
    public var statusCodes: [ClosedRange<Int>]
    /// `virtualhost` of the url; wins over the checker's.
    public var virtualhost: String?
    /// `regex`: a pattern (Swift Regex syntax, which covers the common PCRE subset) the body
    /// must match somewhere; `nil` = no regex check.
    public var regex: String?
    /// `regex_no_match`: the body must not match `regex`.
    public var regexNoMatch: Bool

    public init(path: String, digest: String? = nil, statusCodes: [ClosedRange<Int>] = [200...299], virtualhost: String? = nil,
                regex: String? = nil, regexNoMatch: Bool = false) {
        self.path = path
        self.digest = digest
        self.statusCodes = statusCodes
        self.virtualhost = virtualhost
        self.regex = regex
        self.regexNoMatch = regexNoMatch
    }

    /// Why `pattern` cannot be used: Swift's regex compiler's message (with the position in the
    /// pattern), or nil when it compiles.
    public static func regexProblem(_ pattern: String) -> String? {
        do {
            _ = try Regex(pattern)
            return nil
        } catch {
            let at = errorOffset(error, in: pattern).map { " at offset \($0)" } ?? ""
            return "Swift Regex cannot compile /\(pattern)/: \(error)\(at)"
        }
    }

    /// Where in `pattern` the regex parser's error points (0-based, in UTF-8 bytes). The error
    /// type is the parser's own; its `location.range` is read through `Mirror`, so a change in
    /// the library only loses the offset, never the message.
    static func errorOffset(_ error: any Error, in pattern: String) -> Int? {
        func child(_ value: Any, _ label: String) -> Any? {
            Mirror(reflecting: value).children.first { $0.label == label }?.value
        }
        guard let location = child(error, "location"), let range = child(location, "range") as? Range<String.Index>,
              range.lowerBound <= pattern.endIndex else { return nil }
        return pattern.utf8.distance(from: pattern.utf8.startIndex, to: range.lowerBound)
    }

    /// Whether `body` matches `pattern` somewhere (nil: the pattern does not compile). Matching
    /// is on Unicode scalars, as PCRE2 in UTF mode does, not on grapheme clusters (so `\r\n`
    /// is two characters and `.` never swallows both); bytes that are not UTF-8 become U+FFFD.
    public static func bodyMatches(_ body: [UInt8], pattern: String) -> Bool? {
        guard let regex = try? Regex(pattern) else { return nil }
        let text = String(decoding: body, as: UTF8.self)
        return (try? regex.matchingSemantics(.unicodeScalar).firstMatch(in: text)) != nil
    }

    /// `200-299`, `200,301-302`.
    public var statusCodesText: String {
        statusCodes.map { $0.count == 1 ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }.joined(separator: ",")
    }
}

/// The TLS side of SSL_GET. Certificates are not verified, as keepalived does not.
public struct TLSCheckOptions: Sendable, Hashable {
    /// `enable_sni`: send a server name.
    public var enableSNI: Bool
    /// `sni_name`: the name to send; else the request's virtual host. Never an IP literal.
    public var sniName: String?
    /// `SSL { certificate key password ca }`: a client certificate (PEM files); `nil` = none.
    public var certificateFile: String?
    public var keyFile: String?
    public var keyPassword: String?
    /// `SSL { ca }`: accepted but unused while verification is off, like keepalived.
    public var caFile: String?

    public init(enableSNI: Bool = false, sniName: String? = nil, certificateFile: String? = nil,
                keyFile: String? = nil, keyPassword: String? = nil, caFile: String? = nil) {
        self.enableSNI = enableSNI
        self.sniName = sniName
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.keyPassword = keyPassword
        self.caFile = caFile
    }
}

/// What one url fetch got: the status and the MD5 of the body.
public struct HTTPFetchResult: Sendable, Hashable {
    public var status: Int
    /// Lowercase hex, 32 digits.
    public var digest: String
    public var bodyLength: Int
    /// Whether the body matched the url's `regex` (nil: the url has none).
    public var regexMatched: Bool? = nil
}

/// `HTTP_GET` and `SSL_GET`: every url must answer with an accepted status and, when a digest is
/// configured, a body whose MD5 matches; with a `regex`, a body that matches it (or, with
/// `regex_no_match`, does not).
///
/// Each url is fetched on its own connection: `GET path HTTP/1.0|1.1`, `User-Agent:
/// KeepAliveClient`, `Host:` the url's `virtualhost`, else the checker's (which the caller
/// resolves from the checker, real server and virtual server, in that order), else `ip:port`;
/// `Connection: close` for `1.0C` and `1.1`. The whole body is read (Content-Length, chunked or
/// up to the close) and hashed as it arrives, up to ``maximumBodySize``. The whole attempt, all
/// urls together, is bounded by `connect_timeout`.
///
/// Failure reasons: "connection refused", "timed out after 3 s", "HTTP status 503 not in
/// 200-299 (GET /health)", "MD5 digest 0cc1… does not match 9e10… (GET /)", "invalid HTTP
/// response (...)", "connection closed before the response ended", "body does not match regex
/// /ok/ (GET /)", "body matches regex /ERROR/ (GET /)".
public struct HTTPCheck: HealthCheck {
    public var connection: CheckerConnection
    public var connectTimeout: Duration
    public var version: HTTPCheckVersion
    /// The checker's resolved `virtualhost` (checker, else real server, else virtual server).
    public var virtualhost: String?
    public var urls: [HTTPURLCheck]
    /// Non-nil for SSL_GET.
    public var tls: TLSCheckOptions?
    /// A body longer than this fails the check when a digest is needed (16 MiB).
    public var maximumBodySize: Int = 16 << 20
    public var group: any EventLoopGroup
    private let sslContextCache = TLSContextCache()

    public init(connection: CheckerConnection, connectTimeout: Duration = .seconds(5), version: HTTPCheckVersion = .http10,
                virtualhost: String? = nil, urls: [HTTPURLCheck], tls: TLSCheckOptions? = nil,
                group: any EventLoopGroup = CheckerEventLoops.shared) {
        self.connection = connection
        self.connectTimeout = connectTimeout
        self.version = version
        self.virtualhost = virtualhost
        self.urls = urls
        self.tls = tls
        self.group = group
    }

    public var name: String { "\(tls == nil ? "HTTP_GET" : "SSL_GET") \(connection)" }

    /// ``check(on:)`` on one of the group's loops (it never fails: errors are its result; the
    /// attempt ends by its deadline).
    public func check() async -> CheckResult {
        (try? await check(on: group.next()).get()) ?? .failure(reason: "cancelled")
    }

    public var runsOnEventLoop: Bool { true }

    /// The whole attempt on `loop`: each url fetched in turn on its own connection, all of them
    /// within one deadline `connect_timeout` from now.
    public func check(on loop: any EventLoop) -> EventLoopFuture<CheckResult> {
        if urls.isEmpty { return loop.makeSucceededFuture(.failure(reason: "no url to check")) }
        let deadline = NIODeadline.now() + TimeAmount(connectTimeout)
        let me = self
        @Sendable func step(_ i: Int) -> EventLoopFuture<CheckResult> {
            guard i < me.urls.count else { return loop.makeSucceededFuture(.success) }
            let url = me.urls[i]
            return me.startFetch(url, deadline: deadline, on: loop).future.flatMap { got in
                if let failure = HTTPCheck.judge(got, url) { return loop.makeSucceededFuture(failure) }
                return step(i + 1)
            }
        }
        return step(0).recover { .failure(reason: CheckerIO.reason(for: $0)) }
    }

    /// Why `got` fails `url` (status, digest, regex), or nil when it passes.
    static func judge(_ got: HTTPFetchResult, _ url: HTTPURLCheck) -> CheckResult? {
        if !url.statusCodes.contains(where: { $0.contains(got.status) }) {
            return .failure(reason: "HTTP status \(got.status) not in \(url.statusCodesText) (GET \(url.path))")
        }
        if let want = url.digest?.lowercased(), want != got.digest {
            return .failure(reason: "MD5 digest \(got.digest) does not match \(want) (GET \(url.path))")
        }
        if let pattern = url.regex, let matched = got.regexMatched, matched == url.regexNoMatch {
            return .failure(reason: "body \(matched ? "matches" : "does not match") regex /\(pattern)/ (GET \(url.path))")
        }
        return nil
    }

    /// The Host header for `url`.
    public func host(for url: HTTPURLCheck) -> String {
        url.virtualhost ?? virtualhost ?? connection.description
    }

    /// The request for `url`: `GET path HTTP/1.x`, `User-Agent`, `Host`, and `Connection: close`
    /// for 1.0C and 1.1.
    public func requestHead(for url: HTTPURLCheck) -> HTTPRequestHead {
        var headers = HTTPHeaders([("User-Agent", "KeepAliveClient"), ("Host", host(for: url))])
        if version != .http10 { headers.add(name: "Connection", value: "close") }
        return HTTPRequestHead(version: version == .http11 ? .http1_1 : .http1_0, method: .GET, uri: url.path, headers: headers)
    }

    /// Fetches `url` once (no timeout but the connect's: ``check()`` and genhash bound it) and
    /// returns the status and the body's MD5. Throws ``CheckFailure`` and NIO errors.
    public func fetch(_ url: HTTPURLCheck) async throws -> HTTPFetchResult {
        let (future, outcome) = startFetch(url, deadline: nil, on: group.next())
        return try await withTaskCancellationHandler {
            try await future.get()
        } onCancel: {
            outcome?.fail(CancellationError())
        }
    }

    /// Starts fetching `url` on `loop`: the pipeline (TLS, HTTP codec, ``HTTPFetchHandler``)
    /// sends the request when connected and completes one promise with the result. At
    /// `deadline` the fetch fails with "timed out after N s"; the connection is closed whatever
    /// completes the promise. The outcome (nil when the fetch could not start) lets a caller
    /// give up early.
    func startFetch(_ url: HTTPURLCheck, deadline: NIODeadline?, on loop: any EventLoop)
        -> (future: EventLoopFuture<HTTPFetchResult>, outcome: HTTPFetchOutcome?) {
        let sslContext: NIOSSLContext?
        var serverName: String?
        if let tls {
            do { sslContext = try sharedSSLContext(tls) } catch { return (loop.makeFailedFuture(error), nil) }
            if tls.enableSNI {
                let name = tls.sniName ?? url.virtualhost ?? virtualhost
                // An IP literal is not a valid SNI name (RFC 6066); send none then.
                if let name, IPAddress(name) == nil, !name.isEmpty { serverName = name }
            }
        } else {
            sslContext = nil
        }
        let sni = serverName
        let outcome = HTTPFetchOutcome(loop.makePromise(of: HTTPFetchResult.self))
        let handler = HTTPFetchHandler(head: requestHead(for: url), path: url.path, limit: maximumBodySize,
                                       needBody: url.digest != nil || url.regex != nil, regex: url.regex, outcome: outcome)
        let connectTimeout = deadline.map { Duration($0 - .now()) } ?? self.connectTimeout
        let connected = CheckerIO.connect(connection, timeout: connectTimeout, on: loop) { channel in
            let ops = channel.pipeline.syncOperations
            if let sslContext {
                try ops.addHandler(NIOSSLClientHandler(context: sslContext, serverHostname: sni))
                try ops.addHandler(TolerateUncleanTLSShutdown())
            }
            // The decoder watches the requests written (it must know a HEAD), so requests go
            // through NIO's encoder as parts; the head is built to give keepalived's bytes.
            try ops.addHandler(HTTPRequestEncoder())
            try ops.addHandler(ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .dropBytes)))
            try ops.addHandler(handler)
        }
        if let deadline {
            let whole = self.connectTimeout
            let timer = loop.scheduleTask(deadline: deadline) { outcome.fail(CheckFailure("timed out after \(whole.checkerText)")) }
            outcome.future.whenComplete { _ in timer.cancel() }
        }
        connected.whenComplete { result in
            switch result {
            case .success(let channel): outcome.future.whenComplete { _ in channel.close(promise: nil) }
            case .failure(let error): outcome.fail(error)
            }
        }
        return (outcome.future, outcome)
    }

    /// The checker's TLS context, built at its first attempt and kept while its TLS settings stay
    /// (building one reads the client certificate and sets up BoringSSL: far too costly per
    /// attempt). A reload that changes the checker makes a new checker, and so a new context.
    private func sharedSSLContext(_ tls: TLSCheckOptions) throws -> NIOSSLContext {
        if let cached = sslContextCache.context.withLock({ $0?.options == tls ? $0?.context : nil }) { return cached }
        var config = TLSConfiguration.makeClientConfiguration()
        config.certificateVerification = .none
        if let cert = tls.certificateFile, let key = tls.keyFile {
            do {
                config.certificateChain = try NIOSSLCertificate.fromPEMFile(cert).map { .certificate($0) }
                if let password = tls.keyPassword {
                    config.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem) { $0(password.utf8) })
                } else {
                    config.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
                }
            } catch {
                throw CheckFailure("cannot load the client certificate \(cert) or key \(key): \(error)")
            }
        }
        let context = try NIOSSLContext(configuration: config)
        sslContextCache.context.withLock { $0 = (tls, context) }
        return context
    }
}

/// Holds an ``HTTPCheck``'s TLS context between attempts (the check itself is a value).
final class TLSContextCache: Sendable {
    let context = Mutex<(options: TLSCheckOptions, context: NIOSSLContext)?>(nil)
}

/// The promise of one fetch, completed once: by the handler, the deadline, a failed connect or
/// cancellation, whichever comes first; later completions are ignored.
final class HTTPFetchOutcome: Sendable {
    private let promise: EventLoopPromise<HTTPFetchResult>
    private let done = Atomic<Bool>(false)

    init(_ promise: EventLoopPromise<HTTPFetchResult>) {
        self.promise = promise
    }

    var future: EventLoopFuture<HTTPFetchResult> { promise.futureResult }

    func succeed(_ result: HTTPFetchResult) {
        if done.exchange(true, ordering: .acquiringAndReleasing) { return }
        promise.succeed(result)
    }

    func fail(_ error: any Error) {
        if done.exchange(true, ordering: .acquiringAndReleasing) { return }
        promise.fail(error)
    }
}

/// Sends one request when the connection is up and turns the response into an
/// ``HTTPFetchResult``: status, MD5 of the body as it arrives (up to `limit` bytes), and the
/// regex match when the url has one.
final class HTTPFetchHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private struct State {
        var status: Int?
        var md5 = MD5Hasher()
        var length = 0
        var body: [UInt8] = []
    }

    private let head: HTTPRequestHead
    private let path: String
    private let limit: Int
    private let needBody: Bool
    private let regex: String?
    private let outcome: HTTPFetchOutcome
    private let state = Mutex(State())

    init(head: HTTPRequestHead, path: String, limit: Int, needBody: Bool, regex: String?, outcome: HTTPFetchOutcome) {
        self.head = head
        self.path = path
        self.limit = limit
        self.needBody = needBody
        self.regex = regex
        self.outcome = outcome
    }

    func channelActive(context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            state.withLock { $0.status = Int(h.status.code) }
        case .body(let chunk):
            let over: Int? = state.withLock { s in
                s.length += chunk.readableBytes
                if s.length > limit { return s.status ?? 0 }
                chunk.withUnsafeReadableBytes { s.md5.update($0) }
                if regex != nil { s.body += chunk.readableBytesView }
                return nil
            }
            if let status = over {
                if needBody {
                    outcome.fail(CheckFailure("response body larger than \(limit) bytes (GET \(path))"))
                } else {
                    outcome.succeed(HTTPFetchResult(status: status, digest: "", bodyLength: state.withLock { $0.length }))
                }
            }
        case .end:
            let s = state.withLock { $0 }
            guard let status = s.status else {
                outcome.fail(CheckFailure("invalid HTTP response (no status line)"))
                return
            }
            let hex = s.md5.hexDigest()
            var result = HTTPFetchResult(status: status, digest: hex, bodyLength: s.length)
            if let pattern = regex {
                guard let matched = HTTPURLCheck.bodyMatches(s.body, pattern: pattern) else {
                    outcome.fail(CheckFailure("regex /\(pattern)/ does not compile"))
                    return
                }
                result.regexMatched = matched
            }
            outcome.succeed(result)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        outcome.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        let hadStatus = state.withLock { $0.status != nil }
        outcome.fail(CheckFailure(hadStatus ? "connection closed before the response ended (GET \(path))"
                                            : "connection closed before an HTTP response (GET \(path))"))
        context.fireChannelInactive()
    }
}
