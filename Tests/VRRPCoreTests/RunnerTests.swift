import Synchronization
import Testing
@testable import VRRPCore

/// Records every port call, in order, as text.
final class Recorder: VRRPTransport, VRRPAddressPlane, VRRPAnnouncer, @unchecked Sendable {
    let log = Mutex<[String]>([])
    let failSends = Mutex(false)
    struct Failure: Error, CustomStringConvertible { var description: String { "network is unreachable" } }

    var entries: [String] { log.withLock { $0 } }
    func append(_ s: String) { log.withLock { $0.append(s) } }

    func send(_ a: VRRPAdvertisement, source: IPAddress, destination: IPAddress, checksumForm: VRRPChecksumForm,
              interface: String) async throws {
        if failSends.withLock({ $0 }) { throw Failure() }
        append("send \(interface) \(source)->\(destination) vrid \(a.virtualRouterID) prio \(a.priority)")
    }
    func add(_ addresses: [VirtualAddress], interface: String) async throws { append("add \(addresses) \(interface)") }
    func remove(_ addresses: [VirtualAddress], interface: String) async throws { append("remove \(addresses) \(interface)") }
    func add(_ routes: [VirtualRoute]) async throws { append("add routes \(routes)") }
    func remove(_ routes: [VirtualRoute]) async throws { append("remove routes \(routes)") }
    func add(_ rules: [VirtualRule]) async throws { append("add rules \(rules)") }
    func remove(_ rules: [VirtualRule]) async throws { append("remove rules \(rules)") }
    func setAcceptMode(_ accept: Bool, addresses: [VirtualAddress], interface: String) async throws {
        append("accept \(accept)")
    }
    func announce(_ addresses: [VirtualAddress], rounds: Int, interface: String, virtualRouterID: UInt8) async throws {
        append("announce \(addresses.map(\.address)) x\(rounds) \(interface)")
    }
    func cancelAnnouncements(_ addresses: [VirtualAddress], interface: String) async {
        append("cancel announcements \(addresses.map(\.address)) \(interface)")
    }
}

/// Collects a runner's events.
final class EventLog: @unchecked Sendable {
    let events = Mutex<[VRRPRunnerEvent]>([])
    var all: [VRRPRunnerEvent] { events.withLock { $0 } }
    func start<S: AsyncSequence & Sendable>(_ seq: S) -> Task<Void, Never> where S.Element == VRRPRunnerEvent {
        Task {
            do { for try await e in seq { events.withLock { $0.append(e) } } } catch {}
        }
    }
}

/// Polls (in real time) until `condition` holds; fails the test after 5 s.
func eventually(_ what: String, _ condition: () -> Bool) async {
    for _ in 0..<5000 {
        if condition() { return }
        try? await Task.sleep(for: .milliseconds(1))
    }
    Issue.record("timed out waiting for \(what)")
}

@Suite("Runner over a manual clock")
struct RunnerTests {
    func makeRunner(_ configs: [VirtualRouterConfiguration]) throws
        -> (VRRPRunner<ManualClock, Recorder, Recorder, Recorder>, ManualClock, Recorder) {
        let clock = ManualClock()
        let ports = Recorder()
        let runner = VRRPRunner(engine: try VRRPEngine(routers: configs), clock: clock,
                                transport: ports, addressPlane: ports, announcer: ports)
        return (runner, clock, ports)
    }

    @Test("startup, the master-down deadline, and the MASTER actions go through the ports in order")
    func becomesMaster() async throws {
        let (runner, clock, ports) = try makeRunner([T.config()])
        let log = EventLog()
        let collector = log.start(runner.events)
        let loop = Task { await runner.run() }
        runner.submit(.startup)
        await eventually("the down timer") { clock.nextWakeUp == .init(offset: .nanoseconds(3_609_375_000)) }
        #expect(ports.entries.isEmpty)
        clock.advance(to: .init(offset: .nanoseconds(3_609_375_000)))
        await eventually("the advert timer") { clock.nextWakeUp == .init(offset: .nanoseconds(4_609_375_000)) }
        #expect(ports.entries == [
            "send eth0 192.0.2.1->224.0.0.18 vrid 51 prio 100",
            "add [192.0.2.100/24] eth0",
            "announce [192.0.2.100] x5 eth0",
        ])
        clock.advance(by: .seconds(1))
        await eventually("the second advert") { ports.entries.count == 4 }
        let snap = await runner.snapshot()
        #expect(snap.engine.routers[0].state == .master)
        #expect(snap.statistics.timerWakeUps == 2)
        #expect(snap.statistics.lateTimers == 0)
        runner.stop()
        await loop.value
        await collector.value
        #expect(log.all.contains(.transition(instance: "VI_1", from: .initialize, to: .backup, reason: .startup, priority: 100)))
        #expect(log.all.contains(.transition(instance: "VI_1", from: .backup, to: .master, reason: .masterDownTimer, priority: 100)))
    }

    @Test("received packets are routed to the engine; a higher priority sends the MASTER back to BACKUP")
    func packets() async throws {
        let (runner, clock, ports) = try makeRunner([T.config(priority: 255)])
        let log = EventLog()
        let collector = log.start(runner.events)
        let loop = Task { await runner.run() }
        runner.submit(.startup)
        await eventually("owner MASTER") { ports.entries.count == 3 }
        runner.submit(.packet(T.advert(from: "192.0.2.9", priority: 255), interface: "eth0"))
        runner.submit(.packet(T.advert(priority: 100, vrid: 99), interface: "eth0"))
        await eventually("BACKUP") { log.all.contains { if case .transition(_, _, .backup, _, _) = $0 { true } else { false } } }
        #expect(ports.entries.suffix(2) == ["cancel announcements [192.0.2.100] eth0", "remove [192.0.2.100/24] eth0"])
        await eventually("the unrouted drop") { log.all.contains(.drop(instance: nil, reason: .unknownVirtualRouter, source: T.ip("192.0.2.2"))) }
        _ = clock
        runner.stop()
        await loop.value
        await collector.value
    }

    @Test("a late wake-up is measured and reported")
    func lateTimer() async throws {
        let (runner, clock, _) = try makeRunner([T.config()])
        let log = EventLog()
        let collector = log.start(runner.events)
        let loop = Task { await runner.run() }
        runner.submit(.startup)
        await eventually("the down timer") { clock.sleeperCount == 1 }
        clock.advance(to: .init(offset: .nanoseconds(3_609_375_000 + 250_000_000)))
        await eventually("the late report") { log.all.contains(.lateTimer(by: .milliseconds(250))) }
        let snap = await runner.snapshot()
        #expect(snap.statistics.lateTimers == 1)
        #expect(snap.statistics.maximumLateness == .milliseconds(250))
        #expect(snap.statistics.latenessBuckets == [0, 0, 0, 1, 0])
        runner.stop()
        await loop.value
        await collector.value
    }

    @Test("a failing port is reported and the loop goes on")
    func portFailure() async throws {
        let (runner, clock, ports) = try makeRunner([T.config(priority: 255)])
        ports.failSends.withLock { $0 = true }
        let log = EventLog()
        let collector = log.start(runner.events)
        let loop = Task { await runner.run() }
        runner.submit(.startup)
        await eventually("the failure") {
            log.all.contains { if case .portFailure("VI_1", _, "network is unreachable") = $0 { true } else { false } }
        }
        #expect(ports.entries == ["add [192.0.2.100/24] eth0", "announce [192.0.2.100] x5 eth0"])
        ports.failSends.withLock { $0 = false }
        clock.advance(by: .seconds(1))
        await eventually("the next advert") { ports.entries.count == 3 }
        runner.stop()
        await loop.value
        await collector.value
    }
}
