// libFuzzer entry point for reloads: the input is two versions of one keepalived configuration,
// separated by the first NUL byte (no NUL: the second is the first with its last byte dropped);
// with a NUL, also the first with one of its virtual_server blocks replaced by the second part.
// The first is loaded whole, making a snapshot; the other version is loaded with that snapshot
// (`ConfigLoader.load(path:previous:)`, which may read only the changed virtual_server blocks)
// and must give exactly what a whole read of it gives: the same model and the same diagnostics,
// in order. A difference traps (a "crash" to libFuzzer).
//
// The versions are written to a file of this process's own (the reload API reads a path) in the
// directory the fuzzer runs in. Host checks are off.

#if canImport(Glibc)
import Glibc
#endif
import ConfigDSL
import FuzzDriver

private let loader: ConfigLoader = {
    var options = ConfigLoader.Options()
    options.preprocessor = PreprocessorOptions(configID: "fuzz", randomSeed: 1, maximumGeneratedLines: 100_000)
    options.decode = DecodeOptions(unknownKeywordSeverity: .warning)
    options.host = HostEnvironment(interfaceExists: nil, inspectScriptFiles: false)
    return ConfigLoader(options: options)
}()

private let path: String = {
    // Removed when the fuzzer exits (libFuzzer ends with exit()).
    atexit { unlink(path) }
    return "fuzz-reload-\(getpid()).conf"
}()

private func write(_ bytes: ArraySlice<UInt8>) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    precondition(fd >= 0, "cannot write \(path)")
    bytes.withUnsafeBytes { b in
        var done = 0
        while done < b.count {
            let n = Glibc.write(fd, b.baseAddress! + done, b.count - done)
            precondition(n > 0, "cannot write \(path)")
            done += n
        }
    }
    close(fd)
}

/// `FUZZ_RELOAD_COUNT=1`: at exit, how many inputs were read partly and why the others were
/// read whole (run over a corpus with `-runs=0` to see what the fuzzing reached).
nonisolated(unsafe) private var changeCounts: [String: Int] = [:]
private let countingChanges: Bool = {
    guard getenv("FUZZ_RELOAD_COUNT") != nil else { return false }
    atexit {
        for (key, n) in changeCounts.sorted(by: { $0.value > $1.value }) {
            let line = "\(n)\t\(key)\n"
            _ = line.withCString { Glibc.write(2, $0, strlen($0)) }
        }
    }
    return true
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzReload(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size > 0 && data != nil ? Array(UnsafeBufferPointer(start: data, count: size)) : []
    guard let nul = bytes.firstIndex(of: 0) else {
        check(before: bytes[...], after: bytes.dropLast())
        return 0
    }
    let first = bytes[..<nul]
    let second = bytes[(nul + 1)...]
    check(before: first, after: second)
    // The second part as one block in place of one of the first's `virtual_server` blocks:
    // mutations of a block then mostly keep the file whole, so the partial path is reached.
    if let spliced = splice(second, into: first) { check(before: first, after: spliced[...]) }
    return 0
}

/// `block` in place of the `virtual_server` block of `text` that its first byte picks; a block
/// is taken crudely, from a line starting `virtual_server` to the next line starting `}` (the
/// check does not depend on it being right).
private func splice(_ block: ArraySlice<UInt8>, into text: ArraySlice<UInt8>) -> [UInt8]? {
    let keyword = Array("virtual_server".utf8)
    var blocks: [Range<Int>] = []
    var lineStart = text.startIndex
    var open: Int? = nil
    while lineStart < text.endIndex {
        let lineEnd = text[lineStart...].firstIndex(of: 0x0A).map { $0 + 1 } ?? text.endIndex
        if open == nil, text[lineStart..<lineEnd].starts(with: keyword) {
            open = lineStart
        } else if let o = open, text[lineStart] == UInt8(ascii: "}") {
            blocks.append(o..<lineEnd)
            open = nil
        }
        lineStart = lineEnd
    }
    guard !blocks.isEmpty else { return nil }
    let r = blocks[Int(block.first ?? 0) % blocks.count]
    return Array(text[..<r.lowerBound]) + block + text[r.upperBound...]
}

private func check(before: ArraySlice<UInt8>, after: ArraySlice<UInt8>) {
    write(before)
    let first = loader.load(path: path, previous: nil)
    write(after)
    let partial = loader.load(path: path, previous: first.snapshot)
    let whole = loader.load(path: path)
    if countingChanges {
        let key: String
        switch partial.changes {
        case .all(let reason): key = "whole: \(reason)"
        case .virtualServers(let edits): key = edits.isEmpty ? "unchanged" : "partial"
        }
        changeCounts[key, default: 0] += 1
    }
    if partial.config != whole.config || partial.diagnostics.map(\.description) != whole.diagnostics.map(\.description) {
        fatalError("""
            a reload (\(partial.changes)) differs from a whole read
            partial: \(partial.diagnostics.map(\.description))
            whole:   \(whole.diagnostics.map(\.description))
            """)
    }
}

@_cdecl("FuzzReload_main")
public func fuzzMain(
    _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> CInt {
    return runLibFuzzer(argc, argv) { data, size in fuzzReload(data, size) }
}
