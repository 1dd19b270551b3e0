import NetLinux
import SystemPackage
import VRRPCore

/// The kernel's IPVS tables over generic netlink (the `IPVS` family): services, real
/// servers, timeouts, counters and sync daemons.
///
/// Opening a client resolves the family and reads ``info`` (`IPVS_CMD_GET_INFO`). When the
/// kernel has no `IPVS` family, the ``IPVSModuleLoader`` is asked to load `ip_vs` (by default
/// with `modprobe`) and the lookup is tried once more, as keepalived does.
///
/// Every method sends one request and waits for the kernel's answer. Errors are
/// ``NetLinuxError``s naming what was done and, for the answers IPVS gives, what they mean
/// here: `adding destination 198.51.100.2:80 to TCP 192.0.2.10:80: already exists (the
/// service already has this destination)`.
///
/// ```swift
/// let ipvs = try IPVSClient()
/// let web = IPVSService(.address(protocol: .tcp, address: IPAddress("192.0.2.10")!, port: 80), scheduler: .roundRobin)
/// try ipvs.addService(web)
/// try ipvs.addDestination(IPVSDestination(address: IPAddress("198.51.100.2")!, port: 80), to: web.key)
/// for entry in try ipvs.services() { print(entry) }
/// ```
///
/// The client is `Sendable`; requests from several threads take turns on its socket.
public final class IPVSClient: Sendable {
    /// The generic netlink socket.
    public let netlink: GenericNetlink
    /// The resolved `IPVS` family.
    public let family: GenericNetlinkFamily
    /// What the kernel said at opening: IPVS version and connection table size.
    public let info: IPVSInfo

    /// Opens a generic netlink socket (in the network namespace at `namespace` if given) and
    /// resolves the `IPVS` family.
    ///
    /// - Parameters:
    ///   - namespace: the path of a network namespace (`/var/run/netns/NAME`), or `nil`.
    ///   - moduleLoader: what loads `ip_vs` when the family is missing (``IPVSModuleLoader/modprobe``).
    /// - Throws: ``NetLinuxError``; when the family is still missing, `ENOENT` with
    ///   `the ip_vs kernel module is not loaded (...)`.
    public convenience init(inNamespaceAt namespace: String? = nil, moduleLoader: IPVSModuleLoader = .modprobe) throws(NetLinuxError) {
        try self.init(netlink: GenericNetlink(inNamespaceAt: namespace), moduleLoader: moduleLoader)
    }

    /// Uses an open ``GenericNetlink``.
    public init(netlink: GenericNetlink, moduleLoader: IPVSModuleLoader = .modprobe) throws(NetLinuxError) {
        self.netlink = netlink
        let resolved: GenericNetlinkFamily
        do {
            resolved = try netlink.family(named: "IPVS")
        } catch where error.errno == .noSuchFileOrDirectory {
            let why: String
            if let failure = moduleLoader.load() {
                why = "the ip_vs kernel module is not loaded, and loading it failed: \(failure)"
            } else {
                why = "the ip_vs kernel module is not loaded, and the kernel still has no IPVS family after loading it"
            }
            do {
                resolved = try netlink.family(named: "IPVS")
            } catch where error.errno == .noSuchFileOrDirectory {
                throw NetLinuxError("looking up the IPVS generic netlink family", .noSuchFileOrDirectory, detail: why)
            }
        }
        family = resolved
        var read: IPVSInfo?
        try Self.perform(netlink, resolved, .getInfo) { message throws(IPVSDecodingError) in
            read = try IPVSInfo(parsing: message)
        }
        guard let read else {
            throw NetLinuxError(IPVSRequest.getInfo.operation, .badMessage, detail: "the kernel sent no reply")
        }
        info = read
    }

    // MARK: Information and settings

    /// Reads the version and connection table size again (`IPVS_CMD_GET_INFO`).
    public func readInfo() throws(NetLinuxError) -> IPVSInfo {
        try get(.getInfo) { message throws(IPVSDecodingError) in try IPVSInfo(parsing: message) }
    }

    /// The connection timeouts (`IPVS_CMD_GET_CONFIG`).
    public func timeouts() throws(NetLinuxError) -> IPVSTimeouts {
        try get(.getConfig) { message throws(IPVSDecodingError) in try IPVSTimeouts(parsing: message) }
    }

    /// Sets the connection timeouts (`IPVS_CMD_SET_CONFIG`); 0 leaves one as it is.
    public func setTimeouts(_ timeouts: IPVSTimeouts) throws(NetLinuxError) {
        try send(.setConfig(timeouts))
    }

    // MARK: Services

    /// Every service, with its counters (`IPVS_CMD_GET_SERVICE`, dumped).
    public func services() throws(NetLinuxError) -> [IPVSServiceEntry] {
        try dump(.getServices) { message throws(IPVSDecodingError) in try IPVSServiceEntry(parsing: message) }
    }

    /// One service (`IPVS_CMD_GET_SERVICE`).
    /// - Throws: ``NetLinuxError``, `ESRCH` (no such service) when it does not exist.
    public func service(_ key: IPVSService.Key) throws(NetLinuxError) -> IPVSServiceEntry {
        try get(.getService(key)) { message throws(IPVSDecodingError) in try IPVSServiceEntry(parsing: message) }
    }

    /// Adds a service (`IPVS_CMD_NEW_SERVICE`).
    /// - Throws: ``NetLinuxError``: `EEXIST` when it exists, `ENOENT` for an unknown scheduler
    ///   or persistence engine, `EINVAL` for a request the kernel refuses, or before sending,
    ///   for names longer than 15 bytes or a netmask of the other family.
    public func addService(_ service: IPVSService) throws(NetLinuxError) {
        try check(service, .newService(service))
        try send(.newService(service))
    }

    /// Changes the scheduler, flags, timeout, netmask or persistence engine of the service
    /// with the same key (`IPVS_CMD_SET_SERVICE`).
    public func updateService(_ service: IPVSService) throws(NetLinuxError) {
        try check(service, .setService(service))
        try send(.setService(service))
    }

    /// Deletes a service and its destinations (`IPVS_CMD_DEL_SERVICE`).
    public func deleteService(_ key: IPVSService.Key) throws(NetLinuxError) {
        try send(.deleteService(key))
    }

    // MARK: Destinations

    /// The destinations of a service, with their counters (`IPVS_CMD_GET_DEST`, dumped).
    /// - Throws: ``NetLinuxError``; `ESRCH` when the service does not exist (the kernel answers
    ///   that dump with an empty list, so an empty answer is checked with a GET).
    public func destinations(of key: IPVSService.Key) throws(NetLinuxError) -> [IPVSDestinationEntry] {
        let request = IPVSRequest.getDestinations(service: key)
        let entries = try dump(request) { message throws(IPVSDecodingError) in
            try IPVSDestinationEntry(parsing: message, serviceFamily: key.family)
        }
        if entries.isEmpty {
            do {
                _ = try service(key)
            } catch {
                throw NetLinuxError(request.operation, error.errno, detail: error.detail)
            }
        }
        return entries
    }

    /// Adds a destination to a service (`IPVS_CMD_NEW_DEST`).
    /// - Throws: ``NetLinuxError``: `EEXIST` when the service has it, `ESRCH` without the
    ///   service, `EINVAL` for a family mix without tunnelling.
    public func addDestination(_ destination: IPVSDestination, to service: IPVSService.Key) throws(NetLinuxError) {
        try send(.newDestination(destination, service: service))
    }

    /// Changes the destination with the same address and port (`IPVS_CMD_SET_DEST`).
    public func updateDestination(_ destination: IPVSDestination, in service: IPVSService.Key) throws(NetLinuxError) {
        try send(.setDestination(destination, service: service))
    }

    /// Deletes a destination (`IPVS_CMD_DEL_DEST`).
    public func deleteDestination(address: IPAddress, port: UInt16, from service: IPVSService.Key) throws(NetLinuxError) {
        try send(.deleteDestination(address: address, port: port, service: service))
    }

    // MARK: Whole table

    /// Deletes every service (`IPVS_CMD_FLUSH`).
    public func flush() throws(NetLinuxError) {
        try send(.flush)
    }

    /// Zeroes the counters of one service, or of every service with `nil` (`IPVS_CMD_ZERO`).
    public func zeroCounters(of service: IPVSService.Key? = nil) throws(NetLinuxError) {
        try send(.zero(service))
    }

    // MARK: Sync daemons

    /// Starts a sync daemon (`IPVS_CMD_NEW_DAEMON`).
    /// - Throws: ``NetLinuxError``: `EEXIST` when one runs in that state already, `ENODEV`
    ///   for a missing interface, `EINVAL` (for instance while a service has destinations of
    ///   the other family).
    public func startSyncDaemon(_ daemon: IPVSSyncDaemon) throws(NetLinuxError) {
        guard daemon.interface.utf8.count <= 15, !daemon.interface.isEmpty else {
            throw NetLinuxError(IPVSRequest.newDaemon(daemon).operation, .invalidArgument,
                                detail: "an interface name has 1 to 15 bytes")
        }
        try send(.newDaemon(daemon))
    }

    /// Stops the sync daemon in `state` (`IPVS_CMD_DEL_DAEMON`).
    public func stopSyncDaemon(_ state: IPVSSyncDaemon.State) throws(NetLinuxError) {
        try send(.deleteDaemon(state))
    }

    /// The running sync daemons (`IPVS_CMD_GET_DAEMON`, dumped).
    public func syncDaemons() throws(NetLinuxError) -> [IPVSSyncDaemon] {
        try dump(.getDaemons) { message throws(IPVSDecodingError) in try IPVSSyncDaemon(parsing: message) }
    }

    // MARK: Plumbing

    private func send(_ request: IPVSRequest) throws(NetLinuxError) {
        try Self.perform(netlink, family, request) { _ throws(IPVSDecodingError) in }
    }

    private func get<T>(_ request: IPVSRequest, _ parse: (GenericNetlinkMessage) throws(IPVSDecodingError) -> T) throws(NetLinuxError) -> T {
        var result: T?
        try Self.perform(netlink, family, request) { message throws(IPVSDecodingError) in result = try parse(message) }
        guard let result else { throw NetLinuxError(request.operation, .badMessage, detail: "the kernel sent no reply") }
        return result
    }

    private func dump<T>(_ request: IPVSRequest, _ parse: (GenericNetlinkMessage) throws(IPVSDecodingError) -> T) throws(NetLinuxError) -> [T] {
        do {
            return try netlink.dump(family: family, command: request.command, version: 1, operation: request.operation,
                                    attributes: { request.appendAttributes(into: &$0) },
                                    parse: { message in try parse(message) })
        } catch {
            throw Self.explain(error, request)
        }
    }

    /// Sends a request acknowledged with `NLM_F_ACK`; replies before the acknowledgement
    /// (the answer to a GET) go to `reply`.
    private static func perform(_ netlink: GenericNetlink, _ family: GenericNetlinkFamily, _ request: IPVSRequest,
                                reply: (GenericNetlinkMessage) throws(IPVSDecodingError) -> Void) throws(NetLinuxError) {
        do {
            try netlink.request(family: family, command: request.command, version: 1, operation: request.operation,
                                attributes: { request.appendAttributes(into: &$0) },
                                reply: { message in try reply(message) })
        } catch {
            throw explain(error, request)
        }
    }

    /// Refuses, before sending, what the kernel would refuse with a bare `EINVAL`.
    private func check(_ service: IPVSService, _ request: IPVSRequest) throws(NetLinuxError) {
        var problem: String?
        if service.scheduler.rawValue.isEmpty || service.scheduler.rawValue.utf8.count > 15 {
            problem = "a scheduler name has 1 to 15 bytes"
        } else if let engine = service.persistenceEngine, engine.isEmpty || engine.utf8.count > 15 {
            problem = "a persistence engine name has 1 to 15 bytes"
        } else if service.netmask.family != service.family {
            problem = "the netmask \(service.netmask) is for \(service.netmask.family), the service is \(service.family)"
        } else if case let .ipv6(length) = service.netmask, length < 1 || length > 128 {
            problem = "an IPv6 netmask is a prefix length from 1 to 128"
        }
        if let problem { throw NetLinuxError(request.operation, .invalidArgument, detail: problem) }
    }

    /// Adds what an errno means for this IPVS request to the kernel's error.
    static func explain(_ error: NetLinuxError, _ request: IPVSRequest) -> NetLinuxError {
        var hint: String?
        switch (error.errno, request) {
        case (.fileExists, .newService): hint = "the service already exists"
        case (.fileExists, .newDestination): hint = "the service already has this destination"
        case (.fileExists, .newDaemon(let d)): hint = "a \(d.state) sync daemon is already running"
        case (.noSuchProcess, .deleteDaemon(let state)): hint = "no \(state) sync daemon is running"
        case (.noSuchProcess, _): hint = "no such service"
        case (.noSuchFileOrDirectory, .newService(let s)), (.noSuchFileOrDirectory, .setService(let s)):
            hint = "unknown scheduler \"\(s.scheduler)\"" + (s.persistenceEngine.map { " or persistence engine \"\($0)\"" } ?? "")
                + ", or its module is not available"
        case (.noSuchFileOrDirectory, .setDestination), (.noSuchFileOrDirectory, .deleteDestination):
            hint = "the service has no such destination"
        case (.invalidArgument, .newDestination(let d, let k)) where d.family != k.family,
             (.invalidArgument, .setDestination(let d, let k)) where d.family != k.family:
            hint = "a destination of another address family than its service needs tunnelling, and no sync daemon running"
        case (.invalidArgument, .newDaemon):
            hint = "the kernel refused the daemon's settings (or a service has destinations of another address family)"
        case (.addressFamilyNotSupported, _): hint = "the kernel's IPVS does not support this address family"
        case (.protocolNotSupported, _): hint = "IPVS supports TCP, UDP and SCTP services"
        case (.outOfRange, _): hint = "a value is out of range (weights and thresholds go up to 2147483647)"
        case (.notPermitted, _): hint = "changing IPVS needs CAP_NET_ADMIN"
        default: break
        }
        guard let hint else { return error }
        var explained = error
        explained.detail = [hint, error.detail].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: "; ")
        return explained
    }
}
