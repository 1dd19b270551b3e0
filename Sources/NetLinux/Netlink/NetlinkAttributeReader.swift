/// Walks a run of attributes, checking each `nla_len` against the bytes that remain.
///
/// ```swift
/// var attributes = try message.attributes(afterFamilyHeaderOfSize: 8)
/// while let a = try attributes.next() {
///     if a.type == 3 { label = a.string() }
/// }
/// ```
public struct NetlinkAttributeReader {
    /// The bytes being walked.
    public let area: UnsafeRawBufferPointer
    /// Where the next attribute starts.
    public private(set) var offset = 0

    public init(_ area: UnsafeRawBufferPointer) { self.area = area }

    /// The next attribute, or `nil` at the end.
    /// - Throws: ``NetlinkParseError/badAttributeLength(offset:length:available:)`` when fewer
    ///   than 4 bytes remain but some do, when `nla_len` is below 4, or when it runs past the end.
    public mutating func next() throws(NetlinkParseError) -> NetlinkAttribute? {
        let available = area.count - offset
        if available <= 0 { return nil }
        guard available >= 4 else { throw .badAttributeLength(offset: offset, length: available, available: available) }
        let length = Int(area.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
        let rawType = area.loadUnaligned(fromByteOffset: offset + 2, as: UInt16.self)
        guard length >= 4, length <= available else {
            throw .badAttributeLength(offset: offset, length: length, available: available)
        }
        let value = UnsafeRawBufferPointer(rebasing: area[(offset + 4)..<(offset + length)])
        // The last attribute need not be padded.
        offset = min(offset + netlinkAligned(length), area.count)
        return NetlinkAttribute(rawType: rawType, value: value)
    }

    /// The first attribute of `type` from the current position, or `nil`; consumes the reader
    /// up to and including it.
    public mutating func first(_ type: UInt16) throws(NetlinkParseError) -> NetlinkAttribute? {
        while let a = try next() {
            if a.type == type { return a }
        }
        return nil
    }
}
