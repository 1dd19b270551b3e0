import ConfigDSL
import Foundation
import NetLinux
import Synchronization
import IntegrationSupport
import Testing
import VRRPCore

@testable import kad

/// Collects tracker reports.
final class Reports: Sendable {
    let items = Mutex<[(TrackedObjectID, TrackerStatus)]>([])
    /// Called with each report, inside the lock (to snapshot something at that moment).
    let onReport: @Sendable (TrackedObjectID, TrackerStatus) -> Void

    init(onReport: @escaping @Sendable (TrackedObjectID, TrackerStatus) -> Void = { _, _ in }) { self.onReport = onReport }

    var record: @Sendable (TrackedObjectID, TrackerStatus) -> Void {
        { [self] id, status in
            items.withLock { i in
                i.append((id, status))
                onReport(id, status)
            }
        }
    }

    func statuses(_ id: TrackedObjectID) -> [TrackerStatus] { items.withLock { $0.filter { $0.0 == id }.map(\.1) } }
}

extension HostAccessSuites {
    @Suite("Script trackers")
    struct ScriptTrackerTests {
        static func runnerConfiguration() -> ScriptRunner.Configuration {
            var c = ScriptRunner.Configuration()
            c.terminationGracePeriod = .milliseconds(300)
            c.outputDrainTime = .milliseconds(20)
            return c
        }

        /// A config tracking `scripts` (vrrp_script bodies by name) from VI_1.
        static func config(_ scripts: [(String, String)], extraTrack: String = "") -> KeepalivedConfig {
            var text = runGlobals()
            for (name, body) in scripts { text += "vrrp_script \(name) {\n\(body)\n}\n" }
            let tracked = scripts.map(\.0).joined(separator: "\n")
            text += runInstance("VI_1", "track_script {\n\(tracked)\n}\n\(extraTrack)")
            return loadRunConfig(text)
        }

        static func plan(_ config: KeepalivedConfig) -> (ScriptTrackerPlan, ScriptPreparer) {
            var scripts = ScriptPreparer(globalDefs: config.globalDefs)
            let plan = ScriptTrackerPlan(config: config, scripts: &scripts)
            return (plan, scripts)
        }

        // MARK: rise / fall

        @Test("the first result decides at once, whatever rise and fall")
        func firstResult() {
            var a = ScriptTrackState(rise: 5, fall: 7, initFail: false)
            #expect(a.status == .unknown)
            #expect(a.record(success: true) == .up)
            var b = ScriptTrackState(rise: 5, fall: 7, initFail: false)
            #expect(b.record(success: false) == .down)
        }

        @Test("rise and fall count consecutive results; a result of the other kind restarts the count", arguments: [
            // rise, fall, initFail, results (1 = success), the status after each (nil = unchanged)
            (1, 1, false, [1, 0, 1, 1, 0, 0], [TrackerStatus.up, .down, .up, nil, .down, nil]),
            (3, 2, false, [1, 0, 1, 0, 0, 1, 1, 1, 1], [.up, nil, nil, nil, .down, nil, nil, .up, nil]),
            (3, 2, false, [0, 1, 1, 0, 1, 1, 1], [.down, nil, nil, nil, nil, nil, .up]),
            (2, 3, true, [1, 0, 1, 1, 0, 0, 1, 0, 0, 0], [nil, nil, nil, .up, nil, nil, nil, nil, nil, .down]),
            (1, 1, true, [0, 0, 1], [nil, nil, .up]),
        ] as [(Int, Int, Bool, [Int], [TrackerStatus?])])
        func riseFall(rise: Int, fall: Int, initFail: Bool, results: [Int], expected: [TrackerStatus?]) {
            var state = ScriptTrackState(rise: rise, fall: fall, initFail: initFail)
            #expect(state.status == (initFail ? .down : .unknown))
            let changes = results.map { state.record(success: $0 == 1) }
            #expect(changes == expected)
        }

        // MARK: Plan

        @Test("only scripts in use are prepared; a bad one is a problem naming it and the keyword")
        func planProblems() throws {
            let dir = try RunScratch()
            defer { dir.remove() }
            let ok = try dir.file("ok.sh", "#!/bin/sh\nexit 0\n")
            var config = loadRunConfig(runGlobals() + """
                vrrp_script chk_ok {
                    script "\(ok) arg"
                    interval 0.05
                    rise 3
                    fall 2
                    init_fail
                }
                vrrp_script chk_missing {
                    script "/nonexistent/kadt/check.sh"
                }
                vrrp_script chk_badquote {
                    script "\(ok)"
                }
                vrrp_script chk_unused {
                    script "/nonexistent/kadt/unused.sh"
                }
                vrrp_script chk_group {
                    script "\(ok)"
                    timeout 0.5
                    user nosuchuser-kadt
                }
                """ + runInstance("VI_1", "track_script {\n chk_ok\n chk_missing weight 10\n chk_badquote\n}")
                + runInstance("VI_2", vrid: 52)
                + "vrrp_sync_group VG_1 {\n group { VI_1 VI_2 }\n track_script {\n chk_group\n }\n}\n")
            // The configuration parser already rejects broken quoting; the plan must too.
            config.vrrpScripts[2].script = ScriptCommand(command: "\(ok) 'open")
            let (plan, scripts) = Self.plan(config)
            #expect(plan.trackers.map(\.name) == ["chk_ok"])
            let t = try #require(plan.trackers.first)
            #expect(t.script.commandLine.arguments == [ok, "arg"])
            #expect(t.interval == .milliseconds(50))
            #expect(t.timeout == .milliseconds(50), "timeout defaults to the interval")
            #expect(t.rise == 3 && t.fall == 2 && t.initFail)
            #expect(t.id == TrackedObjectID(.script, "chk_ok"))
            let found = scripts.problems.map(\.description)
            #expect(found.count == 3, "\(found)")
            #expect(found.contains { $0.hasPrefix("vrrp_script chk_missing: script: script path /nonexistent") }, "\(found)")
            #expect(found.contains { $0.hasPrefix("vrrp_script chk_badquote: script: cannot parse the command") }, "\(found)")
            #expect(found.contains("vrrp_script chk_group: script: script user 'nosuchuser-kadt' does not exist"), "\(found)")
        }

        // MARK: Running

        @Test("a script whose exit status flips: up after rise successes, down after fall failures, reported once each")
        func flips() async throws {
            let dir = try RunScratch()
            defer { dir.remove() }
            try dir.file("status", "0\n", mode: 0o644)
            // Each run appends its exit status to `runs`, then exits with it.
            let check = try dir.file("check.sh", "#!/bin/sh\ns=$(cat \"\(dir.path)/status\")\necho $s >> \"\(dir.path)/runs\"\nexit $s\n")
            let (plan, scripts) = Self.plan(Self.config([("chk", "script \(check)\ninterval 0.05\ntimeout 5\nrise 2\nfall 3")]))
            #expect(scripts.problems.isEmpty, "\(scripts.problems)")
            // At each report, the trailing run of equal results in `runs` (the report comes right
            // after the run that decided it, before the next run starts).
            let streaks = Mutex<[String]>([])
            let reports = Reports { _, _ in
                let runs = dir.lines("runs")
                let last = runs.last ?? "-"
                let streak = runs.reversed().prefix { $0 == last }.count
                streaks.withLock { $0.append("\(last)x\(streak)") }
            }
            let log = LogLines()
            let trackers = ScriptTrackers(plan: plan, runner: Self.runnerConfiguration(), log: log.record, report: reports.record)
            let id = TrackedObjectID(.script, "chk")
            trackers.start()
            #expect(reports.statuses(id).first == .unknown, "the initial status is reported at once")
            #expect(await eventually { reports.statuses(id).count == 2 })

            try "1\n".write(toFile: "\(dir.path)/status", atomically: true, encoding: .utf8)
            #expect(await eventually { reports.statuses(id).count == 3 })
            try "0\n".write(toFile: "\(dir.path)/status", atomically: true, encoding: .utf8)
            #expect(await eventually { reports.statuses(id).count == 4 })
            // Some more successful runs change nothing.
            let runs = dir.lines("runs").count
            #expect(await eventually { dir.lines("runs").count >= runs + 3 })
            await trackers.stop()

            #expect(reports.statuses(id) == [.unknown, .up, .down, .up])
            // The first result decides; then exactly fall (3) failures, and exactly rise (2) successes.
            #expect(streaks.withLock { $0 } == ["-x0", "0x1", "1x3", "0x2"])
            #expect(log.contains("VRRP_Script(chk) succeeded"))
            #expect(log.contains("VRRP_Script(chk) failed (exited with status 1)"))
            // Runs are spaced by the interval: not a busy loop.
            let total = dir.lines("runs").count
            #expect(total < 200, "\(total) runs")
            let after = dir.lines("runs").count
            try await Task.sleep(for: .milliseconds(150))
            #expect(dir.lines("runs").count == after, "nothing runs after stop()")
        }

        @Test("a run past its timeout is stopped and counts as a failure")
        func timeout() async throws {
            let dir = try RunScratch()
            defer { dir.remove() }
            let slow = try dir.file("slow.sh", "#!/bin/sh\necho $$ >> \"\(dir.path)/pids\"\nsleep 30\n")
            let (plan, _) = Self.plan(Self.config([("chk_slow", "script \(slow)\ninterval 0.05\ntimeout 0.1")]))
            let reports = Reports()
            let log = LogLines()
            let trackers = ScriptTrackers(plan: plan, runner: Self.runnerConfiguration(), log: log.record, report: reports.record)
            let id = TrackedObjectID(.script, "chk_slow")
            let start = ContinuousClock.now
            trackers.start()
            #expect(await eventually { reports.statuses(id).count == 2 })
            #expect(ContinuousClock.now - start < .seconds(15), "reported after the timeout, not after the script's 30 s")
            #expect(reports.statuses(id) == [.unknown, .down])
            #expect(log.contains("timed out"))
            let first = pid_t(dir.lines("pids").first ?? "") ?? 0
            #expect(await eventually(within: .seconds(2)) { !processAlive(first) }, "the timed-out script was stopped")
            await trackers.stop()
            for pid in dir.lines("pids").compactMap({ pid_t($0) }) { #expect(!processAlive(pid), "no script left running") }
        }

        @Test("init_fail starts down: a failing script reports nothing more; a passing one needs rise successes")
        func initFail() async throws {
            let dir = try RunScratch()
            defer { dir.remove() }
            let bad = try dir.file("bad.sh", "#!/bin/sh\necho x >> \"\(dir.path)/bad\"\nexit 2\n")
            let good = try dir.file("good.sh", "#!/bin/sh\necho x >> \"\(dir.path)/good\"\nexit 0\n")
            let plain = try dir.file("plain.sh", "#!/bin/sh\necho x >> \"\(dir.path)/plain\"\nexit 0\n")
            let (plan, _) = Self.plan(Self.config([
                ("chk_bad", "script \(bad)\ninterval 0.05\ntimeout 5\ninit_fail"),
                ("chk_good", "script \(good)\ninterval 0.05\ntimeout 5\ninit_fail\nrise 3"),
                ("chk_plain", "script \(plain)\ninterval 0.05\ntimeout 5\nrise 3"),
            ]))
            let goodRuns = Mutex<Int>(-1)
            let reports = Reports { id, status in
                if id.name == "chk_good", status == .up { goodRuns.withLock { $0 = dir.lines("good").count } }
            }
            let trackers = ScriptTrackers(plan: plan, runner: Self.runnerConfiguration(), log: { _ in }, report: reports.record)
            trackers.start()
            let ids = ["chk_bad", "chk_good", "chk_plain"].map { TrackedObjectID(.script, $0) }
            #expect(ids.map { reports.statuses($0) } == [[.down], [.down], [.unknown]], "initial reports, synchronously")
            #expect(await eventually { dir.lines("bad").count >= 4 && reports.statuses(ids[1]).count == 2 && reports.statuses(ids[2]).count == 2 })
            await trackers.stop()
            #expect(reports.statuses(ids[0]) == [.down])
            #expect(reports.statuses(ids[1]) == [.down, .up])
            #expect(goodRuns.withLock { $0 } == 3, "up after exactly rise (3) successes")
            #expect(reports.statuses(ids[2]) == [.unknown, .up], "without init_fail the first success is enough")
        }

        @Test("stop() ends a running script at once")
        func stopKills() async throws {
            let dir = try RunScratch()
            defer { dir.remove() }
            let hang = try dir.file("hang.sh", "#!/bin/sh\necho $$ > \"\(dir.path)/pid\"\nsleep 30\n")
            let (plan, _) = Self.plan(Self.config([("chk_hang", "script \(hang)\ninterval 10\ntimeout 30")]))
            let trackers = ScriptTrackers(plan: plan, runner: Self.runnerConfiguration(), log: { _ in }, report: { _, _ in })
            trackers.start()
            #expect(await eventually { dir.read("pid") != nil })
            let pid = pid_t(dir.lines("pid").first ?? "") ?? 0
            #expect(processAlive(pid))
            let start = ContinuousClock.now
            await trackers.stop()
            #expect(ContinuousClock.now - start < .seconds(2))
            #expect(!processAlive(pid))
        }
    }
}

extension HostAccessSuites {
    @Suite("File trackers")
    struct FileTrackerTests {
        static func plan(_ dir: RunScratch, _ files: [(String, String)], extra: String = "") -> FileTrackerPlan {
            var text = runGlobals()
            for (name, body) in files { text += "track_file \(name) {\n\(body)\n}\n" }
            text += runInstance("VI_1", "track_file {\n\(files.map(\.0).joined(separator: "\n"))\n}")
            text += extra
            return FileTrackerPlan(config: loadRunConfig(text))
        }

        @Test("values are reported at start, then on change; missing or non-numeric is 0; out of range keeps the last")
        func values() async throws {
            let dir = try RunScratch()
            defer { dir.remove() }
            let path = try dir.file("weight", "5\n", mode: 0o644)
            let plan = Self.plan(dir, [("tf_a", "file \(path)\nweight 2"), ("tf_b", "file \(path)")])
            let reports = Reports()
            let log = LogLines()
            let files = FileTrackers(plan: plan, log: log.record, report: reports.record)
            try files.start()
            let a = TrackedObjectID(.file, "tf_a")
            let b = TrackedObjectID(.file, "tf_b")
            #expect(reports.statuses(a) == [.value(5)], "reported before start() returns")
            #expect(reports.statuses(b) == [.value(5)], "two track_files on one file both get it")

            try "7".write(toFile: path, atomically: false, encoding: .utf8)
            #expect(await eventually { reports.statuses(a).count == 2 })
            try "99999999999".write(toFile: path, atomically: false, encoding: .utf8)
            #expect(await eventually { log.contains("Invalid number 99999999999 read from \(path) - ignoring") })
            try "0x10".write(toFile: path, atomically: false, encoding: .utf8)
            #expect(await eventually { reports.statuses(a).count == 3 })
            unlink(path)
            #expect(await eventually { reports.statuses(a).count == 4 })
            try "not a number".write(toFile: path, atomically: false, encoding: .utf8)
            #expect(await eventually { log.contains("not a number, counts as 0") })
            try "-3".write(toFile: path, atomically: false, encoding: .utf8)
            #expect(await eventually { reports.statuses(a).count == 5 })
            await files.stop()
            try "11".write(toFile: path, atomically: false, encoding: .utf8)
            try await Task.sleep(for: .milliseconds(100))

            #expect(reports.statuses(a) == [.value(5), .value(7), .value(16), .value(0), .value(-3)])
            #expect(reports.statuses(b) == reports.statuses(a))
            #expect(log.contains("\(path): missing, counts as 0"))
        }

        @Test("init_file creates the file, or rewrites it with overwrite, before the first reading")
        func initFile() async throws {
            let dir = try RunScratch()
            defer { dir.remove() }
            let created = "\(dir.path)/created"
            let createdZero = "\(dir.path)/zero"
            let kept = try dir.file("kept", "9\n", mode: 0o644)
            let overwritten = try dir.file("overwritten", "9\n", mode: 0o644)
            let plan = Self.plan(dir, [
                ("tf_created", "file \(created)\ninit_file 3"),
                ("tf_zero", "file \(createdZero)\ninit_file"),
                ("tf_kept", "file \(kept)\ninit_file 4"),
                ("tf_over", "file \(overwritten)\ninit_file 4 overwrite"),
            ])
            let reports = Reports()
            let files = FileTrackers(plan: plan, log: { _ in }, report: reports.record)
            try files.start()
            await files.stop()
            #expect(dir.read("created") == "3\n")
            #expect(dir.read("zero") == "0\n")
            #expect(dir.read("kept") == "9\n")
            #expect(dir.read("overwritten") == "4\n")
            let got = ["tf_created", "tf_zero", "tf_kept", "tf_over"].map { reports.statuses(TrackedObjectID(.file, $0)) }
            #expect(got == [[.value(3)], [.value(0)], [.value(9)], [.value(4)]])
        }

        @Test("only track_files in use are watched; a relative path is a problem")
        func planProblems() throws {
            let dir = try RunScratch()
            defer { dir.remove() }
            let plan = Self.plan(dir, [("tf_rel", "file relative/weight")],
                                 extra: "track_file tf_unused {\n file /nonexistent/kadt\n}\n"
                                     + "vrrp_sync_group VG_1 {\n group { VI_1 }\n track_file {\n tf_group\n }\n}\n"
                                     + "track_file tf_group {\n file \(dir.path)/g\n}\n")
            #expect(plan.trackers.map(\.name) == ["tf_group"])
            #expect(plan.problems.map(\.description) == ["track_file tf_rel: file: 'relative/weight' is not an absolute path"])
        }
    }
}
