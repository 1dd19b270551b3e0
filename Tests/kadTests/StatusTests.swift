import Foundation
import Synchronization
import Testing
import VRRPCore
@testable import kad

/// A small node driven through a known story, shared by the status, dump and metrics tests.
///
/// Three routers on eth0: VI_1 (VRID 51, priority 100, VRRPv2 multicast; tracks script
/// chk_web with weight -20 and interface eth1 with weight 0), VI_2 (VRID 52, priority 150,
/// unicast to two peers) and VI_6 (VRID 61, IPv6, VRRPv3, 0.5 s); VI_2 and VI_6 form sync
/// group G1. The story: startup, eth1 and chk_web report up, 10 s pass (everyone becomes
/// MASTER), then VI_1 hears two losing adverts (one with a foreign address list) and one with
/// TTL 64, a packet for VRID 99 and a malformed datagram arrive, VI_2 hears priority 200 (the
/// group goes BACKUP), and chk_web fails (VI_1 drops to 80).
enum StatusFixture {
    static func ip(_ s: String) -> IPAddress { IPAddress(s)! }

    static var routers: [VirtualRouterConfiguration] {
        var vi1 = VirtualRouterConfiguration(name: "VI_1", virtualRouterID: 51, interface: "eth0",
                                             primaryAddress: ip("192.0.2.1"),
                                             addresses: [VirtualAddress(ip("192.0.2.100"), prefixLength: 24)])
        vi1.trackers = [TrackerBinding(TrackedObjectID(.script, "chk_web"), weight: -20),
                        TrackerBinding(TrackedObjectID(.interface, "eth1"))]
        var vi2 = VirtualRouterConfiguration(name: "VI_2", virtualRouterID: 52, interface: "eth0",
                                             primaryAddress: ip("192.0.2.1"),
                                             addresses: [VirtualAddress(ip("192.0.2.200"), prefixLength: 24)])
        vi2.priority = 150
        vi2.unicastPeers = [UnicastPeer(ip("192.0.2.2")), UnicastPeer(ip("192.0.2.3"))]
        var vi6 = VirtualRouterConfiguration(name: "VI_6", virtualRouterID: 61, interface: "eth0",
                                             primaryAddress: ip("fe80::1"),
                                             addresses: [VirtualAddress(ip("fe80::100"), prefixLength: 64),
                                                         VirtualAddress(ip("2001:db8::100"), prefixLength: 64)])
        vi6.advertisementInterval = 50
        return [vi1, vi2, vi6]
    }

    static let groups = [SyncGroupConfiguration(name: "G1", members: ["VI_2", "VI_6"])]

    static func advert(from source: String, priority: UInt8, vrid: UInt8 = 51, addresses: [String] = ["192.0.2.100"],
                       destination: String = "224.0.0.18", hopLimit: UInt8 = 255) -> VRRPEngine.Input {
        let a = VRRPAdvertisement(version: .v2, virtualRouterID: vrid, priority: priority, advertisementInterval: 100,
                                  addresses: VRRPAddressList(family: .ipv4, addresses.map(ip)),
                                  authenticationType: 0, authenticationData: 0)
        return .packet(VRRPReceivedPacket(advertisement: a, source: ip(source), destination: ip(destination),
                                          hopLimit: hopLimit, checksumForm: .messageOnly), interface: "eth0")
    }

    /// The first part of the story: until everyone is MASTER.
    static let opening: [VRRPEngine.Input] = [
        .startup, .interfaceChanged("eth1", up: true), .trackerChanged(TrackedObjectID(.script, "chk_web"), .up),
    ]

    /// The second part, at 10 s.
    static let incidents: [VRRPEngine.Input] = [
        advert(from: "192.0.2.7", priority: 50),
        advert(from: "192.0.2.8", priority: 60, addresses: ["192.0.2.99"]),
        advert(from: "192.0.2.9", priority: 90, hopLimit: 64),
        advert(from: "192.0.2.7", priority: 50, vrid: 99),
        .ipv4Datagram([0x00, 0x01], interface: "eth0"),
        advert(from: "192.0.2.9", priority: 200, vrid: 52, addresses: ["192.0.2.200"], destination: "192.0.2.1"),
        .trackerChanged(TrackedObjectID(.script, "chk_web"), .down),
    ]

    /// Drives a ``VRRPEngine`` directly, delivering every timer on time.
    struct Driver {
        var engine: VRRPEngine
        var now = VRRPInstant.zero
        var statistics = VRRPRunnerStatistics()
        var actions: [VRRPEngine.Action] = []

        init() throws {
            engine = try VRRPEngine(routers: StatusFixture.routers, syncGroups: StatusFixture.groups)
        }

        mutating func input(_ i: VRRPEngine.Input) { actions += engine.handle(i, now: now) }

        mutating func run(until t: VRRPInstant) {
            while let d = engine.nextDeadline, d <= t {
                now = d
                actions += engine.handle(.timerFired, now: d)
                statistics.timerWakeUps += 1
                statistics.latenessBuckets[0] += 1
            }
            now = t
        }

        func router(_ name: String) -> VirtualRouter { engine.routers[engine.index(of: name)!] }
    }

    /// The whole story, directly on the engine; ends at 10.25 s.
    static func driven() throws -> Driver {
        var d = try Driver()
        for i in opening { d.input(i) }
        d.run(until: .seconds(10))
        for i in incidents { d.input(i) }
        d.run(until: .seconds(10.25))
        return d
    }

    static let daemon = DaemonInfo(pid: 4242, configFile: "/etc/keepalived/keepalived.conf", version: "9.9.9",
                                   startTime: Date(timeIntervalSince1970: 1_700_000_000))
    /// One hour, one minute and one second after ``daemon``'s start.
    static let reportDate = Date(timeIntervalSince1970: 1_700_003_661)

    static func report() throws -> (StatusReport, Driver) {
        let d = try driven()
        return (StatusReport(engine: d.engine, statistics: d.statistics, now: d.now, daemon: daemon, at: reportDate), d)
    }
}

/// Ports that accept everything (the runner tests check what goes through them; these tests
/// only need the runner's snapshots and events).
final class NullPorts: VRRPTransport, VRRPAddressPlane, VRRPAnnouncer {
    func send(_ a: VRRPAdvertisement, source: IPAddress, destination: IPAddress, checksumForm: VRRPChecksumForm,
              interface: String) async throws {}
    func add(_ addresses: [VirtualAddress], interface: String) async throws {}
    func remove(_ addresses: [VirtualAddress], interface: String) async throws {}
    func add(_ routes: [VirtualRoute]) async throws {}
    func remove(_ routes: [VirtualRoute]) async throws {}
    func add(_ rules: [VirtualRule]) async throws {}
    func remove(_ rules: [VirtualRule]) async throws {}
    func setAcceptMode(_ accept: Bool, addresses: [VirtualAddress], interface: String) async throws {}
    func announce(_ addresses: [VirtualAddress], rounds: Int, interface: String, virtualRouterID: UInt8) async throws {}
}

/// The same story through a real ``VRRPRunner`` over a ``ManualClock``, for snapshots and events.
struct RunnerStory {
    let runner: VRRPRunner<ManualClock, NullPorts, NullPorts, NullPorts>
    let clock = ManualClock()
    let loop: Task<Void, Never>

    init() throws {
        let ports = NullPorts()
        runner = VRRPRunner(engine: try VRRPEngine(routers: StatusFixture.routers, syncGroups: StatusFixture.groups),
                            clock: clock, transport: ports, addressPlane: ports, announcer: ports)
        let r = runner
        loop = Task { await r.run() }
    }

    /// Moves the clock to `target`, one deadline at a time, letting the runner handle each.
    func advance(to target: Duration) async {
        while let next = clock.nextWakeUp, next.offset <= target {
            clock.advance(to: next)
            await waitUntil("the runner re-arms after \(next.offset)") {
                clock.sleeperCount > 0 && (clock.nextWakeUp.map { $0 > next } ?? false)
            }
        }
        clock.advance(to: .init(offset: target))
    }

    /// Runs the whole story; returns the final snapshot.
    func play() async -> VRRPRunnerSnapshot {
        for i in StatusFixture.opening { runner.submit(i) }
        await waitUntil("the first timers") { clock.sleeperCount > 0 }
        await advance(to: .seconds(10))
        for i in StatusFixture.incidents { runner.submit(i) }
        _ = await runner.snapshot()
        await waitUntil("the timers after the incidents") { clock.sleeperCount > 0 }
        await advance(to: .milliseconds(10_250))
        return await runner.snapshot()
    }

    func finish() async {
        runner.stop()
        await loop.value
    }
}

/// Polls (in real time) until `condition` holds; records an issue after 5 s.
func waitUntil(_ what: String, _ condition: () -> Bool) async {
    for _ in 0..<5000 {
        if condition() { return }
        try? await Task.sleep(for: .milliseconds(1))
    }
    Issue.record("timed out waiting for \(what)")
}

@Suite struct StatusTests {
    @Test func theStoryEndsWhereItShould() throws {
        let d = try StatusFixture.driven()
        #expect(d.router("VI_1").state == .master)
        #expect(d.router("VI_1").effectivePriority == 80)
        #expect(d.router("VI_2").state == .backup)
        #expect(d.router("VI_6").state == .backup)
        #expect(d.engine.groupState("G1") == .backup)
    }

    @Test func jsonCarriesEveryField() throws {
        let (report, d) = try StatusFixture.report()
        let json = try report.json()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(object["formatVersion"] as? Int == 1)
        let daemon = try #require(object["daemon"] as? [String: Any])
        #expect(daemon["pid"] as? Int == 4242)
        #expect(daemon["configFile"] as? String == "/etc/keepalived/keepalived.conf")
        #expect(daemon["version"] as? String == "9.9.9")
        #expect(daemon["startedAt"] as? String == "2023-11-14T22:13:20Z")
        #expect(daemon["uptimeSeconds"] as? Double == 3661)

        let instances = try #require(object["instances"] as? [[String: Any]])
        #expect(instances.map { $0["name"] as? String } == ["VI_1", "VI_2", "VI_6"])
        let vi1 = instances[0]
        #expect(vi1["vrid"] as? Int == 51)
        #expect(vi1["interface"] as? String == "eth0")
        #expect(vi1["family"] as? String == "IPv4")
        #expect(vi1["version"] as? Int == 2)
        #expect(vi1["state"] as? String == "MASTER")
        #expect(vi1["basePriority"] as? Int == 100)
        #expect(vi1["effectivePriority"] as? Int == 80)
        #expect(vi1["masterAddress"] as? String == "192.0.2.1")
        #expect(vi1["destinations"] as? [String] == ["224.0.0.18"])
        #expect(vi1["addresses"] as? [String] == ["192.0.2.100/24"])
        #expect(vi1["advertIntervalSeconds"] as? Double == 1)
        #expect(vi1["masterDownTimerSeconds"] == nil)  // MASTER: no down timer
        let nextAdvert = try #require(vi1["nextAdvertSeconds"] as? Double)
        #expect(nextAdvert > 0 && nextAdvert <= 1)
        let counters = try #require(vi1["counters"] as? [String: Any])
        let k = d.router("VI_1").counters
        #expect(counters["advertsSent"] as? UInt64 == k.advertisementsSent)
        #expect(counters["advertsReceived"] as? Int == 2)
        #expect(counters["becameMaster"] as? Int == 1)
        #expect(counters["releasedMaster"] as? Int == 0)
        #expect(counters["lowerPriorityHeardAsMaster"] as? Int == 2)
        #expect(counters["addressListMismatches"] as? Int == 1)
        #expect(counters["drops"] as? [String: Int] == ["bad_hop_limit": 1])
        #expect(counters["dropsTotal"] as? Int == 1)
        #expect(counters["transitionsTo"] as? [String: Int] == ["FAULT": 1, "BACKUP": 1, "MASTER": 1])
        let trackers = try #require(vi1["trackers"] as? [[String: Any]])
        #expect(trackers.count == 2)
        #expect(trackers[0]["kind"] as? String == "script")
        #expect(trackers[0]["name"] as? String == "chk_web")
        #expect(trackers[0]["status"] as? String == "down")
        #expect(trackers[0]["weight"] as? Int == -20)
        #expect(trackers[0]["priorityDelta"] as? Int == -20)
        #expect(trackers[0]["faulting"] as? Bool == false)
        #expect(trackers[1]["kind"] as? String == "interface")
        #expect(trackers[1]["status"] as? String == "up")

        let vi2 = instances[1]
        #expect(vi2["state"] as? String == "BACKUP")
        #expect(vi2["masterAddress"] as? String == "192.0.2.9")
        #expect(vi2["multicast"] as? Bool == false)
        #expect(vi2["destinations"] as? [String] == ["192.0.2.2", "192.0.2.3"])
        #expect(vi2["syncGroup"] as? String == "G1")
        #expect(vi2["masterDownTimerSeconds"] is Double)
        #expect((vi2["counters"] as? [String: Any])?["releasedMaster"] as? Int == 1)
        let vi6 = instances[2]
        #expect(vi6["family"] as? String == "IPv6")
        #expect(vi6["version"] as? Int == 3)
        #expect(vi6["advertIntervalSeconds"] as? Double == 0.5)
        #expect(vi6["masterAddress"] == nil)  // moved by its group; the winner is unknown

        let groups = try #require(object["syncGroups"] as? [[String: Any]])
        #expect(groups.count == 1)
        #expect(groups[0]["name"] as? String == "G1")
        #expect(groups[0]["state"] as? String == "BACKUP")
        #expect(groups[0]["members"] as? [String] == ["VI_2", "VI_6"])
        #expect(object["unroutedDrops"] as? [String: Int] == ["unknown_vrid": 1, "malformed_ip_header": 1])
        let timers = try #require(object["timers"] as? [String: Any])
        #expect(timers["wakeUps"] as? UInt64 == d.statistics.timerWakeUps)
        #expect((timers["latenessBuckets"] as? [String: Int])?.keys.sorted()
                == ["ge_1s", "lt_100ms", "lt_10ms", "lt_1ms", "lt_1s"])
    }

    @Test func jsonIsStableAndRoundTrips() throws {
        let (report, _) = try StatusFixture.report()
        let json = try report.json()
        #expect(json == (try report.json()))
        #expect(json.hasSuffix("}\n"))
        // Sorted keys: the top-level keys appear in alphabetical order.
        let keys = ["\"daemon\"", "\"formatVersion\"", "\"instances\"", "\"syncGroups\"", "\"timers\"", "\"unroutedDrops\""]
        let positions = keys.map { json.range(of: $0)!.lowerBound }
        #expect(positions == positions.sorted())
        let decoded = try JSONDecoder().decode(StatusReport.self, from: Data(json.utf8))
        #expect(decoded == report)
    }

    @Test func textTableHasOneAlignedLinePerInstance() throws {
        let (report, d) = try StatusFixture.report()
        let lines = report.text().split(separator: "\n").map(String.init)
        #expect(lines.first == "kad 9.9.9  pid 4242  up 1h01m01s  config /etc/keepalived/keepalived.conf")
        let tx1 = d.router("VI_1").counters.advertisementsSent
        let tx2 = d.router("VI_2").counters.advertisementsSent
        let tx6 = d.router("VI_6").counters.advertisementsSent
        #expect(lines[1] == "VI_1  eth0  vrid 51  MASTER  prio 80/100   master 192.0.2.1  adverts tx \(tx1) rx 2  drops 1")
        #expect(lines[2] == "VI_2  eth0  vrid 52  BACKUP  prio 150/150  master 192.0.2.9  adverts tx \(tx2) rx 1")
        #expect(lines[3] == "VI_6  eth0  vrid 61  BACKUP  prio 100/100  master -          adverts tx \(tx6) rx 0")
        #expect(lines[4] == "sync group G1  BACKUP  VI_2, VI_6")
        #expect(lines[5] == "unrouted drops 2: malformed_ip_header 1, unknown_vrid 1")
        #expect(lines[6] == "timers: \(d.statistics.timerWakeUps) wake-ups, 0 late, worst 0.000 ms")
        #expect(lines.count == 7)
    }

    @Test func faultsAndGroupWaitsShowInTheTable() throws {
        var d = try StatusFixture.Driver()
        d.input(.startup)  // eth1 has not reported: VI_1 is in FAULT
        d.run(until: .seconds(2))  // VI_6's down timer expired; it waits for VI_2
        let report = StatusReport(engine: d.engine, statistics: d.statistics, now: d.now, daemon: StatusFixture.daemon,
                                  at: StatusFixture.daemon.startTime)
        let text = report.text()
        #expect(text.contains("VI_1  eth0  vrid 51  FAULT   prio 100/100  master -  adverts tx 0 rx 0  fault: interface eth1 failed\n"))
        #expect(text.contains("VI_6  eth0  vrid 61  BACKUP  prio 100/100  master -  adverts tx 0 rx 0  waiting for sync group\n"))
        #expect(text.hasPrefix("kad 9.9.9  pid 4242  up 0s  "))
        #expect(report.instances[0].trackers[1].faulting)
        #expect(report.instances[0].trackers[1].status == "unknown")
        #expect(report.instances[2].waitingForSyncGroup)
        #expect(report.instances[1].masterDownTimerSeconds == 3.4140625 - 2)
    }

    @Test func noInstances() throws {
        let engine = try VRRPEngine(routers: [])
        let report = StatusReport(engine: engine, statistics: VRRPRunnerStatistics(), now: .zero,
                                  daemon: StatusFixture.daemon, at: StatusFixture.reportDate)
        #expect(report.text().contains("\nno VRRP instances\n"))
        #expect(report.instances.isEmpty)
        #expect(report.unroutedDrops.isEmpty)
    }

    @Test(arguments: [(0.4, "0s"), (59, "59s"), (61, "1m01s"), (3600, "1h00m00s"), (90061, "1d01h01m01s")])
    func uptime(seconds: Double, text: String) {
        #expect(StatusReport.uptime(seconds) == text)
    }

    @Test func reportFromARunnerSnapshot() async throws {
        let story = try RunnerStory()
        let snapshot = await story.play()
        await story.finish()
        let report = StatusReport(snapshot, daemon: StatusFixture.daemon, at: StatusFixture.reportDate)
        let (direct, _) = try StatusFixture.report()
        // The runner and the direct drive tell the same story (timers are relative to each one's now).
        #expect(report.instances.map(\.state) == direct.instances.map(\.state))
        #expect(report.instances.map(\.counters) == direct.instances.map(\.counters))
        #expect(report.syncGroups == direct.syncGroups)
        #expect(report.unroutedDrops == direct.unroutedDrops)
        #expect(report.timers.lateWakeUps == 0)
        #expect(report.timers.wakeUps > 0)
    }
}
