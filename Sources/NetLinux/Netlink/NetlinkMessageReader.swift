/// Walks a buffer of netlink messages, as received from one `recvmsg(2)` (which may hold many
/// messages of a multipart reply), checking every length against the buffer.
///
/// ```swift
/// var reader = NetlinkMessageReader(received)
/// while let message = try reader.next() { ... }
/// ```
public struct NetlinkMessageReader {
    /// The bytes being walked.
    public let buffer: UnsafeRawBufferPointer
    /// Where the next message starts.
    public private(set) var offset = 0

    public init(_ buffer: UnsafeRawBufferPointer) { self.buffer = buffer }

    /// The next message, or `nil` at the end of the buffer.
    /// - Throws: ``NetlinkParseError`` for a truncated header, a length below 16 or past the
    ///   buffer. After an error the reader stays at the bad message and keeps throwing.
    public mutating func next() throws(NetlinkParseError) -> NetlinkMessage? {
        let available = buffer.count - offset
        if available <= 0 { return nil }
        guard available >= NetlinkMessageHeader.size else { throw .truncatedHeader(offset: offset, available: available) }
        let header = NetlinkMessageHeader(from: buffer, at: offset)
        guard header.length >= UInt32(NetlinkMessageHeader.size) else {
            throw .messageLengthTooSmall(offset: offset, length: header.length)
        }
        guard header.length <= UInt32(available) else {
            throw .messageLengthPastBuffer(offset: offset, length: header.length, available: available)
        }
        let length = Int(header.length)
        let payload = UnsafeRawBufferPointer(rebasing: buffer[(offset + NetlinkMessageHeader.size)..<(offset + length)])
        let message = NetlinkMessage(header: header, payload: payload, offset: offset)
        // The last message need not be padded to 4.
        offset = min(offset + netlinkAligned(length), buffer.count)
        return message
    }
}
