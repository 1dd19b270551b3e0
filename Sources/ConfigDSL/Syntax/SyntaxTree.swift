/// One statement of the generic syntax tree: a keyword, its arguments and, for a block, its children.
///
/// The tree knows nothing of keepalived's keywords; ``ConfigDecoder`` gives it meaning.
public struct ConfigNode: Sendable {
    public var keyword: Token
    public var arguments: [Token]
    /// The statements inside `{ ... }`, or `nil` when the statement has no block.
    public var children: [ConfigNode]?
    /// Where the block's `{` is.
    public var blockLocation: SourceLocation?

    public init(keyword: Token, arguments: [Token] = [], children: [ConfigNode]? = nil, blockLocation: SourceLocation? = nil) {
        self.keyword = keyword
        self.arguments = arguments
        self.children = children
        self.blockLocation = blockLocation
    }

    public var location: SourceLocation { keyword.location }
    public var name: String { keyword.text }
    /// The argument texts.
    public var words: [String] { arguments.map(\.text) }

    /// Whether the keyword is `lowercaseKeyword`, in any case.
    public func `is`(_ lowercaseKeyword: String) -> Bool {
        let text = keyword.text
        if text == lowercaseKeyword { return true }
        return text.utf8.count == lowercaseKeyword.utf8.count && text.lowercased() == lowercaseKeyword
    }
}

/// Builds the generic syntax tree from preprocessed lines.
///
/// A statement is the tokens up to the end of its line or to a brace. `{` opens a block for the
/// statement before it, which may be on the previous line; `}` closes the innermost block.
public struct Parser {
    public private(set) var diagnostics = Diagnostics()
    private let tokens: [Token]
    private let lineEnds: [Int]
    private var lineIndex = 0
    private var position = 0

    public init(lines: [LogicalLine]) {
        var tokens: [Token] = []
        var ends: [Int] = []
        for line in lines where !line.tokens.isEmpty {
            tokens += line.tokens
            ends.append(tokens.count)
        }
        self.init(tokens: tokens, lineEnds: ends)
    }

    /// Parses a flat token array; `lineEnds[i]` is the index after line i's last token.
    public init(tokens: [Token], lineEnds: [Int]) {
        self.tokens = tokens
        self.lineEnds = lineEnds
    }

    /// Whether the next token starts a new line (and moves past any line ends).
    private mutating func atLineEnd() -> Bool {
        var ended = false
        while lineIndex < lineEnds.count, position >= lineEnds[lineIndex] {
            lineIndex += 1
            ended = true
        }
        return ended
    }

    /// Parses every line into top-level statements.
    public mutating func parse() -> [ConfigNode] {
        parseBlock(openedAt: nil, depth: 0, emit: nil)
    }

    /// Parses every line, handing each top-level statement to `emit` as soon as it is complete,
    /// so that a caller can decode a large file without holding its whole tree.
    public mutating func parse(emit: (ConfigNode) -> Void) {
        withoutActuallyEscaping(emit) { emit in
            _ = parseBlock(openedAt: nil, depth: 0, emit: emit)
        }
    }

    /// Blocks nested deeper than this are an error (keepalived's deepest real nesting is 4).
    public static let maximumDepth = 64

    private mutating func parseBlock(openedAt: SourceLocation?, depth: Int, emit: ((ConfigNode) -> Void)? = nil) -> [ConfigNode] {
        if depth > Self.maximumDepth, let openedAt {
            diagnostics.error("nesting-depth", "blocks are nested more than \(Self.maximumDepth) deep", at: openedAt)
            skipBlock()
            return []
        }
        var nodes: [ConfigNode] = []
        var current: ConfigNode? = nil
        // The last statement, ended by a line break, which may still take a `{` from the next line.
        var mayTakeBlock = false
        while true {
            // At the top level, every statement but the last (which a `{` on the next line may
            // still extend) goes to `emit`.
            if let emit, nodes.count > 1 {
                for node in nodes.dropLast() { emit(node) }
                nodes.removeFirst(nodes.count - 1)
            }
            if atLineEnd(), let c = current {
                nodes.append(c)
                current = nil
                mayTakeBlock = true
            }
            guard position < tokens.count else { break }
            let token = tokens[position]
            position += 1
            switch token.kind {
            case .word:
                if current == nil {
                    // The arguments are the words up to the end of the line or a brace: take them at once.
                    let lineEnd = lineIndex < lineEnds.count ? lineEnds[lineIndex] : tokens.count
                    var end = position
                    while end < lineEnd, tokens[end].kind == .word { end += 1 }
                    current = ConfigNode(keyword: token, arguments: end > position ? Array(tokens[position..<end]) : [])
                    position = end
                    mayTakeBlock = false
                } else {
                    current!.arguments.append(token)
                }
            case .openBrace:
                var owner: ConfigNode
                if let c = current {
                    owner = c
                    current = nil
                } else if mayTakeBlock, let last = nodes.popLast() {
                    owner = last
                } else {
                    diagnostics.error(
                        "unexpected-brace", "unexpected '{' with no keyword before it", at: token.location,
                        hint: "a block opens after its keyword, as in 'vrrp_instance VI_1 {'")
                    _ = parseBlock(openedAt: token.location, depth: depth + 1)
                    mayTakeBlock = false
                    continue
                }
                owner.children = parseBlock(openedAt: token.location, depth: depth + 1)
                owner.blockLocation = token.location
                nodes.append(owner)
                mayTakeBlock = false
            case .closeBrace:
                if let c = current { nodes.append(c); current = nil }
                if openedAt != nil { return nodes }
                diagnostics.error(
                    "extra-brace", "extra '}' with no block open", at: token.location,
                    hint: "remove it, or look for a missing '{' above")
                mayTakeBlock = false
            }
        }
        if let c = current { nodes.append(c) }
        if let emit {
            for node in nodes { emit(node) }
            nodes = []
        }
        if let openedAt {
            diagnostics.error(
                "missing-brace", "block opened here is never closed", at: openedAt,
                hint: "add the missing '}'")
        }
        return nodes
    }

    /// Consumes tokens up to the `}` that closes the current block, without building nodes.
    private mutating func skipBlock() {
        var level = 1
        while position < tokens.count {
            let kind = tokens[position].kind
            position += 1
            if kind == .openBrace { level += 1 }
            if kind == .closeBrace {
                level -= 1
                if level == 0 { return }
            }
        }
    }
}
