import CNetLinux

/// Generic netlink over one `NETLINK_GENERIC` ``NetlinkSocket``: resolve families by name, and
/// send requests and dumps to them — the base IPVSControl builds on.
///
/// ```swift
/// let genl = try GenericNetlink()
/// let ipvs = try genl.family(named: "IPVS")
/// let services = try genl.dump(family: ipvs, command: 1 /* IPVS_CMD_GET_SERVICE */,
///                              operation: "listing IPVS services") { _ in } parse: { message in
///     ...  // message.attributes
/// }
/// ```
public final class GenericNetlink: Sendable {
    /// The `NETLINK_GENERIC` socket requests go through.
    public let socket: NetlinkSocket

    /// Opens a `NETLINK_GENERIC` socket, in the network namespace at `namespace` if given.
    public convenience init(inNamespaceAt namespace: String? = nil) throws(NetLinuxError) {
        self.init(socket: try NetlinkSocket(protocol: .generic, inNamespaceAt: namespace))
    }

    /// Uses an open `NETLINK_GENERIC` socket.
    public init(socket: NetlinkSocket) {
        precondition(socket.netlinkProtocol == .generic, "GenericNetlink needs a NETLINK_GENERIC socket")
        self.socket = socket
    }

    /// Resolves a family by name (`CTRL_CMD_GETFAMILY`): its id, version and multicast groups.
    /// - Throws: ``NetLinuxError``; for a family the kernel does not have (its module not
    ///   loaded, or not built), `ENOENT` with a message saying so:
    ///   `looking up generic netlink family "IPVS": no such file or directory (the kernel has
    ///   no generic netlink family of that name; is its module loaded?)`.
    public func family(named name: String) throws(NetLinuxError) -> GenericNetlinkFamily {
        let operation = "looking up generic netlink family \"\(name)\""
        guard !name.isEmpty, name.utf8.count < 16 else {
            throw NetLinuxError(operation, .invalidArgument, detail: "a family name has 1 to 15 bytes")
        }
        do {
            return try socket.get(operation: operation, { GenericNetlinkRequest.getFamily(named: name, into: &$0) }) {
                try GenericNetlinkFamily(parsing: $0)
            }
        } catch where error.errno == .noSuchFileOrDirectory {
            let why = "the kernel has no generic netlink family of that name; is its module loaded?"
            throw NetLinuxError(operation, error.errno, detail: error.detail.map { "\($0); \(why)" } ?? why)
        }
    }

    /// Sends a command that changes something and waits for the acknowledgement.
    ///
    /// - Parameters:
    ///   - family: the resolved family (its id and header size are used).
    ///   - command: the family's command number.
    ///   - version: the family's protocol version to claim (default: the family's).
    ///   - flags: extra `nlmsg_flags` (`NLM_F_REQUEST | NLM_F_ACK` are always set).
    ///   - operation: what is being done, for errors.
    ///   - attributes: appends the request's attributes.
    ///   - reply: receives messages that come before the acknowledgement (for commands that answer).
    public func request(family: GenericNetlinkFamily, command: UInt8, version: UInt8? = nil, flags: NetlinkMessageFlags = [],
                        operation: String, attributes: (inout NetlinkMessageBuilder) -> Void,
                        reply: (GenericNetlinkMessage) throws -> Void = { _ in }) throws(NetLinuxError) {
        try socket.request(operation: operation, { message in
            GenericNetlinkRequest.begin(family: family.id, command: command, version: version ?? UInt8(truncatingIfNeeded: family.version),
                                        flags: flags.union(.request), into: &message)
            appendFamilyHeader(family, into: &message)
            attributes(&message)
            message.endMessage()
        }, reply: { message in
            try reply(GenericNetlinkMessage(message, familyHeaderSize: Int(family.headerSize)))
        })
    }

    /// Sends a dump command (`NLM_F_DUMP`) and collects what `parse` returns for each reply
    /// message (`nil` skips one).
    public func dump<T>(family: GenericNetlinkFamily, command: UInt8, version: UInt8? = nil, operation: String,
                        attributes: (inout NetlinkMessageBuilder) -> Void,
                        parse: (GenericNetlinkMessage) throws -> T?) throws(NetLinuxError) -> [T] {
        try socket.dump(operation: operation, { message in
            GenericNetlinkRequest.begin(family: family.id, command: command, version: version ?? UInt8(truncatingIfNeeded: family.version),
                                        flags: [.request, .dump], into: &message)
            appendFamilyHeader(family, into: &message)
            attributes(&message)
            message.endMessage()
        }, parse: { message in
            guard message.type.rawValue == family.id else { return nil }
            return try parse(GenericNetlinkMessage(message, familyHeaderSize: Int(family.headerSize)))
        })
    }

    /// A zeroed family-specific header when the family declares one.
    private func appendFamilyHeader(_ family: GenericNetlinkFamily, into message: inout NetlinkMessageBuilder) {
        guard family.headerSize > 0 else { return }
        let zeros = [UInt8](repeating: 0, count: Int(min(family.headerSize, 4096)))
        zeros.withUnsafeBytes { message.appendPayload($0) }
    }
}
