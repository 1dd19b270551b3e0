import Foundation
import Testing

/// A program running inside a network namespace (`ip netns exec NS …`, which execs the
/// program itself, so the pid is the program's), its standard output and error in a file.
public final class NamespaceProcess: @unchecked Sendable {
    public let process = Process()
    public let logPath: String

    public init(namespace: String, command: [String], logPath: String) throws {
        self.logPath = logPath
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["ip", "netns", "exec", namespace] + command
        process.standardOutput = log
        process.standardError = log
        try process.run()
        try? log.close()
    }

    public var pid: pid_t { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }

    /// What the program has written so far.
    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    public func signal(_ s: Int32) {
        if process.isRunning { kill(process.processIdentifier, s) }
    }

    /// Waits for the program to exit; its exit status (or 128 + signal), or nil on time-out.
    public func waitForExit(within limit: Duration) async -> Int32? {
        let clock = ContinuousClock()
        let start = clock.now
        while process.isRunning {
            if clock.now - start > limit { return nil }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
    }

    /// Polls the log until it contains `text`.
    public func waitForLog(_ text: String, within limit: Duration) async -> Bool {
        let clock = ContinuousClock()
        let start = clock.now
        while clock.now - start < limit {
            if log.contains(text) { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return false
    }

    /// SIGKILL, and reap.
    public func kill9() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    deinit { kill9() }
}

/// tcpdump on the hub's bridge, writing a pcap with nanosecond timestamps: what every node
/// put on the wire, timed by one clock.
public final class BridgeCapture: @unchecked Sendable {
    let process: NamespaceProcess
    public let path: String

    public static var available: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/tcpdump") || FileManager.default.isExecutableFile(atPath: "/usr/sbin/tcpdump") }

    /// Starts capturing VRRP, ARP and ICMPv6 on `br0` of `lan`'s hub, and waits until tcpdump listens.
    public init(lan: TestLAN, directory: String) async throws {
        path = directory + "/bridge.pcap"
        process = try NamespaceProcess(namespace: lan.hub, command: [
            "tcpdump", "-i", "br0", "-U", "-n", "--time-stamp-precision=nano", "-w", path,
            "vrrp or arp or icmp6 or igmp or (ip6 and proto 112)",
        ], logPath: directory + "/tcpdump.log")
        let clock = ContinuousClock()
        let start = clock.now
        while !process.log.contains("listening on"), clock.now - start < .seconds(5) {
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Stops tcpdump and returns the capture file's bytes.
    public func stop() async -> [UInt8] {
        try? await Task.sleep(for: .milliseconds(50))
        process.signal(SIGINT)
        _ = await process.waitForExit(within: .seconds(5))
        return (try? [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))) ?? []
    }
}

/// A scratch directory removed by `remove()`.
public struct ScratchDirectory: Sendable {
    public let path: String
    public init(_ tag: String) throws {
        path = NSTemporaryDirectory() + "kad-\(tag)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    public func file(_ name: String) -> String { path + "/" + name }
    public func write(_ name: String, _ text: String, mode: Int = 0o644) throws -> String {
        let p = file(name)
        try text.write(toFile: p, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: p)
        return p
    }
    public func remove() { try? FileManager.default.removeItem(atPath: path) }
}
