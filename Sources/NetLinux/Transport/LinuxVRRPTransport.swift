#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import SystemPackage
import VRRPCore

/// VRRPCore's ``VRRPTransport`` over raw Linux sockets: one ``VRRPSocket`` per (interface,
/// family), shared by every virtual router there, and one ``VRRPReceiveLoop`` thread that
/// turns received packets into ``VRRPEngine/Input`` values.
///
/// A send goes to the socket of the router's interface and the destination's family, as
/// one `sendmsg(2)`; the engine emits one send per destination (the group, or each unicast
/// peer in turn), so a unicast router with three peers makes three `sendmsg` calls, each
/// with its own checksum. Received packets are not decoded here: the engine decodes,
/// checks and demultiplexes them by interface, family and VRID.
///
/// ```swift
/// let transport = try LinuxVRRPTransport(routers: configurations)   // opens the sockets
/// let runner = VRRPRunner(engine: engine, clock: SuspendingClock(), transport: transport,
///                         addressPlane: netlink, announcer: announcer)
/// try transport.startReceiving { runner.submit($0) }
/// runner.submit(.startup)
/// await runner.run()
/// transport.close()
/// ```
public final class LinuxVRRPTransport: VRRPTransport {
    struct State {
        var sockets: [VRRPSocketKey: VRRPSocket] = [:]
        var order: [VRRPSocket] = []
        var loop: VRRPReceiveLoop?
        /// Replaced sockets: no longer polled, closed with the transport (the receive thread
        /// may still read one once, so they cannot be closed at once).
        var retired: [VRRPSocket] = []
    }

    let state = Mutex(State())

    /// A transport with no sockets yet (add them with ``open(_:)`` or ``add(_:)``).
    public init() {}

    /// The kernel id of the receive thread (nil before ``startReceiving(_:)``).
    public var receiveThreadID: Int32? { state.withLock { $0.loop }?.threadID }

    /// A transport with the sockets the routers need (``VRRPSocketConfiguration/sockets(for:receiveBufferSize:)``),
    /// opened in the caller's network namespace.
    ///
    /// - Throws: the first ``NetLinuxError`` met; the sockets opened before it are closed.
    public convenience init(routers: [VirtualRouterConfiguration],
                            receiveBufferSize: Int = VRRPSocketConfiguration.defaultReceiveBufferSize) throws(NetLinuxError) {
        self.init()
        do {
            for c in VRRPSocketConfiguration.sockets(for: routers, receiveBufferSize: receiveBufferSize) {
                try open(c)
            }
        } catch {
            close()
            throw error
        }
    }

    /// Opens a socket in the caller's network namespace and adds it.
    @discardableResult
    public func open(_ configuration: VRRPSocketConfiguration) throws(NetLinuxError) -> VRRPSocket {
        let socket = try VRRPSocket(configuration)
        do {
            try add(socket)
        } catch {
            socket.close()
            throw error
        }
        return socket
    }

    /// Adds a socket opened elsewhere (for example inside another network namespace). The
    /// transport owns it from now on and closes it in ``close()``.
    ///
    /// - Throws: `EEXIST` when a socket for the same interface and family is already there.
    public func add(_ socket: VRRPSocket) throws(NetLinuxError) {
        let key = VRRPSocketKey(interface: socket.interface, family: socket.family)
        let loop = try state.withLock { (s: inout State) throws(NetLinuxError) -> VRRPReceiveLoop? in
            guard s.sockets[key] == nil else {
                throw NetLinuxError("adding the \(socket)", .fileExists,
                                    detail: "\(socket.interface) already has an \(socket.family) VRRP socket")
            }
            s.sockets[key] = socket
            s.order.append(socket)
            return s.loop
        }
        loop?.add(socket)
    }

    /// Puts `socket` in place of the one for the same interface and family (or adds it).
    ///
    /// For an interface deleted and created again: the old socket stays bound to the old
    /// interface index and hears nothing. The old socket is no longer polled nor used to send;
    /// it is closed by ``close()``.
    public func replace(with socket: VRRPSocket) {
        let key = VRRPSocketKey(interface: socket.interface, family: socket.family)
        let (loop, old) = state.withLock { s -> (VRRPReceiveLoop?, VRRPSocket?) in
            let old = s.sockets[key]
            s.sockets[key] = socket
            if let old {
                s.order.removeAll { $0 === old }
                s.retired.append(old)
            }
            s.order.append(socket)
            return (s.loop, old)
        }
        if let old { loop?.remove(old) }
        loop?.add(socket)
    }

    /// The socket for `interface` and `family`, if one is open.
    public func socket(interface: String, family: IPAddressFamily) -> VRRPSocket? {
        state.withLock { $0.sockets[VRRPSocketKey(interface: interface, family: family)] }
    }

    /// The open sockets, in the order they were added.
    public var sockets: [VRRPSocket] { state.withLock { $0.order } }

    /// Starts the receive thread, which calls `submit` with one input per received packet:
    /// ``VRRPEngine/Input/ipv4Datagram(_:interface:)`` (the whole datagram) or
    /// ``VRRPEngine/Input/ipv6Message(_:source:destination:hopLimit:interface:)``.
    ///
    /// The engine's inputs own their bytes, so each packet is copied into an array. The
    /// arrays come from a ring of 64 that is reused once the engine has let go of them (an
    /// array still held is copied on write, as any Swift array), so in steady state
    /// receiving allocates nothing.
    ///
    /// - Parameter submit: called on the receive thread; typically ``VRRPRunner/submit(_:)``.
    /// - Throws: ``NetLinuxError`` if the thread cannot start, or `EALREADY` if it runs.
    public func startReceiving(_ submit: @escaping @Sendable (VRRPEngine.Input) -> Void) throws(NetLinuxError) {
        let arrays = InputArrayRing()
        try state.withLock { (s: inout State) throws(NetLinuxError) in
            guard s.loop == nil else {
                throw NetLinuxError("starting the VRRP receive thread", .alreadyInProcess, detail: "it is already running")
            }
            s.loop = try VRRPReceiveLoop(sockets: s.order) { socket, packet in
                let bytes = arrays.copy(packet.bytes)
                if socket.family == .ipv4 {
                    submit(.ipv4Datagram(bytes, interface: socket.interface))
                } else {
                    submit(.ipv6Message(bytes, source: packet.source, destination: packet.destination,
                                        hopLimit: packet.hopLimit, interface: socket.interface))
                }
            }
        }
    }

    /// Stops the receive thread (if running) and closes every socket. Idempotent.
    public func close() {
        let (loop, sockets) = state.withLock { s -> (VRRPReceiveLoop?, [VRRPSocket]) in
            defer { s = State() }
            return (s.loop, s.order + s.retired)
        }
        loop?.stop()
        for socket in sockets { socket.close() }
    }

    /// Sends one advert through the socket of `interface` (see ``transmit(_:source:destination:checksumForm:interface:)``).
    public func send(_ advertisement: VRRPAdvertisement, source: IPAddress, destination: IPAddress,
                     checksumForm: VRRPChecksumForm, interface: String) async throws {
        try transmit(advertisement, source: source, destination: destination, checksumForm: checksumForm,
                     interface: interface)
    }

    /// Sends one advert at once, without suspending: one `sendmsg(2)`.
    ///
    /// - Throws: ``NetLinuxError``: the socket's error (``VRRPSocket/send(_:source:destination:checksumForm:)``),
    ///   or `ENODEV` when no socket is open for `interface` and the destination's family.
    public func transmit(_ advertisement: VRRPAdvertisement, source: IPAddress, destination: IPAddress,
                         checksumForm: VRRPChecksumForm, interface: String) throws(NetLinuxError) {
        let family = destination.family
        guard let socket = state.withLock({ $0.sockets[VRRPSocketKey(interface: interface, family: family)] }) else {
            throw NetLinuxError("sending a VRRP advert (VRID \(advertisement.virtualRouterID)) to \(destination) on \(interface)",
                                .operationNotSupportedByDevice,
                                detail: "no \(family) VRRP socket is open on \(interface)")
        }
        try socket.send(advertisement, source: source, destination: destination, checksumForm: checksumForm)
    }
}

/// The arrays handed to the engine, reused round-robin. Used by the receive thread only
/// (the lock is never contended).
final class InputArrayRing: Sendable {
    struct Ring {
        var slots: [[UInt8]] = Array(repeating: [], count: 64)
        var next = 0
    }

    let ring = Mutex(Ring())

    /// The bytes in an array of their own: the next slot's storage when nobody else holds
    /// it any more, else a new one (copy on write).
    func copy(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        ring.withLock { r in
            let i = r.next
            r.next = i + 1 == r.slots.count ? 0 : i + 1
            r.slots[i].removeAll(keepingCapacity: true)
            r.slots[i].append(contentsOf: bytes)
            return r.slots[i]
        }
    }
}
