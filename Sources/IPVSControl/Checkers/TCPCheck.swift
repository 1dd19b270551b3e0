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

    public func check() async -> CheckResult {
        let (c, timeout, group) = (connection, connectTimeout, group)
        return await CheckerIO.withTimeout(timeout) {
            let channel = try await CheckerIO.connectTCP(c, timeout: timeout, group: group, inbound: ByteBuffer.self)
            try? await channel.channel.close()
            return .success
        }
    }
}
