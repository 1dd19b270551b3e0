// kad-bench: measures ConfigDSL in-process on configurations written by kad-bench-gen.
//
//   kad-bench measure [--runs N] [--phases] FILE...
//   kad-bench reload [--runs N] BEFORE AFTER
//
// Loads each file N times with `ConfigLoader().load(path:)` (host checks off, as
// `kad check --no-host-checks`) and prints the median, minimum and maximum wall time; with
// --phases it also times the public phases (preprocess, parse, decode) separately, and reports
// validation (and the rest of `load`) as the median total minus the other medians.

import ConfigDSL
import ArgumentParser
import Foundation

// MARK: - Measurement

func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    if s.isEmpty { return .nan }
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

func ms(_ x: Double) -> String { String(format: "%.1f ms", x) }

func loaderOptions() -> ConfigLoader.Options {
    var options = ConfigLoader.Options()
    options.preprocessor = PreprocessorOptions(configID: "bench", randomSeed: 1)
    options.decode = DecodeOptions(unknownKeywordSeverity: .error)
    options.host = HostEnvironment(interfaceExists: nil, inspectScriptFiles: false)
    return options
}

func measure(files: [String], runs: Int, phases: Bool) {
    let loader = ConfigLoader(options: loaderOptions())
    print("| file | runs | median | min | max | errors | warnings |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    var phaseRows: [String] = []
    for file in files {
        // One warm-up run, which also reports the diagnostics.
        let first = loader.load(path: file)
        if !first.isValid {
            FileHandle.standardError.write(Data("kad-bench: \(file) is not valid for kad:\n".utf8))
            for d in first.errors.prefix(20) { FileHandle.standardError.write(Data("  \(d)\n".utf8)) }
        }
        var times: [Double] = []
        for _ in 0..<runs {
            let t0 = now()
            let result = loader.load(path: file)
            let t1 = now()
            precondition(result.diagnostics.count == first.diagnostics.count)
            times.append(Double(t1 - t0) / 1e6)
        }
        print(
            "| \(file) | \(runs) | \(ms(median(times))) | \(ms(times.min()!)) | \(ms(times.max()!)) "
                + "| \(first.errors.count) | \(first.warnings.count) |")
        if phases {
            var pre: [Double] = [], parse: [Double] = [], decode: [Double] = []
            for _ in 0..<runs {
                let t0 = now()
                var pp = Preprocessor(options: loaderOptions().preprocessor)
                pp.run(path: file)
                let t1 = now()
                let (tokens, lineEnds) = pp.takeTokens()
                var parser = Parser(tokens: tokens, lineEnds: lineEnds)
                let nodes = parser.parse()
                let t2 = now()
                let context = DecodeContext(options: loaderOptions().decode)
                let config = ConfigDecoder.decode(nodes, context: context)
                let t3 = now()
                withExtendedLifetime(config) {}
                pre.append(Double(t1 - t0) / 1e6)
                parse.append(Double(t2 - t1) / 1e6)
                decode.append(Double(t3 - t2) / 1e6)
            }
            let rest = median(times) - median(pre) - median(parse) - median(decode)
            phaseRows.append(
                "| \(file) | \(ms(median(pre))) | \(ms(median(parse))) | \(ms(median(decode))) | \(ms(max(rest, 0))) |")
        }
    }
    if phases {
        print("")
        print("| file | preprocess | parse | decode | validate (+ rest) |")
        print("|---|---:|---:|---:|---:|")
        for row in phaseRows { print(row) }
    }
}

/// A reload: the file is BEFORE, then AFTER; times `load(path:previous:)` of AFTER given
/// BEFORE's snapshot (what a daemon's SIGHUP reads) beside a whole `load(path:)` of AFTER.
func reload(before: String, after: String, runs: Int, partialOnly: Bool) throws {
    let loader = ConfigLoader(options: loaderOptions())
    let dir = NSTemporaryDirectory() + "kad-bench-reload-\(getpid())"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/keepalived.conf"
    try FileManager.default.copyItem(atPath: before, toPath: path)
    let snapshot = loader.load(path: path, previous: nil).snapshot
    try FileManager.default.removeItem(atPath: path)
    try FileManager.default.copyItem(atPath: after, toPath: path)
    var partial: [Double] = [], whole: [Double] = [], first: [Double] = []
    var changes = ""
    for _ in 0..<runs {
        let t0 = now()
        let r = loader.load(path: path, previous: snapshot)
        let t1 = now()
        changes = "\(r.changes)"
        if partialOnly {
            partial.append(Double(t1 - t0) / 1e6)
            whole.append(.nan)
            first.append(.nan)
            continue
        }
        let w = loader.load(path: path)
        let t2 = now()
        precondition(r.config == w.config, "the partial read differs from the whole read")
        let f = loader.load(path: path, previous: nil)
        first.append(Double(now() - t2) / 1e6)
        withExtendedLifetime((w, f)) {}
        partial.append(Double(t1 - t0) / 1e6)
        whole.append(Double(t2 - t1) / 1e6)
    }
    print("| file | runs | load(path:previous:) median (min–max) | load(path:) median (min–max) | load(path:previous: nil) median | what was read |")
    print("|---|---:|---:|---:|---:|---|")
    print("| \(after) | \(runs) | \(ms(median(partial))) (\(ms(partial.min()!))–\(ms(partial.max()!))) "
          + "| \(ms(median(whole))) (\(ms(whole.min()!))–\(ms(whole.max()!))) | \(ms(median(first))) | \(changes) |")
}

// MARK: - Main

@main
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kad-bench", abstract: "Measure ConfigDSL in-process on configuration files.", subcommands: [Measure.self, Reload.self])
}

struct Measure: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Time ConfigLoader.load(path:) on each FILE.")

    @Option(help: "Runs per file.") var runs = 10
    @Flag(help: "Also time the phases: preprocess, parse, decode.") var phases = false
    @Argument(help: "Configuration files.") var files: [String]

    func validate() throws {
        if runs < 1 { throw ValidationError("--runs wants a positive integer") }
        if files.isEmpty { throw ValidationError("measure wants at least one FILE") }
    }

    func run() { measure(files: files, runs: runs, phases: phases) }
}

struct Reload: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time ConfigLoader.load(path:previous:) of AFTER after BEFORE, beside a whole load of AFTER.")

    @Option(help: "Runs.") var runs = 10
    @Flag(help: "Time only the partial read (for profiling it).") var partialOnly = false
    @Argument(help: "The file before the change.") var before: String
    @Argument(help: "The file after it.") var after: String

    func validate() throws {
        if runs < 1 { throw ValidationError("--runs wants a positive integer") }
    }

    func run() throws { try reload(before: before, after: after, runs: runs, partialOnly: partialOnly) }
}
