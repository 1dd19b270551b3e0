/// One netlink message inside a receive buffer: its header and a view of its payload.
///
/// A view, not a copy: `payload` points into the buffer being walked and is valid only while
/// that buffer is (typically, during the callback that received the message). Copy out what
/// you keep — the typed parsers (``LinkInfo``, ``AddressInfo``, ...) do.
public struct NetlinkMessage {
    /// The message's `nlmsghdr`.
    public let header: NetlinkMessageHeader
    /// The bytes after the header, up to `nlmsg_len` (the family header, then attributes).
    public let payload: UnsafeRawBufferPointer
    /// Where the message starts in the buffer it was read from.
    public let offset: Int

    /// Wraps a header and payload (for tests and for callers that frame messages themselves).
    public init(header: NetlinkMessageHeader, payload: UnsafeRawBufferPointer, offset: Int = 0) {
        self.header = header
        self.payload = payload
        self.offset = offset
    }

    /// The message type.
    public var type: NetlinkMessageType { header.type }

    /// Reads the family header (a C struct such as `ifinfomsg`) at the start of the payload.
    /// - Throws: ``NetlinkParseError/truncatedPayload(type:needed:available:)`` if the payload is shorter.
    public func familyHeader<T: BitwiseCopyable>(as type: T.Type) throws(NetlinkParseError) -> T {
        let size = MemoryLayout<T>.size
        guard payload.count >= size else {
            throw .truncatedPayload(type: header.type.rawValue, needed: size, available: payload.count)
        }
        return payload.loadUnaligned(as: T.self)
    }

    /// The attributes that follow a family header of `familyHeaderSize` bytes (padded to 4).
    /// - Throws: ``NetlinkParseError/truncatedPayload(type:needed:available:)`` if the payload
    ///   is shorter than the family header.
    public func attributes(afterFamilyHeaderOfSize familyHeaderSize: Int) throws(NetlinkParseError) -> NetlinkAttributeReader {
        guard payload.count >= familyHeaderSize else {
            throw .truncatedPayload(type: header.type.rawValue, needed: familyHeaderSize, available: payload.count)
        }
        let start = min(netlinkAligned(familyHeaderSize), payload.count)
        return NetlinkAttributeReader(UnsafeRawBufferPointer(rebasing: payload[start...]))
    }

    /// The contents of an `NLMSG_ERROR` message (an error, or an acknowledgement).
    ///
    /// The payload is a `struct nlmsgerr`: a negative errno (`int error`, 0 for an
    /// acknowledgement) and the header of the request; the request's payload follows unless
    /// `NLM_F_CAPPED` is set; extended-ack attributes (`NLMSGERR_ATTR_*`) follow when
    /// `NLM_F_ACK_TLVS` is set.
    /// - Throws: ``NetlinkParseError`` when the message is not `NLMSG_ERROR` or is malformed.
    public func errorReply() throws(NetlinkParseError) -> NetlinkErrorReply {
        guard header.type == .error else { throw .invalidValue("message type \(header.type) is not NLMSG_ERROR") }
        // struct nlmsgerr { int error; struct nlmsghdr msg; } = 4 + 16 bytes.
        guard payload.count >= 4 + NetlinkMessageHeader.size else {
            throw .truncatedPayload(type: header.type.rawValue, needed: 4 + NetlinkMessageHeader.size, available: payload.count)
        }
        let code = payload.loadUnaligned(as: Int32.self)
        let request = NetlinkMessageHeader(from: payload, at: 4)
        var reply = NetlinkErrorReply(code: code, request: request)
        guard header.flags.contains(.acknowledgementAttributes) else { return reply }
        // The attributes start after the echoed request: its header only when capped, else
        // the whole request as sent (nlmsg_len, aligned).
        let echoed = header.flags.contains(.capped) ? NetlinkMessageHeader.size : netlinkAligned(Int(request.length))
        guard echoed >= NetlinkMessageHeader.size, 4 + echoed <= payload.count else {
            throw .invalidValue("NLMSG_ERROR echoes a request of \(request.length) bytes but has only \(payload.count - 4)")
        }
        try reply.readExtendedAcknowledgement(UnsafeRawBufferPointer(rebasing: payload[(4 + echoed)...]))
        return reply
    }

    /// The status of an `NLMSG_DONE` message: 0, or the negative errno of a dump that failed
    /// part way, with the extended-ack text when the kernel gave one.
    ///
    /// An empty payload (allowed by older kernels and other protocols) means success.
    public func doneStatus() throws(NetlinkParseError) -> NetlinkErrorReply {
        guard header.type == .done else { throw .invalidValue("message type \(header.type) is not NLMSG_DONE") }
        let code: Int32 = payload.count >= 4 ? payload.loadUnaligned(as: Int32.self) : 0
        var reply = NetlinkErrorReply(code: code, request: nil)
        if header.flags.contains(.acknowledgementAttributes), payload.count > 4 {
            try reply.readExtendedAcknowledgement(UnsafeRawBufferPointer(rebasing: payload[4...]))
        }
        return reply
    }
}
