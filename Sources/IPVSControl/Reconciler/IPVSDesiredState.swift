/// One virtual service the reconciler should keep in the kernel, with the real servers it
/// should have.
///
/// Destinations are kept unique by ``IPVSDestinationKey`` (address and port): setting one
/// whose key is already present replaces it.
public struct IPVSDesiredService: Sendable, Hashable, CustomStringConvertible {
    /// The service: key, scheduler, flags, persistence.
    public var service: IPVSService
    /// The wanted real servers, in the order they were given.
    public private(set) var destinations: [IPVSDestination]

    /// A service with `destinations` (a later duplicate address and port replaces an earlier one).
    public init(_ service: IPVSService, destinations: [IPVSDestination] = []) {
        self.service = service
        self.destinations = []
        for d in destinations { setDestination(d) }
    }

    /// The service's key.
    public var key: IPVSService.Key { service.key }

    /// The destination with `key`, if wanted.
    public func destination(_ key: IPVSDestinationKey) -> IPVSDestination? {
        destinations.first { $0.key == key }
    }

    /// Adds `destination`, or replaces the one with the same address and port.
    public mutating func setDestination(_ destination: IPVSDestination) {
        if let i = destinations.firstIndex(where: { $0.key == destination.key }) {
            destinations[i] = destination
        } else {
            destinations.append(destination)
        }
    }

    /// Replaces every destination (later duplicates win).
    public mutating func setDestinations(_ destinations: [IPVSDestination]) {
        self.destinations = []
        for d in destinations { setDestination(d) }
    }

    /// Removes the destination with `key`; returns it if it was there.
    @discardableResult
    public mutating func removeDestination(_ key: IPVSDestinationKey) -> IPVSDestination? {
        guard let i = destinations.firstIndex(where: { $0.key == key }) else { return nil }
        return destinations.remove(at: i)
    }

    /// Sets the weight of the destination with `key`; false when there is none.
    @discardableResult
    public mutating func setWeight(_ weight: UInt32, of key: IPVSDestinationKey) -> Bool {
        guard let i = destinations.firstIndex(where: { $0.key == key }) else { return false }
        destinations[i].weight = weight
        return true
    }

    /// The service line and its destinations in ipvsadm's notation, one per line.
    public var description: String {
        ([service.description] + destinations.map { "  \($0)" }).joined(separator: "\n")
    }
}

/// The IPVS table the daemon wants: a set of services, each with its real servers.
///
/// The state is a plain value: the daemon changes it when the configuration is loaded or
/// reloaded and when a checker's verdict changes a real server (see
/// ``IPVSVirtualServerPolicy``), and hands it to an ``IPVSReconciler`` that makes the
/// kernel agree. Services of a `virtual_server_group` are entered one by one
/// (``IPVSGroupEntry/serviceKeys(protocol:)`` expands an entry).
///
/// ```swift
/// var desired = IPVSDesiredState()
/// let web = IPVSService(.address(protocol: .tcp, address: IPAddress("192.0.2.10")!, port: 80), scheduler: .roundRobin)
/// desired.set(IPVSDesiredService(web, destinations: [
///     IPVSDestination(address: IPAddress("198.51.100.2")!, port: 80, weight: 1),
///     IPVSDestination(address: IPAddress("198.51.100.3")!, port: 80, weight: 2),
/// ]))
/// desired.setWeight(0, of: IPVSDestinationKey(address: IPAddress("198.51.100.3")!, port: 80), in: web.key)
/// ```
public struct IPVSDesiredState: Sendable, Hashable, CustomStringConvertible {
    /// The services, in the order they were first set (plans follow this order).
    public private(set) var services: [IPVSDesiredService] = []
    private var index: [IPVSService.Key: Int] = [:]

    public init(_ services: [IPVSDesiredService] = []) {
        for s in services { set(s) }
    }

    /// The keys of every wanted service.
    public var keys: [IPVSService.Key] { services.map(\.key) }

    /// Where the service with `key` is in ``services``, if wanted.
    public func position(of key: IPVSService.Key) -> Int? { index[key] }

    /// Whether no service is wanted.
    public var isEmpty: Bool { services.isEmpty }

    /// The wanted service with `key`; setting `nil` removes it.
    public subscript(key: IPVSService.Key) -> IPVSDesiredService? {
        get { index[key].map { services[$0] } }
        set {
            if let newValue {
                precondition(newValue.key == key, "IPVSDesiredState: the service's key differs from the subscript's")
                set(newValue)
            } else {
                remove(key)
            }
        }
    }

    /// Adds `service`, or replaces the one with the same key (keeping its place).
    public mutating func set(_ service: IPVSDesiredService) {
        if let i = index[service.key] {
            services[i] = service
        } else {
            index[service.key] = services.count
            services.append(service)
        }
    }

    /// Removes the service with `key`; returns it if it was there.
    @discardableResult
    public mutating func remove(_ key: IPVSService.Key) -> IPVSDesiredService? {
        guard let i = index.removeValue(forKey: key) else { return nil }
        let removed = services.remove(at: i)
        for j in i..<services.count { index[services[j].key] = j }
        return removed
    }

    /// Replaces the destinations of the service with `key`; false when the service is not wanted.
    @discardableResult
    public mutating func setDestinations(_ destinations: [IPVSDestination], of key: IPVSService.Key) -> Bool {
        guard let i = index[key] else { return false }
        services[i].setDestinations(destinations)
        return true
    }

    /// Adds or replaces one destination of the service with `key`; false when the service is not wanted.
    @discardableResult
    public mutating func setDestination(_ destination: IPVSDestination, in key: IPVSService.Key) -> Bool {
        guard let i = index[key] else { return false }
        services[i].setDestination(destination)
        return true
    }

    /// Removes one destination of the service with `key`; returns it if it was there.
    @discardableResult
    public mutating func removeDestination(_ destination: IPVSDestinationKey, from key: IPVSService.Key) -> IPVSDestination? {
        guard let i = index[key] else { return nil }
        return services[i].removeDestination(destination)
    }

    /// Sets the weight of one destination; false when the service or destination is not wanted.
    @discardableResult
    public mutating func setWeight(_ weight: UInt32, of destination: IPVSDestinationKey, in key: IPVSService.Key) -> Bool {
        guard let i = index[key] else { return false }
        return services[i].setWeight(weight, of: destination)
    }

    public var description: String { services.map(\.description).joined(separator: "\n") }

    public static func == (a: IPVSDesiredState, b: IPVSDesiredState) -> Bool { a.services == b.services }
    public func hash(into hasher: inout Hasher) { hasher.combine(services) }
}
