import Foundation
import Testing

/// Runs the built `kad` binary and captures what it prints.
struct KadProcess {
    static let binary: String = {
        // The test executable sits beside `kad` in the build products directory (whatever
        // the scratch path), so look next to it first.
        var directories: [URL] = []
        if let exe = Bundle.main.executableURL { directories.append(exe.resolvingSymlinksInPath().deletingLastPathComponent()) }
        directories.append(URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent())
        let bundle = Bundle.main.bundleURL.deletingLastPathComponent()
        directories += [bundle, bundle.deletingLastPathComponent()]
        for directory in directories {
            let candidate = directory.appendingPathComponent("kad").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent(".build/debug/kad").path
    }()

    static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    static func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }
}

func scratchFile(_ text: String) -> String {
    let path = NSTemporaryDirectory() + "kad-cli-\(UUID().uuidString).conf"
    _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
    return path
}

@Suite struct CheckCommandTests {
    @Test func seedExamplesPass() throws {
        for name in ["seed-1-basic.conf", "seed-2-global-defs.conf", "seed-3-track-and-lvs.conf"] {
            let r = try KadProcess.run(["check", "-f", KadProcess.repositoryRoot + "/Examples/" + name])
            #expect(r.status == 0, "\(name): \(r.stderr)")
        }
    }

    @Test func diagnosticsArePrintedLikeACompiler() throws {
        let file = scratchFile("vrrp_instance V {\n interface eth0\n virtual_router_id 300\n virtual_ipaddress { 192.0.2.1 }\n}\n")
        defer { try? FileManager.default.removeItem(atPath: file) }
        let r = try KadProcess.run(["check", "-f", file, "--no-host-checks"])
        #expect(r.status == 5)
        #expect(r.stderr.contains("\(file):3:20: error: number '300' outside range [1, 255]"))
        #expect(r.stderr.contains("1 error, 0 warnings"))
    }

    @Test func exitStatusesFollowKeepalived() throws {
        #expect(try KadProcess.run(["check", "-f", "/nonexistent/kad.conf"]).status == 4)
        #expect(try KadProcess.run(["check", "-f", NSTemporaryDirectory()]).status == 4)
        let security = scratchFile("vrrp_instance V {\n interface eth0\n virtual_router_id 3\n virtual_ipaddress { 192.0.2.1 }\n notify_master /bin/true\n}\n")
        defer { try? FileManager.default.removeItem(atPath: security) }
        #expect(try KadProcess.run(["check", "-f", security, "--no-host-checks"]).status == 6)
    }

    @Test func strictFailsOnWarnings() throws {
        let r = try KadProcess.run(["check", "-f", KadProcess.repositoryRoot + "/Examples/seed-2-global-defs.conf", "--strict"])
        #expect(r.status == 5)
    }

    @Test func configIDSelectsConditionalLines() throws {
        let file = scratchFile("@lb1 global_defs { router_id one }\n@^lb1 global_defs { router_id other }\n")
        defer { try? FileManager.default.removeItem(atPath: file) }
        let r = try KadProcess.run(["check", "-f", file, "-i", "lb1", "--json"])
        #expect(r.status == 0)
        let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        let config = json?["config"] as? [String: Any]
        let globals = config?["globalDefs"] as? [String: Any]
        #expect(globals?["routerID"] as? String == "one")
    }

    @Test func jsonCarriesTheResolvedModelAndDiagnostics() throws {
        let r = try KadProcess.run(["check", "-f", KadProcess.repositoryRoot + "/Examples/seed-3-track-and-lvs.conf", "--json"])
        #expect(r.status == 0)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(json["valid"] as? Bool == true)
        #expect(json["exitStatus"] as? Int == 0)
        let config = try #require(json["config"] as? [String: Any])
        let instances = try #require(config["vrrpInstances"] as? [[String: Any]])
        #expect(instances.first?["priority"] as? Int == 50)
        #expect(instances.first?["state"] as? String == "BACKUP")
        let servers = try #require(config["virtualServers"] as? [[String: Any]])
        #expect(servers.count == 1)
        let diagnostics = try #require(json["diagnostics"] as? [[String: Any]])
        #expect(diagnostics.contains { $0["code"] as? String == "nested-virtual-server" })
    }

    @Test func badInputNeverCrashes() throws {
        var garbage = Data()
        for i in 0..<100_000 { garbage.append(UInt8(truncatingIfNeeded: i &* 7919)) }
        let binary = NSTemporaryDirectory() + "kad-cli-garbage-\(UUID().uuidString)"
        _ = FileManager.default.createFile(atPath: binary, contents: garbage)
        let longLine = scratchFile(String(repeating: "x", count: 10 * 1024 * 1024) + "\n")
        let unbalanced = scratchFile("vrrp_instance V {\n interface eth0\n")
        let quote = scratchFile("global_defs {\n router_id \"abc\n}\n")
        defer { for f in [binary, longLine, unbalanced, quote] { try? FileManager.default.removeItem(atPath: f) } }
        let expectations: [(String, String)] = [
            (binary, "error:"), (longLine, ":1:1: error: line is 10485760 bytes long"), (unbalanced, ":1:17: error: block opened here is never closed"),
            (quote, ":2:12: error: unterminated double quote"),
        ]
        for (file, text) in expectations {
            let r = try KadProcess.run(["check", "-f", file])
            #expect(r.status == 5, "\(file): \(r.stderr.prefix(500))")
            #expect(r.stderr.contains(text), "\(r.stderr.prefix(500))")
        }
    }

    @Test func unknownFlagIsAUsageError() throws {
        let r = try KadProcess.run(["check", "--bogus"])
        #expect(r.status == 64)
        #expect(r.stderr.contains("Unknown option '--bogus'"))
    }
}
