import ArgumentParser
import ConfigDSL
import FoundationEssentials
import NetLinux
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `kad check`: the counterpart of `keepalived -t`.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a keepalived configuration file, like keepalived -t.",
        discussion: """
            Prints every problem as file:line:column: severity: message, with a hint. Exit status \
            (keepalived's): 0 valid (warnings allowed), 4 fatal (missing file, unreadable include), \
            5 configuration errors, 6 script-security problems.
            """
    )

    @Option(name: [.customShort("f"), .customLong("use-file")], help: ArgumentHelp("The configuration file.", valueName: "FILE"))
    var file: String = "/etc/keepalived/keepalived.conf"

    @Option(name: [.customShort("i"), .customLong("config-id")], help: ArgumentHelp("Config id for @ID conditional lines (default: the short host name).", valueName: "ID"))
    var configID: String?

    @Flag(name: [.customShort("e"), .customLong("all-config")], help: "Make every missing or unreadable include an error (keepalived's -e).")
    var allConfig = false

    @Flag(help: "Print the resolved configuration and the diagnostics as JSON on standard output.")
    var json = false

    @Flag(help: "Also fail (exit 5) on warnings, such as spellings keepalived would reject.")
    var strict = false

    @Flag(name: .customLong("no-host-checks"), help: "Do not look at this host's interfaces or script files.")
    var noHostChecks = false

    func run() throws {
        var options = ConfigLoader.Options()
        options.preprocessor = PreprocessorOptions(configID: configID, allConfig: allConfig)
        options.decode = DecodeOptions(unknownKeywordSeverity: .error)
        if !noHostChecks {
            // One lookup per distinct name: a large file names the same interfaces thousands of
            // times, and each lookup is a socket and an ioctl.
            let known = Mutex<[String: Bool]>([:])
            options.host = HostEnvironment(
                interfaceExists: { name in
                    if let cached = known.withLock({ $0[name] }) { return cached }
                    let exists = NetworkInterface.index(named: name) != nil
                    known.withLock { $0[name] = exists }
                    return exists
                },
                missingInterfaceSeverity: .warning, inspectScriptFiles: true)
        } else {
            options.host = HostEnvironment(interfaceExists: nil, inspectScriptFiles: false)
        }
        let result = ConfigLoader(options: options).load(path: file)
        var status = result.exitStatus
        if strict, status == 0, !result.warnings.isEmpty { status = 5 }

        var stderr = StandardError()
        for d in result.diagnostics {
            print(d.description, to: &stderr)
        }
        let e = result.errors.count
        let w = result.warnings.count
        if e > 0 || w > 0 {
            print("\(file): \(e) error\(e == 1 ? "" : "s"), \(w) warning\(w == 1 ? "" : "s")", to: &stderr)
        } else {
            print("\(file): configuration is valid", to: &stderr)
        }
        if json {
            let report = CheckReport(
                file: file, valid: status == 0, exitStatus: status, files: result.files,
                diagnostics: result.diagnostics, config: result.config)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let data = try encoder.encode(report)
            writeStandardOutput(String(decoding: data, as: UTF8.self) + "\n")
        }
        // The model can be large; the process ends here, so skip tearing it down.
        Glibc.exit(status)
    }
}

/// What `kad check --json` prints.
struct CheckReport: Encodable {
    var file: String
    var valid: Bool
    var exitStatus: Int32
    var files: [String]
    var diagnostics: [Diagnostic]
    var config: KeepalivedConfig
}

