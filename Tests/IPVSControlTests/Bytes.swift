import NetLinux
import Testing

// Hand-written byte helpers for the IPVS codec tests. They know only the netlink framing
// from linux/netlink.h (nlattr: u16 nla_len, u16 nla_type, value, zero padding to 4;
// NLA_F_NESTED = 0x8000) and lay numbers out as the uapi header says; they share no code
// with the encoder under test. Host order is little-endian on the machines kad runs on.

func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
func le64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
func be16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xFF)] }
func be32(_ v: UInt32) -> [UInt8] { (0..<4).reversed().map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
/// A NUL-terminated string.
func cstring(_ s: String) -> [UInt8] { Array(s.utf8) + [0] }

/// One attribute with its padding.
func attr(_ type: UInt16, _ value: [UInt8]) -> [UInt8] {
    let header = le16(UInt16(4 + value.count)) + le16(type)
    let padding = [UInt8](repeating: 0, count: (4 - value.count % 4) % 4)
    return header + value + padding
}

/// A nested attribute (NLA_F_NESTED set) holding `content`.
func nest(_ type: UInt16, _ content: [UInt8]...) -> [UInt8] {
    var body: [UInt8] = []
    for c in content { body += c }
    return le16(UInt16(4 + body.count)) + le16(type | 0x8000) + body
}

/// NLM_F_REQUEST | NLM_F_ACK, and NLM_F_REQUEST | NLM_F_DUMP (NLM_F_ROOT | NLM_F_MATCH).
let requestAck: UInt16 = 0x0001 | 0x0004
let requestDump: UInt16 = 0x0001 | 0x0100 | 0x0200

/// A generic netlink message: nlmsghdr (length, type = family id, flags, sequence, port),
/// genlmsghdr (cmd, version, reserved u16), then the attributes.
func genl(family: UInt16 = 0x24, flags: UInt16, command: UInt8, version: UInt8 = 1, sequence: UInt32 = 0,
          _ attributes: [UInt8]...) -> [UInt8] {
    var body: [UInt8] = [command, version, 0, 0]
    for a in attributes { body += a }
    var message: [UInt8] = le32(UInt32(16 + body.count))
    message += le16(family)
    message += le16(flags)
    message += le32(sequence)
    message += le32(0)
    return message + body
}

/// Runs `body` with `bytes` read as one generic netlink message.
func withMessage<R>(_ bytes: [UInt8], _ body: (GenericNetlinkMessage) throws -> R) throws -> R {
    try bytes.withUnsafeBytes { raw in
        var reader = NetlinkMessageReader(raw)
        guard let message = try reader.next() else { throw NetlinkParseError.invalidValue("no message") }
        return try body(try GenericNetlinkMessage(message))
    }
}

/// The error `body` throws, as `E`; records an issue when it throws nothing or another type.
func thrown<E: Error>(_: E.Type, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) -> E? {
    do {
        try body()
        Issue.record("expected an error", sourceLocation: sourceLocation)
    } catch let error as E {
        return error
    } catch {
        Issue.record("expected \(E.self), got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

/// A hex dump for failure messages.
func hex(_ bytes: [UInt8]) -> String {
    stride(from: 0, to: bytes.count, by: 4).map { i in
        bytes[i..<min(i + 4, bytes.count)].map { String($0, radix: 16).leftPadded(2) }.joined()
    }.joined(separator: " ")
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
