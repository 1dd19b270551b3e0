/// One change to the kernel's IPVS table, as planned by ``IPVSPlanner`` and applied by
/// ``IPVSReconciler``. Each maps to one IPVS command.
public enum IPVSChange: Sendable, Hashable, CustomStringConvertible {
    /// `IPVS_CMD_NEW_SERVICE`.
    case addService(IPVSService)
    /// `IPVS_CMD_SET_SERVICE`: `service` replaces `old` (same key).
    case updateService(IPVSService, old: IPVSService)
    /// `IPVS_CMD_DEL_SERVICE` (the kernel deletes its destinations with it).
    case deleteService(IPVSService.Key)
    /// `IPVS_CMD_NEW_DEST`.
    case addDestination(IPVSDestination, service: IPVSService.Key)
    /// `IPVS_CMD_SET_DEST`: `destination` replaces `old` (same address and port).
    case updateDestination(IPVSDestination, old: IPVSDestination, service: IPVSService.Key)
    /// `IPVS_CMD_DEL_DEST`.
    case deleteDestination(IPVSDestinationKey, service: IPVSService.Key)

    /// The service the change is about.
    public var serviceKey: IPVSService.Key {
        switch self {
        case let .addService(s), let .updateService(s, _): s.key
        case let .deleteService(k), let .addDestination(_, k), let .updateDestination(_, _, k), let .deleteDestination(_, k): k
        }
    }

    /// Whether the change is about the service itself rather than one of its destinations.
    public var isServiceChange: Bool {
        switch self {
        case .addService, .updateService, .deleteService: true
        default: false
        }
    }

    /// In words, naming the service and destination and, for updates, what changes:
    /// `add service TCP  192.0.2.10:80 rr`,
    /// `change destination 198.51.100.2:80 of TCP 192.0.2.10:80: weight 1 → 5`.
    public var description: String {
        switch self {
        case let .addService(s): "add service \(s)"
        case let .updateService(s, old): "change service \(s.key): " + Self.serviceDifferences(old, s)
        case let .deleteService(k): "delete service \(k)"
        case let .addDestination(d, k): "add destination \(d.endpoint) to \(k): \(d.forwarding) weight \(d.weight)"
        case let .updateDestination(d, old, k): "change destination \(d.endpoint) of \(k): " + Self.destinationDifferences(old, d)
        case let .deleteDestination(d, k): "delete destination \(d) from \(k)"
        }
    }

    static func serviceDifferences(_ a: IPVSService, _ b: IPVSService) -> String {
        var parts: [String] = []
        if a.scheduler != b.scheduler { parts.append("scheduler \(a.scheduler) → \(b.scheduler)") }
        let fa = a.flags.subtracting(.hashed), fb = b.flags.subtracting(.hashed)
        if fa != fb { parts.append("flags \(fa) → \(fb)") }
        if a.timeout != b.timeout { parts.append("timeout \(a.timeout) → \(b.timeout)") }
        if a.netmask != b.netmask { parts.append("netmask \(a.netmask) → \(b.netmask)") }
        if a.persistenceEngine != b.persistenceEngine {
            parts.append("persistence engine \(a.persistenceEngine ?? "none") → \(b.persistenceEngine ?? "none")")
        }
        return parts.isEmpty ? "no difference" : parts.joined(separator: ", ")
    }

    static func destinationDifferences(_ a: IPVSDestination, _ b: IPVSDestination) -> String {
        var parts: [String] = []
        if a.forwarding != b.forwarding { parts.append("forwarding \(a.forwarding) → \(b.forwarding)") }
        if a.weight != b.weight { parts.append("weight \(a.weight) → \(b.weight)") }
        if a.upperThreshold != b.upperThreshold { parts.append("uthreshold \(a.upperThreshold) → \(b.upperThreshold)") }
        if a.lowerThreshold != b.lowerThreshold { parts.append("lthreshold \(a.lowerThreshold) → \(b.lowerThreshold)") }
        if a.tunnelType != b.tunnelType || a.tunnelPort != b.tunnelPort || a.tunnelFlags != b.tunnelFlags {
            parts.append("tunnel \(a.tunnelDescription) → \(b.tunnelDescription)")
        }
        return parts.isEmpty ? "no difference" : parts.joined(separator: ", ")
    }
}
