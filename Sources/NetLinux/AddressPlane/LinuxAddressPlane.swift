import SystemPackage
import VRRPCore

/// VRRPCore's address plane on Linux: virtual addresses, routes and rules through rtnetlink.
///
/// Every item of a batch is tried, even after a failure; failures are logged, and the first
/// is thrown (its detail says how many others failed). What counts as success, per kind:
///
/// | | adding, already there (`EEXIST`) | removing, already gone |
/// |---|---|---|
/// | address | success, logged (keepalived treats an existing VIP as fine) | success, logged (`EADDRNOTAVAIL`, or the interface is gone) |
/// | route | success, logged — the kernel says `EEXIST` when a route to the same prefix with the same TOS and metric is in the table; it is left as it is | success, logged (`ESRCH`, or an interface it names is gone) |
/// | rule | success, logged (the kernel says `EEXIST` only for an identical rule) | success, logged (`ENOENT`) |
///
/// Requests are blocking netlink exchanges (tens of microseconds each); the async methods
/// run them on the calling task.
///
/// `no_accept` (keepalived installs firewall rules that drop traffic to the VIPs of a router
/// that does not own them) needs nftables over netlink, which kad does not speak yet:
/// ``setAcceptMode(_:addresses:interface:)`` succeeds for `accept == true` (nothing to lift)
/// and throws "no_accept is not supported yet" (`ENOTSUP`) for `accept == false`.
public final class LinuxAddressPlane: VRRPAddressPlane {
    /// The rtnetlink socket requests go through.
    public let routeNetlink: RouteNetlink
    let log: @Sendable (String) -> Void

    /// Uses `routeNetlink`; `log` hears about items that were already there or already gone,
    /// and about each failure.
    public init(routeNetlink: RouteNetlink, log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.routeNetlink = routeNetlink
        self.log = log
    }

    /// Opens an rtnetlink socket in the namespace at `namespace` (`nil`: the process's).
    public convenience init(inNamespaceAt namespace: String? = nil,
                            log: @escaping @Sendable (String) -> Void = { _ in }) throws(NetLinuxError) {
        self.init(routeNetlink: try RouteNetlink(inNamespaceAt: namespace), log: log)
    }

    // MARK: VRRPAddressPlane

    public func add(_ addresses: [VirtualAddress], interface: String) async throws { try addAddresses(addresses, interface: interface) }
    public func remove(_ addresses: [VirtualAddress], interface: String) async throws {
        try removeAddresses(addresses, interface: interface)
    }
    public func add(_ routes: [VirtualRoute]) async throws { try addRoutes(routes) }
    public func remove(_ routes: [VirtualRoute]) async throws { try removeRoutes(routes) }
    public func add(_ rules: [VirtualRule]) async throws { try addRules(rules) }
    public func remove(_ rules: [VirtualRule]) async throws { try removeRules(rules) }

    public func setAcceptMode(_ accept: Bool, addresses: [VirtualAddress], interface: String) async throws {
        try checkAcceptMode(accept, addresses: addresses, interface: interface)
    }

    // MARK: Synchronous forms

    /// Adds each address to its own interface, or to `interface`.
    public func addAddresses(_ addresses: [VirtualAddress], interface: String) throws(NetLinuxError) {
        try each(addresses) { (address) throws(NetLinuxError) in
            try tolerating({ $0.errno == .fileExists }, "already present, kept") { () throws(NetLinuxError) in
                try routeNetlink.addAddress(address, interface: interface)
            }
        }
    }

    /// Removes each address from its own interface, or from `interface`.
    public func removeAddresses(_ addresses: [VirtualAddress], interface: String) throws(NetLinuxError) {
        try each(addresses) { (address) throws(NetLinuxError) in
            try tolerating({ $0.errno == .addressNotAvailable || Self.isMissingDevice($0) }, "already gone") { () throws(NetLinuxError) in
                try routeNetlink.deleteAddress(address, interface: interface)
            }
        }
    }

    /// Adds each route (`ip route add`); one already in the table is left as it is.
    public func addRoutes(_ routes: [VirtualRoute]) throws(NetLinuxError) {
        try each(routes) { (route) throws(NetLinuxError) in
            try tolerating({ $0.errno == .fileExists }, Self.routeExists) { () throws(NetLinuxError) in
                try routeNetlink.addRoute(route)
            }
        }
    }

    /// Removes each route (`ip route del`); one already gone is not an error.
    public func removeRoutes(_ routes: [VirtualRoute]) throws(NetLinuxError) {
        try each(routes) { (route) throws(NetLinuxError) in
            try tolerating({ $0.errno == .noSuchProcess || Self.isMissingDevice($0) }, "already gone") { () throws(NetLinuxError) in
                try routeNetlink.deleteRoute(route)
            }
        }
    }

    /// Adds each rule (`ip rule add`); an identical rule already there is kept.
    public func addRules(_ rules: [VirtualRule]) throws(NetLinuxError) {
        try each(rules) { (rule) throws(NetLinuxError) in
            try tolerating({ $0.errno == .fileExists }, "already present, kept") { () throws(NetLinuxError) in
                try routeNetlink.addRule(rule)
            }
        }
    }

    /// Removes each rule (`ip rule del`); one already gone is not an error.
    public func removeRules(_ rules: [VirtualRule]) throws(NetLinuxError) {
        try each(rules) { (rule) throws(NetLinuxError) in
            try tolerating({ $0.errno == .noSuchFileOrDirectory }, "already gone") { () throws(NetLinuxError) in
                try routeNetlink.deleteRule(rule)
            }
        }
    }

    /// Succeeds for `accept`; throws "no_accept is not supported yet" otherwise.
    public func checkAcceptMode(_ accept: Bool, addresses: [VirtualAddress], interface: String) throws(NetLinuxError) {
        guard !accept else { return }
        let list = addresses.map { "\($0.address)" }.joined(separator: ", ")
        throw NetLinuxError("blocking traffic to \(list.isEmpty ? "the virtual addresses" : list) on \(interface) (no_accept)",
                            .notSupported,
                            detail: "no_accept is not supported yet: kad cannot install the nftables rules; configure accept")
    }

    // MARK: Private

    static let routeExists = "a route to this destination with this TOS and metric is already in the table, left as it is"

    /// ENODEV from an interface lookup (or ENXIO): the interface is gone.
    static func isMissingDevice(_ error: NetLinuxError) -> Bool {
        error.errno == .operationNotSupportedByDevice || error.errno == .noSuchAddressOrDevice
    }

    /// Runs `body`; a failure that `expected` accepts is logged with `note` instead of thrown.
    private func tolerating(_ expected: (NetLinuxError) -> Bool, _ note: String,
                            _ body: () throws(NetLinuxError) -> Void) throws(NetLinuxError) {
        do {
            try body()
        } catch {
            guard expected(error) else { throw error }
            log("\(error.operation): \(note)")
        }
    }

    /// Runs `body` for every item; logs each failure and throws the first.
    private func each<T>(_ items: [T], _ body: (T) throws(NetLinuxError) -> Void) throws(NetLinuxError) {
        var failures: [NetLinuxError] = []
        for item in items {
            do { try body(item) } catch {
                log("\(error)")
                failures.append(error)
            }
        }
        guard var first = failures.first else { return }
        if failures.count > 1 {
            let more = "\(failures.count - 1) more of \(items.count) failed too"
            first.detail = first.detail.map { "\($0); \(more)" } ?? more
        }
        throw first
    }
}
