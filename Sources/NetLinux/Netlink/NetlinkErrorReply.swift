/// What an `NLMSG_ERROR` (or a failed `NLMSG_DONE`) said.
public struct NetlinkErrorReply: Sendable, Hashable {
    /// The kernel's code: 0 for an acknowledgement, else a negative errno.
    public var code: Int32
    /// The header of the request this answers (absent for `NLMSG_DONE`).
    public var request: NetlinkMessageHeader?
    /// `NLMSGERR_ATTR_MSG`: the kernel's explanation ("ipv4: Address already assigned").
    public var message: String?
    /// `NLMSGERR_ATTR_OFFS`: the offset in the request of the attribute at fault.
    public var attributeOffset: UInt32?
    /// `NLMSGERR_ATTR_MISS_TYPE`: the type of a missing required attribute.
    public var missingAttributeType: UInt32?

    public init(code: Int32, request: NetlinkMessageHeader?, message: String? = nil) {
        self.code = code
        self.request = request
        self.message = message
    }

    /// True for an acknowledgement (code 0).
    public var isAcknowledgement: Bool { code == 0 }

    /// The errno, or `nil` for an acknowledgement. The kernel sends it negated; a positive
    /// value (not sent by Linux) is taken as is.
    public var errno: CInt? {
        code == 0 ? nil : CInt(truncatingIfNeeded: code.magnitude)
    }

    /// Reads `NLMSGERR_ATTR_*` attributes (linux/netlink.h: MSG = 1, OFFS = 2, MISS_TYPE = 5).
    mutating func readExtendedAcknowledgement(_ area: UnsafeRawBufferPointer) throws(NetlinkParseError) {
        var attributes = NetlinkAttributeReader(area)
        while let attribute = try attributes.next() {
            switch attribute.type {
            case 1: message = attribute.string()
            case 2: attributeOffset = try attribute.uint32()
            case 5: missingAttributeType = try attribute.uint32()
            default: break
            }
        }
    }
}
