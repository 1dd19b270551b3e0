#if canImport(Glibc)
import Glibc
#endif
import SystemPackage

/// What a `track_file` holds, read the way keepalived reads it.
///
/// keepalived 2.2.7 (observed on this kind of machine) reads the start of the file as a C
/// `strtol(text, NULL, 0)` would: leading blanks skipped, an optional sign, `0x` for hex and a
/// leading `0` for octal, and anything after the number ignored. So `" 9"` is 9, `"12abc"` is
/// 12, `"0x10"` is 16 and `"010"` is 8. A missing, unreadable or empty file, or one without a
/// number, counts as 0. A number outside the 32-bit range is ignored: the previous value stays
/// ("Invalid number 99999999999 read from /path - ignoring").
public struct TrackedFileReading: Sendable, Hashable, CustomStringConvertible {
    public enum Value: Sendable, Hashable {
        /// The value to use.
        case number(Int32)
        /// Out of range: keep the previous value. Carries the number as read.
        case ignored(String)
    }

    /// Why a reading of 0 is 0 when the file does not say so.
    public enum Note: Sendable, Hashable {
        case missing
        case unreadable(Errno)
        case empty
        case notANumber
    }

    public var path: String
    public var value: Value
    public var note: Note?

    public init(path: String, value: Value, note: Note? = nil) {
        self.path = path
        self.value = value
        self.note = note
    }

    /// Bytes read from the start of the file (keepalived reads a small buffer).
    public static let readLimit = 127

    /// Reads `path` now.
    public static func read(_ path: String) -> TrackedFileReading {
        do {
            let bytes = try HostFile.read(path, limit: readLimit)
            return parse(bytes, path: path)
        } catch .noSuchFileOrDirectory {
            return TrackedFileReading(path: path, value: .number(0), note: .missing)
        } catch {
            return TrackedFileReading(path: path, value: .number(0), note: .unreadable(error))
        }
    }

    /// Interprets file contents (see the type's documentation).
    public static func parse(_ bytes: [UInt8], path: String = "") -> TrackedFileReading {
        if bytes.isEmpty { return TrackedFileReading(path: path, value: .number(0), note: .empty) }
        var i = 0
        while i < bytes.count, HostASCII.isSpace(bytes[i]) { i += 1 }
        var negative = false
        if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") {
            negative = bytes[i] == UInt8(ascii: "-")
            i += 1
        }
        var base: UInt8 = 10
        if i < bytes.count, bytes[i] == UInt8(ascii: "0") {
            if i + 2 < bytes.count, bytes[i + 1] | 0x20 == UInt8(ascii: "x"), HostASCII.hexValue(bytes[i + 2]) != nil {
                base = 16
                i += 2
            } else {
                base = 8
            }
        }
        var magnitude: UInt64 = 0
        var digits = 0
        var overflow = false
        while i < bytes.count, let d = HostASCII.hexValue(bytes[i]), d < base {
            let (m, o1) = magnitude.multipliedReportingOverflow(by: UInt64(base))
            let (n, o2) = m.addingReportingOverflow(UInt64(d))
            if o1 || o2 { overflow = true }
            magnitude = n
            digits += 1
            i += 1
        }
        if digits == 0 { return TrackedFileReading(path: path, value: .number(0), note: .notANumber) }
        let limit: UInt64 = negative ? UInt64(Int32.max) + 1 : UInt64(Int32.max)
        if overflow || magnitude > limit {
            // strtol gives LONG_MIN / LONG_MAX beyond 64 bits; keepalived prints that.
            let beyond = overflow || magnitude > (negative ? UInt64(1) << 63 : UInt64(Int64.max))
            let shown = beyond ? (negative ? "\(Int64.min)" : "\(Int64.max)") : (negative ? "-\(magnitude)" : "\(magnitude)")
            return TrackedFileReading(path: path, value: .ignored(shown))
        }
        let v = negative ? Int32(truncatingIfNeeded: 0 &- Int64(magnitude)) : Int32(magnitude)
        return TrackedFileReading(path: path, value: .number(v))
    }

    public var description: String {
        switch value {
        case .ignored(let text): return "Invalid number \(text) read from \(path) - ignoring"
        case .number(let v):
            switch note {
            case nil: return "\(path): \(v)"
            case .missing: return "\(path): missing, counts as 0"
            case .unreadable(let e): return "\(path): \(plainDescription(e)), counts as 0"
            case .empty: return "\(path): empty, counts as 0"
            case .notANumber: return "\(path): not a number, counts as 0"
            }
        }
    }
}
