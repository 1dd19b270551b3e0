/// Computes the changes that turn the kernel's table into the desired one. Pure: no socket.
///
/// Rules:
/// - Only *managed* services are touched: the desired ones, plus `managed` (services this
///   reconciler put in the kernel earlier and may now have to delete). Anything else in the
///   table (a service an administrator added) is left alone, as keepalived does.
/// - A desired service already in the table is taken over, whoever created it.
/// - Within a managed service every destination is managed: one that is not desired is
///   deleted (keepalived's removed-RS-left-in-IPVS bug, PR #596, is this rule missed).
/// - Services and destinations are compared as the kernel holds them
///   (``IPVSService/normalized``, ``IPVSDestination/normalized(in:)``): the `hashed` flag is
///   ignored, a direct-routing or tunnelled destination takes its service's port, and tunnel
///   fields matter only for tunnelled destinations. A destination whose port therefore
///   changes (NAT on port 8080 becoming DR behind port 80) is a different destination: the
///   old one is deleted and the new one added. Every other field (forwarding method
///   included) is changed in place with SET; Linux 6.1 accepts that.
/// - Order: service additions and changes first, each followed by its destinations'
///   changes, additions, then deletions ("make before break": a service never has fewer
///   live destinations mid-plan than before and after); deletions of services come last.
///   Destinations of a deleted service are not deleted one by one: the kernel deletes them
///   with it.
/// - Applying the plan and planning again gives an empty plan.
///
/// ```swift
/// let changes = IPVSPlanner.plan(desired: desired, current: table, managed: previouslyManaged)
/// for change in changes { print(change) }   // add service TCP  192.0.2.10:80 rr, ...
/// ```
public enum IPVSPlanner {
    /// The ordered changes from `current` to `desired`.
    ///
    /// - Parameters:
    ///   - desired: the wanted services and destinations.
    ///   - current: the kernel's table; its entries for desired and managed services must
    ///     carry their destinations (`nil` reads as none).
    ///   - managed: services this reconciler owns besides the desired ones; those present in
    ///     `current` and not desired are deleted.
    /// - Returns: the changes, in the order to apply them.
    public static func plan(desired: IPVSDesiredState, current: IPVSTable, managed: Set<IPVSService.Key>) -> [IPVSChange] {
        var changes: [IPVSChange] = []
        for wanted in desired.services {
            let service = wanted.service.normalized
            let destinations = normalizedDestinations(wanted)
            guard let present = current[service.key] else {
                changes.append(.addService(service))
                changes += destinations.map { .addDestination($0, service: service.key) }
                continue
            }
            if present.service.normalized != service {
                changes.append(.updateService(service, old: present.service.normalized))
            }
            let existing = (present.destinations ?? []).map { $0.normalized(in: service.key) }
            var existingByKey: [IPVSDestinationKey: IPVSDestination] = [:]
            for d in existing { existingByKey[d.key] = d }
            let wantedKeys = Set(destinations.map(\.key))
            var additions: [IPVSChange] = []
            for d in destinations {
                if let old = existingByKey[d.key] {
                    if old != d { changes.append(.updateDestination(d, old: old, service: service.key)) }
                } else {
                    additions.append(.addDestination(d, service: service.key))
                }
            }
            changes += additions
            changes += existing.filter { !wantedKeys.contains($0.key) }.map { .deleteDestination($0.key, service: service.key) }
        }
        let wantedServices = Set(desired.keys)
        for entry in current.entries where managed.contains(entry.service.key) && !wantedServices.contains(entry.service.key) {
            changes.append(.deleteService(entry.service.key))
        }
        return changes
    }

    /// The desired destinations of `service` as the kernel will hold them; when two become
    /// the same address and port, the later one wins (in the earlier one's place).
    static func normalizedDestinations(_ service: IPVSDesiredService) -> [IPVSDestination] {
        var result: [IPVSDestination] = []
        var position: [IPVSDestinationKey: Int] = [:]
        for d in service.destinations {
            let n = d.normalized(in: service.key)
            if let i = position[n.key] {
                result[i] = n
            } else {
                position[n.key] = result.count
                result.append(n)
            }
        }
        return result
    }
}
