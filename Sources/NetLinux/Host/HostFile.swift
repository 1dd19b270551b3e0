#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// Small file reads through ``SystemCalls`` (so that tests can make them fail).
enum HostFile {
    /// Reads at most `limit` bytes from the start of the file at `path`.
    ///
    /// The corresponding C functions are `open(2)`, `read(2)` and `close(2)`.
    static func read(_ path: String, limit: Int) throws(Errno) -> [UInt8] {
        let calls = SystemCalls.current
        let fd = try retryingOnInterrupt { path.withCString { calls.open($0, O_RDONLY | O_CLOEXEC | O_NOCTTY) } }
        defer { _ = calls.close(fd) }
        var bytes = [UInt8](repeating: 0, count: limit)
        var filled = 0
        while filled < limit {
            let n = bytes.withUnsafeMutableBytes { calls.read(fd, $0.baseAddress! + filled, limit - filled) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Errno(rawValue: errno)
            }
            if n == 0 { break }
            filled += n
        }
        bytes.removeSubrange(filled...)
        return bytes
    }

    /// The target of the symbolic link at `path`. The corresponding C function is `readlink(2)`.
    static func readLink(_ path: String) throws(Errno) -> String {
        var size = 256
        while true {
            var buffer = [CChar](repeating: 0, count: size)
            let n = path.withCString { p in buffer.withUnsafeMutableBufferPointer { SystemCalls.current.readlink(p, $0.baseAddress!, size) } }
            if n < 0 { throw Errno(rawValue: errno) }
            if n < size {
                return String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
            size *= 4
        }
    }
}

/// `strerror`-style text in lower case, without NetLinuxError's netlink-specific hints
/// ("operation not permitted").
func plainDescription(_ e: Errno) -> String {
    if e == .noSuchFileOrDirectory { return "no such file or directory" }
    let text = String(describing: e)
    return text.prefix(1).lowercased() + text.dropFirst()
}
