#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A loaded file, kept so that loading it again (a daemon's reload) can read only the
/// `virtual_server` blocks whose text changed. Take it from a ``ReloadResult`` and hand it back
/// to ``ConfigLoader/load(path:previous:)``, with the same loader options.
public struct ConfigSnapshot: Sendable {
    let path: String
    let bytes: [UInt8]
    let pieces: [ConfigPieces.Piece]
    /// Why the next load must read the whole file again, if it must.
    let wholeOnly: String?
    let config: KeepalivedConfig
    /// What makes each virtual server unique (`LVSValidation.identity(of:)`), parallel to
    /// `config.virtualServers` (empty when `wholeOnly` is set).
    let identities: [String?]
    let diagnostics: [Diagnostic]
    let files: [String]
}

/// One run of changed `virtual_server` blocks: `old` indexes the previous configuration's
/// `virtualServers`, `new` the new one's (either may be empty: blocks added or removed).
public struct VirtualServerEdit: Sendable, Hashable {
    public var old: Range<Int>
    public var new: Range<Int>

    public init(old: Range<Int>, new: Range<Int>) {
        self.old = old
        self.new = new
    }
}

/// A load that may have read only part of the file (see ``ConfigLoader/load(path:previous:)``).
public struct ReloadResult: Sendable {
    /// What was read again.
    public enum Changes: Sendable, Hashable {
        /// The whole file, for the reason given (`first load`, `include`, a changed `global_defs`…).
        case all(reason: String)
        /// Only these `virtual_server` blocks, in order (none: the file is unchanged); every other
        /// part of ``config`` is the previous one's.
        case virtualServers([VirtualServerEdit])
    }

    /// The model, as a whole read would give it.
    public var config: KeepalivedConfig
    /// Every diagnostic of the file, as a whole read would give them (those of the blocks not
    /// read again carry over, moved with their lines).
    public var diagnostics: [Diagnostic]
    /// Every file read, the main one first.
    public var files: [String]
    /// What was read again, and why the whole file was when it was.
    public var changes: Changes
    /// This load, to pass as `previous` to the next one (keep the one of the configuration
    /// that runs: a refused file's snapshot would describe a model that is not running).
    public var snapshot: ConfigSnapshot

    /// The diagnostics of severity error; the file is valid without any.
    public var errors: [Diagnostic] { diagnostics.filter { $0.severity == .error } }
    /// The diagnostics of severity warning.
    public var warnings: [Diagnostic] { diagnostics.filter { $0.severity == .warning } }
    /// Whether the file has no error.
    public var isValid: Bool { errors.isEmpty }
}

extension ConfigLoader {
    /// Loads the file at `path`, reading only the `virtual_server` blocks whose text differs
    /// from `previous` (a snapshot of an earlier load of the same file with the same options),
    /// so a reload's cost follows the size of the change, not of the file.
    ///
    /// The file is cut into top-level blocks by their braces (outside quotes and comments). When
    /// only `virtual_server` blocks were changed, added or removed, each such block is read on
    /// its own, at its own lines, and checked on its own and against the rest (its identity must
    /// stay unique; groups, track files and script security come from the rest). Everything else
    /// reads the whole file, as ``load(path:)`` does: no previous snapshot, another file,
    /// anything outside `virtual_server` blocks changed, `include`, `@` conditionals, `~SEQ`
    /// lines or `$` parameters anywhere, an `SSL` block, errors (in the previous load or in a
    /// block read on its own), or diagnostics the change could make stale (a script reported in
    /// a changed block, a diagnostic naming a line that moved). A changed block's warnings
    /// replace the ones it had.
    /// Host facts (script files) are looked at again only for the blocks read again.
    public func load(path: String, previous: ConfigSnapshot?) -> ReloadResult {
        let bytes: [UInt8]
        switch FileReader.readFile(path) {
        case .failure:
            return whole(path: path, bytes: nil, reason: "the file could not be read")
        case .success(let b):
            bytes = b
        }
        guard let previous else { return whole(path: path, bytes: bytes, reason: "first load") }
        guard previous.path == path else { return whole(path: path, bytes: bytes, reason: "another file") }
        if let why = previous.wholeOnly { return whole(path: path, bytes: bytes, reason: why) }
        if ConfigPieces.equal(bytes[...], previous.bytes[...]) {
            return ReloadResult(config: previous.config, diagnostics: previous.diagnostics, files: previous.files,
                                changes: .virtualServers([]), snapshot: previous)
        }
        let scan = ConfigPieces.rescan(bytes, previous: previous.bytes, pieces: previous.pieces)
        if let why = scan.wholeOnly { return whole(path: path, bytes: bytes, reason: why) }
        switch incremental(path: path, bytes: bytes, pieces: scan.pieces, previous: previous,
                           same: (scan.unchangedHead, scan.unchangedTail)) {
        case .success(let result): return result
        case .failure(let why): return whole(path: path, bytes: bytes, reason: why.reason)
        }
    }

    private struct Fallback: Error { var reason: String }

    /// Reads the whole file (`bytes`, as read; nil: let the preprocessor read and report).
    private func whole(path: String, bytes: [UInt8]?, reason: String) -> ReloadResult {
        let loaded = load(path: path, bytes: bytes)
        var pieces: [ConfigPieces.Piece] = []
        var wholeOnly: String? = nil
        if let bytes {
            let scan = ConfigPieces.scan(bytes)
            pieces = scan.pieces
            wholeOnly = scan.wholeOnly ?? Self.wholeOnly(config: loaded.config, pieces: pieces, diagnostics: loaded.diagnostics,
                                                          files: loaded.files, path: path, map: loaded.sourceMap)
        } else {
            wholeOnly = "the file could not be read"
        }
        let identities = wholeOnly == nil ? loaded.config.virtualServers.map(LVSValidation.identity(of:)) : []
        let snapshot = ConfigSnapshot(path: path, bytes: bytes ?? [], pieces: pieces, wholeOnly: wholeOnly,
                                      config: loaded.config, identities: identities, diagnostics: loaded.diagnostics,
                                      files: loaded.files)
        return ReloadResult(config: loaded.config, diagnostics: loaded.diagnostics, files: loaded.files,
                            changes: .all(reason: reason), snapshot: snapshot)
    }

    /// Why a whole read's result cannot be the base of a partial one, if it cannot.
    private static func wholeOnly(config: KeepalivedConfig, pieces: [ConfigPieces.Piece], diagnostics: [Diagnostic],
                                  files: [String], path: String, map: SourceMap) -> String? {
        // The i-th virtual_server piece must be where the model's i-th virtual server was read.
        let read = map.topLevelLocations(prefix: "virtual_server ")
        var i = 0
        for p in pieces where p.isVirtualServer {
            guard i < read.count, i < config.virtualServers.count, read[i].path == "virtual_server #\(i)",
                  p.firstLine < read[i].location.line, read[i].location.line <= p.firstLine + p.lineCount
            else { return "virtual_server blocks that are not one top-level block each" }
            i += 1
        }
        if i != config.virtualServers.count || i != read.count {
            return "virtual_server blocks that are not one top-level block each"
        }
        if config.ssl != nil { return "an SSL block (its use depends on every virtual_server)" }
        if files != [path] { return "include" }
        let file = SourceFiles.id(of: path)
        if diagnostics.contains(where: { $0.location?.fileID != file }) { return "diagnostics not located in the file" }
        return nil
    }

    /// - Parameter same: how many pieces at the head and at the tail are known to be unchanged.
    private func incremental(path: String, bytes: [UInt8], pieces: [ConfigPieces.Piece],
                             previous: ConfigSnapshot, same known: (head: Int, tail: Int)) -> Result<ReloadResult, Fallback> {
        let old = previous.pieces
        func same(_ i: Int, _ j: Int) -> Bool {
            old[i].lineCount == pieces[j].lineCount
                && ConfigPieces.equal(previous.bytes[old[i].bytes], bytes[pieces[j].bytes])
        }
        // Common head and tail, then the pieces between: pairwise when their counts agree (each
        // differing pair an edit), else one edit of the whole middle.
        var head = known.head
        while head < old.count, head < pieces.count, same(head, head) { head += 1 }
        var tail = min(known.tail, old.count - head, pieces.count - head)
        while tail < old.count - head, tail < pieces.count - head, same(old.count - 1 - tail, pieces.count - 1 - tail) { tail += 1 }
        var pieceEdits: [(old: Range<Int>, new: Range<Int>)] = []
        let oldMiddle = head..<(old.count - tail)
        let newMiddle = head..<(pieces.count - tail)
        if oldMiddle.count == newMiddle.count {
            for (i, j) in zip(oldMiddle, newMiddle) where !same(i, j) { pieceEdits.append((i..<i + 1, j..<j + 1)) }
        } else {
            pieceEdits.append((oldMiddle, newMiddle))
        }
        for e in pieceEdits {
            guard e.old.allSatisfy({ old[$0].isVirtualServer }), e.new.allSatisfy({ pieces[$0].isVirtualServer }) else {
                return .failure(Fallback(reason: "a change outside virtual_server blocks"))
            }
        }
        // Line shifts: an edit that changes the number of lines moves everything after it.
        var shifts: [(fromLine: Int, by: Int)] = []
        for e in pieceEdits {
            let oldLines = e.old.reduce(0) { $0 + old[$1].lineCount }
            let newLines = e.new.reduce(0) { $0 + pieces[$1].lineCount }
            if oldLines != newLines {
                let after = e.old.isEmpty ? (e.old.lowerBound < old.count ? old[e.old.lowerBound].firstLine : Int.max)
                                          : old[e.old.upperBound - 1].firstLine + old[e.old.upperBound - 1].lineCount
                shifts.append((after, newLines - oldLines))
            }
        }
        // The earlier diagnostics stay, unless they lie in a block read again (it is checked
        // anew) or name a line that moved.
        let file = SourceFiles.id(of: path)
        let editedLines: [Range<Int>] = pieceEdits.compactMap { e in
            guard let first = e.old.first, let last = e.old.last else { return nil }
            return old[first].firstLine..<(old[last].firstLine + old[last].lineCount)
        }
        var carried: [Diagnostic] = []
        for d in previous.diagnostics {
            guard d.severity == .warning || d.category == .scriptSecurity else {
                return .failure(Fallback(reason: "the previous load had errors"))
            }
            guard let l = d.location, l.fileID == file else { return .failure(Fallback(reason: "diagnostics not located in the file")) }
            let line = l.line - 1
            if editedLines.contains(where: { $0.contains(line) }) {
                // Read again below; but a script is reported where the file first names it,
                // so with that place gone another block may now report it.
                if Self.scriptCodes.contains(d.code) { return .failure(Fallback(reason: "a script diagnostic in a changed block")) }
                continue
            }
            var moved = d
            let delta = shifts.reduce(0) { $0 + (line >= $1.fromLine ? $1.by : 0) }
            if delta != 0 {
                moved.location = SourceLocation(fileID: file, line: l.line + delta, column: l.column)
            }
            if !shifts.isEmpty, Self.namesAPlace(d, path: path) {
                return .failure(Fallback(reason: "a diagnostic that names a line that moved"))
            }
            carried.append(moved)
        }
        // Read each new block on its own.
        let vsIndex = ConfigPieces.virtualServerPositions(pieces)
        let oldIndex = ConfigPieces.virtualServerPositions(old)
        var config = previous.config
        var fresh: [Diagnostic] = []
        var edits: [VirtualServerEdit] = []
        var replacements: [(old: Range<Int>, servers: [VirtualServer])] = []
        for e in pieceEdits {
            var servers: [VirtualServer] = []
            for j in e.new {
                switch readAlone(pieces[j], of: bytes, path: path, context: previous.config) {
                case .success(let read):
                    servers.append(read.server)
                    fresh += read.diagnostics
                case .failure(let f): return .failure(f)
                }
            }
            let oldRange = oldIndex[e.old.lowerBound]..<oldIndex[e.old.upperBound]
            edits.append(VirtualServerEdit(old: oldRange, new: vsIndex[e.new.lowerBound]..<vsIndex[e.new.upperBound]))
            replacements.append((oldRange, servers))
        }
        var identities = previous.identities
        guard identities.count == config.virtualServers.count else {
            return .failure(Fallback(reason: "virtual_server blocks that are not one top-level block each"))
        }
        for r in replacements.reversed() {
            config.virtualServers.replaceSubrange(r.old, with: r.servers)
            identities.replaceSubrange(r.old, with: r.servers.map(LVSValidation.identity(of:)))
        }
        guard config.virtualServers.count == vsIndex[pieces.count] else {
            return .failure(Fallback(reason: "virtual_server blocks that are not one top-level block each"))
        }
        // A changed block must not take another's identity.
        var unique = Set<String>()
        unique.reserveCapacity(identities.count)
        for id in identities {
            if let id, !unique.insert(id).inserted { return .failure(Fallback(reason: "a virtual_server defined twice")) }
        }
        // In file order, as a whole read sorts them (the two lists hold different lines).
        let diagnostics = fresh.isEmpty ? carried : (carried + fresh).enumerated().sorted { a, b in
            let (la, lb) = (a.element.location!, b.element.location!)
            return (la.line, la.column, a.offset) < (lb.line, lb.column, b.offset)
        }.map(\.element)
        let snapshot = ConfigSnapshot(path: path, bytes: bytes, pieces: pieces, wholeOnly: nil, config: config,
                                      identities: identities, diagnostics: diagnostics, files: previous.files)
        return .success(ReloadResult(config: config, diagnostics: diagnostics, files: previous.files,
                                     changes: .virtualServers(edits), snapshot: snapshot))
    }

    /// Whether a diagnostic's text names a place of the file (`… the one at line 12`, `the first
    /// definition is at FILE:12:3`), which a change of line numbers would make wrong.
    static func namesAPlace(_ d: Diagnostic, path: String) -> Bool {
        for text in [d.message, d.hint ?? ""] {
            if text.contains("\(path):") { return true }
            let bytes = Array(text.utf8)
            let word = Array("line ".utf8)
            var i = 0
            while i + word.count < bytes.count {
                if bytes[i..<(i + word.count)].elementsEqual(word), (0x30...0x39).contains(bytes[i + word.count]) { return true }
                i += 1
            }
        }
        return false
    }

    /// Script checks report a program once, where the file first names it: a block read alone
    /// cannot tell whether it is that place.
    private static let scriptCodes: Set<String> = ["script-path", "script-missing", "script-not-executable", "script-security"]

    /// One `virtual_server` block read, decoded and checked alone, at its place in the file, and
    /// its warnings. Errors (and script findings) fail: a whole read reports them.
    private func readAlone(_ piece: ConfigPieces.Piece, of bytes: [UInt8], path: String,
                           context rest: KeepalivedConfig) -> Result<(server: VirtualServer, diagnostics: [Diagnostic]), Fallback> {
        var pp = Preprocessor(options: options.preprocessor)
        pp.run(piece: Array(bytes[piece.bytes]), of: path, lineOffset: piece.firstLine)
        var decoder = StreamingDecoder(context: DecodeContext(options: options.decode))
        let (tokens, lineEnds) = pp.takeTokens()
        decoder.consume(tokens, lineEnds)
        var found = pp.diagnostics.all + decoder.parserDiagnostics + decoder.context.diagnostics.all
        guard found.allSatisfy({ $0.severity == .warning }) else {
            return .failure(Fallback(reason: "an error in a changed virtual_server block"))
        }
        var config = decoder.config
        guard config.virtualServers.count == 1 else {
            return .failure(Fallback(reason: "a changed block that is not one virtual_server"))
        }
        let vs = config.virtualServers[0]
        config.virtualServers = []
        guard config == KeepalivedConfig() else {
            return .failure(Fallback(reason: "a changed block that is not one virtual_server"))
        }
        found += Validator.validate(virtualServers: [vs], in: rest, map: decoder.context.sourceMap, host: options.host)
        guard found.allSatisfy({ $0.severity == .warning && !Self.scriptCodes.contains($0.code) }) else {
            return .failure(Fallback(reason: "an error in a changed virtual_server block"))
        }
        return .success((vs, found))
    }
}

/// The top-level pieces of a configuration's text: each ends where a line closes the last open
/// brace (outside quotes and comments, as the tokenizer sees them), and holds the blank and
/// comment lines before its block.
enum ConfigPieces {
    struct Piece: Sendable, Hashable {
        /// Its bytes in the file, the final newline included.
        var bytes: Range<Int>
        /// Lines of the file before it (its first line is `firstLine + 1`).
        var firstLine: Int
        var lineCount: Int
        /// One `virtual_server` block, nothing else at the top level.
        var isVirtualServer: Bool
        /// Ends where a line closes its block (not the text after the file's last block).
        var isClosed = true
    }

    struct Scan {
        var pieces: [Piece]
        /// Why the text cannot be read piece by piece, if it cannot.
        var wholeOnly: String?
        /// Pieces at the head and at the tail known to be those of the previous text.
        var unchangedHead = 0
        var unchangedTail = 0
    }

    /// The pieces of `bytes`, a new version of `previous` (whose pieces were `old`, read with no
    /// reason to read it whole): only the part between the longest common head and tail is
    /// scanned; the pieces wholly inside those are taken over (moved by the change in length).
    /// A whole scan when the scanned part does not end where a kept piece begins.
    static func rescan(_ bytes: [UInt8], previous: [UInt8], pieces old: [Piece]) -> Scan {
        let (prefix, suffix) = bytes.withUnsafeBufferPointer { b in
            previous.withUnsafeBufferPointer { o in commonEnds(b, o) }
        }
        // Kept at the head: closed pieces that end, with their newline, before the first change.
        var head = 0
        while head < old.count, old[head].isClosed, old[head].bytes.upperBound <= prefix,
              previous[old[head].bytes.upperBound - 1] == 0x0A { head += 1 }
        // Kept at the tail: pieces that begin after the last change (their newline before too).
        let suffixStart = previous.count - suffix
        var tail = 0
        while tail < old.count - head, old[old.count - 1 - tail].bytes.lowerBound > suffixStart { tail += 1 }
        let middleStart = head > 0 ? old[head - 1].bytes.upperBound : 0
        let middleLines = head > 0 ? old[head - 1].firstLine + old[head - 1].lineCount : 0
        let delta = bytes.count - previous.count
        let middleEnd = tail > 0 ? old[old.count - tail].bytes.lowerBound + delta : bytes.count
        guard middleStart <= middleEnd else { return scan(bytes) }
        var middle = scan(Array(bytes[middleStart..<middleEnd]))
        guard middle.wholeOnly == nil, middle.pieces.allSatisfy(\.isClosed) || tail == 0 else { return scan(bytes) }
        for i in middle.pieces.indices {
            middle.pieces[i].bytes = (middle.pieces[i].bytes.lowerBound + middleStart)..<(middle.pieces[i].bytes.upperBound + middleStart)
            middle.pieces[i].firstLine += middleLines
        }
        var pieces = Array(old[..<head])
        pieces.reserveCapacity(head + middle.pieces.count + tail)
        pieces += middle.pieces
        if tail > 0 {
            let newLines = middle.pieces.last.map { $0.firstLine + $0.lineCount } ?? middleLines
            let lineDelta = newLines - old[old.count - tail].firstLine
            for var p in old[(old.count - tail)...] {
                p.bytes = (p.bytes.lowerBound + delta)..<(p.bytes.upperBound + delta)
                p.firstLine += lineDelta
                pieces.append(p)
            }
        }
        return Scan(pieces: pieces, wholeOnly: nil, unchangedHead: head, unchangedTail: tail)
    }

    /// The lengths of the longest common head and tail of `a` and `b` (not overlapping).
    private static func commonEnds(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> (Int, Int) {
        let n = min(a.count, b.count)
        guard n > 0, let pa = a.baseAddress, let pb = b.baseAddress else { return (0, 0) }
        let chunk = 4096
        var p = 0
        while p + chunk <= n, memcmp(pa + p, pb + p, chunk) == 0 { p += chunk }
        while p < n, a[p] == b[p] { p += 1 }
        var s = 0
        let limit = n - p
        while s + chunk <= limit, memcmp(pa + a.count - s - chunk, pb + b.count - s - chunk, chunk) == 0 { s += chunk }
        while s < limit, a[a.count - 1 - s] == b[b.count - 1 - s] { s += 1 }
        return (p, s)
    }

    private static let virtualServer = Array("virtual_server".utf8)
    private static let include = Array("include".utf8)
    /// Byte classes: 0 ordinary, 1 blank, 2 one the scan looks at (quote, comment, brace, `$`, `\\`).
    private static let classes: [UInt8] = {
        var t = [UInt8](repeating: 0, count: 256)
        // As the tokenizer's blanks (space, tab, VT, FF, CR).
        for c in [0x20, 0x09, 0x0B, 0x0C, 0x0D] { t[c] = 1 }
        for c in "\"#!{}$\\".utf8 { t[Int(c)] = 2 }
        return t
    }()

    /// For each piece, how many `virtual_server` pieces come before it (its block's index in the
    /// model's `virtualServers`), and the total last.
    static func virtualServerPositions(_ pieces: [Piece]) -> [Int] {
        var positions: [Int] = []
        positions.reserveCapacity(pieces.count + 1)
        var count = 0
        for p in pieces {
            positions.append(count)
            if p.isVirtualServer { count += 1 }
        }
        positions.append(count)
        return positions
    }

    static func equal(_ a: ArraySlice<UInt8>, _ b: ArraySlice<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        return a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                pa.count == 0 || memcmp(pa.baseAddress!, pb.baseAddress!, pa.count) == 0
            }
        }
    }

    static func scan(_ bytes: [UInt8]) -> Scan {
        let classes = Self.classes
        let keywords = (virtualServer: Self.virtualServer, include: Self.include)
        return bytes.withUnsafeBufferPointer { b in
            classes.withUnsafeBufferPointer { k in scan(b, classes: k, keywords: keywords) }
        }
    }

    private static func starts(_ b: UnsafeBufferPointer<UInt8>, at i: Int, end: Int, with word: [UInt8]) -> Bool {
        guard end - i >= word.count else { return false }
        for (j, c) in word.enumerated() where b[i + j] != c { return false }
        return true
    }

    private static func scan(_ b: UnsafeBufferPointer<UInt8>, classes k: UnsafeBufferPointer<UInt8>,
                             keywords: (virtualServer: [UInt8], include: [UInt8])) -> Scan {
        var pieces: [Piece] = []
        var depth = 0
        var pieceStart = 0
        var pieceLine = 0
        var line = 0
        // The piece so far: whether its first word is virtual_server, how many top-level blocks
        // it opened, and whether anything follows the close of its block.
        var firstWordSeen = false
        var startsWithVirtualServer = false
        var blocks = 0
        var trailing = false
        var start = 0
        let n = b.count
        guard let base = b.baseAddress else { return Scan(pieces: [], wholeOnly: nil) }
        while start < n {
            let end = memchr(base + start, 0x0A, n - start).map { UnsafePointer<UInt8>($0.assumingMemoryBound(to: UInt8.self)) - base } ?? n
            line += 1
            // The first word of the line.
            var i = start
            while i < end, k[Int(b[i])] == 1 { i += 1 }
            if i < end {
                let c = b[i]
                if c == UInt8(ascii: "@") { return Scan(pieces: [], wholeOnly: "@ conditional lines") }
                if c == UInt8(ascii: "~") { return Scan(pieces: [], wholeOnly: "~SEQ lines") }
                if c == UInt8(ascii: "i"), starts(b, at: i, end: end, with: keywords.include) {
                    return Scan(pieces: [], wholeOnly: "include")
                }
            }
            var inQuote = false
            var closedHere = false
            while i < end {
                let c = b[i]
                let kind = k[Int(c)]
                if kind == 0 {
                    // A word, or inside a quoted string: only the top level's words matter.
                    if depth == 0, !inQuote {
                        if !firstWordSeen {
                            firstWordSeen = true
                            let length = keywords.virtualServer.count
                            startsWithVirtualServer = starts(b, at: i, end: end, with: keywords.virtualServer)
                                && i + length < end && k[Int(b[i + length])] == 1
                        } else if blocks > 0 {
                            trailing = true
                        }
                    }
                    i += 1
                    while i < end, k[Int(b[i])] == 0 { i += 1 }
                    continue
                }
                if kind == 2 {
                    if c == 0x24 { return Scan(pieces: [], wholeOnly: "$ parameters") }
                    if c == 0x22 {
                        // A quoted word at the top level counts as a word.
                        if !inQuote, depth == 0 {
                            if !firstWordSeen { firstWordSeen = true } else if blocks > 0 { trailing = true }
                        }
                        inQuote.toggle()
                    } else if !inQuote {
                        if c == 0x5C {
                            if i + 1 < end, b[i + 1] == 0x23 || b[i + 1] == 0x21 {
                                i += 2
                                continue
                            }
                            // A backslash is part of a word.
                            if depth == 0 {
                                if !firstWordSeen { firstWordSeen = true } else if blocks > 0 { trailing = true }
                            }
                        } else if c == 0x23 || c == 0x21 {
                            break
                        } else if c == 0x7B {
                            if depth == 0 { blocks += 1 }
                            depth += 1
                        } else {
                            depth -= 1
                            if depth < 0 { return Scan(pieces: [], wholeOnly: "an unmatched '}'") }
                            if depth == 0 { closedHere = true }
                        }
                    }
                }
                i += 1
            }
            if inQuote { return Scan(pieces: [], wholeOnly: "an unterminated quote") }
            let next = min(end + 1, n)
            if depth == 0, closedHere {
                pieces.append(Piece(bytes: pieceStart..<next, firstLine: pieceLine, lineCount: line - pieceLine,
                                    isVirtualServer: startsWithVirtualServer && blocks == 1 && !trailing))
                pieceStart = next
                pieceLine = line
                firstWordSeen = false
                startsWithVirtualServer = false
                blocks = 0
                trailing = false
            }
            start = end + 1
        }
        if depth != 0 { return Scan(pieces: [], wholeOnly: "an unclosed block") }
        if pieceStart < n {
            pieces.append(Piece(bytes: pieceStart..<n, firstLine: pieceLine, lineCount: line - pieceLine, isVirtualServer: false,
                                isClosed: false))
        }
        return Scan(pieces: pieces, wholeOnly: nil)
    }
}
