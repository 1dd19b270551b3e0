import ConfigDSL
import Foundation
import NetLinux
import Synchronization
import IntegrationSupport
import Testing
import VRRPCore

@testable import kad

// MARK: - Helpers shared with ScriptTrackerTests

/// A scratch directory under /tmp (mode 0755, so scripts in it pass the security check),
/// removed by `remove()`.
final class RunScratch: @unchecked Sendable {
    let path: String

    init() throws {
        var template = Array("/tmp/kadt-run-XXXXXX".utf8CString)
        guard let p = mkdtemp(&template) else { throw POSIXError(.EIO) }
        path = String(cString: p)
        chmod(path, 0o755)
    }

    /// Writes a file (executable by default) and returns its path.
    @discardableResult
    func file(_ name: String, _ text: String, mode: mode_t = 0o755) throws -> String {
        let p = "\(path)/\(name)"
        try text.write(toFile: p, atomically: false, encoding: .utf8)
        chmod(p, mode)
        return p
    }

    /// The contents of a file in the directory, or nil.
    func read(_ name: String) -> String? { try? String(contentsOfFile: "\(path)/\(name)", encoding: .utf8) }

    /// The lines of a file in the directory (empty when missing).
    func lines(_ name: String) -> [String] {
        (read(name) ?? "").split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Loads configuration text without looking at the host's interfaces or script files.
func loadRunConfig(_ text: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) -> KeepalivedConfig {
    var options = ConfigLoader.Options()
    options.preprocessor = PreprocessorOptions(configID: "node1")
    options.decode = DecodeOptions(unknownKeywordSeverity: .error)
    options.host = HostEnvironment(interfaceExists: nil, inspectScriptFiles: false)
    let loaded = ConfigLoader(options: options).load(text: text, name: "t.conf")
    #expect(loaded.errors.isEmpty, "\(loaded.errors)", sourceLocation: sourceLocation)
    return loaded.config
}

/// A vrrp_instance block with extra lines.
func runInstance(_ name: String = "VI_1", vrid: Int = 51, _ extra: String = "") -> String {
    """
    vrrp_instance \(name) {
        interface eth0
        virtual_router_id \(vrid)
        virtual_ipaddress {
            192.0.2.100/24
        }
    \(extra)
    }

    """
}

/// `global_defs` with script security on and scripts run as root, plus extra lines.
func runGlobals(_ extra: String = "") -> String {
    """
    global_defs {
        enable_script_security
        script_user root
    \(extra)
    }

    """
}

/// Waits until `condition` holds, polling every 10 ms, for at most `limit`.
func eventually(within limit: Duration = .seconds(5), _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

/// Collects log lines.
final class LogLines: Sendable {
    let lines = Mutex<[String]>([])
    var record: @Sendable (String) -> Void { { [self] l in lines.withLock { $0.append(l) } } }
    var all: [String] { lines.withLock { $0 } }
    func contains(_ s: String) -> Bool { all.contains { $0.contains(s) } }
}

/// Whether process `pid` still exists (and is not a zombie).
func processAlive(_ pid: pid_t) -> Bool {
    guard kill(pid, 0) == 0 else { return false }
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else {
        return false
    }
    return stat[stat.index(close, offsetBy: 2)] != "Z"
}

// MARK: - FIFO reading

/// The read end of a FIFO, opened without blocking.
final class FIFOReader {
    let fd: CInt
    private var pending = ""

    init(_ path: String) throws {
        fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        if fd < 0 { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    }

    deinit { close(fd) }

    /// Complete lines read until `count` are in, or `limit` passes.
    func lines(_ count: Int, within limit: Duration = .seconds(5)) async -> [String] {
        var out: [String] = []
        let deadline = ContinuousClock.now + limit
        var buffer = [UInt8](repeating: 0, count: 65536)
        while out.count < count, ContinuousClock.now < deadline {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n > 0 {
                pending += String(decoding: buffer[0..<n], as: UTF8.self)
                while let nl = pending.firstIndex(of: "\n") {
                    out.append(String(pending[..<nl]))
                    pending = String(pending[pending.index(after: nl)...])
                }
            } else {
                try? await Task.sleep(for: .milliseconds(5))
            }
        }
        return out
    }
}

// MARK: - Tests

extension HostAccessSuites {
    @Suite("Notifier")
    struct NotifierTests {
        /// A plan with default-identity lookups that never depend on this host's users.
        static func plan(_ text: String) -> (NotifyPlan, ScriptPreparer) {
            let config = loadRunConfig(text)
            var scripts = ScriptPreparer(globalDefs: config.globalDefs)
            let plan = NotifyPlan(config: config, scripts: &scripts)
            return (plan, scripts)
        }

        static func fastConfiguration() -> Notifier.Configuration {
            var c = Notifier.Configuration()
            c.runner.terminationGracePeriod = .milliseconds(300)
            c.scriptGracePeriod = .seconds(3)
            c.drainTime = .seconds(2)
            return c
        }

        // MARK: Plan and dispatch (no I/O beyond preparing scripts)

        @Test("FIFO lines have keepalived's exact format")
        func fifoFormat() {
            let (plan, _) = Self.plan(runGlobals("vrrp_notify_priority_changes") + runInstance())
            #expect(plan.dispatch(.instance("VI_1", .master, priority: 100)).fifoLine == "INSTANCE \"VI_1\" MASTER 100\n")
            #expect(plan.dispatch(.instance("VI_1", .backup, priority: 254)).fifoLine == "INSTANCE \"VI_1\" BACKUP 254\n")
            #expect(plan.dispatch(.instance("VI_1", .stop, priority: 1)).fifoLine == "INSTANCE \"VI_1\" STOP 1\n")
            #expect(plan.dispatch(.group("VG_1", .backup)).fifoLine == "GROUP \"VG_1\" BACKUP 0\n")
            #expect(plan.dispatch(.group("VG_1", .fault)).fifoLine == "GROUP \"VG_1\" FAULT 0\n")
            #expect(plan.dispatch(.masterReceivedLowerPriority("VI_1", priority: 100)).fifoLine
                == "INSTANCE \"VI_1\" MASTER_RX_LOWER_PRI 100\n")
            #expect(plan.dispatch(.priorityChanged("VI_1", master: true, priority: 90)).fifoLine == "INSTANCE \"VI_1\" MASTER_PRIORITY 90\n")
            #expect(plan.dispatch(.priorityChanged("VI_1", master: false, priority: 80)).fifoLine
                == "INSTANCE \"VI_1\" BACKUP_PRIORITY 80\n")
            #expect(NotifyState.allCases.map(\.rawValue) == ["MASTER", "BACKUP", "FAULT", "STOP", "DELETED"])
        }

        @Test("scripts in keepalived's order: notify_<state>, then notify with INSTANCE NAME STATE PRIORITY")
        func dispatchScripts() throws {
            let dir = try RunScratch()
            defer { dir.remove() }
            let s = try dir.file("n.sh", "#!/bin/sh\n")
            let (plan, scripts) = Self.plan(runGlobals() + runInstance("VI_1", """
                    notify_master "\(s) master 'two words'"
                    notify_backup \(s)
                    notify_fault \(s)
                    notify_stop \(s)
                    notify \(s)
                    notify_master_rx_lower_pri "\(s) lower"
                """) + """
                vrrp_sync_group VG_1 {
                    group { VI_1 }
                    notify_master "\(s) gmaster"
                    notify "\(s) g"
                }
                """)
            #expect(scripts.problems.isEmpty, "\(scripts.problems)")
            let master = plan.dispatch(.instance("VI_1", .master, priority: 100))
            #expect(master.launches.map(\.script.name) == ["notify_master VI_1", "notify VI_1"])
            #expect(master.launches.map(\.script.commandLine.arguments) == [[s, "master", "two words"], [s]])
            #expect(master.launches.map(\.arguments) == [[], ["INSTANCE", "VI_1", "MASTER", "100"]])

            let fault = plan.dispatch(.instance("VI_1", .fault, priority: 90))
            #expect(fault.launches.map(\.script.name) == ["notify_fault VI_1", "notify VI_1"])
            #expect(fault.launches.last?.arguments == ["INSTANCE", "VI_1", "FAULT", "90"])

            let group = plan.dispatch(.group("VG_1", .master))
            #expect(group.launches.map(\.script.name) == ["notify_master VG_1", "notify VG_1"])
            #expect(group.launches.last?.arguments == ["GROUP", "VG_1", "MASTER", "0"])
            // A group state without its own script: only the generic one.
            #expect(plan.dispatch(.group("VG_1", .backup)).launches.map(\.script.name) == ["notify VG_1"])

            let lower = plan.dispatch(.masterReceivedLowerPriority("VI_1", priority: 100))
            #expect(lower.launches.map(\.script.name) == ["notify_master_rx_lower_pri VI_1"])
            #expect(lower.launches.map(\.arguments) == [[]])

            // Priority changes never run scripts; without notify_priority_changes they write nothing.
            #expect(plan.dispatch(.priorityChanged("VI_1", master: true, priority: 90)) == NotifyPlan.Dispatch())
            // An unknown instance still gets its FIFO line, and nothing runs.
            let unknown = plan.dispatch(.instance("VI_9", .master, priority: 7))
            #expect(unknown.fifoLine == "INSTANCE \"VI_9\" MASTER 7\n")
            #expect(unknown.launches.isEmpty)
        }

        @Test("DELETED is reported as FAULT unless notify_deleted is set")
        func deleted() throws {
            let dir = try RunScratch()
            defer { dir.remove() }
            let s = try dir.file("n.sh", "#!/bin/sh\n")
            let (plan, scripts) = Self.plan(runGlobals()
                + runInstance("VI_1", vrid: 1, "notify_fault \(s)\nnotify \(s)")
                + runInstance("VI_2", vrid: 2, "notify_fault \(s)\nnotify \(s)\nnotify_deleted")
                + runInstance("VI_3", vrid: 3, "notify_deleted \"\(s) gone\"\nnotify \(s)"))
            #expect(scripts.problems.isEmpty, "\(scripts.problems)")

            let one = plan.dispatch(.instance("VI_1", .deleted, priority: 100))
            #expect(one.fifoLine == "INSTANCE \"VI_1\" FAULT 100\n")
            #expect(one.launches.map(\.script.name) == ["notify_fault VI_1", "notify VI_1"])
            #expect(one.launches.last?.arguments == ["INSTANCE", "VI_1", "FAULT", "100"])

            let two = plan.dispatch(.instance("VI_2", .deleted, priority: 100))
            #expect(two.fifoLine == "INSTANCE \"VI_2\" DELETED 100\n")
            #expect(two.launches.map(\.script.name) == ["notify VI_2"])
            #expect(two.launches.last?.arguments == ["INSTANCE", "VI_2", "DELETED", "100"])

            let three = plan.dispatch(.instance("VI_3", .deleted, priority: 100))
            #expect(three.launches.map(\.script.name) == ["notify_deleted VI_3", "notify VI_3"])
            #expect(three.launches.first?.script.commandLine.arguments == [s, "gone"])
        }

        @Test("notify_priority_changes: instance, else its sync group, else vrrp_notify_priority_changes")
        func priorityChanges() {
            let text = runGlobals("vrrp_notify_priority_changes")
                + runInstance("VI_1", vrid: 1)
                + runInstance("VI_2", vrid: 2, "notify_priority_changes off")
                + runInstance("VI_3", vrid: 3)
                + runInstance("VI_4", vrid: 4, "notify_priority_changes on")
                + "vrrp_sync_group VG_1 {\n group { VI_3 VI_4 }\n notify_priority_changes off\n}\n"
            let (plan, _) = Self.plan(text)
            let on = ["VI_1", "VI_4"].filter { plan.dispatch(.priorityChanged($0, master: false, priority: 1)).fifoLine != nil }
            #expect(on == ["VI_1", "VI_4"])
            #expect(plan.dispatch(.priorityChanged("VI_2", master: false, priority: 1)).fifoLine == nil)
            #expect(plan.dispatch(.priorityChanged("VI_3", master: true, priority: 1)).fifoLine == nil)

            let (off, _) = Self.plan(runGlobals() + runInstance("VI_1", vrid: 1))
            #expect(off.dispatch(.priorityChanged("VI_1", master: true, priority: 1)).fifoLine == nil)
        }

        @Test("bad notify scripts are problems naming the block and the keyword")
        func problems() throws {
            let dir = try RunScratch()
            defer { dir.remove() }
            let ok = try dir.file("ok.sh", "#!/bin/sh\n")
            let plain = try dir.file("plain.sh", "#!/bin/sh\n", mode: 0o644)
            var config = loadRunConfig(runGlobals("vrrp_notify_fifo /tmp/kadt-nofifo-\(getpid()) nosuchuser-kadt\n"
                                                  + "vrrp_notify_fifo_script /nonexistent/reader.sh")
                + runInstance("VI_1", vrid: 1, """
                    notify_master /nonexistent/kadt/master.sh
                    notify_fault \(plain)
                    notify_stop "\(ok)" nosuchuser-kadt
                    notify \(ok)
                    """)
                + runInstance("VI_2", vrid: 2)
                + "vrrp_sync_group VG_1 {\n group { VI_1 VI_2 }\n notify kadt-no-such-program\n}\n")
            // The configuration parser already rejects broken quoting; the plan must too.
            config.vrrpInstances[0].notifyBackup = ScriptCommand(command: "\(ok) 'unterminated")
            var scripts = ScriptPreparer(globalDefs: config.globalDefs)
            _ = NotifyPlan(config: config, scripts: &scripts)
            let found = scripts.problems.map(\.description)
            let expected = [
                "vrrp_instance VI_1: notify_master: script path /nonexistent",
                "vrrp_instance VI_1: notify_backup: cannot parse the command '\(ok) 'unterminated': unterminated single quote",
                "vrrp_instance VI_1: notify_fault: script \(plain) is not executable by root",
                "vrrp_instance VI_1: notify_stop: script user 'nosuchuser-kadt' does not exist",
                "vrrp_sync_group VG_1: notify: script 'kadt-no-such-program' not found in",
                "vrrp_notify_fifo: script user 'nosuchuser-kadt' does not exist",
                "vrrp_notify_fifo_script: script path /nonexistent",
            ]
            for e in expected { #expect(found.contains { $0.hasPrefix(e) }, "missing \(e) in \(found)") }
            #expect(found.count == expected.count, "\(found)")
        }

        @Test("enable_script_security refuses an unsafe script; without it, warnings")
        func security() throws {
            let dir = try RunScratch()
            defer { dir.remove() }
            let open = "\(dir.path)/open"
            try FileManager.default.createDirectory(atPath: open, withIntermediateDirectories: false)
            chmod(open, 0o777)
            let unsafe = try dir.file("open/n.sh", "#!/bin/sh\n")
            let (_, strict) = Self.plan(runGlobals() + runInstance("VI_1", "notify \(unsafe)"))
            #expect(strict.problems.count == 1)
            #expect(strict.problems.first?.description.hasPrefix("vrrp_instance VI_1: notify: ") == true)
            #expect(strict.problems.first?.description.contains(open) == true, "\(strict.problems)")
            #expect(strict.warnings.isEmpty)

            var config = loadRunConfig(runGlobals() + runInstance("VI_1", "notify \(unsafe)"))
            config.globalDefs.enableScriptSecurity = false
            var lax = ScriptPreparer(globalDefs: config.globalDefs)
            let plan = NotifyPlan(config: config, scripts: &lax)
            #expect(lax.problems.isEmpty)
            #expect(plan.instances["VI_1"]?.generic != nil)
            #expect(lax.warnings.contains { $0.hasPrefix("vrrp_instance VI_1: notify: ") && $0.contains(open) }, "\(lax.warnings)")
            #expect(lax.warnings.contains("SECURITY VIOLATION - scripts are being executed but script_security not enabled"))
        }

        @Test("the default user: script_user, else keepalived_script, else kad's own user with a warning")
        func defaultUser() throws {
            let dir = try RunScratch()
            defer { dir.remove() }
            let s = try dir.file("n.sh", "#!/bin/sh\n")
            let config = loadRunConfig("global_defs {\n enable_script_security\n}\n" + runInstance("VI_1", "notify \(s)\nnotify_master \(s)"))
            var fallback = ScriptPreparer(globalDefs: config.globalDefs, defaultIdentity: { () throws(ScriptUserError) in
                (try ScriptIdentity.current(), true)
            })
            let plan = NotifyPlan(config: config, scripts: &fallback)
            #expect(fallback.problems.isEmpty)
            #expect(plan.instances["VI_1"]?.generic?.identity.uid == geteuid())
            #expect(fallback.warnings.filter { $0.hasPrefix("default user 'keepalived_script' for script execution does not exist") }.count
                == 1, "warned once: \(fallback.warnings)")

            var badUser = config
            badUser.globalDefs.scriptUser = ["nosuchuser-kadt"]
            var scripts = ScriptPreparer(globalDefs: badUser.globalDefs)
            _ = NotifyPlan(config: badUser, scripts: &scripts)
            #expect(scripts.problems.map(\.description) == ["script_user: script user 'nosuchuser-kadt' does not exist"])
        }

        // MARK: Running

        @Test("scripts run with their arguments, fire-and-forget")
        func runsScripts() async throws {
            let dir = try RunScratch()
            defer { dir.remove() }
            // Each script appends its name and arguments to a file of its own.
            let rec = try dir.file("rec.sh", "#!/bin/sh\nout=\"$1\"; shift\necho \"[$*]\" >> \"\(dir.path)/$out\"\n")
            let slow = try dir.file("slow.sh", "#!/bin/sh\nsleep 0.3\necho done >> \"\(dir.path)/slow\"\n")
            let (plan, scripts) = Self.plan(runGlobals()
                + runInstance("VI_1", """
                    notify_master "\(rec) master"
                    notify_backup "\(slow)"
                    notify "\(rec) generic"
                    notify_master_rx_lower_pri "\(rec) lower"
                    """)
                + "vrrp_sync_group VG_1 {\n group { VI_1 }\n notify \"\(rec) group\"\n}\n")
            #expect(scripts.problems.isEmpty, "\(scripts.problems)")
            let log = LogLines()
            let notifier = try Notifier.start(plan: plan, configuration: Self.fastConfiguration(), log: log.record)

            let start = ContinuousClock.now
            notifier.post(.instance("VI_1", .backup, priority: 100))
            notifier.post(.instance("VI_1", .master, priority: 100))
            notifier.post(.group("VG_1", .master))
            notifier.post(.masterReceivedLowerPriority("VI_1", priority: 100))
            #expect(ContinuousClock.now - start < .milliseconds(100), "post never waits for scripts")

            #expect(await eventually { dir.lines("generic").count == 2 && dir.lines("master").count == 1 && dir.lines("group").count == 1
                && dir.lines("lower").count == 1 })
            #expect(dir.lines("master") == ["[]"])
            #expect(Set(dir.lines("generic")) == ["[INSTANCE VI_1 BACKUP 100]", "[INSTANCE VI_1 MASTER 100]"])
            #expect(dir.lines("group") == ["[GROUP VG_1 MASTER 0]"])
            #expect(dir.lines("lower") == ["[]"])
            // finish() waits for the slow notify_backup still running.
            await notifier.finish()
            #expect(dir.lines("slow") == ["done"])
            #expect(log.contains("notify_master VI_1 (pid"))
        }

        @Test("scripts are started one at a time in posting order (process ids increase in that order)")
        func launchOrder() async throws {
            let dir = try RunScratch()
            defer { dir.remove() }
            let rec = try dir.file("rec.sh", "#!/bin/sh\necho \"$$ $1 $5\" >> \"\(dir.path)/order\"\n")
            let (plan, _) = Self.plan(runGlobals() + runInstance("VI_1", "notify_master \"\(rec) master\"\nnotify \"\(rec) generic\""))
            let notifier = try Notifier.start(plan: plan, configuration: Self.fastConfiguration(), log: { _ in })
            for i in 0..<20 { notifier.post(.instance("VI_1", .master, priority: UInt8(i + 1))) }
            #expect(await eventually { dir.lines("order").count == 40 })
            await notifier.finish()
            let records = dir.lines("order").map { $0.split(separator: " ").map(String.init) }
            let pids = records.compactMap { Int($0[0]) }
            // Process ids wrap at pid_max; skip the check in the rare run that crosses it.
            guard let low = pids.min(), let high = pids.max(), high - low < 1 << 15 else { return }
            let started = records.sorted { Int($0[0])! < Int($1[0])! }.map { $0.count == 3 ? "\($0[1]) \($0[2])" : $0[1] }
            let expected = (1...20).flatMap { ["master", "generic \($0)"] }
            #expect(started == expected)
        }

        @Test("FIFO lines arrive in posting order, over many events and concurrent posters")
        func fifoOrder() async throws {
            let dir = try RunScratch()
            defer { dir.remove() }
            let path = "\(dir.path)/events"
            let (plan, _) = Self.plan(runGlobals("vrrp_notify_fifo \(path) root root\nvrrp_notify_priority_changes")
                + runInstance("VI_1", vrid: 1) + runInstance("VI_2", vrid: 2))
            let notifier = try Notifier.start(plan: plan, configuration: Self.fastConfiguration(), log: { _ in })
            var st = stat()
            #expect(lstat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFIFO, "created as a FIFO")
            #expect(st.st_mode & 0o777 == 0o644 & ~currentUmask())
            let reader = try FIFOReader(path)

            let states: [NotifyState] = [.backup, .master, .fault, .backup, .master, .stop]
            var expected: [String] = []
            for i in 0..<600 {
                let event: NotifyEvent
                switch i % 4 {
                case 0: event = .instance("VI_1", states[i % states.count], priority: UInt8(i % 255))
                case 1: event = .group("VG_\(i)", states[(i / 2) % states.count])
                case 2: event = .priorityChanged("VI_2", master: i % 3 == 0, priority: UInt8(i % 254 + 1))
                default: event = .masterReceivedLowerPriority("VI_2", priority: 200)
                }
                notifier.post(event)
                expected.append(String(plan.dispatch(event).fifoLine!.dropLast()))
            }
            let lines = await reader.lines(expected.count)
            #expect(lines == expected)

            // Two posters at once: each one's lines stay in its own order, none is lost or torn.
            await withTaskGroup(of: Void.self) { group in
                for who in ["VI_A", "VI_B"] {
                    group.addTask {
                        for i in 0..<300 { notifier.post(.instance(who, .master, priority: UInt8(i % 255))) }
                    }
                }
            }
            let mixed = await reader.lines(600)
            #expect(mixed.count == 600)
            for who in ["VI_A", "VI_B"] {
                #expect(mixed.filter { $0.contains(who) } == (0..<300).map { "INSTANCE \"\(who)\" MASTER \($0 % 255)" })
            }
            #expect(notifier.droppedLines == 0)

            await notifier.finish()
            #expect(access(path, F_OK) != 0, "the FIFO kad created is removed at finish")
            notifier.post(.instance("VI_1", .master, priority: 1))  // ignored, no crash
        }

        @Test("lvs_notify_fifo gets the LVS lines only, vrrp_notify_fifo the VRRP ones only, notify_fifo both, in order")
        func lvsFIFO() async throws {
            let dir = try RunScratch()
            defer { dir.remove() }
            let (plan, scripts) = Self.plan(runGlobals("notify_fifo \(dir.path)/all\nvrrp_notify_fifo \(dir.path)/vrrp\n"
                + "lvs_notify_fifo \(dir.path)/lvs") + runInstance())
            #expect(scripts.problems.isEmpty, "\(scripts.problems)")
            #expect(plan.fifos.map(\.keyword) == ["notify_fifo", "vrrp_notify_fifo", "lvs_notify_fifo"])
            let notifier = try Notifier.start(plan: plan, configuration: Self.fastConfiguration(), log: { _ in })
            let all = try FIFOReader("\(dir.path)/all"), vrrp = try FIFOReader("\(dir.path)/vrrp"), lvs = try FIFOReader("\(dir.path)/lvs")
            // A real server goes down, quorum is lost, the instance goes BACKUP, both come back.
            notifier.post(.realServer("[198.51.100.2]:tcp:80", virtualServer: "[192.0.2.10]:tcp:80", up: false))
            notifier.post(.virtualServer("[192.0.2.10]:tcp:80", up: false))
            notifier.post(.instance("VI_1", .backup, priority: 100))
            notifier.post(.realServer("[198.51.100.2]:tcp:80", virtualServer: "[192.0.2.10]:tcp:80", up: true))
            notifier.post(.virtualServer("[192.0.2.10]:tcp:80", up: true))
            let lvsLines = ["RS [198.51.100.2]:tcp:80 [192.0.2.10]:tcp:80 DOWN", "VS [192.0.2.10]:tcp:80 DOWN",
                            "RS [198.51.100.2]:tcp:80 [192.0.2.10]:tcp:80 UP", "VS [192.0.2.10]:tcp:80 UP"]
            #expect(await lvs.lines(4) == lvsLines)
            #expect(await vrrp.lines(1) == ["INSTANCE \"VI_1\" BACKUP 100"])
            #expect(await all.lines(5) == Array(lvsLines[0..<2]) + ["INSTANCE \"VI_1\" BACKUP 100"] + Array(lvsLines[2...]))
            // Nothing more is in the VRRP-only or LVS-only FIFOs.
            #expect(await vrrp.lines(1, within: .milliseconds(200)).isEmpty)
            #expect(await lvs.lines(1, within: .milliseconds(200)).isEmpty)
            await notifier.finish()
        }

        @Test("one path given as vrrp_notify_fifo and lvs_notify_fifo is opened once and gets both kinds of lines")
        func sharedFIFO() {
            let (plan, scripts) = Self.plan(runGlobals("vrrp_notify_fifo /tmp/kad-shared-fifo\nlvs_notify_fifo /tmp/kad-shared-fifo") + runInstance())
            #expect(plan.fifos.count == 1)
            #expect(plan.fifos.first.map { $0.vrrp && $0.lvs } == true)
            #expect(scripts.warnings.contains { $0.contains("same FIFO") })
        }

        @Test("a FIFO without a reader never blocks: lines are dropped, counted and logged, then writing resumes")
        func noReader() async throws {
            let dir = try RunScratch()
            defer { dir.remove() }
            let path = "\(dir.path)/events"
            let (plan, _) = Self.plan(runGlobals("notify_fifo \(path)") + runInstance())
            let log = LogLines()
            let notifier = try Notifier.start(plan: plan, configuration: Self.fastConfiguration(), log: log.record)
            let start = ContinuousClock.now
            for i in 0..<10_000 { notifier.post(.instance("VI_1", .backup, priority: UInt8(i % 200))) }
            #expect(ContinuousClock.now - start < .seconds(3))
            let dropped = notifier.droppedLines
            #expect(dropped > 0 && dropped < 10_000, "a 64 KiB pipe holds some, not all: \(dropped)")
            #expect(log.all.filter { $0.contains("the FIFO is full") }.count == 1, "logged once: \(log.all.count) lines")

            // A reader gets what fitted, in order: the first 10 000 - dropped lines.
            let reader = try FIFOReader(path)
            let kept = 10_000 - dropped
            let lines = await reader.lines(kept)
            #expect(lines == (0..<kept).map { "INSTANCE \"VI_1\" BACKUP \($0 % 200)" })
            notifier.post(.instance("VI_1", .master, priority: 42))
            #expect(await reader.lines(1) == ["INSTANCE \"VI_1\" MASTER 42"])
            #expect(log.contains("writing again after dropping \(dropped) event(s)"))
            await notifier.finish()
        }

        @Test("the FIFO reader script gets the path, reads every line, and is stopped by finish() after draining")
        func fifoReaderScript() async throws {
            let dir = try RunScratch()
            defer { dir.remove() }
            let path = "\(dir.path)/events"
            let reader = try dir.file("reader.sh", """
                #!/bin/sh
                echo $$ > "\(dir.path)/reader.pid"
                echo "$1" > "\(dir.path)/reader.arg"
                while read line; do echo "$line" >> "\(dir.path)/seen"; done < "$1"

                """)
            // An existing FIFO is used as it is, and left in place at the end.
            #expect(mkfifo(path, 0o600) == 0)
            let (plan, scripts) = Self.plan(runGlobals("vrrp_notify_fifo \(path)\nvrrp_notify_fifo_script \(reader)") + runInstance())
            #expect(scripts.problems.isEmpty, "\(scripts.problems)")
            let notifier = try Notifier.start(plan: plan, configuration: Self.fastConfiguration(), log: { _ in })
            #expect(await eventually { dir.read("reader.pid") != nil && dir.read("reader.arg") == "\(path)\n" })
            let pid = pid_t(dir.lines("reader.pid").first ?? "") ?? 0
            #expect(processAlive(pid))

            notifier.post(.instance("VI_1", .backup, priority: 100))
            notifier.post(.instance("VI_1", .master, priority: 100))
            #expect(await eventually { dir.lines("seen").count == 2 })
            // Posted just before finish(): the reader still gets it.
            notifier.post(.instance("VI_1", .stop, priority: 100))
            await notifier.finish()
            #expect(dir.lines("seen") == ["INSTANCE \"VI_1\" BACKUP 100", "INSTANCE \"VI_1\" MASTER 100", "INSTANCE \"VI_1\" STOP 100"])
            #expect(await eventually(within: .seconds(2)) { !processAlive(pid) }, "the reader is stopped")
            var st = stat()
            #expect(lstat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFIFO, "a FIFO kad did not create stays")
        }

        @Test("finish() stops notify scripts still running after the grace period")
        func finishStopsScripts() async throws {
            let dir = try RunScratch()
            defer { dir.remove() }
            let hang = try dir.file("hang.sh", "#!/bin/sh\necho $$ > \"\(dir.path)/hang.pid\"\nsleep 30\n")
            let (plan, _) = Self.plan(runGlobals() + runInstance("VI_1", "notify_stop \(hang)"))
            var configuration = Self.fastConfiguration()
            configuration.scriptGracePeriod = .milliseconds(300)
            let notifier = try Notifier.start(plan: plan, configuration: configuration, log: { _ in })
            notifier.post(.instance("VI_1", .stop, priority: 100))
            #expect(await eventually { dir.read("hang.pid") != nil })
            let pid = pid_t(dir.lines("hang.pid").first ?? "") ?? 0
            let start = ContinuousClock.now
            await notifier.finish()
            #expect(ContinuousClock.now - start < .seconds(3))
            #expect(!processAlive(pid))
            // Nothing starts after finish().
            notifier.post(.instance("VI_1", .stop, priority: 100))
            try await Task.sleep(for: .milliseconds(100))
            #expect(dir.lines("hang.pid").count == 1)
        }

        @Test("a FIFO path that is not a FIFO is refused at start, and nothing is left behind")
        func notAFIFO() throws {
            let dir = try RunScratch()
            defer { dir.remove() }
            let regular = try dir.file("regular", "x", mode: 0o644)
            let created = "\(dir.path)/created"
            let (plan, _) = Self.plan(runGlobals("notify_fifo \(created)\nvrrp_notify_fifo \(regular)") + runInstance())
            do {
                _ = try Notifier.start(plan: plan, log: { _ in })
                Issue.record("a regular file was accepted as a FIFO")
            } catch {
                #expect(error.description == "vrrp_notify_fifo \(regular): exists and is not a FIFO")
            }
            #expect(access(created, F_OK) != 0, "the FIFO created before the failure is removed")
            let (missingDir, _) = Self.plan(runGlobals("notify_fifo \(dir.path)/no/such/dir/fifo") + runInstance())
            #expect(throws: NotifierError.self) { try Notifier.start(plan: missingDir, log: { _ in }) }
        }
    }
}

/// The process umask (read without changing it for long).
func currentUmask() -> mode_t {
    let m = umask(0o022)
    umask(m)
    return m
}
