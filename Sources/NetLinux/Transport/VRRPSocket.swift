#if canImport(Glibc)
import Glibc
#endif
import CNetLinux
import Synchronization
import SystemPackage
import VRRPCore

/// A raw socket that sends and receives VRRP adverts (IP protocol 112) on one interface for
/// one address family, shared by all the virtual routers there (the engine picks the router
/// by VRID).
///
/// **IPv4.** kad writes the IPv4 header itself (`IP_HDRINCL`): TOS 0xC0 (network control),
/// TTL 255, DF clear, protocol 112 (RFC 5798 §5.1.1; keepalived does the same). The kernel
/// fills in the identification and recomputes the header checksum. The socket is bound to the
/// interface (`SO_BINDTODEVICE`), joins each group with `IP_ADD_MEMBERSHIP` on the interface's
/// index, receives only the groups it joined itself (`IP_MULTICAST_ALL` 0), does not loop
/// its own multicast back (`IP_MULTICAST_LOOP` 0), sends multicast out of the interface
/// (`IP_MULTICAST_IF`), and learns each packet's interface and destination from `IP_PKTINFO`.
/// Received datagrams include the IPv4 header, so the TTL is read from it.
///
/// **IPv6.** The kernel writes the IPv6 header (next header 112). Hop limit 255 for
/// multicast and unicast (`IPV6_MULTICAST_HOPS`, `IPV6_UNICAST_HOPS`); keepalived 2.2.7
/// leaves unicast at the default 64, but RFC 5798 §5.1.2.3 says 255 and keepalived's
/// receivers check the hop limit only in multicast mode (or against `min_ttl`/`max_ttl`),
/// so 255 is both correct and compatible. The source is given per packet with an
/// `IPV6_PKTINFO` control message (the interface's link-local address). The hop limit,
/// destination and interface of received packets come from `IPV6_RECVHOPLIMIT` and
/// `IPV6_RECVPKTINFO`. `IPV6_MULTICAST_ALL` is 0 where the kernel has it (Linux 4.20+).
///
/// kad computes the VRRP checksum itself and does not set `IPV6_CHECKSUM` (keepalived
/// does): with that option the kernel silently discards received packets whose checksum is
/// wrong, so they could be neither counted nor logged as bad checksums, and the one codec
/// that builds and checks IPv4 and IPv6 adverts (tested against keepalived's bytes) stays
/// the only place the checksum is made. The source in our pseudo-header is the one we put
/// in `IPV6_PKTINFO`, so it is the one on the wire.
///
/// Both families count packets the kernel dropped for lack of buffer (`SO_RXQ_OVFL`).
///
/// **Threads.** ``send(_:source:destination:checksumForm:)`` and ``receive(_:)`` may be
/// called from any thread; each side has its own reused buffers behind its own lock, so a
/// send never waits for a receive. Nothing is allocated per packet on either side.
///
/// ```swift
/// let socket = try VRRPSocket(VRRPSocketConfiguration(interface: "eth0", family: .ipv4))
/// try socket.send(advert, source: IPAddress("192.0.2.1")!, destination: .vrrpMulticastGroup(.ipv4),
///                 checksumForm: .messageOnly)
/// _ = try socket.receive { packet in print(packet.source, packet.hopLimit) }
/// socket.close()
/// ```
///
/// The corresponding C calls are `socket(2)` with `SOCK_RAW`, `setsockopt(2)` (see `ip(7)`,
/// `ipv6(7)`, `raw(7)`), `sendmsg(2)` and `recvmsg(2)`.
public final class VRRPSocket: Sendable, CustomStringConvertible {
    /// What the socket was opened for.
    public let configuration: VRRPSocketConfiguration
    /// The interface's index at the time the socket was opened.
    public let interfaceIndex: UInt32
    /// The descriptor (for `poll(2)`). Owned by the socket: do not close it.
    public let descriptor: SocketDescriptor
    /// The receive buffer the kernel granted, in bytes (`SO_RCVBUF` as read back, which
    /// counts the kernel's bookkeeping too).
    public let receiveBufferSize: Int

    let sender: Mutex<SendBuffers>
    let receiver: Mutex<ReceiveBuffers>
    let isClosed = Atomic<Bool>(false)

    /// The interface name.
    public var interface: String { configuration.interface }
    /// The address family.
    public var family: IPAddressFamily { configuration.family }

    /// Opens and configures the socket in the caller's network namespace (open it inside
    /// ``NetworkNamespace/perform(inNamespaceAt:_:)`` for another one).
    ///
    /// - Parameter configuration: interface, family, groups and receive buffer size.
    /// - Throws: ``NetLinuxError`` naming the step that failed: the interface does not exist,
    ///   raw sockets are not permitted (CAP_NET_RAW is missing), a group cannot be joined, ...
    public init(_ configuration: VRRPSocketConfiguration) throws(NetLinuxError) {
        let family = configuration.family
        let what = "VRRP socket (\(family)) on \(configuration.interface)"
        for g in configuration.groups where g.family != family || !g.isMulticast {
            throw NetLinuxError("opening a \(what)", .invalidArgument, detail: "\(g) is not an \(family) multicast group")
        }
        let name = Array(configuration.interface.utf8)
        guard !name.isEmpty, name.count < Int(IFNAMSIZ) else {
            throw NetLinuxError("opening a \(what)", .invalidArgument, detail: "an interface name has 1 to 15 bytes")
        }

        let fd: SocketDescriptor
        do {
            fd = try SocketDescriptor.open(domain: family == .ipv4 ? AF_INET : AF_INET6,
                                           type: CInt(SOCK_RAW.rawValue), protocol: CInt(VRRPChecksum.ipProtocol))
        } catch {
            let detail = error == .notPermitted || error == .permissionDenied
                ? "raw sockets need CAP_NET_RAW: run kad as root, or grant it CAP_NET_RAW and CAP_NET_ADMIN" : nil
            throw NetLinuxError("opening a raw \(what)", error, detail: detail)
        }
        var granted = 0
        var index: UInt32 = 0
        do {
            index = try VRRPSocket.interfaceIndex(of: name, using: fd, what: what)
            try VRRPSocket.configure(fd, configuration, index: index, name: name, what: what)
            granted = try VRRPSocket.setReceiveBuffer(fd, configuration.receiveBufferSize, what: what)
        } catch {
            _ = try? fd.close()
            throw error
        }
        self.configuration = configuration
        interfaceIndex = index
        descriptor = fd
        receiveBufferSize = granted
        sender = Mutex(SendBuffers(family: family))
        receiver = Mutex(ReceiveBuffers())
    }

    deinit { close() }

    /// Closes the socket; later sends and receives fail with `EBADF`. Idempotent.
    ///
    /// Do not close a socket that a ``VRRPReceiveLoop`` still polls; stop the loop first
    /// (``LinuxVRRPTransport/close()`` does it in that order).
    public func close() {
        guard !isClosed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        // Take both locks so that no send or receive is using the descriptor.
        sender.withLock { _ in receiver.withLock { _ in _ = try? descriptor.close() } }
    }

    /// A copy of the counters.
    public var statistics: VRRPSocketStatistics {
        var s = VRRPSocketStatistics()
        sender.withLock { b in
            s.sent = b.sent
            s.sendFailures = b.failures
        }
        receiver.withLock { b in
            s.received = b.received
            s.truncated = b.truncated
            s.receiveFailures = b.failures
            s.droppedByKernel = b.droppedByKernel
        }
        return s
    }

    /// "VRRP socket eth0 IPv4 (224.0.0.18), fd 7".
    public var description: String { "VRRP socket \(configuration), fd \(descriptor.rawValue)" }

    // MARK: Sending

    /// Sends one advert: one `sendmsg(2)`, nothing allocated.
    ///
    /// The advert is encoded into the socket's reused buffer with its checksum computed for
    /// `source` and `destination` (the real destination, also for unicast), behind an IPv4
    /// header (TTL 255, TOS 0xC0) for IPv4, or with `source` in `IPV6_PKTINFO` for IPv6.
    /// When the socket's send buffer is full the call waits up to 100 ms for room once.
    ///
    /// - Parameters:
    ///   - advertisement: the advert, of the socket's family.
    ///   - source: the IP source: the interface's primary IPv4 address, or its IPv6
    ///     link-local address (never `::`, which would break the checksum).
    ///   - destination: the group or one unicast peer.
    ///   - checksumForm: how to compute the VRRP checksum (RFC 5798 §5.2.8).
    /// - Throws: ``NetLinuxError`` with the kernel's answer (`ENOBUFS`, `ENETUNREACH`,
    ///   `EADDRNOTAVAIL` for a source the interface does not have, ...), or `EINVAL` for
    ///   addresses of the wrong family.
    public func send(_ advertisement: VRRPAdvertisement, source: IPAddress, destination: IPAddress,
                     checksumForm: VRRPChecksumForm) throws(NetLinuxError) {
        let family = configuration.family
        guard advertisement.family == family, source.family == family, destination.family == family else {
            throw sendError(advertisement, destination, .invalidArgument,
                            detail: "the advert and its addresses must be \(family) on this socket")
        }
        guard family == .ipv4 || source.high != 0 || source.low != 0 else {
            throw sendError(advertisement, destination, .invalidArgument,
                            detail: "an IPv6 advert needs its source address (the link-local address of the interface)")
        }
        let result = sender.withLock { (b: inout SendBuffers) -> Errno? in
            b.prepare(advertisement, source: source, destination: destination, checksumForm: checksumForm,
                      interfaceIndex: interfaceIndex)
            var waited = false
            while true {
                do throws(Errno) {
                    _ = try descriptor.send(message: b.message)
                    b.sent &+= 1
                    return nil
                } catch .wouldBlock where !waited {
                    // The send buffer is full (a burst from many routers): wait once for room.
                    waited = true
                    _ = SystemCalls.current.poll(descriptor.rawValue, Int16(POLLOUT), 100)
                } catch {
                    b.failures &+= 1
                    return error
                }
            }
        }
        if let e = result { throw sendError(advertisement, destination, e) }
    }

    func sendError(_ a: VRRPAdvertisement, _ destination: IPAddress, _ e: Errno, detail: String? = nil) -> NetLinuxError {
        NetLinuxError("sending a VRRP advert (VRID \(a.virtualRouterID)) to \(destination) on \(configuration.interface)",
                      e, detail: detail)
    }

    // MARK: Receiving

    /// Receives one packet if one is queued: one `recvmsg(2)`, nothing allocated.
    ///
    /// `body` sees the packet in the socket's reused buffer and must not keep the bytes, nor
    /// call ``receive(_:)`` on the same socket. A packet longer than any VRRP packet is
    /// counted as truncated and not passed on.
    ///
    /// - Parameter body: called with the packet, at most once.
    /// - Returns: `false` when nothing was queued (`EAGAIN`), else `true`.
    /// - Throws: ``NetLinuxError`` for other `recvmsg(2)` failures (counted).
    public func receive(_ body: (VRRPDatagram) -> Void) throws(NetLinuxError) -> Bool {
        let family = configuration.family
        let outcome = receiver.withLock { (b: inout ReceiveBuffers) -> Errno? in
            b.reset()
            let n: Int
            do throws(Errno) {
                n = try descriptor.receive(message: b.message)
            } catch .wouldBlock {
                return .wouldBlock
            } catch {
                b.failures &+= 1
                return error
            }
            var info = cnl_vrrp_rx_info()
            cnl_vrrp_parse_control(b.message, &info)
            if info.has_dropped != 0 { b.droppedByKernel = UInt64(info.dropped) }
            if b.message.pointee.msg_flags & CInt(MSG_TRUNC) != 0 {
                b.truncated &+= 1
                return nil
            }
            let bytes = UnsafeRawBufferPointer(rebasing: b.packet[0..<n])
            let source: IPAddress
            let destination: IPAddress
            let hopLimit: UInt8
            if family == .ipv4 {
                // The kernel delivers the IPv4 header: addresses and TTL come from it.
                guard n >= 20 else {
                    b.truncated &+= 1
                    return nil
                }
                source = IPAddress(family: .ipv4, from: bytes, at: 12)
                destination = IPAddress(family: .ipv4, from: bytes, at: 16)
                hopLimit = bytes[8]
            } else {
                source = IPAddress(family: .ipv6, from: UnsafeRawBufferPointer(b.name), at: 8)
                destination = info.has_destination != 0
                    ? withUnsafeBytes(of: &info.destination) { IPAddress(family: .ipv6, from: $0, at: 0) }
                    : IPAddress(ipv6High: 0, low: 0)
                hopLimit = UInt8(clamping: max(info.hop_limit, 0))
            }
            b.received &+= 1
            body(VRRPDatagram(bytes: bytes, source: source, destination: destination, hopLimit: hopLimit,
                              interfaceIndex: info.ifindex))
            return nil
        }
        switch outcome {
        case nil: return true
        case .wouldBlock?: return false
        case let e?: throw NetLinuxError("receiving on the \(self)", e)
        }
    }

    // MARK: Setup

    /// The interface's index, asked of the kernel with `SIOCGIFINDEX` on the new socket.
    static func interfaceIndex(of name: [UInt8], using fd: SocketDescriptor, what: String) throws(NetLinuxError) -> UInt32 {
        // struct ifreq: the name in the first IFNAMSIZ bytes, then a union holding ifr_ifindex.
        var request = [UInt8](repeating: 0, count: MemoryLayout<ifreq>.size)
        request.replaceSubrange(0..<name.count, with: name)
        let r = request.withUnsafeMutableBytes {
            SystemCalls.current.ioctl(fd.rawValue, UInt(SIOCGIFINDEX), $0.baseAddress)
        }
        if r < 0 {
            throw NetLinuxError("opening a \(what)", Errno(rawValue: errno))
        }
        let index = request.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: Int(IFNAMSIZ), as: Int32.self) }
        return UInt32(bitPattern: index)
    }

    /// Sets every option the family needs; the first failure is thrown with its name.
    static func configure(_ fd: SocketDescriptor, _ c: VRRPSocketConfiguration, index: UInt32, name: [UInt8],
                          what: String) throws(NetLinuxError) {
        func set<T>(_ level: Int32, _ option: CInt, _ optionName: String, _ value: T,
                    ignoring: Errno? = nil) throws(NetLinuxError) {
            do throws(Errno) {
                try withUnsafeBytes(of: value) { (bytes) throws(Errno) in
                    try fd.setOption(level: level, name: option, bytes: bytes)
                }
            } catch {
                if error == ignoring { return }
                throw NetLinuxError("setting \(optionName) on a \(what)", error)
            }
        }
        let on: CInt = 1
        let off: CInt = 0
        let bound = name.withUnsafeBytes { bytes -> Errno? in
            do throws(Errno) {
                try fd.setOption(level: SOL_SOCKET, name: SO_BINDTODEVICE, bytes: bytes)
                return nil
            } catch {
                return error
            }
        }
        if let e = bound { throw NetLinuxError("setting SO_BINDTODEVICE on a \(what)", e) }
        try set(SOL_SOCKET, SO_RXQ_OVFL, "SO_RXQ_OVFL", on)
        switch c.family {
        case .ipv4:
            let level = CInt(IPPROTO_IP)
            try set(level, IP_HDRINCL, "IP_HDRINCL", on)
            try set(level, IP_PKTINFO, "IP_PKTINFO", on)
            try set(level, IP_MULTICAST_ALL, "IP_MULTICAST_ALL", off)
            try set(level, IP_MULTICAST_LOOP, "IP_MULTICAST_LOOP", off)
            try set(level, IP_MULTICAST_IF, "IP_MULTICAST_IF",
                    ip_mreqn(imr_multiaddr: in_addr(s_addr: 0), imr_address: in_addr(s_addr: 0),
                             imr_ifindex: Int32(bitPattern: index)))
            for g in c.groups {
                let request = ip_mreqn(imr_multiaddr: in_addr(s_addr: g.ipv4Value.bigEndian),
                                       imr_address: in_addr(s_addr: 0), imr_ifindex: Int32(bitPattern: index))
                try set(level, IP_ADD_MEMBERSHIP, "IP_ADD_MEMBERSHIP \(g)", request)
            }
        case .ipv6:
            let level = CInt(IPPROTO_IPV6)
            let hops: CInt = 255
            try set(level, IPV6_MULTICAST_HOPS, "IPV6_MULTICAST_HOPS", hops)
            try set(level, IPV6_UNICAST_HOPS, "IPV6_UNICAST_HOPS", hops)
            try set(level, IPV6_RECVHOPLIMIT, "IPV6_RECVHOPLIMIT", on)
            try set(level, IPV6_RECVPKTINFO, "IPV6_RECVPKTINFO", on)
            try set(level, IPV6_MULTICAST_LOOP, "IPV6_MULTICAST_LOOP", off)
            // Linux 4.20+; older kernels answer ENOPROTOOPT, and then deliver every group
            // joined on the host, which the engine sorts out by destination.
            try set(level, IPV6_MULTICAST_ALL, "IPV6_MULTICAST_ALL", off, ignoring: .protocolNotAvailable)
            try set(level, IPV6_MULTICAST_IF, "IPV6_MULTICAST_IF", CInt(bitPattern: index))
            for g in c.groups {
                var request = ipv6_mreq()
                _ = withUnsafeMutableBytes(of: &request.ipv6mr_multiaddr) { g.write(to: $0, at: 0) }
                request.ipv6mr_interface = index
                try set(level, IPV6_JOIN_GROUP, "IPV6_JOIN_GROUP \(g)", request)
            }
        }
    }

    /// Asks for `size` bytes of receive buffer, beyond `net.core.rmem_max` when allowed
    /// (`SO_RCVBUFFORCE` needs CAP_NET_ADMIN), and returns what the kernel granted.
    static func setReceiveBuffer(_ fd: SocketDescriptor, _ size: Int, what: String) throws(NetLinuxError) -> Int {
        let value = CInt(clamping: size)
        do throws(Errno) {
            try fd.setOption(level: SOL_SOCKET, name: SO_RCVBUFFORCE, value: value)
        } catch {
            do throws(Errno) {
                try fd.setOption(level: SOL_SOCKET, name: SO_RCVBUF, value: value)
            } catch {
                throw NetLinuxError("setting SO_RCVBUF to \(size) on a \(what)", error)
            }
        }
        let granted = (try? fd.option(level: SOL_SOCKET, name: SO_RCVBUF, as: CInt.self, initial: 0)) ?? 0
        return Int(granted)
    }
}

// MARK: - Buffers

/// The largest VRRP packet: an IPv6 message with 255 addresses (8 + 255 × 16 = 4088 bytes);
/// an IPv4 datagram is at most 60 + 8 + 255 × 4 + 8 = 1096 bytes.
let vrrpMaximumPacket = 4096

/// What one send needs, allocated once: the packet, the destination address, the control
/// message and the message header pointing at them.
struct SendBuffers: ~Copyable {
    let packet: UnsafeMutableRawBufferPointer
    let name: UnsafeMutableRawBufferPointer
    let control: UnsafeMutableRawBufferPointer
    let vector: UnsafeMutablePointer<iovec>
    let message: UnsafeMutablePointer<msghdr>
    let family: IPAddressFamily
    var sent: UInt64 = 0
    var failures: UInt64 = 0

    init(family: IPAddressFamily) {
        self.family = family
        packet = .allocate(byteCount: vrrpMaximumPacket, alignment: 8)
        name = .allocate(byteCount: MemoryLayout<sockaddr_in6>.size, alignment: 8)
        name.initializeMemory(as: UInt8.self, repeating: 0)
        control = .allocate(byteCount: 64, alignment: 8)
        control.initializeMemory(as: UInt8.self, repeating: 0)
        vector = .allocate(capacity: 1)
        vector.initialize(to: iovec(iov_base: packet.baseAddress, iov_len: 0))
        message = .allocate(capacity: 1)
        message.initialize(to: msghdr())
        message.pointee.msg_name = name.baseAddress
        message.pointee.msg_iov = vector
        message.pointee.msg_iovlen = 1
    }

    deinit {
        packet.deallocate()
        name.deallocate()
        control.deallocate()
        vector.deallocate()
        message.deallocate()
    }

    /// Encodes the packet and fills in the destination (and, for IPv6, the source control message).
    mutating func prepare(_ a: VRRPAdvertisement, source: IPAddress, destination: IPAddress,
                          checksumForm: VRRPChecksumForm, interfaceIndex: UInt32) {
        let length: Int
        name.initializeMemory(as: UInt8.self, repeating: 0)
        if family == .ipv4 {
            // RFC 791 §3.1 header, written here so that one buffer holds the whole datagram.
            let total = 20 + a.encodedLength
            packet.storeBytes(of: 0x45, toByteOffset: 0, as: UInt8.self)            // version 4, IHL 5
            packet.storeBytes(of: 0xC0, toByteOffset: 1, as: UInt8.self)            // TOS: network control
            packet.storeBytes(of: UInt16(total).bigEndian, toByteOffset: 2, as: UInt16.self)
            packet.storeBytes(of: UInt16(0), toByteOffset: 4, as: UInt16.self)      // identification: the kernel's
            packet.storeBytes(of: UInt16(0), toByteOffset: 6, as: UInt16.self)      // no flags (DF clear), offset 0
            packet.storeBytes(of: 255, toByteOffset: 8, as: UInt8.self)             // TTL
            packet.storeBytes(of: VRRPChecksum.ipProtocol, toByteOffset: 9, as: UInt8.self)
            packet.storeBytes(of: UInt16(0), toByteOffset: 10, as: UInt16.self)
            source.write(to: packet, at: 12)
            destination.write(to: packet, at: 16)
            var sum = InternetChecksum()
            sum.add(UnsafeRawBufferPointer(rebasing: packet[0..<20]))
            packet.storeBytes(of: sum.checksum.bigEndian, toByteOffset: 10, as: UInt16.self)
            length = 20 + a.encode(into: UnsafeMutableRawBufferPointer(rebasing: packet[20...]), source: source,
                                   destination: destination, checksumForm: checksumForm)
            // struct sockaddr_in: family, port 0, address.
            name.storeBytes(of: sa_family_t(AF_INET), toByteOffset: 0, as: sa_family_t.self)
            destination.write(to: name, at: 4)
            message.pointee.msg_namelen = socklen_t(MemoryLayout<sockaddr_in>.size)
            message.pointee.msg_control = nil
            message.pointee.msg_controllen = 0
        } else {
            length = a.encode(into: packet, source: source, destination: destination, checksumForm: checksumForm)
            // struct sockaddr_in6: family, port 0, flow info 0, address, scope (the interface,
            // which link-local and link-scope multicast destinations need).
            name.storeBytes(of: sa_family_t(AF_INET6), toByteOffset: 0, as: sa_family_t.self)
            destination.write(to: name, at: 8)
            name.storeBytes(of: interfaceIndex, toByteOffset: 24, as: UInt32.self)
            message.pointee.msg_namelen = socklen_t(MemoryLayout<sockaddr_in6>.size)
            let used = source.withBytes { s in
                cnl_vrrp_put_ipv6_pktinfo(control.baseAddress, control.count,
                                          s.baseAddress!.assumingMemoryBound(to: UInt8.self), interfaceIndex)
            }
            message.pointee.msg_control = control.baseAddress
            message.pointee.msg_controllen = used
        }
        vector.pointee.iov_len = length
        message.pointee.msg_flags = 0
    }
}

/// What one receive needs, allocated once.
struct ReceiveBuffers: ~Copyable {
    let packet: UnsafeMutableRawBufferPointer
    let name: UnsafeMutableRawBufferPointer
    let control: UnsafeMutableRawBufferPointer
    let vector: UnsafeMutablePointer<iovec>
    let message: UnsafeMutablePointer<msghdr>
    var received: UInt64 = 0
    var truncated: UInt64 = 0
    var failures: UInt64 = 0
    var droppedByKernel: UInt64 = 0

    init() {
        packet = .allocate(byteCount: vrrpMaximumPacket, alignment: 8)
        name = .allocate(byteCount: MemoryLayout<sockaddr_in6>.size, alignment: 8)
        name.initializeMemory(as: UInt8.self, repeating: 0)
        // Room for packet info, hop limit and the drop counter (about 100 bytes for IPv6).
        control = .allocate(byteCount: 256, alignment: 8)
        control.initializeMemory(as: UInt8.self, repeating: 0)
        vector = .allocate(capacity: 1)
        vector.initialize(to: iovec(iov_base: packet.baseAddress, iov_len: packet.count))
        message = .allocate(capacity: 1)
        message.initialize(to: msghdr())
        message.pointee.msg_iov = vector
        message.pointee.msg_iovlen = 1
    }

    deinit {
        packet.deallocate()
        name.deallocate()
        control.deallocate()
        vector.deallocate()
        message.deallocate()
    }

    /// Restores the lengths `recvmsg(2)` overwrites.
    func reset() {
        message.pointee.msg_name = name.baseAddress
        message.pointee.msg_namelen = socklen_t(name.count)
        message.pointee.msg_control = control.baseAddress
        message.pointee.msg_controllen = control.count
        message.pointee.msg_flags = 0
    }
}
