/// Why bytes received from a netlink socket could not be read as netlink messages or
/// attributes. Every parser in NetLinux reports malformed input with one of these, never by
/// crashing; offsets count from the start of the buffer (or attribute area) being walked.
public enum NetlinkParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Fewer than 16 bytes (a `struct nlmsghdr`) remain where a message should start.
    case truncatedHeader(offset: Int, available: Int)
    /// `nlmsg_len` is smaller than the 16-byte header itself.
    case messageLengthTooSmall(offset: Int, length: UInt32)
    /// `nlmsg_len` runs past the end of the buffer.
    case messageLengthPastBuffer(offset: Int, length: UInt32, available: Int)
    /// The payload is shorter than the fixed header its message type starts with
    /// (for example an `ifinfomsg` of 16 bytes, or an `nlmsgerr` of 20).
    case truncatedPayload(type: UInt16, needed: Int, available: Int)
    /// An attribute header does not fit, `nla_len` is below 4, or `nla_len` runs past the end.
    case badAttributeLength(offset: Int, length: Int, available: Int)
    /// An attribute's value has the wrong size for what it holds.
    case badAttributeValue(type: UInt16, length: Int, expected: String)
    /// A message lacks an attribute it must carry.
    case missingAttribute(type: UInt16, in: String)
    /// A field holds a value that cannot be right.
    case invalidValue(String)

    public var description: String {
        switch self {
        case let .truncatedHeader(offset, available):
            "truncated netlink header at byte \(offset): \(available) bytes left, 16 needed"
        case let .messageLengthTooSmall(offset, length):
            "netlink message at byte \(offset) claims a length of \(length), less than its 16-byte header"
        case let .messageLengthPastBuffer(offset, length, available):
            "netlink message at byte \(offset) claims \(length) bytes but only \(available) are left"
        case let .truncatedPayload(type, needed, available):
            "netlink message of type \(type) has \(available) payload bytes, \(needed) needed"
        case let .badAttributeLength(offset, length, available):
            "bad attribute length \(length) at byte \(offset) (\(available) bytes left)"
        case let .badAttributeValue(type, length, expected):
            "attribute \(type) has \(length) bytes, expected \(expected)"
        case let .missingAttribute(type, container):
            "\(container) lacks attribute \(type)"
        case let .invalidValue(text):
            text
        }
    }
}
