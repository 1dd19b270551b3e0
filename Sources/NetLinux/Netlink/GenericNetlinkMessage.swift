import CNetLinux

/// A generic netlink message: the netlink message, its `genlmsghdr` (command and version) and
/// its attributes. A view, valid while the message is.
public struct GenericNetlinkMessage {
    /// The underlying message (its type is the family id).
    public let message: NetlinkMessage
    /// `genlmsghdr.cmd`.
    public let command: UInt8
    /// `genlmsghdr.version`.
    public let version: UInt8
    /// The attributes after `genlmsghdr` and the family's own header.
    public let attributes: NetlinkAttributeReader

    /// Reads the `genlmsghdr` (and skips a family header of `familyHeaderSize` bytes).
    /// - Throws: ``NetlinkParseError/truncatedPayload(type:needed:available:)`` if too short.
    public init(_ message: NetlinkMessage, familyHeaderSize: Int = 0) throws(NetlinkParseError) {
        let header = try message.familyHeader(as: genlmsghdr.self)
        self.message = message
        command = header.cmd
        version = header.version
        attributes = try message.attributes(afterFamilyHeaderOfSize: MemoryLayout<genlmsghdr>.size + netlinkAligned(familyHeaderSize))
    }
}
