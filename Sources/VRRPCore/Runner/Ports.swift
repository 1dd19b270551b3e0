/// Sends VRRP advertisements. NetLinux implements it over raw sockets; the simulation
/// and tests implement it in memory.
public protocol VRRPTransport: Sendable {
    /// Sends one advertisement from `source` to `destination` on `interface`.
    ///
    /// The implementation encodes it (``VRRPAdvertisement/encoded(source:destination:checksumForm:)``)
    /// with TTL / hop limit 255.
    func send(_ advertisement: VRRPAdvertisement, source: IPAddress, destination: IPAddress,
              checksumForm: VRRPChecksumForm, interface: String) async throws
}

/// Installs and removes what a MASTER owns: addresses, routes, rules, Accept_Mode.
public protocol VRRPAddressPlane: Sendable {
    /// Adds addresses (each on its own interface, or `interface` when it names none).
    func add(_ addresses: [VirtualAddress], interface: String) async throws
    func remove(_ addresses: [VirtualAddress], interface: String) async throws
    func add(_ routes: [VirtualRoute]) async throws
    func remove(_ routes: [VirtualRoute]) async throws
    func add(_ rules: [VirtualRule]) async throws
    func remove(_ rules: [VirtualRule]) async throws
    /// `false`: block traffic to `addresses` (keepalived's `no_accept`); `true`: lift the block.
    func setAcceptMode(_ accept: Bool, addresses: [VirtualAddress], interface: String) async throws
}

/// Sends gratuitous ARPs (IPv4) and unsolicited neighbour advertisements (IPv6).
public protocol VRRPAnnouncer: Sendable {
    /// Sends `rounds` announcements for each of `addresses` (paced by the implementation).
    func announce(_ addresses: [VirtualAddress], rounds: Int, interface: String, virtualRouterID: UInt8) async throws

    /// Drops announcements for `addresses` that pacing still holds back: the router no longer
    /// owns them (it left MASTER), and a late announcement would pull traffic back from the
    /// new master. The runner calls this before removing addresses.
    func cancelAnnouncements(_ addresses: [VirtualAddress], interface: String) async
}

extension VRRPAnnouncer {
    /// An announcer that never holds announcements back has nothing to cancel.
    public func cancelAnnouncements(_ addresses: [VirtualAddress], interface: String) async {}
}
