import ArgumentParser
import Dispatch
import FoundationEssentials
import Subprocess
import SystemPackage
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `kad demo`: two kad daemons on a throwaway LAN of network namespaces, an election, a crash,
/// a failover measured, a return, and everything removed again (also on Ctrl-C).
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a failover on a throwaway LAN of network namespaces (needs root).",
        discussion: """
            Builds three network namespaces (two nodes and a bridge), runs the seed's first example \
            configuration on both nodes (priorities 100 and 50; the virtual address becomes \
            192.0.2.111/24, a documentation address), shows the election, kills the master with \
            SIGKILL, measures how long the backup takes to hold the address, restarts the first \
            node and watches it take the address back, then stops both and removes the namespaces. \
            Ctrl-C cleans up too. Nothing leaves the namespaces.
            """
    )

    @Flag(help: "Run VRRPv3 at advert_int 0.1 instead of the seed's VRRPv2 at 1 s (a ten times faster failover).")
    var fast = false

    @Flag(help: "Also print every line the two daemons log.")
    var verbose = false

    static let vip = "192.0.2.111"

    func config(priority: Int, state: String) -> String {
        // The seed's first example, with a documentation address for the VIP.
        """
        vrrp_instance VI_1 {
            state \(state)
            interface eth0
            virtual_router_id 51
            priority \(priority)
            advert_int \(fast ? "0.1" : "1")
            \(fast ? "version 3" : "authentication {\n        auth_type PASS\n        auth_pass 1111\n    }")
            virtual_ipaddress {
                \(Self.vip)/24
            }
        }

        """
    }

    func run() async throws {
        guard geteuid() == 0 else {
            throw ValidationError("kad demo needs root (it creates network namespaces): run it with sudo")
        }
        let lab = try await DemoLab.make(verbose: verbose)
        let signals = SignalStream([SIGINT, SIGTERM])
        let script = Task { try await self.story(lab) }
        let interrupted = Task {
            for await _ in signals.stream {
                print("\ninterrupted: cleaning up")
                script.cancel()
                return
            }
        }
        let result = await script.result
        interrupted.cancel()
        signals.cancel()
        await lab.cleanUp()
        print("cleaned up: namespaces \(lab.names.joined(separator: ", ")) removed")
        if case .failure(let error) = result, !(error is CancellationError) { throw error }
        if script.isCancelled { throw ExitCode(130) }
    }

    func story(_ lab: DemoLab) async throws {
        let interval = fast ? 0.1 : 1.0
        func mdi(_ p: Double) -> Double { 3 * interval + (256 - p) / 256 * interval }
        print("""
            LAN: namespaces \(lab.names.joined(separator: ", ")); node A = 192.0.2.1, node B = 192.0.2.2 on one bridge.
            Both run the seed's first example (VIP \(Self.vip)/24, \(fast ? "VRRPv3, advert_int 0.1" : "VRRPv2, advert_int 1, PASS")): \
            A with priority 100, B with priority 50.
            """)
        let configA = try lab.write("a.conf", config(priority: 100, state: "MASTER"))
        let configB = try lab.write("b.conf", config(priority: 50, state: "BACKUP"))
        let clock = ContinuousClock()
        var start = clock.now
        lab.start(node: 0, config: configA)
        lab.start(node: 1, config: configB)
        print("\n1. Election. Both start as BACKUP and wait Master_Down_Interval; A's is the shorter (\(fmt(mdi(100))) s against \(fmt(mdi(50))) s).")
        let elected = try await lab.wait(within: .seconds(15)) { await lab.holder() == 0 }
        print("   A is MASTER and holds \(Self.vip) after \(fmt(seconds(elected - start))) s; B stays BACKUP.")
        try await Task.sleep(for: .seconds(fast ? 0.5 : 2))

        print("\n2. Crash. A is killed with SIGKILL: no goodbye advert, its address stays behind inside A.")
        start = clock.now
        await lab.kill(node: 0)
        let failover = try await lab.wait(within: .seconds(15)) { await lab.holds(1) }
        print("   B holds \(Self.vip) after \(fmt(seconds(failover - start))) s (B's Master_Down_Interval is \(fmt(mdi(50))) s from A's last advert, sent up to one interval before the kill; polled every 10 ms).")

        print("\n3. Return. A starts again: it first removes the address the crash left behind, then preempts B.")
        start = clock.now
        lab.start(node: 0, config: configA)
        let back = try await lab.wait(within: .seconds(15)) { await lab.holder() == 0 }
        print("   A holds \(Self.vip) again after \(fmt(seconds(back - start))) s; B released it.")
        try await Task.sleep(for: .seconds(fast ? 0.3 : 1))

        print("\n4. Stop. SIGTERM to both: A sends a priority-0 advert and releases the address; both exit.")
        let codes = await lab.terminateAll()
        let held0 = await lab.holds(0), held1 = await lab.holds(1)
        let held = held0 || held1
        print("   exit statuses: A \(codes[0].map(String.init) ?? "-"), B \(codes[1].map(String.init) ?? "-"); no address left: \(!held)")
    }

    func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
    func fmt(_ s: Double) -> String { s.fixed(3) }
}

/// The namespaces, daemons and files of one demo run.
final class DemoLab: Sendable {
    let tag = "kaddemo\(getpid() % 100000)"
    var names: [String] { ["\(tag)-hub", "\(tag)-a", "\(tag)-b"] }
    let directory: String
    let verbose: Bool
    /// Process ids of the running daemons, by node (set once each has been spawned).
    let pids = Mutex<[Int: pid_t]>([:])
    /// Per node, the task that runs its daemon and ends with its exit status (nil: killed by a
    /// signal, or could not start).
    let daemons = Mutex<[Int: Task<Int32?, Never>]>([:])
    let clock = ContinuousClock()

    private init(verbose: Bool, directory: String) {
        self.verbose = verbose
        self.directory = directory
    }

    /// Makes the LAN: a hub namespace with a bridge, and nodes A (192.0.2.1) and B (192.0.2.2).
    static func make(verbose: Bool) async throws -> DemoLab {
        let temporary = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        let lab = DemoLab(verbose: verbose, directory: temporary + "/kad-demo-\(getpid())")
        try FileManager.default.createDirectory(atPath: lab.directory, withIntermediateDirectories: true)
        do {
            let hub = lab.names[0]
            try await lab.ip(["netns", "add", hub])
            try await lab.ip(["-n", hub, "link", "add", "br0", "type", "bridge"])
            try await lab.ip(["-n", hub, "link", "set", "br0", "up"])
            for (i, ns) in lab.names.dropFirst().enumerated() {
                try await lab.ip(["netns", "add", ns])
                try await lab.ip(["-n", hub, "link", "add", "p\(i)", "type", "veth", "peer", "name", "eth0", "netns", ns])
                try await lab.ip(["-n", hub, "link", "set", "p\(i)", "master", "br0", "up"])
                try await lab.ip(["-n", ns, "link", "set", "lo", "up"])
                try await lab.ip(["-n", ns, "link", "set", "eth0", "up"])
                try await lab.ip(["-n", ns, "addr", "add", "192.0.2.\(i + 1)/24", "dev", "eth0"])
            }
        } catch {
            await lab.cleanUp()
            throw error
        }
        return lab
    }

    /// Runs `ip ARGUMENTS`; its standard output and error together.
    @discardableResult
    func ip(_ arguments: [String]) async throws -> String {
        let result = try await Subprocess.run(
            .name("ip"), arguments: Arguments(arguments),
            output: .string(limit: 1 << 20), error: .combinedWithOutput)
        let out = result.standardOutput
        guard result.terminationStatus.isSuccess else {
            throw ValidationError("ip \(arguments.joined(separator: " ")) failed (\(result.terminationStatus)): \(out)")
        }
        return out
    }

    func write(_ name: String, _ text: String) throws -> String {
        let path = directory + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Starts `kad run` in node `node` (0: A, 1: B), its log lines printed with `verbose`.
    func start(node: Int, config: String) {
        let name = node == 0 ? "a" : "b"
        let label = node == 0 ? "A" : "B"
        let kad = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let arguments = ["netns", "exec", names[node + 1], kad, "run", "-l", "-f", config,
                         "-p", directory + "/\(name).pid", "--control-socket", directory + "/\(name).sock"]
        let verbose = self.verbose
        let task = Task { [self] () -> Int32? in
            do {
                let result = try await Subprocess.run(
                    .name("ip"), arguments: Arguments(arguments),
                    input: .none, output: .sequence, error: .combinedWithOutput
                ) { execution in
                    self.pids.withLock { $0[node] = execution.processIdentifier.value }
                    for try await line in execution.standardOutput.strings() where verbose {
                        print("   [\(label)] \(line)")
                    }
                }
                self.pids.withLock { _ = $0.removeValue(forKey: node) }
                if case .exited(let code) = result.terminationStatus { return code }
                return nil
            } catch {
                self.pids.withLock { _ = $0.removeValue(forKey: node) }
                print("   [\(label)] could not run kad: \(error)")
                return nil
            }
        }
        daemons.withLock { $0[node] = task }
    }

    /// SIGKILL to node `node`'s daemon; returns once it has exited.
    func kill(node: Int) async {
        guard let task = daemons.withLock({ $0.removeValue(forKey: node) }) else { return }
        await signal(node: node, SIGKILL, task: task)
        _ = await task.value
    }

    /// Sends `signal` to the daemon, waiting first (up to 3 s) for it to have been spawned.
    private func signal(node: Int, _ signal: CInt, task: Task<Int32?, Never>) async {
        let start = clock.now
        while clock.now - start < .seconds(3) {
            if let pid = pids.withLock({ $0[node] }) {
                Glibc.kill(pid, signal)
                return
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
        task.cancel()
    }

    /// SIGTERM to every daemon; their exit statuses (nil: killed after 3 s, or not running).
    func terminateAll() async -> [Int32?] {
        var out: [Int32?] = []
        for node in 0..<2 {
            guard let task = daemons.withLock({ $0.removeValue(forKey: node) }) else { out.append(nil); continue }
            await signal(node: node, SIGTERM, task: task)
            let killer = Task { [self] () -> Bool in
                do { try await Task.sleep(for: .seconds(3)) } catch { return false }
                guard let pid = self.pids.withLock({ $0[node] }) else { return false }
                Glibc.kill(pid, SIGKILL)
                return true
            }
            let status = await task.value
            killer.cancel()
            out.append(await killer.value ? nil : status)
        }
        return out
    }

    func holds(_ node: Int) async -> Bool {
        ((try? await ip(["-n", names[node + 1], "-o", "addr", "show", "dev", "eth0"])) ?? "").contains(" \(Demo.vip)/")
    }

    /// The only node holding the VIP, if exactly one does.
    func holder() async -> Int? {
        let a = await holds(0), b = await holds(1)
        return a == b ? nil : (a ? 0 : 1)
    }

    /// Polls every 10 ms; the instant the condition first held.
    func wait(within limit: Duration, _ condition: () async -> Bool) async throws -> ContinuousClock.Instant {
        let start = clock.now
        while clock.now - start < limit {
            if await condition() { return clock.now }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw ValidationError("the demo expected a change that did not come within \(limit); run with --verbose to see the daemons' logs")
    }

    /// Stops the daemons (SIGKILL if still running) and removes the namespaces and files.
    func cleanUp() async {
        for node in daemons.withLock({ Array($0.keys) }) { await kill(node: node) }
        for ns in names.reversed() { _ = try? await ip(["netns", "del", ns]) }
        try? FileManager.default.removeItem(atPath: directory)
    }
}
