import SystemPackage

/// A failed operation on the host, named in words a user understands:
/// "adding 192.0.2.100/24 to eth0: address already exists".
public struct NetLinuxError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What was being done ("adding 192.0.2.100/24 to eth0").
    public var operation: String
    /// The kernel's answer.
    public var errno: Errno
    /// Extra detail, e.g. the kernel's extended-ack message.
    public var detail: String?

    public init(_ operation: String, _ errno: Errno, detail: String? = nil) {
        self.operation = operation
        self.errno = errno
        self.detail = detail
    }

    public var description: String {
        var s = "\(operation): \(NetLinuxError.describe(errno))"
        if let d = detail, !d.isEmpty { s += " (\(d))" }
        return s
    }

    /// `strerror`-style text, lower-cased, with the common netlink answers phrased for VRRP users.
    public static func describe(_ e: Errno) -> String {
        switch e {
        case .fileExists: return "already exists"
        case .noSuchProcess: return "no such object"
        case .noSuchAddressOrDevice, .operationNotSupportedByDevice: return "no such device"
        case .notPermitted: return "operation not permitted"
        case .permissionDenied: return "permission denied"
        case .noBufferSpace: return "no buffer space (the kernel dropped messages)"
        default:
            let text = String(describing: e)
            return text.prefix(1).lowercased() + text.dropFirst()
        }
    }
}
