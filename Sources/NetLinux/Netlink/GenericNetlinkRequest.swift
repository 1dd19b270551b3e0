import CNetLinux

/// Generic netlink requests, built without I/O (see ``RouteNetlinkRequest``).
public enum GenericNetlinkRequest {
    /// Starts a generic netlink message: the `nlmsghdr` (type = the family id) and `genlmsghdr`.
    /// Append attributes, then end it with ``NetlinkMessageBuilder/endMessage()``.
    public static func begin(family: UInt16, command: UInt8, version: UInt8, flags: NetlinkMessageFlags,
                             into message: inout NetlinkMessageBuilder) {
        message.beginMessage(type: NetlinkMessageType(rawValue: family), flags: flags)
        message.appendFamilyHeader(genlmsghdr(cmd: command, version: version, reserved: 0))
    }

    /// `CTRL_CMD_GETFAMILY` for the family named `name` (version 2 of the controller's protocol).
    public static func getFamily(named name: String, into message: inout NetlinkMessageBuilder) {
        begin(family: GenericNetlinkControl.familyIDOfController, command: GenericNetlinkControl.getFamily, version: 2,
              flags: .request, into: &message)
        message.appendAttribute(GenericNetlinkControl.familyName, string: name)
        message.endMessage()
    }
}
