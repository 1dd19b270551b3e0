import VRRPCore

/// One netlink attribute (`struct nlattr` and its value) inside a receive buffer.
///
/// A view: ``value`` points into the buffer being walked; see ``NetlinkMessage``. The typed
/// accessors check the value's size and throw ``NetlinkParseError/badAttributeValue(type:length:expected:)``
/// rather than read past it.
public struct NetlinkAttribute {
    /// `nla_type` without the `NLA_F_NESTED` and `NLA_F_NET_BYTEORDER` bits.
    public let type: UInt16
    /// `nla_type` as received.
    public let rawType: UInt16
    /// The value (`nla_len - 4` bytes, without padding).
    public let value: UnsafeRawBufferPointer

    public init(rawType: UInt16, value: UnsafeRawBufferPointer) {
        self.rawType = rawType
        self.type = rawType & ~(netlinkAttributeNested | netlinkAttributeNetworkByteOrder)
        self.value = value
    }

    /// `NLA_F_NESTED` is set. (Many older kernel attributes hold attributes without it.)
    public var isNested: Bool { rawType & netlinkAttributeNested != 0 }
    /// `NLA_F_NET_BYTEORDER` is set.
    public var isNetworkByteOrder: Bool { rawType & netlinkAttributeNetworkByteOrder != 0 }

    /// A `NLA_U8` value.
    public func uint8() throws(NetlinkParseError) -> UInt8 { try integer(UInt8.self) }
    /// A `NLA_U16` value (host order).
    public func uint16() throws(NetlinkParseError) -> UInt16 { try integer(UInt16.self) }
    /// A `NLA_U32` value (host order).
    public func uint32() throws(NetlinkParseError) -> UInt32 { try integer(UInt32.self) }
    /// A `NLA_U64` value (host order).
    public func uint64() throws(NetlinkParseError) -> UInt64 { try integer(UInt64.self) }
    /// A `NLA_S32` value (host order).
    public func int32() throws(NetlinkParseError) -> Int32 { try integer(Int32.self) }
    /// A `NLA_BE16` value, converted to host order.
    public func bigEndian16() throws(NetlinkParseError) -> UInt16 { UInt16(bigEndian: try integer(UInt16.self)) }
    /// A `NLA_BE32` value, converted to host order.
    public func bigEndian32() throws(NetlinkParseError) -> UInt32 { UInt32(bigEndian: try integer(UInt32.self)) }

    /// A string value, up to the first NUL (or the whole value when it has none); invalid
    /// UTF-8 is repaired.
    public func string() -> String {
        let end = value.firstIndex(of: 0) ?? value.count
        return String(decoding: UnsafeRawBufferPointer(rebasing: value[..<end]), as: UTF8.self)
    }

    /// The value's bytes, copied.
    public var bytes: [UInt8] { Array(value) }

    /// An IPv4 (4-byte) or IPv6 (16-byte) address.
    public func ipAddress() throws(NetlinkParseError) -> IPAddress {
        guard value.count == 4 || value.count == 16 else {
            throw .badAttributeValue(type: type, length: value.count, expected: "4 or 16 (an IP address)")
        }
        return IPAddress(family: value.count == 4 ? .ipv4 : .ipv6, from: value, at: 0)
    }

    /// An address of `family`.
    public func ipAddress(family: IPAddressFamily) throws(NetlinkParseError) -> IPAddress {
        guard value.count == family.addressSize else {
            throw .badAttributeValue(type: type, length: value.count, expected: "\(family.addressSize) (an \(family) address)")
        }
        return IPAddress(family: family, from: value, at: 0)
    }

    /// A C struct at the start of the value; the value may be longer (newer kernels extend
    /// structs at the end) but not shorter.
    public func structure<T: BitwiseCopyable>(as type: T.Type) throws(NetlinkParseError) -> T {
        guard value.count >= MemoryLayout<T>.size else {
            throw .badAttributeValue(type: self.type, length: value.count, expected: "at least \(MemoryLayout<T>.size)")
        }
        return value.loadUnaligned(as: T.self)
    }

    /// The attributes inside this one.
    public var nested: NetlinkAttributeReader { NetlinkAttributeReader(value) }

    private func integer<T: FixedWidthInteger & BitwiseCopyable>(_: T.Type) throws(NetlinkParseError) -> T {
        guard value.count == MemoryLayout<T>.size else {
            throw .badAttributeValue(type: type, length: value.count, expected: "\(MemoryLayout<T>.size)")
        }
        return value.loadUnaligned(as: T.self)
    }
}
