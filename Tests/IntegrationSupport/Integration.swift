import Foundation
import Testing

// Shared by the test targets that need root and network namespaces (NetLinuxTests, kadTests).

/// Integration tests need root and network namespaces. Without them a test is skipped with
/// a message, except under `KAD_REQUIRE_INTEGRATION=1` (set by `.ci/run`), where the skip
/// is a failure.
public enum Integration {
    public static let required = ProcessInfo.processInfo.environment["KAD_REQUIRE_INTEGRATION"] == "1"

    /// Why integration tests cannot run here, or nil when they can.
    public static let unavailableReason: String? = {
        if geteuid() != 0 { return "needs root" }
        if !FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip") && !FileManager.default.isExecutableFile(atPath: "/sbin/ip") {
            return "needs iproute2 (ip)"
        }
        let probe = "kadt-probe-\(getpid())"
        defer { _ = try? Shell.run(["ip", "netns", "del", probe]) }
        if (try? Shell.run(["ip", "netns", "add", probe])) == nil { return "cannot create network namespaces" }
        return nil
    }()

    /// True when the test may go on; otherwise prints why it is skipped (or fails under CI).
    public static func available(_ test: String = #function) -> Bool {
        guard let reason = unavailableReason else { return true }
        if required {
            Issue.record("integration test \(test) cannot run (\(reason)) but KAD_REQUIRE_INTEGRATION=1")
        } else {
            print("skipped \(test): \(reason) (set KAD_REQUIRE_INTEGRATION=1 to make this a failure)")
        }
        return false
    }
}

/// Runs commands and reports failures with their output.
public enum Shell {
    public struct Failure: Error, CustomStringConvertible {
        public var command: [String]
        public var status: Int32
        public var output: String
        public var description: String { "\(command.joined(separator: " ")) exited \(status): \(output)" }
        public init(command: [String], status: Int32, output: String) {
            self.command = command
            self.status = status
            self.output = output
        }
    }

    /// Runs `command`; its exit status and its output (standard output and error together).
    public static func capture(_ command: [String]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = command
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Runs `command`; its output, or ``Failure`` when it exits non-zero.
    @discardableResult
    public static func run(_ command: [String]) throws -> String {
        let (status, out) = try capture(command)
        if status != 0 { throw Failure(command: command, status: status, output: out) }
        return out
    }
}

/// A throwaway LAN: `count` namespaces, each with one veth `eth0` plugged into a bridge in
/// a hub namespace. Addresses 192.0.2.(i+1)/24 and 2001:db8::(i+1)/64. Removed by `remove()`
/// (call it in a `defer`), and by `deinit` as a fallback.
public final class TestLAN: @unchecked Sendable {
    public let prefix: String
    public let hub: String
    public let nodes: [String]
    private var removed = false

    public init(nodes count: Int, test: String = #function) throws {
        let tag = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        prefix = "kadt-\(getpid())-\(tag)"
        hub = "\(prefix)-hub"
        nodes = (0..<count).map { "\(String(UInt32.random(in: 0...UInt32.max), radix: 36).prefix(4))-\($0)" }
            .enumerated().map { "kadt-\(getpid())-\(tag)-n\($0.offset)" }
        do {
            try Shell.run(["ip", "netns", "add", hub])
            try Shell.run(["ip", "-n", hub, "link", "add", "br0", "type", "bridge"])
            try Shell.run(["ip", "-n", hub, "link", "set", "br0", "type", "bridge", "mcast_snooping", "0"])
            try Shell.run(["ip", "-n", hub, "link", "set", "br0", "up"])
            for (i, ns) in nodes.enumerated() {
                try Shell.run(["ip", "netns", "add", ns])
                try Shell.run(["ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0",
                               "net.ipv6.conf.default.accept_dad=0"])
                try Shell.run(["ip", "-n", hub, "link", "add", "p\(i)", "type", "veth", "peer", "name", "eth0", "netns", ns])
                try Shell.run(["ip", "-n", hub, "link", "set", "p\(i)", "master", "br0", "up"])
                try Shell.run(["ip", "-n", ns, "link", "set", "lo", "up"])
                try Shell.run(["ip", "-n", ns, "link", "set", "eth0", "address", String(format: "02:00:00:00:00:%02x", i + 1)])
                try Shell.run(["ip", "-n", ns, "link", "set", "eth0", "up"])
                try Shell.run(["ip", "-n", ns, "addr", "add", "192.0.2.\(i + 1)/24", "dev", "eth0"])
                try Shell.run(["ip", "-n", ns, "addr", "add", "2001:db8::\(i + 1)/64", "dev", "eth0", "nodad"])
            }
        } catch {
            remove()
            throw error
        }
    }

    /// The namespace path of node `i` (for ``NetworkNamespace/perform(inNamespaceAt:_:)``).
    public func path(_ i: Int) -> String { "/var/run/netns/\(nodes[i])" }

    /// Runs `ip ARGS` inside node `i`.
    @discardableResult
    public func ip(_ i: Int, _ args: String...) throws -> String { try Shell.run(["ip", "-n", nodes[i]] + args) }

    public func remove() {
        guard !removed else { return }
        removed = true
        for ns in nodes + [hub] { _ = try? Shell.run(["ip", "netns", "del", ns]) }
    }

    deinit { remove() }
}

extension TestLAN {
    /// Whether `address` is configured on eth0 of node `i` (`ip -o addr show dev eth0`).
    public func holds(_ i: Int, _ address: String) -> Bool {
        ((try? ip(i, "-o", "addr", "show", "dev", "eth0")) ?? "").contains(" \(address)/")
    }
}

/// Polls `condition` every 2 ms for up to `limit`; returns how long it took, or records an
/// issue naming `what` and returns nil.
public func waitUntil(_ what: String, within limit: Duration, _ condition: () -> Bool) async -> Duration? {
    let clock = ContinuousClock()
    let start = clock.now
    while clock.now - start < limit {
        if condition() { return clock.now - start }
        try? await Task.sleep(for: .milliseconds(2))
    }
    Issue.record("\(what) did not happen within \(limit)")
    return nil
}
