import Foundation
import Testing
import VRRPCore
@testable import kad

/// A scratch directory, removed by the caller.
func scratchDirectory() -> String {
    let path = NSTemporaryDirectory() + "kad-test-\(UUID().uuidString.prefix(8))"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

@Suite struct DumpsTests {
    /// keepalived 2.2.7's `keepalived.stats` for one instance (SIGUSR2 on a fresh MASTER),
    /// numbers replaced by `#`.
    static let keepalivedLayout = """
        VRRP Instance: VI_1
          Advertisements:
            Received: #
            Sent: #
          Became master: #
          Released master: #
          Packet Errors:
            Length: #
            TTL: #
            Invalid Type: #
            Advertisement Interval: #
            Address List: #
          Authentication Errors:
            Invalid Type: #
            Type Mismatch: #
            Failure: #
          Priority Zero:
            Received: #
            Sent: #

        """

    static func skeleton(_ text: String) -> String {
        text.replacing(/: \d+\n/, with: ": #\n")
    }

    /// The value of `label` in the block of `instance` (`path` like `Packet Errors/TTL`).
    static func value(_ stats: String, instance: String, _ path: String) -> Int? {
        let blocks = stats.components(separatedBy: "VRRP Instance: ").dropFirst()
        guard let block = blocks.first(where: { $0.hasPrefix(instance + "\n") }) else { return nil }
        let parts = path.split(separator: "/").map(String.init)
        var lines = block.split(separator: "\n").map(String.init)[...]
        if parts.count == 2 {
            guard let i = lines.firstIndex(of: "  \(parts[0]):") else { return nil }
            lines = lines[(i + 1)...].prefix { $0.hasPrefix("    ") }
        }
        let label = parts.last!
        return lines.lazy.compactMap { line -> Int? in
            let t = line.trimmingCharacters(in: .whitespaces)
            return t.hasPrefix(label + ": ") ? Int(t.dropFirst(label.count + 2)) : nil
        }.first
    }

    @Test func statsKeepKeepalivedsLayout() throws {
        let d = try StatusFixture.driven()
        let stats = Dumps.stats(d.engine)
        let blocks = stats.components(separatedBy: "VRRP Instance: ").dropFirst().map { "VRRP Instance: " + $0 }
        #expect(blocks.count == 3)
        for (block, name) in zip(blocks, ["VI_1", "VI_2", "VI_6"]) {
            #expect(Self.skeleton(block) == Self.keepalivedLayout.replacingOccurrences(of: "VI_1", with: name))
        }
    }

    @Test func statsMapTheEngineCounters() throws {
        let d = try StatusFixture.driven()
        let stats = Dumps.stats(d.engine)
        let k1 = d.router("VI_1").counters
        #expect(Self.value(stats, instance: "VI_1", "Advertisements/Received") == 2)
        #expect(Self.value(stats, instance: "VI_1", "Advertisements/Sent") == Int(k1.advertisementsSent))
        #expect(Self.value(stats, instance: "VI_1", "Became master") == 1)
        #expect(Self.value(stats, instance: "VI_1", "Released master") == 0)
        #expect(Self.value(stats, instance: "VI_1", "Packet Errors/TTL") == 1)
        #expect(Self.value(stats, instance: "VI_1", "Packet Errors/Address List") == 1)
        #expect(Self.value(stats, instance: "VI_1", "Packet Errors/Length") == 0)
        #expect(Self.value(stats, instance: "VI_1", "Authentication Errors/Failure") == 0)
        #expect(Self.value(stats, instance: "VI_1", "Priority Zero/Sent") == 0)
        #expect(Self.value(stats, instance: "VI_2", "Advertisements/Received") == 1)
        #expect(Self.value(stats, instance: "VI_2", "Released master") == 1)
        #expect(Self.value(stats, instance: "VI_2", "Advertisements/Sent") == Int(d.router("VI_2").counters.advertisementsSent))
        #expect(Int(d.router("VI_2").counters.advertisementsSent) % 2 == 0)  // two unicast peers
        #expect(Self.value(stats, instance: "VI_6", "Released master") == 1)
    }

    @Test func statsCountAuthenticationAndIntervalErrors() throws {
        var c = VirtualRouterConfiguration(name: "V", virtualRouterID: 7, interface: "eth0",
                                           primaryAddress: StatusFixture.ip("192.0.2.1"),
                                           addresses: [VirtualAddress(StatusFixture.ip("192.0.2.100"), prefixLength: 24)])
        c.password = VRRPPassword("secret")
        var engine = try VRRPEngine(routers: [c])
        _ = engine.handle(.startup, now: .zero)
        func advert(authType: UInt8, data: UInt64, interval: UInt16 = 100, priority: UInt8 = 100) -> VRRPEngine.Input {
            let a = VRRPAdvertisement(version: .v2, virtualRouterID: 7, priority: priority, advertisementInterval: interval,
                                      addresses: VRRPAddressList(family: .ipv4, [StatusFixture.ip("192.0.2.100")]),
                                      authenticationType: authType, authenticationData: data)
            return .packet(VRRPReceivedPacket(advertisement: a, source: StatusFixture.ip("192.0.2.2"),
                                              destination: StatusFixture.ip("224.0.0.18"), hopLimit: 255,
                                              checksumForm: .messageOnly), interface: "eth0")
        }
        let good = VRRPPassword("secret").rawValue
        _ = engine.handle(advert(authType: 0, data: 0), now: .seconds(1))
        _ = engine.handle(advert(authType: 1, data: 12345), now: .seconds(1))
        _ = engine.handle(advert(authType: 1, data: 12345), now: .seconds(1))
        _ = engine.handle(advert(authType: 1, data: good, interval: 200), now: .seconds(1))
        _ = engine.handle(advert(authType: 1, data: good, priority: 0), now: .seconds(1))
        let stats = Dumps.stats(engine)
        #expect(Self.value(stats, instance: "V", "Authentication Errors/Type Mismatch") == 1)
        #expect(Self.value(stats, instance: "V", "Authentication Errors/Failure") == 2)
        #expect(Self.value(stats, instance: "V", "Packet Errors/Advertisement Interval") == 1)
        #expect(Self.value(stats, instance: "V", "Priority Zero/Received") == 1)
        #expect(Self.value(stats, instance: "V", "Advertisements/Received") == 1)
    }

    @Test func dataDumpIsReadable() throws {
        let d = try StatusFixture.driven()
        let text = Dumps.data(engine: d.engine, statistics: d.statistics, now: d.now, daemon: StatusFixture.daemon,
                              at: StatusFixture.reportDate)
        let lines = text.split(separator: "\n").map(String.init)
        for expected in [
            "------< kad >------", " Pid = 4242", " Config file = /etc/keepalived/keepalived.conf", " Uptime = 1h01m01s",
            "------< VRRP Topology >------", " VRRP Instance = VI_1", "   State = MASTER", "   Interface = eth0",
            "   Virtual Router ID = 51", "   Using src_ip = 192.0.2.1", "   Multicast address 224.0.0.18",
            "   Priority = 100", "   Effective priority = 80", "   Advert interval = 1.000000 sec",
            "   Master down timer = not armed", "   Virtual IP (1):", "     192.0.2.100/24",
            "   Tracked objects (2):", "     script chk_web: down, weight -20, priority delta -20",
            "     interface eth1: up, weight 0, priority delta 0",
            "   Drops (1):", "     bad_hop_limit = 1",
            " VRRP Instance = VI_2", "   Unicast peers (2):", "     192.0.2.2", "   Master = 192.0.2.9", "   Sync group = G1",
            " VRRP Instance = VI_6", "   Family = IPv6", "   VRRP Version = 3", "   Virtual IP (2):", "     2001:db8::100/64",
            "------< VRRP Sync groups >------", " VRRP Sync Group = G1, BACKUP", "     VI_2", "     VI_6",
            "------< Unrouted packets >------", " malformed_ip_header = 1", " unknown_vrid = 1",
            "------< Runner timers >------", " Late wake-ups = 0",
        ] {
            #expect(lines.contains(expected), "missing line: \(expected)")
        }
        #expect(lines.contains { $0.hasPrefix("   Next advert = in 0.") })
        #expect(lines.contains { $0.hasPrefix("   Master down timer = expires in ") })
    }

    @Test func theDumpDirectoryFollowsKeepalived() {
        #expect(Dumps.directory(environment: [:]) == "/tmp")
        #expect(Dumps.directory(environment: ["TMPDIR": "/var/tmp"]) == "/var/tmp")
        #expect(Dumps.directory(environment: ["TMPDIR": "/var/tmp", "KA_TMP_DIR": "/run/ka"]) == "/run/ka")
        #expect(Dumps.directory(environment: ["KA_TMP_DIR": ""]) == "/tmp")
        #expect(Dumps.path(of: .data, environment: [:]) == "/tmp/keepalived.data")
        #expect(Dumps.path(of: .stats, environment: ["TMPDIR": "/x/"]) == "/x/keepalived.stats")
    }

    @Test func writesWithMode0600ReplacingOldContent() throws {
        let dir = scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/keepalived.stats"
        _ = FileManager.default.createFile(atPath: path, contents: Data(String(repeating: "old\n", count: 100).utf8),
                                       attributes: [.posixPermissions: 0o644])
        let written = try Dumps.write("new\n", to: .stats, environment: ["KA_TMP_DIR": dir])
        #expect(written == path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "new\n")
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        try Dumps.write("data\n", to: .data, environment: ["TMPDIR": dir])
        #expect(try String(contentsOfFile: dir + "/keepalived.data", encoding: .utf8) == "data\n")
    }

    @Test func refusesToFollowASymbolicLink() throws {
        let dir = scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let target = dir + "/victim"
        _ = FileManager.default.createFile(atPath: target, contents: Data("keep\n".utf8))
        try FileManager.default.createSymbolicLink(atPath: dir + "/keepalived.data", withDestinationPath: target)
        #expect(throws: Dumps.WriteError.self) { try Dumps.write("x", to: .data, environment: ["KA_TMP_DIR": dir]) }
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "keep\n")
        let missing = dir + "/no/such/dir"
        let error = #expect(throws: Dumps.WriteError.self) { try Dumps.write("x", to: .data, environment: ["KA_TMP_DIR": missing]) }
        #expect(error?.description == "cannot write \(missing)/keepalived.data: No such file or directory")
    }
}
