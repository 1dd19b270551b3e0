import VRRPCore

/// One received VRRP packet as the socket saw it, valid only inside the closure given to
/// ``VRRPSocket/receive(_:)`` (its bytes live in the socket's reused buffer).
///
/// For IPv4, ``bytes`` is the whole datagram, IPv4 header first, as the raw socket delivers
/// it (what ``VRRPEngine/Input/ipv4Datagram(_:interface:)`` takes); for IPv6 it is the VRRP
/// message alone (what ``VRRPEngine/Input/ipv6Message(_:source:destination:hopLimit:interface:)``
/// takes). The transport reports the TTL or hop limit as received and checks nothing: the
/// engine decides (255 in multicast mode, `min_ttl`/`max_ttl` in unicast mode).
public struct VRRPDatagram {
    /// IPv4: the datagram with its header; IPv6: the VRRP message.
    public var bytes: UnsafeRawBufferPointer
    /// The IP source address.
    public var source: IPAddress
    /// The IP destination address: the group, or our own address for unicast.
    public var destination: IPAddress
    /// The IPv4 TTL (from the header) or the IPv6 hop limit (from `IPV6_HOPLIMIT`; 0 if the
    /// kernel sent none).
    public var hopLimit: UInt8
    /// The index of the interface the packet arrived on (`IP_PKTINFO` / `IPV6_PKTINFO`).
    public var interfaceIndex: UInt32

    /// The bytes as a new array (allocates; for tests and logs).
    public var array: [UInt8] { Array(bytes) }
}

/// Counters of one ``VRRPSocket``.
public struct VRRPSocketStatistics: Sendable, Hashable, CustomStringConvertible {
    /// Adverts handed to the kernel.
    public var sent: UInt64 = 0
    /// `sendmsg(2)` failures (`ENOBUFS`, `ENETUNREACH`, ...).
    public var sendFailures: UInt64 = 0
    /// Packets received and handed on.
    public var received: UInt64 = 0
    /// Packets longer than the receive buffer, dropped (no VRRP packet is that long).
    public var truncated: UInt64 = 0
    /// `recvmsg(2)` failures other than "nothing queued".
    public var receiveFailures: UInt64 = 0
    /// Packets the kernel dropped because the receive buffer was full (`SO_RXQ_OVFL`).
    public var droppedByKernel: UInt64 = 0

    public init() {}

    public var description: String {
        "sent \(sent) (failed \(sendFailures)), received \(received) (truncated \(truncated), "
            + "failed \(receiveFailures), dropped by the kernel \(droppedByKernel))"
    }
}
