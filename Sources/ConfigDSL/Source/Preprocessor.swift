/// Options that steer preprocessing.
public struct PreprocessorOptions: Sendable {
    /// The config id that `@ID` lines are compared with (`-i`); keepalived's default is the short host name.
    public var configID: String
    /// `-e/--all-config`: every include behaves as `includea`.
    public var allConfig: Bool
    /// Seed for `${_RANDOM}`; `nil` uses a seed from the system.
    public var randomSeed: UInt64?
    /// Looks up `${_ENV NAME}`.
    public var environment: @Sendable (String) -> String?
    /// Includes nested deeper than this are refused.
    public var maximumIncludeDepth: Int
    /// A physical line longer than this many bytes is an error (keepalived's line buffer is 1024 bytes).
    public var maximumLineLength: Int
    /// Stops runaway `~SEQ` / parameter expansion.
    public var maximumGeneratedLines: Int

    public init(
        configID: String? = nil, allConfig: Bool = false, randomSeed: UInt64? = nil,
        environment: (@Sendable (String) -> String?)? = nil,
        maximumIncludeDepth: Int = 32, maximumLineLength: Int = 1024, maximumGeneratedLines: Int = 5_000_000
    ) {
        self.configID = configID ?? FileReader.shortHostName()
        self.allConfig = allConfig
        self.randomSeed = randomSeed
        self.environment = environment ?? { FileReader.environment($0) }
        self.maximumIncludeDepth = maximumIncludeDepth
        self.maximumLineLength = maximumLineLength
        self.maximumGeneratedLines = maximumGeneratedLines
    }
}

/// The checks an include makes (keepalived's `include_check` options).
public struct IncludeChecks: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// Every match must be a readable file.
    public static let readable = IncludeChecks(rawValue: 1)
    /// A pattern without wildcards must match a file.
    public static let match = IncludeChecks(rawValue: 2)
    /// A pattern must match a file even with wildcards.
    public static let wildcardMatch = IncludeChecks(rawValue: 4)
    /// Each brace alternative must match a file.
    public static let braceMatch = IncludeChecks(rawValue: 8)
    public static let all: IncludeChecks = [.readable, .match, .wildcardMatch, .braceMatch]

    static let names: [(String, IncludeChecks)] = [
        ("readable", .readable), ("match", .match), ("wildcard_match", .wildcardMatch), ("brace_match", .braceMatch),
    ]
}

/// Turns configuration files into logical lines of tokens: reads includes, drops comments,
/// applies `@ID` conditionals, defines and substitutes `$NAME` parameters, and expands
/// `~SEQ` / `~SEQx` / `~LST` lines. Everything it finds wrong is a located diagnostic.
public struct Preprocessor {
    private enum Param {
        case single([UInt8])
        case multi([[UInt8]])
    }

    private struct Collecting {
        var name: String
        var lines: [[UInt8]]
        var location: SourceLocation
    }

    public let options: PreprocessorOptions
    public private(set) var diagnostics = Diagnostics()
    /// Every token of every line, in order; `lineEnds[i]` is the index after line i's last token.
    /// One flat array instead of an array per line keeps large files cheap.
    public private(set) var tokens: [Token] = []
    public private(set) var lineEnds: [Int] = []

    /// The preprocessed lines (built from ``tokens``; for tests and tools).
    public var lines: [LogicalLine] {
        var result: [LogicalLine] = []
        var start = 0
        for end in lineEnds {
            let slice = Array(tokens[start..<end])
            result.append(LogicalLine(tokens: slice, location: slice[0].location.atColumn(1)))
            start = end
        }
        return result
    }
    /// Every file that was read, in order.
    public private(set) var files: [String] = []

    private static let randomSeedKeyword = Array("random_seed".utf8)
    /// How many tokens are handed on at a time when streaming.
    static let chunkSize = 1 << 16
    private var consumer: ((_ tokens: [Token], _ lineEnds: [Int]) -> Void)?
    private var braceDepth = 0
    private var params: [String: Param] = [:]
    private var collecting: Collecting?
    private var includeStack: [String] = []
    private var pwdStack: [String] = []
    private var checks: IncludeChecks = []
    private var random: SplitMix64
    private var generated = 0
    private var stopped = false
    /// Lines before the main file's first line (a block of a file read on its own, so its
    /// locations are those of the whole file).
    private var mainLineOffset = 0

    public init(options: PreprocessorOptions) {
        self.options = options
        self.random = SplitMix64(seed: options.randomSeed ?? UInt64.random(in: 0...UInt64.max))
        self.checks = options.allConfig ? .all : []
    }

    /// Preprocesses the file at `path` and everything it includes.
    public mutating func run(path: String) {
        run(path: path, consumer: nil)
    }

    /// Preprocesses the file at `path`, handing the tokens to `consume` in pieces as it goes:
    /// whenever the text is back at the top level after a block and enough tokens are waiting,
    /// they are passed on and dropped here, so a large file is never held whole as tokens. What
    /// is left at the end stays in ``tokens`` (take it with ``takeTokens()``).
    public mutating func run(path: String, consume: (_ tokens: [Token], _ lineEnds: [Int]) -> Void) {
        withoutActuallyEscaping(consume) { consume in
            run(path: path, consumer: consume)
        }
    }

    private mutating func run(path: String, consumer: ((_ tokens: [Token], _ lineEnds: [Int]) -> Void)?) {
        self.consumer = consumer
        defer { self.consumer = nil }
        switch FileReader.readFile(path) {
        case .failure(let reason):
            diagnostics.error(
                "file-unreadable", "cannot read configuration file '\(path)': \(reason)", at: nil,
                hint: "pass the configuration with -f FILE", category: .fatal)
        case .success(let bytes):
            processFile(bytes: bytes, path: path)
        }
    }

    /// Preprocesses `bytes`, the contents of the file at `path` as already read (so a caller that
    /// keeps the text sees exactly what was parsed), handing tokens on as ``run(path:consume:)`` does.
    mutating func run(path: String, bytes: [UInt8], consume: (_ tokens: [Token], _ lineEnds: [Int]) -> Void) {
        withoutActuallyEscaping(consume) { consume in
            self.consumer = consume
            defer { self.consumer = nil }
            processFile(bytes: bytes, path: path)
        }
    }

    /// Preprocesses `bytes`, a piece of the file at `path` whose first line is line
    /// `lineOffset + 1` of that file: locations are the file's own.
    mutating func run(piece bytes: [UInt8], of path: String, lineOffset: Int) {
        mainLineOffset = lineOffset
        defer { mainLineOffset = 0 }
        processFile(bytes: bytes, path: path)
    }

    /// Hands over the tokens and line ends, leaving none behind.
    public mutating func takeTokens() -> (tokens: [Token], lineEnds: [Int]) {
        defer {
            tokens = []
            lineEnds = []
        }
        return (tokens, lineEnds)
    }

    /// Preprocesses configuration text that did not come from a file (tests, embedding).
    /// Relative includes resolve against `directory`.
    public mutating func run(text: String, name: String = "<string>", directory: String = ".") {
        processFile(bytes: Array(text.utf8), path: name, directory: directory)
    }

    // MARK: - Files

    private mutating func processFile(bytes: [UInt8], path: String, directory: String? = nil) {
        let real = FileReader.realPath(path)
        files.append(path)
        includeStack.append(real)
        pwdStack.append(directory ?? Self.directory(of: path))
        let savedChecks = checks
        defer {
            includeStack.removeLast()
            pwdStack.removeLast()
            checks = savedChecks
        }
        let fileID = SourceFiles.id(of: path)
        // About one token per 6 bytes in real configurations: reserve once instead of regrowing.
        if tokens.isEmpty { tokens.reserveCapacity(min(bytes.count / 6, consumer == nil ? Int.max : 2 * Self.chunkSize)) }
        var lineNumber = includeStack.count == 1 ? mainLineOffset : 0
        var start = 0
        var badLines = 0
        let count = bytes.count
        while start <= count, !stopped {
            // One pass finds the line end and notes what needs a closer look.
            var end = start
            var unusual = false
            while end < count {
                let c = bytes[end]
                if c == ASCII.newline { break }
                if c == 0 || c >= 0x80 || c == ASCII.carriageReturn { unusual = true }
                end += 1
            }
            if start == count { break }
            lineNumber += 1
            let raw = bytes[start..<end]
            start = end + 1
            let location = SourceLocation(fileID: fileID, line: lineNumber, column: 1)
            if raw.count > options.maximumLineLength {
                diagnostics.error(
                    "line-too-long", "line is \(raw.count) bytes long; the limit is \(options.maximumLineLength) (keepalived ignores such a line)",
                    at: location, hint: "split the line, or move long values into a $NAME= parameter")
                badLines += 1
            } else if unusual, raw.contains(0) {
                diagnostics.error("nul-byte", "line contains a NUL byte; the line is ignored", at: location, hint: "is this a text file?")
                badLines += 1
            } else if unusual, !Self.isValidUTF8(raw) {
                diagnostics.error("invalid-utf8", "line is not valid UTF-8 text; the line is ignored", at: location, hint: "is this a text file?")
                badLines += 1
            } else {
                physicalLine(raw, location: location, mayHaveCarriageReturn: unusual)
            }
            if badLines >= 10 {
                diagnostics.error(
                    "binary-file", "stopped reading '\(path)' after \(badLines) unreadable lines",
                    at: location, hint: "this does not look like a keepalived configuration file")
                return
            }
        }
        if let collecting, includeStack.count == 1 {
            diagnostics.error(
                "unterminated-definition", "multi-line definition of $\(collecting.name) is not finished at the end of the file",
                at: collecting.location, hint: "the last line of a multi-line definition must not end with '\\'")
            finishCollecting()
        }
    }

    private static func isValidUTF8(_ bytes: ArraySlice<UInt8>) -> Bool {
        if !bytes.contains(where: { $0 >= 0x80 }) { return true }
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    private mutating func physicalLine(_ raw: ArraySlice<UInt8>, location: SourceLocation, mayHaveCarriageReturn: Bool) {
        var text = raw
        if mayHaveCarriageReturn, raw.contains(ASCII.carriageReturn) { text = raw.filter { $0 != ASCII.carriageReturn }[...] }
        if let comment = Self.commentStart(text) { text = text[..<comment] }
        let (trimmed, _) = Self.trim(text)
        if trimmed.isEmpty { return }
        let offset = trimmed.startIndex - text.startIndex
        let loc = location.atColumn(offset + 1)
        if collecting == nil, trimmed.starts(with: Self.includeKeyword), let keyword = Self.firstWord(trimmed) {
            if handleInclude(keyword: keyword, line: trimmed, location: loc) { return }
        }
        feed(trimmed, location: loc, columnBase: offset, depth: 0)
    }

    private static let includeKeyword = Array("include".utf8)

    /// Where a `#` or `!` comment starts outside double quotes (not written `\#` / `\!`), if any.
    static func commentStart(_ text: ArraySlice<UInt8>) -> Int? {
        var inQuote = false
        var i = text.startIndex
        while i < text.endIndex {
            let c = text[i]
            if c == ASCII.quote {
                inQuote.toggle()
            } else if !inQuote {
                if c == ASCII.backslash, i + 1 < text.endIndex, text[i + 1] == ASCII.hash || text[i + 1] == ASCII.bang {
                    i += 2
                    continue
                }
                if c == ASCII.hash || c == ASCII.bang { return i }
            }
            i += 1
        }
        return nil
    }

    static func trim(_ text: [UInt8]) -> (ArraySlice<UInt8>, Int) {
        let (slice, offset) = trim(text[...])
        return (slice, offset)
    }

    static func trim(_ text: ArraySlice<UInt8>) -> (ArraySlice<UInt8>, Int) {
        var s = text.startIndex
        var e = text.endIndex
        while s < e, ASCII.isBlank(text[s]) { s += 1 }
        while e > s, ASCII.isBlank(text[e - 1]) { e -= 1 }
        return (text[s..<e], s - text.startIndex)
    }

    private static func firstWord(_ text: ArraySlice<UInt8>) -> String? {
        let end = text.firstIndex(where: ASCII.isBlank) ?? text.endIndex
        return String(decoding: text[text.startIndex..<end], as: UTF8.self)
    }

    // MARK: - Includes

    /// Handles `include*` and `include_check` lines; returns false when the word only starts with "include".
    private mutating func handleInclude(keyword: String, line: ArraySlice<UInt8>, location: SourceLocation) -> Bool {
        let words = String(decoding: line, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        var extra: IncludeChecks
        switch keyword.lowercased() {
        case "include": extra = []
        case "includer": extra = [.readable]
        case "includem": extra = [.readable, .match]
        case "includew": extra = [.readable, .wildcardMatch]
        case "includeb": extra = [.readable, .braceMatch]
        case "includea": extra = .all
        case "include_check":
            setIncludeChecks(Array(words.dropFirst()), location: location)
            return true
        default:
            return false
        }
        if keyword != keyword.lowercased() {
            diagnostics.warning(
                "keyword-case", "keepalived only accepts '\(keyword.lowercased())' in lower case", at: location,
                hint: "write '\(keyword.lowercased())' to keep the file portable to keepalived")
        }
        guard words.count >= 2 else {
            diagnostics.error("include-without-file", "'\(keyword)' needs a file name or pattern", at: location)
            return true
        }
        if words.count > 2 {
            diagnostics.warning(
                "include-extra-words", "'\(keyword)' takes one pattern; '\(words[2...].joined(separator: " "))' is ignored",
                at: location)
        }
        include(pattern: words[1], checks: checks.union(extra), keyword: keyword, location: location)
        return true
    }

    private mutating func setIncludeChecks(_ words: [String], location: SourceLocation) {
        if words.isEmpty {
            checks = .all
            return
        }
        var adding = true
        var result = checks
        var sawSign = false
        for word in words {
            var w = Substring(word)
            if w.hasPrefix("+") { adding = true; sawSign = true; w = w.dropFirst() }
            else if w.hasPrefix("-") { adding = false; sawSign = true; w = w.dropFirst() }
            if w.isEmpty { continue }
            guard let check = IncludeChecks.names.first(where: { $0.0 == w.lowercased() })?.1 else {
                diagnostics.error(
                    "include-check-option", "unknown include_check option '\(w)'", at: location,
                    hint: "use readable, match, wildcard_match or brace_match")
                continue
            }
            if !sawSign, result == checks { result = [] }
            let implied: IncludeChecks = check == .readable ? check : [check, .readable]
            if adding { result.formUnion(implied) } else { result.subtract([check]) }
        }
        checks = result
    }

    private mutating func include(pattern: String, checks: IncludeChecks, keyword: String, location: SourceLocation) {
        let base = pwdStack.last ?? "."
        let absolute = pattern.hasPrefix("/") ? pattern : (base == "/" ? "/" + pattern : base + "/" + pattern)
        let alternatives = BraceExpansion.expand(absolute)
        var matches: [String] = []
        var failed = false
        for alternative in alternatives {
            let found = FileReader.glob(alternative)
            if found.isEmpty, checks.contains(.braceMatch), alternatives.count > 1 {
                diagnostics.error(
                    "include-no-match", "\(keyword): brace alternative '\(alternative)' matches no file", at: location,
                    category: .fatal)
                failed = true
            }
            matches.append(contentsOf: found)
        }
        if failed { return }
        if matches.isEmpty {
            let wild = FileReader.hasWildcard(absolute) || alternatives.count > 1
            if checks.contains(.wildcardMatch) || (checks.contains(.match) && !wild) {
                diagnostics.error(
                    "include-no-match", "\(keyword): '\(pattern)' matches no file", at: location,
                    hint: "the path is relative to the directory of the including file (\(base))", category: .fatal)
            } else {
                diagnostics.warning(
                    "include-no-match", "\(keyword): '\(pattern)' matches no file; nothing is included", at: location,
                    hint: "use includem or includea to make a missing file an error")
            }
            return
        }
        var seen = Set<String>()
        for file in matches where seen.insert(file).inserted {
            guard !stopped else { return }
            if includeStack.count >= options.maximumIncludeDepth {
                diagnostics.error(
                    "include-depth", "includes are nested more than \(options.maximumIncludeDepth) deep at '\(file)'", at: location,
                    hint: "is a file including itself through a wildcard?", category: .fatal)
                stopped = true
                return
            }
            let real = FileReader.realPath(file)
            if let cycleStart = includeStack.firstIndex(of: real) {
                let chain = (includeStack[cycleStart...] + [real]).joined(separator: " → ")
                diagnostics.error("include-cycle", "include cycle: \(chain)", at: location, category: .fatal)
                continue
            }
            switch FileReader.readFile(file) {
            case .success(let bytes):
                processFile(bytes: bytes, path: file)
            case .failure(let reason):
                if checks.contains(.readable) {
                    diagnostics.error(
                        "include-unreadable", "\(keyword): cannot read '\(file)': \(reason)", at: location, category: .fatal)
                } else {
                    diagnostics.warning("include-unreadable", "\(keyword): cannot read '\(file)': \(reason); skipped", at: location)
                }
            }
        }
    }

    // MARK: - Lines

    private mutating func countGenerated(_ location: SourceLocation) -> Bool {
        generated += 1
        if generated > options.maximumGeneratedLines {
            if !stopped {
                diagnostics.error(
                    "expansion-limit", "configuration expands to more than \(options.maximumGeneratedLines) lines; stopped",
                    at: location, hint: "check ~SEQ ranges and recursive parameters")
                stopped = true
            }
            return false
        }
        return true
    }

    /// Processes one line: multi-line collection, conditionals, definitions, sequences,
    /// substitution and tokenization. `columnBase` maps the start of `text` to its source column
    /// (`nil` once the text no longer corresponds to the source).
    private mutating func feed(_ text: ArraySlice<UInt8>, location: SourceLocation, columnBase: Int?, depth: Int) {
        guard !stopped else { return }
        if depth > 64 {
            diagnostics.error("expansion-depth", "parameter expansion nests more than 64 deep", at: location)
            return
        }
        var text = text
        var columnBase = columnBase
        if collecting != nil {
            var line = Array(text)
            let continues = line.last == ASCII.backslash
            if continues { line.removeLast() }
            let (body, _) = Self.trim(line)
            if !body.isEmpty { collecting!.lines.append(Array(body)) }
            if !continues { finishCollecting() }
            return
        }
        // @ID / @^ID conditional lines.
        if text.first == ASCII.at {
            var i = text.startIndex + 1
            var negate = false
            if i < text.endIndex, text[i] == ASCII.caret { negate = true; i += 1 }
            let idStart = i
            while i < text.endIndex, !ASCII.isBlank(text[i]) { i += 1 }
            let id = String(decoding: text[idStart..<i], as: UTF8.self)
            if id.isEmpty {
                diagnostics.error("conditional-id", "'@' must be followed by a config id", at: location, hint: "write @ID or @^ID")
                return
            }
            let matches = id == options.configID
            if matches == negate { return }
            while i < text.endIndex, ASCII.isBlank(text[i]) { i += 1 }
            columnBase = columnBase.map { $0 + (i - text.startIndex) }
            text = text[i...]
            if text.isEmpty { return }
        }
        // $NAME=VALUE definitions.
        if text.first == ASCII.dollar, let (name, value) = Self.definition(text) {
            if name.hasPrefix("_") {
                diagnostics.warning(
                    "reserved-parameter", "parameter names that start with '_' are reserved for keepalived's predefined names",
                    at: location, hint: "rename $\(name)")
            }
            let (valueTrimmed, _) = Self.trim(Array(value))
            if valueTrimmed.count == 1, valueTrimmed.first == ASCII.backslash {
                collecting = Collecting(name: name, lines: [], location: location)
            } else {
                params[name] = .single(Array(valueTrimmed))
            }
            return
        }
        // ~SEQ / ~SEQx / ~LST line expansion.
        if text.first == ASCII.tilde {
            if expandSequence(text, location: location, depth: depth) { return }
        }
        // Parameter substitution.
        var bytes = text
        var columns: [Int32]? = nil
        if text.contains(ASCII.dollar) {
            let (substituted, map, changed) = substitute(Array(text), location: location)
            if changed {
                if let columnBase, let map {
                    columns = map.map { $0 < 0 ? Int32(-1) : Int32(columnBase + Int($0) + 1) }
                }
                bytes = substituted[...]
                if bytes.contains(ASCII.newline) {
                    // A multi-line parameter: every line it holds is processed on its own.
                    var start = bytes.startIndex
                    for i in bytes.startIndex...bytes.endIndex where i == bytes.endIndex || bytes[i] == ASCII.newline {
                        let (piece, _) = Self.trim(bytes[start..<i])
                        start = i + 1
                        if !piece.isEmpty { feed(piece, location: location, columnBase: nil, depth: depth + 1) }
                    }
                    return
                }
                let (trimmed, _) = Self.trim(bytes)
                if trimmed.first == ASCII.at || trimmed.first == ASCII.tilde
                    || (trimmed.first == ASCII.dollar && Self.definition(trimmed) != nil)
                {
                    feed(trimmed, location: location, columnBase: nil, depth: depth + 1)
                    return
                }
            }
        }
        guard countGenerated(location) else { return }
        // `random_seed N` (global_defs) makes the ${_RANDOM} values after it repeatable, as in keepalived.
        if bytes.count > 12, bytes.first == UInt8(ascii: "r"), bytes.starts(with: Self.randomSeedKeyword),
            ASCII.isBlank(bytes[bytes.startIndex + 11])
        {
            let value = String(decoding: bytes[(bytes.startIndex + 12)...], as: UTF8.self).trimmingBlanks()
            if let seed = UInt64(value) { random = SplitMix64(seed: seed) }
        }
        let base = columnBase
        let columnMap = columns
        let before = tokens.count
        let failure = LineTokenizer.tokenize(bytes, line: location, into: &tokens) { index in
            if let columnMap, index < columnMap.count, columnMap[index] > 0 { return Int(columnMap[index]) }
            if columnMap == nil, let base { return base + index + 1 }
            return location.column
        }
        if case .unterminatedQuote(let column) = failure {
            tokens.removeSubrange(before...)
            diagnostics.error(
                "unterminated-quote", "unterminated double quote", at: location.atColumn(column),
                hint: "close the string with '\"' on the same line")
            return
        }
        if tokens.count > before {
            lineEnds.append(tokens.count)
            for t in tokens[before...] {
                if t.kind == .openBrace { braceDepth += 1 } else if t.kind == .closeBrace, braceDepth > 0 { braceDepth -= 1 }
            }
            // Back at the top level right after a block: nothing later can attach to what is here.
            if let consumer, braceDepth == 0, tokens.count >= Self.chunkSize, tokens[tokens.count - 1].kind == .closeBrace {
                consumer(tokens, lineEnds)
                tokens.removeAll(keepingCapacity: true)
                lineEnds.removeAll(keepingCapacity: true)
            }
        }
    }

    private mutating func finishCollecting() {
        guard let done = collecting else { return }
        collecting = nil
        params[done.name] = .multi(done.lines)
    }

    /// Recognises `$NAME=VALUE`; returns the name and the raw value.
    private static func definition(_ text: ArraySlice<UInt8>) -> (String, ArraySlice<UInt8>)? {
        var i = text.startIndex + 1
        guard i < text.endIndex, ASCII.isNameStart(text[i]) else { return nil }
        while i < text.endIndex, ASCII.isNameChar(text[i]) { i += 1 }
        guard i < text.endIndex, text[i] == ASCII.equals else { return nil }
        let name = String(decoding: text[(text.startIndex + 1)..<i], as: UTF8.self)
        return (name, text[(i + 1)...])
    }

    // MARK: - Substitution

    /// Replaces `${NAME}` and `$NAME` (followed by a blank or the end) until nothing changes.
    /// Returns the text, a map from each output byte to the source offset it came from (-1 for
    /// substituted text), and whether anything changed.
    private mutating func substitute(_ input: [UInt8], location: SourceLocation) -> ([UInt8], [Int32]?, Bool) {
        var text = input
        var map: [Int32]? = (0..<input.count).map { Int32($0) }
        var changedAny = false
        for _ in 0..<64 {
            var out: [UInt8] = []
            out.reserveCapacity(text.count)
            var outMap: [Int32] = []
            var changed = false
            var i = 0
            while i < text.count {
                let c = text[i]
                guard c == ASCII.dollar, i + 1 < text.count else {
                    out.append(c); outMap.append(map?[i] ?? -1); i += 1
                    continue
                }
                var replacement: [UInt8]? = nil
                var consumed = 0
                if text[i + 1] == ASCII.openBrace, let close = text[(i + 2)...].firstIndex(of: ASCII.closeBrace) {
                    let inner = String(decoding: text[(i + 2)..<close], as: UTF8.self)
                    replacement = value(of: inner, location: location)
                    consumed = close + 1 - i
                } else if ASCII.isNameStart(text[i + 1]) {
                    var j = i + 1
                    while j < text.count, ASCII.isNameChar(text[j]) { j += 1 }
                    if j == text.count || ASCII.isBlank(text[j]) {
                        let name = String(decoding: text[(i + 1)..<j], as: UTF8.self)
                        replacement = value(of: name, location: location)
                        consumed = j - i
                    }
                }
                if let replacement {
                    let origin = map?[i] ?? -1
                    out.append(contentsOf: replacement)
                    outMap.append(contentsOf: repeatElement(origin, count: replacement.count))
                    i += consumed
                    changed = true
                } else {
                    out.append(c); outMap.append(map?[i] ?? -1); i += 1
                }
                if out.count > 1 << 20 {
                    diagnostics.error("expansion-size", "parameter substitution makes the line longer than 1 MiB", at: location,
                                      hint: "is a parameter defined in terms of itself?")
                    return (input, nil, false)
                }
            }
            if !changed { return (text, map, changedAny) }
            changedAny = true
            text = out
            map = outMap
        }
        diagnostics.error(
            "recursive-parameter", "parameter substitution does not terminate", at: location,
            hint: "a parameter refers to itself, directly or through others")
        return (input, nil, false)
    }

    /// The value of a parameter reference (the text inside `${...}` or after `$`), or nil to leave it verbatim.
    private mutating func value(of reference: String, location: SourceLocation) -> [UInt8]? {
        let parts = reference.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard let name = parts.first else { return nil }
        switch name {
        case "_PWD": return Array((pwdStack.last ?? ".").utf8)
        case "_INSTANCE": return Array(options.configID.utf8)
        case "_HASH": return [ASCII.backslash, ASCII.hash]
        case "_BANG": return [ASCII.backslash, ASCII.bang]
        case "_ENV":
            guard parts.count == 2 else {
                diagnostics.error("env-parameter", "${_ENV NAME} needs exactly one variable name", at: location)
                return []
            }
            return Array((options.environment(parts[1]) ?? "").utf8)
        case "_RANDOM":
            var low: UInt64 = 0
            var high: UInt64 = 32767
            if parts.count > 3 {
                diagnostics.error("random-parameter", "${_RANDOM [MIN [MAX]]} takes at most two numbers", at: location)
            }
            if parts.count >= 2 {
                guard let v = UInt64(parts[1]) else {
                    diagnostics.error("random-parameter", "'\(parts[1])' is not a non-negative integer in ${_RANDOM}", at: location)
                    return []
                }
                low = v
            }
            if parts.count >= 3 {
                guard let v = UInt64(parts[2]) else {
                    diagnostics.error("random-parameter", "'\(parts[2])' is not a non-negative integer in ${_RANDOM}", at: location)
                    return []
                }
                high = v
            }
            if high < low {
                diagnostics.error("random-parameter", "${_RANDOM \(low) \(high)}: MIN is larger than MAX", at: location)
                return []
            }
            let span = high - low
            let v = span == UInt64.max ? random.next() : low + random.next() % (span + 1)
            return Array(String(v).utf8)
        default:
            guard parts.count == 1, let param = params[name] else { return nil }
            switch param {
            case .single(let v): return v
            case .multi(let lines): return Array(lines.joined(separator: [ASCII.newline]))
            }
        }
    }

    // MARK: - Sequences

    /// Expands `~SEQ(var,[start,][step,]end) rest`, `~SEQx(...)` and `~LST(...)`.
    /// Returns false when the line does not start with one of them.
    private mutating func expandSequence(_ text: ArraySlice<UInt8>, location: SourceLocation, depth: Int) -> Bool {
        let string = String(decoding: text, as: UTF8.self)
        let kind: String
        if string.hasPrefix("~SEQx(") { kind = "~SEQx" }
        else if string.hasPrefix("~SEQ(") { kind = "~SEQ" }
        else if string.hasPrefix("~LST(") { kind = "~LST" }
        else { return false }
        // Find the matching parenthesis.
        var depthCount = 0
        var close: String.Index? = nil
        for i in string.indices[string.index(string.startIndex, offsetBy: kind.count)...] {
            if string[i] == "(" { depthCount += 1 }
            if string[i] == ")" {
                depthCount -= 1
                if depthCount == 0 { close = i; break }
            }
        }
        guard let close else {
            diagnostics.error("sequence-syntax", "\(kind)( has no closing ')'", at: location)
            return true
        }
        let headerStart = string.index(string.startIndex, offsetBy: kind.count + 1)
        var header = String(string[headerStart..<close])
        if header.contains("$") {
            let (sub, _, _) = substitute(Array(header.utf8), location: location)
            header = String(decoding: sub, as: UTF8.self)
        }
        let rest = String(string[string.index(after: close)...]).drop(while: { $0 == " " || $0 == "\t" })
        let restBytes = Array(rest.utf8)
        var assignments: [[(String, String)]] = []
        if kind == "~LST" {
            guard let parsed = parseList(header, location: location) else { return true }
            assignments = parsed
        } else {
            let args = header.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingBlanks() }
            guard args.count >= 2, args.count <= 4 else {
                diagnostics.error("sequence-syntax", "\(kind)(var, [start,] [step,] end) takes 2 to 4 arguments", at: location)
                return true
            }
            let name = args[0]
            guard Self.isParameterName(name) else {
                diagnostics.error("sequence-syntax", "'\(name)' is not a valid variable name in \(kind)", at: location)
                return true
            }
            var numbers: [Int] = []
            for a in args.dropFirst() {
                guard let v = Self.parseSequenceNumber(a, hex: kind == "~SEQx") else {
                    diagnostics.error("sequence-syntax", "'\(a)' is not a number in \(kind)", at: location)
                    return true
                }
                numbers.append(v)
            }
            var start: Int, step: Int, end: Int
            switch numbers.count {
            case 1:
                end = numbers[0]; start = end >= 0 ? 1 : -1; step = end >= start ? 1 : -1
            case 2:
                start = numbers[0]; end = numbers[1]; step = end >= start ? 1 : -1
            default:
                start = numbers[0]; step = numbers[1]; end = numbers[2]
            }
            if step == 0 {
                diagnostics.error("sequence-syntax", "\(kind) step must not be 0", at: location)
                return true
            }
            var v = start
            while step > 0 ? v <= end : v >= end {
                let text = kind == "~SEQx" ? String(v, radix: 16) : String(v)
                assignments.append([(name, text)])
                if assignments.count > options.maximumGeneratedLines {
                    diagnostics.error("expansion-limit", "\(kind) produces more than \(options.maximumGeneratedLines) values", at: location)
                    stopped = true
                    return true
                }
                v += step
            }
        }
        for assignment in assignments {
            guard !stopped else { break }
            let saved = assignment.map { ($0.0, params[$0.0]) }
            for (name, value) in assignment { params[name] = .single(Array(value.utf8)) }
            feed(restBytes[...], location: location, columnBase: nil, depth: depth + 1)
            for (name, old) in saved { params[name] = old }
        }
        return true
    }

    private mutating func parseList(_ header: String, location: SourceLocation) -> [[(String, String)]]? {
        let trimmed = header.trimmingBlanks()
        if trimmed.hasPrefix("{") {
            // ~LST({a,b},{1,2},{3,4})
            var groups: [[String]] = []
            var current = ""
            var inGroup = false
            for c in trimmed {
                if c == "{" { inGroup = true; current = ""; continue }
                if c == "}" {
                    inGroup = false
                    groups.append(current.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingBlanks() })
                    continue
                }
                if inGroup { current.append(c) }
            }
            guard let names = groups.first, groups.count >= 2 else {
                diagnostics.error("sequence-syntax", "~LST({vars},{values},...) needs variables and at least one set of values", at: location)
                return nil
            }
            for name in names where !Self.isParameterName(name) {
                diagnostics.error("sequence-syntax", "'\(name)' is not a valid variable name in ~LST", at: location)
                return nil
            }
            var result: [[(String, String)]] = []
            for group in groups.dropFirst() {
                guard group.count == names.count else {
                    diagnostics.error(
                        "sequence-syntax", "~LST value set {\(group.joined(separator: ","))} has \(group.count) values for \(names.count) variables",
                        at: location)
                    return nil
                }
                result.append(Array(zip(names, group)))
            }
            return result
        }
        let parts = trimmed.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingBlanks() }
        guard parts.count >= 2 else {
            diagnostics.error("sequence-syntax", "~LST(var, value, ...) needs at least one value", at: location)
            return nil
        }
        guard Self.isParameterName(parts[0]) else {
            diagnostics.error("sequence-syntax", "'\(parts[0])' is not a valid variable name in ~LST", at: location)
            return nil
        }
        return parts.dropFirst().map { [(parts[0], $0)] }
    }

    static func isParameterName(_ name: String) -> Bool {
        guard let first = name.utf8.first, ASCII.isNameStart(first) else { return false }
        return name.utf8.allSatisfy(ASCII.isNameChar)
    }

    static func parseSequenceNumber(_ text: String, hex: Bool) -> Int? {
        var t = Substring(text)
        var negative = false
        if t.hasPrefix("-") { negative = true; t = t.dropFirst() }
        let value: Int?
        if t.hasPrefix("0x") || t.hasPrefix("0X") { value = Int(t.dropFirst(2), radix: 16) }
        else { value = Int(t) }
        guard let value, value <= 1 << 40 else { return nil }
        return negative ? -value : value
    }
}

extension Substring {
    /// The text without leading and trailing spaces and tabs.
    func trimmingBlanks() -> String {
        let u = utf8
        var start = u.startIndex
        var end = u.endIndex
        while start < end, u[start] == ASCII.space || u[start] == ASCII.tab { start = u.index(after: start) }
        while end > start {
            let before = u.index(before: end)
            guard u[before] == ASCII.space || u[before] == ASCII.tab else { break }
            end = before
        }
        return String(self[start..<end])
    }
}

extension String {
    func trimmingBlanks() -> String { Substring(self).trimmingBlanks() }
}

/// A small, seedable random generator for `${_RANDOM}` (repeatable with a seed).
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
