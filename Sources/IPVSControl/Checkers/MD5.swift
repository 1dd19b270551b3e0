/// MD5 (RFC 1321) over bytes fed in pieces: the `digest` of HTTP_GET/SSL_GET and `kad genhash`.
///
/// kad's own rather than a library's: swift-crypto links full Foundation into the daemon (about
/// 5 MiB of resident memory) and the system's libcrypto maps about 1.4 MiB, each for this one
/// hash, which is not used for security here (keepalived compares a body's MD5 with `digest`).
///
/// ```swift
/// var md5 = MD5Hasher()
/// md5.update(Array("The quick brown fox jumps over the lazy dog".utf8))
/// md5.hexDigest()   // "9e107d9d372bb6826bd81d3542a419d6"
/// ```
struct MD5Hasher: Sendable {
    private var state: (UInt32, UInt32, UInt32, UInt32) = (0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476)
    /// Bytes not yet making a whole 64-byte block.
    private var pending: [UInt8] = []
    private var length: UInt64 = 0

    init() { pending.reserveCapacity(64) }

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        length &+= UInt64(bytes.count)
        var rest = bytes[...]
        if !pending.isEmpty {
            let take = min(64 - pending.count, rest.count)
            pending += rest.prefix(take)
            rest = rest.dropFirst(take)
            guard pending.count == 64 else { return }
            pending.withUnsafeBytes { compress(UnsafeRawBufferPointer(rebasing: $0[...])) }
            pending.removeAll(keepingCapacity: true)
        }
        while rest.count >= 64 {
            compress(UnsafeRawBufferPointer(rebasing: rest.prefix(64)))
            rest = rest.dropFirst(64)
        }
        pending += rest
    }

    mutating func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

    /// The digest of everything fed so far, 32 lowercase hex digits.
    func hexDigest() -> String {
        var last = self
        let bits = length &* 8
        var tail: [UInt8] = [0x80]
        tail += [UInt8](repeating: 0, count: (55 - pending.count + 64) % 64)
        for i in 0..<8 { tail.append(UInt8(truncatingIfNeeded: bits >> (8 * UInt64(i)))) }
        tail.withUnsafeBytes { last.update($0) }
        let (a, b, c, d) = last.state
        // Little-endian words, as the RFC lays the digest out.
        return [a, b, c, d].flatMap { word in (0..<4).map { UInt8(truncatingIfNeeded: word >> (8 * UInt32($0))) } }
            .map { String($0, radix: 16).leftPadded(2) }.joined()
    }

    /// The MD5 of `bytes`, hex.
    static func hex(_ bytes: [UInt8]) -> String {
        var md5 = MD5Hasher()
        md5.update(bytes)
        return md5.hexDigest()
    }

    /// One 64-byte block into the state (RFC 1321 §3.4).
    private mutating func compress(_ block: UnsafeRawBufferPointer) {
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 16) { x in
            for i in 0..<16 {
                x[i] = UInt32(block[4 * i]) | UInt32(block[4 * i + 1]) << 8
                    | UInt32(block[4 * i + 2]) << 16 | UInt32(block[4 * i + 3]) << 24
            }
            compress(words: UnsafeBufferPointer(x))
        }
    }

    private mutating func compress(words x: UnsafeBufferPointer<UInt32>) {
        var (a, b, c, d) = state
        for i in 0..<64 {
            let f: UInt32
            let g: Int
            switch i / 16 {
            case 0: f = (b & c) | (~b & d); g = i
            case 1: f = (d & b) | (~d & c); g = (5 * i + 1) % 16
            case 2: f = b ^ c ^ d; g = (3 * i + 5) % 16
            default: f = c ^ (b | ~d); g = (7 * i) % 16
            }
            let sum = a &+ f &+ Self.sines[i] &+ x[g]
            let s = Self.shifts[i / 16 * 4 + i % 4]
            (a, d, c) = (d, c, b)
            b = b &+ (sum << s | sum >> (32 - s))
        }
        state = (state.0 &+ a, state.1 &+ b, state.2 &+ c, state.3 &+ d)
    }

    /// The rotation of each step, by round (RFC 1321 §3.4).
    private static let shifts: [UInt32] = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21]

    /// ⌊|sin(i + 1)| × 2³²⌋ for the 64 steps (RFC 1321 §3.4's table T).
    private static let sines: [UInt32] = [
        0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
        0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
        0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
        0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
        0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
        0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
        0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
        0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
    ]
}
