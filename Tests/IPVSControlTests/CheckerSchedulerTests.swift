import NetLinux
import Synchronization
import Testing
import VRRPCore
@testable import IPVSControl

/// A checker that returns scripted results and records when it ran (on the manual clock).
final class ScriptedCheck: HealthCheck, @unchecked Sendable {
    let name: String
    private let state: Mutex<(results: [CheckResult], times: [Duration])>
    private let clock: ManualClock
    private let fallback: CheckResult

    init(_ name: String, clock: ManualClock, results: [CheckResult], then fallback: CheckResult = .success) {
        self.name = name
        self.clock = clock
        self.fallback = fallback
        state = Mutex((results, []))
    }

    var times: [Duration] { state.withLock { $0.times } }

    func check() async -> CheckResult {
        let now = clock.now.offset
        return state.withLock { s in
            s.times.append(now)
            return s.results.isEmpty ? fallback : s.results.removeFirst()
        }
    }
}

/// Drives a scheduler on a manual clock: waits until every checker task sleeps, then jumps to
/// the next wake-up, collecting verdicts as they come.
final class VerdictLog: Sendable {
    private let items = Mutex<[RealServerVerdict]>([])
    func append(_ v: RealServerVerdict) { items.withLock { $0.append(v) } }
    var all: [RealServerVerdict] { items.withLock { $0 } }
}

final class SchedulerHarness: @unchecked Sendable {
    let clock = ManualClock()
    var verdicts: [RealServerVerdict] = []
    let collected = VerdictLog()
    var scheduler: HealthCheckScheduler<ManualClock>!
    var collector: Task<Void, Never>?

    func start(_ servers: [RealServerChecks], random: Double = 0) {
        scheduler = HealthCheckScheduler(realServers: servers, clock: clock, random: { random })
        let stream = scheduler.verdicts
        let collected = self.collected
        collector = Task { for await v in stream { collected.append(v) } }
        scheduler.start()
    }

    /// Waits (in real time, briefly) until `n` tasks sleep on the clock.
    func settle(sleepers n: Int) async {
        for _ in 0..<2000 {
            if clock.sleeperCount == n { return }
            try? await Task.sleep(for: .milliseconds(1))
        }
        Issue.record("expected \(n) sleepers, have \(clock.sleeperCount)")
    }

    /// Runs the schedule until manual time `limit`, with `n` checker tasks.
    func run(until limit: Duration, sleepers n: Int) async {
        while true {
            await settle(sleepers: n)
            guard let next = clock.nextWakeUp, next.offset <= limit else { break }
            clock.advance(to: next)
        }
        await settle(sleepers: n)
        // Let the collector catch up with the stream.
        for _ in 0..<50 { await Task.yield() }
        try? await Task.sleep(for: .milliseconds(20))
        verdicts = collected.all
    }

    func stop() { scheduler.stop() }
}

@Suite("CheckerSchedulerTests: the checker loop on a manual clock")
struct CheckerSchedulerTests {
    let refused = CheckResult.failure(reason: "connection refused")

    @Test("warmup: the first attempt is warmup × random after the start, then every delay_loop")
    func warmup() async {
        let h = SchedulerHarness()
        let check = ScriptedCheck("c", clock: h.clock, results: [])
        h.start([RealServerChecks(id: "rs", checkers: [.init(check, timing: CheckerTiming(warmup: .seconds(8), delayLoop: .seconds(10)))])],
                random: 0.25)
        await h.run(until: .seconds(35), sleepers: 1)
        h.stop()
        #expect(check.times == [.seconds(2), .seconds(12), .seconds(22), .seconds(32)])
        // Only the initial verdict: nothing changed.
        #expect(h.verdicts.map(\.isUp) == [true])
    }

    @Test("warmup 0 starts at once; the default warmup is delay_loop")
    func warmupZero() async {
        #expect(CheckerTiming(delayLoop: .seconds(6)).warmup == .seconds(6))
        let h = SchedulerHarness()
        let check = ScriptedCheck("c", clock: h.clock, results: [])
        h.start([RealServerChecks(id: "rs", checkers: [.init(check, timing: CheckerTiming(warmup: .zero, delayLoop: .seconds(5)))])], random: 0.9)
        await h.run(until: .seconds(10), sleepers: 1)
        h.stop()
        #expect(check.times == [.zero, .seconds(5), .seconds(10)])
    }

    @Test("retry: after a failure, retry attempts delay_before_retry apart, then down; a success brings it back")
    func retrySequence() async {
        let h = SchedulerHarness()
        let check = ScriptedCheck("c", clock: h.clock, results: [.success, refused, refused, refused, refused, .success])
        let timing = CheckerTiming(retry: 2, delayBeforeRetry: .seconds(3), warmup: .zero, delayLoop: .seconds(10))
        h.start([RealServerChecks(id: "rs", weight: 5, checkers: [.init(check, timing: timing)])])
        await h.run(until: .seconds(40), sleepers: 1)
        h.stop()
        // 0 ok; 10 fail; 13, 16 retries fail → down at 16; 26 fail (down); 36 ok → up.
        #expect(check.times == [.zero, .seconds(10), .seconds(13), .seconds(16), .seconds(26), .seconds(36)])
        #expect(h.verdicts.map(\.isUp) == [true, false, true])
        #expect(h.verdicts.map(\.weight) == [5, 5, 5])
        #expect(h.verdicts[1].cause.contains("connection refused"))
    }

    @Test("ha_suspend: while suspended no attempt runs and the state (retries used) is kept; resuming continues it")
    func suspendKeepsState() async {
        let h = SchedulerHarness()
        let check = ScriptedCheck("c", clock: h.clock, results: [refused, refused, refused])
        let timing = CheckerTiming(retry: 2, delayBeforeRetry: .seconds(3), warmup: .zero, delayLoop: .seconds(10))
        h.start([RealServerChecks(id: "rs", checkers: [.init(check, timing: timing)])])
        await h.run(until: .seconds(2), sleepers: 1)   // 0: first failure, a retry is due at 3
        h.scheduler.setSuspended(true)
        #expect(h.scheduler.isSuspended)
        await h.run(until: .seconds(25), sleepers: 1)  // 3, 13, 23 skipped
        #expect(check.times == [.zero])
        #expect(h.verdicts.map(\.isUp) == [true])
        h.scheduler.setSuspended(false)
        await h.run(until: .seconds(37), sleepers: 1)  // 33: second failure, 36: third → down
        h.stop()
        // Had suspending reset the retry count, 36 would be a retry and the state still up.
        #expect(check.times == [.zero, .seconds(33), .seconds(36)])
        #expect(h.verdicts.map(\.isUp) == [true, false])
    }

    @Test("a failure followed by a successful retry changes nothing")
    func retryRecovers() async {
        let h = SchedulerHarness()
        let check = ScriptedCheck("c", clock: h.clock, results: [refused, .success])
        h.start([RealServerChecks(id: "rs", checkers: [.init(check, timing: CheckerTiming(retry: 1, delayBeforeRetry: .seconds(1), warmup: .zero, delayLoop: .seconds(10)))])])
        await h.run(until: .seconds(12), sleepers: 1)
        h.stop()
        #expect(check.times == [.zero, .seconds(1), .seconds(11)])
        #expect(h.verdicts.map(\.isUp) == [true])
    }

    @Test("retry 0 goes down at the first failure")
    func retryZero() async {
        let h = SchedulerHarness()
        let check = ScriptedCheck("c", clock: h.clock, results: [refused])
        h.start([RealServerChecks(id: "rs", checkers: [.init(check, timing: CheckerTiming(retry: 0, warmup: .zero, delayLoop: .seconds(4)))])])
        await h.run(until: .seconds(4), sleepers: 1)
        h.stop()
        #expect(check.times == [.zero, .seconds(4)])
        #expect(h.verdicts.map(\.isUp) == [true, false, true])
    }

    @Test("alpha: the real server starts down and comes up at the first success")
    func alpha() async {
        let h = SchedulerHarness()
        let check = ScriptedCheck("c", clock: h.clock, results: [refused, refused, .success])
        h.start([RealServerChecks(id: "rs", checkers: [.init(check, timing: CheckerTiming(alpha: true, retry: 3, warmup: .zero, delayLoop: .seconds(5)))])])
        await h.run(until: .seconds(10), sleepers: 1)
        h.stop()
        // While down there are no retries: attempts stay delay_loop apart.
        #expect(check.times == [.zero, .seconds(5), .seconds(10)])
        #expect(h.verdicts.map(\.isUp) == [false, true])
    }

    @Test("aggregate: a real server is up only when all its checkers are; others are unaffected")
    func aggregate() async {
        let h = SchedulerHarness()
        let a = ScriptedCheck("a", clock: h.clock, results: [.success, refused, .success])
        let b = ScriptedCheck("b", clock: h.clock, results: [.success, refused, refused, .success])
        let other = ScriptedCheck("other", clock: h.clock, results: [])
        let t = CheckerTiming(retry: 0, warmup: .zero, delayLoop: .seconds(10))
        h.start([RealServerChecks(id: "rs1", checkers: [.init(a, timing: t), .init(b, timing: t)]),
                 RealServerChecks(id: "rs2", checkers: [.init(other, timing: t)])])
        await h.run(until: .seconds(30), sleepers: 3)
        h.stop()
        let rs1 = h.verdicts.filter { $0.id == "rs1" }.map(\.isUp)
        // t=10: both fail → down; t=20: a ok but b fails again → still down; t=30: both ok → up.
        #expect(rs1 == [true, false, true])
        #expect(h.verdicts.filter { $0.id == "rs2" }.map(\.isUp) == [true])
        #expect(h.scheduler.currentVerdicts.map(\.isUp) == [true, true])
    }

    @Test("misc_dynamic: weighted results set the real server's weight; a failure downs it")
    func dynamicWeights() async {
        let h = SchedulerHarness()
        let check = ScriptedCheck("misc", clock: h.clock, results: [.weighted(10), .weighted(10), .weighted(3), refused, .weighted(7)])
        h.start([RealServerChecks(id: "rs", weight: 1, checkers: [.init(check, timing: CheckerTiming(retry: 0, warmup: .zero, delayLoop: .seconds(1)))])])
        await h.run(until: .seconds(4), sleepers: 1)
        h.stop()
        #expect(h.verdicts.map(\.weight) == [1, 10, 3, 3, 7])
        #expect(h.verdicts.map(\.isUp) == [true, true, true, false, true])
    }

    @Test("a hanging checker does not delay another real server's checks")
    func slowCheckerIsolated() async {
        struct Hang: HealthCheck {
            var name: String { "hang" }
            func check() async -> CheckResult {
                try? await Task.sleep(for: .seconds(3600))
                return .success
            }
        }
        let h = SchedulerHarness()
        let fast = ScriptedCheck("fast", clock: h.clock, results: [])
        let t = CheckerTiming(warmup: .zero, delayLoop: .seconds(1))
        h.start([RealServerChecks(id: "slow", checkers: [.init(Hang(), timing: t)]),
                 RealServerChecks(id: "fast", checkers: [.init(fast, timing: t)])])
        // The hanging checker never sleeps on the clock again: one sleeper is left.
        await h.run(until: .seconds(3), sleepers: 1)
        h.stop()
        #expect(fast.times == [.zero, .seconds(1), .seconds(2), .seconds(3)])
    }

    @Test("the state machine: retry counting, log of retries left")
    func stateMachine() {
        var m = CheckerStateMachine(timing: CheckerTiming(retry: 2, delayBeforeRetry: .seconds(2), delayLoop: .seconds(9)))
        #expect(m.firstDelay(random: 0.5) == .milliseconds(4500))
        #expect(m.firstDelay(random: 7) == .seconds(9))
        #expect(m.firstDelay(random: .nan) == .zero)
        var s = m.record(refused)
        #expect(!s.stateChanged && s.nextDelay == .seconds(2) && m.isUp)
        s = m.record(refused)
        #expect(!s.stateChanged && s.nextDelay == .seconds(2) && m.isUp)
        s = m.record(refused)
        #expect(s.stateChanged && s.isFinalFailure && s.nextDelay == .seconds(9) && !m.isUp)
        s = m.record(.weighted(4))
        #expect(s.stateChanged && s.weightChanged && m.dynamicWeight == 4)
    }
}

@Suite("CheckerUnitTests: verdict functions without sockets")
struct CheckerUnitTests {
    @Test("UDP_CHECK require_reply: hex with x wildcards")
    func replyPattern() throws {
        let p = try #require(UDPCheck.ReplyPattern(hex: "0a x1 ff"))
        #expect(p.bytes == [0x0A, 0x01, 0xFF])
        #expect(p.mask == [0xFF, 0x0F, 0xFF])
        #expect(p.matches([0x0A, 0x71, 0xFF, 0x00]))
        #expect(!p.matches([0x0A, 0x72, 0xFF]))
        #expect(!p.matches([0x0A, 0x71]))
        #expect(UDPCheck.ReplyPattern(hex: "abc") == nil)
        #expect(UDPCheck.ReplyPattern(hex: "zz") == nil)
    }

    @Test("FILE_CHECK: weight 0, multiplied weights, reverse, dynamic, the -254 limit, out-of-range values")
    func fileCheck() async {
        let value = Mutex<TrackedFileReading.Value>(.number(0))
        let read: @Sendable (String) -> TrackedFileReading = { TrackedFileReading(path: $0, value: value.withLock { $0 }) }
        let zero = FileCheck(path: "/run/f", weight: 0, read: read)
        #expect(await zero.check() == .success)
        value.withLock { $0 = .number(3) }
        if case .failure(let r) = await zero.check() { #expect(r.contains("holds 3")) } else { Issue.record("weight 0, value 3 must fail") }
        let dyn = FileCheck(path: "/run/f", weight: 2, dynamic: true, baseWeight: 5, read: read)
        #expect(await dyn.check() == .weighted(11))
        value.withLock { $0 = .ignored("99999999999") }   // keeps the previous value, 3
        #expect(await dyn.check() == .weighted(11))
        #expect(dyn.verdict(value: -4) == .weighted(0))
        #expect(!dyn.verdict(value: -127).isSuccess)
        #expect(dyn.verdict(value: -126) == .weighted(0))
        let rev = FileCheck(path: "/run/f", weight: 100, reverse: true, read: read)
        #expect(rev.verdict(value: 2) == .success)
        #expect(!rev.verdict(value: 3).isSuccess)
        #expect(FileCheck(path: "/run/f", weight: 1, read: read).verdict(value: Int.min).isSuccess == false)
    }

    @Test("ping verdicts: type, sequence and payload are checked")
    func pingVerdict() {
        let payload: [UInt8] = [1, 2, 3]
        #expect(PingCheck.verdict(reply: [0, 0, 0, 0, 0, 9, 0, 5] + payload, ipv6: false, sequence: 5, payload: payload) == .success)
        #expect(PingCheck.verdict(reply: [129, 0, 0, 0, 0, 9, 0, 5] + payload, ipv6: true, sequence: 5, payload: payload) == .success)
        #expect(!PingCheck.verdict(reply: [3, 1, 0, 0, 0, 0, 0, 0], ipv6: false, sequence: 5, payload: payload).isSuccess)
        #expect(!PingCheck.verdict(reply: [0, 0, 0, 0, 0, 9, 0, 6] + payload, ipv6: false, sequence: 5, payload: payload).isSuccess)
        #expect(!PingCheck.verdict(reply: [0, 0], ipv6: false, sequence: 5, payload: payload).isSuccess)
        #expect(PingCheck.echoRequest(ipv6: false, sequence: 0x0102, payload: [9]) == [8, 0, 0, 0, 0, 0, 1, 2, 9])
    }

    @Test("durations in reasons read naturally")
    func durationText() {
        #expect(Duration.seconds(3).checkerText == "3 s")
        #expect(Duration.milliseconds(300).checkerText == "300 ms")
        #expect(Duration.milliseconds(1500).checkerText == "1.5 s")
        #expect(CheckerTiming.duration(seconds: 1.5) == .milliseconds(1500))
    }
}
