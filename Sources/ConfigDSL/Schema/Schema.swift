/// How a configuration is being decoded.
public struct DecodeOptions: Sendable {
    /// Severity of an unknown keyword: an error for `kad check` (as `keepalived -t`), a warning when running.
    public var unknownKeywordSeverity: Severity

    public init(unknownKeywordSeverity: Severity = .error) {
        self.unknownKeywordSeverity = unknownKeywordSeverity
    }
}

/// State shared by every keyword decoder: diagnostics, the source map and the current block path.
public final class DecodeContext {
    public var diagnostics = Diagnostics()
    public var sourceMap = SourceMap()
    public let options: DecodeOptions
    /// The path of the block being decoded (see ``SourceMap``).
    public private(set) var path: String = ""

    public init(options: DecodeOptions = DecodeOptions()) {
        self.options = options
    }

    /// The keywords of the open blocks, innermost last; `keywordStarts` marks where each block's
    /// begin. One shared buffer, so a block costs no allocation of its own.
    private var keywordStack: [(KeywordID, SourceLocation)] = []
    private var keywordStarts: [Int] = []

    /// Runs `body` with `component` appended to the block path, recording where the block and
    /// its keywords are.
    public func inBlock<T>(_ component: String, at location: SourceLocation, _ body: () -> T) -> T {
        let savedPath = path
        path = path.isEmpty ? component : path + "/" + component
        keywordStarts.append(keywordStack.count)
        defer {
            let start = keywordStarts.removeLast()
            sourceMap.record(block: path, at: location, keywords: keywordStack[start...])
            keywordStack.removeSubrange(start...)
            path = savedPath
        }
        return body()
    }

    private var names = Set<String>()

    /// Registers a named block (`vrrp_instance VI_1`); false when the name is already taken.
    public func register(_ path: String) -> Bool {
        names.insert(path).inserted
    }

    /// Records where a keyword or list entry of the current block is.
    func recordKeyword(_ keyword: String, at location: SourceLocation) {
        recordKeyword(KeywordID(keyword), at: location)
    }

    func recordKeyword(_ id: KeywordID, at location: SourceLocation) {
        if !keywordStarts.isEmpty { keywordStack.append((id, location)) }
    }

    public func error(_ code: String, _ message: String, at location: SourceLocation?, hint: String? = nil) {
        diagnostics.error(code, message, at: location, hint: hint)
    }

    public func warning(_ code: String, _ message: String, at location: SourceLocation?, hint: String? = nil) {
        diagnostics.warning(code, message, at: location, hint: hint)
    }

    public func securityError(_ code: String, _ message: String, at location: SourceLocation?, hint: String? = nil) {
        diagnostics.error(code, message, at: location, hint: hint, category: .scriptSecurity)
    }
}

/// One keyword of a block: its name, aliases, help text, and how it reads into and prints from the model.
///
/// Schemas are tables of these (see ``BlockSchema``), so adding a keyword is one line, and
/// `kad check` can suggest the nearest keyword for a misspelling.
public struct KeywordRule<Model>: Sendable {
    public enum Shape: Sendable {
        /// A keyword with values on its line and no block.
        case value
        /// A keyword that must be followed by `{ ... }`.
        case block
        /// A keyword that may have a block or not.
        case either
    }

    public let name: String
    public let aliases: [String]
    public let help: String
    public let shape: Shape
    /// Whether the keyword may appear more than once in a block (otherwise the last one wins, with a warning).
    public let repeatable: Bool
    let decode: @Sendable (inout Model, ConfigNode, DecodeContext) -> Void
    let encode: @Sendable (Model, inout ConfigWriter) -> Void

    public init(
        _ name: String, aliases: [String] = [], help: String, shape: Shape = .value, repeatable: Bool = false,
        decode: @escaping @Sendable (inout Model, ConfigNode, DecodeContext) -> Void,
        encode: @escaping @Sendable (Model, inout ConfigWriter) -> Void
    ) {
        self.name = name
        self.aliases = aliases
        self.help = help
        self.shape = shape
        self.repeatable = repeatable
        self.decode = decode
        self.encode = encode
    }
}

/// A set of rule indexes without allocation (schemas have fewer than 256 rules; beyond that
/// duplicates go unnoticed rather than wrong).
struct RuleSet {
    private var bits: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    func contains(_ i: Int) -> Bool {
        switch i >> 6 {
        case 0: bits.0 & (1 << UInt64(i & 63)) != 0
        case 1: bits.1 & (1 << UInt64(i & 63)) != 0
        case 2: bits.2 & (1 << UInt64(i & 63)) != 0
        case 3: bits.3 & (1 << UInt64(i & 63)) != 0
        default: false
        }
    }

    mutating func insert(_ i: Int) {
        let bit: UInt64 = 1 << UInt64(i & 63)
        switch i >> 6 {
        case 0: bits.0 |= bit
        case 1: bits.1 |= bit
        case 2: bits.2 |= bit
        case 3: bits.3 |= bit
        default: break
        }
    }
}

/// A keyword as documentation sees it.
public struct KeywordInfo: Sendable, Hashable {
    public var name: String
    public var aliases: [String]
    public var help: String
}

/// The keywords that one kind of block accepts.
public struct BlockSchema<Model>: Sendable {
    public let name: String
    public let rules: [KeywordRule<Model>]
    private let lookup: [String: Int]
    private let ruleIDs: [KeywordID]

    public init(_ name: String, _ rules: [KeywordRule<Model>]) {
        self.name = name
        self.rules = rules
        var lookup: [String: Int] = [:]
        for (i, rule) in rules.enumerated() {
            for n in [rule.name] + rule.aliases {
                precondition(lookup[n.lowercased()] == nil, "duplicate keyword \(n) in \(name)")
                lookup[n.lowercased()] = i
            }
        }
        self.lookup = lookup
        self.ruleIDs = rules.map { KeywordID($0.name) }
    }

    /// Every keyword name and alias, for suggestions.
    public var keywordNames: [String] { rules.flatMap { [$0.name] + $0.aliases } }

    /// Every keyword with its aliases and help text, for documentation.
    public var keywords: [KeywordInfo] { rules.map { KeywordInfo(name: $0.name, aliases: $0.aliases, help: $0.help) } }

    public func rule(named name: String) -> KeywordRule<Model>? {
        lookup[name.lowercased()].map { rules[$0] }
    }

    /// Decodes the statements of a block into `model`, reporting unknown keywords and misuse.
    public func decode(_ nodes: [ConfigNode], into model: inout Model, context: DecodeContext) {
        var state = DecodeState()
        for node in nodes { decode(node, into: &model, context: context, state: &state) }
    }

    /// What decoding one block remembers between its statements (to notice a keyword given twice).
    public struct DecodeState {
        var seen = RuleSet()
        var firstLines: [Int: Int] = [:]
        public init() {}
    }

    /// Decodes one statement of a block; `state` carries over between the block's statements.
    public func decode(_ node: ConfigNode, into model: inout Model, context: DecodeContext, state: inout DecodeState) {
        let name = node.keyword.text
        guard let index = lookup[name] ?? lookup[name.lowercased()] else {
            context.unknownKeyword(node, in: self.name, candidates: keywordNames)
            return
        }
        let rule = rules[index]
        if name != rule.name, !rule.aliases.contains(name) {
            let canonical = ([rule.name] + rule.aliases).first { $0.lowercased() == name.lowercased() } ?? rule.name
            context.warning(
                "keyword-case", "keepalived only accepts the keyword '\(canonical)' spelled exactly so, not '\(name)'",
                at: node.location, hint: "write '\(canonical)' to keep the file portable to keepalived")
        }
        if !rule.repeatable {
            if state.seen.contains(index) {
                context.warning(
                    "duplicate-keyword",
                    "'\(rule.name)' is given again in \(self.name); this one replaces the one at line \(state.firstLines[index] ?? 0)",
                    at: node.location)
            } else {
                state.seen.insert(index)
                state.firstLines[index] = node.location.line
            }
        }
        context.recordKeyword(ruleIDs[index], at: node.location)
        switch rule.shape {
        case .value:
            if node.children != nil {
                context.error(
                    "unexpected-block", "'\(rule.name)' does not take a block", at: node.blockLocation ?? node.location,
                    hint: rule.help)
                return
            }
        case .block:
            if node.children == nil {
                context.error(
                    "missing-block", "missing '{' after '\(rule.name)'", at: node.location,
                    hint: "'\(rule.name)' opens a block: \(rule.name)\(node.arguments.isEmpty ? "" : " ...") { ... }")
                return
            }
        case .either:
            break
        }
        rule.decode(&model, node, context)
    }

    /// Prints `model` as keepalived statements.
    public func encode(_ model: Model, into writer: inout ConfigWriter) {
        for rule in rules { rule.encode(model, &writer) }
    }
}

extension DecodeContext {
    func unknownKeyword(_ node: ConfigNode, in block: String, candidates: [String]) {
        let name = node.keyword.text
        var hint: String? = nil
        if let suggestion = Suggest.nearest(to: name, in: candidates) {
            hint = "did you mean '\(suggestion)'?"
        }
        diagnostics.append(
            Diagnostic(
                options.unknownKeywordSeverity, "unknown-keyword",
                "unknown keyword '\(name)' in \(block)", at: node.location, hint: hint))
    }
}

/// "Did you mean" suggestions by edit distance.
public enum Suggest {
    public static func nearest(to word: String, in candidates: [String]) -> String? {
        let w = Array(word.lowercased().utf8)
        var best: (String, Int)? = nil
        for candidate in candidates {
            let c = Array(candidate.lowercased().utf8)
            if abs(c.count - w.count) > 3 { continue }
            let d = distance(w, c)
            // Ties go to the alphabetically first candidate, so suggestions do not depend on set order.
            if best == nil || d < best!.1 || (d == best!.1 && candidate < best!.0) { best = (candidate, d) }
        }
        guard let best else { return nil }
        let limit = max(1, min(3, w.count / 3))
        return best.1 <= limit ? best.0 : nil
    }

    /// Optimal string alignment distance: insertions, deletions, substitutions and
    /// transpositions of neighbours each count as one edit.
    static func distance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var beforePrevious = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], beforePrevious[j - 2] + 1)
                }
            }
            (beforePrevious, previous, current) = (previous, current, beforePrevious)
        }
        return previous[b.count]
    }
}
