#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// Whether IPv6 forwarding is on for an interface: the Router flag of an unsolicited
/// neighbour advertisement follows it (RFC 4861 §4.4; keepalived does the same).
///
/// `/proc/sys/net` shows the network namespace of the thread that opens the file, so call
/// this inside ``NetworkNamespace/perform(inNamespaceAt:_:)`` for another namespace.
///
/// ```swift
/// let router = try IPv6Forwarding.isEnabled(on: "eth0")   // net.ipv6.conf.eth0.forwarding
/// ```
public enum IPv6Forwarding {
    /// `/proc/sys/net/ipv6/conf/INTERFACE/forwarding` (interface names keep their dots in /proc).
    public static func path(interface: String) -> String { "/proc/sys/net/ipv6/conf/\(interface)/forwarding" }

    /// Reads the interface's `forwarding` sysctl.
    ///
    /// The corresponding C functions are `open(2)`, `read(2)` and `close(2)`, through ``SystemCalls/current``.
    /// - Returns: `true` when the value is not 0; `false` also when the file does not exist
    ///   (IPv6 is disabled on the interface or in the kernel).
    /// - Throws: the `errno` of any other failure.
    public static func isEnabled(on interface: String) throws(Errno) -> Bool {
        guard InterfaceRequest.isValidName(interface) else { throw .invalidArgument }
        let calls = SystemCalls.current
        let fd = path(interface: interface).withCString { calls.open($0, O_RDONLY | O_CLOEXEC) }
        if fd < 0 {
            let e = Errno(rawValue: errno)
            if e == .noSuchFileOrDirectory { return false }
            throw e
        }
        defer { _ = calls.close(fd) }
        var buffer = [UInt8](repeating: 0, count: 16)
        let count = try retryingOnInterrupt { buffer.withUnsafeMutableBytes { calls.read(fd, $0.baseAddress!, $0.count) } }
        return parse(buffer.prefix(count))
    }

    /// A sysctl integer as text ("1\n"): `true` when its leading digits are not all zero.
    static func parse<C: Collection>(_ text: C) -> Bool where C.Element == UInt8 {
        text.prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }.contains { $0 != UInt8(ascii: "0") }
    }
}
