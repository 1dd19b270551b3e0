/// A generic netlink family as the kernel's controller (`nlctrl`) describes it.
public struct GenericNetlinkFamily: Sendable, Hashable, CustomStringConvertible {
    /// `CTRL_ATTR_FAMILY_ID`: the `nlmsg_type` of the family's messages (assigned at boot or
    /// when its module loads, so always resolve it by name).
    public var id: UInt16
    /// `CTRL_ATTR_FAMILY_NAME`.
    public var name: String
    /// `CTRL_ATTR_VERSION`.
    public var version: UInt32
    /// `CTRL_ATTR_HDRSIZE`: the size of the family's own header after `genlmsghdr` (0 for most).
    public var headerSize: UInt32
    /// `CTRL_ATTR_MAXATTR`.
    public var maxAttribute: UInt32
    /// `CTRL_ATTR_MCAST_GROUPS`: the family's multicast groups by name, with their ids for
    /// ``NetlinkSocket/subscribe(to:)``.
    public var multicastGroups: [String: UInt32]

    public init(id: UInt16, name: String, version: UInt32 = 1, headerSize: UInt32 = 0, maxAttribute: UInt32 = 0,
                multicastGroups: [String: UInt32] = [:]) {
        self.id = id
        self.name = name
        self.version = version
        self.headerSize = headerSize
        self.maxAttribute = maxAttribute
        self.multicastGroups = multicastGroups
    }

    public var description: String { "\(name) (id \(id), version \(version))" }

    /// Parses a `CTRL_CMD_NEWFAMILY` reply.
    /// - Throws: ``NetlinkParseError`` when it is malformed or lacks the id or name.
    public init(parsing message: NetlinkMessage) throws(NetlinkParseError) {
        let generic = try GenericNetlinkMessage(message)
        var id: UInt16?
        var name: String?
        version = 0
        headerSize = 0
        maxAttribute = 0
        multicastGroups = [:]
        var attributes = generic.attributes
        while let a = try attributes.next() {
            switch a.type {
            case GenericNetlinkControl.familyID: id = try a.uint16()
            case GenericNetlinkControl.familyName: name = a.string()
            case GenericNetlinkControl.version: version = try a.uint32()
            case GenericNetlinkControl.headerSize: headerSize = try a.uint32()
            case GenericNetlinkControl.maxAttribute: maxAttribute = try a.uint32()
            case GenericNetlinkControl.multicastGroups:
                // An array: nests numbered 1, 2, ..., each with a name and an id.
                var groups = a.nested
                while let group = try groups.next() {
                    var fields = group.nested
                    var groupName: String?
                    var groupID: UInt32?
                    while let f = try fields.next() {
                        if f.type == GenericNetlinkControl.groupName { groupName = f.string() }
                        if f.type == GenericNetlinkControl.groupID { groupID = try f.uint32() }
                    }
                    if let groupName, let groupID { multicastGroups[groupName] = groupID }
                }
            default:
                break
            }
        }
        guard let id else { throw .missingAttribute(type: GenericNetlinkControl.familyID, in: "generic netlink family reply") }
        guard let name else { throw .missingAttribute(type: GenericNetlinkControl.familyName, in: "generic netlink family reply") }
        self.id = id
        self.name = name
    }
}
