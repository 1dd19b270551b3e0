#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads whole files with errors that say what went wrong ("is a directory", "permission denied").
enum FileReader {
    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(description: String) { self.description = description }
    }

    /// The largest configuration file kad reads (keepalived has no limit; this only guards memory).
    static let maximumSize = 256 * 1024 * 1024

    static func readFile(_ path: String) -> Result<[UInt8], Failure> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { return .failure(Failure(description: describe(errno))) }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) != 0 { return .failure(Failure(description: describe(errno))) }
        if (st.st_mode & S_IFMT) == S_IFDIR { return .failure(Failure(description: "is a directory, not a file")) }
        if Int(st.st_size) > maximumSize { return .failure(Failure(description: "is larger than \(maximumSize / 1024 / 1024) MiB")) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(max(Int(st.st_size), 0))
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return .failure(Failure(description: describe(errno)))
            }
            if n == 0 { break }
            bytes.append(contentsOf: buffer[0..<n])
            if bytes.count > maximumSize { return .failure(Failure(description: "is larger than \(maximumSize / 1024 / 1024) MiB")) }
        }
        return .success(bytes)
    }

    static func isReadableFile(_ path: String) -> Bool {
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) != S_IFDIR else { return false }
        return access(path, R_OK) == 0
    }

    static func describe(_ code: Int32) -> String {
        switch code {
        case ENOENT: "no such file or directory"
        case EACCES: "permission denied"
        case EISDIR: "is a directory, not a file"
        case ELOOP: "too many levels of symbolic links"
        case ENOTDIR: "a component of the path is not a directory"
        default: String(cString: strerror(code))
        }
    }

    /// The canonical absolute path, used to detect include cycles.
    static func realPath(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Files matching a shell wildcard pattern (no brace expansion), sorted; empty when none match.
    static func glob(_ pattern: String) -> [String] {
        var g = glob_t()
        defer { globfree(&g) }
        #if canImport(Glibc)
        let flags = GLOB_NOSORT
        #else
        let flags: Int32 = 0
        #endif
        guard Glibc.glob(pattern, Int32(flags), nil, &g) == 0 else { return [] }
        var result: [String] = []
        for i in 0..<Int(g.gl_pathc) {
            if let p = g.gl_pathv[i] { result.append(String(cString: p)) }
        }
        return result.sorted()
    }

    static func hasWildcard(_ pattern: String) -> Bool {
        pattern.contains { $0 == "*" || $0 == "?" || $0 == "[" }
    }

    /// The short host name (up to the first dot), keepalived's default config id.
    static func shortHostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return String(name.prefix { $0 != "." })
    }

    static func environment(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        return String(cString: value)
    }
}

/// csh-style brace expansion: `a{b,c}d` → `abd`, `acd`; nested braces expand too.
enum BraceExpansion {
    static func expand(_ pattern: String) -> [String] {
        let chars = Array(pattern)
        // Find the first top-level `{` that has a matching `}` with a comma at its level.
        var depth = 0
        var open = -1
        for (i, c) in chars.enumerated() {
            if c == "{" {
                if depth == 0 { open = i }
                depth += 1
            } else if c == "}", depth > 0 {
                depth -= 1
                if depth == 0, open >= 0 {
                    let inner = Array(chars[(open + 1)..<i])
                    let alternatives = splitTopLevel(inner)
                    let prefix = String(chars[..<open])
                    let suffix = String(chars[(i + 1)...])
                    if alternatives.count < 2 && inner.isEmpty == false && !inner.contains(",") {
                        // `{x}` is not an expansion in csh; keep it literally and look further.
                        let rest = expand(suffix)
                        return rest.map { prefix + "{" + String(inner) + "}" + $0 }
                    }
                    var result: [String] = []
                    for alternative in alternatives {
                        result.append(contentsOf: expand(prefix + alternative + suffix))
                    }
                    return result
                }
            }
        }
        return [pattern]
    }

    private static func splitTopLevel(_ chars: [Character]) -> [String] {
        var parts: [String] = []
        var current = ""
        var depth = 0
        for c in chars {
            if c == "{" { depth += 1 }
            if c == "}" { depth -= 1 }
            if c == ",", depth == 0 {
                parts.append(current)
                current = ""
            } else {
                current.append(c)
            }
        }
        parts.append(current)
        return parts
    }
}
