#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOPosix
import Synchronization

/// `PING_CHECK`: one ICMP (IPv4) or ICMPv6 echo through an unprivileged ICMP datagram socket
/// (`socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP)`, see icmp(7)); succeeds on the matching echo
/// reply within `connect_timeout`. The kernel fills in the identifier and the checksums.
///
/// Such sockets are allowed only to the groups in `net.ipv4.ping_group_range` (which covers
/// ICMPv6 too); keepalived widens that range when it starts, kad's daemon must do the same or
/// the check fails with "ICMP sockets not permitted (net.ipv4.ping_group_range)".
///
/// Failure reasons: "timed out after 3 s", "host unreachable", "ICMP type 3 code 1 instead of
/// an echo reply", "echo reply does not match the request".
public struct PingCheck: HealthCheck {
    public var connection: CheckerConnection
    public var connectTimeout: Duration
    public var group: any EventLoopGroup
    private static let sequence = Atomic<UInt16>(0)

    /// `connection.port` is not used.
    public init(connection: CheckerConnection, connectTimeout: Duration = .seconds(5),
                group: any EventLoopGroup = CheckerEventLoops.shared) {
        self.connection = connection
        self.connectTimeout = connectTimeout
        self.group = group
    }

    public var name: String { "PING_CHECK \(connection.address)" }

    /// An echo request with `sequence` and `payload` (identifier and checksum left 0 for the kernel).
    public static func echoRequest(ipv6: Bool, sequence: UInt16, payload: [UInt8]) -> [UInt8] {
        [ipv6 ? 128 : 8, 0, 0, 0, 0, 0, UInt8(sequence >> 8), UInt8(sequence & 0xFF)] + payload
    }

    /// The verdict on a received ICMP message (without IP header, as datagram ICMP sockets deliver it).
    public static func verdict(reply r: [UInt8], ipv6: Bool, sequence: UInt16, payload: [UInt8]) -> CheckResult {
        guard r.count >= 8 else { return .failure(reason: "ICMP reply too short (\(r.count) bytes)") }
        guard r[0] == (ipv6 ? 129 : 0) else {
            return .failure(reason: "ICMP\(ipv6 ? "v6" : "") type \(r[0]) code \(r[1]) instead of an echo reply")
        }
        guard UInt16(r[6]) << 8 | UInt16(r[7]) == sequence, Array(r[8...]) == payload else {
            return .failure(reason: "echo reply does not match the request")
        }
        return .success
    }

    public func check() async -> CheckResult {
        let ipv6 = connection.address.family == .ipv6
        let seq = Self.sequence.wrappingAdd(1, ordering: .relaxed).newValue
        let payload = Array("kad PING_CHECK \(seq)".utf8)
        let request = Self.echoRequest(ipv6: ipv6, sequence: seq, payload: payload)
        var target = connection
        target.port = 0
        let (c, group) = (target, group)
        return await CheckerIO.withTimeout(connectTimeout) {
            let channel: NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>
            do {
                channel = try await CheckerIO.connectUDP(c, group: group,
                                                         protocolSubtype: .init(ipv6 ? .ipv6Icmp : .icmp))
            } catch let e as IOError where e.errnoCode == EACCES || e.errnoCode == EPERM {
                return .failure(reason: "ICMP sockets not permitted (net.ipv4.ping_group_range)")
            }
            let remote = CheckerIO.socketAddress(c.address, 0)
            return try await withTaskCancellationHandler {
                try await channel.executeThenClose { inbound, outbound in
                    try await outbound.write(AddressedEnvelope(remoteAddress: remote, data: ByteBuffer(bytes: request)))
                    for try await envelope in inbound {
                        let verdict = Self.verdict(reply: Array(envelope.data.readableBytesView), ipv6: ipv6, sequence: seq, payload: payload)
                        // A stale reply to an earlier attempt: wait for ours.
                        if case .failure(let reason) = verdict, reason == "echo reply does not match the request" { continue }
                        return verdict
                    }
                    return .failure(reason: "no echo reply")
                }
            } onCancel: {
                channel.channel.close(promise: nil)
            }
        }
    }
}
