import Foundation
import Glibc
import NIOCore
import IntegrationSupport
import Testing
import VRRPCore
@testable import kad

/// Runs the kad binary on a thread of its own, so that waiting for it never blocks the
/// concurrency pool the in-process server needs.
func runKadDetached(_ arguments: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            continuation.resume(with: Result { try KadProcess.run(arguments) })
        }
    }
}

/// Leaves a socket file nobody listens on, as a daemon killed with SIGKILL does.
func makeStaleSocket(at path: String) throws {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    #expect(fd >= 0)
    defer { close(fd) }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
        raw.copyBytes(from: Array(path.utf8))
    }
    let r = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    #expect(r == 0)
}

extension HostAccessSuites {
    @Suite struct ControlSocketTests {
        /// A short socket path (sun_path holds 107 bytes) in a fresh directory.
        static func socketPath() -> (directory: String, path: String) {
            let dir = "/tmp/kad-ctl-\(UUID().uuidString.prefix(8))"
            return (dir, dir + "/kad.sock")
        }

        static let echo: ControlServer.Handler = { "you said \($0)\n" }

        @Test func roundTripAndCleanUp() async throws {
            let (dir, path) = Self.socketPath()
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let server = try await ControlServer.start(path: path, handler: Self.echo)  // creates the directory
            var st = stat()
            #expect(lstat(path, &st) == 0)
            #expect(st.st_mode & S_IFMT == S_IFSOCK)
            #expect(st.st_mode & 0o777 == 0o600)
            #expect(try await ControlClient.request("status json", path: path) == "you said status json\n")
            #expect(try await ControlClient.request("  ping  ", path: path) == "you said ping\n")
            // Several clients at once.
            try await withThrowingTaskGroup(of: String.self) { group in
                for i in 0..<8 { group.addTask { try await ControlClient.request("n\(i)", path: path) } }
                var replies: [String] = []
                for try await r in group { replies.append(r) }
                #expect(replies.sorted() == (0..<8).map { "you said n\($0)\n" }.sorted())
            }
            await server.stop()
            #expect(!FileManager.default.fileExists(atPath: path))
        }

        @Test func aSecondServerOnALiveSocketIsRefused() async throws {
            let (dir, path) = Self.socketPath()
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let first = try await ControlServer.start(path: path, handler: Self.echo)
            await #expect(throws: ControlSocketError.alreadyServed(path: path)) {
                _ = try await ControlServer.start(path: path, handler: { _ in "second\n" })
            }
            #expect(ControlSocketError.alreadyServed(path: path).description
                    == "another kad daemon already answers on \(path); stop it first, or give this one another --control-socket")
            #expect(try await ControlClient.request("ping", path: path) == "you said ping\n")  // the first still answers
            await first.stop()
        }

        @Test func aStaleSocketFileIsReplaced() async throws {
            let (dir, path) = Self.socketPath()
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            try makeStaleSocket(at: path)
            #expect(ControlSocket.probe(path) == .stale)
            let server = try await ControlServer.start(path: path, handler: Self.echo)
            #expect(ControlSocket.probe(path) == .live)
            #expect(try await ControlClient.request("ping", path: path) == "you said ping\n")
            await server.stop()
            #expect(ControlSocket.probe(path) == .absent)
        }

        @Test func somethingElseInTheWayIsLeftAlone() async throws {
            let (dir, path) = Self.socketPath()
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            _ = FileManager.default.createFile(atPath: path, contents: Data("precious\n".utf8))
            await #expect(throws: ControlSocketError.notASocket(path: path)) {
                _ = try await ControlServer.start(path: path, handler: Self.echo)
            }
            #expect(try String(contentsOfFile: path, encoding: .utf8) == "precious\n")
        }

        @Test func stopLeavesAReplacementAlone() async throws {
            let (dir, path) = Self.socketPath()
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let server = try await ControlServer.start(path: path, handler: Self.echo)
            // Someone removed our file and started another daemon on the path.
            unlink(path)
            let other = try await ControlServer.start(path: path) { _ in "other\n" }
            await server.stop()
            #expect(try await ControlClient.request("ping", path: path) == "other\n")
            await other.stop()
            #expect(ControlSocket.probe(path) == .absent)
        }

        @Test func theClientSaysWhenNoDaemonAnswers() async throws {
            let (dir, path) = Self.socketPath()
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            await #expect {
                _ = try await ControlClient.request("status", path: path)
            } throws: { error in
                "\(error)" == "no kad daemon answers on \(path): no such socket (is kad running?)"
            }
            try makeStaleSocket(at: path)
            await #expect {
                _ = try await ControlClient.request("status", path: path)
            } throws: { error in
                "\(error)" == "no kad daemon answers on \(path): connection refused (a stale socket file: the daemon is gone)"
            }
        }

        @Test func theClientGivesUpOnASilentDaemon() async throws {
            let (dir, path) = Self.socketPath()
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let server = try await ControlServer.start(path: path) { _ in
                try? await Task.sleep(for: .seconds(8))
                return "late\n"
            }
            let started = ContinuousClock.now
            await #expect(throws: ControlSocketError.timeout(path: path, seconds: 0.2)) {
                _ = try await ControlClient.request("status", path: path, timeout: .milliseconds(200))
            }
            #expect(ContinuousClock.now - started < .seconds(2))
            await server.stop()
        }

        @Test func anEmptyAnswerIsAnError() async throws {
            let (dir, path) = Self.socketPath()
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let server = try await ControlServer.start(path: path) { _ in "" }
            await #expect(throws: ControlSocketError.badReply(path: path, reason: "the connection closed without an answer")) {
                _ = try await ControlClient.request("status", path: path)
            }
            await server.stop()
        }

        @Test func aClientThatHalfClosesStillGetsItsAnswer() async throws {
            let (dir, path) = Self.socketPath()
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let server = try await ControlServer.start(path: path, handler: Self.echo)
            // Like `printf ping | socat - UNIX-CONNECT:PATH`: no newline, then end of input.
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            #expect(connected == 0)
            var timeout = timeval(tv_sec: 10, tv_usec: 0)
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            #expect(write(fd, "ping", 4) == 4)
            #expect(shutdown(fd, Int32(SHUT_WR)) == 0)
            let reply = try await withCheckedThrowingContinuation { (c: CheckedContinuation<String, any Error>) in
                Thread.detachNewThread {
                    var bytes: [UInt8] = []
                    var buffer = [UInt8](repeating: 0, count: 256)
                    while true {
                        let n = read(fd, &buffer, buffer.count)
                        if n <= 0 { break }
                        bytes += buffer[0..<n]
                    }
                    c.resume(returning: String(decoding: bytes, as: UTF8.self))
                }
            }
            #expect(reply == "you said ping\n")
            await server.stop()
        }

        @Test func theDaemonsCommandsAnswerFromSnapshots() async throws {
            let story = try RunnerStory()
            _ = await story.play()
            let handler = ControlSocket.handler(daemon: StatusFixture.daemon) { await story.runner.snapshot() }
            let (dir, path) = Self.socketPath()
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let server = try await ControlServer.start(path: path, handler: handler)
            #expect(try await ControlClient.request("ping", path: path) == "pong\n")
            let text = try await ControlClient.request("status", path: path)
            #expect(text.contains("\nVI_1  eth0  vrid 51  MASTER  prio 80/100 "))
            let json = try await ControlClient.request("STATUS   json", path: path)
            let report = try JSONDecoder().decode(StatusReport.self, from: Data(json.utf8))
            #expect(report.instances.map(\.name) == ["VI_1", "VI_2", "VI_6"])
            #expect(report.daemon.pid == 4242)
            let stats = try await ControlClient.request("stats", path: path)
            #expect(stats.hasPrefix("VRRP Instance: VI_1\n  Advertisements:\n    Received: 2\n"))
            let data = try await ControlClient.request("data", path: path)
            #expect(data.contains(" VRRP Instance = VI_6\n"))
            let bad = try await ControlClient.request("reboot now", path: path)
            #expect(bad == "error: unknown command 'reboot now'; commands: ping, status, status json, data, stats, help\n")
            await server.stop()
            await story.finish()
        }

        @Test func kadStatusTalksToTheDaemon() async throws {
            let story = try RunnerStory()
            _ = await story.play()
            let (dir, path) = Self.socketPath()
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let server = try await ControlServer.start(
                path: path, handler: ControlSocket.handler(daemon: StatusFixture.daemon) { await story.runner.snapshot() })
            let table = try await runKadDetached(["status", "--control-socket", path])
            #expect(table.status == 0, "\(table.stderr)")
            #expect(table.stdout.hasPrefix("kad 9.9.9  pid 4242  up "))
            #expect(table.stdout.contains("\nVI_2  eth0  vrid 52  BACKUP  prio 150/150  master 192.0.2.9  adverts tx "))
            let json = try await runKadDetached(["status", "--json", "--control-socket", path])
            #expect(json.status == 0)
            let report = try JSONDecoder().decode(StatusReport.self, from: Data(json.stdout.utf8))
            #expect(report.syncGroups.first?.state == "BACKUP")
            await server.stop()
            await story.finish()

            let none = try await runKadDetached(["status", "--control-socket", path])
            #expect(none.status == 1)
            #expect(none.stdout.isEmpty)
            #expect(none.stderr == "kad status: no kad daemon answers on \(path): no such socket (is kad running?)\n")
            let bad = try await runKadDetached(["status", "--timeout", "0"])
            #expect(bad.status == 64)
            #expect(bad.stderr.contains("--timeout must be between 0 and 3600 seconds"))
        }
    }
}
