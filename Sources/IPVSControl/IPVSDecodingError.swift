import NetLinux

/// Why a reply from the kernel's IPVS family could not be read. Every decoder in
/// IPVSControl reports malformed input with one of these, never by crashing.
public enum IPVSDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The attribute framing is broken (a length past the end, a truncated header).
    case malformed(NetlinkParseError, in: String)
    /// The reply carries another command than the one that answers the request.
    case unexpectedCommand(UInt8, expected: UInt8, in: String)
    /// A required attribute is absent: its header name (`IPVS_SVC_ATTR_AF`).
    case missingAttribute(String, in: String)
    /// An attribute's value has the wrong size.
    case badAttributeSize(String, length: Int, expected: String, in: String)
    /// An address family other than `AF_INET` (2) or `AF_INET6` (10).
    case unknownAddressFamily(UInt16, in: String)

    public var description: String {
        switch self {
        case let .malformed(error, container):
            "malformed \(container): \(error)"
        case let .unexpectedCommand(command, expected, container):
            "\(container) has command \(command), expected \(expected)"
        case let .missingAttribute(name, container):
            "\(container) lacks \(name)"
        case let .badAttributeSize(name, length, expected, container):
            "\(name) in \(container) has \(length) bytes, expected \(expected)"
        case let .unknownAddressFamily(family, container):
            "\(container) has address family \(family), neither AF_INET (2) nor AF_INET6 (10)"
        }
    }
}
