#if canImport(Glibc)
import Glibc
#endif
import CNetLinux
import SystemPackage
import Synchronization

/// The system calls NetLinux makes, gathered in one table so that tests can make any of
/// them fail with a chosen `errno` (the approach of swift-system's `Internals/Mocking.swift`).
///
/// Production code calls ``SystemCalls/current``; a test installs a modified table with
/// ``SystemCalls/withOverride(_:_:)``. Overrides are process-wide, so tests that use them
/// must run serialized.
public struct SystemCalls: Sendable {
    /// `socket(2)`.
    public var socket: @Sendable (_ domain: CInt, _ type: CInt, _ protocol: CInt) -> CInt
    /// `close(2)`.
    public var close: @Sendable (_ fd: CInt) -> CInt
    /// `bind(2)`.
    public var bind: @Sendable (_ fd: CInt, _ address: UnsafePointer<sockaddr>, _ length: socklen_t) -> CInt
    /// `setsockopt(2)`.
    public var setsockopt: @Sendable (_ fd: CInt, _ level: CInt, _ name: CInt, _ value: UnsafeRawPointer?,
                                      _ length: socklen_t) -> CInt
    /// `getsockopt(2)`.
    public var getsockopt: @Sendable (_ fd: CInt, _ level: CInt, _ name: CInt, _ value: UnsafeMutableRawPointer?,
                                      _ length: UnsafeMutablePointer<socklen_t>) -> CInt
    /// `getsockname(2)`.
    public var getsockname: @Sendable (_ fd: CInt, _ address: UnsafeMutablePointer<sockaddr>,
                                       _ length: UnsafeMutablePointer<socklen_t>) -> CInt
    /// `sendmsg(2)`.
    public var sendmsg: @Sendable (_ fd: CInt, _ message: UnsafePointer<msghdr>, _ flags: CInt) -> Int
    /// `recvmsg(2)`.
    public var recvmsg: @Sendable (_ fd: CInt, _ message: UnsafeMutablePointer<msghdr>, _ flags: CInt) -> Int
    /// `poll(2)` on one descriptor; returns the `revents` or -1.
    public var poll: @Sendable (_ fd: CInt, _ events: Int16, _ timeoutMilliseconds: CInt) -> CInt
    /// `ioctl(2)` with a pointer argument.
    public var ioctl: @Sendable (_ fd: CInt, _ request: UInt, _ argument: UnsafeMutableRawPointer?) -> CInt
    /// `setns(2)` for a network namespace (`CLONE_NEWNET`).
    public var setNetworkNamespace: @Sendable (_ fd: CInt) -> CInt
    /// `open(2)` without a mode.
    public var open: @Sendable (_ path: UnsafePointer<CChar>, _ flags: CInt) -> CInt

    /// The real system calls.
    public static let live = SystemCalls(
        socket: { Glibc.socket($0, $1, $2) },
        close: { Glibc.close($0) },
        bind: { Glibc.bind($0, $1, $2) },
        setsockopt: { Glibc.setsockopt($0, $1, $2, $3, $4) },
        getsockopt: { Glibc.getsockopt($0, $1, $2, $3, $4) },
        getsockname: { Glibc.getsockname($0, $1, $2) },
        sendmsg: { Glibc.sendmsg($0, $1, $2) },
        recvmsg: { Glibc.recvmsg($0, $1, $2) },
        poll: { fd, events, timeout in
            var p = pollfd(fd: fd, events: events, revents: 0)
            let r = Glibc.poll(&p, 1, timeout)
            return r < 0 ? -1 : CInt(p.revents)
        },
        ioctl: { cnl_ioctl_ptr($0, $1, $2) },
        setNetworkNamespace: { cnl_setns_net($0) },
        open: { Glibc.open($0, $1) }
    )

    static let table = Mutex(SystemCalls.live)

    /// The table in force.
    public static var current: SystemCalls { table.withLock { $0 } }

    /// Runs `body` with `calls` installed, then restores the previous table.
    @discardableResult
    public static func withOverride<R>(_ calls: SystemCalls, _ body: () throws -> R) rethrows -> R {
        let previous = table.withLock { t -> SystemCalls in
            let p = t
            t = calls
            return p
        }
        defer { table.withLock { $0 = previous } }
        return try body()
    }

    /// Async variant of ``withOverride(_:_:)``.
    @discardableResult
    public static func withOverride<R>(_ calls: SystemCalls, _ body: () async throws -> R) async rethrows -> R {
        let previous = table.withLock { t -> SystemCalls in
            let p = t
            t = calls
            return p
        }
        defer { table.withLock { $0 = previous } }
        return try await body()
    }
}

/// Calls `body` until it stops failing with `EINTR`; returns its result, or throws the
/// `errno` it failed with.
func retryingOnInterrupt<R: BinaryInteger>(_ body: () -> R) throws(Errno) -> R {
    while true {
        let r = body()
        if r >= 0 { return r }
        let e = Errno(rawValue: errno)
        if e != .interrupted { throw e }
    }
}
