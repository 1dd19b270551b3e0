import Foundation
import NIOCore
import NIOPosix
import Synchronization
import IntegrationSupport
import Testing
import VRRPCore
@testable import kad

/// A parsed Prometheus text exposition: sample values by series, and the declared types.
struct Exposition {
    /// `name{k="v",...}` with the labels sorted → value.
    var samples: [String: Double] = [:]
    var types: [String: String] = [:]
    var problems: [String] = []

    static func series(_ name: String, _ labels: [String: String] = [:]) -> String {
        labels.isEmpty ? name : name + "{" + labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\($0.value)\"" }
            .joined(separator: ",") + "}"
    }

    init(_ text: String) {
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) where !line.isEmpty {
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                if parts.count == 4 { types[String(parts[2])] = String(parts[3]) } else { problems.append(String(line)) }
                continue
            }
            if line.hasPrefix("#") { continue }
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                problems.append(String(line))
                continue
            }
            let series = line[..<space]
            guard let brace = series.firstIndex(of: "{") else {
                samples[String(series)] = value
                continue
            }
            guard series.hasSuffix("}") else {
                problems.append(String(line))
                continue
            }
            var labels: [String: String] = [:]
            var rest = series[series.index(after: brace)..<series.index(before: series.endIndex)]
            while !rest.isEmpty {
                guard let eq = rest.firstIndex(of: "="), rest[rest.index(after: eq)] == "\"" else {
                    problems.append(String(line))
                    break
                }
                let key = String(rest[..<eq])
                var i = rest.index(eq, offsetBy: 2)
                var v = ""
                while i < rest.endIndex, rest[i] != "\"" {
                    if rest[i] == "\\" { i = rest.index(after: i) }
                    v.append(rest[i])
                    i = rest.index(after: i)
                }
                labels[key] = v
                rest = rest[rest.index(after: i)...]
                if rest.first == "," { rest = rest.dropFirst() }
            }
            samples[Self.series(String(series[..<brace]), labels)] = value
        }
    }

    subscript(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples[Self.series(name, labels)]
    }

    /// The series of `name`.
    func all(_ name: String) -> [String] {
        samples.keys.filter { $0 == name || $0.hasPrefix(name + "{") }.sorted()
    }
}

/// Sends `request` over TCP to `address` and reads until the server closes.
func rawHTTP(_ request: String, to address: SocketAddress) async throws -> String {
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .connectTimeout(.seconds(2))
        .connect(to: address) { channel in
            channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
        }
    return try await withThrowingTaskGroup(of: String.self) { group in
        group.addTask {
            try await channel.executeThenClose { inbound, outbound in
                try await outbound.write(ByteBuffer(string: request))
                var reply = ByteBuffer()
                for try await var chunk in inbound { reply.writeBuffer(&chunk) }
                return String(buffer: reply)
            }
        }
        group.addTask {
            try await Task.sleep(for: .seconds(5))
            throw ChannelError.connectTimeout(.seconds(5))
        }
        let reply = try await group.next()!
        group.cancelAll()
        return reply
    }
}

extension HostAccessSuites {
    @Suite struct MetricsTests {
        static func instance(_ name: String) -> [String: String] { ["instance": name] }

        @Test func snapshotCountersMatchTheEngine() throws {
            let d = try StatusFixture.driven()
            let metrics = DaemonMetrics(version: "9.9.9", startTime: Date(timeIntervalSince1970: 1000))
            metrics.update(engine: d.engine, statistics: d.statistics)
            let e = Exposition(metrics.exposition())
            #expect(e.problems.isEmpty)
            for r in d.engine.routers {
                let i = Self.instance(r.configuration.name)
                let k = r.counters
                #expect(e["kad_vrrp_adverts_sent_total", i] == Double(k.advertisementsSent))
                #expect(e["kad_vrrp_adverts_received_total", i] == Double(k.advertisementsReceived))
                #expect(e["kad_vrrp_priority_zero_sent_total", i] == Double(k.priorityZeroSent))
                #expect(e["kad_vrrp_became_master_total", i] == Double(k.transitions(to: .master)))
                #expect(e["kad_vrrp_master_heard_lower_priority_total", i] == Double(k.lowerPriorityReceivedAsMaster))
                #expect(e["kad_vrrp_foreign_address_adverts_total", i] == Double(k.addressListMismatches))
                #expect(e["kad_vrrp_priority_effective", i] == Double(r.effectivePriority))
                #expect(e["kad_vrrp_priority_base", i] == Double(r.configuration.priority))
                #expect(e["kad_vrrp_state_code", i] == Double(r.state.rawValue))
                for s in VRRPState.allCases {
                    #expect(e["kad_vrrp_state", i.merging(["state": s.description]) { a, _ in a }] == (r.state == s ? 1 : 0))
                }
            }
            let vi1 = Self.instance("VI_1")
            #expect(e["kad_vrrp_master_heard_lower_priority_total", vi1] == 2)
            #expect(e["kad_vrrp_foreign_address_adverts_total", vi1] == 1)
            #expect(e["kad_vrrp_drops_total", ["instance": "VI_1", "reason": "bad_hop_limit"]] == 1)
            #expect(e["kad_vrrp_drops_total", ["instance": "", "reason": "unknown_vrid"]] == 1)
            #expect(e["kad_vrrp_drops_total", ["instance": "", "reason": "malformed_ip_header"]] == 1)
            #expect(e.all("kad_vrrp_drops_total").count == 3)  // only reasons seen
            #expect(e["kad_vrrp_released_master_total", Self.instance("VI_2")] == 1)
            #expect(e["kad_vrrp_instance_info", ["instance": "VI_6", "interface": "eth0", "vrid": "61", "family": "IPv6",
                                                "version": "3"]] == 1)
            #expect(e["kad_vrrp_advert_interval_seconds", Self.instance("VI_6")] == 0.5)
            #expect(e["kad_vrrp_tracker_status", ["instance": "VI_1", "tracker": "chk_web", "kind": "script"]] == 0)
            #expect(e["kad_vrrp_tracker_status", ["instance": "VI_1", "tracker": "eth1", "kind": "interface"]] == 1)
            #expect(e["kad_vrrp_tracker_priority_delta", ["instance": "VI_1", "tracker": "chk_web", "kind": "script"]] == -20)
            #expect(e["kad_vrrp_sync_group_state", ["group": "G1", "state": "BACKUP"]] == 1)
            #expect(e["kad_vrrp_sync_group_state", ["group": "G1", "state": "MASTER"]] == 0)
            #expect(e["kad_runner_timer_wakeups_total"] == Double(d.statistics.timerWakeUps))
            #expect(e["kad_runner_late_timers_total"] == 0)
            #expect(e["kad_runner_timer_lateness_max_seconds"] == 0)
            #expect(e["kad_runner_timer_wakeups_by_lateness_total", ["lateness": "lt_1ms"]] == Double(d.statistics.timerWakeUps))
            #expect(e["kad_build_info", ["version": "9.9.9"]] == 1)
            #expect(e["kad_start_time_seconds"] == 1000)
            #expect(e.types["kad_vrrp_adverts_sent_total"] == "counter")
            #expect(e.types["kad_vrrp_state"] == "gauge")
            #expect(e.types["kad_vrrp_drops_total"] == "counter")
        }

        @Test func countersFollowTheEngineAndNeverDrift() throws {
            var d = try StatusFixture.driven()
            let metrics = DaemonMetrics()
            metrics.update(engine: d.engine, statistics: d.statistics)
            metrics.update(engine: d.engine, statistics: d.statistics)  // a second scrape adds nothing
            let before = Exposition(metrics.exposition())
            let sent = d.router("VI_1").counters.advertisementsSent
            #expect(before["kad_vrrp_adverts_sent_total", Self.instance("VI_1")] == Double(sent))
            d.run(until: .seconds(15))
            metrics.update(engine: d.engine, statistics: d.statistics)
            let after = Exposition(metrics.exposition())
            let later = d.router("VI_1").counters.advertisementsSent
            #expect(later > sent)
            #expect(after["kad_vrrp_adverts_sent_total", Self.instance("VI_1")] == Double(later))
        }

        @Test func seriesOfRemovedInstancesDisappear() throws {
            var d = try StatusFixture.driven()
            let metrics = DaemonMetrics()
            metrics.record(.transition(instance: "VI_6", from: .backup, to: .master, reason: .masterDownTimer, priority: 100))
            metrics.update(engine: d.engine, statistics: d.statistics)
            #expect(Exposition(metrics.exposition())["kad_vrrp_transitions_total",
                                                      ["instance": "VI_6", "from": "BACKUP", "to": "MASTER"]] == 1)
            let kept = StatusFixture.routers.filter { $0.name != "VI_6" }
            _ = try d.engine.reload(routers: kept, syncGroups: [], now: d.now)
            metrics.update(engine: d.engine, statistics: d.statistics)
            let text = metrics.exposition()
            #expect(!text.contains("VI_6"))
            #expect(!text.contains("group=\"G1\""))
            let e = Exposition(text)
            #expect(e.problems.isEmpty)
            #expect(e["kad_vrrp_adverts_sent_total", Self.instance("VI_1")] == Double(d.router("VI_1").counters.advertisementsSent))
            #expect(e["kad_vrrp_drops_total", ["instance": "VI_1", "reason": "bad_hop_limit"]] == 1)
        }

        @Test func eventsCountTransitionsNoticesAndFailures() throws {
            let metrics = DaemonMetrics()
            metrics.record(.transition(instance: "VI_1", from: .initialize, to: .backup, reason: .startup, priority: 100))
            metrics.record(.transition(instance: "VI_1", from: .backup, to: .master, reason: .masterDownTimer, priority: 100))
            metrics.record(.transition(instance: "VI_1", from: .master, to: .backup, reason: .shutdown, priority: 100))
            metrics.record(.transition(instance: "VI_1", from: .backup, to: .master, reason: .masterDownTimer, priority: 100))
            metrics.record(.groupTransition(group: "G1", from: .backup, to: .master))
            metrics.record(.notice(instance: "VI_1", .masterReceivedLowerPriority(from: StatusFixture.ip("192.0.2.7"), priority: 50)))
            metrics.record(.notice(instance: "VI_1", .addressListMismatch(from: StatusFixture.ip("192.0.2.7"))))
            metrics.record(.portFailure(instance: "VI_1", action: "send advert prio 100 to 224.0.0.18", error: "ENETUNREACH"))
            metrics.record(.portFailure(instance: "VI_1", action: "add addresses [192.0.2.100/24]", error: "EPERM"))
            metrics.record(.drop(instance: "VI_1", reason: .badChecksum, source: nil))  // from the snapshot, not here
            metrics.record(.lateTimer(by: .seconds(2)))  // likewise
            let e = Exposition(metrics.exposition())
            #expect(e.problems.isEmpty)
            #expect(e["kad_vrrp_transitions_total", ["instance": "VI_1", "from": "BACKUP", "to": "MASTER"]] == 2)
            #expect(e["kad_vrrp_transitions_total", ["instance": "VI_1", "from": "INIT", "to": "BACKUP"]] == 1)
            #expect(e["kad_vrrp_transitions_total", ["instance": "VI_1", "from": "MASTER", "to": "BACKUP"]] == 1)
            #expect(e["kad_vrrp_sync_group_transitions_total", ["group": "G1", "from": "BACKUP", "to": "MASTER"]] == 1)
            #expect(e["kad_vrrp_notices_total", ["instance": "VI_1", "notice": "master_rx_lower_priority"]] == 1)
            #expect(e["kad_vrrp_notices_total", ["instance": "VI_1", "notice": "address_list_mismatch"]] == 1)
            #expect(e["kad_port_failures_total", ["instance": "VI_1", "action": "send_advert"]] == 1)
            #expect(e["kad_port_failures_total", ["instance": "VI_1", "action": "add_addresses"]] == 1)
            let last = try #require(e["kad_vrrp_last_transition_timestamp_seconds", Self.instance("VI_1")])
            #expect(abs(last - Date().timeIntervalSince1970) < 60)
            #expect(e.all("kad_vrrp_drops_total").isEmpty)
            #expect(e["kad_runner_late_timers_total"] == nil)
        }

        @Test func runnerEventsAndSnapshotsAgree() async throws {
            let story = try RunnerStory()
            let metrics = DaemonMetrics()
            let events = Mutex<[VRRPRunnerEvent]>([])
            let runner = story.runner
            let collector = Task {
                for await e in runner.events {
                    metrics.record(e)
                    events.withLock { $0.append(e) }
                }
            }
            let snapshot = await story.play()
            await story.finish()
            await collector.value
            metrics.update(snapshot)
            let e = Exposition(metrics.exposition())
            #expect(e.problems.isEmpty)
            for r in snapshot.engine.routers {
                let name = r.configuration.name
                #expect(e["kad_vrrp_adverts_sent_total", Self.instance(name)] == Double(r.counters.advertisementsSent))
                #expect(e["kad_vrrp_adverts_received_total", Self.instance(name)] == Double(r.counters.advertisementsReceived))
                // Every transition the engine counted arrived as an event.
                let toMaster = e.all("kad_vrrp_transitions_total").filter { $0.contains("instance=\"\(name)\"") && $0.contains("to=\"MASTER\"") }
                    .compactMap { e.samples[$0] }.reduce(0, +)
                #expect(toMaster == Double(r.counters.transitions(to: .master)))
            }
            let all = events.withLock { $0 }
            let lower = all.filter { if case .notice(_, .masterReceivedLowerPriority) = $0 { true } else { false } }.count
            #expect(e["kad_vrrp_notices_total", ["instance": "VI_1", "notice": "master_rx_lower_priority"]] == Double(lower))
            #expect(e["kad_vrrp_master_heard_lower_priority_total", Self.instance("VI_1")] == Double(lower))
            #expect(e["kad_vrrp_drops_total", ["instance": "", "reason": "unknown_vrid"]] == 1)
            #expect(e["kad_runner_timer_wakeups_total"] == Double(snapshot.statistics.timerWakeUps))
            #expect(e["kad_vrrp_sync_group_transitions_total", ["group": "G1", "from": "MASTER", "to": "BACKUP"]] == 1)
        }

        @Test(arguments: [
            ("127.0.0.1:9650", "127.0.0.1", 9650), ("[::1]:9100", "::1", 9100), (":9650", nil, 9650),
            ("0.0.0.0:1", "0.0.0.0", 1), ("[fe80::1]:65535", "fe80::1", 65535),
        ] as [(String, String?, Int)])
        func endpointsParse(text: String, host: String?, port: Int) throws {
            let endpoint = try MetricsEndpoint(parsing: text)
            #expect(endpoint.host == host)
            #expect(endpoint.port == port)
            #expect(endpoint.description == text)
        }

        @Test(arguments: [
            ("", "expected HOST:PORT, [IPV6]:PORT or :PORT (for example 127.0.0.1:9650)"),
            ("9650", "expected HOST:PORT, [IPV6]:PORT or :PORT (for example 127.0.0.1:9650)"),
            ("127.0.0.1", "expected HOST:PORT, [IPV6]:PORT or :PORT (for example 127.0.0.1:9650)"),
            ("127.0.0.1:", "missing port"),
            ("127.0.0.1:0", "port '0' is not a number from 1 to 65535"),
            ("127.0.0.1:65536", "port '65536' is not a number from 1 to 65535"),
            ("127.0.0.1:http", "port 'http' is not a number from 1 to 65535"),
            ("::1:9100", "put an IPv6 address in brackets, as in [::1]:9650"),
            ("[::1]9100", "expected ':PORT' after ']'"),
            ("[::1:9100", "missing ']' after the IPv6 address"),
            ("[192.0.2.1]:80", "'192.0.2.1' is not an IPv6 address"),
            ("localhost:9650", "'localhost' is not an IPv4 address (use an address, [IPV6], or nothing for all addresses)"),
            ("300.1.1.1:80", "'300.1.1.1' is not an IPv4 address (use an address, [IPV6], or nothing for all addresses)"),
        ])
        func badEndpointsSayWhy(text: String, reason: String) {
            #expect {
                _ = try MetricsEndpoint(parsing: text)
            } throws: { error in
                (error as? MetricsEndpoint.ParseError)?.description == "invalid metrics address '\(text)': \(reason)"
            }
        }

        @Test func httpServerServesMetricsOverLoopback() async throws {
            let d = try StatusFixture.driven()
            let metrics = DaemonMetrics()
            let engine = d.engine
            let statistics = d.statistics
            let scrapes = Mutex(0)
            let server = try await MetricsServer.start(host: "127.0.0.1", port: 0) {
                scrapes.withLock { $0 += 1 }
                metrics.update(engine: engine, statistics: statistics)
                return metrics.exposition()
            }
            let address = server.localAddress
            #expect(address.ipAddress == "127.0.0.1")
            #expect((address.port ?? 0) > 0)

            let reply = try await rawHTTP("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", to: address)
            let (head, body) = try #require(Self.split(reply))
            #expect(head.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(head.lowercased().contains("content-type: text/plain; version=0.0.4; charset=utf-8"))
            #expect(head.lowercased().contains("content-length: \(body.utf8.count)"))
            let e = Exposition(body)
            #expect(e.problems.isEmpty)
            #expect(e["kad_vrrp_adverts_sent_total", Self.instance("VI_1")] == Double(d.router("VI_1").counters.advertisementsSent))

            let missing = try await rawHTTP("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", to: address)
            #expect(missing.hasPrefix("HTTP/1.1 404 Not Found\r\n"))
            let post = try await rawHTTP("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                                         to: address)
            #expect(post.hasPrefix("HTTP/1.1 405 Method Not Allowed\r\n"))
            let head2 = try await rawHTTP("HEAD /metrics?x=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", to: address)
            #expect(head2.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(head2.hasSuffix("\r\n\r\n"))  // no body
            // Keep-alive: two requests on one connection.
            let two = try await rawHTTP("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\nGET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                                        to: address)
            #expect(two.components(separatedBy: "HTTP/1.1 200 OK\r\n").count == 3)
            #expect(scrapes.withLock { $0 } == 4)
            await server.stop()
            await #expect(throws: (any Error).self) {
                _ = try await rawHTTP("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", to: address)
            }
        }

        @Test func stopClosesIdleKeepAliveConnections() async throws {
            let served = Mutex(false)
            let server = try await MetricsServer.start(host: "127.0.0.1", port: 0) {
                served.withLock { $0 = true }
                return "x 1\n"
            }
            let address = server.localAddress
            let reading = Task { try await rawHTTP("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", to: address) }
            // Stop only once the request was answered (under load 100 ms may not be enough).
            let clock = ContinuousClock()
            let deadline = clock.now + .seconds(10)
            while !served.withLock({ $0 }), clock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
            try await Task.sleep(for: .milliseconds(50))
            let started = ContinuousClock.now
            await server.stop()
            let reply = try await reading.value
            #expect(reply.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(ContinuousClock.now - started < .seconds(2))
        }

        @Test func everyAddressMeansIPv6AndIPv4() async throws {
            let server = try await MetricsServer.start(MetricsEndpoint(host: nil, port: 0)) { "x 1\n" }
            let port = try #require(server.localAddress.port)
            let reply = try await rawHTTP("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                                          to: try SocketAddress(ipAddress: "127.0.0.1", port: port))
            #expect(reply.hasSuffix("\r\n\r\nx 1\n"))
            await server.stop()
        }

        static func split(_ reply: String) -> (String, String)? {
            guard let r = reply.range(of: "\r\n\r\n") else { return nil }
            return (String(reply[..<r.upperBound]), String(reply[r.upperBound...]))
        }
    }
}
