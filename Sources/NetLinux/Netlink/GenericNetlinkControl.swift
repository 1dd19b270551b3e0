/// The generic netlink controller's numbers (linux/genetlink.h).
enum GenericNetlinkControl {
    /// `GENL_ID_CTRL` (16): the controller's own family id.
    static let familyIDOfController: UInt16 = 16
    /// `CTRL_CMD_GETFAMILY` (3).
    static let getFamily: UInt8 = 3
    static let familyID: UInt16 = 1         // CTRL_ATTR_FAMILY_ID, u16
    static let familyName: UInt16 = 2       // CTRL_ATTR_FAMILY_NAME, string
    static let version: UInt16 = 3          // CTRL_ATTR_VERSION, u32
    static let headerSize: UInt16 = 4       // CTRL_ATTR_HDRSIZE, u32
    static let maxAttribute: UInt16 = 5     // CTRL_ATTR_MAXATTR, u32
    static let multicastGroups: UInt16 = 7  // CTRL_ATTR_MCAST_GROUPS, nested array
    static let groupName: UInt16 = 1        // CTRL_ATTR_MCAST_GRP_NAME, string
    static let groupID: UInt16 = 2          // CTRL_ATTR_MCAST_GRP_ID, u32
}
