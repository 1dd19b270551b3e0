import VRRPCore

/// Rounds `length` up to netlink's 4-byte alignment (`NLMSG_ALIGN` and `NLA_ALIGN`,
/// linux/netlink.h: both align to 4).
@inline(__always)
func netlinkAligned(_ length: Int) -> Int { (length + 3) & ~3 }

/// Builds netlink messages into one reusable byte buffer.
///
/// A message is a `struct nlmsghdr`, a family header (`ifaddrmsg`, `ifinfomsg`, `genlmsghdr`,
/// ...) padded to 4 bytes, then attributes (`struct nlattr`: `nla_len`, `nla_type`, the value,
/// padding to 4). Nested attributes carry `NLA_F_NESTED` and contain attributes. Values are in
/// host byte order unless written with `bigEndian:`. The builder writes straight into its
/// buffer: once the buffer has grown to fit, building a message allocates nothing, and
/// ``reset()`` keeps the capacity for the next one.
///
/// ```swift
/// var b = NetlinkMessageBuilder()
/// b.beginMessage(type: .init(rawValue: 20), flags: [.request, .acknowledge, .create, .exclusive])
/// b.appendFamilyHeader(ifaddrmsg(ifa_family: 2, ifa_prefixlen: 24, ifa_flags: 0, ifa_scope: 0, ifa_index: 2))
/// b.appendAttribute(2, address: IPAddress("192.0.2.100")!)   // IFA_LOCAL
/// b.endMessage()
/// b.bytes   // the 32 bytes to send
/// ```
///
/// Misuse (an attribute longer than 65 535 bytes, ending a message that was not begun) is a
/// programming error and traps.
public struct NetlinkMessageBuilder: Sendable {
    /// The messages built so far.
    public private(set) var bytes: [UInt8]
    /// Where the open message starts, if one is open.
    private var openMessage: Int?
    /// Where the last message began (to patch its sequence number).
    public private(set) var lastMessageOffset: Int?
    /// How many messages were begun since the last ``reset()``.
    public private(set) var messageCount = 0

    /// A builder whose buffer starts with room for `capacity` bytes.
    public init(capacity: Int = 4096) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Forgets the messages built so far, keeping the buffer's capacity.
    public mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        openMessage = nil
        lastMessageOffset = nil
        messageCount = 0
    }

    /// True while a message is begun and not yet ended.
    public var hasOpenMessage: Bool { openMessage != nil }

    // MARK: Messages

    /// Starts a message: writes its `nlmsghdr` with a length that ``endMessage()`` fills in.
    /// An open message is ended first.
    public mutating func beginMessage(type: NetlinkMessageType, flags: NetlinkMessageFlags,
                                      sequence: UInt32 = 0, portID: UInt32 = 0) {
        if openMessage != nil { endMessage() }
        let start = bytes.count
        appendRaw(UInt32(0))              // nlmsg_len, patched by endMessage
        appendRaw(type.rawValue)          // nlmsg_type
        appendRaw(flags.rawValue)         // nlmsg_flags
        appendRaw(sequence)               // nlmsg_seq
        appendRaw(portID)                 // nlmsg_pid
        openMessage = start
        lastMessageOffset = start
        messageCount += 1
    }

    /// Appends the family header (a C struct such as `ifaddrmsg`, laid out as in C) and pads
    /// it to 4 bytes.
    public mutating func appendFamilyHeader<T: BitwiseCopyable>(_ header: T) {
        Swift.withUnsafeBytes(of: header) { bytes.append(contentsOf: $0) }
        pad()
    }

    /// Appends raw bytes to the message body and pads them to 4 bytes.
    public mutating func appendPayload(_ payload: UnsafeRawBufferPointer) {
        bytes.append(contentsOf: payload)
        pad()
    }

    /// Ends the open message by writing its `nlmsg_len`. Messages end 4-byte aligned.
    public mutating func endMessage() {
        guard let start = openMessage else { preconditionFailure("endMessage() without beginMessage()") }
        store(UInt32(bytes.count - start), at: start)
        openMessage = nil
    }

    /// Rewrites the sequence number, port ID and flags of the message that starts at `offset`.
    mutating func patchMessage(at offset: Int, sequence: UInt32, portID: UInt32, addingFlags: NetlinkMessageFlags) {
        precondition(offset + NetlinkMessageHeader.size <= bytes.count, "no message at \(offset)")
        let flags = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset + 6, as: UInt16.self) }
        store(flags | addingFlags.rawValue, at: offset + 6)
        store(sequence, at: offset + 8)
        store(portID, at: offset + 12)
    }

    // MARK: Attributes

    /// Appends an attribute with `value` as its bytes.
    /// - Parameters:
    ///   - type: `nla_type` (without `NLA_F_NESTED`).
    ///   - value: the value; at most 65 531 bytes.
    public mutating func appendAttribute(_ type: UInt16, bytes value: UnsafeRawBufferPointer) {
        precondition(value.count <= Int(UInt16.max) - 4, "attribute \(type) too long (\(value.count) bytes)")
        appendRaw(UInt16(4 + value.count))   // nla_len: header + value, without padding
        appendRaw(type)                      // nla_type
        bytes.append(contentsOf: value)
        pad()
    }

    /// Appends an attribute with these bytes as its value.
    public mutating func appendAttribute(_ type: UInt16, bytes value: [UInt8]) {
        value.withUnsafeBytes { appendAttribute(type, bytes: $0) }
    }

    /// Appends a `NLA_U8` attribute.
    public mutating func appendAttribute(_ type: UInt16, uint8 value: UInt8) { appendInteger(type, value) }
    /// Appends a `NLA_U16` attribute (host byte order).
    public mutating func appendAttribute(_ type: UInt16, uint16 value: UInt16) { appendInteger(type, value) }
    /// Appends a `NLA_U32` attribute (host byte order).
    public mutating func appendAttribute(_ type: UInt16, uint32 value: UInt32) { appendInteger(type, value) }
    /// Appends a `NLA_U64` attribute (host byte order).
    public mutating func appendAttribute(_ type: UInt16, uint64 value: UInt64) { appendInteger(type, value) }
    /// Appends a `NLA_S32` attribute (host byte order).
    public mutating func appendAttribute(_ type: UInt16, int32 value: Int32) { appendInteger(type, value) }
    /// Appends a `NLA_BE16` attribute (network byte order, such as a port), without
    /// `NLA_F_NET_BYTEORDER`: the kernel's attribute policies say which values are big-endian.
    public mutating func appendAttribute(_ type: UInt16, bigEndian16 value: UInt16) { appendInteger(type, value.bigEndian) }
    /// Appends a `NLA_BE32` attribute (network byte order), without `NLA_F_NET_BYTEORDER`.
    public mutating func appendAttribute(_ type: UInt16, bigEndian32 value: UInt32) { appendInteger(type, value.bigEndian) }

    /// Appends a C struct (such as `ifa_cacheinfo`) as an attribute value.
    public mutating func appendAttribute<T: BitwiseCopyable>(_ type: UInt16, structure value: T) {
        Swift.withUnsafeBytes(of: value) { appendAttribute(type, bytes: $0) }
    }

    /// Appends a NUL-terminated string attribute (`NLA_NUL_STRING`, also accepted as `NLA_STRING`).
    public mutating func appendAttribute(_ type: UInt16, string: String) {
        var s = string
        s.withUTF8 { utf8 in
            precondition(utf8.count <= Int(UInt16.max) - 5, "attribute \(type) too long (\(utf8.count) bytes)")
            appendRaw(UInt16(4 + utf8.count + 1))
            appendRaw(type)
            bytes.append(contentsOf: utf8)
            bytes.append(0)
        }
        pad()
    }

    /// Appends an IP address attribute: 4 or 16 bytes in network order.
    public mutating func appendAttribute(_ type: UInt16, address: IPAddress) {
        address.withBytes { appendAttribute(type, bytes: $0) }
    }

    /// Appends an attribute without a value (`NLA_FLAG`).
    public mutating func appendFlagAttribute(_ type: UInt16) {
        appendRaw(UInt16(4))
        appendRaw(type)
    }

    /// Where a nested attribute starts; give it back to ``endNestedAttribute(_:)``.
    public struct Nest: Sendable, Hashable {
        let offset: Int
    }

    /// Starts a nested attribute (`NLA_F_NESTED` set); attributes appended until
    /// ``endNestedAttribute(_:)`` go inside it.
    public mutating func beginNestedAttribute(_ type: UInt16) -> Nest {
        let start = bytes.count
        appendRaw(UInt16(0))                 // nla_len, patched by endNestedAttribute
        appendRaw(type | netlinkAttributeNested)
        return Nest(offset: start)
    }

    /// Ends a nested attribute by writing its `nla_len`.
    public mutating func endNestedAttribute(_ nest: Nest) {
        let length = bytes.count - nest.offset
        precondition(nest.offset + 4 <= bytes.count && length <= Int(UInt16.max), "nested attribute too long (\(length) bytes)")
        store(UInt16(length), at: nest.offset)
    }

    // MARK: Access

    /// Calls `body` with the bytes built so far.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try bytes.withUnsafeBytes(body)
    }

    // MARK: Private

    private mutating func appendInteger<T: FixedWidthInteger & BitwiseCopyable>(_ type: UInt16, _ value: T) {
        Swift.withUnsafeBytes(of: value) { appendAttribute(type, bytes: $0) }
    }

    private mutating func appendRaw<T: FixedWidthInteger & BitwiseCopyable>(_ value: T) {
        Swift.withUnsafeBytes(of: value) { bytes.append(contentsOf: $0) }
    }

    private mutating func pad() {
        let padding = netlinkAligned(bytes.count) - bytes.count
        for _ in 0..<padding { bytes.append(0) }
    }

    private mutating func store<T: FixedWidthInteger & BitwiseCopyable>(_ value: T, at offset: Int) {
        bytes.withUnsafeMutableBytes { $0.storeBytes(of: value, toByteOffset: offset, as: T.self) }
    }
}

/// `NLA_F_NESTED` (linux/netlink.h): the attribute holds attributes.
let netlinkAttributeNested: UInt16 = 1 << 15
/// `NLA_F_NET_BYTEORDER` (linux/netlink.h): the value is in network byte order.
let netlinkAttributeNetworkByteOrder: UInt16 = 1 << 14
