/// `vrrp_sync_group NAME { group { VI_1 VI_2 } ... }`: instances that change state together.
public struct SyncGroup: Codable, Sendable, Hashable {
    public var name: String
    /// The member instances (required).
    public var group: [String] = []
    public var trackInterfaces: [TrackReference] = []
    public var trackScripts: [TrackReference] = []
    public var trackFiles: [TrackReference] = []
    public var trackProcesses: [TrackReference] = []
    public var trackBFDs: [TrackReference] = []
    public var notifyMaster: ScriptCommand?
    public var notifyBackup: ScriptCommand?
    public var notifyFault: ScriptCommand?
    public var notifyStop: ScriptCommand?
    public var notify: ScriptCommand?
    public var notifyDeleted: Bool = false
    public var notifyDeletedCommand: ScriptCommand?
    public var smtpAlert: Bool?
    public var notifyPriorityChanges: Bool?
    public var syncGroupTrackingWeight: Bool = false

    public init(name: String) { self.name = name }

    static let schema = BlockSchema<SyncGroup>("vrrp_sync_group", [
        .list("group", \.group, help: "the member vrrp_instances"),
        .tracking("track_interface", \.trackInterfaces, weights: -253...253, help: "interfaces tracked by every member"),
        .tracking("track_script", \.trackScripts, weights: -253...253, help: "scripts tracked by every member"),
        .tracking("track_file", \.trackFiles, weights: -254...254, help: "files tracked by every member"),
        .tracking("track_process", \.trackProcesses, weights: -254...254, help: "processes tracked by every member"),
        .tracking("track_bfd", \.trackBFDs, weights: -253...253, help: "BFD sessions tracked by every member"),
        .command("notify_master", \.notifyMaster, help: "run when the group becomes MASTER"),
        .command("notify_backup", \.notifyBackup, help: "run when the group becomes BACKUP"),
        .command("notify_fault", \.notifyFault, help: "run when the group enters FAULT"),
        .command("notify_stop", \.notifyStop, help: "run when the group stops"),
        .command("notify", \.notify, help: "run on every transition with GROUP NAME STATE 0 appended"),
        .notifyDeleted(\.notifyDeleted, \.notifyDeletedCommand),
        .bool("smtp_alert", \.smtpAlert, help: "send email on transitions"),
        .bool("notify_priority_changes", \.notifyPriorityChanges, help: "write priority changes to the FIFO"),
        .flag("sync_group_tracking_weight", \.syncGroupTrackingWeight, help: "let members keep weighted trackers"),
        .ignored("global_tracking", help: "deprecated in keepalived; members track group-level objects anyway"),
    ])
}

/// `linkbeat_interfaces { IF [MII|ETHTOOL|IOCTL] }` entry.
public struct LinkbeatInterface: Codable, Sendable, Hashable {
    public enum Method: String, ConfigEnum {
        case mii = "MII"
        case ethtool = "ETHTOOL"
        case ioctl = "IOCTL"
    }

    public var interface: String
    public var method: Method?
}

/// `interface_up_down_delays { IF DOWN [UP] }` entry.
public struct InterfaceDelay: Codable, Sendable, Hashable {
    public var interface: String
    public var downDelay: Seconds
    /// Defaults to the down delay.
    public var upDelay: Seconds
}

/// `track_group NAME { group { VI_1 VI_2 } }`.
public struct TrackGroup: Codable, Sendable, Hashable {
    public var name: String
    public var group: [String] = []

    public init(name: String) { self.name = name }

    static let schema = BlockSchema<TrackGroup>("track_group", [
        .list("group", \.group, help: "instances that go to FAULT when a tagged static address, route or rule is lost"),
    ])
}

/// `garp_group { garp_interval T; gna_interval T; interface IF | interfaces { ... } }`.
public struct GarpGroup: Codable, Sendable, Hashable {
    public var garpInterval: Seconds?
    public var gnaInterval: Seconds?
    public var interfaces: [String] = []

    public init() {}

    static let schema = BlockSchema<GarpGroup>("garp_group", [
        .seconds("garp_interval", 0...86400, \.garpInterval, help: "pacing between gratuitous ARPs"),
        .seconds("gna_interval", 0...86400, \.gnaInterval, help: "pacing between neighbour advertisements"),
        KeywordRule("interface", help: "an interface of the group", repeatable: true,
                    decode: { m, n, c in if c.expectArguments(n, 1...1, usage: "interface IF") { m.interfaces.append(n.arguments[0].text) } },
                    encode: { m, w in if !m.interfaces.isEmpty { w.block(["interfaces"]) { w in for i in m.interfaces { w.line(i) } } } }),
        .list("interfaces", \.interfaces, help: "interfaces of the group"),
    ])
}

/// `bfd_instance NAME { }` (RFC 5880/5883).
public struct BFDInstance: Codable, Sendable, Hashable {
    public var name: String
    /// Required.
    public var neighborIP: IPAddress?
    public var sourceIP: IPAddress?
    /// Milliseconds.
    public var minRx: Int = 10
    public var minTx: Int = 10
    public var idleTx: Int = 1000
    public var multiplier: Int = 5
    public var passive: Bool = false
    public var ttl: Int?
    public var hoplimit: Int?
    public var maxHops: Int = 0
    public var multihop: Bool = false
    public var weight: TrackWeight?
    /// Send events only to the VRRP process.
    public var vrrp: Bool = false
    /// Send events only to the checker process.
    public var checker: Bool = false

    public init(name: String) { self.name = name }

    static let schema = BlockSchema<BFDInstance>("bfd_instance", [
        KeywordRule("neighbor_ip", aliases: ["neighbour_ip"], help: "the peer's address (required)",
                    decode: { m, n, c in
                        guard c.expectArguments(n, 1...1, usage: "neighbor_ip IP"), let a = c.ipAddress(n.arguments[0]) else { return }
                        m.neighborIP = a
                    },
                    encode: { m, w in if let a = m.neighborIP { w.line("neighbor_ip", a.description) } }),
        KeywordRule("source_ip", help: "our address",
                    decode: { m, n, c in
                        guard c.expectArguments(n, 1...1, usage: "source_ip IP"), let a = c.ipAddress(n.arguments[0]) else { return }
                        m.sourceIP = a
                    },
                    encode: { m, w in if let a = m.sourceIP { w.line("source_ip", a.description) } }),
        .int("min_rx", 1...1_000_000, \.minRx, help: "milliseconds (default 10)"),
        .int("min_tx", 1...1_000_000, \.minTx, help: "milliseconds (default 10)"),
        .int("idle_tx", 1...1_000_000, \.idleTx, help: "milliseconds (default 1000)"),
        .int("multiplier", 1...255, \.multiplier, help: "detection multiplier (default 5)"),
        .flag("passive", \.passive, help: "don't send until the peer does"),
        .int("ttl", 1...255, \.ttl, help: "IPv4 TTL (default 255)"),
        .int("hoplimit", 1...255, \.hoplimit, help: "IPv6 hop limit (default 64)"),
        .int("max_hops", 0...255, \.maxHops, help: "0..255; 255 disables the check"),
        .bool("multihop", \.multihop, help: "use port 4784"),
        .trackWeight(-253...253, \.weight, help: "-253..253 [reverse]"),
        .flag("vrrp", \.vrrp, help: "send events only to VRRP"),
        .flag("checker", \.checker, help: "send events only to the checkers"),
    ])
}
