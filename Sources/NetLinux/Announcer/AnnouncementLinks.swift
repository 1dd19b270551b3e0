import Synchronization
import SystemPackage
import VRRPCore

/// What ``LinuxAnnouncer`` learns about an interface when a burst starts.
struct LinkFacts: Sendable, Hashable {
    /// The interface's own MAC.
    var hardwareAddress: MACAddress
    /// The IPv6 `forwarding` sysctl, when it was read for this burst.
    var ipv6Forwarding: Bool?
}

/// Why an interface could not be prepared for announcements.
enum LinkFailure: Error, Sendable, Hashable {
    case open(PacketSocketOpenError)
    /// `SIOCGIFINDEX` on an open socket failed (the interface went away).
    case lookUp(Errno)
    /// The interface was recreated and the socket could not be bound to its new index.
    case rebind(Errno)
    case hardwareAddress(HardwareAddressError)
    case forwarding(Errno)
    /// Entering the network namespace failed.
    case namespace(NetLinuxError)
    /// ``AnnouncementLinks/close()`` was called.
    case closed

    /// The user-facing error for announcing `address` on `interface`.
    func error(interface: String, address: IPAddress) -> NetLinuxError {
        let target = "to announce \(address)"
        switch self {
        case .open(let e):
            let detail: String? = switch (e.step, e.errno) {
            case (.socket, .notPermitted), (.socket, .permissionDenied):
                "packet sockets need CAP_NET_RAW: run kad as root, or grant it CAP_NET_RAW"
            case (.lookUp, .invalidArgument): "an interface name has 1 to 15 bytes and no '/' or space"
            case (.lookUp, .operationNotSupportedByDevice): "no interface of that name"
            default: nil
            }
            return NetLinuxError("\(e.step.operation(interface: interface)) \(target)", e.errno, detail: detail)
        case .lookUp(let e):
            return NetLinuxError("looking up interface \(interface) \(target)", e,
                                 detail: e == .operationNotSupportedByDevice ? "no interface of that name" : nil)
        case .rebind(let e):
            return NetLinuxError("binding a packet socket to the recreated interface \(interface) \(target)", e)
        case .hardwareAddress(.system(let e)):
            return NetLinuxError("reading the hardware address of \(interface) \(target)", e)
        case .hardwareAddress(let e):
            return NetLinuxError("reading the hardware address of \(interface) \(target)", .notSupported, detail: "\(e)")
        case .forwarding(let e):
            return NetLinuxError("reading \(IPv6Forwarding.path(interface: interface)) \(target)", e)
        case .namespace(let e):
            return NetLinuxError("\(e.operation) \(target) on \(interface)", e.errno, detail: e.detail)
        case .closed:
            return NetLinuxError("announcing \(address) on \(interface)", .badFileDescriptor, detail: "the announcer is closed")
        }
    }
}

/// The host side of ``LinuxAnnouncer``: one packet socket per interface. Tests substitute
/// a recorder to check pacing without sockets.
protocol AnnouncementLinks: Sendable {
    /// Opens `interface` when it is new (or follows it when it was recreated) and reads its
    /// MAC, and its IPv6 forwarding state when `readForwarding` is set.
    func prepare(_ interface: String, readForwarding: Bool) throws(LinkFailure) -> LinkFacts
    /// Sends one frame on an interface that ``prepare(_:readForwarding:)`` opened.
    func send(_ frame: [UInt8], kind: AnnouncementKind, on interface: String) throws(Errno)
    /// Closes every socket; later calls fail.
    func close()
}

/// ``AnnouncementLinks`` over ``PacketSocket``s, opened in a given network namespace.
final class PacketSocketLinks: AnnouncementLinks {
    struct State {
        var sockets: [String: PacketSocket] = [:]
        var closed = false
    }

    /// The namespace to open sockets and read sysctls in; `nil`: the caller's.
    let namespacePath: String?
    let state = Mutex(State())

    init(namespacePath: String?) {
        self.namespacePath = namespacePath
    }

    func prepare(_ interface: String, readForwarding: Bool) throws(LinkFailure) -> LinkFacts {
        try state.withLock { (s) throws(LinkFailure) -> LinkFacts in
            guard !s.closed else { throw .closed }
            var forwarding: Bool?
            var socket: PacketSocket
            if let existing = s.sockets[interface] {
                socket = existing
                let index: UInt32
                do throws(Errno) { index = try socket.currentInterfaceIndex() } catch { throw .lookUp(error) }
                if index != socket.interfaceIndex {
                    do throws(Errno) { try socket.bind(toInterfaceIndex: index) } catch { throw .rebind(error) }
                    s.sockets[interface] = socket
                }
            } else {
                (socket, forwarding) = try open(interface, readForwarding: readForwarding)
                s.sockets[interface] = socket
            }
            let mac: MACAddress
            do throws(HardwareAddressError) { mac = try socket.hardwareAddress() } catch { throw .hardwareAddress(error) }
            if readForwarding && forwarding == nil {
                forwarding = try inNamespace { () throws(LinkFailure) -> Bool in
                    do throws(Errno) { return try IPv6Forwarding.isEnabled(on: interface) } catch { throw .forwarding(error) }
                }
            }
            return LinkFacts(hardwareAddress: mac, ipv6Forwarding: readForwarding ? forwarding : nil)
        }
    }

    /// Opens the socket, and reads the forwarding sysctl on the same trip into the namespace.
    func open(_ interface: String, readForwarding: Bool) throws(LinkFailure) -> (PacketSocket, Bool?) {
        try inNamespace { () throws(LinkFailure) -> (PacketSocket, Bool?) in
            let socket: PacketSocket
            do throws(PacketSocketOpenError) { socket = try PacketSocket.open(interface: interface) } catch { throw .open(error) }
            guard readForwarding else { return (socket, nil) }
            do throws(Errno) {
                return (socket, try IPv6Forwarding.isEnabled(on: interface))
            } catch {
                socket.close()
                throw .forwarding(error)
            }
        }
    }

    /// Runs `body` here, or on a thread inside ``namespacePath``.
    func inNamespace<R: Sendable>(_ body: @escaping @Sendable () throws(LinkFailure) -> R) throws(LinkFailure) -> R {
        guard let path = namespacePath else { return try body() }
        do {
            return try NetworkNamespace.perform(inNamespaceAt: path) { try body() }
        } catch let e as LinkFailure {
            throw e
        } catch let e as NetLinuxError {
            throw .namespace(e)
        } catch {
            throw .namespace(NetLinuxError("entering network namespace \(path)", .ioError, detail: "\(error)"))
        }
    }

    func send(_ frame: [UInt8], kind: AnnouncementKind, on interface: String) throws(Errno) {
        try state.withLock { (s) throws(Errno) in
            guard !s.closed, let socket = s.sockets[interface] else { throw .badFileDescriptor }
            try socket.send(frame, etherType: kind.etherType, destination: kind.destination)
        }
    }

    func close() {
        state.withLock { s in
            for socket in s.sockets.values { socket.close() }
            s.sockets = [:]
            s.closed = true
        }
    }
}
