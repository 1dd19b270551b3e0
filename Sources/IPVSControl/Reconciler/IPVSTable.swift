/// A snapshot of (part of) the kernel's IPVS table: services and, for the services that were
/// read, their destinations. Built from ``IPVSClient/services()`` and
/// ``IPVSClient/destinations(of:)`` listings; the planner compares it with an
/// ``IPVSDesiredState``.
public struct IPVSTable: Sendable, Hashable {
    /// One service of the table.
    public struct Entry: Sendable, Hashable {
        /// The service as listed (with ``IPVSServiceFlags/hashed``, as the kernel reports it).
        public var service: IPVSService
        /// Its destinations, or `nil` when they were not read (a service the reconciler
        /// does not manage).
        public var destinations: [IPVSDestination]?

        public init(service: IPVSService, destinations: [IPVSDestination]?) {
            self.service = service
            self.destinations = destinations
        }
    }

    /// The services in the kernel's listing order.
    public private(set) var entries: [Entry] = []
    private var index: [IPVSService.Key: Int] = [:]

    public init(_ entries: [Entry] = []) {
        for e in entries { set(e) }
    }

    /// A table from kernel listings: each service with its destinations (or `nil`).
    public init(listing: [(IPVSServiceEntry, [IPVSDestinationEntry]?)]) {
        self.init(listing.map { Entry(service: $0.0.service, destinations: $0.1?.map(\.destination)) })
    }

    /// The service with `key`, if present.
    public subscript(key: IPVSService.Key) -> Entry? {
        get { index[key].map { entries[$0] } }
        set {
            if let newValue {
                set(newValue)
            } else if let i = index.removeValue(forKey: key) {
                entries.remove(at: i)
                for j in i..<entries.count { index[entries[j].service.key] = j }
            }
        }
    }

    /// The keys of every service in the table.
    public var keys: [IPVSService.Key] { entries.map(\.service.key) }

    /// Adds or replaces the entry with the same key.
    public mutating func set(_ entry: Entry) {
        if let i = index[entry.service.key] {
            entries[i] = entry
        } else {
            index[entry.service.key] = entries.count
            entries.append(entry)
        }
    }

    public static func == (a: IPVSTable, b: IPVSTable) -> Bool { a.entries == b.entries }
    public func hash(into hasher: inout Hasher) { hasher.combine(entries) }
}
