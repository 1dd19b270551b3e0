import NIOCore
import NIOPosix

/// `TCP_CHECK`: succeeds when a TCP connection to the server completes within `connect_timeout`;
/// the connection is closed at once.
///
/// Failure reasons: "connection refused", "connect timed out after 5 s", "host unreachable", ...
///
/// ```swift
/// let check = TCPCheck(connection: CheckerConnection(address: IPAddress("192.0.2.10")!, port: 80),
///                      connectTimeout: .seconds(3))
/// let result = await check.check()
/// ```
public struct TCPCheck: HealthCheck {
    public var connection: CheckerConnection
    public var connectTimeout: Duration
    public var group: any EventLoopGroup

    public init(connection: CheckerConnection, connectTimeout: Duration = .seconds(5),
                group: any EventLoopGroup = CheckerEventLoops.shared) {
        self.connection = connection
        self.connectTimeout = connectTimeout
        self.group = group
    }

    public var name: String { "TCP_CHECK \(connection)" }

    /// ``check(on:)`` on one of the group's loops (it never fails: errors are its result).
    public func check() async -> CheckResult {
        (try? await check(on: group.next()).get()) ?? .failure(reason: "cancelled")
    }

    public var runsOnEventLoop: Bool { true }

    /// One connect on `loop`, closed as soon as it completes: no task, timer or async channel of
    /// its own (the connect timeout bounds it), so ten thousand real servers checked every
    /// second stay cheap.
    public func check(on loop: any EventLoop) -> EventLoopFuture<CheckResult> {
        CheckerIO.connect(connection, timeout: connectTimeout, on: loop).map { channel -> CheckResult in
            channel.close(promise: nil)
            return .success
        }.recover { .failure(reason: CheckerIO.reason(for: $0)) }
    }
}
