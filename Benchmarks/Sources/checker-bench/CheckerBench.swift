// checker-bench: IPVSControl's health-check scheduler in-process, against real servers on
// loopback, for CPU per check without an IPVS kernel (so natively, and under perf or strace).
// Benchmarks/checker-bench.sh runs it in a network namespace with Benchmarks/ipvs/checkserver.c
// answering every address of 2001:db8::/64.
import ArgumentParser
import IPVSControl
import NIOCore
import Synchronization
import VRRPCore
#if canImport(Glibc)
import Glibc
#endif

/// Attempts and failures, shared by every checker.
final class AttemptCounters: Sendable {
    let attempts = Atomic<Int>(0)
    let failures = Atomic<Int>(0)
    func add(_ r: CheckResult) {
        attempts.add(1, ordering: .relaxed)
        if !r.isSuccess { failures.add(1, ordering: .relaxed) }
    }
}

/// Counts the attempts and failures of the check it wraps.
struct Counted: HealthCheck {
    let inner: any HealthCheck
    let attempts: AttemptCounters
    var name: String { inner.name }
    var runsOnEventLoop: Bool { inner.runsOnEventLoop }
    func check() async -> CheckResult {
        let r = await inner.check()
        attempts.add(r)
        return r
    }
    func check(on loop: any EventLoop) -> EventLoopFuture<CheckResult> {
        inner.check(on: loop).map { [attempts] r in
            attempts.add(r)
            return r
        }
    }
}

@main
struct CheckerBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "CPU per health check: N real servers checked every delay_loop, in-process.")

    @Option(help: "tcp or http") var check = "tcp"
    @Option(help: "Real servers: BASE+1 ... BASE+N, port --port.") var servers = 1000
    @Option(help: "IPv6 prefix of the real servers' addresses (the last 32 bits count up).") var base = "2001:db8::"
    @Option var port: UInt16 = 80
    @Option(help: "delay_loop in milliseconds.") var delayMs = 1000
    @Option var warmup = 5
    @Option var seconds = 20
    @Flag(help: "Run every checker in a task on ContinuousClock (the path before event-loop pinning).") var tasks = false

    func run() async throws {
        guard let prefix = IPAddress(base), prefix.family == .ipv6 else { throw ValidationError("--base must be an IPv6 prefix") }
        let counters = AttemptCounters()
        let timing = CheckerTiming(connectTimeout: .seconds(3), retry: 1, delayBeforeRetry: .seconds(1),
                                   warmup: .milliseconds(delayMs), delayLoop: .milliseconds(delayMs))
        var list: [RealServerChecks] = []
        for i in 1...servers {
            var bytes = prefix.bytes
            bytes[12] = UInt8((i >> 24) & 0xff); bytes[13] = UInt8((i >> 16) & 0xff)
            bytes[14] = UInt8((i >> 8) & 0xff); bytes[15] = UInt8(i & 0xff)
            let address = IPAddress(bytes: bytes)!
            let c = CheckerConnection(address: address, port: port)
            let inner: any HealthCheck = check == "http"
                ? HTTPCheck(connection: c, connectTimeout: .seconds(3), urls: [HTTPURLCheck(path: "/", statusCodes: [200...200])])
                : TCPCheck(connection: c, connectTimeout: .seconds(3))
            list.append(RealServerChecks(id: "\(c)", checkers: [.init(Counted(inner: inner, attempts: counters), timing: timing)]))
        }
        let scheduler = HealthCheckScheduler(realServers: list, clock: ContinuousClock(),
                                             eventLoops: tasks ? nil : CheckerEventLoops.shared)
        let downs = Atomic<Int>(0)
        let reader = Task { for await v in scheduler.verdicts where !v.isUp { downs.add(1, ordering: .relaxed) } }
        scheduler.start()
        try await Task.sleep(for: .seconds(warmup))
        func cpu() -> Double {
            var u = rusage()
            getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u)
            return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6
        }
        let (c0, a0, f0) = (cpu(), counters.attempts.load(ordering: .relaxed), counters.failures.load(ordering: .relaxed))
        let t0 = ContinuousClock.now
        try await Task.sleep(for: .seconds(seconds))
        let (c1, a1, f1) = (cpu(), counters.attempts.load(ordering: .relaxed), counters.failures.load(ordering: .relaxed))
        let wall = ContinuousClock.now - t0
        let w = Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18
        scheduler.stop()
        await reader.value
        let n = a1 - a0
        func f(_ x: Double) -> String { "\((x * 10).rounded() / 10)" }
        print("check=\(check) servers=\(servers) path=\(tasks ? "tasks" : "event-loops") attempts/s=\(Int(Double(n) / w)) "
              + "failures=\(f1 - f0) downs=\(downs.load(ordering: .relaxed)) cpu%=\(f((c1 - c0) / w * 100)) "
              + "us/check=\(n > 0 ? f((c1 - c0) / Double(n) * 1e6) : "nan")")
    }
}
