import Foundation
@testable import ConfigDSL

/// Preprocesses text and returns the logical lines as arrays of token texts.
func preprocess(_ text: String, configID: String = "node1", env: [String: String] = [:], directory: String = ".")
    -> (lines: [[String]], diagnostics: [Diagnostic])
{
    var pp = Preprocessor(options: PreprocessorOptions(configID: configID, randomSeed: 42, environment: { env[$0] }))
    pp.run(text: text, name: "t.conf", directory: directory)
    return (pp.lines.map { $0.tokens.map(\.text) }, pp.diagnostics.all)
}

/// Loads configuration text with no host checks.
func load(_ text: String, configID: String = "node1", unknown: Severity = .error) -> LoadResult {
    var options = ConfigLoader.Options()
    options.preprocessor = PreprocessorOptions(configID: configID, randomSeed: 1)
    options.decode = DecodeOptions(unknownKeywordSeverity: unknown)
    options.host = HostEnvironment(interfaceExists: nil, inspectScriptFiles: false)
    return ConfigLoader(options: options).load(text: text, name: "t.conf")
}

extension LoadResult {
    func codes(_ severity: Severity? = nil) -> [String] {
        diagnostics.filter { severity == nil || $0.severity == severity }.map(\.code)
    }

    func first(_ code: String) -> Diagnostic? { diagnostics.first { $0.code == code } }
}

/// A scratch directory removed when the value is released.
final class TemporaryDirectory {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "kad-test-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    @discardableResult
    func write(_ name: String, _ text: String) -> String {
        let file = path + "/" + name
        let dir = (file as NSString).deletingLastPathComponent
        try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try! text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// The repository root, found from this file's path.
let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// A minimal valid instance, to embed in tests.
let minimalInstance = """
    vrrp_instance VI_1 {
        interface eth0
        virtual_router_id 51
        virtual_ipaddress {
            192.0.2.10/24
        }
    }
    """
