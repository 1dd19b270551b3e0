import Dispatch
import Synchronization

/// The result of loading a configuration: the model, every diagnostic, and where things are.
public struct LoadResult: Sendable {
    public var config: KeepalivedConfig
    public var diagnostics: [Diagnostic]
    public var sourceMap: SourceMap
    /// Every file read, the main one first.
    public var files: [String]

    public var errors: [Diagnostic] { diagnostics.filter { $0.severity == .error } }
    public var warnings: [Diagnostic] { diagnostics.filter { $0.severity == .warning } }
    public var isValid: Bool { errors.isEmpty }

    /// keepalived's `-t` exit status: 0 valid (warnings allowed), 4 fatal, 5 configuration
    /// errors, 6 script-security problems only.
    public var exitStatus: Int32 {
        let errors = self.errors
        if errors.isEmpty { return 0 }
        if errors.contains(where: { $0.category == .fatal }) { return 4 }
        if errors.contains(where: { $0.category == .configuration }) { return 5 }
        return 6
    }
}

/// Loads keepalived configurations: preprocessing, parsing, decoding and validation in one pass
/// that reports every problem it finds.
///
/// ```swift
/// var options = ConfigLoader.Options()
/// options.preprocessor.configID = "lb1"
/// let result = ConfigLoader(options: options).load(path: "/etc/keepalived/keepalived.conf")
/// if !result.isValid { result.diagnostics.forEach { print($0) } }
/// ```
public struct ConfigLoader: Sendable {
    /// How to read the file (config id, include checks), how strict decoding is, and which host
    /// facts validation may consult.
    public struct Options: Sendable {
        public var preprocessor: PreprocessorOptions
        public var decode: DecodeOptions
        public var host: HostEnvironment

        public init(
            preprocessor: PreprocessorOptions = PreprocessorOptions(), decode: DecodeOptions = DecodeOptions(),
            host: HostEnvironment = HostEnvironment()
        ) {
            self.preprocessor = preprocessor
            self.decode = decode
            self.host = host
        }
    }

    public var options: Options

    public init(options: Options = Options()) {
        self.options = options
    }

    /// Loads the file at `path` and everything it includes.
    ///
    /// The work runs on two threads: this one preprocesses and parses the file in pieces (cut at
    /// the ends of top-level blocks), a second one decodes them, so a large file uses two cores.
    public func load(path: String) -> LoadResult {
        load(path: path, bytes: nil)
    }

    /// Loads the file at `path`; `bytes`, when given, are its contents as already read.
    func load(path: String, bytes: [UInt8]?) -> LoadResult {
        var pp = Preprocessor(options: options.preprocessor)
        let pipe = Pipe<[ConfigNode]>()
        let box = DecoderBox(StreamingDecoder(context: DecodeContext(options: options.decode)))
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            while let nodes = pipe.pop() { box.decoder.decode(nodes) }
            done.signal()
        }
        // This thread preprocesses and parses; the other decodes.
        var parserDiagnostics: [Diagnostic] = []
        func parse(_ tokens: [Token], _ lineEnds: [Int]) {
            guard !tokens.isEmpty else { return }
            var parser = Parser(tokens: tokens, lineEnds: lineEnds)
            var nodes: [ConfigNode] = []
            parser.parse { nodes.append($0) }
            parserDiagnostics += parser.diagnostics.all
            pipe.push(nodes)
        }
        if let bytes {
            pp.run(path: path, bytes: bytes) { tokens, lineEnds in parse(tokens, lineEnds) }
        } else {
            pp.run(path: path) { tokens, lineEnds in parse(tokens, lineEnds) }
        }
        let (tokens, lineEnds) = pp.takeTokens()
        parse(tokens, lineEnds)
        pipe.finish()
        done.wait()
        var decoder = box.decoder
        decoder.parserDiagnostics += parserDiagnostics
        return finish(&pp, &decoder)
    }

    /// Holds the decoder while the decoding thread owns it; the loader reads it back only after
    /// that thread has signalled that it is done.
    private final class DecoderBox: @unchecked Sendable {
        var decoder: StreamingDecoder
        init(_ decoder: StreamingDecoder) { self.decoder = decoder }
    }

    /// Loads configuration text; relative includes resolve against `directory`.
    public func load(text: String, name: String = "<string>", directory: String = ".") -> LoadResult {
        var pp = Preprocessor(options: options.preprocessor)
        pp.run(text: text, name: name, directory: directory)
        var decoder = StreamingDecoder(context: DecodeContext(options: options.decode))
        return finish(&pp, &decoder)
    }

    /// Parses and decodes top-level statements as pieces of tokens arrive.
    struct StreamingDecoder {
        let context: DecodeContext
        var config = KeepalivedConfig()
        var state = BlockSchema<KeepalivedConfig>.DecodeState()
        var parserDiagnostics: [Diagnostic] = []

        init(context: DecodeContext) { self.context = context }

        /// Decodes top-level statements that were parsed elsewhere.
        mutating func decode(_ nodes: [ConfigNode]) {
            for node in nodes { ConfigDecoder.rootSchema.decode(node, into: &config, context: context, state: &state) }
        }

        /// Parses and decodes tokens on this thread (for text loaded without the second thread).
        mutating func consume(_ tokens: [Token], _ lineEnds: [Int]) {
            var parser = Parser(tokens: tokens, lineEnds: lineEnds)
            var nodes: [ConfigNode] = []
            parser.parse { nodes.append($0) }
            parserDiagnostics += parser.diagnostics.all
            decode(nodes)
        }
    }

    private func finish(_ pp: inout Preprocessor, _ decoder: inout StreamingDecoder) -> LoadResult {
        let (tokens, lineEnds) = pp.takeTokens()
        if !tokens.isEmpty { decoder.consume(tokens, lineEnds) }
        let context = decoder.context
        let config = decoder.config
        var diagnostics = pp.diagnostics.all + decoder.parserDiagnostics + context.diagnostics.all
        if !diagnostics.contains(where: { $0.category == .fatal && $0.severity == .error }) {
            var validator = Validator(config: config, map: context.sourceMap, host: options.host)
            diagnostics += validator.run()
        }
        // Report in file order (then line, then column); problems without a place come last.
        let order = Dictionary(pp.files.enumerated().map { (SourceFiles.id(of: $1), $0) }, uniquingKeysWith: { a, _ in a })
        let sorted = diagnostics.enumerated().sorted { a, b in
            func key(_ d: Diagnostic) -> (Int, Int, Int) {
                guard let l = d.location else { return (Int.max, 0, 0) }
                return (order[l.fileID] ?? Int.max - 1, l.line, l.column)
            }
            let (ka, kb) = (key(a.element), key(b.element))
            return ka != kb ? ka < kb : a.offset < b.offset
        }.map(\.element)
        return LoadResult(config: config, diagnostics: sorted, sourceMap: context.sourceMap, files: pp.files)
    }
}

/// Pieces of work on their way from one thread to another, in order. The producer waits when
/// a few pieces are already waiting.
final class Pipe<Element: Sendable>: Sendable {
    private struct State {
        var pieces: [Element?] = []
        var next = 0
        var finished = false
    }

    private let state = Mutex(State())
    private let available = DispatchSemaphore(value: 0)
    private let space = DispatchSemaphore(value: 3)

    func push(_ piece: Element) {
        space.wait()
        state.withLock { $0.pieces.append(piece) }
        available.signal()
    }

    func finish() {
        state.withLock { $0.finished = true }
        available.signal()
    }

    /// The next piece, or `nil` once the pipe is finished and empty.
    func pop() -> Element? {
        while true {
            available.wait()
            let taken: (piece: Element?, done: Bool) = state.withLock { s in
                if s.next < s.pieces.count {
                    let p = s.pieces[s.next]
                    s.pieces[s.next] = nil
                    s.next += 1
                    return (p, false)
                }
                return (nil, s.finished)
            }
            if let piece = taken.piece {
                space.signal()
                return piece
            }
            if taken.done { return nil }
        }
    }
}
