import Foundation
import IntegrationSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import kad

// `kad run` with virtual servers against a real IPVS table. Runs only where /proc/net/ip_vs
// exists: in the IPVS VM, where IPVSVirtualMachineTests (IPVSControlTests) starts this binary
// with `--filter IPVSKernelTests` and copies the kad binary in. On a host without IPVS it
// returns at once; it never starts kad in the host's network namespace (the VM is throwaway).
// The real servers are TCP listeners of this process on 192.0.2.1 (dummy0 in the VM).

extension HostAccessSuites {
    @Suite("kad run with virtual servers, in the IPVS VM", .serialized)
    struct DaemonLVSIPVSKernelTests {
        static let inVM = ProcessInfo.processInfo.environment["IPVS_VM"] == "1"
        static var present: Bool { FileManager.default.fileExists(atPath: "/proc/net/ip_vs") }

        /// A TCP listener on 192.0.2.1:port (the kernel completes handshakes up to the backlog,
        /// so nothing needs to accept); closing it makes connects fail with "refused".
        final class Listener {
            var fd: Int32 = -1
            let port: UInt16
            init(port: UInt16) throws {
                self.port = port
                try open()
            }
            func open() throws {
                fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                var one: Int32 = 1
                setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
                var sa = sockaddr_in()
                sa.sin_family = sa_family_t(AF_INET)
                sa.sin_port = port.bigEndian
                inet_pton(AF_INET, "192.0.2.1", &sa.sin_addr)
                let bound = withUnsafePointer(to: &sa) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                }
                guard bound == 0, listen(fd, 128) == 0 else {
                    let e = errno
                    Glibc.close(fd)
                    throw DaemonError("listener on 192.0.2.1:\(port): errno \(e)")
                }
            }
            func close() {
                if fd >= 0 { Glibc.close(fd) }
                fd = -1
            }
            deinit { close() }
        }

        /// The destinations ipvsadm lists for TCP 192.0.2.10:80, as "address:port" → weight
        /// (nil: the service is not in the table).
        static func table() throws -> [String: Int]? {
            let r = try Shell.capture(["ipvsadm", "-Ln", "-t", "192.0.2.10:80"])
            guard r.status == 0 else { return nil }
            var out: [String: Int] = [:]
            for line in r.output.split(separator: "\n") {
                let w = line.split(separator: " ")
                if w.first == "->", w.count >= 4, let weight = Int(w[3]) { out[String(w[1])] = weight }
            }
            return out
        }

        /// Polls `condition` every 100 ms for up to `limit`; returns how long it took, or nil.
        static func wait(_ limit: Duration, _ condition: () throws -> Bool) rethrows -> Duration? {
            let start = ContinuousClock.now
            while ContinuousClock.now - start < limit {
                if try condition() { return ContinuousClock.now - start }
                usleep(100_000)
            }
            return try condition() ? ContinuousClock.now - start : nil
        }

        struct Daemon {
            let process = Process()
            let log: String
            init(_ arguments: [String], directory: String, tag: String) throws {
                log = "\(directory)/\(tag).log"
                _ = FileManager.default.createFile(atPath: log, contents: nil)
                let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
                process.executableURL = URL(fileURLWithPath: KadProcess.binary)
                process.arguments = ["run", "-l", "-D", "-f", "\(directory)/kad.conf", "-p", "\(directory)/\(tag).pid",
                                     "--control-socket", "\(directory)/\(tag).sock"] + arguments
                process.standardOutput = handle
                process.standardError = handle
                try process.run()
            }
            var output: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
            /// SIGTERM, then the exit status (nil: still running after 10 s; then killed).
            func stop() -> Int32? {
                process.terminate()
                if wait(.seconds(10), { !process.isRunning }) == nil {
                    kill(process.processIdentifier, SIGKILL)
                    return nil
                }
                return process.terminationStatus
            }
        }

        @Test("real servers follow their TCP checks; quorum brings the sorry server; outside edits are repaired; stop removes the service, -I keeps it")
        func checkersDriveTheTable() async throws {
            guard let scratch = try Self.prepare() else { return }
            defer { scratch.remove() }
            let dir = scratch.path
            let shell = try #require(["/bin/sh", "/bin/bash", "/usr/bin/bash"].first { FileManager.default.isExecutableFile(atPath: $0) })
            let events = "\(dir)/events"
            try "#!\(shell)\necho \"$1\" >> \(events)\n".write(toFile: "\(dir)/note.sh", atomically: true, encoding: .utf8)
            chmod("\(dir)/note.sh", 0o755)
            try """
                virtual_server 192.0.2.10 80 {
                    delay_loop 1
                    lb_algo rr
                    lb_kind NAT
                    protocol TCP
                    quorum 1
                    sorry_server 192.0.2.1 18089
                    quorum_up "\(dir)/note.sh quorum_up"
                    quorum_down "\(dir)/note.sh quorum_down"
                    real_server 192.0.2.1 18081 {
                        weight 2
                        notify_up "\(dir)/note.sh rs1_up"
                        notify_down "\(dir)/note.sh rs1_down"
                        TCP_CHECK {
                            connect_timeout 1
                            retry 1
                            delay_before_retry 1
                        }
                    }
                    real_server 192.0.2.1 18082 {
                        inhibit_on_failure
                        TCP_CHECK {
                            connect_timeout 1
                            retry 0
                        }
                    }
                }

                """.write(toFile: "\(dir)/kad.conf", atomically: true, encoding: .utf8)
            func noted(_ word: String) -> Bool {
                ((try? String(contentsOfFile: events, encoding: .utf8)) ?? "").split(separator: "\n").contains { $0 == word }
            }

            let rs1 = try Listener(port: 18081)
            let rs2 = try Listener(port: 18082)
            let kad = try Daemon([], directory: dir, tag: "a")
            defer { if kad.process.isRunning { kill(kad.process.processIdentifier, SIGKILL) } }

            // Both up at start, at their weights.
            let started = try Self.wait(.seconds(15)) { try Self.table() == ["192.0.2.1:18081": 2, "192.0.2.1:18082": 1] }
            #expect(started != nil, "table \(String(describing: try? Self.table())); log:\n\(kad.output)")
            guard started != nil else { return }
            let status = try await ControlClient.request("status", path: "\(dir)/a.sock")
            #expect(status.contains("virtual server TCP 192.0.2.10 80  quorum  live weight 3/1"), "\(status)")
            #expect(status.contains("real server 192.0.2.1:18081  UP  weight 2"), "\(status)")

            // An outside edit is repaired by the periodic reconcile (every 5 s).
            _ = try Shell.capture(["ipvsadm", "-d", "-t", "192.0.2.10:80", "-r", "192.0.2.1:18081"])
            let repaired = try Self.wait(.seconds(10)) { try Self.table()?["192.0.2.1:18081"] == 2 }
            #expect(repaired != nil, "ipvsadm -d was not repaired; log:\n\(kad.output)")

            // RS 2 (inhibit_on_failure, retry 0) fails: weight 0 within delay_loop × (retry + 1) +
            // connect_timeout = 2 s (plus slack for a slow VM).
            rs2.close()
            let inhibited = try Self.wait(.seconds(10)) { try Self.table() == ["192.0.2.1:18081": 2, "192.0.2.1:18082": 0] }
            #expect(inhibited != nil, "table \(String(describing: try? Self.table())); log:\n\(kad.output)")
            if let inhibited { #expect(inhibited < .seconds(6), "took \(inhibited)") }

            // RS 1 fails too (retry 1: within 1 × 2 + 1 = 3 s): removed; quorum lost, so the sorry
            // server comes in; notify_down and quorum_down run.
            rs1.close()
            let sorry = try Self.wait(.seconds(12)) { try Self.table() == ["192.0.2.1:18082": 0, "192.0.2.1:18089": 1] }
            #expect(sorry != nil, "table \(String(describing: try? Self.table())); log:\n\(kad.output)")
            if let sorry { #expect(sorry < .seconds(8), "took \(sorry)") }
            #expect(Self.wait(.seconds(5)) { noted("rs1_down") && noted("quorum_down") } != nil,
                    "events: \((try? String(contentsOfFile: events, encoding: .utf8)) ?? "none")")
            let json = try await ControlClient.request("status json", path: "\(dir)/a.sock")
            #expect(json.contains("\"sorryServerActive\" : true"), "\(json)")
            #expect(json.contains("\"hasQuorum\" : false"), "\(json)")

            // RS 1 comes back: quorum regained, sorry server out.
            try rs1.open()
            let back = try Self.wait(.seconds(10)) { try Self.table() == ["192.0.2.1:18081": 2, "192.0.2.1:18082": 0] }
            #expect(back != nil, "table \(String(describing: try? Self.table())); log:\n\(kad.output)")
            #expect(Self.wait(.seconds(5)) { noted("rs1_up") && noted("quorum_up") } != nil,
                    "events: \((try? String(contentsOfFile: events, encoding: .utf8)) ?? "none")")

            // SIGTERM removes the service.
            #expect(kad.stop() == 0, "log:\n\(kad.output)")
            #expect(try Self.table() == nil, "the service is still there after stop")

            // -C (checkers only) with -I: the service is left in place at stop.
            let kept = try Daemon(["-C", "-I"], directory: dir, tag: "b")
            defer { if kept.process.isRunning { kill(kept.process.processIdentifier, SIGKILL) } }
            let up = try Self.wait(.seconds(15)) { try Self.table()?["192.0.2.1:18081"] == 2 }
            #expect(up != nil, "log:\n\(kept.output)")
            #expect(kept.stop() == 0, "log:\n\(kept.output)")
            #expect(try Self.table() != nil, "-I: the service was removed; log:\n\(kept.output)")
            _ = try Shell.capture(["ipvsadm", "-C"])
        }

        /// The real servers' check attempts in `kad status json`, by address.
        static func attempts(_ socket: String) async throws -> [String: Int] {
            let json = try await ControlClient.request("status json", path: socket)
            let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
            var out: [String: Int] = [:]
            for vs in object?["virtualServers"] as? [[String: Any]] ?? [] {
                for rs in vs["realServers"] as? [[String: Any]] ?? [] {
                    if let a = rs["address"] as? String, let n = rs["checkAttempts"] as? Int { out[a] = n }
                }
            }
            return out
        }

        /// In the VM with a kad binary: an empty IPVS table and a scratch directory. Elsewhere nil
        /// (an issue is recorded when the VM lacks IPVS or the binary).
        static func prepare() throws -> ScratchDirectory? {
            guard present else {
                if inVM { Issue.record("IPVS_VM=1 but the kernel has no /proc/net/ip_vs") }
                return nil
            }
            guard FileManager.default.isExecutableFile(atPath: KadProcess.binary) else {
                Issue.record("no kad binary at \(KadProcess.binary) (IPVSVirtualMachineTests must --copy it)")
                return nil
            }
            _ = try Shell.capture(["ipvsadm", "-C"])
            return try ScratchDirectory("lvs")
        }

        static func run(_ command: [String]) -> String { (try? Shell.capture(command).output) ?? "" }

        @Test("lvs_timeouts are set; the sync daemon is backup, then master with its instance, and stopped at stop; PING_CHECK widens ping_group_range and drives the table")
        func timeoutsSyncDaemonAndPing() async throws {
            guard let scratch = try Self.prepare() else { return }
            defer { scratch.remove() }
            let dir = scratch.path
            _ = try? Shell.capture(["ipvsadm", "--stop-daemon", "master"])
            _ = try? Shell.capture(["ipvsadm", "--stop-daemon", "backup"])
            _ = try Shell.capture(["ipvsadm", "--set", "900", "120", "300"])
            // Nobody may open ICMP sockets before kad starts (the kernel's default).
            let rangePath = "/proc/sys/net/ipv4/ping_group_range"
            let originalRange = try String(contentsOfFile: rangePath, encoding: .utf8)
            try "1 0".write(toFile: rangePath, atomically: false, encoding: .utf8)
            defer { try? originalRange.write(toFile: rangePath, atomically: false, encoding: .utf8) }
            func range() -> String {
                ((try? String(contentsOfFile: rangePath, encoding: .utf8)) ?? "").split(whereSeparator: \.isWhitespace).joined(separator: " ")
            }

            try """
                global_defs {
                    lvs_timeouts tcp 7200 tcpfin 30 udp 60
                    lvs_sync_daemon dummy0 VI_1 id 9
                }
                vrrp_instance VI_1 {
                    state BACKUP
                    interface dummy0
                    virtual_router_id 51
                    priority 100
                    advert_int 1
                    virtual_ipaddress {
                        192.0.2.50/32
                    }
                }
                virtual_server 192.0.2.10 80 {
                    delay_loop 1
                    lb_algo rr
                    protocol TCP
                    real_server 192.0.2.1 80 {
                        PING_CHECK {
                            connect_timeout 1
                            retry 0
                        }
                    }
                    real_server 198.51.100.99 80 {
                        PING_CHECK {
                            connect_timeout 1
                            retry 0
                        }
                    }
                }

                """.write(toFile: "\(dir)/kad.conf", atomically: true, encoding: .utf8)

            let kad = try Daemon([], directory: dir, tag: "s")
            defer { if kad.process.isRunning { kill(kad.process.processIdentifier, SIGKILL) } }

            // Backup at start (VI_1 is BACKUP until its down timer, about 3.6 s).
            let backup = Self.wait(.seconds(10)) { Self.run(["ipvsadm", "-L", "--daemon"]).contains("backup sync daemon (mcast=dummy0, syncid=9,") }
            #expect(backup != nil, "ipvsadm -L --daemon: \(Self.run(["ipvsadm", "-L", "--daemon"])); log:\n\(kad.output)")
            #expect(Self.run(["ipvsadm", "-L", "--timeout"]).contains("Timeout (tcp tcpfin udp): 7200 30 60"),
                    "\(Self.run(["ipvsadm", "-L", "--timeout"])); log:\n\(kad.output)")
            #expect(range() == "0 0", "ping_group_range \(range())")

            // VI_1 becomes MASTER: the master daemon replaces the backup one.
            let master = Self.wait(.seconds(15)) {
                let d = Self.run(["ipvsadm", "-L", "--daemon"])
                return d.contains("master sync daemon (mcast=dummy0, syncid=9,") && !d.contains("backup sync daemon")
            }
            #expect(master != nil, "ipvsadm -L --daemon: \(Self.run(["ipvsadm", "-L", "--daemon"])); log:\n\(kad.output)")
            #expect(kad.output.contains("(VI_1) Entering MASTER STATE"), "log:\n\(kad.output)")

            // PING_CHECK: 192.0.2.1 (dummy0) answers; 198.51.100.99 (veth0's subnet, nobody) does not.
            let pinged = try Self.wait(.seconds(15)) { try Self.table() == ["192.0.2.1:80": 1] }
            #expect(pinged != nil, "table \(String(describing: try? Self.table())); log:\n\(kad.output)")
            let status = try await ControlClient.request("status", path: "\(dir)/s.sock")
            #expect(status.contains("real server 192.0.2.1:80  UP"), "\(status)")
            #expect(status.contains("real server 198.51.100.99:80  DOWN"), "\(status)")

            // Stop: the sync daemon is stopped, ping_group_range restored; timeouts stay.
            #expect(kad.stop() == 0, "log:\n\(kad.output)")
            let daemons = Self.run(["ipvsadm", "-L", "--daemon"])
            #expect(!daemons.contains("sync daemon"), "\(daemons)")
            #expect(range() == "1 0", "ping_group_range \(range()) after stop")
            #expect(Self.run(["ipvsadm", "-L", "--timeout"]).contains("7200 30 60"))
            _ = try Shell.capture(["ipvsadm", "--set", "900", "120", "300"])
            _ = try Shell.capture(["ipvsadm", "-C"])
        }

        @Test("SIGHUP: an unchanged real server keeps its checker (and counters), a changed weight and a removed server are the only table changes")
        func reloadCarriesCheckerState() async throws {
            guard let scratch = try Self.prepare() else { return }
            defer { scratch.remove() }
            let dir = scratch.path
            func config(weight2: Int, third: Bool) -> String {
                func rs(_ port: Int, _ weight: Int) -> String {
                    """
                        real_server 192.0.2.1 \(port) {
                            weight \(weight)
                            TCP_CHECK {
                                connect_timeout 1
                            }
                        }

                    """
                }
                return "virtual_server 192.0.2.10 80 {\n    delay_loop 1\n    lb_algo rr\n    protocol TCP\n"
                    + rs(18081, 2) + rs(18082, weight2) + (third ? rs(18083, 1) : "") + "}\n"
            }
            try config(weight2: 1, third: true).write(toFile: "\(dir)/kad.conf", atomically: true, encoding: .utf8)
            let listeners = try [18081, 18082, 18083].map { try Listener(port: UInt16($0)) }
            defer { for l in listeners { l.close() } }
            let kad = try Daemon([], directory: dir, tag: "r")
            defer { if kad.process.isRunning { kill(kad.process.processIdentifier, SIGKILL) } }
            let socket = "\(dir)/r.sock"

            let started = try Self.wait(.seconds(15)) { try Self.table() == ["192.0.2.1:18081": 2, "192.0.2.1:18082": 1, "192.0.2.1:18083": 1] }
            #expect(started != nil, "table \(String(describing: try? Self.table())); log:\n\(kad.output)")
            // A few attempts each, so that fresh counters (a new checker) would show.
            var before: [String: Int] = [:]
            for _ in 0..<100 {
                before = try await Self.attempts(socket)
                if before.count == 3, before.values.allSatisfy({ $0 >= 3 }) { break }
                usleep(100_000)
            }
            #expect(before.count == 3 && before.values.allSatisfy { $0 >= 3 }, "\(before)")

            try config(weight2: 3, third: false).write(toFile: "\(dir)/kad.conf", atomically: true, encoding: .utf8)
            kill(kad.process.processIdentifier, SIGHUP)
            let reloaded = Self.wait(.seconds(10)) { kad.output.contains("IPVS: reload finished") }
            #expect(reloaded != nil, "log:\n\(kad.output)")
            let after = try await Self.attempts(socket)
            #expect(Set(after.keys) == ["192.0.2.1:18081", "192.0.2.1:18082"], "\(after)")
            // Unchanged: the same checker, its count went on. Changed weight: a new checker, counted from 0.
            #expect((after["192.0.2.1:18081"] ?? 0) >= (before["192.0.2.1:18081"] ?? .max), "before \(before), after \(after)")
            #expect((after["192.0.2.1:18082"] ?? .max) < (before["192.0.2.1:18082"] ?? 0), "before \(before), after \(after)")
            #expect(kad.output.contains(" ms: 1 virtual server(s) (was 1), 1 read again, 1 of their real server(s) kept their checker state"),
                    "log:\n\(kad.output)")
            #expect(try Self.table() == ["192.0.2.1:18081": 2, "192.0.2.1:18082": 3])
            // Exactly two table changes between the reload's start and end.
            let log = kad.output
            let reloadPart = log.components(separatedBy: "Reloading").last?.components(separatedBy: "IPVS: reload finished").first ?? ""
            let changes = reloadPart.split(separator: "\n").filter {
                $0.contains("IPVS: add ") || $0.contains("IPVS: change ") || $0.contains("IPVS: delete ")
            }
            #expect(changes.count == 2, "\(changes)")
            #expect(changes.contains { $0.contains("IPVS: change destination 192.0.2.1:18082") }, "\(changes)")
            #expect(changes.contains { $0.contains("IPVS: delete destination 192.0.2.1:18083") }, "\(changes)")
            // It stays up: no warmup brings it down, and no further change shows later.
            usleep(1_500_000)
            #expect(try Self.table() == ["192.0.2.1:18081": 2, "192.0.2.1:18082": 3])
            #expect(kad.stop() == 0, "log:\n\(kad.output)")
        }

        /// Every TCP service of the table: "address:port" → its destinations' weights.
        static func wholeTable() throws -> [String: [String: Int]] {
            var out: [String: [String: Int]] = [:]
            var current: String?
            for line in try Shell.capture(["ipvsadm", "-Ln"]).output.split(separator: "\n") {
                let w = line.split(separator: " ")
                if w.first == "TCP", w.count >= 2 {
                    current = String(w[1])
                    out[String(w[1])] = [:]
                } else if w.first == "->", w.count >= 4, let weight = Int(w[3]), let current {
                    out[current]?[String(w[1])] = weight
                }
            }
            return out
        }

        @Test("SIGHUP that changes, adds and removes virtual_server blocks reads only those again, and the table is the new file's")
        func partialReloadOfVirtualServers() async throws {
            guard let scratch = try Self.prepare() else { return }
            defer { scratch.remove() }
            let dir = scratch.path
            func config(_ ports: [Int], weights: [Int: Int] = [:]) -> String {
                ports.map { port in
                    "virtual_server 192.0.2.10 \(port) {\n    lb_algo wrr\n    protocol TCP\n"
                        + "    real_server 192.0.2.1 9001 {\n        weight \(weights[port] ?? 1)\n    }\n"
                        + "    real_server 192.0.2.1 9002 {\n        weight 2\n    }\n}\n"
                }.joined()
            }
            func expected(_ ports: [Int], weights: [Int: Int] = [:]) -> [String: [String: Int]] {
                Dictionary(uniqueKeysWithValues: ports.map { ("192.0.2.10:\($0)", ["192.0.2.1:9001": weights[$0] ?? 1, "192.0.2.1:9002": 2]) })
            }
            let first = Array(1000..<1030)
            try config(first).write(toFile: "\(dir)/kad.conf", atomically: true, encoding: .utf8)
            let kad = try Daemon([], directory: dir, tag: "p")
            defer { if kad.process.isRunning { kill(kad.process.processIdentifier, SIGKILL) } }
            let started = try Self.wait(.seconds(15)) { try Self.wholeTable() == expected(first) }
            #expect(started != nil, "log:\n\(kad.output)")

            // One block changed, one removed, one added between others.
            var second = first.filter { $0 != 1003 }
            second.insert(2000, at: 15)
            try config(second, weights: [1010: 7]).write(toFile: "\(dir)/kad.conf", atomically: true, encoding: .utf8)
            kill(kad.process.processIdentifier, SIGHUP)
            let reloaded = Self.wait(.seconds(10)) { kad.output.contains("Reload finished") }
            #expect(reloaded != nil, "log:\n\(kad.output)")
            #expect(kad.output.contains("virtual_server block(s) read again;"), "log:\n\(kad.output)")
            #expect(!kad.output.contains("the whole file read: a change"), "log:\n\(kad.output)")
            #expect(try Self.wholeTable() == expected(second, weights: [1010: 7]), "log:\n\(kad.output)")

            // Then a change elsewhere in the file: the whole file is read, the table follows.
            try ("global_defs {\n    router_id lb1\n}\n" + config(second)).write(toFile: "\(dir)/kad.conf", atomically: true, encoding: .utf8)
            kill(kad.process.processIdentifier, SIGHUP)
            let again = Self.wait(.seconds(10)) { kad.output.components(separatedBy: "Reload finished").count == 3 }
            #expect(again != nil, "log:\n\(kad.output)")
            #expect(kad.output.contains("the whole file read: a change outside virtual_server blocks"), "log:\n\(kad.output)")
            #expect(try Self.wholeTable() == expected(second), "log:\n\(kad.output)")
            #expect(kad.stop() == 0, "log:\n\(kad.output)")
        }

        @Test("a service named by both a group and a plain virtual server: removing one block leaves the other's service, as a whole reload does")
        func sharedServiceAtAPartialReload() async throws {
            guard let scratch = try Self.prepare() else { return }
            defer { scratch.remove() }
            let dir = scratch.path
            let group = "virtual_server_group G {\n    192.0.2.10 80\n}\n"
            let plain = "virtual_server 192.0.2.10 80 {\n    lb_algo wrr\n    protocol TCP\n    real_server 192.0.2.1 9001 {\n        weight 1\n    }\n}\n"
            let viaGroup = "virtual_server group G {\n    lb_algo wrr\n    protocol TCP\n    real_server 192.0.2.1 9002 {\n        weight 2\n    }\n}\n"
            try (group + plain + viaGroup).write(toFile: "\(dir)/kad.conf", atomically: true, encoding: .utf8)
            let kad = try Daemon([], directory: dir, tag: "s")
            defer { if kad.process.isRunning { kill(kad.process.processIdentifier, SIGKILL) } }
            // The later block's destinations win, as keepalived's last definition does.
            let started = try Self.wait(.seconds(15)) { try Self.table() == ["192.0.2.1:9002": 2] }
            #expect(started != nil, "table \(String(describing: try? Self.table())); log:\n\(kad.output)")
            try (group + plain).write(toFile: "\(dir)/kad.conf", atomically: true, encoding: .utf8)
            kill(kad.process.processIdentifier, SIGHUP)
            let reloaded = Self.wait(.seconds(10)) { kad.output.contains("Reload finished") }
            #expect(reloaded != nil, "log:\n\(kad.output)")
            #expect(try Self.table() == ["192.0.2.1:9001": 1], "log:\n\(kad.output)")
            #expect(kad.stop() == 0, "log:\n\(kad.output)")
        }
    }
}
