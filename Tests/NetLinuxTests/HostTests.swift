import Foundation
import Synchronization
import SystemPackage
import IntegrationSupport
import Testing
import CNetLinux
@testable import NetLinux

// Tests for Sources/NetLinux/Host: capabilities, the script runner and the track_file watcher.
//
// Every suite is nested in `HostTests`, which runs them one at a time: some tests install
// SystemCalls overrides, which are process-wide.

/// A scratch directory under /tmp, removed by `remove()` (call it in a `defer`).
final class HostScratch: @unchecked Sendable {
    let path: String

    init(mode: mode_t = 0o755) throws {
        var template = Array("/tmp/kadt-host-XXXXXX".utf8CString)
        guard let p = mkdtemp(&template) else { throw Errno(rawValue: errno) }
        path = String(cString: p)
        chmod(path, mode)
    }

    /// Writes an executable (by default) file and returns its path.
    @discardableResult
    func file(_ name: String, _ text: String, mode: mode_t = 0o755) throws -> String {
        let p = "\(path)/\(name)"
        try FileManager.default.createDirectory(atPath: (p as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: p, atomically: false, encoding: .utf8)
        chmod(p, mode)
        return p
    }

    /// Creates a directory (and its parents) and returns its path.
    @discardableResult
    func directory(_ name: String, mode: mode_t = 0o755) throws -> String {
        let p = "\(path)/\(name)"
        try FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
        chmod(p, mode)
        return p
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Collects runner events.
final class EventLog: Sendable {
    let events = Mutex<[ScriptEvent]>([])
    func record(_ e: ScriptEvent) { events.withLock { $0.append(e) } }
    var all: [ScriptEvent] { events.withLock { $0 } }
    func lines(_ stream: ScriptOutputStream) -> [String] {
        all.compactMap { if case .output(stream, let line) = $0.kind { line } else { nil } }
    }
}

/// Processes (pid, state, ppid) whose process group is `group`, from /proc.
func hostProcesses(inGroup group: pid_t) -> [(pid: pid_t, state: Character, parent: pid_t)] {
    hostProcesses(inGroups: [group]).map { ($0.pid, $0.state, $0.parent) }
}

/// Processes (pid, state, ppid, process group) whose process group is one of `groups`, from
/// one pass over /proc.
func hostProcesses(inGroups groups: Set<pid_t>) -> [(pid: pid_t, state: Character, parent: pid_t, group: pid_t)] {
    var found: [(pid_t, Character, pid_t, pid_t)] = []
    for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
        guard let pid = pid_t(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")")
        else { continue }
        let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
        guard fields.count > 3, let ppid = pid_t(fields[1]), let pgrp = pid_t(fields[2]) else { continue }
        if groups.contains(pgrp) { found.append((pid, fields[0].first!, ppid, pgrp)) }
    }
    return found
}

/// How many of this process's descriptors are pipes or pidfds (what script runs open), from
/// /proc/self/fd. Sockets and files other suites open meanwhile are not counted.
func hostScriptDescriptors() -> Int {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
    return entries.filter { entry in
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(entry)") else { return false }
        return target.hasPrefix("pipe:") || target == "anon_inode:[pidfd]"
    }.count
}

/// A script run as kad's own user (no user switch), prepared without security enforcement.
func hostScript(_ path: String, _ arguments: [String] = [], name: String = "test") throws -> Script {
    try Script.prepare(name: name, commandLine: ScriptCommandLine(arguments: [path] + arguments),
                       identity: ScriptIdentity.current(), enforceSecurity: false)
}

extension HostAccessSuites {
@Suite("Host", .serialized)
struct HostTests {

    // MARK: - Command lines

    @Suite("script command lines")
    struct CommandLines {
        @Test("keepalived's splitting and escapes", arguments: [
            // (as written between the config's quotes, arguments)
            ("/bin/notify.sh", ["/bin/notify.sh"]),
            ("  /bin/a   b\tc  ", ["/bin/a", "b", "c"]),
            ("/bin/a 'b c' \"d e\"", ["/bin/a", "b c", "d e"]),
            (#"ab"c d"e"#, ["abc de"]),
            ("a '' b", ["a", "", "b"]),
            (#"a "it's" 'say "hi"'"#, ["a", "it's", #"say "hi""#]),
            // Seen with keepalived 2.2.7: escapes are decoded before splitting, and again inside it.
            (#"x 'a\tb' c\td"#, ["x", "a\tb", "c", "d"]),
            (#"x a\\ b"#, ["x", "a b"]),
            (#"x \\\\"#, ["x", "\\"]),
            (#"x a\\'b"#, ["x", "a'b"]),
            (#"x \"h i\""#, ["x", "h i"]),
            (#"x x\ny"#, ["x", "x", "y"]),
            (#"x j\x41k \101 \cA \x414243"#, ["x", "jAk", "A", "\u{1}", "C"]),
            (#"x \0101 \x \8 \ca\c?"#, ["x", "\u{8}1", "x", "8", "\u{1}\u{1f}"]),
            // \f, \r and \v decode to blanks in the first pass, so they separate in the second.
            (#"x \a\b\E\f\r\vy"#, ["x", "\u{7}\u{8}\u{1b}", "y"]),
            (#"x '\a\f\v'"#, ["x", "\u{7}\u{c}\u{b}"]),
            ("/usr/bin/caf\u{e9} \u{e9}t\u{e9}", ["/usr/bin/caf\u{e9}", "\u{e9}t\u{e9}"]),
        ])
        func splits(_ text: String, _ expected: [String]) throws {
            #expect(try ScriptCommandLine(parsing: text).arguments == expected)
        }

        @Test("errors name the problem and its column", arguments: [
            ("", ScriptCommandLineError.Problem.empty, 1),
            ("   \t ", .empty, 1),
            ("/bin/a 'b c", .unterminatedSingleQuote, 8),
            ("/bin/a \"b", .unterminatedDoubleQuote, 8),
            (#"/bin/a \'b"#, .unterminatedSingleQuote, 8),
            (#"/bin/a b\"#, .trailingBackslash, 9),
            (#"/bin/a \c"#, .incompleteControlEscape, 8),
            (#"/bin/a \0"#, .nulByte, 8),
            (#"/bin/a b\x00 c"#, .nulByte, 9),
        ])
        func errors(_ text: String, _ problem: ScriptCommandLineError.Problem, _ column: Int) {
            #expect(throws: ScriptCommandLineError(problem, offset: column - 1)) { try ScriptCommandLine(parsing: text) }
        }

        @Test("error messages")
        func messages() {
            #expect(ScriptCommandLineError(.unterminatedSingleQuote, offset: 7).description
                    == "unterminated single quote (opened at column 8)")
            #expect(ScriptCommandLineError(.trailingBackslash, offset: 8).description == "the command ends with a lone '\\' (column 9)")
        }

        @Test("a command line prints back in a form that parses to the same arguments")
        func roundTrip() throws {
            let line = ScriptCommandLine(arguments: ["/bin/x", "a b", "it's", "", "plain"])
            #expect(line.description == #"/bin/x 'a b' 'it'\''s' '' plain"#)
        }

        @Test("user specifications", arguments: [
            ("nobody", "nobody", nil as String?),
            ("nobody nogroup", "nobody", "nogroup"),
            ("  nobody:nogroup ", "nobody", "nogroup"),
        ])
        func userSpecs(_ text: String, _ user: String, _ group: String?) throws {
            #expect(try ScriptUserSpec(parsing: text) == ScriptUserSpec(user: user, group: group))
        }

        @Test("bad user specifications", arguments: [
            ("", 1, "a user name is needed"),
            ("a b c", 5, "unexpected 'c'"),
            (":grp", 1, "the user name before ':' is empty"),
            ("usr:", 5, "the group name after ':' is empty"),
            ("usr:grp extra", 9, "unexpected 'extra' after USER:GROUP"),
        ])
        func badUserSpecs(_ text: String, _ column: Int, _ message: String) {
            do {
                _ = try ScriptUserSpec(parsing: text)
                Issue.record("'\(text)' parsed")
            } catch {
                #expect(error.column == column)
                #expect(error.message.hasPrefix(message))
            }
        }
    }

    // MARK: - Running scripts

    @Suite("running scripts")
    struct Running {
        @Test("a script that succeeds, with its output captured and logged line by line")
        func succeeds() async throws {
            let dir = try HostScratch()
            defer { dir.remove() }
            let path = try dir.file("ok.sh", "#!/bin/sh\necho \"hello $1\"\necho second\necho oops >&2\nprintf 'no newline'\nexit 0\n")
            let log = EventLog()
            let runner = ScriptRunner(log: log.record)
            let result = try await runner.run(try hostScript(path, name: "notify_master VI_1"), arguments: ["world"])
            #expect(result.succeeded)
            #expect(result.status == .exited(0))
            #expect(result.ending == .completed)
            #expect(result.standardOutput == "hello world\nsecond\nno newline")
            #expect(result.standardError == "oops\n")
            #expect(!result.outputTruncated)
            #expect(log.lines(.standardOutput) == ["hello world", "second", "no newline"])
            #expect(log.lines(.standardError) == ["oops"])
            let kinds = log.all.map(\.kind)
            #expect(kinds.first == .started)
            #expect(kinds.last == .finished(.exited(0), .completed))
            #expect(log.all.allSatisfy { $0.script == "notify_master VI_1" && $0.processID == result.processID })
            #expect(waitpid(result.processID, nil, WNOHANG) == -1 && errno == ECHILD, "the script was reaped")
        }

        @Test("a script that fails reports its exit status")
        func fails() async throws {
            let dir = try HostScratch()
            defer { dir.remove() }
            let path = try dir.file("fail.sh", "#!/bin/sh\nexit 3\n")
            let result = try await ScriptRunner().run(try hostScript(path))
            #expect(result.status == .exited(3))
            #expect(result.ending == .completed)
            #expect(!result.succeeded)
            #expect(result.description == "exited with status 3")
        }

        @Test("a script killed by a signal reports the signal")
        func signaled() async throws {
            let dir = try HostScratch()
            defer { dir.remove() }
            let path = try dir.file("sig.sh", "#!/bin/sh\nkill -USR1 $$\nsleep 5\n")
            let result = try await ScriptRunner().run(try hostScript(path), timeout: .seconds(10))
            #expect(result.status == .signaled(SIGUSR1))
            #expect(result.ending == .completed)
            #expect(!result.succeeded)
            #expect(result.status.description == "killed by signal \(SIGUSR1) (SIGUSR1)")
        }

        /// Waits until no live process is left in `group` and returns what is left (zombies
        /// whose parent is not the test process are the init process's to reap).
        func settle(_ group: pid_t) async throws -> [(pid: pid_t, state: Character, parent: pid_t)] {
            let deadline = ContinuousClock.now + .seconds(3)
            while ContinuousClock.now < deadline {
                if hostProcesses(inGroup: group).allSatisfy({ $0.state == "Z" }) { break }
                try await Task.sleep(for: .milliseconds(10))
            }
            return hostProcesses(inGroup: group)
        }

        @Test("a hanging script that forked is stopped with its children: SIGTERM to the group")
        func hangsTerm() async throws {
            let dir = try HostScratch()
            defer { dir.remove() }
            let path = try dir.file("hang.sh", "#!/bin/sh\nsleep 300 &\nsleep 300 &\necho started\nsleep 300\n")
            var config = ScriptRunner.Configuration()
            config.terminationGracePeriod = .seconds(5)
            let log = EventLog()
            let runner = ScriptRunner(configuration: config, log: log.record)
            let start = ContinuousClock.now
            let result = try await runner.run(try hostScript(path), timeout: .milliseconds(300))
            let elapsed = ContinuousClock.now - start
            #expect(result.ending == .timedOut)
            #expect(result.status == .signaled(SIGTERM))
            #expect(!result.succeeded)
            #expect(elapsed < .seconds(3), "SIGTERM was enough; no wait for the grace period (\(elapsed))")
            #expect(log.all.contains { $0.kind == .timedOut(after: .milliseconds(300)) })
            #expect(result.standardOutput == "started\n")
            let left = try await settle(result.processID)
            #expect(left.allSatisfy { $0.state == "Z" }, "no process of the group is alive: \(left)")
            #expect(left.allSatisfy { $0.parent != getpid() }, "no zombie of ours: \(left)")
            #expect(waitpid(result.processID, nil, WNOHANG) == -1 && errno == ECHILD)
        }

        @Test("a script and children that ignore SIGTERM get SIGKILL after the grace period")
        func hangsKill() async throws {
            let dir = try HostScratch()
            defer { dir.remove() }
            let path = try dir.file("stubborn.sh", "#!/bin/sh\ntrap '' TERM\nsleep 300 &\nsh -c 'trap \"\" TERM; sleep 300' &\nsleep 300\n")
            var config = ScriptRunner.Configuration()
            config.terminationGracePeriod = .milliseconds(300)
            let runner = ScriptRunner(configuration: config)
            let start = ContinuousClock.now
            let result = try await runner.run(try hostScript(path), timeout: .milliseconds(200))
            let elapsed = ContinuousClock.now - start
            #expect(result.ending == .timedOut)
            #expect(result.status == .signaled(SIGKILL))
            #expect(elapsed >= .milliseconds(450) && elapsed < .seconds(3), "timeout + grace (\(elapsed))")
            let left = try await settle(result.processID)
            #expect(left.allSatisfy { $0.state == "Z" }, "no process of the group is alive: \(left)")
            #expect(left.allSatisfy { $0.parent != getpid() }, "no zombie of ours: \(left)")
        }

        @Test("cancelling the task stops the script the same way")
        func cancelled() async throws {
            let dir = try HostScratch()
            defer { dir.remove() }
            let path = try dir.file("long.sh", "#!/bin/sh\nsleep 300 &\nsleep 300\n")
            let runner = ScriptRunner()
            let script = try hostScript(path)
            let task = Task { try await runner.run(script) }
            try await Task.sleep(for: .milliseconds(200))
            task.cancel()
            let result = try await task.value
            #expect(result.ending == .cancelled)
            #expect(result.status == .signaled(SIGTERM))
            let left = try await settle(result.processID)
            #expect(left.allSatisfy { $0.state == "Z" }, "\(left)")
        }

        @Test("output beyond the limit is dropped, once noted")
        func truncation() async throws {
            let dir = try HostScratch()
            defer { dir.remove() }
            // 40 lines of 25 bytes on stdout (1000 bytes), a short line on stderr.
            let path = try dir.file("chatty.sh", "#!/bin/sh\ni=0\nwhile [ $i -lt 40 ]; do printf '%024d\\n' $i; i=$((i+1)); done\necho err >&2\n")
            var config = ScriptRunner.Configuration()
            config.outputLimit = 110
            let log = EventLog()
            let result = try await ScriptRunner(configuration: config, log: log.record).run(try hostScript(path))
            #expect(result.succeeded)
            #expect(result.outputTruncated)
            #expect(result.standardOutput.utf8.count == 110)
            #expect(result.standardOutput.hasPrefix("000000000000000000000000\n000000000000000000000001\n"))
            #expect(result.standardError == "err\n")
            let truncations = log.all.filter { if case .outputTruncated = $0.kind { true } else { false } }
            #expect(truncations.map(\.kind) == [.outputTruncated(.standardOutput, limit: 110)])
            let lines = log.lines(.standardOutput)
            #expect(lines.count == 5, "4 whole lines and the cut fifth: \(lines)")
            #expect(lines.last == "0000000000")
            #expect(lines.first == "000000000000000000000000")
        }

        @Test("a background child holding the output open does not hold up the result")
        func backgroundHoldsPipe() async throws {
            let dir = try HostScratch()
            defer { dir.remove() }
            let path = try dir.file("daemonize.sh", "#!/bin/sh\n(sleep 5; echo late) &\necho done\nexit 0\n")
            let start = ContinuousClock.now
            let result = try await ScriptRunner().run(try hostScript(path))
            defer { _ = kill(-result.processID, SIGKILL) }
            #expect(result.succeeded)
            #expect(result.standardOutput == "done\n")
            #expect(ContinuousClock.now - start < .seconds(2))
        }

        @Test("the environment is minimal and the working directory is /")
        func environment() async throws {
            let dir = try HostScratch()
            defer { dir.remove() }
            let path = try dir.file("env.sh", "#!/bin/sh\npwd\n")
            var config = ScriptRunner.Configuration()
            config.environment = ["KAD_EXTRA": "1"]
            let runner = ScriptRunner(configuration: config)
            let env = Script(name: "env", commandLine: ScriptCommandLine(arguments: ["env"]), executable: "/usr/bin/env",
                             identity: try ScriptIdentity.current())
            let result = try await runner.run(env)
            let names = Set(result.standardOutput.split(separator: "\n").map { String($0.split(separator: "=")[0]) })
            #expect(names == ["PATH", "HOME", "USER", "LOGNAME", "SHELL", "KAD_EXTRA"])
            #expect(result.standardOutput.contains("PATH=\(Script.defaultSearchPath)\n"))
            #expect(try await runner.run(try hostScript(path)).standardOutput == "/\n")
        }

        @Test("at most maximumConcurrentScripts run at once")
        func concurrencyBound() async throws {
            let dir = try HostScratch()
            defer { dir.remove() }
            let path = try dir.file("nap.sh", "#!/bin/sh\nsleep 0.2\n")
            let running = Mutex((now: 0, most: 0))
            var config = ScriptRunner.Configuration()
            config.maximumConcurrentScripts = 2
            let runner = ScriptRunner(configuration: config) { event in
                switch event.kind {
                case .started: running.withLock { $0.now += 1; $0.most = max($0.most, $0.now) }
                case .finished: running.withLock { $0.now -= 1 }
                default: break
                }
            }
            let script = try hostScript(path)
            let start = ContinuousClock.now
            let results = try await withThrowingTaskGroup(of: ScriptResult.self) { group in
                for _ in 0..<6 { group.addTask { try await runner.run(script) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(results.count == 6 && results.allSatisfy(\.succeeded))
            #expect(running.withLock { $0.most } == 2)
            #expect(ContinuousClock.now - start >= .milliseconds(550), "three rounds of two")
            #expect(runner.running == 0)
        }

        @Test("a program that cannot be started is a launch error")
        func spawnFailure() async throws {
            let script = Script(name: "broken", commandLine: ScriptCommandLine(arguments: ["/nonexistent/kadt"]),
                                executable: "/nonexistent/kadt", identity: try ScriptIdentity.current())
            await #expect {
                _ = try await ScriptRunner().run(script)
            } throws: { error in
                guard case ScriptLaunchError.spawnFailed(let name, _, _, let e, _) = error else { return false }
                return name == "broken" && e == .noSuchFileOrDirectory
                    && "\(error)".hasPrefix("starting broken (/nonexistent/kadt) as ")
                    && "\(error)".hasSuffix(": execve: no such file or directory")
            }
        }

        @Test("scripts run as the configured user with a minimal environment (root needed)")
        func asNobody() async throws {
            guard Integration.available() else { return }
            let dir = try HostScratch()
            defer { dir.remove() }
            let path = try dir.file("who.sh", "#!/bin/sh\nid -u\nid -g\nid -G\necho \"$USER $LOGNAME $HOME\"\n")
            let nobody = try ScriptIdentity.lookup(user: "nobody")
            let script = try Script.prepare(name: "who", commandLine: ScriptCommandLine(arguments: [path]), identity: nobody,
                                            enforceSecurity: true)
            let result = try await ScriptRunner().run(script)
            #expect(result.succeeded, "\(result) \(result.standardError)")
            #expect(result.standardOutput == "65534\n65534\n65534\nnobody nobody \(nobody.home)\n")

            let withGroup = try ScriptIdentity.lookup(user: "nobody", group: "daemon")
            var second = script
            second.identity = withGroup
            #expect(try await ScriptRunner().run(second).standardOutput.hasPrefix("65534\n1\n1\n"))
        }

        @Test("user and group lookups")
        func lookups() throws {
            let root = try ScriptIdentity.lookup(user: "root")
            #expect(root.uid == 0 && root.gid == 0 && root.isRoot && root.supplementaryGroups.isEmpty)
            #expect(try ScriptIdentity.lookup(user: "nobody", group: "nogroup").description == "nobody:nogroup")
            #expect(try ScriptIdentity.lookup(ScriptUserSpec(user: "root"), supplementaryGroups: true).supplementaryGroups.contains(0))
            #expect(throws: ScriptUserError.noSuchUser("kadt-no-such-user")) { try ScriptIdentity.lookup(user: "kadt-no-such-user") }
            #expect(throws: ScriptUserError.noSuchGroup("kadt-no-such-group")) {
                try ScriptIdentity.lookup(user: "root", group: "kadt-no-such-group")
            }
            #expect(ScriptUserError.noSuchUser("x").description == "script user 'x' does not exist")
            let fallback = try ScriptIdentity.defaultIdentity()
            #expect(fallback.isFallback == ((try? ScriptIdentity.lookup(user: "keepalived_script")) == nil))
        }

        @Test("preparing: programs are looked up in PATH and must be executable regular files")
        func prepare() throws {
            let dir = try HostScratch()
            defer { dir.remove() }
            let me = try ScriptIdentity.current()
            let found = try Script.prepare(name: "p", commandLine: try ScriptCommandLine(parsing: "true --flag"), identity: me,
                                           enforceSecurity: false)
            #expect(found.executable.hasSuffix("/true"))
            #expect(throws: ScriptPreparationError.notFound("kadt-no-such-program", searchPath: Script.defaultSearchPath)) {
                try Script.prepare(name: "p", commandLine: ScriptCommandLine(arguments: ["kadt-no-such-program"]), identity: me,
                                   enforceSecurity: false)
            }
            let plain = try dir.file("plain.txt", "x\n", mode: 0o644)
            #expect(throws: ScriptPreparationError.notExecutable(plain, user: me.userName)) {
                try Script.prepare(name: "p", commandLine: ScriptCommandLine(arguments: [plain]), identity: me, enforceSecurity: false)
            }
            let sub = try dir.directory("sub")
            #expect(throws: ScriptPreparationError.notARegularFile(sub)) {
                try Script.prepare(name: "p", commandLine: ScriptCommandLine(arguments: [sub]), identity: me, enforceSecurity: false)
            }
            #expect(throws: ScriptPreparationError.cannotInspect("\(dir.path)/missing", .noSuchFileOrDirectory)) {
                try Script.prepare(name: "p", commandLine: ScriptCommandLine(arguments: ["\(dir.path)/missing"]), identity: me,
                                   enforceSecurity: false)
            }
        }

        @Test("200 scripts started and stopped at once: each ends as it should, nothing left behind")
        func manyStopped() async throws {
            let dir = try HostScratch()
            defer { dir.remove() }
            let plain = try hostScript(try dir.file("plain.sh", "#!/bin/sh\necho up\nsleep 30\n"))
            // "armed" is printed only once SIGTERM is ignored; a SIGTERM that comes earlier ends it.
            let stubborn = try hostScript(try dir.file("stubborn.sh", "#!/bin/sh\ntrap '' TERM\necho armed\nsleep 30\n"))
            let quick = try hostScript(try dir.file("quick.sh", "#!/bin/sh\necho out\necho err >&2\nexit 7\n"))
            var config = ScriptRunner.Configuration()
            config.maximumConcurrentScripts = 200
            config.terminationGracePeriod = .milliseconds(300)
            let log = EventLog()
            let runner = ScriptRunner(configuration: config, log: log.record)
            // Whatever the runner sets up once (its watcher thread) exists before counting.
            #expect(try await runner.run(quick).status == .exited(7))
            let before = hostScriptDescriptors()

            enum Kind: Sendable { case timedOut, stubborn, cancelled, quick }
            typealias Outcome = (index: Int, kind: Kind, result: ScriptResult?, error: ScriptLaunchError?)
            let outcomes = await withTaskGroup(of: Outcome.self) { group in
                for i in 0..<200 {
                    let kind: Kind = [.timedOut, .stubborn, .cancelled, .quick][i % 4]
                    // Spread the stops from "before the shell has started" to "well into the run".
                    let delay = Duration.milliseconds(5 + (i * 37) % 300)
                    group.addTask {
                        do {
                            switch kind {
                            case .timedOut: return (i, kind, try await runner.run(plain, timeout: delay), nil)
                            case .stubborn: return (i, kind, try await runner.run(stubborn, timeout: delay), nil)
                            case .quick: return (i, kind, try await runner.run(quick, timeout: .seconds(60)), nil)
                            case .cancelled:
                                let task = Task { try await runner.run(plain) }
                                try? await Task.sleep(for: delay)
                                task.cancel()
                                return (i, kind, try await task.value, nil)
                            }
                        } catch {
                            return (i, kind, nil, error as? ScriptLaunchError)
                        }
                    }
                }
                return await group.reduce(into: [Outcome]()) { $0.append($1) }
            }

            #expect(outcomes.count == 200)
            var groups: [pid_t] = []
            for o in outcomes {
                guard let r = o.result else {
                    // Only a run cancelled while it waited could not start.
                    #expect(o.kind == .cancelled && o.error == .cancelled, "run \(o.index) (\(o.kind)): \(String(describing: o.error))")
                    continue
                }
                groups.append(r.processID)
                #expect(waitpid(r.processID, nil, WNOHANG) == -1 && errno == ECHILD, "run \(o.index) was reaped")
                switch o.kind {
                case .timedOut:
                    #expect(r.ending == .timedOut && r.status == .signaled(SIGTERM), "run \(o.index): \(r)")
                case .stubborn:
                    let expected: Set<ScriptExitStatus> = r.standardOutput == "armed\n" ? [.signaled(SIGKILL)]
                        : [.signaled(SIGTERM), .signaled(SIGKILL)]
                    #expect(r.ending == .timedOut && expected.contains(r.status), "run \(o.index): \(r), \(r.standardOutput)")
                case .cancelled:
                    #expect(r.ending == .cancelled && r.status == .signaled(SIGTERM), "run \(o.index): \(r)")
                case .quick:
                    #expect(r.ending == .completed && r.status == .exited(7), "run \(o.index): \(r)")
                    #expect(r.standardOutput == "out\n" && r.standardError == "err\n", "run \(o.index)")
                }
            }
            let events = log.all
            let finished = events.filter { if case .finished = $0.kind { true } else { false } }
            #expect(finished.count == groups.count + 1, "one finished event per run that started")
            #expect(Set(finished.map(\.processID)).isSuperset(of: groups))

            // Nothing of any script is left running, and every descriptor the runs used is closed.
            let deadline = ContinuousClock.now + .seconds(5)
            var alive: [pid_t] = []
            var open = 0
            repeat {
                alive = Set(hostProcesses(inGroups: Set(groups)).filter { $0.state != "Z" }.map(\.group)).sorted()
                open = hostScriptDescriptors()
                if alive.isEmpty && open <= before { break }
                try await Task.sleep(for: .milliseconds(20))
            } while ContinuousClock.now < deadline
            #expect(alive.isEmpty, "process groups with live processes: \(alive)")
            #expect(open <= before, "pipes and pidfds open: \(open), before the runs: \(before)")
        }

        @Test("the semaphore hands permits out in order and lets a cancelled waiter go")
        func semaphore() async throws {
            let s = AsyncSemaphore(value: 1)
            try await s.wait()
            #expect(s.available == 0)
            let waiter = Task { try await s.wait() }
            while s.waiting == 0 { try await Task.sleep(for: .milliseconds(1)) }
            waiter.cancel()
            await #expect(throws: CancellationError.self) { try await waiter.value }
            #expect(s.waiting == 0)
            let second = Task { try await s.wait() }
            while s.waiting == 0 { try await Task.sleep(for: .milliseconds(1)) }
            s.signal()
            try await second.value
            s.signal()
            #expect(s.available == 1)
        }
    }

    // MARK: - Poll thread

    @Suite("poll thread")
    struct Polling {
        /// Waits until `condition` holds, for at most `limit`.
        func eventually(within limit: Duration = .seconds(3), _ condition: () -> Bool) async throws -> Bool {
            let deadline = ContinuousClock.now + limit
            while !condition() {
                if ContinuousClock.now > deadline { return false }
                try await Task.sleep(for: .milliseconds(2))
            }
            return true
        }

        /// A pipe: (read end, write end), both close-on-exec.
        func pipe() throws -> (CInt, CInt) {
            var fds: [CInt] = [-1, -1]
            guard cnl_pipe_cloexec(&fds) == 0 else { throw Errno(rawValue: errno) }
            return (fds[0], fds[1])
        }

        func isOpen(_ fd: CInt) -> Bool { fcntl(fd, F_GETFD) >= 0 }

        @Test("a handler runs when its descriptor is readable; unwatch closes it only once it is out of the poll set")
        func watchAndUnwatch() async throws {
            let thread = try PollThread(name: "kadt-poll")
            defer { thread.stop() }
            let (r, w) = try pipe()
            defer { close(w) }
            let seen = Mutex((bytes: [UInt8](), closed: false, calledAfterClose: false))
            let watch = thread.watch(r) { _ in
                var b: UInt8 = 0
                let n = read(r, &b, 1)
                seen.withLock { s in
                    if s.closed { s.calledAfterClose = true }
                    if n == 1 { s.bytes.append(b) }
                }
                return .keep
            }
            var byte: UInt8 = 7
            #expect(write(w, &byte, 1) == 1)
            byte = 8
            #expect(write(w, &byte, 1) == 1)
            #expect(try await eventually { seen.withLock { $0.bytes } == [7, 8] })
            thread.unwatch(watch) {
                close(r)
                seen.withLock { $0.closed = true }
            }
            #expect(try await eventually { seen.withLock { $0.closed } })
            #expect(!isOpen(r))
            try await Task.sleep(for: .milliseconds(20))
            #expect(!seen.withLock { $0.calledAfterClose })
        }

        @Test("a handler that returns .remove after closing its descriptor is not called again")
        func handlerRemoves() async throws {
            let thread = try PollThread(name: "kadt-poll")
            defer { thread.stop() }
            let (r, w) = try pipe()
            let calls = Atomic<Int>(0)
            let seen = Atomic<Int16>(0)
            thread.watch(r) { events in
                calls.add(1, ordering: .relaxed)
                seen.store(events, ordering: .relaxed)
                close(r)
                return .remove
            }
            close(w)  // end-of-file: readable for good, so a handler left in place would run again and again
            #expect(try await eventually { calls.load(ordering: .relaxed) == 1 })
            try await Task.sleep(for: .milliseconds(30))
            let (count, events) = (calls.load(ordering: .relaxed), seen.load(ordering: .relaxed))
            #expect(count == 1)
            #expect(events & Int16(POLLHUP) != 0)
        }

        @Test("timers run in deadline order, a cancelled one never, a repeating one until cancelled")
        func timers() async throws {
            let thread = try PollThread(name: "kadt-poll")
            defer { thread.stop() }
            let order = Mutex<[String]>([])
            let start = ContinuousClock.now
            thread.schedule(after: .milliseconds(60)) { order.withLock { $0.append("60") } }
            thread.schedule(after: .milliseconds(20)) { order.withLock { $0.append("20") } }
            let cancelled = thread.schedule(after: .milliseconds(40)) { order.withLock { $0.append("40") } }
            thread.cancel(cancelled)
            thread.execute { order.withLock { $0.append("now") } }
            let ticks = Atomic<Int>(0)
            let repeating = thread.schedule(after: .milliseconds(5), repeating: .milliseconds(5)) { ticks.add(1, ordering: .relaxed) }
            #expect(try await eventually { order.withLock { $0.count } == 3 })
            #expect(ContinuousClock.now - start >= .milliseconds(60))
            #expect(order.withLock { $0 } == ["now", "20", "60"])
            #expect(try await eventually { ticks.load(ordering: .relaxed) >= 3 })
            let stopped = Atomic<Bool>(false)
            thread.cancel(repeating)
            thread.execute { stopped.store(true, ordering: .relaxed) }
            #expect(try await eventually { stopped.load(ordering: .relaxed) })
            let after = ticks.load(ordering: .relaxed)
            try await Task.sleep(for: .milliseconds(30))
            let later = ticks.load(ordering: .relaxed)
            #expect(later == after)
        }

        @Test("stop applies the changes queued before it, then ends the thread")
        func stop() async throws {
            let thread = try PollThread(name: "kadt-poll")
            let (r, w) = try pipe()
            defer { close(w) }
            let watch = thread.watch(r) { _ in .keep }
            let closed = Atomic<Bool>(false)
            thread.unwatch(watch) {
                close(r)
                closed.store(true, ordering: .relaxed)
            }
            thread.stop()
            let wasClosed = closed.load(ordering: .relaxed)
            #expect(wasClosed)
            thread.stop()
        }

        @Test("pipes watched and unwatched from many tasks at once: each is closed once, after its last call")
        func manyAtOnce() async throws {
            final class Counters: Sendable {
                let lateCalls = Atomic<Int>(0)
                let closed = Atomic<Int>(0)
            }
            final class Flag: Sendable {
                let value = Atomic<Bool>(false)
            }
            let thread = try PollThread(name: "kadt-poll")
            defer { thread.stop() }
            let counters = Counters()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in 0..<8 {
                    group.addTask {
                        for round in 0..<125 {
                            var fds: [CInt] = [-1, -1]
                            guard cnl_pipe_cloexec(&fds) == 0 else { throw Errno(rawValue: errno) }
                            let (r, w) = (fds[0], fds[1])
                            let closed = Flag()
                            let watch = thread.watch(r) { _ in
                                if closed.value.load(ordering: .acquiring) { counters.lateCalls.add(1, ordering: .relaxed) }
                                var b: UInt8 = 0
                                _ = read(r, &b, 1)
                                return .keep
                            }
                            var byte = UInt8(truncatingIfNeeded: round)
                            _ = write(w, &byte, 1)
                            if (task + round) % 2 == 0 { await Task.yield() }
                            thread.unwatch(watch) {
                                closed.value.store(true, ordering: .releasing)
                                close(r)
                                counters.closed.add(1, ordering: .relaxed)
                            }
                            close(w)
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await eventually { counters.closed.load(ordering: .relaxed) == 1000 })
            let lateCalls = counters.lateCalls.load(ordering: .relaxed)
            #expect(lateCalls == 0, "no handler ran after its descriptor was closed")
        }

        @Test("timeouts round up to the millisecond")
        func rounding() {
            let now = SuspendingClock.now
            #expect(PollThread.milliseconds(from: now, to: now) == 0)
            #expect(PollThread.milliseconds(from: now, to: now - .seconds(1)) == 0)
            #expect(PollThread.milliseconds(from: now, to: now + .microseconds(1)) == 1)
            #expect(PollThread.milliseconds(from: now, to: now + .milliseconds(1500)) == 1500)
            #expect(PollThread.milliseconds(from: now, to: now + .seconds(1) + .nanoseconds(1)) == 1001)
            #expect(PollThread.milliseconds(from: now, to: now + .seconds(100_000_000)) == CInt.max)
        }
    }

    // MARK: - Script security

    @Suite("script security")
    struct Security {
        let root = ScriptIdentity(userName: "root", uid: 0, gid: 0)

        @Test("a safe path passes and is resolved")
        func safe() throws {
            let dir = try HostScratch()
            defer { dir.remove() }
            let path = try dir.file("bin/check.sh", "#!/bin/sh\n")
            let inspection = ScriptSecurity.check(executable: path, runningAs: root)
            #expect(inspection.finding == nil)
            #expect(inspection.resolvedPath == path)
        }

        @Test("a world-writable directory on the path is named")
        func worldWritableDirectory() throws {
            let dir = try HostScratch()
            defer { dir.remove() }
            let open = try dir.directory("open", mode: 0o777)
            let path = try dir.file("open/inner/check.sh", "#!/bin/sh\n")
            let finding = try #require(ScriptSecurity.check(executable: path, runningAs: root).finding)
            #expect(finding.component == open)
            #expect(finding.problem == .writableByEveryone(mode: 0o777))
            #expect(finding.description == "\(path) must not run as root: \(open) is writable by everyone (mode 0777); fix with `chmod o-w \(open)`")
        }

        @Test("a group-writable script is named")
        func groupWritableFile() throws {
            let dir = try HostScratch()
            defer { dir.remove() }
            let path = try dir.file("check.sh", "#!/bin/sh\n", mode: 0o775)
            chown(path, 0, 65534)
            let finding = try #require(ScriptSecurity.check(executable: path, runningAs: root).finding)
            #expect(finding.component == path)
            #expect(finding.problem == .writableByGroup(gid: 65534, mode: 0o775))
            chown(path, 0, 0)
            #expect(ScriptSecurity.check(executable: path, runningAs: root).finding == nil, "root's group may write")
        }

        @Test("a script owned by another user: refused for root, fine for that user")
        func ownedByOtherUser() throws {
            let dir = try HostScratch()
            defer { dir.remove() }
            let path = try dir.file("check.sh", "#!/bin/sh\n", mode: 0o555)
            chown(path, 65534, 65534)
            let finding = try #require(ScriptSecurity.check(executable: path, runningAs: root).finding)
            #expect(finding.problem == .ownedByOtherUser(uid: 65534))
            let nobody = ScriptIdentity(userName: "nobody", uid: 65534, gid: 65534)
            #expect(ScriptSecurity.check(executable: path, runningAs: nobody).finding == nil)
        }

        @Test("a symbolic link is followed, and the unsafe directory behind it is named")
        func symlinkToUnsafe() throws {
            let dir = try HostScratch()
            defer { dir.remove() }
            let open = try dir.directory("open", mode: 0o777)
            let real = try dir.file("open/real.sh", "#!/bin/sh\n")
            try dir.directory("safe")
            let link = "\(dir.path)/safe/link.sh"
            try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "../open/real.sh")
            let inspection = ScriptSecurity.check(executable: link, runningAs: root)
            let finding = try #require(inspection.finding)
            #expect(finding.component == open)
            #expect(finding.symlink == link)
            #expect(finding.description.contains("(reached through the symbolic link \(link))"))
            chmod(open, 0o755)
            let fixed = ScriptSecurity.check(executable: link, runningAs: root)
            #expect(fixed.finding == nil)
            #expect(fixed.resolvedPath == real)
        }

        @Test("a link inside an unsafe directory is refused even when its target is safe")
        func symlinkInUnsafeDirectory() throws {
            let dir = try HostScratch()
            defer { dir.remove() }
            let target = try dir.file("safe/real.sh", "#!/bin/sh\n")
            let open = try dir.directory("open", mode: 0o777)
            try FileManager.default.createSymbolicLink(atPath: "\(open)/link.sh", withDestinationPath: target)
            let finding = try #require(ScriptSecurity.check(executable: "\(open)/link.sh", runningAs: root).finding)
            #expect(finding.component == open)
        }

        @Test("a sticky world-writable directory is fine for an entry root owns")
        func sticky() throws {
            let dir = try HostScratch()
            defer { dir.remove() }
            try dir.directory("tmp", mode: 0o1777)
            let path = try dir.file("tmp/check.sh", "#!/bin/sh\n")
            #expect(ScriptSecurity.check(executable: path, runningAs: root).finding == nil)
            chown(path, 65534, 65534)
            #expect(ScriptSecurity.check(executable: path, runningAs: root).finding?.problem == .ownedByOtherUser(uid: 65534))
        }

        @Test("a symbolic link loop is reported")
        func loop() throws {
            let dir = try HostScratch()
            defer { dir.remove() }
            try FileManager.default.createSymbolicLink(atPath: "\(dir.path)/a", withDestinationPath: "b")
            try FileManager.default.createSymbolicLink(atPath: "\(dir.path)/b", withDestinationPath: "a")
            #expect(ScriptSecurity.check(executable: "\(dir.path)/a", runningAs: root).finding?.problem == .tooManySymbolicLinks)
        }

        @Test("enable_script_security refuses; without it the finding comes back as a warning")
        func enforcement() throws {
            let dir = try HostScratch()
            defer { dir.remove() }
            let open = try dir.directory("open", mode: 0o757)
            let path = try dir.file("open/check.sh", "#!/bin/sh\n")
            let line = ScriptCommandLine(arguments: [path, "arg"])
            do {
                _ = try Script.prepare(name: "vrrp_script chk", commandLine: line, identity: root, enforceSecurity: true)
                Issue.record("an unsafe script was accepted")
            } catch {
                guard case .insecure(let f) = error else { Issue.record("\(error)"); return }
                #expect(f.component == open)
                #expect(f.problem == .writableByEveryone(mode: 0o757))
            }
            let lax = try Script.prepare(name: "vrrp_script chk", commandLine: line, identity: root, enforceSecurity: false)
            #expect(lax.securityWarning?.component == open)
            #expect(lax.executable == path)
        }
    }

    // MARK: - Track files

    @Suite("track_file values")
    struct TrackFileValues {
        @Test("contents are read as keepalived 2.2.7 reads them", arguments: [
            ("5", TrackedFileReading.Value.number(5), nil as TrackedFileReading.Note?),
            ("7\n", .number(7), nil),
            ("", .number(0), .empty),
            ("abc", .number(0), .notANumber),
            ("12abc", .number(12), nil),
            (" \t9", .number(9), nil),
            ("0x10", .number(16), nil),
            ("0X1f", .number(31), nil),
            ("010", .number(8), nil),
            ("08", .number(0), nil),
            ("0x", .number(0), nil),
            ("-5", .number(-5), nil),
            ("+3", .number(3), nil),
            ("-", .number(0), .notANumber),
            ("2147483647", .number(2_147_483_647), nil),
            ("-2147483648", .number(-2_147_483_648), nil),
            ("2147483648", .ignored("2147483648"), nil),
            ("99999999999", .ignored("99999999999"), nil),
            ("99999999999999999999999", .ignored("9223372036854775807"), nil),
            ("-99999999999999999999999", .ignored("-9223372036854775808"), nil),
        ])
        func parse(_ text: String, _ value: TrackedFileReading.Value, _ note: TrackedFileReading.Note?) {
            let r = TrackedFileReading.parse(Array(text.utf8), path: "/f")
            #expect(r.value == value)
            #expect(r.note == note)
        }

        @Test("messages")
        func messages() {
            #expect(TrackedFileReading.parse(Array("99999999999".utf8), path: "/tmp/ka/tfile").description
                    == "Invalid number 99999999999 read from /tmp/ka/tfile - ignoring")
            #expect(TrackedFileReading.read("/nonexistent/kadt").description == "/nonexistent/kadt: missing, counts as 0")
        }
    }

    @Suite("track_file watcher")
    struct Watching {
        /// The next reading, or nil after `limit`.
        func next(_ iterator: inout AsyncStream<TrackedFileReading>.Iterator, within limit: Duration = .seconds(2)) async
            -> TrackedFileReading?
        {
            let box = IteratorBox(iterator)
            let r = await withTaskGroup(of: TrackedFileReading?.self) { group in
                group.addTask { await box.next() }
                group.addTask { try? await Task.sleep(for: limit); return nil }
                let first = await group.next()!
                group.cancelAll()
                return first
            }
            iterator = box.iterator
            return r
        }

        final class IteratorBox: @unchecked Sendable {
            var iterator: AsyncStream<TrackedFileReading>.Iterator
            init(_ i: AsyncStream<TrackedFileReading>.Iterator) { iterator = i }
            func next() async -> TrackedFileReading? { await iterator.next() }
        }

        @Test("writes, atomic replacement and deletion are seen within milliseconds")
        func changes() async throws {
            let dir = try HostScratch()
            defer { dir.remove() }
            let path = "\(dir.path)/weight"
            try "5\n".write(toFile: path, atomically: false, encoding: .utf8)
            let watcher = try TrackedFileWatcher(paths: [path])
            defer { watcher.stop() }
            var it = watcher.readings.makeAsyncIterator()
            #expect(await next(&it)?.value == .number(5))

            // Truncate and write in place: one reading at close, no flicker to 0.
            var start = ContinuousClock.now
            try "7".write(toFile: path, atomically: false, encoding: .utf8)
            let written = await next(&it)
            #expect(written?.value == .number(7))
            #expect(ContinuousClock.now - start < .milliseconds(200))

            // Atomic replacement: write elsewhere, rename over.
            start = ContinuousClock.now
            try "-3".write(toFile: "\(dir.path)/weight.new", atomically: false, encoding: .utf8)
            #expect(rename("\(dir.path)/weight.new", path) == 0)
            #expect(await next(&it)?.value == .number(-3))
            #expect(ContinuousClock.now - start < .milliseconds(200))

            start = ContinuousClock.now
            #expect(unlink(path) == 0)
            let deleted = await next(&it)
            #expect(deleted?.value == .number(0))
            #expect(deleted?.note == .missing)
            #expect(ContinuousClock.now - start < .milliseconds(200))

            // Out of range: ignored (the previous value stays), reported for the log.
            try "99999999999".write(toFile: path, atomically: false, encoding: .utf8)
            #expect(await next(&it)?.value == .ignored("99999999999"))
            #expect(watcher.latest(path)?.value == .ignored("99999999999"))
        }

        @Test("a file whose directory appears later, and a directory removed and recreated")
        func missingDirectory() async throws {
            let dir = try HostScratch()
            defer { dir.remove() }
            let sub = "\(dir.path)/later"
            let path = "\(sub)/value"
            let watcher = try TrackedFileWatcher(paths: [path], retryInterval: .milliseconds(20))
            defer { watcher.stop() }
            var it = watcher.readings.makeAsyncIterator()
            #expect(await next(&it)?.note == .missing)
            try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: false)
            try "4".write(toFile: path, atomically: true, encoding: .utf8)
            #expect(await next(&it)?.value == .number(4))
            try FileManager.default.removeItem(atPath: sub)
            #expect(await next(&it)?.note == .missing)
            try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: false)
            try "6".write(toFile: path, atomically: true, encoding: .utf8)
            #expect(await next(&it)?.value == .number(6))
        }

        @Test("several files; an unchanged value is not repeated; stop ends the stream")
        func severalFiles() async throws {
            let dir = try HostScratch()
            defer { dir.remove() }
            let a = "\(dir.path)/a", b = "\(dir.path)/b"
            try "1".write(toFile: a, atomically: false, encoding: .utf8)
            try "2".write(toFile: b, atomically: false, encoding: .utf8)
            let watcher = try TrackedFileWatcher(paths: [a, b])
            var it = watcher.readings.makeAsyncIterator()
            let first = [await next(&it), await next(&it)].compactMap { $0 }
            #expect(Set(first.map(\.path)) == [a, b])
            try "1".write(toFile: a, atomically: false, encoding: .utf8)  // same value
            try "3".write(toFile: b, atomically: false, encoding: .utf8)
            let change = await next(&it)
            #expect(change?.path == b && change?.value == .number(3))
            watcher.stop()
            #expect(await next(&it) == nil)
        }
    }

    // MARK: - Capabilities

    @Suite("capabilities")
    struct Capabilities_ {
        @Test("names and sets")
        func names() {
            #expect(Capability.netRaw.description == "CAP_NET_RAW")
            #expect(Capability.netAdmin.name == "cap_net_admin")
            #expect(Capability(name: "CAP_NET_RAW") == .netRaw)
            #expect(Capability(name: "setuid") == .setUID)
            #expect(Capability(name: "cap_nonsense") == nil)
            let set: CapabilitySet = [.netRaw, .netAdmin]
            #expect(set.description == "CAP_NET_ADMIN,CAP_NET_RAW")
            #expect(set.rawValue == 0x3000)
            #expect(Array(set) == [.netAdmin, .netRaw])
            #expect(CapabilitySet().description == "none")
            #expect(Capabilities.needed(runningScriptsAsOtherUsers: false) == set)
            #expect(Capabilities.needed(runningScriptsAsOtherUsers: true) == [.netAdmin, .netRaw, .setUID, .setGID, .kill])
        }

        @Test("sets are read from a status file")
        func statusParsing() throws {
            let text = "Name:\tkad\nCapInh:\t0000000000000000\nCapPrm:\t00000000000030e0\nCapEff:\t00000000000030e0\n"
                + "CapBnd:\t000001ffffffffff\nCapAmb:\t0000000000000000\nNoNewPrivs:\t0\n"
            let s = try #require(CapabilityState(thread: 7, status: text))
            #expect(s.effective == [.netAdmin, .netRaw, .setUID, .setGID, .kill])
            #expect(s.permitted == s.effective && s.inheritable.isEmpty && s.ambient.isEmpty)
            #expect(CapabilityState(thread: 7, status: "Name:\tx\n") == nil)
        }

        @Test("the startup error says which capability is missing and how to grant it")
        func missingMessage() {
            let e = CapabilityError.missing([.vrrpSockets], executable: "/usr/sbin/kad", runningAsRoot: false)
            #expect(e.description == "kad needs CAP_NET_RAW to open VRRP sockets: run as root or `setcap cap_net_admin,cap_net_raw+ep /usr/sbin/kad`")
            let both = CapabilityError.missing(CapabilityRequirement.daemon, executable: "/usr/sbin/kad", runningAsRoot: false)
            #expect(both.description.hasPrefix("kad needs CAP_NET_ADMIN to add virtual addresses, routes and VMAC interfaces and CAP_NET_RAW to open VRRP sockets"))
            let container = CapabilityError.missing([.vrrpSockets], executable: "/usr/sbin/kad", runningAsRoot: true)
            #expect(container.description == "kad runs as root but lacks CAP_NET_RAW to open VRRP sockets: the capability is not in its bounding set; in a container, grant it (for example `docker run --cap-add=NET_RAW`), under systemd check CapabilityBoundingSet=")
        }

        @Test("as root, the daemon's capabilities are there")
        func checkAsRoot() throws {
            guard geteuid() == 0 else { return }
            try Capabilities.check(executable: "/usr/sbin/kad")
            #expect(try Capabilities.allThreads().count >= 1)
        }

        /// Runs this test binary again with only `helper` selected and `KAD_HOST_CAPS_HELPER`
        /// set; returns what the helper wrote.
        func runHelper(_ test: String) throws -> [String: String] {
            let out = "/tmp/kadt-host-caps-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            defer { unlink(out) }
            let exe = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
            let p = Process()
            p.executableURL = URL(fileURLWithPath: exe)
            p.arguments = ["--testing-library", "swift-testing", "--filter", test]
            var env = ProcessInfo.processInfo.environment
            env["KAD_HOST_CAPS_HELPER"] = out
            p.environment = env
            let pipe = Pipe()
            p.standardOutput = pipe
            p.standardError = pipe
            try p.run()
            let log = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            #expect(p.terminationStatus == 0, "helper failed: \(log)")
            let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
            var values: [String: String] = [:]
            for line in text.split(separator: "\n") {
                let kv = line.split(separator: "=", maxSplits: 1)
                if kv.count == 2 { values[String(kv[0])] = String(kv[1]) }
            }
            if values.isEmpty { Issue.record("the helper wrote nothing: \(log)") }
            return values
        }

        @Test("capabilities are dropped as promised, on every thread (in a child process; root needed)")
        func dropped() throws {
            guard Integration.available() else { return }
            let v = try runHelper("capabilityHelper")
            #expect(v["error"] == nil, "\(v["error"] ?? "")")
            let kept = "0x" + String(Capabilities.needed(runningScriptsAsOtherUsers: true).rawValue, radix: 16)
            #expect(v["kept"] == kept)
            #expect(Int(v["threads"] ?? "0") ?? 0 >= 2, "the helper had several threads: \(v["threads"] ?? "")")
            #expect(v["all-threads"] == "ok", "\(v["all-threads"] ?? "")")
            #expect(v["bounding-limited"] == "true")
            // A script run as nobody has no capabilities at all.
            #expect(v["nobody"] == "CapInh:0000000000000000 CapPrm:0000000000000000 CapEff:0000000000000000 CapAmb:0000000000000000")
            // A script run as root gets the bounding set, which is now the kept set.
            #expect(v["root-bounding"] == String(format: "%016llx", Capabilities.needed(runningScriptsAsOtherUsers: true).rawValue))
            // capsh sees the same.
            #expect(v["capsh-bounding"] == "cap_kill,cap_setgid,cap_setuid,cap_net_admin,cap_net_raw")
            // Reducing further, then checking, names the missing capability.
            #expect(v["check"] == "kad runs as root but lacks CAP_NET_RAW to open VRRP sockets: the capability was dropped from its effective set")
        }

        /// Not a test on its own: does the work of `dropped()` when run as its child process.
        @Test("capability helper (does nothing unless run by the test above)")
        func capabilityHelper() async throws {
            guard let out = ProcessInfo.processInfo.environment["KAD_HOST_CAPS_HELPER"] else { return }
            var lines: [String] = []
            defer { try? lines.joined(separator: "\n").write(toFile: out, atomically: true, encoding: .utf8) }
            do {
                // Make sure other threads exist before the change.
                await withTaskGroup(of: Void.self) { g in for _ in 0..<4 { g.addTask { try? await Task.sleep(for: .milliseconds(5)) } } }
                let keep = Capabilities.needed(runningScriptsAsOtherUsers: true)
                let report = try Capabilities.restrict(to: keep, limitBoundingSet: true)
                lines.append("kept=0x" + String(report.kept.rawValue, radix: 16))
                lines.append("threads=\(report.threads)")
                lines.append("bounding-limited=\(report.boundingSetLimited)")
                let states = try Capabilities.allThreads()
                let bad = states.filter { $0.effective != keep || $0.permitted != keep || !$0.bounding.isSubset(of: keep) }
                lines.append("all-threads=" + (bad.isEmpty ? "ok" : bad.map(\.description).joined(separator: "; ")))

                let runner = ScriptRunner()
                let status = Script(name: "status", commandLine: ScriptCommandLine(arguments: ["cat", "/proc/self/status"]),
                                    executable: "/usr/bin/cat", identity: try ScriptIdentity.lookup(user: "nobody"))
                let asNobody = try await runner.run(status)
                let caps = asNobody.standardOutput.split(separator: "\n").filter {
                    $0.hasPrefix("CapInh") || $0.hasPrefix("CapPrm") || $0.hasPrefix("CapEff") || $0.hasPrefix("CapAmb")
                }
                lines.append("nobody=" + caps.map { $0.replacingOccurrences(of: "\t", with: "") }.joined(separator: " "))
                var asRoot = status
                asRoot.identity = try ScriptIdentity.current()
                let rootStatus = try await runner.run(asRoot).standardOutput
                let bnd = rootStatus.split(separator: "\n").first { $0.hasPrefix("CapBnd") }.map { String($0.dropFirst(8)) } ?? ""
                lines.append("root-bounding=\(bnd)")
                let capsh = Script(name: "capsh", commandLine: ScriptCommandLine(arguments: ["capsh", "--print"]),
                                   executable: "/usr/sbin/capsh", identity: try ScriptIdentity.current())
                let printed = try await runner.run(capsh).standardOutput
                let bounding = printed.split(separator: "\n").first { $0.hasPrefix("Bounding set =") }.map { String($0.dropFirst(14)) } ?? ""
                lines.append("capsh-bounding=\(bounding)")

                try Capabilities.restrict(to: [.netAdmin], limitBoundingSet: false)
                do {
                    try Capabilities.check(executable: "/usr/sbin/kad")
                    lines.append("check=passed")
                } catch {
                    lines.append("check=\(error)")
                }
            } catch {
                lines.append("error=\(error)")
            }
        }

        @Test("asking to keep a capability the process lacks is refused before anything changes")
        func cannotKeep() throws {
            guard geteuid() != 0 else {
                // As root every capability is permitted; check the message instead.
                #expect(CapabilityError.cannotKeep([.netRaw]).description == "cannot keep CAP_NET_RAW: kad does not have it")
                return
            }
            #expect(throws: CapabilityError.self) { try Capabilities.restrict(to: CapabilitySet.all, limitBoundingSet: false) }
        }
    }

    // MARK: - System-call failures

    @Suite("system-call failures")
    struct Failures {
        @Test("a thread that cannot apply the change is reported; nothing else happens")
        func applyFails() throws {
            var calls = SystemCalls.live
            calls.applyCapabilities = { _, _, _, _, _, outcome in
                outcome.pointee.failed_tid = 4242
                outcome.pointee.failed_step = 3
                return EPERM
            }
            let before = try Capabilities.current()
            SystemCalls.withOverride(calls) {
                #expect(throws: CapabilityError.applyFailed(step: "capset", thread: 4242, .notPermitted)) {
                    try Capabilities.restrict(to: before.permitted, limitBoundingSet: false)
                }
            }
            #expect(try Capabilities.current() == before)
            #expect(CapabilityError.applyFailed(step: "capset", thread: 4242, .notPermitted).description
                    == "changing capabilities (capset) failed on thread 4242: operation not permitted")
        }

        @Test("no pipe for the output: a launch error, nothing started")
        func pipeFails() async throws {
            var calls = SystemCalls.live
            calls.pipe = { _ in errno = EMFILE; return -1 }
            let script = try hostScript("/bin/true")
            await SystemCalls.withOverride(calls) {
                await #expect(throws: ScriptLaunchError.pipe(.tooManyOpenFiles)) { try await ScriptRunner().run(script) }
            }
        }

        @Test("a refused user switch names the step and the missing privilege")
        func switchRefused() async throws {
            var calls = SystemCalls.live
            calls.spawn = { _, result in
                result.pointee.failed_step = 6
                return EPERM
            }
            let script = Script(name: "vrrp_script chk", commandLine: ScriptCommandLine(arguments: ["/usr/local/bin/chk"]),
                                executable: "/usr/local/bin/chk", identity: ScriptIdentity(userName: "nobody", uid: 65534, gid: 65534))
            await SystemCalls.withOverride(calls) {
                await #expect {
                    _ = try await ScriptRunner().run(script)
                } throws: { error in
                    "\(error)" == "starting vrrp_script chk (/usr/local/bin/chk) as nobody: setresuid: operation not permitted "
                        + "(switching user needs CAP_SETUID and CAP_SETGID)"
                }
            }
        }

        @Test("without a pidfd the exit is found by polling")
        func noPidfd() async throws {
            var calls = SystemCalls.live
            calls.spawn = { request, result in
                let r = cnl_spawn(request, result)
                if r == 0, result.pointee.pidfd >= 0 {
                    close(result.pointee.pidfd)
                    result.pointee.pidfd = -1
                }
                return r
            }
            let dir = try HostScratch()
            defer { dir.remove() }
            let path = try dir.file("three.sh", "#!/bin/sh\necho polled\nexit 3\n")
            let script = try hostScript(path)
            let result = try await SystemCalls.withOverride(calls) { try await ScriptRunner().run(script) }
            #expect(result.status == .exited(3))
            #expect(result.standardOutput == "polled\n")
            #expect(waitpid(result.processID, nil, WNOHANG) == -1 && errno == ECHILD)
        }

        @Test("inotify unavailable: the watcher says so")
        func inotifyFails() {
            var calls = SystemCalls.live
            calls.inotifyInit = { _ in errno = EMFILE; return -1 }
            SystemCalls.withOverride(calls) {
                #expect {
                    _ = try TrackedFileWatcher(paths: ["/tmp/x"])
                } throws: { error in
                    "\(error)".hasPrefix("watching track files (inotify_init1): ")
                }
            }
        }

        @Test("an unreadable track file counts as 0 and says why")
        func unreadable() {
            var calls = SystemCalls.live
            let live = SystemCalls.live.open
            calls.open = { path, flags in
                if String(cString: path).hasSuffix("kadt-unreadable") { errno = EACCES; return -1 }
                return live(path, flags)
            }
            SystemCalls.withOverride(calls) {
                let r = TrackedFileReading.read("/tmp/kadt-unreadable")
                #expect(r.value == .number(0))
                #expect(r.note == .unreadable(.permissionDenied))
            }
        }

        @Test("a failing user database is an error, not 'no such user'")
        func userDatabaseFails() {
            var calls = SystemCalls.live
            calls.getpwnam = { _, _, _, _, result in result.pointee = nil; return EIO }
            SystemCalls.withOverride(calls) {
                #expect(throws: ScriptUserError.lookupFailed("nobody", .ioError)) { try ScriptIdentity.lookup(user: "nobody") }
            }
        }

        @Test("a path component that cannot be examined is named")
        func lstatFails() throws {
            let dir = try HostScratch()
            defer { dir.remove() }
            let path = try dir.file("hidden/check.sh", "#!/bin/sh\n")
            var calls = SystemCalls.live
            let live = SystemCalls.live.lstat
            calls.lstat = { p, st in
                if String(cString: p).hasSuffix("/hidden") { errno = EACCES; return -1 }
                return live(p, st)
            }
            SystemCalls.withOverride(calls) {
                let finding = ScriptSecurity.check(executable: path, runningAs: ScriptIdentity(userName: "root", uid: 0, gid: 0)).finding
                #expect(finding?.component == "\(dir.path)/hidden")
                #expect(finding?.problem == .cannotInspect(.permissionDenied))
            }
        }
    }
}
}
