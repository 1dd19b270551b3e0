/// Builds keepalived configuration text, one indented statement per line.
public struct ConfigWriter: Sendable {
    public private(set) var text = ""
    private var indent = 0

    public init() {}

    /// Writes one statement; words that need it are quoted.
    public mutating func line(_ words: [String]) {
        text += String(repeating: "    ", count: indent)
        text += words.map(Self.quote).joined(separator: " ")
        text += "\n"
    }

    public mutating func line(_ words: String...) { line(words) }

    /// Writes `words {`, the block's statements, and `}`.
    public mutating func block(_ words: [String], _ body: (inout ConfigWriter) -> Void) {
        text += String(repeating: "    ", count: indent)
        text += (words.map(Self.quote) + ["{"]).joined(separator: " ")
        text += "\n"
        indent += 1
        body(&self)
        indent -= 1
        text += String(repeating: "    ", count: indent) + "}\n"
    }

    public mutating func block(_ words: String..., body: (inout ConfigWriter) -> Void) {
        block(words, body)
    }

    /// Quotes a word when it would not survive tokenization on its own.
    static func quote(_ word: String) -> String {
        if word.isEmpty { return "\"\"" }
        var needs = false
        for c in word.utf8 {
            if ASCII.isBlank(c) || c == ASCII.hash || c == ASCII.bang || c == ASCII.openBrace || c == ASCII.closeBrace
                || c == ASCII.quote || c == ASCII.dollar || c == ASCII.backslash
            {
                needs = true
                break
            }
        }
        if word.first == "@" || word.first == "~" { needs = true }
        return needs ? "\"" + word + "\"" : word
    }
}
