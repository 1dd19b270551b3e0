/// An Ethernet II header (IEEE 802.3 with an EtherType), with any 802.1Q / 802.1ad tags.
///
/// Layout: destination (6), source (6), then zero or more 4-byte tags (TPID 0x8100 or
/// 0x88A8 followed by the 16-bit tag control information), then the EtherType (2).
public struct EthernetHeader: Sendable, Hashable {
    public var destination: MACAddress
    public var source: MACAddress
    /// The VLAN tags, outermost first: each is the TPID and the tag control information
    /// (priority 3 bits, DEI 1 bit, VLAN id 12 bits).
    public var vlanTags: [VLANTag]
    /// The EtherType of the payload (after the tags).
    public var etherType: UInt16

    /// One 802.1Q (TPID 0x8100) or 802.1ad (TPID 0x88A8) tag.
    public struct VLANTag: Sendable, Hashable {
        public var tpid: UInt16
        public var tci: UInt16
        /// The 12-bit VLAN identifier.
        @inlinable public var vlanID: UInt16 { tci & 0x0FFF }
        /// The 3-bit priority code point.
        @inlinable public var priority: UInt8 { UInt8(tci >> 13) }

        public init(tpid: UInt16 = EthernetHeader.vlan, tci: UInt16) {
            self.tpid = tpid
            self.tci = tci
        }
    }

    /// EtherType IPv4.
    public static let ipv4: UInt16 = 0x0800
    /// EtherType ARP (RFC 826).
    public static let arp: UInt16 = 0x0806
    /// EtherType IPv6 (RFC 2464).
    public static let ipv6: UInt16 = 0x86DD
    /// TPID of an 802.1Q VLAN tag.
    public static let vlan: UInt16 = 0x8100
    /// TPID of an 802.1ad service tag (QinQ).
    public static let serviceVLAN: UInt16 = 0x88A8
    /// The most tags ``parse(_:)`` reads before giving up on a frame.
    public static let maximumTags = 8

    public init(destination: MACAddress, source: MACAddress, etherType: UInt16, vlanTags: [VLANTag] = []) {
        self.destination = destination
        self.source = source
        self.etherType = etherType
        self.vlanTags = vlanTags
    }

    /// The header size in bytes: 14 plus 4 per tag.
    @inlinable public var length: Int { 14 + 4 * vlanTags.count }

    /// Writes the header at the start of `buffer` and returns ``length``.
    @discardableResult
    public func write(to buffer: UnsafeMutableRawBufferPointer) -> Int {
        precondition(buffer.count >= length, "buffer too small for the Ethernet header")
        destination.write(to: buffer, at: 0)
        source.write(to: buffer, at: 6)
        var offset = 12
        for tag in vlanTags {
            buffer.storeBytes(of: tag.tpid.bigEndian, toByteOffset: offset, as: UInt16.self)
            buffer.storeBytes(of: tag.tci.bigEndian, toByteOffset: offset + 2, as: UInt16.self)
            offset += 4
        }
        buffer.storeBytes(of: etherType.bigEndian, toByteOffset: offset, as: UInt16.self)
        return offset + 2
    }

    /// Reads the header at the start of `frame`; the payload starts at the result's ``length``.
    ///
    /// Tags with TPID 0x8100 or 0x88A8 are collected (at most ``maximumTags``); the first
    /// other value is the EtherType. Values below 0x0600 (an 802.3 length field) are
    /// returned as they are.
    ///
    /// - Throws: ``AnnouncementParseError/truncated(_:offset:needed:available:)`` when the frame ends inside the header.
    public static func parse(_ frame: UnsafeRawBufferPointer) throws(AnnouncementParseError) -> EthernetHeader {
        guard frame.count >= 14 else { throw .truncated(.ethernetHeader, offset: 0, needed: 14, available: frame.count) }
        var tags: [VLANTag] = []
        var offset = 12
        var type = read16(frame, 12)
        while type == vlan || type == serviceVLAN, tags.count < maximumTags {
            guard frame.count >= offset + 6 else {
                throw .truncated(.vlanTag, offset: offset, needed: 6, available: frame.count - offset)
            }
            tags.append(VLANTag(tpid: type, tci: read16(frame, offset + 2)))
            offset += 4
            type = read16(frame, offset)
        }
        return EthernetHeader(destination: MACAddress(from: frame, at: 0), source: MACAddress(from: frame, at: 6),
                              etherType: type, vlanTags: tags)
    }

    /// ``parse(_:)`` over an array.
    public static func parse(_ frame: [UInt8]) throws(AnnouncementParseError) -> EthernetHeader {
        try parsing(frame) { raw throws(AnnouncementParseError) in try parse(raw) }
    }
}

/// The big-endian 16-bit value at `offset`; the caller checks bounds.
@inlinable func read16(_ buffer: UnsafeRawBufferPointer, _ offset: Int) -> UInt16 {
    UInt16(buffer[offset]) << 8 | UInt16(buffer[offset + 1])
}

/// The big-endian 32-bit value at `offset`; the caller checks bounds.
@inlinable func read32(_ buffer: UnsafeRawBufferPointer, _ offset: Int) -> UInt32 {
    UInt32(read16(buffer, offset)) << 16 | UInt32(read16(buffer, offset + 2))
}
