import Foundation
import IntegrationSupport
import Testing
@testable import IPVSControl

/// `bytes` fed to `MD5Hasher` in pieces of the given sizes (cycled), then the digest.
private func digest(_ bytes: [UInt8], pieces: [Int]) -> String {
    var md5 = MD5Hasher()
    var at = 0, k = 0
    while at < bytes.count {
        let n = min(max(pieces[k % pieces.count], 0), bytes.count - at)
        bytes[at..<(at + n)].withUnsafeBytes { md5.update($0) }
        at += n
        k += 1
    }
    return md5.hexDigest()
}

@Suite("MD5Hasher: kad's MD5 for HTTP_GET digests")
struct MD5Tests {
    @Test("the test suite of RFC 1321 (appendix A.5)")
    func rfcSuite() {
        let suite: [(String, String)] = [
            ("", "d41d8cd98f00b204e9800998ecf8427e"),
            ("a", "0cc175b9c0f1b6a831c399e269772661"),
            ("abc", "900150983cd24fb0d6963f7d28e17f72"),
            ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
            ("abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"),
            ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f"),
            (String(repeating: "1234567890", count: 8), "57edf4a22be3c955ac49da2e2107b67a"),
        ]
        for (text, want) in suite {
            #expect(MD5Hasher.hex(Array(text.utf8)) == want, "MD5(\"\(text)\")")
        }
    }

    @Test("fed in any pieces (0, 1, 63, 64, 65 … bytes), the digest is the digest of the whole")
    func pieces() {
        var generator = SystemRandomNumberGenerator()
        for length in [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 4096] {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let whole = digest(bytes, pieces: [Int.max])
            #expect(whole.count == 32)
            for pieces in [[1], [0, 7], [63], [64], [65], [13, 64, 1, 200]] {
                #expect(digest(bytes, pieces: pieces) == whole, "length \(length), pieces \(pieces)")
            }
        }
        // A one-bit change changes the digest.
        #expect(MD5Hasher.hex([0, 0, 0]) != MD5Hasher.hex([0, 0, 1]))
    }
}

extension HostAccessSuites {
    @Suite("MD5Hasher against coreutils' md5sum")
    struct MD5AgainstMd5sum {
        @Test("random bytes of every length around the block and padding boundaries, and 1 MiB")
        func againstMd5sum() throws {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kad-md5-\(getpid())")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            var lengths = Array(0...130)
            lengths += [1000, 65_536, 1 << 20]
            var paths: [String] = []
            var expected: [String: String] = [:]
            for length in lengths {
                let bytes = (0..<length).map { _ in UInt8.random(in: 0...255) }
                let path = directory.appendingPathComponent("\(length)").path
                try Data(bytes).write(to: URL(fileURLWithPath: path))
                paths.append(path)
                expected[path] = MD5Hasher.hex(bytes)
            }
            // md5sum prints "DIGEST  PATH" per file.
            let out = try Shell.run(["md5sum"] + paths)
            var seen = 0
            for line in out.split(separator: "\n") {
                let parts = line.split(separator: " ", maxSplits: 1)
                guard parts.count == 2 else { continue }
                let path = parts[1].trimmingCharacters(in: .whitespaces)
                #expect(expected[path] == String(parts[0]), "\(path)")
                seen += 1
            }
            #expect(seen == lengths.count)
        }
    }
}
