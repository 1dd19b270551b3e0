#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOPosix

/// `SMTP_CHECK`: expects a `220` greeting, sends `HELO helo_name`, expects `250`, sends `QUIT`.
/// Multi-line replies (`250-...` lines before `250 ...`) are read whole.
///
/// Failure reasons: "SMTP greeting 554 … is not 220", "SMTP reply to HELO is 501 …, not 250",
/// "invalid SMTP reply \"garbage\"", "connection closed by the server", timeouts.
public struct SMTPCheck: HealthCheck {
    public var connection: CheckerConnection
    public var connectTimeout: Duration
    /// `helo_name`; the host name when `nil`.
    public var heloName: String?
    public var group: any EventLoopGroup

    public init(connection: CheckerConnection, connectTimeout: Duration = .seconds(5), heloName: String? = nil,
                group: any EventLoopGroup = CheckerEventLoops.shared) {
        self.connection = connection
        self.connectTimeout = connectTimeout
        self.heloName = heloName
        self.group = group
    }

    public var name: String { "SMTP_CHECK \(connection)" }

    /// The name sent after HELO.
    public var effectiveHeloName: String {
        if let heloName, !heloName.isEmpty { return heloName }
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "localhost" : name
    }

    public func check() async -> CheckResult {
        let (c, timeout, group, helo) = (connection, connectTimeout, group, effectiveHeloName)
        return await CheckerIO.withTimeout(timeout) {
            let channel = try await CheckerIO.connectTCP(c, timeout: timeout, group: group, inbound: ByteBuffer.self)
            return try await withTaskCancellationHandler {
                try await channel.executeThenClose { inbound, outbound in
                    var reader = SMTPReplyReader()
                    var iterator = inbound.makeAsyncIterator()
                    func reply() async throws -> SMTPReply {
                        while true {
                            if let r = try reader.next() { return r }
                            guard let chunk = try await iterator.next() else { throw CheckFailure("connection closed by the server") }
                            reader.append(chunk)
                        }
                    }
                    let greeting = try await reply()
                    guard greeting.code == 220 else { return .failure(reason: "SMTP greeting \(greeting) is not 220") }
                    try await outbound.write(ByteBuffer(string: "HELO \(helo)\r\n"))
                    let hello = try await reply()
                    guard hello.code == 250 else { return .failure(reason: "SMTP reply to HELO is \(hello), not 250") }
                    try? await outbound.write(ByteBuffer(string: "QUIT\r\n"))
                    return .success
                }
            } onCancel: {
                channel.channel.close(promise: nil)
            }
        }
    }
}

/// One SMTP reply: its code and the text of its last line.
struct SMTPReply: CustomStringConvertible {
    var code: Int
    var text: String
    var description: String { text.isEmpty ? "\(code)" : "\(code) \(CheckerIO.quoted(Array(text.utf8)))" }
}

/// Splits received bytes into SMTP replies (RFC 5321 §4.2: `CODE-text` continues, `CODE text` ends).
struct SMTPReplyReader {
    private var pending: [UInt8] = []
    /// Longest accepted line.
    static let lineLimit = 1000

    mutating func append(_ buffer: ByteBuffer) { pending += buffer.readableBytesView }

    /// The next complete reply, nil when more bytes are needed; throws on garbage.
    mutating func next() throws -> SMTPReply? {
        var start = 0
        while let nl = pending[start...].firstIndex(of: 0x0A) {
            var line = Array(pending[start..<nl])
            if line.last == 0x0D { line.removeLast() }
            start = nl + 1
            guard line.count >= 3, line.prefix(3).allSatisfy({ (0x30...0x39).contains($0) }),
                  line.count == 3 || line[3] == 0x20 || line[3] == 0x2D,
                  let code = Int(String(decoding: line.prefix(3), as: UTF8.self)) else {
                throw CheckFailure("invalid SMTP reply \(CheckerIO.quoted(line))")
            }
            if line.count > 3, line[3] == 0x2D { continue }
            pending.removeFirst(start)
            let text = line.count > 4 ? String(decoding: line[4...], as: UTF8.self) : ""
            return SMTPReply(code: code, text: text)
        }
        if pending.count - start > Self.lineLimit { throw CheckFailure("SMTP reply line longer than \(Self.lineLimit) bytes") }
        return nil
    }
}
