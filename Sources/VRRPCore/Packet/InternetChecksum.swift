/// A running RFC 1071 Internet checksum over one or more buffers.
///
/// The Internet checksum is the one's-complement of the one's-complement sum of the
/// data taken as big-endian 16-bit words (RFC 1071 §1). Because that sum is
/// commutative and independent of byte order (RFC 1071 §2(A), §2(B)), this type adds
/// whole 64-bit words in the machine's byte order with an end-around carry, folds the
/// result to 16 bits and swaps it to network order only at the end. Buffers may have
/// any length: a buffer that starts at an odd position of the stream is summed as if
/// aligned and its partial sum byte-swapped (RFC 1071 §2(B)). Nothing is allocated, so
/// a pseudo-header and a message can be summed from separate places.
///
/// ```swift
/// var sum = InternetChecksum()
/// pseudoHeader.withUnsafeBytes { sum.add($0) }
/// message.withUnsafeBytes { sum.add($0) }
/// let field = sum.checksum      // store as big-endian
/// ```
public struct InternetChecksum: Sendable {
    /// The partial sum, in machine byte order, with every carry folded back in.
    @usableFromInline var accumulator: UInt64 = 0
    /// Whether an odd number of bytes has been added so far.
    @usableFromInline var oddLength = false

    /// An empty sum (no bytes added).
    @inlinable public init() {}

    /// Adds `bytes` to the sum, continuing the stream where the previous call ended.
    ///
    /// - Parameter bytes: the next bytes of the stream; any length, any alignment.
    @inlinable
    public mutating func add(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        var partial = InternetChecksum.machineOrderSum(bytes)
        if oddLength {
            // RFC 1071 §2(B): the words of a stream that starts at an odd offset are the
            // byte-swapped words of the aligned stream, so the sum is byte-swapped too.
            partial = UInt64(InternetChecksum.fold(partial).byteSwapped)
        }
        accumulator = InternetChecksum.addWithCarry(accumulator, partial)
        if bytes.count & 1 == 1 { oddLength.toggle() }
    }

    /// Adds the 16-bit word `value`, written in network order, to the stream.
    ///
    /// - Parameter value: the word's numeric value (`0x0070` adds the bytes `00 70`).
    @inlinable
    public mutating func add(_ value: UInt16) {
        withUnsafeBytes(of: value.bigEndian) { add($0) }
    }

    /// Adds the 32-bit word `value`, written in network order, to the stream.
    ///
    /// - Parameter value: the word's numeric value (`40` adds the bytes `00 00 00 28`).
    @inlinable
    public mutating func add(_ value: UInt32) {
        withUnsafeBytes(of: value.bigEndian) { add($0) }
    }

    /// Adds the network-order bytes of `address` (4 or 16) to the stream.
    ///
    /// - Parameter address: an IPv4 or IPv6 address, as it appears in an IP header.
    @inlinable
    public mutating func add(_ address: IPAddress) {
        address.withBytes { add($0) }
    }

    /// The one's-complement sum of everything added, folded to 16 bits (network-order value).
    ///
    /// A message whose checksum field is correct sums to `0xFFFF` together with its
    /// pseudo-header (RFC 1071 §1, "the result is checked").
    @inlinable public var sum: UInt16 {
        UInt16(bigEndian: InternetChecksum.fold(accumulator))
    }

    /// The checksum field's value: the one's-complement of ``sum`` (store it big-endian).
    @inlinable public var checksum: UInt16 { ~sum }

    /// Adds the pseudo-header of the family of `source` (which `destination` must share):
    /// IPv4 (RFC 768 style): source, destination, a zero byte, `protocol`, 16-bit length;
    /// IPv6 (RFC 8200 §8.1): source, destination, 32-bit upper-layer length, three zero
    /// bytes, next header `protocol`. VRRP uses protocol 112, ICMPv6 58.
    public mutating func addPseudoHeader(source: IPAddress, destination: IPAddress, protocol proto: UInt8, length: Int) {
        add(source)
        add(destination)
        if source.family == .ipv4 {
            add(UInt16(proto))
            add(UInt16(truncatingIfNeeded: length))
        } else {
            add(UInt32(truncatingIfNeeded: length))
            add(UInt32(proto))
        }
    }

    // MARK: Arithmetic

    /// `a + b` with the carry out of bit 63 added back in (end-around carry).
    @inlinable @inline(__always)
    static func addWithCarry(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let (s, overflow) = a.addingReportingOverflow(b)
        // After an overflow `s` is at most 2^64 - 2, so adding the carry cannot overflow.
        return overflow ? s &+ 1 : s
    }

    /// Folds a 64-bit end-around-carry sum to 16 bits (machine byte order).
    @inlinable @inline(__always)
    static func fold(_ value: UInt64) -> UInt16 {
        var s = (value & 0xFFFF_FFFF) &+ (value >> 32)  // < 2^33
        s = (s & 0xFFFF) &+ (s >> 16)                     // ≤ 0x2FFFE
        s = (s & 0xFFFF) &+ (s >> 16)                     // ≤ 0x10001
        s = (s & 0xFFFF) &+ (s >> 16)                     // ≤ 0xFFFF
        return UInt16(truncatingIfNeeded: s)
    }

    /// The sum of `bytes` as if they started at an even offset, in machine byte order.
    @inlinable
    static func machineOrderSum(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        let count = bytes.count
        var sum: UInt64 = 0
        var i = 0
        // Two independent lanes let the CPU overlap the additions.
        var other: UInt64 = 0
        while i + 16 <= count {
            sum = addWithCarry(sum, bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            other = addWithCarry(other, bytes.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self))
            i += 16
        }
        sum = addWithCarry(sum, other)
        if i + 8 <= count {
            sum = addWithCarry(sum, bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            i += 8
        }
        // The tail is under 8 bytes: these additions cannot carry out of 64 bits more than once.
        if i + 4 <= count {
            sum = addWithCarry(sum, UInt64(bytes.loadUnaligned(fromByteOffset: i, as: UInt32.self)))
            i += 4
        }
        if i + 2 <= count {
            sum = addWithCarry(sum, UInt64(bytes.loadUnaligned(fromByteOffset: i, as: UInt16.self)))
            i += 2
        }
        if i < count {
            // A last odd byte is the high byte of a word whose low byte is zero.
            sum = addWithCarry(sum, UInt64((UInt16(bytes[i]) << 8).bigEndian))
        }
        return sum
    }
}

/// The VRRP checksum in each of its forms (RFC 3768 §5.3.8; RFC 5798 / RFC 9568 §5.2.8).
///
/// VRRPv2 sums the VRRP message only. VRRPv3 over IPv6 prepends the RFC 8200 §8.1
/// pseudo-header: source (16), destination (16), upper-layer length as a 32-bit
/// big-endian number, three zero bytes and next header 112. VRRPv3 over IPv4 is
/// ambiguous in RFC 5798: keepalived and FRR prepend the IPv4 pseudo-header (source,
/// destination, a zero byte, protocol 112, 16-bit length), while RFC 9568 and Cisco,
/// Juniper and Arista sum the message only; see ``VRRPChecksumForm``.
///
/// ```swift
/// let form = bytes.withUnsafeBytes {
///     VRRPChecksum.verify(message: $0, version: .v3, source: src, destination: dst)
/// }   // .pseudoHeader, .messageOnly, .pseudoHeaderMulticastGroup or nil
/// ```
public enum VRRPChecksum {
    /// The VRRP protocol number, used as the pseudo-header's protocol or next header (RFC 5798 §5.1.1.4).
    public static let ipProtocol: UInt8 = 112

    /// Computes the checksum of a VRRP message in `form`, as if its checksum field (bytes 6–7) were zero.
    ///
    /// VRRPv2 is always summed over the message alone, whatever `form` says (RFC 3768
    /// §5.3.8). For the pseudo-header forms the addresses' family selects the IPv4 or the
    /// IPv6 pseudo-header; ``VRRPChecksumForm/pseudoHeaderMulticastGroup`` puts the
    /// family's VRRP group (224.0.0.18 or ff02::12) in place of `destination`.
    ///
    /// - Parameters:
    ///   - message: the whole VRRP message (at least its 8-byte header); its checksum field is skipped.
    ///   - form: which checksum form to compute.
    ///   - version: the message's VRRP version.
    ///   - source: the IP source address of the packet.
    ///   - destination: the IP destination address actually used (multicast group or unicast peer).
    /// - Returns: the value to store big-endian in bytes 6–7.
    public static func compute(message: UnsafeRawBufferPointer, form: VRRPChecksumForm, version: VRRPVersion,
                               source: IPAddress, destination: IPAddress) -> UInt16 {
        precondition(message.count >= 8, "a VRRP message has an 8-byte header")
        var sum = InternetChecksum()
        addPseudoHeader(to: &sum, length: message.count, form: form, version: version,
                        source: source, destination: destination)
        sum.add(UnsafeRawBufferPointer(rebasing: message[0..<6]))
        sum.add(UnsafeRawBufferPointer(rebasing: message[8...]))
        return sum.checksum
    }

    /// Finds the checksum form under which a received VRRP message verifies.
    ///
    /// The forms are tried in this order: VRRPv2 accepts only
    /// ``VRRPChecksumForm/messageOnly``; VRRPv3 tries ``VRRPChecksumForm/pseudoHeader``
    /// (with the actual destination), then ``VRRPChecksumForm/messageOnly`` (IPv4 only,
    /// RFC 9568 §5.2.8), then ``VRRPChecksumForm/pseudoHeaderMulticastGroup`` when
    /// `destination` is not multicast (keepalived before 1.3.6 sending unicast). A field
    /// of `0xFFFF` where `0x0000` was computed is accepted, as one's-complement arithmetic
    /// makes them equal (RFC 1071 §1).
    ///
    /// - Parameters:
    ///   - message: the whole VRRP message as received, checksum field included (at least 8 bytes).
    ///   - version: the version field of the message.
    ///   - source: the IP source address of the packet.
    ///   - destination: the IP destination address of the packet.
    /// - Returns: the first form that verifies, or `nil` when none does.
    public static func verify(message: UnsafeRawBufferPointer, version: VRRPVersion,
                              source: IPAddress, destination: IPAddress) -> VRRPChecksumForm? {
        precondition(message.count >= 8, "a VRRP message has an 8-byte header")
        // The message is summed once; each form only adds its pseudo-header.
        var body = InternetChecksum()
        body.add(message)
        let messageSum = body.accumulator
        func verifies(_ form: VRRPChecksumForm) -> Bool {
            sumVerifies(messageSum: messageSum, length: message.count, form: form, version: version,
                        source: source, destination: destination)
        }
        if version == .v2 { return verifies(.messageOnly) ? .messageOnly : nil }
        if verifies(.pseudoHeader) { return .pseudoHeader }
        if source.family == .ipv4, verifies(.messageOnly) { return .messageOnly }
        if !destination.isMulticast, verifies(.pseudoHeaderMulticastGroup) { return .pseudoHeaderMulticastGroup }
        return nil
    }

    /// Whether the pseudo-header of `form` plus a message summing to `messageSum` verifies.
    static func sumVerifies(messageSum: UInt64, length: Int, form: VRRPChecksumForm, version: VRRPVersion,
                            source: IPAddress, destination: IPAddress) -> Bool {
        var sum = InternetChecksum()
        addPseudoHeader(to: &sum, length: length, form: form, version: version, source: source, destination: destination)
        // The pseudo-header has an even length, so the message's sum simply adds on.
        sum.accumulator = InternetChecksum.addWithCarry(sum.accumulator, messageSum)
        return sum.sum == 0xFFFF
    }

    /// Adds the pseudo-header of `form` (nothing for message-only or VRRPv2).
    @inlinable
    static func addPseudoHeader(to sum: inout InternetChecksum, length: Int, form: VRRPChecksumForm,
                                version: VRRPVersion, source: IPAddress, destination: IPAddress) {
        guard version == .v3, form != .messageOnly else { return }
        precondition(source.family == destination.family, "source and destination of one family")
        let target = form == .pseudoHeaderMulticastGroup ? IPAddress.vrrpMulticastGroup(source.family) : destination
        sum.addPseudoHeader(source: source, destination: target, protocol: ipProtocol, length: length)
    }
}
