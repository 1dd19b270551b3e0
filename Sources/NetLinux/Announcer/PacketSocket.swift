#if canImport(Glibc)
import Glibc
#endif
import CNetLinux
import SystemPackage

/// An `AF_PACKET` / `SOCK_RAW` socket bound to one interface, for sending complete
/// Ethernet frames (gratuitous ARPs and unsolicited neighbour advertisements).
///
/// The socket is opened with protocol 0, so the kernel delivers nothing to it: it only
/// sends. Each frame is handed to the driver exactly as built (see ``GratuitousARP`` and
/// ``UnsolicitedNeighborAdvertisement``), which is how keepalived sends them.
///
/// A socket belongs to the network namespace it was opened in; open it inside
/// ``NetworkNamespace/perform(inNamespaceAt:_:)`` to use another namespace. Every other
/// call (the ioctls included) works from any thread, because the kernel answers them in the
/// socket's namespace.
///
/// Opening needs `CAP_NET_RAW`. Every system call goes through ``SystemCalls/current``.
///
/// ```swift
/// let socket = try PacketSocket.open(interface: "eth0")
/// defer { socket.close() }
/// let mac = try socket.hardwareAddress()
/// let garp = GratuitousARP(address: IPAddress("192.0.2.100")!, hardwareAddress: mac)
/// try socket.send(garp.frame(), etherType: EthernetHeader.arp, destination: .broadcast)
/// ```
///
/// The owner must call ``close()`` exactly once.
public struct PacketSocket: Sendable, Hashable {
    /// The socket.
    public let descriptor: SocketDescriptor
    /// The interface name the socket was opened for.
    public let interface: String
    /// The interface index the socket is bound to.
    public private(set) var interfaceIndex: UInt32

    init(descriptor: SocketDescriptor, interface: String, interfaceIndex: UInt32) {
        self.descriptor = descriptor
        self.interface = interface
        self.interfaceIndex = interfaceIndex
    }

    /// The step of ``open(interface:)`` that failed.
    public enum OpenStep: Sendable, Hashable {
        /// `socket(2)`.
        case socket
        /// `ioctl(SIOCGIFINDEX)`, or an invalid name.
        case lookUp
        /// `bind(2)`.
        case bind

        /// "opening a packet socket on eth0", "looking up interface eth0", "binding a packet socket to eth0".
        public func operation(interface: String) -> String {
            switch self {
            case .socket: "opening a packet socket on \(interface)"
            case .lookUp: "looking up interface \(interface)"
            case .bind: "binding a packet socket to \(interface)"
            }
        }
    }

    /// Opens a packet socket and binds it to `interface`.
    ///
    /// The corresponding C functions are `socket(2)` with `AF_PACKET`, `SOCK_RAW` and protocol 0,
    /// `ioctl(2)` with `SIOCGIFINDEX` (see `netdevice(7)`) and `bind(2)` with a `sockaddr_ll`
    /// (see `packet(7)`).
    /// - Throws: the failing step and its `errno`. `EPERM` from `socket` means CAP_NET_RAW is missing.
    public static func open(interface: String) throws(PacketSocketOpenError) -> PacketSocket {
        guard InterfaceRequest.isValidName(interface) else {
            throw PacketSocketOpenError(step: .lookUp, errno: .invalidArgument)
        }
        let fd: SocketDescriptor
        do {
            fd = try SocketDescriptor.open(domain: AF_PACKET, type: CInt(SOCK_RAW.rawValue), protocol: 0)
        } catch {
            throw PacketSocketOpenError(step: .socket, errno: error)
        }
        var socket = PacketSocket(descriptor: fd, interface: interface, interfaceIndex: 0)
        let index: UInt32
        do { index = try socket.currentInterfaceIndex() } catch {
            socket.close()
            throw PacketSocketOpenError(step: .lookUp, errno: error)
        }
        do { try socket.bind(toInterfaceIndex: index) } catch {
            socket.close()
            throw PacketSocketOpenError(step: .bind, errno: error)
        }
        return socket
    }

    /// The index the kernel gives ``interface`` now (it changes when the interface is recreated).
    ///
    /// The corresponding C function is `ioctl(2)` with `SIOCGIFINDEX`.
    /// - Throws: `ENODEV` when no interface has that name.
    public func currentInterfaceIndex() throws(Errno) -> UInt32 {
        var request = InterfaceRequest(name: interface)
        try request.perform(InterfaceRequest.getIndex, on: descriptor)
        return UInt32(bitPattern: request.value.ifr_ifru.ifru_ivalue)
    }

    /// Binds the socket to the interface with index `index` (protocol 0: receive nothing).
    ///
    /// The corresponding C function is `bind(2)` with a `sockaddr_ll`.
    public mutating func bind(toInterfaceIndex index: UInt32) throws(Errno) {
        var address = sockaddr_ll()
        address.sll_family = UInt16(AF_PACKET)
        address.sll_protocol = 0
        address.sll_ifindex = CInt(bitPattern: index)
        try withUnsafeBytes(of: &address) { (raw) throws(Errno) in try descriptor.bind(raw) }
        interfaceIndex = index
    }

    /// The interface's current hardware address.
    ///
    /// The corresponding C function is `ioctl(2)` with `SIOCGIFHWADDR`.
    /// - Throws: ``HardwareAddressError/system(_:)`` for the `errno`, or
    ///   ``HardwareAddressError/notEthernet(hardwareType:)`` when the interface is not an
    ///   Ethernet one (ARP hardware type 1): GARP and NA frames are Ethernet frames.
    public func hardwareAddress() throws(HardwareAddressError) -> MACAddress {
        var request = InterfaceRequest(name: interface)
        do { try request.perform(InterfaceRequest.getHardwareAddress, on: descriptor) } catch { throw .system(error) }
        let family = request.value.ifr_ifru.ifru_hwaddr.sa_family
        guard family == UInt16(ARPHRD_ETHER) else { throw .notEthernet(hardwareType: family) }
        return withUnsafeBytes(of: request.value.ifr_ifru.ifru_hwaddr.sa_data) { MACAddress(from: $0, at: 0) }
    }

    /// Sends one complete Ethernet frame out of the bound interface.
    ///
    /// The `sockaddr_ll` given to the kernel carries `etherType` (which becomes the packet's
    /// protocol for the traffic-control layer and for packet taps) and the destination MAC;
    /// the frame's own header is sent unchanged.
    ///
    /// The corresponding C function is `sendmsg(2)`.
    /// - Parameters:
    ///   - frame: the frame, from the destination MAC on (no preamble, no FCS).
    ///   - etherType: the frame's EtherType (``EthernetHeader/arp``, ``EthernetHeader/ipv6``).
    ///   - destination: the frame's destination MAC.
    public func send(_ frame: [UInt8], etherType: UInt16, destination: MACAddress) throws(Errno) {
        var address = sockaddr_ll()
        address.sll_family = UInt16(AF_PACKET)
        address.sll_protocol = etherType.bigEndian
        address.sll_ifindex = CInt(bitPattern: interfaceIndex)
        address.sll_halen = 6
        withUnsafeMutableBytes(of: &address.sll_addr) { _ = destination.write(to: $0, at: 0) }
        let fd = descriptor.rawValue
        let result: Int = frame.withUnsafeBytes { bytes in
            var iov = iovec(iov_base: UnsafeMutableRawPointer(mutating: bytes.baseAddress), iov_len: bytes.count)
            return withUnsafeMutablePointer(to: &address) { name in
                withUnsafeMutablePointer(to: &iov) { vector in
                    var message = msghdr()
                    message.msg_name = UnsafeMutableRawPointer(name)
                    message.msg_namelen = socklen_t(MemoryLayout<sockaddr_ll>.size)
                    message.msg_iov = vector
                    message.msg_iovlen = 1
                    return SocketDescriptor.sendResult(fd, &message)
                }
            }
        }
        let sent = try Result<Int, Errno>.fromSyscall(result).get()
        // A packet socket sends all or nothing; a short count would be a kernel bug.
        if sent != frame.count { throw Errno.messageTooLong }
    }

    /// Closes the socket (errors are ignored: the descriptor is released either way).
    public func close() {
        try? descriptor.close()
    }
}

extension SocketDescriptor {
    /// ``send(message:flags:)`` as a value: the byte count, or `-errno` (for use inside
    /// closures that cannot throw a typed error).
    static func sendResult(_ fd: CInt, _ message: UnsafePointer<msghdr>) -> Int {
        do { return try SocketDescriptor(rawValue: fd).send(message: message) } catch { return -Int(error.rawValue) }
    }
}

extension Result where Success == Int, Failure == Errno {
    /// `.success(n)` for n ≥ 0, else `.failure(Errno(-n))`.
    static func fromSyscall(_ n: Int) -> Result<Int, Errno> {
        n >= 0 ? .success(n) : .failure(Errno(rawValue: CInt(-n)))
    }
}

/// Why ``PacketSocket/open(interface:)`` failed: the step and its `errno`.
public struct PacketSocketOpenError: Error, Sendable, Hashable, CustomStringConvertible {
    public var step: PacketSocket.OpenStep
    public var errno: Errno
    public init(step: PacketSocket.OpenStep, errno: Errno) {
        self.step = step
        self.errno = errno
    }
    public var description: String { "\(step): \(NetLinuxError.describe(errno))" }
}

/// Why ``PacketSocket/hardwareAddress()`` failed.
public enum HardwareAddressError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The ioctl failed.
    case system(Errno)
    /// The interface's ARP hardware type is not Ethernet (1); for example 772 for loopback.
    case notEthernet(hardwareType: UInt16)

    public var description: String {
        switch self {
        case .system(let e): NetLinuxError.describe(e)
        case .notEthernet(let t): "not an Ethernet interface (ARP hardware type \(t))"
        }
    }
}

/// A `struct ifreq` (see `netdevice(7)`) naming one interface.
struct InterfaceRequest {
    /// `SIOCGIFINDEX`.
    static let getIndex: UInt = cnl_siocgifindex
    /// `SIOCGIFHWADDR`.
    static let getHardwareAddress: UInt = cnl_siocgifhwaddr

    var value = ifreq()

    /// Interface names are 1 to 15 bytes (`IFNAMSIZ` 16 with the NUL) without `/` or whitespace.
    static func isValidName(_ name: String) -> Bool {
        let utf8 = name.utf8
        return !utf8.isEmpty && utf8.count < Int(IFNAMSIZ) && !utf8.contains(0) && !utf8.contains(UInt8(ascii: "/"))
            && !utf8.contains(UInt8(ascii: " ")) && name != "." && name != ".."
    }

    init(name: String) {
        withUnsafeMutableBytes(of: &value.ifr_ifrn.ifrn_name) { raw in
            for (i, byte) in name.utf8.prefix(raw.count - 1).enumerated() { raw[i] = byte }
        }
    }

    /// `ioctl(fd, request, &ifreq)` through ``SystemCalls/current``.
    mutating func perform(_ request: UInt, on socket: SocketDescriptor) throws(Errno) {
        _ = try retryingOnInterrupt {
            withUnsafeMutableBytes(of: &value) { SystemCalls.current.ioctl(socket.rawValue, request, $0.baseAddress) }
        }
    }
}
