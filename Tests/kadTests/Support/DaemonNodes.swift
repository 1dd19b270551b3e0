import Foundation
import IntegrationSupport
import Testing
@testable import kad

/// `kad run` inside node `i` of a TestLAN, logging to the console (captured in a file).
final class KadNode: @unchecked Sendable {
    let process: NamespaceProcess
    let configPath: String
    let pidPath: String
    let socketPath: String

    init(lan: TestLAN, _ i: Int, scratch: ScratchDirectory, config: String, arguments: [String] = [],
         name: String? = nil, environment: [String] = []) throws {
        let tag = name ?? "kad\(i)"
        configPath = try scratch.write("\(tag).conf", config)
        pidPath = scratch.file("\(tag).pid")
        socketPath = scratch.file("\(tag).sock")
        process = try NamespaceProcess(namespace: lan.nodes[i], command: (environment.isEmpty ? [] : ["env"] + environment) + [
            KadProcess.binary, "run", "-l", "-D", "-f", configPath, "-p", pidPath, "--control-socket", socketPath,
        ] + arguments, logPath: scratch.file("\(tag).log"))
    }

    var log: String { process.log }

    /// Replaces the configuration file (for a reload).
    func rewrite(_ config: String) throws {
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    /// SIGTERM and the exit status (nil: still running after `limit`).
    func terminate(within limit: Duration = .seconds(3)) async -> Int32? {
        process.signal(SIGTERM)
        return await process.waitForExit(within: limit)
    }
}

/// keepalived 2.2.7 (VRRP only) inside node `i`, logging to the console.
final class KeepalivedNode: @unchecked Sendable {
    let process: NamespaceProcess

    static var binary: String? {
        ["/usr/sbin/keepalived", "/sbin/keepalived"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    init(lan: TestLAN, _ i: Int, scratch: ScratchDirectory, config: String) throws {
        let tag = "keepalived\(i)"
        let conf = try scratch.write("\(tag).conf", config)
        process = try NamespaceProcess(namespace: lan.nodes[i], command: [
            Self.binary!, "-n", "-l", "-D", "-P", "-f", conf, "-p", scratch.file("\(tag).pid"),
            "-r", scratch.file("\(tag)-vrrp.pid"), "-c", scratch.file("\(tag)-c.pid"), "-b", scratch.file("\(tag)-b.pid"),
        ], logPath: scratch.file("\(tag).log"))
    }

    var log: String { process.log }
}

/// What a capture on the bridge saw, in order, with capture timestamps.
struct WireLog {
    enum Kind: Equatable {
        case advert(source: String, vrid: Int, priority: Int)
        case garp(address: String, mac: String)
        case neighborAdvertisement(target: String, override: Bool)
    }
    struct Event {
        var nanoseconds: Int64
        var kind: Kind
    }
    var events: [Event] = []
    /// Every frame's source MAC and IP protocol (2 for IGMP), in order.
    var frames: [(source: String, ipProtocol: Int?)] = []

    init(pcap bytes: [UInt8]) {
        for packet in PcapReader.read(bytes).packets {
            let r = PacketDissector.dissect(packet)
            if let mac = r.link?.source { frames.append((mac, r.ip?.proto)) }
            guard let t = r.epochNanoseconds else { continue }
            if let v = r.vrrp, let ip = r.ip, let vrid = v.vrid, let p = v.priority {
                events.append(Event(nanoseconds: t, kind: .advert(source: ip.source, vrid: vrid, priority: p)))
            } else if let a = r.arp, a.gratuitous {
                events.append(Event(nanoseconds: t, kind: .garp(address: a.senderIP, mac: a.senderMAC)))
            } else if let na = r.neighborAdvertisement, na.unsolicited {
                events.append(Event(nanoseconds: t, kind: .neighborAdvertisement(target: na.target, override: na.override)))
            }
        }
    }

    func adverts(from source: String) -> [Event] {
        events.filter { if case .advert(source, _, _) = $0.kind { true } else { false } }
    }

    func first(after t: Int64, where match: (Kind) -> Bool) -> Event? {
        events.first { $0.nanoseconds > t && match($0.kind) }
    }
}

extension Duration {
    init(nanoseconds n: Int64) { self = .nanoseconds(n) }
    var milliseconds: Double {
        let c = components
        return Double(c.seconds) * 1000 + Double(c.attoseconds) / 1e15
    }
}

/// Node i's address on the test LAN.
func lanAddress(_ i: Int) -> String { "192.0.2.\(i + 1)" }

/// A minimal keepalived.conf: one IPv4 instance on eth0.
func vrrpConfig(priority: Int, vrid: Int = 51, state: String = "BACKUP", version: Int = 3, interval: String = "0.1",
                vips: [String] = ["192.0.2.100/24"], extra: String = "", global: String = "", top: String = "") -> String {
    """
    global_defs {
        router_id kadtest
        vrrp_garp_master_delay 1
        \(global)
    }
    \(top)
    vrrp_instance VI_1 {
        state \(state)
        interface eth0
        virtual_router_id \(vrid)
        version \(version)
        priority \(priority)
        advert_int \(interval)
        \(extra)
        virtual_ipaddress {
            \(vips.joined(separator: "\n        "))
        }
    }

    """
}
