/// A script command split into its arguments the way keepalived splits `script`, `notify*`
/// and the other command keywords.
///
/// The text is what stands between the quotes in the configuration
/// (`notify_master "/usr/local/bin/notify.sh 'to master' \t"`). keepalived reads it twice
/// with the same rules, and so does this parser:
///
/// 1. as part of the configuration line: backslash escapes are decoded (`\a \b \E \f \n \r
///    \t \v`, `\nnn` with up to three octal digits, `\x` followed by hex digits, `\cC` for
///    the control character of C, and `\C` for a literal C);
/// 2. as a command: unquoted blanks (space, tab, newline, ...) separate arguments; `'` and
///    `"` quote, may touch other text (`ab"c d"e` is `abc de`) and `''` is an empty argument;
///    backslash escapes are decoded again, so `\\ ` is a space inside an argument and `\\'`
///    a literal quote.
///
/// So `c\td` is two arguments (the tab decoded in the first pass separates them in the
/// second), while `'a\tb'` is one argument holding a tab: this is what keepalived 2.2.7 does.
///
/// ```swift
/// let line = try ScriptCommandLine(parsing: #"/usr/bin/logger -t kad 'state is MASTER'"#)
/// line.arguments   // ["/usr/bin/logger", "-t", "kad", "state is MASTER"]
/// ```
public struct ScriptCommandLine: Sendable, Hashable, CustomStringConvertible {
    /// The program (first) and its arguments; never empty.
    public var arguments: [String]

    /// A command line from already separated arguments.
    public init(arguments: [String]) {
        self.arguments = arguments
    }

    /// Parses a command as keepalived does (see the type's documentation).
    /// - Throws: ``ScriptCommandLineError`` with the column of the problem.
    public init(parsing text: String) throws(ScriptCommandLineError) {
        let decoded = try ScriptCommandLine.decodeEscapes(Array(text.utf8))
        arguments = try ScriptCommandLine.split(decoded)
        if arguments.isEmpty { throw ScriptCommandLineError(.empty, offset: 0) }
    }

    /// The program: the first argument.
    public var program: String { arguments[0] }

    /// The arguments quoted for a log line: `/bin/notify.sh 'to master'`.
    public var description: String {
        arguments.map { a in
            a.isEmpty || a.contains(where: { $0 == " " || $0 == "\t" || $0 == "'" || $0 == "\"" || $0 == "\\" || $0 == "\n" })
                ? "'" + a.split(separator: "'", omittingEmptySubsequences: false).joined(separator: #"'\''"#) + "'" : a
        }.joined(separator: " ")
    }

    /// A byte and the offset in the original text it came from (the backslash of an escape).
    struct Unit {
        var byte: UInt8
        var origin: Int
    }

    /// First pass: decodes escapes, keeping where each byte came from.
    static func decodeEscapes(_ b: [UInt8]) throws(ScriptCommandLineError) -> [Unit] {
        var out: [Unit] = []
        out.reserveCapacity(b.count)
        var i = 0
        while i < b.count {
            if b[i] == HostASCII.backslash {
                let (byte, used) = try escape(b, i)
                // First-pass escapes give plain text that the second pass reads again.
                out.append(Unit(byte: byte, origin: i))
                i += used
            } else {
                out.append(Unit(byte: b[i], origin: i))
                i += 1
            }
        }
        return out
    }

    /// Second pass: splits at unquoted blanks, removes quotes, decodes escapes again.
    static func split(_ u: [Unit]) throws(ScriptCommandLineError) -> [String] {
        var words: [String] = []
        var current: [UInt8] = []
        var inWord = false
        var quote: (byte: UInt8, origin: Int)?
        var i = 0
        let bytes = u.map(\.byte)
        func finish() {
            words.append(String(decoding: current, as: UTF8.self))
            current.removeAll()
            inWord = false
        }
        while i < u.count {
            let c = u[i].byte
            if c == 0 { throw ScriptCommandLineError(.nulByte, offset: u[i].origin) }
            if c == HostASCII.backslash {
                let (byte, used) = try escape(bytes, i, originOffset: u[i].origin)
                if byte == 0 { throw ScriptCommandLineError(.nulByte, offset: u[i].origin) }
                current.append(byte)
                inWord = true
                i += used
                continue
            }
            if let q = quote {
                if c == q.byte { quote = nil } else { current.append(c) }
                i += 1
                continue
            }
            if HostASCII.isSpace(c) {
                if inWord { finish() }
                i += 1
                continue
            }
            inWord = true
            if c == HostASCII.singleQuote || c == HostASCII.doubleQuote {
                quote = (c, u[i].origin)
            } else {
                current.append(c)
            }
            i += 1
        }
        if let q = quote {
            throw ScriptCommandLineError(q.byte == HostASCII.singleQuote ? .unterminatedSingleQuote : .unterminatedDoubleQuote,
                                         offset: q.origin)
        }
        if inWord { finish() }
        return words
    }

    /// Decodes the escape whose backslash is at `b[i]`: the byte and how many bytes it used.
    static func escape(_ b: [UInt8], _ i: Int, originOffset: Int? = nil) throws(ScriptCommandLineError) -> (UInt8, Int) {
        guard i + 1 < b.count else { throw ScriptCommandLineError(.trailingBackslash, offset: originOffset ?? i) }
        let c = b[i + 1]
        switch c {
        case UInt8(ascii: "a"): return (7, 2)
        case UInt8(ascii: "b"): return (8, 2)
        case UInt8(ascii: "E"): return (27, 2)
        case UInt8(ascii: "f"): return (12, 2)
        case UInt8(ascii: "n"): return (10, 2)
        case UInt8(ascii: "r"): return (13, 2)
        case UInt8(ascii: "t"): return (9, 2)
        case UInt8(ascii: "v"): return (11, 2)
        case UInt8(ascii: "x"):
            // Any number of hex digits; the value is kept modulo 256 (keepalived 2.2.7: \x414243 is "C").
            var v: UInt8 = 0
            var j = i + 2
            while j < b.count, let d = HostASCII.hexValue(b[j]) {
                v = v &* 16 &+ d
                j += 1
            }
            return j == i + 2 ? (c, 2) : (v, j - i)
        case UInt8(ascii: "c"):
            guard i + 2 < b.count else { throw ScriptCommandLineError(.incompleteControlEscape, offset: originOffset ?? i) }
            return (b[i + 2] & 0x1f, 3)
        case UInt8(ascii: "0")...UInt8(ascii: "7"):
            var v: UInt8 = 0
            var j = i + 1
            while j < b.count, j < i + 4, b[j] >= UInt8(ascii: "0"), b[j] <= UInt8(ascii: "7") {
                v = v &* 8 &+ (b[j] - UInt8(ascii: "0"))
                j += 1
            }
            return (v, j - i)
        default:
            return (c, 2)
        }
    }
}

/// A command that cannot be parsed, with the place of the problem.
public struct ScriptCommandLineError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Problem: Sendable, Hashable {
        /// Nothing but blanks.
        case empty
        /// A `'` without its closing quote.
        case unterminatedSingleQuote
        /// A `"` without its closing quote.
        case unterminatedDoubleQuote
        /// The text ends with a lone `\`.
        case trailingBackslash
        /// `\c` at the very end, without the character it applies to.
        case incompleteControlEscape
        /// An escape that gives a NUL byte (`\0`, `\x00`), which no argument can hold.
        case nulByte
    }

    public var problem: Problem
    /// Where, as a byte offset into the text (0-based).
    public var offset: Int
    /// Where, as a 1-based column.
    public var column: Int { offset + 1 }

    public init(_ problem: Problem, offset: Int) {
        self.problem = problem
        self.offset = offset
    }

    public var description: String {
        switch problem {
        case .empty: return "the command is empty"
        case .unterminatedSingleQuote: return "unterminated single quote (opened at column \(column))"
        case .unterminatedDoubleQuote: return "unterminated double quote (opened at column \(column))"
        case .trailingBackslash: return "the command ends with a lone '\\' (column \(column))"
        case .incompleteControlEscape: return "'\\c' at column \(column) needs a character after it"
        case .nulByte: return "the escape at column \(column) gives a NUL byte, which an argument cannot hold"
        }
    }
}

/// The `user [group]` words that may follow a command (`notify_master CMD nobody nogroup`) or
/// make up vrrp_script's `user` keyword: `USER`, `USER GROUP`, or `USER:GROUP`.
///
/// keepalived 2.2.7 accepts `USER` and `USER GROUP`; `USER:GROUP` is the spelling of later
/// keepalived versions and of kad's own configuration printer.
public struct ScriptUserSpec: Sendable, Hashable, CustomStringConvertible {
    public var user: String
    /// nil: the user's own primary group.
    public var group: String?

    public init(user: String, group: String? = nil) {
        self.user = user
        self.group = group
    }

    /// Parses one or two blank-separated words.
    /// - Throws: ``ScriptUserSpecError`` with the column of the problem.
    public init(parsing text: String) throws(ScriptUserSpecError) {
        let bytes = Array(text.utf8)
        var words: [(String, Int)] = []
        var i = 0
        while i < bytes.count {
            if HostASCII.isSpace(bytes[i]) { i += 1; continue }
            let start = i
            while i < bytes.count, !HostASCII.isSpace(bytes[i]) { i += 1 }
            words.append((String(decoding: bytes[start..<i], as: UTF8.self), start))
        }
        guard let first = words.first else { throw ScriptUserSpecError(message: "a user name is needed", offset: 0) }
        if words.count > 2 {
            throw ScriptUserSpecError(message: "unexpected '\(words[2].0)': give USER, USER GROUP or USER:GROUP", offset: words[2].1)
        }
        if let colon = first.0.firstIndex(of: ":") {
            if words.count == 2 {
                throw ScriptUserSpecError(message: "unexpected '\(words[1].0)' after USER:GROUP", offset: words[1].1)
            }
            let user = String(first.0[..<colon])
            let group = String(first.0[first.0.index(after: colon)...])
            if user.isEmpty { throw ScriptUserSpecError(message: "the user name before ':' is empty", offset: first.1) }
            if group.isEmpty {
                throw ScriptUserSpecError(message: "the group name after ':' is empty", offset: first.1 + user.utf8.count + 1)
            }
            self.init(user: user, group: group)
        } else {
            self.init(user: first.0, group: words.count == 2 ? words[1].0 : nil)
        }
    }

    public var description: String { group.map { "\(user):\($0)" } ?? user }
}

/// A `user [group]` specification that cannot be parsed.
public struct ScriptUserSpecError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    /// Byte offset (0-based) of the problem.
    public var offset: Int
    public var column: Int { offset + 1 }
    public var description: String { "\(message) (column \(column))" }
}

/// ASCII classes used by the parsers here.
enum HostASCII {
    static let backslash = UInt8(ascii: "\\")
    static let singleQuote = UInt8(ascii: "'")
    static let doubleQuote = UInt8(ascii: "\"")

    /// `isspace` in the C locale: space, \t, \n, \v, \f, \r.
    static func isSpace(_ c: UInt8) -> Bool { c == 32 || (c >= 9 && c <= 13) }

    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: c - 48
        case 65...70: c - 55
        case 97...102: c - 87
        default: nil
        }
    }
}
