import VRRPCore

extension RouteNetlink {
    /// Creates a macvlan (`ip link add link PARENT name NAME address MAC type macvlan mode M`),
    /// left down unless `up`, and returns it as the kernel reports it.
    /// - Throws: ``NetLinuxError`` such as "creating macvlan vrrp.51 on eth0: already exists".
    @discardableResult
    public func createMacvlan(named name: String, parent: String, address: MACAddress, mode: MacvlanMode = .private,
                              up: Bool = false) throws(NetLinuxError) -> LinkInfo {
        let operation = "creating macvlan \(name) on \(parent)"
        guard !name.isEmpty, name.utf8.count < 16, !name.utf8.contains(0), !name.contains("/") else {
            throw NetLinuxError(operation, .invalidArgument, detail: "an interface name has 1 to 15 bytes and no /")
        }
        let parentIndex = try index(of: parent, operation: operation)
        try socket.request(operation: operation) {
            RouteNetlinkRequest.newMacvlan(named: name, parentIndex: parentIndex, address: address, mode: mode, up: up, into: &$0)
        }
        return try link(named: name)
    }

    /// Deletes the link with index `index` (`ip link del`); `name` is for messages.
    public func deleteLink(index: UInt32, name: String) throws(NetLinuxError) {
        try socket.request(operation: "deleting interface \(name)") { RouteNetlinkRequest.deleteLink(index: index, into: &$0) }
    }

    /// Sets the link with index `index` up or down (`ip link set NAME up|down`).
    public func setLink(index: UInt32, name: String, up: Bool) throws(NetLinuxError) {
        try socket.request(operation: "setting \(name) \(up ? "up" : "down")") {
            RouteNetlinkRequest.setLink(index: index, up: up, into: &$0)
        }
    }

    /// Sets how the kernel makes the link's IPv6 link-local address (`ip link set NAME addrgenmode M`).
    public func setIPv6AddressGenerationMode(_ mode: IPv6AddressGenerationMode, index: UInt32, name: String) throws(NetLinuxError) {
        try socket.request(operation: "setting the IPv6 address generation mode of \(name)") {
            RouteNetlinkRequest.setIPv6AddressGenerationMode(mode, index: index, into: &$0)
        }
    }
}
