import VRRPCore

/// rtnetlink over one ``NetlinkSocket``: list links and addresses, look a link up by name,
/// add and delete addresses. Errors are ``NetLinuxError``s that name the operation and the
/// object ("adding 192.0.2.100/24 to eth0: already exists").
///
/// Interfaces are named in the socket's network namespace: names are resolved through
/// netlink (not `if_nametoindex(3)`, which would look in the calling thread's namespace).
///
/// ```swift
/// let rtnl = try RouteNetlink()
/// for link in try rtnl.links() { print(link) }
/// try rtnl.addAddress(VirtualAddress(IPAddress("192.0.2.100")!, prefixLength: 24), interface: "eth0")
/// ```
public final class RouteNetlink: Sendable {
    /// The `NETLINK_ROUTE` socket requests go through.
    public let socket: NetlinkSocket

    /// Opens a `NETLINK_ROUTE` socket, in the network namespace at `namespace` if given.
    public convenience init(inNamespaceAt namespace: String? = nil) throws(NetLinuxError) {
        self.init(socket: try NetlinkSocket(protocol: .route, inNamespaceAt: namespace))
    }

    /// Uses an open `NETLINK_ROUTE` socket (not one subscribed to multicast groups).
    public init(socket: NetlinkSocket) {
        precondition(socket.netlinkProtocol == .route, "RouteNetlink needs a NETLINK_ROUTE socket")
        self.socket = socket
    }

    // MARK: Links

    /// Every link of the namespace (`ip link show`).
    public func links() throws(NetLinuxError) -> [LinkInfo] {
        try socket.dump(operation: "listing links", RouteNetlinkRequest.linkDump(into:)) { message in
            // A dump of AF_UNSPEC returns AF_UNSPEC link messages only; be strict anyway.
            guard message.type == .newLink else { return nil }
            return try LinkInfo(parsing: message)
        }
    }

    /// The link named `name` (`ip link show dev NAME`).
    /// - Throws: ``NetLinuxError`` "looking up interface NAME: no such device" when absent.
    public func link(named name: String) throws(NetLinuxError) -> LinkInfo {
        let operation = "looking up interface \(name)"
        guard !name.isEmpty, name.utf8.count < 16, !name.utf8.contains(0) else {
            throw NetLinuxError(operation, .invalidArgument, detail: "an interface name has 1 to 15 bytes")
        }
        return try socket.get(operation: operation, { RouteNetlinkRequest.link(named: name, into: &$0) }) { message in
            try LinkInfo(parsing: message)
        }
    }

    /// The link with index `index`.
    public func link(index: UInt32) throws(NetLinuxError) -> LinkInfo {
        try socket.get(operation: "looking up interface \(index)", { RouteNetlinkRequest.link(index: index, into: &$0) }) {
            try LinkInfo(parsing: $0)
        }
    }

    // MARK: Addresses

    /// The addresses of the namespace (`ip address show`), of one family if given, of one
    /// interface if given.
    public func addresses(family: IPAddressFamily? = nil, interfaceIndex: UInt32? = nil) throws(NetLinuxError) -> [AddressInfo] {
        let operation = "listing \(family.map { "\($0) " } ?? "")addresses"
        return try socket.dump(operation: operation, { RouteNetlinkRequest.addressDump(family: family, into: &$0) }) { message in
            guard message.type == .newAddress, let info = try AddressInfo.parse(message) else { return nil }
            if let interfaceIndex, info.interfaceIndex != interfaceIndex { return nil }
            return info
        }
    }

    /// Adds `address` (`ip address add`) to `address.interface`, or to `interface` when the
    /// address names none.
    ///
    /// - Parameters:
    ///   - replace: update an existing address rather than fail with "already exists".
    /// - Throws: ``NetLinuxError`` such as "adding 192.0.2.100/24 to eth0: already exists".
    public func addAddress(_ address: VirtualAddress, interface: String? = nil, replace: Bool = false) throws(NetLinuxError) {
        let (name, operation) = try target(address, interface, adding: true)
        let index = try resolve(name, operation: operation)
        try addAddress(address, interfaceIndex: index, interfaceName: name, replace: replace)
    }

    /// Adds `address` to the interface with index `interfaceIndex` (no name lookup);
    /// `interfaceName` is for messages only.
    public func addAddress(_ address: VirtualAddress, interfaceIndex: UInt32, interfaceName: String,
                           replace: Bool = false) throws(NetLinuxError) {
        let operation = "adding \(address.address)/\(address.prefixLength) to \(interfaceName)"
        if let problem = RouteNetlinkRequest.problem(with: address) {
            throw NetLinuxError(operation, .invalidArgument, detail: problem)
        }
        try socket.request(operation: operation) {
            RouteNetlinkRequest.newAddress(address, interfaceIndex: interfaceIndex, replace: replace, into: &$0)
        }
    }

    /// Deletes `address` (`ip address del`) from `address.interface`, or from `interface`.
    /// - Throws: ``NetLinuxError``, for example "removing 192.0.2.100/24 from eth0: ..." with
    ///   `EADDRNOTAVAIL` when the address is not there.
    public func deleteAddress(_ address: VirtualAddress, interface: String? = nil) throws(NetLinuxError) {
        let (name, operation) = try target(address, interface, adding: false)
        let index = try resolve(name, operation: operation)
        try deleteAddress(address, interfaceIndex: index, interfaceName: name)
    }

    /// Deletes `address` from the interface with index `interfaceIndex` (no name lookup).
    public func deleteAddress(_ address: VirtualAddress, interfaceIndex: UInt32, interfaceName: String) throws(NetLinuxError) {
        let operation = "removing \(address.address)/\(address.prefixLength) from \(interfaceName)"
        if let problem = RouteNetlinkRequest.problem(with: address) {
            throw NetLinuxError(operation, .invalidArgument, detail: problem)
        }
        try socket.request(operation: operation) {
            RouteNetlinkRequest.deleteAddress(address, interfaceIndex: interfaceIndex, into: &$0)
        }
    }

    // MARK: Private

    private func target(_ address: VirtualAddress, _ interface: String?, adding: Bool) throws(NetLinuxError) -> (String, String) {
        let text = "\(address.address)/\(address.prefixLength)"
        guard let name = address.interface ?? interface else {
            throw NetLinuxError("\(adding ? "adding" : "removing") \(text)", .invalidArgument, detail: "no interface given")
        }
        return (name, adding ? "adding \(text) to \(name)" : "removing \(text) from \(name)")
    }

    /// The index of `name`; a failure is reported as a failure of `operation`.
    private func resolve(_ name: String, operation: String) throws(NetLinuxError) -> UInt32 {
        do {
            return try link(named: name).index
        } catch {
            throw NetLinuxError(operation, error.errno, detail: error.detail)
        }
    }
}
