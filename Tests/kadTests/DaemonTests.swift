import Foundation
import IntegrationSupport
import Testing
@testable import kad

/// Whole `kad run` daemons (and keepalived 2.2.7 peers) in network namespaces joined by a
/// bridge; what they put on the wire is captured on the bridge and timed by its timestamps.
///
/// The timings asserted here are protocol rules (a backup never takes over before its
/// Master_Down_Interval) and generous upper bounds; the measured numbers are printed, and the
/// comparisons with keepalived live in the benchmarks (Docs/benchmarks.md).
extension HostAccessSuites {
    @Suite("kad run: daemons in namespaces", .serialized)
    struct DaemonTests {
        /// One LAN, a capture on its bridge, a scratch directory; all removed at the end.
        final class Bench: @unchecked Sendable {
            let lan: TestLAN
            let scratch: ScratchDirectory
            var capture: BridgeCapture?
            var nodes: [KadNode] = []

            init(nodes: Int, capture: Bool = true, test: String = #function) async throws {
                lan = try TestLAN(nodes: nodes)
                scratch = try ScratchDirectory("daemon")
                if capture, BridgeCapture.available { self.capture = try await BridgeCapture(lan: lan, directory: scratch.path) }
            }

            func kad(_ i: Int, _ config: String, _ arguments: [String] = [], name: String? = nil,
                     environment: [String] = []) throws -> KadNode {
                let n = try KadNode(lan: lan, i, scratch: scratch, config: config, arguments: arguments, name: name,
                                    environment: environment)
                nodes.append(n)
                return n
            }

            func wire() async -> WireLog {
                guard let capture else { return WireLog(pcap: []) }
                self.capture = nil
                return WireLog(pcap: await capture.stop())
            }

            /// A veth pair trk0/trk1 inside node 0, both up: an instance tracks trk0, and the test
            /// takes it down by setting trk1 down.
            func trackedLink() throws {
                try lan.ip(0, "link", "add", "trk0", "type", "veth", "peer", "name", "trk1")
                try lan.ip(0, "link", "set", "trk0", "up")
                try lan.ip(0, "link", "set", "trk1", "up")
            }

            /// Every node's log, for a failing expectation's message.
            var logs: String { nodes.map { "--- \($0.configPath)\n\($0.log)" }.joined(separator: "\n") }

            func finish() {
                for n in nodes { n.process.kill9() }
                lan.remove()
                scratch.remove()
            }
        }

        static var ready: Bool {
            guard Integration.available() else { return false }
            if !BridgeCapture.available {
                if Integration.required { Issue.record("tcpdump is missing: the daemon tests read timings from captures") }
                else { print("skipped: tcpdump is missing") }
                return false
            }
            return true
        }

        @Test("election by priority, crash failover no sooner than Master_Down_Interval, a restart after SIGKILL removes the stale VIP, SIGTERM leaves nothing behind")
        func electionCrashRestart() async throws {
            guard Self.ready else { return }
            let b = try await Bench(nodes: 2)
            defer { b.finish() }
            let high = try b.kad(0, vrrpConfig(priority: 150))
            let low = try b.kad(1, vrrpConfig(priority: 100))
            let elected = await waitUntil("the P=150 node taking the VIP", within: .seconds(5)) { b.lan.holds(0, "192.0.2.100") }
            #expect(elected != nil, "\(b.logs)")
            try await Task.sleep(for: .milliseconds(400))
            #expect(b.lan.holds(0, "192.0.2.100") && !b.lan.holds(1, "192.0.2.100"), "\(b.logs)")

            high.process.kill9()
            let took = await waitUntil("the backup taking over after the crash", within: .seconds(3)) { b.lan.holds(1, "192.0.2.100") }
            #expect(took != nil, "\(b.logs)")
            #expect(b.lan.holds(0, "192.0.2.100"), "a SIGKILLed daemon cannot clean up: the stale VIP stays")

            // Restart: the stale VIP is removed first, then the P=150 node preempts again.
            let again = try b.kad(0, vrrpConfig(priority: 150), name: "kad0-restart")
            #expect(await again.process.waitForLog("left behind by an earlier run", within: .seconds(3)), "\(again.log)")
            let back = await waitUntil("the restarted node preempting", within: .seconds(5)) {
                b.lan.holds(0, "192.0.2.100") && !b.lan.holds(1, "192.0.2.100")
            }
            #expect(back != nil, "\(b.logs)")

            let wire = await b.wire()
            // Crash failover, on the wire: the last advert of 192.0.2.1 before the gap, then the
            // first one from 192.0.2.2 with its own priority.
            let fromLow = wire.events.first { if case .advert("192.0.2.2", 51, 100) = $0.kind { true } else { false } }
            if let fromLow, let lastHigh = wire.events.last(where: {
                $0.nanoseconds < fromLow.nanoseconds && { if case .advert("192.0.2.1", 51, 150) = $0.kind { true } else { false } }($0)
            }) {
                let gap = Duration(nanoseconds: fromLow.nanoseconds - lastHigh.nanoseconds)
                // MDI for P=100 at 100 ms: 3 × 100 + 156 × 100 / 256 = 360.9 ms.
                print("crash failover: last master advert → first backup advert \(gap.milliseconds) ms (Master_Down_Interval 360.9 ms)")
                #expect(gap >= .milliseconds(350), "took over before Master_Down_Interval")
                #expect(gap < .milliseconds(1500))
                let garp = wire.first(after: fromLow.nanoseconds - 1) { $0 == .garp(address: "192.0.2.100", mac: "02:00:00:00:00:02") }
                #expect(garp != nil, "the new master announced the VIP")
            } else {
                Issue.record("no failover adverts captured")
            }

            #expect(await again.terminate() == 0, "\(again.log)")
            #expect(await low.terminate() == 0, "\(low.log)")
            #expect(!b.lan.holds(0, "192.0.2.100") && !b.lan.holds(1, "192.0.2.100"), "SIGTERM released every VIP")
            #expect(again.log.contains("(VI_1) Entering MASTER STATE"))
            #expect(low.log.contains("(VI_1) Entering BACKUP STATE"))
        }

        @Test("SIGTERM: the master sends priority 0, releases the VIP and exits 0 within 1 s; the backup takes over after Skew_Time")
        func gracefulHandover() async throws {
            guard Self.ready else { return }
            let b = try await Bench(nodes: 2)
            defer { b.finish() }
            let high = try b.kad(0, vrrpConfig(priority: 150))
            _ = try b.kad(1, vrrpConfig(priority: 100))
            #expect(await waitUntil("election", within: .seconds(5)) { b.lan.holds(0, "192.0.2.100") } != nil, "\(b.logs)")
            try await Task.sleep(for: .milliseconds(300))

            let clock = ContinuousClock()
            let sent = clock.now
            high.process.signal(SIGTERM)
            let status = await high.process.waitForExit(within: .seconds(3))
            let exitTime = clock.now - sent
            print("SIGTERM → exit in \(exitTime.milliseconds) ms")
            #expect(status == 0, "\(high.log)")
            #expect(exitTime < .seconds(1))
            #expect(!b.lan.holds(0, "192.0.2.100"))
            #expect(await waitUntil("the backup taking over", within: .seconds(2)) { b.lan.holds(1, "192.0.2.100") } != nil)

            let wire = await b.wire()
            guard let zero = wire.events.first(where: { $0.kind == .advert(source: "192.0.2.1", vrid: 51, priority: 0) }) else {
                Issue.record("no priority-0 advert captured\n\(b.logs)")
                return
            }
            guard let next = wire.first(after: zero.nanoseconds, where: { $0 == .advert(source: "192.0.2.2", vrid: 51, priority: 100) }) else {
                Issue.record("the backup never advertised")
                return
            }
            let gap = Duration(nanoseconds: next.nanoseconds - zero.nanoseconds)
            // Skew_Time for P=100 at 100 ms: 156 × 100 / 256 = 60.9 ms.
            print("priority-0 handover: \(gap.milliseconds) ms (Skew_Time 60.9 ms)")
            #expect(gap >= .milliseconds(55))
            #expect(gap < .milliseconds(600))
            #expect(high.log.contains("(VI_1) Stopped"))
        }

        @Test("equal priorities: when two masters meet, the higher primary address stays MASTER")
        func equalPriority() async throws {
            guard Self.ready else { return }
            let b = try await Bench(nodes: 2, capture: false)
            defer { b.finish() }
            // Partition the LAN (node 0's port leaves the bridge; its link stays up), so both
            // become MASTER, then join them: a backup never preempts on a tie, two masters do.
            try Shell.run(["ip", "-n", b.lan.hub, "link", "set", "p0", "nomaster"])
            _ = try b.kad(0, vrrpConfig(priority: 100))
            _ = try b.kad(1, vrrpConfig(priority: 100))
            #expect(await waitUntil("two masters while partitioned", within: .seconds(5)) {
                b.lan.holds(0, "192.0.2.100") && b.lan.holds(1, "192.0.2.100")
            } != nil, "\(b.logs)")
            try Shell.run(["ip", "-n", b.lan.hub, "link", "set", "p0", "master", "br0"])
            let settled = await waitUntil("192.0.2.2 alone holding the VIP", within: .seconds(5)) {
                b.lan.holds(1, "192.0.2.100") && !b.lan.holds(0, "192.0.2.100")
            }
            #expect(settled != nil, "\(b.logs)")
            try await Task.sleep(for: .milliseconds(500))
            #expect(b.lan.holds(1, "192.0.2.100") && !b.lan.holds(0, "192.0.2.100"), "\(b.logs)")
        }

        @Test("nopreempt keeps a live lower-priority master; preempt_delay postpones the takeover")
        func preemption() async throws {
            guard Self.ready else { return }
            let b = try await Bench(nodes: 2, capture: false)
            defer { b.finish() }
            _ = try b.kad(1, vrrpConfig(priority: 100))
            #expect(await waitUntil("the P=100 node as master", within: .seconds(5)) { b.lan.holds(1, "192.0.2.100") } != nil)
            let patient = try b.kad(0, vrrpConfig(priority: 150, extra: "nopreempt"))
            try await Task.sleep(for: .milliseconds(1500))
            #expect(b.lan.holds(1, "192.0.2.100") && !b.lan.holds(0, "192.0.2.100"), "nopreempt: \(b.logs)")
            #expect(await patient.terminate() == 0)

            let clock = ContinuousClock()
            let start = clock.now
            _ = try b.kad(0, vrrpConfig(priority: 150, extra: "preempt_delay 1"), name: "kad0-delay")
            let took = await waitUntil("the delayed preemption", within: .seconds(5)) { b.lan.holds(0, "192.0.2.100") }
            #expect(took != nil, "\(b.logs)")
            let after = clock.now - start
            print("preempt_delay 1: took over \(after.milliseconds) ms after start")
            #expect(after >= .seconds(1), "preempted before preempt_delay")
        }

        @Test("IPv6: the master sends unsolicited neighbour advertisements with the Override flag")
        func ipv6() async throws {
            guard Self.ready else { return }
            let b = try await Bench(nodes: 2)
            defer { b.finish() }
            let v6 = ["fe80::100/64", "2001:db8::100/64"]
            _ = try b.kad(0, vrrpConfig(priority: 150, vips: v6))
            _ = try b.kad(1, vrrpConfig(priority: 100, vips: v6))
            #expect(await waitUntil("the v6 VIP on the master", within: .seconds(5)) { b.lan.holds(0, "2001:db8::100") } != nil, "\(b.logs)")
            try await Task.sleep(for: .milliseconds(300))
            #expect(!b.lan.holds(1, "2001:db8::100"))
            let wire = await b.wire()
            #expect(wire.events.contains { $0.kind == .neighborAdvertisement(target: "2001:db8::100", override: true) }, "\(wire.events.map(\.kind))")
            #expect(wire.events.contains { if case .advert(let s, 51, 150) = $0.kind { s.hasPrefix("fe80::") } else { false } })
        }

        @Test("unicast peers elect a master without multicast")
        func unicast() async throws {
            guard Self.ready else { return }
            let b = try await Bench(nodes: 2, capture: false)
            defer { b.finish() }
            func extra(_ me: Int) -> String {
                "unicast_src_ip \(lanAddress(me))\n    unicast_peer {\n        \(lanAddress(1 - me))\n    }"
            }
            _ = try b.kad(0, vrrpConfig(priority: 150, extra: extra(0)))
            _ = try b.kad(1, vrrpConfig(priority: 100, extra: extra(1)))
            #expect(await waitUntil("unicast election", within: .seconds(5)) { b.lan.holds(0, "192.0.2.100") } != nil, "\(b.logs)")
            try await Task.sleep(for: .milliseconds(500))
            #expect(!b.lan.holds(1, "192.0.2.100"), "\(b.logs)")
        }

        @Test("PASS authentication: matching passwords elect one master; a mismatch is dropped and logged")
        func passAuthentication() async throws {
            guard Self.ready else { return }
            let b = try await Bench(nodes: 2, capture: false)
            defer { b.finish() }
            func auth(_ p: String) -> String { "authentication {\n        auth_type PASS\n        auth_pass \(p)\n    }" }
            _ = try b.kad(0, vrrpConfig(priority: 150, version: 2, interval: "1", extra: auth("secret1")))
            let low = try b.kad(1, vrrpConfig(priority: 100, version: 2, interval: "1", extra: auth("secret1")))
            #expect(await waitUntil("election", within: .seconds(6)) { b.lan.holds(0, "192.0.2.100") } != nil, "\(b.logs)")
            try await Task.sleep(for: .milliseconds(1200))
            #expect(!b.lan.holds(1, "192.0.2.100"), "\(b.logs)")
            #expect(await low.terminate() == 0)

            let wrong = try b.kad(1, vrrpConfig(priority: 100, version: 2, interval: "1", extra: auth("other")), name: "kad1-wrong")
            #expect(await waitUntil("the mismatched node becoming master too", within: .seconds(6)) { b.lan.holds(1, "192.0.2.100") } != nil)
            #expect(await wrong.process.waitForLog("authentication", within: .seconds(3)), "\(wrong.log)")
        }

        @Test("track_interface: a tracked link going down puts the master in FAULT, and its return brings it back")
        func trackInterface() async throws {
            guard Self.ready else { return }
            let b = try await Bench(nodes: 2, capture: false)
            defer { b.finish() }
            try b.trackedLink()
            let tracked = "track_interface {\n        trk0\n    }"
            let high = try b.kad(0, vrrpConfig(priority: 150, extra: tracked))
            _ = try b.kad(1, vrrpConfig(priority: 100))
            #expect(await waitUntil("election", within: .seconds(5)) { b.lan.holds(0, "192.0.2.100") } != nil, "\(b.logs)")
            try b.lan.ip(0, "link", "set", "trk1", "down")
            #expect(await waitUntil("failover on the tracked link's loss", within: .seconds(3)) {
                b.lan.holds(1, "192.0.2.100") && !b.lan.holds(0, "192.0.2.100")
            } != nil, "\(b.logs)")
            #expect(high.log.contains("(VI_1) Entering FAULT STATE"), "\(high.log)")
            try b.lan.ip(0, "link", "set", "trk1", "up")
            #expect(await waitUntil("the master's return", within: .seconds(3)) {
                b.lan.holds(0, "192.0.2.100") && !b.lan.holds(1, "192.0.2.100")
            } != nil, "\(b.logs)")
        }

        @Test("SIGHUP: an added VIP is installed with no transition and no re-election; an invalid file keeps the running configuration")
        func reload() async throws {
            guard Self.ready else { return }
            let b = try await Bench(nodes: 2)
            defer { b.finish() }
            let high = try b.kad(0, vrrpConfig(priority: 150))
            // The backup locks its memory (vrrp_no_swap) and so keeps CAP_IPC_LOCK too.
            let low = try b.kad(1, "global_defs {\n    vrrp_no_swap\n    vrrp_rt_priority 10\n}\n" + vrrpConfig(priority: 100))
            #expect(await waitUntil("election", within: .seconds(5)) { b.lan.holds(0, "192.0.2.100") } != nil, "\(b.logs)")
            try await Task.sleep(for: .milliseconds(300))
            #expect(await low.process.waitForLog("Memory locked", within: .seconds(3)), "\(low.log)")
            let lowStatus = (try? String(contentsOfFile: "/proc/\(low.process.pid)/status", encoding: .utf8)) ?? ""
            let locked = lowStatus.split(separator: "\n").first { $0.hasPrefix("VmLck:") }
                .flatMap { $0.split(separator: " ").dropFirst().first }.flatMap { Int($0) } ?? 0
            #expect(locked > 1000, "VmLck \(locked) kB")
            // ... and runs its VRRP threads SCHED_RR at 10 (vrrp_rt_priority), keeping CAP_SYS_NICE.
            #expect(lowStatus.contains("CapEff:\t0000000000807000"), "\(lowStatus.split(separator: "\n").filter { $0.hasPrefix("Cap") })")
            #expect(await low.process.waitForLog("VRRP threads scheduled: SCHED_RR priority 10", within: .seconds(3)), "\(low.log)")
            var realtime: [String] = []
            for tid in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(low.process.pid)/task")) ?? [] {
                guard let comm = try? String(contentsOfFile: "/proc/\(low.process.pid)/task/\(tid)/comm", encoding: .utf8),
                      let stat = try? String(contentsOfFile: "/proc/\(low.process.pid)/task/\(tid)/stat", encoding: .utf8),
                      let close = stat.lastIndex(of: ")") else { continue }
                let fields = stat[stat.index(after: close)...].split(separator: " ")
                if fields.count > 38, fields[38] == "2", fields[37] == "10" { realtime.append(comm.trimmingCharacters(in: .whitespacesAndNewlines)) }
            }
            #expect(realtime.sorted() == ["kad-vrrp", "kad-vrrp-rx"], "threads at SCHED_RR 10: \(realtime)")
            // VRRP's runner has a thread of its own.
            let threads = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(high.process.pid)/task")) ?? []).compactMap {
                try? String(contentsOfFile: "/proc/\(high.process.pid)/task/\($0)/comm", encoding: .utf8)
            }
            #expect(threads.contains { $0.hasPrefix("kad-vrrp\n") || $0 == "kad-vrrp" }, "\(threads)")
            let transitionsBefore = high.log.components(separatedBy: "Entering").count + low.log.components(separatedBy: "Entering").count

            try high.rewrite(vrrpConfig(priority: 150, vips: ["192.0.2.100/24", "192.0.2.101/24"]))
            high.process.signal(SIGHUP)
            #expect(await waitUntil("the added VIP", within: .seconds(3)) { b.lan.holds(0, "192.0.2.101") } != nil, "\(high.log)")
            #expect(b.lan.holds(0, "192.0.2.100"))

            try high.rewrite("vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 300\n")
            high.process.signal(SIGHUP)
            #expect(await high.process.waitForLog("Reload refused", within: .seconds(3)), "\(high.log)")
            try await Task.sleep(for: .milliseconds(400))
            #expect(b.lan.holds(0, "192.0.2.100") && b.lan.holds(0, "192.0.2.101") && !b.lan.holds(1, "192.0.2.100"))
            let transitionsAfter = high.log.components(separatedBy: "Entering").count + low.log.components(separatedBy: "Entering").count
            #expect(transitionsAfter == transitionsBefore, "a reload caused a transition:\n\(b.logs)")

            let wire = await b.wire()
            // The master kept advertising every 100 ms across both reloads.
            let adverts = wire.adverts(from: "192.0.2.1").filter { if case .advert(_, _, 150) = $0.kind { true } else { false } }
            let gaps = zip(adverts.dropFirst(), adverts).map { Duration(nanoseconds: $0.nanoseconds - $1.nanoseconds) }
            #expect(adverts.count > 10)
            #expect(gaps.allSatisfy { $0 < .milliseconds(250) }, "largest gap between adverts: \(gaps.max().map { "\($0)" } ?? "-")")
        }

        @Test("interop: kad master and keepalived backup, then keepalived master and kad backup, with priority-0 handovers")
        func keepalivedInterop() async throws {
            guard Self.ready else { return }
            guard KeepalivedNode.binary != nil else {
                if Integration.required { Issue.record("keepalived is not installed") } else { print("skipped: keepalived is not installed") }
                return
            }
            let b = try await Bench(nodes: 2)
            defer { b.finish() }
            // kad (150) and keepalived (100).
            let kad = try b.kad(0, vrrpConfig(priority: 150))
            let keepalived = try KeepalivedNode(lan: b.lan, 1, scratch: b.scratch, config: vrrpConfig(priority: 100))
            defer { keepalived.process.kill9() }
            #expect(await waitUntil("kad as master", within: .seconds(5)) { b.lan.holds(0, "192.0.2.100") } != nil, "\(b.logs)\n\(keepalived.log)")
            try await Task.sleep(for: .milliseconds(500))
            #expect(!b.lan.holds(1, "192.0.2.100"), "\(keepalived.log)")
            #expect(await kad.terminate() == 0)
            #expect(await waitUntil("keepalived taking over from kad", within: .seconds(2)) { b.lan.holds(1, "192.0.2.100") } != nil)

            // kad comes back at 50: keepalived stays master; keepalived stops: kad takes over.
            let kadLow = try b.kad(0, vrrpConfig(priority: 50), name: "kad0-low")
            #expect(await kadLow.process.waitForLog("Entering BACKUP STATE", within: .seconds(3)))
            try await Task.sleep(for: .milliseconds(600))
            #expect(!b.lan.holds(0, "192.0.2.100") && b.lan.holds(1, "192.0.2.100"), "\(kadLow.log)")
            keepalived.process.signal(SIGTERM)
            #expect(await waitUntil("kad taking over from keepalived", within: .seconds(2)) { b.lan.holds(0, "192.0.2.100") } != nil,
                    "\(kadLow.log)\n\(keepalived.log)")
            _ = await keepalived.process.waitForExit(within: .seconds(5))
            #expect(kadLow.log.contains("Entering MASTER STATE"))
            #expect(!kadLow.log.contains("dropped a packet"), "kad dropped keepalived's adverts:\n\(kadLow.log)")
        }

        @Test("kad demo --fast: election, crash failover, return, stop, and no namespace left behind")
        func demo() async throws {
            guard Self.ready else { return }
            let r = try KadProcess.run(["demo", "--fast"])
            #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
            for step in ["A is MASTER and holds 192.0.2.111", "B holds 192.0.2.111 after", "A holds 192.0.2.111 again",
                         "exit statuses: A 0, B 0; no address left: true", "cleaned up"] {
                #expect(r.stdout.contains(step), "missing '\(step)' in:\n\(r.stdout)")
            }
            let left = try Shell.run(["ip", "netns", "list"])
            #expect(!left.contains("kaddemo"), "namespaces left behind: \(left)")
        }

        @Test("an interface missing at start means FAULT until it appears; one deleted and created again gets its socket back")
        func interfaceComesAndGoes() async throws {
            guard Self.ready else { return }
            let b = try await Bench(nodes: 2, capture: false)
            defer { b.finish() }
            func unplug() throws { try Shell.run(["ip", "-n", b.lan.hub, "link", "del", "p0"]) }
            func plug() throws {
                try Shell.run(["ip", "-n", b.lan.hub, "link", "add", "p0", "type", "veth", "peer", "name", "eth0", "netns", b.lan.nodes[0]])
                try Shell.run(["ip", "-n", b.lan.hub, "link", "set", "p0", "master", "br0", "up"])
                try b.lan.ip(0, "link", "set", "eth0", "up")
                try b.lan.ip(0, "addr", "add", "192.0.2.1/24", "dev", "eth0")
            }
            try unplug()
            let extra = "unicast_src_ip 192.0.2.1"  // no address to resolve while eth0 is missing
            let high = try b.kad(0, vrrpConfig(priority: 150, extra: extra))
            _ = try b.kad(1, vrrpConfig(priority: 100))
            #expect(await high.process.waitForLog("interface eth0 does not exist", within: .seconds(3)), "\(high.log)")
            #expect(await waitUntil("the other node as master", within: .seconds(5)) { b.lan.holds(1, "192.0.2.100") } != nil)
            try plug()
            #expect(await waitUntil("the P=150 node taking over once eth0 exists", within: .seconds(5)) {
                b.lan.holds(0, "192.0.2.100") && !b.lan.holds(1, "192.0.2.100")
            } != nil, "\(b.logs)")

            try unplug()
            #expect(await waitUntil("failover while eth0 is gone", within: .seconds(5)) { b.lan.holds(1, "192.0.2.100") } != nil)
            try plug()
            #expect(await high.process.waitForLog("VRRP socket was opened again", within: .seconds(3)), "\(high.log)")
            #expect(await waitUntil("the P=150 node back on the new eth0", within: .seconds(5)) {
                b.lan.holds(0, "192.0.2.100") && !b.lan.holds(1, "192.0.2.100")
            } != nil, "\(b.logs)")
        }

        @Test("a running daemon answers kad status, serves Prometheus metrics, writes the SIGUSR1/SIGUSR2 dumps; a second daemon on the same pid file is refused")
        func observability() async throws {
            guard Self.ready else { return }
            let b = try await Bench(nodes: 2, capture: false)
            defer { b.finish() }
            let high = try b.kad(0, vrrpConfig(priority: 150), ["--metrics", "127.0.0.1:9464"],
                                 environment: ["KA_TMP_DIR=\(b.scratch.path)"])
            let low = try b.kad(1, vrrpConfig(priority: 100))
            #expect(await waitUntil("election", within: .seconds(5)) { b.lan.holds(0, "192.0.2.100") } != nil, "\(b.logs)")
            try await Task.sleep(for: .milliseconds(300))

            // Only CAP_NET_ADMIN (12) and CAP_NET_RAW (13) are left once the daemon runs.
            #expect(await high.process.waitForLog("Capabilities: kept", within: .seconds(3)), "\(high.log)")
            let status = (try? String(contentsOfFile: "/proc/\(high.process.pid)/status", encoding: .utf8)) ?? ""
            #expect(status.contains("CapEff:\t0000000000003000"), "\(status.split(separator: "\n").filter { $0.hasPrefix("Cap") })")
            let text = try KadProcess.run(["status", "--control-socket", high.socketPath])
            #expect(text.status == 0, "\(text.stderr)")
            #expect(text.stdout.contains("VI_1") && text.stdout.contains("MASTER"), "\(text.stdout)")
            let json = try KadProcess.run(["status", "--json", "--control-socket", low.socketPath])
            #expect(json.status == 0, "\(json.stderr)")
            #expect(json.stdout.contains("\"BACKUP\""), "\(json.stdout)")
            #expect(json.stdout.contains("192.0.2.1"), "the backup names its master: \(json.stdout)")

            let scrape = try Shell.run(["ip", "netns", "exec", b.lan.nodes[0], "bash", "-c",
                "exec 3<>/dev/tcp/127.0.0.1/9464; printf 'GET /metrics HTTP/1.0\\r\\n\\r\\n' >&3; cat <&3"])
            #expect(scrape.contains("200 OK"), "\(scrape)")
            #expect(scrape.contains("kad_vrrp_state{instance=\"VI_1\",state=\"MASTER\"} 1"), "\(scrape)")
            #expect(scrape.contains("kad_vrrp_adverts_sent_total{instance=\"VI_1\"}"), "\(scrape)")

            high.process.signal(SIGUSR1)
            high.process.signal(SIGUSR2)
            #expect(await high.process.waitForLog("Statistics written to", within: .seconds(3)), "\(high.log)")
            #expect(await high.process.waitForLog("Data written to", within: .seconds(3)), "\(high.log)")
            let stats = (try? String(contentsOfFile: b.scratch.file("keepalived.stats"), encoding: .utf8)) ?? ""
            #expect(stats.contains("VRRP Instance: VI_1") && stats.contains("Became master: 1"), "\(stats)")
            let data = (try? String(contentsOfFile: b.scratch.file("keepalived.data"), encoding: .utf8)) ?? ""
            #expect(data.contains("VI_1"), "\(data)")

            // The same pid file: refused while the first daemon lives.
            let second = try NamespaceProcess(namespace: b.lan.nodes[0], command: [
                KadProcess.binary, "run", "-l", "-f", high.configPath, "-p", high.pidPath, "--control-socket", b.scratch.file("other.sock"),
            ], logPath: b.scratch.file("second.log"))
            #expect(await second.waitForExit(within: .seconds(5)) == 1)
            #expect(second.log.contains("another kad (pid \(high.process.pid))"), "\(second.log)")
            // Its own pid file but the same control socket: refused too.
            let third = try NamespaceProcess(namespace: b.lan.nodes[0], command: [
                KadProcess.binary, "run", "-l", "-f", high.configPath, "-p", b.scratch.file("third.pid"), "--control-socket", high.socketPath,
            ], logPath: b.scratch.file("third.log"))
            #expect(await third.waitForExit(within: .seconds(5)) == 1)
            #expect(third.log.contains("control socket"), "\(third.log)")
            #expect(b.lan.holds(0, "192.0.2.100"), "the refused daemons left the running one alone")
        }

        @Test("notify_master, notify and notify_fifo: keepalived's arguments and FIFO lines, in event order, STOP at the end")
        func notifications() async throws {
            guard Self.ready else { return }
            let b = try await Bench(nodes: 2, capture: false)
            defer { b.finish() }
            let calls = b.scratch.file("calls.log")
            let script = try b.scratch.write("notify.sh", "#!/bin/sh\necho \"$*\" >> \(calls)\n", mode: 0o755)
            let fifo = b.scratch.file("events.fifo")
            let high = try b.kad(0, vrrpConfig(priority: 150, extra: "notify_master \"\(script) became-master\"\n    notify \(script)",
                                               global: "notify_fifo \(fifo)"))
            _ = try b.kad(1, vrrpConfig(priority: 100))
            #expect(await waitUntil("election", within: .seconds(5)) { b.lan.holds(0, "192.0.2.100") } != nil, "\(b.logs)")
            #expect(await waitUntil("the notify scripts' output", within: .seconds(3)) {
                ((try? String(contentsOfFile: calls, encoding: .utf8)) ?? "").contains("INSTANCE VI_1 MASTER 150")
            } != nil, "\(high.log)")
            // The FIFO is held open read-write by kad: what it wrote waits in the pipe for us.
            let fd = open(fifo, O_RDONLY | O_NONBLOCK)
            #expect(fd >= 0, "the FIFO was not created")
            defer { if fd >= 0 { close(fd) } }
            func drain() -> String {
                var out = [UInt8]()
                var buffer = [UInt8](repeating: 0, count: 4096)
                while fd >= 0 {
                    let n = read(fd, &buffer, buffer.count)
                    if n <= 0 { break }
                    out += buffer[..<n]
                }
                return String(decoding: out, as: UTF8.self)
            }
            var lines = drain()
            #expect(lines == "INSTANCE \"VI_1\" BACKUP 150\nINSTANCE \"VI_1\" MASTER 150\n", "\(lines)")
            #expect(await high.terminate() == 0)
            lines = drain()
            #expect(lines == "INSTANCE \"VI_1\" STOP 150\n", "\(lines)")
            let called = (try? String(contentsOfFile: calls, encoding: .utf8)) ?? ""
            // notify_master before notify, for the MASTER transition; BACKUP and STOP only run notify.
            #expect(called == "INSTANCE VI_1 BACKUP 150\nbecame-master\nINSTANCE VI_1 MASTER 150\nINSTANCE VI_1 STOP 150\n", "\(called)")
        }

        @Test("track_script with a negative weight moves the master and back; a reload keeps the script's status (no transition)")
        func trackScriptWeight() async throws {
            guard Self.ready else { return }
            let b = try await Bench(nodes: 2, capture: false)
            defer { b.finish() }
            let flag = b.scratch.file("fail")
            let check = try b.scratch.write("check.sh", "#!/bin/sh\ntest ! -e \(flag)\n", mode: 0o755)
            let top = "vrrp_script chk {\n    script \"\(check)\"\n    interval 0.1\n    timeout 5\n    weight -60\n}"
            let config = vrrpConfig(priority: 100, extra: "track_script {\n        chk\n    }", top: top)
            let node = try b.kad(0, config)
            _ = try b.kad(1, vrrpConfig(priority: 50))
            #expect(await waitUntil("election", within: .seconds(5)) { b.lan.holds(0, "192.0.2.100") && !b.lan.holds(1, "192.0.2.100") } != nil, "\(b.logs)")

            _ = FileManager.default.createFile(atPath: flag, contents: nil)
            #expect(await waitUntil("the P=50 node preempting the weakened master", within: .seconds(5)) {
                b.lan.holds(1, "192.0.2.100") && !b.lan.holds(0, "192.0.2.100")
            } != nil, "\(b.logs)")
            let status = try KadProcess.run(["status", "--json", "--control-socket", node.socketPath])
            #expect(status.stdout.contains("\"effectivePriority\" : 40"), "\(status.stdout)")

            let before = node.log.components(separatedBy: "Entering").count
            node.process.signal(SIGHUP)
            #expect(await node.process.waitForLog("Reload finished", within: .seconds(3)), "\(node.log)")
            try await Task.sleep(for: .milliseconds(500))
            #expect(node.log.components(separatedBy: "Entering").count == before, "the reload caused a transition:\n\(node.log)")
            #expect(b.lan.holds(1, "192.0.2.100"))

            try FileManager.default.removeItem(atPath: flag)
            #expect(await waitUntil("the restored master preempting again", within: .seconds(5)) {
                b.lan.holds(0, "192.0.2.100") && !b.lan.holds(1, "192.0.2.100")
            } != nil, "\(b.logs)")
        }

        @Test("use_vmac: the VIP lives on vrrp.51 with the virtual MAC, GARPs carry that MAC, failover moves it, SIGTERM removes the macvlan; keepalived with use_vmac interoperates")
        func virtualMAC() async throws {
            guard Self.ready else { return }
            let b = try await Bench(nodes: 2)
            defer { b.finish() }
            func vmacHolds(_ i: Int) -> Bool {
                ((try? b.lan.ip(i, "-o", "addr", "show", "dev", "vrrp.51")) ?? "").contains(" 192.0.2.100/")
            }
            let high = try b.kad(0, vrrpConfig(priority: 150, extra: "use_vmac"))
            let low = try b.kad(1, vrrpConfig(priority: 100, extra: "use_vmac"))
            #expect(await waitUntil("the VIP on the master's VMAC", within: .seconds(5)) { vmacHolds(0) } != nil, "\(b.logs)")
            let link = try b.lan.ip(0, "-d", "link", "show", "vrrp.51")
            #expect(link.contains("00:00:5e:00:01:33") && link.contains("macvlan mode private"), "\(link)")
            try await Task.sleep(for: .milliseconds(300))
            #expect(!vmacHolds(1))

            #expect(await high.terminate() == 0, "\(high.log)")
            #expect(await waitUntil("the backup's VMAC taking the VIP", within: .seconds(2)) { vmacHolds(1) } != nil, "\(b.logs)")
            #expect((try? b.lan.ip(0, "link", "show", "vrrp.51")) == nil, "the stopped daemon removed its VMAC")

            // keepalived, also with use_vmac, at a higher priority: it takes over from kad.
            if KeepalivedNode.binary != nil {
                let keepalived = try KeepalivedNode(lan: b.lan, 0, scratch: b.scratch, config: vrrpConfig(priority: 150, extra: "use_vmac"))
                defer { keepalived.process.kill9() }
                #expect(await waitUntil("keepalived's VMAC taking the VIP", within: .seconds(5)) { vmacHolds(0) && !vmacHolds(1) } != nil,
                        "\(low.log)\n\(keepalived.log)")
                keepalived.process.signal(SIGTERM)
                #expect(await waitUntil("kad taking it back", within: .seconds(3)) { vmacHolds(1) } != nil, "\(low.log)")
                _ = await keepalived.process.waitForExit(within: .seconds(5))
            }
            #expect(await low.terminate() == 0)
            let wire = await b.wire()
            #expect(wire.events.contains { $0.kind == .garp(address: "192.0.2.100", mac: "00:00:5e:00:01:33") },
                    "GARPs from the virtual MAC: \(wire.events.map(\.kind))")
            // No IGMP report ever leaves a VMAC: it would teach the switches the wrong port.
            #expect(!wire.frames.contains { $0.source == "00:00:5e:00:01:33" && $0.ipProtocol == 2 }, "IGMP from the virtual MAC")
            #expect(wire.frames.contains { $0.source == "00:00:5e:00:01:33" && $0.ipProtocol == 112 }, "adverts from the virtual MAC")
        }

        @Test("vrrp_sync_group: a fault in one member moves the whole group; GROUP lines in the FIFO")
        func syncGroup() async throws {
            guard Self.ready else { return }
            let b = try await Bench(nodes: 2, capture: false)
            defer { b.finish() }
            try b.trackedLink()
            let fifo = b.scratch.file("group.fifo")
            func config(_ priority: Int, tracked: Bool, fifo: String?) -> String {
                func instance(_ name: String, _ vrid: Int, _ vip: String, _ extra: String) -> String {
                    """
                    vrrp_instance \(name) {
                        state BACKUP
                        interface eth0
                        virtual_router_id \(vrid)
                        version 3
                        priority \(priority)
                        advert_int 0.1
                        \(extra)
                        virtual_ipaddress {
                            \(vip)
                        }
                    }

                    """
                }
                return """
                    global_defs {
                        vrrp_garp_master_delay 1
                        \(fifo.map { "vrrp_notify_fifo \($0)" } ?? "")
                    }
                    vrrp_sync_group VG_1 {
                        group {
                            VI_1
                            VI_2
                        }
                    }

                    """ + instance("VI_1", 51, "192.0.2.100/24", tracked ? "track_interface {\n        trk0\n    }" : "")
                    + instance("VI_2", 52, "192.0.2.200/24", "")
            }
            let high = try b.kad(0, config(150, tracked: true, fifo: fifo))
            _ = try b.kad(1, config(100, tracked: false, fifo: nil))
            #expect(await waitUntil("the group on node 0", within: .seconds(5)) {
                b.lan.holds(0, "192.0.2.100") && b.lan.holds(0, "192.0.2.200")
            } != nil, "\(b.logs)")
            try b.lan.ip(0, "link", "set", "trk1", "down")
            #expect(await waitUntil("both addresses moving to node 1", within: .seconds(3)) {
                b.lan.holds(1, "192.0.2.100") && b.lan.holds(1, "192.0.2.200") && !b.lan.holds(0, "192.0.2.200")
            } != nil, "VI_2 follows VI_1's fault:\n\(b.logs)")
            #expect(high.log.contains("VRRP_Group(VG_1)"), "\(high.log)")
            let fd = open(fifo, O_RDONLY | O_NONBLOCK)
            defer { if fd >= 0 { close(fd) } }
            var buffer = [UInt8](repeating: 0, count: 8192)
            let n = fd >= 0 ? read(fd, &buffer, buffer.count) : -1
            let lines = n > 0 ? String(decoding: buffer[..<n], as: UTF8.self) : ""
            #expect(lines.contains("GROUP \"VG_1\" MASTER 0\n"), "\(lines)")
            #expect(lines.contains("INSTANCE \"VI_2\" MASTER 150\n"), "\(lines)")
            #expect(lines.contains("INSTANCE \"VI_1\" FAULT"), "\(lines)")
        }
    }
}
