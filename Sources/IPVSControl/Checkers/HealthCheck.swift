import NIOCore
import VRRPCore

/// The outcome of one health-check attempt.
///
/// ```swift
/// switch await TCPCheck(connection: c, connectTimeout: .seconds(3)).check() {
/// case .success, .weighted: print("up")
/// case .failure(let reason): print("down: \(reason)")   // "connection refused"
/// }
/// ```
public enum CheckResult: Sendable, Hashable, CustomStringConvertible {
    /// The server answered as required.
    case success
    /// The server is up and its weight should become this value (`misc_dynamic`, FILE_CHECK `dynamic`).
    case weighted(Int)
    /// The attempt failed; `reason` is a short human-readable sentence for the log
    /// ("connection refused", "timed out after 3 s", "HTTP status 503 not in 200-299").
    case failure(reason: String)

    /// Whether the attempt counts as a success.
    public var isSuccess: Bool {
        if case .failure = self { return false }
        return true
    }

    public var description: String {
        switch self {
        case .success: return "success"
        case .weighted(let w): return "success, weight \(w)"
        case .failure(let reason): return "failure: \(reason)"
        }
    }
}

/// One health checker: a single attempt at a time, no scheduling (``CheckerScheduler`` does that).
///
/// An attempt never throws and never outlives its own timeout: every way it can go wrong is a
/// ``CheckResult/failure(reason:)``. Implementations must be safe to call from any task.
public protocol HealthCheck: Sendable {
    /// How logs name the checker: `HTTP_GET 192.0.2.10:80`.
    var name: String { get }
    /// Makes one attempt.
    func check() async -> CheckResult
    /// Makes one attempt whose result completes on `loop`. The default runs ``check()`` in a
    /// task; checkers with ``runsOnEventLoop`` do their whole attempt on the loop instead.
    func check(on loop: any EventLoop) -> EventLoopFuture<CheckResult>
    /// Whether ``check(on:)`` does the attempt on the loop itself (its I/O, timeout and result),
    /// with no task and no thread hop: TCP_CHECK, HTTP_GET and SSL_GET. The scheduler pins such
    /// checkers to a loop and drives them with its timers; the others run in a task each.
    var runsOnEventLoop: Bool { get }
}

extension HealthCheck {
    /// ``check()`` in a task, its result completing on `loop`.
    public func check(on loop: any EventLoop) -> EventLoopFuture<CheckResult> {
        loop.makeFutureWithTask { await self.check() }
    }

    /// No attempt of its own on an event loop: the scheduler runs ``check()`` in a task.
    public var runsOnEventLoop: Bool { false }
}

/// Where a checker connects to, and from (keepalived's shared checker options `connect_ip`,
/// `connect_port`, `bindto`, `bind_if`, `bind_port`, `fwmark`), already resolved against the
/// real server: `address` and `port` are `connect_ip` / `connect_port` or the real server's.
///
/// ```swift
/// var c = CheckerConnection(address: IPAddress("192.0.2.10")!, port: 80)
/// c.bindAddress = IPAddress("192.0.2.1")
/// ```
public struct CheckerConnection: Sendable, Hashable, CustomStringConvertible {
    /// `connect_ip`, else the real server's address.
    public var address: IPAddress
    /// `connect_port`, else the real server's port.
    public var port: UInt16
    /// `bindto`: the source address.
    public var bindAddress: IPAddress?
    /// `bind_if`: the interface that scopes an IPv6 link-local address.
    public var bindInterface: String?
    /// `bind_port`: the source port.
    public var bindPort: UInt16?
    /// `fwmark`: the mark set on the checker's packets (`SO_MARK`).
    public var fwmark: UInt32?

    public init(address: IPAddress, port: UInt16, bindAddress: IPAddress? = nil, bindInterface: String? = nil,
                bindPort: UInt16? = nil, fwmark: UInt32? = nil) {
        self.address = address
        self.port = port
        self.bindAddress = bindAddress
        self.bindInterface = bindInterface
        self.bindPort = bindPort
        self.fwmark = fwmark
    }

    /// `192.0.2.10:80`, `[2001:db8::1]:80`.
    public var description: String {
        address.family == .ipv6 ? "[\(address)]:\(port)" : "\(address):\(port)"
    }
}

/// The scheduling of one checker, keepalived's resolved timing options (ConfigDSL's
/// `HealthChecker.ResolvedTiming`, field for field, with durations).
///
/// keepalived's defaults, which the caller resolves: `delay_loop` 60 s, `connect_timeout` 5 s,
/// `retry` 1 (DNS_CHECK 3, MISC_CHECK 0), `delay_before_retry` 1 s (HTTP/SSL 3 s,
/// DNS = delay_loop), `warmup` = delay_loop.
public struct CheckerTiming: Sendable, Hashable {
    /// `alpha`: the checker starts down and stays down until its first success.
    public var alpha: Bool
    /// `connect_timeout`: the limit of one attempt.
    public var connectTimeout: Duration
    /// `retry`: extra attempts after a failure before the checker is declared down.
    public var retry: Int
    /// `delay_before_retry`: the pause between those attempts.
    public var delayBeforeRetry: Duration
    /// `warmup`: the first attempt comes after a random delay in 0...warmup (0: at once).
    public var warmup: Duration
    /// `delay_loop`: the period between checks.
    public var delayLoop: Duration
    /// `log_all_failures`: log every failed attempt, not only state changes.
    public var logAllFailures: Bool

    public init(alpha: Bool = false, connectTimeout: Duration = .seconds(5), retry: Int = 1,
                delayBeforeRetry: Duration = .seconds(1), warmup: Duration? = nil, delayLoop: Duration = .seconds(60),
                logAllFailures: Bool = false) {
        self.alpha = alpha
        self.connectTimeout = connectTimeout
        self.retry = retry
        self.delayBeforeRetry = delayBeforeRetry
        self.warmup = warmup ?? delayLoop
        self.delayLoop = delayLoop
        self.logAllFailures = logAllFailures
    }

    /// Converts keepalived's decimal seconds (ConfigDSL's `Seconds`) to a duration, in microseconds.
    public static func duration(seconds: Double) -> Duration {
        guard seconds.isFinite, seconds > 0 else { return .zero }
        return .microseconds(Int64((seconds * 1_000_000).rounded()))
    }
}

extension Duration {
    /// `3 s`, `1.5 s`, `250 ms`: for failure reasons.
    var checkerText: String {
        let (s, atto) = components
        let ms = s * 1000 + atto / 1_000_000_000_000_000
        if ms % 1000 == 0 { return "\(ms / 1000) s" }
        if ms < 1000 { return "\(ms) ms" }
        var text = String(Double(ms) / 1000)
        if text.hasSuffix(".0") { text.removeLast(2) }
        return "\(text) s"
    }
}
