#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOPosix

/// `DNS_CHECK`: sends one UDP query (`type`, `name`, recursion desired) and succeeds on a
/// response (QR set) with the query's id and rcode 0 (NOERROR).
///
/// Failure reasons: "DNS rcode 3 (NXDOMAIN)", "DNS reply id 0x1234 does not match query id
/// 0x5678", "DNS reply is not a response (QR clear)", "DNS reply too short (5 bytes)",
/// "port unreachable (ICMP)", "timed out after 5 s".
public struct DNSCheck: HealthCheck {
    public var connection: CheckerConnection
    public var connectTimeout: Duration
    /// The query type code (`type`: A 1, NS 2, CNAME 5, SOA 6, MX 15, TXT 16, AAAA 28, RRSIG 46, DNSKEY 48).
    public var queryType: UInt16
    /// `name` (default `.`).
    public var queryName: String
    public var group: any EventLoopGroup

    public init(connection: CheckerConnection, connectTimeout: Duration = .seconds(5), queryType: UInt16 = 6,
                queryName: String = ".", group: any EventLoopGroup = CheckerEventLoops.shared) {
        self.connection = connection
        self.connectTimeout = connectTimeout
        self.queryType = queryType
        self.queryName = queryName
        self.group = group
    }

    public var name: String { "DNS_CHECK \(connection)" }

    /// The query message with `id`; nil when `queryName` has an empty or over-long label.
    public static func query(id: UInt16, type: UInt16, name: String) -> [UInt8]? {
        var m: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xFF), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
        let trimmed = name.hasSuffix(".") ? String(name.dropLast()) : name
        if !trimmed.isEmpty {
            for label in trimmed.split(separator: ".", omittingEmptySubsequences: false) {
                let bytes = Array(label.utf8)
                guard (1...63).contains(bytes.count) else { return nil }
                m.append(UInt8(bytes.count))
                m += bytes
            }
        }
        m.append(0)
        guard m.count <= 12 + 255 else { return nil }
        m += [UInt8(type >> 8), UInt8(type & 0xFF), 0, 1]
        return m
    }

    /// The verdict on a reply to query `id`.
    public static func verdict(reply r: [UInt8], id: UInt16) -> CheckResult {
        guard r.count >= 12 else { return .failure(reason: "DNS reply too short (\(r.count) bytes)") }
        let got = UInt16(r[0]) << 8 | UInt16(r[1])
        guard got == id else {
            return .failure(reason: "DNS reply id 0x\(String(got, radix: 16)) does not match query id 0x\(String(id, radix: 16))")
        }
        guard r[2] & 0x80 != 0 else { return .failure(reason: "DNS reply is not a response (QR clear)") }
        let rcode = r[3] & 0x0F
        guard rcode == 0 else { return .failure(reason: "DNS rcode \(rcode) (\(rcodeName(rcode)))") }
        return .success
    }

    static func rcodeName(_ c: UInt8) -> String {
        switch c {
        case 1: "FORMERR"
        case 2: "SERVFAIL"
        case 3: "NXDOMAIN"
        case 4: "NOTIMP"
        case 5: "REFUSED"
        default: "rcode \(c)"
        }
    }

    public func check() async -> CheckResult {
        let id = UInt16.random(in: 0...UInt16.max)
        guard let message = Self.query(id: id, type: queryType, name: queryName) else {
            return .failure(reason: "invalid DNS name \(queryName)")
        }
        let (c, group) = (connection, group)
        return await CheckerIO.withTimeout(connectTimeout) {
            let channel = try await CheckerIO.connectUDP(c, group: group)
            let remote = CheckerIO.socketAddress(c.address, c.port)
            return try await withTaskCancellationHandler {
                try await channel.executeThenClose { inbound, outbound in
                    try await outbound.write(AddressedEnvelope(remoteAddress: remote, data: ByteBuffer(bytes: message)))
                    do {
                        for try await envelope in inbound {
                            return Self.verdict(reply: Array(envelope.data.readableBytesView), id: id)
                        }
                    } catch let e as IOError where e.errnoCode == ECONNREFUSED {
                        return .failure(reason: "port unreachable (ICMP)")
                    }
                    return .failure(reason: "no DNS reply")
                }
            } onCancel: {
                channel.channel.close(promise: nil)
            }
        }
    }
}
