/// Service flags (`IP_VS_SVC_F_*`, linux/ip_vs.h), sent as `struct ip_vs_flags` (the flags
/// and a mask of the bits to change) in `IPVS_SVC_ATTR_FLAGS`.
///
/// The three scheduler flags mean what the scheduler makes of them: for `sh`, flag 1 is
/// sh-fallback and flag 2 sh-port; for `mh`, flag 1 is mh-fallback and flag 2 mh-port.
public struct IPVSServiceFlags: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// `IP_VS_SVC_F_PERSISTENT` (0x1): persistent service; see ``IPVSService/timeout``.
    public static let persistent = IPVSServiceFlags(rawValue: 0x0001)
    /// `IP_VS_SVC_F_HASHED` (0x2): the kernel's own mark that the service is in its table.
    /// Replies always carry it; the encoder never sends it (the kernel would refuse to hash
    /// a new service that claims to be hashed already).
    public static let hashed = IPVSServiceFlags(rawValue: 0x0002)
    /// `IP_VS_SVC_F_ONEPACKET` (0x4): one-packet scheduling (`ops`, UDP only).
    public static let onePacket = IPVSServiceFlags(rawValue: 0x0004)
    /// `IP_VS_SVC_F_SCHED1` (0x8): scheduler flag 1 (`flag-1`).
    public static let schedulerFlag1 = IPVSServiceFlags(rawValue: 0x0008)
    /// `IP_VS_SVC_F_SCHED2` (0x10): scheduler flag 2 (`flag-2`).
    public static let schedulerFlag2 = IPVSServiceFlags(rawValue: 0x0010)
    /// `IP_VS_SVC_F_SCHED3` (0x20): scheduler flag 3 (`flag-3`).
    public static let schedulerFlag3 = IPVSServiceFlags(rawValue: 0x0020)
    /// `IP_VS_SVC_F_SCHED_SH_FALLBACK`: `sh` skips an unavailable server (= flag 1).
    public static let shFallback = schedulerFlag1
    /// `IP_VS_SVC_F_SCHED_SH_PORT`: `sh` hashes the source port too (= flag 2).
    public static let shPort = schedulerFlag2
    /// `mh` skips an unavailable server (= flag 1, as the kernel's ip_vs_mh defines it).
    public static let mhFallback = schedulerFlag1
    /// `mh` hashes the source port too (= flag 2).
    public static let mhPort = schedulerFlag2

    /// The scheduler flags (1 to 3).
    public static let schedulerFlags: IPVSServiceFlags = [.schedulerFlag1, .schedulerFlag2, .schedulerFlag3]

    /// The scheduler flags in ipvsadm's words for `scheduler` (`sh-fallback,sh-port`,
    /// `mh-port`, `flag-1,flag-3`), or `nil` when none is set.
    public func schedulerFlagNames(for scheduler: IPVSScheduler) -> String? {
        var names: [String] = []
        let prefix = scheduler == .sourceHashing ? "sh" : scheduler == .maglevHashing ? "mh" : nil
        if contains(.schedulerFlag1) { names.append(prefix.map { "\($0)-fallback" } ?? "flag-1") }
        if contains(.schedulerFlag2) { names.append(prefix.map { "\($0)-port" } ?? "flag-2") }
        if contains(.schedulerFlag3) { names.append("flag-3") }
        return names.isEmpty ? nil : names.joined(separator: ",")
    }

    public var description: String {
        var names: [String] = []
        if contains(.persistent) { names.append("persistent") }
        if contains(.hashed) { names.append("hashed") }
        if contains(.onePacket) { names.append("ops") }
        if contains(.schedulerFlag1) { names.append("flag-1") }
        if contains(.schedulerFlag2) { names.append("flag-2") }
        if contains(.schedulerFlag3) { names.append("flag-3") }
        let rest = rawValue & ~0x3F
        if rest != 0 { names.append("0x" + String(rest, radix: 16)) }
        return "[" + names.joined(separator: ", ") + "]"
    }
}
