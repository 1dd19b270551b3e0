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
    /// `poll(2)` on several descriptors; returns the count of ready ones, 0 on timeout, or -1.
    public var pollMany: @Sendable (_ fds: UnsafeMutablePointer<pollfd>, _ count: nfds_t,
                                    _ timeoutMilliseconds: CInt) -> CInt
    /// `eventfd(2)`, always close-on-exec and non-blocking (`flags` may add `EFD_SEMAPHORE`).
    public var eventfd: @Sendable (_ initialValue: CUnsignedInt, _ flags: CInt) -> CInt
    /// `read(2)`.
    public var read: @Sendable (_ fd: CInt, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int
    /// `write(2)`.
    public var write: @Sendable (_ fd: CInt, _ buffer: UnsafeRawPointer, _ count: Int) -> Int

    // Host: capabilities, scripts and watched files (Sources/NetLinux/Host).

    /// `kill(2)`; a negative `pid` signals a process group.
    public var kill: @Sendable (_ pid: pid_t, _ signal: CInt) -> CInt
    /// `lstat(2)`.
    public var lstat: @Sendable (_ path: UnsafePointer<CChar>, _ status: UnsafeMutablePointer<stat>) -> CInt
    /// `readlink(2)`.
    public var readlink: @Sendable (_ path: UnsafePointer<CChar>, _ buffer: UnsafeMutablePointer<CChar>,
                                    _ size: Int) -> Int
    /// `access(2)`.
    public var access: @Sendable (_ path: UnsafePointer<CChar>, _ mode: CInt) -> CInt
    /// `pipe2(2)` with `O_CLOEXEC`.
    public var pipe: @Sendable (_ fds: UnsafeMutablePointer<CInt>) -> CInt
    /// Starts a script (`cnl_spawn`: fork, new session, user switch, execve): 0 or an errno.
    public var spawn: @Sendable (_ request: UnsafePointer<cnl_spawn_request>,
                                 _ result: UnsafeMutablePointer<cnl_spawn_result>) -> CInt
    /// `waitpid(2)`.
    public var waitpid: @Sendable (_ pid: pid_t, _ status: UnsafeMutablePointer<CInt>, _ options: CInt) -> pid_t
    /// `inotify_init1(2)`.
    public var inotifyInit: @Sendable (_ flags: CInt) -> CInt
    /// `inotify_add_watch(2)`; returns the watch descriptor or -1.
    public var inotifyAddWatch: @Sendable (_ fd: CInt, _ path: UnsafePointer<CChar>, _ mask: UInt32) -> CInt
    /// `getpwnam_r(3)`: returns 0 or an error number; `result` is nil when there is no such user.
    public var getpwnam: @Sendable (_ name: UnsafePointer<CChar>, _ entry: UnsafeMutablePointer<passwd>,
                                    _ buffer: UnsafeMutablePointer<CChar>, _ size: Int,
                                    _ result: UnsafeMutablePointer<UnsafeMutablePointer<passwd>?>) -> CInt
    /// `getgrnam_r(3)`: returns 0 or an error number; `result` is nil when there is no such group.
    public var getgrnam: @Sendable (_ name: UnsafePointer<CChar>, _ entry: UnsafeMutablePointer<group>,
                                    _ buffer: UnsafeMutablePointer<CChar>, _ size: Int,
                                    _ result: UnsafeMutablePointer<UnsafeMutablePointer<group>?>) -> CInt
    /// `capset(2)` and `PR_CAPBSET_DROP` on every thread (`cnl_caps_apply_all_threads`):
    /// returns 0 or an errno.
    public var applyCapabilities: @Sendable (_ keep: UInt64, _ limitBoundingSet: Bool, _ lastCapability: CInt,
                                             _ signal: CInt, _ timeoutMilliseconds: CInt,
                                             _ outcome: UnsafeMutablePointer<cnl_caps_outcome>) -> CInt

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
        open: { Glibc.open($0, $1) },
        pollMany: { Glibc.poll($0, $1, $2) },
        eventfd: { cnl_eventfd($0, $1) },
        read: { Glibc.read($0, $1, $2) },
        write: { Glibc.write($0, $1, $2) },
        kill: { Glibc.kill($0, $1) },
        lstat: { Glibc.lstat($0, $1) },
        readlink: { Glibc.readlink($0, $1, $2) },
        access: { Glibc.access($0, $1) },
        pipe: { cnl_pipe_cloexec($0) },
        spawn: { cnl_spawn($0, $1) },
        waitpid: { Glibc.waitpid($0, $1, $2) },
        inotifyInit: { Glibc.inotify_init1($0) },
        inotifyAddWatch: { Glibc.inotify_add_watch($0, $1, $2) },
        getpwnam: { Glibc.getpwnam_r($0, $1, $2, $3, $4) },
        getgrnam: { Glibc.getgrnam_r($0, $1, $2, $3, $4) },
        applyCapabilities: { cnl_caps_apply_all_threads($0, $1 ? 1 : 0, $2, $3, $4, $5) }
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
