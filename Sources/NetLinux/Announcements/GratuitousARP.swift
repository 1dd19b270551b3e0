import VRRPCore

/// An ARP packet for IPv4 over Ethernet (RFC 826), without its Ethernet header.
///
/// Layout (28 bytes, big-endian): hardware type (2) = 1, protocol type (2) = 0x0800,
/// hardware length (1) = 6, protocol length (1) = 4, operation (2), sender hardware
/// address (6), sender protocol address (4), target hardware address (6), target
/// protocol address (4).
public struct ARPPacket: Sendable, Hashable {
    /// The ARP operation code (RFC 826 `ar$op`; RFC 5494 registry).
    public struct Operation: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public var rawValue: UInt16
        public init(rawValue: UInt16) { self.rawValue = rawValue }
        /// `ares_op$REQUEST` (1).
        public static let request = Operation(rawValue: 1)
        /// `ares_op$REPLY` (2).
        public static let reply = Operation(rawValue: 2)

        public var description: String {
            switch rawValue {
            case 1: "request"
            case 2: "reply"
            default: "operation \(rawValue)"
            }
        }
    }

    /// The encoded size: 28 bytes.
    public static let length = 28
    /// ARP hardware type Ethernet (`ares_hrd$Ethernet`).
    public static let hardwareTypeEthernet: UInt16 = 1
    /// ARP hardware type IEEE 802 networks, also carrying 6-byte MAC addresses.
    public static let hardwareTypeIEEE802: UInt16 = 6

    public var operation: Operation
    public var senderMAC: MACAddress
    public var senderIP: IPAddress
    public var targetMAC: MACAddress
    public var targetIP: IPAddress
    /// The hardware type field as received (1 for packets built here).
    public var hardwareType: UInt16

    public init(operation: Operation, senderMAC: MACAddress, senderIP: IPAddress, targetMAC: MACAddress,
                targetIP: IPAddress, hardwareType: UInt16 = ARPPacket.hardwareTypeEthernet) {
        precondition(senderIP.family == .ipv4 && targetIP.family == .ipv4, "ARP carries IPv4 addresses")
        self.operation = operation
        self.senderMAC = senderMAC
        self.senderIP = senderIP
        self.targetMAC = targetMAC
        self.targetIP = targetIP
        self.hardwareType = hardwareType
    }

    /// Gratuitous: the sender announces its own address (sender IP = target IP, RFC 5227 §3).
    @inlinable public var isGratuitous: Bool { senderIP == targetIP }

    /// Writes the 28 bytes at the start of `buffer`; returns ``length``.
    @discardableResult
    public func write(to buffer: UnsafeMutableRawBufferPointer) -> Int {
        precondition(buffer.count >= ARPPacket.length, "buffer too small for an ARP packet")
        buffer.storeBytes(of: hardwareType.bigEndian, toByteOffset: 0, as: UInt16.self)
        buffer.storeBytes(of: EthernetHeader.ipv4.bigEndian, toByteOffset: 2, as: UInt16.self)
        buffer[4] = 6
        buffer[5] = 4
        buffer.storeBytes(of: operation.rawValue.bigEndian, toByteOffset: 6, as: UInt16.self)
        senderMAC.write(to: buffer, at: 8)
        senderIP.write(to: buffer, at: 14)
        targetMAC.write(to: buffer, at: 18)
        targetIP.write(to: buffer, at: 24)
        return ARPPacket.length
    }

    /// The 28 encoded bytes.
    public var encoded: [UInt8] {
        [UInt8](unsafeUninitializedCapacity: ARPPacket.length) { storage, initialized in
            initialized = write(to: UnsafeMutableRawBufferPointer(storage))
        }
    }

    /// Reads an Ethernet/IPv4 ARP packet from the start of `bytes`; later bytes (Ethernet padding) are ignored.
    ///
    /// - Throws: ``AnnouncementParseError/truncated(_:offset:needed:available:)`` under 28 bytes;
    ///   ``AnnouncementParseError/unsupportedARPFormat(hardwareType:protocolType:hardwareLength:protocolLength:)``
    ///   for another hardware type than 1 or 6, another protocol than IPv4, or lengths other than 6 and 4.
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(AnnouncementParseError) -> ARPPacket {
        // The fixed part (8 bytes) says what follows; report it before complaining about length.
        guard bytes.count >= 8 else { throw .truncated(.arp, offset: 0, needed: length, available: bytes.count) }
        let htype = read16(bytes, 0)
        let ptype = read16(bytes, 2)
        guard htype == hardwareTypeEthernet || htype == hardwareTypeIEEE802, ptype == EthernetHeader.ipv4,
              bytes[4] == 6, bytes[5] == 4 else {
            throw .unsupportedARPFormat(hardwareType: htype, protocolType: ptype, hardwareLength: bytes[4], protocolLength: bytes[5])
        }
        guard bytes.count >= length else { throw .truncated(.arp, offset: 0, needed: length, available: bytes.count) }
        return ARPPacket(operation: Operation(rawValue: read16(bytes, 6)),
                         senderMAC: MACAddress(from: bytes, at: 8), senderIP: IPAddress(family: .ipv4, from: bytes, at: 14),
                         targetMAC: MACAddress(from: bytes, at: 18), targetIP: IPAddress(family: .ipv4, from: bytes, at: 24),
                         hardwareType: htype)
    }

    /// ``parse(_:)`` over an array.
    public static func parse(_ bytes: [UInt8]) throws(AnnouncementParseError) -> ARPPacket {
        try parsing(bytes) { raw throws(AnnouncementParseError) in try parse(raw) }
    }
}

/// An ARP packet together with the Ethernet header that carried it.
public struct ARPFrame: Sendable, Hashable {
    public var ethernet: EthernetHeader
    public var arp: ARPPacket
    /// Bytes after the ARP packet (Ethernet padding to the 60-byte minimum).
    public var trailingBytes: Int

    public init(ethernet: EthernetHeader, arp: ARPPacket, trailingBytes: Int = 0) {
        self.ethernet = ethernet
        self.arp = arp
        self.trailingBytes = trailingBytes
    }

    /// Whether this is a gratuitous ARP as keepalived sends it: a broadcast *request*
    /// with sender IP = target IP, from the sender's own MAC address.
    public var isKeepalivedStyleGratuitousARP: Bool {
        ethernet.destination.isBroadcast && arp.operation == .request && arp.isGratuitous && ethernet.source == arp.senderMAC
    }
}

/// The gratuitous ARP a VRRP master sends for each IPv4 virtual address (RFC 5798 §6.4.2).
///
/// keepalived (`vrrp_arp.c`, `send_gratuitous_arp_immediate`) sends a 42-byte frame:
/// Ethernet destination ff:ff:ff:ff:ff:ff, source = the interface's MAC (the virtual
/// MAC 00:00:5e:00:01:VRID on a `use_vmac` interface), EtherType 0x0806, then an ARP
/// *request* with sender MAC = that MAC, sender IP = target IP = the virtual address, and
/// target MAC ff:ff:ff:ff:ff:ff. The kernel or the NIC pads it to 60 bytes.
///
/// ```swift
/// let garp = GratuitousARP(address: IPAddress("192.0.2.10")!,
///                          hardwareAddress: .virtualRouterMAC(family: .ipv4, vrid: 51))
/// let frame = garp.frame()        // 42 bytes for an AF_PACKET socket
/// ```
public struct GratuitousARP: Sendable, Hashable {
    /// The announced IPv4 address (the VIP).
    public var address: IPAddress
    /// The MAC address announced for it and used as the frame's source.
    public var hardwareAddress: MACAddress
    /// The ARP target hardware address: broadcast as keepalived sends it (RFC 5227 §3
    /// suggests zero; receivers ignore it in a request).
    public var targetHardwareAddress: MACAddress

    /// The frame size: 14 + 28 = 42 bytes (before padding to the Ethernet minimum).
    public static let frameLength = 42

    public init(address: IPAddress, hardwareAddress: MACAddress, targetHardwareAddress: MACAddress = .broadcast) {
        precondition(address.family == .ipv4, "gratuitous ARP announces an IPv4 address")
        self.address = address
        self.hardwareAddress = hardwareAddress
        self.targetHardwareAddress = targetHardwareAddress
    }

    /// The ARP request: sender = (MAC, VIP), target = (``targetHardwareAddress``, VIP).
    public var packet: ARPPacket {
        ARPPacket(operation: .request, senderMAC: hardwareAddress, senderIP: address,
                  targetMAC: targetHardwareAddress, targetIP: address)
    }

    /// The Ethernet header: broadcast destination, ``hardwareAddress`` source, EtherType ARP.
    public var ethernetHeader: EthernetHeader {
        EthernetHeader(destination: .broadcast, source: hardwareAddress, etherType: EthernetHeader.arp)
    }

    /// Writes the 42-byte frame at the start of `buffer`; returns ``frameLength``.
    @discardableResult
    public func write(to buffer: UnsafeMutableRawBufferPointer) -> Int {
        precondition(buffer.count >= GratuitousARP.frameLength, "buffer too small for a gratuitous ARP")
        let header = ethernetHeader.write(to: buffer)
        return header + packet.write(to: UnsafeMutableRawBufferPointer(rebasing: buffer[header...]))
    }

    /// The 42-byte frame.
    public func frame() -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: GratuitousARP.frameLength) { storage, initialized in
            initialized = write(to: UnsafeMutableRawBufferPointer(storage))
        }
    }

    /// Reads any ARP frame (Ethernet II, optionally VLAN-tagged): its header and its ARP fields.
    ///
    /// - Throws: a truncation, ``AnnouncementParseError/unexpectedEtherType(_:expected:)``
    ///   when the EtherType is not 0x0806, or an ARP format error (see ``ARPPacket/parse(_:)``).
    public static func parse(frame: UnsafeRawBufferPointer) throws(AnnouncementParseError) -> ARPFrame {
        let ethernet = try EthernetHeader.parse(frame)
        guard ethernet.etherType == EthernetHeader.arp else {
            throw .unexpectedEtherType(ethernet.etherType, expected: EthernetHeader.arp)
        }
        let payload = UnsafeRawBufferPointer(rebasing: frame[ethernet.length...])
        do throws(AnnouncementParseError) {
            let arp = try ARPPacket.parse(payload)
            return ARPFrame(ethernet: ethernet, arp: arp, trailingBytes: payload.count - ARPPacket.length)
        } catch {
            throw error.shifted(by: ethernet.length)
        }
    }

    /// ``parse(frame:)`` over an array.
    public static func parse(frame: [UInt8]) throws(AnnouncementParseError) -> ARPFrame {
        try parsing(frame) { raw throws(AnnouncementParseError) in try parse(frame: raw) }
    }
}
