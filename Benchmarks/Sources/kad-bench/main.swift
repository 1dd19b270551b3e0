// kad-bench: measures ConfigDSL in-process on configurations written by kad-bench-gen.
//
//   kad-bench measure [--runs N] [--phases] FILE...
//
// Loads each file N times with `ConfigLoader().load(path:)` (host checks off, as
// `kad check --no-host-checks`) and prints the median, minimum and maximum wall time; with
// --phases it also times the public phases (preprocess, parse, decode) separately, and reports
// validation (and the rest of `load`) as the median total minus the other medians.

import ConfigDSL
import Foundation

// MARK: - Arguments

struct Arguments {
    var command: String
    var options: [String: String] = [:]
    var flags: Set<String> = []
    var positional: [String] = []

    init(_ argv: [String]) {
        command = argv.first ?? "help"
        var i = 1
        while i < argv.count {
            let a = argv[i]
            if a.hasPrefix("--") {
                let name = String(a.dropFirst(2))
                if ["phases", "help"].contains(name) {
                    flags.insert(name)
                } else if i + 1 < argv.count {
                    options[name] = argv[i + 1]
                    i += 1
                } else {
                    fail("missing value for \(a)")
                }
            } else {
                positional.append(a)
            }
            i += 1
        }
    }

    func int(_ name: String, default value: Int) -> Int {
        guard let text = options[name] else { return value }
        guard let n = Int(text), n > 0 else { fail("--\(name) wants a positive integer, not '\(text)'") }
        return n
    }
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("kad-bench: \(message)\n".utf8))
    exit(2)
}

let usage = """
    usage: kad-bench measure [--runs 10] [--phases] FILE...
    """

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

// MARK: - Main

let args = Arguments(Array(CommandLine.arguments.dropFirst()))
switch args.command {
case "measure":
    if args.positional.isEmpty { fail("measure wants at least one FILE\n" + usage) }
    measure(files: args.positional, runs: args.int("runs", default: 10), phases: args.flags.contains("phases"))
default:
    print(usage)
    exit(args.command == "help" || args.command == "--help" ? 0 : 2)
}
