#if canImport(Glibc)
import Glibc
#endif
import CNetLinux
import SystemPackage

/// A socket file descriptor: a zero-cost typed wrapper in the style of swift-system's
/// `FileDescriptor`. Every call goes through ``SystemCalls/current``.
///
/// The owner must call ``close()`` exactly once.
public struct SocketDescriptor: RawRepresentable, Hashable, Sendable {
    public let rawValue: CInt
    public init(rawValue: CInt) { self.rawValue = rawValue }

    /// Opens a socket, close-on-exec and non-blocking.
    ///
    /// The corresponding C function is `socket(2)`.
    public static func open(domain: CInt, type: CInt, protocol proto: CInt) throws(Errno) -> SocketDescriptor {
        let flags = CInt(SOCK_CLOEXEC.rawValue) | CInt(SOCK_NONBLOCK.rawValue)
        let fd = try retryingOnInterrupt { SystemCalls.current.socket(domain, type | flags, proto) }
        return SocketDescriptor(rawValue: fd)
    }

    /// Closes the socket. The corresponding C function is `close(2)`.
    public func close() throws(Errno) {
        if SystemCalls.current.close(rawValue) < 0 { throw Errno(rawValue: errno) }
    }

    /// Sets an option from a trivial value. The corresponding C function is `setsockopt(2)`.
    public func setOption<T: BitwiseCopyable>(level: CInt, name: CInt, value: T) throws(Errno) {
        var v = value
        let r = withUnsafeBytes(of: &v) { SystemCalls.current.setsockopt(rawValue, level, name, $0.baseAddress, socklen_t($0.count)) }
        if r < 0 { throw Errno(rawValue: errno) }
    }

    /// Sets an option from raw bytes. The corresponding C function is `setsockopt(2)`.
    public func setOption(level: CInt, name: CInt, bytes: UnsafeRawBufferPointer) throws(Errno) {
        if SystemCalls.current.setsockopt(rawValue, level, name, bytes.baseAddress, socklen_t(bytes.count)) < 0 {
            throw Errno(rawValue: errno)
        }
    }

    /// Reads an option into a trivial value. The corresponding C function is `getsockopt(2)`.
    public func option<T: BitwiseCopyable>(level: CInt, name: CInt, as type: T.Type, initial: T) throws(Errno) -> T {
        var v = initial
        var length = socklen_t(MemoryLayout<T>.size)
        let r = withUnsafeMutableBytes(of: &v) { SystemCalls.current.getsockopt(rawValue, level, name, $0.baseAddress, &length) }
        if r < 0 { throw Errno(rawValue: errno) }
        return v
    }

    /// Binds to a socket address given as raw bytes. The corresponding C function is `bind(2)`.
    public func bind(_ address: UnsafeRawBufferPointer) throws(Errno) {
        let r = address.withMemoryRebound(to: sockaddr.self) {
            SystemCalls.current.bind(rawValue, $0.baseAddress!, socklen_t(address.count))
        }
        if r < 0 { throw Errno(rawValue: errno) }
    }

    /// Sends one message. The corresponding C function is `sendmsg(2)`.
    /// - Returns: bytes sent.
    public func send(message: UnsafePointer<msghdr>, flags: CInt = 0) throws(Errno) -> Int {
        try retryingOnInterrupt { SystemCalls.current.sendmsg(rawValue, message, flags | CInt(MSG_NOSIGNAL)) }
    }

    /// Receives one message. The corresponding C function is `recvmsg(2)`.
    /// - Returns: bytes received; throws `.wouldBlock` when nothing is queued.
    public func receive(message: UnsafeMutablePointer<msghdr>, flags: CInt = 0) throws(Errno) -> Int {
        try retryingOnInterrupt { SystemCalls.current.recvmsg(rawValue, message, flags) }
    }

    /// Waits until the socket is readable or `timeout` passes (`nil`: forever).
    /// The corresponding C function is `poll(2)`.
    /// - Returns: `false` on timeout.
    public func waitReadable(timeout: Duration?) throws(Errno) -> Bool {
        let ms: CInt = timeout.map { CInt(clamping: $0.components.seconds * 1000 + $0.components.attoseconds / 1_000_000_000_000_000) } ?? -1
        let r = try retryingOnInterrupt { SystemCalls.current.poll(rawValue, Int16(POLLIN), ms) }
        return r != 0
    }
}
