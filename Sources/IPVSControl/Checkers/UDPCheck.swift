#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOPosix

/// `UDP_CHECK`: sends `payload` on a connected UDP socket.
///
/// Without `require_reply` the check fails only on an ICMP error (port or host unreachable,
/// reported by the kernel on the connected socket) or a reply of the wrong length; silence for
/// `connect_timeout` is a success, which is why keepalived advises a timeout of 4 s or more.
/// With `require_reply` a reply must arrive, begin with the pattern (nibbles written `x` match
/// anything) and have a length within `min_reply_length...max_reply_length`.
///
/// Failure reasons: "port unreachable (ICMP)", "no reply within 5 s", "reply of 3 bytes is
/// shorter than min_reply_length 4", "reply \"...\" does not match require_reply".
public struct UDPCheck: HealthCheck {
    /// `require_reply HEX`: bytes and a mask (a zero nibble in the mask came from an `x`).
    public struct ReplyPattern: Sendable, Hashable {
        public var bytes: [UInt8]
        public var mask: [UInt8]
        public init(bytes: [UInt8], mask: [UInt8]? = nil) {
            self.bytes = bytes
            self.mask = mask ?? Array(repeating: 0xFF, count: bytes.count)
        }

        /// Parses keepalived's hex form: pairs of hex digits or `x`, e.g. `01x2ff`.
        public init?(hex: String) {
            let digits = Array(hex.lowercased().filter { !$0.isWhitespace })
            guard digits.count % 2 == 0 else { return nil }
            var bytes: [UInt8] = []
            var mask: [UInt8] = []
            var i = 0
            while i < digits.count {
                var b: UInt8 = 0
                var m: UInt8 = 0
                for d in digits[i...i + 1] {
                    b <<= 4
                    m <<= 4
                    if d == "x" { continue }
                    guard let v = d.hexDigitValue else { return nil }
                    b |= UInt8(v)
                    m |= 0xF
                }
                bytes.append(b)
                mask.append(m)
                i += 2
            }
            self.init(bytes: bytes, mask: mask)
        }

        /// Whether `reply` starts with the pattern.
        public func matches(_ reply: [UInt8]) -> Bool {
            guard reply.count >= bytes.count else { return false }
            for i in bytes.indices where reply[i] & mask[i] != bytes[i] & mask[i] { return false }
            return true
        }
    }

    public var connection: CheckerConnection
    public var connectTimeout: Duration
    /// `payload`; empty sends an empty datagram.
    public var payload: [UInt8]
    /// `require_reply`; nil = no reply needed.
    public var requireReply: ReplyPattern?
    public var minReplyLength: Int
    public var maxReplyLength: Int
    public var group: any EventLoopGroup

    public init(connection: CheckerConnection, connectTimeout: Duration = .seconds(5), payload: [UInt8] = [],
                requireReply: ReplyPattern? = nil, minReplyLength: Int = 0, maxReplyLength: Int = 255,
                group: any EventLoopGroup = CheckerEventLoops.shared) {
        self.connection = connection
        self.connectTimeout = connectTimeout
        self.payload = payload
        self.requireReply = requireReply
        self.minReplyLength = minReplyLength
        self.maxReplyLength = maxReplyLength
        self.group = group
    }

    public var name: String { "UDP_CHECK \(connection)" }

    /// The verdict on one reply.
    public func verdict(reply: [UInt8]) -> CheckResult {
        if reply.count < minReplyLength {
            return .failure(reason: "reply of \(reply.count) bytes is shorter than min_reply_length \(minReplyLength)")
        }
        if reply.count > maxReplyLength {
            return .failure(reason: "reply of \(reply.count) bytes is longer than max_reply_length \(maxReplyLength)")
        }
        if let requireReply, !requireReply.matches(reply) {
            return .failure(reason: "reply \(CheckerIO.quoted(reply)) does not match require_reply")
        }
        return .success
    }

    public func check() async -> CheckResult {
        let me = self
        let silence: CheckResult = requireReply == nil ? .success : .failure(reason: "no reply within \(connectTimeout.checkerText)")
        return await CheckerIO.withTimeout(connectTimeout, onTimeout: silence) {
            let channel = try await CheckerIO.connectUDP(me.connection, group: me.group)
            let remote = CheckerIO.socketAddress(me.connection.address, me.connection.port)
            return try await withTaskCancellationHandler {
                try await channel.executeThenClose { inbound, outbound in
                    try await outbound.write(AddressedEnvelope(remoteAddress: remote, data: ByteBuffer(bytes: me.payload)))
                    do {
                        for try await envelope in inbound {
                            return me.verdict(reply: Array(envelope.data.readableBytesView))
                        }
                    } catch let e as IOError where e.errnoCode == ECONNREFUSED {
                        return .failure(reason: "port unreachable (ICMP)")
                    }
                    return silence
                }
            } onCancel: {
                channel.channel.close(promise: nil)
            }
        }
    }
}
