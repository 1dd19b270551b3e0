/// The 16-byte header that starts every netlink message (`struct nlmsghdr`, linux/netlink.h).
///
/// All fields are in host byte order, as netlink is:
///
/// | offset | size | field         |
/// |-------:|-----:|---------------|
/// |      0 |    4 | `nlmsg_len`   |
/// |      4 |    2 | `nlmsg_type`  |
/// |      6 |    2 | `nlmsg_flags` |
/// |      8 |    4 | `nlmsg_seq`   |
/// |     12 |    4 | `nlmsg_pid`   |
public struct NetlinkMessageHeader: Sendable, Hashable, CustomStringConvertible {
    /// `sizeof(struct nlmsghdr)`: 16.
    public static let size = 16

    /// `nlmsg_len`: the length of the message including this header (without trailing padding).
    public var length: UInt32
    /// `nlmsg_type`.
    public var type: NetlinkMessageType
    /// `nlmsg_flags`.
    public var flags: NetlinkMessageFlags
    /// `nlmsg_seq`: chosen by the requester and echoed in every reply.
    public var sequence: UInt32
    /// `nlmsg_pid`: the port ID (0 for the kernel; the requester's port in replies).
    public var portID: UInt32

    public init(length: UInt32, type: NetlinkMessageType, flags: NetlinkMessageFlags, sequence: UInt32, portID: UInt32) {
        self.length = length
        self.type = type
        self.flags = flags
        self.sequence = sequence
        self.portID = portID
    }

    /// Reads a header at `offset`; the caller checks that 16 bytes are there.
    init(from buffer: UnsafeRawBufferPointer, at offset: Int) {
        length = buffer.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
        type = NetlinkMessageType(rawValue: buffer.loadUnaligned(fromByteOffset: offset + 4, as: UInt16.self))
        flags = NetlinkMessageFlags(rawValue: buffer.loadUnaligned(fromByteOffset: offset + 6, as: UInt16.self))
        sequence = buffer.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self)
        portID = buffer.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self)
    }

    public var description: String {
        "nlmsghdr(len \(length), type \(type), flags \(flags), seq \(sequence), pid \(portID))"
    }
}

/// A netlink message type (`nlmsg_type`). Values below 16 are the control types every netlink
/// protocol shares; the others belong to a protocol (rtnetlink, a generic netlink family id, ...).
public struct NetlinkMessageType: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// `NLMSG_NOOP` (1): to be ignored.
    public static let noop = NetlinkMessageType(rawValue: 1)
    /// `NLMSG_ERROR` (2): an error, or an acknowledgement when the error code is 0.
    public static let error = NetlinkMessageType(rawValue: 2)
    /// `NLMSG_DONE` (3): the end of a multipart (dump) reply.
    public static let done = NetlinkMessageType(rawValue: 3)
    /// `NLMSG_OVERRUN` (4): data was lost.
    public static let overrun = NetlinkMessageType(rawValue: 4)
    /// `NLMSG_MIN_TYPE` (16): the first protocol-specific type.
    public static let minimumProtocolType = NetlinkMessageType(rawValue: 16)

    /// True for the shared control types (below `NLMSG_MIN_TYPE`).
    public var isControl: Bool { rawValue < 16 }

    public var description: String {
        switch self {
        case .noop: "NLMSG_NOOP"
        case .error: "NLMSG_ERROR"
        case .done: "NLMSG_DONE"
        case .overrun: "NLMSG_OVERRUN"
        default: "\(rawValue)"
        }
    }
}

/// `nlmsg_flags` (linux/netlink.h). The upper byte means different things for GET, NEW and
/// DELETE requests and for acknowledgements, so several names share a value.
public struct NetlinkMessageFlags: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// `NLM_F_REQUEST` (0x1): a request (every message sent to the kernel).
    public static let request = NetlinkMessageFlags(rawValue: 0x1)
    /// `NLM_F_MULTI` (0x2): part of a multipart reply, ended by `NLMSG_DONE`.
    public static let multipart = NetlinkMessageFlags(rawValue: 0x2)
    /// `NLM_F_ACK` (0x4): reply with an acknowledgement (an `NLMSG_ERROR` with code 0) on success.
    public static let acknowledge = NetlinkMessageFlags(rawValue: 0x4)
    /// `NLM_F_ECHO` (0x8): echo this request to the sender.
    public static let echo = NetlinkMessageFlags(rawValue: 0x8)
    /// `NLM_F_DUMP_INTR` (0x10): the dump was inconsistent because the table changed; repeat it.
    public static let dumpInterrupted = NetlinkMessageFlags(rawValue: 0x10)
    /// `NLM_F_DUMP_FILTERED` (0x20): the dump was filtered as requested.
    public static let dumpFiltered = NetlinkMessageFlags(rawValue: 0x20)

    // GET requests.
    /// `NLM_F_ROOT` (0x100): return the whole table.
    public static let root = NetlinkMessageFlags(rawValue: 0x100)
    /// `NLM_F_MATCH` (0x200): return all matching entries.
    public static let match = NetlinkMessageFlags(rawValue: 0x200)
    /// `NLM_F_ATOMIC` (0x400): an atomic snapshot (obsolete).
    public static let atomic = NetlinkMessageFlags(rawValue: 0x400)
    /// `NLM_F_DUMP` (`NLM_F_ROOT | NLM_F_MATCH`, 0x300).
    public static let dump: NetlinkMessageFlags = [.root, .match]

    // NEW requests.
    /// `NLM_F_REPLACE` (0x100): replace an existing object.
    public static let replace = NetlinkMessageFlags(rawValue: 0x100)
    /// `NLM_F_EXCL` (0x200): fail with `EEXIST` if the object exists.
    public static let exclusive = NetlinkMessageFlags(rawValue: 0x200)
    /// `NLM_F_CREATE` (0x400): create the object if it does not exist.
    public static let create = NetlinkMessageFlags(rawValue: 0x400)
    /// `NLM_F_APPEND` (0x800): add to the end of the list.
    public static let append = NetlinkMessageFlags(rawValue: 0x800)

    // Acknowledgements (NLMSG_ERROR).
    /// `NLM_F_CAPPED` (0x100): the echoed request was cut to its header.
    public static let capped = NetlinkMessageFlags(rawValue: 0x100)
    /// `NLM_F_ACK_TLVS` (0x200): extended-ack attributes follow the echoed request.
    public static let acknowledgementAttributes = NetlinkMessageFlags(rawValue: 0x200)

    public var description: String { "0x" + String(rawValue, radix: 16) }
}
