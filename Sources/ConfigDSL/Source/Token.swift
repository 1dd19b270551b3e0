/// One token of a configuration line after preprocessing.
public struct Token: Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        case word
        case openBrace
        case closeBrace
    }

    public var kind: Kind
    /// The text with quotes removed and `\#` / `\!` unescaped.
    public var text: String
    /// Whether the token was written in double quotes (a quoted `{` is a word, not a brace).
    public var quoted: Bool
    public var location: SourceLocation

    public init(_ kind: Kind, _ text: String, quoted: Bool = false, at location: SourceLocation) {
        self.kind = kind
        self.text = text
        self.quoted = quoted
        self.location = location
    }
}

/// A preprocessed line: the tokens that one physical (or generated) line produced.
public struct LogicalLine: Sendable {
    public var tokens: [Token]
    public var location: SourceLocation
}

enum ASCII {
    static let tab: UInt8 = 9
    static let newline: UInt8 = 10
    static let carriageReturn: UInt8 = 13
    static let space: UInt8 = 32
    static let bang: UInt8 = 33
    static let quote: UInt8 = 34
    static let hash: UInt8 = 35
    static let dollar: UInt8 = 36
    static let singleQuote: UInt8 = 39
    static let openParen: UInt8 = 40
    static let closeParen: UInt8 = 41
    static let comma: UInt8 = 44
    static let equals: UInt8 = 61
    static let at: UInt8 = 64
    static let backslash: UInt8 = 92
    static let caret: UInt8 = 94
    static let underscore: UInt8 = 95
    static let openBrace: UInt8 = 123
    static let closeBrace: UInt8 = 125
    static let tilde: UInt8 = 126

    @inline(__always) static func isBlank(_ c: UInt8) -> Bool { c == space || c == tab || c == 11 || c == 12 || c == carriageReturn }
    @inline(__always) static func isNameStart(_ c: UInt8) -> Bool {
        (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == underscore
    }
    @inline(__always) static func isNameChar(_ c: UInt8) -> Bool { isNameStart(c) || (c >= 48 && c <= 57) }
}

/// Splits one preprocessed line into tokens: whitespace separates, `"..."` is one token
/// (quotes removed), a `"` inside a word starts a new token, braces outside quotes are tokens
/// of their own, and `\#` / `\!` outside quotes stand for `#` / `!`.
struct LineTokenizer {
    enum Failure: Error, Equatable {
        case unterminatedQuote(column: Int)
    }

    /// - Parameters:
    ///   - bytes: the line (comments already removed).
    ///   - line: the location of the line; tokens get its file and line.
    ///   - columnOf: maps an offset in `bytes` (0 = its first byte) to the 1-based source column.
    static func tokenize(
        _ bytes: ArraySlice<UInt8>, line: SourceLocation, into tokens: inout [Token], columnOf: (Int) -> Int
    ) -> Failure? {
        let base = bytes.startIndex
        let n = bytes.endIndex
        var i = base
        func location(_ index: Int) -> SourceLocation { line.atColumn(columnOf(index - base)) }
        while i < n {
            let c = bytes[i]
            if ASCII.isBlank(c) {
                i += 1
            } else if c == ASCII.quote {
                let start = i
                i += 1
                guard let close = bytes[i...].firstIndex(of: ASCII.quote) else {
                    return .unterminatedQuote(column: columnOf(start - base))
                }
                tokens.append(Token(.word, String(decoding: bytes[i..<close], as: UTF8.self), quoted: true, at: location(start)))
                i = close + 1
            } else if c == ASCII.openBrace || c == ASCII.closeBrace {
                tokens.append(Token(c == ASCII.openBrace ? .openBrace : .closeBrace, c == ASCII.openBrace ? "{" : "}", at: location(i)))
                i += 1
            } else {
                // A word: up to a blank, a quote or a brace. `\#`, `\!` and an undefined `${NAME}`
                // are part of it.
                let start = i
                var escaped = false
                while i < n {
                    let d = bytes[i]
                    if ASCII.isBlank(d) || d == ASCII.quote || d == ASCII.closeBrace { break }
                    if d == ASCII.openBrace {
                        // `${NAME}` left undefined stays one word rather than opening a block.
                        guard i > start, bytes[i - 1] == ASCII.dollar,
                            let close = bytes[(i + 1)...].firstIndex(where: { $0 == ASCII.closeBrace || ASCII.isBlank($0) || $0 == ASCII.openBrace }),
                            bytes[close] == ASCII.closeBrace
                        else { break }
                        i = close + 1
                        continue
                    }
                    if d == ASCII.backslash, i + 1 < n, bytes[i + 1] == ASCII.hash || bytes[i + 1] == ASCII.bang {
                        escaped = true
                        i += 2
                        continue
                    }
                    i += 1
                }
                var word = bytes[start..<i]
                var unescaped: [UInt8] = []
                if escaped {
                    var j = start
                    while j < i {
                        if word[j] == ASCII.backslash, j + 1 < i, word[j + 1] == ASCII.hash || word[j + 1] == ASCII.bang { j += 1 }
                        unescaped.append(word[j])
                        j += 1
                    }
                    word = unescaped[...]
                }
                tokens.append(Token(.word, String(decoding: word, as: UTF8.self), at: location(start)))
            }
        }
        return nil
    }
}
