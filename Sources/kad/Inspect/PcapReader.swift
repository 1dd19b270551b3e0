// Reading captures for `kad inspect`: classic libpcap files and pcapng.
//
// Classic pcap (draft-ietf-opsawg-pcap): a 24-byte file header — magic (4), major (2),
// minor (2), reserved/thiszone (4), reserved/sigfigs (4), snaplen (4), link type and
// FCS flags (4) — then records of a 16-byte header — seconds (4), microseconds or
// nanoseconds (4), captured length (4), original length (4) — and the captured bytes.
// The magic, read in the file's byte order, is a1b2c3d4 (microseconds) or a1b23c4d
// (nanoseconds); read in the other order it is d4c3b2a1 or 4d3cb2a1.
//
// pcapng (draft-ietf-opsawg-pcapng): blocks of type (4), total length (4), body, total
// length (4). Read here: Section Header (0x0A0D0D0A, byte-order magic 0x1A2B3C4D),
// Interface Description (1: link type, snaplen, if_tsresol, if_tsoffset), Enhanced
// Packet (6), Simple Packet (3) and the obsolete Packet block (2). Others are skipped.

/// A capture's link-layer header type (the LINKTYPE_ registry), as far as kad inspect reads it.
enum LinkType: Sendable, Hashable {
    case ethernet
    /// LINKTYPE_RAW (101): an IPv4 or IPv6 packet, told apart by the version nibble.
    case rawIP
    case ipv4
    case ipv6
    /// Linux "cooked" capture v1 (113), as `tcpdump -i any` writes it.
    case linuxSLL
    /// Linux "cooked" capture v2 (276).
    case linuxSLL2
    /// A bare ARP packet (hex input only).
    case arp
    /// Any other link type, kept so that its packets can be reported as skipped.
    case unsupported(UInt32)
    /// Hex input that is none of the above.
    case unrecognised

    init(code: UInt32) {
        switch code {
        case 1: self = .ethernet
        case 101: self = .rawIP
        case 228: self = .ipv4
        case 229: self = .ipv6
        case 113: self = .linuxSLL
        case 276: self = .linuxSLL2
        default: self = .unsupported(code)
        }
    }

    var name: String {
        switch self {
        case .ethernet: "Ethernet"
        case .rawIP: "raw IP"
        case .ipv4: "raw IPv4"
        case .ipv6: "raw IPv6"
        case .linuxSLL: "Linux cooked (SLL)"
        case .linuxSLL2: "Linux cooked v2 (SLL2)"
        case .arp: "ARP"
        case let .unsupported(code): "link type \(code)"
        case .unrecognised: "unrecognised"
        }
    }

    static let supportedList = "1 (Ethernet), 101 (raw IP), 113 (Linux SLL), 228 (IPv4), 229 (IPv6), 276 (Linux SLL2)"
}

/// When a packet was captured: seconds since the Unix epoch and a fraction.
struct CaptureTimestamp: Sendable, Hashable {
    var seconds: Int64
    var nanoseconds: UInt32
    /// How many fraction digits the capture's resolution justifies (6 for microseconds, 9 for nanoseconds).
    var digits: Int

    /// `2024-05-01T12:00:00.123456Z` (UTC).
    var iso8601: String {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        // Howard Hinnant's days-to-civil algorithm.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func pad(_ v: Int64, _ width: Int) -> String {
            let s = String(v)
            return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
        }
        var text = "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secondOfDay / 3600, 2)):\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2))"
        if digits > 0 {
            var fraction = Int64(nanoseconds)
            for _ in 0..<(9 - min(digits, 9)) { fraction /= 10 }
            text += "." + pad(fraction, min(digits, 9))
        }
        return text + "Z"
    }

    /// Nanoseconds since the epoch (fits in 64 bits until 2262).
    var epochNanoseconds: Int64 {
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? (seconds < 0 ? .min : .max) : product.addingReportingOverflow(Int64(nanoseconds)).partialValue
    }
}

/// One packet read from the input.
struct CapturedPacket: Sendable {
    /// 1-based position in the input.
    var number: Int
    var linkType: LinkType
    var timestamp: CaptureTimestamp?
    /// The packet's bytes as captured.
    var data: [UInt8]
    /// The length on the wire (larger than `data.count` when the capture was cut by the snapshot length).
    var originalLength: Int
    /// Where the record (pcap) or block (pcapng) starts in the file.
    var fileOffset: Int?
    /// The first line of the packet (hex input).
    var line: Int?
    /// Frame check sequence bytes at the end of an Ethernet frame (pcap FCS flag, pcapng if_fcslen).
    var fcsLength: Int = 0
}

/// A problem with the input as a whole: where and what.
struct InspectInputError: Error, Sendable, CustomStringConvertible {
    /// Byte offset in the input.
    var offset: Int
    var message: String

    var description: String { "offset \(offset): \(message)" }
}

/// What was read: the packets, and the error that stopped reading, if any (packets before it are kept).
struct CaptureContents: Sendable {
    var format: String
    var packets: [CapturedPacket] = []
    var error: InspectInputError?
}

enum CaptureFormat {
    case pcap(bigEndian: Bool, nanoseconds: Bool)
    case pcapng
}

enum PcapReader {
    /// The libpcap limit on a record's captured length when the snapshot length is smaller.
    static let maximumSnapshotLength = 262_144

    /// Which capture format `bytes` starts with, if any.
    static func detect(_ bytes: [UInt8]) -> CaptureFormat? {
        guard bytes.count >= 4 else { return nil }
        switch (UInt32(bytes[0]) << 24) | (UInt32(bytes[1]) << 16) | (UInt32(bytes[2]) << 8) | UInt32(bytes[3]) {
        case 0xA1B2_C3D4: return .pcap(bigEndian: true, nanoseconds: false)
        case 0xD4C3_B2A1: return .pcap(bigEndian: false, nanoseconds: false)
        case 0xA1B2_3C4D: return .pcap(bigEndian: true, nanoseconds: true)
        case 0x4D3C_B2A1: return .pcap(bigEndian: false, nanoseconds: true)
        case 0x0A0D_0D0A: return .pcapng
        default: return nil
        }
    }

    /// Reads a capture in any supported format. Never traps: a malformed file yields the
    /// packets before the problem and an error naming its offset.
    static func read(_ bytes: [UInt8]) -> CaptureContents {
        switch detect(bytes) {
        case let .pcap(bigEndian, nanoseconds)?:
            return readPcap(bytes, bigEndian: bigEndian, nanoseconds: nanoseconds)
        case .pcapng?:
            return PcapNGReader(bytes: bytes).read()
        case nil:
            let magic = bytes.prefix(4).map { hexByte($0) }.joined()
            return CaptureContents(format: "pcap", error: InspectInputError(
                offset: 0, message: "bad magic 0x\(magic): not a pcap file (a1b2c3d4 or a1b23c4d in either byte order) nor pcapng (0a0d0d0a)"))
        }
    }

    static func readPcap(_ bytes: [UInt8], bigEndian: Bool, nanoseconds: Bool) -> CaptureContents {
        var out = CaptureContents(format: nanoseconds ? "pcap (nanosecond)" : "pcap")
        let r = ByteReader(bytes: bytes, bigEndian: bigEndian)
        guard bytes.count >= 24 else {
            out.error = InspectInputError(offset: 0, message: "truncated pcap file header: 24 bytes needed, \(bytes.count) available")
            return out
        }
        let major = r.u16(4), minor = r.u16(6)
        guard major == 2 else {
            out.error = InspectInputError(offset: 4, message: "unsupported pcap version \(major).\(minor) (expected 2.x)")
            return out
        }
        let snaplen = Int(r.u32(16))
        let linkField = r.u32(20)
        let code = linkField & 0xFFFF
        let linkType = LinkType(code: code)
        if case .unsupported = linkType {
            out.error = InspectInputError(offset: 20, message: "unsupported link type \(code) (supported: \(LinkType.supportedList))")
            return out
        }
        // Bit 26 (F) says the FCS length in bits 28–31 is valid.
        let fcsLength = linkField & 0x0400_0000 != 0 ? Int(linkField >> 28) * 2 : 0
        let limit = max(snaplen, maximumSnapshotLength)
        var offset = 24
        var number = 0
        while offset < bytes.count {
            number += 1
            let remaining = bytes.count - offset
            guard remaining >= 16 else {
                out.error = InspectInputError(offset: offset, message: "truncated record header of packet \(number): 16 bytes needed, \(remaining) available")
                return out
            }
            let seconds = r.u32(offset), fraction = r.u32(offset + 4)
            let caplen = Int(r.u32(offset + 8)), origlen = Int(r.u32(offset + 12))
            guard caplen <= limit else {
                out.error = InspectInputError(offset: offset + 8, message: "packet \(number): captured length \(caplen) exceeds the snapshot length \(snaplen)")
                return out
            }
            guard caplen <= remaining - 16 else {
                out.error = InspectInputError(offset: offset + 8, message: "packet \(number): captured length \(caplen) exceeds the \(remaining - 16) bytes left in the file (truncated record)")
                return out
            }
            // A fraction of a second or more (some writers produce it) carries into the seconds, as libpcap's users see it.
            let perSecond: UInt32 = nanoseconds ? 1_000_000_000 : 1_000_000
            let ts = CaptureTimestamp(seconds: Int64(seconds) + Int64(fraction / perSecond),
                                      nanoseconds: (fraction % perSecond) * (nanoseconds ? 1 : 1000), digits: nanoseconds ? 9 : 6)
            out.packets.append(CapturedPacket(
                number: number, linkType: linkType, timestamp: ts, data: Array(bytes[(offset + 16)..<(offset + 16 + caplen)]),
                originalLength: max(origlen, caplen), fileOffset: offset, fcsLength: fcsLength))
            offset += 16 + caplen
        }
        return out
    }
}

/// Reads integers at absolute offsets in one byte order. Callers check bounds.
struct ByteReader {
    let bytes: [UInt8]
    let bigEndian: Bool

    func u16(_ at: Int) -> UInt16 {
        let a = UInt16(bytes[at]), b = UInt16(bytes[at + 1])
        return bigEndian ? a << 8 | b : b << 8 | a
    }

    func u32(_ at: Int) -> UInt32 {
        let a = UInt32(u16(at)), b = UInt32(u16(at + 2))
        return bigEndian ? a << 16 | b : b << 16 | a
    }

    func u64(_ at: Int) -> UInt64 {
        let a = UInt64(u32(at)), b = UInt64(u32(at + 4))
        return bigEndian ? a << 32 | b : b << 32 | a
    }
}

/// Two lowercase hex digits.
func hexByte(_ b: UInt8) -> String {
    let s = String(b, radix: 16)
    return b < 16 ? "0" + s : s
}

/// pcapng, section by section.
struct PcapNGReader {
    let bytes: [UInt8]

    struct Interface {
        var linkType: LinkType
        var snaplen: Int
        /// Units per second of the timestamps, and how many decimal digits to print.
        var unitsPerSecond: UInt64 = 1_000_000
        var digits = 6
        var offsetSeconds: Int64 = 0
        var fcsLength = 0
    }

    func read() -> CaptureContents {
        var out = CaptureContents(format: "pcapng")
        var offset = 0
        var reader = ByteReader(bytes: bytes, bigEndian: false)
        var interfaces: [Interface] = []
        var sawSection = false
        var number = 0
        func fail(_ at: Int, _ message: String) -> CaptureContents {
            out.error = InspectInputError(offset: at, message: message)
            return out
        }
        while offset < bytes.count {
            let remaining = bytes.count - offset
            guard remaining >= 12 else { return fail(offset, "truncated block header: 12 bytes needed, \(remaining) available") }
            // A Section Header fixes the byte order for the blocks after it.
            let rawType = UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
            if rawType == 0x0A0D_0D0A {
                let magic = UInt32(bytes[offset + 8]) << 24 | UInt32(bytes[offset + 9]) << 16 | UInt32(bytes[offset + 10]) << 8 | UInt32(bytes[offset + 11])
                switch magic {
                case 0x1A2B_3C4D: reader = ByteReader(bytes: bytes, bigEndian: true)
                case 0x4D3C_2B1A: reader = ByteReader(bytes: bytes, bigEndian: false)
                default: return fail(offset + 8, "bad pcapng byte-order magic 0x\(String(magic, radix: 16)) (expected 1a2b3c4d)")
                }
                sawSection = true
                interfaces = []
            } else if !sawSection {
                return fail(offset, "pcapng file does not start with a Section Header Block")
            }
            let type = reader.u32(offset)
            let length = Int(reader.u32(offset + 4))
            guard length >= 12, length % 4 == 0 else {
                return fail(offset + 4, "block length \(length) is invalid (a multiple of 4, at least 12)")
            }
            guard length <= remaining else {
                return fail(offset + 4, "truncated block: type 0x\(String(type, radix: 16)) needs \(length) bytes, \(remaining) available")
            }
            guard Int(reader.u32(offset + length - 4)) == length else {
                return fail(offset + length - 4, "block trailer length \(reader.u32(offset + length - 4)) differs from the block length \(length)")
            }
            let body = offset + 8
            let bodyEnd = offset + length - 4
            switch type {
            case 0x0A0D_0D0A:
                guard bodyEnd - body >= 16 else { return fail(offset, "Section Header Block is too short") }
                let major = reader.u16(body + 4)
                guard major == 1 else { return fail(body + 4, "unsupported pcapng version \(major).\(reader.u16(body + 6))") }
            case 1:
                guard bodyEnd - body >= 8 else { return fail(offset, "Interface Description Block is too short") }
                var interface = Interface(linkType: LinkType(code: UInt32(reader.u16(body))), snaplen: Int(reader.u32(body + 4)))
                var at = body + 8
                while at + 4 <= bodyEnd {
                    let code = reader.u16(at)
                    let size = Int(reader.u16(at + 2))
                    guard at + 4 + size <= bodyEnd else { return fail(at, "interface option \(code) runs past its block") }
                    if code == 0 { break }
                    if code == 9, size >= 1 {  // if_tsresol
                        let v = bytes[at + 4]
                        if v & 0x80 == 0 {
                            guard v <= 18 else { return fail(at + 4, "unsupported timestamp resolution 10^-\(v)") }
                            var ups: UInt64 = 1
                            for _ in 0..<v { ups *= 10 }
                            interface.unitsPerSecond = ups
                            interface.digits = Int(v)
                        } else {
                            let p = v & 0x7F
                            guard p <= 63 else { return fail(at + 4, "unsupported timestamp resolution 2^-\(p)") }
                            interface.unitsPerSecond = 1 << UInt64(p)
                            interface.digits = 9
                        }
                    } else if code == 14, size >= 8 {  // if_tsoffset
                        interface.offsetSeconds = Int64(bitPattern: reader.u64(at + 4))
                    } else if code == 13, size >= 1 {  // if_fcslen
                        interface.fcsLength = Int(bytes[at + 4])
                    }
                    at += 4 + (size + 3) / 4 * 4
                }
                interfaces.append(interface)
            case 6, 2:
                // Enhanced Packet: interface (4), ts high (4), ts low (4), caplen (4), origlen (4).
                // Obsolete Packet: interface (2), drops (2), then the same.
                guard bodyEnd - body >= 20 else { return fail(offset, "packet block is too short") }
                number += 1
                let id = type == 6 ? Int(reader.u32(body)) : Int(reader.u16(body))
                guard id < interfaces.count else {
                    return fail(body, "packet \(number) refers to interface \(id), but \(interfaces.count) interface(s) are described")
                }
                let caplen = Int(reader.u32(body + 12))
                guard caplen <= bodyEnd - (body + 20) else {
                    return fail(body + 12, "packet \(number): captured length \(caplen) exceeds its block (\(bodyEnd - body - 20) bytes)")
                }
                let interface = interfaces[id]
                let units = UInt64(reader.u32(body + 4)) << 32 | UInt64(reader.u32(body + 8))
                let seconds = units / interface.unitsPerSecond
                let rest = units % interface.unitsPerSecond
                let nanos = interface.unitsPerSecond.dividingFullWidth(rest.multipliedFullWidth(by: 1_000_000_000)).quotient
                let ts = CaptureTimestamp(seconds: Int64(clamping: seconds).addingReportingOverflow(interface.offsetSeconds).partialValue,
                                          nanoseconds: UInt32(nanos), digits: interface.digits)
                out.packets.append(CapturedPacket(
                    number: number, linkType: interface.linkType, timestamp: ts,
                    data: Array(bytes[(body + 20)..<(body + 20 + caplen)]),
                    originalLength: max(Int(reader.u32(body + 16)), caplen), fileOffset: offset, fcsLength: interface.fcsLength))
            case 3:
                // Simple Packet: original length (4), data; interface 0, no timestamp.
                guard bodyEnd - body >= 4 else { return fail(offset, "Simple Packet Block is too short") }
                number += 1
                guard let interface = interfaces.first else { return fail(offset, "packet \(number) precedes every Interface Description Block") }
                let origlen = Int(reader.u32(body))
                var caplen = min(origlen, bodyEnd - body - 4)
                if interface.snaplen > 0 { caplen = min(caplen, interface.snaplen) }
                out.packets.append(CapturedPacket(
                    number: number, linkType: interface.linkType, timestamp: nil, data: Array(bytes[(body + 4)..<(body + 4 + caplen)]),
                    originalLength: origlen, fileOffset: offset, fcsLength: interface.fcsLength))
            default:
                break  // statistics, name resolution, decryption secrets, custom blocks
            }
            offset += length
        }
        return out
    }
}
