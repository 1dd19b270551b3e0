// The VRRP wire format (RFC 3768 §5, RFC 5798 / RFC 9568 §5) and the IPv4 header that
// carries it. Layouts, all big-endian:
//
//   byte 0      version (high nibble) | type (low nibble)
//   byte 1      VRID
//   byte 2      priority
//   byte 3      count of addresses
//   bytes 4–5   v2: Auth Type (byte 4), Adver Int in seconds (byte 5)
//               v3: 4 reserved bits, 12-bit Max Adver Int in centiseconds
//   bytes 6–7   checksum
//   bytes 8…    count × 4 (IPv4) or 16 (IPv6) address bytes
//   v2 only     8 bytes of Auth Data

extension VRRPAdvertisement {
    /// The VRRP message header size, common to both versions (RFC 5798 §5.1).
    @usableFromInline static let headerLength = 8
    /// The VRRPv2 Auth Data trailer size (RFC 3768 §5.3.10).
    @usableFromInline static let authenticationDataLength = 8
    /// The IPv4 header size without options (RFC 791 §3.1).
    @usableFromInline static let ipv4HeaderLength = 20
    /// The IP protocol number of IPsec AH (RFC 4302 §2), keepalived's `auth_type AH`.
    @usableFromInline static let authenticationHeaderProtocol: UInt8 = 51

    /// The length of the encoded VRRP message in bytes.
    ///
    /// VRRPv2 is 8 + 4n + 8 bytes, the last 8 being the Auth Data (RFC 3768 §5.1);
    /// VRRPv3 is 8 + 4n over IPv4 and 8 + 16n over IPv6 (RFC 5798 §5.1).
    @inlinable public var encodedLength: Int {
        VRRPAdvertisement.expectedLength(version: version, family: family, count: addresses.count)
    }

    /// The message length for `count` addresses of `family`.
    @inlinable
    static func expectedLength(version: VRRPVersion, family: IPAddressFamily, count: Int) -> Int {
        headerLength + count * family.addressSize + (version == .v2 ? authenticationDataLength : 0)
    }

    // MARK: Encoding

    /// Writes the VRRP message into `buffer` and returns the number of bytes written.
    ///
    /// The header gets version and type 1 (RFC 5798 §5.2.1–5.2.2). VRRPv3 writes the
    /// reserved bits as 0 and ``advertisementInterval`` as the 12-bit centisecond field
    /// (RFC 5798 §5.2.6–5.2.7); VRRPv2 writes the interval in whole seconds, the Auth
    /// Type and the 8 Auth Data bytes from ``authenticationData``, first byte most
    /// significant (RFC 3768 §5.3.6–5.3.7, §5.3.10). The checksum is computed in
    /// `checksumForm` (RFC 5798 §5.2.8; VRRPv2 is always message-only). Nothing is allocated.
    ///
    /// Preconditions (programming errors, not input errors): `buffer` holds at least
    /// ``encodedLength`` bytes; at most 255 addresses; `source`, `destination` and the
    /// addresses are of one family, IPv4 for VRRPv2; the v3 interval is 1–4095; the v2
    /// interval is a non-zero multiple of 100 up to 25 500 (255 s).
    ///
    /// - Parameters:
    ///   - buffer: where the message goes, from its first byte.
    ///   - source: the IP source address the packet will carry (for the pseudo-header).
    ///   - destination: the IP destination address the packet will carry (group or unicast peer).
    ///   - checksumForm: how to compute the checksum.
    /// - Returns: ``encodedLength``.
    @discardableResult
    public func encode(into buffer: UnsafeMutableRawBufferPointer, source: IPAddress, destination: IPAddress,
                       checksumForm: VRRPChecksumForm) -> Int {
        let length = encodedLength
        precondition(buffer.count >= length, "buffer too small for the advertisement")
        precondition(addresses.count <= 255, "at most 255 addresses fit the count field")
        precondition(source.family == family && destination.family == family,
                     "the IP header and the addresses must be of one family")
        buffer.storeBytes(of: version.rawValue << 4 | 1, toByteOffset: 0, as: UInt8.self)
        buffer.storeBytes(of: virtualRouterID, toByteOffset: 1, as: UInt8.self)
        buffer.storeBytes(of: priority, toByteOffset: 2, as: UInt8.self)
        buffer.storeBytes(of: UInt8(truncatingIfNeeded: addresses.count), toByteOffset: 3, as: UInt8.self)
        switch version {
        case .v2:
            precondition(family == .ipv4, "VRRPv2 is IPv4 only")
            precondition(advertisementInterval % 100 == 0 && (100...25_500).contains(advertisementInterval),
                         "a VRRPv2 interval is 1–255 whole seconds")
            buffer.storeBytes(of: authenticationType, toByteOffset: 4, as: UInt8.self)
            buffer.storeBytes(of: UInt8(advertisementInterval / 100), toByteOffset: 5, as: UInt8.self)
        case .v3:
            precondition((1...0x0FFF).contains(advertisementInterval), "a VRRPv3 interval is 1–4095 centiseconds")
            buffer.storeBytes(of: advertisementInterval.bigEndian, toByteOffset: 4, as: UInt16.self)
        }
        buffer.storeBytes(of: UInt16(0), toByteOffset: 6, as: UInt16.self)
        let addressBytes = addresses.count * family.addressSize
        if addressBytes > 0 {
            addresses.withUnsafeBytes { bytes in
                UnsafeMutableRawBufferPointer(rebasing: buffer[8..<(8 + addressBytes)]).copyMemory(from: bytes)
            }
        }
        if version == .v2 {
            buffer.storeBytes(of: authenticationData.bigEndian, toByteOffset: 8 + addressBytes, as: UInt64.self)
        }
        let message = UnsafeRawBufferPointer(rebasing: buffer[0..<length])
        let checksum = VRRPChecksum.compute(message: message, form: checksumForm, version: version,
                                            source: source, destination: destination)
        buffer.storeBytes(of: checksum.bigEndian, toByteOffset: 6, as: UInt16.self)
        return length
    }

    /// The encoded VRRP message as a new array (see ``encode(into:source:destination:checksumForm:)``).
    ///
    /// - Parameters:
    ///   - source: the IP source address the packet will carry.
    ///   - destination: the IP destination address the packet will carry.
    ///   - checksumForm: how to compute the checksum (RFC 5798 §5.2.8).
    /// - Returns: ``encodedLength`` bytes.
    public func encoded(source: IPAddress, destination: IPAddress, checksumForm: VRRPChecksumForm) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: encodedLength) { storage, initialized in
            initialized = encode(into: UnsafeMutableRawBufferPointer(storage), source: source,
                                 destination: destination, checksumForm: checksumForm)
        }
    }

    /// The VRRP message inside a complete IPv4 datagram, as keepalived sends it with `IP_HDRINCL`.
    ///
    /// The 20-byte header has version 4, IHL 5, TOS 0xC0 (network control), the total
    /// length, `identification`, no flags (DF clear) and fragment offset 0, `ttl`,
    /// protocol 112, the header checksum (RFC 791 §3.1) and the addresses. The TTL must be
    /// 255 for multicast (RFC 5798 §5.1.1.3; RFC 3768 §5.2.3). Preconditions as for
    /// ``encode(into:source:destination:checksumForm:)``, with IPv4 addresses.
    ///
    /// - Parameters:
    ///   - source: the IPv4 source address.
    ///   - destination: the IPv4 destination (224.0.0.18 or a unicast peer).
    ///   - checksumForm: how to compute the VRRP checksum.
    ///   - ttl: the time to live; 255 unless a test wants otherwise.
    ///   - identification: the IPv4 identification field (the kernel fills in 0 with `IP_HDRINCL`).
    /// - Returns: 20 + ``encodedLength`` bytes.
    public func encodedIPv4Datagram(source: IPAddress, destination: IPAddress, checksumForm: VRRPChecksumForm,
                                    ttl: UInt8 = 255, identification: UInt16 = 0) -> [UInt8] {
        precondition(family == .ipv4, "an IPv4 datagram carries IPv4 addresses")
        let header = VRRPAdvertisement.ipv4HeaderLength
        let total = header + encodedLength
        precondition(total <= Int(UInt16.max), "datagram too long")
        return [UInt8](unsafeUninitializedCapacity: total) { storage, initialized in
            let buffer = UnsafeMutableRawBufferPointer(storage)
            buffer.storeBytes(of: 0x45, toByteOffset: 0, as: UInt8.self)
            buffer.storeBytes(of: 0xC0, toByteOffset: 1, as: UInt8.self)
            buffer.storeBytes(of: UInt16(total).bigEndian, toByteOffset: 2, as: UInt16.self)
            buffer.storeBytes(of: identification.bigEndian, toByteOffset: 4, as: UInt16.self)
            buffer.storeBytes(of: UInt16(0), toByteOffset: 6, as: UInt16.self)
            buffer.storeBytes(of: ttl, toByteOffset: 8, as: UInt8.self)
            buffer.storeBytes(of: VRRPChecksum.ipProtocol, toByteOffset: 9, as: UInt8.self)
            buffer.storeBytes(of: UInt16(0), toByteOffset: 10, as: UInt16.self)
            source.write(to: buffer, at: 12)
            destination.write(to: buffer, at: 16)
            var sum = InternetChecksum()
            sum.add(UnsafeRawBufferPointer(rebasing: buffer[0..<header]))
            buffer.storeBytes(of: sum.checksum.bigEndian, toByteOffset: 10, as: UInt16.self)
            let written = encode(into: UnsafeMutableRawBufferPointer(rebasing: buffer[header...]),
                                 source: source, destination: destination, checksumForm: checksumForm)
            initialized = header + written
        }
    }

    // MARK: Decoding

    /// Decodes a VRRP message as an IPv6 raw socket delivers it (without the IP header).
    ///
    /// Same checks and result as ``decode(message:offset:length:source:destination:hopLimit:)``
    /// over the whole array.
    ///
    /// - Parameters:
    ///   - message: the VRRP message, exactly as long as the IP payload.
    ///   - source: the IP source address (its family is the packet's family).
    ///   - destination: the IP destination address.
    ///   - hopLimit: the received hop limit (from `IPV6_HOPLIMIT`), reported, not checked.
    /// - Returns: the advertisement with what the IP header said.
    /// - Throws: the first failed check, as a ``VRRPDropReason``.
    @inlinable
    public static func decode(message: [UInt8], source: IPAddress, destination: IPAddress,
                              hopLimit: UInt8) throws(VRRPDropReason) -> VRRPReceivedPacket {
        try decode(message: message, offset: 0, length: message.count, source: source,
                   destination: destination, hopLimit: hopLimit)
    }

    /// Decodes and checks the VRRP message at `offset` in `message`, without copying it.
    ///
    /// The checks run in this order, each with its own reason (RFC 5798 §7.1, errata
    /// 8299–8301; the [W] items of the conformance checklist):
    /// 1. fewer than 8 bytes: ``VRRPDropReason/truncatedHeader``;
    /// 2. version not 2 or 3, or VRRPv2 from an IPv6 source: ``VRRPDropReason/unsupportedVersion``;
    /// 3. type not 1: ``VRRPDropReason/badType``;
    /// 4. length not exactly 8 + count × address size (+ 8 for v2): ``VRRPDropReason/lengthMismatch``;
    /// 5. no checksum form verifies (``VRRPChecksum/verify(message:version:source:destination:)``):
    ///    ``VRRPDropReason/badChecksum``;
    /// 6. VRRPv3 with count 0: ``VRRPDropReason/zeroAddressCount``;
    /// 7. interval 0 (v3 centiseconds or v2 seconds): ``VRRPDropReason/zeroInterval``;
    /// 8. VRRPv3 over IPv6 whose first address is not link-local: ``VRRPDropReason/firstAddressNotLinkLocal``.
    ///
    /// The VRRPv3 reserved bits are ignored (RFC 5798 §5.2.6). The hop limit is only
    /// reported: whether it must be 255 depends on the instance's multicast or unicast mode.
    /// VRRPv2 Auth Type and Auth Data are reported as sent. On success nothing is
    /// allocated: the address list refers to `message`'s storage.
    ///
    /// - Parameters:
    ///   - message: storage holding the message (for IPv4, the whole datagram).
    ///   - offset: where the VRRP message starts in `message`.
    ///   - length: the message's length (the IP payload length, without link-layer padding).
    ///   - source: the IP source address (its family is the packet's family).
    ///   - destination: the IP destination address, of the same family.
    ///   - hopLimit: the received TTL or hop limit, reported as is.
    /// - Returns: the advertisement with what the IP header said and the checksum form that verified.
    /// - Throws: the first failed check, as a ``VRRPDropReason``.
    public static func decode(message: [UInt8], offset: Int, length: Int, source: IPAddress, destination: IPAddress,
                              hopLimit: UInt8) throws(VRRPDropReason) -> VRRPReceivedPacket {
        precondition(offset >= 0 && length >= 0 && offset <= message.count && length <= message.count - offset,
                     "message range outside the array")
        precondition(source.family == destination.family, "source and destination of one family")
        let family = source.family
        guard length >= headerLength else { throw .truncatedHeader }

        let versionAndType = message[offset]
        let version: VRRPVersion
        switch versionAndType >> 4 {
        case 2 where family == .ipv4: version = .v2
        case 3: version = .v3
        default: throw .unsupportedVersion
        }
        guard versionAndType & 0x0F == 1 else { throw .badType }

        let count = Int(message[offset + 3])
        guard length == expectedLength(version: version, family: family, count: count) else { throw .lengthMismatch }

        let form = message.withUnsafeBytes { all in
            VRRPChecksum.verify(message: UnsafeRawBufferPointer(rebasing: all[offset..<(offset + length)]),
                                version: version, source: source, destination: destination)
        }
        guard let form else { throw .badChecksum }

        let interval: UInt16
        let authenticationType: UInt8
        var authenticationData: UInt64 = 0
        switch version {
        case .v2:
            authenticationType = message[offset + 4]
            interval = UInt16(message[offset + 5]) * 100
            let trailer = offset + headerLength + count * family.addressSize
            for i in 0..<authenticationDataLength {
                authenticationData = authenticationData << 8 | UInt64(message[trailer + i])
            }
        case .v3:
            guard count > 0 else { throw .zeroAddressCount }
            authenticationType = 0
            interval = (UInt16(message[offset + 4]) << 8 | UInt16(message[offset + 5])) & 0x0FFF
        }
        guard interval != 0 else { throw .zeroInterval }

        let addresses = VRRPAddressList(family: family, storage: message, offset: offset + headerLength, count: count)
        if version == .v3, family == .ipv6, !addresses[0].isIPv6LinkLocal { throw .firstAddressNotLinkLocal }

        let advertisement = VRRPAdvertisement(
            version: version, virtualRouterID: message[offset + 1], priority: message[offset + 2],
            advertisementInterval: interval, addresses: addresses,
            authenticationType: authenticationType, authenticationData: authenticationData)
        return VRRPReceivedPacket(advertisement: advertisement, source: source, destination: destination,
                                  hopLimit: hopLimit, checksumForm: form)
    }

    /// Decodes a whole IPv4 datagram as an IPv4 raw socket delivers it (header included).
    ///
    /// The IPv4 header is checked first (RFC 791 §3.1): at least 20 bytes, version 4,
    /// IHL ≥ 5, a header that fits, a valid header checksum and a total length between the
    /// header length and the buffer size, else ``VRRPDropReason/malformedIPHeader``. Bytes
    /// after the total length are link-layer padding and ignored. Protocol 51 (IPsec AH,
    /// keepalived's `auth_type AH`) gives ``VRRPDropReason/authenticationHeaderUnsupported``,
    /// any other protocol but 112 ``VRRPDropReason/notVRRP``; a fragment (more-fragments
    /// flag or non-zero offset) gives ``VRRPDropReason/fragmented``. Options are skipped.
    /// The payload is then decoded in place by
    /// ``decode(message:offset:length:source:destination:hopLimit:)`` with the TTL as hop limit.
    ///
    /// - Parameter datagram: the received bytes, IPv4 header first.
    /// - Returns: the advertisement with what the IP header said.
    /// - Throws: the first failed check, as a ``VRRPDropReason``.
    public static func decodeIPv4Datagram(_ datagram: [UInt8]) throws(VRRPDropReason) -> VRRPReceivedPacket {
        guard datagram.count >= ipv4HeaderLength, datagram[0] >> 4 == 4 else { throw .malformedIPHeader }
        let ipHeaderLength = Int(datagram[0] & 0x0F) * 4
        let totalLength = Int(datagram[2]) << 8 | Int(datagram[3])
        guard ipHeaderLength >= ipv4HeaderLength, ipHeaderLength <= datagram.count,
              totalLength >= ipHeaderLength, totalLength <= datagram.count else { throw .malformedIPHeader }
        let headerSum = datagram.withUnsafeBytes { all in
            var sum = InternetChecksum()
            sum.add(UnsafeRawBufferPointer(rebasing: all[0..<ipHeaderLength]))
            return sum.sum
        }
        guard headerSum == 0xFFFF else { throw .malformedIPHeader }

        switch datagram[9] {
        case VRRPChecksum.ipProtocol: break
        case authenticationHeaderProtocol: throw .authenticationHeaderUnsupported
        default: throw .notVRRP
        }
        let flagsAndOffset = UInt16(datagram[6]) << 8 | UInt16(datagram[7])
        guard flagsAndOffset & 0x3FFF == 0 else { throw .fragmented }  // MF flag or a fragment offset

        let source = datagram.withUnsafeBytes { IPAddress(family: .ipv4, from: $0, at: 12) }
        let destination = datagram.withUnsafeBytes { IPAddress(family: .ipv4, from: $0, at: 16) }
        return try decode(message: datagram, offset: ipHeaderLength, length: totalLength - ipHeaderLength,
                          source: source, destination: destination, hopLimit: datagram[8])
    }
}
