import Foundation
import IntegrationSupport
import NIOCore
import NIOSSL
import NetLinux
import Synchronization
import Testing
import VRRPCore
@testable import IPVSControl

/// MD5 of `text` by coreutils' md5sum, independent of the code under test.
func md5sum(_ text: String) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("kad-md5-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    defer { try? FileManager.default.removeItem(atPath: path) }
    return String(try Shell.run(["md5sum", path]).prefix(32))
}

func expectFailure(_ result: CheckResult, containing text: String, sourceLocation: SourceLocation = #_sourceLocation) {
    guard case .failure(let reason) = result else {
        Issue.record("expected a failure containing \"\(text)\", got \(result)", sourceLocation: sourceLocation)
        return
    }
    #expect(reason.contains(text), "reason: \(reason)", sourceLocation: sourceLocation)
}

extension HostAccessSuites {
    @Suite("CheckerNetworkTests: checkers against loopback servers")
    struct CheckerNetworkTests {
        // MARK: TCP_CHECK

        @Test("TCP_CHECK: a listening port is up, a closed one is refused, IPv6 works")
        func tcp() async throws {
            let server = try await ScriptedTCPServer { _ in .hang }
            defer { Task { await server.stop() } }
            #expect(await TCPCheck(connection: loopback(server.port), connectTimeout: .seconds(2)).check() == .success)
            expectFailure(await TCPCheck(connection: loopback(try closedPort()), connectTimeout: .seconds(2)).check(),
                          containing: "connection refused")
            let v6 = try await ScriptedTCPServer(host: "::1") { _ in .hang }
            defer { Task { await v6.stop() } }
            #expect(await TCPCheck(connection: loopback(v6.port, "::1"), connectTimeout: .seconds(2)).check() == .success)
        }

        @Test("Scheduler on event loops: HTTP_GET and TCP_CHECK run on the loop's timers, fail with a reason, pause while suspended and resume")
        func schedulerOnEventLoops() async throws {
            let server = try await ScriptedTCPServer(respond: whenRequestComplete { _ in httpResponse(body: "ok") })
            defer { Task { await server.stop() } }
            let closed = try closedPort()
            let timing = CheckerTiming(connectTimeout: .seconds(1), retry: 0, delayBeforeRetry: .milliseconds(20),
                                       warmup: .zero, delayLoop: .milliseconds(40))
            let http = HTTPCheck(connection: loopback(server.port), connectTimeout: .seconds(1), urls: [HTTPURLCheck(path: "/")])
            #expect(http.runsOnEventLoop && TCPCheck(connection: loopback(closed)).runsOnEventLoop)
            // A checker without a loop form: check(on:) runs its check() in a task.
            struct Scripted: HealthCheck {
                var name: String { "scripted" }
                func check() async -> CheckResult { .failure(reason: "scripted reason") }
            }
            #expect(!Scripted().runsOnEventLoop)
            #expect(try await Scripted().check(on: CheckerEventLoops.shared.next()).get() == .failure(reason: "scripted reason"))
            let scheduler = HealthCheckScheduler(
                realServers: [RealServerChecks(id: "web", checkers: [.init(http, timing: timing)]),
                              RealServerChecks(id: "gone", checkers: [.init(TCPCheck(connection: loopback(closed), connectTimeout: .seconds(1)), timing: timing)])],
                clock: ContinuousClock(), eventLoops: CheckerEventLoops.shared,
                // One check at a time per loop: the two checkers take turns where they share one.
                admission: CheckerAdmission(group: CheckerEventLoops.shared, limit: 1))
            let seen = Mutex<[RealServerVerdict]>([])
            let reader = Task { for await v in scheduler.verdicts { seen.withLock { $0.append(v) } } }
            scheduler.start()
            func waitFor(_ what: @Sendable () -> Bool) async -> Bool {
                for _ in 0..<250 where !what() { try? await Task.sleep(for: .milliseconds(20)) }
                return what()
            }
            // Repeated attempts (every 40 ms), and the closed port found down.
            #expect(await waitFor { server.requests.withLock { $0.count } >= 4 })
            #expect(await waitFor { seen.withLock { $0.contains { $0.id == "gone" && !$0.isUp } } }, "\(seen.withLock { $0 })")
            #expect(seen.withLock { $0.first { $0.id == "gone" && !$0.isUp }?.cause.contains("connection refused") } == true)
            #expect(!seen.withLock { $0.contains { $0.id == "web" && !$0.isUp } })
            // Suspended: no new attempts beyond the one that may be under way.
            scheduler.setSuspended(true)
            try await Task.sleep(for: .milliseconds(100))
            let paused = server.requests.withLock { $0.count }
            try await Task.sleep(for: .milliseconds(300))
            #expect(server.requests.withLock { $0.count } <= paused + 1)
            scheduler.setSuspended(false)
            #expect(await waitFor { server.requests.withLock { $0.count } >= paused + 3 })
            // The server goes away: the HTTP real server goes down, with the reason.
            await server.stop()
            #expect(await waitFor { seen.withLock { $0.contains { $0.id == "web" && !$0.isUp } } }, "\(seen.withLock { $0 })")
            scheduler.stop()
            await reader.value
        }

        @Test("TCP_CHECK: bindto and bind_port are used as the source")
        func tcpBind() async throws {
            let server = try await ScriptedTCPServer { _ in .hang }
            defer { Task { await server.stop() } }
            var c = loopback(server.port)
            c.bindAddress = IPAddress("127.0.0.2")
            #expect(await TCPCheck(connection: c, connectTimeout: .seconds(2)).check() == .success)
            c.bindAddress = IPAddress("192.0.2.1")   // not local: the bind fails, reported plainly
            expectFailure(await TCPCheck(connection: c, connectTimeout: .seconds(2)).check(), containing: "not available")
        }

        // MARK: HTTP_GET

        @Test("HTTP_GET: the request line and headers are keepalived's, digest and status pass")
        func httpSuccess() async throws {
            let body = "hello from the real server\n"
            let server = try await ScriptedTCPServer(respond: whenRequestComplete { _ in httpResponse(body: body) })
            defer { Task { await server.stop() } }
            let digest = try md5sum(body)
            let check = HTTPCheck(connection: loopback(server.port), connectTimeout: .seconds(3), virtualhost: "www.example.com",
                                  urls: [HTTPURLCheck(path: "/health", digest: digest.uppercased())])
            #expect(await check.check() == .success)
            let request = try #require(server.requests.withLock { $0.first })
            #expect(request.hasPrefix("GET /health HTTP/1.0\r\n"))
            #expect(request.contains("\r\nUser-Agent: KeepAliveClient\r\n"))
            #expect(request.contains("\r\nHost: www.example.com\r\n"))
            #expect(!request.contains("Connection:"))
        }

        @Test("HTTP_GET: wrong status, wrong digest, status ranges, url virtualhost wins, 1.0C and 1.1 headers")
        func httpStatusAndDigest() async throws {
            let server = try await ScriptedTCPServer(respond: whenRequestComplete { req in
                req.hasPrefix("GET /down ") ? httpResponse("503 Service Unavailable", body: "busy") : httpResponse(body: "ok")
            })
            defer { Task { await server.stop() } }
            let c = loopback(server.port)
            expectFailure(await HTTPCheck(connection: c, connectTimeout: .seconds(3), urls: [HTTPURLCheck(path: "/down")]).check(),
                          containing: "HTTP status 503 not in 200-299")
            #expect(await HTTPCheck(connection: c, connectTimeout: .seconds(3),
                                    urls: [HTTPURLCheck(path: "/down", statusCodes: [200...200, 500...503])]).check() == .success)
            let wrong = String(repeating: "0", count: 32)
            let okDigest = try md5sum("ok")
            expectFailure(await HTTPCheck(connection: c, connectTimeout: .seconds(3), urls: [HTTPURLCheck(path: "/", digest: wrong)]).check(),
                          containing: "MD5 digest \(okDigest) does not match \(wrong)")
            // Every url must pass: the second one fails.
            expectFailure(await HTTPCheck(connection: c, connectTimeout: .seconds(3),
                                          urls: [HTTPURLCheck(path: "/"), HTTPURLCheck(path: "/down")]).check(), containing: "GET /down")
            // url virtualhost over the checker's; 1.0C and 1.1 ask the server to close.
            let check = HTTPCheck(connection: c, connectTimeout: .seconds(3), version: .http11, virtualhost: "checker.example",
                                  urls: [HTTPURLCheck(path: "/a", virtualhost: "url.example")])
            #expect(await check.check() == .success)
            let last = try #require(server.requests.withLock { $0.last })
            #expect(last.hasPrefix("GET /a HTTP/1.1\r\n"))
            #expect(last.contains("Host: url.example\r\n"))
            #expect(last.contains("Connection: close\r\n"))
            // Without any virtualhost the Host is ip:port.
            #expect(await HTTPCheck(connection: c, connectTimeout: .seconds(3), version: .http10Close, urls: [HTTPURLCheck(path: "/b")]).check() == .success)
            let plain = try #require(server.requests.withLock { $0.last })
            #expect(plain.contains("Host: 127.0.0.1:\(server.port)\r\n"))
            #expect(plain.contains("Connection: close\r\n"))
        }

        @Test("HTTP_GET: chunked bodies and bodies delimited by the close are hashed whole")
        func httpBodies() async throws {
            let chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n"
            let server = try await ScriptedTCPServer(respond: whenRequestComplete { req in
                if req.hasPrefix("GET /chunked ") { return .send(chunked) }
                if req.hasPrefix("GET /slow ") {
                    return .trickle([Array("HTTP/1.0 200 OK\r\n\r\nslow ".utf8), Array("body".utf8)], gap: .milliseconds(200))
                }
                return .send("HTTP/1.0 200 OK\r\n\r\nuntil close")
            })
            defer { Task { await server.stop() } }
            let c = loopback(server.port)
            for (path, body) in [("/chunked", "hello, world"), ("/close", "until close"), ("/slow", "slow body")] {
                let check = HTTPCheck(connection: c, connectTimeout: .seconds(3), version: .http11,
                                      urls: [HTTPURLCheck(path: path, digest: try md5sum(body))])
                #expect(await check.check() == .success, "\(path)")
            }
        }

        @Test("HTTP_GET: url regex must match the body (regex_no_match: must not), chunked bodies included")
        func httpRegex() async throws {
            let chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n8\r\nstatus: \r\n9\r\ndegraded\n\r\n0\r\n\r\n"
            let server = try await ScriptedTCPServer(respond: whenRequestComplete { req in
                if req.hasPrefix("GET /chunked ") { return .send(chunked) }
                if req.hasPrefix("GET /errors ") { return httpResponse(body: "line 1\r\nERROR 42 disk full\r\n") }
                return httpResponse(body: "<html>\r\nstatus: ok\r\n</html>")
            })
            defer { Task { await server.stop() } }
            let c = loopback(server.port)
            func check(_ path: String, _ regex: String, noMatch: Bool = false) async -> CheckResult {
                await HTTPCheck(connection: c, connectTimeout: .seconds(3), version: .http11,
                                urls: [HTTPURLCheck(path: path, regex: regex, regexNoMatch: noMatch)]).check()
            }
            #expect(await check("/", "status: (ok|degraded)") == .success)
            // Across lines, and \r\n as two characters (Unicode scalar semantics, as PCRE2).
            #expect(await check("/", "<html>\\r\\nstatus") == .success)
            #expect(await check("/", "(?m)^status: ok") == .success)
            expectFailure(await check("/", "^status: ok"), containing: "does not match")
            expectFailure(await check("/", "status: down"), containing: "body does not match regex /status: down/ (GET /)")
            // The regex sees the whole body, whatever the chunking.
            #expect(await check("/chunked", "status: degraded") == .success)
            // regex_no_match: the body must not match.
            #expect(await check("/", "ERROR [0-9]+", noMatch: true) == .success)
            expectFailure(await check("/errors", "ERROR [0-9]+", noMatch: true), containing: "body matches regex /ERROR [0-9]+/ (GET /errors)")
            // With a digest too: both must pass.
            let both = HTTPCheck(connection: c, connectTimeout: .seconds(3),
                                 urls: [HTTPURLCheck(path: "/errors", digest: try md5sum("line 1\r\nERROR 42 disk full\r\n"), regex: "disk full")])
            #expect(await both.check() == .success)
            #expect(HTTPURLCheck.regexProblem("a(b") == "Swift Regex cannot compile /a(b/: expected ')' at offset 3")
            #expect(HTTPURLCheck.regexProblem("x{2,1}")?.hasPrefix("Swift Regex cannot compile /x{2,1}/: range lower bound") == true)
            #expect(HTTPURLCheck.regexProblem("a(b)") == nil)
        }

        @Test("HTTP_GET: hangs time out, resets, garbage and truncated bodies fail with a reason")
        func httpBadServers() async throws {
            let server = try await ScriptedTCPServer(respond: whenRequestComplete { req in
                if req.hasPrefix("GET /hang ") { return .hang }
                if req.hasPrefix("GET /short ") { return .send("HTTP/1.0 200 OK\r\nContent-Length: 100\r\n\r\nonly a bit") }
                if req.hasPrefix("GET /empty ") { return .send("") }
                return .send("\u{1}\u{2}garbage that is not HTTP\r\n\r\n")
            })
            defer { Task { await server.stop() } }
            let c = loopback(server.port)
            func run(_ path: String, _ timeout: Duration = .seconds(3)) async -> CheckResult {
                await HTTPCheck(connection: c, connectTimeout: timeout, urls: [HTTPURLCheck(path: path)]).check()
            }
            let start = ContinuousClock.now
            expectFailure(await run("/hang", .milliseconds(500)), containing: "timed out after 500 ms")
            #expect(ContinuousClock.now - start < .seconds(2))
            let resetter = try ResetServer()
            defer { resetter.stop() }
            expectFailure(await HTTPCheck(connection: loopback(resetter.port), connectTimeout: .seconds(3), urls: [HTTPURLCheck(path: "/")]).check(),
                          containing: "connection reset by peer")
            expectFailure(await run("/short"), containing: "closed before the response ended")
            expectFailure(await run("/empty"), containing: "closed before an HTTP response")
            expectFailure(await run("/garbage"), containing: "invalid HTTP response")
        }

        // MARK: SSL_GET

        @Test("SSL_GET: TLS to a self-signed server (no verification), SNI sent when enabled")
        func ssl() async throws {
            guard let tls = try selfSignedTLSContext() else {
                print("skipped SSL_GET test: no openssl to make a certificate")
                return
            }
            let body = "secure body"
            let server = try await ScriptedTCPServer(tls: tls, respond: whenRequestComplete { _ in httpResponse(body: body) })
            defer { Task { await server.stop() } }
            let c = loopback(server.port)
            let check = HTTPCheck(connection: c, connectTimeout: .seconds(5), virtualhost: "www.example.com",
                                  urls: [HTTPURLCheck(path: "/", digest: try md5sum(body))],
                                  tls: TLSCheckOptions(enableSNI: true, sniName: "sni.example.com"))
            #expect(await check.check() == .success)
            // Plain HTTP against the TLS port: the server answers with a TLS alert or closes.
            expectFailure(await HTTPCheck(connection: c, connectTimeout: .seconds(3), urls: [HTTPURLCheck(path: "/")]).check(),
                          containing: "closed before an HTTP response")
            // TLS against a plain HTTP server (it answers the ClientHello with HTTP) fails the handshake.
            let plain = try await ScriptedTCPServer { _ in httpResponse("400 Bad Request", body: body) }
            defer { Task { await plain.stop() } }
            let bad = HTTPCheck(connection: loopback(plain.port), connectTimeout: .seconds(3), urls: [HTTPURLCheck(path: "/")],
                                tls: TLSCheckOptions())
            expectFailure(await bad.check(), containing: "TLS")
        }

        // MARK: SMTP_CHECK

        @Test("SMTP_CHECK: 220 banner, HELO answered 250, QUIT; bad banners and garbage fail")
        func smtp() async throws {
            let good = try await ScriptedTCPServer(greeting: "220-mail.example ESMTP\r\n220 ready\r\n") { text in
                if text.hasPrefix("HELO ") && text.hasSuffix("\r\n") { return .send("250 hello\r\n", close: false) }
                if text.hasPrefix("QUIT") { return .send("221 bye\r\n") }
                return nil
            }
            defer { Task { await good.stop() } }
            #expect(await SMTPCheck(connection: loopback(good.port), connectTimeout: .seconds(3), heloName: "lb.example").check() == .success)
            #expect(good.requests.withLock { $0.first } == "HELO lb.example\r\n")

            let busy = try await ScriptedTCPServer(greeting: "554 no service\r\n") { _ in .hang }
            defer { Task { await busy.stop() } }
            expectFailure(await SMTPCheck(connection: loopback(busy.port), connectTimeout: .seconds(3)).check(), containing: "SMTP greeting 554")

            let rude = try await ScriptedTCPServer(greeting: "220 hi\r\n") { text in text.hasSuffix("\r\n") ? .send("501 who are you\r\n") : nil }
            defer { Task { await rude.stop() } }
            expectFailure(await SMTPCheck(connection: loopback(rude.port), connectTimeout: .seconds(3)).check(), containing: "reply to HELO is 501")

            let garbage = try await ScriptedTCPServer(greeting: "SSH-2.0-OpenSSH\r\n") { _ in .hang }
            defer { Task { await garbage.stop() } }
            expectFailure(await SMTPCheck(connection: loopback(garbage.port), connectTimeout: .seconds(3)).check(), containing: "invalid SMTP reply")

            let silent = try await ScriptedTCPServer { _ in .hang }
            defer { Task { await silent.stop() } }
            expectFailure(await SMTPCheck(connection: loopback(silent.port), connectTimeout: .milliseconds(300)).check(), containing: "timed out")
        }

        // MARK: DNS_CHECK

        @Test("DNS_CHECK: a NOERROR response with the query's id passes; rcode, id and QR are checked")
        func dns() async throws {
            let mode = Mutex("ok")
            let server = try await ScriptedUDPServer { query in
                guard query.count >= 12 else { return nil }
                var reply = query
                switch mode.withLock({ $0 }) {
                case "ok": reply[2] |= 0x80
                case "nxdomain": reply[2] |= 0x80; reply[3] = 0x03
                case "wrong-id": reply[2] |= 0x80; reply[0] ^= 0xFF
                case "not-response": break
                case "short": return [1, 2, 3]
                default: return nil
                }
                return reply
            }
            defer { Task { await server.stop() } }
            let check = DNSCheck(connection: loopback(server.port), connectTimeout: .seconds(2), queryType: 1, queryName: "www.example.com")
            #expect(await check.check() == .success)
            mode.withLock { $0 = "nxdomain" }
            expectFailure(await check.check(), containing: "DNS rcode 3 (NXDOMAIN)")
            mode.withLock { $0 = "wrong-id" }
            expectFailure(await check.check(), containing: "does not match query id")
            mode.withLock { $0 = "not-response" }
            expectFailure(await check.check(), containing: "QR clear")
            mode.withLock { $0 = "short" }
            expectFailure(await check.check(), containing: "too short")
            mode.withLock { $0 = "silent" }
            expectFailure(await DNSCheck(connection: loopback(server.port), connectTimeout: .milliseconds(300)).check(), containing: "timed out")
            expectFailure(await DNSCheck(connection: loopback(try closedPort(udp: true)), connectTimeout: .seconds(2)).check(),
                          containing: "port unreachable")
        }

        @Test("DNS_CHECK: the query is encoded with RD and the name's labels")
        func dnsQuery() throws {
            let q = try #require(DNSCheck.query(id: 0xBEEF, type: 6, name: "example.com."))
            #expect(q == [0xBE, 0xEF, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 7] + Array("example".utf8) + [3] + Array("com".utf8) + [0, 0, 6, 0, 1])
            #expect(DNSCheck.query(id: 1, type: 6, name: ".") == [0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 6, 0, 1])
            #expect(DNSCheck.query(id: 1, type: 1, name: "a..b") == nil)
            #expect(DNSCheck.query(id: 1, type: 1, name: String(repeating: "x", count: 64)) == nil)
        }

        // MARK: UDP_CHECK

        @Test("UDP_CHECK: require_reply with x wildcards, lengths, silence and ICMP port unreachable")
        func udp() async throws {
            let server = try await ScriptedUDPServer { payload in
                if payload == [0x01] { return [0xAB, 0xCD, 0xEF] }
                if payload == [0x02] { return Array(repeating: 7, count: 300) }
                return nil
            }
            defer { Task { await server.stop() } }
            let c = loopback(server.port)
            let pattern = try #require(UDPCheck.ReplyPattern(hex: "abxd"))
            #expect(await UDPCheck(connection: c, connectTimeout: .seconds(2), payload: [1], requireReply: pattern).check() == .success)
            expectFailure(await UDPCheck(connection: c, connectTimeout: .seconds(2), payload: [1],
                                         requireReply: UDPCheck.ReplyPattern(hex: "abce")).check(), containing: "does not match require_reply")
            expectFailure(await UDPCheck(connection: c, connectTimeout: .seconds(2), payload: [1], minReplyLength: 4).check(),
                          containing: "shorter than min_reply_length 4")
            expectFailure(await UDPCheck(connection: c, connectTimeout: .seconds(2), payload: [2]).check(),
                          containing: "longer than max_reply_length 255")
            // Silence: fine without require_reply, a failure with it.
            #expect(await UDPCheck(connection: c, connectTimeout: .milliseconds(300), payload: [9]).check() == .success)
            expectFailure(await UDPCheck(connection: c, connectTimeout: .milliseconds(300), payload: [9], requireReply: pattern).check(),
                          containing: "no reply within 300 ms")
            expectFailure(await UDPCheck(connection: loopback(try closedPort(udp: true)), connectTimeout: .seconds(2), payload: [1]).check(),
                          containing: "port unreachable (ICMP)")
        }

        // MARK: PING_CHECK

        @Test("PING_CHECK: echo to 127.0.0.1 and ::1 through ICMP datagram sockets")
        func ping() async throws {
            guard Integration.available() else { return }
            // ICMP datagram sockets need the group in ping_group_range (keepalived widens it too).
            let path = "/proc/sys/net/ipv4/ping_group_range"
            let original = try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            try "0 0".write(toFile: path, atomically: false, encoding: .utf8)
            defer { try? original.write(toFile: path, atomically: false, encoding: .utf8) }
            #expect(await PingCheck(connection: loopback(0), connectTimeout: .seconds(2)).check() == .success)
            #expect(await PingCheck(connection: loopback(0, "::1"), connectTimeout: .seconds(2)).check() == .success)
            try "1 0".write(toFile: path, atomically: false, encoding: .utf8)
            expectFailure(await PingCheck(connection: loopback(0), connectTimeout: .seconds(2)).check(), containing: "not permitted")
        }

        // MARK: MISC_CHECK

        @Test("MISC_CHECK: exit 0 up, 1 down, misc_dynamic weights, timeout")
        func misc() async throws {
            let runner = ScriptRunner()
            let root = ScriptIdentity(userName: "root", uid: 0, gid: 0, home: "/root", shell: "/bin/sh")
            func script(_ text: String) throws -> Script {
                try Script.prepare(name: "MISC_CHECK test", commandLine: ScriptCommandLine(arguments: ["/bin/sh", "-c", text]),
                                   identity: root, enforceSecurity: false)
            }
            #expect(await MiscCheck(script: try script("exit 0"), runner: runner, timeout: .seconds(5)).check() == .success)
            expectFailure(await MiscCheck(script: try script("exit 1"), runner: runner, timeout: .seconds(5)).check(),
                          containing: "exited with status 1")
            #expect(await MiscCheck(script: try script("exit 12"), runner: runner, timeout: .seconds(5), dynamic: true).check() == .weighted(10))
            #expect(await MiscCheck(script: try script("exit 2"), runner: runner, timeout: .seconds(5), dynamic: true).check() == .weighted(0))
            expectFailure(await MiscCheck(script: try script("exit 12"), runner: runner, timeout: .seconds(5)).check(),
                          containing: "exited with status 12")
            expectFailure(await MiscCheck(script: try script("exit 1"), runner: runner, timeout: .seconds(5), dynamic: true).check(),
                          containing: "exited with status 1")
            let start = ContinuousClock.now
            expectFailure(await MiscCheck(script: try script("sleep 30"), runner: runner, timeout: .milliseconds(300)).check(),
                          containing: "timed out after 300 ms")
            #expect(ContinuousClock.now - start < .seconds(10))
        }

        // MARK: genhash

        @Test("genhash: the digest equals md5sum of the served body, over HTTP and the kad binary")
        func genhash() async throws {
            let body = String(repeating: "genhash body line\n", count: 500)
            let server = try await ScriptedTCPServer(respond: whenRequestComplete { _ in httpResponse(body: body) })
            defer { Task { await server.stop() } }
            let expected = try md5sum(body)
            let result = try await GenHash.fetch(server: IPAddress("127.0.0.1")!, port: server.port, path: "/index.html")
            #expect(result.status == 200)
            #expect(result.bodyLength == body.utf8.count)
            #expect(GenHash.digestLine(result) == "MD5SUM = \(expected)")
            await #expect(throws: GenHashError.self) {
                try await GenHash.fetch(server: IPAddress("127.0.0.1")!, port: try closedPort(), path: "/")
            }
            // The command line, when the kad binary has been built next to this test.
            let kad = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent(".build/debug/kad").path
            if FileManager.default.isExecutableFile(atPath: kad) {
                let out = try Shell.run([kad, "genhash", "-s", "127.0.0.1", "-p", String(server.port), "-u", "/index.html"])
                #expect(out.split(separator: "\n").last.map(String.init) == "MD5SUM = \(expected)")
                let refused = try Shell.capture([kad, "genhash", "-s", "127.0.0.1", "-p", String(try closedPort()), "-u", "/"])
                #expect(refused.status == 1)
                #expect(refused.output.contains("connection refused"))
            }
        }
    }
}
